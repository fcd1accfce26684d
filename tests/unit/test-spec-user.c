/* User resolution of the spec generator (containerd's WithUser,
 * WithAdditionalGIDs and their CVE fixes) on a fake image rootfs, and the
 * hostile variants of /etc/passwd and /etc/group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec-helpers.h"

#include "spec-internal.h"
#include "fs.h"
#include "macro.h"

static char tmp[256];
static char root[300];    /* the good rootfs */
static char outside[300]; /* a directory next to the roots, never to be read */

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ctr_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static const char *const passwd =
	"root:x:0:0:root:/root:/bin/sh\n"
	"daemon:x:1:1::/:/bin/false\n"
	"  user:x:1000:1000:User:/home/user:/bin/sh  \n"
	"\n"
	"other:x:1001:1001::/:/bin/sh\n"
	"bad:x:abc:0::/:/bin/sh\n"
	"short:x:77\n"
	"big:x:2147483647:2147483647::/:/bin/sh\n";
static const char *const group =
	"root:x:0:\n"
	"daemon:x:1:user\n"
	"wheel:x:10:root\n"
	"user:x:1000:\n"
	"other:x:1001:user,other\n"
	"staff:x:50:user\n"
	"users:x:100:\n";

/* Makes <tmp>/<name>/etc and returns the rootfs path in buf. */
static void make_root(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmp, name);
	assert_int_equal(mkdir(buf, 0755), 0);
	char etc[600];
	snprintf(etc, sizeof(etc), "%s/etc", buf);
	assert_int_equal(mkdir(etc, 0755), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-spec-user-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	make_root("root", root, sizeof(root));
	char etc[400];
	snprintf(etc, sizeof(etc), "%s/etc", root);
	write_file(etc, "passwd", passwd);
	write_file(etc, "group", group);
	/* What a symlink escaping the root would find: uid 0 for everyone. */
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	assert_int_equal(mkdir(outside, 0755), 0);
	write_file(outside, "passwd", "evil:x:0:0::/:/bin/sh\nuser:x:0:0::/:/bin/sh\n");
	write_file(outside, "group", "evil:x:0:user\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

/* Generates with one user option; returns process.user or NULL. */
static json_t *user_of(const char *rootfs, int expect, ctr_opt *o)
{
	json_t *s = GEN(rootfs, expect, o);
	if (!s)
		return NULL;
	json_t *u = json_incref(jp(s, "process.user"));
	json_decref(s);
	return u;
}

static void expect_user(const char *rootfs, const char *user, const char *want)
{
	json_t *u = user_of(rootfs, 0, ctr_with_user(user));
	json_t *w = json_loads(want, 0, NULL);
	assert_non_null(w);
	if (!json_equal(u, w)) {
		char *g = json_dumps(u, JSON_COMPACT);
		print_message("user \"%s\": got %s, want %s\n", user, g, want);
		free(g);
	}
	assert_true(json_equal(u, w));
	json_decref(u);
	json_decref(w);
}

/* The error path: exact code, and the spec the caller holds is unchanged
 * (never a silent uid 0). */
static void expect_fail(const char *rootfs, const char *user, int code)
{
	ctr_spec *sp = NULL;
	assert_int_equal(ctr_spec_new(&sp, "default", "c1", rootfs, NULL, 0, NULL), 0);
	/* Start from a non-root user so a fallback to 0 would show. */
	ctr_opt *pre = ctr_with_user("4321:4321");
	assert_int_equal(ctr_spec_apply(sp, CTR_OPTS(pre), NULL), 0);
	ctr_opt_free(pre);
	ctr_opt *o = ctr_with_user(user);
	assert_non_null(o);
	ctr_error *e = NULL;
	int r = ctr_spec_apply(sp, CTR_OPTS(o), &e);
	if (r != code)
		print_message("user \"%s\": got %d (%s), want %d\n", user, r, e ? ctr_error_message(e) : "-", code);
	assert_int_equal(r, code);
	assert_non_null(e);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_user"));
	ctr_error_free(e);
	ctr_opt_free(o);
	json_t *u = jp(sp->root, "process.user");
	assert_int_equal(jint(u, "uid"), 4321);
	assert_int_equal(jint(u, "gid"), 4321);
	ctr_spec_free(sp);

	/* And ctr_spec_new itself writes no output. */
	sp = (ctr_spec *)0x1;
	o = ctr_with_user(user);
	assert_int_equal(ctr_spec_new(&sp, "default", "c1", rootfs, CTR_OPTS(o), NULL), code);
	assert_ptr_equal(sp, (ctr_spec *)0x1);
	ctr_opt_free(o);
}

static void test_user_matrix(void **state)
{
	(void)state;
	/* Numeric: a uid not in /etc/passwd gets gid 0; a uid in it gets its gid. */
	expect_user(root, "1234", "{\"uid\":1234,\"gid\":0,\"additionalGids\":[0]}");
	expect_user(root, "1000", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000]}");
	expect_user(root, "0", "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}");
	expect_user(root, "1234:1234", "{\"uid\":1234,\"gid\":1234,\"additionalGids\":[1234]}");
	expect_user(root, "2147483647:2147483647",
		    "{\"uid\":2147483647,\"gid\":2147483647,\"additionalGids\":[2147483647]}");
	/* Names. */
	expect_user(root, "user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000]}");
	expect_user(root, "root", "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}");
	expect_user(root, "big", "{\"uid\":2147483647,\"gid\":2147483647,\"additionalGids\":[2147483647]}");
	expect_user(root, "user:staff", "{\"uid\":1000,\"gid\":50,\"additionalGids\":[50]}");
	expect_user(root, "1234:staff", "{\"uid\":1234,\"gid\":50,\"additionalGids\":[50]}");
	expect_user(root, "user:1234", "{\"uid\":1000,\"gid\":1234,\"additionalGids\":[1234]}");
	expect_user(root, "other:users", "{\"uid\":1001,\"gid\":100,\"additionalGids\":[100]}");
	/* Without a rootfs, numeric users still resolve. */
	expect_user(NULL, "1234", "{\"uid\":1234,\"gid\":0,\"additionalGids\":[0]}");
	expect_user(NULL, "5:6", "{\"uid\":5,\"gid\":6,\"additionalGids\":[6]}");

	/* Out of range, negative or not a number: CTR_EINVAL. */
	static const char *const inval[] = {
		"2147483648", "4294967295", "4294967296", "99999999999999999999", "-1", "-0",
		"+5", "1:-1", "1234:2147483648", "2147483648:1", "12abc", "1e3", "0x10", "",
		":", "1:", ":1", "a:b:c", "1:2:3", "us er", "user\n", "a/b", "user:",
	};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(inval); i++)
		expect_fail(root, inval[i], CTR_EINVAL);
	expect_fail(NULL, "4294967296", CTR_EINVAL);
	/* Unknown names: CTR_ENOTFOUND. */
	static const char *const notfound[] = {"nosuch", "user:nosuch", "nosuch:1", "nosuch:staff",
					       "bad", "short", "evil"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(notfound); i++)
		expect_fail(root, notfound[i], CTR_ENOTFOUND);
	expect_fail(NULL, "user", CTR_ENOTFOUND);
	expect_fail(NULL, "1:staff", CTR_ENOTFOUND);
	assert_null(ctr_with_user(NULL));
}

