/* Layer diff writer: trees -> OCI layer tar -> gzip/zstd -> sink, with both
 * digests computed on the way. */
#include "diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "macro.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct dw {
	const struct ctr_diff_opts *opts;
	struct archive *a;
	ctr_diff_write_fn write;
	void *ud;
	ctr_error **err;
	int failed; /* first error code from the sink or compressor */
	ctr_hasher *h_tar, *h_out;
	uint64_t out_bytes, entries;
	z_stream z;
	bool z_init;
	ZSTD_CCtx *zc;
	unsigned char *cbuf;
	size_t cbuf_len;
	struct hardlink *links;
	size_t n_links, cap_links;
};

static int sink(struct dw *w, const void *buf, size_t len)
{
	if (!len)
		return 0;
	ctr_hasher_update(w->h_out, buf, len);
	w->out_bytes += len;
	int r = w->write(w->ud, buf, len, w->err);
	if (r < 0 && !w->failed)
		w->failed = r;
	return r;
}

/* Compresses len bytes (or finishes the stream when finish is set). */
static int compress_out(struct dw *w, const void *buf, size_t len, bool finish)
{
	switch (w->opts->compression) {
	case CTR_DIFF_NONE:
		return sink(w, buf, len);
	case CTR_DIFF_GZIP: {
		w->z.next_in = (Bytef *)buf;
		w->z.avail_in = (uInt)len;
		do {
			w->z.next_out = w->cbuf;
			w->z.avail_out = (uInt)w->cbuf_len;
			int zr = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
			if (zr == Z_STREAM_ERROR)
				return ctr_err(w->err, CTR_EIO, 0, "diff: gzip failed");
			int r = sink(w, w->cbuf, w->cbuf_len - w->z.avail_out);
			if (r < 0)
				return r;
			if (finish && zr == Z_STREAM_END)
				break;
		} while (w->z.avail_out == 0 || (finish));
		return 0;
	}
	case CTR_DIFF_ZSTD: {
		ZSTD_inBuffer in = {buf, len, 0};
		for (;;) {
			ZSTD_outBuffer out = {w->cbuf, w->cbuf_len, 0};
			size_t rem = ZSTD_compressStream2(w->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(rem))
				return ctr_err(w->err, CTR_EIO, 0, "diff: zstd: %s", ZSTD_getErrorName(rem));
			int r = sink(w, w->cbuf, out.pos);
			if (r < 0)
				return r;
			if (finish ? rem == 0 : in.pos == in.size)
				return 0;
		}
	}
	}
	return CTR_EINVAL;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
	/* A failing sink is remembered, not reported to libarchive: once a
	 * write callback fails, libarchive 3.6 leaks its block buffer on free.
	 * The walk stops at the next entry instead. */
	(void)a;
	struct dw *w = ud;
	if (w->failed)
		return (la_ssize_t)len;
	ctr_hasher_update(w->h_tar, buf, len);
	int r = compress_out(w, buf, len, false);
	if (r < 0 && !w->failed)
		w->failed = r;
	return (la_ssize_t)len;
}

static int tar_fail(struct dw *w, const char *what)
{
	if (w->failed)
		return w->failed;
	return ctr_err(w->err, CTR_EIO, archive_errno(w->a), "diff: %s: %s", what,
		       archive_error_string(w->a) ? archive_error_string(w->a) : "tar write failed");
}

struct ent {
	char *name;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory (without . and ..). */
static int list_dir(int dfd, char ***out, size_t *n_out, ctr_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "diff: open dir");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ctr_err_errno(err, errno, "diff: opendir");
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof(char *));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(char *), cmp_names);
	*out = v;
	*n_out = n;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return ctr_err_nomem(err);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool xattr_wanted(const char *name)
{
	return !strncmp(name, "user.", 5) || !strcmp(name, "security.capability");
}

/* Reads the xattrs we carry into a sorted "name\0value" list (for compare
 * and for the entry). */
