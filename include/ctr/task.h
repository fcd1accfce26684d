/* libctr: tasks and processes, containerd's Task and Process.
 *
 * A task is a container's running instance: its init process, run by an
 * OCI runtime (runc by default) under a small shim process that outlives
 * the host program. A task is created from a container (by the container
 * API) and can be loaded again by id from any process sharing the state
 * directory: a host program that crashes loses nothing, another one loads
 * the task, waits and reads the real exit status.
 *
 * Exit statuses are the exit code, or 128 + the signal number when the
 * process was killed by a signal. Times are nanoseconds since the epoch. */
#ifndef CTR_TASK_H
#define CTR_TASK_H

#include <ctr/common.h>
#include <ctr/opts.h>
#include <ctr/client.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctr_task ctr_task;
typedef struct ctr_process ctr_process;

typedef enum ctr_status {
	CTR_TASK_UNKNOWN = 0, /* the shim died without recording an exit status */
	CTR_TASK_CREATED = 1,
	CTR_TASK_RUNNING = 2,
	CTR_TASK_PAUSED = 3,
	CTR_TASK_STOPPED = 4
} ctr_status;

/* Task options (kind CTR_OPT_TASK): how a process's stdio is wired, for
 * task creation and ctr_task_exec. The default is no stdio (containerd's
 * cio.NullIO). The last stdio option wins. */
/* /dev/null in, output discarded (cio.NullIO). */
CTR_EXPORT ctr_opt *ctr_with_stdio_null(void);
/* The calling program's own fds 0, 1 and 2 (cio.WithStdio). */
CTR_EXPORT ctr_opt *ctr_with_stdio_inherit(void);
/* Fifos at absolute paths (cio.NewFIFOSet); any may be NULL. Missing fifos
 * are created (mode 0600); anything else at a path is refused. Open the
 * read side of stdout and stderr before the task is created (O_NONBLOCK,
 * then read), and the write side of stdin after; output with no reader is
 * discarded, so a reader that dies never blocks the container. */
CTR_EXPORT ctr_opt *ctr_with_stdio_fifos(const char *stdin_path, const char *stdout_path,
					 const char *stderr_path);
/* stdout and stderr appended to a file: "file:///abs/path" (cio.LogURI). */
CTR_EXPORT ctr_opt *ctr_with_log_uri(const char *uri);
/* A pseudo-terminal: its output goes where stdout goes, stdin feeds it, and
 * ctr_task_resize / ctr_process_resize set its size. */
CTR_EXPORT ctr_opt *ctr_with_terminal(void);
/* The OCI runtime: a name looked up in PATH ("runc", "crun") or a path.
 * Task creation only. */
CTR_EXPORT ctr_opt *ctr_with_task_runtime(const char *name_or_path);
/* The task's writes to its rootfs need not survive a crash of the machine:
 * an overlay snapshot is mounted "volatile" (no syncs of the upper
 * filesystem, not even at unmount), for a rootfs that is thrown away after
 * the task, as `lctr run --rm` does. After a clean ctr_task_delete the
 * snapshot mounts as before; after a machine crash the kernel refuses to
 * mount it again and it can only be removed. Other snapshotters, or a
 * kernel without volatile overlays, mount as without it. Task creation
 * only. */
CTR_EXPORT ctr_opt *ctr_with_task_volatile_rootfs(void);
/* runc's options (containerd's runc options.Options), task creation only;
 * libctr-shim passes each to runc. */
/* `runc create --no-pivot`: the root is moved and chrooted into instead of
 * pivot_root (WithNoPivotRoot), for roots that cannot pivot (a ramdisk). */
CTR_EXPORT ctr_opt *ctr_with_no_pivot_root(void);
/* `runc create --no-new-keyring`: the container keeps the shim's session
 * keyring instead of a new one (WithNoNewKeyring). */
CTR_EXPORT ctr_opt *ctr_with_no_new_keyring(void);
/* The task's shim joins this existing cgroup (an absolute cgroup path such
 * as "/shims") on every hierarchy that has it, before runc runs
 * (WithShimCgroup). A cgroup that exists nowhere fails creation with
 * CTR_ENOTFOUND. */
