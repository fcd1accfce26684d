/* The btrfs snapshotter (containerd's snapshots/btrfs, in our own words).
 * Records live in a ctr_snap_store like the other built-ins; every
 * snapshot is a btrfs subvolume at <dir>/snapshots/<id>:
 *
 *   prepare, no parent    BTRFS_IOC_SUBVOL_CREATE
 *   prepare on parent     BTRFS_IOC_SNAP_CREATE_V2 of the parent
 *   view                  the same, with BTRFS_SUBVOL_RDONLY
 *   commit                a read-only snapshot of the active one takes its
 *                         id; the writable one is destroyed
 *   remove                BTRFS_IOC_SNAP_DESTROY
 *
 * As in local.c, a subvolume is made under a temporary name (new-...) and
 * renamed to its id inside the transaction that creates its record, and
 * removal renames to rm-<id> before the record goes; cleanup destroys what
 * no record names. Snapshots are handed out as bind mounts of their
 * subvolume's directory (containerd mounts the device with subvolid=; a
 * bind of the same subvolume gives the same tree, needs no device path and
 * works with every mount helper of the library). Usage of an active
 * snapshot comes from its qgroup when quotas are on and consistent, and
 * from a walk otherwise. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"
#include "snapshotter.h"
#include "storage.h"

struct btrfs {
	struct ctr_snap_store *st;
};

static int dir_lock(struct btrfs *b, bool exclusive, ctr_error **err)
{
	return ctr_snap_store_lock(b->st, exclusive, err);
}

static void id_name(char *buf, size_t len, const char *prefix, int64_t id)
{
	snprintf(buf, len, "%s%lld", prefix, (long long)id);
}

static void tmp_name(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "new-%d-%ld", (int)getpid(), ts.tv_nsec);
}

static int set_name(char *dst, size_t len, const char *name, ctr_error **err)
{
	if (strlen(name) >= len)
		return ctr_err(err, CTR_EINVAL, 0, "btrfs: subvolume name %s too long", name);
	memset(dst, 0, len);
	memcpy(dst, name, strlen(name));
	return 0;
}

/* An empty subvolume called name in the snapshots directory. */
static int subvol_create(struct btrfs *b, const char *name, ctr_error **err)
{
	struct btrfs_ioctl_vol_args a;
	int r = set_name(a.name, sizeof(a.name), name, err);
	if (r == 0 && ioctl(b->st->snapshots_fd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0)
		r = ctr_err_errno(err, errno, "btrfs: create subvolume %s", name);
	return r;
}

/* A snapshot of the subvolume src_name, called name (read-only when ro). */
static int subvol_snapshot(struct btrfs *b, const char *name, const char *src_name, bool ro, ctr_error **err)
{
	_cleanup_close_ int src = openat(b->st->snapshots_fd, src_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (src < 0)
		return ctr_err_errno(err, errno, "btrfs: open subvolume %s", src_name);
	struct btrfs_ioctl_vol_args_v2 a;
	memset(&a, 0, sizeof(a));
	a.fd = src;
	a.flags = ro ? BTRFS_SUBVOL_RDONLY : 0;
	int r = set_name(a.name, sizeof(a.name), name, err);
	if (r == 0 && ioctl(b->st->snapshots_fd, BTRFS_IOC_SNAP_CREATE_V2, &a) < 0)
		r = ctr_err_errno(err, errno, "btrfs: snapshot %s as %s", src_name, name);
	return r;
}

/* Destroys the subvolume name; a plain directory there (junk that some
 * crash left, never a subvolume) is removed as a tree. Missing is fine. */
static int subvol_destroy(struct btrfs *b, const char *name, ctr_error **err)
{
	struct stat sb;
	if (fstatat(b->st->snapshots_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ctr_err_errno(err, errno, "btrfs: stat %s", name);
	/* A subvolume's root directory has inode 256 (BTRFS_FIRST_FREE_OBJECTID). */
	if (!S_ISDIR(sb.st_mode) || sb.st_ino != BTRFS_FIRST_FREE_OBJECTID)
		return ctr_rm_rf_at(b->st->snapshots_fd, name, err);
	struct btrfs_ioctl_vol_args a;
	int r = set_name(a.name, sizeof(a.name), name, err);
	if (r == 0 && ioctl(b->st->snapshots_fd, BTRFS_IOC_SNAP_DESTROY, &a) < 0 && errno != ENOENT)
		r = ctr_err_errno(err, errno, "btrfs: destroy subvolume %s", name);
	return r;
}

static int bind_mount(struct btrfs *b, int64_t id, bool ro, struct ctr_mount **out, size_t *n_out,
		      ctr_error **err)
{
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/snapshots/%lld", b->st->dir, (long long)id) < 0)
		return ctr_err_nomem(err);
	struct ctr_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return ctr_err_nomem(err);
	const char *opts[] = {ro ? "ro" : "rw", "rbind", NULL};
	int r = ctr_mount_init(m, "bind", p, opts, err);
	if (r < 0) {
		free(m);
		return r;
	}
	*out = m;
	*n_out = 1;
	return 0;
}

static int create(struct btrfs *b, enum ctr_snap_kind kind, const char *key, const char *parent,
		  const char *labels, struct ctr_mount **mounts, size_t *n_mounts, ctr_error **err)
{
	if (!key || !*key)
		return ctr_err(err, CTR_EINVAL, 0, "snapshot: empty key");
	_cleanup_close_ int lock = dir_lock(b, false, err);
	if (lock < 0)
		return lock;
	char tmp[64];
	tmp_name(tmp, sizeof(tmp));
	int r = 0;
	if (parent && *parent) {
		/* The record's checks (ENOTFOUND, EPRECONDITION) come first, so a
		 * bad parent makes no subvolume. */
		int64_t pid;
		enum ctr_snap_kind pk;
		r = ctr_snap_store_get(b->st, parent, &pid, &pk, NULL, NULL, err);
		if (r == 0 && pk != CTR_SNAP_COMMITTED)
			r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: parent %s is not committed", key, parent);
		char src[32];
		id_name(src, sizeof(src), "", pid);
		if (r == 0)
			r = subvol_snapshot(b, tmp, src, kind == CTR_SNAP_VIEW, err);
	} else {
		r = subvol_create(b, tmp, err);
		/* A view of nothing is an empty read-only subvolume. */
		if (r == 0 && kind == CTR_SNAP_VIEW) {
			_cleanup_close_ int fd = openat(b->st->snapshots_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			uint64_t fl = BTRFS_SUBVOL_RDONLY;
			if (fd < 0 || ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &fl) < 0)
				r = ctr_err_errno(err, errno, "btrfs: make %s read-only", tmp);
		}
	}
	if (r < 0) {
		subvol_destroy(b, tmp, NULL);
		return ctr_err_prefix(err, r, "snapshot %s", key);
	}
	int64_t id = 0;
	if ((r = ctr_snap_store_begin(b->st, err)) == 0) {
		r = ctr_snap_store_create(b->st, kind, key, parent, labels, &id, NULL, NULL, err);
		char name[32];
		id_name(name, sizeof(name), "", id);
		/* An id whose directory outlived a rolled-back transaction (a
		 * process killed between rename and commit) comes round again:
		 * under the write transaction that owns the id, it is junk. */
		if (r == 0 && (r = subvol_destroy(b, name, err)) == 0 &&
		    renameat(b->st->snapshots_fd, tmp, b->st->snapshots_fd, name) < 0)
			r = ctr_err_errno(err, errno, "snapshot %s: rename", key);
		if (r == 0) {
			r = ctr_snap_store_commit_tx(b->st, err);
			if (r < 0)
				renameat(b->st->snapshots_fd, name, b->st->snapshots_fd, tmp);
		} else {
			ctr_snap_store_rollback(b->st);
		}
	}
	if (r == 0 && mounts)
		r = bind_mount(b, id, kind == CTR_SNAP_VIEW, mounts, n_mounts, err);
	if (r < 0)
		subvol_destroy(b, tmp, NULL);
	return r;
}

static int btrfs_prepare(void *self, const char *key, const char *parent, const char *labels,
			 struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return create(self, CTR_SNAP_ACTIVE, key, parent, labels, m, n, err);
}

static int btrfs_view(void *self, const char *key, const char *parent, const char *labels,
		      struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return create(self, CTR_SNAP_VIEW, key, parent, labels, m, n, err);
}

static int btrfs_mounts(void *self, const char *key, struct ctr_mount **m, size_t *n, ctr_error **err)
{
	struct btrfs *b = self;
	int64_t id;
	enum ctr_snap_kind kind;
	int r = ctr_snap_store_get(b->st, key, &id, &kind, NULL, NULL, err);
	if (r == 0 && kind == CTR_SNAP_COMMITTED)
		r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: committed snapshots have no mounts", key);
	if (r == 0)
		r = bind_mount(b, id, kind == CTR_SNAP_VIEW, m, n, err);
	return r;
}

/* One item of the quota tree, or 1 when there is none (quotas off, or no
 * such qgroup). */
static int quota_item(int fd, uint8_t type, uint64_t objectid, uint64_t offset, void *item, size_t len)
{
	struct btrfs_ioctl_search_args a;
	memset(&a, 0, sizeof(a));
	a.key.tree_id = BTRFS_QUOTA_TREE_OBJECTID;
	a.key.min_objectid = a.key.max_objectid = objectid;
	a.key.min_type = a.key.max_type = type;
	a.key.min_offset = a.key.max_offset = offset;
	a.key.max_transid = (uint64_t)-1;
	a.key.nr_items = 1;
	if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &a) < 0)
		return 1; /* ENOENT: quotas are off */
	if (a.key.nr_items < 1)
		return 1;
	struct btrfs_ioctl_search_header h;
	memcpy(&h, a.buf, sizeof(h));
	if (h.type != type || h.offset != offset || h.len < len || sizeof(h) + h.len > sizeof(a.buf))
		return 1;
	memcpy(item, a.buf + sizeof(h), len);
	return 0;
}

/* The bytes that the subvolume open as fd holds alone, from its level-0
 * qgroup. 1 when quotas are off or their numbers are not to be trusted
 * (inconsistent, rescanning). */
static int qgroup_exclusive(int fd, int64_t *size)
{
	struct btrfs_qgroup_status_item status;
	if (quota_item(fd, BTRFS_QGROUP_STATUS_KEY, 0, 0, &status, sizeof(status)) != 0)
		return 1;
	uint64_t flags = le64toh(status.flags);
	if (!(flags & BTRFS_QGROUP_STATUS_FLAG_ON) ||
	    (flags & (BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT | BTRFS_QGROUP_STATUS_FLAG_RESCAN)))
		return 1;
	struct btrfs_ioctl_ino_lookup_args look;
	memset(&look, 0, sizeof(look));
	look.objectid = BTRFS_FIRST_FREE_OBJECTID;
	if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &look) < 0)
		return 1;
	/* Accounting lands at a transaction commit. */
	syncfs(fd);
	struct btrfs_qgroup_info_item info;
	if (quota_item(fd, BTRFS_QGROUP_INFO_KEY, 0, look.treeid, &info, sizeof(info)) != 0)
		return 1;
	*size = (int64_t)le64toh(info.excl);
	return 0;
}

