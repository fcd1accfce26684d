/* ctr_image_export: containerd's archive.Export. Everything is resolved
 * and checked (every blob present, with its size) before the first byte is
 * written; then the tar goes out in name order, as containerd writes it. */
#include <ctr/archive.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "store.h"
#include "error.h"
#include "archive-util.h"
#include "manifest.h"
#include "metadata.h"
#include "macro.h"
#include "array.h"
#include "walk.h"

#define EXPORT_MAX_PLATFORMS 16

struct exp_cfg {
	struct ctr_platform plats[EXPORT_MAX_PLATFORMS];
	size_t n_plats;
	bool all, skip_docker, skip_nd;
	ctr_progress_fn progress; /* ctr_with_export_progress, or NULL */
	void *progress_ud;
};

static int apply_platform(void *t, void *ud, ctr_error **err)
{
	struct exp_cfg *c = t;
	if (c->n_plats == EXPORT_MAX_PLATFORMS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d platforms", EXPORT_MAX_PLATFORMS);
	int r = ctr_platform_parse(ud, &c->plats[c->n_plats], err);
	if (r == 0)
		c->n_plats++;
	return r;
}

CTR_EXPORT ctr_opt *ctr_with_export_platform(const char *spec)
{
	return spec ? ctr_opt_make_str(CTR_OPT_EXPORT, "ctr_with_export_platform", apply_platform, spec) : NULL;
}

static int apply_flag(void *t, void *ud, ctr_error **err)
{
	struct exp_cfg *c = t;
	switch ((int)(intptr_t)ud) {
	case 1: c->all = true; break;
	case 2: c->skip_docker = true; break;
	default: c->skip_nd = true; break;
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_export_all_platforms(void)
{
	return ctr_opt_make(CTR_OPT_EXPORT, "ctr_with_export_all_platforms", apply_flag, (void *)1, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_export_skip_docker_manifest(void)
{
	return ctr_opt_make(CTR_OPT_EXPORT, "ctr_with_export_skip_docker_manifest", apply_flag, (void *)2, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_export_skip_non_distributable(void)
{
	return ctr_opt_make(CTR_OPT_EXPORT, "ctr_with_export_skip_non_distributable", apply_flag, (void *)3, NULL);
}

static int apply_progress(void *t, void *ud, ctr_error **err)
{
	ctr_transfer_progress_get(ud, &((struct exp_cfg *)t)->progress, &((struct exp_cfg *)t)->progress_ud);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_export_progress(ctr_progress_fn fn, void *userdata)
{
	return ctr_transfer_progress_opt(CTR_OPT_EXPORT, "ctr_with_export_progress", apply_progress, fn, userdata);
}

/* A tar record: a blob from the store, bytes in memory, or a directory. */
struct rec {
	char *path;
	char digest[CTR_DIGEST_MAX]; /* blob */
	int64_t size;
	char *data; /* in-memory file */
	bool dir;
	mode_t mode;
};

/* A manifest that docker's manifest.json lists, with its names. */
struct dman {
	char digest[CTR_DIGEST_MAX];
	char **names;
	size_t n_names;
};

struct exp {
	ctr_client *c;
	const char *ns;
	struct exp_cfg cfg;
	struct ctr_platform_matcher m;
	struct rec *recs;
	size_t n_recs, cap_recs;
	struct dman *dm;
	size_t n_dm, cap_dm;
	json_t *index_manifests;
	char algs[2][16];
	char best[CTR_DIGEST_MAX]; /* add_tree of an index: the manifest for manifest.json */
};

static void exp_clear(struct exp *e)
{
	for (size_t i = 0; i < e->n_recs; i++) {
		free(e->recs[i].path);
		free(e->recs[i].data);
	}
	free(e->recs);
	for (size_t i = 0; i < e->n_dm; i++) {
		for (size_t j = 0; j < e->dm[i].n_names; j++)
			free(e->dm[i].names[j]);
		free(e->dm[i].names);
	}
	free(e->dm);
	json_decref(e->index_manifests);
}

static int add_rec(struct exp *e, const struct rec *r, ctr_error **err)
{
	int rc = ctr_array_grow((void **)&e->recs, &e->cap_recs, e->n_recs, sizeof(*e->recs), err);
	if (rc < 0) {
		free(r->path);
		free(r->data);
		return rc;
	}
	e->recs[e->n_recs++] = *r;
	return 0;
}

static char *blob_path(const char *digest)
{
	char *p = NULL;
	const char *colon = strchr(digest, ':');
	if (asprintf(&p, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1) < 0)
		return NULL;
	return p;
}

/* Records a blob after checking the namespace has it with that size. */
static int add_blob(struct exp *e, const struct ctr_desc *d, ctr_error **err)
{
	ctr_digest_alg alg;
	int r = ctr_digest_parse(d->digest, &alg, NULL, err);
	if (r < 0)
		return r;
	if (e->cfg.skip_nd && strstr(d->media_type, "nondistributable"))
		return 0;
	struct ctr_md_content md = {0};
	if (ctr_md_content_get(&md, e->c->db, e->ns, d->digest, NULL) < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "%s %s: not in the content store", d->media_type, d->digest);
	uint64_t have = md.size;
	ctr_md_content_clear(&md);
	if (have != (uint64_t)d->size)
		return ctr_err(err, CTR_EINVAL, 0, "%s: %llu bytes, descriptor says %lld", d->digest,
			       (unsigned long long)have, (long long)d->size);
	snprintf(e->algs[alg == CTR_DIGEST_SHA512], sizeof(e->algs[0]), "%s", ctr_digest_alg_name(alg));
	struct rec rc = {.path = blob_path(d->digest), .size = d->size, .mode = 0444};
	if (!rc.path)
		return ctr_err_nomem(err);
	snprintf(rc.digest, sizeof(rc.digest), "%s", d->digest);
	return add_rec(e, &rc, err);
}

static int read_manifest(struct exp *e, const struct ctr_desc *d, struct ctr_manifest *m, ctr_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = ctr_arc_read(e->c, e->ns, d->digest, CTR_MAX_MANIFEST, &buf, &len, err);
	if (r == 0)
		r = ctr_manifest_parse(buf, len, d->media_type, m, err);
	return r < 0 ? ctr_err_prefix(err, r, "%s", d->digest) : 0;
}

/* containerd's getRecords: every blob reached is recorded. */
static int exp_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	(void)depth, (void)node;
	return add_blob(ud, d, err);
}

static int exp_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	struct exp *e = ud;
	int r = ctr_arc_read(e->c, e->ns, d->digest, CTR_MAX_MANIFEST, buf, len, err);
	return r < 0 ? ctr_err_prefix(err, r, "%s", d->digest) : 0;
}

/* Below an index target, the manifests the platforms select (all of them
 * with all-platforms), and the best one, for manifest.json; everything
 * under those. */
static int exp_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *sel, size_t *n_sel,
		      ctr_error **err)
{
	struct exp *e = ud;
	size_t ns = 0;
	if (n->depth > 0 || n->m.kind != CTR_MT_INDEX) {
		for (size_t i = 0; i < n->n_children; i++)
			sel[ns++] = (struct ctr_walk_pick){.i = i};
		*n_sel = ns;
		return 0;
	}
	ssize_t best = -1;
	size_t best_rank = 0;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct ctr_desc *c = n->children[i];
		bool match = !c->has_platform || ctr_platform_match(&e->m, &c->platform);
		if (!match && !e->cfg.all)
			continue;
		if (match) {
			/* Stable sort by preference, entries without a platform last. */
			size_t rank = c->has_platform ? ctr_platform_rank(&e->m, &c->platform) : SIZE_MAX;
			if (best < 0 || rank < best_rank) {
				best = (ssize_t)i;
				best_rank = rank;
			}
		}
		sel[ns++] = (struct ctr_walk_pick){.i = i};
	}
	if (best < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "%s: no manifest found for platform", n->desc->digest);
	snprintf(e->best, sizeof(e->best), "%s", n->children[best]->digest);
	*n_sel = ns;
	return 0;
}

/* The target's tree; for an index target, e->best is the manifest that
 * manifest.json names. */
static int add_tree(struct exp *e, const struct ctr_desc *d, ctr_error **err)
{
	const struct ctr_image_walker w = {
		.visit = exp_visit,
		.read = exp_read,
		.select = exp_select,
		.ud = e,
	};
	e->best[0] = 0;
	return ctr_image_walk(&w, d, err);
}

static struct dman *find_dm(struct exp *e, const char *digest)
{
	for (size_t i = 0; i < e->n_dm; i++)
		if (!strcmp(e->dm[i].digest, digest))
			return &e->dm[i];
	return NULL;
}

static int dm_add(struct exp *e, const char *digest, const char *name, ctr_error **err)
{
	struct dman *m = find_dm(e, digest);
	if (!m) {
		int r = ctr_array_grow((void **)&e->dm, &e->cap_dm, e->n_dm, sizeof(*e->dm), err);
		if (r < 0)
			return r;
		m = &e->dm[e->n_dm++];
		*m = (struct dman){0};
		snprintf(m->digest, sizeof(m->digest), "%s", digest);
	}
	if (!name)
		return 0;
	char **v = realloc(m->names, (m->n_names + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	m->names = v;
	if (!(v[m->n_names] = strdup(name)))
		return ctr_err_nomem(err);
	m->n_names++;
	return 0;
}

static int add_image(struct exp *e, const char *name, ctr_error **err)
{
	struct ctr_md_image img = {0};
	int r = ctr_md_image_name_validate(name, err);
	if (r == 0)
		r = ctr_md_image_get(&img, e->c->db, e->ns, name, err);
	if (r < 0)
		return r;
	struct ctr_desc d = {.media_type = img.media_type, .size = (int64_t)img.size};
	snprintf(d.digest, sizeof(d.digest), "%s", img.digest);
	enum ctr_mt_kind k = ctr_media_kind(img.media_type);
	if (k == CTR_MT_MANIFEST || k == CTR_MT_INDEX) {
		r = add_tree(e, &d, err);
		if (r == 0)
			r = dm_add(e, k == CTR_MT_INDEX ? e->best : d.digest, name, err);
	} else {
		r = ctr_err(err, CTR_EINVAL, 0, "image %s: only manifests may be exported, target is %s", name,
			    img.media_type);
	}
	/* The index.json entry: the target, the distribution sources of its
	 * blob, and the names (keys in Go's sorted map order). */
	json_t *ann = json_object(), *desc = NULL;
	char *oci = ctr_arc_oci_ref_name(name);
	struct ctr_md_content md = {0};
	if (r == 0 && ctr_md_content_get(&md, e->c->db, e->ns, img.digest, NULL) == 0) {
		for (char **l = md.labels; l && *l; l++) {
			const char *eq = strchr(*l, '=');
			if (eq && !strncmp(*l, "containerd.io/distribution.source.", 34)) {
				char *k2 = strndup(*l, (size_t)(eq - *l));
				if (k2)
					json_object_set_new(ann, k2, json_string(eq + 1));
				free(k2);
			}
		}
	}
	ctr_md_content_clear(&md);
	if (r == 0) {
		json_object_set_new(ann, CTR_ANN_IMAGE_NAME, json_string(name));
		json_object_set_new(ann, CTR_ANN_REF_NAME, json_string(oci ? oci : name));
		desc = json_pack("{s:s,s:s,s:I,s:O}", "mediaType", img.media_type, "digest", img.digest, "size",
				 (json_int_t)img.size, "annotations", ann);
		if (!desc || json_array_append_new(e->index_manifests, desc))
			r = ctr_err_nomem(err);
	}
	json_decref(ann);
	free(oci);
	ctr_md_image_clear(&img);
	return r;
}

static char *dump_sorted_ann(json_t *doc)
{
	/* jansson keeps insertion order with PRESERVE_ORDER; sort just the
	 * annotation objects so the bytes are what Go would write. */
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(doc, "manifests"), i, m) {
		json_t *ann = json_object_get(m, "annotations");
		if (!ann)
			continue;
		char *s = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
		json_t *sorted = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
		free(s);
		if (sorted)
			json_object_set_new(m, "annotations", sorted);
	}
	return json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static int add_mem(struct exp *e, const char *path, char *data, mode_t mode, ctr_error **err)
{
	if (!data)
		return ctr_err_nomem(err);
	struct rec r = {.path = strdup(path), .data = data, .size = (int64_t)strlen(data), .mode = mode};
	if (!r.path) {
		free(data);
		return ctr_err_nomem(err);
	}
	return add_rec(e, &r, err);
}

static int docker_manifest_json(struct exp *e, ctr_error **err)
{
	json_t *arr = json_array();
	int r = arr ? 0 : ctr_err_nomem(err);
	for (size_t i = 0; i < e->n_dm && r == 0; i++) {
		struct ctr_desc d = {.media_type = NULL};
		snprintf(d.digest, sizeof(d.digest), "%s", e->dm[i].digest);
		struct ctr_manifest m = {0};
		if ((r = read_manifest(e, &d, &m, err)) < 0)
			break;
		if (m.kind != CTR_MT_MANIFEST) {
			ctr_manifest_clear(&m);
			r = ctr_err(err, CTR_EINVAL, 0, "%s: not a manifest", d.digest);
			break;
		}
		json_t *layers = m.n_layers ? json_array() : json_null(), *tags = json_null();
		char *cp = blob_path(m.config.digest);
		for (size_t j = 0; j < m.n_layers; j++) {
			char *lp = blob_path(m.layers[j].digest);
			json_array_append_new(layers, lp ? json_string(lp) : NULL);
			free(lp);
		}
		for (size_t j = 0; j < e->dm[i].n_names && r == 0; j++) {
			char *fam = NULL;
			if ((r = ctr_arc_familiar_ref(e->dm[i].names[j], &fam, err)) < 0)
				break;
			if (json_is_null(tags))
				tags = json_array();
			json_array_append_new(tags, json_string(fam));
			free(fam);
		}
		json_t *ent = cp ? json_pack("{s:s,s:o,s:o}", "Config", cp, "RepoTags", tags, "Layers", layers) : NULL;
		free(cp);
		ctr_manifest_clear(&m);
		if (r == 0 && (!ent || json_array_append_new(arr, ent)))
			r = ctr_err_nomem(err);
	}
	if (r == 0)
		r = add_mem(e, "manifest.json", json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER), 0644, err);
	json_decref(arr);
	return r;
}

static int cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->path, ((const struct rec *)b)->path);
}

static int write_blob(struct exp *e, struct archive *ar, const struct rec *rc, char *buf, size_t cap,
		      ctr_error **err)
{
	ctr_digest_alg alg;
	int r = ctr_digest_parse(rc->digest, &alg, NULL, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = ctr_cs_blob_open(e->c->cs, rc->digest, err);
	if (fd < 0)
		return fd;
	ctr_hasher *h = NULL;
	if ((r = ctr_hasher_new(&h, alg, err)) < 0)
		return r;
	int64_t off = 0;
	while (off < rc->size) {
		size_t want = (uint64_t)(rc->size - off) < cap ? (size_t)(rc->size - off) : cap;
		ssize_t k = pread(fd, buf, want, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? ctr_err_errno(err, errno, "read %s", rc->digest)
				  : ctr_err(err, CTR_EIO, 0, "%s: shorter than %lld bytes", rc->digest, (long long)rc->size);
			break;
		}
		ctr_hasher_update(h, buf, (size_t)k);
		if (archive_write_data(ar, buf, (size_t)k) != k) {
			r = ctr_err(err, CTR_EIO, archive_errno(ar), "write %s: %s", rc->path, archive_error_string(ar));
			break;
		}
		off += k;
		if (e->cfg.progress && e->cfg.progress(rc->digest, NULL, off, rc->size, off < rc->size
							   ? CTR_PROGRESS_UPLOADING : CTR_PROGRESS_DONE, e->cfg.progress_ud)) {
			r = ctr_err(err, CTR_ECANCELED, 0, "export canceled by the progress callback");
			break;
		}
	}
	if (r == 0) {
		char got[CTR_DIGEST_MAX];
		ctr_hasher_peek(h, got);
		if (strcmp(got, rc->digest))
			r = ctr_err(err, CTR_EDIGEST, 0, "unexpected digest %s copied for %s", got, rc->digest);
	}
	ctr_hasher_free(h);
	return r;
}

static int write_tar(struct exp *e, int fd, ctr_error **err)
{
	qsort(e->recs, e->n_recs, sizeof(*e->recs), cmp_rec);
	struct archive *ar = archive_write_new();
	struct archive_entry *ent = archive_entry_new();
	char *buf = malloc(128 * 1024);
	int r = 0;
	if (!ar || !ent || !buf) {
		r = ctr_err_nomem(err);
		goto out;
	}
	archive_write_set_format_pax_restricted(ar);
	archive_write_set_bytes_in_last_block(ar, 1);
	if (archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
		r = ctr_err(err, CTR_EIO, archive_errno(ar), "export: %s", archive_error_string(ar));
		goto out;
	}
	const char *last = NULL;
	for (size_t i = 0; i < e->n_recs && r == 0; i++) {
		const struct rec *rc = &e->recs[i];
		if (last && !strcmp(last, rc->path))
			continue;
		last = rc->path;
		archive_entry_clear(ent);
		archive_entry_set_pathname(ent, rc->path);
		archive_entry_set_filetype(ent, rc->dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ent, rc->mode);
		archive_entry_set_size(ent, rc->dir ? 0 : rc->size);
		archive_entry_set_mtime(ent, 0, 0);
		if (archive_write_header(ar, ent) != ARCHIVE_OK) {
			r = ctr_err(err, CTR_EIO, archive_errno(ar), "write %s: %s", rc->path, archive_error_string(ar));
			break;
		}
		if (rc->data) {
			if (archive_write_data(ar, rc->data, (size_t)rc->size) != rc->size)
				r = ctr_err(err, CTR_EIO, archive_errno(ar), "write %s: %s", rc->path,
					    archive_error_string(ar));
		} else if (!rc->dir) {
			r = write_blob(e, ar, rc, buf, 128 * 1024, err);
		}
	}
	if (r == 0 && archive_write_close(ar) != ARCHIVE_OK)
		r = ctr_err(err, CTR_EIO, archive_errno(ar), "export: %s", archive_error_string(ar));
out:
	if (ar)
		archive_write_free(ar);
	archive_entry_free(ent);
	free(buf);
	return r;
}

CTR_EXPORT int ctr_image_export(ctr_client *c, int fd, const char *const *names, size_t n_names,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || fd < 0 || (n_names && !names))
		return ctr_err(err, CTR_EINVAL, 0, "export: client, fd and names are required");
	struct exp e = {.c = c};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_EXPORT, &e.cfg, &call, opts, n_opts, "export", err);
	if (r < 0)
		return r;
	e.ns = ctr_call_ns(c, &call);
	if (e.cfg.n_plats) {
		ctr_platform_matcher_ordered(&e.m, e.cfg.plats, e.cfg.n_plats);
	} else {
		struct ctr_platform host;
		ctr_platform_host(&host);
		ctr_platform_matcher_strict(&e.m, &host);
	}
	if (!(e.index_manifests = json_array()))
		return ctr_err_nomem(err);
	r = add_mem(&e, "oci-layout", strdup("{\"imageLayoutVersion\":\"1.0.0\"}"), 0444, err);
	for (size_t i = 0; i < n_names && r == 0; i++) {
		if (!names[i])
			r = ctr_err(err, CTR_EINVAL, 0, "export: name %zu is NULL", i);
		else
			r = add_image(&e, names[i], err);
	}
	if (r == 0) {
		json_t *idx = json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType", CTR_MT_OCI_INDEX,
					"manifests", e.index_manifests);
		r = idx ? add_mem(&e, "index.json", dump_sorted_ann(idx), 0644, err) : ctr_err_nomem(err);
		json_decref(idx);
	}
	if (r == 0 && !e.cfg.skip_docker && e.n_dm)
		r = docker_manifest_json(&e, err);
	for (size_t a = 0; a < 2 && r == 0; a++) {
		if (!e.algs[a][0])
			continue;
		char p[40];
		struct rec d = {.dir = true, .mode = 0755};
		if (!(d.path = strdup("blobs/")))
			r = ctr_err_nomem(err);
		else if ((r = add_rec(&e, &d, err)) == 0) {
			snprintf(p, sizeof(p), "blobs/%s/", e.algs[a]);
			d.path = strdup(p);
			r = d.path ? add_rec(&e, &d, err) : ctr_err_nomem(err);
		}
	}
	if (r == 0)
		r = write_tar(&e, fd, err);
	exp_clear(&e);
	return r < 0 ? ctr_err_prefix(err, r, "export") : 0;
}
