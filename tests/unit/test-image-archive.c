/* Image archives: import of OCI layouts and docker-archive tars (from a
 * file and a pipe, platform selection, names), export read back by skopeo,
 * hostile archives that must change nothing, and import from a rootfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "fs.h"
#include "macro.h"

static char tmp[256];
static ctr_client *c;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-imgarc-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	char root[300], st[300];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(st);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_client_free(c);
	c = NULL;
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
}

static const char *srcdir(void)
{
	const char *s = getenv("MESON_SOURCE_ROOT");
	return s ? s : ".";
}

/* Builds an image with mkimage.py into tmp/NAME and packs it as tmp/NAME.tar. */
static void mkimage(const char *kind, const char *name, const char *extra)
{
	run("python3 %s/tests/fixtures/mkimage.py %s %s/%s %s >/dev/null", srcdir(), kind, tmp, name,
	    extra ? extra : "");
	run("tar -C %s/%s -cf %s/%s.tar oci-layout index.json blobs", tmp, name, tmp, name);
}

static json_t *load_json(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);
	if (!j)
		fail_msg("cannot load %s", path);
	return j;
}

/* The layout's top manifest descriptor digest (index.json's first entry). */
static char *layout_top_digest(const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/index.json", tmp, name);
	json_t *j = load_json(p);
	char *d = strdup(json_string_value(json_object_get(json_array_get(json_object_get(j, "manifests"), 0), "digest")));
	json_decref(j);
	return d;
}

static json_t *content_json(const char *digest)
{
	ctr_content_reader *r = NULL;
	assert_int_equal(ctr_content_reader_open(&r, c, digest, NULL, 0, NULL), 0);
	int64_t n = ctr_content_reader_size(r);
	char *buf = malloc((size_t)n + 1);
	size_t nr = 0;
	assert_int_equal(ctr_content_reader_pread(&nr, r, buf, (size_t)n, 0, NULL), 0);
	assert_int_equal(nr, (size_t)n);
	buf[n] = 0;
	ctr_content_reader_free(r);
	json_t *j = json_loads(buf, 0, NULL);
	free(buf);
	assert_non_null(j);
	return j;
}

static const char *label_of(const char *digest, const char *key, char *buf, size_t len)
{
	ctr_content_info *i = NULL;
	assert_int_equal(ctr_content_get(&i, c, digest, NULL, 0, NULL), 0);
	const char *res = NULL;
	size_t kl = strlen(key);
	for (const char *const *l = ctr_content_info_labels(i); l && *l; l++)
		if (!strncmp(*l, key, kl) && (*l)[kl] == '=') {
			snprintf(buf, len, "%s", *l + kl + 1);
			res = buf;
		}
	ctr_content_info_free(i);
	return res;
}

static int import_file(const char *path, ctr_image ***imgs, size_t *n, const ctr_opt *const *opts, size_t n_opts,
		       ctr_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int r = ctr_image_import(imgs, n, c, fd, opts, n_opts, err);
	close(fd);
	return r;
}

static ctr_image *find_img(ctr_image **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ctr_image_name(v[i]), name))
			return v[i];
	fail_msg("no image %s", name);
	return NULL;
}

