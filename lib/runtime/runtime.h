/* The runtime layer: takes a bundle (config.json + a rootfs path) and runs it
 * through an OCI runtime (runc by default) under one libctr-shim per process.
 * It knows nothing about container records, images or snapshots: the caller
 * (lib/task.c, through ctr_container_new_task) gives it the spec text and a
 * mounted rootfs.
 *
 * Layout: <state>/tasks/<ns>/<id>/ (mode 0700), described in shim/proto.h.
 * ("tasks/" keeps container directories apart from <state>/events/, which a
 * namespace called "events" would otherwise collide with.)
 *
 * Every call works from any process: all state is in files (and the runtime's
 * own root under the container directory). Nothing here polls runc. */
#ifndef CTR_LIB_RUNTIME_H
#define CTR_LIB_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ctr/common.h>

#define CTR_RT_DIR "tasks"
/* *out gets <state_dir>/tasks/<ns>/<id> (caller frees), the one place that
 * path is built. CTR_EINVAL for a bad namespace or id or a relative
 * state_dir. */
int ctr_rt_container_dir(char **out, const char *state_dir, const char *ns, const char *id,
			 ctr_error **err);
#define CTR_RT_DEFAULT_RUNTIME "runc"
/* In a bundle whose rootfs is a volatile overlay: that overlay's workdir,
 * whose volatile marker a clean unmount removes (the object layer's
 * ctr_task_rootfs_unmount). ctr_rt_bundle_remove removes the file. */
#define CTR_RT_VOLATILE_MARK "rootfs.volatile"
/* Largest config.json / process.json accepted from a caller. */
#define CTR_RT_SPEC_MAX (4u << 20)

/* How a process's stdio is wired (containerd's cio). Paths are borrowed. */
typedef enum ctr_rt_io_kind {
	CTR_RT_IO_NULL = 0, /* /dev/null in, output discarded */
	CTR_RT_IO_INHERIT,  /* the caller's own fds 0, 1, 2 */
	CTR_RT_IO_FIFO,     /* fifos named by the caller (created when missing) */
	CTR_RT_IO_FILE,     /* stdout and stderr appended to a log file */
} ctr_rt_io_kind;

struct ctr_rt_io {
	ctr_rt_io_kind kind;
	bool terminal;      /* a pty: its output goes where stdout goes */
	const char *stdin_path, *stdout_path, *stderr_path; /* FIFO; each may be NULL */
	const char *log_path; /* FILE: absolute path */
};

typedef enum ctr_rt_status {
	CTR_RT_UNKNOWN = 0, /* the shim is gone and left no exit status */
	CTR_RT_CREATED,
	CTR_RT_RUNNING,
	CTR_RT_PAUSED,
	CTR_RT_STOPPED,
} ctr_rt_status;

struct ctr_rt_exit {
	uint32_t status;      /* exit code, or 128 + signal */
	uint64_t exited_at;   /* ns since the epoch */
};

typedef struct ctr_rt_task ctr_rt_task;
typedef struct ctr_rt_proc ctr_rt_proc;

/* Creates <state>/tasks/<ns>/<id>/ with config.json and an empty rootfs/
 * directory for the caller to mount on, and returns that directory
 * (absolute, caller frees). config.json's root.path becomes `rootfs` when
 * given (absolute), else "rootfs" inside the bundle; process.terminal is
 * set to `terminal`. CTR_EINVAL (bad ident, spec, path), CTR_EEXISTS. */
int ctr_rt_bundle_prepare(char **dir_out, const char *state_dir, const char *ns, const char *id,
			  const char *config_json, const char *rootfs, bool terminal, ctr_error **err);

/* Runs `runtime create` on a prepared bundle under a new shim; on success
 * the task is CREATED and *out owns it. runtime: NULL for runc, a name
 * looked up in PATH, or a path. On failure the runtime's state and the
 * shim files are removed again (the bundle stays for the caller). */
int ctr_rt_create(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		  const struct ctr_rt_io *io, const char *runtime, ctr_error **err);

