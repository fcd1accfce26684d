/* What ctr images ls shows of an image: its size for a platform and the
 * platforms it provides, from the manifests in the content store. */
#include <ctr/content.h>
#include <ctr/image.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "images/manifest.h"
#include "util/macro.h"

#define MAX_DEPTH 8

static int read_doc(const ctr_image *img, const struct ctr_desc *d, size_t max, char **buf, size_t *len,
		    ctr_error **err)
{
	ctr_opt *ns = ctr_with_call_namespace(img->ns);
	if (!ns)
		return ctr_err_nomem(err);
	ctr_content_reader *rd = NULL;
	int r = ctr_content_reader_open(&rd, img->c, d->digest, (const ctr_opt *const[]){ns}, 1, err);
	ctr_opt_free(ns);
	if (r < 0)
		return r;
	int64_t size = ctr_content_reader_size(rd);
	if (size < 0 || (uint64_t)size > max) {
		ctr_content_reader_free(rd);
		return ctr_err(err, CTR_EINVAL, 0, "%s: %lld bytes, more than %zu", d->digest, (long long)size, max);
	}
	char *b = malloc((size_t)size + 1);
	int64_t got = 0;
	while (b && got < size) {
		int64_t n = ctr_content_reader_pread(rd, b + got, (size_t)(size - got), got, err);
		if (n <= 0) {
			free(b);
			ctr_content_reader_free(rd);
			return n < 0 ? (int)n : ctr_err(err, CTR_EIO, 0, "%s: short read", d->digest);
		}
		got += n;
	}
	ctr_content_reader_free(rd);
	if (!b)
		return ctr_err_nomem(err);
	*buf = b;
	*len = (size_t)size;
	return 0;
}

static int read_manifest(const ctr_image *img, const struct ctr_desc *d, struct ctr_manifest *m, ctr_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_doc(img, d, CTR_MAX_MANIFEST, &buf, &len, err);
	if (r < 0)
		return r;
	return ctr_manifest_parse(buf, len, d->media_type, m, err);
}

static void size_walk(const ctr_image *img, const struct ctr_desc *d, const struct ctr_platform_matcher *pm,
		      int depth, int64_t *total)
{
	*total += d->size;
	enum ctr_mt_kind k = ctr_media_kind(d->media_type);
	if (depth > MAX_DEPTH || (k != CTR_MT_MANIFEST && k != CTR_MT_INDEX))
		return;
	struct ctr_manifest m = {0};
	if (read_manifest(img, d, &m, NULL) < 0)
		return;
	if (m.kind == CTR_MT_INDEX) {
		for (size_t i = 0; i < m.n_manifests; i++)
			if (!m.manifests[i].has_platform || ctr_platform_match(pm, &m.manifests[i].platform))
				size_walk(img, &m.manifests[i], pm, depth + 1, total);
	} else {
		*total += m.config.size;
		for (size_t i = 0; i < m.n_layers; i++)
			*total += m.layers[i].size;
	}
	ctr_manifest_clear(&m);
}

static void target_desc(const ctr_image *img, struct ctr_desc *d)
{
	*d = (struct ctr_desc){.media_type = img->md.media_type, .size = (int64_t)img->md.size};
	snprintf(d->digest, sizeof(d->digest), "%s", img->md.digest);
}

CTR_EXPORT int ctr_image_size(int64_t *out, const ctr_image *img, const char *platform, ctr_error **err)
{
	if (!img || !out)
		return ctr_err(err, CTR_EINVAL, 0, "image size: NULL argument");
	struct ctr_platform p;
	if (platform) {
		int r = ctr_platform_parse(platform, &p, err);
		if (r < 0)
			return r;
	} else {
		ctr_platform_host(&p);
	}
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_strict(&pm, &p);
	struct ctr_desc d;
	target_desc(img, &d);
	int64_t total = 0;
	size_walk(img, &d, &pm, 0, &total);
	*out = total;
	return 0;
}

static int add_platform(char ***v, size_t *n, const struct ctr_platform *p, ctr_error **err)
{
	char buf[128];
	ctr_platform_format(p, buf, sizeof(buf));
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], buf))
			return 0;
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return ctr_err_nomem(err);
	*v = nv;
	if (!(nv[*n] = strdup(buf)))
		return ctr_err_nomem(err);
	nv[++*n] = NULL;
	return 0;
}

static int plat_walk(const ctr_image *img, const struct ctr_desc *d, int depth, char ***v, size_t *n,
		     ctr_error **err)
{
	if (depth > MAX_DEPTH)
		return 0;
	struct ctr_manifest m = {0};
	if (read_manifest(img, d, &m, NULL) < 0)
		return 0; /* not present: nothing known */
	int r = 0;
	if (m.kind == CTR_MT_INDEX) {
		for (size_t i = 0; r == 0 && i < m.n_manifests; i++) {
			if (m.manifests[i].has_platform)
				r = add_platform(v, n, &m.manifests[i].platform, err);
			else if (ctr_media_kind(m.manifests[i].media_type) == CTR_MT_INDEX)
				r = plat_walk(img, &m.manifests[i], depth + 1, v, n, err);
		}
	} else if (d->has_platform) {
		r = add_platform(v, n, &d->platform, err);
	} else {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		struct ctr_image_config cfg = {0};
		if (read_doc(img, &m.config, CTR_MAX_CONFIG, &buf, &len, NULL) == 0 &&
		    ctr_image_config_parse(buf, len, &cfg, NULL) == 0) {
			r = add_platform(v, n, &cfg.platform, err);
			ctr_image_config_clear(&cfg);
		}
	}
	ctr_manifest_clear(&m);
	return r;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

CTR_EXPORT int ctr_image_platforms(char ***out, const ctr_image *img, ctr_error **err)
{
	if (!img || !out)
		return ctr_err(err, CTR_EINVAL, 0, "image platforms: NULL argument");
	char **v = calloc(1, sizeof(*v));
	size_t n = 0;
	if (!v)
		return ctr_err_nomem(err);
	struct ctr_desc d;
	target_desc(img, &d);
	int r = plat_walk(img, &d, 0, &v, &n, err);
	if (r < 0) {
		ctr_strv_free(v);
		return r;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
}
