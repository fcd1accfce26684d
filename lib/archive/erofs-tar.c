/* ctr_archive_apply_erofs: tar entries into the EROFS writer's tree, with
 * the rules of ctr_archive_apply in overlay mode (apply.c has the table of
 * per-case decisions; each is kept here, on the tree instead of the
 * layer directory). One thread: the tree is the namespace, and the file
 * data goes straight to the image as it streams. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "erofs.h"
#include "erofs-internal.h"
#include "fs.h"
#include "macro.h"

struct et {
	struct apply a; /* the reader, the name rules' helpers and errors */
	struct ew w;
	int lower; /* the parent layers' merged root, or -1 */
};

static uint32_t encode_dev(unsigned maj, unsigned min)
{
	return (min & 0xffu) | (maj << 8) | ((min & ~0xffu) << 12);
}

static int tree_err(struct et *t, ctr_error **err, int e, const char *what)
{
	if (e == -ENOMEM)
		return ctr_err_nomem(err);
	return ap_eerrno(&t->a, err, -e, what);
}

/* ap_open_dir's answers for a parent: missing through a symlink is a
 * dangling symlink (CTR_EINVAL), a file on the way is CTR_EINVAL. */
static int get_parent(struct et *t, const char *parent, struct ew_node **out, ctr_error **err)
{
	int r = ew_resolve_dir(&t->w, parent, true, out);
	if (r == -ENOENT)
		return ap_eerr(&t->a, err, CTR_EINVAL, ENOENT, "parent directory is a dangling symlink");
	if (r == -ENOTDIR || r == -ELOOP || r == -ENAMETOOLONG)
		return ap_eerr(&t->a, err, CTR_EINVAL, -r, "open parent directory");
	return r < 0 ? tree_err(t, err, r, "open parent directory") : 0;
}

/* What an entry replaces: an existing directory stays for a directory
 * entry (returns 1), anything else goes. */
static int prepare_slot(struct et *t, struct ew_node *d, const char *base, bool want_dir)
{
	struct ew_dirent *de = ew_lookup(&t->w, d, base);
	if (!de || !de->node)
		return 0;
	if (want_dir && S_ISDIR(de->node->mode))
		return 1;
	de->node = NULL;
	return 0;
}

static int set_meta(struct et *t, struct ew_node *n, const struct apply_meta *m, ctr_error **err)
{
	n->mode = (n->mode & S_IFMT) | (m->mode & 07777);
	n->uid = m->chown ? (uint32_t)m->uid : t->w.euid;
	n->gid = m->chown ? (uint32_t)m->gid : t->w.egid;
	n->mtime = (int64_t)m->times[1].tv_sec;
	n->mtime_ns = (uint32_t)m->times[1].tv_nsec;
	for (size_t i = 0; i < m->n_xattrs; i++) {
		int r = ew_set_xattr(n, m->xattrs[i].name, m->xattrs[i].value, m->xattrs[i].len);
		if (r < 0)
			return r == -ENOMEM ? ctr_err_nomem(err) : ap_eerr(&t->a, err, CTR_EINVAL, E2BIG, "xattr too large");
	}
	return 0;
}

/* A new node linked as d/base. */
static int add_node(struct et *t, struct ew_node *d, const char *base, mode_t mode, struct ew_node **out,
		    ctr_error **err)
{
	struct ew_node *n = ew_node_new(&t->w, mode);
	if (!n || ew_link(&t->w, d, base, n) < 0)
		return ctr_err_nomem(err);
	*out = n;
	return 0;
}

static int do_regular(struct et *t, struct archive_entry *e, struct ew_node *d, const char *base,
		      const struct apply_meta *m, ctr_error **err)
{
	la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (sz < 0)
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "negative size");
	prepare_slot(t, d, base, false);
	struct ew_node *n = NULL;
	int r = add_node(t, d, base, S_IFREG, &n, err);
	if (r == 0)
		r = set_meta(t, n, m, err);
	if (r < 0)
		return r;
	n->size = (uint64_t)sz;
	t->a.file_bytes += n->size;
	if ((r = ew_data_begin(&t->w, n, err)) < 0)
		return ctr_err_prefix(err, r, "apply: %.300s", t->a.entry);
	for (;;) {
		const void *blk;
		size_t len;
		la_int64_t off;
		r = archive_read_data_block(t->a.ar, &blk, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return ap_archive_fail(&t->a, err);
		if (off < 0 || (uint64_t)off > n->size || len > n->size - (uint64_t)off)
			return ap_eerr(&t->a, err, CTR_EINVAL, 0, "data beyond the entry size");
		if ((r = ew_data_at(&t->w, (uint64_t)off, blk, len, err)) < 0)
			return ctr_err_prefix(err, r, "apply: %.300s", t->a.entry);
	}
	r = ew_data_end(&t->w, n->size, err);
	return r < 0 ? ctr_err_prefix(err, r, "apply: %.300s", t->a.entry) : 0;
}

