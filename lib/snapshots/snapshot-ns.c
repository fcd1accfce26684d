/* Namespaced snapshots over the client's snapshotters, as containerd's
 * metadata snapshotter: the namespace's record (meta.db) says what it owns,
 * parents and kinds; the snapshotter stores "<ns>/<key>".
 *
 * Order of writes across the two stores: the snapshotter first, then the
 * record, undoing the snapshotter's work when the record fails. A crash in
 * between leaves a snapshotter entry that no record names, which
 * ctr_snapshots_gc_orphans removes after a grace period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctr/namespaces.h>

#include "error.h"
#include "opts.h"
#include "events.h"
#include "metadata.h"
#include "snapshots.h"
#include "ident.h"
#include "macro.h"
#include "strv.h"

/* ---- registry ---- */

static int add_snapshotter(ctr_client *c, struct ctr_snapshotter *s, ctr_error **err)
{
	struct ctr_snapshotter **nv = realloc(c->snaps, (c->n_snaps + 1) * sizeof(*nv));
	if (!nv) {
		ctr_snapshotter_free(s);
		return ctr_err_nomem(err);
	}
	c->snaps = nv;
	c->snaps[c->n_snaps++] = s;
	return 0;
}

static int client_snapshotter(struct ctr_snapshotter **out, ctr_client *c, const char *name, ctr_error **err)
{
	if (!name || !*name)
		name = CTR_DEFAULT_SNAPSHOTTER;
	int r = ctr_ident_validate(name, "snapshotter", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_snaps; i++)
		if (!strcmp(c->snaps[i]->name, name)) {
			*out = c->snaps[i];
			return 0;
		}
	const struct ctr_snapshotter_builtin *b = ctr_snapshotter_builtin_find(name);
	if (!b) {
		char names[256] = "";
		for (size_t i = 0; i < ctr_n_snapshotter_builtins; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 ctr_snapshotter_builtins[i].name);
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshotter %s: not found (built in: %s)", name, names);
	}
	_cleanup_free_ char *dir = ctr_client_snapshotter_dir(c, name);
	if (!dir)
		return ctr_err_nomem(err);
	struct ctr_snapshotter *s = NULL;
	r = b->open(&s, dir, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "snapshotter %s", name);
	if ((r = add_snapshotter(c, s, err)) < 0)
		return r;
	*out = s;
	return 0;
}

/* Two threads asking for the same built-in at once open it once. */
int ctr_client_snapshotter(struct ctr_snapshotter **out, ctr_client *c, const char *name, ctr_error **err)
{
	pthread_mutex_lock(&c->snaps_mu);
	int r = client_snapshotter(out, c, name, err);
	pthread_mutex_unlock(&c->snaps_mu);
	return r;
}

int ctr_snapshotter_name_resolve(char **out, ctr_client *c, const char *ns, const char *name, ctr_error **err)
{
	char *v = NULL;
	if (!name || !*name) {
		int r = ctr_md_ns_label(&v, c->db, ns ? ns : c->ns, CTR_DEFAULT_SNAPSHOTTER_NS_LABEL, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "namespace label %s", CTR_DEFAULT_SNAPSHOTTER_NS_LABEL);
		if (v && (r = ctr_ident_validate(v, "snapshotter", err)) < 0) {
			free(v);
			return ctr_err_prefix(err, r, "namespace label %s", CTR_DEFAULT_SNAPSHOTTER_NS_LABEL);
		}
		name = v ? v : CTR_DEFAULT_SNAPSHOTTER;
	}
	if (!v && !(v = strdup(name)))
		return ctr_err_nomem(err);
	*out = v;
	return 0;
}

int ctr_client_snapshotter_ns(struct ctr_snapshotter **out, ctr_client *c, const char *ns, const char *name,
			      ctr_error **err)
{
	if (name && *name)
		return ctr_client_snapshotter(out, c, name, err);
	_cleanup_free_ char *n = NULL;
	int r = ctr_snapshotter_name_resolve(&n, c, ns, name, err);
	return r < 0 ? r : ctr_client_snapshotter(out, c, n, err);
}

