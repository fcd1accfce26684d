/* containerd's Client.Install: the regular files directly under bin/ (and
 * lib/) of an image's layers, copied into a directory on the host.
 *
 * Two passes over the layers. The first reads only the tar headers and
 * works out which entry of which layer is the final file for each name
 * (a later layer's file, whiteout or non-file replaces an earlier one), then
 * checks every name against the target. Only when no name conflicts does the
 * second pass write anything: each winning entry goes to a temporary name in
 * its target directory, and once all are written they are renamed into
 * place. So a conflict without replace, or a failure before the renames,
 * leaves the target as it was. Names from the tar are hostile: only a single
 * plain component below bin/ or lib/ is taken, and the target's bin/ and
 * lib/ are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). */
#include <ctr/image.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "content-ns.h"
#include "error.h"
#include "fs.h"
#include "image-ns.h"
#include "layer-archive.h"
#include "resolve.h"
#include "macro.h"

#define INSTALL_DEFAULT_PATH "/opt/libctr"
/* More files than any real bin/ holds; bounds the memory a hostile layer can make us use. */
#define INSTALL_MAX_FILES 4096

struct install_cfg {
	char *path;
	bool replace, libs;
};

static int apply_path(void *t, void *ud, ctr_error **err)
{
	struct install_cfg *c = t;
	const char *p = ud;
	if (p[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "install path \"%.200s\": not absolute", p);
	free(c->path);
	return (c->path = strdup(p)) ? 0 : ctr_err_nomem(err);
}

CTR_EXPORT ctr_opt *ctr_with_install_path(const char *path)
{
	return path ? ctr_opt_make_str(CTR_OPT_INSTALL, "ctr_with_install_path", apply_path, path) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_install_replace(void)
{
	return ctr_opt_make_flag(CTR_OPT_INSTALL, "ctr_with_install_replace", offsetof(struct install_cfg, replace));
}

CTR_EXPORT ctr_opt *ctr_with_install_libs(void)
{
	return ctr_opt_make_flag(CTR_OPT_INSTALL, "ctr_with_install_libs", offsetof(struct install_cfg, libs));
}

enum { DIR_BIN, DIR_LIB, N_DIRS };
static const char *const dir_names[N_DIRS] = {"bin", "lib"};

struct inst_file {
	int dir;
	char *base;
	size_t layer;   /* the winning entry: layer index */
	uint64_t entry; /* and entry index within it */
	mode_t perm;
	int64_t mtime;
	char *tmp; /* temporary name once written */
};

struct inst {
	const struct install_cfg *cfg;
	struct inst_file *v;
	size_t n, cap;
	size_t layer;
	uint64_t entry;
	/* second pass */
	int dirfd[N_DIRS];
	size_t next; /* cursor into v, sorted by (layer, entry) */
	unsigned seq;
};

/* Splits "bin/NAME" (or "lib/NAME" with libs): the directory and NAME, a
 * single component. -1 for any other name. */
static int split_name(const struct inst *in, const char *name, const char **base)
{
	for (int d = 0; d < N_DIRS; d++) {
		if (d == DIR_LIB && !in->cfg->libs)
			continue;
		size_t l = strlen(dir_names[d]);
		if (strncmp(name, dir_names[d], l) || name[l] != '/')
			continue;
		const char *b = name + l + 1;
		if (!*b || strchr(b, '/') || !strcmp(b, ".") || !strcmp(b, ".."))
			return -1;
		*base = b;
		return d;
	}
	return -1;
}

static void drop_file(struct inst *in, size_t i)
{
	free(in->v[i].base);
	free(in->v[i].tmp);
	in->v[i] = in->v[--in->n];
}

static ssize_t find_file(const struct inst *in, int dir, const char *base)
{
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i].dir == dir && !strcmp(in->v[i].base, base))
			return (ssize_t)i;
	return -1;
}

static int scan_entry(void *ud, const struct ctr_archive_entry *e, ctr_archive_data *data, ctr_error **err)
{
	(void)data;
	struct inst *in = ud;
	uint64_t idx = in->entry++;
	const char *base;
	int dir = split_name(in, e->name, &base);
	if (dir < 0)
		return 0;
	if (!strcmp(base, ".wh..wh..opq")) {
		for (size_t i = in->n; i-- > 0;)
			if (in->v[i].dir == dir)
				drop_file(in, i);
		return 0;
	}
	bool whiteout = !strncmp(base, ".wh.", 4);
	ssize_t at = find_file(in, dir, whiteout ? base + 4 : base);
	if (whiteout || e->type != S_IFREG || e->hardlink) {
		/* The name is no longer a regular file of this layer's own. */
		if (at >= 0)
			drop_file(in, (size_t)at);
		return 0;
	}
	if (at < 0) {
		if (in->n >= INSTALL_MAX_FILES)
			return ctr_err(err, CTR_EINVAL, 0, "more than %d files to install", INSTALL_MAX_FILES);
		if (in->n == in->cap) {
			size_t cap = in->cap ? in->cap * 2 : 16;
			struct inst_file *nv = realloc(in->v, cap * sizeof(*nv));
			if (!nv)
				return ctr_err_nomem(err);
			in->v = nv;
			in->cap = cap;
		}
		char *b = strdup(base);
		if (!b)
			return ctr_err_nomem(err);
		at = (ssize_t)in->n++;
		in->v[at] = (struct inst_file){.dir = dir, .base = b};
	}
	struct inst_file *f = &in->v[at];
	f->layer = in->layer;
	f->entry = idx;
	f->perm = e->perm & 0777;
	f->mtime = e->mtime;
	return 0;
}