static int read_xattrs(int dfd, const char *name, struct archive_entry *e, char **blob, size_t *blob_len)
{
	char path[64];
	_cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char list[8192];
	ssize_t n = listxattr(path, list, sizeof(list));
	if (n <= 0)
		return 0;
	char *names[128];
	size_t k = 0;
	for (ssize_t off = 0; off < n && k < 128; off += (ssize_t)strlen(list + off) + 1)
		if (xattr_wanted(list + off))
			names[k++] = list + off;
	qsort(names, k, sizeof(char *), cmp_names);
	FILE *mf = blob ? open_memstream(blob, blob_len) : NULL;
	for (size_t i = 0; i < k; i++) {
		char val[65536];
		ssize_t vl = getxattr(path, names[i], val, sizeof(val));
		if (vl < 0)
			continue;
		if (e)
			archive_entry_xattr_add_entry(e, names[i], val, (size_t)vl);
		if (mf) {
			fwrite(names[i], 1, strlen(names[i]) + 1, mf);
			fwrite(val, 1, (size_t)vl, mf);
			fputc(0, mf);
		}
	}
	if (mf)
		fclose(mf);
	return 0;
}

static bool same_content(int ldfd, int udfd, const char *name, off_t size)
{
	_cleanup_close_ int a = openat(ldfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int b = openat(udfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (a < 0 || b < 0)
		return false;
	char ba[65536], bb[65536];
	off_t off = 0;
	while (off < size) {
		ssize_t na = pread(a, ba, sizeof(ba), off), nb = pread(b, bb, sizeof(bb), off);
		if (na <= 0 || na != nb || memcmp(ba, bb, (size_t)na))
			return false;
		off += na;
	}
	return true;
}

/* containerd's sameFile: same metadata, and same bytes when mtimes were
 * truncated to seconds (where mtime cannot tell). */
static bool unchanged(int ldfd, int udfd, const char *name, const struct stat *l, const struct stat *u)
{
	if ((l->st_mode != u->st_mode) || l->st_uid != u->st_uid || l->st_gid != u->st_gid ||
	    l->st_rdev != u->st_rdev)
		return false;
	if (!S_ISDIR(u->st_mode) && l->st_size != u->st_size)
		return false;
	if (l->st_mtim.tv_sec != u->st_mtim.tv_sec || l->st_mtim.tv_nsec != u->st_mtim.tv_nsec)
		return false;
	char *xa = NULL, *xb = NULL;
	size_t la = 0, lb = 0;
	read_xattrs(ldfd, name, NULL, &xa, &la);
	read_xattrs(udfd, name, NULL, &xb, &lb);
	bool same = la == lb && (la == 0 || !memcmp(xa, xb, la));
	free(xa);
	free(xb);
	if (!same)
		return false;
	if (S_ISLNK(u->st_mode)) {
		char ta[4096], tb[4096];
		ssize_t na = readlinkat(ldfd, name, ta, sizeof(ta)), nb = readlinkat(udfd, name, tb, sizeof(tb));
		return na == nb && na >= 0 && !memcmp(ta, tb, (size_t)na);
	}
	if (S_ISREG(u->st_mode) && u->st_mtim.tv_nsec == 0)
		return same_content(ldfd, udfd, name, u->st_size);
	return true;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		return NULL;
	return p;
}

static int write_whiteout(struct dw *w, const char *dir, const char *name)
{
	_cleanup_free_ char *wn = NULL;
	if (asprintf(&wn, "%s%s%s%s", dir, *dir ? "/" : "", WH_PREFIX, name) < 0)
		return ctr_err_nomem(w->err);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, wn);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0);
	archive_entry_set_size(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	int r = archive_write_header(w->a, e) == ARCHIVE_OK ? 0 : tar_fail(w, wn);
	archive_entry_free(e);
	w->entries++;
	return r;
}

static int write_entry(struct dw *w, int dfd, const char *name, const char *rel, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return ctr_err_nomem(w->err);
	int r = 0;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_perm(e, st->st_mode & 07777);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	read_xattrs(dfd, name, e, NULL, NULL);
	_cleanup_close_ int fd = -1;
	bool data = false;
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		for (size_t i = 0; i < w->n_links; i++)
			if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino) {
				archive_entry_set_filetype(e, AE_IFREG);
				archive_entry_set_hardlink(e, w->links[i].path);
				archive_entry_set_size(e, 0);
				goto header;
			}
		if (w->n_links == w->cap_links) {
			size_t nc = w->cap_links ? w->cap_links * 2 : 16;
			struct hardlink *nl = realloc(w->links, nc * sizeof(*nl));
			if (!nl) {
				archive_entry_free(e);
				return ctr_err_nomem(w->err);
			}
			w->links = nl;
			w->cap_links = nc;
		}
		w->links[w->n_links++] = (struct hardlink){st->st_dev, st->st_ino, strdup(rel)};
	}
	if (S_ISREG(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st->st_size);
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			archive_entry_free(e);
			return ctr_err_errno(w->err, errno, "diff: open %s", rel);
		}
		data = true;
	} else if (S_ISDIR(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
	} else if (S_ISLNK(st->st_mode)) {
		char t[4096];
		ssize_t n = readlinkat(dfd, name, t, sizeof(t) - 1);
		if (n < 0) {
			archive_entry_free(e);
			return ctr_err_errno(w->err, errno, "diff: readlink %s", rel);
		}
		t[n] = 0;
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, t);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_filetype(e, S_ISCHR(st->st_mode) ? AE_IFCHR : AE_IFBLK);
		archive_entry_set_rdevmajor(e, major(st->st_rdev));
		archive_entry_set_rdevminor(e, minor(st->st_rdev));
	} else if (S_ISFIFO(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFIFO);
	} else {
		archive_entry_free(e);
		return 0; /* sockets are not carried in layers */
	}
