#ifndef CTR_SNAPSHOT_COPY_H
#define CTR_SNAPSHOT_COPY_H

#include <ctr/common.h>

/* Copies the tree under src_fd into dst_fd (an existing empty dir) keeping
 * types, modes, owners, times, xattrs, hardlinks; never follows symlinks.
 * Data goes through copy_file_range (reflinks where the fs can). */
int ctr_copy_tree(int src_fd, int dst_fd, ctr_error **err);

/* Copies one non-directory `path` (clean, relative) from the tree at
 * src_root into dst_root, creating the directories on the way with the
 * source's metadata (an overlay copy-up). Nothing is replaced: an existing
 * entry in dst is left alone. Never follows symlinks in src. CTR_ENOTFOUND
 * when src has no such entry, CTR_EINVAL for a directory. */
int ctr_copy_up(int src_root, int dst_root, const char *path, ctr_error **err);
#endif
