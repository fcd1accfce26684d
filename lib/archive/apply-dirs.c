/* The directory cache, the pending-name slots and the error helpers of one
 * apply, which the entry handlers (apply-entry.c) and the tar loop
 * (apply.c) both build on. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "apply-internal.h"
#include "fs.h"
#include "macro.h"

int ap_eerr(struct apply *a, ctr_error **err, int code, int e, const char *what)
{
	return ctr_err(err, code, e, "apply: %.300s: %s", a->entry ? a->entry : "", what);
}

int ap_eerrno(struct apply *a, ctr_error **err, int e, const char *what)
{
	return ap_eerr(a, err, ctr_errno_code(e), e, what);
}

int ap_touch(struct apply *a, const char *parent, const char *base, ctr_error **err)
{
	if (a->o.whiteouts != CTR_WHITEOUT_DELETE)
		return 0;
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s%s%s", parent, *parent ? "/" : "", base) < 0)
		return ctr_err_nomem(err);
	/* The name and every ancestor: an opaque marker keeps a lower-layer
	 * directory this layer wrote into, and recurses into it. */
	for (;;) {
		if (ap_strset_has(&a->touched, full))
			break; /* its ancestors are in too */
		if (ap_strset_add(&a->touched, full) < 0)
			return ctr_err_nomem(err);
		char *s = strrchr(full, '/');
		if (!s)
			break;
		*s = 0;
	}
	return 0;
}

/* Opens dir `path` (clean, relative to the root) inside the layer with
 * flags, creating missing components 0700 when create is set (containerd
 * creates missing parents the same way). */
int ap_open_dir(struct apply *a, const char *path, bool create, int flags, ctr_error **err)
{
	ctr_error *e = NULL;
	int fd = ctr_openat_in_root(a->root, path, flags | O_DIRECTORY, 0, &e);
	if (fd >= 0 || !create || ctr_error_errno(e) != ENOENT) {
		if (fd < 0) {
			int en = ctr_error_errno(e);
			ctr_error_free(e);
			if (en == ENOENT && !create)
				return CTR_ENOTFOUND;
			return ap_eerrno(a, err, en ? en : EINVAL, "open parent directory");
		}
		return fd;
	}
	ctr_error_free(e);
	e = NULL;
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return ctr_err_nomem(err);
	for (char *s = p;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		_cleanup_free_ char *base = NULL;
		int pfd = ctr_open_parent_in_root(a->root, p, &base, NULL);
		if (pfd < 0)
			return ap_eerr(a, err, CTR_EINVAL, ENOTDIR, "open parent directory");
		int r = mkdirat(pfd, base, 0700);
		int en = errno;
		close(pfd);
		if (r == 0) {
			const char *dp, *db;
			_cleanup_free_ char *cp = strdup(p);
			if (!cp)
				return ctr_err_nomem(err);
			ap_split_name(cp, &dp, &db);
			int tr = ap_touch(a, dp, db, err);
			if (tr < 0)
				return tr;
		} else if (en != EEXIST) {
			return ap_eerrno(a, err, en, "create parent directory");
		}
		if (!c)
			break;
		*s = c;
	}
	fd = ctr_openat_in_root(a->root, path, flags | O_DIRECTORY, 0, &e);
	if (fd < 0) {
		int en = ctr_error_errno(e);
		ctr_error_free(e);
		/* Still missing after creating every component: a component is
		 * a symlink to a place that does not exist in the layer. We do
		 * not create through it (containerd would mkdir its target). */
		if (en == ENOENT)
			return ap_eerr(a, err, CTR_EINVAL, en, "parent directory is a dangling symlink");
		return ap_eerrno(a, err, en ? en : EINVAL, "open parent directory");
	}
	return fd;
}

void ap_cache_drop(struct apply *a)
{
	free(a->cache_path);
	a->cache_path = NULL;
	apply_dir_unref(a->cache_dir);
	a->cache_dir = NULL;
}

/* The parent directory of an entry, through the one-entry cache. Borrowed. */
int ap_get_parent(struct apply *a, const char *parent, struct apply_dir **out, ctr_error **err)
{
	if (a->cache_dir && !strcmp(a->cache_path, parent)) {
		*out = a->cache_dir;
		return 0;
	}
	ap_cache_drop(a);
	int fd = ap_open_dir(a, parent, true, O_PATH, err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return ap_eerrno(a, err, e, "stat parent directory");
	}
	struct apply_dir *d = calloc(1, sizeof(*d));
	char *cp = strdup(parent);
	if (!d || !cp) {
		free(d);
		free(cp);
		close(fd);
		return ctr_err_nomem(err);
	}
	d->fd = fd;
	d->refs = 1;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->sgid = (st.st_mode & S_ISGID) != 0;
	a->cache_dir = d;
	a->cache_path = cp;
	*out = d;
	return 0;
}

int ap_drain(struct apply *a, ctr_error **err)
{
	if (!a->pool_on || a->pending.n == 0)
		return 0;
	int r = apply_pool_drain(&a->pool, err);
	ap_strset_clear(&a->pending);
	return r;
}

static char *pending_key(const struct apply_dir *d, const char *base)
{
	char *k = NULL;
	if (asprintf(&k, "%llx:%llx/%s", (unsigned long long)d->dev, (unsigned long long)d->ino, base) < 0)
		return NULL;
	return k;
}

int ap_wait_if_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err)
{
	if (!a->pool_on || a->pending.n == 0)
		return 0;
	_cleanup_free_ char *k = pending_key(d, base);
	if (!k)
		return ctr_err_nomem(err);
	if (ap_strset_has(&a->pending, k))
		return ap_drain(a, err);
	return 0;
}

/* Makes room for a new entry at d/base. Returns 1 when an existing
 * directory is kept (want_dir: a directory entry merges into it), 0 when
 * the name is free. */
int ap_prepare_slot(struct apply *a, struct apply_dir *d, const char *base, bool want_dir,
			ctr_error **err)
{
	int r = ap_wait_if_pending(a, d, base, err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstatat(d->fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ap_eerrno(a, err, errno, "stat");
	}
	if (S_ISDIR(st.st_mode)) {
		if (want_dir)
			return 1;
		r = ap_drain(a, err);
		if (r < 0)
			return r;
		r = ctr_rm_rf_at(d->fd, base, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "apply: %.300s: replace directory", a->entry);
		return 0;
	}
	if (unlinkat(d->fd, base, 0) < 0 && errno != ENOENT)
		return ap_eerrno(a, err, errno, "replace");
	return 0;
}

int ap_archive_fail(struct apply *a, ctr_error **err)
{
	if (a->read_failed) {
		if (err && !*err && a->read_err) {
			*err = a->read_err;
			a->read_err = NULL;
			return ctr_err_prefix(err, a->read_failed, "apply: read layer");
		}
		return ctr_err(err, a->read_failed, 0, "apply: read layer");
	}
	const char *m = archive_error_string(a->ar);
	return ctr_err(err, CTR_EINVAL, 0, "apply: %s%.300s%s: corrupt tar: %s", a->entry ? "\"" : "",
		       a->entry ? a->entry : "", a->entry ? "\"" : "", m ? m : "unknown");
}

int ap_add_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err)
{
	_cleanup_free_ char *k = pending_key(d, base);
	if (!k || ap_strset_add(&a->pending, k) < 0)
		return ctr_err_nomem(err);
	return 0;
}
