/* libctr-shim: one per container process (init and each exec).
 *
 * It detaches from the caller (fork, setsid), becomes a child subreaper,
 * runs `runc create` or `runc exec --detach`, reports readiness on a pipe,
 * then waits for the process, copies its stdio between pipes (or a pty) and
 * the caller's fifos or log file, and writes the exit status atomically.
 * A reader that goes away never blocks the container: output with nowhere
 * to go is discarded. Plain libc, small static buffers: it stays tiny.
 *
 * Usage (libctr builds the command line; see lib/runtime/spawn.c):
 *   libctr-shim -f READYFD -r RUNTIME -R RUNCROOT -d CONTAINERDIR -p PROCDIR
 *               -i ID [-x] [-t] [-n | -L LOG | [-I IN] [-O OUT] [-E ERR]]
 *               [-S STATEDIR -N NAMESPACE [-X EXECID]]   (for /tasks/exit)
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

#include "proto.h"

#define BUFSZ 32768

struct stream {
	int src;          /* -1 when closed */
	int dst;          /* -1 when no reader (data is discarded) */
	const char *path; /* fifo to (re)open, NULL for a plain fd */
	bool own_src, own_dst, src_eof;
	size_t off, len;
	char buf[BUFSZ];
};

static struct {
	const char *runtime, *runc_root, *dir, *proc, *id;
	const char *state, *ns, *exec_id; /* for the /tasks/exit event */
	const char *in, *out, *errp, *log;
	bool exec, terminal, inherit;
	int ready;
} o = {.ready = -1};

static struct stream st_in, st_out, st_err;
static int master = -1;     /* pty master (terminal) */
static int ctl = -1;        /* control fifo, read side */
static int stdin_pipe = -1; /* write end of the container's stdin pipe */
static pid_t proc_pid = -1;
static bool exited, want_quit;

/* Children reaped before the process pid was known (a fast exec). */
static struct {
	pid_t pid;
	int status;
} early[16];
static unsigned n_early;

static void report(const char *fmt, ...)
{
	if (o.ready < 0)
		return;
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = sizeof(b) - 1;
	while (write(o.ready, b, (size_t)n) < 0 && errno == EINTR)
		;
	close(o.ready);
	o.ready = -1;
}

static void fail(int e, const char *what)
{
	report("err %d %s: %s\n", e, what, strerror(e));
	_exit(1);
}

static int write_atomic(const char *name, const char *data)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	int r = n == (ssize_t)len ? 0 : -EIO;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, name) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static char *proc_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", o.proc, name);
	return buf;
}

static unsigned long long starttime(pid_t pid)
{
	char p[64], b[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	char *s = strrchr(b, ')');
	if (!s)
		return 0;
	/* after ") " come fields 3.. ; starttime is field 22 */
	s += 2;
	for (int f = 3; f < 22 && s; f++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return s ? strtoull(s, NULL, 10) : 0;
}

/* The status is noted at once but written once the output has drained (or
 * DRAIN_MS later, when something else holds the pipes): a waiter then finds
 * a log file or fifo complete. */
#define DRAIN_MS 1000
static int exit_code;
static unsigned long long exit_at;
static struct timespec exit_mono;
static bool exit_written;

static void record_exit(int status)
{
	exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	exit_at = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &exit_mono);
	exited = true;
}

/* The generation a journal file name carries ("journal.<N>", no leading
 * zero), or 0. Mirrors lib/events/journal.c. */
static unsigned long long journal_gen(const char *name)
{
	if (strncmp(name, "journal.", 8))
		return 0;
	const char *d = name + 8;
	size_t n = strlen(d);
	if (n == 0 || n > 19 || d[0] == '0' || strspn(d, "0123456789") != n)
		return 0;
	return strtoull(d, NULL, 10);
}

/* Appends /tasks/exit to the event journal (<state>/events/) the way the
 * library does: under the shared flock, one O_APPEND write to the newest
 * generation. Best effort; rotation is left to the library's publishers. */
static void publish_exit(void)
{
	if (!o.state || !o.ns)
		return;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/events", o.state);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return;
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return;
	int lk = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int locked = -1;
	for (int i = 0; lk >= 0 && i < 200 && (locked = flock(lk, LOCK_SH | LOCK_NB)) < 0; i++)
		usleep(10000);
	if (locked == 0) {
		unsigned long long gen = 0;
		int sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
		if (d) {
			struct dirent *e;
			while ((e = readdir(d)))
				if (journal_gen(e->d_name) > gen)
					gen = journal_gen(e->d_name);
			closedir(d);
		} else if (sfd >= 0) {
			close(sfd);
		}
		char name[64];
		snprintf(name, sizeof(name), "journal.%llu", gen ? gen : 1);
		int jfd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
				 0600);
		struct stat st;
		if (jfd >= 0 && fstat(jfd, &st) == 0 && S_ISREG(st.st_mode)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			char line[1024];
			/* ns, id and exec id are identifiers: no escaping needed */
			int n = snprintf(line, sizeof(line),
					 "{\"timestamp\":%llu,\"namespace\":\"%s\",\"topic\":\"/tasks/exit\","
					 "\"payload\":{\"container_id\":\"%s\",\"exit_status\":%d,"
					 "\"exited_at\":%llu,\"id\":\"%s\",\"pid\":%d}}\n",
					 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
					 o.ns, o.id, exit_code, exit_at, o.exec_id ? o.exec_id : o.id, (int)proc_pid);
			if (n > 0 && n < (int)sizeof(line) && write(jfd, line, (size_t)n) < 0) {
			}
		}
		if (jfd >= 0)
			close(jfd);
		flock(lk, LOCK_UN);
	}
	if (lk >= 0)
		close(lk);
	close(dfd);
}

