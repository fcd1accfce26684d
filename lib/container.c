/* Containers: records in meta.db plus what creating one involves (a
 * snapshot from the image, a generated spec), as containerd's
 * client.NewContainer with its NewContainerOpts. Options only collect what
 * was asked; ctr_container_new then does the work in a fixed order
 * (snapshot, spec, record) and undoes the snapshot when a later step fails. */
#include <ctr/container.h>
#include <ctr/spec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "container.h"
#include "container-cfg.h"
#include "error.h"
#include "events.h"
#include "image-ns.h"
#include "metadata.h"
#include "spec-internal.h"
#include "snapshots.h"
#include "ident.h"
#include "json.h"
#include "macro.h"
#include "strv.h"

void ctr_container_cfg_clear(struct ctr_cfg *c)
{
	free(c->image);
	free(c->snap_key);
	free(c->snap_image_ns);
	free(c->snapshotter);
	free(c->spec);
	free(c->runtime);
	ctr_strv_free(c->labels);
	json_decref(c->extensions);
	ctr_strv_free(c->fields);
	ctr_snap_opts_clear(&c->snap_opts);
}

static int set(char **dst, const char *v, ctr_error **err)
{
	char *s = strdup(v);
	if (!s)
		return ctr_err_nomem(err);
	free(*dst);
	*dst = s;
	return 0;
}

/* ---- options ---- */

static int apply_image(void *t, void *ud, ctr_error **err)
{
	const ctr_image *img = ud;
	return set(&((struct ctr_cfg *)t)->image, ctr_image_name(img), err);
}

CTR_EXPORT ctr_opt *ctr_with_image(const ctr_image *img)
{
	return img ? ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_image", apply_image, (void *)img, NULL) : NULL;
}

static int apply_image_name(void *t, void *ud, ctr_error **err)
{
	int r = ctr_md_image_name_validate(ud, err);
	return r < 0 ? ctr_err_prefix(err, r, "ctr_with_image_name") : set(&((struct ctr_cfg *)t)->image, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_image_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_CONTAINER, "ctr_with_image_name", apply_image_name, name) : NULL;
}

struct snap_arg {
	char *key;
	const ctr_image *img;
	bool view;
	const ctr_opt *const *opts; /* borrowed */
	size_t n_opts;
	bool remap; /* WithRemappedSnapshot: container IDs 0..65535 are uid.., gid.. */
	uint32_t uid, gid;
};

static void snap_arg_free(void *p)
{
	struct snap_arg *a = p;
	if (a)
		free(a->key);
	free(a);
}

static int apply_new_snapshot(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	struct snap_arg *a = ud;
	int r = ctr_snapshot_key_validate(a->key, err);
	if (r < 0)
		return r;
	if ((r = set(&c->snap_key, a->key, err)) < 0)
		return r;
	c->snap_new = true;
	c->snap_view = a->view;
	c->snap_image = a->img;
	c->snap_new_opts = a->opts;
	c->n_snap_new_opts = a->n_opts;
	if (!a->remap)
		return 0;
	/* containerd's WithRemappedSnapshot records the image too. */
	if ((r = set(&c->image, ctr_image_name(a->img), err)) < 0)
		return r;
	char u[40], g[40];
	snprintf(u, sizeof(u), "0:%u:65536", a->uid);
	snprintf(g, sizeof(g), "0:%u:65536", a->gid);
	if ((r = ctr_snap_opts_add_label(&c->snap_opts, CTR_SNAPSHOT_LABEL_UIDMAPPING, u, err)) < 0)
		return r;
	return ctr_snap_opts_add_label(&c->snap_opts, CTR_SNAPSHOT_LABEL_GIDMAPPING, g, err);
}

