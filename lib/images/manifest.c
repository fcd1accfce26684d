#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "macro.h"

enum ctr_mt_kind ctr_media_kind(const char *mt)
{
	if (!mt)
		return CTR_MT_UNKNOWN;
	if (!strcmp(mt, CTR_MT_OCI_MANIFEST) || !strcmp(mt, CTR_MT_DOCKER_MANIFEST))
		return CTR_MT_MANIFEST;
	if (!strcmp(mt, CTR_MT_OCI_INDEX) || !strcmp(mt, CTR_MT_DOCKER_LIST))
		return CTR_MT_INDEX;
	if (!strcmp(mt, CTR_MT_OCI_CONFIG) || !strcmp(mt, CTR_MT_DOCKER_CONFIG))
		return CTR_MT_CONFIG;
	if (!strcmp(mt, CTR_MT_DOCKER_SCHEMA1) || !strcmp(mt, CTR_MT_DOCKER_SCHEMA1_PLAIN))
		return CTR_MT_SCHEMA1;
	if (ctr_media_compression(mt) != CTR_MT_COMP_UNKNOWN)
		return CTR_MT_LAYER;
	return CTR_MT_UNKNOWN;
}

enum ctr_mt_comp ctr_media_compression(const char *mt)
{
	if (!mt)
		return CTR_MT_COMP_UNKNOWN;
	if (!strcmp(mt, CTR_MT_OCI_LAYER) || !strcmp(mt, CTR_MT_OCI_LAYER_ND) ||
	    !strcmp(mt, CTR_MT_DOCKER_LAYER))
		return CTR_MT_COMP_NONE;
	if (!strcmp(mt, CTR_MT_OCI_LAYER_GZIP) || !strcmp(mt, CTR_MT_OCI_LAYER_ND_GZIP) ||
	    !strcmp(mt, CTR_MT_DOCKER_LAYER_GZIP) || !strcmp(mt, CTR_MT_DOCKER_LAYER_FOREIGN))
		return CTR_MT_COMP_GZIP;
	if (!strcmp(mt, CTR_MT_OCI_LAYER_ZSTD) || !strcmp(mt, CTR_MT_OCI_LAYER_ND_ZSTD))
		return CTR_MT_COMP_ZSTD;
	return CTR_MT_COMP_UNKNOWN;
}

void ctr_desc_clear(struct ctr_desc *d)
{
	if (!d)
		return;
	free(d->media_type);
	ctr_strv_free(d->urls);
	json_decref(d->annotations);
	memset(d, 0, sizeof(*d));
}