static int write_data(int fd, ctr_archive_data *data, const char *what, ctr_error **err)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = ctr_archive_data_read(data, buf, sizeof(buf), err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		if (ctr_write_all(fd, buf, (size_t)n) < 0)
			return ctr_err_errno(err, errno, "write %s", what);
	}
}

static int write_entry(void *ud, const struct ctr_archive_entry *e, ctr_archive_data *data, ctr_error **err)
{
	(void)e;
	struct inst *in = ud;
	uint64_t idx = in->entry++;
	if (in->next >= in->n || in->v[in->next].layer != in->layer || in->v[in->next].entry != idx)
		return 0;
	struct inst_file *f = &in->v[in->next++];
	int dfd = in->dirfd[f->dir];
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".ctr-install.%ld.%u", (long)getpid(), in->seq++);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctr_err_errno(err, errno, "create %s/%s", dir_names[f->dir], tmp);
	if (!(f->tmp = strdup(tmp))) {
		unlinkat(dfd, tmp, 0);
		return ctr_err_nomem(err);
	}
	int r = write_data(fd, data, f->base, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s/%s", dir_names[f->dir], f->base);
	const struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = f->mtime}};
	if (fchmod(fd, f->perm) < 0 || futimens(fd, ts) < 0)
		return ctr_err_errno(err, errno, "%s/%s: set mode", dir_names[f->dir], f->base);
	return 0;
}

/* Runs fn over every layer of m, in order. */
static int each_layer(ctr_image *img, const struct ctr_call *call, const struct ctr_manifest *m,
		      ctr_archive_entry_fn fn, struct inst *in, ctr_error **err)
{
	for (size_t l = 0; l < m->n_layers; l++) {
		const char *dg = m->layers[l].digest;
		in->layer = l;
		in->entry = 0;
		ctr_content_reader *rd = NULL;
		int r = ctr_contents_reader_open(&rd, img->c, dg, call, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "layer %s", dg);
		struct ctr_archive_fd_src src = {.fd = rd->fd, .what = dg};
		ctr_decompress *d = NULL;
		struct ctr_decompress_stats ds;
		r = ctr_decompress_new(&d, ctr_archive_fd_read, &src, NULL, err);
		if (r == 0)
			r = ctr_archive_each(ctr_decompress_read, d, fn, in, err);
		if (r == 0)
			r = ctr_decompress_finish(d, &ds, err);
		ctr_decompress_free(d);
		ctr_content_reader_free(rd);
		if (r == 0 && strcmp(ds.compressed_digest, dg) != 0)
			r = ctr_err(err, CTR_EDIGEST, 0, "blob is %s", ds.compressed_digest);
		if (r < 0)
			return ctr_err_prefix(err, r, "layer %s", dg);
	}
	return 0;
}

/* Opens PATH/NAME without following a symlink; CTR_ENOTFOUND when absent. */
static int open_dir(int rootfd, const char *path, const char *name, ctr_error **err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOENT)
		return CTR_ENOTFOUND;
	if (errno == ELOOP)
		return ctr_err(err, CTR_EINVAL, 0, "%s/%s is a symlink", path, name);
	if (errno == ENOTDIR)
		return ctr_err(err, CTR_EINVAL, ENOTDIR, "%s/%s is not a directory", path, name);
	return ctr_err_errno(err, errno, "open %s/%s", path, name);
}

/* Every name against the target, before anything is written. */
static int check_conflicts(const struct inst *in, const char *path, const int dirfd[N_DIRS], ctr_error **err)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct inst_file *f = &in->v[i];
		if (dirfd[f->dir] < 0)
			continue;
		struct stat st;
		if (fstatat(dirfd[f->dir], f->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return ctr_err_errno(err, errno, "stat %s/%s/%s", path, dir_names[f->dir], f->base);
		}
		if (!in->cfg->replace)
			return ctr_err(err, CTR_EEXISTS, 0, "cannot replace %s/%s in %s", dir_names[f->dir], f->base,
				       path);
		if (S_ISDIR(st.st_mode))
			return ctr_err(err, CTR_EEXISTS, 0, "cannot replace %s/%s in %s: a directory",
				       dir_names[f->dir], f->base, path);
	}
	return 0;
}

