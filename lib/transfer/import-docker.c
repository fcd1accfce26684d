/* docker save archives: manifest.json entries become Docker schema 2
 * manifests (config and layer files by the digests they were stored
 * under) in an OCI index annotated with the normalised RepoTags, as
 * containerd's archive.ImportIndex builds them. */
#include <ctr/archive.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "import.h"
#include "metadata.h"
#include "json.h"
#include "macro.h"

/* ---- docker archives ---- */

int ctr_import_clean_path(const char *in, char **out, ctr_error **err)
{
	if (!in)
		return ctr_err(err, CTR_EINVAL, 0, "archive entry without a name");
	size_t len = strlen(in);
	if (len > IMPORT_MAX_PATH)
		return ctr_err(err, CTR_EINVAL, 0, "archive path longer than %d bytes", IMPORT_MAX_PATH);
	if (in[0] == '/')
		return ctr_err(err, CTR_EINVAL, 0, "archive path \"%.200s\": absolute", in);
	char *o = malloc(len + 1);
	if (!o)
		return ctr_err_nomem(err);
	size_t n = 0;
	const char *p = in;
	while (*p) {
		size_t k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			free(o);
			return ctr_err(err, CTR_EINVAL, 0, "archive path \"%.200s\": contains \"..\"", in);
		}
		if (k && !(k == 1 && p[0] == '.')) {
			if (n)
				o[n++] = '/';
			memcpy(o + n, p, k);
			n += k;
		}
		p += k;
		while (*p == '/')
			p++;
	}
	o[n] = '\0';
	*out = o;
	return 0;
}

static const struct file_ent *find_file(const struct imp *im, const char *name)
{
	for (size_t i = 0; i < im->n_files; i++)
		if (!strcmp(im->files[i].name, name))
			return &im->files[i];
	return NULL;
}

/* A manifest.json path: cleaned, then a file or a symlink to one. */
static int docker_lookup(const struct imp *im, const char *path, const struct file_ent **out,
			 ctr_error **err)
{
	_cleanup_free_ char *p = NULL;
	int r = ctr_import_clean_path(path, &p, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "manifest.json");
	const struct file_ent *f = find_file(im, p);
	for (size_t i = 0; !f && i < im->n_links; i++)
		if (!strcmp(im->links[i].name, p) && im->links[i].target)
			f = find_file(im, im->links[i].target);
	if (!f)
		return ctr_err(err, CTR_EINVAL, 0, "manifest.json: \"%.200s\" not in the archive", path);
	*out = f;
	return 0;
}

static json_t *desc_json(const char *mt, const char *digest, int64_t size)
{
	return json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)size);
}

static const char *layer_type(const struct file_ent *f)
{
	if (f->n_head >= 2 && f->head[0] == 0x1f && f->head[1] == 0x8b)
		return CTR_MT_DOCKER_LAYER_GZIP;
	if (f->n_head >= 4 && f->head[0] == 0x28 && f->head[1] == 0xb5 && f->head[2] == 0x2f && f->head[3] == 0xfd)
		return CTR_MT_OCI_LAYER_ZSTD;
	return CTR_MT_DOCKER_LAYER;
}

static int put_json(struct imp *im, json_t *doc, char *digest, int64_t *size, ctr_error **err)
{
	if (!doc)
		return ctr_err_nomem(err);
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!s)
		return ctr_err_nomem(err);
	int r = ctr_arc_put(&im->arc, s, strlen(s), digest, err);
	*size = (int64_t)strlen(s);
	free(s);
	return r;
}

/* One docker manifest.json entry -> a schema 2 manifest descriptor (with the
 * config's platform), as containerd's ImportIndex writes it. */
