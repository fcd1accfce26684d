/* Entry handlers for ctr_archive_apply: regular files (inline or queued to
 * the workers), directories, hardlinks, symlinks, devices and fifos. All run
 * on the reader thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "apply-internal.h"
#include "fs.h"
#include "macro.h"

static bool xattr_allowed(const struct apply *a, const char *name)
{
	if (!strncmp(name, "user.", 5) || !strcmp(name, "security.capability"))
		return true;
	if (!strncmp(name, "trusted.overlay.", 16))
		return false;
	return a->o.all_xattrs;
}

int ap_read_meta(struct apply *a, struct archive_entry *e, struct apply_meta *m, ctr_error **err)
{
	memset(m, 0, sizeof(*m));
	m->mode = archive_entry_perm(e) & 07777;
	m->uid = (uid_t)archive_entry_uid(e);
	m->gid = (gid_t)archive_entry_gid(e);
	m->chown = a->do_chown;
	m->unprivileged = a->euid != 0;
	m->times[1].tv_sec = archive_entry_mtime(e);
	m->times[1].tv_nsec = archive_entry_mtime_nsec(e);
	m->times[0] = m->times[1];
	if (archive_entry_atime_is_set(e) &&
	    (archive_entry_atime(e) > m->times[1].tv_sec ||
	     (archive_entry_atime(e) == m->times[1].tv_sec && archive_entry_atime_nsec(e) > m->times[1].tv_nsec))) {
		m->times[0].tv_sec = archive_entry_atime(e);
		m->times[0].tv_nsec = archive_entry_atime_nsec(e);
	}
	if (m->times[0].tv_nsec < 0 || m->times[0].tv_nsec > 999999999)
		m->times[0].tv_nsec = 0;
	if (m->times[1].tv_nsec < 0 || m->times[1].tv_nsec > 999999999)
		m->times[1].tv_nsec = 0;
	int n = archive_entry_xattr_reset(e);
	if (n <= 0)
		return 0;
	m->xattrs = calloc((size_t)n, sizeof(*m->xattrs));
	if (!m->xattrs)
		return ctr_err_nomem(err);
	const char *name;
	const void *val;
	size_t len;
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK && m->n_xattrs < (size_t)n) {
		if (!name || !xattr_allowed(a, name))
			continue;
		struct apply_xattr *x = &m->xattrs[m->n_xattrs];
		x->name = strdup(name);
		x->value = malloc(len ? len : 1);
		if (!x->name || !x->value) {
			free(x->name);
			free(x->value);
			x->name = NULL;
			return ctr_err_nomem(err);
		}
		if (len)
			memcpy(x->value, val, len);
		x->len = len;
		m->n_xattrs++;
	}
	return 0;
}

/* xattrs, mode and times on a non-regular, non-directory entry: symlinks,
 * devices, fifos. There is no fd to hold (opening a fifo blocks, a symlink
 * cannot be opened for writing), so these go through the parent fd with
 * AT_SYMLINK_NOFOLLOW on the name created just before by this thread. */
