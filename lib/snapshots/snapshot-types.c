/* Public mount lists and snapshot infos, and the adapter that turns an
 * application's snapshotter vtable into the internal ops. */
#include <stdlib.h>
#include <string.h>

#include <ctr/sys/snapshotter.h>

#include "error.h"
#include "metadata.h"
#include "snapshots.h"
#include "ident.h"
#include "macro.h"
#include "strv.h"

struct ctr_snapshot_info {
	char *name;
	char *parent;
	ctr_snapshot_kind kind;
	char **labels;
	int64_t created_at, updated_at;
};

/* ---- mount lists ---- */

CTR_EXPORT int ctr_mount_list_new(ctr_mount_list **out, ctr_error **err)
{
	ctr_mount_list *l = calloc(1, sizeof(*l));
	if (!l)
		return ctr_err_nomem(err);
	*out = l;
	return 0;
}

CTR_EXPORT int ctr_mount_list_add(ctr_mount_list *l, const char *type, const char *source,
				  const char *const *options, ctr_error **err)
{
	if (!l || !type || !source)
		return ctr_err(err, CTR_EINVAL, 0, "mount list: type and source are required");
	struct ctr_mount *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return ctr_err_nomem(err);
	l->v = nv;
	int r = ctr_mount_init(&l->v[l->n], type, source, options, err);
	if (r == 0)
		l->n++;
	return r;
}

CTR_EXPORT size_t ctr_mount_list_len(const ctr_mount_list *l) { return l ? l->n : 0; }
CTR_EXPORT const char *ctr_mount_list_type(const ctr_mount_list *l, size_t i)
{
	return l && i < l->n ? l->v[i].type : NULL;
}
CTR_EXPORT const char *ctr_mount_list_source(const ctr_mount_list *l, size_t i)
{
	return l && i < l->n ? l->v[i].source : NULL;
}
CTR_EXPORT const char *const *ctr_mount_list_options(const ctr_mount_list *l, size_t i)
{
	return l && i < l->n ? (const char *const *)l->v[i].options : NULL;
}

CTR_EXPORT int ctr_mount_list_mount(const ctr_mount_list *l, const char *target, ctr_error **err)
{
	if (!l || !target)
		return ctr_err(err, CTR_EINVAL, 0, "mount: list and target are required");
	return ctr_mounts_apply(l->v, l->n, target, err);
}

CTR_EXPORT void ctr_mount_list_free(ctr_mount_list *l)
{
	if (!l)
		return;
	ctr_mounts_free(l->v, l->n);
	free(l);
}

CTR_EXPORT int ctr_mount_unmount(const char *target, unsigned flags, ctr_error **err)
{
	if (!target)
		return ctr_err(err, CTR_EINVAL, 0, "unmount: target is NULL");
	if (flags & ~CTR_UNMOUNT_ALL)
		return ctr_err(err, CTR_EINVAL, 0, "unmount %s: unknown flags %#x", target, flags);
	return ctr_unmount(target, (flags & CTR_UNMOUNT_ALL) != 0, err);
}

/* ---- infos ---- */

CTR_EXPORT int ctr_snapshot_info_new(ctr_snapshot_info **out, const char *name, const char *parent,
				     ctr_snapshot_kind kind, const char *const *labels,
				     int64_t created_at, int64_t updated_at, ctr_error **err)
{
	if (!name)
		return ctr_err(err, CTR_EINVAL, 0, "snapshot info: name is required");
	ctr_snapshot_info *i = calloc(1, sizeof(*i));
	if (!i)
		return ctr_err_nomem(err);
	i->name = strdup(name);
	i->parent = parent ? strdup(parent) : NULL;
	i->labels = ctr_strv_dup(labels);
	if (!i->name || (parent && !i->parent) || !i->labels) {
		ctr_snapshot_info_free(i);
		return ctr_err_nomem(err);
	}
	i->kind = kind;
	i->created_at = created_at;
	i->updated_at = updated_at;
	*out = i;
	return 0;
}

