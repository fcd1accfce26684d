/* Mounts as containerd describes them ({type, source, options}) and the
 * code that performs them. */
#ifndef CTR_SNAPSHOT_MOUNT_H
#define CTR_SNAPSHOT_MOUNT_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>

struct ctr_mount {
	char *type;     /* "overlay", "bind", ... */
	char *source;
	char **options; /* NULL-terminated, e.g. "ro", "rbind", "lowerdir=a:b" */
};

void ctr_mount_clear(struct ctr_mount *m);
void ctr_mounts_free(struct ctr_mount *v, size_t n);
/* Builds a mount; options NULL-terminated. CTR_ENOMEM. */
int ctr_mount_init(struct ctr_mount *m, const char *type, const char *source,
		   const char *const *options, ctr_error **err);

/* Mounts m on target. overlay mounts go through fsopen/fsconfig with one
 * "lowerdir+" per layer, so a deep image has no page-size limit on its
 * option string (Linux 6.8+); older kernels get mount(2) with the joined
 * options. "bind"/"rbind" with "ro" are bind-mounted then remounted
 * read-only. "uidmap=" and "gidmap=" options (containerd's) idmap the
 * mount: an overlay's lower layers, or the bind mount itself; a kernel
 * that cannot is CTR_ENOTSUP. CTR_EPERM without privilege, CTR_EINVAL for
 * bad options. */
int ctr_mount_apply(const struct ctr_mount *m, const char *target, ctr_error **err);
/* Mounts each in order on target (containerd's mount.All). On failure the
 * ones already mounted are unmounted. */
int ctr_mounts_apply(const struct ctr_mount *ms, size_t n, const char *target, ctr_error **err);

/* Unmounts target, retrying while busy (bounded); not mounted is success.
 * With `all`, unmounts until nothing is mounted there. */
int ctr_unmount(const char *target, bool all, ctr_error **err);

/* An fd on the root of what the mounts would show, without attaching it
 * anywhere: a bind's source directory, or an overlay made with fsmount()
 * and never moved into the tree (so nothing needs unmounting; closing the
 * fd releases it). For reading an image's files (user lookup). CTR_ENOTSUP
 * for other shapes, CTR_EPERM without privilege. */
int ctr_mounts_open_root(const struct ctr_mount *ms, size_t n, int *fd, ctr_error **err);

/* The same, writable, for changing the files in place (the chown walk of
 * a remapped snapshot): a bind's source opened O_RDONLY, an overlay
 * mounted read-write; closing the fd releases it. */
int ctr_mounts_open_root_rw(const struct ctr_mount *ms, size_t n, int *fd, ctr_error **err);

/* True when target is a mount point (statx STATX_ATTR_MOUNT_ROOT, or a
 * different st_dev from its parent). */
bool ctr_is_mountpoint(const char *target);

#endif