static int do_dir(struct et *t, struct ew_node *d, const char *base, const struct apply_meta *m,
		  ctr_error **err)
{
	struct ew_node *n = NULL;
	int r = 0;
	if (prepare_slot(t, d, base, true) == 1)
		n = ew_lookup(&t->w, d, base)->node;
	else
		r = add_node(t, d, base, S_IFDIR, &n, err);
	return r < 0 ? r : set_meta(t, n, m, err);
}

static void meta_from_stat(struct ew_node *n, const struct stat *st)
{
	n->mode = st->st_mode;
	n->uid = (uint32_t)st->st_uid;
	n->gid = (uint32_t)st->st_gid;
	n->mtime = (int64_t)st->st_mtim.tv_sec;
	n->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
}

/* The directories of tparent that the tree lacks, made with the lower
 * layers' metadata (as overlayfs copies up a file's parents). */
static int seed_parents(struct et *t, const char *tparent, ctr_error **err)
{
	_cleanup_free_ char *p = strdup(tparent);
	if (!p)
		return ctr_err_nomem(err);
	for (char *s = p; *p; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		struct ew_node *d;
		int r = ew_resolve_dir(&t->w, p, false, &d);
		if (r == -ENOENT) {
			_cleanup_close_ int fd = ctr_openat_in_root(t->lower, p, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, NULL);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) < 0)
				return CTR_ENOTFOUND;
			_cleanup_free_ char *sp = strdup(p);
			if (!sp)
				return ctr_err_nomem(err);
			const char *pp, *pb;
			ap_split_name(sp, &pp, &pb);
			struct ew_node *parent, *n = NULL;
			if ((r = ew_resolve_dir(&t->w, pp, false, &parent)) < 0)
				return tree_err(t, err, r, "copy up a hardlink target's directory");
			if (!(n = ew_node_new(&t->w, S_IFDIR)) || ew_link(&t->w, parent, pb, n) < 0)
				return ctr_err_nomem(err);
			meta_from_stat(n, &st);
		} else if (r < 0) {
			return tree_err(t, err, r, "copy up a hardlink target's directory");
		}
		if (!c)
			break;
		*s = c;
	}
	return 0;
}

/* A hardlink whose target a parent layer has: the target is copied into
 * this layer first (data, owner, mode, time, user.* and
 * security.capability xattrs), as overlayfs would copy it up to link it.
 * CTR_ENOTFOUND when the parents lack it too or it is not a regular file. */
static int seed_target(struct et *t, const char *tc, ctr_error **err)
{
	_cleanup_close_ int pfd = ctr_openat_in_root(t->lower, tc, O_PATH | O_NOFOLLOW, 0, NULL);
	struct stat st;
	if (pfd < 0 || fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode))
		return CTR_ENOTFOUND;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	_cleanup_close_ int fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ap_eerrno(&t->a, err, errno, "open hardlink target in the parent layers");
	_cleanup_free_ char *sp = strdup(tc);
	if (!sp)
		return ctr_err_nomem(err);
	const char *tparent, *tbase;
	ap_split_name(sp, &tparent, &tbase);
	int r = seed_parents(t, tparent, err);
	struct ew_node *d = NULL, *n = NULL;
	if (r == 0 && (r = ew_resolve_dir(&t->w, tparent, false, &d)) < 0)
		return tree_err(t, err, r, "copy up a hardlink target");
	if (r < 0)
		return r;
	if ((r = add_node(t, d, tbase, S_IFREG, &n, err)) < 0)
		return r;
	meta_from_stat(n, &st);
	char names[4096];
	ssize_t nl = flistxattr(fd, names, sizeof(names));
	for (ssize_t i = 0; i < nl; i += (ssize_t)strlen(names + i) + 1) {
		const char *x = names + i;
		if (strncmp(x, "user.", 5) && strcmp(x, "security.capability"))
			continue;
		char val[4096];
		ssize_t vl = fgetxattr(fd, x, val, sizeof(val));
		if (vl >= 0 && ew_set_xattr(n, x, val, (size_t)vl) == -ENOMEM)
			return ctr_err_nomem(err);
	}
	n->size = (uint64_t)st.st_size;
	if ((r = ew_data_begin(&t->w, n, err)) < 0)
		return r;
	for (uint64_t off = 0; off < n->size;) {
		ssize_t k = pread(fd, t->a.rbuf, RBUF_SIZE, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ap_eerrno(&t->a, err, k < 0 ? errno : EIO, "read hardlink target in the parent layers");
		if ((r = ew_data_at(&t->w, off, t->a.rbuf, (size_t)k > n->size - off ? n->size - off : (size_t)k,
				    err)) < 0)
			return r;
		off += (uint64_t)k;
	}
	return ew_data_end(&t->w, n->size, err);
}

