/* Internal: the client's snapshotters and the namespaced snapshot calls
 * other objects (unpack, containers) use. */
#ifndef CTR_LIB_SNAPSHOTS_H
#define CTR_LIB_SNAPSHOTS_H

#include <ctr/snapshot.h>
#include <ctr/sys/snapshotter.h>

#include "client.h"
#include "snapshotter.h"

#define CTR_SNAPSHOT_KEY_MAX 255

/* The snapshotter called name (NULL: CTR_DEFAULT_SNAPSHOTTER), opening a
 * built-in one on first use. CTR_ENOTFOUND for an unknown name, CTR_EINVAL
 * for a bad one. */
int ctr_client_snapshotter(struct ctr_snapshotter **out, ctr_client *c, const char *name,
			   ctr_error **err);
/* The same for a call in namespace ns (NULL: the client's), where no name
 * (NULL or "") is the namespace's CTR_DEFAULT_SNAPSHOTTER_NS_LABEL, else
 * CTR_DEFAULT_SNAPSHOTTER (containerd's resolveSnapshotterName). */
int ctr_client_snapshotter_ns(struct ctr_snapshotter **out, ctr_client *c, const char *ns, const char *name,
			      ctr_error **err);
/* The name ctr_client_snapshotter_ns resolves name to, without opening
 * it. Caller frees. */
int ctr_snapshotter_name_resolve(char **out, ctr_client *c, const char *ns, const char *name, ctr_error **err);
void ctr_client_snapshotters_close(ctr_client *c);
/* "<root>/snapshots/<name>", a built-in snapshotter's directory. NULL
 * without memory. */
char *ctr_client_snapshotter_dir(ctr_client *c, const char *name);

/* "<ns>/<key>", the key the snapshotter itself stores. Caller frees. */
char *ctr_snapshot_backing_key(const char *ns, const char *key);
int ctr_snapshot_key_validate(const char *key, ctr_error **err);

/* The directory a layer is applied into for an active snapshot of ns. */
int ctr_snapshot_apply_dir(char **path, ctr_client *c, const char *snapshotter, const char *ns,
			   const char *key, ctr_error **err);

/* The image file a layer is written into for an active snapshot of ns
 * (snapshotters with apply_image: erofs). CTR_ENOTSUP for the others. */
int ctr_snapshot_apply_image(char **path, ctr_client *c, const char *snapshotter, const char *ns,
			     const char *key, ctr_error **err);
/* Whether EROFS layer images mount here: an empty image written by the
 * library's own writer and mounted once under dir (the root's snapshot
 * folder). *file_backed (may be NULL) tells a file-backed mount from the
 * loop-device fallback. */
bool ctr_snapshots_erofs_supported(const char *dir, bool *file_backed);

/* What snapshot options (kind CTR_OPT_SNAPSHOT, containerd's snapshots.Opt)
 * collect: the labels of the new or committed snapshot, those of the call's
 * labels argument first (NULL, with no option: none given). */
struct ctr_snap_opts {
	char **labels; /* owned, NULL-terminated once one is added */
	size_t n_labels;
};
/* labels (may be NULL), then every option in order: CTR_OPT_SNAPSHOT ones
 * add theirs, CTR_OPT_CALL ones go to call (refused when call is NULL).
 * Clear o either way. */
int ctr_snap_opts_parse(struct ctr_snap_opts *o, struct ctr_call *call, const char *const *labels,
			const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err);
void ctr_snap_opts_clear(struct ctr_snap_opts *o);

/* The layer's internal calls: the public ctr_snapshot_* functions parse
 * their options into a struct ctr_call and call these, and the rest of the
 * library calls these directly. call may be NULL (the client's namespace, no
 * lease). Errors as the public calls. */
int ctr_snapshots_prepare(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter, const char *key,
			  const char *parent, const char *const *labels, bool view, const struct ctr_call *call,
			  ctr_error **err);
int ctr_snapshots_mounts(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter, const char *key,
			 const struct ctr_call *call, ctr_error **err);
int ctr_snapshots_commit(ctr_client *c, const char *snapshotter, const char *name, const char *key,
			 const char *const *labels, const struct ctr_call *call, ctr_error **err);
int ctr_snapshots_remove(ctr_client *c, const char *snapshotter, const char *key, const struct ctr_call *call,
			 ctr_error **err);
/* Removes the namespace's snapshot key that only leases[n] hold
 * (ctr_md_snapshot_reclaim: the record and those leases in one
 * transaction), then the snapshotter's entry, also when no record was
 * written yet (a creator killed between the snapshotter's prepare and the
 * record). CTR_EPRECONDITION when something else holds it: nothing
 * changes. */
int ctr_snapshots_reclaim(ctr_client *c, const char *snapshotter, const char *key, const char *const *leases,
			  size_t n, const struct ctr_call *call, ctr_error **err);
int ctr_snapshots_stat(ctr_snapshot_info **out, ctr_client *c, const char *snapshotter, const char *key,
		       const struct ctr_call *call, ctr_error **err);
int ctr_snapshots_usage(int64_t *size, int64_t *inodes, ctr_client *c, const char *snapshotter,
			const char *key, const struct ctr_call *call, ctr_error **err);

/* ctr_snapshot_diff's internal call: the active snapshot's changes as a
 * layer blob of the namespace (compression "gzip" (NULL), "zstd" or "none"),
 * labelled with its uncompressed digest. CTR_EPRECONDITION for a committed
 * snapshot, CTR_ENOTFOUND. */
