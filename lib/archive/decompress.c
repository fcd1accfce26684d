/* Layer decompression front end: detects gzip / zstd / raw by magic bytes,
 * inflates with ISA-L (zlib where it is missing) or libzstd, hashes both
 * sides in the same pass and refuses decompression bombs. */
#include "config.h"

#include "layer-archive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#if HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "error.h"
#include "macro.h"

#define IN_SIZE (128u * 1024)
/* Consumed bytes kept in front of the read position: ISA-L may hold up to 8
 * bytes of the next gzip member in its bit buffer when a member ends, and we
 * hand them back by rewinding. */
#define LOOKBACK 16u
#define GUARD_SLACK (1u << 20)

struct ctr_decompress {
	ctr_archive_read_fn src;
	void *src_ud;
	struct ctr_decompress_opts o;
	enum ctr_compression fmt;
	bool detected;
	ctr_hasher *hc, *hu;
	uint64_t cin, uout;
	unsigned char *in;
	size_t in_pos, in_end;
	bool src_eof;
	bool done;   /* clean end: source at EOF and the last frame complete */
	int failed;  /* sticky error code once failed */
	bool member_end; /* gzip: between members */
	bool zstd_frame_done;
#if HAVE_ISAL
	struct inflate_state *isal;
#endif
	bool use_isal;
	z_stream z;
	bool z_init;
	ZSTD_DStream *zs;
};

static int fail(ctr_decompress *d, ctr_error **err, int code, const char *what)
{
	d->failed = code;
	return ctr_err(err, code, 0, "decompress: %s", what);
}

/* Makes at least one unread byte available unless the source is at EOF.
 * Returns 1 when bytes are available, 0 at EOF, < 0 on error. */
static int fill(ctr_decompress *d, ctr_error **err)
{
	if (d->in_pos < d->in_end)
		return 1;
	if (d->src_eof)
		return 0;
	size_t keep = d->in_pos < LOOKBACK ? d->in_pos : LOOKBACK;
	memmove(d->in, d->in + d->in_pos - keep, keep);
	d->in_pos = d->in_end = keep;
	for (;;) {
		ssize_t n = d->src(d->src_ud, d->in + d->in_end, IN_SIZE - d->in_end, err);
		if (n < 0) {
			d->failed = (int)n;
			return (int)n;
		}
		if (n == 0) {
			d->src_eof = true;
			return 0;
		}
		ctr_hasher_update(d->hc, d->in + d->in_end, (size_t)n);
		d->cin += (uint64_t)n;
		d->in_end += (size_t)n;
		return 1;
	}
}

/* Reads until at least want unread bytes are buffered or EOF. */
static int fill_at_least(ctr_decompress *d, size_t want, ctr_error **err)
{
	while (d->in_end - d->in_pos < want && !d->src_eof) {
		if (d->in_pos == d->in_end) {
			int r = fill(d, err);
			if (r < 0)
				return r;
			continue;
		}
		/* Partial: append without dropping the unread bytes. */
		if (d->in_end == IN_SIZE) {
			memmove(d->in, d->in + d->in_pos, d->in_end - d->in_pos);
			d->in_end -= d->in_pos;
			d->in_pos = 0;
		}
		ssize_t n = d->src(d->src_ud, d->in + d->in_end, IN_SIZE - d->in_end, err);
		if (n < 0) {
			d->failed = (int)n;
			return (int)n;
		}
		if (n == 0) {
			d->src_eof = true;
			break;
		}
		ctr_hasher_update(d->hc, d->in + d->in_end, (size_t)n);
		d->cin += (uint64_t)n;
		d->in_end += (size_t)n;
	}
	return 0;
}

