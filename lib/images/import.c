/* ctr_client_import: containerd's archive.ImportIndex and client.Import in
 * one streaming pass over a tar (file or pipe).
 *
 * Every regular file is stored as it streams by: blobs/<alg>/<hex> with its
 * name as the expected digest (a mismatch names nothing), anything else
 * (docker-archive configs and layers) under the digest computed on the way.
 * oci-layout, index.json and manifest.json are read into memory (bounded).
 * After the stream, the index (the layout's, or one built from docker's
 * manifest.json as containerd builds it) is walked: platform filter,
 * gc.ref.content labels on each parent, every referenced blob present.
 * Image records are written last, so a failure leaves none. */
#include <ctr/archive.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "image.h"
#include "images/archive-util.h"
#include "images/manifest.h"
#include "metadata/metadata.h"
#include "util/json.h"
#include "util/macro.h"

#define IMPORT_JSON_MAX CTR_MAX_MANIFEST /* index.json, manifest.json, oci-layout */
#define IMPORT_MAX_PLATFORMS 16
#define IMPORT_MAX_DEPTH 16
#define IMPORT_MAX_PATH 4096
#define IMPORT_BUF (128 * 1024)

/* ---- options ---- */

struct imp_cfg {
	struct ctr_platform plats[IMPORT_MAX_PLATFORMS];
	size_t n_plats;
	bool all;
	char *index_name;
	char *prefix;
	bool filter_prefix;
	char *digest_prefix;
	char **labels;
};

static void imp_cfg_clear(struct imp_cfg *c)
{
	free(c->index_name);
	free(c->prefix);
	free(c->digest_prefix);
	ctr_strv_free(c->labels);
}

static int set_str(char **dst, const char *s, ctr_error **err)
{
	char *d = strdup(s);
	if (!d)
		return ctr_err_nomem(err);
	free(*dst);
	*dst = d;
	return 0;
}

static int apply_platform(void *t, void *ud, ctr_error **err)
{
	struct imp_cfg *c = t;
	if (c->n_plats == IMPORT_MAX_PLATFORMS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d platforms", IMPORT_MAX_PLATFORMS);
	int r = ctr_platform_parse(ud, &c->plats[c->n_plats], err);
	if (r == 0)
		c->n_plats++;
	return r;
}

CTR_EXPORT ctr_opt *ctr_with_import_platform(const char *spec)
{
	return spec ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_platform", apply_platform, spec) : NULL;
}

static int apply_all(void *t, void *ud, ctr_error **err)
{
	((struct imp_cfg *)t)->all = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_import_all_platforms(void)
{
	return ctr_opt_make(CTR_OPT_IMPORT, "ctr_with_import_all_platforms", apply_all, NULL, NULL);
}

static int apply_index_name(void *t, void *ud, ctr_error **err)
{
	int r = ctr_md_image_name_validate(ud, err);
	return r < 0 ? r : set_str(&((struct imp_cfg *)t)->index_name, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_import_index_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_index_name", apply_index_name, name) : NULL;
}

static int apply_prefix(struct imp_cfg *c, const char *s, bool filter, ctr_error **err)
{
	if (!*s)
		return ctr_err(err, CTR_EINVAL, 0, "empty image name prefix");
	c->filter_prefix = filter;
	return set_str(&c->prefix, s, err);
}

static int apply_base_name(void *t, void *ud, ctr_error **err) { return apply_prefix(t, ud, true, err); }
static int apply_ref_prefix(void *t, void *ud, ctr_error **err) { return apply_prefix(t, ud, false, err); }

CTR_EXPORT ctr_opt *ctr_with_import_base_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_base_name", apply_base_name, name) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_import_ref_prefix(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_ref_prefix", apply_ref_prefix, name) : NULL;
}

static int apply_digest_refs(void *t, void *ud, ctr_error **err)
{
	return set_str(&((struct imp_cfg *)t)->digest_prefix, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_import_digest_refs(const char *prefix)
{
	return prefix ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_digest_refs", apply_digest_refs, prefix) : NULL;
}

static void strv_free_ud(void *p) { ctr_strv_free(p); }

static int apply_labels(void *t, void *ud, ctr_error **err)
{
	struct imp_cfg *c = t;
	const char *const *in = ud;
	int r = ctr_md_labels_validate(in, err);
	if (r < 0)
		return r;
	size_t n = 0;
	while (in[n])
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(in[i]))) {
			ctr_strv_free(v);
			return ctr_err_nomem(err);
		}
	ctr_strv_free(c->labels);
	c->labels = v;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_import_labels(const char *const *labels)
{
	if (!labels)
		return NULL;
	size_t n = 0;
	while (labels[n])
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(labels[i]))) {
			ctr_strv_free(v);
			return NULL;
		}
	return ctr_opt_make(CTR_OPT_IMPORT, "ctr_with_import_labels", apply_labels, v, strv_free_ud);
}

