#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int have_openat2 = -1; /* -1 unknown, 0 no, 1 yes */

static int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

#define MAX_SYMLINKS 40

/* Fallback walk: resolves each component by hand, treating rootfd as "/".
 * Symlinks are read and spliced into the remaining path, absolute ones
 * restart at the root, ".." at the root stays at the root. */
static int walk_in_root(int rootfd, const char *path, int flags, mode_t mode, ctr_error **err)
{
	_cleanup_free_ char *rest = strdup(path);
	if (!rest)
		return ctr_err_nomem(err);
	/* Stack of directory fds so ".." can pop without trusting the fs. */
	int stack[256];
	int depth = 0;
	int links = 0;
	int r;
	stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (stack[0] < 0)
		return ctr_err_errno(err, errno, "dup root");
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			/* The path names a directory we hold. */
			int fd = stack[depth];
			for (int i = 0; i < depth; i++)
				close(stack[i]);
			if ((flags & O_ACCMODE) != O_RDONLY && !(flags & O_PATH)) {
				close(fd);
				return ctr_err(err, CTR_EINVAL, EISDIR, "open %s for writing", path);
			}
			if (flags & O_PATH)
				return fd;
			int nfd = openat(fd, ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
			int e = errno;
			close(fd);
			if (nfd < 0)
				return ctr_err_errno(err, e, "open %s", path);
			return nfd;
		}
		char *slash = strchr(p, '/');
		bool last = true;
		if (slash) {
			*slash = 0;
			char *q = slash + 1;
			while (*q == '/')
				q++;
			last = (*q == 0);
		}
		char *comp = p;
		p = slash ? slash + 1 : p + strlen(p);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		struct stat st;
		int cur = stack[depth];
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
		    (!last || !(flags & O_NOFOLLOW))) {
			if (++links > MAX_SYMLINKS) {
				r = ctr_err(err, CTR_EINVAL, ELOOP, "resolve %s", path);
				goto fail;
			}
			char target[4096];
			ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
			if (n < 0) {
				r = ctr_err_errno(err, errno, "readlink in %s", path);
				goto fail;
			}
			target[n] = 0;
			char *nrest;
			if (asprintf(&nrest, "%s/%s", target, p) < 0) {
				r = ctr_err_nomem(err);
				goto fail;
			}
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			free(rest);
			rest = nrest;
			p = rest;
			continue;
		}
		if (last) {
			int fd = openat(cur, comp, flags | O_CLOEXEC | O_NOFOLLOW, mode);
			if (fd < 0) {
				r = ctr_err_errno(err, errno, "open %s", path);
				goto fail;
			}
			for (int i = 0; i <= depth; i++)
				close(stack[i]);
			return fd;
		}
		if (depth + 1 >= (int)CTR_ARRAY_SIZE(stack)) {
			r = ctr_err(err, CTR_EINVAL, ENAMETOOLONG, "resolve %s: too deep", path);
			goto fail;
		}
		int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			r = ctr_err_errno(err, errno, "open %s", path);
			goto fail;
		}
		stack[++depth] = nfd;
	}
fail:
	for (int i = 0; i <= depth; i++)
		close(stack[i]);
	return r;
}

int ctr_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, ctr_error **err)
{
	if (!path)
		return ctr_err(err, CTR_EINVAL, 0, "resolve: NULL path");
	if (have_openat2 != 0) {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		const char *p = *path ? path : ".";
		int fd;
		do
			fd = sys_openat2(rootfd, p, &how);
		while (fd < 0 && errno == EAGAIN);
		if (fd >= 0) {
			have_openat2 = 1;
			return fd;
		}
		if (errno != ENOSYS || have_openat2 == 1)
			return ctr_err_errno(err, errno, "open %s", path);
		have_openat2 = 0;
	}
	return walk_in_root(rootfd, path, flags, mode, err);
}

int ctr_open_parent_in_root(int rootfd, const char *path, char **base, ctr_error **err)
{
	_cleanup_free_ char *copy = strdup(path ? path : "");
	if (!copy)
		return ctr_err_nomem(err);
	size_t n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = 0;
	char *slash = strrchr(copy, '/');
	char *last = slash ? slash + 1 : copy;
	if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
		return ctr_err(err, CTR_EINVAL, 0, "path \"%.200s\" has no file name", path ? path : "");
	char *b = strdup(last);
	if (!b)
		return ctr_err_nomem(err);
	if (slash)
		*slash = 0;
	else
		copy[0] = 0;
	int fd = ctr_openat_in_root(rootfd, copy, O_PATH | O_DIRECTORY, 0, err);
	if (fd < 0) {
		free(b);
		return fd;
	}
	*base = b;
	return fd;
}

int ctr_mkdir_p(const char *path, mode_t mode, ctr_error **err)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return ctr_err_nomem(err);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return ctr_err_errno(err, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return ctr_err_errno(err, errno, "mkdir %s", p);
	struct stat st;
	if (stat(p, &st) < 0)
		return ctr_err_errno(err, errno, "stat %s", p);
	if (!S_ISDIR(st.st_mode))
		return ctr_err(err, CTR_EINVAL, ENOTDIR, "%s", p);
	return 0;
}

