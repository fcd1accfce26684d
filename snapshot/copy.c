#include "copy.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

struct links {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the dst root */
};

struct cp {
	int dst_root;
	struct links *v;
	size_t n, cap;
	ctr_error **err;
};

static void copy_xattrs(int sfd, int dfd)
{
	char list[16384], path_s[64], path_d[64];
	snprintf(path_s, sizeof(path_s), "/proc/self/fd/%d", sfd);
	snprintf(path_d, sizeof(path_d), "/proc/self/fd/%d", dfd);
	ssize_t n = listxattr(path_s, list, sizeof(list));
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		char val[65536];
		ssize_t vl = getxattr(path_s, list + off, val, sizeof(val));
		if (vl >= 0)
			setxattr(path_d, list + off, val, (size_t)vl, 0);
	}
}

static int copy_data(int in, int out, off_t size, ctr_error **err)
{
	off_t left = size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
			char buf[1 << 16];
			n = read(in, buf, sizeof(buf));
			if (n > 0 && write(out, buf, (size_t)n) != n)
				n = -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ctr_err_errno(err, errno, "copy data");
		}
		if (n == 0)
			break;
		left -= n;
	}
	return 0;
}

static int copy_dir(struct cp *c, int sdir, int ddir, const char *rel, int depth);

static int copy_entry(struct cp *c, int sdir, int ddir, const char *name, const char *rel, int depth)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ctr_err_errno(c->err, errno, "copy: stat %s", rel);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].dev == st.st_dev && c->v[i].ino == st.st_ino) {
				if (linkat(c->dst_root, c->v[i].path, ddir, name, 0) < 0)
					return ctr_err_errno(c->err, errno, "copy: link %s", rel);
				return 0;
			}
	}
	_cleanup_close_ int dfd = -1;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(ddir, name, 0700) < 0)
			return ctr_err_errno(c->err, errno, "copy: mkdir %s", rel);
		_cleanup_close_ int s2 = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || dfd < 0)
			return ctr_err_errno(c->err, errno, "copy: open %s", rel);
		int r = copy_dir(c, s2, dfd, rel, depth + 1);
		if (r < 0)
			return r;
		copy_xattrs(s2, dfd);
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (in < 0 || dfd < 0)
			return ctr_err_errno(c->err, errno, "copy: open %s", rel);
		int r = copy_data(in, dfd, st.st_size, c->err);
		if (r < 0)
			return r;
		copy_xattrs(in, dfd);
	} else if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlinkat(sdir, name, t, sizeof(t) - 1);
		if (n < 0)
			return ctr_err_errno(c->err, errno, "copy: readlink %s", rel);
		t[n] = 0;
		if (symlinkat(t, ddir, name) < 0)
			return ctr_err_errno(c->err, errno, "copy: symlink %s", rel);
		fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	} else {
		if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0)
			return ctr_err_errno(c->err, errno, "copy: mknod %s", rel);
		dfd = openat(ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return ctr_err_errno(c->err, errno, "copy: open %s", rel);
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", dfd);
	if (chown(p, st.st_uid, st.st_gid) < 0 && errno != EPERM)
		return ctr_err_errno(c->err, errno, "copy: chown %s", rel);
	if (!S_ISLNK(st.st_mode) && chmod(p, st.st_mode & 07777) < 0)
		return ctr_err_errno(c->err, errno, "copy: chmod %s", rel);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	utimensat(AT_FDCWD, p, ts, 0);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 16;
			struct links *nv = realloc(c->v, nc * sizeof(*nv));
			if (!nv)
				return ctr_err_nomem(c->err);
			c->v = nv;
			c->cap = nc;
		}
		c->v[c->n++] = (struct links){st.st_dev, st.st_ino, strdup(rel)};
	}
	return 0;
}

static int copy_dir(struct cp *c, int sdir, int ddir, const char *rel, int depth)
{
	if (depth > 1024)
		return ctr_err(c->err, CTR_EINVAL, 0, "copy: tree too deep at %s", rel);
	int fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ctr_err_errno(c->err, errno, "copy: opendir %s", rel);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *crel = NULL;
		if (asprintf(&crel, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0) {
			r = ctr_err_nomem(c->err);
			break;
		}
		r = copy_entry(c, sdir, ddir, de->d_name, crel, depth);
		free(crel);
	}
	closedir(d);
	return r;
}

