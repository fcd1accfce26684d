/* Shared inside lib/runtime/ only. */
#ifndef CTR_LIB_RUNTIME_PRIV_H
#define CTR_LIB_RUNTIME_PRIV_H

#include "runtime.h"
#include "proto.h"

struct ctr_rt_proc {
	struct ctr_rt_task *task; /* borrowed: the task outlives its processes */
	char *name;               /* "init" or "exec/<id>", relative to task->dir */
	char *exec_id;            /* NULL for init */
	char *path;               /* absolute process directory */
	int dir_fd;               /* O_DIRECTORY on path */
	int pidfd;                /* on the shim; -1 when unknown or gone */
	pid_t shim_pid;
	pid_t pid;
	bool shim_gone;
	/* exec only, until started: how to wire stdio */
	struct ctr_rt_io io;
	char *io_strs[5];     /* owned copies behind io's paths and URI */
	char **io_argv;       /* owned copy behind io.log_argv */
	int stream_fd[3];     /* CTR_RT_IO_STREAMS: the caller's ends, -1 when none */
};

struct ctr_rt_task {
	char *state;     /* absolute state directory (events live there) */
	char *dir;       /* absolute container directory */
	char *runc_root; /* dir/runc */
	char *runtime;
	char *criu;          /* runc --criu, NULL when not given */
	bool systemd_cgroup; /* runc --systemd-cgroup */
	uint32_t io_uid, io_gid; /* the stdio pipes' owner (0: root) */
	char *ns, *id;
	int dir_fd;
	struct ctr_rt_proc init;
	/* ctr_with_task_foreground: the init's shim runs `runc run` at start,
	 * and runc removes its own state when the process exits */
	bool foreground;
	/* the create options a foreground start needs, kept by the handle
	 * that created the task (start_opts_kept) */
	bool start_opts_kept, no_pivot, no_new_keyring;
	char *shim_cgroup;
};

/* Runs `runtime --root R args...`; stdin /dev/null. *out (may be NULL) gets
 * stdout (NUL-terminated, at most 4 MiB). On failure the error carries the
 * runtime's last stderr line. */
int ctr_rt_runc(ctr_rt_task *t, const char *const *args, char **out, ctr_error **err);

/* Spawns the shim for p (init: create, exec: exec) and waits for its
 * readiness report. */
int ctr_rt_spawn(ctr_rt_proc *p, const struct ctr_rt_io *io, ctr_error **err);
/* The same for the init process with runc's create options. */
int ctr_rt_spawn_init(ctr_rt_proc *p, const struct ctr_rt_io *io, const struct ctr_rt_opts *ro,
		      ctr_error **err);
/* Fills p->shim_pid/pidfd from shim.pid (checking the start time) and
 * p->pid from the pid file. Missing files are fine. */
void ctr_rt_proc_attach(ctr_rt_proc *p);
/* Reads the exit file: 1 when present, 0 when not, < 0 on error. */
int ctr_rt_read_exit(ctr_rt_proc *p, struct ctr_rt_exit *exit);
/* Sends a control line to the shim; CTR_ENOTFOUND when it is gone. */
int ctr_rt_control(ctr_rt_proc *p, const char *line, ctr_error **err);
/* Asks the shim to quit and waits (bounded), then SIGKILLs it. */
void ctr_rt_proc_stop_shim(ctr_rt_proc *p, int timeout_ms);
void ctr_rt_proc_clear(ctr_rt_proc *p);
int ctr_rt_proc_init_fields(ctr_rt_proc *p, ctr_rt_task *t, const char *exec_id, ctr_error **err);
/* lib/runtime/proc-io.c. Copies io into p (validated: absolute paths,
 * fifos created when missing, STREAMS fifos made in p's directory) and
 * records its config (CTR_SHIM_IO_CONFIG) for ctr_rt_proc_io_config. */
int ctr_rt_io_copy(ctr_rt_proc *p, const struct ctr_rt_io *io, ctr_error **err);
/* Frees what ctr_rt_io_copy copied and closes unclaimed stream fds. */
void ctr_rt_io_clear(ctr_rt_proc *p);
/* Appends the shim's stdio arguments for io to argv (at most
 * CTR_RT_IO_MAX_ARGV entries). */
#define CTR_RT_IO_MAX_ARGV (8 + 2 * (2 * CTR_RT_LOG_MAX_ARGS + 1))
size_t ctr_rt_io_shim_args(const struct ctr_rt_io *io, const char **argv);
/* STREAMS, around the shim's spawn: the read ends of stdout and stderr
 * before it (so no output is lost), stdin's write end once the shim has
 * opened its read end. */
int ctr_rt_io_open_readers(ctr_rt_proc *p, ctr_error **err);
int ctr_rt_io_open_stdin(ctr_rt_proc *p, ctr_error **err);
void ctr_rt_io_close_streams(ctr_rt_proc *p);

#endif
