/* The event journal reader: the input is written as the journal's files
 * (split at form feeds into journal.1, journal.2, ...) in a client's state
 * directory, and a replaying subscription reads every event from them. The
 * first byte picks whether the subscription filters. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "fs.h"
#include "fuzz.h"

static int evfd = -1;
static ctr_client *client;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = fuzz_tmpdir("events");
	char root[128], state[128], ev[160];
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(ev, sizeof(ev), "%s/events", state);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(state);
	if (ctr_client_new(&client, CTR_OPTS(o1, o2), NULL) < 0)
		abort();
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	if (mkdir(ev, 0700) < 0 && errno != EEXIST)
		abort();
	if ((evfd = open(ev, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	return 0;
}

#define MAX_GENS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool filtered = data[0] & 1;
	data++;
	size--;
	char name[32];
	for (unsigned g = 1; g <= MAX_GENS; g++) {
		snprintf(name, sizeof(name), "journal.%u", g);
		(void)unlinkat(evfd, name, 0);
	}
	for (unsigned g = 1; g <= MAX_GENS && size > 0; g++) {
		const uint8_t *ff = g < MAX_GENS ? memchr(data, '\f', size) : NULL;
		size_t len = ff ? (size_t)(ff - data) : size;
		snprintf(name, sizeof(name), "journal.%u", g);
		int fd = openat(evfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ctr_write_all(fd, data, len) < 0)
			abort();
		close(fd);
		data += ff ? len + 1 : len;
		size -= ff ? len + 1 : len;
	}
	static const char *const filters[] = {"topic~=\"^/tasks/\"", "event.id==c1,namespace==default"};
	ctr_opt *o = ctr_with_subscribe_replay();
	ctr_subscription *s = NULL;
	ctr_error *err = NULL;
	if (ctr_event_subscribe(&s, client, filtered ? filters : NULL, filtered ? 2 : 0, CTR_OPTS(o), &err) < 0) {
		fprintf(stderr, "subscribe: %s\n", ctr_error_message(err));
		abort();
	}
	ctr_opt_free(o);
	for (int i = 0; i < 100000; i++) {
		ctr_event *e = NULL;
		if (ctr_subscription_next(&e, s, 0, NULL) < 0)
			break;
		if (!ctr_event_namespace(e) || !ctr_event_topic(e) || !ctr_event_payload(e))
			abort();
		ctr_event_free(e);
	}
	ctr_subscription_free(s);
	return 0;
}