static ctr_opt *new_snapshot(const char *name, const char *key, const ctr_image *img, bool view,
			     const ctr_opt *const *opts, size_t n_opts, bool remap, uint32_t uid, uint32_t gid)
{
	if (!key || !img || (n_opts && !opts) ||
	    (remap && ((uint64_t)uid + 65536 > (uint64_t)UINT32_MAX + 1 ||
		       (uint64_t)gid + 65536 > (uint64_t)UINT32_MAX + 1)))
		return NULL;
	struct snap_arg *a = calloc(1, sizeof(*a));
	if (!a || !(a->key = strdup(key))) {
		free(a);
		return NULL;
	}
	a->img = img;
	a->view = view;
	a->opts = opts;
	a->n_opts = n_opts;
	a->remap = remap;
	a->uid = uid;
	a->gid = gid;
	return ctr_opt_make(CTR_OPT_CONTAINER, name, apply_new_snapshot, a, snap_arg_free);
}

CTR_EXPORT ctr_opt *ctr_with_new_snapshot(const char *key, const ctr_image *img)
{
	return new_snapshot("ctr_with_new_snapshot", key, img, false, NULL, 0, false, 0, 0);
}

CTR_EXPORT ctr_opt *ctr_with_new_snapshot_view(const char *key, const ctr_image *img)
{
	return new_snapshot("ctr_with_new_snapshot_view", key, img, true, NULL, 0, false, 0, 0);
}

CTR_EXPORT ctr_opt *ctr_with_new_snapshot_opts(const char *key, const ctr_image *img,
					       const ctr_opt *const *snapshot_opts, size_t n_snapshot_opts)
{
	return new_snapshot("ctr_with_new_snapshot_opts", key, img, false, snapshot_opts, n_snapshot_opts, false, 0,
			    0);
}

CTR_EXPORT ctr_opt *ctr_with_new_snapshot_view_opts(const char *key, const ctr_image *img,
						    const ctr_opt *const *snapshot_opts, size_t n_snapshot_opts)
{
	return new_snapshot("ctr_with_new_snapshot_view_opts", key, img, true, snapshot_opts, n_snapshot_opts, false,
			    0, 0);
}

CTR_EXPORT ctr_opt *ctr_with_remapped_snapshot(const char *key, const ctr_image *img, uint32_t uid, uint32_t gid)
{
	return new_snapshot("ctr_with_remapped_snapshot", key, img, false, NULL, 0, true, uid, gid);
}

CTR_EXPORT ctr_opt *ctr_with_remapped_snapshot_view(const char *key, const ctr_image *img, uint32_t uid,
						    uint32_t gid)
{
	return new_snapshot("ctr_with_remapped_snapshot_view", key, img, true, NULL, 0, true, uid, gid);
}

static int apply_snapshot(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	int r = ctr_snapshot_key_validate(ud, err);
	if (r == 0)
		r = set(&c->snap_key, ud, err);
	if (r == 0) {
		c->snap_new = false;
		c->snap_image = NULL;
		ctr_snap_opts_clear(&c->snap_opts);
	}
	return r;
}

CTR_EXPORT ctr_opt *ctr_with_snapshot(const char *key)
{
	return key ? ctr_opt_make_str(CTR_OPT_CONTAINER, "ctr_with_snapshot", apply_snapshot, key) : NULL;
}

