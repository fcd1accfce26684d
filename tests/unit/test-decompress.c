/* lib/archive/decompress.c: format detection, gzip (ISA-L and zlib, multi-
 * member), zstd (multi-frame, window limit), raw, digests of both sides, and
 * the decompression-bomb guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>
#include <zstd.h>

#include "archive-helpers.h"
#include "config.h"
#include "fs.h"
#include "macro.h"

static struct buf gzip_buf(const void *d, size_t n, int level)
{
	struct buf b = {0};
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	unsigned char out[65536];
	z.next_in = (unsigned char *)d;
	z.avail_in = (uInt)n;
	int r;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = deflate(&z, Z_FINISH);
		buf_add(&b, out, sizeof(out) - z.avail_out);
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
	return b;
}

static struct buf zstd_buf(const void *d, size_t n)
{
	struct buf b = {0};
	size_t cap = ZSTD_compressBound(n);
	b.p = malloc(cap);
	b.cap = cap;
	size_t r = ZSTD_compress(b.p, cap, d, n, 3);
	assert_false(ZSTD_isError(r));
	b.len = r;
	return b;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		/* compressible but not trivial */
		p[i] = (unsigned char)((x >> 16) % 16 + 'a');
	}
	return p;
}

/* Decompresses src fully with the given chunking; returns the output and
 * fills stats. Returns the error code (0 on success). */
static int run(const struct buf *src, size_t chunk, const struct ctr_decompress_opts *o, struct buf *out,
	       struct ctr_decompress_stats *st)
{
	struct memsrc m = {.p = src->p, .len = src->len, .chunk = chunk};
	ctr_decompress *d;
	ctr_error *err = NULL;
	assert_int_equal(ctr_decompress_new(&d, memsrc_read, &m, o, &err), 0);
	unsigned char tmp[3000];
	int rc = 0;
	for (;;) {
		ssize_t n = ctr_decompress_read(d, tmp, sizeof(tmp), &err);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		buf_add(out, tmp, (size_t)n);
	}
	if (rc == 0)
		rc = ctr_decompress_finish(d, st, &err);
	if (rc)
		assert_non_null(err);
	ctr_error_free(err);
	ctr_decompress_free(d);
	return rc;
}

static void check_roundtrip(const struct buf *comp, const unsigned char *plain, size_t n,
			    enum ctr_compression want, bool force_zlib)
{
	size_t chunks[] = {0, 1, 7, 4096};
	char dc[CTR_DIGEST_MAX], du[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, comp->p, comp->len, dc, NULL), 0);
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, plain, n, du, NULL), 0);
	for (size_t i = 0; i < CTR_ARRAY_SIZE(chunks); i++) {
		if (chunks[i] == 1 && comp->len > 200000)
			continue; /* byte-at-a-time over megabytes is just slow */
		struct ctr_decompress_opts o = {.force_zlib = force_zlib};
		struct buf out = {0};
		struct ctr_decompress_stats st;
		assert_int_equal(run(comp, chunks[i], &o, &out, &st), 0);
		assert_int_equal(out.len, n);
		assert_true(n == 0 || memcmp(out.p, plain, n) == 0);
		assert_int_equal(st.format, want);
		assert_string_equal(st.compressed_digest, dc);
		assert_string_equal(st.uncompressed_digest, du);
		assert_int_equal(st.compressed_bytes, comp->len);
		assert_int_equal(st.uncompressed_bytes, n);
		free(out.p);
	}
}

static void test_raw(void **state)
{
	(void)state;
	size_t n = 300000;
	_cleanup_free_ unsigned char *p = pattern(n, 1);
	struct buf b = {.p = p, .len = n};
	check_roundtrip(&b, p, n, CTR_COMPRESSION_NONE, false);
	/* empty and tiny (shorter than any magic) */
	struct buf e = {.p = p, .len = 0};
	check_roundtrip(&e, p, 0, CTR_COMPRESSION_NONE, false);
	struct buf t = {.p = (unsigned char *)"\x1f", .len = 1};
	check_roundtrip(&t, t.p, 1, CTR_COMPRESSION_NONE, false);
}

static void test_gzip(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	_cleanup_free_ unsigned char *p = pattern(n, 2);
	struct buf g = gzip_buf(p, n, 6);
	check_roundtrip(&g, p, n, CTR_COMPRESSION_GZIP, false);
	check_roundtrip(&g, p, n, CTR_COMPRESSION_GZIP, true);
	free(g.p);
	/* a gzip of nothing */
	struct buf z = gzip_buf("", 0, 6);
	check_roundtrip(&z, (const unsigned char *)"", 0, CTR_COMPRESSION_GZIP, false);
	check_roundtrip(&z, (const unsigned char *)"", 0, CTR_COMPRESSION_GZIP, true);
	free(z.p);
}