static void write_exit(void)
{
	if (!exited || exit_written)
		return;
	char b[64], p[PATH_MAX];
	snprintf(b, sizeof(b), "%d %llu\n", exit_code, exit_at);
	write_atomic(proc_path(p, sizeof(p), CTR_SHIM_EXIT_FILE), b);
	exit_written = true;
	publish_exit();
}

static int drain_left_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (now.tv_sec - exit_mono.tv_sec) * 1000LL + (now.tv_nsec - exit_mono.tv_nsec) / 1000000;
	return ms >= DRAIN_MS ? 0 : (int)(DRAIN_MS - ms);
}

static void reap(void)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p <= 0)
			return;
		if (proc_pid > 0 && p == proc_pid && !exited)
			record_exit(status);
		else if (proc_pid <= 0 && n_early < 16) {
			early[n_early].pid = p;
			early[n_early].status = status;
			n_early++;
		}
	}
}

/* Runs the runtime with the container's stdio; returns its exit status. While
 * it runs, a terminal's master arrives on the console socket. */
static int run_runtime(char *const argv[], int fd0, int fd1, int fd2, int sigfd, int listener)
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
	for (;;) {
		struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = listener, .events = POLLIN}};
		if (poll(p, listener >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(errno, "poll");
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

/* The last "msg" of the runtime's JSON log, for the error report. */
static void runtime_error(char *out, size_t len)
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
	size_t i = 0;
	for (; m[i] && m[i] != '\n' && i + 1 < len; i++) {
		if (m[i] == '"' && (i == 0 || m[i - 1] != '\\'))
			break;
		out[i] = m[i];
	}
	out[i] = 0;
}

static void stream_init(struct stream *s, int src, bool own_src, int dst, bool own_dst, const char *path)
{
	s->src = src;
	s->own_src = own_src;
	s->dst = dst;
	s->own_dst = own_dst;
	s->path = path;
	s->off = s->len = 0;
	s->src_eof = src < 0;
}

static void close_dst(struct stream *s)
{
	if (s->dst >= 0 && s->own_dst)
		close(s->dst);
	s->dst = -1;
}

static void close_src(struct stream *s)
{
	if (s->src >= 0 && s->own_src)
		close(s->src);
	s->src = -1;
	s->src_eof = true;
	if (s == &st_in && stdin_pipe >= 0) {
		close(stdin_pipe);
		stdin_pipe = -1;
		st_in.dst = -1;
	}
	/* Output is complete: the reader sees EOF. */
	if (s != &st_in && s->len == 0 && s->path)
		close_dst(s);
}

/* Opens a fifo's write side without blocking; ENXIO (no reader) leaves the
 * stream discarding. */
static void open_dst(struct stream *s)
{
	if (s->dst >= 0 || !s->path)
		return;
	int fd = open(s->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		s->dst = fd;
		s->own_dst = true;
	}
}

static void stream_read(struct stream *s)
{
	ssize_t n = read(s->src, s->buf, sizeof(s->buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* EOF, or EIO from a pty whose slave is gone */
		close_src(s);
		return;
	}
	s->off = 0;
	s->len = (size_t)n;
	open_dst(s);
	if (s->dst < 0)
		s->len = 0;
}

static void stream_write(struct stream *s)
{
	while (s->len > 0) {
		ssize_t n = write(s->dst, s->buf + s->off, s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* EPIPE: the reader went away; drop what is left */
			if (s == &st_in) {
				close_src(s);
			} else {
				close_dst(s);
			}
			s->len = 0;
			break;
		}
		s->off += (size_t)n;
		s->len -= (size_t)n;
	}
	if (s->src_eof && s != &st_in && s->path)
		close_dst(s);
}

static bool stream_busy(const struct stream *s)
{
	return !s->src_eof || s->len > 0;
}

static void control(void)
{
	char b[256];
	ssize_t n = read(ctl, b, sizeof(b) - 1);
	if (n <= 0)
		return;
	b[n] = 0;
	for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, CTR_SHIM_CMD_KILL " ", 5)) {
			int sig = atoi(line + 5);
			if (!exited && proc_pid > 0 && sig > 0 && sig < 65)
				kill(proc_pid, sig);
		} else if (!strncmp(line, CTR_SHIM_CMD_RESIZE " ", 7)) {
			unsigned cols = 0, rows = 0;
			if (master >= 0 && sscanf(line + 7, "%u %u", &cols, &rows) == 2) {
				struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
				ioctl(master, TIOCSWINSZ, &ws);
			}
		} else if (!strcmp(line, CTR_SHIM_CMD_CLOSE_STDIN)) {
			if (st_in.src >= 0 || stdin_pipe >= 0) {
				st_in.len = 0;
				close_src(&st_in);
			}
			if (master >= 0 && o.terminal) {
				/* A terminal has no half-close: send EOF (^D) */
				char eot = 4;
				if (write(master, &eot, 1) < 0) {
				}
			}
		} else if (!strcmp(line, CTR_SHIM_CMD_QUIT)) {
			want_quit = true;
		}
	}
}