CTR_EXPORT const char *ctr_snapshot_info_name(const ctr_snapshot_info *i) { return i ? i->name : NULL; }
CTR_EXPORT const char *ctr_snapshot_info_parent(const ctr_snapshot_info *i) { return i ? i->parent : NULL; }
CTR_EXPORT ctr_snapshot_kind ctr_snapshot_info_kind(const ctr_snapshot_info *i) { return i ? i->kind : CTR_SNAPSHOT_UNKNOWN; }
CTR_EXPORT const char *const *ctr_snapshot_info_labels(const ctr_snapshot_info *i)
{
	return i ? (const char *const *)i->labels : NULL;
}
CTR_EXPORT int64_t ctr_snapshot_info_created_at(const ctr_snapshot_info *i) { return i ? i->created_at : 0; }
CTR_EXPORT int64_t ctr_snapshot_info_updated_at(const ctr_snapshot_info *i) { return i ? i->updated_at : 0; }

CTR_EXPORT void ctr_snapshot_info_free(ctr_snapshot_info *i)
{
	if (!i)
		return;
	free(i->name);
	free(i->parent);
	ctr_strv_free(i->labels);
	free(i);
}

CTR_EXPORT void ctr_snapshot_info_list_free(ctr_snapshot_info **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		ctr_snapshot_info_free(v[i]);
	free(v);
}

/* ---- adapter ---- */

struct vt_self {
	struct ctr_snapshotter_vtable vt;
	void *self;
};

static int labels_of(const char *json, char ***out, ctr_error **err)
{
	return ctr_md_labels_from_json(out, json, err);
}

static int take_mounts(ctr_mount_list *l, struct ctr_mount **m, size_t *n)
{
	*m = l ? l->v : NULL;
	*n = l ? l->n : 0;
	if (l) {
		l->v = NULL;
		l->n = 0;
		free(l);
	}
	return 0;
}

static int vt_create(struct vt_self *s, bool view, const char *key, const char *parent, const char *labels_json,
		     struct ctr_mount **m, size_t *n, ctr_error **err)
{
	_cleanup_strv_ char **labels = NULL;
	int r = labels_of(labels_json, &labels, err);
	if (r < 0)
		return r;
	ctr_mount_list *l = NULL;
	r = (view ? s->vt.view : s->vt.prepare)(&l, s->self, key, parent, (const char *const *)labels, err);
	if (r < 0)
		return r;
	if (m)
		return take_mounts(l, m, n);
	ctr_mount_list_free(l);
	return 0;
}

static int vt_prepare(void *self, const char *key, const char *parent, const char *labels,
		      struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return vt_create(self, false, key, parent, labels, m, n, err);
}

static int vt_view(void *self, const char *key, const char *parent, const char *labels,
		   struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return vt_create(self, true, key, parent, labels, m, n, err);
}

static int vt_mounts(void *self, const char *key, struct ctr_mount **m, size_t *n, ctr_error **err)
{
	struct vt_self *s = self;
	ctr_mount_list *l = NULL;
	int r = s->vt.mounts(&l, s->self, key, err);
	return r < 0 ? r : take_mounts(l, m, n);
}

static int vt_commit(void *self, const char *name, const char *key, const char *labels_json, ctr_error **err)
{
	struct vt_self *s = self;
	_cleanup_strv_ char **labels = NULL;
	int r = labels_json ? labels_of(labels_json, &labels, err) : 0;
	return r < 0 ? r : s->vt.commit(s->self, name, key, (const char *const *)labels, err);
}

static int vt_remove(void *self, const char *key, ctr_error **err)
{
	struct vt_self *s = self;
	return s->vt.remove(s->self, key, err);
}

static int info_to_internal(const ctr_snapshot_info *i, struct ctr_snap_info *out, ctr_error **err)
{
	struct ctr_snap_info o = {0};
	o.name = strdup(i->name);
	o.parent = i->parent ? strdup(i->parent) : NULL;
	o.kind = (enum ctr_snap_kind)i->kind;
	o.created_at = i->created_at;
	o.updated_at = i->updated_at;
	int r = ctr_md_labels_to_json(&o.labels, (const char *const *)i->labels, err);
	if (r < 0 || !o.name || (i->parent && !o.parent)) {
		ctr_snap_info_clear(&o);
		return r < 0 ? r : ctr_err_nomem(err);
	}
	*out = o;
	return 0;
}