/* ---- state ---- */

struct file_ent {
	char *name; /* cleaned path */
	char digest[CTR_DIGEST_MAX];
	int64_t size;
	unsigned char head[8];
	size_t n_head;
};

struct link_ent {
	char *name, *target; /* cleaned; target NULL when it leaves the archive */
};

struct img_ent {
	char *name;
	struct ctr_desc desc;
};

struct imp {
	ctr_client *c;
	struct imp_cfg cfg;
	struct ctr_arc arc;
	struct archive *ar;
	char *buf; /* IMPORT_BUF bytes */
	struct file_ent *files;
	size_t n_files, cap_files;
	struct link_ent *links;
	size_t n_links, cap_links;
	char *layout, *index, *dmanifest;
	size_t layout_len, index_len, dmanifest_len;
	struct ctr_platform_matcher m;
	char **visited;
	size_t n_visited, cap_visited;
	struct img_ent *imgs;
	size_t n_imgs, cap_imgs;
};

static int grow(void **v, size_t *cap, size_t n, size_t size, ctr_error **err)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*v, nc * size);
	if (!p)
		return ctr_err_nomem(err);
	*v = p;
	*cap = nc;
	return 0;
}

static void imp_clear(struct imp *im)
{
	for (size_t i = 0; i < im->n_files; i++)
		free(im->files[i].name);
	free(im->files);
	for (size_t i = 0; i < im->n_links; i++) {
		free(im->links[i].name);
		free(im->links[i].target);
	}
	free(im->links);
	free(im->layout);
	free(im->index);
	free(im->dmanifest);
	for (size_t i = 0; i < im->n_visited; i++)
		free(im->visited[i]);
	free(im->visited);
	for (size_t i = 0; i < im->n_imgs; i++) {
		free(im->imgs[i].name);
		ctr_desc_clear(&im->imgs[i].desc);
	}
	free(im->imgs);
	imp_cfg_clear(&im->cfg);
	free(im->buf);
	if (im->ar)
		archive_read_free(im->ar);
}

/* ---- paths ---- */

/* Cleans an untrusted archive path: no absolute path, no "..", "." and
 * empty components dropped. *out may be "" (the root). CTR_EINVAL. */
static int clean_path(const char *in, char **out, ctr_error **err)
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

/* path.Join(path.Dir(name), link) when it stays inside the archive; NULL
 * otherwise (and for absolute links). */
static char *link_target(const char *name, const char *link)
{
	if (!link || !*link || link[0] == '/')
		return NULL;
	const char *slash = strrchr(name, '/');
	size_t dl = slash ? (size_t)(slash - name) : 0;
	size_t cap = dl + strlen(link) + 2;
	char *o = malloc(cap);
	if (!o)
		return NULL;
	memcpy(o, name, dl);
	size_t n = dl;
	const char *p = link;
	while (*p) {
		size_t k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0) {
				free(o);
				return NULL;
			}
			char *s = memrchr(o, '/', n);
			n = s ? (size_t)(s - o) : 0;
		} else if (k && !(k == 1 && p[0] == '.')) {
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
	return o;
}

