/* The EROFS writer's tree and on-disk format (erofs.h has the layout).
 *
 * On disk, all little-endian:
 *   block 0            the superblock at byte 1024 (128 bytes)
 *   blocks 1..         regular files' data, each from a block boundary,
 *                      in stream order
 *   then               directory blocks and symlink targets
 *   meta_blkaddr..     the inodes, 32-byte aligned (nid = offset / 32 from
 *                      meta_blkaddr); the root first (nid 0), each inode
 *                      with its inline xattrs, none across a block
 * A directory block starts with its 12-byte dirents (nid, name offset,
 * file type), sorted by name, then the names, unterminated; "." and ".."
 * are entries like the others. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "erofs.h"
#include "erofs-internal.h"
#include "fs.h"

#define WBUF_BLOCKS 256 /* 1 MiB write buffer */
#define INODE_EXT_SIZE 64
#define XATTR_IBODY_HDR 12
#define DIRENT_SIZE 12
#define MAX_SYMLINK_FOLLOWS 40

/* ---- little-endian stores ---- */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- the tree ---- */

static uint64_t slot_hash(const struct ew_node *dir, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)dir;
	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int slots_grow(struct ew *w)
{
	size_t ncap = w->cap_slots ? w->cap_slots * 2 : 1024;
	struct ew_dirent **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < w->cap_slots; i++) {
		struct ew_dirent *d = w->slots[i];
		if (!d)
			continue;
		size_t j = slot_hash(d->dir, d->name) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = d;
	}
	free(w->slots);
	w->slots = ns;
	w->cap_slots = ncap;
	return 0;
}

struct ew_dirent *ew_lookup(struct ew *w, struct ew_node *dir, const char *name)
{
	if (!w->cap_slots)
		return NULL;
	for (size_t i = slot_hash(dir, name) & (w->cap_slots - 1);; i = (i + 1) & (w->cap_slots - 1)) {
		struct ew_dirent *d = w->slots[i];
		if (!d)
			return NULL;
		if (d->dir == dir && !strcmp(d->name, name))
			return d;
	}
}

