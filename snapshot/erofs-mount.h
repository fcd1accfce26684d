/* Mounting EROFS layer images (snapshot/erofs-mount.c). */
#ifndef CTR_SNAPSHOT_EROFS_MOUNT_H
#define CTR_SNAPSHOT_EROFS_MOUNT_H

#include <ctr/common.h>
#include <stdbool.h>

/* Mounts the EROFS image file read-only on target: file-backed where the
 * kernel can (*file_backed true, may be NULL), else through a loop device
 * that goes with the mount. CTR_EPERM without privilege, CTR_EINVAL for
 * an image the kernel refuses, CTR_ENOTSUP when there is no EROFS. */
int ctr_erofs_mount(const char *image, const char *target, bool *file_backed, ctr_error **err);

#endif
