/* ctr_image_import: containerd's archive.ImportIndex and client.Import in
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
#include "content-ns.h"
#include "error.h"
#include "unpack.h"
#include "image-ns.h"
#include "import.h"
#include "metadata.h"
#include "json.h"
#include "macro.h"
#include "array.h"
#include "strv.h"
#include "walk.h"

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
	ctr_import_cfg_clear(&im->cfg);
	free(im->buf);
	if (im->ar)
		archive_read_free(im->ar);
}

/* ---- paths ---- */

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
	/* progress: blobs by digest, other files (docker save) by path */
	const char *key = expected ? expected : name;
	if (r == CTR_EEXISTS) {
		/* Already held: the archive's copy is not needed. */
		snprintf(fe->digest, sizeof(fe->digest), "%s", expected);
		if (im->cfg.progress && im->cfg.progress(key, NULL, size, size, CTR_PROGRESS_DONE, im->cfg.progress_ud))
			return ctr_err(err, CTR_ECANCELED, 0, "import canceled by the progress callback");
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
		if (im->cfg.progress &&
		    im->cfg.progress(key, NULL, total, size, CTR_PROGRESS_DOWNLOADING, im->cfg.progress_ud)) {
			r = ctr_err(err, CTR_ECANCELED, 0, "import canceled by the progress callback");
			goto fail;
		}
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
	if (r < 0)
		return ctr_err_prefix(err, r, "ingest %s", name);
	if (im->cfg.progress && im->cfg.progress(key, NULL, size, size, CTR_PROGRESS_DONE, im->cfg.progress_ud))
		return ctr_err(err, CTR_ECANCELED, 0, "import canceled by the progress callback");
	return 0;
fail:
	ctr_hasher_free(h);
	ctr_content_writer_free(w);
	ctr_contents_abort(im->c, ref, &im->arc.scope, NULL);
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
	int r = ctr_import_clean_path(archive_entry_pathname(e), &p, err);
	if (r < 0)
		return r;
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFLNK) {
		if (special_name(p))
			return ctr_err(err, CTR_EINVAL, 0, "archive entry %s: a symlink where a file is expected", p);
		if ((r = ctr_array_grow((void **)&im->links, &im->cap_links, im->n_links, sizeof(*im->links), err)) < 0)
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
	if ((r = ctr_array_grow((void **)&im->files, &im->cap_files, im->n_files, sizeof(*im->files), err)) < 0)
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
	if ((r = ctr_array_grow((void **)&im->imgs, &im->cap_imgs, im->n_imgs, sizeof(*im->imgs), err)) < 0)
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

static bool visited(struct imp *im, const char *digest, ctr_error **err, int *r)
{
	for (size_t i = 0; i < im->n_visited; i++)
		if (!strcmp(im->visited[i], digest))
			return true;
	*r = ctr_array_grow((void **)&im->visited, &im->cap_visited, im->n_visited, sizeof(char *), err);
	if (*r == 0 && !(im->visited[im->n_visited++] = strdup(digest)))
		*r = ctr_err_nomem(err);
	return false;
}

static bool optional_layer(const char *mt)
{
	return strstr(mt, "nondistributable") || !strcmp(mt, CTR_MT_DOCKER_LAYER_FOREIGN);
}

/* Each blob once; a leaf must be in the archive with its size (foreign and
 * non-distributable layers may be missing). */
static int imp_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	struct imp *im = ud;
	(void)depth;
	int r = 0;
	if (visited(im, d->digest, err, &r) || r < 0)
		return r < 0 ? r : CTR_WALK_SKIP;
	if (node)
		return 0;
	uint64_t have;
	enum ctr_mt_kind kind = ctr_media_kind(d->media_type);
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

static int imp_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	struct imp *im = ud;
	int r = ctr_arc_read(im->c, im->arc.ns, d->digest, CTR_MAX_MANIFEST, buf, len, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s %s", ctr_media_kind_name(d->media_type), d->digest);
	if (*len != (uint64_t)d->size) {
		free(*buf);
		*buf = NULL;
		return ctr_err(err, CTR_EINVAL, 0, "%s: %zu bytes, descriptor says %lld", d->digest, *len,
			       (long long)d->size);
	}
	return 0;
}

/* The archive's index names the images; an index's entries for the
 * platforms imported are followed; each parent is labelled for the
 * children followed (containerd's import: FilterPlatforms, then
 * SetChildrenLabels). */
static int imp_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *sel, size_t *n_sel,
		      ctr_error **err)
{
	struct imp *im = ud;
	size_t ns = 0;
	int r = 0;
	_cleanup_free_ const struct ctr_desc **ch = calloc(n->n_children + 1, sizeof(*ch));
	if (!ch)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n->n_children && r == 0; i++) {
		const struct ctr_desc *e = n->children[i];
		if (n->m.kind == CTR_MT_INDEX && n->depth == 0)
			r = name_entry(im, e, err);
		if (n->m.kind != CTR_MT_INDEX || !e->has_platform || ctr_platform_match(&im->m, &e->platform)) {
			ch[ns] = e;
			sel[ns++] = (struct ctr_walk_pick){.i = i};
		}
	}
	char **labels = NULL;
	size_t n_labels = 0;
	if (r == 0 && ns)
		r = ctr_gc_child_labels(&labels, &n_labels, ch, ns, NULL, NULL, err);
	if (r == 0 && ns)
		r = ctr_md_content_update_labels(NULL, im->c->db, im->arc.ns, n->desc->digest,
						 (const char *const *)labels, false, err);
	ctr_strv_free(labels);
	*n_sel = ns;
	return r;
}