static void test_additional_gids(void **state)
{
	(void)state;
	/* Supplementary groups from /etc/group membership, in file order,
	 * after the primary gid; a group named like the user is not one. */
	json_t *s = GEN(root, 0, ctr_with_user("user"), ctr_with_additional_gids("user"));
	assert_json(s, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,1,1001,50]}");
	json_decref(s);
	s = GEN(root, 0, ctr_with_user("1000"), ctr_with_additional_gids("1000"));
	assert_json(s, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,1,1001,50]}");
	json_decref(s);
	/* The gid is listed once when /etc/group already has it. */
	s = GEN(root, 0, ctr_with_user("user:staff"), ctr_with_additional_gids("user"));
	assert_json(s, "process.user", "{\"uid\":1000,\"gid\":50,\"additionalGids\":[1,1001,50]}");
	json_decref(s);
	/* "other" is in its own group "other": not supplementary. */
	s = GEN(root, 0, ctr_with_user("other"), ctr_with_additional_gids("other"));
	assert_json(s, "process.user", "{\"uid\":1001,\"gid\":1001,\"additionalGids\":[1001]}");
	json_decref(s);
	/* A uid without a passwd entry has no supplementary groups. */
	s = GEN(root, 0, ctr_with_user("1234"), ctr_with_additional_gids("1234"));
	assert_json(s, "process.user", "{\"uid\":1234,\"gid\":0,\"additionalGids\":[0]}");
	json_decref(s);

	/* Through the image config, as containerd's WithImageConfig does it. */
	s = GEN(root, 0, ctr_with_image_config("{\"config\":{\"User\":\"user\"}}"));
	assert_json(s, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,1,1001,50]}");
	json_decref(s);
	s = GEN(root, 0, ctr_with_image_config("{\"config\":{}}"));
	assert_json(s, "process.user", "{\"uid\":0,\"gid\":0,\"additionalGids\":[0,10]}");
	json_decref(s);
	s = GEN(root, 0, ctr_with_image_config("{\"config\":{\"User\":\"1234:5\"}}"));
	assert_json(s, "process.user", "{\"uid\":1234,\"gid\":5,\"additionalGids\":[5]}");
	json_decref(s);
	assert_null(GEN(root, CTR_EINVAL, ctr_with_image_config("{\"config\":{\"User\":\"4294967296\"}}")));
	assert_null(GEN(root, CTR_ENOTFOUND, ctr_with_image_config("{\"config\":{\"User\":\"ghost\"}}")));
}