static int gzip_init(ctr_decompress *d, ctr_error **err)
{
#if HAVE_ISAL
	if (!d->o.force_zlib) {
		d->isal = calloc(1, sizeof(*d->isal));
		if (!d->isal)
			return ctr_err_nomem(err);
		isal_inflate_init(d->isal);
		d->isal->crc_flag = ISAL_GZIP;
		d->use_isal = true;
		return 0;
	}
#endif
	memset(&d->z, 0, sizeof(d->z));
	if (inflateInit2(&d->z, 15 + 16) != Z_OK)
		return ctr_err_nomem(err);
	d->z_init = true;
	return 0;
}

static void gzip_reset(ctr_decompress *d)
{
#if HAVE_ISAL
	if (d->use_isal) {
		isal_inflate_reset(d->isal);
		d->isal->crc_flag = ISAL_GZIP;
		return;
	}
#endif
	inflateReset(&d->z);
}

static int detect(ctr_decompress *d, ctr_error **err)
{
	int r = fill_at_least(d, 4, err);
	if (r < 0)
		return r;
	const unsigned char *p = d->in + d->in_pos;
	size_t n = d->in_end - d->in_pos;
	enum ctr_compression f = d->o.format;
	if (f == CTR_COMPRESSION_AUTO) {
		if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
			f = CTR_COMPRESSION_GZIP;
		else if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
			f = CTR_COMPRESSION_ZSTD;
		else
			f = CTR_COMPRESSION_NONE;
	}
	d->fmt = f;
	d->detected = true;
	if (f == CTR_COMPRESSION_GZIP) {
		if (n == 0)
			return fail(d, err, CTR_EINVAL, "gzip: empty stream");
		return gzip_init(d, err);
	}
	if (f == CTR_COMPRESSION_ZSTD) {
		if (n == 0)
			return fail(d, err, CTR_EINVAL, "zstd: empty stream");
		d->zs = ZSTD_createDStream();
		if (!d->zs)
			return ctr_err_nomem(err);
		unsigned wl = d->o.zstd_window_log_max ? d->o.zstd_window_log_max : 27;
		if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, (int)wl)))
			return fail(d, err, CTR_EINVAL, "zstd: bad window limit");
		d->zstd_frame_done = true;
	}
	return 0;
}

/* One step of gzip decoding into out. Returns bytes produced (may be 0
 * while input is consumed), or < 0. Sets d->done at a clean end. */
static ssize_t gzip_step(ctr_decompress *d, unsigned char *out, size_t len, ctr_error **err)
{
	if (d->member_end) {
		int r = fill(d, err);
		if (r < 0)
			return r;
		if (r == 0) {
			d->done = true;
			return 0;
		}
		/* Another member follows (multi-member gzip, as pigz and
		 * concatenated layers make). Anything else is garbage, which
		 * the decoder rejects as a bad header. */
		gzip_reset(d);
		d->member_end = false;
	}
	int r = fill(d, err);
	if (r < 0)
		return r;
	bool eof = (r == 0);
	if (len > (1u << 30))
		len = 1u << 30;
#if HAVE_ISAL
	if (d->use_isal) {
		struct inflate_state *s = d->isal;
		s->next_in = d->in + d->in_pos;
		s->avail_in = (uint32_t)(d->in_end - d->in_pos);
		s->next_out = out;
		s->avail_out = (uint32_t)len;
		int ret = isal_inflate(s);
		d->in_pos = (size_t)(s->next_in - d->in);
		size_t produced = len - s->avail_out;
		if (ret != ISAL_DECOMP_OK)
			return fail(d, err, CTR_EINVAL, ret == ISAL_INCORRECT_CHECKSUM ? "gzip: checksum mismatch"
										    : "gzip: corrupt stream");
		if (s->block_state == ISAL_BLOCK_FINISH) {
			/* Hand back whole bytes still in the bit buffer: they
			 * belong to whatever follows this member. */
			size_t back = (size_t)s->read_in_length / 8;
			if (back > d->in_pos)
				return fail(d, err, CTR_EIO, "gzip: lost member boundary");
			d->in_pos -= back;
			s->read_in = 0;
			s->read_in_length = 0;
			d->member_end = true;
		} else if (eof && produced == 0) {
			return fail(d, err, CTR_EINVAL, "gzip: truncated stream");
		}
		return (ssize_t)produced;
	}
#endif
	d->z.next_in = d->in + d->in_pos;
	d->z.avail_in = (uInt)(d->in_end - d->in_pos);
	d->z.next_out = out;
	d->z.avail_out = (uInt)len;
	int ret = inflate(&d->z, Z_NO_FLUSH);
	d->in_pos = (size_t)(d->z.next_in - d->in);
	size_t produced = len - d->z.avail_out;
	if (ret == Z_STREAM_END) {
		d->member_end = true;
		return (ssize_t)produced;
	}
	if (ret == Z_MEM_ERROR)
		return ctr_err_nomem(err);
	if (ret != Z_OK && !(ret == Z_BUF_ERROR && !eof))
		return fail(d, err, CTR_EINVAL, ret == Z_BUF_ERROR ? "gzip: truncated stream" : "gzip: corrupt stream");
	if (eof && produced == 0)
		return fail(d, err, CTR_EINVAL, "gzip: truncated stream");
	return (ssize_t)produced;
}