int ctr_snapshots_diff(char **digest_out, char **diff_id_out, int64_t *size_out, ctr_client *c,
		       const char *snapshotter, const char *key, const char *compression,
		       const struct ctr_call *call, ctr_error **err);
/* Applies the namespace's layer blob `digest` (gzip, zstd or plain tar)
 * onto the active snapshot key, through the layer apply (names stay inside
 * the snapshot, overlay whiteouts or deletes as the snapshotter wants).
 * diff_id (may be NULL) is checked against the tar stream. Errors:
 * CTR_ENOTFOUND (blob or snapshot), CTR_EPRECONDITION (not active),
 * CTR_EDIGEST, the apply's errors; on error the snapshot may hold part of
 * the layer: the caller removes it. */
int ctr_snapshots_apply(ctr_client *c, const char *snapshotter, const char *key, const char *digest,
			const char *diff_id, const struct ctr_call *call, ctr_error **err);

/* ctr_snapshots_commit for an active key of the namespace that was prepared
 * without a parent (a layer applied on its own): the committed name gets
 * `parent` (a committed snapshot of the namespace, or NULL) as its parent,
 * in the record and in the snapshotter (ops->commit_rebase). CTR_ENOTSUP
 * when the snapshotter cannot (native, applications'), CTR_EPRECONDITION
 * when key already has a parent or parent is not committed, CTR_ENOTFOUND,
 * CTR_EEXISTS as ctr_snapshot_commit. */
int ctr_snapshots_commit_parent(ctr_client *c, const char *snapshotter, const char *name, const char *key,
				const char *parent, const char *const *labels, const struct ctr_call *call,
				ctr_error **err);

/* The collector's hook: removes the snapshotter's copy of a namespaced
 * snapshot whose record is gone, and then snapshotter entries of any
 * namespace that no record names and that are older than grace_ns. */
int ctr_snapshots_gc_remove(ctr_client *c, const char *ns, const char *snapshotter,
			    const char *key, ctr_error **err);
int ctr_snapshots_gc_orphans(ctr_client *c, int64_t grace_ns, char ***removed, ctr_error **err);
/* Built-in snapshotter b (an index into ctr_snapshotter_builtins) when it
 * exists on disk under the root, else NULL: the collector and the check
 * create nothing. */
struct ctr_snapshotter *ctr_snapshots_builtin_on_disk(ctr_client *c, size_t b);

/* The store check's snapshot part (snapshot-check.c), over the built-in
 * snapshotters that exist on disk: fn(ud, kind, subject, detail, repaired)
 * for incomplete committed snapshots and those stacked on them, entries no
 * record names, and namespace records without their snapshotter entry.
 * Repair removes each (children first). A non-zero fn return stops. */
int ctr_snapshots_check(ctr_client *c, bool repair,
			int (*fn)(void *ud, int kind, const char *subject, const char *detail, bool repaired),
			void *ud, ctr_error **err);

/* The client's snapshotters for the plugin list: the built-ins in their
 * table's order, each checked at its directory (reason: why it cannot
 * work there), then those the application registered. */
struct ctr_snapshotter_state {
	char *name;
	bool builtin;
	bool ok;
	char *reason; /* when !ok */
};
int ctr_snapshotters_states(struct ctr_snapshotter_state **out, size_t *n_out, ctr_client *c, ctr_error **err);
void ctr_snapshotter_states_free(struct ctr_snapshotter_state *v, size_t n);

/* struct ctr_snap_opts (above): one "key=value" label more, and the whole
 * set after base's (lib/snapshots/snapshot-opts.c). */
int ctr_snap_opts_add_label(struct ctr_snap_opts *o, const char *key, const char *value, ctr_error **err);
/* base's labels (may be NULL), then the options'; *out is a strv the
 * caller frees with ctr_strv_free. */
int ctr_snap_opts_labels(char ***out, const struct ctr_snap_opts *o, const char *const *base, ctr_error **err);

/* Whether snapshotter mounts snapshots with an ID mapping idmapped here
 * (a built-in one, and the kernel idmaps its directory; probed once). */
bool ctr_snapshots_idmap_ok(ctr_client *c, const char *snapshotter);
/* The committed copy of parent whose owners are shifted by m (chowned),
 * made when missing: its name in *out (caller frees). CTR_EINVAL when m
 * has no entry for container ID 0 or a file's owner has no mapping. */
struct ctr_idmap;
int ctr_snapshots_remap_parent(char **out, ctr_client *c, const char *snapshotter, const char *parent,
			       const struct ctr_idmap *m, const struct ctr_call *call, ctr_error **err);
/* ctr_snapshots_prepare (no mounts) for a snapshot that labels may give
 * an ID mapping (CTR_SNAPSHOT_LABEL_*MAPPING): idmapped where
 * ctr_snapshots_idmap_ok, else on ctr_snapshots_remap_parent's copy of
 * parent and without the mapping labels. */
int ctr_snapshots_prepare_mapped(ctr_client *c, const char *snapshotter, const char *key, const char *parent,
				 const char *const *labels, bool view, const struct ctr_call *call, ctr_error **err);

/* Internal mount list <-> public handle. */
struct ctr_mount_list {
	struct ctr_mount *v;
	size_t n;
};

/* Adapts an application's vtable to the internal ops. */
int ctr_snapshotter_from_vtable(struct ctr_snapshotter **out, const char *name,
				const struct ctr_snapshotter_vtable *vt, void *self, ctr_error **err);

#endif
