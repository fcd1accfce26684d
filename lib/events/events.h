/* Internal side of events: the journal that every process sharing a state
 * directory appends to, and the hook other subsystems call after a change.
 *
 * On disk (<state>/events/, mode 0700):
 *   journal.<gen>  one event per line, compact JSON
 *                  {"timestamp":NS,"namespace":NS,"topic":T,"payload":{...}}
 *                  appended with one write() on an O_APPEND fd, so concurrent
 *                  writers never interleave inside a line;
 *   lock           flock: publishers hold it shared while they pick the
 *                  current generation and append, a rotation holds it
 *                  exclusive while it creates journal.<gen+1>.
 * Generations only grow. Because a rotation excludes every append, once
 * journal.<N+1> exists nothing is ever appended to journal.<N> again: a
 * reader that sees N+1 drains N to its end and moves on, losing and
 * duplicating nothing. The newest few generations are kept. */
#ifndef CTR_LIB_EVENTS_H
#define CTR_LIB_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include <ctr/events.h>

struct ctr_client;
struct ctr_events;

#define CTR_EVENTS_DIR "events"
#define CTR_EVENTS_LOCK "lock"
#define CTR_EVENTS_PREFIX "journal."
/* Longest topic accepted; containerd has no bound, a path-like topic of a
 * kilobyte is already absurd. */
#define CTR_EVENT_TOPIC_MAX 1024
/* Longest journal line a reader accepts (the payload plus the envelope). */
#define CTR_EVENTS_LINE_MAX (CTR_EVENT_PAYLOAD_MAX + CTR_EVENT_TOPIC_MAX + 256)
/* Default size at which the journal rotates, and how many generations
 * (the current one included) are kept. */
#define CTR_EVENTS_ROTATE_DEFAULT (4u * 1024 * 1024)
#define CTR_EVENTS_KEEP_DEFAULT 3

/* Publishes an event; the "after a change" hook for other subsystems.
 * Takes ownership of payload (one reference), so a caller can write
 *   ctr_events_publish(c, ns, "/images/create", json_pack("{s:s}", "name", n));
 * a NULL payload publishes {}. ns NULL means the client's namespace.
 * Best effort: it never prints, never aborts, and callers may ignore the
 * code it returns (0 or a negative CTR_E*). Safe to call from several
 * threads on one client. */
int ctr_events_publish(struct ctr_client *c, const char *ns, const char *topic, json_t *payload);

/* The same for a process without a client (the shim): state_fd is the state
 * directory (O_PATH is fine). Opens and closes the journal on each call. */
int ctr_events_publish_at(int state_fd, const char *ns, const char *topic, json_t *payload);

/* CTR_EINVAL with a reason unless topic looks like containerd's. */
int ctr_events_topic_validate(const char *topic, ctr_error **err);

/* Frees the client's cached journal handles (lib/client-hooks.c). */
void ctr_events_close(struct ctr_client *c);

/* For tests: the rotation size and the number of generations kept, for the
 * whole process (children forked later inherit them). 0 restores the
 * default. */
void ctr_events_set_rotate_bound(size_t bytes);
void ctr_events_set_keep(unsigned generations);

/* Shared between the writer and the reader (journal.c). */
size_t ctr_events_rotate_bound(void);
/* Opens (creating) <state>/events; returns the fd or a negative code. */
int ctr_events_dir_open(int state_fd, ctr_error **err);
/* "journal.<gen>" into buf (at least 32 bytes). */
void ctr_events_journal_name(char *buf, size_t len, uint64_t gen);
/* Oldest and newest generation present; both 0 when there is none. */
int ctr_events_scan(int dir_fd, uint64_t *oldest, uint64_t *newest, ctr_error **err);
/* The smallest generation present that is greater than after, or 0. */
uint64_t ctr_events_next_gen(int dir_fd, uint64_t after);

#endif
