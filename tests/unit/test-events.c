/* lib/events: the shared journal, cross-process delivery, filters,
 * rotation, bad input and timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "client.h"
#include "error.h"
#include "events.h"
#include "fs.h"
#include "macro.h"

struct fx {
	char dir[64];
	char root[96];
	char state[96];
	char events[128];
	ctr_client *c;
};

static int new_client(struct fx *f, const char *ns, ctr_client **out)
{
	ctr_opt *o[] = {ctr_with_root(f->root), ctr_with_state(f->state), ctr_with_namespace(ns)};
	int r = ctr_client_new(out, (const ctr_opt *const *)o, 3, NULL);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(o[i]);
	return r;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/ctr-test-events-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->events, sizeof(f->events), "%s/events", f->state);
	assert_int_equal(new_client(f, "default", &f->c), 0);
	ctr_events_set_rotate_bound(0);
	ctr_events_set_keep(0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ctr_client_free(f->c);
	ctr_rm_rf_at(AT_FDCWD, f->dir, NULL);
	ctr_events_set_rotate_bound(0);
	ctr_events_set_keep(0);
	free(f);
	return 0;
}

/* abort() is noreturn, so the compiler knows the buffer exists. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Number of journal files and the sum of their sizes. */
static void journal_usage(struct fx *f, int *files, off_t *bytes)
{
	*files = 0;
	*bytes = 0;
	DIR *d = opendir(f->events);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "journal.", 8))
			continue;
		char p[512];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", f->events, de->d_name);
		assert_int_equal(stat(p, &st), 0);
		(*files)++;
		*bytes += st.st_size;
	}
	closedir(d);
}

static ctr_subscription *subscribe(struct fx *f, const char *const *filters, size_t n, bool replay)
{
	ctr_subscription *s = NULL;
	ctr_opt *o = replay ? ctr_with_subscribe_replay() : NULL;
	ctr_error *err = NULL;
	int r = ctr_event_subscribe(&s, f->c, filters, n, (const ctr_opt *const *)&o, replay ? 1 : 0, &err);
	if (r < 0)
		fail_msg("subscribe: %s", ctr_error_message(err));
	ctr_opt_free(o);
	return s;
}

static ctr_event *next_ok(ctr_subscription *s, int timeout_ms)
{
	ctr_event *e = NULL;
	ctr_error *err = NULL;
	int r = ctr_subscription_next(&e, s, timeout_ms, &err);
	if (r < 0)
		fail_msg("next: %d %s", r, err ? ctr_error_message(err) : "");
	return e;
}

static void publish_ok(ctr_client *c, const char *ns, const char *topic, const char *payload)
{
	ctr_opt *o = ns ? ctr_with_call_namespace(ns) : NULL;
	ctr_error *err = NULL;
	int r = ctr_event_publish(c, topic, payload, (const ctr_opt *const *)&o, ns ? 1 : 0, &err);
	if (r < 0)
		fail_msg("publish %s: %s", topic, ctr_error_message(err));
	ctr_opt_free(o);
}

/* A publisher in its own process with its own client: `count` events
 * /test/seq {"pub":id,"seq":i} in namespace "pub<id>". */
static pid_t spawn_publisher(struct fx *f, int id, int count)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	char ns[16], payload[64];
	snprintf(ns, sizeof(ns), "pub%d", id);
	ctr_client *c;
	if (new_client(f, ns, &c) < 0)
		_exit(10);
	for (int i = 0; i < count; i++) {
		snprintf(payload, sizeof(payload), "{\"seq\": %d, \"pub\": %d}", i, id);
		if (ctr_event_publish(c, "/test/seq", payload, CTR_NO_OPTS, NULL) < 0)
			_exit(11);
	}
	ctr_client_free(c);
	_exit(0);
}

