/* The threads behind ctr_with_stdio_streams (io-copier.h). */
#include "io-copier.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

struct ctr_io_copier {
	struct ctr_io_streams s;
	int fd[3];
	int stop_fd; /* an eventfd: readable once stopping */
	atomic_bool stopping;
	pthread_t in_th, out_th;
	bool in_started, out_started;
};

#define COPY_BUF (32u << 10)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reads what fd has for cb: false once it is done (EOF, error, or the
 * callback stopped it); drain: until nothing is left. */
static bool copy_out(struct ctr_io_copier *c, int i, char *buf, bool drain)
{
	ctr_stream_write_fn cb = i == 1 ? c->s.out : c->s.err;
	do {
		ssize_t n = read(c->fd[i], buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return !drain;
		if (n <= 0 || cb(buf, (size_t)n, c->s.userdata) < 0)
			return false;
	} while (drain);
	return true;
}

static void *out_main(void *arg)
{
	struct ctr_io_copier *c = arg;
	char *buf = malloc(COPY_BUF);
	while (buf) {
		struct pollfd q[3] = {{.fd = c->stop_fd, .events = POLLIN}};
		int idx[3], n = 1;
		for (int i = 1; i < 3; i++)
			if (c->fd[i] >= 0) {
				idx[n] = i;
				q[n++] = (struct pollfd){.fd = c->fd[i], .events = POLLIN};
			}
		if (n == 1)
			break;
		if (poll(q, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		bool stop = q[0].revents != 0;
		for (int k = 1; k < n; k++)
			if ((stop || q[k].revents) && !copy_out(c, idx[k], buf, stop))
				close_fd(&c->fd[idx[k]]);
		if (stop)
			break;
	}
	free(buf);
	close_fd(&c->fd[1]);
	close_fd(&c->fd[2]);
	return NULL;
}

/* Writes all of buf to the stdin fifo; false when the reader is gone or
 * the copier stops. */
static bool write_in(struct ctr_io_copier *c, const char *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(c->fd[0], buf + off, len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return false; /* EPIPE: the shim closed stdin */
		struct pollfd q[2] = {{.fd = c->fd[0], .events = POLLOUT}, {.fd = c->stop_fd, .events = POLLIN}};
		if (poll(q, 2, -1) < 0 && errno != EINTR)
			return false;
		if (q[1].revents)
			return false;
	}
	return true;
}

static void *in_main(void *arg)
{
	struct ctr_io_copier *c = arg;
	char *buf = malloc(COPY_BUF);
	while (buf && !atomic_load(&c->stopping)) {
		long n = c->s.in(buf, COPY_BUF, c->s.userdata);
		if (n <= 0 || (size_t)n > COPY_BUF || !write_in(c, buf, (size_t)n))
			break;
	}
	free(buf);
	close_fd(&c->fd[0]);
	/* A write to a fifo whose reader left raised SIGPIPE at this thread,
	 * where it is blocked: take it, so it never reaches the program. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	struct timespec zero = {0};
	while (sigtimedwait(&pipe, NULL, &zero) > 0)
		;
	return NULL;
}

void ctr_io_copier_stop(struct ctr_io_copier *c)
{
	if (!c)
		return;
	atomic_store(&c->stopping, true);
	uint64_t one = 1;
	if (write(c->stop_fd, &one, sizeof(one)) < 0) {
	}
	if (c->out_started)
		pthread_join(c->out_th, NULL);
	if (c->in_started)
		pthread_join(c->in_th, NULL);
	for (int i = 0; i < 3; i++)
		close_fd(&c->fd[i]);
	close_fd(&c->stop_fd);
	free(c);
}

int ctr_io_copier_start(struct ctr_io_copier **out, int fds[3], const struct ctr_io_streams *s,
			ctr_error **err)
{
	struct ctr_io_copier *c = calloc(1, sizeof(*c));
	int r = 0;
	if (!c) {
		for (int i = 0; i < 3; i++)
			close_fd(&fds[i]);
		return ctr_err_nomem(err);
	}
	c->s = *s;
	for (int i = 0; i < 3; i++)
		c->fd[i] = fds[i];
	/* A stream nobody copies is not kept open. */
	if (!s->in)
		close_fd(&c->fd[0]);
	if (!s->out)
		close_fd(&c->fd[1]);
	if (!s->err)
		close_fd(&c->fd[2]);
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0) {
		r = ctr_err_errno(err, errno, "streams: eventfd");
		goto fail;
	}
	/* The copiers take none of the program's signals. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	if (c->fd[1] >= 0 || c->fd[2] >= 0) {
		e = pthread_create(&c->out_th, NULL, out_main, c);
		c->out_started = e == 0;
	}
	if (e == 0 && c->fd[0] >= 0) {
		e = pthread_create(&c->in_th, NULL, in_main, c);
		c->in_started = e == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		r = ctr_err(err, ctr_errno_code(e), e, "streams: start a copying thread");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ctr_io_copier_stop(c);
	return r;
}

