/* libctr-shim: one per container process (init and each exec).
 *
 * It detaches from the caller (fork, setsid), becomes a child subreaper,
 * runs `runc create`, `runc exec --detach` or (foreground) `runc run`,
 * reports readiness on a pipe,
 * then waits for the process, copies its stdio between pipes (or a pty) and
 * the caller's fifos or log file, and writes the exit status atomically.
 * A reader that goes away never blocks the container: output with nowhere
 * to go is discarded. Plain libc (musl where the build finds it), small
 * buffers, a small stack frame: its RSS is the pages it touches.
 *
 * Usage (libctr builds the command line; see lib/runtime/proc.c):
 *   libctr-shim -f READYFD -r RUNTIME -R RUNCROOT -d CONTAINERDIR -p PROCDIR
 *               -i ID [-x] [-t] [-n | -L LOG | [-I IN] [-O OUT] [-E ERR]]
 *               [-S STATEDIR -N NAMESPACE [-X EXECID]]   (for /tasks/exit)
 *               [-Y] [-C CRIU]    (runc --systemd-cgroup, --criu)
 *               [-P] [-K]         (runc create --no-pivot, --no-new-keyring)
 *               [-G CGROUP]       (the shim joins CGROUP first)
 *               [-F]              (`runc run` instead of `runc create`: runc
 *                                  stays the process's parent, creates,
 *                                  starts and at the exit removes it)
 *               [-u UID] [-g GID] (owner of the stdio pipes the process gets:
 *                                  containerd's IoUid and IoGid)
 *               [-B LOGGER [-a ARG]... [-V]]  (a binary:// log URI's binary
 *                                 and its arguments; -V: binary-v2)
 * PROCDIR is relative to CONTAINERDIR ("init" or "exec/<id>"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "shim.h"

/* Runs the runtime with the container's stdio; returns its exit status. While
 * it runs, a terminal's master arrives on the console socket. With watch
 * (an inotify fd on the process directory, foreground only) it returns -1
 * as soon as the runtime has written pidf, the runtime still running as
 * *runtime (the process's parent). */
static int run_runtime(char *const argv[], int fd0, int fd1, int fd2, int sigfd, int listener, int watch,
		       const char *pidf, pid_t *runtime)
{
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "fork runtime");
	if (pid == 0) {
		if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0)
			_exit(127);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	*runtime = pid;
	for (;;) {
		struct pollfd p[3] = {{.fd = sigfd, .events = POLLIN}, {.fd = listener, .events = POLLIN},
				      {.fd = watch, .events = POLLIN}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(errno, "poll");
		}
		if (watch >= 0 && (p[2].revents & POLLIN)) {
			char ev[4096];
			while (read(watch, ev, sizeof(ev)) > 0)
				;
			/* runc renames its pid file into place: complete once there */
			if (access(pidf, F_OK) == 0)
				return -1;
		}
		if (listener >= 0 && (p[1].revents & POLLIN)) {
			int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				char data[256];
				char cbuf[CMSG_SPACE(sizeof(int))];
				struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
				struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
						   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
				if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) >= 0) {
					struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
					if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
					    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
						if (master >= 0)
							close(master);
						memcpy(&master, CMSG_DATA(cm), sizeof(int));
					}
				}
				close(c);
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) > 0)
				;
			int status;
			pid_t w;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
				logger_reaped(w);
				if (w == pid)
					return status;
				if (n_early < 16) {
					early[n_early].pid = w;
					early[n_early].status = status;
					n_early++;
				}
			}
		}
	}
}

/* The last "msg" of the runtime's JSON log, for the error report. Not
 * inlined: its buffers would otherwise sit in main's frame, whose pages
 * stay resident for the shim's life. */