int ctr_desc_from_json(const json_t *obj, struct ctr_desc *out, const char *what, ctr_error **err)
{
	if (!json_is_object(obj))
		return ctr_err(err, CTR_EINVAL, 0, "%s: descriptor is not an object", what);
	const char *mt = ctr_json_str(obj, "mediaType");
	const char *dg = ctr_json_str(obj, "digest");
	json_t *sz = json_object_get(obj, "size");
	if (!mt || !*mt)
		return ctr_err(err, CTR_EINVAL, 0, "%s: descriptor without mediaType", what);
	if (!dg)
		return ctr_err(err, CTR_EINVAL, 0, "%s: descriptor without digest", what);
	int r = ctr_digest_parse(dg, NULL, NULL, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s", what);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return ctr_err(err, CTR_EINVAL, 0, "%s: descriptor size missing or negative", what);
	struct ctr_desc d = {0};
	d.media_type = strdup(mt);
	if (!d.media_type)
		return ctr_err_nomem(err);
	snprintf(d.digest, sizeof(d.digest), "%s", dg);
	d.size = json_integer_value(sz);
	json_t *urls = json_object_get(obj, "urls");
	if (json_is_array(urls) && json_array_size(urls) > 0) {
		size_t n = json_array_size(urls);
		d.urls = calloc(n + 1, sizeof(char *));
		if (!d.urls) {
			ctr_desc_clear(&d);
			return ctr_err_nomem(err);
		}
		for (size_t i = 0; i < n; i++) {
			const char *u = json_string_value(json_array_get(urls, i));
			if (!u || !(d.urls[i] = strdup(u))) {
				ctr_desc_clear(&d);
				return ctr_err(err, CTR_EINVAL, 0, "%s: bad urls entry", what);
			}
		}
	}
	json_t *ann = json_object_get(obj, "annotations");
	if (json_is_object(ann))
		d.annotations = json_deep_copy(ann);
	json_t *pl = json_object_get(obj, "platform");
	if (pl) {
		r = ctr_platform_from_json(pl, &d.platform, err);
		if (r < 0) {
			ctr_desc_clear(&d);
			return ctr_err_prefix(err, r, "%s", what);
		}
		d.has_platform = true;
	}
	*out = d;
	return 0;
}

json_t *ctr_desc_to_json(const struct ctr_desc *d)
{
	json_t *o = json_pack("{s:s,s:s,s:I}", "mediaType", d->media_type, "digest", d->digest,
			      "size", (json_int_t)d->size);
	if (!o)
		return NULL;
	if (d->urls) {
		json_t *a = json_array();
		for (char **u = d->urls; *u; u++)
			json_array_append_new(a, json_string(*u));
		json_object_set_new(o, "urls", a);
	}
	if (d->annotations)
		json_object_set_new(o, "annotations", json_deep_copy(d->annotations));
	if (d->has_platform) {
		json_t *p = json_pack("{s:s,s:s}", "architecture", d->platform.arch, "os", d->platform.os);
		if (d->platform.variant[0])
			json_object_set_new(p, "variant", json_string(d->platform.variant));
		json_object_set_new(o, "platform", p);
	}
	return o;
}

int ctr_desc_copy(struct ctr_desc *dst, const struct ctr_desc *src)
{
	json_t *j = ctr_desc_to_json(src);
	if (!j)
		return CTR_ENOMEM;
	int r = ctr_desc_from_json(j, dst, "descriptor", NULL);
	json_decref(j);
	return r;
}

void ctr_manifest_clear(struct ctr_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	ctr_desc_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		ctr_desc_clear(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		ctr_desc_clear(&m->manifests[i]);
	free(m->manifests);
	json_decref(m->annotations);
	memset(m, 0, sizeof(*m));
}

static int desc_array(const json_t *arr, struct ctr_desc **out, size_t *n_out, const char *what,
		      ctr_error **err)
{
	if (!json_is_array(arr))
		return ctr_err(err, CTR_EINVAL, 0, "%s is not an array", what);
	size_t n = json_array_size(arr);
	struct ctr_desc *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		char w[64];
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		int r = ctr_desc_from_json(json_array_get(arr, i), &v[i], w, err);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				ctr_desc_clear(&v[j]);
			free(v);
			return r;
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

int ctr_manifest_parse(const char *buf, size_t len, const char *media_type,
		       struct ctr_manifest *out, ctr_error **err)
{
	json_t *doc = NULL;
	int r = ctr_json_parse(buf, len, CTR_MAX_MANIFEST, CTR_JSON_MAX_DEPTH, "manifest", &doc, err);
	if (r < 0)
		return r;
	struct ctr_manifest m = {0};
	if (!json_is_object(doc)) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: not a JSON object");
		goto out;
	}
	const char *doc_mt = ctr_json_str(doc, "mediaType");
	json_t *schema = json_object_get(doc, "schemaVersion");
	if ((media_type && ctr_media_kind(media_type) == CTR_MT_SCHEMA1) ||
	    (doc_mt && ctr_media_kind(doc_mt) == CTR_MT_SCHEMA1) ||
	    (json_is_integer(schema) && json_integer_value(schema) == 1)) {
		r = ctr_err(err, CTR_ENOTSUP, 0,
			    "manifest: Docker schema 1 images are not supported; convert or re-push the image with schema 2");
		goto out;
	}
	if (!json_is_integer(schema) || json_integer_value(schema) != 2) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: schemaVersion must be 2");
		goto out;
	}
	if (media_type && doc_mt && strcmp(media_type, doc_mt) != 0) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: mediaType \"%.100s\" in the document does not match \"%.100s\" of its descriptor",
			    doc_mt, media_type);
		goto out;
	}
	const char *mt = media_type ? media_type : doc_mt;
	bool has_manifests = json_object_get(doc, "manifests") != NULL;
	bool has_config = json_object_get(doc, "config") != NULL;
	bool has_layers = json_object_get(doc, "layers") != NULL;
	enum ctr_mt_kind kind = ctr_media_kind(mt);
	if (!mt) /* an OCI document may omit mediaType: infer, refusing ambiguity */
		kind = has_manifests ? CTR_MT_INDEX : CTR_MT_MANIFEST;
	if (has_manifests && (has_config || has_layers)) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: ambiguous document has both manifests and config/layers");
		goto out;
	}
	if (kind == CTR_MT_MANIFEST && has_manifests) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: media type %s must not carry \"manifests\"", mt);
		goto out;
	}
	if (kind == CTR_MT_INDEX && (has_config || has_layers)) {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: index media type %s must not carry \"config\" or \"layers\"", mt);
		goto out;
	}
	m.kind = kind;
	m.media_type = strdup(mt ? mt : (kind == CTR_MT_INDEX ? CTR_MT_OCI_INDEX : CTR_MT_OCI_MANIFEST));
	if (!m.media_type) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if (kind == CTR_MT_MANIFEST) {
		r = ctr_desc_from_json(json_object_get(doc, "config"), &m.config, "manifest config", err);
		if (r == 0)
			r = desc_array(json_object_get(doc, "layers"), &m.layers, &m.n_layers, "manifest layers", err);
	} else if (kind == CTR_MT_INDEX) {
		r = desc_array(json_object_get(doc, "manifests"), &m.manifests, &m.n_manifests, "index manifests", err);
	} else {
		r = ctr_err(err, CTR_EINVAL, 0, "manifest: unknown media type \"%.100s\"", mt);
	}
	if (r < 0)
		goto out;
	json_t *ann = json_object_get(doc, "annotations");
	if (json_is_object(ann))
		m.annotations = json_deep_copy(ann);
	*out = m;
	memset(&m, 0, sizeof(m));