struct ew_node *ew_node_new(struct ew *w, mode_t mode)
{
	if (w->n_nodes == w->cap_nodes) {
		size_t nc = w->cap_nodes ? w->cap_nodes * 2 : 256;
		struct ew_node **nv = realloc(w->nodes, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		w->nodes = nv;
		w->cap_nodes = nc;
	}
	struct ew_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->mode = mode;
	n->uid = w->euid;
	n->gid = w->egid;
	n->mtime = w->now;
	w->nodes[w->n_nodes++] = n;
	return n;
}

int ew_link(struct ew *w, struct ew_node *dir, const char *name, struct ew_node *node)
{
	struct ew_dirent *d = ew_lookup(w, dir, name);
	if (d) {
		d->node = node;
		if (S_ISDIR(node->mode))
			node->parent = dir;
		return 0;
	}
	if ((w->n_slots + 1) * 2 > w->cap_slots && slots_grow(w) < 0)
		return -ENOMEM;
	if (dir->n_kids == dir->cap_kids) {
		size_t nc = dir->cap_kids ? dir->cap_kids * 2 : 8;
		struct ew_dirent **nv = realloc(dir->kids, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		dir->kids = nv;
		dir->cap_kids = nc;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		return -ENOMEM;
	}
	d->dir = dir;
	d->node = node;
	if (S_ISDIR(node->mode))
		node->parent = dir;
	dir->kids[dir->n_kids++] = d;
	size_t i = slot_hash(dir, name) & (w->cap_slots - 1);
	while (w->slots[i])
		i = (i + 1) & (w->cap_slots - 1);
	w->slots[i] = d;
	w->n_slots++;
	return 0;
}

/* Walks path from start; *follows counts symlinks across the recursion. */
static int resolve(struct ew *w, struct ew_node *start, const char *path, bool create, int *follows,
		   struct ew_node **out)
{
	struct ew_node *cur = path[0] == '/' ? w->root : start;
	const char *p = path, *s;
	size_t len;
	char comp[256];
	while ((s = ap_next_component(&p, &len))) {
		if (len > 255)
			return -ENAMETOOLONG;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (cur->parent) /* the root has none: ".." stays there */
				cur = cur->parent;
			continue;
		}
		memcpy(comp, s, len);
		comp[len] = 0;
		struct ew_dirent *d = ew_lookup(w, cur, comp);
		struct ew_node *n = d ? d->node : NULL;
		if (!n) {
			if (!create)
				return -ENOENT;
			n = ew_node_new(w, S_IFDIR | 0700);
			if (!n || ew_link(w, cur, comp, n) < 0)
				return -ENOMEM;
		}
		if (S_ISLNK(n->mode)) {
			if (++*follows > MAX_SYMLINK_FOLLOWS)
				return -ELOOP;
			struct ew_node *t;
			int r = resolve(w, cur, n->link, false, follows, &t);
			if (r < 0)
				return r;
			n = t;
		}
		if (!S_ISDIR(n->mode))
			return -ENOTDIR;
		cur = n;
	}
	*out = cur;
	return 0;
}

int ew_resolve_dir(struct ew *w, const char *path, bool create, struct ew_node **out)
{
	int follows = 0;
	return resolve(w, w->root, path, create, &follows, out);
}

/* ---- xattrs ---- */

static const struct {
	const char *prefix;
	uint8_t index;
	bool whole; /* the prefix is the whole name (POSIX ACLs) */
} xattr_prefixes[] = {
	{"user.", 1, false},
	{"system.posix_acl_access", 2, true},
	{"system.posix_acl_default", 3, true},
	{"trusted.", 4, false},
	{"security.", 6, false},
};

/* Drops the record named (index, suffix) from n's encoded xattrs. */
static void xattr_drop(struct ew_node *n, uint8_t index, const char *suffix, size_t slen)
{
	size_t off = 0;
	while (off + 4 <= n->xattrs_len) {
		unsigned char *e = n->xattrs + off;
		size_t nl = e[0], vl = (size_t)e[2] | ((size_t)e[3] << 8);
		size_t rec = (4 + nl + vl + 3) & ~(size_t)3;
		if (e[1] == index && nl == slen && !memcmp(e + 4, suffix, slen)) {
			memmove(e, e + rec, n->xattrs_len - off - rec);
			n->xattrs_len -= rec;
			return;
		}
		off += rec;
	}
}

int ew_set_xattr(struct ew_node *n, const char *name, const void *value, size_t len)
{
	for (size_t i = 0; i < sizeof(xattr_prefixes) / sizeof(xattr_prefixes[0]); i++) {
		const char *pf = xattr_prefixes[i].prefix;
		size_t pl = strlen(pf);
		if (xattr_prefixes[i].whole ? strcmp(name, pf) != 0 : strncmp(name, pf, pl) != 0)
			continue;
		const char *suffix = xattr_prefixes[i].whole ? "" : name + pl;
		size_t slen = strlen(suffix);
		if ((!xattr_prefixes[i].whole && slen == 0) || slen > 255 || len > 65535)
			return -EINVAL;
		uint8_t index = xattr_prefixes[i].index;
		xattr_drop(n, index, suffix, slen);
		size_t rec = (4 + slen + len + 3) & ~(size_t)3;
		/* i_xattr_icount is 16 bits of 4-byte units, the header included */
		if (XATTR_IBODY_HDR + n->xattrs_len + rec > 65000u * 4)
			return -EINVAL;
		unsigned char *nx = realloc(n->xattrs, n->xattrs_len + rec);
		if (!nx)
			return -ENOMEM;
		n->xattrs = nx;
		unsigned char *e = nx + n->xattrs_len;
		memset(e, 0, rec);
		e[0] = (unsigned char)slen;
		e[1] = index;
		put16(e + 2, (uint16_t)len);
		memcpy(e + 4, suffix, slen);
		if (len)
			memcpy(e + 4 + slen, value, len);
		n->xattrs_len += rec;
		return 0;
	}
	return 0; /* no EROFS prefix for it: not representable, dropped */
}

/* ---- the spool ---- */

static int wflush(struct ew *w, ctr_error **err)
{
	if (!w->wlen)
		return 0;
	int r = ctr_pwrite_all(w->fd, w->wbuf, w->wlen, (off_t)(w->wblk * CTR_EROFS_BLKSZ));
	if (r < 0)
		return ctr_err_errno(err, -r, "erofs: write image");
	w->wblk += w->wlen / CTR_EROFS_BLKSZ;
	w->wlen = 0;
	return 0;
}

/* Appends bytes at the spool's end (wbuf always ends on what was
 * written last; blocks are padded by wpad). */
static int wput(struct ew *w, const void *p, size_t len, ctr_error **err)
{
	const unsigned char *s = p;
	while (len) {
		size_t room = WBUF_BLOCKS * CTR_EROFS_BLKSZ - w->wlen;
		size_t n = len < room ? len : room;
		if (s)
			memcpy(w->wbuf + w->wlen, s, n);
		else
			memset(w->wbuf + w->wlen, 0, n);
		w->wlen += n;
		len -= n;
		if (s)
			s += n;
		if (w->wlen == WBUF_BLOCKS * CTR_EROFS_BLKSZ) {
			int r = wflush(w, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Zeros up to the next block boundary; w->blk follows. */
static int wpad(struct ew *w, ctr_error **err)
{
	size_t tail = w->wlen % CTR_EROFS_BLKSZ;
	int r = tail ? wput(w, NULL, CTR_EROFS_BLKSZ - tail, err) : 0;
	w->blk = w->wblk + w->wlen / CTR_EROFS_BLKSZ;
	return r;
}

static int check_blocks(struct ew *w, uint64_t bytes, ctr_error **err)
{
	if (w->blk + (bytes + CTR_EROFS_BLKSZ - 1) / CTR_EROFS_BLKSZ >= UINT32_MAX)
		return ctr_err(err, CTR_EINVAL, EFBIG, "erofs: the image would pass 2^32 blocks");
	return 0;
}

int ew_data_begin(struct ew *w, struct ew_node *n, ctr_error **err)
{
	w->cur = n;
	w->cur_len = 0;
	n->blkaddr = (uint32_t)w->blk;
	return check_blocks(w, n->size, err);
}

int ew_data_at(struct ew *w, uint64_t off, const void *p, size_t len, ctr_error **err)
{
	if (off < w->cur_len || off > w->cur->size || len > w->cur->size - off)
		return ctr_err(err, CTR_EINVAL, 0, "erofs: data out of order or beyond the entry size");
	int r = off > w->cur_len ? wput(w, NULL, (size_t)(off - w->cur_len), err) : 0;
	if (r == 0 && len)
		r = wput(w, p, len, err);
	w->cur_len = off + len;
	return r;
}

int ew_data_end(struct ew *w, uint64_t size, ctr_error **err)
{
	int r = size > w->cur_len ? wput(w, NULL, (size_t)(size - w->cur_len), err) : 0;
	if (r == 0)
		r = wpad(w, err);
	w->cur = NULL;
	return r;
}

/* ---- writing the metadata ---- */

static int kid_cmp(const void *a, const void *b)
{
	const struct ew_dirent *x = *(struct ew_dirent *const *)a, *y = *(struct ew_dirent *const *)b;
	return strcmp(x->name, y->name);
}

static uint8_t file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return 1;
	case S_IFDIR: return 2;
	case S_IFCHR: return 3;
	case S_IFBLK: return 4;
	case S_IFIFO: return 5;
	case S_IFSOCK: return 6;
	case S_IFLNK: return 7;
	default: return 0;
	}
}

static size_t inode_size(const struct ew_node *n)
{
	size_t x = n->xattrs_len || n->opaque ? XATTR_IBODY_HDR + n->xattrs_len : 0;
	return (INODE_EXT_SIZE + x + 31) & ~(size_t)31;
}

/* Lists the nodes reachable from the root, breadth first, and counts
 * their links. */
static int collect(struct ew *w, struct ew_node ***order, size_t *n_order, ctr_error **err)
{
	struct ew_node **q = malloc((w->n_nodes + 1) * sizeof(*q));
	if (!q)
		return ctr_err_nomem(err);
	size_t n = 0;
	q[n++] = w->root;
	w->root->seen = true;
	w->root->parent = w->root;
	for (size_t i = 0; i < n; i++) {
		struct ew_node *d = q[i];
		if (!S_ISDIR(d->mode))
			continue;
		d->nlink = 2;
		for (size_t k = 0; k < d->n_kids; k++) {
			struct ew_node *c = d->kids[k]->node;
			if (!c)
				continue;
			if (S_ISDIR(c->mode))
				d->nlink++;
			else
				c->nlink++;
			if (!c->seen) {
				c->seen = true;
				q[n++] = c;
			}
		}
	}
	*order = q;
	*n_order = n;
	return 0;
}

static void assign_nids(struct ew_node **order, size_t n)
{
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = inode_size(order[i]);
		if (off / CTR_EROFS_BLKSZ != (off + sz - 1) / CTR_EROFS_BLKSZ)
			off = (off + CTR_EROFS_BLKSZ - 1) & ~(uint64_t)(CTR_EROFS_BLKSZ - 1);
		order[i]->nid = off / 32;
		off += sz;
	}
}

/* One directory's blocks, written at the spool's end. */
static int write_dir(struct ew *w, struct ew_node *d, ctr_error **err)
{
	struct ew_dirent dot = {.name = ".", .node = d}, dotdot = {.name = "..", .node = d->parent};
	struct ew_dirent **all = malloc((d->n_kids + 2) * sizeof(*all));
	if (!all)
		return ctr_err_nomem(err);
	size_t total = 0;
	all[total++] = &dot;
	all[total++] = &dotdot;
	for (size_t k = 0; k < d->n_kids; k++)
		if (d->kids[k]->node) /* removed names go */
			all[total++] = d->kids[k];
	qsort(all, total, sizeof(*all), kid_cmp);
	unsigned char blk[CTR_EROFS_BLKSZ];
	d->blkaddr = (uint32_t)w->blk;
	uint64_t size = 0;
	int r = 0;
	for (size_t i = 0; i < total && r == 0;) {
		/* as many entries as fit in this block */
		size_t j = i, used = 0;
		while (j < total && used + DIRENT_SIZE + strlen(all[j]->name) <= CTR_EROFS_BLKSZ)
			used += DIRENT_SIZE + strlen(all[j++]->name);
		memset(blk, 0, sizeof(blk));
		size_t nameoff = (j - i) * DIRENT_SIZE;
		for (size_t k = i; k < j; k++) {
			unsigned char *e = blk + (k - i) * DIRENT_SIZE;
			size_t nl = strlen(all[k]->name);
			put64(e, all[k]->node->nid);
			put16(e + 8, (uint16_t)nameoff);
			e[10] = file_type(all[k]->node->mode);
			memcpy(blk + nameoff, all[k]->name, nl);
			nameoff += nl;
		}
		size = (uint64_t)(w->blk - d->blkaddr) * CTR_EROFS_BLKSZ + used;
		r = check_blocks(w, CTR_EROFS_BLKSZ, err);
		if (r == 0)
			r = wput(w, blk, CTR_EROFS_BLKSZ, err);
		w->blk++;
		i = j;
	}
	d->size = size;
	free(all);
	return r;
}

static int write_inode(struct ew *w, struct ew_node *n, uint64_t *off, ctr_error **err)
{
	unsigned char b[INODE_EXT_SIZE + XATTR_IBODY_HDR];
	size_t sz = inode_size(n);
	uint64_t at = n->nid * 32;
	int r = at > *off ? wput(w, NULL, (size_t)(at - *off), err) : 0;
	if (r < 0)
		return r;
	memset(b, 0, sizeof(b));
	size_t xlen = n->xattrs_len || n->opaque ? XATTR_IBODY_HDR + n->xattrs_len : 0;
	put16(b + 0, 1); /* extended inode, FLAT_PLAIN */
	put16(b + 2, xlen ? (uint16_t)(1 + (xlen - XATTR_IBODY_HDR) / 4) : 0);
	put16(b + 4, (uint16_t)n->mode);
	uint32_t u = 0;
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		u = n->rdev;
	else if (S_ISREG(n->mode) || S_ISDIR(n->mode) || S_ISLNK(n->mode))
		u = n->blkaddr;
	put64(b + 8, n->size);
	put32(b + 16, u);
	put32(b + 20, (uint32_t)(n->nid + 1)); /* i_ino: 32-bit stat only */
	put32(b + 24, n->uid);
	put32(b + 28, n->gid);
	put64(b + 32, (uint64_t)n->mtime);
	put32(b + 40, n->mtime_ns);
	put32(b + 44, n->nlink);
	r = wput(w, b, xlen ? sizeof(b) : INODE_EXT_SIZE, err);
	if (r == 0 && n->xattrs_len)
		r = wput(w, n->xattrs, n->xattrs_len, err);
	if (r == 0 && sz > INODE_EXT_SIZE + xlen)
		r = wput(w, NULL, sz - INODE_EXT_SIZE - xlen, err);
	*off = at + sz;
	return r;
}

int ew_finish(struct ew *w, ctr_error **err)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct ew_node *n = w->nodes[i];
		if (n->opaque && ew_set_xattr(n, "trusted.overlay.opaque", "y", 1) < 0)
			return ctr_err_nomem(err);
	}
	struct ew_node **order = NULL;
	size_t n = 0;
	int r = collect(w, &order, &n, err);
	if (r < 0)
		return r;
	assign_nids(order, n);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct ew_node *x = order[i];
		if (S_ISDIR(x->mode)) {
			r = write_dir(w, x, err);
		} else if (S_ISLNK(x->mode)) {
			x->size = strlen(x->link);
			x->blkaddr = (uint32_t)w->blk;
			r = check_blocks(w, x->size, err);
			if (r == 0)
				r = wput(w, x->link, x->size, err);
			if (r == 0)
				r = wpad(w, err);
		}
	}
	uint32_t meta = (uint32_t)w->blk;
	uint64_t off = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_inode(w, order[i], &off, err);
	if (r == 0)
		r = wpad(w, err);
	if (r == 0)
		r = wflush(w, err);
	free(order);
	if (r < 0)
		return r;
	if (w->blk >= UINT32_MAX)
		return ctr_err(err, CTR_EINVAL, EFBIG, "erofs: the image would pass 2^32 blocks");
	unsigned char sb[CTR_EROFS_SB_OFFSET + 128];
	memset(sb, 0, sizeof(sb));
	unsigned char *s = sb + CTR_EROFS_SB_OFFSET;
	put32(s + 0, CTR_EROFS_MAGIC);
	s[12] = CTR_EROFS_BLKBITS;
	put16(s + 14, (uint16_t)w->root->nid);
	put64(s + 16, n);                      /* inos */
	put64(s + 24, (uint64_t)w->now);       /* build time */
	put32(s + 36, (uint32_t)w->blk);       /* blocks */
	put32(s + 40, meta);                   /* meta_blkaddr */
	r = ctr_pwrite_all(w->fd, sb, sizeof(sb), 0);
	if (r < 0)
		return ctr_err_errno(err, -r, "erofs: write superblock");
	if (ftruncate(w->fd, (off_t)(w->blk * CTR_EROFS_BLKSZ)) < 0)
		return ctr_err_errno(err, errno, "erofs: truncate image");
	return 0;
}

int ew_init(struct ew *w, int fd, ctr_error **err)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->blk = w->wblk = 1; /* block 0: the superblock, written last */
	w->euid = (uint32_t)geteuid();
	w->egid = (uint32_t)getegid();
	w->now = (int64_t)time(NULL);
	w->wbuf = malloc(WBUF_BLOCKS * CTR_EROFS_BLKSZ);
	if (!w->wbuf || !(w->root = ew_node_new(w, S_IFDIR | 0755)))
		return ctr_err_nomem(err);
	if (ftruncate(fd, 0) < 0)
		return ctr_err_errno(err, errno, "erofs: truncate image");
	return 0;
}

void ew_free(struct ew *w)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct ew_node *n = w->nodes[i];
		for (size_t k = 0; k < n->n_kids; k++) {
			free(n->kids[k]->name);
			free(n->kids[k]);
		}
		free(n->kids);
		free(n->link);
		free(n->xattrs);
		free(n);
	}
	free(w->nodes);
	free(w->slots);
	free(w->wbuf);
	memset(w, 0, sizeof(*w));
}
