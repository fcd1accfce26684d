/* Updating a container record (containerd's containers.Store Update):
 * labels, and the option-driven update, by containerd's field paths. */
#include <ctr/container.h>

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "container.h"
#include "container-cfg.h"
#include "error.h"
#include "events.h"
#include "json.h"
#include "metadata.h"
#include "snapshots.h"
#include "strv.h"
#include "macro.h"

static int store(ctr_container *k, struct ctr_md_container *md, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, k->c->db, true, err);
	if (r == 0)
		r = ctr_md_container_write_tx(k->c->db, k->ns, md, false, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	if (r < 0)
		return r;
	struct ctr_md_container got = {0};
	if ((r = ctr_md_container_get(&got, k->c->db, k->ns, k->md.id, err)) < 0)
		return r;
	ctr_md_container_clear(&k->md);
	k->md = got;
	ctr_events_publish(k->c, k->ns, "/containers/update", json_pack("{s:s}", "id", k->md.id));
	return 0;
}

CTR_EXPORT int ctr_container_set_labels(ctr_container *k, const char *const *labels, ctr_error **err)
{
	if (!k)
		return ctr_err(err, CTR_EINVAL, 0, "container is NULL");
	_cleanup_free_ char *old = NULL, *merged = NULL;
	int r = ctr_md_labels_to_json(&old, (const char *const *)k->md.labels, err);
	if (r == 0)
		r = ctr_md_labels_merge(&merged, old, labels, false, err);
	_cleanup_strv_ char **nl = NULL;
	if (r == 0)
		r = ctr_md_labels_from_json(&nl, merged, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "container %s labels", k->md.id);
	struct ctr_md_container md = k->md;
	md.labels = nl;
	return store(k, &md, err);
}

static void strv_free_ud(void *p) { ctr_strv_free(p); }

