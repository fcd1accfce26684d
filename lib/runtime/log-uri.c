/* Log URIs (containerd's cio.LogURI, LogFile and BinaryIO): file:///path
 * appends stdout and stderr to a file; binary:///path?k=v starts a logging
 * binary with them (binary-v2:// also wants its readiness byte). The URI
 * comes from the caller: it is parsed here, once, before anything runs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "runtime.h"
#include "macro.h"

/* Percent-decodes s[0..n) into a new string; plus_space: '+' is a space
 * (a query, as Go's url.ParseQuery reads it). NULL on a bad escape or a
 * NUL byte (*why says which), or on no memory (*why NULL). */
static char *decode(const char *s, size_t n, bool plus_space, const char **why)
{
	char *d = malloc(n + 1);
	*why = NULL;
	if (!d)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || ctr_hex_digit(s[i + 1]) < 0 || ctr_hex_digit(s[i + 2]) < 0) {
				*why = "bad percent-encoding";
				free(d);
				return NULL;
			}
			c = (char)(ctr_hex_digit(s[i + 1]) * 16 + ctr_hex_digit(s[i + 2]));
			if (c == 0) {
				*why = "a NUL byte";
				free(d);
				return NULL;
			}
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		d[k++] = c;
	}
	d[k] = 0;
	return d;
}

void ctr_rt_log_uri_clear(struct ctr_rt_log_uri *u)
{
	free(u->path);
	if (u->argv)
		for (size_t i = 0; u->argv[i]; i++)
			free(u->argv[i]);
	free(u->argv);
	memset(u, 0, sizeof(*u));
}

#define BAD(...) ctr_err(err, CTR_EINVAL, 0, __VA_ARGS__)

/* The query's key=value pairs after the binary: argv[1..]. */
static int parse_query(struct ctr_rt_log_uri *u, const char *uri, const char *q, ctr_error **err)
{
	size_t n_pairs = 0;
	for (const char *c = q; *c; c++)
		n_pairs += *c == '&';
	n_pairs++;
	if (n_pairs > CTR_RT_LOG_MAX_ARGS)
		return BAD("log URI %s: more than %d query arguments", uri, CTR_RT_LOG_MAX_ARGS);
	u->argv = calloc(2 * n_pairs + 2, sizeof(char *));
	if (!u->argv)
		return ctr_err_nomem(err);
	size_t k = 0;
	u->argv[k++] = strdup(u->path);
	if (!u->argv[0])
		return ctr_err_nomem(err);
	for (const char *p = q; *p || p == q;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		if (klen == 0)
			return BAD("log URI %s: empty query key", uri);
		const char *why;
		char *key = decode(p, klen, true, &why);
		if (!key)
			return why ? BAD("log URI %s: %s in the query", uri, why) : ctr_err_nomem(err);
		for (size_t i = 1; i < k; i += 2)
			if (strcmp(u->argv[i], key) == 0) {
				int r = BAD("log URI %s: query key \"%s\" given twice", uri, key);
				free(key);
				return r;
			}
		u->argv[k++] = key;
		/* Go's NewBinaryCmd: the key, then its value ("" for a bare key) */
		char *val = eq ? decode(eq + 1, len - klen - 1, true, &why) : strdup("");
		if (!val)
			return why || eq ? BAD("log URI %s: %s in the query", uri, why ? why : "bad value")
					 : ctr_err_nomem(err);
		u->argv[k++] = val;
		p += len;
		if (!*p)
			break;
		p++;
	}
	return 0;
}

int ctr_rt_log_uri_parse(struct ctr_rt_log_uri *out, const char *uri, ctr_error **err)
{
	struct ctr_rt_log_uri u = {0};
	if (!uri || !*uri)
		return BAD("log URI: empty");
	if (strlen(uri) > CTR_RT_LOG_URI_MAX)
		return BAD("log URI: longer than %d bytes", CTR_RT_LOG_URI_MAX);
	const char *rest;
	if (strncmp(uri, "file://", 7) == 0) {
		u.kind = CTR_RT_IO_FILE;
		rest = uri + 7;
	} else if (strncmp(uri, "binary://", 9) == 0) {
		u.kind = CTR_RT_IO_BINARY;
		rest = uri + 9;
	} else if (strncmp(uri, "binary-v2://", 12) == 0) {
		u.kind = CTR_RT_IO_BINARY;
		u.ready_byte = true;
		rest = uri + 12;
	} else {
		return BAD("log URI %s: unsupported scheme (want file://, binary:// or binary-v2://)", uri);
	}
	for (const char *c = uri; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return BAD("log URI %s: control characters are not allowed", uri);
	if (strchr(rest, '#'))
		return BAD("log URI %s: a fragment (#) is not allowed", uri);
	/* No host: "binary://logger" is a relative path to containerd's
	 * LogURIGenerator and never runs anything. */
	if (rest[0] != '/')
		return BAD("log URI %s: the path must be absolute (scheme:///abs/path)", uri);
	size_t plen = strcspn(rest, "?");
	const char *why;
	int r;
	if (!(u.path = decode(rest, plen, false, &why))) {
		r = why ? BAD("log URI %s: %s in the path", uri, why) : ctr_err_nomem(err);
		goto fail;
	}
	for (const char *c = u.path; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			r = BAD("log URI %s: \".\" and \"..\" are not allowed in the path", uri);
			goto fail;
		}
		c += n;
	}
	if (strlen(u.path) < 2 || u.path[strlen(u.path) - 1] == '/') {
		r = BAD("log URI %s: the path names a directory", uri);
		goto fail;
	}
	const char *q = rest[plen] == '?' ? rest + plen + 1 : NULL;
	if (u.kind == CTR_RT_IO_FILE) {
		if (q) {
			r = BAD("log URI %s: file:// takes no query", uri);
			goto fail;
		}
	} else if (q && *q) {
		if ((r = parse_query(&u, uri, q, err)) < 0)
			goto fail;
	} else {
		u.argv = calloc(2, sizeof(char *));
		if (!u.argv || !(u.argv[0] = strdup(u.path))) {
			r = ctr_err_nomem(err);
			goto fail;
		}
	}
	*out = u;
	return 0;
fail:
	ctr_rt_log_uri_clear(&u);
	return r;
}
