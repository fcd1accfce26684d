/* Image getters that walk the image's tree in the content store: size,
 * platforms, completeness, usage. */
#include <ctr/image.h>
#include <ctr/snapshot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

#include "archive-util.h"
#include "error.h"
#include "image-cfg.h"
#include "opts.h"
#include "walk.h"
#include "image-ns.h"
#include "resolve.h"
#include "metadata.h"
#include "macro.h"
#include "snapshots.h"

static bool have(const ctr_image *i, const char *digest, int64_t *size)
{
	struct ctr_md_content md = {0};
	bool ok = ctr_md_content_get(&md, i->c->db, i->ns, digest, NULL) == 0;
	if (ok && size)
		*size = (int64_t)md.size;
	ctr_md_content_clear(&md);
	return ok;
}

/* The descriptors the image needs for the host: target, manifest, config,
 * layers (the target is an index or the manifest itself). */
static int collect(const ctr_image *i, char (**dg)[CTR_DIGEST_MAX], int64_t **sz, size_t *n, ctr_error **err)
{
	struct ctr_platform_matcher pm;
	int r = ctr_platform_matcher_for(&pm, i->c, i->matcher, (const char *const *)i->platforms, err);
	if (r < 0)
		return r;
	struct ctr_manifest m = {0};
	struct ctr_image_config cfg = {0};
	char mdigest[CTR_DIGEST_MAX];
	r = ctr_image_resolve(i->c, i->ns, i->md.media_type, i->md.digest, &pm, &m, mdigest, &cfg, err);
	if (r < 0)
		return r;
	size_t cap = m.n_layers + 3;
	*dg = calloc(cap, CTR_DIGEST_MAX);
	*sz = calloc(cap, sizeof(int64_t));
	if (!*dg || !*sz) {
		free(*dg);
		free(*sz);
		ctr_manifest_clear(&m);
		ctr_image_config_clear(&cfg);
		return ctr_err_nomem(err);
	}
	size_t k = 0;
	snprintf((*dg)[k], CTR_DIGEST_MAX, "%s", i->md.digest);
	(*sz)[k++] = (int64_t)i->md.size;
	if (strcmp(mdigest, i->md.digest) != 0) {
		int64_t s = 0;
		have(i, mdigest, &s);
		snprintf((*dg)[k], CTR_DIGEST_MAX, "%s", mdigest);
		(*sz)[k++] = s;
	}
	snprintf((*dg)[k], CTR_DIGEST_MAX, "%s", m.config.digest);
	(*sz)[k++] = m.config.size;
	for (size_t l = 0; l < m.n_layers; l++) {
		snprintf((*dg)[k], CTR_DIGEST_MAX, "%s", m.layers[l].digest);
		(*sz)[k++] = m.layers[l].size;
	}
	*n = k;
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	return 0;
}

CTR_EXPORT int ctr_image_size(int64_t *out, const ctr_image *i, ctr_error **err)
{
	if (!i || !out)
		return ctr_err(err, CTR_EINVAL, 0, "image size: NULL argument");
	char (*dg)[CTR_DIGEST_MAX] = NULL;
	int64_t *sz = NULL;
	size_t n = 0;
	int r = collect(i, &dg, &sz, &n, err);
	if (r < 0)
		return r;
	int64_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += sz[k];
	free(dg);
	free(sz);
	*out = total;
	return 0;
}

CTR_EXPORT int ctr_image_check(int64_t *present, int64_t *required, const ctr_image *i, ctr_error **err)
{
	if (!i || !present || !required)
		return ctr_err(err, CTR_EINVAL, 0, "image check: NULL argument");
	char (*dg)[CTR_DIGEST_MAX] = NULL;
	int64_t *sz = NULL;
	size_t n = 0;
	int r = collect(i, &dg, &sz, &n, NULL);
	if (r < 0) {
		/* Missing manifest or config: what is there of the target counts. */
		*required = 1;
		*present = have(i, i->md.digest, NULL) ? 1 : 0;
		(void)err;
		return 0;
	}
	int64_t p = 0;
	for (size_t k = 0; k < n; k++)
		if (have(i, dg[k], NULL))
			p++;
	free(dg);
	free(sz);
	*present = p;
	*required = (int64_t)n;
	return 0;
}

