/* The snapshotter interface (containerd's snapshots.Snapshotter) and the
 * built-in ones. A snapshotter knows nothing of namespaces, registries or
 * images: keys are global to it, and lib/snapshots/snapshot-ns.c maps namespaced keys
 * onto them, as containerd's metadata layer does. */
#ifndef CTR_SNAPSHOT_SNAPSHOTTER_H
#define CTR_SNAPSHOT_SNAPSHOTTER_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stdint.h>

#include "mount.h"

enum ctr_snap_kind {
	CTR_SNAP_UNKNOWN = 0,
	CTR_SNAP_VIEW = 1,
	CTR_SNAP_ACTIVE = 2,
	CTR_SNAP_COMMITTED = 3,
};

const char *ctr_snap_kind_name(enum ctr_snap_kind k);
enum ctr_snap_kind ctr_snap_kind_parse(const char *s);

struct ctr_snap_info {
	char *name;   /* the key (active/view) or the committed name */
	char *parent; /* committed parent's name, or NULL */
	enum ctr_snap_kind kind;
	char *labels; /* JSON object text, never NULL */
	int64_t created_at, updated_at; /* unix ns */
};
void ctr_snap_info_clear(struct ctr_snap_info *i);

struct ctr_snap_usage {
	int64_t size;   /* bytes */
	int64_t inodes;
};

typedef int (*ctr_snap_walk_fn)(const struct ctr_snap_info *info, void *ud);

struct ctr_snapshotter_ops {
	/* Creates an active (writable) snapshot on parent (NULL: empty) and
	 * returns its mounts. CTR_EEXISTS, CTR_ENOTFOUND (parent),
	 * CTR_EPRECONDITION (parent not committed). */
	int (*prepare)(void *self, const char *key, const char *parent, const char *labels_json,
		       struct ctr_mount **mounts, size_t *n_mounts, ctr_error **err);
	/* Same for a read-only view. */
	int (*view)(void *self, const char *key, const char *parent, const char *labels_json,
		    struct ctr_mount **mounts, size_t *n_mounts, ctr_error **err);
	int (*mounts)(void *self, const char *key, struct ctr_mount **mounts, size_t *n_mounts,
		      ctr_error **err);
	/* Active `key` becomes committed `name` in one transaction.
	 * CTR_EEXISTS (name), CTR_ENOTFOUND (key), CTR_EPRECONDITION (not active). */
	int (*commit)(void *self, const char *name, const char *key, const char *labels_json,
		      ctr_error **err);
	/* Like commit, for an active `key` prepared without a parent whose
	 * layer was applied on its own (parallel unpack): `name` gets `parent`
	 * (committed, or NULL) as its parent in the same transaction. Only for
	 * snapshotters whose apply_dir holds the layer's changes alone
	 * (overlayfs); NULL otherwise. CTR_EEXISTS (name), CTR_ENOTFOUND (key,
	 * parent), CTR_EPRECONDITION (key not active or already has a parent,
	 * parent not committed). */
	int (*commit_rebase)(void *self, const char *name, const char *key, const char *parent,
			     const char *labels_json, ctr_error **err);
	/* CTR_ENOTFOUND, CTR_EPRECONDITION (it has children). */
	int (*remove)(void *self, const char *key, ctr_error **err);
	int (*stat)(void *self, const char *key, struct ctr_snap_info *out, ctr_error **err);
	/* Replaces the labels. */
	int (*update)(void *self, const char *key, const char *labels_json, ctr_error **err);
	int (*usage)(void *self, const char *key, struct ctr_snap_usage *out, ctr_error **err);
	int (*walk)(void *self, ctr_snap_walk_fn fn, void *ud, ctr_error **err);
	/* Removes what no record names (interrupted prepares and removes). */
	int (*cleanup)(void *self, ctr_error **err);
	/* The store check: fn(ud, kind, name, detail, repaired) for each
	 * committed snapshot that is incomplete (CTR_CHECK_SNAPSHOT_INCOMPLETE,
	 * left for the caller to remove) and each entry no record names
	 * (CTR_CHECK_SNAPSHOT_ORPHAN_DIR, removed when repair). NULL: nothing
	 * to check. */
	int (*check)(void *self, bool repair, int (*fn)(void *ud, int kind, const char *name, const char *detail,
							bool repaired),
		     void *ud, ctr_error **err);
	/* The directory a layer is applied into for an active key (the overlay
	 * upper dir, or the native copy); NULL ops when the snapshotter only
	 * gives mounts. Caller frees. */
	int (*apply_dir)(void *self, const char *key, char **path, ctr_error **err);
	/* The image file a layer is written into for an active key (erofs:
	 * the unpacker writes the layer's EROFS image there instead of files
	 * into apply_dir, and the image is the layer once committed); NULL
	 * for snapshotters that take layers as directories. Caller frees. */
	int (*apply_image)(void *self, const char *key, char **path, ctr_error **err);
	void (*close)(void *self);
};

struct ctr_snapshotter {
	char *name;
	const struct ctr_snapshotter_ops *ops;
	void *self;
	/* How a layer is applied into apply_dir: true for overlay whiteouts
	 * (0:0 devices, opaque xattrs), false for deletions (native). */
	bool overlay_whiteouts;
	/* Snapshots labelled with an ID mapping (CTR_SNAPSHOT_LABEL_*MAPPING)
	 * get idmapped mounts (containerd's "remap-ids" capability). */
	bool remap_ids;
	/* Whether idmapped mounts work on its directory: 0 not probed yet,
	 * 1 yes, -1 no (lib/snapshots caches ctr_idmap_check here). */
	int idmap_ok;
};

/* Built-in snapshotters rooted at dir (created when missing). */
int ctr_overlay_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err);
int ctr_native_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err);
int ctr_btrfs_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err);
/* overlayfs whose unpacked layers are EROFS images, each mounted
 * (file-backed, or through a loop device) at <id>/lower while it has
 * children; a committed diff of an active snapshot stays a directory. */
int ctr_erofs_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err);
/* Whether a snapshotter can work with its directory at dir (which need not
 * exist; nothing is left behind): 0, or CTR_ENOTSUP with the reason. */
int ctr_overlay_check(const char *dir, ctr_error **err);
int ctr_btrfs_check(const char *dir, ctr_error **err);
/* ctr_overlay_check without the reason. */
bool ctr_overlay_supported(const char *dir);

/* The built-in snapshotters, one table entry each: opening by name, the
 * list of plugins and the collector all read this table. */
struct ctr_snapshotter_builtin {
	const char *name;
	int (*open)(struct ctr_snapshotter **out, const char *dir, ctr_error **err);
	/* NULL: works anywhere. */
	int (*check)(const char *dir, ctr_error **err);
};
extern const struct ctr_snapshotter_builtin ctr_snapshotter_builtins[];
extern const size_t ctr_n_snapshotter_builtins;
/* NULL when name is not built in. */
const struct ctr_snapshotter_builtin *ctr_snapshotter_builtin_find(const char *name);

void ctr_snapshotter_free(struct ctr_snapshotter *s);

#endif