static void loop(int sigfd)
{
	struct stream *ss[3] = {&st_in, &st_out, &st_err};
	for (;;) {
		bool out_busy = stream_busy(&st_out) || stream_busy(&st_err);
		int timeout = -1;
		if (exited && !exit_written) {
			if (!out_busy || drain_left_ms() == 0)
				write_exit();
			else
				timeout = drain_left_ms();
		}
		if (exit_written && !out_busy && (o.exec || want_quit))
			return;
		if (want_quit && exited) {
			write_exit();
			return;
		}
		struct pollfd p[8];
		struct stream *who[8];
		bool isw[8];
		int n = 0;
		p[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		who[n++] = NULL;
		p[n] = (struct pollfd){.fd = ctl, .events = POLLIN};
		who[n++] = NULL;
		for (int i = 0; i < 3; i++) {
			struct stream *s = ss[i];
			if (s->len > 0 && s->dst >= 0) {
				p[n] = (struct pollfd){.fd = s->dst, .events = POLLOUT};
				isw[n] = true;
				who[n++] = s;
			} else if (!s->src_eof && s->src >= 0) {
				p[n] = (struct pollfd){.fd = s->src, .events = POLLIN};
				isw[n] = false;
				who[n++] = s;
			}
		}
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) > 0) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					want_quit = true;
			}
			reap();
		}
		if (p[1].revents & POLLIN)
			control();
		for (int i = 2; i < n; i++) {
			if (!p[i].revents)
				continue;
			struct stream *s = who[i];
			if (isw[i])
				stream_write(s);
			else if (s->src >= 0) {
				stream_read(s);
				if (s->len > 0)
					stream_write(s);
			}
		}
	}
}

static int listen_console(void)
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

static int open_null(int flags)
{
	int fd = open("/dev/null", flags | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open /dev/null");
	return fd;
}

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void usage(void)
{
	fprintf(stderr, "%s: internal helper of libctr, not meant to be run by hand\n", CTR_SHIM_NAME);
	exit(2);
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "f:r:R:d:p:i:xtnL:I:O:E:S:N:X:")) != -1) {
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
		default: usage();
		}
	}
	if (o.ready < 3 || !o.runtime || !o.runc_root || !o.dir || !o.proc || !o.id)
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

	char path[PATH_MAX], buf[128];
	snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(), starttime(getpid()));
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
	if (o.log) {
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
	}

	/* The runtime's command line. */
	char pidf[PATH_MAX], logf[PATH_MAX], sock[PATH_MAX], procj[PATH_MAX];
	proc_path(pidf, sizeof(pidf), CTR_SHIM_PROC_PID);
	proc_path(logf, sizeof(logf), CTR_SHIM_RUNC_LOG);
	proc_path(sock, sizeof(sock), CTR_SHIM_CONSOLE);
	proc_path(procj, sizeof(procj), CTR_SHIM_PROCESS_JSON);
	unlink(pidf);
	char abs_pidf[2 * PATH_MAX], abs_logf[2 * PATH_MAX], abs_sock[PATH_MAX], abs_procj[2 * PATH_MAX];
	snprintf(abs_pidf, sizeof(abs_pidf), "%s/%s", o.dir, pidf);
	snprintf(abs_logf, sizeof(abs_logf), "%s/%s", o.dir, logf);
	snprintf(abs_procj, sizeof(abs_procj), "%s/%s", o.dir, procj);
	/* runc chdirs into the bundle (our cwd) before it dials the console
	 * socket, so the relative path keeps unix sun_path short. */
	snprintf(abs_sock, sizeof(abs_sock), "%s", sock);
	char *av[24];
	int n = 0;
	av[n++] = (char *)o.runtime;
	av[n++] = "--root";
	av[n++] = (char *)o.runc_root;
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
		av[n++] = "create";
		av[n++] = "--bundle";
		av[n++] = (char *)o.dir;
	}
	av[n++] = "--pid-file";
	av[n++] = abs_pidf;
	if (o.terminal) {
		av[n++] = "--console-socket";
		av[n++] = abs_sock;
	}
	av[n++] = (char *)o.id;
	av[n] = NULL;

	int status = run_runtime(av, c0, c1, c2, sigfd, listener);
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
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char msg[512];
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
	for (unsigned i = 0; i < n_early; i++)
		if (early[i].pid == proc_pid)
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
		stream_init(&st_out, master, false, o.log || o.inherit ? out_dst : keep,
			    !(o.log || o.inherit), o.log || o.inherit ? NULL : o.out);
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
	return 0;
}
