/* libctr: mounts as containerd describes them (containerd's mount
 * package): lists of {type, source, options} that snapshots hand out, and
 * mounting and unmounting them. */
#ifndef CTR_MOUNT_H
#define CTR_MOUNT_H

#include <ctr/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mounts as containerd describes them: {type, source, options}. */
typedef struct ctr_mount_list ctr_mount_list;

CTR_EXPORT int ctr_mount_list_new(ctr_mount_list **out, ctr_error **err);
/* Copies its arguments; options is NULL-terminated (may be NULL). */
CTR_EXPORT int ctr_mount_list_add(ctr_mount_list *l, const char *type, const char *source,
				  const char *const *options, ctr_error **err);
CTR_EXPORT size_t ctr_mount_list_len(const ctr_mount_list *l);
/* Borrowed; NULL when i is out of range. */
CTR_EXPORT const char *ctr_mount_list_type(const ctr_mount_list *l, size_t i);
CTR_EXPORT const char *ctr_mount_list_source(const ctr_mount_list *l, size_t i);
CTR_EXPORT const char *const *ctr_mount_list_options(const ctr_mount_list *l, size_t i);
/* Mounts every entry on target, in order (containerd's mount.All). Needs
 * CAP_SYS_ADMIN. On failure nothing stays mounted. */
CTR_EXPORT int ctr_mount_list_mount(const ctr_mount_list *l, const char *target, ctr_error **err);
CTR_EXPORT void ctr_mount_list_free(ctr_mount_list *l);
/* ctr_mount_unmount flags. */
#define CTR_UNMOUNT_ALL 1u /* every mount stacked on target, not only the top one */
/* Unmounts target (containerd's mount.Unmount; with CTR_UNMOUNT_ALL,
 * mount.UnmountAll); a target that is not mounted is fine. CTR_EINVAL for
 * unknown flags. */
CTR_EXPORT int ctr_mount_unmount(const char *target, unsigned flags, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