static int by_position(const void *a, const void *b)
{
	const struct inst_file *x = a, *y = b;
	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int install_files(struct inst *in, ctr_image *img, const struct ctr_call *call,
			 const struct ctr_manifest *m, const char *path, ctr_error **err)
{
	_cleanup_close_ int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 && errno != ENOENT)
		return ctr_err_errno(err, errno, "open %s", path);
	int dirfd[N_DIRS] = {-1, -1};
	int r = 0;
	for (int d = 0; d < N_DIRS && rootfd >= 0; d++)
		if ((dirfd[d] = open_dir(rootfd, path, dir_names[d], err)) < 0 && dirfd[d] != CTR_ENOTFOUND) {
			r = dirfd[d];
			goto out;
		}
	if ((r = check_conflicts(in, path, dirfd, err)) < 0 || in->n == 0)
		goto out;
	/* No conflict: from here on the target changes. */
	if (rootfd < 0) {
		if ((r = ctr_mkdir_p(path, 0755, err)) < 0)
			goto out;
		if ((rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = ctr_err_errno(err, errno, "open %s", path);
			goto out;
		}
	}
	for (size_t i = 0; i < in->n; i++) {
		int d = in->v[i].dir;
		if (dirfd[d] >= 0)
			continue;
		if (mkdirat(rootfd, dir_names[d], 0755) < 0 && errno != EEXIST) {
			r = ctr_err_errno(err, errno, "mkdir %s/%s", path, dir_names[d]);
			goto out;
		}
		if ((dirfd[d] = open_dir(rootfd, path, dir_names[d], err)) < 0) {
			r = dirfd[d] == CTR_ENOTFOUND ? ctr_err(err, CTR_ENOTFOUND, 0, "%s/%s vanished", path,
							       dir_names[d])
						      : dirfd[d];
			goto out;
		}
	}
	qsort(in->v, in->n, sizeof(*in->v), by_position);
	memcpy(in->dirfd, dirfd, sizeof(dirfd));
	in->next = 0;
	if ((r = each_layer(img, call, m, write_entry, in, err)) < 0)
		goto out;
	if (in->next != in->n) {
		r = ctr_err(err, CTR_EIO, 0, "layers changed between passes");
		goto out;
	}
	for (size_t i = 0; i < in->n; i++) {
		struct inst_file *f = &in->v[i];
		unsigned flags = in->cfg->replace ? 0 : RENAME_NOREPLACE;
		if (renameat2(dirfd[f->dir], f->tmp, dirfd[f->dir], f->base, flags) < 0) {
			r = errno == EEXIST ? ctr_err(err, CTR_EEXISTS, EEXIST, "cannot replace %s/%s in %s",
						      dir_names[f->dir], f->base, path)
					    : ctr_err_errno(err, errno, "rename %s/%s/%s", path, dir_names[f->dir],
							    f->base);
			goto out;
		}
		free(f->tmp);
		f->tmp = NULL;
	}
out:
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i].tmp)
			unlinkat(dirfd[in->v[i].dir], in->v[i].tmp, 0);
	for (int d = 0; d < N_DIRS; d++)
		if (dirfd[d] >= 0)
			close(dirfd[d]);
	return r;
}

CTR_EXPORT int ctr_image_install(ctr_image *img, const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!img)
		return ctr_err(err, CTR_EINVAL, 0, "install: image is NULL");
	struct install_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_INSTALL, &cfg, &call, opts, n_opts, "install", err);
	if (r < 0) {
		free(cfg.path);
		return r;
	}
	call.ns = img->ns; /* the image's content lives in its namespace */
	const char *path = cfg.path ? cfg.path : INSTALL_DEFAULT_PATH;
	struct ctr_platform_matcher pm;
	struct ctr_manifest m = {0};
	struct ctr_image_config ic = {0};
	struct inst in = {.cfg = &cfg};
	r = ctr_platform_matcher_for(&pm, (const char *const *)img->platforms, err);
	if (r == 0)
		r = ctr_image_resolve(img->c, img->ns, img->md.media_type, img->md.digest, &pm, &m, NULL, &ic, err);
	if (r == 0)
		r = each_layer(img, &call, &m, scan_entry, &in, err);
	if (r == 0)
		r = install_files(&in, img, &call, &m, path, err);
	while (in.n)
		drop_file(&in, in.n - 1);
	free(in.v);
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&ic);
	free(cfg.path);
	return r < 0 ? ctr_err_prefix(err, r, "install %s", img->md.name) : 0;
}
