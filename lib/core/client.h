/* Internal view of the client. */
#ifndef CTR_LIB_CLIENT_H
#define CTR_LIB_CLIENT_H

#include <ctr/client.h>
#include <pthread.h>

#include "opts.h"

struct ctr_db;
struct ctr_cs;
struct ctr_snapshotter;
struct ctr_events;
struct ctr_platform_matcher;

struct ctr_client {
	int refs; /* atomic: ctr_client_hold/_release from any thread */
	/* Set by the object layer that creates the client (lib/client.c): what
	 * the last release runs, so that the lower layers holding a client
	 * never call up into it. */
	void (*destroy)(struct ctr_client *c);
	char *root;  /* absolute */
	char *state; /* absolute */
	char *ns;
	/* ctr_with_default_runtime; NULL: the namespace label, else the
	 * built-in (lib/container-runtime.c). */
	char *default_runtime;
	/* ctr_with_default_platform (lib/images/platforms.h); NULL: the
	 * host's. Fixed for the client's life. */
	struct ctr_platform_matcher *platform;
	int root_fd;  /* O_PATH|O_DIRECTORY on root */
	int state_fd; /* O_PATH|O_DIRECTORY on state */
	struct ctr_db *db; /* metadata (lib/metadata) */
	struct ctr_cs *cs; /* blob store (lib/content) */
	/* Snapshotters by name: built-ins opened on first use, plus the
	 * application's (lib/snapshots/snapshot-ns.c). Under snaps_mu; an entry, once
	 * added, lives until the client is destroyed. */
	pthread_mutex_t snaps_mu;
	struct ctr_snapshotter **snaps;
	size_t n_snaps;
	/* Event journal handles (lib/events), opened on first publish; under
	 * events_mu, which also orders this client's appends. */
	pthread_mutex_t events_mu;
	struct ctr_events *events;
	/* Around the snapshot and metadata calls of this client's streaming
	 * unpackers (lib/unpack-stream.c). */
	pthread_mutex_t unpack_mu;
};

/* A reference for a handle that keeps the client (ctr_client_ref). */
static inline ctr_client *ctr_client_hold(ctr_client *c)
{
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

/* Drops one (ctr_client_free); the last one destroys the client. */
static inline void ctr_client_release(ctr_client *c)
{
	if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		c->destroy(c);
}

/* The namespace a call runs in: the call option's, else the client's. */
static inline const char *ctr_call_ns(const ctr_client *c, const struct ctr_call *call)
{
	return call && call->ns ? call->ns : c->ns;
}

#endif