/* ---- reading entries ---- */

static int read_small(struct imp *im, const char *name, int64_t size, char **out, size_t *len,
		      ctr_error **err)
{
	if (size < 0 || (uint64_t)size > IMPORT_JSON_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "%s: larger than %u bytes", name, IMPORT_JSON_MAX);
	char *b = malloc((size_t)size + 1);
	if (!b)
		return ctr_err_nomem(err);
	size_t n = 0;
	while (n < (size_t)size) {
		la_ssize_t k = archive_read_data(im->ar, b + n, (size_t)size - n);
		if (k <= 0) {
			free(b);
			return ctr_err(err, CTR_EINVAL, 0, "%s: truncated archive: %s", name,
				       k < 0 ? archive_error_string(im->ar) : "end of data");
		}
		n += (size_t)k;
	}
	b[n] = '\0';
	free(*out);
	*out = b;
	*len = n;
	return 0;
}

static int skip_data(struct imp *im, const char *name, ctr_error **err)
{
	if (archive_read_data_skip(im->ar) != ARCHIVE_OK)
		return ctr_err(err, CTR_EINVAL, 0, "%s: %s", name, archive_error_string(im->ar));
	return 0;
}

/* Streams the current entry into the content store. expected: the digest
 * its name gives (NULL: computed). */
static int ingest(struct imp *im, const char *name, int64_t size, const char *expected,
		  struct file_ent *fe, ctr_error **err)
{
	ctr_content_writer *w = NULL;
	char *ref = NULL;
	int r = ctr_arc_writer(&im->arc, expected, size, &w, &ref, err);
	if (r == CTR_EEXISTS) {
		/* Already held: the archive's copy is not needed. */
		snprintf(fe->digest, sizeof(fe->digest), "%s", expected);
		return skip_data(im, name, err);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "ingest %s", name);
	ctr_hasher *h = NULL;
	if (!expected && (r = ctr_hasher_new(&h, CTR_DIGEST_SHA256, err)) < 0)
		goto fail;
	char *buf = im->buf;
	int64_t total = 0;
	for (;;) {
		la_ssize_t k = archive_read_data(im->ar, buf, IMPORT_BUF);
		if (k < 0) {
			r = ctr_err(err, CTR_EINVAL, 0, "%s: %s", name, archive_error_string(im->ar));
			goto fail;
		}
		if (k == 0)
			break;
		if (fe->n_head < sizeof(fe->head)) {
			size_t c = sizeof(fe->head) - fe->n_head;
			if (c > (size_t)k)
				c = (size_t)k;
			memcpy(fe->head + fe->n_head, buf, c);
			fe->n_head += c;
		}
		if (h)
			ctr_hasher_update(h, buf, (size_t)k);
		if ((r = ctr_content_writer_write(w, buf, (size_t)k, err)) < 0)
			goto fail;
		total += k;
	}
	if (total != size) {
		r = ctr_err(err, CTR_EINVAL, 0, "%s: %lld bytes, header says %lld", name, (long long)total,
			    (long long)size);
		goto fail;
	}
	if (h)
		ctr_hasher_peek(h, fe->digest);
	else
		snprintf(fe->digest, sizeof(fe->digest), "%s", expected);
	ctr_hasher_free(h);
	r = ctr_arc_commit(&im->arc, w, ref, size, fe->digest, err);
	return r < 0 ? ctr_err_prefix(err, r, "ingest %s", name) : 0;
fail:
	ctr_hasher_free(h);
	ctr_content_writer_free(w);
	ctr_content_abort(im->c, ref, CTR_OPTS(im->arc.o_ns), NULL);
	free(ref);
	return ctr_err_prefix(err, r, "ingest %s", name);
}

static bool special_name(const char *p)
{
	return !strcmp(p, "oci-layout") || !strcmp(p, "index.json") || !strcmp(p, "manifest.json") ||
	       !strncmp(p, "blobs/", 6) || !strcmp(p, "blobs");
}

