/* lib/archive: OCI layer tar streams. Internal API (no public header yet).
 *
 *   source bytes --> ctr_decompress (gzip / zstd / raw, digests, bomb guard)
 *                --> ctr_archive_apply (tar --> layer directory, diff_id)
 *
 * Both ends are pull-style read callbacks so the pull path can feed HTTP
 * bytes without a temporary file: ctr_decompress_read has the
 * ctr_archive_read_fn signature and can be handed straight to apply. */
#ifndef CTR_ARCHIVE_ARCHIVE_H
#define CTR_ARCHIVE_ARCHIVE_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

/* A byte source. Fills up to len bytes of buf and returns how many (> 0),
 * 0 at end of stream, or a negative CTR_E* code with *err filled. The
 * source is also where a caller counts progress and cancels: returning
 * CTR_ECANCELED stops apply with that code. */
typedef ssize_t (*ctr_archive_read_fn)(void *ud, void *buf, size_t len, ctr_error **err);

/* A ctr_archive_read_fn over a file (a blob), read with pread from off on;
 * `what` names it in errors. */
struct ctr_archive_fd_src {
	int fd;
	uint64_t off;
	const char *what;
};
ssize_t ctr_archive_fd_read(void *ud, void *buf, size_t len, ctr_error **err);

/* ---- apply ------------------------------------------------------------- */

enum ctr_whiteout_mode {
	/* Overlay upper/lower dir: ".wh.NAME" becomes a 0:0 character device
	 * NAME and ".wh..wh..opq" sets trusted.overlay.opaque=y on its dir. */
	CTR_WHITEOUT_OVERLAY = 0,
	/* Applying onto a copy of the parent (native snapshotter): ".wh.NAME"
	 * removes NAME recursively and ".wh..wh..opq" removes everything in its
	 * dir that this layer did not create. */
	CTR_WHITEOUT_DELETE = 1,
};

struct ctr_apply_opts {
	enum ctr_whiteout_mode whiteouts;
	/* Worker threads that create regular files: 0 picks the default (2:
	 * measured best on a 2-core machine, see tests/bench/bench-apply.c),
	 * 1 writes everything from the reader thread, at most 8. */
	unsigned workers;
	/* Never chown (also implied when not running as root: files then
	 * belong to the caller, as with GNU tar run by a user; security.* and
	 * trusted.* xattrs the kernel refuses to a user are dropped too). */
	bool no_chown;
	/* Also set xattrs outside user.* and security.capability (trusted.*,
	 * security.*, system.*). trusted.overlay.* is never taken from a layer:
	 * it would let a layer steer overlayfs (redirects, metacopy). */
	bool all_xattrs;
	/* Bounds of the worker queue: a file up to max_buffered_file bytes is
	 * read into memory and handed to a worker; bigger ones are written by
	 * the reader. At most max_in_flight bytes wait for workers. 0: 1 MiB
	 * and 32 MiB. */
	size_t max_buffered_file;
	size_t max_in_flight;
};

struct ctr_apply_stats {
	char diff_id[CTR_DIGEST_MAX]; /* sha256 of the tar stream as read */
	uint64_t tar_bytes;           /* bytes of the tar stream (to EOF) */
	uint64_t entries;             /* tar entries read (whiteouts included) */
	uint64_t file_bytes;          /* regular-file content bytes written */
};

/* Unpacks the tar stream that read() yields into layer_dirfd (an O_PATH or
 * O_RDONLY directory fd; the directory is treated as "/").
 *
 * Names are cleaned like containerd does (archive/tar.go applyNaive): a
 * leading "/" and ".." components are resolved lexically against the layer
 * root, so "../../x" and "/x" land at "x" inside the layer; intermediate
 * symlinks already in the layer are followed, but only inside the layer
 * (openat2 RESOLVE_IN_ROOT). The final component is never followed. An
 * entry that names the root itself is ignored when it is a directory and
 * refused otherwise. Hardlink targets are resolved the same way and must
 * exist in the layer and not be a directory.
 *
 * The stream is always read to EOF so stats->diff_id covers every byte.
 * stats (may be NULL) is written only on success.
 *
 * Errors: CTR_EINVAL naming the entry for a malformed or refused entry
 * (bad whiteout name, non-directory at the root, hardlink to a directory or
 * to itself, names too long) or a corrupt tar; CTR_ENOTFOUND when a hardlink
 * target is not in the layer (a parent layer may hold it: the caller copies
 * it up); CTR_EPERM when not allowed (device nodes without CAP_MKNOD); the
 * reader's own code when read() fails. On error the layer directory holds a
 * partial tree: the caller removes it (nothing outside it was touched). */