static int apply_manifest_limit(void *target, void *userdata, ctr_error **err)
{
	struct image_cfg *c = target;
	if (c->call != IMAGE_CALL_USAGE)
		return ctr_err(err, CTR_EINVAL, 0, "only ctr_image_usage takes it");
	c->has_limit = true;
	c->limit = *(size_t *)userdata;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_usage_manifest_limit(size_t limit)
{
	size_t *v = malloc(sizeof(*v));
	if (!v)
		return NULL;
	*v = limit;
	ctr_opt *o = ctr_opt_make(CTR_OPT_IMAGE, "ctr_with_usage_manifest_limit", apply_manifest_limit, v, free);
	if (!o)
		free(v);
	return o;
}

/* containerd's Usage with WithUsageManifestLimit: the whole tree from the
 * target, an index's manifests sorted by the handle's platforms and the
 * first `limit` of them kept (0: all), every descriptor required. */
struct usage_walk {
	const ctr_image *i;
	struct ctr_platform_matcher pm;
	size_t limit;
	int64_t total;
};

static int uw_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	(void)depth;
	(void)node;
	struct usage_walk *u = ud;
	int64_t s = 0;
	if (!have(u->i, d->digest, &s))
		return ctr_err(err, CTR_ENOTFOUND, 0, "image %s: %s %s is not in the content store", u->i->md.name,
			       ctr_media_kind_name(d->media_type), d->digest);
	u->total += s > d->size ? s : d->size;
	return 0;
}

static int uw_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	struct usage_walk *u = ud;
	return ctr_arc_read(u->i->c, u->i->ns, d->digest, CTR_MAX_MANIFEST, buf, len, err);
}

static int uw_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *picks, size_t *n_picks,
		     ctr_error **err)
{
	struct usage_walk *u = ud;
	size_t k = 0;
	if (n->m.kind != CTR_MT_INDEX) {
		for (size_t c = 0; c < n->n_children; c++)
			picks[k++] = (struct ctr_walk_pick){c, 0};
		*n_picks = k;
		return 0;
	}
	/* stable: by rank, children without a platform last */
	for (size_t c = 0; c < n->n_children; c++)
		picks[k++] = (struct ctr_walk_pick){c, 0};
	for (size_t a = 1; a < k; a++) {
		struct ctr_walk_pick p = picks[a];
		const struct ctr_desc *pd = n->children[p.i];
		size_t pr = pd->has_platform ? ctr_platform_rank(&u->pm, &pd->platform) : SIZE_MAX;
		size_t b = a;
		for (; b > 0; b--) {
			const struct ctr_desc *q = n->children[picks[b - 1].i];
			size_t qr = q->has_platform ? ctr_platform_rank(&u->pm, &q->platform) : SIZE_MAX;
			if (qr <= pr)
				break;
			picks[b] = picks[b - 1];
		}
		picks[b] = p;
	}
	if (u->limit > 0 && k == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "image %s: index %s has no manifest", u->i->md.name,
			       n->desc->digest);
	if (u->limit > 0 && k > u->limit)
		k = u->limit;
	*n_picks = k;
	return 0;
}

static int usage_limited(int64_t *out, const ctr_image *i, size_t limit, ctr_error **err)
{
	struct usage_walk u = {.i = i, .limit = limit};
	int r = ctr_platform_matcher_for(&u.pm, i->c, i->matcher, (const char *const *)i->platforms, err);
	if (r < 0)
		return r;
	struct ctr_desc root = {.media_type = i->md.media_type, .size = i->md.size};
	snprintf(root.digest, sizeof(root.digest), "%s", i->md.digest);
	const struct ctr_image_walker w = {
		.visit = uw_visit, .read = uw_read, .select = uw_select, .ud = &u,
	};
	if ((r = ctr_image_walk(&w, &root, err)) < 0)
		return ctr_err_prefix(err, r, "image usage");
	*out = u.total;
	return 0;
}

