/* The built-in snapshotters, overlayfs, native and erofs. All keep records
 * in a ctr_snap_store and directories at <dir>/snapshots/<id>/fs (overlay
 * and erofs add <id>/work; erofs-lower.c has what erofs adds to overlay:
 * a layer's image, its mount, and their cleanup). A snapshot directory is built under a temporary name and
 * renamed to its id inside the transaction that creates its record, so a
 * crash never leaves a record without its directory. Removal renames to
 * rm-<id> before the record goes, and deletes after the commit. Cleanup
 * (under an exclusive lock that every prepare/remove holds shared) deletes
 * directories that no record names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "copy.h"
#include "erofs-lower.h"
#include "idmap.h"
#include "snapshotter.h"
#include "storage.h"
#include "fs.h"
#include "macro.h"

struct local {
	struct ctr_snap_store *st;
	bool native;
	bool erofs; /* overlay whose committed layers may be EROFS images */
	struct ctr_snapshotter_ops ops; /* local_ops, and apply_image for erofs */
};

static int dir_lock(struct local *l, bool exclusive, ctr_error **err)
{
	return ctr_snap_store_lock(l->st, exclusive, err);
}

static char *fs_path(struct local *l, int64_t id, const char *sub)
{
	char *p = NULL;
	if (asprintf(&p, "%s/snapshots/%lld/%s", l->st->dir, (long long)id, sub) < 0)
		return NULL;
	return p;
}

static int add_mount(struct ctr_mount **v, size_t *n, const char *type, const char *source,
		     const char *const *opts, ctr_error **err)
{
	struct ctr_mount *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return ctr_err_nomem(err);
	*v = nv;
	int r = ctr_mount_init(&nv[*n], type, source, opts, err);
	if (r == 0)
		(*n)++;
	return r;
}

/* containerd's overlay mounts(): bind for no parents, overlay otherwise;
 * a snapshot labelled with an ID mapping gets "uidmap=" and "gidmap="
 * (labels: its JSON labels, may be NULL). */