/* runc's options, containerd's runc options.Options. Strings borrowed. */
struct ctr_rt_opts {
	const char *binary;      /* NULL: runc from PATH */
	const char *root;        /* runc --root is <root>/<ns>; NULL: the container's runc/ */
	const char *criu;        /* runc --criu */
	const char *shim_cgroup; /* a cgroup path the shim joins before runc runs */
	bool systemd_cgroup;     /* runc --systemd-cgroup */
	bool no_pivot;           /* runc create --no-pivot */
	bool no_new_keyring;     /* runc create --no-new-keyring */
};
/* CTR_EINVAL naming the bad field: root and shim_cgroup must be absolute
 * with no "." or ".." component, no string may hold a newline. */
int ctr_rt_opts_validate(const struct ctr_rt_opts *ro, ctr_error **err);
/* ctr_rt_create with runc's options. The global ones (root, criu, systemd
 * cgroup) are kept in the container directory, so every later runc call,
 * from any process, passes them too. */
int ctr_rt_create_opts(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		       const struct ctr_rt_io *io, const struct ctr_rt_opts *ro, ctr_error **err);

/* Loads an existing task from its state directory (any process).
 * CTR_ENOTFOUND when there is none. */
int ctr_rt_load(ctr_rt_task **out, const char *state_dir, const char *ns, const char *id,
		ctr_error **err);
void ctr_rt_task_free(ctr_rt_task *t);

const char *ctr_rt_task_id(const ctr_rt_task *t);
const char *ctr_rt_task_ns(const ctr_rt_task *t);
const char *ctr_rt_task_dir(const ctr_rt_task *t);
/* The init process, owned by the task. */
ctr_rt_proc *ctr_rt_task_init(ctr_rt_task *t);

/* `criu check`: 0 when CRIU works here; CTR_ENOTSUP when criu is not
 * installed, or with what `criu check` printed (lib/runtime/probe.c). */
int ctr_rt_criu_check(ctr_error **err);
/* The same with the CRIU binary `criu` (a name on PATH or a path). */
int ctr_rt_criu_check_bin(const char *criu, ctr_error **err);
/* `runc checkpoint` of the task's init into image_dir (CRIU's image files),
 * with work_dir for CRIU's logs; the container exits unless leave_running.
 * CTR_ENOTSUP (ctr_rt_criu_check), the runtime's errors. */
int ctr_rt_checkpoint(ctr_rt_task *t, const char *image_dir, const char *work_dir, bool leave_running,
		      ctr_error **err);

/* `runc start`. CTR_EPRECONDITION unless CREATED. */
int ctr_rt_start(ctr_rt_task *t, ctr_error **err);
/* Called once the process is started and recorded as running, while its
 * start lock (CTR_SHIM_START_LOCK) is still held: where the caller
 * publishes the start event, which then precedes the exit event. */
typedef void (*ctr_rt_started_fn)(void *ud);
/* ctr_rt_start, then started(ud) (may be NULL) before the lock goes. */
int ctr_rt_start_notify(ctr_rt_task *t, ctr_rt_started_fn started, void *ud, ctr_error **err);
/* `runc kill [--all] ID SIG`. CTR_ENOTFOUND once the process has exited. */
int ctr_rt_kill(ctr_rt_task *t, int sig, bool all, ctr_error **err);
int ctr_rt_pause(ctr_rt_task *t, ctr_error **err);
int ctr_rt_resume(ctr_rt_task *t, ctr_error **err);
/* `runc update -r` with an OCI LinuxResources JSON object. */
int ctr_rt_update(ctr_rt_task *t, const char *resources_json, ctr_error **err);
/* Pids in the task's cgroup (cgroup.procs); caller frees *pids. */
int ctr_rt_pids(ctr_rt_task *t, uint32_t **pids, size_t *n, ctr_error **err);
/* Cgroup metrics as JSON (v1 or v2 files read directly); caller frees:
 * {"cgroup":"v1"|"v2","memory":{"usage":..,"limit":..},"cpu":{"usage_ns":..},
 *  "pids":{"current":..,"limit":..}} */
int ctr_rt_metrics(ctr_rt_task *t, char **json_out, ctr_error **err);
/* `runc delete [--force]`, stops the shims and removes the state (not a
 * still-mounted rootfs: unmount it, then ctr_rt_bundle_remove). Without
 * force, CTR_EPRECONDITION while the task runs. exit may be NULL; it gets
 * the init's exit status when known. The task handle stays valid only for
 * ctr_rt_task_free. */
