/* Mounts for real (root): overlay with more layers than a page of options
 * holds, read-only binds, unmount of what is not mounted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "mount.h"
#include "fs.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-mount-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof(p), "%s/merged", tmp);
	umount2(p, MNT_DETACH);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void test_overlay_many_layers(void **state)
{
	(void)state;
	enum { N = 120 };
	char p[1100];
	/* Long layer paths so the joined lowerdir= is far over 4 KiB. */
	size_t cap = N * 200 + 64;
	char *lower = malloc(cap);
	strcpy(lower, "lowerdir=");
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/layers-with-a-rather-long-directory-name-%03d", tmp, i);
		assert_int_equal(mkdir(p, 0755), 0);
		char f[1200];
		snprintf(f, sizeof(f), "%s/f%03d", p, i);
		write_file(f, "x");
		snprintf(f, sizeof(f), "%s/top", p);
		char c[8];
		snprintf(c, sizeof(c), "%d", i);
		write_file(f, c);
		/* lowerdir lists the top layer first */
		char *q = lower + strlen(lower);
		sprintf(q, "%s%s/layers-with-a-rather-long-directory-name-%03d", i ? ":" : "", tmp, N - 1 - i);
	}
	assert_true(strlen(lower) > 4096);
	char up[512], work[512], merged[512];
	snprintf(up, sizeof(up), "upperdir=%s/upper", tmp);
	snprintf(work, sizeof(work), "workdir=%s/work", tmp);
	snprintf(merged, sizeof(merged), "%s/merged", tmp);
	snprintf(p, sizeof(p), "%s/upper", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/work", tmp);
	mkdir(p, 0755);
	mkdir(merged, 0755);
	const char *opts[] = {lower, up, work, "index=off", NULL};
	struct ctr_mount m;
	assert_int_equal(ctr_mount_init(&m, "overlay", "overlay", opts, NULL), 0);
	ctr_error *err = NULL;
	int r = ctr_mount_apply(&m, merged, &err);
	if (r < 0)
		fail_msg("overlay mount: %s", ctr_error_message(err));
	assert_true(ctr_is_mountpoint(merged));
	/* Every layer visible, the top one wins. */
	snprintf(p, sizeof(p), "%s/f000", merged);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/f%03d", merged, N - 1);
	assert_int_equal(access(p, F_OK), 0);
	char *top;
	snprintf(p, sizeof(p), "%s/top", merged);
	int dfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(ctr_read_file(dfd, "top", 100, &top, NULL, NULL), 0);
	char want[8];
	snprintf(want, sizeof(want), "%d", N - 1);
	assert_string_equal(top, want);
	free(top);
	close(dfd);
	/* Writes land in the upper dir. */
	snprintf(p, sizeof(p), "%s/new", merged);
	write_file(p, "n");
	snprintf(p, sizeof(p), "%s/upper/new", tmp);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(ctr_unmount(merged, false, NULL), 0);
	assert_false(ctr_is_mountpoint(merged));
	/* Unmounting what is not mounted is fine. */
	assert_int_equal(ctr_unmount(merged, true, NULL), 0);
	ctr_mount_clear(&m);
	free(lower);
}

static void test_bind_ro(void **state)
{
	(void)state;
	char src[512], dst[512], p[600];
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(dst, sizeof(dst), "%s/merged", tmp);
	mkdir(src, 0755);
	mkdir(dst, 0755);
	const char *opts[] = {"rbind", "ro", NULL};
	struct ctr_mount m;
	assert_int_equal(ctr_mount_init(&m, "bind", src, opts, NULL), 0);
	assert_int_equal(ctr_mount_apply(&m, dst, NULL), 0);
	snprintf(p, sizeof(p), "%s/x", dst);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd < 0);
	assert_int_equal(errno, EROFS);
	assert_int_equal(ctr_unmount(dst, true, NULL), 0);
	ctr_mount_clear(&m);
	/* A comma inside one option is refused before anything is mounted. */
	const char *bad[] = {"ro,exec", NULL};
	assert_int_equal(ctr_mount_init(&m, "bind", src, bad, NULL), 0);
	assert_int_equal(ctr_mount_apply(&m, dst, NULL), CTR_EINVAL);
	assert_false(ctr_is_mountpoint(dst));
	ctr_mount_clear(&m);
}

/* The super options of the mount on path, from mountinfo ("" if none). */
static void super_options(const char *path, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	out[0] = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char mp[1024];
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1 || strcmp(mp, path))
			continue;
		char *sep = strstr(line, " - ");
		char opts[1024];
		if (sep && sscanf(sep + 3, "%*s %*s %1023s", opts) == 1)
			snprintf(out, len, "%s", opts);
	}
	fclose(f);
}

/* A root opened only for reading (the user lookup, a diff's lower, a copy
 * up source) has a read-only superblock, not just a read-only mount: a
 * writable overlay syncs its upper filesystem when its last fd closes. */
static void test_open_root_read_only_super(void **state)
{
	(void)state;
	char lower[512], up[512], work[512], merged[512], p[600];
	snprintf(lower, sizeof(lower), "lowerdir=%s/lower", tmp);
	snprintf(up, sizeof(up), "upperdir=%s/upper", tmp);
	snprintf(work, sizeof(work), "workdir=%s/work", tmp);
	snprintf(merged, sizeof(merged), "%s/merged", tmp);
	const char *dirs[] = {"lower", "upper", "work", "merged"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/lower/passwd", tmp);
	write_file(p, "root:x:0:0::/root:/bin/sh\n");
	const char *opts[] = {lower, up, work, "index=off", NULL};
	struct ctr_mount m;
	assert_int_equal(ctr_mount_init(&m, "overlay", "overlay", opts, NULL), 0);
	int fd = -1;
	ctr_error *err = NULL;
	if (ctr_mounts_open_root(&m, 1, &fd, &err) < 0)
		fail_msg("open root: %s", ctr_error_message(err));
	char *text = NULL;
	assert_int_equal(ctr_read_file(fd, "passwd", 100, &text, NULL, NULL), 0);
	assert_string_equal(text, "root:x:0:0::/root:/bin/sh\n");
	free(text);
	int w = openat(fd, "new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(w < 0);
	assert_int_equal(errno, EROFS);
	/* Attached only to read its superblock's options. */
	assert_int_equal(move_mount(fd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH), 0);
	close(fd);
	char so[1024];
	super_options(merged, so, sizeof(so));
	assert_true(!strncmp(so, "ro,", 3) || !strcmp(so, "ro"));
	assert_int_equal(ctr_unmount(merged, false, NULL), 0);
	snprintf(p, sizeof(p), "%s/upper/new", tmp);
	assert_int_equal(access(p, F_OK), -1);
	ctr_mount_clear(&m);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: mount tests need root (CAP_SYS_ADMIN)\n");
		return 77;
	}
	/* Keep every mount private to this test process. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("SKIP: cannot make a private mount namespace: %s\n", strerror(errno));
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlay_many_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_ro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_root_read_only_super, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
