/* Tasks and processes: the public handles over lib/runtime. Anything that
 * needs a container record (creating a task from a container) lives with
 * the container API; this file only needs the client's state directory. */
#include "task.h"
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "events.h"
#include "opts.h"
#include "fs.h"
#include "macro.h"

struct ctr_process {
	ctr_task *task; /* a reference */
	ctr_rt_proc *rt;
};

/* ---- options ---- */

enum { SET_NULL, SET_INHERIT, SET_TERMINAL };

static int apply_stdio_simple(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	switch ((int)(intptr_t)userdata) {
	case SET_NULL:
		o->io.kind = CTR_RT_IO_NULL;
		break;
	case SET_INHERIT:
		o->io.kind = CTR_RT_IO_INHERIT;
		break;
	case SET_TERMINAL:
		o->io.terminal = true;
		break;
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_stdio_null(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_null", apply_stdio_simple,
			    (void *)(intptr_t)SET_NULL, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_stdio_inherit(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_inherit", apply_stdio_simple,
			    (void *)(intptr_t)SET_INHERIT, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_terminal(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_terminal", apply_stdio_simple,
			    (void *)(intptr_t)SET_TERMINAL, NULL);
}

static void set_path(struct ctr_task_opts *o, int i, const char *s)
{
	free(o->paths[i]);
	o->paths[i] = s ? strdup(s) : NULL;
}

struct fifos {
	char *p[3];
};

static void fifos_free(void *ud)
{
	struct fifos *f = ud;
	if (!f)
		return;
	for (int i = 0; i < 3; i++)
		free(f->p[i]);
	free(f);
}

static int apply_fifos(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	struct fifos *f = userdata;
	for (int i = 0; i < 3; i++) {
		if (f->p[i] && f->p[i][0] != '/')
			return ctr_err(err, CTR_EINVAL, 0, "ctr_with_stdio_fifos: %s is not an absolute path",
				       f->p[i]);
		set_path(o, i, f->p[i]);
		if (f->p[i] && !o->paths[i])
			return ctr_err_nomem(err);
	}
	o->io.kind = CTR_RT_IO_FIFO;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_stdio_fifos(const char *stdin_path, const char *stdout_path,
					 const char *stderr_path)
{
	struct fifos *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	const char *in[3] = {stdin_path, stdout_path, stderr_path};
	for (int i = 0; i < 3; i++) {
		if (in[i] && !(f->p[i] = strdup(in[i]))) {
			fifos_free(f);
			return NULL;
		}
	}
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_fifos", apply_fifos, f, fifos_free);
}

static int apply_log_uri(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	const char *uri = userdata;
	if (!uri || strncmp(uri, "file://", 7) != 0)
		return ctr_err(err, CTR_EINVAL, 0, "ctr_with_log_uri: only file:// URIs are supported: %s",
			       uri ? uri : "(null)");
	const char *path = uri + 7;
	if (path[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "ctr_with_log_uri: %s: need an absolute path", uri);
	set_path(o, 3, path);
	if (!o->paths[3])
		return ctr_err_nomem(err);
	o->io.kind = CTR_RT_IO_FILE;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_log_uri(const char *uri)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_log_uri", apply_log_uri, uri);
}

static int apply_runtime(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	const char *rt = userdata;
	if (!rt || !*rt || strchr(rt, '\n'))
		return ctr_err(err, CTR_EINVAL, 0, "ctr_with_task_runtime: empty or bad runtime name");
	free(o->runtime);
	if (!(o->runtime = strdup(rt)))
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_task_runtime(const char *name_or_path)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_task_runtime", apply_runtime, name_or_path);
}

static int apply_volatile_rootfs(void *target, void *userdata, ctr_error **err)
{
	(void)userdata;
	(void)err;
	((struct ctr_task_opts *)target)->volatile_rootfs = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_task_volatile_rootfs(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_task_volatile_rootfs", apply_volatile_rootfs, NULL, NULL);
}

/* runc's options on task creation (containerd's runc options.Options
 * that WithNoPivotRoot and the others set). */
#define TASK_FLAG(field) ((void *)(uintptr_t)offsetof(struct ctr_task_opts, field))

/* Sets the bool at offset userdata of the options' target struct. */
static int apply_flag(void *target, void *userdata, ctr_error **err)
{
	(void)err;
	*(bool *)((char *)target + (size_t)(uintptr_t)userdata) = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_no_pivot_root(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_no_pivot_root", apply_flag, TASK_FLAG(no_pivot), NULL);
}

CTR_EXPORT ctr_opt *ctr_with_no_new_keyring(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_no_new_keyring", apply_flag, TASK_FLAG(no_new_keyring),
			    NULL);
}

CTR_EXPORT ctr_opt *ctr_with_runc_systemd_cgroup(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_runc_systemd_cgroup", apply_flag,
			    TASK_FLAG(systemd_cgroup), NULL);
}

/* A string option: its name and where it goes, checked by the runtime
 * layer's rules so a bad one fails at the option, before anything runs. */
static int set_runc_str(char **dst, const char *v, const char *name, const struct ctr_rt_opts *probe,
			ctr_error **err)
{
	int r = ctr_rt_opts_validate(probe, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s", name);
	char *d = strdup(v);
	if (!d)
		return ctr_err_nomem(err);
	free(*dst);
	*dst = d;
	return 0;
}

static int apply_runc_root(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	return set_runc_str(&o->runc_root, userdata, "ctr_with_runc_root",
			    &(struct ctr_rt_opts){.root = userdata}, err);
}

static int apply_criu_path(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	return set_runc_str(&o->criu, userdata, "ctr_with_runc_criu_path",
			    &(struct ctr_rt_opts){.criu = userdata}, err);
}

static int apply_shim_cgroup(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	return set_runc_str(&o->shim_cgroup, userdata, "ctr_with_shim_cgroup",
			    &(struct ctr_rt_opts){.shim_cgroup = userdata}, err);
}

CTR_EXPORT ctr_opt *ctr_with_runc_root(const char *dir)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_runc_root", apply_runc_root, dir);
}

CTR_EXPORT ctr_opt *ctr_with_runc_criu_path(const char *path)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_runc_criu_path", apply_criu_path, path);
}

CTR_EXPORT ctr_opt *ctr_with_shim_cgroup(const char *path)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_shim_cgroup", apply_shim_cgroup, path);
}

struct ctr_rt_opts ctr_task_opts_runc(const struct ctr_task_opts *o, const char *runtime)
{
	return (struct ctr_rt_opts){
		.binary = o->runtime ? o->runtime : runtime,
		.root = o->runc_root,
		.criu = o->criu,
		.shim_cgroup = o->shim_cgroup,
		.systemd_cgroup = o->systemd_cgroup,
		.no_pivot = o->no_pivot,
		.no_new_keyring = o->no_new_keyring,
	};
}

/* Kill, delete, update and close options: plain settings, borrowed from the
 * options for the length of the call. */
struct task_call_opts {
	bool kill_all;
	bool process_kill;
	const char *resources;
};

CTR_EXPORT ctr_opt *ctr_with_kill_all(void)
{
	return ctr_opt_make(CTR_OPT_KILL, "ctr_with_kill_all", apply_flag,
			    (void *)(uintptr_t)offsetof(struct task_call_opts, kill_all), NULL);
}

CTR_EXPORT ctr_opt *ctr_with_process_kill(void)
{
	return ctr_opt_make(CTR_OPT_PROCESS_DELETE, "ctr_with_process_kill", apply_flag,
			    (void *)(uintptr_t)offsetof(struct task_call_opts, process_kill), NULL);
}

static int apply_resources(void *target, void *userdata, ctr_error **err)
{
	(void)err;
	((struct task_call_opts *)target)->resources = userdata;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_resources(const char *resources_json)
{
	return ctr_opt_make_str(CTR_OPT_TASK_UPDATE, "ctr_with_resources", apply_resources, resources_json);
}

static int task_call_opts(struct task_call_opts *o, ctr_opt_kind kind, const ctr_opt *const *opts,
			  size_t n_opts, const char *what, ctr_error **err)
{
	memset(o, 0, sizeof(*o));
	return ctr_opts_apply(kind, o, NULL, opts, n_opts, what, err);
}

int ctr_task_opts_parse(struct ctr_task_opts *o, struct ctr_call *call, const ctr_opt *const *opts,
			size_t n_opts, const char *what, ctr_error **err)
{
	memset(o, 0, sizeof(*o));
	int r = ctr_opts_apply(CTR_OPT_TASK, o, call, opts, n_opts, what, err);
	if (r < 0) {
		ctr_task_opts_clear(o);
		return r;
	}
	if (o->io.kind == CTR_RT_IO_FIFO) {
		o->io.stdin_path = o->paths[0];
		o->io.stdout_path = o->paths[1];
		o->io.stderr_path = o->paths[2];
	} else if (o->io.kind == CTR_RT_IO_FILE) {
		o->io.log_path = o->paths[3];
	}
	return 0;
}

void ctr_task_opts_clear(struct ctr_task_opts *o)
{
	for (int i = 0; i < 4; i++)
		free(o->paths[i]);
	free(o->runtime);
	free(o->runc_root);
	free(o->criu);
	free(o->shim_cgroup);
	memset(o, 0, sizeof(*o));
}

/* ---- tasks ---- */

static ctr_status status_of(ctr_rt_status s)
{
	switch (s) {
	case CTR_RT_CREATED: return CTR_TASK_CREATED;
	case CTR_RT_RUNNING: return CTR_TASK_RUNNING;
	case CTR_RT_PAUSED: return CTR_TASK_PAUSED;
	case CTR_RT_STOPPED: return CTR_TASK_STOPPED;
	default: return CTR_TASK_UNKNOWN;
	}
}

int ctr_task_wrap(ctr_task **out, ctr_client *c, ctr_rt_task *rt, ctr_error **err)
{
	ctr_task *t = calloc(1, sizeof(*t));
	if (!t) {
		ctr_rt_task_free(rt);
		return ctr_err_nomem(err);
	}
	t->refs = 1;
	t->client = ctr_client_ref(c);
	t->rt = rt;
	*out = t;
	return 0;
}

static void publish(ctr_task *t, const char *topic, json_t *payload)
{
	if (!payload)
		return;
	json_object_set_new(payload, "container_id", json_string(ctr_rt_task_id(t->rt)));
	ctr_events_publish(t->client, ctr_rt_task_ns(t->rt), topic, payload);
}

int ctr_task_new_bundle(ctr_task **out, ctr_client *c, const char *ns, const char *id,
			const char *config_json, const char *rootfs, const ctr_opt *const *opts,
			size_t n_opts, ctr_error **err)
{
	struct ctr_task_opts o;
	int r = ctr_task_opts_parse(&o, NULL, opts, n_opts, "new task", err);
	if (r < 0)
		return r;
	if (!ns)
		ns = c->ns;
	char *dir = NULL;
	r = ctr_rt_bundle_prepare(&dir, c->state, ns, id, config_json, rootfs, o.io.terminal, err);
	free(dir);
	ctr_rt_task *rt = NULL;
	if (r == 0) {
		struct ctr_rt_opts ro = ctr_task_opts_runc(&o, NULL);
		r = ctr_rt_create_opts(&rt, c->state, ns, id, &o.io, &ro, err);
		if (r < 0)
			ctr_rt_bundle_remove(c->state, ns, id, NULL);
	}
	ctr_task_opts_clear(&o);
	if (r < 0)
		return r;
	ctr_task *t = NULL;
	r = ctr_task_wrap(&t, c, rt, err);
	if (r < 0)
		return r;
	publish(t, "/tasks/create", json_pack("{s:I}", "pid", (json_int_t)ctr_task_pid(t)));
	*out = t;
	return 0;
}

int ctr_tasks_load(ctr_task **out, ctr_client *c, const char *ns, const char *id, ctr_error **err)
{
	ctr_rt_task *rt = NULL;
	int r = ctr_rt_load(&rt, c->state, ns, id, err);
	if (r < 0)
		return r;
	return ctr_task_wrap(out, c, rt, err);
}

CTR_EXPORT int ctr_task_load(ctr_task **out, ctr_client *c, const char *id,
			     const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!out || !c || !id)
		return ctr_err(err, CTR_EINVAL, 0, "ctr_task_load: NULL argument");
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, "ctr_task_load", err);
	return r < 0 ? r : ctr_tasks_load(out, c, ctr_call_ns(c, &call), id, err);
}

CTR_EXPORT ctr_task *ctr_task_ref(ctr_task *t)
{
	if (t)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

CTR_EXPORT void ctr_task_free(ctr_task *t)
{
	/* acq_rel: the last owner sees every other owner's writes before it
	 * frees (a binding may drop its references from any thread). */
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ctr_rt_task_free(t->rt);
	ctr_client_free(t->client);
	free(t);
}

CTR_EXPORT const char *ctr_task_id(const ctr_task *t) { return t ? ctr_rt_task_id(t->rt) : NULL; }
CTR_EXPORT const char *ctr_task_namespace(const ctr_task *t) { return t ? ctr_rt_task_ns(t->rt) : NULL; }

CTR_EXPORT uint32_t ctr_task_pid(const ctr_task *t)
{
	return t ? (uint32_t)ctr_rt_proc_pid(ctr_rt_task_init(t->rt)) : 0;
}

#define NEED(x)                                                             \
	do {                                                                \
		if (!(x))                                                   \
			return ctr_err(err, CTR_EINVAL, 0, "%s: NULL argument", __func__); \
	} while (0)

/* Runs under the process's start lock, so its /tasks/exit comes after. */
static void publish_started(void *ud)
{
	ctr_task *t = ud;
	publish(t, "/tasks/start", json_pack("{s:I}", "pid", (json_int_t)ctr_task_pid(t)));
}

CTR_EXPORT int ctr_task_start(ctr_task *t, ctr_error **err)
{
	NEED(t);
	return ctr_rt_start_notify(t->rt, publish_started, t, err);
}

CTR_EXPORT int ctr_task_wait(uint32_t *exit_status, uint64_t *exited_at, ctr_task *t,
			     int timeout_ms, ctr_error **err)
{
	NEED(t);
	struct ctr_rt_exit ex;
	int r = ctr_rt_proc_wait(ctr_rt_task_init(t->rt), timeout_ms, &ex, err);
	if (r < 0)
		return r;
	if (exit_status)
		*exit_status = ex.status;
	if (exited_at)
		*exited_at = ex.exited_at;
	return 0;
}

CTR_EXPORT int ctr_task_status(ctr_status *status, uint32_t *exit_status, ctr_task *t,
			       ctr_error **err)
{
	NEED(t && status);
	ctr_rt_status st;
	struct ctr_rt_exit ex = {0};
	int r = ctr_rt_proc_status(ctr_rt_task_init(t->rt), &st, &ex, err);
	if (r < 0)
		return r;
	*status = status_of(st);
	if (exit_status && st == CTR_RT_STOPPED)
		*exit_status = ex.status;
	return 0;
}

CTR_EXPORT int ctr_task_kill(ctr_task *t, int sig, const ctr_opt *const *opts, size_t n_opts,
			     ctr_error **err)
{
	NEED(t);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_KILL, opts, n_opts, "ctr_task_kill", err);
	if (r < 0)
		return r;
	return ctr_rt_kill(t->rt, sig, o.kill_all, err);
}

CTR_EXPORT int ctr_task_pause(ctr_task *t, ctr_error **err)
{
	NEED(t);
	int r = ctr_rt_pause(t->rt, err);
	if (r == 0)
		publish(t, "/tasks/paused", json_object());
	return r;
}

CTR_EXPORT int ctr_task_resume(ctr_task *t, ctr_error **err)
{
	NEED(t);
	int r = ctr_rt_resume(t->rt, err);
	if (r == 0)
		publish(t, "/tasks/resumed", json_object());
	return r;
}

int ctr_task_rootfs_unmount(const char *dir, ctr_error **err)
{
	_cleanup_free_ char *rootfs = NULL;
	if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
		return ctr_err_nomem(err);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *work = NULL;
	if (dfd >= 0) {
		int r = ctr_read_file(dfd, CTR_RT_VOLATILE_MARK, PATH_MAX, &work, NULL, NULL);
		if (r == CTR_ENOTFOUND)
			work = NULL;
		else if (r < 0)
			return ctr_err(err, r, 0, "unmount %s: read %s", rootfs, CTR_RT_VOLATILE_MARK);
	}
	/* runc has deleted the container by now, so what still holds the
	 * rootfs is outside it (a host process's fd or cwd). After
	 * ctr_unmount's retries, detach it lazily, as containerd's shim goes
	 * on past a busy rootfs: the kernel frees it when the last user goes,
	 * and the task does not stay half deleted. */
	ctr_error *busy = NULL;
	int r = ctr_unmount(rootfs, true, &busy);
	if (r < 0 && umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		r = ctr_unmount(rootfs, true, NULL);
	if (r < 0 && err && !*err)
		*err = busy;
	else
		ctr_error_free(busy);
	if (r < 0 || !work)
		return r;
	/* The kernel leaves <workdir>/work/incompat/volatile/dirty behind
	 * and refuses the next mount while anything is in incompat/. Best
	 * effort: the task is gone either way, and a snapshot left with the
	 * marker only refuses to mount again (as after a crash). */
	_cleanup_free_ char *mark = NULL;
	if (work[0] != '/' || strchr(work, '\n') || asprintf(&mark, "%s/work/incompat/volatile", work) < 0)
		return 0;
	_cleanup_close_ int vfd = open(mark, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (vfd >= 0 && (unlinkat(vfd, "dirty", 0) == 0 || errno == ENOENT))
		rmdir(mark);
	unlinkat(dfd, CTR_RT_VOLATILE_MARK, 0);
	return 0;
}

CTR_EXPORT int ctr_task_delete(uint32_t *exit_status, ctr_task *t, const ctr_opt *const *opts,
			       size_t n_opts, ctr_error **err)
{
	NEED(t);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_PROCESS_DELETE, opts, n_opts, "ctr_task_delete", err);
	if (r < 0)
		return r;
	uint32_t pid = ctr_task_pid(t);
	struct ctr_rt_exit ex = {0};
	r = ctr_rt_delete(t->rt, o.process_kill, &ex, err);
	if (r < 0)
		return r;
	/* A container's rootfs was mounted on <dir>/rootfs by new_task (maybe
	 * in another process that has since died): unmount it here, then the
	 * bundle goes. */
	r = ctr_task_rootfs_unmount(ctr_rt_task_dir(t->rt), err);
	if (r == 0)
		r = ctr_rt_bundle_remove(t->client->state, ctr_rt_task_ns(t->rt), ctr_rt_task_id(t->rt), err);
	if (r < 0)
		return r;
	publish(t, "/tasks/delete", json_pack("{s:I,s:I,s:I}", "pid", (json_int_t)pid, "exit_status",
					       (json_int_t)ex.status, "exited_at", (json_int_t)ex.exited_at));
	if (exit_status)
		*exit_status = ex.status;
	return 0;
}

CTR_EXPORT int ctr_task_pids(uint32_t **pids, size_t *n, ctr_task *t, ctr_error **err)
{
	NEED(t && pids && n);
	return ctr_rt_pids(t->rt, pids, n, err);
}

CTR_EXPORT int ctr_task_metrics(char **json, ctr_task *t, ctr_error **err)
{
	NEED(t && json);
	return ctr_rt_metrics(t->rt, json, err);
}

CTR_EXPORT int ctr_task_spec(char **json, ctr_task *t, ctr_error **err)
{
	NEED(t && json);
	_cleanup_close_ int dfd = open(ctr_rt_task_dir(t->rt), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "task spec: open %s", ctr_rt_task_dir(t->rt));
	return ctr_read_file(dfd, "config.json", 16u << 20, json, NULL, err);
}

CTR_EXPORT int ctr_task_update(ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
			       ctr_error **err)
{
	NEED(t);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_TASK_UPDATE, opts, n_opts, "ctr_task_update", err);
	if (r < 0)
		return r;
	return ctr_rt_update(t->rt, o.resources, err);
}

CTR_EXPORT int ctr_task_close_io(ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err)
{
	NEED(t);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_CLOSE_IO, opts, n_opts, "ctr_task_close_io", err);
	if (r < 0)
		return r;
	return ctr_rt_proc_close_stdin(ctr_rt_task_init(t->rt), err);
}

CTR_EXPORT int ctr_task_resize(ctr_task *t, uint32_t cols, uint32_t rows, ctr_error **err)
{
	NEED(t);
	return ctr_rt_proc_resize(ctr_rt_task_init(t->rt), cols, rows, err);
}

/* ---- processes ---- */

static int wrap_proc(ctr_process **out, ctr_task *t, ctr_rt_proc *rp, ctr_error **err)
{
	ctr_process *p = calloc(1, sizeof(*p));
	if (!p) {
		ctr_rt_proc_free(rp);
		return ctr_err_nomem(err);
	}
	p->task = ctr_task_ref(t);
	p->rt = rp;
	*out = p;
	return 0;
}

CTR_EXPORT int ctr_task_exec(ctr_process **out, ctr_task *t, const char *exec_id,
			     const char *process_json, const ctr_opt *const *opts, size_t n_opts,
			     ctr_error **err)
{
	NEED(out && t && exec_id);
	struct ctr_task_opts o;
	int r = ctr_task_opts_parse(&o, NULL, opts, n_opts, "ctr_task_exec", err);
	if (r < 0)
		return r;
	if (o.runtime || o.runc_root || o.criu || o.shim_cgroup || o.systemd_cgroup || o.no_pivot ||
	    o.no_new_keyring) {
		ctr_task_opts_clear(&o);
		return ctr_err(err, CTR_EINVAL, 0,
			       "ctr_task_exec: runtime options (ctr_with_task_runtime, ctr_with_runc_*, "
			       "ctr_with_no_pivot_root, ctr_with_no_new_keyring, ctr_with_shim_cgroup) apply to "
			       "task creation only");
	}
	if (o.volatile_rootfs) {
		ctr_task_opts_clear(&o);
		return ctr_err(err, CTR_EINVAL, 0,
			       "ctr_task_exec: ctr_with_task_volatile_rootfs applies to task creation only");
	}
	ctr_rt_proc *rp = NULL;
	r = ctr_rt_exec(&rp, t->rt, exec_id, process_json, &o.io, err);
	ctr_task_opts_clear(&o);
	if (r < 0)
		return r;
	return wrap_proc(out, t, rp, err);
}

CTR_EXPORT int ctr_task_load_process(ctr_process **out, ctr_task *t, const char *exec_id,
				     ctr_error **err)
{
	NEED(out && t && exec_id);
	ctr_rt_proc *rp = NULL;
	int r = ctr_rt_exec_load(&rp, t->rt, exec_id, err);
	if (r < 0)
		return r;
	return wrap_proc(out, t, rp, err);
}

CTR_EXPORT void ctr_process_free(ctr_process *p)
{
	if (!p)
		return;
	ctr_rt_proc_free(p->rt);
	ctr_task_free(p->task);
	free(p);
}

CTR_EXPORT const char *ctr_process_id(const ctr_process *p) { return p ? ctr_rt_proc_exec_id(p->rt) : NULL; }
CTR_EXPORT uint32_t ctr_process_pid(const ctr_process *p) { return p ? (uint32_t)ctr_rt_proc_pid(p->rt) : 0; }

static void publish_exec_started(void *ud)
{
	ctr_process *p = ud;
	publish(p->task, "/tasks/exec-started",
		json_pack("{s:s,s:I}", "exec_id", ctr_rt_proc_exec_id(p->rt), "pid",
			  (json_int_t)ctr_rt_proc_pid(p->rt)));
}

CTR_EXPORT int ctr_process_start(ctr_process *p, ctr_error **err)
{
	NEED(p);
	return ctr_rt_proc_start_notify(p->rt, publish_exec_started, p, err);
}

CTR_EXPORT int ctr_process_wait(uint32_t *exit_status, uint64_t *exited_at, ctr_process *p,
				int timeout_ms, ctr_error **err)
{
	NEED(p);
	struct ctr_rt_exit ex;
	int r = ctr_rt_proc_wait(p->rt, timeout_ms, &ex, err);
	if (r < 0)
		return r;
	if (exit_status)
		*exit_status = ex.status;
	if (exited_at)
		*exited_at = ex.exited_at;
	return 0;
}

CTR_EXPORT int ctr_process_status(ctr_status *status, uint32_t *exit_status, ctr_process *p,
				  ctr_error **err)
{
	NEED(p && status);
	ctr_rt_status st;
	struct ctr_rt_exit ex = {0};
	int r = ctr_rt_proc_status(p->rt, &st, &ex, err);
	if (r < 0)
		return r;
	*status = status_of(st);
	if (exit_status && st == CTR_RT_STOPPED)
		*exit_status = ex.status;
	return 0;
}

CTR_EXPORT int ctr_process_kill(ctr_process *p, int sig, const ctr_opt *const *opts, size_t n_opts,
				ctr_error **err)
{
	NEED(p);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_KILL, opts, n_opts, "ctr_process_kill", err);
	if (r < 0)
		return r;
	if (o.kill_all)
		return ctr_err(err, CTR_EINVAL, 0, "ctr_process_kill: ctr_with_kill_all applies to tasks only");
	return ctr_rt_proc_kill(p->rt, sig, err);
}

