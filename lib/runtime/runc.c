/* Running the OCI runtime binary (runc, crun) from the library. Each call
 * costs a process start, so callers use it only where the API needs it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "runtime-priv.h"
#include "macro.h"
#include "run.h"

/* The last non-empty line of runc's stderr, its "msg=" part when logrus
 * formatted it. */
static const char *last_line(char *s)
{
	if (!s)
		return "";
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
	char *l = strrchr(s, '\n');
	l = l ? l + 1 : s;
	char *m = strstr(l, "msg=");
	if (m) {
		m += 4;
		if (*m == '"') {
			m++;
			size_t k = strlen(m);
			if (k && m[k - 1] == '"')
				m[k - 1] = 0;
		}
		return m;
	}
	return l;
}

int ctr_rt_runc(ctr_rt_task *t, const char *const *args, char **out, ctr_error **err)
{
	const char *argv[32];
	size_t n = 0;
	argv[n++] = t->runtime;
	argv[n++] = "--root";
	argv[n++] = t->runc_root;
	if (t->systemd_cgroup)
		argv[n++] = "--systemd-cgroup";
	if (t->criu) {
		argv[n++] = "--criu";
		argv[n++] = t->criu;
	}
	for (size_t i = 0; args[i] && n < CTR_ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const char *verb = args[0];
	_cleanup_free_ char *obuf = NULL, *ebuf = NULL;
	int status;
	int r = ctr_run_tool(argv, NULL, &obuf, &ebuf, &status, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "%s %s", t->runtime, verb);
	if (status != 0) {
		const char *msg = last_line(ebuf);
		int code = CTR_EIO;
		if (strstr(msg, "does not exist") || strstr(msg, "not running") ||
		    strstr(msg, "process already finished"))
			code = CTR_ENOTFOUND;
		return ctr_err(err, code, 0, "%s %s %s: %s", t->runtime, verb, t->id,
			       *msg ? msg : "failed");
	}
	if (out)
		*out = TAKE_PTR(obuf);
	return 0;
}
