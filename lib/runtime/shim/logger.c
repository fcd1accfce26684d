/* libctr-shim: the logging binary of a binary:// log URI, started as
 * containerd's shim starts it (NewBinaryIO): the read ends of the process's
 * stdout and stderr pipes on fds 3 and 4, the write end of a wait pipe on
 * fd 5, and an environment of CONTAINER_ID and CONTAINER_NAMESPACE only.
 * The process is created once the logger closed the wait pipe (binary-v2:
 * after writing a byte to it). When the shim ends, the logger gets a grace
 * period to finish on its own (its inputs are at EOF by then), then
 * SIGTERM, then SIGKILL: none outlives its shim. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define LOGGER_READY_MS 30000
#define LOGGER_GRACE_MS 500
#define LOGGER_TERM_MS 500

void logger_reaped(pid_t pid)
{
	if (pid > 0 && pid == logger_pid)
		logger_pid = -1;
}

/* Moves fd to a number above 9 (so placing 3, 4 and 5 clobbers none). */
static int high(int fd)
{
	int h = fcntl(fd, F_DUPFD, 10);
	if (h < 0)
		_exit(127);
	return h;
}

void logger_start(int *out_w, int *err_w)
{
	int po[2], pe[2], pw[2], px[2];
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(pw, O_CLOEXEC) < 0 ||
	    pipe2(px, O_CLOEXEC) < 0)
		fail(errno, CTR_SHIM_ERR_LOGGER " pipes");
	char id[512], ns[512];
	snprintf(id, sizeof(id), "CONTAINER_ID=%s", o.id);
	snprintf(ns, sizeof(ns), "CONTAINER_NAMESPACE=%s", o.ns ? o.ns : "");
	char *env[] = {id, ns, NULL};
	o.log_argv[0] = (char *)o.logger;
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "fork " CTR_SHIM_ERR_LOGGER);
	if (pid == 0) {
		int x = fcntl(px[1], F_DUPFD_CLOEXEC, 10);
		int a = high(po[0]), b = high(pe[0]), c = high(pw[1]);
		if (x < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0 || dup2(c, 5) < 0)
			_exit(127);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		/* px stays open, close-on-exec: an exec that fails says why there */
		for (int fd = 6; fd < 1024; fd++)
			if (fd != x)
				close(fd);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execve(o.logger, o.log_argv, env);
		int e = errno;
		if (write(x, &e, sizeof(e)) < 0) {
		}
		_exit(127);
	}
	logger_pid = pid;
	close(po[0]);
	close(pe[0]);
	close(pw[1]);
	close(px[1]);
	int e = 0;
	ssize_t got = read(px[0], &e, sizeof(e));
	close(px[0]);
	if (got == (ssize_t)sizeof(e)) {
		errno = e;
		fail(e, CTR_SHIM_ERR_LOGGER);
	}
	/* Ready: the wait pipe's EOF, after a byte for binary-v2. */
	char byte;
	ssize_t n = -1;
	struct pollfd q = {.fd = pw[0], .events = POLLIN};
	int k;
	while ((k = poll(&q, 1, LOGGER_READY_MS)) < 0 && errno == EINTR)
		;
	if (k == 0)
		fail(ETIMEDOUT, CTR_SHIM_ERR_LOGGER " did not get ready");
	while ((n = read(pw[0], &byte, 1)) < 0 && errno == EINTR)
		;
	close(pw[0]);
	if (o.log_ready_byte && n != 1)
		fail(EIO, CTR_SHIM_ERR_LOGGER " did not call ready (it may have crashed or exited)");
	*out_w = po[1];
	*err_w = pe[1];
}

static bool logger_wait(int ms)
{
	for (int i = 0; logger_pid > 0 && i <= ms / 10; i++) {
		int status;
		pid_t w = waitpid(logger_pid, &status, WNOHANG);
		if (w == logger_pid || (w < 0 && errno == ECHILD)) {
			logger_pid = -1;
			break;
		}
		usleep(10000);
	}
	return logger_pid <= 0;
}

void logger_stop(void)
{
	if (logger_pid <= 0 || logger_wait(LOGGER_GRACE_MS))
		return;
	kill(logger_pid, SIGTERM);
	if (logger_wait(LOGGER_TERM_MS))
		return;
	kill(logger_pid, SIGKILL);
	logger_wait(2000);
}
