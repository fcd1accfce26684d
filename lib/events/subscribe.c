/* The reading side of the event journal: a subscription follows the
 * journal files generation by generation, woken by inotify, and hands out
 * the events that match its filters. The layout is in events.h. */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "opts.h"
#include "filters.h"
#include "ident.h"
#include "json.h"
#include "macro.h"

struct ctr_event {
	int64_t timestamp;
	char *ns;
	char *topic;
	char *payload;
};

struct ctr_subscription {
	ctr_client *c;
	ctr_filter *filter;
	int dir_fd;
	int ifd;           /* inotify on the events directory */
	int fd;            /* journal being read; -1 while there is none */
	uint64_t gen;      /* its generation (0: before the first) */
	uint64_t next_gen; /* when final: the generation after it */
	bool final;        /* a newer generation exists: drain fd, then move */
	bool skipping;     /* discarding an overlong line up to its newline */
	char *buf;
	size_t start, len; /* unread bytes are buf[start..len) */
};

struct sub_cfg {
	bool replay;
};

static int apply_replay(void *target, void *userdata, ctr_error **err)
{
	((struct sub_cfg *)target)->replay = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_subscribe_replay(void)
{
	return ctr_opt_make(CTR_OPT_SUBSCRIBE, "ctr_with_subscribe_replay", apply_replay, NULL, NULL);
}

CTR_EXPORT void ctr_event_free(ctr_event *e)
{
	if (!e)
		return;
	free(e->ns);
	free(e->topic);
	free(e->payload);
	free(e);
}

static inline void event_freep(ctr_event **e) { ctr_event_free(*e); }

CTR_EXPORT int64_t ctr_event_timestamp(const ctr_event *e) { return e ? e->timestamp : 0; }
CTR_EXPORT const char *ctr_event_namespace(const ctr_event *e) { return e ? e->ns : NULL; }
CTR_EXPORT const char *ctr_event_topic(const ctr_event *e) { return e ? e->topic : NULL; }
CTR_EXPORT const char *ctr_event_payload(const ctr_event *e) { return e ? e->payload : NULL; }

CTR_EXPORT void ctr_subscription_free(ctr_subscription *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->ifd >= 0)
		close(s->ifd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	ctr_filter_free(s->filter);
	free(s->buf);
	ctr_client_release(s->c);
	free(s);
}

static inline void sub_freep(ctr_subscription **s) { ctr_subscription_free(*s); }

CTR_EXPORT int ctr_subscription_fd(const ctr_subscription *s) { return s ? s->ifd : -1; }

/* What a filter sees: containerd's envelope fields, and "event.<path>" for
 * the payload (strings, numbers and booleans; absent or empty is NULL, as
 * containerd's adaptors report an empty string as not present). */
struct match_obj {
	const ctr_event *e;
	json_t *payload;
	char scratch[32];
};

static const char *event_field(void *o, const char *const *path, size_t n)
{
	struct match_obj *m = o;
	if (n == 1 && !strcmp(path[0], "topic"))
		return m->e->topic;
	if (n == 1 && !strcmp(path[0], "namespace"))
		return m->e->ns;
	if (n < 2 || strcmp(path[0], "event"))
		return NULL;
	json_t *v = m->payload;
	for (size_t i = 1; i < n; i++) {
		if (!json_is_object(v))
			return NULL;
		v = json_object_get(v, path[i]);
	}
	if (json_is_string(v))
		return *json_string_value(v) ? json_string_value(v) : NULL;
	if (json_is_integer(v)) {
		snprintf(m->scratch, sizeof(m->scratch), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return m->scratch;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

/* Turns one journal line into an event. Returns NULL for a line that is
 * not a valid event (the journal is shared: trust nothing in it). */
static ctr_event *parse_line(const char *line, size_t len, json_t **payload_out)
{
	json_t *rec = NULL;
	if (ctr_json_parse(line, len, CTR_EVENTS_LINE_MAX, CTR_JSON_MAX_DEPTH + 1, "event", &rec, NULL) < 0)
		return NULL;
	json_t *ts = json_object_get(rec, "timestamp"), *payload = json_object_get(rec, "payload");
	const char *ns = ctr_json_str(rec, "namespace"), *topic = ctr_json_str(rec, "topic");
	_cleanup_(event_freep) ctr_event *e = NULL;
	if (!json_is_integer(ts) || !ns || !ctr_ident_ok(ns) || !topic ||
	    ctr_events_topic_validate(topic, NULL) < 0 || !json_is_object(payload))
		goto bad;
	if (!(e = calloc(1, sizeof(*e))))
		goto bad;
	e->timestamp = json_integer_value(ts);
	e->ns = strdup(ns);
	e->topic = strdup(topic);
	e->payload = ctr_json_dump(payload);
	if (!e->ns || !e->topic || !e->payload)
		goto bad;
	*payload_out = json_incref(payload);
	json_decref(rec);
	return TAKE_PTR(e);
bad:
	json_decref(rec);
	return NULL;
}

/* The next complete line in the buffer, or NULL. A line longer than any
 * valid event is dropped whole. */
static char *take_line(ctr_subscription *s, size_t *llen)
{
	for (;;) {
		char *p = s->buf + s->start;
		size_t avail = s->len - s->start;
		char *nl = memchr(p, '\n', avail);
		if (!nl) {
			if (s->start == 0 && s->len == CTR_EVENTS_LINE_MAX) {
				s->skipping = true;
				s->len = 0;
			}
			if (s->skipping)
				s->start = s->len = 0;
			return NULL;
		}
		s->start += (size_t)(nl - p) + 1;
		if (s->skipping) {
			s->skipping = false;
			continue;
		}
		*llen = (size_t)(nl - p);
		return p;
	}
}

static int open_gen(ctr_subscription *s, uint64_t gen, bool at_end, ctr_error **err)
{
	char name[32];
	ctr_events_journal_name(name, sizeof(name), gen);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->gen = gen;
	s->final = false;
	s->skipping = false;
	s->start = s->len = 0;
	int fd = openat(s->dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* pruned meanwhile: the next EOF looks further */
		return ctr_err_errno(err, errno, "open events journal %s", name);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd); /* not a journal: the next EOF looks past it */
		return 0;
	}
	if (at_end && lseek(fd, 0, SEEK_END) < 0) {
		int e = errno;
		close(fd);
		return ctr_err_errno(err, e, "seek events journal %s", name);
	}
	s->fd = fd;
	return 0;
}

/* The generation to read after the current one, or 0 while it is the
 * newest. Usually gen+1; a reader so far behind that generations were
 * pruned under it (its file unlinked) jumps to the oldest one left. */
static uint64_t find_next(ctr_subscription *s)
{
	char name[32];
	struct stat st;
	ctr_events_journal_name(name, sizeof(name), s->gen + 1);
	if (fstatat(s->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return s->gen + 1;
	if (s->fd >= 0 && fstat(s->fd, &st) == 0 && st.st_nlink > 0)
		return 0;
	return ctr_events_next_gen(s->dir_fd, s->gen);
}

static void drain_inotify(int ifd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(ifd, buf, sizeof(buf)) > 0)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

CTR_EXPORT int ctr_subscription_next(ctr_event **out, ctr_subscription *s, int timeout_ms,
				     ctr_error **err)
{
	if (!out || !s)
		return ctr_err(err, CTR_EINVAL, 0, "events: next: %s is NULL", out ? "subscription" : "out");
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	/* Whether inotify was drained since the last wakeup. Every call drains
	 * before it gives up, so the fd is quiet after a CTR_ETIMEOUT. */
	bool drained = false;
	for (;;) {
		size_t llen;
		char *line;
		while ((line = take_line(s, &llen))) {
			json_t *payload = NULL;
			_cleanup_(event_freep) ctr_event *e = parse_line(line, llen, &payload);
			if (!e)
				continue;
			struct match_obj m = {.e = e, .payload = payload};
			bool ok = ctr_filter_match(s->filter, event_field, &m);
			json_decref(payload);
			if (ok) {
				*out = TAKE_PTR(e);
				return 0;
			}
		}
		if (s->fd >= 0) {
			if (s->start > 0) {
				memmove(s->buf, s->buf + s->start, s->len - s->start);
				s->len -= s->start;
				s->start = 0;
			}
			ssize_t n = read(s->fd, s->buf + s->len, CTR_EVENTS_LINE_MAX - s->len);
			if (n > 0) {
				s->len += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return ctr_err_errno(err, errno, "events: read journal");
		}
		/* At the end of what the current generation holds. */
		if (s->final) {
			/* Nothing is appended to it any more: a partial line
			 * left at its end is garbage from a failed write. */
			int r = open_gen(s, s->next_gen, false, err);
			if (r < 0)
				return r;
			continue;
		}
		uint64_t next = find_next(s);
		if (next) {
			if (s->fd >= 0) {
				/* Appends to it ended before `next` was made,
				 * but maybe after the read above: read again. */
				s->final = true;
				s->next_gen = next;
			} else {
				int r = open_gen(s, next, false, err);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (!drained) {
			/* Drain, then read once more: a write after the drain
			 * leaves a new notification, so no wakeup is lost. */
			drain_inotify(s->ifd);
			drained = true;
			continue;
		}
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return CTR_ETIMEOUT;
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd pfd = {.fd = s->ifd, .events = POLLIN};
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return ctr_err_errno(err, errno, "events: poll");
		drained = false;
	}
}

CTR_EXPORT int ctr_event_subscribe(ctr_subscription **out, ctr_client *c,
				    const char *const *filters, size_t n_filters,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!out || !c)
		return ctr_err(err, CTR_EINVAL, 0, "subscribe: %s is NULL", out ? "client" : "out");
	if (n_filters && !filters)
		return ctr_err(err, CTR_EINVAL, 0, "subscribe: filters is NULL with %zu filters", n_filters);
	struct sub_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_SUBSCRIBE, &cfg, NULL, opts, n_opts, "subscribe", err);
	if (r < 0)
		return r;
	_cleanup_(sub_freep) ctr_subscription *s = calloc(1, sizeof(*s));
	if (!s)
		return ctr_err_nomem(err);
	s->dir_fd = s->ifd = s->fd = -1;
	s->c = ctr_client_hold(c);
	r = ctr_filter_parse(&s->filter, filters, n_filters, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "subscribe");
	if (!(s->buf = malloc(CTR_EVENTS_LINE_MAX)))
		return ctr_err_nomem(err);
	s->dir_fd = ctr_events_dir_open(c->state_fd, err);
	if (s->dir_fd < 0)
		return ctr_err_prefix(err, s->dir_fd, "subscribe");
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd < 0)
		return ctr_err(err, errno == EMFILE || errno == ENFILE ? CTR_EUNAVAILABLE : CTR_EIO, errno,
			       "subscribe: inotify: %s", strerror(errno));
	/* The watch comes before the journal is looked at, so nothing
	 * appended after this call can go unnoticed. */
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/" CTR_EVENTS_DIR, c->state) < 0) {
		path = NULL;
		return ctr_err_nomem(err);
	}
	if (inotify_add_watch(s->ifd, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR |
						    IN_DONT_FOLLOW) < 0)
		return ctr_err(err, errno == ENOSPC ? CTR_EUNAVAILABLE : CTR_EIO, errno,
			       "subscribe: watch %s: %s", path, strerror(errno));
	uint64_t oldest, newest;
	r = ctr_events_scan(s->dir_fd, &oldest, &newest, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "subscribe");
	if (cfg.replay && oldest)
		r = open_gen(s, oldest, false, err);
	else if (!cfg.replay && newest)
		r = open_gen(s, newest, true, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "subscribe");
	*out = TAKE_PTR(s);
	return 0;
}
