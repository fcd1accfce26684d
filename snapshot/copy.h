#ifndef CTR_SNAPSHOT_COPY_H
#define CTR_SNAPSHOT_COPY_H

#include <ctr/common.h>

/* Copies the tree under src_fd into dst_fd (an existing empty dir) keeping
 * types, modes, owners, times, xattrs, hardlinks; never follows symlinks.
 * Data goes through copy_file_range (reflinks where the fs can). */
int ctr_copy_tree(int src_fd, int dst_fd, ctr_error **err);

#endif