static void test_gzip_multimember(void **state)
{
	(void)state;
	/* Members of very different sizes, an empty one in the middle, so a
	 * member boundary falls inside the decoder's bit buffer and inside
	 * read chunks of every size. */
	size_t sizes[] = {100000, 0, 1, 5000, 77, 300000};
	struct buf all = {0}, plain = {0};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(sizes); i++) {
		_cleanup_free_ unsigned char *p = pattern(sizes[i], (unsigned)i + 10);
		struct buf g = gzip_buf(p, sizes[i], i % 2 ? 1 : 9);
		buf_add(&all, g.p, g.len);
		if (sizes[i])
			buf_add(&plain, p, sizes[i]);
		free(g.p);
	}
	check_roundtrip(&all, plain.p, plain.len, CTR_COMPRESSION_GZIP, false);
	check_roundtrip(&all, plain.p, plain.len, CTR_COMPRESSION_GZIP, true);
	free(all.p);
	free(plain.p);
}

static void test_gzip_bad(void **state)
{
	(void)state;
	size_t n = 200000;
	_cleanup_free_ unsigned char *p = pattern(n, 3);
	struct buf g = gzip_buf(p, n, 6);
	for (int zl = 0; zl < 2; zl++) {
		struct ctr_decompress_opts o = {.force_zlib = zl};
		/* truncated */
		struct buf t = {.p = g.p, .len = g.len - 5};
		struct buf out = {0};
		assert_int_equal(run(&t, 0, &o, &out, NULL), CTR_EINVAL);
		free(out.p);
		out = (struct buf){0};
		t.len = g.len / 2;
		assert_int_equal(run(&t, 1000, &o, &out, NULL), CTR_EINVAL);
		free(out.p);
		/* bad crc */
		struct buf c = {0};
		buf_add(&c, g.p, g.len);
		c.p[c.len - 6] ^= 0x55;
		out = (struct buf){0};
		assert_int_equal(run(&c, 0, &o, &out, NULL), CTR_EINVAL);
		free(out.p);
		/* trailing garbage after a complete member */
		c.p[c.len - 6] ^= 0x55;
		buf_add(&c, "garbage!", 8);
		out = (struct buf){0};
		assert_int_equal(run(&c, 0, &o, &out, NULL), CTR_EINVAL);
		free(out.p);
		free(c.p);
	}
	free(g.p);
}

static void test_zstd(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	_cleanup_free_ unsigned char *p = pattern(n, 4);
	struct buf z = zstd_buf(p, n);
	check_roundtrip(&z, p, n, CTR_COMPRESSION_ZSTD, false);
	/* two frames back to back */
	struct buf z2 = zstd_buf(p, 1000);
	struct buf both = {0}, plain = {0};
	buf_add(&both, z.p, z.len);
	buf_add(&both, z2.p, z2.len);
	buf_add(&plain, p, n);
	buf_add(&plain, p, 1000);
	check_roundtrip(&both, plain.p, plain.len, CTR_COMPRESSION_ZSTD, false);
	/* truncated */
	struct buf t = {.p = z.p, .len = z.len - 3};
	struct buf out = {0};
	assert_int_equal(run(&t, 0, NULL, &out, NULL), CTR_EINVAL);
	free(out.p);
	free(z.p);
	free(z2.p);
	free(both.p);
	free(plain.p);
}

static struct buf zstd_stream_zeros(size_t total, int window_log)
{
	struct buf b = {0};
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
	if (window_log)
		ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
	static unsigned char zeros[1 << 20];
	unsigned char out[65536];
	for (size_t done = 0; done < total; done += sizeof(zeros)) {
		ZSTD_inBuffer in = {zeros, sizeof(zeros), 0};
		bool last = done + sizeof(zeros) >= total;
		size_t r;
		do {
			ZSTD_outBuffer ob = {out, sizeof(out), 0};
			r = ZSTD_compressStream2(c, &ob, &in, last ? ZSTD_e_end : ZSTD_e_continue);
			assert_false(ZSTD_isError(r));
			buf_add(&b, out, ob.pos);
		} while (last ? r != 0 : in.pos < in.size);
	}
	ZSTD_freeCCtx(c);
	return b;
}

static void test_zstd_window_limit(void **state)
{
	(void)state;
	/* Streamed without a pledged size, the frame declares a 2^28 window:
	 * more than the default limit of 2^27, so it is refused before any
	 * memory is spent on it. */
	struct buf z = zstd_stream_zeros(2 << 20, 28);
	struct buf out = {0};
	assert_int_equal(run(&z, 0, NULL, &out, NULL), CTR_EINVAL);
	assert_int_equal(out.len, 0);
	free(out.p);
	/* and accepted when the caller allows it */
	struct ctr_decompress_opts o = {.zstd_window_log_max = 28, .max_ratio = 1000000};
	out = (struct buf){0};
	struct ctr_decompress_stats st;
	assert_int_equal(run(&z, 0, &o, &out, &st), 0);
	assert_int_equal(out.len, 2 << 20);
	free(out.p);
	free(z.p);
}

