/* The writing side of the event journal: topic and payload checks, the
 * append under a shared lock, and rotation under an exclusive one. The
 * layout and the reasoning are in events.h. */
#include "events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "opts.h"
#include "fs.h"
#include "ident.h"
#include "json.h"
#include "macro.h"

/* A rotation takes a few syscalls, so a publisher that cannot get the
 * shared lock for this long is facing a stuck process, not a rotation. */
#define LOCK_TIMEOUT_MS 10000
/* A rotation that cannot get the lock soon is left to a later append. */
#define ROTATE_LOCK_TIMEOUT_MS 1000

static size_t rotate_bound = CTR_EVENTS_ROTATE_DEFAULT;
static unsigned keep_generations = CTR_EVENTS_KEEP_DEFAULT;

void ctr_events_set_rotate_bound(size_t bytes)
{
	__atomic_store_n(&rotate_bound, bytes ? bytes : CTR_EVENTS_ROTATE_DEFAULT, __ATOMIC_RELAXED);
}

void ctr_events_set_keep(unsigned generations)
{
	__atomic_store_n(&keep_generations, generations ? generations : CTR_EVENTS_KEEP_DEFAULT,
			 __ATOMIC_RELAXED);
}

size_t ctr_events_rotate_bound(void) { return __atomic_load_n(&rotate_bound, __ATOMIC_RELAXED); }

/* The client's cached handles. pid notices a fork: flock locks belong to
 * the open file description, which a child shares with its parent, so a
 * child must open its own lock file to be excluded by the parent's. */
struct ctr_events {
	pid_t pid;
	int dir_fd;
	int lock_fd;
	int jfd; /* current journal, O_APPEND; -1 until the first append */
	uint64_t gen;
};

static void events_free(struct ctr_events *ev)
{
	if (!ev)
		return;
	if (ev->jfd >= 0)
		close(ev->jfd);
	if (ev->lock_fd >= 0)
		close(ev->lock_fd);
	if (ev->dir_fd >= 0)
		close(ev->dir_fd);
	free(ev);
}

static inline void events_freep(struct ctr_events **p) { events_free(*p); }

int ctr_events_dir_open(int state_fd, ctr_error **err)
{
	if (mkdirat(state_fd, CTR_EVENTS_DIR, 0700) < 0 && errno != EEXIST)
		return ctr_err_errno(err, errno, "create events directory");
	int fd = openat(state_fd, CTR_EVENTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "open events directory");
	return fd;
}

static int events_open(struct ctr_events **out, int state_fd, ctr_error **err)
{
	_cleanup_(events_freep) struct ctr_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return ctr_err_nomem(err);
	ev->pid = getpid();
	ev->lock_fd = ev->jfd = -1;
	ev->dir_fd = ctr_events_dir_open(state_fd, err);
	if (ev->dir_fd < 0)
		return ev->dir_fd;
	ev->lock_fd = openat(ev->dir_fd, CTR_EVENTS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ev->lock_fd < 0)
		return ctr_err_errno(err, errno, "open events lock");
	*out = TAKE_PTR(ev);
	return 0;
}

void ctr_events_journal_name(char *buf, size_t len, uint64_t gen)
{
	snprintf(buf, len, CTR_EVENTS_PREFIX "%" PRIu64, gen);
}

/* The generation a directory entry names, or 0 when it names none: exactly
 * "journal." and a decimal number without leading zeros. */
static uint64_t parse_gen(const char *name)
{
	size_t pl = strlen(CTR_EVENTS_PREFIX);
	if (strncmp(name, CTR_EVENTS_PREFIX, pl))
		return 0;
	const char *d = name + pl;
	size_t n = strlen(d);
	if (n == 0 || n > 19 || d[0] == '0' || strspn(d, "0123456789") != n)
		return 0;
	return strtoull(d, NULL, 10);
}

