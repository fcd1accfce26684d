/* The shim's process-wide state and its failure report, which the main loop
 * (shim.c), the stdio copier (io.c) and the exit recorder (exit.c) share.
 * Apart from shim.c so that io.c and exit.c need it without needing main. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct shim_opts o = {.ready = -1};
struct stream st_in, st_out, st_err;
int master = -1;
int ctl = -1;
int stdin_pipe = -1;
pid_t proc_pid = -1;
pid_t wait_pid = -1;
pid_t logger_pid = -1;
bool exited, want_quit;
struct early_exit early[16];
unsigned n_early;

void report(const char *fmt, ...)
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

void fail(int e, const char *what)
{
	/* a logging binary started already goes with the failed shim */
	if (logger_pid > 0)
		kill(logger_pid, SIGKILL);
	report("err %d %s: %s\n", e, what, strerror(e));
	_exit(1);
}
