/* ctr_archive_apply: an OCI layer tar stream into a layer directory.
 *
 * Security model. The layer directory is "/" for every name in the tar.
 * Names are cleaned lexically first (a leading "/" and ".." components
 * cannot climb above the root: containerd's filepath.Clean + RootPath),
 * then the parent directory is opened with openat2(RESOLVE_IN_ROOT) through
 * ctr_openat_in_root, so symlinks already in the layer are followed but
 * only inside it. Every change is then one *at() call on that parent fd
 * with the last component, never following it (O_NOFOLLOW, O_EXCL,
 * AT_SYMLINK_NOFOLLOW). Directory fds stay inside the layer because nothing
 * here renames a directory.
 *
 * Ordering with the worker pool (apply-pool.c). The reader thread owns the
 * namespace: it creates directories, symlinks, devices, hardlinks and
 * whiteouts and removes whatever an entry replaces. Workers only create new
 * regular files from memory. The reader keeps the set of names handed to
 * workers since the last drain (keyed by parent inode + base name, so
 * aliases through symlinks match) and waits for the workers to drain
 * before it touches such a name again (a duplicate entry, a hardlink to a
 * file still being written) and before removing any directory (it may
 * hold files still queued) or making one opaque. Directory modes and times
 * are set at the end, after the drain, so children cannot disturb them and
 * read-only directories do not block their own children. */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../error.h"
#include "apply-internal.h"
#include "util/fs.h"
#include "util/macro.h"

#define RBUF_SIZE (128u * 1024)
#define NAME_MAX_LEN 4095
#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* A small open-addressing set of strings. */
struct strset {
	char **slots;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool strset_has(const struct strset *s, const char *k)
{
	if (!s->cap)
		return false;
	for (size_t i = hash_str(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i])
			return false;
		if (!strcmp(s->slots[i], k))
			return true;
	}
}

static int strset_add(struct strset *s, const char *k)
{
	if (strset_has(s, k))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		char **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i])
				continue;
			size_t j = hash_str(s->slots[i]) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	char *c = strdup(k);
	if (!c)
		return -ENOMEM;
	size_t i = hash_str(k) & (s->cap - 1);
	while (s->slots[i])
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = c;
	s->n++;
	return 0;
}

static void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		free(s->slots[i]);
		s->slots[i] = NULL;
	}
	s->n = 0;
}

static void strset_free(struct strset *s)
{
	strset_clear(s);
	free(s->slots);
	s->slots = NULL;
	s->cap = 0;
}

struct deferred_dir {
	char *name;
	mode_t mode;
	struct timespec times[2];
};

struct apply {
	int root;
	struct ctr_apply_opts o;
	bool do_chown;
	uid_t euid;
	gid_t egid;
	struct archive *ar;
	ctr_archive_read_fn read;
	void *ud;
	ctr_error *read_err;
	int read_failed;
	bool read_eof;
	unsigned char *rbuf;
	ctr_hasher *hash;
	uint64_t tar_bytes, entries, file_bytes;

	/* The reader's one-entry cache of the last parent directory. */
	char *cache_path;
	struct apply_dir *cache_dir;

	bool pool_on;
	struct apply_pool pool;
	struct strset pending; /* "dev:ino/base" handed to workers */
	struct strset touched; /* DELETE mode: names this layer created, and their ancestors */

	struct deferred_dir *dirs;
	size_t n_dirs, cap_dirs;

	const char *entry; /* raw name of the current entry, for errors */
};

static la_ssize_t la_read(struct archive *ar, void *ud, const void **buf)
{
	struct apply *a = ud;
	if (a->read_eof)
		return 0;
	ssize_t n = a->read(a->ud, a->rbuf, RBUF_SIZE, &a->read_err);
	if (n < 0) {
		a->read_failed = (int)n;
		archive_set_error(ar, EIO, "layer source failed");
		return -1;
	}
	if (n == 0)
		a->read_eof = true;
	ctr_hasher_update(a->hash, a->rbuf, (size_t)n);
	a->tar_bytes += (uint64_t)n;
	*buf = a->rbuf;
	return n;
}

static int eerr(struct apply *a, ctr_error **err, int code, int e, const char *what)
{
	return ctr_err(err, code, e, "apply: %.300s: %s", a->entry ? a->entry : "", what);
}