static int do_link(struct et *t, struct archive_entry *e, struct ew_node *d, const char *name,
		   const char *base, ctr_error **err)
{
	const char *target = archive_entry_hardlink(e);
	if (!target)
		target = archive_entry_hardlink_utf8(e);
	if (!target || strlen(target) > NAME_MAX_LEN)
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "bad hardlink target");
	_cleanup_free_ char *tc = ap_clean_name(target);
	if (!tc)
		return ctr_err_nomem(err);
	if (!*tc)
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "hardlink to the layer root");
	if (!strcmp(tc, name))
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "hardlink to itself");
	const char *tparent, *tbase;
	ap_split_name(tc, &tparent, &tbase);
	struct ew_node *td;
	int r = ew_resolve_dir(&t->w, tparent, false, &td);
	struct ew_dirent *de = r == 0 ? ew_lookup(&t->w, td, tbase) : NULL;
	if ((r == -ENOENT || (r == 0 && (!de || !de->node))) && t->lower >= 0) {
		_cleanup_free_ char *again = ap_clean_name(target);
		if (!again)
			return ctr_err_nomem(err);
		r = seed_target(t, again, err);
		if (r == CTR_ENOTFOUND)
			return ap_eerr(&t->a, err, CTR_ENOTFOUND, 0, "hardlink target is in neither this layer nor its parents");
		if (r < 0)
			return r;
		if ((r = ew_resolve_dir(&t->w, tparent, false, &td)) == 0)
			de = ew_lookup(&t->w, td, tbase);
	}
	if (r == -ENOENT)
		return ap_eerr(&t->a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
	if (r < 0)
		return tree_err(t, err, r, "open hardlink target directory");
	if (!de || !de->node)
		return ap_eerr(&t->a, err, CTR_ENOTFOUND, 0, "hardlink target is not in this layer");
	struct ew_node *target_node = de->node;
	if (S_ISDIR(target_node->mode))
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "hardlink to a directory");
	prepare_slot(t, d, base, false);
	return ew_link(&t->w, d, base, target_node) < 0 ? ctr_err_nomem(err) : 0;
}

static int do_special(struct et *t, struct archive_entry *e, struct ew_node *d, const char *base,
		      const struct apply_meta *m, ctr_error **err)
{
	mode_t type = archive_entry_filetype(e);
	struct ew_node *n = NULL;
	int r;
	if (type == AE_IFLNK) {
		const char *tg = archive_entry_symlink(e);
		if (!tg)
			tg = archive_entry_symlink_utf8(e);
		if (!tg || !*tg)
			return ap_eerr(&t->a, err, CTR_EINVAL, 0, "empty symlink target");
		if (strlen(tg) > NAME_MAX_LEN)
			return ap_eerr(&t->a, err, CTR_EINVAL, ENAMETOOLONG, "symlink");
		prepare_slot(t, d, base, false);
		if ((r = add_node(t, d, base, S_IFLNK, &n, err)) < 0)
			return r;
		if (!(n->link = strdup(tg)))
			return ctr_err_nomem(err);
		r = set_meta(t, n, m, err);
		n->mode = S_IFLNK | 0777; /* a symlink's mode is not its own */
		return r;
	}
	mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
	prepare_slot(t, d, base, false);
	if ((r = add_node(t, d, base, kind, &n, err)) < 0)
		return r;
	if (kind != S_IFIFO)
		n->rdev = encode_dev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	return set_meta(t, n, m, err);
}

