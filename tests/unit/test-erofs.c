/* lib/archive/erofs-*.c: layer tars written as EROFS images. Each tar goes
 * both through the directory apply (overlay mode) and the EROFS writer;
 * fsck.erofs must accept the image, and the image mounted (root only)
 * must show the same tree as the directory: types, modes, owners, sizes,
 * content hashes, link targets, link counts, mtimes and xattrs. Hostile
 * tars (apply-cases.h, test-apply.c's breakouts) must get the same code
 * from both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "apply-cases.h"
#include "archive-helpers.h"
#include "erofs.h"
#include "erofs-mount.h"
#include "fs.h"
#include "macro.h"

static bool is_root;
static bool have_fsck;
static char base[256];
static char layer[300], victim[300], image[300], mnt[300];

static void put(const char *dir, const char *name, const char *content)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/ctr-erofs-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(layer, sizeof(layer), "%s/layer", base);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	snprintf(image, sizeof(image), "%s/layer.erofs", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	assert_int_equal(mkdir(layer, 0755), 0);
	assert_int_equal(mkdir(victim, 0755), 0);
	assert_int_equal(mkdir(mnt, 0755), 0);
	put(victim, "secret", "top secret\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	umount2(mnt, MNT_DETACH);
	ctr_rm_rf_at(AT_FDCWD, base, NULL);
	return 0;
}

static void reset_layer(void)
{
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, layer, NULL), 0);
	assert_int_equal(mkdir(layer, 0755), 0);
}

static int to_dir(const struct buf *tar, ctr_error **err)
{
	int dfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	struct memsrc m = {.p = tar->p, .len = tar->len, .chunk = 4000};
	struct ctr_apply_opts o = {.whiteouts = CTR_WHITEOUT_OVERLAY};
	int r = ctr_archive_apply(dfd, memsrc_read, &m, &o, NULL, err);
	close(dfd);
	return r;
}

static int to_image(const struct buf *tar, struct ctr_apply_stats *st, ctr_error **err)
{
	int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	struct memsrc m = {.p = tar->p, .len = tar->len, .chunk = 3000};
	struct ctr_apply_opts o = {.whiteouts = CTR_WHITEOUT_OVERLAY};
	int r = ctr_archive_apply_erofs(fd, -1, memsrc_read, &m, &o, st, err);
	close(fd);
	return r;
}

static void fsck_image(void)
{
	if (!have_fsck)
		return;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "fsck.erofs '%s' >/dev/null 2>&1", image);
	int st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(cmd, sizeof(cmd), "fsck.erofs '%s' >&2", image);
		if (system(cmd) != 0)
			fprintf(stderr, "fsck.erofs refused %s\n", image);
		fail();
	}
}

/* xattrs of every entry, one line each, sorted by path then name. */
static struct buf xattr_lines;
static const char *xattr_root;

static int xattr_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	char names[4096];
	ssize_t n = llistxattr(path, names, sizeof(names));
	assert_true(n >= 0);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		char val[1024];
		ssize_t vl = lgetxattr(path, names + i, val, sizeof(val));
		assert_true(vl >= 0);
		char line[2048 + 4096];
		int len = snprintf(line, sizeof(line), "%s|%s|", path + strlen(xattr_root), names + i);
		for (ssize_t k = 0; k < vl; k++)
			len += snprintf(line + len, sizeof(line) - (size_t)len, "%02x", (unsigned char)val[k]);
		buf_add(&xattr_lines, line, (size_t)len);
		buf_add(&xattr_lines, "\n", 1);
	}
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* nftw walks in directory order, which differs between filesystems. */
static char *sort_lines(char *text)
{
	size_t n = 0, cap = 64;
	char **v = malloc(cap * sizeof(*v));
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = l;
	}
	qsort(v, n, sizeof(*v), line_cmp);
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		buf_add(&b, v[i], strlen(v[i]));
		buf_add(&b, "\n", 1);
	}
	buf_add(&b, "", 1);
	free(v);
	free(text);
	return (char *)b.p;
}