/* Hostile images: each /etc/passwd variant gets an exact code, and nothing
 * outside the root is ever read (the outside passwd maps "user" and "evil"
 * to uid 0). */
static void test_hostile_user_files(void **state)
{
	(void)state;
	char r1[300], r2[300], r3[300], r4[300], r5[300], r6[300], r7[300], r8[300], p[700];

	/* Absolute symlink to the host's /etc/shadow: resolved inside the
	 * root, where it does not exist. */
	make_root("abs", r1, sizeof(r1));
	snprintf(p, sizeof(p), "%s/etc/passwd", r1);
	assert_int_equal(symlink("/etc/shadow", p), 0);
	expect_fail(r1, "root", CTR_ENOTFOUND);
	expect_fail(r1, "user", CTR_ENOTFOUND);
	/* Numeric: as if there were no passwd (containerd: gid 0). */
	expect_user(r1, "1234", "{\"uid\":1234,\"gid\":0,\"additionalGids\":[0]}");

	/* Relative escape to a real file outside, and an absolute link to it. */
	make_root("rel", r2, sizeof(r2));
	snprintf(p, sizeof(p), "%s/etc/passwd", r2);
	assert_int_equal(symlink("../../outside/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/etc/group", r2);
	assert_int_equal(symlink("../../../../../../outside/group", p), 0);
	expect_fail(r2, "evil", CTR_ENOTFOUND);
	expect_fail(r2, "user", CTR_ENOTFOUND);
	expect_fail(r2, "1:evil", CTR_ENOTFOUND);
	make_root("absout", r3, sizeof(r3));
	snprintf(p, sizeof(p), "%s/etc/passwd", r3);
	char target[400];
	snprintf(target, sizeof(target), "%s/passwd", outside);
	assert_int_equal(symlink(target, p), 0);
	expect_fail(r3, "evil", CTR_ENOTFOUND);

	/* /etc itself a link: to the host's /etc (resolves to itself inside
	 * the root: a loop) and to a directory outside. */
	char r9[300], r10[300];
	snprintf(r9, sizeof(r9), "%s/etcloop", tmp);
	assert_int_equal(mkdir(r9, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", r9);
	assert_int_equal(symlink("/etc", p), 0);
	expect_fail(r9, "root", CTR_EINVAL);
	snprintf(r10, sizeof(r10), "%s/etcout", tmp);
	assert_int_equal(mkdir(r10, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", r10);
	assert_int_equal(symlink("../outside", p), 0);
	expect_fail(r10, "evil", CTR_ENOTFOUND);

	/* A link to ../../.. lands on the root directory itself. */
	make_root("dotdot", r4, sizeof(r4));
	snprintf(p, sizeof(p), "%s/etc/passwd", r4);
	assert_int_equal(symlink("../../..", p), 0);
	expect_fail(r4, "user", CTR_EINVAL);
	expect_fail(r4, "1234", CTR_EINVAL);

	/* 11 MiB passwd (sparse), and exactly the 10 MiB limit still read. */
	make_root("huge", r5, sizeof(r5));
	snprintf(p, sizeof(p), "%s/etc/passwd", r5);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 11 << 20), 0);
	close(fd);
	expect_fail(r5, "user", CTR_EINVAL);
	expect_fail(r5, "1234", CTR_EINVAL);
	make_root("limit", r8, sizeof(r8));
	snprintf(p, sizeof(p), "%s/etc/passwd", r8);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	const char *line = "user:x:1000:1000::/:/bin/sh\n";
	assert_int_equal(ctr_write_all(fd, line, strlen(line)), 0);
	assert_int_equal(ftruncate(fd, CTR_OCI_MAX_USER_FILE), 0);
	close(fd);
	expect_user(r8, "user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000]}");
	fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_int_equal(ftruncate(fd, CTR_OCI_MAX_USER_FILE + 1), 0);
	close(fd);
	expect_fail(r8, "user", CTR_EINVAL);

	/* A directory named passwd. */
	make_root("dir", r6, sizeof(r6));
	snprintf(p, sizeof(p), "%s/etc/passwd", r6);
	assert_int_equal(mkdir(p, 0755), 0);
	expect_fail(r6, "user", CTR_EINVAL);
	expect_fail(r6, "1234", CTR_EINVAL);

	/* FIFOs: must fail at once, not block waiting for a writer. */
	make_root("fifo", r7, sizeof(r7));
	snprintf(p, sizeof(p), "%s/etc/passwd", r7);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/etc/group", r7);
	assert_int_equal(mkfifo(p, 0644), 0);
	alarm(20);
	expect_fail(r7, "user", CTR_EINVAL);
	expect_fail(r7, "1234", CTR_EINVAL);
	expect_fail(r7, "1:staff", CTR_EINVAL);
	/* Supplementary groups from a FIFO group file fail the same way. */
	assert_null(GEN(r7, CTR_EINVAL, ctr_with_user("1:2"), ctr_with_additional_gids("x")));
	alarm(0);

	/* The hostile roots are unchanged: nothing was created or removed. */
	struct stat st;
	snprintf(p, sizeof(p), "%s/etc/passwd", r7);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	snprintf(p, sizeof(p), "%s/etc/passwd", r1);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	snprintf(p, sizeof(p), "%s/etc/shadow", r1);
	assert_int_equal(lstat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/passwd", outside);
	char *text = NULL;
	size_t len;
	assert_int_equal(ctr_read_file(AT_FDCWD, p, 4096, &text, &len, NULL), 0);
	assert_string_equal(text, "evil:x:0:0::/:/bin/sh\nuser:x:0:0::/:/bin/sh\n");
	free(text);
}

static void test_read_user_file(void **state)
{
	(void)state;
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *text = NULL;
	assert_int_equal(ctr_oci_read_user_file(fd, "etc/passwd", &text, NULL), 0);
	assert_string_equal(text, passwd);
	free(text);
	assert_int_equal(ctr_oci_read_user_file(fd, "etc/nothing", &text, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_oci_read_user_file(-1, "etc/passwd", &text, NULL), CTR_ENOTFOUND);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_matrix),
		cmocka_unit_test(test_additional_gids),
		cmocka_unit_test(test_hostile_user_files),
		cmocka_unit_test(test_read_user_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