static void wait_ok(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Checks a stream of /test/seq events: per publisher, every seq exactly
 * once and in order, with the right namespace and a sane timestamp. */
struct seq_check {
	int next[4];
	int64_t last_ts[4];
	int64_t t0;
};

static void check_seq_event(struct seq_check *sc, const ctr_event *e)
{
	int pub, seq;
	assert_string_equal(ctr_event_topic(e), "/test/seq");
	assert_int_equal(sscanf(ctr_event_payload(e), "{\"pub\":%d,\"seq\":%d}", &pub, &seq), 2);
	assert_true(pub >= 0 && pub < 4);
	char ns[16], payload[64];
	snprintf(ns, sizeof(ns), "pub%d", pub);
	snprintf(payload, sizeof(payload), "{\"pub\":%d,\"seq\":%d}", pub, seq);
	assert_string_equal(ctr_event_namespace(e), ns);
	assert_string_equal(ctr_event_payload(e), payload);
	assert_int_equal(seq, sc->next[pub]);
	sc->next[pub]++;
	int64_t ts = ctr_event_timestamp(e);
	assert_true(ts >= sc->t0 && ts <= now_ns());
	assert_true(ts >= sc->last_ts[pub]);
	sc->last_ts[pub] = ts;
}

static void test_cross_process(void **state)
{
	struct fx *f = *state;
	/* Published before the subscription: not delivered. */
	publish_ok(f->c, NULL, "/test/before", NULL);
	struct seq_check sc = {.t0 = now_ns()};
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	pid_t a = spawn_publisher(f, 1, 500), b = spawn_publisher(f, 2, 500);
	for (int i = 0; i < 1000; i++) {
		ctr_event *e = next_ok(s, 20000);
		check_seq_event(&sc, e);
		ctr_event_free(e);
	}
	wait_ok(a);
	wait_ok(b);
	assert_int_equal(sc.next[1], 500);
	assert_int_equal(sc.next[2], 500);
	/* Nothing more: no duplicates. */
	ctr_event *e = NULL;
	assert_int_equal(ctr_subscription_next(&e, s, 100, NULL), CTR_ETIMEOUT);
	assert_null(e);
	/* One from this process, with a payload and the client's namespace. */
	int64_t t0 = now_ns();
	publish_ok(f->c, NULL, "/images/create", "{\"name\":\"docker.io/library/busybox:latest\"}");
	e = next_ok(s, 5000);
	assert_string_equal(ctr_event_namespace(e), "default");
	assert_string_equal(ctr_event_topic(e), "/images/create");
	assert_string_equal(ctr_event_payload(e), "{\"name\":\"docker.io/library/busybox:latest\"}");
	assert_true(ctr_event_timestamp(e) >= t0 && ctr_event_timestamp(e) <= now_ns());
	ctr_event_free(e);
	ctr_subscription_free(s);
}

static void test_replay_and_empty_payload(void **state)
{
	struct fx *f = *state;
	publish_ok(f->c, NULL, "/namespaces/create", NULL);
	publish_ok(f->c, "other", "/content/delete", "{\"digest\":\"sha256:00\"}");
	ctr_subscription *s = subscribe(f, NULL, 0, true);
	ctr_event *e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/namespaces/create");
	assert_string_equal(ctr_event_payload(e), "{}");
	ctr_event_free(e);
	e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/content/delete");
	assert_string_equal(ctr_event_namespace(e), "other");
	ctr_event_free(e);
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	ctr_subscription_free(s);
	/* Replay on a state dir with no journal yet. */
	ctr_client *c2;
	char st2[160];
	snprintf(st2, sizeof(st2), "%s/state2", f->dir);
	ctr_opt *o[] = {ctr_with_root(f->root), ctr_with_state(st2)};
	assert_int_equal(ctr_client_new(&c2, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	ctr_opt *rep = ctr_with_subscribe_replay();
	assert_int_equal(ctr_event_subscribe(&s, c2, NULL, 0, CTR_OPTS(rep), NULL), 0);
	ctr_opt_free(rep);
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	assert_int_equal(ctr_event_publish(c2, "/x", NULL, CTR_NO_OPTS, NULL), 0);
	e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/x");
	ctr_event_free(e);
	ctr_subscription_free(s);
	ctr_client_free(c2);
}

/* The topics (and namespaces) that a filter set lets through. */
static void expect_filtered(struct fx *f, const char *const *filters, size_t n, const char *want)
{
	ctr_subscription *s = subscribe(f, filters, n, false);
	static const char *const evs[][3] = {
		{"a", "/images/create", "{\"name\":\"foo\"}"},
		{"b", "/images/delete", "{\"name\":\"bar\"}"},
		{"a", "/tasks/exit", "{\"id\":\"c1\",\"exit_status\":3}"},
		{"b", "/tasks/exit", "{\"id\":\"c2\",\"exit_status\":0}"},
		{"x", "/containers/delete", "{\"id\":\"c1\"}"},
		{"x", "/snapshot/prepare", "{\"key\":\"k\",\"parent\":\"\"}"},
	};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(evs); i++)
		publish_ok(f->c, evs[i][0], evs[i][1], evs[i][2]);
	char got[512] = "";
	ctr_event *e;
	while (ctr_subscription_next(&e, s, 0, NULL) == 0) {
		if (*got)
			strcat(got, " ");
		strcat(got, ctr_event_namespace(e));
		strcat(got, ctr_event_topic(e));
		ctr_event_free(e);
	}
	assert_string_equal(got, want);
	ctr_subscription_free(s);
}

static void test_filters(void **state)
{
	struct fx *f = *state;
	expect_filtered(f, NULL, 0,
			"a/images/create b/images/delete a/tasks/exit b/tasks/exit x/containers/delete x/snapshot/prepare");
	expect_filtered(f, (const char *const[]){"topic~=\"/tasks/\""}, 1, "a/tasks/exit b/tasks/exit");
	expect_filtered(f, (const char *const[]){"topic~=^/images/"}, 1, "a/images/create b/images/delete");
	expect_filtered(f, (const char *const[]){"namespace==x"}, 1, "x/containers/delete x/snapshot/prepare");
	expect_filtered(f, (const char *const[]){"topic==\"/images/create\""}, 1, "a/images/create");
	/* As in containerd, a bare value cannot start with '/': that quotes a
	 * regex, so `topic==/images/create` is a syntax error. */
	assert_int_equal(ctr_event_subscribe(&(ctr_subscription *){NULL}, f->c,
					      (const char *const[]){"topic==/images/create"}, 1, CTR_NO_OPTS, NULL),
			 CTR_EINVAL);
	/* ',' is AND, several filters are OR. */
	expect_filtered(f, (const char *const[]){"topic==\"/tasks/exit\",namespace==b", "namespace==x,topic~=snapshot"}, 2,
			"b/tasks/exit x/snapshot/prepare");
	expect_filtered(f, (const char *const[]){"namespace!=a"}, 1,
			"b/images/delete b/tasks/exit x/containers/delete x/snapshot/prepare");
	/* Payload fields. */
	expect_filtered(f, (const char *const[]){"event.id==c1"}, 1, "a/tasks/exit x/containers/delete");
	expect_filtered(f, (const char *const[]){"event.exit_status==3"}, 1, "a/tasks/exit");
	expect_filtered(f, (const char *const[]){"event.parent"}, 1, "");
	expect_filtered(f, (const char *const[]){"event.key"}, 1, "x/snapshot/prepare");

	ctr_subscription *s = (ctr_subscription *)0x1;
	ctr_error *err = NULL;
	assert_int_equal(ctr_event_subscribe(&s, f->c, (const char *const[]){"topic~=\"("}, 1, CTR_NO_OPTS, &err),
			 CTR_EINVAL);
	assert_ptr_equal(s, (ctr_subscription *)0x1);
	ctr_error_free(err);
	assert_int_equal(ctr_event_subscribe(&s, f->c, (const char *const[]){"topic=="}, 1, CTR_NO_OPTS, NULL),
			 CTR_EINVAL);
	/* An option of another kind. */
	ctr_opt *o = ctr_with_call_namespace("a");
	err = NULL;
	assert_int_equal(ctr_event_subscribe(&s, f->c, NULL, 0, CTR_OPTS(o), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_call_namespace"));
	ctr_error_free(err);
	ctr_opt_free(o);
	assert_ptr_equal(s, (ctr_subscription *)0x1);
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	/* Small generations, all kept: a reader following a writer in
	 * another process crosses many rotations. */
	ctr_events_set_rotate_bound(2048);
	ctr_events_set_keep(100000);
	struct seq_check sc = {.t0 = now_ns()};
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	pid_t a = spawn_publisher(f, 1, 1000), b = spawn_publisher(f, 2, 1000);
	for (int i = 0; i < 2000; i++) {
		ctr_event *e = next_ok(s, 20000);
		check_seq_event(&sc, e);
		ctr_event_free(e);
	}
	wait_ok(a);
	wait_ok(b);
	ctr_event *e = NULL;
	assert_int_equal(ctr_subscription_next(&e, s, 50, NULL), CTR_ETIMEOUT);
	ctr_subscription_free(s);
	int files;
	off_t bytes;
	journal_usage(f, &files, &bytes);
	/* ~80 bytes an event: 2000 events make dozens of generations, and
	 * none is much over the bound (it is checked after each append). */
	assert_true(files > 40);
	assert_true(bytes >= 2000 * 60);

	/* Replay crosses every generation kept, in order. */
	s = subscribe(f, NULL, 0, true);
	memset(&sc, 0, sizeof(sc));
	for (int i = 0; i < 2000; i++) {
		e = next_ok(s, 1000);
		check_seq_event(&sc, e);
		ctr_event_free(e);
	}
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	ctr_subscription_free(s);

	/* With the default keep, old generations go. A reader left far
	 * behind loses what was pruned but keeps order, with no duplicate,
	 * and resumes at the oldest generation left. */
	ctr_events_set_keep(3);
	s = subscribe(f, NULL, 0, false);
	a = spawn_publisher(f, 3, 1000);
	wait_ok(a);
	journal_usage(f, &files, &bytes);
	assert_int_equal(files, 3);
	int last = -1, n = 0;
	while (ctr_subscription_next(&e, s, 0, NULL) == 0) {
		int pub, seq;
		assert_int_equal(sscanf(ctr_event_payload(e), "{\"pub\":%d,\"seq\":%d}", &pub, &seq), 2);
		assert_int_equal(pub, 3);
		assert_true(seq > last);
		last = seq;
		n++;
		ctr_event_free(e);
	}
	assert_int_equal(last, 999);
	assert_true(n > 0 && n < 1000);
	ctr_subscription_free(s);
}

static void assert_journal_unchanged(struct fx *f, int files, off_t bytes)
{
	int nf;
	off_t nb;
	journal_usage(f, &nf, &nb);
	assert_int_equal(nf, files);
	assert_int_equal(nb, bytes);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	publish_ok(f->c, NULL, "/images/create", "{}");
	int files;
	off_t bytes;
	journal_usage(f, &files, &bytes);
	assert_int_equal(files, 1);
	assert_true(bytes > 0);

	char long_topic[1100];
	memset(long_topic, 'a', sizeof(long_topic) - 1);
	long_topic[0] = '/';
	long_topic[sizeof(long_topic) - 1] = 0;
	const char *bad_topics[] = {"", "images/create", "/", "/images/", "//images", "/images//create",
				    "/images/cre ate", "/../x", "/x/..", "/x/./y", "/\xc3\xa9", "/a\n/b",
				    "/a\"b", "/a\\b", "/-a", long_topic};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad_topics); i++) {
		ctr_error *err = NULL;
		assert_int_equal(ctr_event_publish(f->c, bad_topics[i], "{}", CTR_NO_OPTS, &err), CTR_EINVAL);
		assert_non_null(strstr(ctr_error_message(err), "topic"));
		ctr_error_free(err);
		assert_int_equal(ctr_events_publish(f->c, NULL, bad_topics[i], json_object()), CTR_EINVAL);
	}
	assert_int_equal(ctr_event_publish(f->c, NULL, "{}", CTR_NO_OPTS, NULL), CTR_EINVAL);

	char *big = xmalloc(CTR_EVENT_PAYLOAD_MAX + 64);
	strcpy(big, "{\"a\":\"");
	memset(big + 6, 'x', CTR_EVENT_PAYLOAD_MAX);
	strcpy(big + 6 + CTR_EVENT_PAYLOAD_MAX, "\"}");
	char deep[200] = "";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	const char *bad_payloads[] = {"[1]", "\"s\"", "null", "1", "true", "{", "{\"a\":1} {}", "",
				      "{\"a\":1,\"a\":2}", "{\"a\":\"\xff\"}", deep, big};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad_payloads); i++) {
		ctr_error *err = NULL;
		assert_int_equal(ctr_event_publish(f->c, "/images/create", bad_payloads[i], CTR_NO_OPTS, &err),
				 CTR_EINVAL);
		assert_non_null(strstr(ctr_error_message(err), "payload"));
		ctr_error_free(err);
	}
	/* The internal hook: a non-object or too large payload, a bad
	 * namespace, no client. */
	assert_int_equal(ctr_events_publish(f->c, NULL, "/x", json_array()), CTR_EINVAL);
	assert_int_equal(ctr_events_publish(f->c, NULL, "/x", json_string("s")), CTR_EINVAL);
	json_t *bigj = json_pack("{s:s}", "a", big + 6 + 0);
	assert_non_null(bigj);
	assert_int_equal(ctr_events_publish(f->c, NULL, "/x", bigj), CTR_EINVAL);
	assert_int_equal(ctr_events_publish(f->c, "../x", "/x", json_object()), CTR_EINVAL);
	json_t *deepj = json_object(), *cur = deepj;
	for (int i = 0; i < 70; i++) {
		json_t *in = json_array();
		json_is_object(cur) ? json_object_set_new(cur, "a", in) : json_array_append_new(cur, in);
		cur = in;
	}
	assert_int_equal(ctr_events_publish(f->c, NULL, "/x", deepj), CTR_EINVAL);
	assert_int_equal(ctr_events_publish(NULL, NULL, "/x", json_object()), CTR_EINVAL);
	free(big);

	/* A bad namespace option, an option of another kind, a NULL option. */
	ctr_opt *o = ctr_with_call_namespace("../etc");
	assert_int_equal(ctr_event_publish(f->c, "/x", "{}", CTR_OPTS(o), NULL), CTR_EINVAL);
	ctr_opt_free(o);
	o = ctr_with_subscribe_replay();
	ctr_error *err = NULL;
	assert_int_equal(ctr_event_publish(f->c, "/x", "{}", CTR_OPTS(o), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_subscribe_replay"));
	ctr_error_free(err);
	ctr_opt_free(o);
	assert_int_equal(ctr_event_publish(f->c, "/x", "{}", CTR_OPTS(NULL), NULL), CTR_EINVAL);

	assert_journal_unchanged(f, files, bytes);

	/* Nesting right at the limit (64 levels, the payload included) is
	 * accepted and read back. */
	char at_limit[200] = "{\"a\":";
	for (int i = 0; i < 63; i++)
		strcat(at_limit, "[");
	for (int i = 0; i < 63; i++)
		strcat(at_limit, "]");
	strcat(at_limit, "}");
	ctr_subscription *s0 = subscribe(f, NULL, 0, false);
	publish_ok(f->c, NULL, "/deep", at_limit);
	ctr_event *e0 = next_ok(s0, 1000);
	assert_string_equal(ctr_event_payload(e0), at_limit);
	ctr_event_free(e0);
	ctr_subscription_free(s0);
	journal_usage(f, &files, &bytes);

	/* Topics containerd accepts (its identifier rule per component). */
	const char *good[] = {"/x", "/images/create", "/tasks/exit", "/snapshot/prepare", "/a.b/c_d-e/F9"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(good); i++)
		assert_int_equal(ctr_events_topic_validate(good[i], NULL), 0);
	/* A payload right at the limit is accepted. */
	char *max = xmalloc(CTR_EVENT_PAYLOAD_MAX + 1);
	strcpy(max, "{\"a\":\"");
	memset(max + 6, 'y', CTR_EVENT_PAYLOAD_MAX - 8);
	strcpy(max + CTR_EVENT_PAYLOAD_MAX - 2, "\"}");
	assert_int_equal(strlen(max), CTR_EVENT_PAYLOAD_MAX);
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	publish_ok(f->c, NULL, "/big", max);
	ctr_event *e = next_ok(s, 1000);
	assert_string_equal(ctr_event_payload(e), max);
	ctr_event_free(e);
	ctr_subscription_free(s);
	free(max);
}

static void test_timeout_and_fd(void **state)
{
	struct fx *f = *state;
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	ctr_event *e = NULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ctr_subscription_next(&e, s, 200, NULL), CTR_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 190 && ms < 5000);
	assert_null(e);
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);

	/* The fd is quiet until another process publishes, then readable. */
	int fd = ctr_subscription_fd(s);
	assert_true(fd >= 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);
	pid_t pid = spawn_publisher(f, 0, 1);
	assert_int_equal(poll(&p, 1, 10000), 1);
	wait_ok(pid);
	e = next_ok(s, 0);
	assert_string_equal(ctr_event_payload(e), "{\"pub\":0,\"seq\":0}");
	ctr_event_free(e);
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	assert_int_equal(poll(&p, 1, 0), 0);

	/* Wait forever: a child publishes after a delay. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		ctr_client *c;
		if (new_client(f, "late", &c) < 0 || ctr_event_publish(c, "/late", NULL, CTR_NO_OPTS, NULL) < 0)
			_exit(1);
		ctr_client_free(c);
		_exit(0);
	}
	e = next_ok(s, -1);
	assert_string_equal(ctr_event_namespace(e), "late");
	ctr_event_free(e);
	wait_ok(pid);
	assert_int_equal(ctr_subscription_next(NULL, s, 0, NULL), CTR_EINVAL);
	ctr_subscription_free(s);
	ctr_subscription_free(NULL);
	ctr_event_free(NULL);
}

/* Appends raw bytes to the newest journal, as a torn or hostile writer. */
static void append_raw(struct fx *f, const char *data)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/journal.1", f->events);
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void test_partial_and_garbage(void **state)
{
	struct fx *f = *state;
	publish_ok(f->c, NULL, "/first", NULL);
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	ctr_event *e = NULL;
	/* A line whose end has not arrived yet is not delivered... */
	append_raw(f, "{\"timestamp\":5,\"namespace\":\"default\",\"topic\":\"/part\",");
	assert_int_equal(ctr_subscription_next(&e, s, 100, NULL), CTR_ETIMEOUT);
	/* ...until it is complete. */
	append_raw(f, "\"payload\":{\"k\":1}}\n");
	e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/part");
	assert_int_equal(ctr_event_timestamp(e), 5);
	assert_string_equal(ctr_event_payload(e), "{\"k\":1}");
	ctr_event_free(e);
	/* Lines that are not valid events are skipped. */
	append_raw(f, "garbage\n\n[]\n{\"timestamp\":1,\"namespace\":\"../x\",\"topic\":\"/a\",\"payload\":{}}\n"
		      "{\"timestamp\":1,\"namespace\":\"a\",\"topic\":\"a\",\"payload\":{}}\n"
		      "{\"timestamp\":1,\"namespace\":\"a\",\"topic\":\"/a\",\"payload\":[]}\n"
		      "{\"timestamp\":\"1\",\"namespace\":\"a\",\"topic\":\"/a\",\"payload\":{}}\n");
	/* An overlong line is dropped whole, even when it parses. */
	size_t big = CTR_EVENTS_LINE_MAX + 100;
	char *line = xmalloc(big + 100);
	int k = sprintf(line, "{\"timestamp\":1,\"namespace\":\"a\",\"topic\":\"/long\",\"payload\":{\"a\":\"");
	memset(line + k, 'z', big);
	strcpy(line + k + big, "\"}}\n");
	append_raw(f, line);
	free(line);
	publish_ok(f->c, NULL, "/after", NULL);
	e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/after");
	ctr_event_free(e);
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	ctr_subscription_free(s);
}

struct thr {
	ctr_client *c;
	int id;
	int failed;
};

static void *thread_publisher(void *arg)
{
	struct thr *t = arg;
	char ns[16];
	snprintf(ns, sizeof(ns), "pub%d", t->id);
	for (int i = 0; i < 200; i++)
		if (ctr_events_publish(t->c, ns, "/test/seq", json_pack("{s:i,s:i}", "seq", i, "pub", t->id)) < 0)
			t->failed++;
	return NULL;
}

/* The internal hook from several threads on one client at once, its
 * handles opened by whichever thread comes first. */
static void test_threads(void **state)
{
	struct fx *f = *state;
	ctr_events_set_rotate_bound(4096);
	ctr_events_set_keep(100000);
	struct seq_check sc = {.t0 = now_ns()};
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){.c = f->c, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, thread_publisher, &t[i]), 0);
	}
	for (int i = 0; i < 800; i++) {
		ctr_event *e = next_ok(s, 20000);
		check_seq_event(&sc, e);
		ctr_event_free(e);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].failed, 0);
		assert_int_equal(sc.next[i], 200);
	}
	ctr_event *e = NULL;
	assert_int_equal(ctr_subscription_next(&e, s, 0, NULL), CTR_ETIMEOUT);
	ctr_subscription_free(s);
}