static size_t n_leases(void)
{
	ctr_lease **ls = NULL;
	size_t n = 0;
	assert_int_equal(ctr_lease_list(&ls, &n, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_lease_list_free(ls, n);
	return n;
}

/* ---- imports ---- */

static void test_import_oci_file(void **state)
{
	(void)state;
	mkimage("busybox", "bb", NULL);
	_cleanup_free_ char *top = layout_top_digest("bb");
	char p[512];
	snprintf(p, sizeof(p), "%s/bb.tar", tmp);
	ctr_image **imgs = NULL;
	size_t n = 0;
	/* No prefix: the ref name is the image name, as client.Import does. */
	assert_int_equal(import_file(p, &imgs, &n, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_name(imgs[0]), "latest");
	assert_string_equal(ctr_image_target_digest(imgs[0]), top);
	assert_string_equal(ctr_image_target_media_type(imgs[0]), "application/vnd.oci.image.manifest.v1+json");
	ctr_image_list_free(imgs, n);
	/* gc.ref labels as containerd's SetChildrenLabels writes them. */
	json_t *m = content_json(top);
	char buf[200];
	assert_string_equal(label_of(top, "containerd.io/gc.ref.content.config", buf, sizeof(buf)),
			    json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
	assert_string_equal(label_of(top, "containerd.io/gc.ref.content.l.0", buf, sizeof(buf)),
			    json_string_value(json_object_get(json_array_get(json_object_get(m, "layers"), 0), "digest")));
	json_decref(m);
	/* The temporary lease is gone, and the image holds the content. */
	assert_int_equal(n_leases(), 0);
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	ctr_strv_free(removed);
	m = content_json(top);
	ctr_content_info *ci = NULL;
	const char *ld = json_string_value(json_object_get(json_array_get(json_object_get(m, "layers"), 0), "digest"));
	assert_int_equal(ctr_content_get(&ci, c, ld, NULL, 0, NULL), 0);
	ctr_content_info_free(ci);
	json_decref(m);
	/* base name: bare tags become NAME:tag; index-name names the index. */
	ctr_opt *o1 = ctr_with_import_base_name("docker.io/library/bb"), *o2 = ctr_with_import_index_name("whole");
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o1, o2), NULL), 0);
	assert_int_equal(n, 2);
	ctr_image *w = find_img(imgs, n, "whole");
	assert_string_equal(ctr_image_target_media_type(w), "application/vnd.oci.image.index.v1+json");
	ctr_image *b = find_img(imgs, n, "docker.io/library/bb:latest");
	assert_string_equal(ctr_image_target_digest(b), top);
	/* The index record's target is the archive's index.json. */
	char idxp[512], dg[CTR_DIGEST_MAX];
	snprintf(idxp, sizeof(idxp), "%s/bb/index.json", tmp);
	int fd = open(idxp, O_RDONLY | O_CLOEXEC);
	assert_int_equal(ctr_digest_fd(CTR_DIGEST_SHA256, fd, dg, NULL, NULL), 0);
	close(fd);
	assert_string_equal(ctr_image_target_digest(w), dg);
	ctr_image_list_free(imgs, n);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	/* FilterRefPrefix: a full reference outside the base name is dropped;
	 * --digests names by digest under the prefix. */
	o1 = ctr_with_import_base_name("example.com/other");
	o2 = ctr_with_import_digest_refs("example.com/other");
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o1, o2), NULL), 0);
	assert_int_equal(n, 2);
	char want[300];
	snprintf(want, sizeof(want), "example.com/other@%s", top);
	find_img(imgs, n, want);
	find_img(imgs, n, "example.com/other:latest");
	ctr_image_list_free(imgs, n);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
}

static void test_import_pipe(void **state)
{
	(void)state;
	mkimage("tree", "tree", "--tag v2");
	_cleanup_free_ char *top = layout_top_digest("tree");
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cat %s/tree.tar", tmp);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	ctr_opt *o = ctr_with_import_ref_prefix("import-x");
	ctr_image **imgs = NULL;
	size_t n = 0;
	int r = ctr_image_import(&imgs, &n, c, fileno(f), CTR_OPTS(o), NULL);
	assert_int_equal(pclose(f), 0);
	assert_int_equal(r, 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_name(imgs[0]), "import-x:v2");
	assert_string_equal(ctr_image_target_digest(imgs[0]), top);
	ctr_image_list_free(imgs, n);
	ctr_opt_free(o);
	/* The same archive gzip-compressed, through a pipe. */
	snprintf(cmd, sizeof(cmd), "gzip -c %s/tree.tar", tmp);
	f = popen(cmd, "r");
	o = ctr_with_import_base_name("docker.io/library/tree");
	r = ctr_image_import(&imgs, &n, c, fileno(f), CTR_OPTS(o), NULL);
	assert_int_equal(pclose(f), 0);
	assert_int_equal(r, 0);
	assert_string_equal(ctr_image_name(imgs[0]), "docker.io/library/tree:v2");
	ctr_image_list_free(imgs, n);
	ctr_opt_free(o);
	assert_int_equal(n_leases(), 0);
}

/* The multiarch layout: index.json -> an index of amd64 and arm64. */
static void nested_children(const char *idx, const char **m0, const char **m1, char *b0, char *b1)
{
	*m0 = label_of(idx, "containerd.io/gc.ref.content.m.0", b0, 200);
	*m1 = label_of(idx, "containerd.io/gc.ref.content.m.1", b1, 200);
}

