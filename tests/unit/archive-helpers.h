/* Test helpers for lib/archive: an in-memory tar builder (libarchive's
 * writer), a chunked memory source and a tree snapshot for before/after
 * comparisons. Header-only: included by test-apply.c and test-decompress.c. */
#ifndef CTR_TESTS_ARCHIVE_HELPERS_H
#define CTR_TESTS_ARCHIVE_HELPERS_H

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layer-archive.h"
#include "error.h"
#include "digest.h"

/* ---- growable buffer --------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static inline void buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (!b->p)
			abort();
		b->cap = nc;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* ---- chunked memory source ---------------------------------------------- */

struct memsrc {
	const unsigned char *p;
	size_t len, pos;
	size_t chunk; /* max bytes per read; 0: all */
	int fail_at;  /* fail with CTR_EIO once pos >= fail_at (when > 0) */
};

static inline ssize_t memsrc_read(void *ud, void *out, size_t len, ctr_error **err)
{
	struct memsrc *m = ud;
	if (m->fail_at > 0 && m->pos >= (size_t)m->fail_at)
		return ctr_err(err, CTR_EIO, 0, "test source failed");
	size_t n = m->len - m->pos;
	if (n > len)
		n = len;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(out, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* ---- tar builder --------------------------------------------------------- */

struct tarb {
	struct archive *a;
	struct buf out;
};

static inline la_ssize_t tarb_write(struct archive *a, void *ud, const void *d, size_t n)
{
	(void)a;
	buf_add(&((struct tarb *)ud)->out, d, n);
	return (la_ssize_t)n;
}

/* format: ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, _USTAR, _GNUTAR, ... */
static inline void tarb_init(struct tarb *t, int format)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	archive_write_set_format(t->a, format);
	archive_write_set_bytes_per_block(t->a, 10240);
	if (archive_write_open(t->a, t, NULL, tarb_write, NULL) != ARCHIVE_OK)
		abort();
}

struct tent {
	const char *name;
	mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO; 0 + link: hardlink */
	mode_t perm;
	uid_t uid;
	gid_t gid;
	time_t mtime;
	long mtime_ns;
	const void *data;
	size_t len;
	const char *link; /* symlink target or hardlink target */
	unsigned maj, min;
	const char *xname[3];
	const void *xval[3];
	size_t xlen[3];
};

static inline void tarb_add(struct tarb *t, const struct tent *te)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, te->name);
	bool hard = te->type == 0 && te->link;
	archive_entry_set_filetype(e, hard ? AE_IFREG : te->type);
	archive_entry_set_perm(e, te->perm ? te->perm : (te->type == AE_IFDIR ? 0755 : 0644));
	archive_entry_set_uid(e, te->uid);
	archive_entry_set_gid(e, te->gid);
	archive_entry_set_mtime(e, te->mtime ? te->mtime : 1600000000, te->mtime_ns);
	if (hard)
		archive_entry_set_hardlink(e, te->link);
	else if (te->type == AE_IFLNK)
		archive_entry_set_symlink(e, te->link);
	if (te->type == AE_IFCHR || te->type == AE_IFBLK) {
		archive_entry_set_rdevmajor(e, te->maj);
		archive_entry_set_rdevminor(e, te->min);
	}
	for (int i = 0; i < 3 && te->xname[i]; i++)
		archive_entry_xattr_add_entry(e, te->xname[i], te->xval[i], te->xlen[i]);
	archive_entry_set_size(e, (te->type == AE_IFREG && !hard) ? (la_int64_t)te->len : 0);
	if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
		fprintf(stderr, "tar writer: %s\n", archive_error_string(t->a));
		abort();
	}
	if (te->type == AE_IFREG && !hard && te->len)
		archive_write_data(t->a, te->data, te->len);
	archive_entry_free(e);
}

