#include "digest.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

/* The low-level SHA API gives a copyable context, which is what lets an
 * interrupted ingest save and restore its hash state. It is deprecated in
 * OpenSSL 3 but stable; silence only that warning here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct ctr_hasher {
	ctr_digest_alg alg;
	union {
		SHA256_CTX s256;
		SHA512_CTX s512;
	} u;
};

const char *ctr_digest_alg_name(ctr_digest_alg alg)
{
	return alg == CTR_DIGEST_SHA512 ? "sha512" : "sha256";
}

int ctr_digest_parse(const char *s, ctr_digest_alg *alg, const char **hex, ctr_error **err)
{
	if (!s || !*s)
		return ctr_err(err, CTR_EINVAL, 0, "invalid digest: empty");
	const char *colon = strchr(s, ':');
	if (!colon)
		return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%.80s\": missing algorithm", s);
	size_t alen = (size_t)(colon - s), want;
	ctr_digest_alg a;
	if (alen == 6 && !memcmp(s, "sha256", 6)) {
		a = CTR_DIGEST_SHA256;
		want = 64;
	} else if (alen == 6 && !memcmp(s, "sha512", 6)) {
		a = CTR_DIGEST_SHA512;
		want = 128;
	} else {
		for (size_t i = 0; i < alen; i++) {
			char c = s[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '_' || c == '-'))
				return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%.80s\": bad algorithm", s);
		}
		if (alen == 0)
			return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%.80s\": empty algorithm", s);
		return ctr_err(err, CTR_ENOTSUP, 0, "unsupported digest algorithm in \"%.80s\"", s);
	}
	const char *h = colon + 1;
	size_t n = strlen(h);
	if (n != want)
		return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%.80s\": want %zu hex digits, have %zu", s, want, n);
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%.80s\": not lowercase hex", s);
	if (alg)
		*alg = a;
	if (hex)
		*hex = h;
	return 0;
}

bool ctr_digest_valid(const char *s) { return ctr_digest_parse(s, NULL, NULL, NULL) == 0; }

int ctr_hasher_new(ctr_hasher **out, ctr_digest_alg alg, ctr_error **err)
{
	ctr_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return ctr_err_nomem(err);
	h->alg = alg;
	if (alg == CTR_DIGEST_SHA512)
		SHA512_Init(&h->u.s512);
	else
		SHA256_Init(&h->u.s256);
	*out = h;
	return 0;
}

void ctr_hasher_update(ctr_hasher *h, const void *buf, size_t len)
{
	if (h->alg == CTR_DIGEST_SHA512)
		SHA512_Update(&h->u.s512, buf, len);
	else
		SHA256_Update(&h->u.s256, buf, len);
}

static void hexify(const unsigned char *md, size_t n, const char *alg, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t p = strlen(alg);
	memcpy(out, alg, p);
	out[p++] = ':';
	for (size_t i = 0; i < n; i++) {
		out[p++] = x[md[i] >> 4];
		out[p++] = x[md[i] & 15];
	}
	out[p] = 0;
}

void ctr_hasher_peek(const ctr_hasher *h, char *out)
{
	unsigned char md[SHA512_DIGEST_LENGTH];
	if (h->alg == CTR_DIGEST_SHA512) {
		SHA512_CTX c = h->u.s512;
		SHA512_Final(md, &c);
		hexify(md, SHA512_DIGEST_LENGTH, "sha512", out);
	} else {
		SHA256_CTX c = h->u.s256;
		SHA256_Final(md, &c);
		hexify(md, SHA256_DIGEST_LENGTH, "sha256", out);
	}
}

void ctr_hasher_free(ctr_hasher *h) { free(h); }

size_t ctr_hasher_save(const ctr_hasher *h, void *buf, size_t len)
{
	size_t need = 4 + sizeof(h->u);
	if (len < need)
		return 0;
	uint32_t a = (uint32_t)h->alg;
	memcpy(buf, &a, 4);
	memcpy((char *)buf + 4, &h->u, sizeof(h->u));
	return need;
}

int ctr_hasher_restore(ctr_hasher *h, const void *buf, size_t len)
{
	uint32_t a;
	if (len != 4 + sizeof(h->u))
		return CTR_EINVAL;
	memcpy(&a, buf, 4);
	if (a != (uint32_t)h->alg)
		return CTR_EINVAL;
	memcpy(&h->u, (const char *)buf + 4, sizeof(h->u));
	return 0;
}

int ctr_digest_buf(ctr_digest_alg alg, const void *buf, size_t len, char *out, ctr_error **err)
{
	ctr_hasher *h;
	int r = ctr_hasher_new(&h, alg, err);
	if (r < 0)
		return r;
	ctr_hasher_update(h, buf, len);
	ctr_hasher_peek(h, out);
	ctr_hasher_free(h);
	return 0;
}

int ctr_digest_fd(ctr_digest_alg alg, int fd, char *out, uint64_t *size, ctr_error **err)
{
	ctr_hasher *h;
	int r = ctr_hasher_new(&h, alg, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *buf = malloc(1 << 20);
	if (!buf) {
		ctr_hasher_free(h);
		return ctr_err_nomem(err);
	}
	uint64_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, 1 << 20, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			ctr_hasher_free(h);
			return ctr_err(err, CTR_EIO, e, "read for digest");
		}
		if (n == 0)
			break;
		ctr_hasher_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	ctr_hasher_peek(h, out);
	ctr_hasher_free(h);
	if (size)
		*size = off;
	return 0;
}