int ctr_rt_delete(ctr_rt_task *t, bool force, struct ctr_rt_exit *exit, ctr_error **err);
/* Removes what is left of <state>/tasks/<ns>/<id>/ (missing is fine);
 * refuses (CTR_EBUSY) while the rootfs is still a mountpoint. */
int ctr_rt_bundle_remove(const char *state_dir, const char *ns, const char *id, ctr_error **err);

/* Exec: records the process (process.json, an OCI Process object) under
 * exec/<exec_id>/ without starting it. CTR_EEXISTS for a used exec id. */
int ctr_rt_exec(ctr_rt_proc **out, ctr_rt_task *t, const char *exec_id, const char *process_json,
		const struct ctr_rt_io *io, ctr_error **err);
/* Loads an exec'd process recorded earlier (by any process). */
int ctr_rt_exec_load(ctr_rt_proc **out, ctr_rt_task *t, const char *exec_id, ctr_error **err);
/* Starts an exec'd process (`runc exec --detach` under its own shim). */
int ctr_rt_proc_start(ctr_rt_proc *p, ctr_error **err);
/* The same with a callback, as ctr_rt_start_notify. */
int ctr_rt_proc_start_notify(ctr_rt_proc *p, ctr_rt_started_fn started, void *ud, ctr_error **err);
/* Exec'd processes only: removes its files once it has exited
 * (CTR_EPRECONDITION before). Frees nothing. */
int ctr_rt_proc_delete(ctr_rt_proc *p, struct ctr_rt_exit *exit, ctr_error **err);
void ctr_rt_proc_free(ctr_rt_proc *p); /* not for the init process */

const char *ctr_rt_proc_exec_id(const ctr_rt_proc *p); /* NULL for init */
/* 0 until started. */
pid_t ctr_rt_proc_pid(const ctr_rt_proc *p);
int ctr_rt_proc_status(ctr_rt_proc *p, ctr_rt_status *st, struct ctr_rt_exit *exit, ctr_error **err);
/* Sleeps until the process has exited (a pidfd on its shim plus inotify on
 * its directory). timeout_ms < 0: forever. CTR_ETIMEOUT; CTR_EUNAVAILABLE
 * when the shim died without writing a status. */
int ctr_rt_proc_wait(ctr_rt_proc *p, int timeout_ms, struct ctr_rt_exit *exit, ctr_error **err);
/* A signal to one process (init: `runc kill`; exec: through its shim). */
int ctr_rt_proc_kill(ctr_rt_proc *p, int sig, ctr_error **err);
int ctr_rt_proc_resize(ctr_rt_proc *p, uint32_t cols, uint32_t rows, ctr_error **err);
int ctr_rt_proc_close_stdin(ctr_rt_proc *p, ctr_error **err);

/* The shim binary into buf: $LIBCTR_SHIM; else, for a library loaded from
 * its build tree, the shim built there; else <library's dir>/<libdir to
 * libexecdir>/libctr-shim, then CTR_LIBEXECDIR/libctr-shim. The error names
 * every path tried. */
int ctr_rt_shim_find(char *buf, size_t len, ctr_error **err);

/* Runs argv (argv[0] looked up on PATH) with stdin on /dev/null and
 * collects stdout and stderr (bounded; both allocated, caller frees) and
 * its exit status (128 + signal when killed). CTR_EUNAVAILABLE when the
 * program is not found. */
int ctr_rt_run_tool(const char *const *argv, char **out, char **errout, int *exit_status, ctr_error **err);

/* Whether a tool that libctr runs works here, as the plugin list reports
 * it: ok with *version set (may be NULL), or *reason set (caller frees
 * both). A runtime is probed with `NAME --version`, criu with `criu
 * check`, whose own message becomes the reason when it fails. */
struct ctr_rt_probe {
	bool ok;
	char *version;
	char *reason;
};
int ctr_rt_probe_runtime(struct ctr_rt_probe *out, const char *name, ctr_error **err);
int ctr_rt_probe_criu(struct ctr_rt_probe *out, ctr_error **err);
void ctr_rt_probe_clear(struct ctr_rt_probe *p);

#endif
