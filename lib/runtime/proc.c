/* Processes: one shim each. Spawning it, waiting from any process (pidfd on
 * the shim plus inotify on the process directory), status from the shim's
 * files, control requests, and exec'd processes. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "run.h"
#include "error.h"
#include "runtime-priv.h"
#include "fs.h"
#include "ident.h"
#include "json.h"
#include "macro.h"
#include "proc.h"

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

/* The directory of the object this function was loaded from: the shared
 * library, or the program a static copy is linked into. */
static bool own_dir(char *buf, size_t len)
{
	Dl_info info;
	if (!dladdr((void *)ctr_rt_shim_find, &info) || !info.dli_fname || !*info.dli_fname)
		return false;
	char *real = realpath(info.dli_fname, NULL);
	if (!real)
		return false;
	char *slash = strrchr(real, '/');
	bool ok = slash && (size_t)(slash - real) < len;
	if (ok)
		snprintf(buf, len, "%.*s", (int)(slash - real), real);
	free(real);
	return ok;
}

/* dir is inside the meson build tree this library was built in. */
static bool in_build_tree(const char *dir)
{
	char *root = realpath(CTR_BUILD_ROOT, NULL);
	if (!root)
		return false;
	size_t n = strlen(root);
	bool in = !strncmp(dir, root, n) && (dir[n] == '/' || !dir[n]);
	free(root);
	return in;
}

int ctr_rt_shim_find(char *buf, size_t len, ctr_error **err)
{
	const char *e = getenv("LIBCTR_SHIM");
	if (e && *e) {
		if (access(e, X_OK) < 0)
			return ctr_err(err, CTR_EUNAVAILABLE, errno, "shim LIBCTR_SHIM=%s", e);
		snprintf(buf, len, "%s", e);
		return 0;
	}
	/* The build tree's shim for a library (or test program) run from it;
	 * else the libexec directory beside the library's own install, so a
	 * --destdir or moved install runs its own; then the configured one. */
	char dir[PATH_MAX], cand[3][PATH_MAX + 64];
	size_t n = 0;
	if (own_dir(dir, sizeof(dir))) {
		if (in_build_tree(dir))
			snprintf(cand[n++], sizeof(cand[0]), "%s/%s", CTR_BUILD_ROOT, CTR_SHIM_NAME);
		else if (*CTR_LIBEXECDIR_FROM_LIBDIR)
			snprintf(cand[n++], sizeof(cand[0]), "%s/%s/%s", dir, CTR_LIBEXECDIR_FROM_LIBDIR, CTR_SHIM_NAME);
	}
	snprintf(cand[n++], sizeof(cand[0]), "%s/%s", CTR_LIBEXECDIR, CTR_SHIM_NAME);
	for (size_t i = 0; i < n; i++)
		if (access(cand[i], X_OK) == 0) {
			snprintf(buf, len, "%s", cand[i]);
			return 0;
		}
	char tried[3 * (PATH_MAX + 70)] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s", i ? ", " : "", cand[i]);
	return ctr_err(err, CTR_EUNAVAILABLE, 0, "%s not found (tried %s; LIBCTR_SHIM names another)",
		       CTR_SHIM_NAME, tried);
}