static int apply_fields(void *t, void *ud, ctr_error **err)
{
	struct ctr_cfg *c = t;
	char **copy = ctr_strv_dup((const char *const *)ud);
	if (!copy)
		return ctr_err_nomem(err);
	ctr_strv_free(c->fields);
	c->fields = copy;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_update_fields(const char *const *paths)
{
	char **copy = paths ? ctr_strv_dup(paths) : NULL;
	if (!copy)
		return NULL;
	return ctr_opt_make(CTR_OPT_CONTAINER, "ctr_with_update_fields", apply_fields, copy, strv_free_ud);
}

/* The label updates for path "labels.<key>": the options' value of key,
 * or its removal when they do not set it. */
static int label_update(char **out, const struct ctr_cfg *cfg, const char *key, ctr_error **err)
{
	size_t kl = strlen(key);
	for (size_t i = 0; cfg->labels && cfg->labels[i]; i++)
		if (!strncmp(cfg->labels[i], key, kl) && cfg->labels[i][kl] == '=')
			return (*out = strdup(cfg->labels[i])) ? 0 : ctr_err_nomem(err);
	return asprintf(out, "%s=", key) < 0 ? ctr_err_nomem(err) : 0;
}

/* Applies the field paths (containerd's names) to md, which starts as the
 * stored record: each named part comes from the options, the rest stays.
 * *labels_json and *ext are md's new storage. */
static int apply_paths(struct ctr_md_container *md, const struct ctr_cfg *cfg, char **const fields, char **spec,
		       char **labels_out, char **ext_out, ctr_error **err)
{
	_cleanup_free_ char *ljson = NULL;
	int r = ctr_md_labels_to_json(&ljson, (const char *const *)md->labels, err);
	json_t *ext = json_loads(md->extensions ? md->extensions : "{}", 0, NULL);
	if (!ext || !json_is_object(ext)) {
		json_decref(ext);
		ext = json_object();
	}
	for (size_t i = 0; r == 0 && fields[i]; i++) {
		const char *f = fields[i];
		if (!strncmp(f, "labels.", 7) && f[7]) {
			_cleanup_free_ char *u = NULL, *merged = NULL;
			r = label_update(&u, cfg, f + 7, err);
			const char *uv[] = {u, NULL};
			if (r == 0)
				r = ctr_md_labels_merge(&merged, ljson, uv, false, err);
			if (r == 0) {
				free(ljson);
				ljson = TAKE_PTR(merged);
			}
		} else if (!strcmp(f, "labels")) {
			_cleanup_free_ char *merged = NULL;
			const char *none[] = {NULL};
			r = ctr_md_labels_merge(&merged, "{}", cfg->labels ? (const char *const *)cfg->labels : none, true,
						err);
			if (r == 0) {
				free(ljson);
				ljson = TAKE_PTR(merged);
			}
		} else if (!strncmp(f, "extensions.", 11) && f[11]) {
			json_t *v = cfg->extensions ? json_object_get(cfg->extensions, f + 11) : NULL;
			if (v)
				json_object_set(ext, f + 11, v);
			else
				json_object_del(ext, f + 11);
		} else if (!strcmp(f, "extensions")) {
			json_decref(ext);
			ext = cfg->extensions ? json_deep_copy(cfg->extensions) : json_object();
		} else if (!strcmp(f, "spec")) {
			if (!*spec)
				r = ctr_err(err, CTR_EINVAL, 0, "field spec: no ctr_with_spec or ctr_with_new_spec given");
			else
				md->spec = *spec;
		} else if (!strcmp(f, "image")) {
			md->image = cfg->image; /* none given: the container has no image */
		} else if (!strcmp(f, "runtime")) {
			if (!cfg->runtime)
				r = ctr_err(err, CTR_EINVAL, 0, "field runtime: no ctr_with_runtime given");
			else
				md->runtime = cfg->runtime;
		} else if (!strcmp(f, "snapshotkey")) {
			md->snapshot_key = cfg->snap_key;
			md->snapshotter = cfg->snap_key ? (cfg->snapshotter ? cfg->snapshotter : (char *)CTR_DEFAULT_SNAPSHOTTER)
						       : NULL;
		} else {
			r = ctr_err(err, CTR_EINVAL, 0, "cannot update \"%.100s\" field", f);
		}
	}
	if (r == 0 && !(*ext_out = ctr_json_dump(ext)))
		r = ctr_err_nomem(err);
	json_decref(ext);
	if (r == 0) {
		md->extensions = *ext_out;
		*labels_out = TAKE_PTR(ljson);
	}
	return r;
}

CTR_EXPORT int ctr_container_update(ctr_container *k, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err)
{
	if (!k)
		return ctr_err(err, CTR_EINVAL, 0, "container is NULL");
	struct ctr_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_CONTAINER, &cfg, NULL, opts, n_opts, "update container", err);
	/* Update changes a record: making a snapshot or removing one is not
	 * an update, and is refused rather than ignored. */
	if (r == 0 && cfg.snap_new)
		r = ctr_err(err, CTR_EINVAL, 0, "%s: not supported by update (ctr_with_snapshot names an existing one)",
			    cfg.snap_view ? "ctr_with_new_snapshot_view" : "ctr_with_new_snapshot");
	if (r == 0 && cfg.cleanup_snapshot)
		r = ctr_err(err, CTR_EINVAL, 0, "ctr_with_snapshot_cleanup: an option of delete, not of update");
	if (r == 0 && cfg.snapshotter && !cfg.snap_key)
		r = ctr_err(err, CTR_EINVAL, 0, "ctr_with_snapshotter: only with ctr_with_snapshot on update");
	if (r == 0 && cfg.snap_key && (r = ctr_md_snapshot_get(NULL, k->c->db, k->ns,
							  cfg.snapshotter ? cfg.snapshotter : CTR_DEFAULT_SNAPSHOTTER,
							  cfg.snap_key, err)) < 0)
		ctr_err_prefix(err, r, "ctr_with_snapshot");
	_cleanup_free_ char *spec = NULL, *ext = NULL, *ljson = NULL;
	_cleanup_strv_ char **nl = NULL;
	if (r == 0 && cfg.new_spec)
		r = ctr_container_gen_spec(&spec, NULL, k->c, k->ns, k->md.id, &cfg, k->md.snapshotter, err);
	else if (r == 0 && cfg.spec && !(spec = strdup(cfg.spec)))
		r = ctr_err_nomem(err);
	if (r < 0) {
		ctr_container_cfg_clear(&cfg);
		return ctr_err_prefix(err, r, "update container %s", k->md.id);
	}
	/* Read, change and write in one transaction: a concurrent update of
	 * another field is not lost. */
	struct ctr_md_container cur = {0};
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, k->c->db, true, err);
	if (r == 0)
		r = ctr_md_container_get_tx(&cur, k->c->db, k->ns, k->md.id, err);
	struct ctr_md_container md = cur;
	/* An empty list is no list (containerd updates every field then). */
	if (r == 0 && cfg.fields && cfg.fields[0]) {
		r = apply_paths(&md, &cfg, cfg.fields, &spec, &ljson, &ext, err);
		if (r == 0)
			r = ctr_md_labels_from_json(&nl, ljson, err);
		md.labels = nl;
	} else if (r == 0) {
		/* No field paths: every part an option gives; labels merge. */
		if (spec)
			md.spec = spec;
		if (cfg.runtime)
			md.runtime = cfg.runtime;
		if (cfg.image)
			md.image = cfg.image;
		if (cfg.snap_key) {
			md.snapshot_key = cfg.snap_key;
			md.snapshotter = cfg.snapshotter ? cfg.snapshotter : (char *)CTR_DEFAULT_SNAPSHOTTER;
		}
		if (cfg.labels) {
			_cleanup_free_ char *old = NULL;
			r = ctr_md_labels_to_json(&old, (const char *const *)cur.labels, err);
			if (r == 0)
				r = ctr_md_labels_merge(&ljson, old, (const char *const *)cfg.labels, false, err);
			if (r == 0)
				r = ctr_md_labels_from_json(&nl, ljson, err);
			md.labels = nl;
		}
		if (r == 0 && cfg.extensions) {
			json_t *e = json_loads(cur.extensions ? cur.extensions : "{}", 0, NULL);
			if (!e)
				e = json_object();
			json_object_update(e, cfg.extensions);
			ext = ctr_json_dump(e);
			json_decref(e);
			md.extensions = ext;
		}
	}
	if (r == 0)
		r = ctr_md_container_write_tx(k->c->db, k->ns, &md, false, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	ctr_md_container_clear(&cur);
	ctr_container_cfg_clear(&cfg);
	struct ctr_md_container got = {0};
	if (r == 0 && (r = ctr_md_container_get(&got, k->c->db, k->ns, k->md.id, err)) == 0) {
		ctr_md_container_clear(&k->md);
		k->md = got;
		ctr_events_publish(k->c, k->ns, "/containers/update", json_pack("{s:s}", "id", k->md.id));
	}
	return r < 0 ? ctr_err_prefix(err, r, "update container %s", k->md.id) : 0;
}