header:
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		r = tar_fail(w, rel);
	archive_entry_free(e);
	w->entries++;
	if (r == 0 && data) {
		char buf[1 << 16];
		off_t left = st->st_size;
		while (left > 0) {
			ssize_t n = read(fd, buf, (size_t)(left < (off_t)sizeof(buf) ? left : (off_t)sizeof(buf)));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return ctr_err(w->err, CTR_EIO, n < 0 ? errno : 0, "diff: %s changed while being read", rel);
			if (archive_write_data(w->a, buf, (size_t)n) != n)
				return tar_fail(w, rel);
			left -= n;
		}
	}
	return r;
}

static bool is_whiteout_dev(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dfd, const char *name)
{
	char path[64], v[4];
	_cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = getxattr(path, "trusted.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int walk(struct dw *w, int ldfd, int udfd, const char *rel, int depth);

static int descend(struct dw *w, int ldfd, int udfd, const char *name, const char *rel, int depth)
{
	_cleanup_close_ int nu = openat(udfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nu < 0)
		return ctr_err_errno(w->err, errno, "diff: open %s", rel);
	_cleanup_close_ int nl = -1;
	if (ldfd >= 0) {
		struct stat ls;
		if (fstatat(ldfd, name, &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(ls.st_mode))
			nl = openat(ldfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return walk(w, nl, nu, rel, depth + 1);
}

static int walk(struct dw *w, int ldfd, int udfd, const char *rel, int depth)
{
	if (depth > 512)
		return ctr_err(w->err, CTR_EINVAL, 0, "diff: tree deeper than 512 at %s", rel);
	char **un = NULL, **ln = NULL;
	size_t nu = 0, nl = 0;
	int r = list_dir(udfd, &un, &nu, w->err);
	if (r < 0)
		return r;
	if (ldfd >= 0 && (r = list_dir(ldfd, &ln, &nl, w->err)) < 0) {
		free_names(un, nu);
		return r;
	}
	size_t i = 0, j = 0;
	while (r == 0 && !w->failed && (i < nu || j < nl)) {
		int c = i >= nu ? 1 : j >= nl ? -1 : strcmp(un[i], ln[j]);
		if (c > 0) { /* only in lower: deleted */
			r = write_whiteout(w, rel, ln[j]);
			j++;
			continue;
		}
		const char *name = un[i];
		bool in_lower = c == 0;
		i++;
		if (in_lower)
			j++;
		_cleanup_free_ char *path = join(rel, name);
		if (!path) {
			r = ctr_err_nomem(w->err);
			break;
		}
		struct stat st;
		if (fstatat(udfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = ctr_err_errno(w->err, errno, "diff: stat %s", path);
			break;
		}
		if (w->opts->source == CTR_DIFF_OVERLAY_UPPER) {
			if (is_whiteout_dev(&st)) {
				r = write_whiteout(w, rel, name);
				continue;
			}
			r = write_entry(w, udfd, name, path, &st);
			if (r == 0 && S_ISDIR(st.st_mode)) {
				if (is_opaque(udfd, name))
					r = write_whiteout(w, path, &WH_OPAQUE[sizeof(WH_PREFIX) - 1]);
				if (r == 0)
					r = descend(w, -1, udfd, name, path, depth);
			}
			continue;
		}
		struct stat ls;
		bool have_lower = in_lower && fstatat(ldfd, name, &ls, AT_SYMLINK_NOFOLLOW) == 0;
		if (!have_lower || !unchanged(ldfd, udfd, name, &ls, &st) ||
		    ((ls.st_mode & S_IFMT) != (st.st_mode & S_IFMT)))
			r = write_entry(w, udfd, name, path, &st);
		if (r == 0 && S_ISDIR(st.st_mode))
			r = descend(w, have_lower ? ldfd : -1, udfd, name, path, depth);
	}
	free_names(un, nu);
	free_names(ln, nl);
	return r < 0 ? r : w->failed;
}

int ctr_diff_write(int lower_fd, int upper_fd, const struct ctr_diff_opts *opts,
		   ctr_diff_write_fn write, void *ud, struct ctr_diff_result *out, ctr_error **err)
{
	struct dw w = {.opts = opts, .write = write, .ud = ud, .err = err};
	int r = ctr_hasher_new(&w.h_tar, CTR_DIGEST_SHA256, err);
	if (r == 0)
		r = ctr_hasher_new(&w.h_out, CTR_DIGEST_SHA256, err);
	if (r < 0)
		goto out;
	w.cbuf_len = 1 << 17;
	w.cbuf = malloc(w.cbuf_len);
	if (!w.cbuf) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if (opts->compression == CTR_DIFF_GZIP) {
		if (deflateInit2(&w.z, opts->level ? opts->level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			r = ctr_err(err, CTR_EIO, 0, "diff: gzip init failed");
			goto out;
		}
		w.z_init = true;
	} else if (opts->compression == CTR_DIFF_ZSTD) {
		w.zc = ZSTD_createCCtx();
		if (!w.zc) {
			r = ctr_err_nomem(err);
			goto out;
		}
		ZSTD_CCtx_setParameter(w.zc, ZSTD_c_compressionLevel, opts->level ? opts->level : 3);
	}
	w.a = archive_write_new();
	if (!w.a) {
		r = ctr_err_nomem(err);
		goto out;
	}
	archive_write_set_format_pax_restricted(w.a);
	archive_write_set_bytes_per_block(w.a, 512);
	if (archive_write_open(w.a, &w, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		r = tar_fail(&w, "open");
		goto out;
	}
	r = walk(&w, opts->source == CTR_DIFF_COMPARE ? lower_fd : -1, upper_fd, "", 0);
	if (r == 0 && archive_write_close(w.a) != ARCHIVE_OK)
		r = tar_fail(&w, "close");
	if (r == 0)
		r = compress_out(&w, NULL, 0, true);
	if (r == 0 && w.failed)
		r = w.failed;
	if (r == 0 && out) {
		ctr_hasher_peek(w.h_out, out->digest);
		ctr_hasher_peek(w.h_tar, out->diff_id);
		out->size = w.out_bytes;
		out->entries = w.entries;
	}
out:
	if (w.a)
		archive_write_free(w.a);
	if (w.z_init)
		deflateEnd(&w.z);
	ZSTD_freeCCtx(w.zc);
	free(w.cbuf);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].path);
	free(w.links);
	ctr_hasher_free(w.h_tar);
	ctr_hasher_free(w.h_out);
	return r;
}