CTR_EXPORT int ctr_image_usage(int64_t *content, int64_t *snapshots, const ctr_image *i, const char *snapshotter,
			       const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!i)
		return ctr_err(err, CTR_EINVAL, 0, "image usage: NULL argument");
	struct image_cfg cfg = {.call = IMAGE_CALL_USAGE};
	int r = ctr_opts_apply(CTR_OPT_IMAGE, &cfg, NULL, opts, n_opts, "image usage", err);
	if (r < 0)
		return r;
	int64_t c = 0;
	if (cfg.has_limit) {
		if ((r = usage_limited(&c, i, cfg.limit, err)) < 0)
			return r;
	} else {
		char (*dg)[CTR_DIGEST_MAX] = NULL;
		int64_t *sz = NULL;
		size_t n = 0;
		if ((r = collect(i, &dg, &sz, &n, err)) < 0)
			return r;
		for (size_t k = 0; k < n; k++) {
			int64_t s = 0;
			if (have(i, dg[k], &s))
				c += s;
		}
		free(dg);
		free(sz);
	}
	int64_t snaps = 0;
	char **ids = NULL;
	if (ctr_image_rootfs(&ids, i, NULL) == 0) {
		size_t nl = 0;
		while (ids[nl])
			nl++;
		char (*chain)[CTR_DIGEST_MAX] = nl ? calloc(nl, CTR_DIGEST_MAX) : NULL;
		if (chain && ctr_chain_ids((const char *const *)ids, nl, chain, NULL) == 0) {
			const struct ctr_call in_ns = {.ns = i->ns};
			for (size_t l = 0; l < nl; l++) {
				int64_t s = 0, inodes = 0;
				if (ctr_snapshots_usage(&s, &inodes, i->c, snapshotter, chain[l], &in_ns, NULL) == 0)
					snaps += s;
			}
		}
		free(chain);
		ctr_strv_free(ids);
	}
	if (content)
		*content = c;
	if (snapshots)
		*snapshots = snaps;
	return 0;
}

CTR_EXPORT int ctr_image_platform(char **out, const ctr_image *i, ctr_error **err)
{
	if (!i || !out)
		return ctr_err(err, CTR_EINVAL, 0, "image platform: NULL argument");
	struct ctr_platform_matcher pm;
	int r = ctr_platform_matcher_for(&pm, i->c, i->matcher, (const char *const *)i->platforms, err);
	if (r < 0)
		return r;
	struct ctr_manifest m = {0};
	struct ctr_image_config cfg = {0};
	r = ctr_image_resolve(i->c, i->ns, i->md.media_type, i->md.digest, &pm, &m, NULL, &cfg, err);
	if (r < 0)
		return r;
	char buf[100];
	char *s = strdup(ctr_platform_format(&cfg.platform, buf, sizeof(buf)));
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	if (!s)
		return ctr_err_nomem(err);
	*out = s;
	return 0;
}

CTR_EXPORT int ctr_image_platforms(char ***out, const ctr_image *i, ctr_error **err)
{
	if (!i || !out)
		return ctr_err(err, CTR_EINVAL, 0, "image platforms: NULL argument");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ctr_content_read_all(i->c, i->ns, i->md.digest, CTR_MAX_MANIFEST, &buf, &len, err);
	if (r < 0)
		return r;
	struct ctr_manifest m = {0};
	if ((r = ctr_manifest_parse(buf, len, i->md.media_type, &m, err)) < 0)
		return r;
	struct ctr_strv_buf v = {0};
	if (m.kind == CTR_MT_INDEX) {
		for (size_t k = 0; r == 0 && k < m.n_manifests; k++) {
			if (!m.manifests[k].has_platform)
				continue;
			char pb[100];
			r = ctr_strv_buf_addf(&v, err, "%s", ctr_platform_format(&m.manifests[k].platform, pb, sizeof(pb)));
		}
	} else {
		char *p = NULL;
		if (ctr_image_platform(&p, i, NULL) == 0)
			r = ctr_strv_buf_take(&v, p, err);
	}
	ctr_manifest_clear(&m);
	if (r < 0) {
		ctr_strv_buf_clear(&v);
		return r;
	}
	char **res = ctr_strv_buf_steal(&v, err);
	if (!res)
		return CTR_ENOMEM;
	*out = res;
	return 0;
}
