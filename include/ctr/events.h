/* libctr: events, containerd's event service without the daemon.
 *
 * Every process that uses the same state directory shares one event journal
 * (<state>/events/). ctr_event_publish() appends an event to it, and a
 * subscription follows it, so an event published by one process (a shim
 * reporting an exit, another host program pulling an image) reaches
 * subscribers in every other process. Events are delivered in journal order,
 * which is the order in which they were published; events from one
 * publisher keep their order. */
#ifndef CTR_EVENTS_H
#define CTR_EVENTS_H

#include <ctr/common.h>
#include <ctr/opts.h>
#include <ctr/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest payload accepted, in bytes of compact JSON. */
#define CTR_EVENT_PAYLOAD_MAX (64 * 1024)

/* One delivered event. Opaque; free with ctr_event_free(). */
typedef struct ctr_event ctr_event;
/* A live subscription. Opaque; free with ctr_subscription_free(). */
typedef struct ctr_subscription ctr_subscription;

/* Publishes an event in the client's namespace, or in the one given by
 * ctr_with_call_namespace() (kind CTR_OPT_CALL options are accepted).
 *
 * topic looks like containerd's: it starts with '/' and has one or more
 * '/'-separated components, each a valid identifier (letters, digits and
 * ._- as separators), e.g. "/images/create", "/tasks/exit". payload_json is
 * the event's body and must be a JSON object of at most
 * CTR_EVENT_PAYLOAD_MAX bytes; NULL publishes "{}".
 * Errors: CTR_EINVAL (bad topic, namespace or payload; nothing is written),
 * CTR_EBUSY (the journal stayed locked by a rotation for seconds), CTR_EIO. */
CTR_EXPORT int ctr_event_publish(ctr_client *c, const char *topic, const char *payload_json,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Subscribe options (kind CTR_OPT_SUBSCRIBE). */
/* Start from the oldest event still kept in the journal instead of from the
 * moment of the subscription (the journal keeps a few MiB of history). */
CTR_EXPORT ctr_opt *ctr_with_subscribe_replay(void);

/* Subscribes to the events published after this call by any process that
 * shares the client's state directory, in every namespace. filters use
 * containerd's filter syntax over the fields "topic", "namespace" and
 * "event.<field>..." (a field of the payload), for example
 * `topic~="^/tasks/"`, `namespace==default`, `topic==/images/create`;
 * several filters are ORed, n_filters == 0 matches every event.
 * The subscription keeps a reference on the client.
 * Errors: CTR_EINVAL (bad filter or option), CTR_EUNAVAILABLE (no inotify
 * instance left), CTR_EIO. */
CTR_EXPORT int ctr_event_subscribe(ctr_subscription **out, ctr_client *c,
				    const char *const *filters, size_t n_filters,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Waits for the next matching event. timeout_ms < 0 waits forever, 0 only
 * takes what is already there. Returns 0 and fills *out (free it with
 * ctr_event_free), or CTR_ETIMEOUT when none came in time, or CTR_EIO.
 * Lines of the journal that are not valid events are skipped. */
CTR_EXPORT int ctr_subscription_next(ctr_event **out, ctr_subscription *s, int timeout_ms,
				     ctr_error **err);

/* A file descriptor that becomes readable when the journal changes, for an
 * event loop: when poll() says it is readable, call ctr_subscription_next()
 * with timeout 0 until it returns CTR_ETIMEOUT. Owned by s. */
CTR_EXPORT int ctr_subscription_fd(const ctr_subscription *s);

/* Ends the subscription; accepts NULL. */
CTR_EXPORT void ctr_subscription_free(ctr_subscription *s);

/* Getters; strings are borrowed from the event. */
/* Nanoseconds since the Unix epoch, taken when the event was published. */
CTR_EXPORT int64_t ctr_event_timestamp(const ctr_event *e);
CTR_EXPORT const char *ctr_event_namespace(const ctr_event *e);
CTR_EXPORT const char *ctr_event_topic(const ctr_event *e);
/* The payload as compact JSON text (an object). */
CTR_EXPORT const char *ctr_event_payload(const ctr_event *e);
/* Accepts NULL. */
CTR_EXPORT void ctr_event_free(ctr_event *e);

#ifdef __cplusplus
}
#endif
#endif
