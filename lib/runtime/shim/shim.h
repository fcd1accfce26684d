/* Internal to libctr-shim: what its three files share. Plain libc. */
#ifndef CTR_SHIM_H
#define CTR_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto.h"

#define BUFSZ 32768
/* A process directory relative to the container's ("init", "exec/<id>",
 * ids at most 76 characters), and a file name inside it: small buffers, so
 * the few stack pages the shim touches stay few. */
#define SHIM_PROC_MAX 128
#define SHIM_NAME_MAX (SHIM_PROC_MAX + 64)

/* One copy direction: src -> dst through a small buffer. */
struct stream {
	int src;          /* -1 when closed */
	int dst;          /* -1 when no reader (data is discarded) */
	const char *path; /* fifo to (re)open, NULL for a plain fd */
	bool own_src, own_dst, src_eof;
	size_t off, len;
	char buf[BUFSZ];
};

struct shim_opts {
	const char *runtime, *runc_root, *dir, *proc, *id;
	const char *state, *ns, *exec_id; /* for the /tasks/exit event */
	const char *in, *out, *errp, *log;
	const char *criu, *cgroup; /* runc --criu; the shim's own cgroup */
	const char *logger;        /* -B: the logging binary (binary:// log URI) */
	char *log_argv[2 + 2 * 32 + 1]; /* its argv: [0] set at start, then -a args */
	int n_log_args;
	bool log_ready_byte;       /* -V: binary-v2, wants a byte on the wait pipe */
	bool exec, terminal, inherit;
	bool foreground; /* `runc run`: runc stays the process's parent */
	bool systemd_cgroup, no_pivot, no_new_keyring;
	bool io_owner; /* -u/-g given */
	uid_t io_uid;
	gid_t io_gid;
	int ready;
};

extern struct shim_opts o;
extern struct stream st_in, st_out, st_err;
extern int master;     /* pty master (terminal) */
extern int ctl;        /* control fifo, read side */
extern int stdin_pipe; /* write end of the container's stdin pipe */
extern pid_t proc_pid;
/* The child whose exit is the process's: proc_pid, or in the foreground
 * the runtime (`runc run` exits with the process's status). */
extern pid_t wait_pid;
extern bool exited, want_quit, exit_written;

/* Children reaped before the process pid was known (a fast exec). */
struct early_exit {
	pid_t pid;
	int status;
};
extern struct early_exit early[16];
extern unsigned n_early;

/* shim.c */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(int e, const char *what) __attribute__((noreturn));

/* exit.c: files, the exit status and the /tasks/exit event */
int write_atomic(const char *name, const char *data);
char *proc_path(char *buf, size_t len, const char *name);
void record_exit(int status);
void write_exit(void);
int drain_left_ms(void);
void reap(void);

/* cgroup.c: joins the cgroup `path` on every hierarchy that has it, or
 * fails (ENOENT when none has it) */
void join_cgroup(const char *path);

/* logger.c: the logging binary of a binary:// log URI */
extern pid_t logger_pid; /* state.c; -1 when none runs */
/* Starts it and waits until it is ready; *out_w and *err_w get the write
 * ends of its stdout and stderr pipes (the shim fails when it cannot). */
void logger_start(int *out_w, int *err_w);
/* A child was reaped: forget the logger when it was that one. */
void logger_reaped(pid_t pid);
/* Lets it finish, then SIGTERM, then SIGKILL; reaps it. */
void logger_stop(void);

/* io.c: stdio copying and control requests */
void stream_init(struct stream *s, int src, bool own_src, int dst, bool own_dst, const char *path);
void close_dst(struct stream *s);
void close_src(struct stream *s);
void open_dst(struct stream *s);
void stream_read(struct stream *s);
void stream_write(struct stream *s);
bool stream_busy(const struct stream *s);
void control(void);
void loop(int sigfd);
int open_null(int flags);
void nonblock(int fd);

#endif