CTR_EXPORT int ctr_process_resize(ctr_process *p, uint32_t cols, uint32_t rows, ctr_error **err)
{
	NEED(p);
	return ctr_rt_proc_resize(p->rt, cols, rows, err);
}

CTR_EXPORT int ctr_process_close_io(ctr_process *p, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err)
{
	NEED(p);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_CLOSE_IO, opts, n_opts, "ctr_process_close_io", err);
	if (r < 0)
		return r;
	return ctr_rt_proc_close_stdin(p->rt, err);
}

CTR_EXPORT int ctr_process_delete(uint32_t *exit_status, ctr_process *p, const ctr_opt *const *opts,
				  size_t n_opts, ctr_error **err)
{
	NEED(p);
	struct task_call_opts o;
	int r = task_call_opts(&o, CTR_OPT_PROCESS_DELETE, opts, n_opts, "ctr_process_delete", err);
	if (r < 0)
		return r;
	struct ctr_rt_exit ex = {0};
	if (o.process_kill) {
		/* containerd's WithProcessKill: SIGKILL, then wait for the exit
		 * (a process that has exited already answers ENOTFOUND). */
		ctr_rt_status st;
		r = ctr_rt_proc_status(p->rt, &st, &ex, err);
		if (r < 0)
			return r;
		if (st == CTR_RT_RUNNING || st == CTR_RT_PAUSED) {
			r = ctr_rt_proc_kill(p->rt, SIGKILL, err);
			if (r < 0 && r != CTR_ENOTFOUND)
				return r;
			ctr_error_free(err ? *err : NULL);
			if (err)
				*err = NULL;
			r = ctr_rt_proc_wait(p->rt, 10000, &ex, err);
			if (r < 0)
				return r;
		}
	}
	r = ctr_rt_proc_delete(p->rt, &ex, err);
	if (r < 0)
		return r;
	if (exit_status)
		*exit_status = ex.status;
	return 0;
}