static ssize_t zstd_step(ctr_decompress *d, unsigned char *out, size_t len, ctr_error **err)
{
	int r = fill(d, err);
	if (r < 0)
		return r;
	ZSTD_inBuffer ib = {d->in + d->in_pos, d->in_end - d->in_pos, 0};
	ZSTD_outBuffer ob = {out, len, 0};
	if (r == 0 && ib.size == 0) {
		/* EOF: only clean after a complete frame. zstd may still hold
		 * output of a complete frame; flush it first. */
		size_t ret = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(ret))
			return fail(d, err, CTR_EINVAL, "zstd: corrupt stream");
		if (ob.pos > 0) {
			d->zstd_frame_done = (ret == 0);
			return (ssize_t)ob.pos;
		}
		if (!d->zstd_frame_done)
			return fail(d, err, CTR_EINVAL, "zstd: truncated stream");
		d->done = true;
		return 0;
	}
	size_t ret = ZSTD_decompressStream(d->zs, &ob, &ib);
	d->in_pos += ib.pos;
	if (ZSTD_isError(ret)) {
		if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
			return fail(d, err, CTR_EINVAL, "zstd: window larger than the limit");
		if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
			return ctr_err_nomem(err);
		return fail(d, err, CTR_EINVAL, "zstd: corrupt stream");
	}
	d->zstd_frame_done = (ret == 0);
	return (ssize_t)ob.pos;
}

int ctr_decompress_new(ctr_decompress **out, ctr_archive_read_fn src, void *src_ud,
		       const struct ctr_decompress_opts *opts, ctr_error **err)
{
	if (!src)
		return ctr_err(err, CTR_EINVAL, 0, "decompress: no source");
	ctr_decompress *d = calloc(1, sizeof(*d));
	if (!d)
		return ctr_err_nomem(err);
	d->src = src;
	d->src_ud = src_ud;
	if (opts)
		d->o = *opts;
	if (!d->o.max_output)
		d->o.max_output = 64ull << 30;
	if (!d->o.max_ratio)
		d->o.max_ratio = 1100;
	d->in = malloc(IN_SIZE);
	int r = d->in ? 0 : ctr_err_nomem(err);
	if (r == 0)
		r = ctr_hasher_new(&d->hc, CTR_DIGEST_SHA256, err);
	if (r == 0)
		r = ctr_hasher_new(&d->hu, CTR_DIGEST_SHA256, err);
	if (r < 0) {
		ctr_decompress_free(d);
		return r;
	}
	*out = d;
	return 0;
}