static void test_bomb(void **state)
{
	(void)state;
	/* zstd: 256 MiB of zeros in a few KiB, far above the default ratio. */
	struct buf z = zstd_stream_zeros(256u << 20, 0);
	assert_true(z.len < 64 * 1024);
	struct memsrc m = {.p = z.p, .len = z.len};
	ctr_decompress *d;
	ctr_error *err = NULL;
	assert_int_equal(ctr_decompress_new(&d, memsrc_read, &m, NULL, &err), 0);
	unsigned char tmp[65536];
	uint64_t total = 0;
	ssize_t n;
	while ((n = ctr_decompress_read(d, tmp, sizeof(tmp), &err)) > 0)
		total += (uint64_t)n;
	assert_int_equal(n, CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "bomb"));
	assert_true(total < (64u << 20)); /* stopped early, not after 256 MiB */
	/* the stream stays failed */
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_decompress_read(d, tmp, sizeof(tmp), &err), CTR_EINVAL);
	ctr_error_free(err);
	ctr_decompress_free(d);
	free(z.p);

	/* gzip with a caller ratio, both backends */
	size_t gn = 8u << 20;
	unsigned char *zeros = calloc(1, gn);
	struct buf g = gzip_buf(zeros, gn, 9);
	free(zeros);
	for (int zl = 0; zl < 2; zl++) {
		struct ctr_decompress_opts o = {.max_ratio = 100, .force_zlib = zl};
		struct buf out = {0};
		assert_int_equal(run(&g, 0, &o, &out, NULL), CTR_EINVAL);
		assert_true(out.len < gn);
		free(out.p);
	}
	free(g.p);

	/* the size bound applies to raw streams too */
	size_t rn = 2u << 20;
	_cleanup_free_ unsigned char *p = pattern(rn, 5);
	struct buf r = {.p = p, .len = rn};
	struct ctr_decompress_opts o = {.max_output = 1u << 20};
	struct buf out = {0};
	assert_int_equal(run(&r, 0, &o, &out, NULL), CTR_EINVAL);
	assert_true(out.len <= (1u << 20) + 65536);
	free(out.p);
}

static void test_source_error(void **state)
{
	(void)state;
	size_t n = 100000;
	_cleanup_free_ unsigned char *p = pattern(n, 6);
	struct buf g = gzip_buf(p, n, 6);
	struct memsrc m = {.p = g.p, .len = g.len, .chunk = 1000, .fail_at = 3000};
	ctr_decompress *d;
	ctr_error *err = NULL;
	assert_int_equal(ctr_decompress_new(&d, memsrc_read, &m, NULL, &err), 0);
	struct ctr_decompress_stats st;
	assert_int_equal(ctr_decompress_finish(d, &st, &err), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(err), "test source failed"));
	ctr_error_free(err);
	ctr_decompress_free(d);
	free(g.p);
}

/* The pull path in one pass: gzip(tar) -> decompress -> apply. The diff_id
 * that apply reports is the uncompressed digest, and the blob digest is
 * the digest of the compressed bytes. */
static void test_pipeline(void **state)
{
	(void)state;
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	tarb_dir(&t, "etc/");
	tarb_file(&t, "etc/hostname", "pipeline\n");
	struct buf tar = tarb_finish(&t);
	struct buf g = gzip_buf(tar.p, tar.len, 6);
	char want_blob[CTR_DIGEST_MAX], want_diff[CTR_DIGEST_MAX];
	ctr_digest_buf(CTR_DIGEST_SHA256, g.p, g.len, want_blob, NULL);
	ctr_digest_buf(CTR_DIGEST_SHA256, tar.p, tar.len, want_diff, NULL);

	char dir[] = "/tmp/ctr-decomp-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct memsrc m = {.p = g.p, .len = g.len, .chunk = 333};
	ctr_decompress *d;
	ctr_error *err = NULL;
	assert_int_equal(ctr_decompress_new(&d, memsrc_read, &m, NULL, &err), 0);
	struct ctr_apply_stats as;
	assert_int_equal(ctr_archive_apply(dfd, ctr_decompress_read, d, NULL, &as, &err), 0);
	struct ctr_decompress_stats ds;
	assert_int_equal(ctr_decompress_finish(d, &ds, &err), 0);
	assert_string_equal(as.diff_id, want_diff);
	assert_string_equal(ds.uncompressed_digest, want_diff);
	assert_string_equal(ds.compressed_digest, want_blob);
	assert_int_equal(as.tar_bytes, tar.len);
	char *c = NULL;
	int rfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(ctr_read_file(rfd, "etc/hostname", 100, &c, NULL, NULL), CTR_OK);
	assert_string_equal(c, "pipeline\n");
	free(c);
	close(rfd);
	close(dfd);
	ctr_decompress_free(d);
	ctr_rm_rf_at(AT_FDCWD, dir, NULL);
	free(g.p);
	free(tar.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_gzip_multimember),
		cmocka_unit_test(test_gzip_bad),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_zstd_window_limit),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_source_error),
		cmocka_unit_test(test_pipeline),
	};
	printf("gzip backend: %s\n", HAVE_ISAL ? "ISA-L (and zlib forced)" : "zlib");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
