/* A logging binary for binary:// log URIs (test-task-io.c): reads the
 * process's stdout (fd 3) and stderr (fd 4) to their end and writes what it
 * got, with its own pid, arguments and environment, to the file named by
 * its "out" argument (renamed into place when complete).
 * Arguments come in pairs, as libctr's shim passes a URI's query:
 *   out PATH        where to write (required)
 *   ready byte      write the binary-v2 readiness byte to fd 5 first
 *   ready none      close fd 5 without it */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

struct buf {
	char d[65536];
	size_t n;
};

int main(int argc, char **argv)
{
	const char *out = NULL;
	bool ready_byte = false;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "out"))
			out = argv[i + 1];
		else if (!strcmp(argv[i], "ready"))
			ready_byte = !strcmp(argv[i + 1], "byte");
	}
	if (!out)
		return 2;
	if (ready_byte && write(5, "", 1) != 1)
		return 3;
	close(5);
	struct buf b[2] = {0};
	int fd[2] = {3, 4};
	while (fd[0] >= 0 || fd[1] >= 0) {
		struct pollfd q[2] = {{.fd = fd[0], .events = POLLIN}, {.fd = fd[1], .events = POLLIN}};
		if (poll(q, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 4;
		}
		for (int i = 0; i < 2; i++) {
			if (fd[i] < 0 || !q[i].revents)
				continue;
			ssize_t n = read(fd[i], b[i].d + b[i].n, sizeof(b[i].d) - 1 - b[i].n);
			if (n <= 0) {
				close(fd[i]);
				fd[i] = -1;
			} else {
				b[i].n += (size_t)n;
			}
		}
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return 5;
	fprintf(f, "pid %d\n", (int)getpid());
	int n_env = 0;
	for (char **e = environ; *e; e++, n_env++)
		fprintf(f, "env %s\n", *e);
	fprintf(f, "n_env %d\n", n_env);
	for (int i = 1; i < argc; i++)
		fprintf(f, "arg %s\n", argv[i]);
	fprintf(f, "stdout %.*s", (int)b[0].n, b[0].d);
	fprintf(f, "stderr %.*s", (int)b[1].n, b[1].d);
	fprintf(f, "eof\n");
	if (fclose(f) != 0 || rename(tmp, out) != 0)
		return 6;
	return 0;
}
