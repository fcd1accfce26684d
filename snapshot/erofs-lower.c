/* The erofs snapshotter's layer mounts: see erofs-lower.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "erofs-lower.h"
#include "erofs-mount.h"
#include "fs.h"
#include "macro.h"
#include "mount.h"
#include "storage.h"

int ctr_erofs_lower_path(const char *dir, int64_t id, char **path, ctr_error **err)
{
	_cleanup_free_ char *sdir = NULL, *image = NULL, *lower = NULL;
	if (asprintf(&sdir, "%s/snapshots/%lld", dir, (long long)id) < 0 ||
	    asprintf(&image, "%s/" CTR_EROFS_LAYER_IMAGE, sdir) < 0 || asprintf(&lower, "%s/lower", sdir) < 0)
		return ctr_err_nomem(err);
	struct stat st;
	if (stat(image, &st) < 0) {
		if (errno != ENOENT)
			return ctr_err_errno(err, errno, "erofs: stat %s", image);
		*path = NULL;
		return 0;
	}
	_cleanup_close_ int sfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return ctr_err_errno(err, errno, "erofs: open %s", sdir);
	_cleanup_close_ int lock = ctr_lock_path(sfd, "mount.lock", true, -1, err);
	if (lock < 0)
		return lock;
	if (!ctr_is_mountpoint(lower)) {
		if (mkdirat(sfd, "lower", 0755) < 0 && errno != EEXIST)
			return ctr_err_errno(err, errno, "erofs: mkdir %s", lower);
		int r = ctr_erofs_mount(image, lower, NULL, err);
		if (r < 0)
			return r;
	}
	*path = lower;
	lower = NULL;
	return 0;
}

int ctr_erofs_lower_release(const char *dir, const char *name, ctr_error **err)
{
	_cleanup_free_ char *lower = NULL;
	if (asprintf(&lower, "%s/snapshots/%s/lower", dir, name) < 0)
		return ctr_err_nomem(err);
	while (ctr_is_mountpoint(lower))
		if (umount2(lower, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			return ctr_err_errno(err, errno, "erofs: unmount %s", lower);
	return 0;
}

void ctr_erofs_image_usage(int snapshots_fd, int64_t id, struct ctr_snap_usage *u)
{
	char p[64];
	snprintf(p, sizeof(p), "%lld/" CTR_EROFS_LAYER_IMAGE, (long long)id);
	struct stat st;
	if (fstatat(snapshots_fd, p, &st, 0) == 0)
		u->size += (int64_t)st.st_blocks * 512;
}
