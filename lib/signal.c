/* Signal names and numbers, as containerd's ParseSignal reads them. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ctr/common.h>

#include "error.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
	{"TRAP", SIGTRAP}, {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
	{"FPE", SIGFPE},   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2}, {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
	{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},	{"TTOU", SIGTTOU}, {"URG", SIGURG},
	{"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},	{"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	{"WINCH", SIGWINCH}, {"IO", SIGIO},	{"POLL", SIGPOLL}, {"PWR", SIGPWR},
	{"SYS", SIGSYS},
};

static int parse(const char *s)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (*s && !*end && !errno)
		return n > 0 && n < 65 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		long off = s[5] ? strtol(s + 5, &end, 10) : 0;
		if (*end)
			return -1;
		long v = toupper((unsigned char)s[3]) == 'I' ? SIGRTMIN + off : SIGRTMAX + off;
		return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
	}
	return -1;
}

CTR_EXPORT int ctr_parse_signal(int *sig, const char *name, ctr_error **err)
{
	if (!sig || !name)
		return ctr_err(err, CTR_EINVAL, 0, "parse signal: NULL argument");
	int v = parse(name);
	if (v < 0)
		return ctr_err(err, CTR_EINVAL, 0, "unknown signal \"%.64s\"", name);
	*sig = v;
	return 0;
}
