/* libctr: snapshots (containerd's snapshots.Snapshotter, per namespace),
 * mounts, and registering an application's own snapshotter.
 *
 * Snapshotter names: "overlayfs" (the default when NULL) and "native" are
 * built in; ctr_client_register_snapshotter adds more. Keys are any string
 * of 1..255 bytes without control characters (they never become paths:
 * containerd uses keys like "extract-1 sha256:..."). Every call runs in the
 * client's namespace or the one ctr_with_call_namespace names; prepare and
 * view also take ctr_with_lease. */
#ifndef CTR_SNAPSHOT_H
#define CTR_SNAPSHOT_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- mounts ---- */

/* Mounts as containerd describes them: {type, source, options}. */
typedef struct ctr_mount_list ctr_mount_list;

CTR_EXPORT int ctr_mount_list_new(ctr_mount_list **out, ctr_error **err);
/* Copies its arguments; options is NULL-terminated (may be NULL). */
CTR_EXPORT int ctr_mount_list_add(ctr_mount_list *l, const char *type, const char *source,
				  const char *const *options, ctr_error **err);
CTR_EXPORT size_t ctr_mount_list_len(const ctr_mount_list *l);
/* Borrowed; NULL when i is out of range. */
CTR_EXPORT const char *ctr_mount_list_type(const ctr_mount_list *l, size_t i);
CTR_EXPORT const char *ctr_mount_list_source(const ctr_mount_list *l, size_t i);
CTR_EXPORT const char *const *ctr_mount_list_options(const ctr_mount_list *l, size_t i);
/* Mounts every entry on target, in order (containerd's mount.All). Needs
 * CAP_SYS_ADMIN. On failure nothing stays mounted. */
CTR_EXPORT int ctr_mount_list_mount(const ctr_mount_list *l, const char *target, ctr_error **err);
CTR_EXPORT void ctr_mount_list_free(ctr_mount_list *l);
/* Unmounts target (all stacked mounts when `all` is non-zero); a target
 * that is not mounted is fine. */
CTR_EXPORT int ctr_mount_unmount(const char *target, int all, ctr_error **err);

/* ---- snapshot records ---- */

typedef enum ctr_snapshot_kind {
	CTR_SNAPSHOT_UNKNOWN = 0,
	CTR_SNAPSHOT_VIEW = 1,
	CTR_SNAPSHOT_ACTIVE = 2,
	CTR_SNAPSHOT_COMMITTED = 3
} ctr_snapshot_kind;

typedef struct ctr_snapshot_info ctr_snapshot_info;

/* For snapshotters written by applications (their stat and walk). */
CTR_EXPORT int ctr_snapshot_info_new(ctr_snapshot_info **out, const char *name, const char *parent,
				     ctr_snapshot_kind kind, const char *const *labels,
				     int64_t created_at, int64_t updated_at, ctr_error **err);
CTR_EXPORT const char *ctr_snapshot_info_name(const ctr_snapshot_info *i);
/* NULL when the snapshot has no parent. */
CTR_EXPORT const char *ctr_snapshot_info_parent(const ctr_snapshot_info *i);
CTR_EXPORT ctr_snapshot_kind ctr_snapshot_info_kind(const ctr_snapshot_info *i);
CTR_EXPORT const char *const *ctr_snapshot_info_labels(const ctr_snapshot_info *i);
CTR_EXPORT int64_t ctr_snapshot_info_created_at(const ctr_snapshot_info *i);
CTR_EXPORT int64_t ctr_snapshot_info_updated_at(const ctr_snapshot_info *i);
CTR_EXPORT void ctr_snapshot_info_free(ctr_snapshot_info *i);
CTR_EXPORT void ctr_snapshot_info_list_free(ctr_snapshot_info **v, size_t n);

/* ---- snapshot calls ---- */

/* A new active (writable) snapshot on parent (NULL: empty). Errors:
 * CTR_EEXISTS, CTR_ENOTFOUND (parent or snapshotter), CTR_EPRECONDITION
 * (parent not committed), CTR_EINVAL (bad key or labels). */
