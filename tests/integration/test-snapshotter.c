/* overlayfs and native snapshotters with real mounts (root). */
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
#include "snapshotter.h"
#include "fs.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-snap-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof(p), "%s/mnt", tmp);
	umount2(p, MNT_DETACH);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static void put(const char *dir, const char *name, const char *s)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static char *get(const char *dir, const char *name)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *s = NULL;
	if (ctr_read_file(dfd, name, 1000, &s, NULL, NULL) < 0)
		s = NULL;
	close(dfd);
	return s;
}

static void check(const char *dir, const char *name, const char *want)
{
	char *s = get(dir, name);
	if (!want) {
		assert_null(s);
		return;
	}
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static int count(const struct ctr_snap_info *i, void *ud)
{
	(void)i;
	(*(int *)ud)++;
	return 0;
}

static void run(bool native)
{
	char dir[300], mnt[300];
	snprintf(dir, sizeof(dir), "%s/%s", tmp, native ? "native" : "overlayfs");
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	mkdir(mnt, 0755);
	struct ctr_snapshotter *s = NULL;
	ctr_error *err = NULL;
	assert_int_equal((native ? ctr_native_open : ctr_overlay_open)(&s, dir, &err), 0);
	const struct ctr_snapshotter_ops *o = s->ops;
	struct ctr_mount *m = NULL;
	size_t n = 0;

	/* A process killed between renaming its new directory to the id and
	 * committing leaves "<id>/" behind while the id goes back to the pool:
	 * the next prepare gets the same id and must replace that junk. */
	char junk[600];
	snprintf(junk, sizeof(junk), "%s/snapshots/1", dir);
	assert_int_equal(mkdir(junk, 0700), 0);
	snprintf(junk, sizeof(junk), "%s/snapshots/1/stale", dir);
	assert_int_equal(mkdir(junk, 0700), 0);

	/* Layer 1: apply into the active dir, commit under its chain name. */
	assert_int_equal(o->prepare(s->self, "extract-1", NULL, NULL, &m, &n, &err), 0);
	assert_int_equal(access(junk, F_OK), -1);
	ctr_mounts_free(m, n);
	char *ad = NULL;
	assert_int_equal(o->apply_dir(s->self, "extract-1", &ad, NULL), 0);
	put(ad, "a", "1");
	put(ad, "b", "1");
	free(ad);
	assert_int_equal(o->commit(s->self, "layer1", "extract-1", "{\"k\":\"v\"}", &err), 0);
	struct ctr_snap_info info;
	assert_int_equal(o->stat(s->self, "layer1", &info, NULL), 0);
	assert_int_equal(info.kind, CTR_SNAP_COMMITTED);
	assert_null(info.parent);
	assert_string_equal(info.labels, "{\"k\":\"v\"}");
	ctr_snap_info_clear(&info);
	assert_int_equal(o->stat(s->self, "extract-1", &info, NULL), CTR_ENOTFOUND);

	/* Layer 2 on layer 1. */
	assert_int_equal(o->prepare(s->self, "extract-2", "layer1", NULL, &m, &n, NULL), 0);
	ctr_mounts_free(m, n);
	assert_int_equal(o->apply_dir(s->self, "extract-2", &ad, NULL), 0);
	put(ad, "b", "2");
	put(ad, "c", "2");
	free(ad);
	assert_int_equal(o->commit(s->self, "layer2", "extract-2", NULL, NULL), 0);

	/* A container's active snapshot: mount it, see both layers, write. */
	assert_int_equal(o->prepare(s->self, "ctr", "layer2", NULL, &m, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].type, native ? "bind" : "overlay");
	if (ctr_mounts_apply(m, n, mnt, &err) < 0)
		fail_msg("mount: %s", ctr_error_message(err));
	check(mnt, "a", "1");
	check(mnt, "b", "2");
	check(mnt, "c", "2");
	put(mnt, "d", "ctr");
	assert_int_equal(ctr_unmount(mnt, true, NULL), 0);
	ctr_mounts_free(m, n);
	/* The write stayed in the container's snapshot. */
	assert_int_equal(o->mounts(s->self, "ctr", &m, &n, NULL), 0);
	assert_int_equal(ctr_mounts_apply(m, n, mnt, NULL), 0);
	check(mnt, "d", "ctr");
	assert_int_equal(ctr_unmount(mnt, true, NULL), 0);
	ctr_mounts_free(m, n);

	/* A read-only view. */
	assert_int_equal(o->view(s->self, "view", "layer2", NULL, &m, &n, NULL), 0);
	assert_int_equal(ctr_mounts_apply(m, n, mnt, NULL), 0);
	check(mnt, "b", "2");
	check(mnt, "d", NULL);
	char p[600];
	snprintf(p, sizeof(p), "%s/x", mnt);
	assert_true(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0);
	assert_int_equal(errno, EROFS);
	assert_int_equal(ctr_unmount(mnt, true, NULL), 0);
	ctr_mounts_free(m, n);

	/* Errors: exact codes. */
	assert_int_equal(o->prepare(s->self, "ctr", "layer2", NULL, &m, &n, NULL), CTR_EEXISTS);
	assert_int_equal(o->prepare(s->self, "y", "nosuch", NULL, &m, &n, NULL), CTR_ENOTFOUND);
	assert_int_equal(o->prepare(s->self, "y", "ctr", NULL, &m, &n, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->commit(s->self, "z", "view", NULL, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->commit(s->self, "layer1", "ctr", NULL, NULL), CTR_EEXISTS);
	assert_int_equal(o->remove(s->self, "layer1", NULL), CTR_EPRECONDITION);
	assert_int_equal(o->remove(s->self, "nosuch", NULL), CTR_ENOTFOUND);
	int before = 0;
	assert_int_equal(o->walk(s->self, count, &before, NULL), 0);
	assert_int_equal(before, 4); /* layer1, layer2, ctr, view */

	/* Usage of a committed layer is what was written. */
	struct ctr_snap_usage u;
	assert_int_equal(o->usage(s->self, "layer2", &u, NULL), 0);
	assert_true(u.inodes >= (native ? 3 : 2));

	/* Removal, children first; cleanup drops orphan directories. */
	assert_int_equal(o->remove(s->self, "view", NULL), 0);
	assert_int_equal(o->remove(s->self, "ctr", NULL), 0);
	assert_int_equal(o->remove(s->self, "layer2", NULL), 0);
	snprintf(p, sizeof(p), "%s/snapshots/new-1-2", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/snapshots/999", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(o->cleanup(s->self, NULL), 0);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/snapshots/new-1-2", dir);
	assert_int_equal(access(p, F_OK), -1);
	int after = 0;
	o->walk(s->self, count, &after, NULL);
	assert_int_equal(after, 1);
	ctr_snapshotter_free(s);
	ctr_error_free(err);
}

static void test_overlay(void **state)
{
	(void)state;
	if (!ctr_overlay_supported(tmp)) {
		print_message("SKIP overlay case: overlayfs cannot be mounted in %s\n", tmp);
		return;
	}
	run(false);
}

static void test_native(void **state)
{
	(void)state;
	run(true);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: snapshotter tests need root (mounts)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("SKIP: cannot make a private mount namespace: %s\n", strerror(errno));
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_native, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
