/* ctr_archive_apply: an OCI layer tar stream into a layer directory.
 *
 * Security model. The layer directory is "/" for every name in the tar.
 * Names are cleaned lexically first (a leading "/" and ".." components
 * cannot climb above the root: containerd's filepath.Clean + RootPath),
 * then the parent directory is opened with openat2(RESOLVE_IN_ROOT) through
 * ctr_openat_in_root, so symlinks already in the layer are followed but
 * only inside it. Every change is then one *at() call on that parent fd
 * with the last component, never following it (O_NOFOLLOW, O_EXCL,
 * AT_SYMLINK_NOFOLLOW). Directory fds stay inside the layer because nothing
 * here renames a directory.
 *
 * Ordering with the worker pool (apply-pool.c). The reader thread owns the
 * namespace: it creates directories, symlinks, devices, hardlinks and
 * whiteouts and removes whatever an entry replaces. Workers only create new
 * regular files from memory. The reader keeps the set of names handed to
 * workers since the last drain (keyed by parent inode + base name, so
 * aliases through symlinks match) and waits for the workers to drain
 * before it touches such a name again (a duplicate entry, a hardlink to a
 * file still being written) and before removing any directory (it may
 * hold files still queued) or making one opaque. Directory modes and times
 * are set at the end, after the drain, so children cannot disturb them and
 * read-only directories do not block their own children.
 *
 * Per-case decisions (containerd's archive/tar.go is the reference):
 *   ".." components, absolute names    clamped to the root (containerd)
 *   entry that cleans to the root      a directory is ignored (containerd);
 *                                      anything else (a symlink named ".")
 *                                      is refused: CTR_EINVAL
 *   symlink in the layer pointing out  followed inside the layer only
 *   parent is a dangling symlink       refused: CTR_EINVAL (containerd would
 *                                      mkdir its in-root target)
 *   missing parent directories         created 0700 (containerd)
 *   hardlink target                    cleaned and resolved in the layer, last
 *                                      component not followed (containerd's
 *                                      hardlinkRootPath); missing: CTR_ENOTFOUND
 *                                      (may be in a parent layer); a directory,
 *                                      the root or the entry itself: CTR_EINVAL
 *   hardlink header metadata           not applied (the target keeps its own,
 *                                      as GNU tar does)
 *   whiteout of "", "." or ".."        refused: CTR_EINVAL (containerd)
 *   .wh..wh.* at the top (AUFS plnk)   skipped (containerd; plnk hardlinks
 *                                      are not supported)
 *   trusted.overlay.* xattrs           never set from a layer
 *   sockets                            skipped
 *   names over 4095 bytes              refused: CTR_EINVAL (a component over
 *                                      255 fails with ENAMETOOLONG: EINVAL) */
#include "layer-archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "apply-internal.h"
#include "fs.h"
#include "macro.h"

la_ssize_t ap_la_read(struct archive *ar, void *ud, const void **buf)
{
	struct apply *a = ud;
	if (a->read_eof)
		return 0;
	ssize_t n = a->read(a->ud, a->rbuf, RBUF_SIZE, &a->read_err);
	if (n < 0) {
		a->read_failed = (int)n;
		archive_set_error(ar, EIO, "layer source failed");
		return -1;
	}
	if (n == 0)
		a->read_eof = true;
	ctr_hasher_update(a->hash, a->rbuf, (size_t)n);
	a->tar_bytes += (uint64_t)n;
	*buf = a->rbuf;
	return n;
}

/* Native mode: remove everything under dir that this layer did not write. */
static int opaque_clean(struct apply *a, int dfd, const char *dname, ctr_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ap_eerrno(a, err, errno, "open opaque directory");
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return ctr_err_nomem(err);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child = NULL;
		if (asprintf(&child, "%s%s%s", dname, *dname ? "/" : "", de->d_name) < 0) {
			r = ctr_err_nomem(err);
			break;
		}
		if (!ap_strset_has(&a->touched, child)) {
			r = ctr_rm_rf_at(dirfd(dir), de->d_name, err);
		} else {
			int cfd = openat(dirfd(dir), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0) {
				r = opaque_clean(a, cfd, child, err);
				close(cfd);
			}
		}
		free(child);
	}
	closedir(dir);
	return r;
}