/* Usage of the subvolume id: the qgroup's exclusive bytes when quotas are
 * on, else the walk's size. btrfs keeps no inode count per subvolume, so
 * inodes always come from the walk. */
static int subvol_usage(struct btrfs *b, int64_t id, const char *key, struct ctr_snap_usage *out, ctr_error **err)
{
	char p[32];
	id_name(p, sizeof(p), "", id);
	_cleanup_close_ int fd = openat(b->st->snapshots_fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ctr_err_errno(err, errno, "snapshot %s: usage", key);
	int r = ctr_dir_usage(fd, out, err);
	int64_t excl;
	if (r == 0 && qgroup_exclusive(fd, &excl) == 0)
		out->size = excl;
	return r;
}

static int btrfs_commit(void *self, const char *name, const char *key, const char *labels, ctr_error **err)
{
	struct btrfs *b = self;
	_cleanup_close_ int lock = dir_lock(b, false, err);
	if (lock < 0)
		return lock;
	int64_t id;
	int r = ctr_snap_store_get_active(b->st, key, &id, err);
	if (r < 0)
		return r;
	struct ctr_snap_usage u = {0, 0};
	if ((r = subvol_usage(b, id, key, &u, err)) < 0)
		return r;
	char cur[32], old[40], tmp[64];
	id_name(cur, sizeof(cur), "", id);
	id_name(old, sizeof(old), "rm-", id);
	tmp_name(tmp, sizeof(tmp));
	/* The read-only copy, durable before it gets the committed name. */
	if ((r = subvol_snapshot(b, tmp, cur, true, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot %s: commit", key);
	_cleanup_close_ int tfd = openat(b->st->snapshots_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd >= 0)
		syncfs(tfd);
	if ((r = ctr_snap_store_begin(b->st, err)) < 0) {
		subvol_destroy(b, tmp, NULL);
		return r;
	}
	r = ctr_snap_store_commit(b->st, name, key, labels, &u, &id, err);
	bool moved = false;
	if (r == 0 && renameat(b->st->snapshots_fd, cur, b->st->snapshots_fd, old) < 0)
		r = ctr_err_errno(err, errno, "snapshot %s: rename for commit", key);
	else if (r == 0)
		moved = true;
	if (r == 0 && renameat(b->st->snapshots_fd, tmp, b->st->snapshots_fd, cur) < 0)
		r = ctr_err_errno(err, errno, "snapshot %s: rename for commit", key);
	if (r == 0)
		r = ctr_snap_store_commit_tx(b->st, err);
	else
		ctr_snap_store_rollback(b->st);
	if (r < 0) {
		/* Put the writable one back under its id. */
		if (moved) {
			renameat(b->st->snapshots_fd, cur, b->st->snapshots_fd, tmp);
			renameat(b->st->snapshots_fd, old, b->st->snapshots_fd, cur);
		}
		subvol_destroy(b, tmp, NULL);
		return r;
	}
	return subvol_destroy(b, old, err);
}

static int btrfs_remove(void *self, const char *key, ctr_error **err)
{
	struct btrfs *b = self;
	_cleanup_close_ int lock = dir_lock(b, false, err);
	if (lock < 0)
		return lock;
	char rm[40];
	int r = ctr_snap_store_remove_dir(b->st, key, rm, sizeof(rm), err);
	return r < 0 ? r : subvol_destroy(b, rm, err);
}

static int btrfs_stat(void *self, const char *key, struct ctr_snap_info *out, ctr_error **err)
{
	return ctr_snap_store_stat(((struct btrfs *)self)->st, key, out, err);
}

static int btrfs_update(void *self, const char *key, const char *labels, ctr_error **err)
{
	return ctr_snap_store_update_tx(((struct btrfs *)self)->st, key, labels, err);
}

static int btrfs_usage(void *self, const char *key, struct ctr_snap_usage *out, ctr_error **err)
{
	struct btrfs *b = self;
	enum ctr_snap_kind kind;
	int64_t id;
	int r = ctr_snap_store_usage(b->st, key, out, &kind, &id, err);
	if (r < 0 || kind == CTR_SNAP_COMMITTED)
		return r;
	return subvol_usage(b, id, key, out, err);
}

static int btrfs_walk(void *self, ctr_snap_walk_fn fn, void *ud, ctr_error **err)
{
	return ctr_snap_store_walk(((struct btrfs *)self)->st, fn, ud, err);
}

static int destroy_one(void *ud, const char *name, ctr_error **err)
{
	return subvol_destroy(ud, name, err);
}

static int btrfs_cleanup(void *self, ctr_error **err)
{
	return ctr_snap_store_cleanup(((struct btrfs *)self)->st, destroy_one, self, err);
}

static int btrfs_check(void *self, bool repair, ctr_snap_check_fn fn, void *ud, ctr_error **err)
{
	/* Each snapshot is a subvolume: its directory is the whole of it. */
	return ctr_snap_store_check(((struct btrfs *)self)->st, NULL, repair, destroy_one, self, fn, ud, err);
}

static int btrfs_apply_dir(void *self, const char *key, char **path, ctr_error **err)
{
	struct btrfs *b = self;
	int64_t id;
	int r = ctr_snap_store_get_active(b->st, key, &id, err);
	if (r < 0)
		return r;
	if (asprintf(path, "%s/snapshots/%lld", b->st->dir, (long long)id) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static void btrfs_close(void *self)
{
	struct btrfs *b = self;
	if (!b)
		return;
	ctr_snap_store_close(b->st);
	free(b);
}

static const struct ctr_snapshotter_ops btrfs_ops = {
	.prepare = btrfs_prepare,
	.view = btrfs_view,
	.mounts = btrfs_mounts,
	.commit = btrfs_commit,
	/* A snapshot holds its parent's files: a layer cannot be applied
	 * without it and take a parent later. */
	.commit_rebase = NULL,
	.remove = btrfs_remove,
	.stat = btrfs_stat,
	.update = btrfs_update,
	.usage = btrfs_usage,
	.walk = btrfs_walk,
	.cleanup = btrfs_cleanup,
	.check = btrfs_check,
	.apply_dir = btrfs_apply_dir,
	.close = btrfs_close,
};

int ctr_btrfs_check(const char *dir, ctr_error **err)
{
	/* dir may not exist yet: its nearest existing ancestor decides, so a
	 * refusal creates nothing. */
	_cleanup_free_ char *p = NULL;
	int r = ctr_existing_ancestor(&p, dir, err);
	if (r < 0)
		return r;
	struct statfs sf;
	if (statfs(p, &sf) < 0)
		return ctr_err_errno(err, errno, "btrfs: statfs %s", p);
	if ((unsigned long)sf.f_type != (unsigned long)BTRFS_SUPER_MAGIC)
		return ctr_err(err, CTR_ENOTSUP, 0, "%s is not on btrfs (filesystem type 0x%lx)", dir,
			       (unsigned long)sf.f_type);
	return 0;
}

int ctr_btrfs_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err)
{
	int r = ctr_btrfs_check(dir, err);
	if (r < 0)
		return r;
	struct btrfs *b = calloc(1, sizeof(*b));
	struct ctr_snapshotter *s = calloc(1, sizeof(*s));
	if (!b || !s || !(s->name = strdup("btrfs"))) {
		free(b);
		if (s)
			free(s->name);
		free(s);
		return ctr_err_nomem(err);
	}
	if ((r = ctr_snap_store_open(&b->st, dir, err)) < 0) {
		free(b);
		free(s->name);
		free(s);
		return r;
	}
	s->ops = &btrfs_ops;
	s->self = b;
	s->overlay_whiteouts = false;
	*out = s;
	return 0;
}
