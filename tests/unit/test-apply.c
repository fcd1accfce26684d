/* lib/archive/apply.c: every entry type, breakout attempts against a victim
 * directory beside the layer, OCI whiteouts in both modes, the worker pool's
 * ordering, and a comparison with GNU tar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* terse step tables leave .link out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <sys/wait.h>
#include <sys/xattr.h>

#include "archive-helpers.h"
#include "fs.h"
#include "macro.h"

static bool is_root;
static char base[256];   /* per-test tmp dir */
static char layer[300];  /* base/layer */
static char victim[300]; /* base/victim: must never change */

static void put(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(ctr_write_all(fd, content, strlen(content)), 0);
	fchmod(fd, mode);
	close(fd);
}

static void mkd(const char *dir, const char *name, mode_t mode)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(mkdir(p, mode), 0);
}

/* Read-only directories from a layer block removal when not root. */
static void make_writable(const char *dir)
{
	if (is_root)
		return;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwX '%s' 2>/dev/null", dir);
	if (system(cmd) != 0) {
		/* nothing there yet */
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/ctr-apply-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(layer, sizeof(layer), "%s/layer", base);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	mkdir(layer, 0755);
	mkdir(victim, 0755);
	put(victim, "secret", "top secret\n", 0600);
	mkd(victim, "sub", 0700);
	put(victim, "sub/data", "data\n", 0644);
	char p[400];
	snprintf(p, sizeof(p), "%s/link", victim);
	assert_int_equal(symlink("secret", p), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	make_writable(base);
	ctr_rm_rf_at(AT_FDCWD, base, NULL);
	return 0;
}

static void reset_layer(void)
{
	make_writable(layer);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, layer, NULL), 0);
	assert_int_equal(mkdir(layer, 0755), 0);
}

static int apply_buf(const struct buf *tar, const struct ctr_apply_opts *o, struct ctr_apply_stats *st,
		     ctr_error **err)
{
	int dfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	struct memsrc m = {.p = tar->p, .len = tar->len, .chunk = 4000};
	int r = ctr_archive_apply(dfd, memsrc_read, &m, o, st, err);
	close(dfd);
	return r;
}

static struct stat lst(const char *name)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", layer, name);
	struct stat st;
	if (lstat(p, &st) < 0) {
		fprintf(stderr, "lstat %s: %m\n", p);
		fail();
	}
	return st;
}

static bool exists(const char *name)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", layer, name);
	struct stat st;
	return lstat(p, &st) == 0;
}

static char *slurp(const char *name)
{
	int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *c = NULL;
	ctr_error *err = NULL;
	if (ctr_read_file(dfd, name, 1 << 24, &c, NULL, &err) != 0) {
		fprintf(stderr, "read %s: %s\n", name, ctr_error_message(err));
		fail();
	}
	close(dfd);
	return c;
}

static ssize_t getx(const char *name, const char *attr, char *out, size_t n)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", layer, name);
	return lgetxattr(p, attr, out, n);
}

