/* Mounting an EROFS layer image: file-backed (mount(2) with the image
 * file as its source, Linux 6.12+), else through a loop device that
 * clears itself when the mount goes (LO_FLAGS_AUTOCLEAR), so an unmount
 * is the whole cleanup either way. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "erofs-mount.h"
#include "fs.h"
#include "macro.h"

static int loop_attach(const char *image, char *dev, size_t devlen, ctr_error **err)
{
	_cleanup_close_ int img = open(image, O_RDONLY | O_CLOEXEC);
	if (img < 0)
		return ctr_err_errno(err, errno, "erofs: open %s", image);
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return ctr_err_errno(err, errno, "erofs: open /dev/loop-control");
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return ctr_err_errno(err, errno, "erofs: no free loop device");
		snprintf(dev, devlen, "/dev/loop%d", n);
		int lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0)
			return ctr_err_errno(err, errno, "erofs: open %s", dev);
		struct loop_config cfg = {.fd = (uint32_t)img};
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		int r = ioctl(lfd, LOOP_CONFIGURE, &cfg);
		int e = errno;
		if (r == 0) {
			/* The mount holds the device from here; autoclear
			 * detaches it when this fd and the mount are gone. */
			return lfd;
		}
		close(lfd);
		if (e != EBUSY)
			return ctr_err_errno(err, e, "erofs: attach %s to %s", image, dev);
	}
	return ctr_err(err, CTR_EBUSY, EBUSY, "erofs: every free loop device was taken meanwhile");
}

int ctr_erofs_mount(const char *image, const char *target, bool *file_backed, ctr_error **err)
{
	if (file_backed)
		*file_backed = true;
	if (mount(image, target, "erofs", MS_RDONLY | MS_NODEV, NULL) == 0)
		return 0;
	int e = errno;
	/* ENOTBLK: this kernel mounts EROFS from block devices only. */
	if (e != ENOTBLK && e != EINVAL)
		return ctr_err_errno(err, e, "erofs: mount %s on %s", image, target);
	if (file_backed)
		*file_backed = false;
	char dev[64];
	int lfd = loop_attach(image, dev, sizeof(dev), err);
	if (lfd < 0)
		return lfd;
	int r = mount(dev, target, "erofs", MS_RDONLY | MS_NODEV, NULL) == 0
			? 0
			: ctr_err_errno(err, errno, "erofs: mount %s (%s) on %s", dev, image, target);
	close(lfd);
	return r;
}
