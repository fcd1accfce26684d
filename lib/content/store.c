/* The blob half of the raw content store: opening the layout, blob stat,
 * open, delete and walk, and the GC lock. Ingest lives in ingest.c. */
#include "store-priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"

static const ctr_digest_alg known_algs[] = {CTR_DIGEST_SHA256, CTR_DIGEST_SHA512};

/* mkdirat + open as a real (not O_PATH) directory fd, so it can be fsynced
 * and read. Never follows a symlink planted in place of the directory. */
static int open_subdir(int dirfd, const char *name, mode_t mode, ctr_error **err)
{
	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return ctr_err_errno(err, errno, "mkdir %s", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "open %s", name);
	return fd;
}

void ctr_cs_close(struct ctr_cs *cs)
{
	if (!cs)
		return;
	int *fds[] = {&cs->content_fd, &cs->blobs_fd, &cs->alg_fd[1], &cs->alg_fd[2], &cs->ingest_fd};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	free(cs);
}

/* Removes leftovers of interrupted ingest removals (ingest/.trash-*). */
static void ingest_sweep(struct ctr_cs *cs)
{
	int fd = openat(cs->ingest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)))
			ctr_rm_rf_at(dirfd(d), de->d_name, NULL);
	closedir(d);
}

int ctr_cs_open(struct ctr_cs **out, int root_fd, ctr_error **err)
{
	struct ctr_cs *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return ctr_err_nomem(err);
	cs->content_fd = cs->blobs_fd = cs->ingest_fd = -1;
	cs->alg_fd[0] = cs->alg_fd[1] = cs->alg_fd[2] = -1;
	int r;
	if ((r = cs->content_fd = open_subdir(root_fd, "content", 0755, err)) < 0 ||
	    (r = cs->blobs_fd = open_subdir(cs->content_fd, "blobs", 0755, err)) < 0 ||
	    (r = cs->ingest_fd = open_subdir(cs->content_fd, "ingest", 0700, err)) < 0)
		goto fail;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(known_algs); i++) {
		ctr_digest_alg a = known_algs[i];
		r = cs->alg_fd[a] = open_subdir(cs->blobs_fd, ctr_digest_alg_name(a), 0755, err);
		if (r < 0)
			goto fail;
	}
	ingest_sweep(cs);
	*out = cs;
	return 0;
fail:
	ctr_cs_close(cs);
	return ctr_err_prefix(err, r, "open content store");
}

int ctr_cs_blob_dir(struct ctr_cs *cs, const char *digest, const char **hex, ctr_digest_alg *alg,
		    ctr_error **err)
{
	ctr_digest_alg a;
	int r = ctr_digest_parse(digest, &a, hex, err);
	if (r < 0)
		return r;
	if (alg)
		*alg = a;
	return cs->alg_fd[a];
}

int ctr_cs_blob_stat(struct ctr_cs *cs, const char *digest, uint64_t *size, ctr_error **err)
{
	const char *hex;
	int dfd = ctr_cs_blob_dir(cs, digest, &hex, NULL, err);
	if (dfd < 0)
		return dfd;
	struct stat st;
	if (fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ctr_err_errno(err, errno, "blob %s", digest);
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, CTR_EIO, 0, "blob %s is not a regular file", digest);
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

int ctr_cs_blob_open(struct ctr_cs *cs, const char *digest, ctr_error **err)
{
	const char *hex;
	int dfd = ctr_cs_blob_dir(cs, digest, &hex, NULL, err);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int fd = openat(dfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "blob %s", digest);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ctr_err_errno(err, errno, "blob %s", digest);
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, CTR_EIO, 0, "blob %s is not a regular file", digest);
	return TAKE_FD(fd);
}

int ctr_cs_blob_delete(struct ctr_cs *cs, const char *digest, ctr_error **err)
{
	const char *hex;
	int dfd = ctr_cs_blob_dir(cs, digest, &hex, NULL, err);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, hex, 0) < 0)
		return ctr_err_errno(err, errno, "delete blob %s", digest);
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int ctr_cs_blob_walk(struct ctr_cs *cs, int (*fn)(const char *digest, uint64_t size, void *ud),
		     void *ud, ctr_error **err)
{
	for (size_t i = 0; i < CTR_ARRAY_SIZE(known_algs); i++) {
		ctr_digest_alg a = known_algs[i];
		const char *name = ctr_digest_alg_name(a);
		size_t hexlen = a == CTR_DIGEST_SHA512 ? 128 : 64;
		int fd = openat(cs->alg_fd[a], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return ctr_err_errno(err, errno, "open blobs/%s", name);
		DIR *d = fdopendir(fd);
		if (!d) {
			int e = errno;
			close(fd);
			return ctr_err_errno(err, e, "open blobs/%s", name);
		}
		struct dirent *de;
		int r = 0;
		for (;;) {
			errno = 0;
			if (!(de = readdir(d))) {
				if (errno)
					r = ctr_err_errno(err, errno, "read blobs/%s", name);
				break;
			}
			/* Anything that is not a well-formed name is not a blob. */
			if (!is_hex(de->d_name, hexlen))
				continue;
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue; /* deleted meanwhile, or not ours */
			char dg[CTR_DIGEST_MAX];
			snprintf(dg, sizeof(dg), "%s:%s", name, de->d_name);
			r = fn(dg, (uint64_t)st.st_size, ud);
			if (r != 0)
				break;
		}
		closedir(d);
		if (r != 0)
			return r;
	}
	return 0;
}

int ctr_cs_gc_lock(struct ctr_cs *cs, bool exclusive, ctr_error **err)
{
	int fd = ctr_lock_path(cs->content_fd, "gc.lock", exclusive, -1, err);
	if (fd < 0)
		return ctr_err_prefix(err, fd, "content gc lock");
	return fd;
}