char *ctr_client_snapshotter_dir(ctr_client *c, const char *name)
{
	char *dir = NULL;
	if (asprintf(&dir, "%s/snapshots/%s", c->root, name) < 0)
		return NULL;
	return dir;
}

void ctr_client_snapshotters_close(ctr_client *c)
{
	for (size_t i = 0; i < c->n_snaps; i++)
		ctr_snapshotter_free(c->snaps[i]);
	free(c->snaps);
	c->snaps = NULL;
	c->n_snaps = 0;
}

CTR_EXPORT int ctr_snapshotter_register(ctr_client *c, const char *name,
					       const struct ctr_snapshotter_vtable *vt, void *self,
					       ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "register snapshotter: client is NULL");
	int r = ctr_ident_validate(name, "snapshotter", err);
	if (r < 0)
		return r;
	if (ctr_snapshotter_builtin_find(name))
		return ctr_err(err, CTR_EEXISTS, 0, "snapshotter %s: the name is built in", name);
	pthread_mutex_lock(&c->snaps_mu);
	for (size_t i = 0; i < c->n_snaps && r == 0; i++)
		if (!strcmp(c->snaps[i]->name, name))
			r = ctr_err(err, CTR_EEXISTS, 0, "snapshotter %s: already registered", name);
	struct ctr_snapshotter *s = NULL;
	if (r == 0)
		r = ctr_snapshotter_from_vtable(&s, name, vt, self, err);
	if (r == 0)
		r = add_snapshotter(c, s, err);
	pthread_mutex_unlock(&c->snaps_mu);
	return r;
}

/* ---- keys ---- */

int ctr_snapshot_key_validate(const char *key, ctr_error **err)
{
	if (!key || !*key)
		return ctr_err(err, CTR_EINVAL, 0, "invalid snapshot key: empty");
	size_t n = strlen(key);
	if (n > CTR_SNAPSHOT_KEY_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "invalid snapshot key: longer than %d bytes", CTR_SNAPSHOT_KEY_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return ctr_err(err, CTR_EINVAL, 0, "invalid snapshot key: control character at %zu", i);
	return 0;
}

char *ctr_snapshot_backing_key(const char *ns, const char *key)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", ns, key) < 0)
		return NULL;
	return s;
}

struct call {
	struct ctr_call call;
	const char *ns;
	struct ctr_snapshotter *sn;
};

/* The layer's own entry: every call, public or internal, starts here with
 * plain per-call settings (call may be NULL: the client's namespace, no
 * lease). */
