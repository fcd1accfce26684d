/* The raw blob store under <root>/content: immutable blobs named by digest
 * and resumable, verified ingests. It knows nothing of namespaces or leases;
 * lib/metadata records who owns what, and lib/records/content-ns.c ties the
 * two into the handles of the public content API (lib/content.c).
 *
 * Layout (DESIGN.md, "State on disk"):
 *   content/blobs/<alg>/<hex>     immutable, appears only by rename after its
 *                                 size and digest check out
 *   content/ingest/<sha256(ref)>/ data, ref, total, expected, startedat,
 *                                 updatedat, lock (flock by the writer)
 *   content/gc.lock               shared by committers, exclusive by GC
 */
#ifndef CTR_CONTENT_STORE_H
#define CTR_CONTENT_STORE_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

struct ctr_cs;
struct ctr_cs_writer;

/* Opens (creating) <root>/content below root_fd. */
int ctr_cs_open(struct ctr_cs **out, int root_fd, ctr_error **err);
void ctr_cs_close(struct ctr_cs *cs);

/* Blobs. Digests are validated (ctr_digest_parse) before they touch a path:
 * CTR_EINVAL for a bad one. */
int ctr_cs_blob_stat(struct ctr_cs *cs, const char *digest, uint64_t *size, ctr_error **err);
/* Read-only O_CLOEXEC fd on the blob, for pread. CTR_ENOTFOUND when absent. */
int ctr_cs_blob_open(struct ctr_cs *cs, const char *digest, ctr_error **err);
/* Missing is CTR_ENOTFOUND. */
int ctr_cs_blob_delete(struct ctr_cs *cs, const char *digest, ctr_error **err);
/* Calls fn for every blob on disk; a non-zero return from fn stops the walk
 * and is returned. */
int ctr_cs_blob_walk(struct ctr_cs *cs, int (*fn)(const char *digest, uint64_t size, void *ud),
		     void *ud, ctr_error **err);

/* The GC lock: committers hold it shared from the blob rename until the
 * metadata record exists; the collector holds it exclusive. Waits as long as
 * it takes. Returns the fd (close to release) or a negative code. */
int ctr_cs_gc_lock(struct ctr_cs *cs, bool exclusive, ctr_error **err);

/* Longest ref accepted (refs are any non-empty string; they name a dir only
 * through their sha256). */
#define CTR_CS_REF_MAX 65536

/* Ingest. Opening a ref that has an ingest dir resumes it (offset = bytes
 * already written and verified by rehashing). Another writer of the ref (any
 * process, or another writer in this one) makes this wait up to timeout_ms
 * (<0: forever, 0: not at all) then CTR_EBUSY.
 * total (0: unknown) and expected (NULL: unknown) are recorded. A resumed
 * ingest restarts from 0 when its recorded expected digest or total differs
 * from a non-zero/non-NULL one given here, or when it holds more than total.
 * Given 0/NULL, a resumed ingest keeps what was recorded.
 * Data is hashed with expected's algorithm (sha256 when none).
 * Errors: CTR_EINVAL (empty or too long ref, bad expected), CTR_ENOTSUP
 * (expected of an unknown algorithm), CTR_EBUSY, CTR_EEXISTS when a blob
 * with the expected digest already exists (also when it appeared while we
 * waited; the ingest is then removed). */
int ctr_cs_writer_open(struct ctr_cs_writer **out, struct ctr_cs *cs, const char *ref,
		       uint64_t total, const char *expected, int timeout_ms, ctr_error **err);
uint64_t ctr_cs_writer_offset(const struct ctr_cs_writer *w);
/* 0 when unknown. */
uint64_t ctr_cs_writer_total(const struct ctr_cs_writer *w);
const char *ctr_cs_writer_ref(const struct ctr_cs_writer *w);
/* The expected digest given at open or recorded by an earlier writer; NULL
 * when unknown. Borrowed from w. */
const char *ctr_cs_writer_expected(const struct ctr_cs_writer *w);
/* Appends at the offset. CTR_EPRECONDITION (nothing written) when it would
 * go past a known total. After an I/O error the data is cut back to the
 * offset, so the writer stays consistent. */