static int read_entry(struct imp *im, struct archive_entry *e, ctr_error **err)
{
	_cleanup_free_ char *p = NULL;
	int r = clean_path(archive_entry_pathname(e), &p, err);
	if (r < 0)
		return r;
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFLNK) {
		if (special_name(p))
			return ctr_err(err, CTR_EINVAL, 0, "archive entry %s: a symlink where a file is expected", p);
		if ((r = grow((void **)&im->links, &im->cap_links, im->n_links, sizeof(*im->links), err)) < 0)
			return r;
		struct link_ent *l = &im->links[im->n_links];
		l->target = link_target(p, archive_entry_symlink(e));
		l->name = TAKE_PTR(p);
		im->n_links++;
		return 0;
	}
	/* Directories, hard links, devices: nothing to store (containerd
	 * reads regular files only). */
	if (type != AE_IFREG || archive_entry_hardlink(e) || !*p)
		return 0;
	if (!archive_entry_size_is_set(e))
		return ctr_err(err, CTR_EINVAL, 0, "archive entry %s: no size", p);
	int64_t size = archive_entry_size(e);
	if (!strcmp(p, "oci-layout"))
		return read_small(im, p, size, &im->layout, &im->layout_len, err);
	if (!strcmp(p, "manifest.json"))
		return read_small(im, p, size, &im->dmanifest, &im->dmanifest_len, err);
	if (!strcmp(p, "index.json"))
		return read_small(im, p, size, &im->index, &im->index_len, err);

	char digest[CTR_DIGEST_MAX];
	const char *expected = NULL;
	if (!strncmp(p, "blobs/", 6)) {
		const char *alg = p + 6, *slash = strchr(alg, '/');
		if (!slash || strchr(slash + 1, '/') || (size_t)(slash - alg) + strlen(slash) >= sizeof(digest))
			return ctr_err(err, CTR_EINVAL, 0, "archive entry %s: not blobs/<alg>/<hex>", p);
		snprintf(digest, sizeof(digest), "%.*s:%s", (int)(slash - alg), alg, slash + 1);
		if ((r = ctr_digest_parse(digest, NULL, NULL, err)) < 0)
			return ctr_err_prefix(err, r, "archive entry %s", p);
		expected = digest;
	}
	if ((r = grow((void **)&im->files, &im->cap_files, im->n_files, sizeof(*im->files), err)) < 0)
		return r;
	struct file_ent fe = {.size = size};
	if ((r = ingest(im, p, size, expected, &fe, err)) < 0)
		return r;
	fe.name = TAKE_PTR(p);
	im->files[im->n_files++] = fe;
	return 0;
}

static int read_archive(struct imp *im, int fd, ctr_error **err)
{
	if (!(im->buf = malloc(IMPORT_BUF)) || !(im->ar = archive_read_new()))
		return ctr_err_nomem(err);
	archive_read_support_format_tar(im->ar);
	archive_read_support_filter_gzip(im->ar);
	archive_read_support_filter_zstd(im->ar);
	if (archive_read_open_fd(im->ar, fd, 64 * 1024) != ARCHIVE_OK)
		return ctr_err(err, CTR_EINVAL, archive_errno(im->ar), "open archive: %s",
			       archive_error_string(im->ar));
	for (;;) {
		struct archive_entry *e;
		int ar = archive_read_next_header(im->ar, &e);
		if (ar == ARCHIVE_EOF)
			return 0;
		if (ar < ARCHIVE_WARN)
			return ctr_err(err, CTR_EINVAL, archive_errno(im->ar), "read archive: %s",
				       archive_error_string(im->ar));
		int r = read_entry(im, e, err);
		if (r < 0)
			return r;
	}
}

/* ---- docker archives ---- */

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
	int r = clean_path(path, &p, err);
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

static int docker_index(struct imp *im, struct ctr_desc *out, ctr_error **err)
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

