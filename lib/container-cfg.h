/* Internal: what container options collect (lib/container.c) and what
 * creating and updating a container (lib/container-update.c) share. */
#ifndef CTR_LIB_CONTAINER_CFG_H
#define CTR_LIB_CONTAINER_CFG_H

#include <ctr/container.h>
#include <jansson.h>
#include <stdbool.h>

#include "snapshots.h"

struct ext {
	char *name;
	json_t *value;
};

struct ctr_cfg {
	char *image;
	char *snap_key;      /* new or existing snapshot */
	char *snap_image_ns; /* the image whose chain is the parent (new snapshot) */
	const ctr_image *snap_image;
	bool snap_new, snap_view;
	const ctr_opt *const *snap_new_opts; /* ctr_with_new_snapshot_opts's, borrowed */
	size_t n_snap_new_opts;
	struct ctr_snap_opts snap_opts; /* the new snapshot's (CTR_OPT_SNAPSHOT, remapping) */
	char *snapshotter;
	bool new_spec;
	const ctr_opt *const *spec_opts;
	size_t n_spec_opts;
	char *spec;
	char *runtime;
	char **labels;   /* label updates */
	json_t *extensions;
	bool cleanup_snapshot; /* delete */
	char **fields;         /* update: containerd's field paths (NULL: all given) */
};

void ctr_container_cfg_clear(struct ctr_cfg *c);
/* The spec from cfg's spec options, users resolved in cfg's snapshot of
 * snapshotter when it has one. stop_signal (may be NULL) gets the image's. */
int ctr_container_gen_spec(char **out, char **stop_signal, ctr_client *c, const char *ns, const char *id,
			   const struct ctr_cfg *cfg, const char *snapshotter, ctr_error **err);

/* The temporary lease a container create holds its new snapshot with until
 * the container record owns it (lib/container-lease.c): 24 hours, labelled
 * with its creator (ctr_proc_creator) and the snapshot it is for, so that
 * a later create can tell one left by a process that died. *id: caller
 * frees. */
#define CTR_LABEL_LEASE_CREATOR "libctr.io/creator"
#define CTR_LABEL_LEASE_SNAPSHOT "libctr.io/snapshot"
int ctr_container_lease_create(char **id, ctr_client *c, const char *ns, const char *snapshotter,
			       const char *key, ctr_error **err);
/* After a prepare of key failed with CTR_EEXISTS: when the snapshot is
 * held only by temporary leases whose creators are all dead, removes them
 * and the snapshot. own: the caller's own temporary lease, not counted.
 * 1 when it did, 0 when the snapshot stays (a live creator, a container,
 * another lease, a child: the create fails as before). */
int ctr_container_lease_reclaim(ctr_client *c, const char *ns, const char *snapshotter, const char *key,
				const char *own);

#endif
