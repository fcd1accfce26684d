/* Probing the tools libctr runs (runc, crun, criu) for the plugin list,
 * and criu before a checkpoint. Each probe is one process start, made only
 * when the caller asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "runtime.h"

/* What a tool said, on one line: its lines joined with "; ", bounded. */
static char *one_line(const char *s)
{
	size_t n = strlen(s), cap = n < 1024 ? n : 1024;
	char *o = malloc(cap * 2 + 1), *w = o;
	if (!o)
		return NULL;
	bool sep = false;
	for (size_t i = 0; i < cap; i++) {
		char c = s[i];
		if (c == '\n' || c == '\r') {
			sep = w != o;
			continue;
		}
		if (sep) {
			*w++ = ';';
			*w++ = ' ';
			sep = false;
		}
		*w++ = (unsigned char)c < 0x20 ? ' ' : c;
	}
	*w = 0;
	while (w > o && w[-1] == ' ')
		*--w = 0;
	return o;
}

static int set_reason(struct ctr_rt_probe *out, const char *fmt_a, const char *b, ctr_error **err)
{
	if (asprintf(&out->reason, fmt_a, b) < 0) {
		out->reason = NULL;
		return ctr_err_nomem(err);
	}
	return 0;
}

/* Runs argv; ok on exit 0. Otherwise the reason is what the tool printed
 * (stderr, else stdout), or that it is missing. */
static int probe(struct ctr_rt_probe *out, const char *const *argv, char **stdout_text, ctr_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *o = NULL, *e = NULL;
	int status = 0;
	ctr_error *why = NULL;
	int r = ctr_rt_run_tool(argv, &o, &e, &status, &why);
	if (r == CTR_ENOMEM) {
		ctr_error_free(why);
		return ctr_err_nomem(err);
	}
	if (r < 0) {
		r = set_reason(out, "%s", ctr_error_message(why), err);
		ctr_error_free(why);
		return r;
	}
	if (status != 0) {
		_cleanup_free_ char *msg = one_line(*e ? e : o);
		if (!msg)
			return ctr_err_nomem(err);
		_cleanup_free_ char *head = NULL;
		if (asprintf(&head, "%s %s: exit status %d", argv[0], argv[1], status) < 0)
			return ctr_err_nomem(err);
		if (asprintf(&out->reason, "%s%s%s", head, *msg ? ": " : "", msg) < 0) {
			out->reason = NULL;
			return ctr_err_nomem(err);
		}
		return 0;
	}
	out->ok = true;
	*stdout_text = TAKE_PTR(o);
	return 0;
}

int ctr_rt_probe_runtime(struct ctr_rt_probe *out, const char *name, ctr_error **err)
{
	const char *argv[] = {name, "--version", NULL};
	_cleanup_free_ char *text = NULL;
	int r = probe(out, argv, &text, err);
	if (r < 0 || !out->ok)
		return r;
	/* "runc version 1.1.5" / "crun version 1.8.1": the word after "version". */
	const char *v = strstr(text, "version ");
	if (v) {
		v += strlen("version ");
		size_t n = strcspn(v, " \n");
		if (n && !(out->version = strndup(v, n)))
			return ctr_err_nomem(err);
	}
	return 0;
}

int ctr_rt_probe_criu(struct ctr_rt_probe *out, ctr_error **err)
{
	const char *argv[] = {"criu", "check", NULL};
	_cleanup_free_ char *text = NULL;
	int r = probe(out, argv, &text, err);
	if (r < 0 || !out->ok)
		return r;
	const char *vargv[] = {"criu", "--version", NULL};
	struct ctr_rt_probe v;
	_cleanup_free_ char *vtext = NULL;
	if (probe(&v, vargv, &vtext, NULL) == 0 && v.ok) {
		/* "Version: 3.17.1" */
		const char *s = strstr(vtext, "Version: ");
		if (s) {
			s += strlen("Version: ");
			out->version = strndup(s, strcspn(s, " \n"));
		}
	}
	ctr_rt_probe_clear(&v);
	return 0;
}

int ctr_rt_criu_check(ctr_error **err)
{
	return ctr_rt_criu_check_bin("criu", err);
}

int ctr_rt_criu_check_bin(const char *criu, ctr_error **err)
{
	const char *argv[] = {criu, "check", NULL};
	struct ctr_rt_probe p;
	_cleanup_free_ char *text = NULL;
	int r = probe(&p, argv, &text, err);
	/* criu's own words: a missing criu, or what `criu check` printed */
	if (r == 0 && !p.ok)
		r = ctr_err(err, CTR_ENOTSUP, 0, "%s", p.reason);
	ctr_rt_probe_clear(&p);
	return r;
}

void ctr_rt_probe_clear(struct ctr_rt_probe *p)
{
	free(p->version);
	free(p->reason);
	p->version = p->reason = NULL;
}