int ctr_cs_writer_write(struct ctr_cs_writer *w, const void *buf, size_t len, ctr_error **err);
/* Drops what was written and starts again at offset 0 (a server that ignored
 * Range: never splice). */
int ctr_cs_writer_reset(struct ctr_cs_writer *w, ctr_error **err);
/* Reads back bytes already written (below the offset): how a resumed
 * download replays its first part to a consumer that needs the whole
 * stream. Returns the count (0 at the offset) or a negative code. */
ssize_t ctr_cs_writer_pread(struct ctr_cs_writer *w, void *buf, size_t len, uint64_t off, ctr_error **err);
/* The digest of what was written so far ("alg:hex"). */
void ctr_cs_writer_digest(const struct ctr_cs_writer *w, char out[CTR_DIGEST_MAX]);
/* Verifies size (0: take what was written, unless total was given) and
 * expected digest (NULL: the one given at open, or none), then renames the
 * data into blobs/ (fsync of data before, of the blob dir after) and removes
 * the ingest dir. On success and on CTR_EEXISTS *digest_out (may be NULL,
 * else CTR_DIGEST_MAX bytes) gets the digest. An expected digest of another
 * algorithm than the one hashed with costs a reread of the data.
 * Errors: CTR_EPRECONDITION on a size mismatch, CTR_EDIGEST on a digest
 * mismatch (the ingest is removed in both cases: its bytes are wrong and
 * resuming them cannot help), CTR_EEXISTS when the blob already exists (the
 * ingest is removed; callers treat it as success).
 * CTR_EINVAL/CTR_ENOTSUP for a bad expected digest (the ingest stays).
 * After a commit that removed the ingest (success or the three codes above)
 * the writer only accepts ctr_cs_writer_close.
 * The caller should hold ctr_cs_gc_lock(shared) across commit and recording. */
int ctr_cs_writer_commit(struct ctr_cs_writer *w, uint64_t size, const char *expected,
			 char *digest_out, ctr_error **err);
/* Releases the lock and frees; the ingest stays for a later resume. NULL ok. */
void ctr_cs_writer_close(struct ctr_cs_writer *w);

/* Removes an ingest that nobody holds (never waits). CTR_ENOTFOUND, CTR_EBUSY. */
int ctr_cs_abort(struct ctr_cs *cs, const char *ref, ctr_error **err);

/* 1 when a writer holds ref's ingest, 0 when nobody does (or it is gone). */
int ctr_cs_ingest_held(struct ctr_cs *cs, const char *ref, ctr_error **err);

/* The content half of the store check (lib/check.c): every blob rehashed,
 * every ingest that no writer holds. fn gets each finding (a ctr_check_kind,
 * what it is about, a sentence, whether it was repaired); a non-zero return
 * stops the walk. With repair a corrupt blob is deleted (its records are the
 * caller's) and a stale ingest removed. */
typedef int (*ctr_cs_check_fn)(void *ud, int kind, const char *subject, const char *detail, bool repaired);
int ctr_cs_check(struct ctr_cs *cs, bool repair, ctr_cs_check_fn fn, void *ud, ctr_error **err);

struct ctr_cs_status {
	char *ref;
	char *expected; /* may be NULL */
	uint64_t offset;
	uint64_t total;
	int64_t started_at; /* unix nanoseconds */
	int64_t updated_at;
};
/* Read without the lock: offset is what the data file holds now and
 * updated_at its last change. CTR_ENOTFOUND when no ingest of ref exists.
 * Clear *out with ctr_cs_status_clear. */
int ctr_cs_status(struct ctr_cs *cs, const char *ref, struct ctr_cs_status *out, ctr_error **err);
/* All active ingests; free with ctr_cs_status_list_free. */
int ctr_cs_status_list(struct ctr_cs *cs, struct ctr_cs_status **out, size_t *n, ctr_error **err);
void ctr_cs_status_clear(struct ctr_cs_status *st);
void ctr_cs_status_list_free(struct ctr_cs_status *v, size_t n);

#endif