static int oci_index(struct imp *im, struct ctr_desc *out, ctr_error **err)
{
	json_t *doc = NULL;
	int r = ctr_json_parse(im->layout, im->layout_len, IMPORT_JSON_MAX, CTR_JSON_MAX_DEPTH, "oci-layout",
			       &doc, err);
	if (r < 0)
		return r;
	const char *ver = ctr_json_str(doc, "imageLayoutVersion");
	if (!ver || strcmp(ver, "1.0.0")) {
		r = ctr_err(err, ver ? CTR_ENOTSUP : CTR_EINVAL, 0, "oci-layout: unsupported version \"%.40s\"",
			    ver ? ver : "");
		json_decref(doc);
		return r;
	}
	json_decref(doc);
	if (!im->index)
		return ctr_err(err, CTR_EINVAL, 0, "missing index.json in OCI layout 1.0.0");
	if ((r = ctr_arc_put(&im->arc, im->index, im->index_len, out->digest, err)) < 0)
		return ctr_err_prefix(err, r, "index.json");
	out->size = (int64_t)im->index_len;
	return (out->media_type = strdup(CTR_MT_OCI_INDEX)) ? 0 : ctr_err_nomem(err);
}

/* ---- the walk ---- */

static const char *translate(const struct imp *im, const char *ref, char **buf)
{
	const char *img = im->cfg.prefix;
	if (!img)
		return ref;
	if (strpbrk(ref, "/:@")) {
		size_t n = strlen(img);
		if (im->cfg.filter_prefix &&
		    (strncmp(ref, img, n) || (ref[n] && ref[n] != '/' && ref[n] != ':' && ref[n] != '@')))
			return "";
		return ref;
	}
	if (asprintf(buf, "%s:%s", img, ref) < 0)
		return NULL;
	return *buf;
}

static int add_image(struct imp *im, const char *name, const struct ctr_desc *d, ctr_error **err)
{
	int r = ctr_md_image_name_validate(name, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "image name from the archive");
	if ((r = grow((void **)&im->imgs, &im->cap_imgs, im->n_imgs, sizeof(*im->imgs), err)) < 0)
		return r;
	struct img_ent *e = &im->imgs[im->n_imgs];
	*e = (struct img_ent){0};
	if (!(e->name = strdup(name)) || ctr_desc_copy(&e->desc, d) < 0) {
		free(e->name);
		return ctr_err_nomem(err);
	}
	im->n_imgs++;
	return 0;
}

static int name_entry(struct imp *im, const struct ctr_desc *m, ctr_error **err)
{
	const char *name = ctr_json_str(m->annotations, CTR_ANN_IMAGE_NAME);
	_cleanup_free_ char *tbuf = NULL, *dref = NULL;
	if (!name || !*name) {
		name = ctr_json_str(m->annotations, CTR_ANN_REF_NAME);
		if (name && *name && !(name = translate(im, name, &tbuf)))
			return ctr_err_nomem(err);
	}
	int r;
	if (name && *name && (r = add_image(im, name, m, err)) < 0)
		return r;
	if (json_object_get(m->annotations, CTR_ANN_MANIFEST_SUBJECT) || !im->cfg.digest_prefix)
		return 0;
	if (asprintf(&dref, "%s@%s", im->cfg.digest_prefix, m->digest) < 0)
		return ctr_err_nomem(err);
	return add_image(im, dref, m, err);
}

static const char *gc_key(const char *mt)
{
	switch (ctr_media_kind(mt)) {
	case CTR_MT_CONFIG:
		return CTR_LABEL_GC_REF_CONTENT ".config";
	case CTR_MT_LAYER:
		return CTR_LABEL_GC_REF_CONTENT ".l.";
	case CTR_MT_MANIFEST:
		if (!strcmp(mt, CTR_MT_OCI_MANIFEST) || !strcmp(mt, CTR_MT_DOCKER_MANIFEST))
			return CTR_LABEL_GC_REF_CONTENT ".m.";
		break;
	default:
		break;
	}
	return CTR_LABEL_GC_REF_CONTENT ".";
}

