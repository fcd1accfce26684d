/* Internal to libctr-shim: what its three files share. Plain libc. */
#ifndef CTR_SHIM_H
#define CTR_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto.h"

#define BUFSZ 32768

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
	bool exec, terminal, inherit;
	bool systemd_cgroup, no_pivot, no_new_keyring;
	int ready;
};

extern struct shim_opts o;
extern struct stream st_in, st_out, st_err;
extern int master;     /* pty master (terminal) */
extern int ctl;        /* control fifo, read side */
extern int stdin_pipe; /* write end of the container's stdin pipe */
extern pid_t proc_pid;
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