static char *xattr_tree(const char *dir)
{
	xattr_lines = (struct buf){0};
	xattr_root = dir;
	assert_int_equal(nftw(dir, xattr_one, 16, FTW_PHYS), 0);
	buf_add(&xattr_lines, "", 1);
	return sort_lines((char *)xattr_lines.p);
}

/* The tree under dir without its root line (the root's own mode and time
 * are the snapshot's, not the layer's). */
static char *tree(const char *dir, bool mtimes)
{
	char *t = snap_tree(dir, mtimes);
	char *nl = strchr(t, '\n');
	memmove(t, nl + 1, strlen(nl + 1) + 1);
	/* a whiteout's time is when it was made, in both */
	for (char *w = strstr(t, "|dev 0:0|mt"); w; w = strstr(w, "|dev 0:0|mt")) {
		char *end = strchr(w, '\n');
		memmove(w + 8, end, strlen(end) + 1);
		w += 8;
	}
	return t;
}

/* Mounts the image and compares it with the directory apply's tree. */
static void compare(bool mtimes)
{
	if (!is_root)
		return;
	ctr_error *err = NULL;
	int r = ctr_erofs_mount(image, mnt, NULL, &err);
	if (r != 0)
		fprintf(stderr, "mount: %s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	_cleanup_free_ char *want = tree(layer, mtimes), *got = tree(mnt, mtimes);
	_cleanup_free_ char *wx = xattr_tree(layer), *gx = xattr_tree(mnt);
	umount2(mnt, MNT_DETACH);
	if (strcmp(want, got) || strcmp(wx, gx)) {
		fprintf(stderr, "directory apply:\n%s%s\nerofs image:\n%s%s\n", want, wx, got, gx);
		fail();
	}
}

static void both(const struct buf *tar, bool mtimes)
{
	reset_layer();
	ctr_error *err = NULL;
	int r = to_dir(tar, &err);
	if (r)
		fprintf(stderr, "apply: %s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	struct ctr_apply_stats st;
	r = to_image(tar, &st, &err);
	if (r)
		fprintf(stderr, "erofs: %s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	char want[CTR_DIGEST_MAX];
	ctr_digest_buf(CTR_DIGEST_SHA256, tar->p, tar->len, want, NULL);
	assert_string_equal(st.diff_id, want);
	assert_int_equal(st.tar_bytes, tar->len);
	fsck_image();
	compare(mtimes);
}

static const unsigned char capv2[20] = {0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void test_types(void **state)
{
	(void)state;
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	struct tent d = {.name = "etc/", .type = AE_IFDIR, .perm = 0751, .uid = 10, .gid = 20, .mtime = 1500000000,
			 .mtime_ns = 123456789};
	tarb_add(&t, &d);
	tarb_file(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	struct tent empty = {.name = "etc/empty", .type = AE_IFREG, .perm = 04755, .uid = 1000, .gid = 1000};
	tarb_add(&t, &empty);
	/* block-sized, just over, and a multi-megabyte file */
	size_t big = 3 * 1024 * 1024 + 17;
	unsigned char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	struct tent f1 = {.name = "etc/block", .type = AE_IFREG, .data = data, .len = 4096};
	struct tent f2 = {.name = "etc/block1", .type = AE_IFREG, .data = data, .len = 4097, .mtime = 1};
	struct tent f3 = {.name = "big", .type = AE_IFREG, .data = data, .len = big, .perm = 0600};
	tarb_add(&t, &f1);
	tarb_add(&t, &f2);
	tarb_add(&t, &f3);
	tarb_symlink(&t, "etc/link", "passwd");
	char longt[4000];
	memset(longt, 'l', sizeof(longt) - 1);
	longt[sizeof(longt) - 1] = 0;
	tarb_symlink(&t, "longlink", longt);
	tarb_hardlink(&t, "etc/passwd.hard", "etc/passwd");
	tarb_hardlink(&t, "hard2", "etc/passwd");
	struct tent cd = {.name = "null", .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3};
	struct tent bd = {.name = "sda", .type = AE_IFBLK, .perm = 0660, .maj = 259, .min = 70000};
	struct tent ff = {.name = "fifo", .type = AE_IFIFO, .perm = 0640, .uid = 5, .gid = 6};
	tarb_add(&t, &cd);
	tarb_add(&t, &bd);
	tarb_add(&t, &ff);
	struct tent xf = {.name = "ping", .type = AE_IFREG, .perm = 0755, .data = "elf", .len = 3,
			  .xname = {"security.capability", "user.note", "user.empty"},
			  .xval = {capv2, "hello", ""},
			  .xlen = {sizeof(capv2), 5, 0}};
	tarb_add(&t, &xf);
	struct tent xd = {.name = "xdir/", .type = AE_IFDIR, .xname = {"user.dir"}, .xval = {"v"}, .xlen = {1}};
	tarb_add(&t, &xd);
	/* whiteouts, an opaque directory, a replaced file and a replaced dir */
	tarb_dir(&t, "opq/");
	tarb_file(&t, "opq/.wh..wh..opq", "");
	tarb_file(&t, "opq/kept", "k");
	tarb_file(&t, ".wh.gone", "");
	tarb_file(&t, "etc/replaced", "one");
	tarb_file(&t, "etc/replaced", "two, longer");
	tarb_dir(&t, "rd/");
	tarb_file(&t, "rd/inside", "x");
	tarb_file(&t, "rd", "now a file");
	/* a directory of many entries spans several directory blocks, with
	 * names up to EROFS's 255 bytes */
	tarb_dir(&t, "many/");
	for (int i = 0; i < 700; i++) {
		char nm[400];
		int k = snprintf(nm, sizeof(nm), "many/%04d-", i);
		int len = i % 50 == 0 ? 255 : 10;
		while (k < 5 + len)
			nm[k++] = 'n';
		nm[k] = 0;
		if (i % 3 == 0)
			tarb_dir(&t, nm);
		else
			tarb_file(&t, nm, nm);
	}
	struct buf tar = tarb_finish(&t);
	both(&tar, true);
	free(tar.p);
	free(data);
}

static void test_sparse_and_empty(void **state)
{
	(void)state;
	/* an empty stream and one of only end-of-archive blocks are empty
	 * layers: the image is an empty root */
	struct buf none = {.p = (unsigned char *)"", .len = 0};
	both(&none, false);
	static unsigned char zeros[10240 + 512];
	struct buf z = {.p = zeros, .len = sizeof(zeros)};
	both(&z, false);
	/* a GNU sparse file: holes read as zeros */
	struct archive *a = archive_write_new();
	struct tarb t = {0};
	t.a = a;
	archive_write_set_format(a, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	assert_int_equal(archive_write_open(a, &t, NULL, tarb_write, NULL), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "sparse");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 1600000000, 0);
	archive_entry_set_size(e, 1 << 20);
	archive_entry_sparse_add_entry(e, 100000, 10);
	archive_entry_sparse_add_entry(e, 900000, 10);
	assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
	char ten[10] = "0123456789";
	archive_write_data(a, ten, 10);
	archive_write_data(a, ten, 10);
	archive_entry_free(e);
	struct buf sp = tarb_finish(&t);
	both(&sp, true);
	free(sp.p);
}

static char *expand(const char *s, char *buf, size_t n)
{
	if (!s || strncmp(s, "@V", 2))
		return (char *)s;
	snprintf(buf, n, "%s%s", victim, s + 2);
	return buf;
}

static struct buf build(const struct apply_step *steps)
{
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	for (size_t i = 0; i < 6 && steps[i].kind; i++) {
		char nb[700], lb[700];
		const char *name = expand(steps[i].name, nb, sizeof(nb));
		const char *link = expand(steps[i].link, lb, sizeof(lb));
		switch (steps[i].kind) {
		case 'f': tarb_file(&t, name, "evil\n"); break;
		case 'd': tarb_dir(&t, name); break;
		case 's': tarb_symlink(&t, name, link); break;
		case 'h': tarb_hardlink(&t, name, link); break;
		case 'c': {
			struct tent e = {.name = name, .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3};
			tarb_add(&t, &e);
			break;
		}
		default: fail();
		}
	}
	return tarb_finish(&t);
}

/* Both writers on the same hostile tar: the same code, an error naming the
 * entry, the same tree when accepted, and the victim untouched. */
static void same_refusal(const char *what, const struct buf *tar, int want, const char *names)
{
	_cleanup_free_ char *before = snap_tree(victim, true);
	reset_layer();
	ctr_error *e1 = NULL, *e2 = NULL;
	int r1 = to_dir(tar, &e1);
	int r2 = to_image(tar, NULL, &e2);
	if (r1 != want || r2 != want)
		fprintf(stderr, "%s: apply %d (%s), erofs %d (%s), want %d\n", what, r1, e1 ? ctr_error_message(e1) : "",
			r2, e2 ? ctr_error_message(e2) : "", want);
	assert_int_equal(r1, want);
	assert_int_equal(r2, want);
	if (want && names && !strstr(ctr_error_message(e2), names)) {
		fprintf(stderr, "%s: \"%s\" does not name \"%s\"\n", what, ctr_error_message(e2), names);
		fail();
	}
	ctr_error_free(e1);
	ctr_error_free(e2);
	if (!want) {
		fsck_image();
		compare(false);
	}
	_cleanup_free_ char *after = snap_tree(victim, true);
	assert_string_equal(before, after);
}

static void test_hostile(void **state)
{
	(void)state;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(apply_cases); i++) {
		const struct apply_case *c = &apply_cases[i];
		if (!is_root && c->steps[0].kind == 'c')
			continue; /* the directory apply needs CAP_MKNOD */
		struct buf tar = build(c->steps);
		same_refusal(c->what, &tar, c->want, c->names);
		free(tar.p);
	}
	/* names: too long, a long path, a component over 255 bytes */
	char *huge = malloc(5001);
	memset(huge, 'a', 5000);
	for (int i = 100; i < 5000; i += 101)
		huge[i] = '/';
	huge[5000] = 0;
	struct tarb t;
	const struct {
		const char *what;
		size_t cut;
		int want;
		const char *names;
	} names[] = {{"name too long", 5000, CTR_EINVAL, "name too long"}, {"long path", 3000, 0, NULL}};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(names); i++) {
		huge[names[i].cut] = 0;
		tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
		tarb_file(&t, huge, "x");
		struct buf tar = tarb_finish(&t);
		same_refusal(names[i].what, &tar, names[i].want, names[i].names);
		free(tar.p);
	}
	free(huge);
	char comp[300], deep[600];
	memset(comp, 'c', 299);
	comp[299] = 0;
	snprintf(deep, sizeof(deep), "d/%s/x", comp);
	const char *longs[] = {comp, deep};
	for (size_t i = 0; i < 2; i++) {
		tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
		tarb_file(&t, longs[i], "x");
		struct buf tar = tarb_finish(&t);
		same_refusal("component too long", &tar, CTR_EINVAL, "ccc");
		free(tar.p);
	}
	/* a corrupt stream: the same code from both */
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	tarb_file(&t, "a", "aaaa");
	struct buf tar = tarb_finish(&t);
	tar.p[148] ^= 0x5a; /* the header checksum */
	same_refusal("bad checksum", &tar, CTR_EINVAL, NULL);
	free(tar.p);
}

int main(void)
{
	is_root = geteuid() == 0;
	have_fsck = system("command -v fsck.erofs >/dev/null 2>&1") == 0;
	if (!have_fsck)
		printf("SKIP fsck.erofs checks: fsck.erofs is not installed (erofs-utils)\n");
	if (!is_root)
		printf("SKIP mounting images: mount(2) needs root\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sparse_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