static __attribute__((noinline, cold)) void runtime_error(char *out, size_t len)
{
	char p[PATH_MAX], b[8192];
	snprintf(out, len, "runtime failed");
	int fd = open(proc_path(p, sizeof(p), CTR_SHIM_RUNC_LOG), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(b) - 1 ? end - (off_t)sizeof(b) + 1 : 0;
	ssize_t n = pread(fd, b, sizeof(b) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	b[n] = 0;
	char *m = NULL, *s = b;
	while ((s = strstr(s, "\"msg\":\"")) != NULL) {
		m = s + 7;
		s = m;
	}
	if (!m)
		return;
	/* JSON string: up to the closing quote, \" and \\ unescaped */
	size_t k = 0;
	for (size_t i = 0; m[i] && m[i] != '"' && m[i] != '\n' && k + 1 < len; i++) {
		if (m[i] == '\\' && (m[i + 1] == '"' || m[i + 1] == '\\'))
			i++;
		out[k++] = m[i];
	}
	out[k] = 0;
}

static __attribute__((noinline)) int listen_console(void)
{
	char p[PATH_MAX];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	proc_path(p, sizeof(p), CTR_SHIM_CONSOLE);
	if (strlen(p) >= sizeof(sa.sun_path))
		fail(ENAMETOOLONG, "console socket path");
	strcpy(sa.sun_path, p);
	unlink(p);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		fail(errno, "console socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		fail(errno, "bind console socket");
	return fd;
}

/* "DIR/REL", on the heap (main's frame stays small); exits on ENOMEM. */
static char *dir_path(const char *rel)
{
	size_t n = strlen(o.dir) + strlen(rel) + 2;
	char *p = malloc(n);
	if (!p)
		fail(ENOMEM, "malloc");
	snprintf(p, n, "%s/%s", o.dir, rel);
	return p;
}

static void usage(void)
{
	fprintf(stderr, "%s: internal helper of libctr, not meant to be run by hand\n", CTR_SHIM_NAME);
	exit(2);
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "f:r:R:d:p:i:xtnL:I:O:E:S:N:X:YC:PKG:Fu:g:B:a:V")) != -1) {
		switch (c) {
		case 'f': o.ready = atoi(optarg); break;
		case 'r': o.runtime = optarg; break;
		case 'R': o.runc_root = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'p': o.proc = optarg; break;
		case 'i': o.id = optarg; break;
		case 'x': o.exec = true; break;
		case 't': o.terminal = true; break;
		case 'n': o.inherit = true; break;
		case 'L': o.log = optarg; break;
		case 'I': o.in = optarg; break;
		case 'O': o.out = optarg; break;
		case 'E': o.errp = optarg; break;
		case 'S': o.state = optarg; break;
		case 'N': o.ns = optarg; break;
		case 'X': o.exec_id = optarg; break;
		case 'Y': o.systemd_cgroup = true; break;
		case 'C': o.criu = optarg; break;
		case 'P': o.no_pivot = true; break;
		case 'K': o.no_new_keyring = true; break;
		case 'G': o.cgroup = optarg; break;
		case 'F': o.foreground = true; break;
		case 'u': o.io_uid = (uid_t)strtoul(optarg, NULL, 10); o.io_owner = true; break;
		case 'g': o.io_gid = (gid_t)strtoul(optarg, NULL, 10); o.io_owner = true; break;
		case 'B': o.logger = optarg; break;
		case 'a':
			if (o.n_log_args >= (int)(sizeof(o.log_argv) / sizeof(o.log_argv[0])) - 2)
				usage();
			o.log_argv[1 + o.n_log_args++] = optarg;
			break;
		case 'V': o.log_ready_byte = true; break;
		default: usage();
		}
	}
	if (o.ready < 3 || !o.runtime || !o.runc_root || !o.dir || !o.proc || !o.id ||
	    strlen(o.proc) > SHIM_PROC_MAX || (o.foreground && (o.exec || o.terminal)))
		usage();
	if (fcntl(o.ready, F_SETFD, FD_CLOEXEC) < 0)
		usage();

	/* Detach: the caller reaps the first child at once; the shim lives on
	 * in its own session, reparented away from the caller. */
	pid_t p = fork();
	if (p < 0)
		fail(errno, "fork");
	if (p > 0)
		_exit(0);
	if (setsid() < 0)
		fail(errno, "setsid");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fail(errno, "subreaper");
	if (chdir(o.dir) < 0)
		fail(errno, "chdir");
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* An ignored SIGCHLD survives exec and would make the kernel reap our
	 * children before we read their status. */
	signal(SIGCHLD, SIG_DFL);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fail(errno, "sigprocmask");
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		fail(errno, "signalfd");

	if (o.cgroup)
		join_cgroup(o.cgroup);

	char path[SHIM_NAME_MAX], buf[128];
	snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(), ctr_proc_starttime(getpid()));
	int r = write_atomic(proc_path(path, sizeof(path), CTR_SHIM_PID_FILE), buf);
	if (r < 0)
		fail(-r, "write shim.pid");

	proc_path(path, sizeof(path), CTR_SHIM_CONTROL);
	unlink(path);
	if (mkfifo(path, 0600) < 0)
		fail(errno, "mkfifo control");
	/* O_RDWR: the shim is a writer too, so the fifo never reports EOF. */
	ctl = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ctl < 0)
		fail(errno, "open control");

	/* The container's stdio. The shim opens the caller's fifos before the
	 * runtime runs: a reader then sees a writer from the start (no early
	 * EOF) and a writer of stdin finds a reader. */
	int c0 = -1, c1 = -1, c2 = -1, listener = -1, in_fd = -1, out_dst = -1;
	int log_out = -1, log_err = -1;
	if (o.logger)
		logger_start(&log_out, &log_err);
	if (o.logger && o.terminal) {
		/* the pty's output goes to the logger's stdout */
		close(log_err);
		out_dst = log_out;
	} else if (o.log) {
		out_dst = open(o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (out_dst < 0)
			fail(errno, "open log file");
	} else if (o.inherit) {
		out_dst = 1;
	}
	if (o.in && !o.inherit) {
		in_fd = open(o.in, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (in_fd < 0)
			fail(errno, "open stdin fifo");
	} else if (o.inherit && o.terminal) {
		in_fd = 0;
	}
	stream_init(&st_in, -1, false, -1, false, NULL);
	stream_init(&st_out, -1, false, -1, false, NULL);
	stream_init(&st_err, -1, false, -1, false, NULL);
	if (o.terminal) {
		listener = listen_console();
		c0 = open_null(O_RDWR);
		c1 = c2 = c0;
		if (!o.log && !o.inherit && o.out) {
			st_out.path = o.out;
			open_dst(&st_out);
		}
	} else if (o.inherit) {
		c0 = 0;
		c1 = 1;
		c2 = 2;
	} else if (o.logger) {
		/* The process writes straight into the logger's pipes. */
		c0 = open_null(O_RDONLY);
		c1 = log_out;
		c2 = log_err;
	} else {
		int pi[2], po[2], pe[2];
		if (in_fd >= 0) {
			if (pipe2(pi, O_CLOEXEC) < 0)
				fail(errno, "pipe");
			c0 = pi[0];
			stdin_pipe = pi[1];
			nonblock(stdin_pipe);
			stream_init(&st_in, in_fd, true, stdin_pipe, false, NULL);
		} else {
			c0 = open_null(O_RDONLY);
		}
		if (o.out || o.log) {
			if (pipe2(po, O_CLOEXEC) < 0)
				fail(errno, "pipe");
			c1 = po[1];
			nonblock(po[0]);
			stream_init(&st_out, po[0], true, out_dst, false, o.log ? NULL : o.out);
			open_dst(&st_out);
		} else {
			c1 = open_null(O_WRONLY);
		}
		if (o.errp || o.log) {
			if (pipe2(pe, O_CLOEXEC) < 0)
				fail(errno, "pipe");
			c2 = pe[1];
			nonblock(pe[0]);
			stream_init(&st_err, pe[0], true, out_dst, false, o.log ? NULL : o.errp);
			open_dst(&st_err);
		} else {
			c2 = open_null(O_WRONLY);
		}
		/* The container's ends belong to its user (runc then hands them
		 * to the process's user), so a process in a user namespace can
		 * reopen /dev/stdout: runc's own fchown fails on a pipe whose
		 * owner its namespace does not map. */
		if (o.io_owner) {
			int ends[3] = {in_fd >= 0 ? c0 : -1, o.out || o.log ? c1 : -1, o.errp || o.log ? c2 : -1};
			for (int i = 0; i < 3; i++)
				if (ends[i] >= 0 && fchown(ends[i], o.io_uid, o.io_gid) < 0)
					fail(errno, "chown stdio pipe");
		}
	}

	/* The runtime's command line. */
	char pidf[SHIM_NAME_MAX], logf[SHIM_NAME_MAX], sock[SHIM_NAME_MAX], procj[SHIM_NAME_MAX];
	proc_path(pidf, sizeof(pidf), CTR_SHIM_PROC_PID);
	proc_path(logf, sizeof(logf), CTR_SHIM_RUNC_LOG);
	proc_path(sock, sizeof(sock), CTR_SHIM_CONSOLE);
	proc_path(procj, sizeof(procj), CTR_SHIM_PROCESS_JSON);
	unlink(pidf);
	char *abs_pidf = dir_path(pidf), *abs_logf = dir_path(logf), *abs_procj = dir_path(procj);
	char *av[32];
	int n = 0;
	av[n++] = (char *)o.runtime;
	av[n++] = "--root";
	av[n++] = (char *)o.runc_root;
	if (o.systemd_cgroup)
		av[n++] = "--systemd-cgroup";
	if (o.criu) {
		av[n++] = "--criu";
		av[n++] = (char *)o.criu;
	}
	av[n++] = "--log";
	av[n++] = abs_logf;
	av[n++] = "--log-format";
	av[n++] = "json";
	if (o.exec) {
		av[n++] = "exec";
		av[n++] = "--detach";
		av[n++] = "--process";
		av[n++] = abs_procj;
	} else {
		av[n++] = o.foreground ? "run" : "create";
		av[n++] = "--bundle";
		av[n++] = (char *)o.dir;
		if (o.no_pivot)
			av[n++] = "--no-pivot";
		if (o.no_new_keyring)
			av[n++] = "--no-new-keyring";
	}
	av[n++] = "--pid-file";
	av[n++] = abs_pidf;
	if (o.terminal) {
		av[n++] = "--console-socket";
		/* runc chdirs into the bundle (our cwd) before it dials the
		 * console socket, so the relative path keeps sun_path short. */
		av[n++] = sock;
	}
	av[n++] = (char *)o.id;
	av[n] = NULL;

	/* In the foreground the process runs once runc has written its pid
	 * file, and runc goes on as its parent: watch for the file. */
	int watch = -1;
	if (o.foreground) {
		watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (watch < 0 || inotify_add_watch(watch, o.proc, IN_MOVED_TO | IN_CREATE) < 0)
			fail(errno, "inotify");
	}
	pid_t runtime_pid = -1;
	int status = run_runtime(av, c0, c1, c2, sigfd, listener, watch, pidf, &runtime_pid);
	if (watch >= 0)
		close(watch);
	/* A foreground runtime that has exited already ran the process when it
	 * wrote the pid file: its status is the process's. */
	bool ran = o.foreground && access(pidf, F_OK) == 0;
	free(abs_pidf);
	free(abs_logf);
	free(abs_procj);
	/* The container holds its ends now; ours must go so EOF can come. */
	if (c0 > 2)
		close(c0);
	if (c1 > 2 && c1 != c0)
		close(c1);
	if (c2 > 2 && c2 != c0 && c2 != c1)
		close(c2);
	if (listener >= 0) {
		close(listener);
		unlink(sock);
	}
	if (status != -1 && !ran && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		char msg[512];
		/* With the caller's stdio, the runtime printed its error there
		 * already: say where instead of printing it twice. */
		if (o.inherit && !o.terminal)
			snprintf(msg, sizeof(msg), "failed (its error is on stderr above)");
		else
			runtime_error(msg, sizeof(msg));
		report("err %d %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ENOENT : EIO, msg);
		_exit(1);
	}
	int pfd = open(pidf, O_RDONLY | O_CLOEXEC);
	if (pfd >= 0) {
		ssize_t k = read(pfd, buf, sizeof(buf) - 1);
		close(pfd);
		if (k > 0) {
			buf[k] = 0;
			proc_pid = (pid_t)atoi(buf);
		}
	}
	if (proc_pid <= 0) {
		report("err %d runtime wrote no pid file\n", EIO);
		_exit(1);
	}
	wait_pid = o.foreground ? runtime_pid : proc_pid;
	if (o.foreground && status != -1)
		record_exit(status);
	for (unsigned i = 0; i < n_early; i++)
		if (early[i].pid == wait_pid)
			record_exit(early[i].status);

	if (o.terminal) {
		if (master < 0) {
			report("err %d no terminal received on the console socket\n", EIO);
			_exit(1);
		}
		nonblock(master);
		/* pty -> the stdout fifo, the log, the caller's stdout, or nowhere
		 * (still drained so the container never blocks) */
		int keep = st_out.dst;
		bool to_fd = o.log || o.inherit || o.logger;
		stream_init(&st_out, master, false, to_fd ? out_dst : keep, !to_fd, to_fd ? NULL : o.out);
		if (in_fd >= 0)
			stream_init(&st_in, in_fd, in_fd > 2, master, false, NULL);
	}
	snprintf(buf, sizeof(buf), "ok %d %d\n", (int)getpid(), (int)proc_pid);
	report("%s", buf);

	/* Nothing of the caller's must keep a terminal or pipe alive. */
	if (!o.inherit) {
		int nul = open_null(O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	reap();
	loop(sigfd);
	if (out_dst > 2)
		close(out_dst);
	logger_stop();
	return 0;
}