out:
	ctr_manifest_clear(&m);
	json_decref(doc);
	return r;
}

ssize_t ctr_index_select(const struct ctr_manifest *idx, const struct ctr_platform_matcher *m)
{
	ssize_t best = -1;
	size_t best_rank = (size_t)-1;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct ctr_desc *d = &idx->manifests[i];
		if (!d->has_platform) {
			if (!m->all)
				continue;
		} else if (!ctr_platform_match(m, &d->platform))
			continue;
		enum ctr_mt_kind k = ctr_media_kind(d->media_type);
		if (k != CTR_MT_MANIFEST && k != CTR_MT_INDEX)
			continue;
		size_t rank = d->has_platform ? ctr_platform_rank(m, &d->platform) : 0;
		if (rank < best_rank) {
			best_rank = rank;
			best = (ssize_t)i;
		}
	}
	return best;
}

void ctr_image_config_clear(struct ctr_image_config *c)
{
	if (!c)
		return;
	ctr_strv_free(c->diff_ids);
	json_decref(c->config);
	json_decref(c->doc);
	memset(c, 0, sizeof(*c));
}

int ctr_image_config_parse(const char *buf, size_t len, struct ctr_image_config *out, ctr_error **err)
{
	json_t *doc = NULL;
	int r = ctr_json_parse(buf, len, CTR_MAX_CONFIG, CTR_JSON_MAX_DEPTH, "image config", &doc, err);
	if (r < 0)
		return r;
	struct ctr_image_config c = {0};
	c.doc = doc;
	json_t *rootfs = json_object_get(doc, "rootfs");
	const char *type = ctr_json_str(rootfs, "type");
	json_t *ids = json_object_get(rootfs, "diff_ids");
	if (!type || strcmp(type, "layers") != 0 || !json_is_array(ids)) {
		r = ctr_err(err, CTR_EINVAL, 0, "image config: rootfs must have type \"layers\" and diff_ids");
		goto fail;
	}
	c.n_diff_ids = json_array_size(ids);
	c.diff_ids = calloc(c.n_diff_ids + 1, sizeof(char *));
	if (!c.diff_ids) {
		r = ctr_err_nomem(err);
		goto fail;
	}
	for (size_t i = 0; i < c.n_diff_ids; i++) {
		const char *d = json_string_value(json_array_get(ids, i));
		if (!d) {
			r = ctr_err(err, CTR_EINVAL, 0, "image config: diff_ids[%zu] is not a string", i);
			goto fail;
		}
		if ((r = ctr_digest_parse(d, NULL, NULL, err)) < 0) {
			ctr_err_prefix(err, r, "image config: diff_ids[%zu]", i);
			goto fail;
		}
		if (!(c.diff_ids[i] = strdup(d))) {
			r = ctr_err_nomem(err);
			goto fail;
		}
	}
	if (ctr_platform_from_json(doc, &c.platform, NULL) < 0)
		memset(&c.platform, 0, sizeof(c.platform));
	json_t *cfg = json_object_get(doc, "config");
	if (json_is_object(cfg))
		c.config = json_incref(cfg);
	*out = c;
	return 0;
fail:
	ctr_image_config_clear(&c);
	return r;
}

int ctr_chain_ids(const char *const *diff_ids, size_t n, char (*out)[CTR_DIGEST_MAX], ctr_error **err)
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			snprintf(out[0], CTR_DIGEST_MAX, "%s", diff_ids[0]);
			continue;
		}
		char buf[2 * CTR_DIGEST_MAX + 2];
		int len = snprintf(buf, sizeof(buf), "%s %s", out[i - 1], diff_ids[i]);
		int r = ctr_digest_buf(CTR_DIGEST_SHA256, buf, (size_t)len, out[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int ctr_image_depth_check(int depth, ctr_error **err)
{
	if (depth > CTR_IMAGE_MAX_DEPTH)
		return ctr_err(err, CTR_EINVAL, 0, "indexes nested deeper than %d", CTR_IMAGE_MAX_DEPTH);
	return 0;
}
