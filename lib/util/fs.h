/* File system helpers: paths resolved inside a root, atomic writes, locks. */
#ifndef CTR_UTIL_FS_H
#define CTR_UTIL_FS_H

#include <ctr/common.h>
#include <stdbool.h>
#include <sys/types.h>

/* Opens `path` (untrusted, relative or absolute) as if rootfd were "/":
 * "..", absolute symlinks and absolute paths never leave the root. Uses
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), or a component walk that
 * clamps the same way where openat2 is missing. flags always gain O_CLOEXEC.
 * Returns the fd or a negative CTR_E* code (fills err). */
int ctr_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, ctr_error **err);

/* Like ctr_openat_in_root, but opens the parent directory of `path` and
 * returns its last component in *base (pointing into a buffer the caller
 * frees with free). The last component is never ".", ".." or empty. */
int ctr_open_parent_in_root(int rootfd, const char *path, char **base, ctr_error **err);

/* mkdir -p with mode for every created component; an existing dir is fine. */
int ctr_mkdir_p(const char *path, mode_t mode, ctr_error **err);

/* Writes data to dirfd/name atomically: temp file in the same dir, fsync,
 * rename, fsync of the dir. dirfd may be AT_FDCWD. */
int ctr_write_atomic(int dirfd, const char *name, const void *data, size_t len,
		     mode_t mode, ctr_error **err);
/* The same without the fsyncs (still a rename: a reader never sees a half
 * file while the machine runs), for the state directory's files: a reboot
 * clears that directory by design, so no file there has to outlive a
 * crash of the machine, and a crash of a process leaves the page cache
 * whole. runc and containerd write their state so too. */
int ctr_write_atomic_nosync(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    ctr_error **err);
/* Removes the temp files of ctr_write_atomic calls in dirfd whose process
 * is gone (killed between create and rename), so that the directory can
 * be removed. A live writer's file stays. */
void ctr_write_atomic_leftovers(int dirfd);

/* Reads fd to its end, at most max bytes (name is for messages). *out is
 * NUL-terminated. CTR_EINVAL (errno EFBIG) when larger than max. */
int ctr_read_fd(int fd, const char *name, size_t max, char **out, size_t *len, ctr_error **err);
/* Reads a whole file of at most max bytes. *out is NUL-terminated. CTR_EINVAL
 * when larger than max, CTR_ENOTFOUND when missing. */
int ctr_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len,
		  ctr_error **err);

/* Recursive remove of dirfd/name (a dir or file); missing is fine. Never
 * follows symlinks. */
int ctr_rm_rf_at(int dirfd, const char *name, ctr_error **err);

/* The nearest ancestor of path (path itself included) that exists, or "."
 * for a relative path with none. Caller frees. */
int ctr_existing_ancestor(char **out, const char *path, ctr_error **err);

/* flock helpers. ctr_lock_path opens (creating) the lock file and takes the
 * lock. timeout_ms < 0 waits forever, 0 fails at once with CTR_EBUSY, > 0
 * waits at most that long and then fails with CTR_EBUSY. Returns the fd. */
int ctr_lock_fd(int fd, bool exclusive, int timeout_ms, ctr_error **err);
int ctr_lock_path(int dirfd, const char *path, bool exclusive, int timeout_ms, ctr_error **err);

/* Whole write/read loops that retry on EINTR and short counts. */
int ctr_write_all(int fd, const void *buf, size_t len);
int ctr_pwrite_all(int fd, const void *buf, size_t len, off_t off);

#endif