static int read_small(int dirfd, const char *name, char *buf, size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

void ctr_rt_proc_attach(ctr_rt_proc *p)
{
	char b[128];
	if (p->pidfd < 0 && !p->shim_gone && read_small(p->dir_fd, CTR_SHIM_PID_FILE, b, sizeof(b)) > 0) {
		int pid = 0;
		unsigned long long st = 0;
		if (sscanf(b, "%d %llu", &pid, &st) == 2 && pid > 0) {
			int fd = pidfd_open_(pid);
			/* The start time tells the shim from a process that got
			 * its pid later; checked after the pidfd pins the pid. */
			if (fd >= 0 && ctr_proc_starttime(pid) == st) {
				p->pidfd = fd;
				p->shim_pid = pid;
			} else {
				if (fd >= 0)
					close(fd);
				p->shim_gone = true;
			}
		}
	}
	if (p->pid <= 0 && read_small(p->dir_fd, CTR_SHIM_PROC_PID, b, sizeof(b)) > 0)
		p->pid = atoi(b);
}

int ctr_rt_read_exit(ctr_rt_proc *p, struct ctr_rt_exit *exit)
{
	char b[128];
	int r = read_small(p->dir_fd, CTR_SHIM_EXIT_FILE, b, sizeof(b));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	unsigned st = 0;
	unsigned long long at = 0;
	if (sscanf(b, "%u %llu", &st, &at) != 2)
		return -EINVAL;
	if (exit) {
		exit->status = st;
		exit->exited_at = at;
	}
	return 1;
}

/* True while the shim runs; a pidfd turns readable when it exits. */
static bool shim_alive(ctr_rt_proc *p)
{
	ctr_rt_proc_attach(p);
	if (p->pidfd < 0)
		return false;
	struct pollfd q = {.fd = p->pidfd, .events = POLLIN};
	if (poll(&q, 1, 0) == 1) {
		close(p->pidfd);
		p->pidfd = -1;
		p->shim_gone = true;
		return false;
	}
	return true;
}

int ctr_rt_control(ctr_rt_proc *p, const char *line, ctr_error **err)
{
	if (!shim_alive(p))
		return ctr_err(err, CTR_ENOTFOUND, 0, "process %s: shim is not running", p->name);
	_cleanup_close_ int fd = openat(p->dir_fd, CTR_SHIM_CONTROL,
					O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ctr_err_errno(err, errno, "process %s: open control fifo", p->name);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return ctr_err(err, CTR_EIO, 0, "process %s: control is not a fifo", p->name);
	char b[128];
	int n = snprintf(b, sizeof(b), "%s\n", line);
	if (write(fd, b, (size_t)n) != n)
		return ctr_err_errno(err, errno, "process %s: write control fifo", p->name);
	return 0;
}

void ctr_rt_proc_stop_shim(ctr_rt_proc *p, int timeout_ms)
{
	if (!shim_alive(p))
		return;
	ctr_rt_control(p, CTR_SHIM_CMD_QUIT, NULL);
	struct pollfd q = {.fd = p->pidfd, .events = POLLIN};
	int r;
	while ((r = poll(&q, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		pidfd_signal(p->pidfd, SIGKILL);
		poll(&q, 1, 2000);
	}
	close(p->pidfd);
	p->pidfd = -1;
	p->shim_gone = true;
}

static int spawn_shim(ctr_rt_proc *p, const char *shim, const char **argv, const struct ctr_rt_io *io,
		      bool foreground, ctr_error **err);

/* ro: the init's runc create options, NULL for an exec. */
static int spawn(ctr_rt_proc *p, const struct ctr_rt_io *io, const struct ctr_rt_opts *ro, ctr_error **err)
{
	ctr_rt_task *t = p->task;
	char shim[PATH_MAX + 64];
	int found = ctr_rt_shim_find(shim, sizeof(shim), err);
	if (found < 0)
		return found;
	const char *argv[40 + CTR_RT_IO_MAX_ARGV];
	size_t n = 0;
	argv[n++] = shim;
	argv[n++] = "-f";
	argv[n++] = "3";
	argv[n++] = "-r";
	argv[n++] = t->runtime;
	argv[n++] = "-R";
	argv[n++] = t->runc_root;
	argv[n++] = "-d";
	argv[n++] = t->dir;
	argv[n++] = "-p";
	argv[n++] = p->name;
	argv[n++] = "-i";
	argv[n++] = t->id;
	argv[n++] = "-S";
	argv[n++] = t->state;
	argv[n++] = "-N";
	argv[n++] = t->ns;
	if (t->systemd_cgroup)
		argv[n++] = "-Y";
	if (t->criu) {
		argv[n++] = "-C";
		argv[n++] = t->criu;
	}
	char uid[16], gid[16];
	if (t->io_uid || t->io_gid) {
		snprintf(uid, sizeof(uid), "%u", t->io_uid);
		snprintf(gid, sizeof(gid), "%u", t->io_gid);
		argv[n++] = "-u";
		argv[n++] = uid;
		argv[n++] = "-g";
		argv[n++] = gid;
	}
	if (ro && ro->no_pivot)
		argv[n++] = "-P";
	if (ro && ro->no_new_keyring)
		argv[n++] = "-K";
	if (ro && ro->shim_cgroup) {
		argv[n++] = "-G";
		argv[n++] = ro->shim_cgroup;
	}
	if (ro && ro->foreground)
		argv[n++] = "-F";
	if (p->exec_id) {
		argv[n++] = "-x";
		argv[n++] = "-X";
		argv[n++] = p->exec_id;
	}
	n += ctr_rt_io_shim_args(io, argv + n);
	argv[n] = NULL;

	/* In-process streams: our read ends exist before the shim opens its
	 * write ends, so nothing the process prints is dropped. */
	int r = ctr_rt_io_open_readers(p, err);
	if (r < 0) {
		ctr_rt_io_close_streams(p);
		return r;
	}
	r = spawn_shim(p, shim, argv, io, ro && ro->foreground, err);
	if (r == 0)
		r = ctr_rt_io_open_stdin(p, err);
	if (r < 0)
		ctr_rt_io_close_streams(p);
	return r;
}

static int spawn_shim(ctr_rt_proc *p, const char *shim, const char **argv, const struct ctr_rt_io *io,
		      bool foreground, ctr_error **err)
{
	ctr_rt_task *t = p->task;
	int r, rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0)
		return ctr_err_errno(err, errno, "shim: pipe");
	_cleanup_close_ int rd = rp[0];
	/* Lift the write end above 3 so dup2 onto 3 clears its CLOEXEC. */
	_cleanup_close_ int wr = fcntl(rp[1], F_DUPFD_CLOEXEC, 10);
	close(rp[1]);
	if (wr < 0)
		return ctr_err_errno(err, errno, "shim: dup");

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (io->kind != CTR_RT_IO_INHERIT) {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	posix_spawn_file_actions_adddup2(&fa, wr, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	posix_spawnattr_t at;
	ctr_spawnattr_clean(&at);
	pid_t pid;
	r = posix_spawn(&pid, shim, &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(TAKE_FD(wr));
	if (r != 0)
		return ctr_err(err, r == ENOENT ? CTR_EUNAVAILABLE : ctr_errno_code(r), r,
			       "start shim %s", shim);
	/* The first shim process forks the real one and exits at once. */
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	char msg[1100];
	size_t len = 0;
	for (;;) {
		struct pollfd q = {.fd = rd, .events = POLLIN};
		int k = poll(&q, 1, 120000);
		if (k == 0)
			return ctr_err(err, CTR_ETIMEOUT, 0, "shim for %s/%s: no readiness report",
				       t->id, p->name);
		if (k < 0 && errno == EINTR)
			continue;
		ssize_t got = read(rd, msg + len, sizeof(msg) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len >= sizeof(msg) - 1)
			break;
	}
	msg[len] = 0;
	char *nl = strchr(msg, '\n');
	if (nl)
		*nl = 0;
	int spid = 0, ppid = 0;
	if (sscanf(msg, "ok %d %d", &spid, &ppid) == 2 && spid > 0 && ppid > 0) {
		p->pid = ppid;
		p->shim_gone = false;
		if (p->pidfd >= 0)
			close(p->pidfd);
		p->pidfd = -1;
		ctr_rt_proc_attach(p);
		return 0;
	}
	int e = 0, off = 0;
	if (sscanf(msg, "err %d %n", &e, &off) >= 1 && off > 0) {
		int code = e == ENOENT ? CTR_EUNAVAILABLE : CTR_EIO;
		if (e == ENOENT && (strncmp(msg + off, CTR_SHIM_ERR_CGROUP, strlen(CTR_SHIM_ERR_CGROUP)) == 0 ||
				    strncmp(msg + off, CTR_SHIM_ERR_LOGGER, strlen(CTR_SHIM_ERR_LOGGER)) == 0))
			code = CTR_ENOTFOUND;
		return ctr_err(err, code, 0, "%s %s %s: %s", t->runtime,
			       p->exec_id ? "exec" : foreground ? "run" : "create", t->id, msg + off);
	}
	return ctr_err(err, CTR_EIO, 0, "shim for %s/%s exited without a report (status %d)",
		       t->id, p->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int ctr_rt_spawn(ctr_rt_proc *p, const struct ctr_rt_io *io, ctr_error **err)
{
	return spawn(p, io, NULL, err);
}

int ctr_rt_spawn_init(ctr_rt_proc *p, const struct ctr_rt_io *io, const struct ctr_rt_opts *ro,
		      ctr_error **err)
{
	return spawn(p, io, ro, err);
}

/* True after waiting when somebody held p's start lock (a start under
 * way, in this process or another): the status is then read again. */
static bool waited_for_start(ctr_rt_proc *p)
{
	_cleanup_close_ int fd = openat(p->dir_fd, CTR_SHIM_START_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
		return false;
	return ctr_lock_fd(fd, false, 30000, NULL) >= 0;
}

int ctr_rt_proc_status(ctr_rt_proc *p, ctr_rt_status *st, struct ctr_rt_exit *exit, ctr_error **err)
{
	struct ctr_rt_exit ex = {0};
	int r = ctr_rt_read_exit(p, &ex);
	if (r < 0)
		return ctr_err_errno(err, -r, "process %s: read exit status", p->name);
	if (r == 1) {
		*st = CTR_RT_STOPPED;
		if (exit)
			*exit = ex;
		return 0;
	}
	/* An exec, or a foreground task's init, has no shim until started. */
	if ((p->exec_id || p->task->foreground) && !p->pid && !p->shim_gone &&
	    faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) < 0) {
		if (waited_for_start(p))
			return ctr_rt_proc_status(p, st, exit, err);
		*st = CTR_RT_CREATED; /* recorded, not started */
		return 0;
	}
	if (!shim_alive(p)) {
		/* It may have written the status just before exiting. */
		r = ctr_rt_read_exit(p, &ex);
		if (r == 1) {
			*st = CTR_RT_STOPPED;
			if (exit)
				*exit = ex;
		} else {
			*st = CTR_RT_UNKNOWN;
		}
		return 0;
	}
	if (!p->exec_id) {
		if (faccessat(p->dir_fd, "paused", F_OK, 0) == 0)
			*st = CTR_RT_PAUSED;
		else if (faccessat(p->dir_fd, "pausing", F_OK, 0) == 0)
			*st = CTR_RT_PAUSING;
		else if (faccessat(p->dir_fd, "started", F_OK, 0) == 0)
			*st = CTR_RT_RUNNING;
		else if (waited_for_start(p))
			return ctr_rt_proc_status(p, st, exit, err);
		else
			*st = CTR_RT_CREATED;
	} else {
		*st = CTR_RT_RUNNING;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctr_rt_proc_wait(ctr_rt_proc *p, int timeout_ms, struct ctr_rt_exit *exit, ctr_error **err)
{
	/* Watch first, then look: an exit renamed in between is not missed. */
	_cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0)
		return ctr_err_errno(err, errno, "inotify");
	if (inotify_add_watch(in, p->path, IN_MOVED_TO | IN_CREATE) < 0)
		return ctr_err_errno(err, errno, "watch %s", p->path);
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		struct ctr_rt_exit ex;
		int r = ctr_rt_read_exit(p, &ex);
		if (r < 0)
			return ctr_err_errno(err, -r, "process %s: read exit status", p->name);
		if (r == 1) {
			if (exit)
				*exit = ex;
			return 0;
		}
		if (!shim_alive(p)) {
			if (ctr_rt_read_exit(p, &ex) == 1) {
				if (exit)
					*exit = ex;
				return 0;
			}
			if (p->exec_id && faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) < 0)
				return ctr_err(err, CTR_EPRECONDITION, 0, "exec process %s is not started",
					       p->exec_id);
			if (p->task->foreground && faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) < 0)
				return ctr_err(err, CTR_EPRECONDITION, 0, "task %s is not started", p->task->id);
			return ctr_err(err, CTR_EUNAVAILABLE, 0,
				       "process %s of %s: shim is gone without an exit status",
				       p->name, p->task->id);
		}
		int wait_ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return ctr_err(err, CTR_ETIMEOUT, 0, "wait for %s of %s", p->name,
					       p->task->id);
			wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		struct pollfd q[2] = {{.fd = in, .events = POLLIN}, {.fd = p->pidfd, .events = POLLIN}};
		if (poll(q, 2, wait_ms) < 0 && errno != EINTR)
			return ctr_err_errno(err, errno, "poll");
		char buf[4096];
		while (read(in, buf, sizeof(buf)) > 0)
			;
	}
}

int ctr_rt_proc_resize(ctr_rt_proc *p, uint32_t cols, uint32_t rows, ctr_error **err)
{
	if (cols > 65535 || rows > 65535)
		return ctr_err(err, CTR_EINVAL, 0, "terminal size %ux%u out of range", cols, rows);
	char b[64];
	snprintf(b, sizeof(b), CTR_SHIM_CMD_RESIZE " %u %u", cols, rows);
	return ctr_rt_control(p, b, err);
}

int ctr_rt_proc_close_stdin(ctr_rt_proc *p, ctr_error **err)
{
	return ctr_rt_control(p, CTR_SHIM_CMD_CLOSE_STDIN, err);
}

pid_t ctr_rt_proc_pid(const ctr_rt_proc *p)
{
	return p->pid > 0 ? p->pid : 0;
}

const char *ctr_rt_proc_exec_id(const ctr_rt_proc *p)
{
	return p->exec_id;
}

int ctr_rt_proc_init_fields(ctr_rt_proc *p, ctr_rt_task *t, const char *exec_id, ctr_error **err)
{
	p->task = t;
	p->dir_fd = -1;
	p->pidfd = -1;
	p->stream_fd[0] = p->stream_fd[1] = p->stream_fd[2] = -1;
	if (exec_id) {
		if (!(p->exec_id = strdup(exec_id)) || asprintf(&p->name, "exec/%s", exec_id) < 0) {
			p->name = NULL;
			return ctr_err_nomem(err);
		}
	} else if (!(p->name = strdup("init"))) {
		return ctr_err_nomem(err);
	}
	if (asprintf(&p->path, "%s/%s", t->dir, p->name) < 0) {
		p->path = NULL;
		return ctr_err_nomem(err);
	}
	return 0;
}

void ctr_rt_proc_clear(ctr_rt_proc *p)
{
	if (p->dir_fd >= 0)
		close(p->dir_fd);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->name);
	free(p->exec_id);
	free(p->path);
	ctr_rt_io_clear(p);
	memset(p, 0, sizeof(*p));
	p->dir_fd = p->pidfd = -1;
	p->stream_fd[0] = p->stream_fd[1] = p->stream_fd[2] = -1;
}

void ctr_rt_proc_free(ctr_rt_proc *p)
{
	if (!p || !p->exec_id)
		return;
	ctr_rt_proc_clear(p);
	free(p);
}

static int exec_open(ctr_rt_proc **out, ctr_rt_task *t, const char *exec_id, bool create,
		     ctr_error **err)
{
	int r = ctr_ident_validate(exec_id, "exec id", err);
	if (r < 0)
		return r;
	ctr_rt_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return ctr_err_nomem(err);
	r = ctr_rt_proc_init_fields(p, t, exec_id, err);
	if (r < 0)
		goto fail;
	if (create) {
		if (mkdirat(t->dir_fd, "exec", 0700) < 0 && errno != EEXIST) {
			r = ctr_err_errno(err, errno, "mkdir %s/exec", t->dir);
			goto fail;
		}
		if (mkdirat(t->dir_fd, p->name, 0700) < 0) {
			r = errno == EEXIST ? ctr_err(err, CTR_EEXISTS, EEXIST, "exec process %s exists in %s",
						      exec_id, t->id)
					    : ctr_err_errno(err, errno, "mkdir %s", p->path);
			goto fail;
		}
	}
	p->dir_fd = openat(t->dir_fd, p->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (p->dir_fd < 0) {
		r = errno == ENOENT ? ctr_err(err, CTR_ENOTFOUND, ENOENT, "exec process %s of %s",
					      exec_id, t->id)
				    : ctr_err_errno(err, errno, "open %s", p->path);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	ctr_rt_proc_clear(p);
	free(p);
	return r;
}

int ctr_rt_exec(ctr_rt_proc **out, ctr_rt_task *t, const char *exec_id, const char *process_json,
		const struct ctr_rt_io *io, ctr_error **err)
{
	if (!process_json)
		return ctr_err(err, CTR_EINVAL, 0, "exec %s: no process spec", exec_id ? exec_id : "");
	json_t *spec = NULL;
	int r = ctr_json_parse(process_json, strlen(process_json), CTR_RT_SPEC_MAX,
			       CTR_JSON_MAX_DEPTH, "process spec", &spec, err);
	if (r < 0)
		return r;
	if (!json_is_object(spec) || !json_is_array(json_object_get(spec, "args")) ||
	    json_array_size(json_object_get(spec, "args")) == 0) {
		json_decref(spec);
		return ctr_err(err, CTR_EINVAL, 0, "exec %s: process spec needs a non-empty args array",
			       exec_id);
	}
	json_object_set_new(spec, "terminal", json_boolean(io && io->terminal));
	_cleanup_free_ char *text = ctr_json_dump(spec);
	json_decref(spec);
	if (!text)
		return ctr_err_nomem(err);
	ctr_rt_proc *p = NULL;
	r = exec_open(&p, t, exec_id, true, err);
	if (r < 0)
		return r;
	r = ctr_rt_io_copy(p, io, err);
	if (r == 0)
		r = ctr_write_atomic_nosync(p->dir_fd, CTR_SHIM_PROCESS_JSON, text, strlen(text), 0600, err);
	if (r < 0) {
		ctr_rm_rf_at(t->dir_fd, p->name, NULL);
		ctr_rt_proc_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int ctr_rt_exec_load(ctr_rt_proc **out, ctr_rt_task *t, const char *exec_id, ctr_error **err)
{
	ctr_rt_proc *p = NULL;
	int r = exec_open(&p, t, exec_id, false, err);
	if (r < 0)
		return r;
	ctr_rt_proc_attach(p);
	*out = p;
	return 0;
}

int ctr_rt_proc_delete(ctr_rt_proc *p, struct ctr_rt_exit *exit, ctr_error **err)
{
	if (!p->exec_id)
		return ctr_err(err, CTR_EINVAL, 0, "delete the init process through its task");
	struct ctr_rt_exit ex = {0};
	int r = ctr_rt_read_exit(p, &ex);
	bool started = p->pid > 0 || faccessat(p->dir_fd, CTR_SHIM_PID_FILE, F_OK, 0) == 0;
	if (r != 1 && started && shim_alive(p))
		return ctr_err(err, CTR_EPRECONDITION, 0, "exec process %s is running", p->exec_id);
	if (r != 1 && started)
		ex.status = CTR_UNKNOWN_EXIT_STATUS; /* its shim died without a word */
	ctr_rt_proc_stop_shim(p, 1000);
	r = ctr_rm_rf_at(p->task->dir_fd, p->name, err);
	if (r < 0)
		return r;
	if (exit)
		*exit = ex;
	return 0;
}