/* Calls fn for every generation present. */
static int for_each_gen(int dir_fd, void (*fn)(uint64_t gen, void *ud), void *ud, ctr_error **err)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "open events directory");
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return ctr_err_errno(err, e, "read events directory");
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t g = parse_gen(de->d_name);
		if (g)
			fn(g, ud);
	}
	closedir(d);
	return 0;
}

struct scan {
	uint64_t oldest, newest, after, next;
};

static void scan_cb(uint64_t g, void *ud)
{
	struct scan *s = ud;
	if (!s->oldest || g < s->oldest)
		s->oldest = g;
	if (g > s->newest)
		s->newest = g;
	if (g > s->after && (!s->next || g < s->next))
		s->next = g;
}

int ctr_events_scan(int dir_fd, uint64_t *oldest, uint64_t *newest, ctr_error **err)
{
	struct scan s = {0};
	int r = for_each_gen(dir_fd, scan_cb, &s, err);
	if (r < 0)
		return r;
	*oldest = s.oldest;
	*newest = s.newest;
	return 0;
}

uint64_t ctr_events_next_gen(int dir_fd, uint64_t after)
{
	struct scan s = {.after = after};
	if (for_each_gen(dir_fd, scan_cb, &s, NULL) < 0)
		return 0;
	return s.next;
}