static int do_whiteout(struct et *t, const char *parent, const char *base, const struct apply_meta *m,
		       ctr_error **err)
{
	bool opaque = !strcmp(base, WH_OPAQUE);
	if (!opaque && !strncmp(base, WH_META, strlen(WH_META)))
		return 0; /* other AUFS metadata: not part of the tree */
	const char *victim = base + strlen(WH_PREFIX);
	if (!opaque && (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..")))
		return ap_eerr(&t->a, err, CTR_EINVAL, 0, "invalid whiteout name");
	struct ew_node *d;
	int r = get_parent(t, parent, &d, err);
	if (r < 0)
		return r;
	if (opaque) {
		d->opaque = true;
		return 0;
	}
	prepare_slot(t, d, victim, false);
	struct ew_node *n = NULL;
	if ((r = add_node(t, d, victim, S_IFCHR, &n, err)) < 0)
		return r;
	n->uid = m->chown ? (uint32_t)m->uid : t->w.euid;
	n->gid = m->chown ? (uint32_t)m->gid : t->w.egid;
	n->rdev = 0;
	return 0;
}

static int do_named_entry(struct et *t, struct archive_entry *e, const struct ap_entry_name *en,
			  ctr_error **err)
{
	struct apply *a = &t->a;
	const char *name = en->name, *parent = en->parent, *base = en->base;
	mode_t type = en->type;
	bool is_link = en->is_link;
	if (strlen(base) > 255)
		return ap_eerr(a, err, CTR_EINVAL, ENAMETOOLONG, "name too long");
	struct apply_meta m;
	int r = ap_read_meta(a, e, &m, err);
	m.chown = !a->o.no_chown;
	if (r == 0 && !strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
		r = do_whiteout(t, parent, base, &m, err);
		apply_meta_clear(&m);
		return r;
	}
	if (r < 0 || (type == AE_IFSOCK && !is_link)) {
		apply_meta_clear(&m);
		return r; /* sockets are skipped, as apply does */
	}
	struct ew_node *d;
	r = get_parent(t, parent, &d, err);
	if (r == 0) {
		if (is_link)
			r = do_link(t, e, d, name, base, err);
		else if (type == AE_IFREG)
			r = do_regular(t, e, d, base, &m, err);
		else if (type == AE_IFDIR)
			r = do_dir(t, d, base, &m, err);
		else if (type == AE_IFLNK || type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
			r = do_special(t, e, d, base, &m, err);
		else
			r = ap_eerr(a, err, CTR_EINVAL, 0, "unsupported entry type");
	}
	apply_meta_clear(&m);
	return r;
}

static int do_entry(struct et *t, struct archive_entry *e, ctr_error **err)
{
	struct ap_entry_name en;
	int r = ap_entry_name(&t->a, e, &en, err);
	if (r != 0)
		return r < 0 ? r : 0;
	r = do_named_entry(t, e, &en, err);
	ap_entry_name_clear(&en);
	return r;
}

static int run(struct et *t, ctr_error **err)
{
	for (;;) {
		struct archive_entry *e;
		t->a.entry = NULL;
		int r = archive_read_next_header(t->a.ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return ap_archive_fail(&t->a, err);
		t->a.entries++;
		if ((r = do_entry(t, e, err)) < 0)
			return r;
	}
	t->a.entry = NULL;
	while (!t->a.read_eof) {
		const void *b;
		if (ap_la_read(t->a.ar, &t->a, &b) < 0)
			return ap_archive_fail(&t->a, err);
	}
	return ew_finish(&t->w, err);
}

int ctr_archive_apply_erofs(int image_fd, int lower_root, ctr_archive_read_fn read, void *ud,
			    const struct ctr_apply_opts *opts, struct ctr_apply_stats *stats,
			    ctr_error **err)
{
	if (image_fd < 0 || !read)
		return ctr_err(err, CTR_EINVAL, 0, "apply erofs: bad arguments");
	if (opts && opts->whiteouts != CTR_WHITEOUT_OVERLAY)
		return ctr_err(err, CTR_EINVAL, 0, "apply erofs: only overlay whiteouts fit a layer image");
	struct et t = {.a = {.root = -1, .read = read, .ud = ud}, .lower = lower_root};
	if (opts)
		t.a.o = *opts;
	t.a.euid = geteuid();
	t.a.egid = getegid();
	int r = ew_init(&t.w, image_fd, err);
	if (r < 0)
		goto out;
	t.a.rbuf = malloc(RBUF_SIZE);
	t.a.ar = archive_read_new();
	if (!t.a.rbuf || !t.a.ar) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if ((r = ctr_hasher_new(&t.a.hash, CTR_DIGEST_SHA256, err)) < 0)
		goto out;
	archive_read_support_format_tar(t.a.ar);
	archive_read_support_format_empty(t.a.ar);
	if (archive_read_open(t.a.ar, &t.a, NULL, ap_la_read, NULL) != ARCHIVE_OK) {
		r = ap_archive_fail(&t.a, err);
		goto out;
	}
	r = run(&t, err);
	if (r == 0 && stats) {
		ctr_hasher_peek(t.a.hash, stats->diff_id);
		stats->tar_bytes = t.a.tar_bytes;
		stats->entries = t.a.entries;
		stats->file_bytes = t.a.file_bytes;
	}
out:
	if (t.a.ar)
		archive_read_free(t.a.ar);
	ctr_error_free(t.a.read_err);
	free(t.a.rbuf);
	ctr_hasher_free(t.a.hash);
	ew_free(&t.w);
	return r;
}
