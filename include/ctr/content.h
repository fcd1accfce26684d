/* libctr: the content store, namespaced (containerd's content.Store).
 *
 * Blobs are shared on disk but owned per namespace: a blob written in
 * namespace A is not visible in B until B writes or references it. Every
 * call runs in the client's namespace, or in the one a
 * ctr_with_call_namespace() option names; writers also take ctr_with_lease(). */
#ifndef CTR_CONTENT_H
#define CTR_CONTENT_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What is known of one blob in a namespace. Opaque; free with
 * ctr_content_info_free. */
typedef struct ctr_content_info ctr_content_info;

CTR_EXPORT const char *ctr_content_info_digest(const ctr_content_info *i);
CTR_EXPORT int64_t ctr_content_info_size(const ctr_content_info *i);
/* Unix time in nanoseconds. */
CTR_EXPORT int64_t ctr_content_info_created_at(const ctr_content_info *i);
CTR_EXPORT int64_t ctr_content_info_updated_at(const ctr_content_info *i);
/* NULL-terminated "key=value" array, sorted by key; borrowed from i. */
CTR_EXPORT const char *const *ctr_content_info_labels(const ctr_content_info *i);
CTR_EXPORT void ctr_content_info_free(ctr_content_info *i);
CTR_EXPORT void ctr_content_info_list_free(ctr_content_info **v, size_t n);

/* Errors: CTR_EINVAL (bad digest), CTR_ENOTFOUND (not in this namespace). */
CTR_EXPORT int ctr_content_get(ctr_content_info **out, ctr_client *c, const char *digest,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Lists blobs of the namespace that match any of the filters (containerd's
 * syntax over digest, size and labels.<key>). */
CTR_EXPORT int ctr_content_list(ctr_content_info ***out, size_t *n_out, ctr_client *c,
				const char *const *filters, size_t n_filters,
				const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Sets labels ("key=value"); "key=" removes key. */
CTR_EXPORT int ctr_content_update(ctr_client *c, const char *digest,
					 const char *const *labels, const ctr_opt *const *opts,
					 size_t n_opts, ctr_error **err);
/* Removes the blob from the namespace; the bytes go when no namespace has
 * them. CTR_ENOTFOUND when the namespace does not have it. */
CTR_EXPORT int ctr_content_delete(ctr_client *c, const char *digest,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Reading. The reader supports pread at any offset. */
typedef struct ctr_content_reader ctr_content_reader;
CTR_EXPORT int ctr_content_reader_open(ctr_content_reader **out, ctr_client *c, const char *digest,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT int64_t ctr_content_reader_size(const ctr_content_reader *r);
/* Reads up to len bytes at offset into buf; *n_read gets the count (0 at
 * the end). */
CTR_EXPORT int ctr_content_reader_pread(size_t *n_read, ctr_content_reader *r, void *buf, size_t len,
					int64_t offset, ctr_error **err);
CTR_EXPORT void ctr_content_reader_free(ctr_content_reader *r);

/* Writing: verified, resumable ingest by ref. Opening a ref that another
 * process is writing waits (see ctr_with_content_wait) then CTR_EBUSY;
 * opening a ref whose writer died resumes at its offset. */
typedef struct ctr_content_writer ctr_content_writer;

/* Writer options (kind CTR_OPT_CONTENT). */
/* Expected digest and size (size < 0: unknown). */
CTR_EXPORT ctr_opt *ctr_with_content_expected(const char *digest, int64_t size);
/* How long to wait for another writer of the same ref: <0 forever, 0 not at
 * all (default 0). */
CTR_EXPORT ctr_opt *ctr_with_content_wait(int timeout_ms);

CTR_EXPORT int ctr_content_writer_open(ctr_content_writer **out, ctr_client *c, const char *ref,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT int64_t ctr_content_writer_offset(const ctr_content_writer *w);
CTR_EXPORT int ctr_content_writer_write(ctr_content_writer *w, const void *buf, size_t len,
					ctr_error **err);
/* Checks size (< 0: any) and digest (NULL: the expected one, or any), names
 * the blob and records it in the namespace with labels. A blob that already
 * exists gives CTR_EEXISTS, which callers treat as success (it is recorded
 * too). CTR_EPRECONDITION (size) and CTR_EDIGEST (digest) leave no blob.
 * No option applies yet (kind CTR_OPT_CONTENT_COMMIT): any option given is
 * CTR_EINVAL. */
CTR_EXPORT int ctr_content_writer_commit(ctr_content_writer *w, int64_t size, const char *digest,
					 const char *const *labels, const ctr_opt *const *opts, size_t n_opts,
					 ctr_error **err);
/* Closes without committing: the ingest stays and can be resumed. NULL ok. */
CTR_EXPORT void ctr_content_writer_free(ctr_content_writer *w);

/* Active ingests of the namespace. */
typedef struct ctr_content_status ctr_content_status;
CTR_EXPORT const char *ctr_content_status_ref(const ctr_content_status *s);
CTR_EXPORT int64_t ctr_content_status_offset(const ctr_content_status *s);
CTR_EXPORT int64_t ctr_content_status_total(const ctr_content_status *s);
CTR_EXPORT const char *ctr_content_status_expected(const ctr_content_status *s);
CTR_EXPORT int64_t ctr_content_status_started_at(const ctr_content_status *s);
CTR_EXPORT int64_t ctr_content_status_updated_at(const ctr_content_status *s);
CTR_EXPORT int ctr_content_status_list(ctr_content_status ***out, size_t *n_out, ctr_client *c,
				       const char *const *filters, size_t n_filters,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT void ctr_content_status_list_free(ctr_content_status **v, size_t n);
/* Drops an ingest nobody is writing. CTR_ENOTFOUND, CTR_EBUSY. */
CTR_EXPORT int ctr_content_abort(ctr_client *c, const char *ref, const ctr_opt *const *opts,
				 size_t n_opts, ctr_error **err);

/* One object of a registry, outside any image tree (containerd's resolver
 * Fetcher and Pusher, `ctr content fetch-object` and `push-object`). Both
 * take CTR_OPT_REMOTE options (<ctr/remote.h>: plain HTTP, hosts
 * directory, TLS, credentials, progress); push also CTR_OPT_CALL. */
/* Resolves ref (digest NULL: its manifest or index; else the object
 * `digest` in ref's repository, a manifest or a blob) and writes its bytes
 * to fd (not closed) as they arrive, never more than the size the
 * registry resolved. They are checked against that size and the digest
 * as they end: CTR_EDIGEST (or CTR_EIO for a short body) then says that
 * what fd got is not the object. Nothing is stored. Errors: CTR_EINVAL
 * (bad reference or digest), CTR_ENOTFOUND, and those of <ctr/remote.h>. */
CTR_EXPORT int ctr_content_fetch(ctr_client *c, const char *ref, const char *digest, int fd,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Pushes the namespace's blob `digest` to ref's repository with
 * media_type (type/subtype, RFC 6838 characters, no parameters): a
 * manifest or index media type goes to ref's tag (or digest), anything
 * else is a blob upload (skipped when the registry has it). Errors:
 * CTR_EINVAL (bad reference, digest or media type), CTR_ENOTFOUND (no such
 * blob in the namespace), and those of <ctr/remote.h>. */
CTR_EXPORT int ctr_content_push(ctr_client *c, const char *ref, const char *digest, const char *media_type,
				const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