static int vt_stat(void *self, const char *key, struct ctr_snap_info *out, ctr_error **err)
{
	struct vt_self *s = self;
	ctr_snapshot_info *i = NULL;
	int r = s->vt.stat(&i, s->self, key, err);
	if (r < 0)
		return r;
	if (!i)
		return ctr_err(err, CTR_EIO, 0, "snapshotter stat %s returned nothing", key);
	r = info_to_internal(i, out, err);
	ctr_snapshot_info_free(i);
	return r;
}

static int vt_update(void *self, const char *key, const char *labels_json, ctr_error **err)
{
	struct vt_self *s = self;
	if (!s->vt.update)
		return 0;
	_cleanup_strv_ char **labels = NULL;
	int r = labels_of(labels_json, &labels, err);
	return r < 0 ? r : s->vt.update(s->self, key, (const char *const *)labels, err);
}

static int vt_usage(void *self, const char *key, struct ctr_snap_usage *out, ctr_error **err)
{
	struct vt_self *s = self;
	out->size = out->inodes = 0;
	return s->vt.usage ? s->vt.usage(&out->size, &out->inodes, s->self, key, err) : 0;
}

struct walk_ad {
	ctr_snap_walk_fn fn;
	void *ud;
	ctr_error **err;
	int failed;
};

static int walk_one(const ctr_snapshot_info *i, void *ud)
{
	struct walk_ad *w = ud;
	struct ctr_snap_info o;
	int r = info_to_internal(i, &o, w->err);
	if (r < 0)
		return w->failed = r;
	r = w->fn(&o, w->ud);
	ctr_snap_info_clear(&o);
	return r;
}

static int vt_walk(void *self, ctr_snap_walk_fn fn, void *ud, ctr_error **err)
{
	struct vt_self *s = self;
	struct walk_ad w = {fn, ud, err, 0};
	int r = s->vt.walk(s->self, walk_one, &w, err);
	return w.failed ? w.failed : r;
}

static int vt_cleanup(void *self, ctr_error **err)
{
	(void)self;
	(void)err;
	return 0;
}

static int vt_apply_dir(void *self, const char *key, char **path, ctr_error **err)
{
	struct vt_self *s = self;
	if (!s->vt.apply_dir)
		return ctr_err(err, CTR_ENOTSUP, 0, "snapshotter cannot unpack layers (no apply_dir)");
	return s->vt.apply_dir(path, s->self, key, err);
}

static void vt_close(void *self)
{
	struct vt_self *s = self;
	if (s && s->vt.close)
		s->vt.close(s->self);
	free(s);
}

static const struct ctr_snapshotter_ops vt_ops = {
	.prepare = vt_prepare,
	.view = vt_view,
	.mounts = vt_mounts,
	.commit = vt_commit,
	.remove = vt_remove,
	.stat = vt_stat,
	.update = vt_update,
	.usage = vt_usage,
	.walk = vt_walk,
	.cleanup = vt_cleanup,
	.apply_dir = vt_apply_dir,
	.close = vt_close,
};

int ctr_snapshotter_from_vtable(struct ctr_snapshotter **out, const char *name,
				const struct ctr_snapshotter_vtable *vt, void *self, ctr_error **err)
{
	if (!vt || vt->version != CTR_SNAPSHOTTER_VTABLE_VERSION)
		return ctr_err(err, CTR_EINVAL, 0, "snapshotter %s: vtable version %u, want %u", name,
			       vt ? vt->version : 0, CTR_SNAPSHOTTER_VTABLE_VERSION);
	if (!vt->prepare || !vt->view || !vt->mounts || !vt->commit || !vt->remove || !vt->stat || !vt->walk)
		return ctr_err(err, CTR_EINVAL, 0,
			       "snapshotter %s: prepare, view, mounts, commit, remove, stat and walk are required", name);
	struct vt_self *s = calloc(1, sizeof(*s));
	struct ctr_snapshotter *sn = calloc(1, sizeof(*sn));
	if (!s || !sn || !(sn->name = strdup(name))) {
		free(s);
		free(sn);
		return ctr_err_nomem(err);
	}
	s->vt = *vt;
	s->self = self;
	sn->ops = &vt_ops;
	sn->self = s;
	sn->overlay_whiteouts = true;
	*out = sn;
	return 0;
}