CTR_EXPORT ctr_opt *ctr_with_shim_cgroup(const char *cgroup_path);
/* runc's --root: its state goes to <dir>/<namespace>, as containerd's shim
 * keeps it (runc option Root); without it, to the task's own state. */
CTR_EXPORT ctr_opt *ctr_with_runc_root(const char *dir);
/* runc's --systemd-cgroup: the spec's cgroupsPath is "slice:prefix:name"
 * and systemd makes the cgroup (runc option SystemdCgroup). */
CTR_EXPORT ctr_opt *ctr_with_runc_systemd_cgroup(void);
/* runc's --criu: the CRIU binary for checkpoint and restore (CriuPath). */
CTR_EXPORT ctr_opt *ctr_with_runc_criu_path(const char *path);

/* Loads the task of container `id` from the state directory, in the
 * client's namespace or ctr_with_call_namespace()'s. Works from any process.
 * Errors: CTR_EINVAL (bad id), CTR_ENOTFOUND. */
CTR_EXPORT int ctr_task_load(ctr_task **out, ctr_client *c, const char *id,
			     const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
CTR_EXPORT ctr_task *ctr_task_ref(ctr_task *t);
/* Drops a reference; accepts NULL. Never stops the task. */
CTR_EXPORT void ctr_task_free(ctr_task *t);

/* Borrowed getters. */
CTR_EXPORT const char *ctr_task_id(const ctr_task *t);
CTR_EXPORT const char *ctr_task_namespace(const ctr_task *t);
/* The init process's pid (host pid namespace); 0 when unknown. */
CTR_EXPORT uint32_t ctr_task_pid(const ctr_task *t);

/* Starts a created task. CTR_EPRECONDITION unless CREATED. */
CTR_EXPORT int ctr_task_start(ctr_task *t, ctr_error **err);
/* Blocks until the init process has exited, at most timeout_ms (< 0:
 * forever). exit_status and exited_at may be NULL. Errors: CTR_ETIMEOUT,
 * CTR_EUNAVAILABLE (the shim died without recording a status). */
CTR_EXPORT int ctr_task_wait(uint32_t *exit_status, uint64_t *exited_at, ctr_task *t,
			     int timeout_ms, ctr_error **err);
/* The task's state from its shim's files (no runtime call). exit_status
 * (may be NULL) is set when STOPPED. */
CTR_EXPORT int ctr_task_status(ctr_status *status, uint32_t *exit_status, ctr_task *t,
			       ctr_error **err);

/* Kill options (kind CTR_OPT_KILL). */
/* Signal every process of the task, not only init (containerd's WithKillAll). */
CTR_EXPORT ctr_opt *ctr_with_kill_all(void);
/* Sends sig. Takes CTR_OPT_KILL options. CTR_ENOTFOUND once the process
 * has exited. */
CTR_EXPORT int ctr_task_kill(ctr_task *t, int sig, const ctr_opt *const *opts, size_t n_opts,
			     ctr_error **err);
CTR_EXPORT int ctr_task_pause(ctr_task *t, ctr_error **err);
CTR_EXPORT int ctr_task_resume(ctr_task *t, ctr_error **err);

/* Delete options (kind CTR_OPT_PROCESS_DELETE), for ctr_task_delete and
 * ctr_process_delete. */
/* Kill a running process with SIGKILL and wait for it first (containerd's
 * WithProcessKill). */
CTR_EXPORT ctr_opt *ctr_with_process_kill(void);
/* Deletes the task: the runtime's container, the shims and their files.
 * Without ctr_with_process_kill, CTR_EPRECONDITION while it runs.
 * exit_status (may be NULL) gets the init's status. Free the handle
 * afterwards. The container record and its rootfs mount belong to the
 * container API. Takes CTR_OPT_PROCESS_DELETE options. */
CTR_EXPORT int ctr_task_delete(uint32_t *exit_status, ctr_task *t, const ctr_opt *const *opts,
			       size_t n_opts, ctr_error **err);

/* Pids of every process in the task's cgroup; *pids is freed with
 * ctr_free(). CTR_ENOTFOUND when the task is not running. */
CTR_EXPORT int ctr_task_pids(uint32_t **pids, size_t *n, ctr_task *t, ctr_error **err);
/* Cgroup metrics as a JSON object (freed with ctr_free()):
 * {"cgroup":"v1"|"v2","memory":{"usage":B,"limit":B,"max_usage":B},
 *  "cpu":{"usage_ns":N},"pids":{"current":N,"limit":N}}; a limit of 0 means
 * none. CTR_ENOTFOUND when the task is not running. */
CTR_EXPORT int ctr_task_metrics(char **json, ctr_task *t, ctr_error **err);
/* The OCI runtime spec the task was created with (its bundle's
 * config.json), as JSON text; free with ctr_free. */
CTR_EXPORT int ctr_task_spec(char **json, ctr_task *t, ctr_error **err);
/* Update options (kind CTR_OPT_TASK_UPDATE). */
/* New resources: an OCI LinuxResources JSON object, e.g.
 * {"memory":{"limit":67108864},"pids":{"limit":100}} (containerd's
 * WithResources). */
CTR_EXPORT ctr_opt *ctr_with_resources(const char *resources_json);
/* Updates the task. Takes CTR_OPT_TASK_UPDATE options; CTR_EINVAL when
 * they name nothing to update. */
CTR_EXPORT int ctr_task_update(ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
			       ctr_error **err);
/* Closes the init's stdin (EOF for the process; ^D on a terminal). Takes
 * CTR_OPT_CLOSE_IO options (none defined yet: stdin is always closed). */
CTR_EXPORT int ctr_task_close_io(ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
				 ctr_error **err);
CTR_EXPORT int ctr_task_resize(ctr_task *t, uint32_t cols, uint32_t rows, ctr_error **err);

/* Records a new process `exec_id` in the task from an OCI Process JSON
 * object (args, env, cwd, user...); ctr_process_start runs it. Accepts
 * CTR_OPT_TASK stdio options. Errors: CTR_EINVAL, CTR_EEXISTS. */
CTR_EXPORT int ctr_task_exec(ctr_process **out, ctr_task *t, const char *exec_id,
			     const char *process_json, const ctr_opt *const *opts, size_t n_opts,
			     ctr_error **err);
/* Loads an exec'd process recorded by any process. CTR_ENOTFOUND. */
CTR_EXPORT int ctr_task_load_process(ctr_process **out, ctr_task *t, const char *exec_id,
				     ctr_error **err);

/* A process keeps a reference on its task. */
CTR_EXPORT void ctr_process_free(ctr_process *p);
CTR_EXPORT const char *ctr_process_id(const ctr_process *p);
/* 0 until started. */
CTR_EXPORT uint32_t ctr_process_pid(const ctr_process *p);
CTR_EXPORT int ctr_process_start(ctr_process *p, ctr_error **err);
CTR_EXPORT int ctr_process_wait(uint32_t *exit_status, uint64_t *exited_at, ctr_process *p,
				int timeout_ms, ctr_error **err);
CTR_EXPORT int ctr_process_status(ctr_status *status, uint32_t *exit_status, ctr_process *p,
				  ctr_error **err);
/* Takes CTR_OPT_KILL options; ctr_with_kill_all is for tasks only. */
CTR_EXPORT int ctr_process_kill(ctr_process *p, int sig, const ctr_opt *const *opts, size_t n_opts,
				ctr_error **err);
CTR_EXPORT int ctr_process_resize(ctr_process *p, uint32_t cols, uint32_t rows, ctr_error **err);
CTR_EXPORT int ctr_process_close_io(ctr_process *p, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err);
/* Removes an exited process's files. CTR_EPRECONDITION while it runs,
 * unless ctr_with_process_kill (CTR_OPT_PROCESS_DELETE) is given. */
CTR_EXPORT int ctr_process_delete(uint32_t *exit_status, ctr_process *p, const ctr_opt *const *opts,
				  size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
