/* libctr: snapshots (containerd's snapshots.Snapshotter, per namespace),
 * and registering an application's own snapshotter (ctr/sys/snapshotter.h).
 *
 * Snapshotter names: "overlayfs" and "native" are built in; NULL (or "")
 * is the namespace's default: the value of its label
 * CTR_DEFAULT_SNAPSHOTTER_NS_LABEL when it has one, else
 * CTR_DEFAULT_SNAPSHOTTER (containerd's resolveSnapshotterName); ctr_snapshotter_register (ctr/sys/snapshotter.h) adds more. Keys are any string
 * of 1..255 bytes without control characters (they never become paths:
 * containerd uses keys like "extract-1 sha256:..."). Every call runs in the
 * client's namespace or the one ctr_with_call_namespace names; prepare and
 * view also take ctr_with_lease. */
#ifndef CTR_SNAPSHOT_H
#define CTR_SNAPSHOT_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/mount.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The snapshotter used when none is named and the namespace has no
 * CTR_DEFAULT_SNAPSHOTTER_NS_LABEL (containerd's DefaultSnapshotter). */
#define CTR_DEFAULT_SNAPSHOTTER "overlayfs"

/* ---- snapshot records ---- */

typedef enum ctr_snapshot_kind {
	CTR_SNAPSHOT_UNKNOWN = 0,
	CTR_SNAPSHOT_VIEW = 1,
	CTR_SNAPSHOT_ACTIVE = 2,
	CTR_SNAPSHOT_COMMITTED = 3
} ctr_snapshot_kind;

typedef struct ctr_snapshot_info ctr_snapshot_info;

/* Snapshotters written by applications make these with
 * ctr_snapshot_info_new (ctr/sys/snapshotter.h). */
CTR_EXPORT const char *ctr_snapshot_info_name(const ctr_snapshot_info *i);
/* NULL when the snapshot has no parent. */
CTR_EXPORT const char *ctr_snapshot_info_parent(const ctr_snapshot_info *i);
CTR_EXPORT ctr_snapshot_kind ctr_snapshot_info_kind(const ctr_snapshot_info *i);
CTR_EXPORT const char *const *ctr_snapshot_info_labels(const ctr_snapshot_info *i);
CTR_EXPORT int64_t ctr_snapshot_info_created_at(const ctr_snapshot_info *i);
CTR_EXPORT int64_t ctr_snapshot_info_updated_at(const ctr_snapshot_info *i);
CTR_EXPORT void ctr_snapshot_info_free(ctr_snapshot_info *i);
CTR_EXPORT void ctr_snapshot_info_list_free(ctr_snapshot_info **v, size_t n);

/* ---- snapshot options (kind CTR_OPT_SNAPSHOT) ---- */

/* The labels containerd's snapshotters read a user-namespace mapping from:
 * "ctr:host:size[,ctr:host:size...]" for uids and gids. A snapshot of a
 * built-in snapshotter (overlayfs, native, erofs) with both labels mounts
 * idmapped: the files of its parents show as owned by the mapped host IDs
 * (a copy-up keeps them), and an overlay's upper directory belongs to the
 * host IDs of container 0. */
#define CTR_SNAPSHOT_LABEL_UIDMAPPING "containerd.io/snapshot/uidmapping"
#define CTR_SNAPSHOT_LABEL_GIDMAPPING "containerd.io/snapshot/gidmapping"

/* Both labels for one range each: container uid ctr_uid.. is host uid
 * host_uid.., gids likewise, length IDs (containerd's WithRemapperLabels).
 * ctr_snapshot_prepare and ctr_snapshot_view take it, and
 * ctr_container_new for the snapshot ctr_with_new_snapshot makes (there,
 * a snapshotter or kernel that cannot idmap gets a parent whose files were
 * chowned instead). NULL when length is 0 or a range passes 2^32. */
CTR_EXPORT ctr_opt *ctr_with_remapper_labels(uint32_t ctr_uid, uint32_t host_uid, uint32_t ctr_gid,
					     uint32_t host_gid, uint32_t length);

/* ---- snapshot calls ---- */

/* Snapshot options (kind CTR_OPT_SNAPSHOT, containerd's snapshots.Opt), for
 * prepare, view and commit (with CTR_OPT_CALL options in the same array) and
 * for ctr_with_new_snapshot_opts. Labels ("k=v") added after those of the
 * call's labels argument, a later value of a key winning
 * (snapshots.WithLabels). Checked by the call: CTR_EINVAL. */
CTR_EXPORT ctr_opt *ctr_with_snapshot_labels(const char *const *labels);

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
CTR_EXPORT int ctr_snapshot_update(ctr_client *c, const char *snapshotter, const char *key,
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

#ifdef __cplusplus
}
#endif
#endif