/* containerd's SetChildrenLabels: one label per child, numbered per key. */
static int set_child_labels(struct imp *im, const char *parent, const struct ctr_desc *const *ch, size_t n,
			    ctr_error **err)
{
	if (!n)
		return 0;
	char **labels = calloc(n + 1, sizeof(*labels));
	if (!labels)
		return ctr_err_nomem(err);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *key = gc_key(ch[i]->media_type);
		size_t idx = 0;
		for (size_t j = 0; j < i; j++)
			idx += gc_key(ch[j]->media_type) == key;
		bool num = idx > 0 || key[strlen(key) - 1] == '.';
		if (num ? asprintf(&labels[i], "%s%zu=%s", key, idx, ch[i]->digest) < 0
			: asprintf(&labels[i], "%s=%s", key, ch[i]->digest) < 0) {
			labels[i] = NULL;
			r = ctr_err_nomem(err);
		}
	}
	if (r == 0)
		r = ctr_md_content_update_labels(NULL, im->c->db, im->arc.ns, parent,
						 (const char *const *)labels, false, err);
	ctr_strv_free(labels);
	return r;
}

static bool visited(struct imp *im, const char *digest, ctr_error **err, int *r)
{
	for (size_t i = 0; i < im->n_visited; i++)
		if (!strcmp(im->visited[i], digest))
			return true;
	*r = grow((void **)&im->visited, &im->cap_visited, im->n_visited, sizeof(char *), err);
	if (*r == 0 && !(im->visited[im->n_visited++] = strdup(digest)))
		*r = ctr_err_nomem(err);
	return false;
}

static bool optional_layer(const char *mt)
{
	return strstr(mt, "nondistributable") || !strcmp(mt, CTR_MT_DOCKER_LAYER_FOREIGN);
}

static int walk(struct imp *im, const struct ctr_desc *d, int depth, bool top, ctr_error **err)
{
	int r = 0;
	if (visited(im, d->digest, err, &r) || r < 0)
		return r;
	enum ctr_mt_kind kind = ctr_media_kind(d->media_type);
	if (kind != CTR_MT_MANIFEST && kind != CTR_MT_INDEX) {
		uint64_t have;
		if (!ctr_arc_has(&im->arc, d->digest, &have)) {
			if (kind == CTR_MT_LAYER && optional_layer(d->media_type))
				return 0;
			return ctr_err(err, CTR_ENOTFOUND, 0, "%s %s: not in the archive", d->media_type, d->digest);
		}
		if (have != (uint64_t)d->size)
			return ctr_err(err, CTR_EINVAL, 0, "%s: %llu bytes, descriptor says %lld", d->digest,
				       (unsigned long long)have, (long long)d->size);
		return 0;
	}
	if (depth > IMPORT_MAX_DEPTH)
		return ctr_err(err, CTR_EINVAL, 0, "indexes nested deeper than %d", IMPORT_MAX_DEPTH);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if ((r = ctr_arc_read(im->c, im->arc.ns, d->digest, CTR_MAX_MANIFEST, &buf, &len, err)) < 0)
		return ctr_err_prefix(err, r, "%s %s", kind == CTR_MT_INDEX ? "index" : "manifest", d->digest);
	if (len != (uint64_t)d->size)
		return ctr_err(err, CTR_EINVAL, 0, "%s: %zu bytes, descriptor says %lld", d->digest, len,
			       (long long)d->size);
	struct ctr_manifest m = {0};
	if ((r = ctr_manifest_parse(buf, len, d->media_type, &m, err)) < 0)
		return ctr_err_prefix(err, r, "%s", d->digest);
	size_t n = 0;
	const struct ctr_desc **ch = calloc(m.n_layers + m.n_manifests + 1, sizeof(*ch));
	if (!ch) {
		ctr_manifest_clear(&m);
		return ctr_err_nomem(err);
	}
	if (m.kind == CTR_MT_INDEX) {
		for (size_t i = 0; i < m.n_manifests && r == 0; i++) {
			const struct ctr_desc *e = &m.manifests[i];
			if (top)
				r = name_entry(im, e, err);
			if (!e->has_platform || ctr_platform_match(&im->m, &e->platform))
				ch[n++] = e;
		}
	} else {
		ch[n++] = &m.config;
		for (size_t i = 0; i < m.n_layers; i++)
			ch[n++] = &m.layers[i];
	}
	if (r == 0)
		r = set_child_labels(im, d->digest, ch, n, err);
	for (size_t i = 0; i < n && r == 0; i++)
		r = walk(im, ch[i], depth + 1, false, err);
	free(ch);
	ctr_manifest_clear(&m);
	return r;
}

