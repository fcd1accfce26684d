/* libctr-shim: copying stdio between the container and the caller's fifos,
 * log file or terminal, and the control fifo's requests. */
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

#include "shim.h"

void stream_init(struct stream *s, int src, bool own_src, int dst, bool own_dst, const char *path)
{
	s->src = src;
	s->own_src = own_src;
	s->dst = dst;
	s->own_dst = own_dst;
	s->path = path;
	s->off = s->len = 0;
	s->src_eof = src < 0;
}

void close_dst(struct stream *s)
{
	if (s->dst >= 0 && s->own_dst)
		close(s->dst);
	s->dst = -1;
}

void close_src(struct stream *s)
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
	/* Output is complete: the reader sees EOF, also one that attached
	 * after the last reader went away (open and close it once). */
	if (s != &st_in && s->len == 0 && s->path) {
		open_dst(s);
		close_dst(s);
	}
}

/* Opens a fifo's write side without blocking; ENXIO (no reader) leaves the
 * stream discarding. */
void open_dst(struct stream *s)
{
	if (s->dst >= 0 || !s->path)
		return;
	int fd = open(s->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		s->dst = fd;
		s->own_dst = true;
	}
}

void stream_read(struct stream *s)
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

void stream_write(struct stream *s)
{
	bool reopened = false;
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
				/* unless another reader attached since (re-attach) */
				if (!reopened && s->path) {
					reopened = true;
					open_dst(s);
					if (s->dst >= 0)
						continue;
				}
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

bool stream_busy(const struct stream *s)
{
	return !s->src_eof || s->len > 0;
}

void control(void)
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

void loop(int sigfd)
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
		/* An exec's shim, and a foreground task's (whose runc is gone
		 * too), have nothing left to do: the delete need not stop them. */
		if (exit_written && !out_busy && (o.exec || o.foreground || want_quit))
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

int open_null(int flags)
{
	int fd = open("/dev/null", flags | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open /dev/null");
	return fd;
}

void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