int ctr_copy_tree(int src_fd, int dst_fd, ctr_error **err)
{
	struct cp c = {.dst_root = dst_fd, .err = err};
	int r = copy_dir(&c, src_fd, dst_fd, "", 0);
	if (r == 0) {
		struct stat st;
		if (fstat(src_fd, &st) == 0) {
			if (fchown(dst_fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
				r = ctr_err_errno(err, errno, "copy: chown root");
			else if (fchmod(dst_fd, st.st_mode & 07777) < 0)
				r = ctr_err_errno(err, errno, "copy: chmod root");
			copy_xattrs(src_fd, dst_fd);
			struct timespec ts[2] = {st.st_atim, st.st_mtim};
			futimens(dst_fd, ts);
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].path);
	free(c.v);
	return r;
}

/* Opens (creating in dst, with the source's metadata) the directories on
 * the way to path; *base points into p at the last component. */
static int up_dirs(int src_root, int dst_root, char *p, const char *path, int *sdir_out, int *ddir_out,
		   const char **base, ctr_error **err)
{
	_cleanup_close_ int sdir = openat(src_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int ddir = openat(dst_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdir < 0 || ddir < 0)
		return ctr_err_errno(err, errno, "copy up %s: open root", path);
	char *save = NULL, *comp = strtok_r(p, "/", &save);
	if (!comp)
		return ctr_err(err, CTR_EINVAL, 0, "copy up: empty path");
	for (char *next; (next = strtok_r(NULL, "/", &save)); comp = next) {
		/* A directory on the way: never through a symlink. */
		int s2 = openat(sdir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0)
			return ctr_err_errno(err, errno == ELOOP || errno == ENOTDIR ? ENOENT : errno, "copy up %s", path);
		close(sdir);
		sdir = s2;
		struct stat st;
		if (fstat(sdir, &st) < 0)
			return ctr_err_errno(err, errno, "copy up %s", path);
		bool made = false;
		if (mkdirat(ddir, comp, 0700) == 0)
			made = true;
		else if (errno != EEXIST)
			return ctr_err_errno(err, errno, "copy up %s: mkdir", path);
		int d2 = openat(ddir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d2 < 0)
			return ctr_err_errno(err, errno, "copy up %s: open", path);
		close(ddir);
		ddir = d2;
		if (made) {
			/* The upper directory hides the lower one's metadata: keep it. */
			if (fchown(ddir, st.st_uid, st.st_gid) < 0 && errno != EPERM)
				return ctr_err_errno(err, errno, "copy up %s: chown", path);
			if (fchmod(ddir, st.st_mode & 07777) < 0)
				return ctr_err_errno(err, errno, "copy up %s: chmod", path);
			copy_xattrs(sdir, ddir);
			struct timespec ts[2] = {st.st_atim, st.st_mtim};
			futimens(ddir, ts);
		}
	}
	*base = comp;
	*sdir_out = sdir;
	*ddir_out = ddir;
	sdir = ddir = -1;
	return 0;
}

struct sib {
	dev_t dev;
	ino_t ino;
	char **paths;
	size_t n;
};

/* Every path under dirfd with sib's inode (bounded depth). */
static int find_links(int dfd_in, const char *rel, struct sib *sb, int depth, ctr_error **err)
{
	if (depth > 256)
		return 0;
	int fd = openat(dfd_in, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ctr_err_errno(err, errno, "copy up: opendir %s", rel);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *crel = NULL;
		if (asprintf(&crel, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0) {
			r = ctr_err_nomem(err);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int c2 = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c2 >= 0) {
				r = find_links(c2, crel, sb, depth + 1, err);
				close(c2);
			}
			free(crel);
		} else if (st.st_dev == sb->dev && st.st_ino == sb->ino) {
			char **nv = realloc(sb->paths, (sb->n + 1) * sizeof(char *));
			if (!nv) {
				free(crel);
				r = ctr_err_nomem(err);
				break;
			}
			sb->paths = nv;
			sb->paths[sb->n++] = crel;
		} else {
			free(crel);
		}
	}
	closedir(d);
	return r;
}

int ctr_copy_up(int src_root, int dst_root, const char *path, ctr_error **err)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return ctr_err_nomem(err);
	int sdir = -1, ddir = -1;
	const char *base;
	int r = up_dirs(src_root, dst_root, p, path, &sdir, &ddir, &base, err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstatat(ddir, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = 0; /* already there */
	} else if (fstatat(sdir, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = ctr_err_errno(err, errno, "copy up %s", path);
	} else if (S_ISDIR(st.st_mode)) {
		r = ctr_err(err, CTR_EINVAL, 0, "copy up %s: a directory", path);
	} else {
		struct cp c = {.dst_root = dst_root, .err = err};
		r = copy_entry(&c, sdir, ddir, base, path, 0);
		for (size_t i = 0; i < c.n; i++)
			free(c.v[i].path);
		free(c.v);
		/* Its other names below come up too, linked to the copy, so the
		 * layer's link joins the whole group (a copy-up alone would split
		 * it, as overlayfs without index does). */
		struct sib sb = {.dev = st.st_dev, .ino = st.st_ino};
		if (r == 0 && st.st_nlink > 1)
			r = find_links(src_root, "", &sb, 0, err);
		for (size_t i = 0; i < sb.n; i++) {
			if (r == 0 && strcmp(sb.paths[i], path) != 0) {
				int s2 = -1, d2 = -1;
				const char *b2;
				r = up_dirs(src_root, dst_root, sb.paths[i], sb.paths[i], &s2, &d2, &b2, err);
				if (r == 0 && linkat(dst_root, path, d2, b2, 0) < 0 && errno != EEXIST)
					r = ctr_err_errno(err, errno, "copy up %s: link", path);
				if (s2 >= 0)
					close(s2);
				if (d2 >= 0)
					close(d2);
			}
			free(sb.paths[i]);
		}
		free(sb.paths);
	}
	close(sdir);
	close(ddir);
	return r;
}
