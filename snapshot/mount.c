#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "idmap.h"
#include "macro.h"
#include "strv.h"

void ctr_mount_clear(struct ctr_mount *m)
{
	if (!m)
		return;
	free(m->type);
	free(m->source);
	ctr_strv_free(m->options);
	memset(m, 0, sizeof(*m));
}

void ctr_mounts_free(struct ctr_mount *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_mount_clear(&v[i]);
	free(v);
}

int ctr_mount_init(struct ctr_mount *m, const char *type, const char *source,
		   const char *const *options, ctr_error **err)
{
	struct ctr_mount r = {0};
	r.type = strdup(type);
	r.source = strdup(source);
	r.options = ctr_strv_dup(options);
	if (!r.type || !r.source || !r.options) {
		ctr_mount_clear(&r);
		return ctr_err_nomem(err);
	}
	*m = r;
	return 0;
}

struct flagopt {
	const char *name;
	bool clear;
	unsigned long flag;
};

/* The option words mount(8) knows as flags; the rest is fs data. */
static const struct flagopt flagopts[] = {
	{"async", true, MS_SYNCHRONOUS}, {"atime", true, MS_NOATIME}, {"bind", false, MS_BIND},
	{"defaults", false, 0}, {"dev", true, MS_NODEV}, {"diratime", true, MS_NODIRATIME},
	{"dirsync", false, MS_DIRSYNC}, {"exec", true, MS_NOEXEC}, {"mand", false, MS_MANDLOCK},
	{"noatime", false, MS_NOATIME}, {"nodev", false, MS_NODEV}, {"nodiratime", false, MS_NODIRATIME},
	{"noexec", false, MS_NOEXEC}, {"nomand", true, MS_MANDLOCK}, {"norelatime", true, MS_RELATIME},
	{"nostrictatime", true, MS_STRICTATIME}, {"nosuid", false, MS_NOSUID}, {"rbind", false, MS_BIND | MS_REC},
	{"relatime", false, MS_RELATIME}, {"remount", false, MS_REMOUNT}, {"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY}, {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
	{"sync", false, MS_SYNCHRONOUS},
};

static const struct {
	const char *name;
	unsigned long flag;
} propopts[] = {
	{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
	{"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct parsed {
	unsigned long flags;
	unsigned long prop;
	char *data; /* comma-joined fs options */
	const char *uidmap, *gidmap; /* "uidmap=", "gidmap=" (containerd's idmapped mounts) */
};

static bool is_idmap_opt(const char *o)
{
	return !strncmp(o, "uidmap=", 7) || !strncmp(o, "gidmap=", 7);
}

/* The user namespace for a mount's uidmap= and gidmap= options: -1 when
 * it has none, else the fd or a CTR_E* code (< -1 never collides: codes
 * are below -1). */
static int idmap_userns(const struct parsed *p, ctr_error **err)
{
	if (!p->uidmap && !p->gidmap)
		return -1;
	if (!p->uidmap || !p->gidmap)
		return ctr_err(err, CTR_EINVAL, 0, "mount: uidmap= and gidmap= go together");
	struct ctr_idmap m;
	int r = ctr_idmap_parse(m.uid, &m.n_uid, p->uidmap, "mount option uidmap", err);
	if (r == 0)
		r = ctr_idmap_parse(m.gid, &m.n_gid, p->gidmap, "mount option gidmap", err);
	return r < 0 ? r : ctr_idmap_userns_fd(&m, err);
}

/* A detached copy of the tree at path, idmapped through userns (and
 * read-only with ro). Returns the fd or a CTR_E* code. */
static int idmapped_tree(const char *path, int userns, bool ro, bool recursive, ctr_error **err)
{
	int t = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (t < 0)
		return ctr_err_errno(err, errno, "idmapped mount: open_tree %s", path);
	struct mount_attr at = {.attr_set = MOUNT_ATTR_IDMAP | (ro ? MOUNT_ATTR_RDONLY : 0),
				.userns_fd = (uint64_t)userns};
	if (mount_setattr(t, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &at, sizeof(at)) < 0) {
		int e = errno;
		close(t);
		return ctr_err(err, e == EINVAL || e == ENOSYS ? CTR_ENOTSUP : ctr_errno_code(e), e,
			       "idmapped mount of %s: %s", path, strerror(e));
	}
	return t;
}

static int parse_options(char *const *opts, struct parsed *p, ctr_error **err)
{
	memset(p, 0, sizeof(*p));
	size_t cap = 1;
	for (size_t i = 0; opts && opts[i]; i++)
		cap += strlen(opts[i]) + 1;
	p->data = calloc(1, cap);
	if (!p->data)
		return ctr_err_nomem(err);
	for (size_t i = 0; opts && opts[i]; i++) {
		const char *o = opts[i];
		bool done = false;
		for (size_t k = 0; k < CTR_ARRAY_SIZE(flagopts) && !done; k++)
			if (!strcmp(o, flagopts[k].name)) {
				if (flagopts[k].clear)
					p->flags &= ~flagopts[k].flag;
				else
					p->flags |= flagopts[k].flag;
				done = true;
			}
		for (size_t k = 0; k < CTR_ARRAY_SIZE(propopts) && !done; k++)
			if (!strcmp(o, propopts[k].name)) {
				p->prop |= propopts[k].flag;
				done = true;
			}
		if (done)
			continue;
		if (!strncmp(o, "uidmap=", 7) || !strncmp(o, "gidmap=", 7)) {
			*(o[0] == 'u' ? &p->uidmap : &p->gidmap) = o + 7;
			continue;
		}
		if (strchr(o, ',')) {
			free(p->data);
			p->data = NULL;
			return ctr_err(err, CTR_EINVAL, 0, "mount option \"%.100s\" contains a comma", o);
		}
		if (*p->data)
			strcat(p->data, ",");
		strcat(p->data, o);
	}
	return 0;
}

static unsigned int attr_flags(unsigned long f)
{
	unsigned int a = 0;
	if (f & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (f & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (f & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (f & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (f & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	if (f & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	return a;
}

/* overlay through the new mount API: one fsconfig per lower layer. Returns
 * CTR_ENOTSUP when the kernel lacks fsopen or "lowerdir+" so the caller
 * falls back to mount(2). With target NULL, the detached mount's fd is
 * returned in *mnt_out instead of being moved into the tree. */
static int overlay_fsconfig_fds(const struct ctr_mount *m, const struct parsed *p, const char *target,
				int *mnt_out, bool detached_rw, int userns, int **trees, size_t *n_trees,
				ctr_error **err);

static int overlay_fsconfig(const struct ctr_mount *m, const struct parsed *p, const char *target,
			    int *mnt_out, bool detached_rw, ctr_error **err)
{
	int ns = idmap_userns(p, err);
	if (ns < -1)
		return ns;
	_cleanup_close_ int userns = ns;
	/* The idmapped lowers stay open until the overlay is created: a
	 * detached tree whose last fd goes is no longer mounted, and overlay
	 * clones each lower at creation. */
	struct fdv {
		int *v;
		size_t n;
	} trees = {0};
	int r = overlay_fsconfig_fds(m, p, target, mnt_out, detached_rw, userns, &trees.v, &trees.n, err);
	for (size_t i = 0; i < trees.n; i++)
		close(trees.v[i]);
	free(trees.v);
	return r;
}

static int overlay_fsconfig_fds(const struct ctr_mount *m, const struct parsed *p, const char *target,
				int *mnt_out, bool detached_rw, int userns, int **trees, size_t *n_trees,
				ctr_error **err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return (errno == ENOSYS || errno == ENODEV) ? CTR_ENOTSUP : ctr_err_errno(err, errno, "fsopen overlay");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
		return ctr_err_errno(err, errno, "overlay: source");
	for (char **o = m->options; o && *o; o++) {
		const char *opt = *o;
		bool is_flag = false;
		for (size_t k = 0; k < CTR_ARRAY_SIZE(flagopts); k++)
			if (!strcmp(opt, flagopts[k].name))
				is_flag = true;
		for (size_t k = 0; k < CTR_ARRAY_SIZE(propopts); k++)
			if (!strcmp(opt, propopts[k].name))
				is_flag = true;
		if (is_flag || is_idmap_opt(opt))
			continue;
		if (!strncmp(opt, "lowerdir=", 9)) {
			_cleanup_free_ char *dirs = strdup(opt + 9);
			if (!dirs)
				return ctr_err_nomem(err);
			char *save = NULL;
			for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
				if (userns >= 0) {
					/* containerd idmaps the lower layers, not the
					 * overlay: a copy-up then keeps the host IDs. */
					int *nv = realloc(*trees, (*n_trees + 1) * sizeof(int));
					if (!nv)
						return ctr_err_nomem(err);
					*trees = nv;
					int t = idmapped_tree(d, userns, false, false, err);
					if (t < 0)
						return t;
					nv[(*n_trees)++] = t;
					int q = fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, t);
					int e = errno;
					if (q < 0)
						return ctr_err(err, e == EINVAL ? CTR_ENOTSUP : ctr_errno_code(e), e,
							       "overlay: idmapped lowerdir %s: %s", d, strerror(e));
					continue;
				}
				if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", d, 0) < 0) {
					if (errno == EINVAL && d == dirs)
						return CTR_ENOTSUP; /* kernel without lowerdir+ */
					return ctr_err_errno(err, errno, "overlay: lowerdir %s", d);
				}
			}
			continue;
		}
		const char *eq = strchr(opt, '=');
		int r;
		if (eq) {
			_cleanup_free_ char *key = strndup(opt, (size_t)(eq - opt));
			if (!key)
				return ctr_err_nomem(err);
			r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (r < 0)
			return ctr_err_errno(err, errno, "overlay: option %s", opt);
	}
	/* A detached mount only ever read (target NULL) gets a read-only
	 * superblock, not just a read-only mount: closing the last fd of a
	 * writable overlay syncs its upper filesystem, which on a busy disk
	 * took longer than the rest of `lctr run` together. */
	if (!target && !detached_rw && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		return ctr_err_errno(err, errno, "overlay: ro");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ctr_err_errno(err, errno, "overlay: create");
	_cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attr_flags(p->flags));
	if (mnt < 0)
		return ctr_err_errno(err, errno, "overlay: fsmount");
	if (!target) {
		*mnt_out = TAKE_FD(mnt);
		return 0;
	}
	if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return ctr_err_errno(err, errno, "overlay: move_mount to %s", target);
	return 0;
}

int ctr_mount_apply(const struct ctr_mount *m, const char *target, ctr_error **err)
{
	struct parsed p;
	int r = parse_options(m->options, &p, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *data = p.data;
	if (!strcmp(m->type, "overlay")) {
		r = overlay_fsconfig(m, &p, target, NULL, false, err);
		if (r != CTR_ENOTSUP || p.uidmap || p.gidmap)
			goto prop;
		r = 0;
		long page = sysconf(_SC_PAGESIZE);
		if ((long)strlen(data) >= page - 1)
			return ctr_err(err, CTR_EINVAL, 0,
				       "overlay options are %zu bytes, over the page size, and the kernel has no lowerdir+",
				       strlen(data));
	}
	bool bind = (p.flags & MS_BIND) || !strcmp(m->type, "bind") || !strcmp(m->type, "rbind");
	if (bind && (p.uidmap || p.gidmap)) {
		/* an idmapped clone of the source, moved onto target */
		int ns = idmap_userns(&p, err);
		if (ns < -1)
			return ns;
		_cleanup_close_ int userns = ns;
		bool rec = (p.flags & MS_REC) || !strcmp(m->type, "rbind");
		_cleanup_close_ int t = idmapped_tree(m->source, userns, p.flags & MS_RDONLY, rec, err);
		if (t < 0)
			return t;
		if (move_mount(t, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return ctr_err_errno(err, errno, "idmapped mount %s on %s", m->source, target);
		unsigned int a = attr_flags(p.flags & ~MS_RDONLY);
		struct mount_attr ma = {.attr_set = a};
		if (a && mount_setattr(AT_FDCWD, target, 0, &ma, sizeof(ma)) < 0) {
			int e = errno;
			umount2(target, MNT_DETACH);
			return ctr_err_errno(err, e, "mount attributes of %s", target);
		}
	} else if (bind) {
		unsigned long bf = MS_BIND | (p.flags & MS_REC) | (!strcmp(m->type, "rbind") ? MS_REC : 0);
		if (mount(m->source, target, NULL, bf, NULL) < 0)
			return ctr_err_errno(err, errno, "bind mount %s on %s", m->source, target);
		unsigned long rf = p.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
		if (rf && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | rf, NULL) < 0) {
			int e = errno;
			umount2(target, MNT_DETACH);
			return ctr_err_errno(err, e, "remount %s", target);
		}
	} else if (mount(m->source, target, m->type, p.flags, *data ? data : NULL) < 0) {
		return ctr_err_errno(err, errno, "mount %s (%s) on %s", m->source, m->type, target);
	}
prop:
	if (r == 0 && p.prop && mount(NULL, target, NULL, p.prop, NULL) < 0)
		return ctr_err_errno(err, errno, "set propagation of %s", target);
	return r;
}

static int open_tree_of(const struct ctr_mount *ms, size_t n, bool rw, int *fd, ctr_error **err)
{
	if (n != 1)
		return ctr_err(err, CTR_ENOTSUP, 0, "open root: %zu mounts", n);
	const struct ctr_mount *m = &ms[0];
	struct parsed p;
	int r = parse_options(m->options, &p, err);
	if (r < 0)
		return r;
	free(p.data); /* only the flags matter here */
	p.data = NULL;
	if (!strcmp(m->type, "bind") || !strcmp(m->type, "rbind") || (p.flags & MS_BIND)) {
		/* The source as it is on disk: an idmapping is for mounting. */
		int f = open(m->source, (rw ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
		if (f < 0)
			return ctr_err_errno(err, errno, "open %s", m->source);
		*fd = f;
		return 0;
	}
	if (!strcmp(m->type, "overlay")) {
		if (!rw)
			p.flags |= MS_RDONLY;
		int mnt = -1;
		r = overlay_fsconfig(m, &p, NULL, &mnt, rw, err);
		if (r == CTR_ENOTSUP)
			return ctr_err(err, CTR_ENOTSUP, 0, "open root: the kernel has no fsmount overlay");
		if (r == 0)
			*fd = mnt;
		return r;
	}
	return ctr_err(err, CTR_ENOTSUP, 0, "open root: mount type %s", m->type);
}

int ctr_mounts_open_root(const struct ctr_mount *ms, size_t n, int *fd, ctr_error **err)
{
	return open_tree_of(ms, n, false, fd, err);
}

int ctr_mounts_open_root_rw(const struct ctr_mount *ms, size_t n, int *fd, ctr_error **err)
{
	return open_tree_of(ms, n, true, fd, err);
}

int ctr_mounts_apply(const struct ctr_mount *ms, size_t n, const char *target, ctr_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = ctr_mount_apply(&ms[i], target, err);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				umount2(target, MNT_DETACH);
			return r;
		}
	}
	return 0;
}

int ctr_unmount(const char *target, bool all, ctr_error **err)
{
	for (int tries = 0;;) {
		if (umount2(target, UMOUNT_NOFOLLOW) == 0) {
			if (all)
				continue;
			return 0;
		}
		if (errno == EINVAL || errno == ENOENT)
			return 0; /* not (or no longer) mounted */
		if (errno == EBUSY && ++tries < 50) {
			usleep(10000 * (useconds_t)(tries < 10 ? tries : 10));
			continue;
		}
		return ctr_err_errno(err, errno, "unmount %s", target);
	}
}

bool ctr_is_mountpoint(const char *target)
{
	struct statx sx;
	if (statx(AT_FDCWD, target, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	struct stat a, b;
	_cleanup_free_ char *parent = NULL;
	if (asprintf(&parent, "%s/..", target) < 0 || stat(target, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}