static bool gen_exists(int dir_fd, uint64_t gen)
{
	char name[32];
	struct stat st;
	ctr_events_journal_name(name, sizeof(name), gen);
	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Points ev->jfd at the newest generation. Called with the lock held shared,
 * so no rotation runs meanwhile. */
static int journal_current(struct ctr_events *ev, ctr_error **err)
{
	if (ev->jfd >= 0) {
		struct stat st;
		if (!gen_exists(ev->dir_fd, ev->gen + 1) && fstat(ev->jfd, &st) == 0 && st.st_nlink > 0)
			return 0;
		close(ev->jfd);
		ev->jfd = -1;
	}
	uint64_t oldest, newest;
	int r = ctr_events_scan(ev->dir_fd, &oldest, &newest, err);
	if (r < 0)
		return r;
	if (newest == 0)
		newest = 1; /* the very first append creates generation 1 */
	char name[32];
	ctr_events_journal_name(name, sizeof(name), newest);
	/* O_NONBLOCK: something other than a file planted under the name
	 * (a FIFO without a reader) fails here instead of hanging us. */
	int fd = openat(ev->dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			0600);
	if (fd < 0)
		return ctr_err(err, CTR_EIO, errno, "open events journal %s: %s", name, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ctr_err(err, CTR_EIO, 0, "%s is not a regular file", name);
	}
	/* A regular file ignores O_NONBLOCK on local file systems; drop it
	 * anyway, so no network file system can turn it into short writes. */
	fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
	ev->jfd = fd;
	ev->gen = newest;
	return 0;
}

struct prune {
	int dir_fd;
	uint64_t below;
};

static void prune_cb(uint64_t g, void *ud)
{
	struct prune *p = ud;
	if (g < p->below) {
		char name[32];
		ctr_events_journal_name(name, sizeof(name), g);
		unlinkat(p->dir_fd, name, 0);
	}
}

/* Starts generation newest+1 when the newest one is over the bound, and
 * drops generations beyond the number kept. Best effort: when the lock is
 * busy or a step fails, a later append tries again. */
static void journal_rotate(struct ctr_events *ev)
{
	if (ctr_lock_fd(ev->lock_fd, true, ROTATE_LOCK_TIMEOUT_MS, NULL) < 0)
		return;
	uint64_t oldest, newest;
	char name[32];
	struct stat st;
	if (ctr_events_scan(ev->dir_fd, &oldest, &newest, NULL) < 0 || newest == 0)
		goto out;
	ctr_events_journal_name(name, sizeof(name), newest);
	if (fstatat(ev->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (size_t)st.st_size < ctr_events_rotate_bound())
		goto out; /* another process rotated first */
	ctr_events_journal_name(name, sizeof(name), newest + 1);
	int fd = openat(ev->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	close(fd);
	unsigned keep = __atomic_load_n(&keep_generations, __ATOMIC_RELAXED);
	if (newest + 1 > keep) {
		struct prune p = {ev->dir_fd, newest + 1 - keep + 1};
		for_each_gen(ev->dir_fd, prune_cb, &p, NULL);
	}
out:
	flock(ev->lock_fd, LOCK_UN);
}

/* Appends one line. ns and topic are valid (identifiers and '/' only, so
 * they need no JSON escaping); payload is compact JSON without newlines. */
static int journal_append(struct ctr_events *ev, const char *ns, const char *topic,
			  const char *payload, ctr_error **err)
{
	_cleanup_free_ char *line = NULL;
	int r = ctr_lock_fd(ev->lock_fd, false, LOCK_TIMEOUT_MS, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "lock events journal");
	r = journal_current(ev, err);
	if (r < 0)
		goto out;
	/* The timestamp is taken under the lock, right before the append, so
	 * it is as close to the journal order as a shared lock allows. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns_time = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int len = asprintf(&line, "{\"timestamp\":%" PRId64 ",\"namespace\":\"%s\",\"topic\":\"%s\","
				  "\"payload\":%s}\n", ns_time, ns, topic, payload);
	if (len < 0) {
		line = NULL;
		r = ctr_err_nomem(err);
		goto out;
	}
	/* One write: O_APPEND makes it atomic with respect to other appenders,
	 * so lines never interleave. */
	ssize_t n;
	do
		n = write(ev->jfd, line, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n != len) {
		int e = n < 0 ? errno : EIO;
		/* A short write (a full disk) leaves part of a line: end it, so
		 * readers skip one bad line and the next append starts clean. */
		if (n > 0)
			(void)!write(ev->jfd, "\n", 1);
		r = ctr_err_errno(err, e, "append to events journal");
		goto out;
	}
	struct stat st;
	bool full = fstat(ev->jfd, &st) == 0 && (size_t)st.st_size >= ctr_events_rotate_bound();
	flock(ev->lock_fd, LOCK_UN);
	if (full)
		journal_rotate(ev);
	return 0;
out:
	flock(ev->lock_fd, LOCK_UN);
	return r;
}

int ctr_events_topic_validate(const char *topic, ctr_error **err)
{
	if (!topic || !*topic)
		return ctr_err(err, CTR_EINVAL, 0, "invalid topic: must not be empty");
	size_t len = strlen(topic);
	if (len > CTR_EVENT_TOPIC_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "invalid topic: longer than %d bytes", CTR_EVENT_TOPIC_MAX);
	if (topic[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "invalid topic \"%.100s\": must start with '/'", topic);
	if (len == 1)
		return ctr_err(err, CTR_EINVAL, 0, "invalid topic \"/\": must have at least one component");
	/* containerd checks each component with its identifier rule. */
	for (const char *p = topic + 1; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[CTR_EVENT_TOPIC_MAX + 1];
		memcpy(comp, p, n);
		comp[n] = 0;
		if (!ctr_ident_ok(comp))
			return ctr_err(err, CTR_EINVAL, 0,
				       "invalid topic \"%.100s\": component \"%.100s\" is not an identifier",
				       topic, comp);
		p += n;
		if (*p == '/')
			p++;
		if (slash && !*p)
			return ctr_err(err, CTR_EINVAL, 0, "invalid topic \"%.100s\": ends with '/'", topic);
	}
	return 0;
}

/* Whether v nests more than `left` arrays and objects deep: a payload
 * built in memory gets the bound that readers apply to the journal. */
static bool too_deep(json_t *v, int left)
{
	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (left <= 0)
		return true;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (too_deep(json_array_get(v, i), left - 1))
				return true;
		return false;
	}
	const char *k;
	json_t *m;
	json_object_foreach(v, k, m) {
		if (too_deep(m, left - 1))
			return true;
	}
	return false;
}

/* Checks everything before a byte is written, so a refused event leaves the
 * journal as it was. Takes the payload reference. */
static int prepare(const char *ns, const char *topic, json_t *payload, char **text, ctr_error **err)
{
	int r = ctr_events_topic_validate(topic, err);
	if (r == 0)
		r = ctr_ident_validate(ns, "namespace", err);
	if (r == 0 && payload && !json_is_object(payload))
		r = ctr_err(err, CTR_EINVAL, 0, "event payload is not a JSON object");
	if (r == 0 && payload && too_deep(payload, CTR_JSON_MAX_DEPTH))
		r = ctr_err(err, CTR_EINVAL, 0, "event payload nests deeper than %d", CTR_JSON_MAX_DEPTH);
	if (r < 0) {
		json_decref(payload);
		return r;
	}
	char *t = payload ? ctr_json_dump(payload) : strdup("{}");
	json_decref(payload);
	if (!t)
		return ctr_err(err, CTR_EINVAL, 0, "event payload cannot be serialised");
	if (strlen(t) > CTR_EVENT_PAYLOAD_MAX) {
		free(t);
		return ctr_err(err, CTR_EINVAL, EFBIG, "event payload is over %d bytes", CTR_EVENT_PAYLOAD_MAX);
	}
	*text = t;
	return 0;
}

/* Subsystems may publish from worker threads (a parallel unpack), and an
 * application from several threads: the client's cached handles are
 * guarded by its events_mu. */
/* The client's journal handles, (re)opened after a fork. */
static int client_events(ctr_client *c, struct ctr_events **out, ctr_error **err)
{
	if (c->events && c->events->pid != getpid()) {
		events_free(c->events);
		c->events = NULL;
	}
	if (!c->events) {
		int r = events_open(&c->events, c->state_fd, err);
		if (r < 0)
			return r;
	}
	*out = c->events;
	return 0;
}

static int publish(ctr_client *c, const char *ns, const char *topic, json_t *payload, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	int r = prepare(ns, topic, payload, &text, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->events_mu);
	struct ctr_events *ev;
	r = client_events(c, &ev, err);
	if (r == 0)
		r = journal_append(ev, ns, topic, text, err);
	pthread_mutex_unlock(&c->events_mu);
	return r;
}

int ctr_events_publish(ctr_client *c, const char *ns, const char *topic, json_t *payload)
{
	if (!c) {
		json_decref(payload);
		return CTR_EINVAL;
	}
	return publish(c, ns ? ns : c->ns, topic, payload, NULL);
}

int ctr_events_publish_at(int state_fd, const char *ns, const char *topic, json_t *payload)
{
	_cleanup_free_ char *text = NULL;
	int r = prepare(ns, topic, payload, &text, NULL);
	if (r < 0)
		return r;
	_cleanup_(events_freep) struct ctr_events *ev = NULL;
	r = events_open(&ev, state_fd, NULL);
	if (r < 0)
		return r;
	return journal_append(ev, ns, topic, text, NULL);
}

void ctr_events_close(ctr_client *c)
{
	pthread_mutex_lock(&c->events_mu);
	events_free(c->events);
	c->events = NULL;
	pthread_mutex_unlock(&c->events_mu);
}

CTR_EXPORT int ctr_event_publish(ctr_client *c, const char *topic, const char *payload_json,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "publish: client is NULL");
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, "publish", err);
	if (r < 0)
		return r;
	json_t *payload = NULL;
	if (payload_json) {
		r = ctr_json_parse(payload_json, strlen(payload_json), CTR_EVENT_PAYLOAD_MAX,
				   CTR_JSON_MAX_DEPTH, "event payload", &payload, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "publish %.100s", topic ? topic : "(null)");
	}
	r = publish(c, ctr_call_ns(c, &call), topic, payload, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "publish %.100s", topic ? topic : "(null)");
	return 0;
}
