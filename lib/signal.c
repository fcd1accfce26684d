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

/* A whole decimal number with an optional sign, as Go's strconv.Atoi reads
 * it (no spaces, which strtol alone would skip); 0 and *out on success. */
static int parse_int(const char *s, long *out)
{
	const char *d = *s == '+' || *s == '-' ? s + 1 : s;
	if (*d < '0' || *d > '9')
		return -1;
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (*end || errno)
		return -1;
	*out = n;
	return 0;
}

static int parse(const char *s)
{
	long n;
	if ((*s >= '0' && *s <= '9') || *s == '+' || *s == '-') /* a number, or nothing */
		return parse_int(s, &n) == 0 && n > 0 && n < 65 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		/* "RTMIN" alone, or an offset with its sign: "RTMIN+3", "RTMAX-2" */
		long off = 0;
		if (s[5] && ((s[5] != '+' && s[5] != '-') || parse_int(s + 5, &off) < 0))
			return -1;
		if (off < -64 || off > 64)
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
