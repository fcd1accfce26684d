/* lctr tasks attach: a detached task (run -d, tasks start -d) gets stdio
 * fifos in <state>/lctr-io/<ns>/<id>/ (lctr's own corner of the state
 * directory); attach opens them and copies between them and its stdio,
 * with a raw terminal and resizes when the task has one, forwarded
 * signals otherwise, and exits with the task's status (ctr's attach). The
 * shim discards output while nobody reads, so attaching later shows what
 * the task writes from then on. */
#include "lctr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *lctr_io_dir(ctr_client *cl, const char *id)
{
	char *d = NULL;
	if (asprintf(&d, "%s/lctr-io/%s/%s", ctr_client_state(cl), ctr_client_namespace(cl), id) < 0)
		return NULL;
	return d;
}

/* mkdir -p of d's levels after the first skip bytes (which exist). */
static int mkdirs(char *d, size_t skip, const char *what)
{
	for (char *p = d + skip;; p++) {
		char c = *p;
		if (c && c != '/')
			continue;
		*p = 0;
		int r = p > d ? mkdir(d, 0700) : 0;
		*p = c;
		if (r < 0 && errno != EEXIST)
			return lctr_failf("%s: mkdir %s: %s", what, d, strerror(errno));
		if (!c)
			return 0;
	}
}

int lctr_io_dir_make(char **out, ctr_client *cl, const char *id, const char *fifo_dir, const char *what)
{
	char *d = lctr_io_dir(cl, id);
	if (!d)
		return lctr_failf("%s: out of memory", what);
	/* <state> exists (the client made it); the levels below it */
	if (!fifo_dir) {
		if (mkdirs(d, strlen(ctr_client_state(cl)) + 1, what)) {
			free(d);
			return 1;
		}
		*out = d;
		return 0;
	}
	/* --fifo-dir: a directory of the task's own in it, as ctr's
	 * NewFIFOSetInDir, found by tasks attach through the link */
	char *link_dir = strdup(d), *slash = link_dir ? strrchr(link_dir, '/') : NULL, *own = NULL;
	if (!slash || asprintf(&own, "%s/%s-XXXXXX", fifo_dir, id) < 0) {
		free(link_dir);
		free(d);
		return lctr_failf("%s: out of memory", what);
	}
	*slash = 0;
	int rc = 1;
	char *fd_copy = strdup(fifo_dir);
	if (!fd_copy) {
		lctr_failf("%s: out of memory", what);
	} else if (!mkdirs(link_dir, strlen(ctr_client_state(cl)) + 1, what) &&
		   !mkdirs(fd_copy, fd_copy[0] == '/' ? 1 : 0, what)) {
		if (!mkdtemp(own))
			lctr_failf("%s: --fifo-dir %s: %s", what, fifo_dir, strerror(errno));
		else if (symlink(own, d) < 0) {
			lctr_failf("%s: symlink %s: %s", what, d, strerror(errno));
			rmdir(own);
		} else {
			rc = 0;
		}
	}
	free(fd_copy);
	free(link_dir);
	if (rc) {
		free(own);
		free(d);
		return 1;
	}
	free(d);
	*out = own;
	return 0;
}

static void remove_fifos(const char *d)
{
	static const char *const names[] = {"stdin", "stdout", "stderr"};
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		unlink(p);
	}
}

void lctr_io_dir_remove(ctr_client *cl, const char *id)
{
	char *d = lctr_io_dir(cl, id);
	if (!d)
		return;
	char target[PATH_MAX];
	ssize_t n = readlink(d, target, sizeof(target) - 1);
	if (n > 0) {
		/* --fifo-dir: the fifos and their directory, then the link */
		target[n] = 0;
		remove_fifos(target);
		rmdir(target);
		unlink(d);
	} else {
		remove_fifos(d);
		rmdir(d);
	}
	/* the namespace and lctr-io levels go when empty */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(d, '/');
		if (!slash)
			break;
		*slash = 0;
		if (rmdir(d) < 0)
			break;
	}
	free(d);
}

static int open_fifo(const char *dir, const char *name, int flags)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct stat st;
	if (lstat(p, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	return open(p, flags | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
}

/* Copies what is readable on from to to: 1 when something was copied, 0
 * when nothing was ready, -1 at EOF or when to is gone. */
static int pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = to, .events = POLLOUT};
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		off += w;
	}
	return 1;
}

int lctr_tasks_attach(struct lctr *g, int argc, char **argv)
{
	if (argc != 2)
		return lctr_failf("tasks attach: usage: attach ID");
	char what[160];
	snprintf(what, sizeof(what), "tasks attach %.100s", argv[1]);
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	ctr_container *k = NULL;
	ctr_task *t = NULL;
	if (ctr_container_load(&k, cl, argv[1], NULL, 0, &err) < 0 || ctr_container_task(&t, k, &err) < 0) {
		ctr_container_free(k);
		return lctr_fail(what, err);
	}
	int rc = 1;
	char *dir = lctr_io_dir(cl, argv[1]);
	bool tty = lctr_spec_has_terminal(ctr_container_spec(k));
	int out = dir ? open_fifo(dir, "stdout", O_RDONLY) : -1;
	int er = dir && !tty ? open_fifo(dir, "stderr", O_RDONLY) : -1;
	int in = -1;
	if (out < 0) {
		lctr_failf("%s: the task has no stdio to attach to (start it with -d, without --log-uri or "
			   "--null-io)",
			   what);
		goto out;
	}
	/* ENXIO: the task no longer reads its stdin */
	in = open_fifo(dir, "stdin", O_WRONLY);
	if (tty && lctr_tty_raw())
		goto out;
	signal(SIGPIPE, SIG_IGN); /* a reader or the task's stdin going away is an EOF here */
	lctr_forward(k, tty);
	bool in_open = in >= 0, out_open = true, err_open = er >= 0;
	for (;;) {
		struct pollfd p[3];
		int n = 0, i_in = -1, i_out = -1, i_err = -1;
		if (in_open)
			i_in = n, p[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		if (out_open)
			i_out = n, p[n++] = (struct pollfd){.fd = out, .events = POLLIN};
		if (err_open)
			i_err = n, p[n++] = (struct pollfd){.fd = er, .events = POLLIN};
		int r = poll(p, (nfds_t)n, 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			if (i_out >= 0 && p[i_out].revents && pump(out, STDOUT_FILENO) < 0)
				out_open = false;
			if (i_err >= 0 && p[i_err].revents && pump(er, STDERR_FILENO) < 0)
				err_open = false;
			if (i_in >= 0 && p[i_in].revents && pump(STDIN_FILENO, in) < 0) {
				in_open = false; /* EOF on our stdin: the task's stdin closes */
				close(in);
				in = -1;
			}
		}
		if (!out_open && !err_open)
			break;
		/* A stream the shim never opened (nothing written since we
		 * came) gives no EOF: the task's exit ends the copy. */
		ctr_status st = CTR_TASK_UNKNOWN;
		if (r == 0 && ctr_task_status(&st, NULL, t, NULL) == 0 && st == CTR_TASK_STOPPED) {
			while (out_open && pump(out, STDOUT_FILENO) > 0) {
			}
			while (err_open && pump(er, STDERR_FILENO) > 0) {
			}
			break;
		}
	}
	lctr_tty_reset();
	uint32_t status = 0;
	if (ctr_task_wait(&status, NULL, t, -1, &err) < 0)
		rc = lctr_fail(what, err);
	else
		rc = (int)(status & 0xff);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (er >= 0)
		close(er);
	free(dir);
	ctr_task_free(t);
	ctr_container_free(k);
	return rc;
}
