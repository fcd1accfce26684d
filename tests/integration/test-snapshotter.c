/* One snapshotter suite, run on every snapshotter: overlayfs, native, erofs,
 * btrfs (on a loop file made for the test) and an application's one
 * registered through the vtable. Real mounts, so root. */
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
#include "macro.h"
#include "metadata.h"
#include "strv.h"
#include "snapshots.h"
#include <ctr/sys/alloc.h>
#include <ctr/sys/error.h>
#include <ctr/sys/snapshotter.h>
#include <dirent.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

static char tmp[256];

/* What differs between snapshotters, and nothing else. */
struct snap_suite_caps {
	bool layered;  /* overlay mounts over parents (overlayfs), or one copy each */
	bool built_in; /* the suite frees it; else its client does */
};

static int n_entries(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

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

/* The suite. dir is the snapshotter's directory when it has the built-in
 * layout (<dir>/snapshots/<id>), NULL otherwise; mnt an empty directory.
 * Frees s when it is built in. */
static void snap_suite(struct ctr_snapshotter *s, const struct snap_suite_caps *caps, const char *dir, const char *mnt)
{
	ctr_error *err = NULL;
	const struct ctr_snapshotter_ops *o = s->ops;
	struct ctr_mount *m = NULL;
	size_t n = 0;

	/* A process killed between renaming its new directory to the id and
	 * committing leaves "<id>/" behind while the id goes back to the pool:
	 * the next prepare gets the same id and must replace that junk. */
	char junk[600] = "";
	if (dir) {
		snprintf(junk, sizeof(junk), "%s/snapshots/1", dir);
		assert_int_equal(mkdir(junk, 0700), 0);
		snprintf(junk, sizeof(junk), "%s/snapshots/1/stale", dir);
		assert_int_equal(mkdir(junk, 0700), 0);
	}

	/* Layer 1: apply into the active dir, commit under its chain name. */
	assert_int_equal(o->prepare(s->self, "extract-1", NULL, NULL, &m, &n, &err), 0);
	if (dir)
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
	assert_string_equal(m[0].type, caps->layered ? "overlay" : "bind");
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

	/* The parent chain. */
	assert_int_equal(o->stat(s->self, "layer2", &info, NULL), 0);
	assert_string_equal(info.parent, "layer1");
	assert_int_equal(info.kind, CTR_SNAP_COMMITTED);
	ctr_snap_info_clear(&info);
	assert_int_equal(o->stat(s->self, "ctr", &info, NULL), 0);
	assert_string_equal(info.parent, "layer2");
	assert_int_equal(info.kind, CTR_SNAP_ACTIVE);
	ctr_snap_info_clear(&info);
	assert_int_equal(o->stat(s->self, "view", &info, NULL), 0);
	assert_int_equal(info.kind, CTR_SNAP_VIEW);
	ctr_snap_info_clear(&info);
	/* Labels are replaced by update. */
	assert_int_equal(o->update(s->self, "layer1", "{\"a\":\"b\"}", NULL), 0);
	assert_int_equal(o->stat(s->self, "layer1", &info, NULL), 0);
	assert_string_equal(info.labels, "{\"a\":\"b\"}");
	ctr_snap_info_clear(&info);
	/* Committed snapshots and views have no writable directory. */
	assert_int_equal(o->apply_dir(s->self, "layer1", &ad, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->mounts(s->self, "layer1", &m, &n, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->mounts(s->self, "nosuch", &m, &n, NULL), CTR_ENOTFOUND);

	/* Errors: exact codes, and nothing made on disk. */
	char sdir[600];
	snprintf(sdir, sizeof(sdir), "%s/snapshots", dir ? dir : "");
	int dirs_before = dir ? n_entries(sdir) : 0;
	assert_int_equal(o->prepare(s->self, "ctr", "layer2", NULL, &m, &n, NULL), CTR_EEXISTS);
	assert_int_equal(o->prepare(s->self, "y", "nosuch", NULL, &m, &n, NULL), CTR_ENOTFOUND);
	assert_int_equal(o->prepare(s->self, "y", "ctr", NULL, &m, &n, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->commit(s->self, "z", "view", NULL, NULL), CTR_EPRECONDITION);
	assert_int_equal(o->commit(s->self, "layer1", "ctr", NULL, NULL), CTR_EEXISTS);
	assert_int_equal(o->remove(s->self, "layer1", NULL), CTR_EPRECONDITION);
	assert_int_equal(o->remove(s->self, "nosuch", NULL), CTR_ENOTFOUND);
	if (dir)
		assert_int_equal(n_entries(sdir), dirs_before);
	int before = 0;
	assert_int_equal(o->walk(s->self, count, &before, NULL), 0);
	assert_int_equal(before, 4); /* layer1, layer2, ctr, view */

	/* Usage of a committed layer is what was written. */
	struct ctr_snap_usage u;
	assert_int_equal(o->usage(s->self, "layer2", &u, NULL), 0);
	assert_true(u.inodes >= (caps->layered ? 2 : 3));
	/* An active snapshot's usage follows what is written into it. */
	assert_int_equal(o->apply_dir(s->self, "ctr", &ad, NULL), 0);
	char big[1 << 16];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	put(ad, "big", big);
	free(ad);
	assert_int_equal(o->usage(s->self, "ctr", &u, NULL), 0);
	assert_true(u.size >= (int64_t)sizeof(big) - 1);
	assert_int_equal(o->usage(s->self, "nosuch", &u, NULL), CTR_ENOTFOUND);

	/* Removal, children first; cleanup drops orphan directories. */
	assert_int_equal(o->remove(s->self, "view", NULL), 0);
	assert_int_equal(o->remove(s->self, "ctr", NULL), 0);
	assert_int_equal(o->remove(s->self, "layer2", NULL), 0);
	if (dir) {
		snprintf(p, sizeof(p), "%s/snapshots/new-1-2", dir);
		assert_int_equal(mkdir(p, 0700), 0);
		snprintf(p, sizeof(p), "%s/snapshots/999", dir);
		assert_int_equal(mkdir(p, 0700), 0);
		assert_int_equal(o->cleanup(s->self, NULL), 0);
		assert_int_equal(access(p, F_OK), -1);
		snprintf(p, sizeof(p), "%s/snapshots/new-1-2", dir);
		assert_int_equal(access(p, F_OK), -1);
	}
	int after = 0;
	o->walk(s->self, count, &after, NULL);
	assert_int_equal(after, 1);
	if (caps->built_in)
		ctr_snapshotter_free(s);
	ctr_error_free(err);
}


static void run_builtin(int (*open_fn)(struct ctr_snapshotter **, const char *, ctr_error **), const char *name,
			bool layered)
{
	char dir[300], mnt[300];
	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	mkdir(mnt, 0755);
	struct ctr_snapshotter *s = NULL;
	assert_int_equal(open_fn(&s, dir, NULL), 0);
	struct snap_suite_caps caps = {.layered = layered, .built_in = true};
	snap_suite(s, &caps, dir, mnt);
}

/* ---- an application's snapshotter, through the public vtable ----
 * It keeps its snapshots in a native snapshotter of its own (the test's
 * choice of backend; the suite exercises the vtable's conversions of
 * mounts, labels, records and errors on the way through). */

static struct ctr_snapshotter *vt_inner(void *self)
{
	return self;
}

static int to_json(char **json, const char *const *labels)
{
	*json = NULL;
	return labels ? ctr_md_labels_to_json(json, labels, NULL) : 0;
}

static int give_mounts(ctr_mount_list **out, struct ctr_mount *m, size_t n, ctr_error **err)
{
	int r = ctr_mount_list_new(out, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = ctr_mount_list_add(*out, m[i].type, m[i].source, (const char *const *)m[i].options, err);
	ctr_mounts_free(m, n);
	return r;
}

static int a_create(ctr_mount_list **out, void *self, const char *key, const char *parent,
		    const char *const *labels, bool view, ctr_error **err)
{
	struct ctr_snapshotter *in = vt_inner(self);
	_cleanup_free_ char *json = NULL;
	to_json(&json, labels);
	struct ctr_mount *m = NULL;
	size_t n = 0;
	int r = (view ? in->ops->view : in->ops->prepare)(in->self, key, parent, json, &m, &n, err);
	return r < 0 ? r : give_mounts(out, m, n, err);
}
static int a_prepare(ctr_mount_list **o, void *s, const char *k, const char *p, const char *const *l, ctr_error **e)
{
	return a_create(o, s, k, p, l, false, e);
}
static int a_view(ctr_mount_list **o, void *s, const char *k, const char *p, const char *const *l, ctr_error **e)
{
	return a_create(o, s, k, p, l, true, e);
}
static int a_mounts(ctr_mount_list **o, void *s, const char *k, ctr_error **e)
{
	struct ctr_mount *m = NULL;
	size_t n = 0;
	int r = vt_inner(s)->ops->mounts(vt_inner(s)->self, k, &m, &n, e);
	return r < 0 ? r : give_mounts(o, m, n, e);
}
static int a_commit(void *s, const char *name, const char *k, const char *const *l, ctr_error **e)
{
	_cleanup_free_ char *json = NULL;
	to_json(&json, l);
	return vt_inner(s)->ops->commit(vt_inner(s)->self, name, k, json, e);
}
static int a_remove(void *s, const char *k, ctr_error **e)
{
	return vt_inner(s)->ops->remove(vt_inner(s)->self, k, e);
}
static int give_info(ctr_snapshot_info **out, const struct ctr_snap_info *i, ctr_error **err)
{
	_cleanup_strv_ char **labels = NULL;
	int r = ctr_md_labels_from_json(&labels, i->labels, err);
	return r < 0 ? r : ctr_snapshot_info_new(out, i->name, i->parent, (ctr_snapshot_kind)i->kind,
						     (const char *const *)labels, i->created_at, i->updated_at, err);
}
static int a_stat(ctr_snapshot_info **o, void *s, const char *k, ctr_error **e)
{
	struct ctr_snap_info i;
	int r = vt_inner(s)->ops->stat(vt_inner(s)->self, k, &i, e);
	if (r < 0)
		return r;
	r = give_info(o, &i, e);
	ctr_snap_info_clear(&i);
	return r;
}
static int a_update(void *s, const char *k, const char *const *l, ctr_error **e)
{
	_cleanup_free_ char *json = NULL;
	to_json(&json, l);
	return vt_inner(s)->ops->update(vt_inner(s)->self, k, json ? json : "{}", e);
}
static int a_usage(int64_t *size, int64_t *inodes, void *s, const char *k, ctr_error **e)
{
	struct ctr_snap_usage u;
	int r = vt_inner(s)->ops->usage(vt_inner(s)->self, k, &u, e);
	if (r == 0) {
		*size = u.size;
		*inodes = u.inodes;
	}
	return r;
}
struct a_walk_ud {
	int (*fn)(const ctr_snapshot_info *, void *);
	void *ud;
};
static int a_walk_one(const struct ctr_snap_info *i, void *ud)
{
	struct a_walk_ud *w = ud;
	ctr_snapshot_info *pub = NULL;
	int r = give_info(&pub, i, NULL);
	if (r == 0)
		r = w->fn(pub, w->ud);
	ctr_snapshot_info_free(pub);
	return r;
}
static int a_walk(void *s, int (*fn)(const ctr_snapshot_info *, void *), void *ud, ctr_error **e)
{
	struct a_walk_ud w = {fn, ud};
	return vt_inner(s)->ops->walk(vt_inner(s)->self, a_walk_one, &w, e);
}
static int a_apply_dir(char **path, void *s, const char *k, ctr_error **e)
{
	char *p = NULL;
	int r = vt_inner(s)->ops->apply_dir(vt_inner(s)->self, k, &p, e);
	if (r < 0)
		return r;
	*path = ctr_strdup(p);
	free(p);
	return *path ? 0 : ctr_error_set(e, CTR_ENOMEM, 0, "out of memory");
}
static void a_close(void *s)
{
	ctr_snapshotter_free(vt_inner(s));
}

/* ---- btrfs on a loop file ---- */

static char btrfs_img[300], btrfs_mnt[300];

static int sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Unmounting detaches the loop device (mount -o loop sets autoclear). */
static int btrfs_teardown(void **state)
{
	if (btrfs_mnt[0])
		umount2(btrfs_mnt, MNT_DETACH);
	btrfs_mnt[0] = 0;
	if (btrfs_img[0])
		unlink(btrfs_img);
	btrfs_img[0] = 0;
	return teardown(state);
}

/* 0, or 77 with the reason printed when the machine cannot make one. */
static int btrfs_make(void)
{
	snprintf(btrfs_img, sizeof(btrfs_img), "%s/btrfs.img", tmp);
	snprintf(btrfs_mnt, sizeof(btrfs_mnt), "%s/btrfs", tmp);
	assert_int_equal(mkdir(btrfs_mnt, 0755), 0);
	if (sh("command -v mkfs.btrfs >/dev/null") != 0) {
		print_message("SKIP btrfs case: mkfs.btrfs is not installed (btrfs-progs)\n");
		return 77;
	}
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "truncate -s 256M %s && mkfs.btrfs -q %s >/dev/null", btrfs_img, btrfs_img);
	assert_int_equal(sh(cmd), 0);
	snprintf(cmd, sizeof(cmd), "mount -o loop -t btrfs %s %s", btrfs_img, btrfs_mnt);
	if (sh(cmd) != 0) {
		btrfs_mnt[0] = 0;
		print_message("SKIP btrfs case: cannot loop-mount btrfs (no loop devices or no btrfs in the kernel)\n");
		return 77;
	}
	return 0;
}

static void test_btrfs(void **state)
{
	(void)state;
	char dir[400], mnt[300];
	ctr_error *err = NULL;
	struct ctr_snapshotter *s = NULL;
	/* Not on btrfs: refused with the reason, and nothing created. */
	snprintf(dir, sizeof(dir), "%s/plain/btrfs", tmp);
	assert_int_equal(ctr_btrfs_open(&s, dir, &err), CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(err), "is not on btrfs"));
	ctr_error_free(err);
	err = NULL;
	snprintf(dir, sizeof(dir), "%s/plain", tmp);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(ctr_btrfs_check(tmp, NULL), CTR_ENOTSUP);
	if (btrfs_make() != 0)
		return;
	snprintf(dir, sizeof(dir), "%s/snapshots/btrfs", btrfs_mnt);
	assert_int_equal(ctr_btrfs_check(dir, NULL), 0);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	mkdir(mnt, 0755);
	assert_int_equal(ctr_btrfs_open(&s, dir, &err), 0);
	struct snap_suite_caps caps = {.layered = false, .built_in = true};
	snap_suite(s, &caps, dir, mnt);
}

/* btrfs specifics: committed snapshots are read-only subvolumes, and with
 * quotas on, an active snapshot's usage is what it holds alone. */
static void test_btrfs_subvolumes(void **state)
{
	(void)state;
	if (btrfs_make() != 0)
		return;
	char dir[400], p[600], cmd[800];
	snprintf(dir, sizeof(dir), "%s/snapshots/btrfs", btrfs_mnt);
	struct ctr_snapshotter *s = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_btrfs_open(&s, dir, &err), 0);
	const struct ctr_snapshotter_ops *o = s->ops;
	struct ctr_mount *m = NULL;
	size_t n = 0;
	assert_int_equal(o->prepare(s->self, "a", NULL, NULL, &m, &n, NULL), 0);
	ctr_mounts_free(m, n);
	char *ad = NULL;
	assert_int_equal(o->apply_dir(s->self, "a", &ad, NULL), 0);
	/* 4 MiB in the parent layer */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/urandom of=%s/blob bs=1M count=4 status=none", ad);
	assert_int_equal(sh(cmd), 0);
	free(ad);
	assert_int_equal(o->commit(s->self, "base", "a", NULL, NULL), 0);
	/* ids: "a" took 1, and "base" kept it: a read-only subvolume */
	snprintf(p, sizeof(p), "%s/snapshots/1", dir);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_ino, 256); /* a subvolume's root */
	uint64_t flags = 0;
	assert_int_equal(ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags), 0);
	assert_true(flags & BTRFS_SUBVOL_RDONLY);
	close(fd);
	/* the active one is a writable snapshot of it */
	assert_int_equal(o->prepare(s->self, "b", "base", NULL, &m, &n, NULL), 0);
	ctr_mounts_free(m, n);
	snprintf(p, sizeof(p), "%s/snapshots/2", dir);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags), 0);
	assert_false(flags & BTRFS_SUBVOL_RDONLY);
	close(fd);
	assert_int_equal(o->apply_dir(s->self, "b", &ad, NULL), 0);
	put(ad, "small", "x");
	/* Without quotas the walk counts the parent's 4 MiB too. */
	struct ctr_snap_usage u;
	assert_int_equal(o->usage(s->self, "b", &u, NULL), 0);
	assert_true(u.size >= 4 << 20);
	assert_true(u.inodes >= 2);
	int64_t inodes_walk = u.inodes;
	snprintf(cmd, sizeof(cmd), "btrfs quota enable %s && btrfs quota rescan -w %s >/dev/null", btrfs_mnt,
		 btrfs_mnt);
	assert_int_equal(sh(cmd), 0);
	/* With quotas: only what "b" holds alone (the shared 4 MiB is not). */
	assert_int_equal(o->usage(s->self, "b", &u, NULL), 0);
	assert_true(u.size > 0);
	assert_true(u.size < 1 << 20);
	assert_int_equal(u.inodes, inodes_walk);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/urandom of=%s/more bs=1M count=2 status=none", ad);
	assert_int_equal(sh(cmd), 0);
	free(ad);
	assert_int_equal(o->usage(s->self, "b", &u, NULL), 0);
	assert_true(u.size >= 2 << 20);
	assert_true(u.size < 4 << 20);
	/* Removing destroys the subvolumes. */
	assert_int_equal(o->remove(s->self, "b", NULL), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(o->remove(s->self, "base", NULL), 0);
	snprintf(p, sizeof(p), "%s/snapshots", dir);
	assert_int_equal(n_entries(p), 0);
	ctr_snapshotter_free(s);
	ctr_error_free(err);
}

