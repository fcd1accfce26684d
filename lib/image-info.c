/* Image getters that walk the image's tree in the content store: size,
 * platforms, completeness, usage. */
#include <ctr/image.h>
#include <ctr/snapshot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
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
	int r = ctr_platform_matcher_for(&pm, (const char *const *)i->platforms, err);
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

CTR_EXPORT int ctr_image_usage(int64_t *content, int64_t *snapshots, const ctr_image *i, const char *snapshotter,
			       ctr_error **err)
{
	if (!i)
		return ctr_err(err, CTR_EINVAL, 0, "image usage: NULL argument");
	char (*dg)[CTR_DIGEST_MAX] = NULL;
	int64_t *sz = NULL;
	size_t n = 0;
	int r = collect(i, &dg, &sz, &n, err);
	if (r < 0)
		return r;
	int64_t c = 0;
	for (size_t k = 0; k < n; k++) {
		int64_t s = 0;
		if (have(i, dg[k], &s))
			c += s;
	}
	free(dg);
	free(sz);
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
	int r = ctr_platform_matcher_for(&pm, (const char *const *)i->platforms, err);
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
