/* Whether this kernel mounts the erofs snapshotter's layers: the check
 * for an introspection list ("lctr info") and for tests. It lives here, not
 * in snapshot/, because it needs the archive layer's writer for its
 * probe image. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erofs.h"
#include "erofs-mount.h"
#include "fs.h"
#include "macro.h"
#include "snapshots.h"

static ssize_t no_bytes(void *ud, void *buf, size_t len, ctr_error **err)
{
	(void)ud;
	(void)buf;
	(void)len;
	(void)err;
	return 0;
}

bool ctr_snapshots_erofs_supported(const char *dir, bool *file_backed)
{
	/* The probe goes in the deepest directory of dir that exists, so that
	 * asking leaves nothing behind (dir itself need not exist yet). */
	_cleanup_free_ char *at = strdup(dir), *base = NULL;
	if (!at)
		return false;
	while (access(at, F_OK) != 0) {
		char *slash = strrchr(at, '/');
		if (!slash) {
			strcpy(at, "."); /* at holds at least 2 bytes */
			break;
		}
		if (slash == at) {
			at[1] = 0; /* "/" */
			break;
		}
		*slash = 0;
	}
	if (asprintf(&base, "%s/.erofs-check-XXXXXX", at) < 0 || !mkdtemp(base))
		return false;
	char img[4200], mnt[4200];
	snprintf(img, sizeof(img), "%s/empty.erofs", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	bool ok = mkdir(mnt, 0700) == 0;
	int fd = ok ? open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	ok = fd >= 0 && ctr_archive_apply_erofs(fd, -1, no_bytes, NULL, NULL, NULL, NULL) == 0;
	if (fd >= 0)
		close(fd);
	ok = ok && ctr_erofs_mount(img, mnt, file_backed, NULL) == 0;
	if (ok)
		umount2(mnt, MNT_DETACH);
	ctr_rm_rf_at(AT_FDCWD, base, NULL);
	return ok;
}
