/* Test helper: runs a shell command built with printf's format. */
#ifndef CTR_TEST_SH_H
#define CTR_TEST_SH_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs a shell command; its exit status (128 when it did not exit). */
static int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int test_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif
