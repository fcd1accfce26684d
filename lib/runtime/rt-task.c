/* Tasks: the bundle in the state directory, `runc create` through the init
 * shim, and the runc verbs that act on the whole container. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "runtime-priv.h"
#include "fs.h"
#include "proc.h"
#include "ident.h"
#include "json.h"
#include "macro.h"

int ctr_rt_container_dir(char **out, const char *state_dir, const char *ns, const char *id,
			 ctr_error **err)
{
	int r = ctr_ident_validate(ns, "namespace", err);
	if (r < 0)
		return r;
	r = ctr_ident_validate(id, "container id", err);
	if (r < 0)
		return r;
	if (!state_dir || state_dir[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "state directory must be an absolute path");
	if (asprintf(out, "%s/" CTR_RT_DIR "/%s/%s", state_dir, ns, id) < 0)
		return ctr_err_nomem(err);
	return 0;
}

/* The host gid of the container's gid 0 when the spec has a user
 * namespace with gid mappings (containerd's remappedGID), else -1. */
static long long remapped_gid(json_t *spec)
{
	json_t *maps = json_object_get(json_object_get(spec, "linux"), "gidMappings");
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m) {
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t h = json_integer_value(json_object_get(m, "hostID"));
		json_int_t n = json_integer_value(json_object_get(m, "size"));
		if (c == 0 && n > 0 && h >= 0 && h <= UINT32_MAX)
			return (long long)h;
	}
	return -1;
}

/* As containerd lets a remapped container's root reach its bundle: the
 * bundle belongs to its gid with mode 0710, and the directories above it
 * up to the state directory can be traversed by anyone (0711). */
static int userns_access(int dfd, const char *dir, const char *state_dir, gid_t gid, ctr_error **err)
{
	if (fchown(dfd, (uid_t)-1, gid) < 0 || fchmod(dfd, 0710) < 0)
		return ctr_err_errno(err, errno, "task bundle %s: give the user namespace's root access", dir);
	_cleanup_free_ char *p = strdup(dir);
	if (!p)
		return ctr_err_nomem(err);
	size_t base = strlen(state_dir);
	while (base > 1 && state_dir[base - 1] == '/')
		base--;
	for (char *slash = strrchr(p, '/'); slash && (size_t)(slash - p) >= base; slash = strrchr(p, '/')) {
		*slash = 0;
		struct stat st;
		if (stat(p, &st) < 0)
			return ctr_err_errno(err, errno, "stat %s", p);
		if ((st.st_mode & 0011) != 0011 && chmod(p, (st.st_mode & 07777) | 0011) < 0)
			return ctr_err_errno(err, errno, "chmod %s", p);
		if ((size_t)(slash - p) == base)
			break;
	}
	return 0;
}

/* Who prepared the bundle (ctr_proc_creator). */
#define BUNDLE_CREATOR "creator"

/* A bundle without its runtime file is one a new task never got past: its
 * process was killed between the bundle and the shim (the crash test), as
 * create writes that file after init/ and just before it starts the shim,
 * and nothing loads a task without it. Its rootfs may still be mounted and
 * init/ may exist, holding no shim. Removes it and makes the directory
 * afresh; true on success. */