/* ---- records ---- */

static int write_records(struct imp *im, ctr_image ***out, size_t *n_out, ctr_error **err)
{
	/* Every target first, so a missing one writes no record at all. */
	for (size_t i = 0; i < im->n_imgs; i++)
		if (!ctr_arc_has(&im->arc, im->imgs[i].desc.digest, NULL))
			return ctr_err(err, CTR_ENOTFOUND, 0, "image %s: target %s not in the archive",
				       im->imgs[i].name, im->imgs[i].desc.digest);
	ctr_image **v = calloc(im->n_imgs + 1, sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	int r = 0;
	for (size_t i = 0; i < im->n_imgs && r == 0; i++) {
		struct img_ent *e = &im->imgs[i];
		struct ctr_md_image old = {0};
		bool existed = ctr_md_image_get(&old, im->c->db, im->arc.ns, e->name, NULL) == 0;
		struct ctr_md_image md = {
			.name = e->name,
			.media_type = e->desc.media_type,
			.digest = e->desc.digest,
			.size = (uint64_t)e->desc.size,
			.labels = im->cfg.labels ? im->cfg.labels : existed ? old.labels : NULL,
		};
		r = ctr_image_put(&v[i], im->c, im->arc.ns, &md, true, err);
		ctr_md_image_clear(&old);
	}
	if (r < 0) {
		ctr_image_list_free(v, im->n_imgs);
		return r;
	}
	*out = v;
	*n_out = im->n_imgs;
	return 0;
}

CTR_EXPORT int ctr_client_import(ctr_image ***out, size_t *n_out, ctr_client *c, int fd,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || !out || !n_out || fd < 0)
		return ctr_err(err, CTR_EINVAL, 0, "import: client, out, n_out and fd are required");
	struct imp im = {.c = c};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_IMPORT, &im.cfg, &call, opts, n_opts, "import", err);
	if (r < 0) {
		imp_clear(&im);
		return r;
	}
	if (im.cfg.all)
		ctr_platform_matcher_all(&im.m);
	else if (im.cfg.n_plats == 1)
		ctr_platform_matcher_strict(&im.m, &im.cfg.plats[0]);
	else if (im.cfg.n_plats)
		ctr_platform_matcher_ordered(&im.m, im.cfg.plats, im.cfg.n_plats);
	else
		ctr_platform_matcher_default(&im.m);
	if ((r = ctr_arc_begin(&im.arc, c, &call, err)) < 0) {
		imp_clear(&im);
		return ctr_err_prefix(err, r, "import");
	}
	struct ctr_desc idx = {0};
	r = read_archive(&im, fd, err);
	if (r == 0) {
		if (im.layout)
			r = oci_index(&im, &idx, err);
		else if (im.dmanifest)
			r = docker_index(&im, &idx, err);
		else
			r = ctr_err(err, CTR_EINVAL, 0, "unrecognized image format: no oci-layout or manifest.json");
	}
	if (r == 0 && im.cfg.index_name)
		r = add_image(&im, im.cfg.index_name, &idx, err);
	if (r == 0)
		r = walk(&im, &idx, 0, true, err);
	if (r == 0)
		r = write_records(&im, out, n_out, err);
	ctr_arc_end(&im.arc, r < 0);
	ctr_desc_clear(&idx);
	imp_clear(&im);
	return r < 0 ? ctr_err_prefix(err, r, "import") : 0;
}