static inline void tarb_file(struct tarb *t, const char *name, const char *content)
{
	struct tent e = {.name = name, .type = AE_IFREG, .data = content, .len = strlen(content)};
	tarb_add(t, &e);
}

static inline void tarb_dir(struct tarb *t, const char *name)
{
	struct tent e = {.name = name, .type = AE_IFDIR};
	tarb_add(t, &e);
}

static inline void tarb_symlink(struct tarb *t, const char *name, const char *target)
{
	struct tent e = {.name = name, .type = AE_IFLNK, .perm = 0777, .link = target};
	tarb_add(t, &e);
}

static inline void tarb_hardlink(struct tarb *t, const char *name, const char *target)
{
	struct tent e = {.name = name, .type = 0, .link = target};
	tarb_add(t, &e);
}

/* Finishes the archive; the caller frees out.p. */
static inline struct buf tarb_finish(struct tarb *t)
{
	archive_write_close(t->a);
	archive_write_free(t->a);
	return t->out;
}

/* ---- tree snapshot ------------------------------------------------------- */

static inline void snap_dir(struct buf *out, int dfd, const char *prefix, bool mtimes)
{
	struct dirent **names;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	int n = scandir(self, &names, NULL, alphasort);
	if (n < 0)
		abort();
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(names[i]);
			continue;
		}
		struct stat st;
		if (fstatat(fd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			abort();
		char path[8192];
		snprintf(path, sizeof(path), "%s%s", prefix, nm);
		char extra[CTR_DIGEST_MAX + 4200] = "";
		if (S_ISREG(st.st_mode)) {
			int f = openat(fd, nm, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (f < 0 || ctr_digest_fd(CTR_DIGEST_SHA256, f, extra, NULL, NULL) < 0)
				abort();
			close(f);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlinkat(fd, nm, extra, sizeof(extra) - 1);
			if (k < 0)
				abort();
			extra[k] = 0;
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			snprintf(extra, sizeof(extra), "dev %u:%u", major(st.st_rdev), minor(st.st_rdev));
		}
		char line[8192 + sizeof(extra) + 200];
		int len = snprintf(line, sizeof(line), "%s|%07o|%u:%u|%lld|nl%lu|%s",
				   path, (unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid,
				   S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
				   S_ISDIR(st.st_mode) ? 0UL : (unsigned long)st.st_nlink, extra);
		buf_add(out, line, (size_t)len);
		if (mtimes && !S_ISLNK(st.st_mode)) {
			len = snprintf(line, sizeof(line), "|mt%lld.%09ld", (long long)st.st_mtim.tv_sec,
				       st.st_mtim.tv_nsec);
			buf_add(out, line, (size_t)len);
		}
		buf_add(out, "\n", 1);
		if (S_ISDIR(st.st_mode)) {
			int cfd = openat(fd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				abort();
			char np[8300];
			snprintf(np, sizeof(np), "%s/", path);
			snap_dir(out, cfd, np, mtimes);
			close(cfd);
		}
		free(names[i]);
	}
	free(names);
	close(fd);
}

/* One line per entry: path|mode|uid:gid|size|nlink|sha256-or-target[|mtime].
 * Directory mtimes are included too, so a created-then-removed file in a
 * victim directory still shows. Caller frees. */
static inline char *snap_tree(const char *dir, bool mtimes)
{
	struct buf b = {0};
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	struct stat st;
	fstat(fd, &st);
	char root[128];
	int len = snprintf(root, sizeof(root), ".|%07o|%u:%u|mt%lld.%09ld\n", (unsigned)st.st_mode,
			   (unsigned)st.st_uid, (unsigned)st.st_gid, mtimes ? (long long)st.st_mtim.tv_sec : 0LL,
			   mtimes ? st.st_mtim.tv_nsec : 0L);
	buf_add(&b, root, (size_t)len);
	snap_dir(&b, fd, "", mtimes);
	close(fd);
	buf_add(&b, "", 1);
	return (char *)b.p;
}

#endif