static void test_import_multiarch(void **state)
{
	(void)state;
	mkimage("multiarch", "ma", NULL);
	_cleanup_free_ char *top = layout_top_digest("ma");
	char p[512];
	snprintf(p, sizeof(p), "%s/ma.tar", tmp);
	json_t *idx = NULL;
	char mp[600];
	snprintf(mp, sizeof(mp), "%s/ma/blobs/sha256/%s", tmp, top + 7);
	idx = load_json(mp);
	const char *arm = NULL, *amd = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(idx, "manifests"), i, v) {
		const char *a = json_string_value(json_object_get(json_object_get(v, "platform"), "architecture"));
		const char *d = json_string_value(json_object_get(v, "digest"));
		if (!strcmp(a, "arm64"))
			arm = d;
		else
			amd = d;
	}
	assert_non_null(arm);
	assert_non_null(amd);

	ctr_opt *o = ctr_with_import_platform("linux/arm64");
	ctr_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o), NULL), 0);
	ctr_opt_free(o);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_target_digest(imgs[0]), top);
	ctr_image_list_free(imgs, n);
	char b0[200], b1[200];
	const char *m0, *m1;
	nested_children(top, &m0, &m1, b0, b1);
	assert_non_null(m0);
	assert_string_equal(m0, arm);
	assert_null(m1);
	/* The arm64 manifest got its children's labels; amd64's did not. */
	assert_non_null(label_of(arm, "containerd.io/gc.ref.content.config", b1, 200));
	assert_null(label_of(amd, "containerd.io/gc.ref.content.config", b1, 200));

	o = ctr_with_import_all_platforms();
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o), NULL), 0);
	ctr_opt_free(o);
	ctr_image_list_free(imgs, n);
	nested_children(top, &m0, &m1, b0, b1);
	assert_non_null(m0);
	assert_non_null(m1);
	assert_true((!strcmp(m0, amd) && !strcmp(m1, arm)) || (!strcmp(m0, arm) && !strcmp(m1, amd)));
	assert_non_null(label_of(amd, "containerd.io/gc.ref.content.config", b1, 200));
	json_decref(idx);
	assert_int_equal(n_leases(), 0);
}

/* ---- hostile archives ---- */

struct tent {
	const char *name;
	int type; /* 0 file, 1 symlink, 2 dir */
	const char *data;
	size_t len; /* 0: strlen(data) */
	const char *link;
};

static void write_tar(const char *path, const struct tent *e, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	struct archive_entry *ent = archive_entry_new();
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ent);
		archive_entry_set_pathname(ent, e[i].name);
		size_t len = e[i].data ? (e[i].len ? e[i].len : strlen(e[i].data)) : 0;
		if (e[i].type == 1) {
			archive_entry_set_filetype(ent, AE_IFLNK);
			archive_entry_set_symlink(ent, e[i].link);
			archive_entry_set_perm(ent, 0777);
		} else if (e[i].type == 2) {
			archive_entry_set_filetype(ent, AE_IFDIR);
			archive_entry_set_perm(ent, 0755);
		} else {
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_perm(ent, 0644);
			archive_entry_set_size(ent, (la_int64_t)len);
		}
		assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
	}
	archive_entry_free(ent);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* What must not change: the namespace's content, image records, leases and
 * active ingests. */
struct snap {
	char *content; /* digests joined */
	char *disk;    /* blob files joined */
	size_t n_images, n_leases, n_ingests;
};

static void take(struct snap *s)
{
	ctr_content_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_content_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(ctr_content_info_digest(v[i])) + 1;
	s->content = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(s->content, ctr_content_info_digest(v[i]));
		strcat(s->content, " ");
	}
	ctr_content_info_list_free(v, n);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls %s/root/content/blobs/sha256 | tr '\\n' ' '", tmp);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	s->disk = calloc(1, 1 << 16);
	size_t got = fread(s->disk, 1, (1 << 16) - 1, f);
	s->disk[got] = 0;
	assert_int_equal(pclose(f), 0);
	ctr_image **imgs = NULL;
	assert_int_equal(ctr_image_list(&imgs, &s->n_images, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_image_list_free(imgs, s->n_images);
	s->n_leases = n_leases();
	ctr_content_status **st = NULL;
	assert_int_equal(ctr_content_status_list(&st, &s->n_ingests, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_content_status_list_free(st, s->n_ingests);
}

static void expect_unchanged(const struct snap *before)
{
	struct snap after;
	take(&after);
	assert_string_equal(after.content, before->content);
	assert_string_equal(after.disk, before->disk);
	assert_int_equal(after.n_images, before->n_images);
	assert_int_equal(after.n_leases, 0);
	assert_int_equal(after.n_ingests, 0);
	free(after.content);
	free(after.disk);
}

static void expect_import_fails(const struct tent *e, size_t n, int code)
{
	struct snap before;
	take(&before);
	char p[512];
	snprintf(p, sizeof(p), "%s/hostile.tar", tmp);
	write_tar(p, e, n);
	ctr_image **imgs = NULL;
	size_t ni = 0;
	ctr_error *err = NULL;
	int r = import_file(p, &imgs, &ni, NULL, 0, &err);
	if (r != code)
		fail_msg("import: got %d, want %d: %s", r, code, err ? ctr_error_message(err) : "");
	assert_non_null(err);
	assert_int_equal(ctr_error_code_of(err), code);
	ctr_error_free(err);
	expect_unchanged(&before);
	free(before.content);
	free(before.disk);
}

static void sha(const char *s, size_t len, char *out)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, s, len, out, NULL), 0);
}

