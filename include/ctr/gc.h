/* libctr: garbage collection.
 *
 * Mark and sweep over every namespace of the client's root, in one write
 * transaction, with containerd's roots (images, containers, unexpired
 * leases, objects labelled containerd.io/gc.root) and references (labels
 * containerd.io/gc.ref.content[.<name>] and
 * containerd.io/gc.ref.snapshot.<snapshotter>[/<name>], snapshot parents).
 * A blob's bytes are removed only when no namespace records it. */
#ifndef CTR_GC_H
#define CTR_GC_H

#include <ctr/common.h>
#include <ctr/client.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Collects garbage. Takes CTR_OPT_GC options (none defined yet).
 * *removed (may be NULL) gets what was removed, one entry each:
 *   "lease <ns>/<id>"                    an expired lease
 *   "content <ns>/<digest>"              a namespace's record of a blob
 *   "ingest <ns>/<ref>"                  an ingest record
 *   "snapshot <ns>/<snapshotter>/<key>"  a snapshot record
 *   "blob <digest>"                      the blob's bytes
 * Free with ctr_strv_free. Errors: CTR_EBUSY (the database stayed locked),
 * CTR_EIO (removing bytes failed; the records are gone, *removed unset). */
CTR_EXPORT int ctr_client_gc(char ***removed, ctr_client *c, const ctr_opt *const *opts,
			     size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
