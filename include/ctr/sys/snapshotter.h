/* libctr implementer's API: an application's own snapshotter.
 *
 * Not included by <ctr/ctr.h>: only code that implements a snapshotter
 * includes <ctr/sys/snapshotter.h>, in the way of libgit2's git2/sys/
 * headers. Callbacks report failures with ctr_error_set (ctr/sys/error.h)
 * and allocate what the library frees with ctr/sys/alloc.h.
 *
 * libctr's answer to containerd's proxy snapshotter plugins: the
 * application hands the client a table of callbacks, and every snapshot
 * call (and pull's unpack, for snapshotters that provide apply_dir) goes
 * through it under the name it was registered with. Keys reaching the
 * callbacks are "<namespace>/<key>": the snapshotter itself needs no
 * notion of namespaces. Callbacks run in the calling thread; when the
 * client is used from several threads they run in several at once, so the
 * implementation guards its own state. Labels arrive as NULL-terminated
 * "key=value" arrays. They have the library's call shape: outputs first, then self, then inputs, then err. */
#ifndef CTR_SYS_SNAPSHOTTER_H
#define CTR_SYS_SNAPSHOTTER_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/mount.h>
#include <ctr/snapshot.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of struct ctr_snapshotter_vtable that this header describes.
 * Registration refuses a table whose version the library does not know. */
#define CTR_SNAPSHOTTER_VTABLE_VERSION 1

struct ctr_snapshotter_vtable {
	unsigned int version; /* CTR_SNAPSHOTTER_VTABLE_VERSION */
	int (*prepare)(ctr_mount_list **mounts, void *self, const char *key, const char *parent,
		       const char *const *labels, ctr_error **err);
	int (*view)(ctr_mount_list **mounts, void *self, const char *key, const char *parent,
		    const char *const *labels, ctr_error **err);
	int (*mounts)(ctr_mount_list **mounts, void *self, const char *key, ctr_error **err);
	int (*commit)(void *self, const char *name, const char *key, const char *const *labels,
		      ctr_error **err);
	int (*remove)(void *self, const char *key, ctr_error **err);
	int (*stat)(ctr_snapshot_info **out, void *self, const char *key, ctr_error **err);
	/* Replaces the labels. May be NULL. */
	int (*update)(void *self, const char *key, const char *const *labels, ctr_error **err);
	/* May be NULL (usage reports 0). */
	int (*usage)(int64_t *size, int64_t *inodes, void *self, const char *key, ctr_error **err);
	int (*walk)(void *self, int (*fn)(const ctr_snapshot_info *info, void *ud), void *ud,
		    ctr_error **err);
	/* May be NULL. The directory a layer tar is unpacked into for an
	 * active key, with overlay-style whiteouts. *path is allocated with
	 * ctr_malloc or ctr_strdup (ctr/sys/alloc.h); the library frees it
	 * with ctr_free. */
	int (*apply_dir)(char **path, void *self, const char *key, ctr_error **err);
	/* May be NULL; called when the client is freed. */
	void (*close)(void *self);
};

/* Registers vt under name. CTR_EEXISTS when the name is taken (built-in
 * names included); CTR_EINVAL for a bad name, a missing required callback
 * (prepare, view, mounts, commit, remove, stat, walk) or a version this
 * library does not know. The table is copied; self is passed to every
 * callback. */
CTR_EXPORT int ctr_snapshotter_register(ctr_client *c, const char *name,
					const struct ctr_snapshotter_vtable *vt, void *self,
					ctr_error **err);

/* Makes the record that stat and walk hand back. Strings are copied. */
CTR_EXPORT int ctr_snapshot_info_new(ctr_snapshot_info **out, const char *name, const char *parent,
				     ctr_snapshot_kind kind, const char *const *labels,
				     int64_t created_at, int64_t updated_at, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