static int guard(ctr_decompress *d, ctr_error **err)
{
	if (d->uout > d->o.max_output) {
		d->failed = CTR_EINVAL;
		return ctr_err(err, CTR_EINVAL, 0, "decompress: output exceeds %llu bytes",
			       (unsigned long long)d->o.max_output);
	}
	if (d->fmt != CTR_COMPRESSION_NONE &&
	    d->uout > (uint64_t)d->o.max_ratio * d->cin + GUARD_SLACK) {
		d->failed = CTR_EINVAL;
		return ctr_err(err, CTR_EINVAL, 0,
			       "decompress: ratio above %u:1 (%llu bytes from %llu): refusing a decompression bomb",
			       d->o.max_ratio, (unsigned long long)d->uout, (unsigned long long)d->cin);
	}
	return 0;
}

ssize_t ctr_decompress_read(void *ud, void *buf, size_t len, ctr_error **err)
{
	ctr_decompress *d = ud;
	if (d->failed)
		return ctr_err(err, d->failed, 0, "decompress: stream already failed");
	if (len == 0)
		return 0;
	if (!d->detected) {
		int r = detect(d, err);
		if (r < 0) {
			d->failed = r;
			return r;
		}
	}
	for (;;) {
		if (d->done)
			return 0;
		ssize_t n;
		if (d->fmt == CTR_COMPRESSION_NONE) {
			if (d->in_pos < d->in_end) {
				size_t k = d->in_end - d->in_pos;
				n = (ssize_t)(k < len ? k : len);
				memcpy(buf, d->in + d->in_pos, (size_t)n);
				d->in_pos += (size_t)n;
			} else if (d->src_eof) {
				n = 0;
			} else {
				n = d->src(d->src_ud, buf, len, err);
				if (n < 0) {
					d->failed = (int)n;
					return n;
				}
				if (n == 0)
					d->src_eof = true;
				ctr_hasher_update(d->hc, buf, (size_t)n);
				d->cin += (uint64_t)n;
			}
			if (n == 0) {
				d->done = true;
				return 0;
			}
		} else if (d->fmt == CTR_COMPRESSION_GZIP) {
			n = gzip_step(d, buf, len, err);
		} else {
			n = zstd_step(d, buf, len, err);
		}
		if (n < 0) {
			if (!d->failed)
				d->failed = (int)n;
			return n;
		}
		if (n == 0)
			continue;
		ctr_hasher_update(d->hu, buf, (size_t)n);
		d->uout += (uint64_t)n;
		int r = guard(d, err);
		if (r < 0)
			return r;
		return n;
	}
}

int ctr_decompress_finish(ctr_decompress *d, struct ctr_decompress_stats *stats, ctr_error **err)
{
	_cleanup_free_ unsigned char *buf = malloc(64 * 1024);
	if (!buf)
		return ctr_err_nomem(err);
	for (;;) {
		ssize_t n = ctr_decompress_read(d, buf, 64 * 1024, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
	}
	if (stats) {
		stats->format = d->fmt;
		ctr_hasher_peek(d->hc, stats->compressed_digest);
		ctr_hasher_peek(d->hu, stats->uncompressed_digest);
		stats->compressed_bytes = d->cin;
		stats->uncompressed_bytes = d->uout;
	}
	return 0;
}

void ctr_decompress_free(ctr_decompress *d)
{
	if (!d)
		return;
#if HAVE_ISAL
	free(d->isal);
#endif
	if (d->z_init)
		inflateEnd(&d->z);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	ctr_hasher_free(d->hc);
	ctr_hasher_free(d->hu);
	free(d->in);
	free(d);
}

ssize_t ctr_archive_fd_read(void *ud, void *buf, size_t len, ctr_error **err)
{
	struct ctr_archive_fd_src *s = ud;
	for (;;) {
		ssize_t n = pread(s->fd, buf, len, (off_t)s->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctr_err_errno(err, errno, "read layer %s", s->what);
		s->off += (uint64_t)n;
		return n;
	}
}