static int docker_manifest(struct imp *im, const json_t *ent, json_t *manifests, ctr_error **err)
{
	const char *cfg = ctr_json_str(ent, "Config");
	const json_t *layers = json_object_get(ent, "Layers"), *tags = json_object_get(ent, "RepoTags");
	if (!cfg || (layers && !json_is_array(layers) && !json_is_null(layers)) ||
	    (tags && !json_is_array(tags) && !json_is_null(tags)))
		return ctr_err(err, CTR_EINVAL, 0, "manifest.json: an entry needs Config, Layers and RepoTags of the right types");
	const struct file_ent *cf;
	int r = docker_lookup(im, cfg, &cf, err);
	if (r < 0)
		return r;
	json_t *ls = json_array();
	json_t *man = json_pack("{s:i,s:s,s:o,s:o}", "schemaVersion", 2, "mediaType", CTR_MT_DOCKER_MANIFEST,
				"config", desc_json(CTR_MT_DOCKER_CONFIG, cf->digest, cf->size), "layers", ls);
	if (!man)
		return ctr_err_nomem(err);
	size_t i;
	json_t *v;
	json_array_foreach(layers, i, v) {
		const struct file_ent *lf;
		if (!json_is_string(v))
			r = ctr_err(err, CTR_EINVAL, 0, "manifest.json: a layer is not a string");
		else
			r = docker_lookup(im, json_string_value(v), &lf, err);
		if (r < 0) {
			json_decref(man);
			return r;
		}
		json_array_append_new(ls, desc_json(layer_type(lf), lf->digest, lf->size));
	}
	char mdigest[CTR_DIGEST_MAX];
	int64_t msize;
	if ((r = put_json(im, man, mdigest, &msize, err)) < 0)
		return ctr_err_prefix(err, r, "write docker manifest");

	json_t *base = desc_json(CTR_MT_DOCKER_MANIFEST, mdigest, msize), *plat = NULL;
	_cleanup_free_ char *cbuf = NULL;
	size_t clen;
	if ((r = ctr_arc_read(im->c, im->arc.ns, cf->digest, CTR_MAX_CONFIG, &cbuf, &clen, err)) < 0) {
		json_decref(base);
		return ctr_err_prefix(err, r, "image config %s", cfg);
	}
	json_t *cdoc = NULL;
	struct ctr_platform p;
	if (ctr_json_parse(cbuf, clen, CTR_MAX_CONFIG, CTR_JSON_MAX_DEPTH, "image config", &cdoc, NULL) == 0 &&
	    ctr_platform_from_json(cdoc, &p, NULL) == 0) {
		ctr_platform_normalize(&p);
		plat = json_pack("{s:s,s:s}", "architecture", p.arch, "os", p.os);
		if (plat && p.variant[0])
			json_object_set_new(plat, "variant", json_string(p.variant));
	}
	json_decref(cdoc);
	if (!json_array_size(tags)) {
		if (plat)
			json_object_set_new(base, "platform", plat);
		return json_array_append_new(manifests, base) ? ctr_err_nomem(err) : 0;
	}
	json_array_foreach(tags, i, v) {
		char *norm = NULL;
		if (!json_is_string(v))
			r = ctr_err(err, CTR_EINVAL, 0, "manifest.json: a RepoTag is not a string");
		else
			r = ctr_arc_normalize_ref(json_string_value(v), &norm, err);
		if (r < 0)
			break;
		char *oci = ctr_arc_oci_ref_name(norm);
		json_t *d = json_deep_copy(base);
		if (d && oci)
			json_object_set_new(d, "annotations",
					    json_pack("{s:s,s:s}", CTR_ANN_IMAGE_NAME, norm, CTR_ANN_REF_NAME, oci));
		if (d && plat)
			json_object_set(d, "platform", plat);
		free(norm);
		free(oci);
		if (!d || json_array_append_new(manifests, d)) {
			r = ctr_err_nomem(err);
			break;
		}
	}
	json_decref(plat);
	json_decref(base);
	return r;
}

int ctr_import_docker_index(struct imp *im, struct ctr_desc *out, ctr_error **err)
{
	json_t *doc = NULL;
	int r = ctr_json_parse(im->dmanifest, im->dmanifest_len, IMPORT_JSON_MAX, CTR_JSON_MAX_DEPTH,
			       "manifest.json", &doc, err);
	if (r < 0)
		return r;
	if (!json_is_array(doc)) {
		json_decref(doc);
		return ctr_err(err, CTR_EINVAL, 0, "manifest.json: not an array");
	}
	json_t *manifests = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(doc, i, v) {
		if (!json_is_object(v))
			r = ctr_err(err, CTR_EINVAL, 0, "manifest.json: an entry is not an object");
		else
			r = docker_manifest(im, v, manifests, err);
		if (r < 0)
			break;
	}
	json_decref(doc);
	if (r < 0) {
		json_decref(manifests);
		return r;
	}
	int64_t size;
	json_t *idx = json_pack("{s:i,s:o}", "schemaVersion", 2, "manifests", manifests);
	if ((r = put_json(im, idx, out->digest, &size, err)) < 0)
		return ctr_err_prefix(err, r, "write index");
	out->size = size;
	return (out->media_type = strdup(CTR_MT_OCI_INDEX)) ? 0 : ctr_err_nomem(err);
}

