/* Fetching an image (containerd's client Fetch/Pull without unpack):
 * resolve, walk the manifest tree in memory (each manifest ≤ 4 MiB,
 * verified and parsed with the limits of images/manifest.h), then stream
 * configs and layers into verified content-store ingests, then write the
 * manifests (children before parents, with gc.ref labels), then the image
 * record; all under one lease.
 *
 * Nothing of a manifest tree that fails to parse is written: the walk is
 * done before the first byte goes to the store.
 *
 * Two processes fetching the same blob: ingests are opened without waiting
 * first; a blob another process is writing is deferred, and opened again
 * (waiting) only after this call's own blobs are committed and their
 * writers closed, so no process waits while holding an ingest another one
 * wants. When the other process has committed it, opening adopts the blob. */
#include <ctr/content.h>
#include <ctr/leases.h>
#include <ctr/remote.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "content-ns.h"
#include "error.h"
#include "image-ns.h"
#include "manifest.h"
#include "remote-opts.h"
#include "unpack-stream.h"
#include "macro.h"
#include "metadata.h"
#include "gc-labels.h"
#include "walk.h"

#include "fetch-ingest.h"
#include "fetch-internal.h"

/* A pull for named platforms gives a handle for them, as containerd's
 * Pull returns NewImageWithPlatform(img, the pull's matcher). */
static int image_platforms(ctr_image *img, const struct ctr_remote_cfg *cfg, ctr_error **err)
{
	if (cfg->all_platforms || !cfg->n_platforms)
		return 0;
	char **v = calloc(cfg->n_platforms + 1, sizeof(char *));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < cfg->n_platforms; i++) {
		char buf[100];
		if (!(v[i] = strdup(ctr_platform_format(&cfg->platforms[i], buf, sizeof(buf))))) {
			ctr_strv_free(v);
			return ctr_err_nomem(err);
		}
	}
	img->platforms = v;
	return 0;
}

static void fetch_clear(struct fetch *f)
{
	ctr_fetch_unpack_free(f->up);
	f->up = NULL;
	for (size_t i = 0; i < f->n_blobs; i++) {
		ctr_content_writer_free(f->blobs[i].w);
		ctr_desc_clear(f->blobs[i].desc);
		free(f->blobs[i].desc);
	}
	free(f->blobs);
	for (size_t i = 0; i < f->n_mans; i++) {
		ctr_desc_clear(&f->mans[i].desc);
		free(f->mans[i].buf);
		ctr_manifest_clear(&f->mans[i].m);
		for (size_t j = 0; j < f->mans[i].n_labels; j++)
			free(f->mans[i].labels[j]);
		free(f->mans[i].labels);
	}
	free(f->mans);
	ctr_remote_free(f->r);
	free(f->lease);
	free(f->src_label);
	ctr_pull_cfg_clear(&f->pull);
}