CTR_EXPORT int ctr_snapshot_prepare(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				    const char *key, const char *parent, const char *const *labels,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* A read-only view of parent. */
CTR_EXPORT int ctr_snapshot_view(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				 const char *key, const char *parent, const char *const *labels,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT int ctr_snapshot_mounts(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				   const char *key, const ctr_opt *const *opts, size_t n_opts,
				   ctr_error **err);
/* Active key becomes committed name. labels NULL: keep the key's labels.
 * CTR_EEXISTS (name), CTR_ENOTFOUND, CTR_EPRECONDITION (not active). */
CTR_EXPORT int ctr_snapshot_commit(ctr_client *c, const char *snapshotter, const char *name,
				   const char *key, const char *const *labels,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* CTR_ENOTFOUND, CTR_EPRECONDITION (another snapshot has it as parent). */
CTR_EXPORT int ctr_snapshot_remove(ctr_client *c, const char *snapshotter, const char *key,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT int ctr_snapshot_stat(ctr_snapshot_info **out, ctr_client *c, const char *snapshotter,
				 const char *key, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err);
/* "k=v" sets, "k=" removes. */
CTR_EXPORT int ctr_snapshot_update_labels(ctr_client *c, const char *snapshotter, const char *key,
					  const char *const *labels, const ctr_opt *const *opts,
					  size_t n_opts, ctr_error **err);
CTR_EXPORT int ctr_snapshot_usage(int64_t *size, int64_t *inodes, ctr_client *c,
				  const char *snapshotter, const char *key,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Filters over name, parent, kind ("active", "view", "committed") and
 * labels.<key>. */
CTR_EXPORT int ctr_snapshot_list(ctr_snapshot_info ***out, size_t *n_out, ctr_client *c,
				 const char *snapshotter, const char *const *filters,
				 size_t n_filters, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err);

/* Writes the changes of the active snapshot key against its parent as an
 * OCI layer blob in the content store (containerd's diff service Compare
 * followed by the content write): an overlay upper directory is read as
 * is (whiteout devices become .wh. entries, opaque directories
 * .wh..wh..opq); a native snapshot is compared with its parent.
 * compression: "gzip" (NULL), "zstd" or "none". The blob is labelled
 * containerd.io/uncompressed=<diff_id>. Outputs (any may be NULL):
 * the blob's digest and the layer's diff_id (free with ctr_free), and its
 * size. Takes ctr_with_call_namespace and ctr_with_lease. Errors:
 * CTR_ENOTFOUND, CTR_EPRECONDITION (not active), CTR_EINVAL. */
CTR_EXPORT int ctr_snapshot_diff(char **digest_out, char **diff_id_out, int64_t *size_out, ctr_client *c,
				 const char *snapshotter, const char *key, const char *compression,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* ---- an application's own snapshotter ----
 *
 * libctr's answer to containerd's proxy snapshotter plugins: the
 * application hands the client a table of callbacks, and every snapshot
 * call (and pull's unpack, for snapshotters that provide apply_dir) goes
 * through it under the name it was registered with. Keys reaching the
 * callbacks are "<namespace>/<key>": the snapshotter itself needs no
 * notion of namespaces. Callbacks run in the calling thread; when the
 * client is used from several threads they run in several at once, so the
 * implementation guards its own state. Labels arrive as NULL-terminated
 * "key=value" arrays. */
#define CTR_SNAPSHOTTER_VTABLE_VERSION 1

struct ctr_snapshotter_vtable {
	unsigned int version; /* CTR_SNAPSHOTTER_VTABLE_VERSION */
	int (*prepare)(void *self, const char *key, const char *parent, const char *const *labels,
		       ctr_mount_list **mounts, ctr_error **err);
	int (*view)(void *self, const char *key, const char *parent, const char *const *labels,
		    ctr_mount_list **mounts, ctr_error **err);
	int (*mounts)(void *self, const char *key, ctr_mount_list **mounts, ctr_error **err);
	int (*commit)(void *self, const char *name, const char *key, const char *const *labels,
		      ctr_error **err);
	int (*remove)(void *self, const char *key, ctr_error **err);
	int (*stat)(void *self, const char *key, ctr_snapshot_info **out, ctr_error **err);
	/* Replaces the labels. May be NULL. */
	int (*update)(void *self, const char *key, const char *const *labels, ctr_error **err);
	/* May be NULL (usage reports 0). */
	int (*usage)(void *self, const char *key, int64_t *size, int64_t *inodes, ctr_error **err);
	int (*walk)(void *self, int (*fn)(const ctr_snapshot_info *info, void *ud), void *ud,
		    ctr_error **err);
	/* May be NULL. The directory a layer tar is unpacked into for an
	 * active key, with overlay-style whiteouts; *path is freed with free(). */
	int (*apply_dir)(void *self, const char *key, char **path, ctr_error **err);
	/* May be NULL; called when the client is freed. */
	void (*close)(void *self);
};

/* CTR_EEXISTS when the name is taken (built-in names included), CTR_EINVAL
 * for a bad name or vtable version. The table is copied; self is passed to
 * every callback. */
CTR_EXPORT int ctr_client_register_snapshotter(ctr_client *c, const char *name,
					       const struct ctr_snapshotter_vtable *vt, void *self,
					       ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