static int meta_at(struct apply *a, int dfd, const char *base, const struct apply_meta *m, bool is_link,
		   ctr_error **err)
{
	if (m->chown && fchownat(dfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return ap_eerrno(a, err, errno, "chown");
	if (m->n_xattrs) {
		char p[64 + NAME_MAX_LEN];
		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dfd, base);
		for (size_t i = 0; i < m->n_xattrs; i++) {
			const struct apply_xattr *x = &m->xattrs[i];
			if (lsetxattr(p, x->name, x->value, x->len, 0) < 0) {
				/* user.* is not allowed on symlinks and devices */
				if (apply_xattr_ignorable(m, x->name, errno) ||
				    (errno == EPERM && !strncmp(x->name, "user.", 5)))
					continue;
				return ap_eerrno(a, err, errno, "set xattr");
			}
		}
	}
	if (!is_link && fchmodat(dfd, base, m->mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return ap_eerrno(a, err, errno, "chmod");
	if (utimensat(dfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
		return ap_eerrno(a, err, errno, "set times");
	return 0;
}

/* Reads the entry's data (sparse-aware) into buf of size bytes. */
static int read_into(struct apply *a, unsigned char *buf, size_t size, ctr_error **err)
{
	for (;;) {
		const void *blk;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a->ar, &blk, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return ap_archive_fail(a, err);
		if (off < 0 || (uint64_t)off > size || len > size - (size_t)off)
			return ap_eerr(a, err, CTR_EINVAL, 0, "data beyond the entry size");
		if (len)
			memcpy(buf + off, blk, len);
	}
}

static int write_inline(struct apply *a, struct apply_dir *d, const char *base, uint64_t size,
			const struct apply_meta *m, ctr_error **err)
{
	_cleanup_close_ int fd = openat(d->fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ap_eerrno(a, err, errno, "create");
	uint64_t end = 0;
	for (;;) {
		const void *blk;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a->ar, &blk, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return ap_archive_fail(a, err);
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return ap_eerr(a, err, CTR_EINVAL, 0, "data beyond the entry size");
		r = ctr_pwrite_all(fd, blk, len, (off_t)off);
		if (r < 0)
			return ap_eerrno(a, err, -r, "write");
		if ((uint64_t)off + len > end)
			end = (uint64_t)off + len;
	}
	if (end < size && ftruncate(fd, (off_t)size) < 0)
		return ap_eerrno(a, err, errno, "truncate");
	return apply_meta_fd(fd, a->entry, m, true, true, err);
}

int ap_do_regular(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		      struct apply_meta *m, ctr_error **err)
{
	la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (sz < 0)
		return ap_eerr(a, err, CTR_EINVAL, 0, "negative size");
	uint64_t size = (uint64_t)sz;
	/* A new file already belongs to us (and to our group, unless the
	 * directory is setgid): skip the chown, one syscall of about seven
	 * per file. */
	if (m->chown && m->uid == a->euid && m->gid == a->egid && !d->sgid)
		m->chown = false;
	int r = ap_prepare_slot(a, d, base, false, err);
	if (r < 0)
		return r;
	a->file_bytes += size;
	if (!a->pool_on || size > a->o.max_buffered_file)
		return write_inline(a, d, base, size, m, err);

	struct apply_job *j = calloc(1, sizeof(*j));
	if (!j)
		return ctr_err_nomem(err);
	j->size = (size_t)size;
	j->base = strdup(base);
	j->name = strdup(a->entry);
	j->data = size ? calloc(1, (size_t)size) : NULL;
	if (!j->base || !j->name || (size && !j->data)) {
		apply_job_free(j);
		return ctr_err_nomem(err);
	}
	if (size && (r = read_into(a, j->data, (size_t)size, err)) < 0) {
		apply_job_free(j);
		return r;
	}
	r = ap_add_pending(a, d, base, err);
	if (r < 0) {
		apply_job_free(j);
		return r;
	}
	j->meta = *m;
	memset(m, 0, sizeof(*m)); /* the job owns the xattrs now */
	j->dir = apply_dir_ref(d);
	apply_pool_submit(&a->pool, j);
	return 0;
}

static int defer_dir(struct apply *a, const char *parent, const char *base, const struct apply_meta *m,
		     ctr_error **err)
{
	if (a->n_dirs == a->cap_dirs) {
		size_t nc = a->cap_dirs ? a->cap_dirs * 2 : 64;
		struct deferred_dir *nd = realloc(a->dirs, nc * sizeof(*nd));
		if (!nd)
			return ctr_err_nomem(err);
		a->dirs = nd;
		a->cap_dirs = nc;
	}
	struct deferred_dir *dd = &a->dirs[a->n_dirs];
	if (asprintf(&dd->name, "%s%s%s", parent, *parent ? "/" : "", base) < 0)
		return ctr_err_nomem(err);
	dd->mode = m->mode;
	dd->times[0] = m->times[0];
	dd->times[1] = m->times[1];
	a->n_dirs++;
	return 0;
}

int ap_do_dir(struct apply *a, struct apply_dir *d, const char *parent, const char *base,
		  const struct apply_meta *m, ctr_error **err)
{
	int r = ap_prepare_slot(a, d, base, true, err);
	if (r < 0)
		return r;
	if (r == 0 && mkdirat(d->fd, base, 0700) < 0)
		return ap_eerrno(a, err, errno, "mkdir");
	_cleanup_close_ int fd = openat(d->fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ap_eerrno(a, err, errno, "open directory");
	r = apply_meta_fd(fd, a->entry, m, false, false, err);
	if (r < 0)
		return r;
	return defer_dir(a, parent, base, m, err);
}

int ap_do_link(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *name,
		   const char *base, ctr_error **err)
{
	const char *target = archive_entry_hardlink(e);
	if (!target)
		target = archive_entry_hardlink_utf8(e);
	if (!target || strlen(target) > NAME_MAX_LEN)
		return ap_eerr(a, err, CTR_EINVAL, 0, "bad hardlink target");
	_cleanup_free_ char *tc = ap_clean_name(target);
	if (!tc)
		return ctr_err_nomem(err);
	if (!*tc)
		return ap_eerr(a, err, CTR_EINVAL, 0, "hardlink to the layer root");
	if (!strcmp(tc, name))
		return ap_eerr(a, err, CTR_EINVAL, 0, "hardlink to itself");
	/* Resolve the target's parent inside the layer; never follow the
	 * target itself (a link to a symlink links the symlink, as in
	 * containerd's hardlinkRootPath). */
	const char *tparent, *tbase;
	ap_split_name(tc, &tparent, &tbase);
	int tfd = ap_open_dir(a, tparent, false, O_PATH, err);
	if (tfd == CTR_ENOTFOUND)
		return ap_eerr(a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
	if (tfd < 0)
		return tfd;
	_cleanup_close_ int tdir = tfd;
	struct stat st;
	if (fstat(tdir, &st) < 0)
		return ap_eerrno(a, err, errno, "stat hardlink target directory");
	struct apply_dir tmp = {.fd = tdir, .dev = st.st_dev, .ino = st.st_ino};
	int r = ap_wait_if_pending(a, &tmp, tbase, err);
	if (r < 0)
		return r;
	if (fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return ap_eerr(a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
		return ap_eerrno(a, err, errno, "stat hardlink target");
	}
	if (S_ISDIR(st.st_mode))
		return ap_eerr(a, err, CTR_EINVAL, 0, "hardlink to a directory");
	r = ap_prepare_slot(a, d, base, false, err);
	if (r < 0)
		return r;
	if (linkat(tdir, tbase, d->fd, base, 0) < 0)
		return ap_eerrno(a, err, errno, errno == ENOENT ? "hardlink target vanished" : "link");
	return 0;
}

int ap_do_special(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		      const struct apply_meta *m, ctr_error **err)
{
	int r = ap_prepare_slot(a, d, base, false, err);
	if (r < 0)
		return r;
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFLNK) {
		const char *t = archive_entry_symlink(e);
		if (!t)
			t = archive_entry_symlink_utf8(e);
		if (!t || !*t)
			return ap_eerr(a, err, CTR_EINVAL, 0, "empty symlink target");
		if (symlinkat(t, d->fd, base) < 0)
			return ap_eerrno(a, err, errno, "symlink");
		r = meta_at(a, d->fd, base, m, true, err);
		/* A new symlink may change how later names resolve (d may go
		 * with the cache). */
		ap_cache_drop(a);
		return r;
	}
	mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
	dev_t dev = kind == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	if (mknodat(d->fd, base, kind | 0600, dev) < 0)
		return ap_eerrno(a, err, errno, kind == S_IFIFO ? "mkfifo" : "mknod");
	return meta_at(a, d->fd, base, m, false, err);
}