static int imp_walk(struct imp *im, const struct ctr_desc *root, ctr_error **err)
{
	const struct ctr_image_walker w = {
		.visit = imp_visit,
		.read = imp_read,
		.select = imp_select,
		.ud = im,
	};
	return ctr_image_walk(&w, root, err);
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

CTR_EXPORT int ctr_image_import(ctr_image ***out, size_t *n_out, ctr_client *c, int fd,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || !out || !n_out || fd < 0)
		return ctr_err(err, CTR_EINVAL, 0, "import: client, out, n_out and fd are required");
	struct imp im = {.c = c};
	struct ctr_call call = {0};
	ctr_image **out_was = *out;
	size_t n_out_was = *n_out;
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
		ctr_platform_matcher_client(&im.m, c); /* containerd: the client's platform */
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
			r = ctr_import_docker_index(&im, &idx, err);
		else
			r = ctr_err(err, CTR_EINVAL, 0, "unrecognized image format: no oci-layout or manifest.json");
	}
	if (r == 0 && im.cfg.index_name)
		r = add_image(&im, im.cfg.index_name, &idx, err);
	if (r == 0)
		r = imp_walk(&im, &idx, err);
	if (r == 0)
		r = write_records(&im, out, n_out, err);
	ctr_arc_end(&im.arc, r < 0);
	if (r == 0 && im.cfg.unpack) {
		/* After the records exist: an unpack failure keeps the import. */
		struct ctr_platform_matcher um = im.m;
		if (um.all)
			ctr_platform_matcher_client(&um, c);
		if (um.all)
			ctr_platform_matcher_default(&um);
		for (size_t i = 0; r == 0 && i < *n_out; i++) {
			const ctr_image *img = (*out)[i];
			r = ctr_unpack_parallel(c, ctr_image_namespace(img), ctr_image_target_media_type(img),
						ctr_image_target_digest(img), &um, im.cfg.snapshotter, &call, NULL, NULL,
						err);
			if (r == CTR_ENOTFOUND && im.cfg.index_name && !strcmp(ctr_image_name(img), im.cfg.index_name)) {
				/* the whole-index record may offer no manifest for the host */
				r = 0;
				ctr_err_drop(err);
			}
			if (r < 0)
				ctr_err_prefix(err, r, "unpack %s", ctr_image_name(img));
		}
		if (r < 0) {
			ctr_image_list_free(*out, *n_out);
			*out = out_was;
			*n_out = n_out_was;
		}
	}
	ctr_desc_clear(&idx);
	imp_clear(&im);
	return r < 0 ? ctr_err_prefix(err, r, "import") : 0;
}