static void test_vtable(void **state)
{
	(void)state;
	char root[300], st[300], inner_dir[300], mnt[300];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	snprintf(inner_dir, sizeof(inner_dir), "%s/app-store", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	mkdir(mnt, 0755);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(st);
	ctr_client *c = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	struct ctr_snapshotter *inner = NULL;
	assert_int_equal(ctr_native_open(&inner, inner_dir, NULL), 0);
	struct ctr_snapshotter_vtable vt = {
		.version = CTR_SNAPSHOTTER_VTABLE_VERSION,
		.prepare = a_prepare, .view = a_view, .mounts = a_mounts, .commit = a_commit,
		.remove = a_remove, .stat = a_stat, .update = a_update, .usage = a_usage, .walk = a_walk,
		.apply_dir = a_apply_dir, .close = a_close,
	};
	assert_int_equal(ctr_snapshotter_register(c, "appsnap", &vt, inner, NULL), 0);
	/* The suite runs on what the client registered. */
	struct ctr_snapshotter *s = NULL;
	assert_int_equal(ctr_client_snapshotter(&s, c, "appsnap", NULL), 0);
	struct snap_suite_caps caps = {.layered = false};
	snap_suite(s, &caps, NULL, mnt);
	ctr_opt_free(a);
	ctr_opt_free(b);
	ctr_client_free(c);
}

static void test_overlay(void **state)
{
	(void)state;
	if (!ctr_overlay_supported(tmp)) {
		print_message("SKIP overlay case: overlayfs cannot be mounted in %s\n", tmp);
		return;
	}
	run_builtin(ctr_overlay_open, "overlayfs", true);
}

/* erofs through the suite's calls: its layers are committed active
 * snapshots, so they stay directories stacked as overlay lowers (images
 * come from unpack: test-unpack and test-erofs check those). */
static void test_erofs(void **state)
{
	(void)state;
	if (!ctr_overlay_supported(tmp)) {
		print_message("SKIP erofs case: overlayfs cannot be mounted in %s\n", tmp);
		return;
	}
	run_builtin(ctr_erofs_open, "erofs", true);
}

static void test_native(void **state)
{
	(void)state;
	run_builtin(ctr_native_open, "native", false);
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
		cmocka_unit_test_setup_teardown(test_erofs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_btrfs, setup, btrfs_teardown),
		cmocka_unit_test_setup_teardown(test_btrfs_subvolumes, setup, btrfs_teardown),
		cmocka_unit_test_setup_teardown(test_vtable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
