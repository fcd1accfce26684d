/* Shared by the EROFS writer's two halves: erofs-image.c (the in-memory
 * tree, the data spool and the on-disk format) and erofs-tar.c (tar
 * entries into the tree, with apply's name rules). */
#ifndef CTR_ARCHIVE_EROFS_INTERNAL_H
#define CTR_ARCHIVE_EROFS_INTERNAL_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "apply-internal.h"

struct ew_dirent;

/* One inode. A hardlink is a second dirent on the same node; nlink is
 * counted from the reachable names when the image is written. */
struct ew_node {
	mode_t mode; /* type and permission bits */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_ns;
	uint32_t rdev;   /* devices: new_encode_dev() form */
	uint64_t size;   /* regular files: data bytes */
	uint32_t blkaddr; /* first data block */
	char *link;      /* symlink target */
	unsigned char *xattrs; /* encoded erofs_xattr_entry records */
	size_t xattrs_len;
	bool opaque;     /* trusted.overlay.opaque=y */
	/* directories */
	struct ew_node *parent;
	struct ew_dirent **kids;
	size_t n_kids, cap_kids;
	/* written at the end */
	bool seen;
	uint32_t nlink;
	uint64_t nid;
};

/* A name in a directory; node NULL once removed (the slot is reused when
 * the name comes back). */
struct ew_dirent {
	struct ew_node *dir;
	char *name;
	struct ew_node *node;
};

struct ew {
	int fd;
	uint64_t blk; /* next free block */
	unsigned char *wbuf;
	size_t wlen;
	uint64_t wblk; /* block of wbuf[0] */
	/* the open regular file */
	struct ew_node *cur;
	uint64_t cur_len;

	struct ew_node *root;
	struct ew_node **nodes; /* every node made, for freeing */
	size_t n_nodes, cap_nodes;
	struct ew_dirent **slots; /* (dir, name) hash, open addressing */
	size_t cap_slots, n_slots;
	uint32_t euid, egid;
	int64_t now;
};

int ew_init(struct ew *w, int fd, ctr_error **err);
void ew_free(struct ew *w);

/* A new node of mode; not linked anywhere yet. NULL on OOM. */
struct ew_node *ew_node_new(struct ew *w, mode_t mode);
/* The dirent of name in dir, or NULL. */
struct ew_dirent *ew_lookup(struct ew *w, struct ew_node *dir, const char *name);
/* Links node as dir/name (a removed slot is reused). -ENOMEM or 0. */
int ew_link(struct ew *w, struct ew_node *dir, const char *name, struct ew_node *node);

/* Resolves the clean relative path of a directory from the root inside
 * the tree, following symlinks of the tree only inside it, as
 * openat2(RESOLVE_IN_ROOT) would on the layer. With create, missing
 * components become directories (0700, the caller's ids) except through
 * a symlink. Returns 0, or -errno: ENOENT (missing; through a symlink with
 * create too), ENOTDIR, ELOOP, ENOMEM. */
int ew_resolve_dir(struct ew *w, const char *path, bool create, struct ew_node **out);

/* Encodes one xattr onto n (replacing the same name). Names outside
 * EROFS's prefixes are dropped (returns 0). -EINVAL when too big,
 * -ENOMEM. */
int ew_set_xattr(struct ew_node *n, const char *name, const void *value, size_t len);

/* File data: begin (the node gets the next block), bytes at increasing
 * offsets (a gap reads as zeros), end at the file's size. */
int ew_data_begin(struct ew *w, struct ew_node *n, ctr_error **err);
int ew_data_at(struct ew *w, uint64_t off, const void *p, size_t len, ctr_error **err);
int ew_data_end(struct ew *w, uint64_t size, ctr_error **err);

/* Writes directories, symlinks, inodes and the superblock. */
int ew_finish(struct ew *w, ctr_error **err);

#endif
