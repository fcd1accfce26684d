/* The namespaced content layer (lib/records/content-ns.c): the handles behind
 * the public content API and the internal calls on them. */
#ifndef CTR_LIB_CONTENT_NS_H
#define CTR_LIB_CONTENT_NS_H

#include <ctr/content.h>

#include "opts.h"
#include "store.h"
#include "metadata.h"

/* How long an ingest opened without a lease keeps its record from the
 * collector: containerd's 24 hours. */
#define CTR_INGEST_UNLEASED_EXPIRY (24LL * 3600 * 1000000000)

struct ctr_content_info {
	struct ctr_md_content md;
};

struct ctr_content_reader {
	ctr_client *c;
	int fd;
	int64_t size;
};

struct ctr_content_writer {
	ctr_client *c;
	struct ctr_cs_writer *w;
	char *ns;
	char *lease;
	char *ref;
	char *expected;
	int64_t expected_size;
};

/* The layer's internal calls: the public ctr_content_* functions parse their
 * options into these plain arguments, and the rest of the library calls
 * these directly. call may be NULL (the client's namespace, no lease).
 * Errors as the public calls. */
int ctr_contents_info_get(ctr_content_info **out, ctr_client *c, const char *digest, const struct ctr_call *call,
			  ctr_error **err);
int ctr_contents_update_labels(ctr_client *c, const char *digest, const char *const *labels, const struct ctr_call *call,
			       ctr_error **err);
int ctr_contents_delete(ctr_client *c, const char *digest, const struct ctr_call *call, ctr_error **err);
int ctr_contents_reader_open(ctr_content_reader **out, ctr_client *c, const char *digest, const struct ctr_call *call,
			     ctr_error **err);
int ctr_contents_abort(ctr_client *c, const char *ref, const struct ctr_call *call, ctr_error **err);
/* expected_digest (or NULL) and size (-1: unknown) as ctr_with_content_expected,
 * timeout_ms as ctr_with_content_wait. */
int ctr_contents_writer_open(ctr_content_writer **out, ctr_client *c, const char *ref, const char *expected_digest,
			     int64_t size, int timeout_ms, const struct ctr_call *call, ctr_error **err);

/* ctr_content_writer_commit without options. */
int ctr_contents_writer_commit(ctr_content_writer *w, int64_t size, const char *digest, const char *const *labels,
			       ctr_error **err);

/* Truncates the writer's ingest to 0 bytes (a server ignored Range). */
int ctr_content_writer_reset(ctr_content_writer *w, ctr_error **err);

/* Reads bytes the writer already holds (below its offset). */
int64_t ctr_content_writer_pread(ctr_content_writer *w, void *buf, size_t len, int64_t off, ctr_error **err);

#endif