int ctr_archive_apply(int layer_dirfd, ctr_archive_read_fn read, void *ud,
		      const struct ctr_apply_opts *opts, struct ctr_apply_stats *stats,
		      ctr_error **err);

/* Reads the tar stream to its end-of-archive and lists the hardlink
 * targets (cleaned as apply cleans them) that no earlier entry of the
 * stream creates: a parent layer must supply them. *out is NULL-terminated
 * (NULL when there are none); the caller frees each string and the array.
 * Errors: CTR_EINVAL for a corrupt tar, the reader's own code. */
int ctr_archive_missing_link_targets(char ***out, size_t *n_out, ctr_archive_read_fn read, void *ud,
				     ctr_error **err);

/* ---- reading entries ------------------------------------------------------ */

/* One tar entry as ctr_archive_each hands it over. name is cleaned as apply
 * cleans names ("" is the root); link is the cleaned hardlink target or the
 * raw symlink target (NULL otherwise). */
struct ctr_archive_entry {
	const char *name;
	mode_t type; /* S_IFREG, S_IFDIR, S_IFLNK, ...; S_IFREG for a hardlink too */
	bool hardlink;
	const char *link;
	mode_t perm; /* the mode's 07777 bits */
	int64_t size;
	int64_t mtime;
};
/* The data of the entry being visited. */
typedef struct ctr_archive_data ctr_archive_data;
/* Reads up to len bytes of the entry's data: > 0, 0 at its end, or a
 * negative CTR_E* code (CTR_EINVAL for a corrupt tar). */
ssize_t ctr_archive_data_read(ctr_archive_data *d, void *buf, size_t len, ctr_error **err);
/* Called for each entry in stream order; a negative return stops the walk
 * with that code. Data left unread is skipped. */
typedef int (*ctr_archive_entry_fn)(void *ud, const struct ctr_archive_entry *e, ctr_archive_data *d,
				    ctr_error **err);
/* Reads the tar stream to its end-of-archive, calling fn per entry.
 * Errors: CTR_EINVAL for a corrupt tar, the reader's or fn's own code. */
int ctr_archive_each(ctr_archive_read_fn read, void *ud, ctr_archive_entry_fn fn, void *fn_ud,
		     ctr_error **err);

/* ---- decompression ------------------------------------------------------- */

enum ctr_compression {
	CTR_COMPRESSION_AUTO = 0, /* by magic bytes: gzip, zstd, else raw */
	CTR_COMPRESSION_NONE,
	CTR_COMPRESSION_GZIP,
	CTR_COMPRESSION_ZSTD,
};

struct ctr_decompress_opts {
	enum ctr_compression format;
	/* Guard against decompression bombs: the stream fails with CTR_EINVAL
	 * once the output exceeds max_output bytes, or exceeds
	 * max_ratio * (compressed bytes consumed) + 1 MiB. 0 picks the defaults:
	 * 64 GiB and 1100 (deflate cannot exceed 1032:1). */
	uint64_t max_output;
	uint32_t max_ratio;
	/* zstd window limit (log2); 0: 27 (128 MiB), the zstd CLI's default. */
	unsigned zstd_window_log_max;
	/* Tests: use zlib even when ISA-L is built in. */
	bool force_zlib;
};

struct ctr_decompress_stats {
	enum ctr_compression format; /* what was detected */
	char compressed_digest[CTR_DIGEST_MAX];   /* sha256 of the source bytes */
	char uncompressed_digest[CTR_DIGEST_MAX]; /* sha256 of the output */
	uint64_t compressed_bytes;
	uint64_t uncompressed_bytes;
};

typedef struct ctr_decompress ctr_decompress;

/* src is read lazily (nothing is read until the first ctr_decompress_read).
 * opts may be NULL. */
int ctr_decompress_new(ctr_decompress **out, ctr_archive_read_fn src, void *src_ud,
		       const struct ctr_decompress_opts *opts, ctr_error **err);

/* A ctr_archive_read_fn: ud is the ctr_decompress. Returns 0 only once the
 * source is at EOF and the compressed stream ended cleanly; a truncated
 * stream, a bad checksum or trailing garbage is CTR_EINVAL, the guard
 * CTR_EINVAL, the source's own errors pass through. */
ssize_t ctr_decompress_read(void *ud, void *buf, size_t len, ctr_error **err);

/* Reads whatever output is left (discarding it) until EOF, then fills
 * stats. Fails like ctr_decompress_read. */
int ctr_decompress_finish(ctr_decompress *d, struct ctr_decompress_stats *stats, ctr_error **err);

void ctr_decompress_free(ctr_decompress *d);

#endif
