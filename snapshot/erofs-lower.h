/* The erofs snapshotter's layers (snapshot/erofs-lower.c): a committed
 * layer is the image <id>/layer.erofs, mounted read-only at <id>/lower the
 * first time a snapshot stacks on it and unmounted when the layer is
 * removed. The mount point belongs to the layer's own directory, so
 * whatever a crash leaves mounted is found by the directory's name: a
 * layer that still has its record keeps (or gets back) its mount; an
 * orphan's is unmounted by cleanup before the directory goes. */
#ifndef CTR_SNAPSHOT_EROFS_LOWER_H
#define CTR_SNAPSHOT_EROFS_LOWER_H

#include <ctr/common.h>
#include <stdint.h>

#include "snapshotter.h"

#define CTR_EROFS_LAYER_IMAGE "layer.erofs"

/* *path: where snapshot id of the store at dir shows as a lower, mounted
 * now if it was not (under <id>/mount.lock, so two processes mount it
 * once); NULL when the snapshot has no image (its fs is the lower).
 * Errors: ctr_erofs_mount's. */
int ctr_erofs_lower_path(const char *dir, int64_t id, char **path, ctr_error **err);
/* Unmounts <dir>/snapshots/<name>/lower until nothing is mounted there
 * (detached: an overlay still on it keeps it alive until it goes). */
int ctr_erofs_lower_release(const char *dir, const char *name, ctr_error **err);
/* Adds the image's size to u when id has one. */
void ctr_erofs_image_usage(int snapshots_fd, int64_t id, struct ctr_snap_usage *u);

#endif