int ctr_write_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;
	while (len) {
		ssize_t n = write(fd, b, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctr_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *b = buf;
	while (len) {
		ssize_t n = pwrite(fd, b, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync,
			ctr_error **err)
{
	char tmp[64];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(tmp, sizeof(tmp), ".tmp-%d-%ld", (int)getpid(), (long)ts.tv_nsec);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return ctr_err_errno(err, errno, "create %s", name);
	int r = ctr_write_all(fd, data, len);
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return ctr_err_errno(err, -r, "write %s", name);
	}
	if (!sync)
		return 0;
	_cleanup_close_ int dfd = dirfd == AT_FDCWD ? open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
						      : openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int ctr_write_atomic(int dirfd, const char *name, const void *data, size_t len,
		     mode_t mode, ctr_error **err)
{
	return write_atomic(dirfd, name, data, len, mode, true, err);
}

int ctr_write_atomic_nosync(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    ctr_error **err)
{
	return write_atomic(dirfd, name, data, len, mode, false, err);
}

void ctr_write_atomic_leftovers(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		int pid = 0, used = 0;
		if (sscanf(e->d_name, ".tmp-%d-%*d%n", &pid, &used) != 1 || e->d_name[used] || pid <= 0)
			continue;
		if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
}

int ctr_read_fd(int fd, const char *name, size_t max, char **out, size_t *len, ctr_error **err)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return ctr_err(err, CTR_EINVAL, EFBIG, "%s is larger than %zu bytes", name, max);
		cap = (size_t)st.st_size + 1;
	}
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return ctr_err_nomem(err);
	for (;;) {
		if (n == cap) {
			/* grew since fstat (or no size known): re-check against max */
			if (cap > max)
				return ctr_err(err, CTR_EINVAL, EFBIG, "%s is larger than %zu bytes", name, max);
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				return ctr_err_nomem(err);
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return ctr_err_errno(err, errno, "read %s", name);
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > max)
		return ctr_err(err, CTR_EINVAL, EFBIG, "%s is larger than %zu bytes", name, max);
	buf[n] = 0;
	*out = TAKE_PTR(buf);
	if (len)
		*len = n;
	return 0;
}

int ctr_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len,
		  ctr_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ctr_err_errno(err, errno, "open %s", name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ctr_err_errno(err, errno, "stat %s", name);
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, CTR_EINVAL, 0, "%s is not a regular file", name);
	return ctr_read_fd(fd, name, max, out, len, err);
}

static int rm_rf_children(int dfd, ctr_error **err)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return ctr_err_errno(err, e, "opendir");
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int rr = ctr_rm_rf_at(dirfd(d), de->d_name, err);
		if (rr < 0)
			r = rr;
	}
	closedir(d);
	return r;
}

int ctr_rm_rf_at(int dirfd, const char *name, ctr_error **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ctr_err_errno(err, errno, "stat %s", name);
	}
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return ctr_err_errno(err, errno, "open %s", name);
		int r = rm_rf_children(fd, err);
		if (r < 0)
			return r;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return ctr_err_errno(err, errno, "rmdir %s", name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return ctr_err_errno(err, errno, "unlink %s", name);
	return 0;
}

int ctr_lock_fd(int fd, bool exclusive, int timeout_ms, ctr_error **err)
{
	int op = exclusive ? LOCK_EX : LOCK_SH;
	if (timeout_ms < 0) {
		while (flock(fd, op) < 0) {
			if (errno != EINTR)
				return ctr_err_errno(err, errno, "flock");
		}
		return 0;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long delay_us = 1000;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ctr_err_errno(err, errno, "flock");
		clock_gettime(CLOCK_MONOTONIC, &now);
		long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (el >= timeout_ms)
			return ctr_err(err, CTR_EBUSY, EWOULDBLOCK, "locked by another process");
		usleep((useconds_t)delay_us);
		if (delay_us < 50000)
			delay_us *= 2;
	}
}

int ctr_lock_path(int dirfd, const char *path, bool exclusive, int timeout_ms, ctr_error **err)
{
	int fd = openat(dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ctr_err_errno(err, errno, "open lock %s", path);
	int r = ctr_lock_fd(fd, exclusive, timeout_ms, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int ctr_existing_ancestor(char **out, const char *path, ctr_error **err)
{
	char *p = strdup(path && *path ? path : ".");
	if (!p)
		return ctr_err_nomem(err);
	struct stat sb;
	while (stat(p, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			int r = ctr_err_errno(err, errno, "stat %s", p);
			free(p);
			return r;
		}
		char *slash = strrchr(p, '/');
		if (!slash) {
			strcpy(p, ".");
			break;
		}
		if (slash == p)
			slash[1] = 0;
		else
			*slash = 0;
	}
	*out = p;
	return 0;
}
