/* Snapshots for a user
 * namespace, as containerd's client makes them (WithRemapperLabels,
 * resolveSnapshotOptions, WithRemappedSnapshot): a snapshot labelled with
 * an ID mapping mounts idmapped where its snapshotter and the kernel can;
 * elsewhere it is prepared on a committed copy of its parent whose files
 * were chowned to the mapped IDs, named for the parent and the mapping
 * (containerd's remappedSnapshot ID) so containers share it. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "error.h"
#include "idmap.h"
#include "macro.h"
#include "metadata.h"
#include "strv.h"
#include <time.h>
#include "opts.h"
#include "snapshots.h"

bool ctr_snapshots_idmap_ok(ctr_client *c, const char *snapshotter)
{
	struct ctr_snapshotter *sn;
	if (ctr_client_snapshotter(&sn, c, snapshotter, NULL) < 0 || !sn->remap_ids)
		return false;
	int ok = __atomic_load_n(&sn->idmap_ok, __ATOMIC_ACQUIRE);
	if (ok == 0) {
		_cleanup_free_ char *dir = ctr_client_snapshotter_dir(c, sn->name);
		ok = dir && ctr_idmap_check(dir, NULL) == 0 ? 1 : -1;
		__atomic_store_n(&sn->idmap_ok, ok, __ATOMIC_RELEASE);
	}
	return ok > 0;
}

static json_t *ranges_json(const struct ctr_idmap_range *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:I,s:I}", "containerID", (json_int_t)v[i].ctr, "hostID",
						   (json_int_t)v[i].host, "size", (json_int_t)v[i].size));
	return a;
}

/* containerd's remappedSnapshot.ID(): the digest of
 * {"Parent":...,"IDMap":{"UidMap":[...],"GidMap":[...]}}. */
static int remap_id(char *out, const char *parent, const struct ctr_idmap *m, ctr_error **err)
{
	json_t *o = json_pack("{s:s,s:{s:o,s:o}}", "Parent", parent, "IDMap", "UidMap", ranges_json(m->uid, m->n_uid),
			      "GidMap", ranges_json(m->gid, m->n_gid));
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return ctr_err_nomem(err);
	int r = ctr_digest_buf(CTR_DIGEST_SHA256, text, strlen(text), out, err);
	free(text);
	return r;
}

/* Walks the tree of an active snapshot's mounts, chowning. */
static int chown_snapshot(ctr_client *c, const char *snapshotter, const char *key, const struct ctr_idmap *m,
			  const struct ctr_call *call, ctr_error **err)
{
	ctr_mount_list *ml = NULL;
	int r = ctr_snapshots_mounts(&ml, c, snapshotter, key, call, err);
	int fd = -1;
	if (r == 0)
		r = ctr_mounts_open_root_rw(ml->v, ml->n, &fd, err);
	ctr_mount_list_free(ml);
	if (r < 0)
		return r;
	r = ctr_idmap_chown_tree(fd, m, err);
	close(fd);
	return r;
}

int ctr_snapshots_remap_parent(char **out, ctr_client *c, const char *snapshotter, const char *parent,
			       const struct ctr_idmap *m, const struct ctr_call *call, ctr_error **err)
{
	uint32_t h;
	if (!ctr_idmap_to_host(m->uid, m->n_uid, 0, &h) || !ctr_idmap_to_host(m->gid, m->n_gid, 0, &h))
		return ctr_err(err, CTR_EINVAL, 0, "remap: the ID mapping has no entry for container uid and gid 0");
	char id[CTR_DIGEST_MAX];
	int r = remap_id(id, parent, m, err);
	if (r < 0)
		return r;
	ctr_snapshot_info *info = NULL;
	if (ctr_snapshots_stat(&info, c, snapshotter, id, call, NULL) == 0 &&
	    ctr_snapshot_info_kind(info) == CTR_SNAPSHOT_COMMITTED) {
		ctr_snapshot_info_free(info);
		return (*out = strdup(id)) ? 0 : ctr_err_nomem(err);
	}
	ctr_snapshot_info_free(info);
	/* A key of our own: two processes remapping the same parent at once
	 * each chown their copy, and the second commit finds the first. */
	char tmp[CTR_DIGEST_MAX + 64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), "%s-remap-%d-%ld", id, (int)getpid(), ts.tv_nsec);
	if ((r = ctr_snapshots_prepare(NULL, c, snapshotter, tmp, parent, NULL, false, call, err)) < 0)
		return r;
	r = chown_snapshot(c, snapshotter, tmp, m, call, err);
	if (r == 0) {
		r = ctr_snapshots_commit(c, snapshotter, id, tmp, NULL, call, err);
		if (r == CTR_EEXISTS) {
			ctr_error_free(err ? *err : NULL);
			if (err)
				*err = NULL;
			r = 0;
		} else if (r == 0) {
			return (*out = strdup(id)) ? 0 : ctr_err_nomem(err);
		}
	}
	ctr_snapshots_remove(c, snapshotter, tmp, call, NULL);
	if (r < 0)
		return ctr_err_prefix(err, r, "remap %s", parent);
	return (*out = strdup(id)) ? 0 : ctr_err_nomem(err);
}

int ctr_snapshots_prepare_mapped(ctr_client *c, const char *snapshotter, const char *key, const char *parent,
				 const char *const *labels, bool view, const struct ctr_call *call, ctr_error **err)
{
	_cleanup_free_ char *json = NULL;
	struct ctr_idmap m;
	bool mapped = false;
	int r = labels ? ctr_md_labels_validate(labels, err) : 0;
	if (r == 0)
		r = ctr_md_labels_to_json(&json, labels, err);
	if (r == 0)
		r = ctr_idmap_from_labels(&m, &mapped, NULL, NULL, json, err);
	if (r < 0)
		return r;
	if (!mapped || !parent || ctr_snapshots_idmap_ok(c, snapshotter))
		return ctr_snapshots_prepare(NULL, c, snapshotter, key, parent, labels, view, call, err);
	/* No idmapped mounts: a chowned parent, and the new snapshot without
	 * the mapping labels, which would idmap its mounts a second time. */
	_cleanup_free_ char *rp = NULL;
	if ((r = ctr_snapshots_remap_parent(&rp, c, snapshotter, parent, &m, call, err)) < 0)
		return r;
	size_t n = 0;
	while (labels && labels[n])
		n++;
	_cleanup_free_ const char **rest = calloc(n + 1, sizeof(*rest));
	if (!rest)
		return ctr_err_nomem(err);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(labels[i], CTR_SNAPSHOT_LABEL_UIDMAPPING "=", strlen(CTR_SNAPSHOT_LABEL_UIDMAPPING) + 1) &&
		    strncmp(labels[i], CTR_SNAPSHOT_LABEL_GIDMAPPING "=", strlen(CTR_SNAPSHOT_LABEL_GIDMAPPING) + 1))
			rest[k++] = labels[i];
	return ctr_snapshots_prepare(NULL, c, snapshotter, key, rp, rest, view, call, err);
}