static char *blob_name(const char *digest)
{
	char *p = NULL;
	assert_true(asprintf(&p, "blobs/sha256/%s", digest + 7) > 0);
	return p;
}

static char *index_for(const char *mt, const char *digest, size_t size)
{
	char *s = NULL;
	assert_true(asprintf(&s,
			     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"bad\"}}]}",
			     mt, digest, size) > 0);
	return s;
}

#define LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

static void test_hostile(void **state)
{
	(void)state;
	/* Content to keep: an imported image. */
	mkimage("busybox", "bb", NULL);
	char p[512];
	snprintf(p, sizeof(p), "%s/bb.tar", tmp);
	ctr_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(import_file(p, &imgs, &n, NULL, 0, NULL), 0);
	ctr_image_list_free(imgs, n);

	/* A blob whose name is not its content's digest: nothing by either. */
	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char dcfg[CTR_DIGEST_MAX], dother[CTR_DIGEST_MAX];
	sha(cfg, strlen(cfg), dcfg);
	sha("other bytes", 11, dother);
	_cleanup_free_ char *bn = blob_name(dother);
	_cleanup_free_ char *idx1 = index_for("application/vnd.oci.image.config.v1+json", dother, strlen(cfg));
	struct tent t1[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"index.json", 0, idx1, 0, NULL}, {bn, 0, cfg, 0, NULL}};
	expect_import_fails(t1, 3, CTR_EDIGEST);
	ctr_content_info *ci = NULL;
	assert_int_equal(ctr_content_get(&ci, c, dcfg, NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_content_get(&ci, c, dother, NULL, 0, NULL), CTR_ENOTFOUND);

	/* Paths: "..", absolute, a symlink for index.json, a bad blob name. */
	struct tent t2[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"blobs/../../x", 0, "x", 0, NULL}};
	expect_import_fails(t2, 2, CTR_EINVAL);
	struct tent t3[] = {{"/index.json", 0, "{}", 0, NULL}, {"oci-layout", 0, LAYOUT, 0, NULL}};
	expect_import_fails(t3, 2, CTR_EINVAL);
	struct tent t4[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"index.json", 1, NULL, 0, "/etc/passwd"}};
	expect_import_fails(t4, 2, CTR_EINVAL);
	struct tent t4b[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"blobs/sha256/nothex", 0, "x", 0, NULL}};
	expect_import_fails(t4b, 2, CTR_EINVAL);

	/* index.json over 4 MiB, and invalid JSON. */
	size_t big = (4u << 20) + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	struct tent t5[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"index.json", 0, huge, big, NULL}};
	expect_import_fails(t5, 2, CTR_EINVAL);
	free(huge);
	struct tent t6[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"index.json", 0, "{\"manifests\": [", 0, NULL}};
	expect_import_fails(t6, 2, CTR_EINVAL);
	struct tent t6b[] = {{"oci-layout", 0, "{\"imageLayoutVersion\":\"9.9\"}", 0, NULL}, {"index.json", 0, "{}", 0, NULL}};
	expect_import_fails(t6b, 2, CTR_ENOTSUP);
	struct tent t6c[] = {{"some-file", 0, "x", 0, NULL}};
	expect_import_fails(t6c, 1, CTR_EINVAL);

	/* A manifest whose layer is missing: the manifest and config it
	 * brought are dropped again, no record, no lease. */
	char dlayer[CTR_DIGEST_MAX], dman[CTR_DIGEST_MAX];
	sha("missing layer", 13, dlayer);
	char *man = NULL;
	assert_true(asprintf(&man,
			     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
			     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":13}]}",
			     dcfg, strlen(cfg), dlayer) > 0);
	sha(man, strlen(man), dman);
	_cleanup_free_ char *idx2 = index_for("application/vnd.oci.image.manifest.v1+json", dman, strlen(man));
	_cleanup_free_ char *bcfg = blob_name(dcfg), *bman = blob_name(dman);
	struct tent t7[] = {{"oci-layout", 0, LAYOUT, 0, NULL}, {"index.json", 0, idx2, 0, NULL},
			    {"blobs", 2, NULL, 0, NULL}, {bcfg, 0, cfg, 0, NULL}, {bman, 0, man, 0, NULL}};
	expect_import_fails(t7, 5, CTR_ENOTFOUND);
	assert_int_equal(ctr_content_get(&ci, c, dman, NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_content_get(&ci, c, dcfg, NULL, 0, NULL), CTR_ENOTFOUND);
	free(man);

	/* docker-archive: a layer path with "..", and one that is missing. */
	struct tent t8[] = {{"cfg.json", 0, cfg, 0, NULL},
			    {"manifest.json", 0, "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"../etc/layer.tar\"]}]", 0, NULL}};
	expect_import_fails(t8, 2, CTR_EINVAL);
	struct tent t9[] = {{"cfg.json", 0, cfg, 0, NULL},
			    {"manifest.json", 0, "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l/layer.tar\"]}]", 0, NULL},
			    {"l/layer.tar", 1, NULL, 0, "../../../etc/passwd"}};
	expect_import_fails(t9, 3, CTR_EINVAL);
	/* A bad RepoTag. */
	struct tent t10[] = {{"cfg.json", 0, cfg, 0, NULL},
			     {"manifest.json", 0, "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"Bad Name!\"],\"Layers\":[]}]", 0, NULL}};
	expect_import_fails(t10, 2, CTR_EINVAL);
}