static int add_label(struct fman *fm, const char *key, const char *value, ctr_error **err)
{
	char **v = realloc(fm->labels, (fm->n_labels + 2) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	fm->labels = v;
	if (asprintf(&v[fm->n_labels], "%s=%s", key, value) < 0)
		return ctr_err_nomem(err);
	v[++fm->n_labels] = NULL;
	return 0;
}

/* The pull's label map over containerd's keys: layers dropped with
 * ctr_with_child_labels_filter_layers, then the caller's map. */
struct label_map {
	const struct ctr_pull_cfg *p;
	const char *parent_mt;
	ctr_error **err;
	int r;
};

static const char *map_child(const struct ctr_desc *child, const char *key, void *ud)
{
	struct label_map *lm = ud;
	if (lm->r < 0 || (lm->p->filter_layers && ctr_media_kind(child->media_type) == CTR_MT_LAYER))
		return NULL;
	if (!lm->p->child_fn)
		return key;
	key = lm->p->child_fn(lm->parent_mt, child->media_type, child->digest, key, lm->p->child_ud);
	if (key && (strncmp(key, CTR_GC_REF_PREFIX, strlen(CTR_GC_REF_PREFIX)) != 0 || strchr(key, '='))) {
		lm->r = ctr_err(lm->err, CTR_EINVAL, 0, "child label map: \"%.100s\" is not a " CTR_GC_REF_PREFIX " key",
				key);
		return NULL;
	}
	return key;
}

static int add_blob(struct fetch *f, const struct ctr_desc *d, ctr_error **err)
{
	for (size_t i = 0; i < f->n_blobs; i++)
		if (!strcmp(f->blobs[i].desc->digest, d->digest))
			return 0;
	if (f->n_blobs >= MAX_BLOBS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d blobs", MAX_BLOBS);
	struct fblob *v = realloc(f->blobs, (f->n_blobs + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	f->blobs = v;
	struct ctr_desc *copy = calloc(1, sizeof(*copy));
	if (!copy || ctr_desc_copy(copy, d) < 0) {
		free(copy);
		return ctr_err_nomem(err);
	}
	v[f->n_blobs++] = (struct fblob){.desc = copy};
	return 0;
}

static int rank_cmp_matcher(const struct ctr_platform_matcher *m, const struct ctr_desc *a,
			    const struct ctr_desc *b)
{
	/* Descriptors without a platform sort last (containerd's LimitManifests). */
	if (!a->has_platform || !b->has_platform)
		return (int)!a->has_platform - (int)!b->has_platform;
	size_t ra = ctr_platform_rank(m, &a->platform), rb = ctr_platform_rank(m, &b->platform);
	return ra < rb ? -1 : ra > rb;
}

/* A manifest reached through an index entry of another platform (kept
 * with --all-metadata): its config, not its layers. */
#define FETCH_META_ONLY 1u

/* Leaves become blobs to fetch; a manifest or index seen before is not
 * walked again. */
static int fetch_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	struct fetch *f = ud;
	(void)depth;
	if (!node)
		return add_blob(f, d, err);
	for (size_t i = 0; i < f->n_mans; i++)
		if (!strcmp(f->mans[i].desc.digest, d->digest))
			return CTR_WALK_SKIP;
	if (f->n_mans >= MAX_MANIFESTS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d manifests", MAX_MANIFESTS);
	if (d->size > (int64_t)CTR_MAX_MANIFEST)
		return ctr_err(err, CTR_EINVAL, 0, "%s %s: %lld bytes, more than the %u allowed",
			       ctr_media_kind_name(d->media_type), d->digest, (long long)d->size, CTR_MAX_MANIFEST);
	return 0;
}

static int fetch_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	struct fetch *f = ud;
	struct ctr_remote_desc rd = {.media_type = d->media_type, .digest = (char *)d->digest, .size = (uint64_t)d->size};
	int r = ctr_remote_fetch_buf(f->r, &rd, CTR_MAX_MANIFEST, buf, len, err);
	return r < 0 ? ctr_err_prefix(err, r, "fetch %s %s", ctr_media_kind_name(d->media_type), d->digest) : 0;
}

/* Keeps the document (written after its children) with its labels: a
 * gc.ref label for every child, as containerd's pull labels them before it
 * filters, and the distribution source. */
static int fetch_enter(void *ud, struct ctr_walk_node *n, ctr_error **err)
{
	struct fetch *f = ud;
	struct fman fm = {.buf = n->buf, .len = n->len, .m = n->m};
	struct fman *v = realloc(f->mans, (f->n_mans + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	f->mans = v;
	if (ctr_desc_copy(&fm.desc, n->desc) < 0)
		return ctr_err_nomem(err);
	v[f->n_mans++] = fm;
	n->buf = NULL;
	n->keep_manifest = true;
	struct fman *kept = &v[f->n_mans - 1];
	struct label_map lm = {.p = &f->pull, .parent_mt = kept->desc.media_type, .err = err};
	int r = ctr_gc_child_labels(&kept->labels, &kept->n_labels, (const struct ctr_desc *const *)n->children,
				    n->n_children, map_child, &lm, err);
	if (r == 0 && (r = lm.r) == 0) {
		/* the source label, as "key=value" split at its last '=' */
		const char *eq = strrchr(f->src_label, '=');
		_cleanup_free_ char *key = strndup(f->src_label, (size_t)(eq - f->src_label));
		r = key ? add_label(kept, key, eq + 1, err) : ctr_err_nomem(err);
	}
	return r;
}

/* An index's children: all with ctr_with_all_platforms or --all-metadata
 * (layers only where the platform matches), else those without a platform
 * or matching one, best first, at most f->limit. A manifest's: its config,
 * and its layers unless it was reached for its metadata only. */
static int fetch_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *sel, size_t *n_sel,
			ctr_error **err)
{
	struct fetch *f = ud;
	size_t ns = 0;
	if (n->m.kind != CTR_MT_INDEX) {
		for (size_t i = 0; i < n->n_children && (i == 0 || !(n->flags & FETCH_META_ONLY)); i++)
			sel[ns++] = (struct ctr_walk_pick){.i = i};
		*n_sel = ns;
		return 0;
	}
	for (size_t i = 0; i < n->n_children; i++) {
		const struct ctr_desc *c = n->children[i];
		bool match = f->matcher.all || !c->has_platform || ctr_platform_match(&f->matcher, &c->platform);
		if (match || f->pull.all_metadata)
			sel[ns++] = (struct ctr_walk_pick){.i = i, .flags = match ? 0 : FETCH_META_ONLY};
	}
	if (!f->matcher.all && !f->pull.all_metadata && n->n_children) {
		/* insertion sort by rank: stable, like containerd's SliceStable */
		for (size_t i = 1; i < ns; i++)
			for (size_t j = i; j > 0; j--) {
				if (rank_cmp_matcher(&f->matcher, n->children[sel[j - 1].i], n->children[sel[j].i]) <= 0)
					break;
				struct ctr_walk_pick t = sel[j];
				sel[j] = sel[j - 1];
				sel[j - 1] = t;
			}
		if (f->limit && ns > f->limit)
			ns = f->limit;
		if (ns == 0)
			return ctr_err(err, CTR_ENOTFOUND, 0, "no manifest in index %s matches the platform",
				       n->desc->digest);
	}
	*n_sel = ns;
	return 0;
}

static int fetch_walk(struct fetch *f, const struct ctr_desc *root, ctr_error **err)
{
	const struct ctr_image_walker w = {
		.schema1_nodes = true,
		.visit = fetch_visit,
		.read = fetch_read,
		.enter = fetch_enter,
		.select = fetch_select,
		.ud = f,
	};
	return ctr_image_walk(&w, root, err);
}

/* ---- writing ---- */

/* A blob goes to its ingest and, for a layer of a pull that unpacks, to
 * the layer's unpacker in the same pass (DESIGN.md, "Data flow: pull"). */
static int sink_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	struct fblob *b = ud;
	int r = ctr_content_writer_write(b->w, buf, len, err);
	if (r == 0 && b->u) {
		b->streamed = true;
		r = ctr_layer_unpack_write(b->u, buf, len, err);
	}
	return r;
}

static int replay_partial(struct fblob *b, ctr_error **err)
{
	_cleanup_free_ char *buf = malloc(1 << 20);
	if (!buf)
		return ctr_err_nomem(err);
	int64_t end = ctr_content_writer_offset(b->w);
	for (int64_t off = 0; off < end;) {
		int64_t n = ctr_content_writer_pread(b->w, buf, 1 << 20, off, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return ctr_err(err, CTR_EIO, 0, "ingest of %s ends before its offset", b->desc->digest);
		int r = ctr_layer_unpack_write(b->u, buf, (size_t)n, err);
		if (r < 0)
			return r;
		off += n;
	}
	b->streamed = true;
	return 0;
}

static int sink_reset(void *ud, ctr_error **err)
{
	struct fblob *b = ud;
	int r = ctr_content_writer_reset(b->w, err);
	if (r == 0 && b->u)
		r = ctr_layer_unpack_reset(b->u, err);
	return r;
}

static void drop_ingest(struct fetch *f, const struct ctr_desc *d)
{
	char ref[CTR_DIGEST_MAX + 16];
	snprintf(ref, sizeof(ref), "%s-%s", ctr_media_kind_name(d->media_type), d->digest);
	ctr_contents_abort(f->c, ref, &f->scope, NULL);
}

/* A full disk: the pull's partial ingests hold the room that removing
 * its extract snapshots and its lease needs (SQLite writes to delete).
 * They go; a resume is no use until there is room anyway. */
static void drop_ingests(struct fetch *f)
{
	for (size_t i = 0; i < f->n_blobs; i++)
		if (f->blobs[i].desc)
			drop_ingest(f, f->blobs[i].desc);
}

/* One round over the blobs not yet done: open ingests (waiting wait_ms for
 * another writer), fetch all open ones at once, commit them. */
static int fetch_round(struct fetch *f, int wait_ms, bool *deferred_left, ctr_error **err)
{
	char *src[] = {f->src_label, NULL};
	size_t n_items = 0;
	_cleanup_free_ struct ctr_remote_fetch_item *items = calloc(f->n_blobs + 1, sizeof(*items));
	_cleanup_free_ size_t *which = calloc(f->n_blobs + 1, sizeof(*which));
	if (!items || !which)
		return ctr_err_nomem(err);
	*deferred_left = false;
	int r = 0;
	for (size_t i = 0; i < f->n_blobs; i++) {
		struct fblob *b = &f->blobs[i];
		if (b->done || (wait_ms > 0 && !b->deferred))
			continue;
		b->deferred = false;
		r = ctr_fetch_open_ingest(f, b->desc, wait_ms, src, &b->w, err);
		if (r == CTR_EBUSY && wait_ms == 0) {
			ctr_err_drop(err);
			b->deferred = *deferred_left = true;
			continue;
		}
		if (r < 0)
			goto out;
		if (r == 1) {
			if ((r = ctr_remote_cfg_progress(&f->cfg, b->desc->digest, b->desc->media_type, b->desc->size,
							 b->desc->size, CTR_PROGRESS_DONE)) < 0) {
				r = ctr_err(err, r, 0, "canceled");
				goto out;
			}
			continue;
		}
		b->rd = (struct ctr_remote_desc){.media_type = b->desc->media_type,
						 .digest = b->desc->digest,
						 .size = (uint64_t)b->desc->size,
						 .urls = b->desc->urls};
		/* An unpacker needs the whole stream: the part a killed earlier
		 * call left in the ingest is replayed to it, then the download
		 * resumes at the offset with Range. */
		if (b->u && ctr_content_writer_offset(b->w) > 0 && (r = replay_partial(b, err)) < 0)
			goto out;
		b->sink = (struct ctr_remote_sink){.write = sink_write,
						   .reset = sink_reset,
						   .offset = (uint64_t)ctr_content_writer_offset(b->w),
						   .ud = b};
		items[n_items] = (struct ctr_remote_fetch_item){.desc = &b->rd, .sink = &b->sink};
		which[n_items++] = i;
	}
	r = 0;
	if (n_items)
		r = ctr_remote_fetch(f->r, items, n_items, err);
	for (size_t k = 0; k < n_items; k++) {
		struct fblob *b = &f->blobs[which[k]];
		int rr = items[k].result;
		/* Commit what arrived whole even when another item failed: a
		 * retry then skips it (the collector takes it otherwise). */
		if (rr == 0) {
			rr = ctr_fetch_commit_blob(f, b->w, b->desc, src, r < 0 ? NULL : err);
			if (r == 0)
				r = rr;
		}
		ctr_content_writer_free(b->w);
		b->w = NULL;
		/* Wrong bytes must not be resumed from. */
		if (rr == CTR_EDIGEST || rr == CTR_EPRECONDITION)
			drop_ingest(f, b->desc);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "fetch blobs");
	return 0;
out:
	for (size_t i = 0; i < f->n_blobs; i++) {
		ctr_content_writer_free(f->blobs[i].w);
		f->blobs[i].w = NULL;
	}
	return r;
}

/* Manifests go in after everything they name, children before parents
 * (the walk appended parents first). */
static int write_manifests(struct fetch *f, ctr_error **err)
{
	for (size_t i = f->n_mans; i-- > 0;) {
		struct fman *fm = &f->mans[i];
		ctr_content_writer *w = NULL;
		int r = ctr_fetch_open_ingest(f, &fm->desc, WAIT_OTHER_MS, fm->labels, &w, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "store %s %s", ctr_media_kind_name(fm->desc.media_type), fm->desc.digest);
		if (r == 0) {
			/* Start over: the bytes are in memory and verified. */
			if (ctr_content_writer_offset(w) && (r = ctr_content_writer_reset(w, err)) < 0) {
				ctr_content_writer_free(w);
				return r;
			}
			r = ctr_content_writer_write(w, fm->buf, fm->len, err);
			if (r == 0)
				r = ctr_fetch_commit_blob(f, w, &fm->desc, fm->labels, err);
			ctr_content_writer_free(w);
			if (r < 0)
				return ctr_err_prefix(err, r, "store %s", fm->desc.digest);
		}
		if ((r = ctr_remote_cfg_progress(&f->cfg, fm->desc.digest, fm->desc.media_type, (int64_t)fm->len,
						 (int64_t)fm->len, CTR_PROGRESS_DONE)) < 0)
			return ctr_err(err, r, 0, "canceled");
	}
	return 0;
}

static int do_fetch(ctr_image **out, ctr_client *c, const char *ref, bool pull, const ctr_opt *const *opts,
		    size_t n_opts, ctr_error **err)
{
	const char *what = pull ? "pull" : "fetch";
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	if (!ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "%s: empty reference", what);
	struct fetch f = {.c = c, .ref = ref};
	struct ctr_opt_target t[] = {{CTR_OPT_REMOTE, &f.cfg}, {CTR_OPT_PULL, &f.pull}};
	int r = ctr_opts_apply_multi(t, 2, &f.call, opts, n_opts, what, err);
	if (r < 0)
		goto out;
	if ((r = ctr_md_image_name_validate(ref, err)) < 0)
		goto out;
	f.ns = ctr_call_ns(c, &f.call);
	bool explicit_;
	ctr_remote_cfg_matcher(&f.cfg, &f.matcher, &explicit_);
	f.limit = f.matcher.all ? 0 : pull ? 1 : 0;

	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&f.cfg, false, &ro);
	if ((r = ctr_remote_open(&f.r, ref, &ro, err)) < 0)
		goto out;
	const struct ctr_ref *pr = ctr_remote_ref(f.r);
	if (asprintf(&f.src_label, "containerd.io/distribution.source.%s=%s", pr->domain, pr->path) < 0) {
		f.src_label = NULL;
		r = ctr_err_nomem(err);
		goto out;
	}
	f.scope.ns = f.ns;

	struct ctr_remote_desc root = {0};
	if ((r = ctr_remote_resolve(f.r, &root, err)) < 0)
		goto out;
	struct ctr_desc rootd = {.media_type = root.media_type, .size = (int64_t)root.size};
	snprintf(rootd.digest, sizeof(rootd.digest), "%s", root.digest);
	r = fetch_walk(&f, &rootd, err);
	if (r < 0) {
		ctr_remote_desc_clear(&root);
		goto out;
	}

	/* The lease: the caller's, or one of our own that expires in a day
	 * (containerd's default) should we die before deleting it. */
	if (f.call.lease) {
		f.lease = strdup(f.call.lease);
	} else {
		struct ctr_lease l = {0};
		r = ctr_md_lease_create(&l, c->db, f.ns, NULL, NULL, ctr_db_now() + 24LL * 3600 * 1000000000LL, err);
		if (r == 0) {
			f.lease = strdup(l.id);
			f.own_lease = true;
		} else {
			ctr_err_prefix(err, r, "create lease");
		}
		ctr_md_lease_clear(&l);
	}
	if (r == 0 && !f.lease)
		r = ctr_err_nomem(err);
	f.scope.lease = f.lease;
	bool deferred = false;
	if (r == 0 && pull && f.pull.unpack)
		r = ctr_fetch_unpack_begin(&f, err);
	if (r == 0)
		r = fetch_round(&f, 0, &deferred, err);
	if (r == 0 && deferred)
		r = fetch_round(&f, WAIT_OTHER_MS, &deferred, err);
	if (r < 0 && err && *err && ((*err)->sys_errno == ENOSPC || (*err)->sys_errno == EDQUOT))
		drop_ingests(&f);
	if (f.up) {
		/* Finished and committed in layer order; on failure whatever was
		 * not committed is removed. */
		int ru = ctr_fetch_unpack_end(&f, r == 0, r == 0 ? err : NULL);
		if (r == 0)
			r = ru;
	}
	if (r == 0)
		r = write_manifests(&f, err);
	if (r == 0) {
		struct ctr_md_image img = {.name = (char *)ref,
					   .media_type = root.media_type,
					   .digest = root.digest,
					   .size = root.size,
					   .labels = (char **)f.pull.labels};
		r = ctr_image_put(out, c, f.ns, &img, true, err);
		if (r == 0 && out)
			r = image_platforms(*out, &f.cfg, err);
	}
	ctr_remote_desc_clear(&root);
	if (f.own_lease && ctr_md_lease_delete(c->db, f.ns, f.lease, NULL) < 0 && r < 0) {
		drop_ingests(&f); /* full, and the caller took no error to tell */
		ctr_md_lease_delete(c->db, f.ns, f.lease, NULL);
	}
out:
	fetch_clear(&f);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s %s", what, ref);
	return 0;
}

CTR_EXPORT int ctr_image_fetch(ctr_image **out, ctr_client *c, const char *ref, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err)
{
	return do_fetch(out, c, ref, false, opts, n_opts, err);
}

CTR_EXPORT int ctr_image_pull(ctr_image **out, ctr_client *c, const char *ref, const ctr_opt *const *opts,
			      size_t n_opts, ctr_error **err)
{
	return do_fetch(out, c, ref, true, opts, n_opts, err);
}
