/* Digests "alg:hex" for sha256 and sha512, computed with OpenSSL. */
#ifndef CTR_UTIL_DIGEST_H
#define CTR_UTIL_DIGEST_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { CTR_DIGEST_SHA256 = 1, CTR_DIGEST_SHA512 = 2 } ctr_digest_alg;

#define CTR_DIGEST_MAX 136 /* "sha512:" + 128 hex + NUL, rounded */

/* Parses and validates "sha256:<64 lowercase hex>" or "sha512:<128 hex>".
 * Sets *alg and *hex (pointing into s). CTR_EINVAL with the reason, or
 * CTR_ENOTSUP for a well-formed unknown algorithm. */
int ctr_digest_parse(const char *s, ctr_digest_alg *alg, const char **hex, ctr_error **err);
bool ctr_digest_valid(const char *s);
const char *ctr_digest_alg_name(ctr_digest_alg alg);

/* Streaming hasher. */
typedef struct ctr_hasher ctr_hasher;
int ctr_hasher_new(ctr_hasher **out, ctr_digest_alg alg, ctr_error **err);
void ctr_hasher_update(ctr_hasher *h, const void *buf, size_t len);
/* Writes "alg:hex" to out (at least CTR_DIGEST_MAX bytes). Does not reset. */
void ctr_hasher_peek(const ctr_hasher *h, char *out);
void ctr_hasher_free(ctr_hasher *h);

/* Serialised state, so an ingest can resume hashing where it stopped without
 * rereading. Returns the number of bytes written (0 when unsupported). */
size_t ctr_hasher_save(const ctr_hasher *h, void *buf, size_t len);
int ctr_hasher_restore(ctr_hasher *h, const void *buf, size_t len);

/* One-shot digest of a buffer. */
int ctr_digest_buf(ctr_digest_alg alg, const void *buf, size_t len, char *out, ctr_error **err);
/* Digest of an open fd from offset 0 to EOF (uses pread; fd offset untouched). */
int ctr_digest_fd(ctr_digest_alg alg, int fd, char *out, uint64_t *size, ctr_error **err);

#endif