static bool left_by_dead_start(const char *state_dir, const char *ns, const char *id, const char *dir)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0 || faccessat(dfd, "runtime", F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	if (faccessat(dfd, "init/" CTR_SHIM_PID_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	/* Its maker, when it got as far as naming itself, must be gone: a
	 * bundle still being made, or one a live caller prepared and has not
	 * created yet, stays. */
	_cleanup_free_ char *who = NULL;
	size_t n = 0;
	if (ctr_read_file(dfd, BUNDLE_CREATOR, CTR_PROC_CREATOR_MAX, &who, &n, NULL) == 0 &&
	    !ctr_proc_creator_gone(who))
		return false;
	_cleanup_free_ char *rootfs = NULL;
	if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
		return false;
	while (umount2(rootfs, MNT_DETACH) == 0)
		;
	if (ctr_rm_rf_at(dfd, "init", NULL) < 0 || ctr_rt_bundle_remove(state_dir, ns, id, NULL) < 0)
		return false;
	return mkdir(dir, 0700) == 0;
}

int ctr_rt_bundle_prepare(char **dir_out, const char *state_dir, const char *ns, const char *id,
			  const char *config_json, const char *rootfs, bool terminal, ctr_error **err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ctr_rt_container_dir(&dir, state_dir, ns, id, err);
	if (r < 0)
		return r;
	if (!config_json)
		return ctr_err(err, CTR_EINVAL, 0, "task %s: no spec", id);
	if (rootfs && rootfs[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "task %s: rootfs %s is not absolute", id, rootfs);
	json_t *spec = NULL;
	r = ctr_json_parse(config_json, strlen(config_json), CTR_RT_SPEC_MAX, CTR_JSON_MAX_DEPTH,
			   "config.json", &spec, err);
	if (r < 0)
		return r;
	json_t *proc = json_object_get(spec, "process");
	if (!json_is_object(spec) || !json_is_object(proc)) {
		json_decref(spec);
		return ctr_err(err, CTR_EINVAL, 0, "task %s: spec has no process object", id);
	}
	json_object_set_new(proc, "terminal", json_boolean(terminal));
	json_t *root = json_object_get(spec, "root");
	if (!json_is_object(root)) {
		root = json_object();
		json_object_set_new(spec, "root", root);
	}
	json_object_set_new(root, "path", json_string(rootfs ? rootfs : "rootfs"));
	long long userns_gid = remapped_gid(spec);
	_cleanup_free_ char *text = ctr_json_dump(spec);
	json_decref(spec);
	if (!text)
		return ctr_err_nomem(err);

	_cleanup_free_ char *parent = strdup(dir);
	if (!parent)
		return ctr_err_nomem(err);
	*strrchr(parent, '/') = 0;
	r = ctr_mkdir_p(parent, 0700, err);
	if (r < 0)
		return r;
	int e = mkdir(dir, 0700) < 0 ? errno : 0;
	if (e == EEXIST && left_by_dead_start(state_dir, ns, id, dir))
		e = 0;
	if (e == EEXIST)
		return ctr_err(err, CTR_EEXISTS, EEXIST, "task %s exists in namespace %s", id, ns);
	if (e)
		return ctr_err_errno(err, e, "mkdir %s", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		r = ctr_err_errno(err, errno, "open %s", dir);
	if (r == 0 && userns_gid >= 0)
		r = userns_access(dfd, dir, state_dir, (gid_t)userns_gid, err);
	char who[CTR_PROC_CREATOR_MAX];
	if (r == 0 && ctr_proc_creator(who, sizeof(who)) == 0)
		r = ctr_write_atomic(dfd, BUNDLE_CREATOR, who, strlen(who), 0600, err);
	if (r == 0)
		r = ctr_write_atomic_nosync(dfd, "config.json", text, strlen(text), 0600, err);
	if (r == 0 && !rootfs && mkdirat(dfd, "rootfs", 0755) < 0)
		r = ctr_err_errno(err, errno, "mkdir %s/rootfs", dir);
	if (r < 0) {
		ctr_rm_rf_at(AT_FDCWD, dir, NULL);
		return r;
	}
	*dir_out = TAKE_PTR(dir);
	return 0;
}

static int task_open(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		     ctr_error **err)
{
	ctr_rt_task *t = calloc(1, sizeof(*t));
	if (!t)
		return ctr_err_nomem(err);
	t->dir_fd = -1;
	t->init.dir_fd = t->init.pidfd = -1;
	t->init.stream_fd[0] = t->init.stream_fd[1] = t->init.stream_fd[2] = -1;
	int r = ctr_rt_container_dir(&t->dir, state_dir, ns, id, err);
	if (r < 0)
		goto fail;
	if (!(t->ns = strdup(ns)) || !(t->id = strdup(id)) || !(t->state = strdup(state_dir)) ||
	    asprintf(&t->runc_root, "%s/runc", t->dir) < 0) {
		t->runc_root = NULL;
		r = ctr_err_nomem(err);
		goto fail;
	}
	t->dir_fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (t->dir_fd < 0) {
		r = errno == ENOENT ? ctr_err(err, CTR_ENOTFOUND, 0, "task \"%s\": not found", id)
				    : ctr_err_errno(err, errno, "open %s", t->dir);
		goto fail;
	}
	r = ctr_rt_proc_init_fields(&t->init, t, NULL, err);
	if (r < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	ctr_rt_task_free(t);
	return r;
}

void ctr_rt_task_free(ctr_rt_task *t)
{
	if (!t)
		return;
	ctr_rt_proc_clear(&t->init);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	free(t->dir);
	free(t->state);
	free(t->runc_root);
	free(t->runtime);
	free(t->criu);
	free(t->ns);
	free(t->id);
	free(t->shim_cgroup);
	free(t);
}

/* A path runc or the shim gets: absolute, no "." or ".." component, no
 * newline (it goes into runc.opts, one a line). */
static int clean_abs_path(const char *p, const char *what, ctr_error **err)
{
	if (!p)
		return 0;
	if (p[0] != '/' || strchr(p, '\n') || strlen(p) >= PATH_MAX - 128)
		return ctr_err(err, CTR_EINVAL, 0, "%s \"%.200s\": want an absolute path", what, p);
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return ctr_err(err, CTR_EINVAL, 0, "%s \"%.200s\": \".\" and \"..\" are not allowed", what,
				       p);
		c += n;
	}
	return 0;
}

int ctr_rt_opts_validate(const struct ctr_rt_opts *ro, ctr_error **err)
{
	if (ro->binary && (!*ro->binary || strchr(ro->binary, '\n')))
		return ctr_err(err, CTR_EINVAL, 0, "bad runtime name");
	if (ro->criu && (!*ro->criu || strchr(ro->criu, '\n') || strlen(ro->criu) >= PATH_MAX - 128))
		return ctr_err(err, CTR_EINVAL, 0, "bad criu path");
	int r = clean_abs_path(ro->root, "runc root", err);
	if (r == 0)
		r = clean_abs_path(ro->shim_cgroup, "shim cgroup", err);
	return r;
}

/* runc.opts: what every runc call of this task passes (see proto.h). */
static int runc_opts_write(ctr_rt_task *t, const struct ctr_rt_opts *ro, ctr_error **err)
{
	if (!ro->root && !ro->criu && !ro->systemd_cgroup && !ro->io_uid && !ro->io_gid)
		return 0;
	_cleanup_free_ char *text = NULL;
	char owner[64] = "";
	if (ro->io_uid || ro->io_gid)
		snprintf(owner, sizeof(owner), "io-uid %u\nio-gid %u\n", ro->io_uid, ro->io_gid);
	if (asprintf(&text, "%s%s%s%s%s%s%s%s", ro->root ? "root " : "", ro->root ? t->runc_root : "",
		     ro->root ? "\n" : "", ro->criu ? "criu " : "", ro->criu ? ro->criu : "",
		     ro->criu ? "\n" : "", ro->systemd_cgroup ? "systemd-cgroup\n" : "", owner) < 0) {
		text = NULL;
		return ctr_err_nomem(err);
	}
	return ctr_write_atomic_nosync(t->dir_fd, CTR_SHIM_RUNC_OPTS, text, strlen(text), 0600, err);
}

static int runc_opts_read(ctr_rt_task *t, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (faccessat(t->dir_fd, CTR_SHIM_RUNC_OPTS, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;
	int r = ctr_read_file(t->dir_fd, CTR_SHIM_RUNC_OPTS, 3 * PATH_MAX, &text, &len, err);
	if (r < 0)
		return r;
	if (strlen(text) != len)
		return ctr_err(err, CTR_EIO, 0, "task %s: bad %s", t->id, CTR_SHIM_RUNC_OPTS);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char **dst = NULL;
		if (strncmp(line, "root ", 5) == 0) {
			dst = &t->runc_root;
			line += 5;
		} else if (strncmp(line, "criu ", 5) == 0) {
			dst = &t->criu;
			line += 5;
		} else if (strcmp(line, "systemd-cgroup") == 0) {
			t->systemd_cgroup = true;
			continue;
		} else if (!strncmp(line, "io-uid ", 7) || !strncmp(line, "io-gid ", 7)) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(line + 7, &end, 10);
			if (errno || *end || end == line + 7 || v > UINT32_MAX)
				return ctr_err(err, CTR_EIO, 0, "task %s: bad %s line", t->id, CTR_SHIM_RUNC_OPTS);
			*(line[3] == 'u' ? &t->io_uid : &t->io_gid) = (uint32_t)v;
			continue;
		} else {
			return ctr_err(err, CTR_EIO, 0, "task %s: bad %s line", t->id, CTR_SHIM_RUNC_OPTS);
		}
		char *v = strdup(line);
		if (!v)
			return ctr_err_nomem(err);
		free(*dst);
		*dst = v;
	}
	return 0;
}

/* A foreground task runs nothing yet: it is marked (so a delete from any
 * process knows runc removes its own state) and keeps what its start needs
 * besides the files: the create options and the stdio (in t->init.io). */
static int foreground_keep(ctr_rt_task *t, const struct ctr_rt_opts *ro, ctr_error **err)
{
	if (ro->shim_cgroup && !(t->shim_cgroup = strdup(ro->shim_cgroup)))
		return ctr_err_nomem(err);
	t->no_pivot = ro->no_pivot;
	t->no_new_keyring = ro->no_new_keyring;
	t->foreground = t->start_opts_kept = true;
	return ctr_write_atomic_nosync(t->dir_fd, CTR_SHIM_FOREGROUND, "", 0, 0600, err);
}

int ctr_rt_create(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		  const struct ctr_rt_io *io, const char *runtime, ctr_error **err)
{
	return ctr_rt_create_opts(out, state_dir, ns, id, io, &(struct ctr_rt_opts){.binary = runtime}, err);
}

int ctr_rt_create_opts(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		       const struct ctr_rt_io *io, const struct ctr_rt_opts *ro, ctr_error **err)
{
	static const struct ctr_rt_io none = {.kind = CTR_RT_IO_NULL};
	ctr_rt_task *t = NULL;
	int r = ctr_rt_opts_validate(ro, err);
	if (r < 0)
		return r;
	if (ro->foreground && io && io->terminal)
		return ctr_err(err, CTR_EINVAL, 0,
			       "task %s: ctr_with_task_foreground: not with a terminal (runc run keeps the pty "
			       "to itself)", id);
	r = task_open(&t, state_dir, ns, id, err);
	if (r < 0)
		return r;
	const char *runtime = ro->binary && *ro->binary ? ro->binary : CTR_RT_DEFAULT_RUNTIME;
	t->systemd_cgroup = ro->systemd_cgroup;
	t->io_uid = ro->io_uid;
	t->io_gid = ro->io_gid;
	if (!(t->runtime = strdup(runtime)) || (ro->criu && !(t->criu = strdup(ro->criu)))) {
		ctr_rt_task_free(t);
		return ctr_err_nomem(err);
	}
	if (ro->root) {
		/* containerd's shim keeps runc's state per namespace under the
		 * root it is given. */
		free(t->runc_root);
		if (asprintf(&t->runc_root, "%s/%s", ro->root, ns) < 0) {
			t->runc_root = NULL;
			ctr_rt_task_free(t);
			return ctr_err_nomem(err);
		}
	}
	if (faccessat(t->dir_fd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		ctr_rt_task_free(t);
		return ctr_err(err, CTR_EPRECONDITION, 0, "task %s: bundle has no config.json", id);
	}
	if (mkdirat(t->dir_fd, "init", 0700) < 0) {
		r = errno == EEXIST ? ctr_err(err, CTR_EEXISTS, EEXIST, "task %s already created", id)
				    : ctr_err_errno(err, errno, "mkdir %s/init", t->dir);
		ctr_rt_task_free(t);
		return r;
	}
	t->init.dir_fd = openat(t->dir_fd, "init", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (t->init.dir_fd < 0)
		r = ctr_err_errno(err, errno, "open %s/init", t->dir);
	if (r == 0 && mkdirat(t->dir_fd, "runc", 0700) < 0 && errno != EEXIST)
		r = ctr_err_errno(err, errno, "mkdir %s/runc", t->dir);
	if (r == 0 && ro->root)
		r = ctr_mkdir_p(t->runc_root, 0700, err);
	if (r == 0)
		r = ctr_write_atomic_nosync(t->dir_fd, "runtime", runtime, strlen(runtime), 0600, err);
	if (r == 0)
		r = runc_opts_write(t, ro, err);
	if (r == 0)
		r = ctr_rt_io_copy(&t->init, io ? io : &none, err);
	if (r == 0 && ro->foreground)
		r = foreground_keep(t, ro, err);
	else if (r == 0)
		r = ctr_rt_spawn_init(&t->init, &t->init.io, ro, err);
	if (r < 0) {
		/* Nothing half-made stays: the runtime's state, the shim. */
		const char *args[] = {"delete", "--force", t->id, NULL};
		ctr_rt_runc(t, args, NULL, NULL);
		ctr_rt_proc_stop_shim(&t->init, 500);
		ctr_rm_rf_at(t->dir_fd, "init", NULL);
		ctr_rm_rf_at(t->dir_fd, "runc", NULL);
		unlinkat(t->dir_fd, "runtime", 0);
		unlinkat(t->dir_fd, CTR_SHIM_RUNC_OPTS, 0);
		unlinkat(t->dir_fd, CTR_SHIM_FOREGROUND, 0);
		ctr_rt_task_free(t);
		return r;
	}
	*out = t;
	return 0;
}

int ctr_rt_load(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		ctr_error **err)
{
	ctr_rt_task *t = NULL;
	int r = task_open(&t, state_dir, ns, id, err);
	if (r < 0)
		return r;
	char *rt = NULL;
	size_t len;
	r = ctr_read_file(t->dir_fd, "runtime", PATH_MAX, &rt, &len, err);
	if (r == 0 && (len == 0 || strlen(rt) != len))
		r = ctr_err(err, CTR_EIO, 0, "task %s: bad runtime file", id);
	if (r == 0) {
		t->runtime = rt;
		rt = NULL;
		r = runc_opts_read(t, err);
	}
	if (r == 0) {
		t->foreground = faccessat(t->dir_fd, CTR_SHIM_FOREGROUND, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		t->init.dir_fd = openat(t->dir_fd, "init", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (t->init.dir_fd < 0)
			r = ctr_err(err, CTR_ENOTFOUND, 0, "task \"%s\": not found", id);
	} else if (r == CTR_ENOTFOUND) {
		r = ctr_err_prefix(err, CTR_ENOTFOUND, "task %s in namespace %s", id, ns);
	}
	free(rt);
	if (r < 0) {
		ctr_rt_task_free(t);
		return r;
	}
	ctr_rt_proc_attach(&t->init);
	*out = t;
	return 0;
}

const char *ctr_rt_task_id(const ctr_rt_task *t) { return t->id; }
const char *ctr_rt_task_ns(const ctr_rt_task *t) { return t->ns; }
const char *ctr_rt_task_dir(const ctr_rt_task *t) { return t->dir; }
ctr_rt_proc *ctr_rt_task_init(ctr_rt_task *t) { return &t->init; }

static int touch(int dirfd, const char *name, ctr_error **err)
{
	return ctr_write_atomic_nosync(dirfd, name, "", 0, 0600, err);
}

/* Takes p's start lock exclusive (see CTR_SHIM_START_LOCK); the fd. */
static int start_lock(ctr_rt_proc *p, ctr_error **err)
{
	int fd = openat(p->dir_fd, CTR_SHIM_START_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ctr_err_errno(err, errno, "process %s: open its start lock", p->name);
	int r = ctr_lock_fd(fd, true, 30000, err);
	if (r < 0) {
		close(fd);
		return ctr_err_prefix(err, r, "process %s: start lock", p->name);
	}
	return fd;
}

int ctr_rt_start_notify(ctr_rt_task *t, ctr_rt_started_fn started, void *ud, ctr_error **err)
{
	ctr_rt_status st;
	int r = ctr_rt_proc_status(&t->init, &st, NULL, err);
	if (r < 0)
		return r;
	if (st != CTR_RT_CREATED)
		return ctr_err(err, CTR_EPRECONDITION, 0, "task %s is not in the created state", t->id);
	if (t->foreground && !t->start_opts_kept)
		return ctr_err(err, CTR_EPRECONDITION, 0,
			       "task %s was made with ctr_with_task_foreground: start it through the handle "
			       "that created it", t->id);
	_cleanup_close_ int lock = start_lock(&t->init, err);
	if (lock < 0)
		return lock;
	/* Another starter may have won the lock first. */
	if (faccessat(t->init.dir_fd, "started", F_OK, 0) == 0 ||
	    (t->foreground && faccessat(t->init.dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) == 0))
		return ctr_err(err, CTR_EPRECONDITION, 0, "task %s is not in the created state", t->id);
	if (t->foreground) {
		/* One `runc run` under the shim creates and starts the process. */
		struct ctr_rt_opts ro = {.shim_cgroup = t->shim_cgroup, .no_pivot = t->no_pivot,
					 .no_new_keyring = t->no_new_keyring, .foreground = true};
		r = ctr_rt_spawn_init(&t->init, &t->init.io, &ro, err);
	} else {
		const char *args[] = {"start", t->id, NULL};
		r = ctr_rt_runc(t, args, NULL, err);
	}
	if (r == 0)
		r = touch(t->init.dir_fd, "started", err);
	if (r == 0 && started)
		started(ud);
	return r;
}

int ctr_rt_start(ctr_rt_task *t, ctr_error **err)
{
	return ctr_rt_start_notify(t, NULL, NULL, err);
}

int ctr_rt_kill(ctr_rt_task *t, int sig, bool all, ctr_error **err)
{
	if (sig <= 0 || sig >= 65)
		return ctr_err(err, CTR_EINVAL, 0, "bad signal %d", sig);
	if (ctr_rt_read_exit(&t->init, NULL) == 1)
		return ctr_err(err, CTR_ENOTFOUND, 0, "task %s: process already finished", t->id);
	char s[16];
	snprintf(s, sizeof(s), "%d", sig);
	const char *a1[] = {"kill", "--all", t->id, s, NULL};
	const char *a2[] = {"kill", t->id, s, NULL};
	return ctr_rt_runc(t, all ? a1 : a2, NULL, err);
}

/* A process of the task: its init process is the task's, an exec goes
 * through its shim. Here rather than in proc.c, which the task builds on. */
int ctr_rt_proc_start_notify(ctr_rt_proc *p, ctr_rt_started_fn started, void *ud, ctr_error **err)
{
	if (!p->exec_id)
		return ctr_rt_start_notify(p->task, started, ud, err);
	if (p->pid > 0 || faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) == 0)
		return ctr_err(err, CTR_EPRECONDITION, 0, "exec process %s already started", p->exec_id);
	_cleanup_close_ int lock = start_lock(p, err);
	if (lock < 0)
		return lock;
	if (faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) == 0)
		return ctr_err(err, CTR_EPRECONDITION, 0, "exec process %s already started", p->exec_id);
	int r = ctr_rt_spawn(p, &p->io, err);
	if (r == 0 && started)
		started(ud);
	return r;
}

int ctr_rt_proc_start(ctr_rt_proc *p, ctr_error **err)
{
	return ctr_rt_proc_start_notify(p, NULL, NULL, err);
}

int ctr_rt_proc_kill(ctr_rt_proc *p, int sig, ctr_error **err)
{
	if (sig <= 0 || sig >= 65)
		return ctr_err(err, CTR_EINVAL, 0, "bad signal %d", sig);
	if (!p->exec_id)
		return ctr_rt_kill(p->task, sig, false, err);
	if (ctr_rt_read_exit(p, NULL) == 1)
		return ctr_err(err, CTR_ENOTFOUND, 0, "process %s: already finished", p->exec_id);
	char b[32];
	snprintf(b, sizeof(b), CTR_SHIM_CMD_KILL " %d", sig);
	return ctr_rt_control(p, b, err);
}

/* containerd's shim reports "pausing" while runc freezes the cgroup: the
 * marker "pausing" stands for that window, for any process that asks, and
 * becomes "paused" once runc is done. */
int ctr_rt_pause(ctr_rt_task *t, ctr_error **err)
{
	const char *args[] = {"pause", t->id, NULL};
	int r = touch(t->init.dir_fd, "pausing", err);
	if (r < 0)
		return r;
	r = ctr_rt_runc(t, args, NULL, err);
	if (r < 0) {
		unlinkat(t->init.dir_fd, "pausing", 0);
		return r;
	}
	if (renameat(t->init.dir_fd, "pausing", t->init.dir_fd, "paused") < 0)
		return ctr_err_errno(err, errno, "task %s: mark paused", t->id);
	return 0;
}

int ctr_rt_resume(ctr_rt_task *t, ctr_error **err)
{
	const char *args[] = {"resume", t->id, NULL};
	int r = ctr_rt_runc(t, args, NULL, err);
	if (r < 0)
		return r;
	if (unlinkat(t->init.dir_fd, "paused", 0) < 0 && errno != ENOENT)
		return ctr_err_errno(err, errno, "task %s: remove paused marker", t->id);
	unlinkat(t->init.dir_fd, "pausing", 0);
	return 0;
}

int ctr_rt_update(ctr_rt_task *t, const char *resources_json, ctr_error **err)
{
	if (!resources_json)
		return ctr_err(err, CTR_EINVAL, 0, "update %s: no resources", t->id);
	json_t *res = NULL;
	int r = ctr_json_parse(resources_json, strlen(resources_json), 1u << 20, CTR_JSON_MAX_DEPTH,
			       "resources", &res, err);
	if (r < 0)
		return r;
	bool obj = json_is_object(res);
	json_decref(res);
	if (!obj)
		return ctr_err(err, CTR_EINVAL, 0, "update %s: resources must be a JSON object", t->id);
	r = ctr_write_atomic_nosync(t->init.dir_fd, "update.json", resources_json, strlen(resources_json),
			     0600, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/update.json", t->init.path) < 0)
		return ctr_err_nomem(err);
	const char *args[] = {"update", "--resources", path, t->id, NULL};
	r = ctr_rt_runc(t, args, NULL, err);
	unlinkat(t->init.dir_fd, "update.json", 0);
	return r;
}

/* Stops every exec shim still around (their processes die with the
 * container) and removes exec/. */
static void drop_execs(ctr_rt_task *t)
{
	_cleanup_close_ int fd = openat(t->dir_fd, "exec", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (d) {
			fd = -1; /* owned by d now */
			struct dirent *e;
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.' || !ctr_ident_ok(e->d_name))
					continue;
				ctr_rt_proc *p = NULL;
				if (ctr_rt_exec_load(&p, t, e->d_name, NULL) == 0) {
					ctr_rt_proc_stop_shim(p, 1000);
					ctr_rt_proc_free(p);
				}
			}
			closedir(d);
		}
	}
	ctr_rm_rf_at(t->dir_fd, "exec", NULL);
}

int ctr_rt_delete(ctr_rt_task *t, bool force, struct ctr_rt_exit *exit, ctr_error **err)
{
	ctr_rt_status st;
	struct ctr_rt_exit ex = {0};
	int r = ctr_rt_proc_status(&t->init, &st, &ex, err);
	if (r < 0)
		return r;
	if (!force && st != CTR_RT_STOPPED && st != CTR_RT_UNKNOWN && st != CTR_RT_CREATED)
		return ctr_err(err, CTR_EPRECONDITION, 0, "task %s is %s",
			       t->id, st == CTR_RT_PAUSED ? "paused" : st == CTR_RT_PAUSING ? "pausing" : "running");
	const char *a1[] = {"delete", "--force", t->id, NULL};
	const char *a2[] = {"delete", t->id, NULL};
	/* A created task is deleted with force: runc refuses otherwise. So is
	 * one whose shim died: nothing watches its process any more (what
	 * containerd does after a dead shim). */
	bool f = force || st == CTR_RT_CREATED || st == CTR_RT_UNKNOWN;
	/* `runc run` removed its own state when the process exited (or never
	 * made any): nothing is left for `runc delete`, which would only say
	 * so. Its state is <root>/<id>, as runc's (and crun's) is. */
	_cleanup_free_ char *rstate = NULL;
	if (t->foreground && asprintf(&rstate, "%s/%s", t->runc_root, t->id) < 0)
		return ctr_err_nomem(err);
	if (rstate && faccessat(AT_FDCWD, rstate, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		r = 0;
	else
		r = ctr_rt_runc(t, f ? a1 : a2, NULL, err);
	if (r < 0 && r != CTR_ENOTFOUND)
		return r;
	if (r == CTR_ENOTFOUND)
		ctr_err_drop(err);
	if (st == CTR_RT_UNKNOWN) {
		ex.status = CTR_UNKNOWN_EXIT_STATUS;
	} else if (f && st != CTR_RT_STOPPED) {
		/* The shim records the status of the process runc killed. */
		if (ctr_rt_proc_wait(&t->init, 2000, &ex, NULL) < 0)
			ex.status = CTR_UNKNOWN_EXIT_STATUS;
	}
	drop_execs(t);
	ctr_rt_proc_stop_shim(&t->init, 2000);
	ctr_rm_rf_at(t->dir_fd, "runc", NULL);
	ctr_rm_rf_at(t->dir_fd, "init", NULL);
	unlinkat(t->dir_fd, "runtime", 0);
	unlinkat(t->dir_fd, CTR_SHIM_RUNC_OPTS, 0);
	unlinkat(t->dir_fd, CTR_SHIM_FOREGROUND, 0);
	if (exit)
		*exit = ex;
	_cleanup_free_ char *state = strdup(t->dir);
	if (!state)
		return 0;
	/* state = <state>/tasks/<ns>/<id>: strip three components */
	for (int i = 0; i < 3; i++) {
		char *s = strrchr(state, '/');
		if (s)
			*s = 0;
	}
	if (ctr_rt_bundle_remove(state, t->ns, t->id, NULL) == CTR_EBUSY)
		return 0; /* the caller unmounts the rootfs and removes the rest */
	return 0;
}

int ctr_rt_bundle_remove(const char *state_dir, const char *ns, const char *id, ctr_error **err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ctr_rt_container_dir(&dir, state_dir, ns, id, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return errno == ENOENT ? 0 : ctr_err_errno(err, errno, "open %s", dir);
	/* rmdir, never a recursive remove: a mounted rootfs must not be
	 * emptied through its mountpoint. */
	if (unlinkat(dfd, "rootfs", AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ctr_err(err, errno == EBUSY || errno == ENOTEMPTY ? CTR_EBUSY : ctr_errno_code(errno),
			       errno, "remove %s/rootfs", dir);
	if (faccessat(dfd, "init", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return ctr_err(err, CTR_EBUSY, 0, "task %s still exists; delete it first", id);
	unlinkat(dfd, "config.json", 0);
	unlinkat(dfd, CTR_RT_VOLATILE_MARK, 0);
	ctr_rm_rf_at(dfd, "runc", NULL);
	ctr_rm_rf_at(dfd, "exec", NULL);
	unlinkat(dfd, "runtime", 0);
	unlinkat(dfd, CTR_SHIM_RUNC_OPTS, 0);
	unlinkat(dfd, CTR_SHIM_FOREGROUND, 0);
	unlinkat(dfd, BUNDLE_CREATOR, 0);
	ctr_write_atomic_leftovers(dfd);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return ctr_err_errno(err, errno, "remove %s", dir);
	return 0;
}