/* ---- round trips through skopeo ---- */

static bool have_skopeo(void)
{
	if (system("skopeo --version >/dev/null 2>&1") == 0)
		return true;
	print_message("skopeo not installed: archive round trips not checked\n");
	return false;
}

static void test_export_roundtrip(void **state)
{
	(void)state;
	if (!have_skopeo())
		return;
	mkimage("busybox", "bb", NULL);
	_cleanup_free_ char *top = layout_top_digest("bb");
	char p[512];
	snprintf(p, sizeof(p), "%s/bb.tar", tmp);
	ctr_image **imgs = NULL;
	size_t n = 0;
	ctr_opt *o = ctr_with_import_base_name("docker.io/library/busybox");
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o), NULL), 0);
	ctr_opt_free(o);
	ctr_image_list_free(imgs, n);

	char out[512];
	snprintf(out, sizeof(out), "%s/export.tar", tmp);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	const char *names[] = {"docker.io/library/busybox:latest"};
	assert_int_equal(ctr_image_export(c, fd, names, 1, NULL, 0, NULL), 0);
	close(fd);
	/* skopeo reads it as an OCI archive: same manifest digest. */
	run("skopeo copy -q oci-archive:%s oci:%s/sk:x", out, tmp);
	char skp[512];
	snprintf(skp, sizeof(skp), "%s/sk/index.json", tmp);
	json_t *j = load_json(skp);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "manifests"), 0), "digest")), top);
	json_decref(j);
	/* ... and, through manifest.json, as a docker archive. */
	run("skopeo copy -q docker-archive:%s oci:%s/sk2:y", out, tmp);
	run("skopeo inspect --raw docker-archive:%s > %s/da.json", out, tmp);
	snprintf(skp, sizeof(skp), "%s/da.json", tmp);
	j = load_json(skp);
	char mp[600];
	snprintf(mp, sizeof(mp), "%s/bb/blobs/sha256/%s", tmp, top + 7);
	json_t *orig = load_json(mp);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "config"), "digest")),
			    json_string_value(json_object_get(json_object_get(orig, "config"), "digest")));
	json_decref(j);

	/* Unknown image: CTR_ENOTFOUND and no bytes written. */
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *bad[] = {"docker.io/library/nope:1"};
	assert_int_equal(ctr_image_export(c, fd, bad, 1, NULL, 0, NULL), CTR_ENOTFOUND);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);

	/* skopeo's docker-archive of the layout, imported: same config. */
	run("skopeo copy -q oci:%s/bb:latest docker-archive:%s/docker.tar:foo/bar:v1", tmp, tmp);
	snprintf(p, sizeof(p), "%s/docker.tar", tmp);
	assert_int_equal(import_file(p, &imgs, &n, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_name(imgs[0]), "docker.io/foo/bar:v1");
	assert_string_equal(ctr_image_target_media_type(imgs[0]), "application/vnd.docker.distribution.manifest.v2+json");
	json_t *dm = content_json(ctr_image_target_digest(imgs[0]));
	assert_string_equal(json_string_value(json_object_get(json_object_get(dm, "config"), "digest")),
			    json_string_value(json_object_get(json_object_get(orig, "config"), "digest")));
	/* docker save layers are uncompressed tars, imported as such. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(dm, "layers"), 0), "mediaType")),
			    "application/vnd.docker.image.rootfs.diff.tar");
	json_decref(dm);
	json_decref(orig);
	ctr_image_list_free(imgs, n);
	assert_int_equal(n_leases(), 0);

	/* Multi-platform: export picks the requested platform's manifest. */
	mkimage("multiarch", "ma", NULL);
	snprintf(p, sizeof(p), "%s/ma.tar", tmp);
	o = ctr_with_import_base_name("docker.io/library/ma");
	ctr_opt *o2 = ctr_with_import_all_platforms();
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o, o2), NULL), 0);
	ctr_opt_free(o);
	ctr_opt_free(o2);
	ctr_image_list_free(imgs, n);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *ma[] = {"docker.io/library/ma:latest"};
	o = ctr_with_export_platform("linux/arm64");
	assert_int_equal(ctr_image_export(c, fd, ma, 1, CTR_OPTS(o), NULL), 0);
	ctr_opt_free(o);
	close(fd);
	run("skopeo inspect --raw docker-archive:%s > %s/ma.json", out, tmp);
	run("skopeo copy -q --override-arch arm64 oci-archive:%s oci:%s/ma-out:x", out, tmp);
	snprintf(skp, sizeof(skp), "%s/ma.json", tmp);
	j = load_json(skp);
	json_t *cfgj = NULL;
	/* The docker manifest's config says arm64. */
	char cp[700];
	const char *cd = json_string_value(json_object_get(json_object_get(j, "config"), "digest"));
	snprintf(cp, sizeof(cp), "%s/ma/blobs/sha256/%s", tmp, cd + 7);
	cfgj = load_json(cp);
	assert_string_equal(json_string_value(json_object_get(cfgj, "architecture")), "arm64");
	json_decref(cfgj);
	json_decref(j);
}

