/* Running a helper program (runc, criu, apparmor_parser) and collecting
 * what it prints: one place for the spawn, the signal state the child
 * starts with and the bounds on its output. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "run.h"

extern char **environ;

#define OUT_MAX (4u << 20)
#define ERR_MAX (64u << 10)

static void append(char **buf, size_t *len, size_t max, const char *data, size_t n)
{
	if (*len + n > max)
		n = max - *len;
	if (!n)
		return;
	char *b = realloc(*buf, *len + n + 1);
	if (!b)
		return;
	memcpy(b + *len, data, n);
	*len += n;
	b[*len] = 0;
	*buf = b;
}

void ctr_spawnattr_clean(posix_spawnattr_t *at)
{
	posix_spawnattr_init(at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(at, &none);
	sigset_t all;
	sigfillset(&all);
	posix_spawnattr_setsigdefault(at, &all);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int ctr_run_tool(const char *const *argv, const char *stdin_path, char **out, char **errout, int *exit_status,
		 ctr_error **err)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return ctr_err_errno(err, errno, "%s: pipe", argv[0]);
	if (pipe2(pe, O_CLOEXEC) < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		return ctr_err_errno(err, e, "%s: pipe", argv[0]);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_t at;
	ctr_spawnattr_clean(&at);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(po[1]);
	close(pe[1]);
	if (r != 0) {
		close(po[0]);
		close(pe[0]);
		return ctr_err(err, r == ENOENT ? CTR_EUNAVAILABLE : ctr_errno_code(r), r,
			       r == ENOENT ? "%s: not found on PATH" : "%s", argv[0]);
	}
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	int open_n = 2;
	char buf[8192];
	while (open_n > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t k = read(p[i].fd, buf, sizeof(buf));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_n--;
				continue;
			}
			if (i == 0)
				append(&obuf, &olen, OUT_MAX, buf, (size_t)k);
			else
				append(&ebuf, &elen, ERR_MAX, buf, (size_t)k);
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			free(obuf);
			free(ebuf);
			return ctr_err_errno(err, errno, "%s: wait", argv[0]);
		}
	}
	*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!obuf && !(obuf = strdup(""))) {
		free(ebuf);
		return ctr_err_nomem(err);
	}
	if (!ebuf && !(ebuf = strdup(""))) {
		free(obuf);
		return ctr_err_nomem(err);
	}
	*out = obuf;
	*errout = ebuf;
	return 0;
}

