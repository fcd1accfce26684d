/* The table of built-in snapshotters. A new built-in is one entry here. */
#include <string.h>

#include "snapshotter.h"

const struct ctr_snapshotter_builtin ctr_snapshotter_builtins[] = {
	{"overlayfs", ctr_overlay_open, ctr_overlay_check},
	{"native", ctr_native_open, NULL},
	{"btrfs", ctr_btrfs_open, ctr_btrfs_check},
	/* needs overlayfs; whether EROFS images mount is probed above this
	 * layer (lib/snapshots/snapshot-plugins.c), with the archive writer */
	{"erofs", ctr_erofs_open, ctr_overlay_check},
};
const size_t ctr_n_snapshotter_builtins = sizeof(ctr_snapshotter_builtins) / sizeof(ctr_snapshotter_builtins[0]);

const struct ctr_snapshotter_builtin *ctr_snapshotter_builtin_find(const char *name)
{
	for (size_t i = 0; name && i < ctr_n_snapshotter_builtins; i++)
		if (!strcmp(ctr_snapshotter_builtins[i].name, name))
			return &ctr_snapshotter_builtins[i];
	return NULL;
}