/* ---- more import and export cases ---- */

static void put_blob(const char *data, char *digest)
{
	sha(data, strlen(data), digest);
	ctr_opt *o = ctr_with_content_expected(digest, (int64_t)strlen(data));
	ctr_content_writer *w = NULL;
	char ref[200];
	snprintf(ref, sizeof(ref), "t-%s", digest + 7);
	int r = ctr_content_writer_open(&w, c, ref, CTR_OPTS(o), NULL);
	ctr_opt_free(o);
	if (r == CTR_EEXISTS)
		return;
	assert_int_equal(r, 0);
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, (int64_t)strlen(data), digest, NULL, CTR_NO_OPTS, NULL), 0);
	ctr_content_writer_free(w);
}

static char *tar_list(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "tar -tf %s | tr '\\n' ' '", path);
	FILE *f = popen(cmd, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	assert_int_equal(pclose(f), 0);
	return buf;
}

static int export_to(const char *path, const char *name, const ctr_opt *const *opts, size_t n, off_t *size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	const char *names[] = {name};
	int r = ctr_image_export(c, fd, names, 1, opts, n, NULL);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	*size = st.st_size;
	close(fd);
	return r;
}

static void test_export_cases(void **state)
{
	(void)state;
	/* An image with a non-distributable layer, made through the API. */
	const char *layer = "not really a tar";
	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char dl[CTR_DIGEST_MAX], dc[CTR_DIGEST_MAX], dm[CTR_DIGEST_MAX];
	put_blob(layer, dl);
	put_blob(cfg, dc);
	char *man = NULL;
	assert_true(asprintf(&man,
			     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
			     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
			     dc, strlen(cfg), dl, strlen(layer)) > 0);
	put_blob(man, dm);
	assert_int_equal(ctr_image_create(NULL, c, "docker.io/library/nd:1", "application/vnd.oci.image.manifest.v1+json",
						 dm, (int64_t)strlen(man), NULL, NULL, 0, NULL), 0);
	free(man);
	char out[512];
	off_t size;
	snprintf(out, sizeof(out), "%s/nd.tar", tmp);
	char want[300];
	snprintf(want, sizeof(want), "blobs/sha256/%s ", dl + 7);
	assert_int_equal(export_to(out, "docker.io/library/nd:1", NULL, 0, &size), 0);
	char *l = tar_list(out);
	assert_non_null(strstr(l, want));
	free(l);
	ctr_opt *o = ctr_with_export_skip_non_distributable();
	assert_int_equal(export_to(out, "docker.io/library/nd:1", CTR_OPTS(o), &size), 0);
	ctr_opt_free(o);
	l = tar_list(out);
	assert_null(strstr(l, want));
	snprintf(want, sizeof(want), "blobs/sha256/%s ", dc + 7);
	assert_non_null(strstr(l, want));
	free(l);

	/* A target that is not a manifest: CTR_EINVAL, nothing written. */
	assert_int_equal(ctr_image_create(NULL, c, "cfg-only", "application/vnd.oci.image.config.v1+json", dc,
						 (int64_t)strlen(cfg), NULL, NULL, 0, NULL), 0);
	assert_int_equal(export_to(out, "cfg-only", NULL, 0, &size), CTR_EINVAL);
	assert_int_equal(size, 0);

	/* A multi-platform index: a platform it lacks is CTR_ENOTFOUND; all
	 * platforms exports both manifests' blobs. */
	mkimage("multiarch", "ma", NULL);
	char p[512];
	snprintf(p, sizeof(p), "%s/ma.tar", tmp);
	ctr_image **imgs = NULL;
	size_t n = 0;
	ctr_opt *o1 = ctr_with_import_all_platforms(), *o2 = ctr_with_import_index_name("ma-index");
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(o1, o2), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_image_list_free(imgs, n);
	o = ctr_with_export_platform("linux/s390x");
	assert_int_equal(export_to(out, "latest", CTR_OPTS(o), &size), CTR_ENOTFOUND);
	ctr_opt_free(o);
	assert_int_equal(size, 0);
	o1 = ctr_with_export_platform("linux/s390x");
	o2 = ctr_with_export_all_platforms();
	assert_int_equal(export_to(out, "latest", CTR_OPTS(o1, o2), &size), CTR_ENOTFOUND);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	o1 = ctr_with_export_platform("linux/arm64");
	o2 = ctr_with_export_all_platforms();
	assert_int_equal(export_to(out, "latest", CTR_OPTS(o1, o2), &size), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	_cleanup_free_ char *top = layout_top_digest("ma");
	char mp[600];
	snprintf(mp, sizeof(mp), "%s/ma/blobs/sha256/%s", tmp, top + 7);
	json_t *idx = load_json(mp);
	l = tar_list(out);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(idx, "manifests"), i, v) {
		snprintf(want, sizeof(want), "blobs/sha256/%s ", json_string_value(json_object_get(v, "digest")) + 7);
		assert_non_null(strstr(l, want));
	}
	free(l);
	json_decref(idx);
	/* Exported, imported into another namespace: the same records. */
	ctr_opt *ons = ctr_with_call_namespace("other");
	int fd = open(out, O_RDONLY | O_CLOEXEC);
	assert_int_equal(ctr_image_import(&imgs, &n, c, fd, CTR_OPTS(ons), NULL), 0);
	close(fd);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_name(imgs[0]), "latest");
	assert_string_equal(ctr_image_namespace(imgs[0]), "other");
	assert_string_equal(ctr_image_target_digest(imgs[0]), top);
	ctr_image_list_free(imgs, n);
	ctr_opt_free(ons);
}