static int eerrno(struct apply *a, ctr_error **err, int e, const char *what)
{
	return eerr(a, err, ctr_errno_code(e), e, what);
}

/* Lexical clean of a tar name against "/": drops empty and "." components,
 * ".." pops (never above the root). The result has no leading or trailing
 * "/" and is "" for the root itself. */
static char *clean_name(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash */
			continue;
		}
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = 0;
	return out;
}

static void split_name(char *clean, const char **parent, const char **base)
{
	char *slash = strrchr(clean, '/');
	if (slash) {
		*slash = 0;
		*parent = clean;
		*base = slash + 1;
	} else {
		*parent = "";
		*base = clean;
	}
}

static int touch(struct apply *a, const char *parent, const char *base, ctr_error **err)
{
	if (a->o.whiteouts != CTR_WHITEOUT_DELETE)
		return 0;
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s%s%s", parent, *parent ? "/" : "", base) < 0)
		return ctr_err_nomem(err);
	/* The name and every ancestor: an opaque marker keeps a lower-layer
	 * directory this layer wrote into, and recurses into it. */
	for (;;) {
		if (strset_has(&a->touched, full))
			break; /* its ancestors are in too */
		if (strset_add(&a->touched, full) < 0)
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
static int open_dir(struct apply *a, const char *path, bool create, int flags, ctr_error **err)
{
	ctr_error *e = NULL;
	int fd = ctr_openat_in_root(a->root, path, flags | O_DIRECTORY, 0, &e);
	if (fd >= 0 || !create || ctr_error_errno(e) != ENOENT) {
		if (fd < 0) {
			int en = ctr_error_errno(e);
			ctr_error_free(e);
			if (en == ENOENT && !create)
				return CTR_ENOTFOUND;
			return eerrno(a, err, en ? en : EINVAL, "open parent directory");
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
			return eerr(a, err, CTR_EINVAL, ENOTDIR, "open parent directory");
		int r = mkdirat(pfd, base, 0700);
		int en = errno;
		close(pfd);
		if (r == 0) {
			const char *dp, *db;
			_cleanup_free_ char *cp = strdup(p);
			if (!cp)
				return ctr_err_nomem(err);
			split_name(cp, &dp, &db);
			int tr = touch(a, dp, db, err);
			if (tr < 0)
				return tr;
		} else if (en != EEXIST) {
			return eerrno(a, err, en, "create parent directory");
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
			return eerr(a, err, CTR_EINVAL, en, "parent directory is a dangling symlink");
		return eerrno(a, err, en ? en : EINVAL, "open parent directory");
	}
	return fd;
}

static void cache_drop(struct apply *a)
{
	free(a->cache_path);
	a->cache_path = NULL;
	apply_dir_unref(a->cache_dir);
	a->cache_dir = NULL;
}

/* The parent directory of an entry, through the one-entry cache. Borrowed. */
static int get_parent(struct apply *a, const char *parent, struct apply_dir **out, ctr_error **err)
{
	if (a->cache_dir && !strcmp(a->cache_path, parent)) {
		*out = a->cache_dir;
		return 0;
	}
	cache_drop(a);
	int fd = open_dir(a, parent, true, O_PATH, err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return eerrno(a, err, e, "stat parent directory");
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

static int drain(struct apply *a, ctr_error **err)
{
	if (!a->pool_on || a->pending.n == 0)
		return 0;
	int r = apply_pool_drain(&a->pool, err);
	strset_clear(&a->pending);
	return r;
}

static char *pending_key(const struct apply_dir *d, const char *base)
{
	char *k = NULL;
	if (asprintf(&k, "%llx:%llx/%s", (unsigned long long)d->dev, (unsigned long long)d->ino, base) < 0)
		return NULL;
	return k;
}

static int wait_if_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err)
{
	if (!a->pool_on || a->pending.n == 0)
		return 0;
	_cleanup_free_ char *k = pending_key(d, base);
	if (!k)
		return ctr_err_nomem(err);
	if (strset_has(&a->pending, k))
		return drain(a, err);
	return 0;
}

/* Makes room for a new entry at d/base. Returns 1 when an existing
 * directory is kept (want_dir: a directory entry merges into it), 0 when
 * the name is free. */
static int prepare_slot(struct apply *a, struct apply_dir *d, const char *base, bool want_dir,
			ctr_error **err)
{
	int r = wait_if_pending(a, d, base, err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstatat(d->fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return eerrno(a, err, errno, "stat");
	}
	if (S_ISDIR(st.st_mode)) {
		if (want_dir)
			return 1;
		r = drain(a, err);
		if (r < 0)
			return r;
		r = ctr_rm_rf_at(d->fd, base, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "apply: %.300s: replace directory", a->entry);
		return 0;
	}
	if (unlinkat(d->fd, base, 0) < 0 && errno != ENOENT)
		return eerrno(a, err, errno, "replace");
	return 0;
}

static bool xattr_allowed(const struct apply *a, const char *name)
{
	if (!strncmp(name, "user.", 5) || !strcmp(name, "security.capability"))
		return true;
	if (!strncmp(name, "trusted.overlay.", 16))
		return false;
	return a->o.all_xattrs;
}

static int read_meta(struct apply *a, struct archive_entry *e, struct apply_meta *m, ctr_error **err)
{
	memset(m, 0, sizeof(*m));
	m->mode = archive_entry_perm(e) & 07777;
	m->uid = (uid_t)archive_entry_uid(e);
	m->gid = (gid_t)archive_entry_gid(e);
	m->chown = a->do_chown;
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
		return eerrno(a, err, errno, "chown");
	if (m->n_xattrs) {
		char p[64 + NAME_MAX_LEN];
		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dfd, base);
		for (size_t i = 0; i < m->n_xattrs; i++) {
			const struct apply_xattr *x = &m->xattrs[i];
			if (lsetxattr(p, x->name, x->value, x->len, 0) < 0) {
				/* user.* is not allowed on symlinks and devices */
				if (errno == ENOTSUP || (errno == EPERM && !strncmp(x->name, "user.", 5)))
					continue;
				return eerrno(a, err, errno, "set xattr");
			}
		}
	}
	if (!is_link && fchmodat(dfd, base, m->mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return eerrno(a, err, errno, "chmod");
	if (utimensat(dfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
		return eerrno(a, err, errno, "set times");
	return 0;
}

static int archive_fail(struct apply *a, ctr_error **err)
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
			return archive_fail(a, err);
		if (off < 0 || (uint64_t)off > size || len > size - (size_t)off)
			return eerr(a, err, CTR_EINVAL, 0, "data beyond the entry size");
		if (len)
			memcpy(buf + off, blk, len);
	}
}

static int write_inline(struct apply *a, struct apply_dir *d, const char *base, uint64_t size,
			const struct apply_meta *m, ctr_error **err)
{
	_cleanup_close_ int fd = openat(d->fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return eerrno(a, err, errno, "create");
	uint64_t end = 0;
	for (;;) {
		const void *blk;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a->ar, &blk, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_fail(a, err);
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return eerr(a, err, CTR_EINVAL, 0, "data beyond the entry size");
		r = ctr_pwrite_all(fd, blk, len, (off_t)off);
		if (r < 0)
			return eerrno(a, err, -r, "write");
		if ((uint64_t)off + len > end)
			end = (uint64_t)off + len;
	}
	if (end < size && ftruncate(fd, (off_t)size) < 0)
		return eerrno(a, err, errno, "truncate");
	return apply_meta_fd(fd, a->entry, m, true, true, err);
}

static int add_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err)
{
	_cleanup_free_ char *k = pending_key(d, base);
	if (!k || strset_add(&a->pending, k) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static int do_regular(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		      struct apply_meta *m, ctr_error **err)
{
	la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (sz < 0)
		return eerr(a, err, CTR_EINVAL, 0, "negative size");
	uint64_t size = (uint64_t)sz;
	/* A new file already belongs to us (and to our group, unless the
	 * directory is setgid): skip the chown, one syscall of about seven
	 * per file. */
	if (m->chown && m->uid == a->euid && m->gid == a->egid && !d->sgid)
		m->chown = false;
	int r = prepare_slot(a, d, base, false, err);
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
	r = add_pending(a, d, base, err);
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

static int do_dir(struct apply *a, struct apply_dir *d, const char *parent, const char *base,
		  const struct apply_meta *m, ctr_error **err)
{
	int r = prepare_slot(a, d, base, true, err);
	if (r < 0)
		return r;
	if (r == 0 && mkdirat(d->fd, base, 0700) < 0)
		return eerrno(a, err, errno, "mkdir");
	_cleanup_close_ int fd = openat(d->fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return eerrno(a, err, errno, "open directory");
	r = apply_meta_fd(fd, a->entry, m, false, false, err);
	if (r < 0)
		return r;
	return defer_dir(a, parent, base, m, err);
}

static int do_link(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *name,
		   const char *base, ctr_error **err)
{
	const char *target = archive_entry_hardlink(e);
	if (!target)
		target = archive_entry_hardlink_utf8(e);
	if (!target || strlen(target) > NAME_MAX_LEN)
		return eerr(a, err, CTR_EINVAL, 0, "bad hardlink target");
	_cleanup_free_ char *tc = clean_name(target);
	if (!tc)
		return ctr_err_nomem(err);
	if (!*tc)
		return eerr(a, err, CTR_EINVAL, 0, "hardlink to the layer root");
	if (!strcmp(tc, name))
		return eerr(a, err, CTR_EINVAL, 0, "hardlink to itself");
	/* Resolve the target's parent inside the layer; never follow the
	 * target itself (a link to a symlink links the symlink, as in
	 * containerd's hardlinkRootPath). */
	const char *tparent, *tbase;
	split_name(tc, &tparent, &tbase);
	int tfd = open_dir(a, tparent, false, O_PATH, err);
	if (tfd == CTR_ENOTFOUND)
		return eerr(a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
	if (tfd < 0)
		return tfd;
	_cleanup_close_ int tdir = tfd;
	struct stat st;
	if (fstat(tdir, &st) < 0)
		return eerrno(a, err, errno, "stat hardlink target directory");
	struct apply_dir tmp = {.fd = tdir, .dev = st.st_dev, .ino = st.st_ino};
	int r = wait_if_pending(a, &tmp, tbase, err);
	if (r < 0)
		return r;
	if (fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return eerr(a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
		return eerrno(a, err, errno, "stat hardlink target");
	}
	if (S_ISDIR(st.st_mode))
		return eerr(a, err, CTR_EINVAL, 0, "hardlink to a directory");
	r = prepare_slot(a, d, base, false, err);
	if (r < 0)
		return r;
	if (linkat(tdir, tbase, d->fd, base, 0) < 0)
		return eerrno(a, err, errno, errno == ENOENT ? "hardlink target vanished" : "link");
	return 0;
}

static int do_special(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		      const struct apply_meta *m, ctr_error **err)
{
	int r = prepare_slot(a, d, base, false, err);
	if (r < 0)
		return r;
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFLNK) {
		const char *t = archive_entry_symlink(e);
		if (!t)
			t = archive_entry_symlink_utf8(e);
		if (!t || !*t)
			return eerr(a, err, CTR_EINVAL, 0, "empty symlink target");
		if (symlinkat(t, d->fd, base) < 0)
			return eerrno(a, err, errno, "symlink");
		r = meta_at(a, d->fd, base, m, true, err);
		/* A new symlink may change how later names resolve (d may go
		 * with the cache). */
		cache_drop(a);
		return r;
	}
	mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
	dev_t dev = kind == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	if (mknodat(d->fd, base, kind | 0600, dev) < 0)
		return eerrno(a, err, errno, kind == S_IFIFO ? "mkfifo" : "mknod");
	return meta_at(a, d->fd, base, m, false, err);
}

/* Native mode: remove everything under dir that this layer did not write. */
static int opaque_clean(struct apply *a, int dfd, const char *dname, ctr_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return eerrno(a, err, errno, "open opaque directory");
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return ctr_err_nomem(err);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child = NULL;
		if (asprintf(&child, "%s%s%s", dname, *dname ? "/" : "", de->d_name) < 0) {
			r = ctr_err_nomem(err);
			break;
		}
		if (!strset_has(&a->touched, child)) {
			r = ctr_rm_rf_at(dirfd(dir), de->d_name, err);
		} else {
			int cfd = openat(dirfd(dir), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0) {
				r = opaque_clean(a, cfd, child, err);
				close(cfd);
			}
		}
		free(child);
	}
	closedir(dir);
	return r;
}

static int do_whiteout(struct apply *a, struct archive_entry *e, const char *parent, const char *base,
		       const struct apply_meta *m, ctr_error **err)
{
	bool opaque = !strcmp(base, WH_OPAQUE);
	if (!opaque && !strncmp(base, WH_META, strlen(WH_META)))
		return 0; /* other AUFS metadata (.wh..wh.plnk, ...): not part of the tree */
	const char *victim = base + strlen(WH_PREFIX);
	if (!opaque && (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..")))
		return eerr(a, err, CTR_EINVAL, 0, "invalid whiteout name");
	int r;
	if (a->o.whiteouts == CTR_WHITEOUT_OVERLAY) {
		if (opaque) {
			_cleanup_close_ int fd = open_dir(a, parent, true, O_RDONLY, err);
			if (fd < 0)
				return fd;
			if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return eerrno(a, err, errno, "set trusted.overlay.opaque");
			return 0;
		}
		struct apply_dir *d;
		r = get_parent(a, parent, &d, err);
		if (r < 0)
			return r;
		r = prepare_slot(a, d, victim, false, err);
		if (r < 0)
			return r;
		if (mknodat(d->fd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
			return eerrno(a, err, errno, "create whiteout device");
		if (m->chown && fchownat(d->fd, victim, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return eerrno(a, err, errno, "chown whiteout");
		return 0;
	}
	(void)e;
	/* Deletion mode: the directory may be missing (nothing to delete). */
	int fd = open_dir(a, parent, false, O_PATH, err);
	if (fd == CTR_ENOTFOUND)
		return 0;
	if (fd < 0)
		return fd;
	_cleanup_close_ int dfd = fd;
	r = drain(a, err);
	if (r < 0)
		return r;
	cache_drop(a);
	if (opaque)
		return opaque_clean(a, dfd, parent, err);
	r = ctr_rm_rf_at(dfd, victim, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "apply: %.300s: whiteout", a->entry);
	return 0;
}

static int do_entry(struct apply *a, struct archive_entry *e, ctr_error **err)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return ctr_err(err, CTR_EINVAL, 0, "apply: entry without a name");
	a->entry = raw;
	if (strlen(raw) > NAME_MAX_LEN)
		return eerr(a, err, CTR_EINVAL, ENAMETOOLONG, "name too long");
	mode_t type = archive_entry_filetype(e);
	bool is_link = archive_entry_hardlink(e) || archive_entry_hardlink_utf8(e);
	_cleanup_free_ char *name = clean_name(raw);
	if (!name)
		return ctr_err_nomem(err);
	/* AUFS metadata at the top (.wh..wh.plnk, .wh..wh.aufs): not part of
	 * the tree; containerd skips it the same way. */
	if (!strncmp(name, WH_META, strlen(WH_META)) && strcmp(name, WH_OPAQUE))
		return 0;
	if (!*name) {
		if (type == AE_IFDIR && !is_link)
			return 0; /* "./" or "/": containerd ignores the root entry */
		return eerr(a, err, CTR_EINVAL, 0, "entry resolves to the layer root");
	}
	_cleanup_free_ char *split = strdup(name);
	if (!split)
		return ctr_err_nomem(err);
	const char *parent, *base;
	split_name(split, &parent, &base);

	struct apply_meta m;
	int r = read_meta(a, e, &m, err);
	if (r < 0) {
		apply_meta_clear(&m);
		return r;
	}
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
		r = do_whiteout(a, e, parent, base, &m, err);
		apply_meta_clear(&m);
		return r;
	}
	if (type == AE_IFSOCK && !is_link) {
		apply_meta_clear(&m);
		return 0; /* sockets cannot be unpacked; containerd skips them too */
	}
	struct apply_dir *d;
	r = get_parent(a, parent, &d, err);
	if (r == 0)
		r = touch(a, parent, base, err);
	if (r == 0) {
		if (is_link)
			r = do_link(a, e, d, name, base, err);
		else if (type == AE_IFREG)
			r = do_regular(a, e, d, base, &m, err);
		else if (type == AE_IFDIR)
			r = do_dir(a, d, parent, base, &m, err);
		else if (type == AE_IFLNK || type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
			r = do_special(a, e, d, base, &m, err);
		else
			r = eerr(a, err, CTR_EINVAL, 0, "unsupported entry type");
	}
	apply_meta_clear(&m);
	return r;
}

static int finish_dirs(struct apply *a, ctr_error **err)
{
	/* In stream order, so a later entry for the same directory wins. */
	for (size_t i = 0; i < a->n_dirs; i++) {
		struct deferred_dir *dd = &a->dirs[i];
		a->entry = dd->name;
		ctr_error *e = NULL;
		int fd = ctr_openat_in_root(a->root, dd->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &e);
		if (fd < 0) {
			int en = ctr_error_errno(e);
			ctr_error_free(e);
			/* removed or replaced later in the stream */
			if (en == ENOENT || en == ENOTDIR || en == ELOOP)
				continue;
			return eerrno(a, err, en ? en : EIO, "open directory");
		}
		struct apply_meta m = {.mode = dd->mode, .times = {dd->times[0], dd->times[1]}};
		int r = apply_meta_fd(fd, dd->name, &m, true, true, err);
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

static void apply_free(struct apply *a)
{
	if (a->pool_on)
		apply_pool_stop(&a->pool);
	cache_drop(a);
	if (a->ar)
		archive_read_free(a->ar);
	ctr_error_free(a->read_err);
	free(a->rbuf);
	ctr_hasher_free(a->hash);
	strset_free(&a->pending);
	strset_free(&a->touched);
	for (size_t i = 0; i < a->n_dirs; i++)
		free(a->dirs[i].name);
	free(a->dirs);
}

static int run(struct apply *a, ctr_error **err)
{
	for (;;) {
		struct archive_entry *e;
		a->entry = NULL;
		int r = archive_read_next_header(a->ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_fail(a, err);
		a->entries++;
		r = do_entry(a, e, err);
		if (r < 0)
			return r;
		if (a->pool_on && __atomic_load_n(&a->pool.failed, __ATOMIC_ACQUIRE))
			return apply_pool_drain(&a->pool, err);
	}
	a->entry = NULL;
	if (a->pool_on) {
		int r = apply_pool_drain(&a->pool, err);
		if (r < 0)
			return r;
		strset_clear(&a->pending);
	}
	int r = finish_dirs(a, err);
	if (r < 0)
		return r;
	/* The diff_id covers the whole stream, padding after the end-of-archive
	 * blocks included. */
	while (!a->read_eof) {
		const void *b;
		if (la_read(a->ar, a, &b) < 0)
			return archive_fail(a, err);
	}
	return 0;
}

int ctr_archive_apply(int layer_dirfd, ctr_archive_read_fn read, void *ud,
		      const struct ctr_apply_opts *opts, struct ctr_apply_stats *stats,
		      ctr_error **err)
{
	if (layer_dirfd < 0 || !read)
		return ctr_err(err, CTR_EINVAL, 0, "apply: bad arguments");
	struct apply a = {.root = layer_dirfd, .read = read, .ud = ud};
	if (opts)
		a.o = *opts;
	if (!a.o.max_buffered_file)
		a.o.max_buffered_file = 1u << 20;
	if (!a.o.max_in_flight)
		a.o.max_in_flight = 32u << 20;
	unsigned workers = a.o.workers ? a.o.workers : 2;
	if (workers > 8)
		workers = 8;
	a.do_chown = !a.o.no_chown && geteuid() == 0;
	a.euid = geteuid();
	a.egid = getegid();

	int r;
	a.rbuf = malloc(RBUF_SIZE);
	a.ar = archive_read_new();
	if (!a.rbuf || !a.ar) {
		r = ctr_err_nomem(err);
		goto out;
	}
	r = ctr_hasher_new(&a.hash, CTR_DIGEST_SHA256, err);
	if (r < 0)
		goto out;
	archive_read_support_format_tar(a.ar);
	archive_read_support_format_empty(a.ar);
	if (archive_read_open(a.ar, &a, NULL, la_read, NULL) != ARCHIVE_OK) {
		r = archive_fail(&a, err);
		goto out;
	}
	if (workers > 1) {
		r = apply_pool_start(&a.pool, workers, a.o.max_in_flight, err);
		if (r < 0)
			goto out;
		a.pool_on = true;
	}
	r = run(&a, err);
	if (r == 0 && stats) {
		ctr_hasher_peek(a.hash, stats->diff_id);
		stats->tar_bytes = a.tar_bytes;
		stats->entries = a.entries;
		stats->file_bytes = a.file_bytes;
	}
out:
	apply_free(&a);
	return r;
}
