/* User-namespace ID mappings for snapshots (containerd's snapshot
 * uidmapping/gidmapping labels): parsing the labels, a user namespace
 * that carries a mapping (for idmapped mounts), and the chown walk that
 * shifts a tree's owners when a mount cannot be idmapped. */
#ifndef CTR_SNAPSHOT_IDMAP_H
#define CTR_SNAPSHOT_IDMAP_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many ranges per label (the kernel's uid_map takes 340). */
#define CTR_IDMAP_MAX 16

struct ctr_idmap_range {
	uint32_t ctr, host, size;
};

struct ctr_idmap {
	struct ctr_idmap_range uid[CTR_IDMAP_MAX], gid[CTR_IDMAP_MAX];
	size_t n_uid, n_gid;
};

/* "ctr:host:size[,ctr:host:size...]", decimal, size > 0, no range past
 * 2^32 on either side. CTR_EINVAL naming `what` and the bad part. */
int ctr_idmap_parse(struct ctr_idmap_range *v, size_t *n, const char *s, const char *what, ctr_error **err);
/* The label text of ranges (containerd's IDMap.Marshal). Caller frees. */
char *ctr_idmap_format(const struct ctr_idmap_range *v, size_t n);
/* The mapping a snapshot's labels (JSON object text) carry: *has false
 * when neither label is there; both are needed, else CTR_EINVAL. The raw
 * label values are returned in uid_label/gid_label (may be NULL; caller
 * frees). */
int ctr_idmap_from_labels(struct ctr_idmap *m, bool *has, char **uid_label, char **gid_label,
			  const char *labels_json, ctr_error **err);
/* The host ID of container ID id, or false when no range holds it. */
bool ctr_idmap_to_host(const struct ctr_idmap_range *v, size_t n, uint32_t id, uint32_t *out);

/* An fd on a new user namespace with m's mappings (for MOUNT_ATTR_IDMAP).
 * Needs CAP_SETUID/CAP_SETGID. Returns the fd or a CTR_E* code. */
int ctr_idmap_userns_fd(const struct ctr_idmap *m, ctr_error **err);
/* Whether a mount of dir can be idmapped here (kernel and filesystem):
 * 0, or CTR_ENOTSUP with the reason. */
int ctr_idmap_check(const char *dir, ctr_error **err);
/* lchown()s every entry of the tree at dirfd (itself included) from its
 * container IDs to m's host IDs, never following a symlink, and keeps the
 * setuid, setgid and sticky bits that a chown clears (containerd's
 * remapRootFS). CTR_EINVAL for an owner no range maps. */
int ctr_idmap_chown_tree(int dirfd, const struct ctr_idmap *m, ctr_error **err);

#endif