static void test_import_caller_lease_and_docker_links(void **state)
{
	(void)state;
	/* A legacy docker save: the layer listed through a symlink. */
	const char *cfg = "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	const char *layer = "pretend layer";
	char dl[CTR_DIGEST_MAX], dc[CTR_DIGEST_MAX];
	sha(layer, strlen(layer), dl);
	sha(cfg, strlen(cfg), dc);
	struct tent t[] = {
		{"abc/layer.tar", 1, NULL, 0, "../real/layer.tar"},
		{"real/layer.tar", 0, layer, 0, NULL},
		{"cfg.json", 0, cfg, 0, NULL},
		{"manifest.json", 0, "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"alpine:3\",\"example.com:5000/a/b:c\"],\"Layers\":[\"abc/layer.tar\"]}]", 0, NULL},
	};
	char p[512];
	snprintf(p, sizeof(p), "%s/docker.tar", tmp);
	write_tar(p, t, 4);
	ctr_opt *oid = ctr_with_lease_id("mine");
	assert_int_equal(ctr_lease_create(NULL, c, CTR_OPTS(oid), NULL), 0);
	ctr_opt_free(oid);
	ctr_opt *ol = ctr_with_lease("mine");
	ctr_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(ol), NULL), 0);
	ctr_opt_free(ol);
	assert_int_equal(n, 2);
	ctr_image *a = find_img(imgs, n, "docker.io/library/alpine:3");
	find_img(imgs, n, "example.com:5000/a/b:c");
	json_t *m = content_json(ctr_image_target_digest(a));
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "config"), "digest")), dc);
	json_t *l0 = json_array_get(json_object_get(m, "layers"), 0);
	assert_string_equal(json_string_value(json_object_get(l0, "digest")), dl);
	assert_string_equal(json_string_value(json_object_get(l0, "mediaType")), "application/vnd.docker.image.rootfs.diff.tar");
	json_decref(m);
	ctr_image_list_free(imgs, n);
	/* The caller's lease is kept and holds what came in. */
	char **types = NULL, **ids = NULL;
	assert_int_equal(ctr_lease_list_resources(&types, &ids, c, "mine", NULL, 0, NULL), 0);
	bool has_layer = false;
	for (size_t i = 0; ids[i]; i++)
		has_layer |= !strcmp(types[i], "content") && !strcmp(ids[i], dl);
	assert_true(has_layer);
	ctr_strv_free(types);
	ctr_strv_free(ids);
	assert_int_equal(n_leases(), 1);
	/* The index built for it: one entry per RepoTag, with the config's
	 * platform and both name annotations, as containerd writes it. */
	ctr_opt *oi = ctr_with_import_index_name("dock-index");
	assert_int_equal(import_file(p, &imgs, &n, CTR_OPTS(oi), NULL), 0);
	ctr_opt_free(oi);
	json_t *idx = content_json(ctr_image_target_digest(find_img(imgs, n, "dock-index")));
	json_t *e0 = json_array_get(json_object_get(idx, "manifests"), 0);
	json_t *plat = json_object_get(e0, "platform");
	assert_string_equal(json_string_value(json_object_get(plat, "architecture")), "arm");
	assert_string_equal(json_string_value(json_object_get(plat, "variant")), "v7");
	json_t *ann = json_object_get(e0, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "io.containerd.image.name")), "docker.io/library/alpine:3");
	assert_string_equal(json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name")), "3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(idx, "manifests"), 1),
									     "annotations"), "org.opencontainers.image.ref.name")), "c");
	json_decref(idx);
	ctr_image_list_free(imgs, n);
}

