/* Writing a layer: the changes of a snapshot as an OCI layer tar (with
 * whiteouts), compressed with gzip or zstd, hashed on both sides. */
#ifndef CTR_ARCHIVE_DIFF_H
#define CTR_ARCHIVE_DIFF_H

#include <ctr/common.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

/* A byte sink: writes all of buf or returns a negative CTR_E* code. */
typedef int (*ctr_diff_write_fn)(void *ud, const void *buf, size_t len, ctr_error **err);

enum ctr_diff_source {
	/* upper_fd is an overlay upper dir: whiteout devices (0:0 char) become
	 * ".wh.NAME" and trusted.overlay.opaque=y dirs get ".wh..wh..opq". */
	CTR_DIFF_OVERLAY_UPPER = 0,
	/* Compare upper_fd (the new tree) with lower_fd (the parent tree; -1 for
	 * none, which makes the whole tree one layer). What lower has and upper
	 * lacks becomes ".wh.NAME". */
	CTR_DIFF_COMPARE = 1,
};

enum ctr_diff_compression { CTR_DIFF_NONE = 0, CTR_DIFF_GZIP, CTR_DIFF_ZSTD };

struct ctr_diff_opts {
	enum ctr_diff_source source;
	enum ctr_diff_compression compression;
	int level; /* 0: the library default for the format */
};

struct ctr_diff_result {
	char digest[CTR_DIGEST_MAX];  /* sha256 of the bytes written (the blob) */
	char diff_id[CTR_DIGEST_MAX]; /* sha256 of the uncompressed tar */
	uint64_t size;                /* bytes written */
	uint64_t entries;
};

/* Walks the trees in name order (so equal trees give equal bytes) and
 * writes a PAX tar with owners, modes, mtimes, xattrs (user.*,
 * security.capability), symlinks, hardlinks inside the diff, devices and
 * fifos. Never follows symlinks. out is written only on success. */
int ctr_diff_write(int lower_fd, int upper_fd, const struct ctr_diff_opts *opts,
		   ctr_diff_write_fn write, void *ud, struct ctr_diff_result *out, ctr_error **err);

#endif