static int apply_snapshotter(void *t, void *ud, ctr_error **err)
{
	int r = ctr_ident_validate(ud, "snapshotter", err);
	return r < 0 ? r : set(&((struct ctr_cfg *)t)->snapshotter, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_snapshotter(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_CONTAINER, "ctr_with_snapshotter", apply_snapshotter, name) : NULL;
}

struct spec_opts_arg {
	const ctr_opt *const *opts;
	size_t n;
};

static int apply_new_spec(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct ctr_cfg *c = t;
	struct spec_opts_arg *a = ud;
	c->new_spec = true;
	c->spec_opts = a->opts;
	c->n_spec_opts = a->n;
	free(c->spec);
	c->spec = NULL;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_new_spec(const ctr_opt *const *spec_opts, size_t n_spec_opts)
{
	if (n_spec_opts && !spec_opts)
		return NULL;
	struct spec_opts_arg *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->opts = spec_opts;
	a->n = n_spec_opts;
	return ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_new_spec", apply_new_spec, a, free);
}

static int apply_spec(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	json_t *j = NULL;
	int r = ctr_json_parse(ud, strlen(ud), 16u << 20, CTR_JSON_MAX_DEPTH, "spec", &j, err);
	if (r < 0)
		return r;
	bool obj = json_is_object(j);
	json_decref(j);
	if (!obj)
		return ctr_err(err, CTR_EINVAL, 0, "spec: not a JSON object");
	c->new_spec = false;
	return set(&c->spec, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_spec(const char *spec_json)
{
	return spec_json ? ctr_opt_make_str(CTR_OPT_CONTAINER, "ctr_with_spec", apply_spec, spec_json) : NULL;
}

static int apply_runtime(void *t, void *ud, ctr_error **err)
{
	const char *rt = ud;
	int r = ctr_runtime_name_validate(rt, "runtime", err);
	return r < 0 ? r : set(&((struct ctr_cfg *)t)->runtime, rt, err);
}

CTR_EXPORT ctr_opt *ctr_with_runtime(const char *runtime)
{
	return runtime ? ctr_opt_make_str(CTR_OPT_CONTAINER, "ctr_with_runtime", apply_runtime, runtime) : NULL;
}

static void strv_free_ud(void *p) { ctr_strv_free(p); }

static int apply_labels(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	const char *const *l = ud;
	int r = ctr_md_labels_validate(l, err);
	if (r < 0)
		return r;
	size_t have = 0, add = 0;
	while (c->labels && c->labels[have])
		have++;
	while (l[add])
		add++;
	char **nv = realloc(c->labels, (have + add + 1) * sizeof(char *));
	if (!nv)
		return ctr_err_nomem(err);
	c->labels = nv;
	for (size_t i = 0; i < add; i++)
		if (!(nv[have + i] = strdup(l[i]))) {
			nv[have + i] = NULL;
			return ctr_err_nomem(err);
		}
	nv[have + add] = NULL;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_container_labels(const char *const *labels)
{
	char **copy = labels ? ctr_strv_dup(labels) : NULL;
	if (!copy)
		return NULL;
	return ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_container_labels", apply_labels, copy, strv_free_ud);
}

static void ext_free(void *p)
{
	struct ext *e = p;
	if (e) {
		free(e->name);
		json_decref(e->value);
	}
	free(e);
}

static int apply_ext(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	struct ext *e = ud;
	if (!e->value)
		return ctr_err(err, CTR_EINVAL, 0, "extension %s: value is not valid JSON", e->name);
	if (!c->extensions && !(c->extensions = json_object()))
		return ctr_err_nomem(err);
	return json_object_set(c->extensions, e->name, e->value) == 0 ? 0 : ctr_err_nomem(err);
}

CTR_EXPORT ctr_opt *ctr_with_container_extension(const char *name, const char *json)
{
	if (!name || !json)
		return NULL;
	struct ext *e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	e->value = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	return ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_container_extension", apply_ext, e, ext_free);
}

static int apply_cleanup(void *t, void *ud, ctr_error **err)
{
	(void)ud;
	(void)err;
	((struct ctr_cfg *)t)->cleanup_snapshot = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_snapshot_cleanup(void)
{
	return ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_snapshot_cleanup", apply_cleanup, NULL, NULL);
}

/* ---- handles ---- */

CTR_EXPORT const char *ctr_container_id(const ctr_container *k) { return k ? k->md.id : NULL; }
CTR_EXPORT const char *ctr_container_namespace(const ctr_container *k) { return k ? k->ns : NULL; }
CTR_EXPORT const char *ctr_container_image_name(const ctr_container *k) { return k ? k->md.image : NULL; }
CTR_EXPORT const char *ctr_container_runtime(const ctr_container *k) { return k ? k->md.runtime : NULL; }
CTR_EXPORT const char *ctr_container_spec(const ctr_container *k) { return k ? k->md.spec : NULL; }
CTR_EXPORT const char *ctr_container_snapshotter(const ctr_container *k) { return k ? k->md.snapshotter : NULL; }
CTR_EXPORT const char *ctr_container_snapshot_key(const ctr_container *k) { return k ? k->md.snapshot_key : NULL; }
CTR_EXPORT const char *const *ctr_container_labels(const ctr_container *k)
{
	return k ? (const char *const *)k->md.labels : NULL;
}
CTR_EXPORT const char *ctr_container_extensions(const ctr_container *k) { return k ? k->md.extensions : NULL; }
CTR_EXPORT int64_t ctr_container_created_at(const ctr_container *k) { return k ? k->md.created_at : 0; }
CTR_EXPORT int64_t ctr_container_updated_at(const ctr_container *k) { return k ? k->md.updated_at : 0; }
CTR_EXPORT ctr_client *ctr_container_client(const ctr_container *k) { return k ? k->c : NULL; }

CTR_EXPORT void ctr_container_free(ctr_container *k)
{
	if (!k)
		return;
	ctr_md_container_clear(&k->md);
	free(k->ns);
	ctr_client_free(k->c);
	free(k);
}

CTR_EXPORT void ctr_container_list_free(ctr_container **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		ctr_container_free(v[i]);
	free(v);
}

int ctr_container_wrap(ctr_container **out, ctr_client *c, const char *ns, struct ctr_md_container *md,
		       ctr_error **err)
{
	ctr_container *k = calloc(1, sizeof(*k));
	if (!k || !(k->ns = strdup(ns))) {
		free(k);
		ctr_md_container_clear(md);
		return ctr_err_nomem(err);
	}
	k->md = *md;
	memset(md, 0, sizeof(*md));
	k->c = ctr_client_ref(c);
	*out = k;
	return 0;
}

static int begin(struct ctr_call *call, ctr_client *c, struct ctr_cfg *cfg, const ctr_opt *const *opts,
		 size_t n, const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	*call = (struct ctr_call){0};
	return ctr_opts_apply(CTR_OPT_CONTAINER, cfg, call, opts, n, what, err);
}

/* Generates the spec, resolving users in the container's snapshot. */
int ctr_container_gen_spec(char **out, char **stop_signal, ctr_client *c, const char *ns, const char *id,
		    const struct ctr_cfg *cfg, const char *snapshotter, ctr_error **err)
{
	_cleanup_close_ int rootfd = -1;
	if (cfg->snap_key) {
		ctr_mount_list *ml = NULL;
		if (ctr_snapshots_mounts(&ml, c, snapshotter, cfg->snap_key, &(struct ctr_call){.ns = ns}, NULL) == 0)
			ctr_mounts_open_root(ml->v, ml->n, &rootfd, NULL); /* no root: numeric users only */
		ctr_mount_list_free(ml);
	}
	ctr_spec *s = NULL;
	int r = ctr_spec_new_at(&s, ns, id, rootfd, cfg->spec_opts, cfg->n_spec_opts, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "spec");
	r = ctr_spec_to_json(out, s, 0, err);
	if (r == 0 && stop_signal && !(*stop_signal = strdup(ctr_spec_stop_signal(s)))) {
		free(*out);
		*out = NULL;
		r = ctr_err_nomem(err);
	}
	ctr_spec_free(s);
	return r;
}

CTR_EXPORT int ctr_container_new(ctr_container **out, ctr_client *c, const char *id,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	struct ctr_cfg cfg = {0};
	int r = ctr_ident_validate(id, "container id", err);
	if (r == 0 && !c)
		r = ctr_err(err, CTR_EINVAL, 0, "new container: client is NULL");
	if (r == 0) {
		/* snapshot options go to the snapshot ctr_with_new_snapshot makes */
		call = (struct ctr_call){0};
		const struct ctr_opt_target tg[] = {{CTR_OPT_CONTAINER, &cfg}, {CTR_OPT_SNAPSHOT, &cfg.snap_opts}};
		r = ctr_opts_apply_multi(tg, 2, &call, opts, n_opts, "new container", err);
	}
	if (r == 0 && cfg.snap_opts.n_labels && !cfg.snap_new)
		r = ctr_err(err, CTR_EINVAL, 0, "new container: snapshot options need ctr_with_new_snapshot or "
			    "ctr_with_new_snapshot_view");
	if (r < 0) {
		ctr_container_cfg_clear(&cfg);
		return r;
	}
	const char *ns = ctr_call_ns(c, &call);
	_cleanup_free_ char *snapshotter = NULL, *runtime = NULL;
	struct ctr_md_container md = {0};
	_cleanup_free_ char *ext = NULL, *tmp_lease = NULL;
	bool made_snapshot = false;
	if (ctr_md_container_get(NULL, c->db, ns, id, NULL) == 0) {
		r = ctr_err(err, CTR_EEXISTS, 0, "container \"%s\": already exists", id);
		goto out;
	}
	/* containerd's order: the container's own, else the defaults (the
	 * client's and the namespace's labels, lib/container-runtime.c). */
	if ((r = ctr_snapshotter_name_resolve(&snapshotter, c, ns, cfg.snapshotter, err)) < 0)
		goto out;
	if (cfg.runtime)
		runtime = TAKE_PTR(cfg.runtime);
	else if ((r = ctr_container_default_runtime(&runtime, c, ns, err)) < 0)
		goto out;
	/* A new snapshot has no owner until the container record names it: a
	 * lease of our own (unless the caller gave one) holds it against a
	 * collection in another thread or process until then. */
	if (cfg.snap_key && cfg.snap_new && !call.lease &&
	    (r = ctr_container_lease_create(&tmp_lease, c, ns, snapshotter, cfg.snap_key, err)) < 0)
		goto out;
	const char *lease_id = call.lease ? call.lease : tmp_lease;
	const struct ctr_call snap_call = {.ns = ns, .lease = lease_id};
	if (cfg.snap_key && cfg.snap_new) {
		_cleanup_free_ char *chain = NULL;
		_cleanup_(ctr_snap_opts_clear) struct ctr_snap_opts so = {0};
		r = ctr_snap_opts_parse(&so, NULL, (const char *const *)cfg.snap_opts.labels, cfg.snap_new_opts,
					cfg.n_snap_new_opts, "new snapshot", err);
		if (r == 0)
			r = ctr_image_chain_id(&chain, cfg.snap_image, err);
		if (r == 0) {
			r = ctr_snapshots_prepare_mapped(c, snapshotter, cfg.snap_key, chain,
							 (const char *const *)so.labels, cfg.snap_view, &snap_call, err);
			/* Left by a create of ours that was killed before its
			 * record: the same create again takes its place. */
			if (r == CTR_EEXISTS && tmp_lease &&
			    ctr_container_lease_reclaim(c, ns, snapshotter, cfg.snap_key, tmp_lease) > 0) {
				ctr_err_drop(err);
				r = ctr_snapshots_prepare_mapped(c, snapshotter, cfg.snap_key, chain,
								 (const char *const *)so.labels, cfg.snap_view,
								 &snap_call, err);
			}
			if (r == CTR_ENOTFOUND)
				ctr_err_prefix(err, r, "image %s is not unpacked in %s", ctr_image_name(cfg.snap_image), snapshotter);
		}
		made_snapshot = r == 0;
	} else if (cfg.snap_key) {
		r = ctr_md_snapshot_get(NULL, c->db, ns, snapshotter, cfg.snap_key, err);
	}
	if (r < 0)
		goto out;
	if (cfg.new_spec || !cfg.spec) {
		free(cfg.spec);
		cfg.spec = NULL;
		_cleanup_free_ char *sig = NULL;
		if ((r = ctr_container_gen_spec(&cfg.spec, &sig, c, ns, id, &cfg, snapshotter, err)) < 0)
			goto out;
		/* containerd's WithImageStopSignal(image, "SIGTERM"): the stop
		 * signal travels as a label so any process can kill right. */
		bool given = false;
		for (size_t i = 0; cfg.labels && cfg.labels[i]; i++)
			given |= !strncmp(cfg.labels[i], CTR_STOP_SIGNAL_LABEL "=", strlen(CTR_STOP_SIGNAL_LABEL) + 1);
		if (!given && cfg.image) {
			_cleanup_free_ char *l = NULL;
			const char *lv[2] = {NULL, NULL};
			if (asprintf(&l, "%s=%s", CTR_STOP_SIGNAL_LABEL, sig) < 0) {
				r = ctr_err_nomem(err);
				goto out;
			}
			lv[0] = l;
			if ((r = apply_labels(&cfg, (void *)lv, err)) < 0)
				goto out;
		}
	}
	md.id = (char *)id;
	md.image = cfg.image;
	md.runtime = runtime;
	md.spec = cfg.spec;
	md.snapshotter = cfg.snap_key ? snapshotter : NULL;
	md.snapshot_key = cfg.snap_key;
	ext = cfg.extensions ? ctr_json_dump(cfg.extensions) : NULL;
	md.extensions = ext;
	md.labels = cfg.labels;
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_container_write_tx(c->db, ns, &md, true, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	memset(&md, 0, sizeof(md));
	if (r < 0)
		goto out;
	ctr_events_publish(c, ns, "/containers/create",
			   json_pack("{s:s,s:s,s:{s:s}}", "id", id, "image", cfg.image ? cfg.image : "", "runtime",
				     "name", runtime));
	if (out) {
		struct ctr_md_container got = {0};
		r = ctr_md_container_get(&got, c->db, ns, id, err);
		if (r == 0)
			r = ctr_container_wrap(out, c, ns, &got, err);
	}
out:
	if (r < 0 && made_snapshot) {
		ctr_snapshots_remove(c, snapshotter, cfg.snap_key, &(struct ctr_call){.ns = ns}, NULL);
	}
	if (tmp_lease)
		ctr_md_lease_delete(c->db, ns, tmp_lease, NULL);
	ctr_container_cfg_clear(&cfg);
	return r < 0 ? ctr_err_prefix(err, r, "new container %s", id) : 0;
}

CTR_EXPORT int ctr_container_load(ctr_container **out, ctr_client *c, const char *id,
					 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	struct ctr_cfg cfg = {0};
	int r = ctr_ident_validate(id, "container id", err);
	if (r == 0)
		r = begin(&call, c, &cfg, opts, n_opts, "load container", err);
	ctr_container_cfg_clear(&cfg);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	struct ctr_md_container md = {0};
	if ((r = ctr_md_container_get(&md, c->db, ns, id, err)) < 0)
		return r;
	return ctr_container_wrap(out, c, ns, &md, err);
}

CTR_EXPORT int ctr_container_list(ctr_container ***out, size_t *n_out, ctr_client *c,
					  const char *const *filters, size_t n_filters,
					  const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	struct ctr_cfg cfg = {0};
	int r = begin(&call, c, &cfg, opts, n_opts, "list containers", err);
	ctr_container_cfg_clear(&cfg);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	struct ctr_md_container *v = NULL;
	size_t n = 0;
	if ((r = ctr_md_container_list(&v, &n, c->db, ns, filters, n_filters, err)) < 0)
		return r;
	ctr_container **res = calloc(n + 1, sizeof(*res));
	for (size_t i = 0; i < n; i++) {
		if (res && r == 0)
			r = ctr_container_wrap(&res[i], c, ns, &v[i], err);
		else
			ctr_md_container_clear(&v[i]);
	}
	free(v);
	if (!res)
		return ctr_err_nomem(err);
	if (r < 0) {
		ctr_container_list_free(res, n);
		return r;
	}
	*out = res;
	*n_out = n;
	return 0;
}

CTR_EXPORT int ctr_container_image(ctr_image **out, const ctr_container *k, ctr_error **err)
{
	if (!k)
		return ctr_err(err, CTR_EINVAL, 0, "container is NULL");
	if (!k->md.image)
		return ctr_err(err, CTR_ENOTFOUND, 0, "container %s has no image", k->md.id);
	return ctr_images_get(out, k->c, k->ns, k->md.image, err);
}

CTR_EXPORT int ctr_container_delete(ctr_container *k, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err)
{
	if (!k)
		return ctr_err(err, CTR_EINVAL, 0, "container is NULL");
	struct ctr_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_CONTAINER, &cfg, NULL, opts, n_opts, "delete container", err);
	bool cleanup = cfg.cleanup_snapshot;
	ctr_container_cfg_clear(&cfg);
	if (r < 0)
		return r;
	if ((r = ctr_container_task_check(k, err)) < 0)
		return r;
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, k->c->db, true, err);
		if (r == 0) {
			_cleanup_stmt_ sqlite3_stmt *st = NULL;
			r = ctr_db_prepare(k->c->db, &st, "DELETE FROM containers WHERE ns = ?1 AND id = ?2", err);
			if (r == 0)
				r = ctr_db_bind_texts(k->c->db, st, err, 2, k->ns, k->md.id);
			if (r == 0)
				r = ctr_db_step_done(k->c->db, st, err, "delete container");
			if (r == 0 && sqlite3_changes(k->c->db->h) == 0)
				r = ctr_err(err, CTR_ENOTFOUND, 0, "container \"%s\": not found", k->md.id);
		}
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "delete container %s", k->md.id);
	if (cleanup && k->md.snapshot_key) {
		r = ctr_snapshots_remove(k->c, k->md.snapshotter, k->md.snapshot_key, &(struct ctr_call){.ns = k->ns},
					 err);
		if (r == CTR_ENOTFOUND)
			r = 0;
	}
	ctr_events_publish(k->c, k->ns, "/containers/delete", json_pack("{s:s}", "id", k->md.id));
	return r;
}

static json_t *labels_obj(char **labels)
{
	json_t *o = json_object();
	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		if (!eq)
			continue;
		char *key = strndup(labels[i], (size_t)(eq - labels[i]));
		if (key)
			json_object_set_new(o, key, json_string(eq + 1));
		free(key);
	}
	return o;
}

static json_t *rfc3339(int64_t ns)
{
	char buf[64], out[80];
	time_t s = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%09lldZ", buf, (long long)(ns % 1000000000LL));
	return json_string(out);
}

CTR_EXPORT int ctr_container_info(char **json_out, const ctr_container *k, ctr_error **err)
{
	if (!k)
		return ctr_err(err, CTR_EINVAL, 0, "container is NULL");
	json_t *spec = json_loads(k->md.spec ? k->md.spec : "null", JSON_DECODE_ANY, NULL);
	json_t *ext = json_loads(k->md.extensions ? k->md.extensions : "{}", 0, NULL);
	json_t *o = json_pack("{s:s,s:o,s:s,s:{s:s},s:o,s:s?,s:s?,s:o,s:o,s:o}", "ID", k->md.id, "Labels",
			      labels_obj(k->md.labels), "Image", k->md.image ? k->md.image : "", "Runtime",
			      "Name", k->md.runtime, "Spec", spec ? spec : json_null(), "SnapshotKey",
			      k->md.snapshot_key, "Snapshotter", k->md.snapshotter, "CreatedAt",
			      rfc3339(k->md.created_at), "UpdatedAt", rfc3339(k->md.updated_at), "Extensions",
			      ext ? ext : json_object());
	if (!o)
		return ctr_err_nomem(err);
	char *s = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return ctr_err_nomem(err);
	*json_out = s;
	return 0;
}