/* ---- rootfs ---- */

static void compare_trees(const char *a, const char *b)
{
	/* names, types, modes, sizes, contents and link targets */
	run("cd %s && find . -printf '%%p %%y %%m %%s %%l\\n' | sort > %s/a.lst", a, tmp);
	run("cd %s && find . -printf '%%p %%y %%m %%s %%l\\n' | sort > %s/b.lst", b, tmp);
	run("diff -u %s/a.lst %s/b.lst", tmp, tmp);
	run("diff -r --no-dereference %s %s", a, b);
}

static void test_import_rootfs(void **state)
{
	(void)state;
	char src[512];
	snprintf(src, sizeof(src), "%s/rootfs", tmp);
	run("mkdir -p %s/bin %s/etc/sub %s/empty && printf 'hello\\n' > %s/etc/hello && chmod 0640 %s/etc/hello"
	    " && head -c 300000 /dev/urandom > %s/bin/big && chmod 0755 %s/bin/big && ln -s ../etc/hello %s/bin/link"
	    " && ln -s /nowhere %s/dangling && chmod 0700 %s/etc/sub && touch %s/etc/sub/.hidden",
	    src, src, src, src, src, src, src, src, src, src, src);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_import_rootfs(&img, c, src, "docker.io/library/mine:1", NULL, 0, NULL), 0);
	assert_string_equal(ctr_image_name(img), "docker.io/library/mine:1");
	json_t *m = content_json(ctr_image_target_digest(img));
	json_t *layers = json_object_get(m, "layers");
	assert_int_equal(json_array_size(layers), 1);
	json_t *l0 = json_array_get(layers, 0);
	assert_string_equal(json_string_value(json_object_get(l0, "mediaType")),
			    "application/vnd.oci.image.layer.v1.tar+gzip");
	json_t *cfg = content_json(json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
	assert_non_null(json_string_value(json_object_get(cfg, "architecture")));
	assert_string_equal(json_string_value(json_object_get(cfg, "os")), "linux");
	assert_non_null(json_string_value(json_object_get(cfg, "created")));
	assert_int_equal(json_array_size(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids")), 1);
	/* Write the layer out and extract it with tar. */
	ctr_content_reader *r = NULL;
	assert_int_equal(ctr_content_reader_open(&r, c, json_string_value(json_object_get(l0, "digest")), NULL, 0, NULL), 0);
	char lp[512], dst[512];
	snprintf(lp, sizeof(lp), "%s/layer.tgz", tmp);
	snprintf(dst, sizeof(dst), "%s/out", tmp);
	FILE *f = fopen(lp, "we");
	char buf[65536];
	int64_t off = 0;
	size_t k = 0;
	while (ctr_content_reader_pread(&k, r, buf, sizeof(buf), off, NULL) == 0 && k > 0) {
		assert_int_equal(fwrite(buf, 1, k, f), k);
		off += (int64_t)k;
	}
	fclose(f);
	ctr_content_reader_free(r);
	run("mkdir -p %s && tar -xzf %s -C %s", dst, lp, dst);
	compare_trees(src, dst);
	/* diff_id is the uncompressed tar's digest. */
	run("test \"sha256:$(gzip -dc %s | sha256sum | cut -d' ' -f1)\" = %s", lp,
	    json_string_value(json_array_get(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), 0)));
	json_decref(cfg);
	json_decref(m);
	ctr_image_free(img);
	assert_int_equal(n_leases(), 0);
	/* A missing directory: CTR_ENOTFOUND, nothing recorded. */
	assert_int_equal(ctr_image_import_rootfs(&img, c, "/nonexistent-dir", "x", NULL, 0, NULL), CTR_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_oci_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_multiarch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_caller_lease_and_docker_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_rootfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