/* A v2 file capability: CAP_NET_RAW permitted + effective. */
static const unsigned char capv2[20] = {0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void make_longname(char out[400])
{
	memset(out, 'L', 400);
	memcpy(out, "long/", 5);
	out[150] = '/';
	out[399] = 0;
}

static struct buf types_tar(unsigned char **bigp, size_t *bign)
{
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
	struct tent d = {.name = "d/", .type = AE_IFDIR, .perm = 0750, .uid = 1000, .gid = 1001,
			 .mtime = 1500000000, .mtime_ns = 123456789};
	tarb_add(&t, &d);
	struct tent f = {.name = "d/f", .type = AE_IFREG, .perm = 0640, .uid = 1234, .gid = 5678,
			 .mtime = 1400000000, .mtime_ns = 500000000, .data = "hello\n", .len = 6,
			 .xname = {"user.foo", "security.capability", "trusted.foo"},
			 .xval = {"bar", capv2, "x"}, .xlen = {3, sizeof(capv2), 1}};
	tarb_add(&t, &f);
	struct tent su = {.name = "d/suid", .type = AE_IFREG, .perm = 04755, .uid = 1000, .gid = 1000,
			  .data = "#!/bin/sh\n", .len = 10};
	tarb_add(&t, &su);
	size_t bn = 3u << 20;
	unsigned char *big = malloc(bn);
	for (size_t i = 0; i < bn; i++)
		big[i] = (unsigned char)(i * 7 + i / 4096);
	struct tent bg = {.name = "big", .type = AE_IFREG, .perm = 0600, .data = big, .len = bn,
			  .mtime = 1234567890};
	tarb_add(&t, &bg);
	struct tent sl = {.name = "d/sl", .type = AE_IFLNK, .perm = 0777, .uid = 1000, .gid = 1000,
			  .link = "../big", .mtime = 1300000000};
	tarb_add(&t, &sl);
	tarb_hardlink(&t, "d/hl", "d/f");
	struct tent fifo = {.name = "fifo", .type = AE_IFIFO, .perm = 0600};
	tarb_add(&t, &fifo);
	if (is_root) { /* mknod of devices needs CAP_MKNOD */
		struct tent cdev = {.name = "null", .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3};
		tarb_add(&t, &cdev);
		struct tent bdev = {.name = "loop", .type = AE_IFBLK, .perm = 0660, .maj = 7, .min = 0, .gid = 6};
		tarb_add(&t, &bdev);
	}
	struct tent ro = {.name = "ro/", .type = AE_IFDIR, .perm = 0555, .mtime = 1100000000};
	tarb_add(&t, &ro);
	struct tent rox = {.name = "ro/x", .type = AE_IFREG, .perm = 0444, .data = "x", .len = 1};
	tarb_add(&t, &rox);
	tarb_file(&t, "a\nb", "newline\n");
	struct tent empty = {.name = "empty", .type = AE_IFREG, .perm = 0644};
	tarb_add(&t, &empty);
	char longname[400];
	make_longname(longname);
	tarb_dir(&t, "long/");
	char longdir[200];
	memcpy(longdir, longname, 150);
	longdir[150] = 0;
	tarb_dir(&t, longdir);
	tarb_file(&t, longname, "long\n");
	*bigp = big;
	*bign = bn;
	return tarb_finish(&t);
}

static void check_types(unsigned workers)
{
	reset_layer();
	unsigned char *big;
	size_t bn;
	struct buf tar = types_tar(&big, &bn);
	struct ctr_apply_opts o = {.workers = workers};
	struct ctr_apply_stats st;
	ctr_error *err = NULL;
	int r = apply_buf(&tar, &o, &st, &err);
	if (r)
		fprintf(stderr, "apply: %s\n", ctr_error_message(err));
	assert_int_equal(r, 0);

	char want[CTR_DIGEST_MAX];
	ctr_digest_buf(CTR_DIGEST_SHA256, tar.p, tar.len, want, NULL);
	assert_string_equal(st.diff_id, want);
	assert_int_equal(st.tar_bytes, tar.len);
	assert_int_equal(st.entries, is_root ? 16 : 14);

	struct stat s = lst("d");
	assert_true(S_ISDIR(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0750);
	assert_int_equal(s.st_mtim.tv_sec, 1500000000); /* set after its children */
	assert_int_equal(s.st_mtim.tv_nsec, 123456789);

	s = lst("d/f");
	assert_true(S_ISREG(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0640);
	assert_int_equal(s.st_mtim.tv_sec, 1400000000);
	assert_int_equal(s.st_mtim.tv_nsec, 500000000);
	assert_int_equal(s.st_nlink, 2);
	struct stat h = lst("d/hl");
	assert_int_equal(h.st_ino, s.st_ino);
	char *c = slurp("d/f");
	assert_string_equal(c, "hello\n");
	free(c);
	char xv[64];
	assert_int_equal(getx("d/f", "user.foo", xv, sizeof(xv)), 3);
	assert_memory_equal(xv, "bar", 3);
	assert_true(getx("d/f", "trusted.foo", xv, sizeof(xv)) < 0); /* not allowed by default */

	s = lst("d/suid");
	assert_int_equal(s.st_mode & 07777, 04755); /* chown did not eat the setuid bit */

	s = lst("big");
	assert_int_equal(s.st_size, bn);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_mtim.tv_sec, 1234567890);
	c = slurp("big");
	assert_memory_equal(c, big, bn);
	free(c);

	s = lst("d/sl");
	assert_true(S_ISLNK(s.st_mode));
	assert_int_equal(s.st_mtim.tv_sec, 1300000000);
	char tgt[64];
	char p[600];
	snprintf(p, sizeof(p), "%s/d/sl", layer);
	ssize_t n = readlink(p, tgt, sizeof(tgt));
	assert_int_equal(n, 6);
	assert_memory_equal(tgt, "../big", 6);

	s = lst("fifo");
	assert_true(S_ISFIFO(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0600);
	if (is_root) {
		s = lst("null");
		assert_true(S_ISCHR(s.st_mode));
		assert_int_equal(s.st_rdev, makedev(1, 3));
		assert_int_equal(s.st_mode & 07777, 0666);
		s = lst("loop");
		assert_true(S_ISBLK(s.st_mode));
		assert_int_equal(s.st_rdev, makedev(7, 0));
	}

	s = lst("ro");
	assert_int_equal(s.st_mode & 07777, 0555);
	assert_int_equal(s.st_mtim.tv_sec, 1100000000);
	s = lst("ro/x");
	assert_int_equal(s.st_mode & 07777, 0444);
	s = lst("a\nb");
	assert_true(S_ISREG(s.st_mode));
	s = lst("empty");
	assert_int_equal(s.st_size, 0);
	char ln[400];
	make_longname(ln);
	c = slurp(ln);
	assert_string_equal(c, "long\n");
	free(c);

	if (!is_root) {
		printf("SKIP ownership, device and security.capability asserts: not running as root\n");
	} else {
		s = lst("d");
		assert_int_equal(s.st_uid, 1000);
		assert_int_equal(s.st_gid, 1001);
		s = lst("d/f");
		assert_int_equal(s.st_uid, 1234);
		assert_int_equal(s.st_gid, 5678);
		s = lst("d/sl");
		assert_int_equal(s.st_uid, 1000); /* lchown, not the target */
		s = lst("big");
		assert_int_equal(s.st_uid, 0);
		s = lst("loop");
		assert_int_equal(s.st_gid, 6);
		unsigned char cap[32];
		assert_int_equal(getx("d/f", "security.capability", (char *)cap, sizeof(cap)), sizeof(capv2));
		assert_memory_equal(cap, capv2, sizeof(capv2));
	}
	free(big);
	free(tar.p);
}

static void test_types(void **state)
{
	(void)state;
	check_types(1); /* everything from the reader thread */
	check_types(0); /* default worker pool */
	check_types(4);
}

static void test_gnu_longnames_and_xattr_opts(void **state)
{
	(void)state;
	reset_layer();
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_GNUTAR);
	char name[300], target[260];
	char ndir[300];
	memset(name, 'n', sizeof(name));
	name[120] = name[240] = '/';
	name[299] = 0;
	memset(target, 't', sizeof(target));
	target[259] = 0;
	memcpy(ndir, name, 120);
	ndir[120] = 0;
	tarb_dir(&t, ndir);
	memcpy(ndir, name, 240);
	ndir[240] = 0;
	tarb_dir(&t, ndir);
	tarb_file(&t, name, "gnu\n");
	tarb_symlink(&t, "sym", target);
	struct buf tar = tarb_finish(&t);
	assert_int_equal(apply_buf(&tar, NULL, NULL, NULL), 0);
	char *c = slurp(name);
	assert_string_equal(c, "gnu\n");
	free(c);
	char p[600], got[300];
	snprintf(p, sizeof(p), "%s/sym", layer);
	assert_int_equal(readlink(p, got, sizeof(got)), 259);
	free(tar.p);

	/* Non-ASCII names: UTF-8 in a pax header (read in the C locale) and
	 * raw non-UTF-8 bytes in a ustar header land byte for byte. */
	reset_layer();
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	tarb_file(&t, "caf\xc3\xa9-\xe2\x98\x83-\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d"
		      "\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97-long-enough-"
		      "to-need-a-pax-path-record-because-ustar-only-has-100-bytes-of-name-field", "u");
	tar = tarb_finish(&t);
	assert_int_equal(apply_buf(&tar, NULL, NULL, NULL), 0);
	assert_true(exists("caf\xc3\xa9-\xe2\x98\x83-\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d"
			   "\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97\xe5\x90\x8d\xe5\xad\x97-long-enough-"
			   "to-need-a-pax-path-record-because-ustar-only-has-100-bytes-of-name-field"));
	free(tar.p);
	reset_layer();
	tarb_init(&t, ARCHIVE_FORMAT_TAR_USTAR);
	tarb_file(&t, "raw-\xff\xfe", "r");
	tar = tarb_finish(&t);
	assert_int_equal(apply_buf(&tar, NULL, NULL, NULL), 0);
	assert_true(exists("raw-\xff\xfe"));
	free(tar.p);

	/* all_xattrs lets trusted.* through, but never trusted.overlay.*:
	 * a layer must not steer overlayfs. */
	reset_layer();
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	struct tent f = {.name = "f", .type = AE_IFREG, .data = "x", .len = 1,
			 .xname = {"trusted.foo", "trusted.overlay.redirect", "trusted.overlay.opaque"},
			 .xval = {"1", "/etc", "y"}, .xlen = {1, 4, 1}};
	tarb_add(&t, &f);
	struct tent d = {.name = "d/", .type = AE_IFDIR, .xname = {"trusted.overlay.opaque"}, .xval = {"y"},
			 .xlen = {1}};
	tarb_add(&t, &d);
	tar = tarb_finish(&t);
	struct ctr_apply_opts o = {.all_xattrs = true};
	assert_int_equal(apply_buf(&tar, &o, NULL, NULL), 0);
	char xv[16];
	if (is_root)
		assert_int_equal(getx("f", "trusted.foo", xv, sizeof(xv)), 1);
	assert_true(getx("f", "trusted.overlay.redirect", xv, sizeof(xv)) < 0);
	assert_true(getx("f", "trusted.overlay.opaque", xv, sizeof(xv)) < 0);
	assert_true(getx("d", "trusted.overlay.opaque", xv, sizeof(xv)) < 0);
	free(tar.p);
}

/* ---- breakouts ------------------------------------------------------------ */

struct step {
	char kind; /* f file, d dir, s symlink, h hardlink, c char dev */
	const char *name;
	const char *link;
};

static struct buf build(const struct step *steps, size_t n)
{
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		switch (s->kind) {
		case 'f': tarb_file(&t, s->name, "evil\n"); break;
		case 'd': tarb_dir(&t, s->name); break;
		case 's': tarb_symlink(&t, s->name, s->link); break;
		case 'h': tarb_hardlink(&t, s->name, s->link); break;
		case 'c': {
			struct tent e = {.name = s->name, .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3};
			tarb_add(&t, &e);
			break;
		}
		default: fail();
		}
	}
	return tarb_finish(&t);
}

/* Applies steps on a fresh layer; checks the result code, that the error
 * names the offending entry, and that the victim did not change at all. */
static void attempt(const char *what, const struct step *steps, size_t n, enum ctr_whiteout_mode mode,
		    int want, const char *names)
{
	reset_layer();
	_cleanup_free_ char *before = snap_tree(victim, true);
	struct buf tar = build(steps, n);
	ctr_error *err = NULL;
	struct ctr_apply_opts o = {.whiteouts = mode};
	int r = apply_buf(&tar, &o, NULL, &err);
	if (r != want)
		fprintf(stderr, "%s: got %d (%s), want %d\n", what, r, err ? ctr_error_message(err) : "", want);
	assert_int_equal(r, want);
	if (want) {
		assert_non_null(err);
		if (names && !strstr(ctr_error_message(err), names)) {
			fprintf(stderr, "%s: error \"%s\" does not name \"%s\"\n", what, ctr_error_message(err), names);
			fail();
		}
	}
	ctr_error_free(err);
	_cleanup_free_ char *after = snap_tree(victim, true);
	if (strcmp(before, after)) {
		fprintf(stderr, "%s: victim changed\nbefore:\n%s\nafter:\n%s\n", what, before, after);
		fail();
	}
	free(tar.p);
}

#define ATTEMPT(what, mode, want, names, ...)                                                   \
	do {                                                                                    \
		const struct step s_[] = {__VA_ARGS__};                                         \
		attempt(what, s_, CTR_ARRAY_SIZE(s_), mode, want, names);                       \
	} while (0)

static void test_breakouts(void **state)
{
	(void)state;
	char abs_evil[600], abs_victim[600], abs_secret[600];
	snprintf(abs_evil, sizeof(abs_evil), "%s/evil", victim);
	snprintf(abs_victim, sizeof(abs_victim), "%s", victim);
	snprintf(abs_secret, sizeof(abs_secret), "%s/secret", victim);
	const enum ctr_whiteout_mode OV = CTR_WHITEOUT_OVERLAY, DEL = CTR_WHITEOUT_DELETE;

	/* ".." and absolute names are clamped to the root, like containerd. */
	ATTEMPT("dotdot", OV, 0, NULL, {'f', "../victim/evil"}, {'f', "../../../../evil2"});
	assert_true(exists("victim/evil"));
	assert_true(exists("evil2"));
	ATTEMPT("absolute", OV, 0, NULL, {'f', abs_evil}, {'f', "/abs/x"});
	assert_true(exists(abs_evil + 1));
	assert_true(exists("abs/x"));
	ATTEMPT("newline dotdot", OV, 0, NULL, {'f', "x\n../../victim/evil"});
	assert_true(exists("victim/evil"));

	/* A symlink in the layer pointing outside, then a file through it:
	 * the symlink resolves inside the layer. */
	ATTEMPT("relative symlink", OV, 0, NULL, {'d', "victim/"}, {'s', "esc", "../../../victim"},
		{'f', "esc/evil"});
	assert_true(exists("victim/evil"));
	assert_true(S_ISLNK(lst("esc").st_mode));
	ATTEMPT("absolute symlink", OV, CTR_EINVAL, "abs/evil", {'s', "abs", abs_victim}, {'f', "abs/evil"});
	ATTEMPT("symlink to /", OV, 0, NULL, {'s', "root", "/"}, {'f', "root/evil"});
	assert_true(exists("evil"));

	/* A symlink swapped in for a directory, then a file under that name. */
	ATTEMPT("swap dir for symlink", OV, CTR_EINVAL, "d/evil", {'d', "d/"}, {'f', "d/a"},
		{'s', "d", abs_victim}, {'f', "d/evil"});
	assert_true(S_ISLNK(lst("d").st_mode));
	ATTEMPT("swap dir for symlink to ..", OV, 0, NULL, {'d', "d/"}, {'f', "d/a"}, {'s', "d", ".."},
		{'f', "d/evil"});
	assert_true(exists("evil"));
	/* A file replaced by a symlink outside, then the file again: the name
	 * is replaced, never written through. */
	ATTEMPT("file through symlink", OV, 0, NULL, {'f', "f"}, {'s', "f", abs_secret}, {'f', "f"});
	assert_true(S_ISREG(lst("f").st_mode));

	/* A symlink named "." (or anything that cleans to the root). */
	ATTEMPT("symlink dot", OV, CTR_EINVAL, "apply: .:", {'s', ".", abs_victim});
	ATTEMPT("symlink x/..", OV, CTR_EINVAL, "x/..", {'s', "x/..", abs_victim});
	ATTEMPT("file at root", OV, CTR_EINVAL, "x/..", {'f', "x/.."});

	/* Hardlinks: the target is resolved in the layer and must be there. */
	ATTEMPT("hardlink dotdot", OV, CTR_ENOTFOUND, "hl", {'h', "hl", "../victim/secret"});
	ATTEMPT("hardlink absolute", OV, CTR_ENOTFOUND, "hl", {'h', "hl", abs_secret});
	ATTEMPT("hardlink via symlink", OV, CTR_ENOTFOUND, "hl", {'s', "s", abs_victim}, {'h', "hl", "s/secret"});
	ATTEMPT("hardlink via symlink up", OV, CTR_ENOTFOUND, "hl", {'s', "s", "../victim"},
		{'h', "hl", "s/secret"});
	ATTEMPT("hardlink to ..", OV, CTR_EINVAL, "hl", {'h', "hl", ".."});
	ATTEMPT("hardlink to dir", OV, CTR_EINVAL, "hl", {'d', "dd/"}, {'h', "hl", "dd"});
	ATTEMPT("hardlink to self", OV, CTR_EINVAL, "hl", {'h', "hl", "./hl"});
	ATTEMPT("hardlink clamped inside", OV, 0, NULL, {'d', "victim/"}, {'f', "victim/secret"},
		{'h', "hl", "../../victim/secret"});
	assert_int_equal(lst("hl").st_nlink, 2);
	/* hardlink to a symlink links the symlink itself */
	ATTEMPT("hardlink to symlink", OV, 0, NULL, {'s', "s", abs_secret}, {'h', "hl", "s"});
	assert_true(S_ISLNK(lst("hl").st_mode));

	/* Whiteouts aiming outside are clamped (deletion mode deletes inside
	 * the layer only) or refused when they name "." or "..". */
	ATTEMPT("whiteout dotdot", DEL, 0, NULL, {'f', "../.wh.secret"}, {'f', "a/../../.wh.victim"},
		{'f', "../.wh.sub"});
	if (is_root) {
		ATTEMPT("whiteout dotdot overlay", OV, 0, NULL, {'f', "../.wh.secret"}, {'f', "a/../../.wh.victim"});
		assert_true(S_ISCHR(lst("secret").st_mode));
		assert_true(S_ISCHR(lst("victim").st_mode));
	}
	ATTEMPT("whiteout absolute", DEL, 0, NULL, {'f', "/../.wh.victim"});
	ATTEMPT("whiteout of ..", DEL, CTR_EINVAL, ".wh..", {'f', ".wh.."});
	ATTEMPT("whiteout of .. in dir", OV, CTR_EINVAL, "d/.wh..", {'d', "d/"}, {'f', "d/.wh.."});
	ATTEMPT("whiteout of nothing", DEL, CTR_EINVAL, ".wh.", {'f', "d/.wh."});
	ATTEMPT("whiteout through symlink", DEL, 0, NULL, {'s', "s", abs_victim}, {'f', "s/.wh.secret"},
		{'s', "u", "../victim"}, {'f', "u/.wh.sub"});
	ATTEMPT("whiteout through symlink inside", DEL, 0, NULL, {'d', "victim/"}, {'f', "victim/secret"},
		{'s', "s", "../victim"}, {'f', "s/.wh.secret"});
	assert_false(exists("victim/secret"));
	ATTEMPT("opaque through symlink", DEL, 0, NULL, {'s', "s", abs_victim}, {'f', "s/.wh..wh..opq"},
		{'s', "u", "../../victim"}, {'f', "u/.wh..wh..opq"});
	if (is_root)
		ATTEMPT("opaque through symlink overlay", OV, CTR_EINVAL, "s/.wh..wh..opq", {'s', "s", abs_victim},
		{'f', "s/.wh..wh..opq"});

	/* Device nodes escaping by name or through a symlink are clamped
	 * like files; without CAP_MKNOD they are refused. */
	if (is_root) {
		ATTEMPT("device dotdot", OV, 0, NULL, {'c', "../victim/null"}, {'s', "root", "/"},
			{'c', "root/dev"});
		assert_true(S_ISCHR(lst("victim/null").st_mode));
		assert_true(S_ISCHR(lst("dev").st_mode));
	} else {
		ATTEMPT("device unprivileged", OV, CTR_EPERM, "null", {'c', "../victim/null"});
	}

	/* Very long names. */
	char *huge = malloc(5001);
	memset(huge, 'a', 5000);
	for (int i = 100; i < 5000; i += 101)
		huge[i] = '/';
	huge[5000] = 0;
	ATTEMPT("name too long", OV, CTR_EINVAL, "name too long", {'f', huge});
	huge[3000] = 0; /* 3000 bytes in 100-byte components: fine */
	ATTEMPT("long path", OV, 0, NULL, {'f', huge});
	assert_true(exists(huge));
	char comp[300];
	memset(comp, 'c', 299);
	comp[299] = 0;
	ATTEMPT("component too long", OV, CTR_EINVAL, "ccc", {'f', comp});
	char deep[600];
	snprintf(deep, sizeof(deep), "d/%s/x", comp);
	ATTEMPT("dir component too long", OV, CTR_EINVAL, "ccc", {'f', deep});
	free(huge);
}

/* ---- whiteouts -------------------------------------------------------------- */

static void test_whiteouts_overlay(void **state)
{
	(void)state;
	if (!is_root) {
		printf("SKIP overlay whiteouts: trusted.overlay.opaque needs CAP_SYS_ADMIN (not root)\n");
		return;
	}
	reset_layer();
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	tarb_dir(&t, "d/");
	tarb_file(&t, "d/keep", "k");
	tarb_file(&t, "d/.wh.gone", "");
	tarb_file(&t, "d/.wh..wh..opq", "");
	tarb_file(&t, ".wh.top", "");
	tarb_file(&t, "e/.wh..wh..opq", ""); /* dir not in the tar: created */
	tarb_file(&t, ".wh..wh.plnk/123", "aufs");
	struct tent wo = {.name = "f/.wh.owned", .type = AE_IFREG, .uid = 42, .gid = 43};
	tarb_add(&t, &wo);
	struct buf tar = tarb_finish(&t);
	ctr_error *err = NULL;
	int r = apply_buf(&tar, NULL, NULL, &err);
	if (r)
		fprintf(stderr, "%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	struct stat s = lst("d/gone");
	assert_true(S_ISCHR(s.st_mode));
	assert_int_equal(s.st_rdev, makedev(0, 0));
	assert_true(S_ISCHR(lst("top").st_mode));
	assert_true(exists("d/keep"));
	assert_false(exists("d/.wh.gone"));
	assert_false(exists("d/.wh..wh..opq"));
	assert_false(exists(".wh.top"));
	assert_false(exists(".wh..wh.plnk"));
	char v[4];
	assert_int_equal(getx("d", "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_int_equal(getx("e", "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_true(getx(".", "trusted.overlay.opaque", v, sizeof(v)) < 0);
	if (is_root) {
		s = lst("f/owned");
		assert_int_equal(s.st_uid, 42);
		assert_int_equal(s.st_gid, 43);
	}
	free(tar.p);
}

static void test_whiteouts_delete(void **state)
{
	(void)state;
	for (unsigned workers = 1; workers <= 4; workers += 3) {
		reset_layer();
		/* the parent layer's content, as a copy */
		mkd(layer, "d", 0755);
		put(layer, "d/lower1", "l", 0644);
		mkd(layer, "d/sub", 0755);
		put(layer, "d/sub/lower2", "l", 0644);
		mkd(layer, "d/lowerdir", 0755);
		put(layer, "d/lowerdir/x", "l", 0644);
		mkd(layer, "e", 0755);
		put(layer, "e/f", "l", 0644);
		mkd(layer, "g", 0755);
		put(layer, "g/h", "l", 0644);
		put(layer, "g/i", "l", 0644);
		mkd(layer, "d2", 0755);
		put(layer, "d2/old", "l", 0644);
		put(layer, "replace", "old", 0644);

		struct tarb t;
		tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
		tarb_file(&t, "d/new", "n");
		tarb_file(&t, "d/sub/newer", "n");
		tarb_file(&t, "d/.wh..wh..opq", ""); /* after this layer's entries */
		tarb_file(&t, ".wh.e", "");
		tarb_file(&t, "g/.wh.h", "");
		tarb_file(&t, "d2/.wh..wh..opq", ""); /* before them */
		tarb_file(&t, "d2/n", "n");
		tarb_file(&t, "replace", "new");
		tarb_file(&t, ".wh.missing", ""); /* nothing to delete: fine */
		tarb_file(&t, "nodir/.wh.x", "");
		struct buf tar = tarb_finish(&t);
		struct ctr_apply_opts o = {.whiteouts = CTR_WHITEOUT_DELETE, .workers = workers};
		ctr_error *err = NULL;
		int r = apply_buf(&tar, &o, NULL, &err);
		if (r)
			fprintf(stderr, "%s\n", ctr_error_message(err));
		assert_int_equal(r, 0);
		assert_true(exists("d/new"));
		assert_true(exists("d/sub/newer"));
		assert_false(exists("d/lower1"));
		assert_false(exists("d/sub/lower2"));
		assert_false(exists("d/lowerdir"));
		assert_false(exists("d/.wh..wh..opq"));
		assert_false(exists("e"));
		assert_false(exists(".wh.e"));
		assert_true(exists("g"));
		assert_false(exists("g/h"));
		assert_true(exists("g/i"));
		assert_false(exists("d2/old"));
		assert_true(exists("d2/n"));
		assert_false(exists("nodir"));
		char *c = slurp("replace");
		assert_string_equal(c, "new");
		free(c);
		free(tar.p);
	}
}

/* ---- ordering with the worker pool ----------------------------------------- */

static struct buf ordering_tar(void)
{
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	char name[64], content[64];
	for (int d = 0; d < 20; d++) {
		snprintf(name, sizeof(name), "dir%02d/", d);
		struct tent de = {.name = name, .type = AE_IFDIR, .perm = d % 2 ? 0555 : 0751, .mtime = 1000 + d};
		tarb_add(&t, &de);
		for (int f = 0; f < 60; f++) {
			snprintf(name, sizeof(name), "dir%02d/f%03d", d, f);
			snprintf(content, sizeof(content), "content %d %d\n", d, f);
			struct tent fe = {.name = name, .type = AE_IFREG, .perm = 0600 + (mode_t)(f % 8),
					  .data = content, .len = strlen(content), .mtime = 2000 + f};
			tarb_add(&t, &fe);
			if (f % 10 == 0) { /* hardlink to a file probably still queued */
				char ln[64];
				snprintf(ln, sizeof(ln), "dir%02d/l%03d", d, f);
				tarb_hardlink(&t, ln, name);
			}
		}
		/* duplicates: the last one wins */
		for (int k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "dir%02d/dup", d);
			snprintf(content, sizeof(content), "version %d\n", k);
			tarb_file(&t, name, content);
		}
		/* a file then a directory of the same name, and the reverse */
		snprintf(name, sizeof(name), "dir%02d/x", d);
		tarb_file(&t, name, "file first");
		snprintf(name, sizeof(name), "dir%02d/x/", d);
		tarb_dir(&t, name);
		snprintf(name, sizeof(name), "dir%02d/x/in", d);
		tarb_file(&t, name, "in");
		snprintf(name, sizeof(name), "dir%02d/y/", d);
		tarb_dir(&t, name);
		snprintf(name, sizeof(name), "dir%02d/y/in", d);
		tarb_file(&t, name, "in");
		snprintf(name, sizeof(name), "dir%02d/y", d);
		tarb_file(&t, name, "file last");
	}
	return tarb_finish(&t);
}

static void test_pool_ordering(void **state)
{
	(void)state;
	struct buf tar = ordering_tar();
	_cleanup_free_ char *serial = NULL;
	unsigned ws[] = {1, 2, 4, 8};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(ws); i++) {
		reset_layer();
		/* tiny in-flight bound: the reader blocks on the queue often */
		struct ctr_apply_opts o = {.workers = ws[i], .max_in_flight = i == 2 ? 64 : 0};
		ctr_error *err = NULL;
		int r = apply_buf(&tar, &o, NULL, &err);
		if (r)
			fprintf(stderr, "%s\n", ctr_error_message(err));
		assert_int_equal(r, 0);
		struct timespec ts[2] = {{0, 0}, {1, 0}};
		utimensat(AT_FDCWD, layer, ts, 0); /* the root is not the layer's */
		char *snap = snap_tree(layer, true);
		if (!serial) {
			serial = snap;
			char *c = slurp("dir07/dup");
			assert_string_equal(c, "version 2\n");
			free(c);
			assert_true(S_ISDIR(lst("dir07/x").st_mode));
			assert_true(S_ISREG(lst("dir07/y").st_mode));
			assert_int_equal(lst("dir07/l030").st_nlink, 2);
			continue;
		}
		if (strcmp(serial, snap)) {
			fprintf(stderr, "workers=%u differs from serial\n", ws[i]);
			FILE *f1 = fopen("/tmp/ctr-apply-serial.txt", "w"), *f2 = fopen("/tmp/ctr-apply-pool.txt", "w");
			fputs(serial, f1);
			fputs(snap, f2);
			fclose(f1);
			fclose(f2);
			fail();
		}
		free(snap);
	}
	free(tar.p);
}

/* ---- against GNU tar ----------------------------------------------------------- */

static void test_vs_gnu_tar(void **state)
{
	(void)state;
	if (!is_root) {
		printf("SKIP GNU tar comparison: the tree has devices and owners (not root)\n");
		return;
	}
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	static unsigned char blob[1500000];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(i ^ (i >> 9));
	struct tent e;
	e = (struct tent){.name = "usr/", .type = AE_IFDIR, .perm = 0755, .mtime = 1111111111};
	tarb_add(&t, &e);
	e = (struct tent){.name = "usr/bin/", .type = AE_IFDIR, .perm = 0755, .mtime = 1111111112};
	tarb_add(&t, &e);
	e = (struct tent){.name = "usr/bin/tool", .type = AE_IFREG, .perm = 04755, .uid = 0, .gid = 50,
			  .data = blob, .len = sizeof(blob), .mtime = 1222222222};
	tarb_add(&t, &e);
	e = (struct tent){.name = "usr/bin/small", .type = AE_IFREG, .perm = 0700, .uid = 33, .gid = 33,
			  .data = blob, .len = 1000, .mtime = 1222222223};
	tarb_add(&t, &e);
	tarb_hardlink(&t, "usr/bin/small-again", "usr/bin/small");
	e = (struct tent){.name = "usr/bin/sh", .type = AE_IFLNK, .perm = 0777, .link = "tool"};
	tarb_add(&t, &e);
	e = (struct tent){.name = "usr/share/", .type = AE_IFDIR, .perm = 02775, .gid = 50, .mtime = 1333333333};
	tarb_add(&t, &e);
	for (int i = 0; i < 50; i++) {
		char n[64];
		snprintf(n, sizeof(n), "usr/share/doc%02d.txt", i);
		e = (struct tent){.name = n, .type = AE_IFREG, .perm = 0644, .data = blob + i, .len = (size_t)i * 37,
				  .mtime = 1300000000 + i};
		tarb_add(&t, &e);
	}
	e = (struct tent){.name = "tmp/", .type = AE_IFDIR, .perm = 01777, .mtime = 1444444444};
	tarb_add(&t, &e);
	e = (struct tent){.name = "dev/", .type = AE_IFDIR, .perm = 0755, .mtime = 1444444445};
	tarb_add(&t, &e);
	e = (struct tent){.name = "dev/null", .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3, .mtime = 1};
	tarb_add(&t, &e);
	e = (struct tent){.name = "dev/fifo", .type = AE_IFIFO, .perm = 0620, .mtime = 2};
	tarb_add(&t, &e);
	e = (struct tent){.name = "etc/", .type = AE_IFDIR, .perm = 0750, .mtime = 1555555555};
	tarb_add(&t, &e);
	e = (struct tent){.name = "etc/shadow", .type = AE_IFREG, .perm = 0640, .gid = 42, .data = "root:*:\n",
			  .len = 8, .mtime = 1555555554};
	tarb_add(&t, &e);
	e = (struct tent){.name = "etc/mtab", .type = AE_IFLNK, .perm = 0777, .link = "/proc/self/mounts"};
	tarb_add(&t, &e);
	char longn[300];
	memset(longn, 'q', sizeof(longn));
	memcpy(longn, "etc/", 4);
	longn[150] = 0;
	e = (struct tent){.name = longn, .type = AE_IFDIR, .perm = 0755, .mtime = 4};
	tarb_add(&t, &e);
	longn[150] = '/';
	longn[299] = 0;
	e = (struct tent){.name = longn, .type = AE_IFREG, .perm = 0444, .data = "long", .len = 4, .mtime = 3};
	tarb_add(&t, &e);
	struct buf tar = tarb_finish(&t);

	char tarfile[400], gnu[400], cmd[1400];
	snprintf(tarfile, sizeof(tarfile), "%s/layer.tar", base);
	snprintf(gnu, sizeof(gnu), "%s/gnu", base);
	int fd = open(tarfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_int_equal(ctr_write_all(fd, tar.p, tar.len), 0);
	close(fd);
	mkdir(gnu, 0755);
	snprintf(cmd, sizeof(cmd), "tar --numeric-owner -xpf '%s' -C '%s'", tarfile, gnu);
	if (system(cmd) != 0) {
		printf("SKIP GNU tar comparison: `%s` failed (no GNU tar?)\n", cmd);
		free(tar.p);
		return;
	}
	reset_layer();
	assert_int_equal(apply_buf(&tar, NULL, NULL, NULL), 0);
	/* the roots themselves are not part of the comparison */
	struct timespec ts[2] = {{0, 0}, {1, 0}};
	utimensat(AT_FDCWD, gnu, ts, 0);
	utimensat(AT_FDCWD, layer, ts, 0);
	chmod(gnu, 0755);
	chmod(layer, 0755);
	_cleanup_free_ char *want = snap_tree(gnu, true);
	_cleanup_free_ char *got = snap_tree(layer, true);
	if (strcmp(want, got)) {
		fprintf(stderr, "GNU tar:\n%s\nlibctr:\n%s\n", want, got);
		fail();
	}
	free(tar.p);
}

/* ---- bad streams ------------------------------------------------------------------ */

static void test_bad_streams(void **state)
{
	(void)state;
	reset_layer();
	/* not a tar */
	char junk[2048];
	memset(junk, 'j', sizeof(junk));
	struct buf b = {.p = (unsigned char *)junk, .len = sizeof(junk)};
	ctr_error *err = NULL;
	assert_int_equal(apply_buf(&b, NULL, NULL, &err), CTR_EINVAL);
	ctr_error_free(err);
	err = NULL;

	/* truncated inside a file's data */
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_USTAR);
	static unsigned char data[100000];
	struct tent e = {.name = "f", .type = AE_IFREG, .data = data, .len = sizeof(data)};
	tarb_add(&t, &e);
	struct buf tar = tarb_finish(&t);
	struct buf cut = {.p = tar.p, .len = 50000};
	reset_layer();
	assert_int_equal(apply_buf(&cut, NULL, NULL, &err), CTR_EINVAL);
	ctr_error_free(err);
	err = NULL;

	/* the source fails: its code and message come through */
	int dfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct memsrc m = {.p = tar.p, .len = tar.len, .chunk = 1000, .fail_at = 20000};
	reset_layer();
	close(dfd);
	dfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(ctr_archive_apply(dfd, memsrc_read, &m, NULL, NULL, &err), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(err), "test source failed"));
	ctr_error_free(err);
	err = NULL;
	close(dfd);

	/* A worker's failure stops the apply with its error: the kernel
	 * refuses a malformed file capability (root: as a user it is
	 * dropped like ownership). */
	if (is_root) {
		for (unsigned w = 1; w <= 4; w += 3) {
			tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
			for (int i = 0; i < 300; i++) {
				char n[32];
				snprintf(n, sizeof(n), "f%03d", i);
				struct tent fe = {.name = n, .type = AE_IFREG, .data = "x", .len = 1};
				if (i == 100) {
					fe.xname[0] = "security.capability";
					fe.xval[0] = "bad";
					fe.xlen[0] = 3;
				}
				tarb_add(&t, &fe);
			}
			struct buf bad = tarb_finish(&t);
			reset_layer();
			struct ctr_apply_opts o = {.workers = w};
			assert_int_equal(apply_buf(&bad, &o, NULL, &err), CTR_EINVAL);
			if (!strstr(ctr_error_message(err), "f100"))
				fprintf(stderr, "message: %s\n", ctr_error_message(err));
			assert_non_null(strstr(ctr_error_message(err), "f100"));
			ctr_error_free(err);
			err = NULL;
			free(bad.p);
		}
	}

	/* an empty stream and a stream of only end-of-archive blocks are
	 * empty layers; trailing padding is part of the diff_id */
	struct buf none = {.p = (unsigned char *)"", .len = 0};
	struct ctr_apply_stats st;
	reset_layer();
	assert_int_equal(apply_buf(&none, NULL, &st, NULL), 0);
	assert_int_equal(st.entries, 0);
	assert_string_equal(st.diff_id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	static unsigned char zeros[10240 + 512];
	struct buf z = {.p = zeros, .len = sizeof(zeros)};
	assert_int_equal(apply_buf(&z, NULL, &st, NULL), 0);
	assert_int_equal(st.tar_bytes, sizeof(zeros));
	char want[CTR_DIGEST_MAX];
	ctr_digest_buf(CTR_DIGEST_SHA256, zeros, sizeof(zeros), want, NULL);
	assert_string_equal(st.diff_id, want);
	free(tar.p);
}

int main(void)
{
	is_root = geteuid() == 0;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnu_longnames_and_xattr_opts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_breakouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_ordering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vs_gnu_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_streams, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
