/* lib/archive: an OCI layer tar stream written as one EROFS image, never
 * as files on the host. Internal API.
 *
 *   source bytes --> ctr_decompress --> ctr_archive_apply_erofs --> image fd
 *
 * The image is uncompressed EROFS (the kernel's
 * Documentation/filesystems/erofs.rst): 4 KiB blocks, extended (64-byte)
 * inodes so that every inode keeps its own mtime, inline xattrs, and
 * FLAT_PLAIN data. File data is spooled to the image as the tar streams, in
 * whole blocks from block 1 on; the directories, symlink targets and
 * inodes go after the data at the end, from a tree held in memory. Memory
 * is bounded by the metadata (names, modes, xattrs), never by file data.
 *
 * Names are cleaned and resolved exactly as ctr_archive_apply does in
 * overlay mode (layer-archive.h): the same refusals with the same codes,
 * symlinks of the layer followed only inside the layer, whiteouts in
 * overlayfs's form (".wh.NAME": a 0:0 char device NAME, ".wh..wh..opq":
 * trusted.overlay.opaque=y on its directory). Device nodes need no
 * privilege here (they are only recorded). */
#ifndef CTR_ARCHIVE_EROFS_H
#define CTR_ARCHIVE_EROFS_H

#include <ctr/common.h>

#include "layer-archive.h"

#define CTR_EROFS_MAGIC 0xE0F5E1E2u
#define CTR_EROFS_BLKBITS 12
#define CTR_EROFS_BLKSZ (1u << CTR_EROFS_BLKBITS)
#define CTR_EROFS_SB_OFFSET 1024

/* Writes the layer that read() yields as an EROFS image into image_fd (an
 * empty regular file opened for writing; it is written from offset 0 and
 * truncated to the image's size). opts: whiteouts must be
 * CTR_WHITEOUT_OVERLAY; all_xattrs and no_chown as for ctr_archive_apply
 * (no_chown records the caller's uid and gid); workers and the buffering
 * bounds are ignored. stats as for ctr_archive_apply (file_bytes counts
 * the regular files' data). lower_root (-1: none) is a directory fd on
 * the parent layers' merged tree: a hardlink whose target is not in the
 * layer takes it from there, copied into the image first (overlayfs's
 * copy-up); without it such a link is CTR_ENOTFOUND.
 *
 * Errors: those of ctr_archive_apply for the same stream (CTR_EINVAL
 * naming the entry, CTR_ENOTFOUND for a hardlink target that is not in
 * the layer), CTR_EINVAL when the image would pass EROFS's limits (16 TiB
 * of blocks, 64 KiB of xattrs on one inode), CTR_EIO when writing fails.
 * On error image_fd holds garbage: the caller removes the file. */
int ctr_archive_apply_erofs(int image_fd, int lower_root, ctr_archive_read_fn read, void *ud,
			    const struct ctr_apply_opts *opts, struct ctr_apply_stats *stats,
			    ctr_error **err);

#endif