/* Something other than a file planted as the next generation: publishers
 * fail instead of hanging, readers skip it. */
static void test_planted_fifo(void **state)
{
	struct fx *f = *state;
	publish_ok(f->c, NULL, "/one", NULL);
	ctr_subscription *s = subscribe(f, NULL, 0, false);
	char p[512];
	snprintf(p, sizeof(p), "%s/journal.2", f->events);
	assert_int_equal(mkfifo(p, 0600), 0);
	ctr_error *err = NULL;
	assert_int_equal(ctr_event_publish(f->c, "/two", NULL, CTR_NO_OPTS, &err), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(err), "journal.2"));
	ctr_error_free(err);
	ctr_event *e = NULL;
	assert_int_equal(ctr_subscription_next(&e, s, 50, NULL), CTR_ETIMEOUT);
	/* A real next generation is followed past it. */
	snprintf(p, sizeof(p), "%s/journal.3", f->events);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	const char *line = "{\"timestamp\":7,\"namespace\":\"a\",\"topic\":\"/three\",\"payload\":{}}\n";
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	e = next_ok(s, 1000);
	assert_string_equal(ctr_event_topic(e), "/three");
	ctr_event_free(e);
	ctr_subscription_free(s);
}

static void test_publish_at(void **state)
{
	struct fx *f = *state;
	ctr_subscription *s = subscribe(f, (const char *const[]){"topic==\"/tasks/exit\""}, 1, false);
	/* Opens the client's cached journal handles before the forks below. */
	publish_ok(f->c, NULL, "/warm", NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A process without a client, as the shim is. */
		int fd = open(f->state, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			_exit(1);
		if (ctr_events_publish_at(fd, "default", "/tasks/exit",
					  json_pack("{s:s,s:i}", "container_id", "c1", "exit_status", 7)) < 0)
			_exit(2);
		if (ctr_events_publish_at(fd, "default", "/tasks//exit", NULL) != CTR_EINVAL)
			_exit(3);
		_exit(0);
	}
	wait_ok(pid);
	ctr_event *e = next_ok(s, 5000);
	assert_string_equal(ctr_event_payload(e), "{\"container_id\":\"c1\",\"exit_status\":7}");
	ctr_event_free(e);
	/* The client hook after a fork opens its own lock (same client). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ctr_events_publish(f->c, "k8s.io", "/tasks/exit", NULL) == 0 ? 0 : 1);
	wait_ok(pid);
	e = next_ok(s, 5000);
	assert_string_equal(ctr_event_namespace(e), "k8s.io");
	ctr_event_free(e);
	ctr_subscription_free(s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cross_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_and_empty_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_at, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