static int begin(struct call *k, ctr_client *c, const char *snapshotter, const char *key,
		 const struct ctr_call *call, const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	k->call = call ? *call : (struct ctr_call){0};
	k->ns = ctr_call_ns(c, &k->call);
	int r = key ? ctr_snapshot_key_validate(key, err) : 0;
	if (r == 0)
		r = ctr_client_snapshotter_ns(&k->sn, c, k->ns, snapshotter, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s", what);
	return 0;
}

/* A public call's options, parsed into the call structure. */
static int parse_call(struct ctr_call *call, ctr_client *c, const ctr_opt *const *opts, size_t n_opts,
		      const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	*call = (struct ctr_call){0};
	int r = ctr_opts_apply(CTR_OPT_CALL, call, call, opts, n_opts, what, err);
	return r < 0 ? ctr_err_prefix(err, r, "%s", what) : 0;
}

/* ---- snapshot options ---- */

static int add_labels(struct ctr_snap_opts *o, const char *const *add, ctr_error **err)
{
	size_t m = ctr_strv_len(add);
	char **v = realloc(o->labels, (o->n_labels + m + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	o->labels = v;
	v[o->n_labels] = NULL;
	for (size_t i = 0; i < m; i++) {
		if (!(v[o->n_labels] = strdup(add[i])))
			return ctr_err_nomem(err);
		v[++o->n_labels] = NULL;
	}
	return 0;
}

static int apply_snap_labels(void *t, void *ud, ctr_error **err)
{
	return add_labels(t, ud, err);
}

static void strv_free(void *p)
{
	ctr_strv_free(p);
}

/* containerd's snapshots.WithLabels. The labels are checked by the call
 * (CTR_EINVAL), as its labels argument is. */
CTR_EXPORT ctr_opt *ctr_with_snapshot_labels(const char *const *labels)
{
	char **v = labels ? ctr_strv_dup(labels) : NULL;
	if (!v)
		return NULL;
	ctr_opt *o = ctr_opt_make(CTR_OPT_SNAPSHOT, "ctr_with_snapshot_labels", apply_snap_labels, v, strv_free);
	if (!o)
		ctr_strv_free(v);
	return o;
}

int ctr_snap_opts_parse(struct ctr_snap_opts *o, struct ctr_call *call, const char *const *labels,
			const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err)
{
	*o = (struct ctr_snap_opts){0};
	int r = labels ? add_labels(o, labels, err) : 0;
	if (r == 0)
		r = ctr_opts_apply(CTR_OPT_SNAPSHOT, o, call, opts, n_opts, what, err);
	return r < 0 ? ctr_err_prefix(err, r, "%s", what) : 0;
}

static int parse_snap(struct ctr_call *call, struct ctr_snap_opts *o, ctr_client *c, const char *const *labels,
		      const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	*call = (struct ctr_call){0};
	return ctr_snap_opts_parse(o, call, labels, opts, n_opts, what, err);
}

static const char *kind_str(enum ctr_snap_kind k)
{
	return k == CTR_SNAP_VIEW ? "view" : k == CTR_SNAP_ACTIVE ? "active" : "committed";
}

static int to_list(ctr_mount_list **out, struct ctr_mount *m, size_t n, ctr_error **err)
{
	ctr_mount_list *l = calloc(1, sizeof(*l));
	if (!l) {
		ctr_mounts_free(m, n);
		return ctr_err_nomem(err);
	}
	l->v = m;
	l->n = n;
	*out = l;
	return 0;
}

int ctr_snapshots_prepare(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter, const char *key,
			  const char *parent, const char *const *labels, bool view, const struct ctr_call *call,
			  ctr_error **err)
{
	enum ctr_snap_kind kind = view ? CTR_SNAP_VIEW : CTR_SNAP_ACTIVE;
	const char *what = view ? "snapshot view" : "snapshot prepare";
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, what, err);
	if (r == 0 && parent && *parent)
		r = ctr_snapshot_key_validate(parent, err);
	if (r == 0 && labels)
		r = ctr_md_labels_validate(labels, err);
	if (r < 0)
		return r;
	if (parent && !*parent)
		parent = NULL;
	/* Check the namespace's view first: the key is free, the parent is
	 * ours and committed. */
	struct ctr_md_snapshot ps = {0};
	r = ctr_md_snapshot_get(NULL, c->db, k.ns, k.sn->name, key, NULL);
	if (r == 0)
		return ctr_err(err, CTR_EEXISTS, 0, "%s %s: already exists", what, key);
	if (parent) {
		if ((r = ctr_md_snapshot_get(&ps, c->db, k.ns, k.sn->name, parent, err)) < 0)
			return ctr_err_prefix(err, r, "%s %s: parent", what, key);
		bool committed = !strcmp(ps.kind, "committed");
		ctr_md_snapshot_clear(&ps);
		if (!committed)
			return ctr_err(err, CTR_EPRECONDITION, 0, "%s %s: parent %s is not committed", what, key, parent);
	}
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(k.ns, key);
	_cleanup_free_ char *bparent = parent ? ctr_snapshot_backing_key(k.ns, parent) : NULL;
	_cleanup_free_ char *json = NULL;
	if (!bkey || (parent && !bparent))
		return ctr_err_nomem(err);
	if ((r = ctr_md_labels_to_json(&json, labels, err)) < 0)
		return r;
	struct ctr_mount *m = NULL;
	size_t n = 0;
	r = (kind == CTR_SNAP_VIEW ? k.sn->ops->view : k.sn->ops->prepare)(k.sn->self, bkey, bparent, json,
									      mounts ? &m : NULL, &n, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s %s", what, key);
	r = ctr_md_snapshot_put(c->db, k.ns, k.sn->name, key, parent, kind_str(kind), labels, &k.call, err);
	if (r < 0) {
		ctr_mounts_free(m, n);
		k.sn->ops->remove(k.sn->self, bkey, NULL);
		return ctr_err_prefix(err, r, "%s %s", what, key);
	}
	ctr_events_publish(c, k.ns, "/snapshot/prepare",
			   json_pack("{s:s,s:s,s:s}", "key", key, "parent", parent ? parent : "", "snapshotter", k.sn->name));
	if (mounts)
		return to_list(mounts, m, n, err);
	return 0;
}

/* prepare and view: call options and snapshot options (their labels join
 * the caller's). */
CTR_EXPORT int ctr_snapshot_prepare(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				    const char *key, const char *parent, const char *const *labels,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	_cleanup_(ctr_snap_opts_clear) struct ctr_snap_opts so = {0};
	int r = parse_snap(&call, &so, c, labels, opts, n_opts, "snapshot prepare", err);
	return r < 0 ? r
		     : ctr_snapshots_prepare(mounts, c, snapshotter, key, parent, (const char *const *)so.labels,
					     false, &call, err);
}

CTR_EXPORT int ctr_snapshot_view(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				 const char *key, const char *parent, const char *const *labels,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	_cleanup_(ctr_snap_opts_clear) struct ctr_snap_opts so = {0};
	int r = parse_snap(&call, &so, c, labels, opts, n_opts, "snapshot view", err);
	return r < 0 ? r
		     : ctr_snapshots_prepare(mounts, c, snapshotter, key, parent, (const char *const *)so.labels,
					     true, &call, err);
}

int ctr_snapshots_mounts(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter, const char *key,
			 const struct ctr_call *call, ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot mounts", err);
	if (r < 0)
		return r;
	if ((r = ctr_md_snapshot_get(NULL, c->db, k.ns, k.sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot mounts");
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(k.ns, key);
	if (!bkey)
		return ctr_err_nomem(err);
	struct ctr_mount *m = NULL;
	size_t n = 0;
	if ((r = k.sn->ops->mounts(k.sn->self, bkey, &m, &n, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot mounts %s", key);
	return to_list(mounts, m, n, err);
}

CTR_EXPORT int ctr_snapshot_mounts(ctr_mount_list **mounts, ctr_client *c, const char *snapshotter,
				   const char *key, const ctr_opt *const *opts, size_t n_opts,
				   ctr_error **err)
{
	struct ctr_call call;
	int r = parse_call(&call, c, opts, n_opts, "snapshot mounts", err);
	return r < 0 ? r : ctr_snapshots_mounts(mounts, c, snapshotter, key, &call, err);
}

/* rebase: key has no parent and name gets `parent` (ctr_snapshots_commit_parent). */
static int commit_impl(ctr_client *c, const char *snapshotter, const char *name, const char *key,
		       bool rebase, const char *parent, const char *const *labels,
		       const struct ctr_call *call, ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot commit", err);
	if (r == 0)
		r = ctr_snapshot_key_validate(name, err);
	if (r == 0 && rebase && parent)
		r = ctr_snapshot_key_validate(parent, err);
	if (r == 0 && rebase && !k.sn->ops->commit_rebase)
		r = ctr_err(err, CTR_ENOTSUP, 0, "snapshot commit %s: snapshotter %s cannot give a parent at commit",
			    key, k.sn->name);
	if (r == 0 && labels)
		r = ctr_md_labels_validate(labels, err);
	if (r < 0)
		return r;
	struct ctr_md_snapshot s = {0};
	if ((r = ctr_md_snapshot_get(&s, c->db, k.ns, k.sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot commit");
	if (strcmp(s.kind, "active") != 0) {
		r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot commit %s: not active (%s)", key, s.kind);
		ctr_md_snapshot_clear(&s);
		return r;
	}
	if (ctr_md_snapshot_get(NULL, c->db, k.ns, k.sn->name, name, NULL) == 0) {
		ctr_md_snapshot_clear(&s);
		return ctr_err(err, CTR_EEXISTS, 0, "snapshot commit %s: %s already exists", key, name);
	}
	if (rebase && s.parent) {
		ctr_md_snapshot_clear(&s);
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot commit %s: already has a parent", key);
	}
	if (rebase && parent) {
		struct ctr_md_snapshot ps = {0};
		if ((r = ctr_md_snapshot_get(&ps, c->db, k.ns, k.sn->name, parent, err)) < 0) {
			ctr_md_snapshot_clear(&s);
			return ctr_err_prefix(err, r, "snapshot commit %s: parent", key);
		}
		bool committed = !strcmp(ps.kind, "committed");
		ctr_md_snapshot_clear(&ps);
		if (!committed) {
			ctr_md_snapshot_clear(&s);
			return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot commit %s: parent %s is not committed", key,
				       parent);
		}
	}
	const char *rec_parent = rebase ? parent : s.parent;
	const char *const *use_labels = labels ? labels : (const char *const *)s.labels;
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(k.ns, key);
	_cleanup_free_ char *bname = ctr_snapshot_backing_key(k.ns, name);
	_cleanup_free_ char *bparent = rebase && parent ? ctr_snapshot_backing_key(k.ns, parent) : NULL;
	_cleanup_free_ char *json = NULL;
	if (!bkey || !bname || (rebase && parent && !bparent))
		r = ctr_err_nomem(err);
	if (r == 0)
		r = ctr_md_labels_to_json(&json, use_labels, err);
	if (r == 0) {
		r = rebase ? k.sn->ops->commit_rebase(k.sn->self, bname, bkey, bparent, json, err)
			   : k.sn->ops->commit(k.sn->self, bname, bkey, json, err);
		if (r < 0)
			ctr_err_prefix(err, r, "snapshot commit %s", key);
	}
	if (r == 0) {
		/* One transaction: the key's record goes, the name's appears. */
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_snapshot_delete_tx(c->db, k.ns, k.sn->name, key, err);
		if (r == 0)
			r = ctr_md_snapshot_put_tx(c->db, k.ns, k.sn->name, name, rec_parent, "committed", use_labels,
						   &k.call, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
		if (r < 0)
			ctr_err_prefix(err, r, "snapshot commit %s", key);
	}
	if (r == 0)
		ctr_events_publish(c, k.ns, "/snapshot/commit",
				   json_pack("{s:s,s:s,s:s}", "key", key, "name", name, "snapshotter", k.sn->name));
	ctr_md_snapshot_clear(&s);
	return r;
}

CTR_EXPORT int ctr_snapshot_commit(ctr_client *c, const char *snapshotter, const char *name,
				   const char *key, const char *const *labels,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	_cleanup_(ctr_snap_opts_clear) struct ctr_snap_opts so = {0};
	int r = parse_snap(&call, &so, c, labels, opts, n_opts, "snapshot commit", err);
	return r < 0 ? r
		     : commit_impl(c, snapshotter, name, key, false, NULL, (const char *const *)so.labels, &call,
				   err);
}

int ctr_snapshots_commit(ctr_client *c, const char *snapshotter, const char *name, const char *key,
			 const char *const *labels, const struct ctr_call *call, ctr_error **err)
{
	return commit_impl(c, snapshotter, name, key, false, NULL, labels, call, err);
}

int ctr_snapshots_commit_parent(ctr_client *c, const char *snapshotter, const char *name, const char *key,
				const char *parent, const char *const *labels, const struct ctr_call *call,
				ctr_error **err)
{
	return commit_impl(c, snapshotter, name, key, true, parent, labels, call, err);
}

/* The snapshotter's entry of a key whose record is gone (one that is
 * already missing is fine), and the event when there was a record. */
static int remove_entry(ctr_client *c, const struct call *k, const char *key, bool had_record, const char *what,
			ctr_error **err)
{
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(k->ns, key);
	if (!bkey)
		return ctr_err_nomem(err);
	int r = k->sn->ops->remove(k->sn->self, bkey, err);
	if (r == CTR_ENOTFOUND)
		ctr_err_drop(err);
	else if (r < 0)
		return ctr_err_prefix(err, r, "%s %s", what, key);
	if (had_record)
		ctr_events_publish(c, k->ns, "/snapshot/remove",
				   json_pack("{s:s,s:s}", "key", key, "snapshotter", k->sn->name));
	return 0;
}

int ctr_snapshots_remove(ctr_client *c, const char *snapshotter, const char *key, const struct ctr_call *call,
			 ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot remove", err);
	if (r < 0)
		return r;
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_snapshot_delete_tx(c->db, k.ns, k.sn->name, key, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "snapshot remove");
	return remove_entry(c, &k, key, true, "snapshot remove", err);
}

int ctr_snapshots_reclaim(ctr_client *c, const char *snapshotter, const char *key, const char *const *leases,
			  size_t n, const struct ctr_call *call, ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot reclaim", err);
	bool had = false;
	if (r == 0)
		r = ctr_md_snapshot_reclaim(&had, c->db, k.ns, k.sn->name, key, leases, n, err);
	return r < 0 ? r : remove_entry(c, &k, key, had, "snapshot reclaim", err);
}

CTR_EXPORT int ctr_snapshot_remove(ctr_client *c, const char *snapshotter, const char *key,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = parse_call(&call, c, opts, n_opts, "snapshot remove", err);
	return r < 0 ? r : ctr_snapshots_remove(c, snapshotter, key, &call, err);
}

static ctr_snapshot_kind public_kind(const char *k)
{
	return !strcmp(k, "view") ? CTR_SNAPSHOT_VIEW : !strcmp(k, "active") ? CTR_SNAPSHOT_ACTIVE
		: !strcmp(k, "committed") ? CTR_SNAPSHOT_COMMITTED : CTR_SNAPSHOT_UNKNOWN;
}

int ctr_snapshots_stat(ctr_snapshot_info **out, ctr_client *c, const char *snapshotter, const char *key,
		       const struct ctr_call *call, ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot stat", err);
	if (r < 0)
		return r;
	struct ctr_md_snapshot s = {0};
	if ((r = ctr_md_snapshot_get(&s, c->db, k.ns, k.sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot stat");
	r = ctr_snapshot_info_new(out, s.key, s.parent, public_kind(s.kind), (const char *const *)s.labels,
				  s.created_at, s.updated_at, err);
	ctr_md_snapshot_clear(&s);
	return r;
}

CTR_EXPORT int ctr_snapshot_stat(ctr_snapshot_info **out, ctr_client *c, const char *snapshotter,
				 const char *key, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err)
{
	struct ctr_call call;
	int r = parse_call(&call, c, opts, n_opts, "snapshot stat", err);
	return r < 0 ? r : ctr_snapshots_stat(out, c, snapshotter, key, &call, err);
}

CTR_EXPORT int ctr_snapshot_update(ctr_client *c, const char *snapshotter, const char *key,
					  const char *const *labels, const ctr_opt *const *opts,
					  size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	struct call k;
	int r = parse_call(&call, c, opts, n_opts, "snapshot label", err);
	if (r == 0)
		r = begin(&k, c, snapshotter, key, &call, "snapshot label", err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, c->db, true, err);
	if (r == 0)
		r = ctr_md_snapshot_update_labels_tx(c->db, k.ns, k.sn->name, key, labels, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	return r < 0 ? ctr_err_prefix(err, r, "snapshot label") : 0;
}

int ctr_snapshots_usage(int64_t *size, int64_t *inodes, ctr_client *c, const char *snapshotter,
			const char *key, const struct ctr_call *call, ctr_error **err)
{
	struct call k;
	int r = begin(&k, c, snapshotter, key, call, "snapshot usage", err);
	if (r < 0)
		return r;
	if ((r = ctr_md_snapshot_get(NULL, c->db, k.ns, k.sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot usage");
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(k.ns, key);
	if (!bkey)
		return ctr_err_nomem(err);
	struct ctr_snap_usage u = {0, 0};
	if ((r = k.sn->ops->usage(k.sn->self, bkey, &u, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot usage %s", key);
	if (size)
		*size = u.size;
	if (inodes)
		*inodes = u.inodes;
	return 0;
}

CTR_EXPORT int ctr_snapshot_usage(int64_t *size, int64_t *inodes, ctr_client *c,
				  const char *snapshotter, const char *key,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = parse_call(&call, c, opts, n_opts, "snapshot usage", err);
	return r < 0 ? r : ctr_snapshots_usage(size, inodes, c, snapshotter, key, &call, err);
}

CTR_EXPORT int ctr_snapshot_list(ctr_snapshot_info ***out, size_t *n_out, ctr_client *c,
				 const char *snapshotter, const char *const *filters,
				 size_t n_filters, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err)
{
	struct ctr_call call;
	struct call k;
	int r = parse_call(&call, c, opts, n_opts, "snapshot list", err);
	if (r == 0)
		r = begin(&k, c, snapshotter, NULL, &call, "snapshot list", err);
	if (r < 0)
		return r;
	struct ctr_md_snapshot *v = NULL;
	size_t n = 0;
	if ((r = ctr_md_snapshot_list(&v, &n, c->db, k.ns, k.sn->name, filters, n_filters, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot list");
	ctr_snapshot_info **res = calloc(n + 1, sizeof(*res));
	for (size_t i = 0; r == 0 && res && i < n; i++)
		r = ctr_snapshot_info_new(&res[i], v[i].key, v[i].parent, public_kind(v[i].kind),
					  (const char *const *)v[i].labels, v[i].created_at, v[i].updated_at, err);
	ctr_md_snapshot_list_free(v, n);
	if (!res)
		return ctr_err_nomem(err);
	if (r < 0) {
		ctr_snapshot_info_list_free(res, n);
		return r;
	}
	*out = res;
	*n_out = n;
	return 0;
}

/* The snapshotter's apply_dir or apply_image (image) for ns/key. */
static int apply_target(char **path, ctr_client *c, const char *snapshotter, const char *ns, const char *key,
			bool image, ctr_error **err)
{
	struct ctr_snapshotter *sn;
	int r = ctr_client_snapshotter_ns(&sn, c, ns, snapshotter, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(ns, key);
	if (!bkey)
		return ctr_err_nomem(err);
	if (image && !sn->ops->apply_image)
		return ctr_err(err, CTR_ENOTSUP, 0, "snapshotter %s takes layers as directories", sn->name);
	if (!image && !sn->ops->apply_dir)
		return ctr_err(err, CTR_ENOTSUP, 0, "snapshotter %s cannot unpack layers", sn->name);
	return (image ? sn->ops->apply_image : sn->ops->apply_dir)(sn->self, bkey, path, err);
}

int ctr_snapshot_apply_dir(char **path, ctr_client *c, const char *snapshotter, const char *ns,
			   const char *key, ctr_error **err)
{
	return apply_target(path, c, snapshotter, ns, key, false, err);
}

int ctr_snapshot_apply_image(char **path, ctr_client *c, const char *snapshotter, const char *ns,
			     const char *key, ctr_error **err)
{
	return apply_target(path, c, snapshotter, ns, key, true, err);
}

/* ---- GC ---- */

int ctr_snapshots_gc_remove(ctr_client *c, const char *ns, const char *snapshotter, const char *key,
			    ctr_error **err)
{
	struct ctr_snapshotter *sn;
	int r = ctr_client_snapshotter(&sn, c, snapshotter, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *bkey = ctr_snapshot_backing_key(ns, key);
	if (!bkey)
		return ctr_err_nomem(err);
	r = sn->ops->remove(sn->self, bkey, err);
	return r == CTR_ENOTFOUND ? 0 : r;
}

struct orphan_walk {
	ctr_client *c;
	struct ctr_snapshotter *sn;
	int64_t cutoff;
	char **keys;
	size_t n, cap;
};

static int collect_orphan(const struct ctr_snap_info *i, void *ud)
{
	struct orphan_walk *w = ud;
	if (i->updated_at > w->cutoff)
		return 0; /* may be between its snapshotter entry and its record */
	const char *slash = strchr(i->name, '/');
	if (!slash)
		return 0;
	_cleanup_free_ char *ns = strndup(i->name, (size_t)(slash - i->name));
	if (!ns)
		return 0;
	if (ctr_md_snapshot_get(NULL, w->c->db, ns, w->sn->name, slash + 1, NULL) != CTR_ENOTFOUND)
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		char **nk = realloc(w->keys, nc * sizeof(char *));
		if (!nk)
			return 0;
		w->keys = nk;
		w->cap = nc;
	}
	w->keys[w->n] = strdup(i->name);
	if (w->keys[w->n])
		w->n++;
	return 0;
}

struct ctr_snapshotter *ctr_snapshots_builtin_on_disk(ctr_client *c, size_t b)
{
	const char *name = ctr_snapshotter_builtins[b].name;
	char path[4200];
	snprintf(path, sizeof(path), "%s/snapshots/%s/metadata.db", c->root, name);
	struct ctr_snapshotter *sn = NULL;
	if (access(path, F_OK) < 0 || ctr_client_snapshotter(&sn, c, name, NULL) < 0)
		return NULL;
	return sn;
}

int ctr_snapshots_gc_orphans(ctr_client *c, int64_t grace_ns, char ***removed, ctr_error **err)
{
	struct ctr_strv_buf out = {0};
	int r = 0;
	for (size_t b = 0; r == 0 && b < ctr_n_snapshotter_builtins; b++) {
		/* Only snapshotters that exist on disk: GC creates nothing. */
		struct ctr_snapshotter *sn = ctr_snapshots_builtin_on_disk(c, b);
		if (!sn)
			continue;
		struct orphan_walk w = {.c = c, .sn = sn, .cutoff = ctr_db_now() - grace_ns};
		r = sn->ops->walk(sn->self, collect_orphan, &w, err);
		/* Children first: remove repeatedly while something goes. */
		bool progress = true;
		while (r == 0 && progress) {
			progress = false;
			for (size_t i = 0; i < w.n; i++) {
				if (!w.keys[i])
					continue;
				int q = sn->ops->remove(sn->self, w.keys[i], NULL);
				if (q == 0 || q == CTR_ENOTFOUND) {
					if (q == 0)
						r = ctr_strv_buf_addf(&out, err, "snapshot %s/%s", sn->name, w.keys[i]);
					free(w.keys[i]);
					w.keys[i] = NULL;
					progress = true;
				}
			}
		}
		for (size_t i = 0; i < w.n; i++)
			free(w.keys[i]);
		free(w.keys);
		if (r == 0 && sn->ops->cleanup)
			r = sn->ops->cleanup(sn->self, err);
	}
	if (r < 0) {
		ctr_strv_buf_clear(&out);
		return r;
	}
	*removed = ctr_strv_buf_steal(&out, err);
	return *removed ? 0 : CTR_ENOMEM;
}