static int build_mounts(struct local *l, enum ctr_snap_kind kind, int64_t id, const int64_t *parents,
			size_t n_parents, const char *labels, struct ctr_mount **out, size_t *n_out,
			ctr_error **err)
{
	struct ctr_mount *v = NULL;
	size_t n = 0;
	bool ro = kind == CTR_SNAP_VIEW;
	struct ctr_idmap map;
	bool mapped = false;
	_cleanup_free_ char *ul = NULL, *gl = NULL, *uo = NULL, *go = NULL;
	int r = ctr_idmap_from_labels(&map, &mapped, &ul, &gl, labels, err);
	if (r < 0)
		return r;
	if (mapped && (asprintf(&uo, "uidmap=%s", ul) < 0 || asprintf(&go, "gidmap=%s", gl) < 0))
		return ctr_err_nomem(err);
	if (l->native || n_parents == 0 || (ro && n_parents == 1)) {
		/* native: the snapshot's own copy; overlay: its fs, or for a view of
		 * one parent, that parent's fs read-only */
		int64_t src = (!l->native && ro && n_parents == 1) ? parents[0] : id;
		_cleanup_free_ char *p = NULL;
		if (l->erofs && src != id && (r = ctr_erofs_lower_path(l->st->dir, src, &p, err)) < 0)
			return r;
		if (!p)
			p = fs_path(l, src, "fs");
		const char *opts[] = {ro ? "ro" : "rw", "rbind", uo, go, NULL};
		r = p ? add_mount(&v, &n, "bind", p, opts, err) : ctr_err_nomem(err);
	} else {
		size_t cap = 64 + n_parents * (strlen(l->st->dir) + 48);
		_cleanup_free_ char *lower = malloc(cap);
		_cleanup_free_ char *upper = NULL, *work = NULL, *up = fs_path(l, id, "fs"), *wk = fs_path(l, id, "work");
		if (!lower || !up || !wk)
			return ctr_err_nomem(err);
		size_t off = (size_t)snprintf(lower, cap, "lowerdir=");
		for (size_t i = 0; i < n_parents; i++) {
			_cleanup_free_ char *lp = NULL;
			if (l->erofs && (r = ctr_erofs_lower_path(l->st->dir, parents[i], &lp, err)) < 0)
				return r;
			if (lp)
				off += (size_t)snprintf(lower + off, cap - off, "%s%s", i ? ":" : "", lp);
			else
				off += (size_t)snprintf(lower + off, cap - off, "%s%s/snapshots/%lld/fs", i ? ":" : "",
							l->st->dir, (long long)parents[i]);
		}
		if (ro) {
			const char *opts[] = {"index=off", lower, uo, go, NULL};
			r = add_mount(&v, &n, "overlay", "overlay", opts, err);
		} else {
			if (asprintf(&upper, "upperdir=%s", up) < 0 || asprintf(&work, "workdir=%s", wk) < 0)
				return ctr_err_nomem(err);
			const char *opts[] = {"index=off", work, upper, lower, uo, go, NULL};
			r = add_mount(&v, &n, "overlay", "overlay", opts, err);
		}
	}
	if (r < 0) {
		ctr_mounts_free(v, n);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* Who owns the upper directory of an overlay on parent, as containerd's
 * overlay snapshotter has it: the host IDs of container 0 for a snapshot
 * with an ID mapping (its lowers are idmapped, its upper is not), else the
 * owner of the parent's own directory (a parent whose files were chowned
 * for a user namespace hands that on). */
static int upper_owner(struct local *l, int tfd, const char *key, const char *parent, const char *labels,
		       ctr_error **err)
{
	struct ctr_idmap m;
	bool mapped = false;
	int r = ctr_idmap_from_labels(&m, &mapped, NULL, NULL, labels, err);
	if (r < 0)
		return r;
	uint32_t uid = 0, gid = 0;
	if (mapped) {
		if (!ctr_idmap_to_host(m.uid, m.n_uid, 0, &uid) || !ctr_idmap_to_host(m.gid, m.n_gid, 0, &gid))
			return ctr_err(err, CTR_EINVAL, 0, "snapshot %s: the ID mapping has no entry for container "
				       "uid and gid 0", key);
	} else {
		int64_t pid;
		enum ctr_snap_kind pk;
		if (ctr_snap_store_get(l->st, parent, &pid, &pk, NULL, NULL, NULL) < 0)
			return 0; /* the store reports a missing parent */
		char src[64];
		snprintf(src, sizeof(src), "%lld/fs", (long long)pid);
		struct stat st;
		if (fstatat(l->st->snapshots_fd, src, &st, AT_SYMLINK_NOFOLLOW) < 0 || (st.st_uid == 0 && st.st_gid == 0))
			return 0;
		uid = st.st_uid;
		gid = st.st_gid;
	}
	if (fchownat(tfd, "fs", uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return ctr_err_errno(err, errno, "snapshot %s: chown", key);
	return 0;
}

static int create(struct local *l, enum ctr_snap_kind kind, const char *key, const char *parent,
		  const char *labels, struct ctr_mount **mounts, size_t *n_mounts, ctr_error **err)
{
	if (!key || !*key)
		return ctr_err(err, CTR_EINVAL, 0, "snapshot: empty key");
	_cleanup_close_ int lock = dir_lock(l, false, err);
	if (lock < 0)
		return lock;
	/* The new directory, under a temporary name. */
	char tmp[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), "new-%d-%ld", (int)getpid(), ts.tv_nsec);
	if (mkdirat(l->st->snapshots_fd, tmp, 0700) < 0)
		return ctr_err_errno(err, errno, "snapshot %s: mkdir", key);
	_cleanup_close_ int tfd = openat(l->st->snapshots_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;
	if (tfd < 0 || mkdirat(tfd, "fs", 0755) < 0 || (!l->native && mkdirat(tfd, "work", 0711) < 0))
		r = ctr_err_errno(err, errno, "snapshot %s: mkdir", key);
	if (r == 0 && l->native && parent && *parent) {
		/* native: copy the parent's tree before taking the write lock */
		int64_t pid;
		enum ctr_snap_kind pk;
		r = ctr_snap_store_get(l->st, parent, &pid, &pk, NULL, NULL, err);
		if (r == 0) {
			char src[64];
			snprintf(src, sizeof(src), "%lld/fs", (long long)pid);
			_cleanup_close_ int sfd = openat(l->st->snapshots_fd, src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			_cleanup_close_ int dfd = openat(tfd, "fs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = sfd < 0 || dfd < 0 ? ctr_err_errno(err, errno, "snapshot %s: open parent", key)
					       : ctr_copy_tree(sfd, dfd, err);
		}
	}
	if (r == 0 && !l->native && parent && *parent)
		r = upper_owner(l, tfd, key, parent, labels, err);
	int64_t id = 0, *parents = NULL;
	size_t n_parents = 0;
	if (r == 0)
		r = ctr_snap_store_begin(l->st, err);
	if (r == 0) {
		r = ctr_snap_store_create(l->st, kind, key, parent, labels, &id, &parents, &n_parents, err);
		char name[32];
		snprintf(name, sizeof(name), "%lld", (long long)id);
		if (r == 0) {
			int rn = renameat(l->st->snapshots_fd, tmp, l->st->snapshots_fd, name);
			if (rn < 0 && (errno == ENOTEMPTY || errno == EEXIST)) {
				/* A process killed between this rename and its commit
				 * left a directory under an id its rolled-back
				 * transaction never kept, so the id comes round again.
				 * We hold the write transaction that owns the id: the
				 * directory is junk. */
				r = ctr_rm_rf_at(l->st->snapshots_fd, name, err);
				if (r == 0)
					rn = renameat(l->st->snapshots_fd, tmp, l->st->snapshots_fd, name);
			}
			if (r == 0 && rn < 0)
				r = ctr_err_errno(err, errno, "snapshot %s: rename", key);
		}
		if (r == 0) {
			r = ctr_snap_store_commit_tx(l->st, err);
			if (r < 0)
				renameat(l->st->snapshots_fd, name, l->st->snapshots_fd, tmp);
		} else {
			ctr_snap_store_rollback(l->st);
		}
	}
	if (r == 0 && mounts)
		r = build_mounts(l, kind, id, parents, n_parents, labels, mounts, n_mounts, err);
	free(parents);
	if (r < 0)
		ctr_rm_rf_at(l->st->snapshots_fd, tmp, NULL);
	return r;
}

static int local_prepare(void *self, const char *key, const char *parent, const char *labels,
			 struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return create(self, CTR_SNAP_ACTIVE, key, parent, labels, m, n, err);
}

static int local_view(void *self, const char *key, const char *parent, const char *labels,
		      struct ctr_mount **m, size_t *n, ctr_error **err)
{
	return create(self, CTR_SNAP_VIEW, key, parent, labels, m, n, err);
}

static int local_mounts(void *self, const char *key, struct ctr_mount **m, size_t *n, ctr_error **err)
{
	struct local *l = self;
	int64_t id, *parents = NULL;
	size_t np = 0;
	enum ctr_snap_kind kind;
	int r = ctr_snap_store_get(l->st, key, &id, &kind, &parents, &np, err);
	if (r == 0 && kind == CTR_SNAP_COMMITTED)
		r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: committed snapshots have no mounts", key);
	struct ctr_snap_info info = {0};
	if (r == 0)
		r = ctr_snap_store_stat(l->st, key, &info, err);
	if (r == 0)
		r = build_mounts(l, kind, id, parents, np, info.labels, m, n, err);
	ctr_snap_info_clear(&info);
	free(parents);
	return r;
}

static int commit_impl(struct local *l, const char *name, const char *key, bool rebase,
		       const char *parent, const char *labels, ctr_error **err)
{
	int64_t id;
	enum ctr_snap_kind kind;
	int r = ctr_snap_store_get(l->st, key, &id, &kind, NULL, NULL, err);
	if (r < 0)
		return r;
	struct ctr_snap_usage u = {0, 0};
	char p[64];
	snprintf(p, sizeof(p), "%lld/fs", (long long)id);
	_cleanup_close_ int fd = openat(l->st->snapshots_fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && (r = ctr_dir_usage(fd, &u, err)) < 0)
		return r;
	if (l->erofs)
		ctr_erofs_image_usage(l->st->snapshots_fd, id, &u);
	/* Durable before it gets its committed name: one syncfs, not an fsync
	 * per file (ARCHITECTURE.md). */
	if (fd >= 0)
		syncfs(fd);
	if ((r = ctr_snap_store_begin(l->st, err)) < 0)
		return r;
	if (rebase)
		r = ctr_snap_store_commit_rebase(l->st, name, key, parent, labels, &u, &id, err);
	else
		r = ctr_snap_store_commit(l->st, name, key, labels, &u, &id, err);
	if (r == 0)
		return ctr_snap_store_commit_tx(l->st, err);
	ctr_snap_store_rollback(l->st);
	return r;
}

static int local_commit(void *self, const char *name, const char *key, const char *labels, ctr_error **err)
{
	return commit_impl(self, name, key, false, NULL, labels, err);
}

/* An overlay upper dir holds its layer's changes alone, whatever its
 * lowers: so a layer applied without a parent can take one at commit. */
static int local_commit_rebase(void *self, const char *name, const char *key, const char *parent,
			       const char *labels, ctr_error **err)
{
	struct local *l = self;
	if (l->native)
		return ctr_err(err, CTR_ENOTSUP, 0, "snapshot %s: native snapshots cannot be rebased", key);
	return commit_impl(l, name, key, true, parent, labels, err);
}

static int local_remove(void *self, const char *key, ctr_error **err)
{
	struct local *l = self;
	_cleanup_close_ int lock = dir_lock(l, false, err);
	if (lock < 0)
		return lock;
	char rm[40];
	int r = ctr_snap_store_remove_dir(l->st, key, rm, sizeof(rm), err);
	if (r < 0)
		return r;
	if (l->erofs && (r = ctr_erofs_lower_release(l->st->dir, rm, err)) < 0)
		return r;
	return ctr_rm_rf_at(l->st->snapshots_fd, rm, err);
}

static int local_stat(void *self, const char *key, struct ctr_snap_info *out, ctr_error **err)
{
	return ctr_snap_store_stat(((struct local *)self)->st, key, out, err);
}

static int local_update(void *self, const char *key, const char *labels, ctr_error **err)
{
	return ctr_snap_store_update_tx(((struct local *)self)->st, key, labels, err);
}

static int local_usage(void *self, const char *key, struct ctr_snap_usage *out, ctr_error **err)
{
	struct local *l = self;
	enum ctr_snap_kind kind;
	int64_t id;
	int r = ctr_snap_store_usage(l->st, key, out, &kind, &id, err);
	if (r < 0 || kind == CTR_SNAP_COMMITTED)
		return r;
	char p[64];
	snprintf(p, sizeof(p), "%lld/fs", (long long)id);
	_cleanup_close_ int fd = openat(l->st->snapshots_fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "snapshot %s: usage", key);
	return ctr_dir_usage(fd, out, err);
}

static int local_walk(void *self, ctr_snap_walk_fn fn, void *ud, ctr_error **err)
{
	return ctr_snap_store_walk(((struct local *)self)->st, fn, ud, err);
}

static int rm_tree(void *ud, const char *name, ctr_error **err)
{
	struct local *l = ud;
	/* a crash may have left an orphan's layer mounted */
	int r = l->erofs ? ctr_erofs_lower_release(l->st->dir, name, err) : 0;
	return r < 0 ? r : ctr_rm_rf_at(l->st->snapshots_fd, name, err);
}

static int local_cleanup(void *self, ctr_error **err)
{
	return ctr_snap_store_cleanup(((struct local *)self)->st, rm_tree, self, err);
}

static int local_check(void *self, bool repair, ctr_snap_check_fn fn, void *ud, ctr_error **err)
{
	struct local *l = self;
	/* A committed layer is its fs/ (and, on erofs, may be only its image). */
	static const char *const dir_layer[] = {"fs", NULL};
	static const char *const erofs_layer[] = {"fs", "layer.erofs", NULL};
	return ctr_snap_store_check(l->st, l->erofs ? erofs_layer : dir_layer, repair, rm_tree, l, fn, ud, err);
}

/* <id>/<sub> of an active key. */
static int active_path(struct local *l, const char *key, const char *sub, char **path, ctr_error **err)
{
	int64_t id;
	int r = ctr_snap_store_get_active(l->st, key, &id, err);
	if (r < 0)
		return r;
	char *p = fs_path(l, id, sub);
	if (!p)
		return ctr_err_nomem(err);
	*path = p;
	return 0;
}

static int local_apply_dir(void *self, const char *key, char **path, ctr_error **err)
{
	return active_path(self, key, "fs", path, err);
}

/* erofs: the image file a layer is written into for an active key; it
 * becomes the layer when the key is committed. */
static int local_apply_image(void *self, const char *key, char **path, ctr_error **err)
{
	return active_path(self, key, CTR_EROFS_LAYER_IMAGE, path, err);
}

static void local_close(void *self)
{
	struct local *l = self;
	if (!l)
		return;
	ctr_snap_store_close(l->st);
	free(l);
}

static const struct ctr_snapshotter_ops local_ops = {
	.prepare = local_prepare,
	.view = local_view,
	.mounts = local_mounts,
	.commit = local_commit,
	.commit_rebase = local_commit_rebase,
	.remove = local_remove,
	.stat = local_stat,
	.update = local_update,
	.usage = local_usage,
	.walk = local_walk,
	.cleanup = local_cleanup,
	.check = local_check,
	.apply_dir = local_apply_dir,
	.close = local_close,
};

static int local_open(struct ctr_snapshotter **out, const char *name, const char *dir, bool native,
		      bool erofs, ctr_error **err)
{
	struct local *l = calloc(1, sizeof(*l));
	struct ctr_snapshotter *s = calloc(1, sizeof(*s));
	if (!l || !s || !(s->name = strdup(name))) {
		free(l);
		if (s)
			free(s->name);
		free(s);
		return ctr_err_nomem(err);
	}
	l->native = native;
	l->erofs = erofs;
	int r = ctr_snap_store_open(&l->st, dir, err);
	if (r < 0) {
		free(l);
		free(s->name);
		free(s);
		return r;
	}
	l->ops = local_ops;
	if (erofs)
		l->ops.apply_image = local_apply_image;
	s->ops = &l->ops;
	s->self = l;
	s->overlay_whiteouts = !native;
	s->remap_ids = true;
	*out = s;
	return 0;
}

int ctr_overlay_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err)
{
	return local_open(out, "overlayfs", dir, false, false, err);
}

int ctr_native_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err)
{
	return local_open(out, "native", dir, true, false, err);
}

int ctr_erofs_open(struct ctr_snapshotter **out, const char *dir, ctr_error **err)
{
	return local_open(out, "erofs", dir, false, true, err);
}

void ctr_snapshotter_free(struct ctr_snapshotter *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s->self);
	free(s->name);
	free(s);
}

int ctr_overlay_check(const char *dir, ctr_error **err)
{
	/* In dir's nearest existing ancestor, so a check creates nothing that
	 * stays. */
	_cleanup_free_ char *at = NULL, *base = NULL;
	int r = ctr_existing_ancestor(&at, dir, err);
	if (r < 0)
		return r;
	if (asprintf(&base, "%s/overlay-check-XXXXXX", at) < 0)
		return ctr_err_nomem(err);
	if (!mkdtemp(base))
		return ctr_err_errno(err, errno, "overlayfs: mkdtemp in %s", at);
	const char *subs[] = {"lower", "upper", "work", "merged"};
	char p[4][4200];
	for (int i = 0; r == 0 && i < 4; i++) {
		snprintf(p[i], sizeof(p[i]), "%s/%s", base, subs[i]);
		if (mkdir(p[i], 0700) < 0)
			r = ctr_err_errno(err, errno, "overlayfs: mkdir %s", p[i]);
	}
	_cleanup_free_ char *data = NULL;
	if (r == 0 && asprintf(&data, "lowerdir=%s,upperdir=%s,workdir=%s", p[0], p[1], p[2]) < 0)
		r = ctr_err_nomem(err);
	if (r == 0 && mount("overlay", p[3], "overlay", 0, data) < 0) {
		int e = errno;
		r = ctr_err(err, CTR_ENOTSUP, e, "overlayfs cannot be mounted on %s: %s", at,
			    e == ENODEV ? "the kernel has no overlay filesystem" : strerror(e));
	} else if (r == 0) {
		umount2(p[3], MNT_DETACH);
	}
	ctr_rm_rf_at(AT_FDCWD, base, NULL);
	return r;
}

bool ctr_overlay_supported(const char *dir)
{
	return ctr_overlay_check(dir, NULL) == 0;
}