static int do_whiteout(struct apply *a, struct archive_entry *e, const char *parent, const char *base,
		       const struct apply_meta *m, ctr_error **err)
{
	bool opaque = !strcmp(base, WH_OPAQUE);
	if (!opaque && !strncmp(base, WH_META, strlen(WH_META)))
		return 0; /* other AUFS metadata (.wh..wh.plnk, ...): not part of the tree */
	const char *victim = base + strlen(WH_PREFIX);
	if (!opaque && (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..")))
		return ap_eerr(a, err, CTR_EINVAL, 0, "invalid whiteout name");
	int r;
	if (a->o.whiteouts == CTR_WHITEOUT_OVERLAY) {
		if (opaque) {
			_cleanup_close_ int fd = ap_open_dir(a, parent, true, O_RDONLY, err);
			if (fd < 0)
				return fd;
			if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return ap_eerrno(a, err, errno, "set trusted.overlay.opaque");
			return 0;
		}
		struct apply_dir *d;
		r = ap_get_parent(a, parent, &d, err);
		if (r < 0)
			return r;
		r = ap_prepare_slot(a, d, victim, false, err);
		if (r < 0)
			return r;
		if (mknodat(d->fd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
			return ap_eerrno(a, err, errno, "create whiteout device");
		if (m->chown && fchownat(d->fd, victim, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return ap_eerrno(a, err, errno, "chown whiteout");
		return 0;
	}
	(void)e;
	/* Deletion mode: the directory may be missing (nothing to delete). */
	int fd = ap_open_dir(a, parent, false, O_PATH, err);
	if (fd == CTR_ENOTFOUND)
		return 0;
	if (fd < 0)
		return fd;
	_cleanup_close_ int dfd = fd;
	r = ap_drain(a, err);
	if (r < 0)
		return r;
	ap_cache_drop(a);
	if (opaque)
		return opaque_clean(a, dfd, parent, err);
	r = ctr_rm_rf_at(dfd, victim, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "apply: %.300s: whiteout", a->entry);
	return 0;
}

int ap_entry_name(struct apply *a, struct archive_entry *e, struct ap_entry_name *n, ctr_error **err)
{
	memset(n, 0, sizeof(*n));
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return ctr_err(err, CTR_EINVAL, 0, "apply: entry without a name");
	a->entry = raw;
	if (strlen(raw) > NAME_MAX_LEN)
		return ap_eerr(a, err, CTR_EINVAL, ENAMETOOLONG, "name too long");
	n->type = archive_entry_filetype(e);
	n->is_link = archive_entry_hardlink(e) || archive_entry_hardlink_utf8(e);
	if (!(n->name = ap_clean_name(raw)))
		return ctr_err_nomem(err);
	int r = 0;
	/* AUFS metadata at the top (.wh..wh.plnk, .wh..wh.aufs): not part of
	 * the tree; containerd skips it the same way. */
	if (!strncmp(n->name, WH_META, strlen(WH_META)) && strcmp(n->name, WH_OPAQUE))
		r = 1;
	else if (!*n->name && n->type == AE_IFDIR && !n->is_link)
		r = 1; /* "./" or "/": containerd ignores the root entry */
	else if (!*n->name)
		r = ap_eerr(a, err, CTR_EINVAL, 0, "entry resolves to the layer root");
	else if (!(n->split = strdup(n->name)))
		r = ctr_err_nomem(err);
	if (r != 0) {
		ap_entry_name_clear(n);
		return r;
	}
	ap_split_name(n->split, &n->parent, &n->base);
	return 0;
}

void ap_entry_name_clear(struct ap_entry_name *n)
{
	free(n->name);
	free(n->split);
	memset(n, 0, sizeof(*n));
}

static int do_named_entry(struct apply *a, struct archive_entry *e, const struct ap_entry_name *en,
			  ctr_error **err)
{
	const char *name = en->name, *parent = en->parent, *base = en->base;
	mode_t type = en->type;
	bool is_link = en->is_link;
	struct apply_meta m;
	int r = ap_read_meta(a, e, &m, err);
	if (r < 0) {
		apply_meta_clear(&m);
		return r;
	}
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
		r = do_whiteout(a, e, parent, base, &m, err);
		apply_meta_clear(&m);
		return r;
	}
	if (type == AE_IFSOCK && !is_link) {
		apply_meta_clear(&m);
		return 0; /* sockets cannot be unpacked; containerd skips them too */
	}
	struct apply_dir *d;
	r = ap_get_parent(a, parent, &d, err);
	if (r == 0)
		r = ap_touch(a, parent, base, err);
	if (r == 0) {
		if (is_link)
			r = ap_do_link(a, e, d, name, base, err);
		else if (type == AE_IFREG)
			r = ap_do_regular(a, e, d, base, &m, err);
		else if (type == AE_IFDIR)
			r = ap_do_dir(a, d, parent, base, &m, err);
		else if (type == AE_IFLNK || type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
			r = ap_do_special(a, e, d, base, &m, err);
		else
			r = ap_eerr(a, err, CTR_EINVAL, 0, "unsupported entry type");
	}
	apply_meta_clear(&m);
	return r;
}

static int do_entry(struct apply *a, struct archive_entry *e, ctr_error **err)
{
	struct ap_entry_name en;
	int r = ap_entry_name(a, e, &en, err);
	if (r != 0)
		return r < 0 ? r : 0;
	r = do_named_entry(a, e, &en, err);
	ap_entry_name_clear(&en);
	return r;
}

static int finish_dirs(struct apply *a, ctr_error **err)
{
	/* In stream order, so a later entry for the same directory wins. */
	for (size_t i = 0; i < a->n_dirs; i++) {
		struct deferred_dir *dd = &a->dirs[i];
		a->entry = dd->name;
		ctr_error *e = NULL;
		int fd = ctr_openat_in_root(a->root, dd->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &e);
		if (fd < 0) {
			int en = ctr_error_errno(e);
			ctr_error_free(e);
			/* removed or replaced later in the stream */
			if (en == ENOENT || en == ENOTDIR || en == ELOOP)
				continue;
			return ap_eerrno(a, err, en ? en : EIO, "open directory");
		}
		struct apply_meta m = {.mode = dd->mode, .times = {dd->times[0], dd->times[1]}};
		int r = apply_meta_fd(fd, dd->name, &m, true, true, err);
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

static void apply_free(struct apply *a)
{
	if (a->pool_on)
		apply_pool_stop(&a->pool);
	ap_cache_drop(a);
	if (a->ar)
		archive_read_free(a->ar);
	ctr_error_free(a->read_err);
	free(a->rbuf);
	ctr_hasher_free(a->hash);
	ap_strset_free(&a->pending);
	ap_strset_free(&a->touched);
	for (size_t i = 0; i < a->n_dirs; i++)
		free(a->dirs[i].name);
	free(a->dirs);
}

static int run(struct apply *a, ctr_error **err)
{
	for (;;) {
		struct archive_entry *e;
		a->entry = NULL;
		int r = archive_read_next_header(a->ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return ap_archive_fail(a, err);
		a->entries++;
		r = do_entry(a, e, err);
		if (r < 0)
			return r;
		if (a->pool_on && __atomic_load_n(&a->pool.failed, __ATOMIC_ACQUIRE))
			return apply_pool_drain(&a->pool, err);
	}
	a->entry = NULL;
	if (a->pool_on) {
		int r = apply_pool_drain(&a->pool, err);
		if (r < 0)
			return r;
		ap_strset_clear(&a->pending);
	}
	int r = finish_dirs(a, err);
	if (r < 0)
		return r;
	/* The diff_id covers the whole stream, padding after the end-of-archive
	 * blocks included. */
	while (!a->read_eof) {
		const void *b;
		if (ap_la_read(a->ar, a, &b) < 0)
			return ap_archive_fail(a, err);
	}
	return 0;
}

int ctr_archive_apply(int layer_dirfd, ctr_archive_read_fn read, void *ud,
		      const struct ctr_apply_opts *opts, struct ctr_apply_stats *stats,
		      ctr_error **err)
{
	if (layer_dirfd < 0 || !read)
		return ctr_err(err, CTR_EINVAL, 0, "apply: bad arguments");
	struct apply a = {.root = layer_dirfd, .read = read, .ud = ud};
	if (opts)
		a.o = *opts;
	if (!a.o.max_buffered_file)
		a.o.max_buffered_file = 1u << 20;
	if (!a.o.max_in_flight)
		a.o.max_in_flight = 32u << 20;
	unsigned workers = a.o.workers ? a.o.workers : 2;
	if (workers > 8)
		workers = 8;
	a.do_chown = !a.o.no_chown && geteuid() == 0;
	a.euid = geteuid();
	a.egid = getegid();

	int r;
	a.rbuf = malloc(RBUF_SIZE);
	a.ar = archive_read_new();
	if (!a.rbuf || !a.ar) {
		r = ctr_err_nomem(err);
		goto out;
	}
	r = ctr_hasher_new(&a.hash, CTR_DIGEST_SHA256, err);
	if (r < 0)
		goto out;
	archive_read_support_format_tar(a.ar);
	archive_read_support_format_empty(a.ar);
	if (archive_read_open(a.ar, &a, NULL, ap_la_read, NULL) != ARCHIVE_OK) {
		r = ap_archive_fail(&a, err);
		goto out;
	}
	if (workers > 1) {
		r = apply_pool_start(&a.pool, workers, a.o.max_in_flight, err);
		if (r < 0)
			goto out;
		a.pool_on = true;
	}
	r = run(&a, err);
	if (r == 0 && stats) {
		ctr_hasher_peek(a.hash, stats->diff_id);
		stats->tar_bytes = a.tar_bytes;
		stats->entries = a.entries;
		stats->file_bytes = a.file_bytes;
	}
out:
	apply_free(&a);
	return r;
}
