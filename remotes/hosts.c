#include "hosts.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "error.h"
#include "toml.h"
#include "fs.h"
#include "macro.h"

#define HOSTS_TOML_MAX (1024 * 1024)

static void host_clear(struct ctr_registry_host *h)
{
	free(h->scheme);
	free(h->host);
	free(h->path);
	ctr_strv_free(h->ca);
	free(h->ca_pem);
	for (size_t i = 0; i < h->n_client; i++) {
		free(h->client_cert[i]);
		free(h->client_key[i]);
	}
	free(h->client_cert);
	free(h->client_key);
	for (size_t i = 0; i < h->n_headers; i++) {
		free(h->headers[i].name);
		ctr_strv_free(h->headers[i].values);
	}
	free(h->headers);
	memset(h, 0, sizeof(*h));
}

void ctr_hosts_clear(struct ctr_hosts *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		host_clear(&h->v[i]);
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static char *abs_path(const char *p, const char *basedir)
{
	char *s = NULL;
	if (p[0] == '/' || !basedir)
		return strdup(p);
	if (asprintf(&s, "%s/%s", basedir, p) < 0)
		return NULL;
	return s;
}

static int type_err(ctr_error **err, const char *what, const struct ctr_toml *v, const char *key, const char *want)
{
	return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: \"%s\" must be %s", what, v->line, key, want);
}

static int strv_push(char ***v, size_t *n, char *s)
{
	if (!s)
		return -1;
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* Accepts a string or an array of strings. */
static int string_list(const struct ctr_toml *v, const char *what, const char *key, const char *basedir,
		       bool paths, char ***out, ctr_error **err)
{
	_cleanup_strv_ char **list = NULL;
	size_t n = 0;
	if (v->type == CTR_TOML_STRING) {
		if (strv_push(&list, &n, paths ? abs_path(v->str, basedir) : strdup(v->str)) < 0)
			return ctr_err_nomem(err);
	} else if (v->type == CTR_TOML_ARRAY) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->type != CTR_TOML_STRING)
				return type_err(err, what, v->items[i], key, "a string or an array of strings");
			const char *s = v->items[i]->str;
			if (strv_push(&list, &n, paths ? abs_path(s, basedir) : strdup(s)) < 0)
				return ctr_err_nomem(err);
		}
	} else {
		return type_err(err, what, v, key, "a string or an array of strings");
	}
	/* An empty array is an empty list, never NULL (fuzz-hosts found a
	 * header `x = []` whose values were then read through NULL). */
	if (!list && !(list = calloc(1, sizeof(*list))))
		return ctr_err_nomem(err);
	*out = TAKE_PTR(list);
	return 0;
}

static int add_client(struct ctr_registry_host *h, char *cert, char *key)
{
	char **c = realloc(h->client_cert, (h->n_client + 1) * sizeof(*c));
	if (c)
		h->client_cert = c;
	char **k = realloc(h->client_key, (h->n_client + 1) * sizeof(*k));
	if (k)
		h->client_key = k;
	if (!c || !k || !cert) {
		free(cert);
		free(key);
		return -1;
	}
	h->client_cert[h->n_client] = cert;
	h->client_key[h->n_client] = key;
	h->n_client++;
	return 0;
}

static int parse_server(struct ctr_registry_host *h, const char *server, bool override_path, const char *what,
			int line, ctr_error **err)
{
	const char *rest = server;
	if (!strncmp(server, "https://", 8)) {
		h->scheme = strdup("https");
		rest = server + 8;
	} else if (!strncmp(server, "http://", 7)) {
		h->scheme = strdup("http");
		rest = server + 7;
	} else if (strstr(server, "://")) {
		return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: unsupported scheme in \"%s\"", what, line, server);
	} else {
		h->scheme = strdup("https");
	}
	size_t hl = strcspn(rest, "/?#");
	if (hl == 0)
		return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: no host in \"%s\"", what, line, server);
	for (size_t i = 0; i < hl; i++) {
		char c = rest[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
			return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: invalid host in \"%s\"", what, line, server);
	}
	if (rest[hl] == '?' || rest[hl] == '#')
		return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: query or fragment in \"%s\"", what, line, server);
	h->host = strndup(rest, hl);
	/* Clean the path: collapse slashes, drop "." and a trailing slash;
	 * ".." is refused rather than interpreted. */
	const char *p = rest + hl;
	_cleanup_free_ char *clean = malloc(strlen(p) + 5);
	if (!h->scheme || !h->host || !clean)
		return ctr_err_nomem(err);
	size_t o = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t sl = strcspn(p, "/");
		if (sl == 0)
			break;
		if (sl == 1 && p[0] == '.') {
			p += 1;
			continue;
		}
		if (sl == 2 && p[0] == '.' && p[1] == '.')
			return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: \"..\" in server path \"%s\"", what, line, server);
		clean[o++] = '/';
		memcpy(clean + o, p, sl);
		o += sl;
		p += sl;
	}
	clean[o] = 0;
	if (!override_path && (o < 3 || strcmp(clean + o - 3, "/v2")))
		strcpy(clean + o, "/v2");
	h->path = strdup(clean);
	if (!h->path)
		return ctr_err_nomem(err);
	return 0;
}

/* One host table (or the root). server may be NULL. */
static int parse_host(struct ctr_registry_host *h, const char *server, int server_line,
		      const struct ctr_toml *t, const char *basedir, const char *what, ctr_error **err)
{
	int r;
	bool override_path = false;
	h->skip_verify = -1;
	h->caps = CTR_HOST_CAP_ALL;
	const struct ctr_toml *v;

	if ((v = ctr_toml_get(t, "override_path"))) {
		if (v->type != CTR_TOML_BOOL)
			return type_err(err, what, v, "override_path", "a boolean");
		override_path = v->b;
	}
	if (server && (r = parse_server(h, server, override_path, what, server_line, err)) < 0)
		return r;
	if ((v = ctr_toml_get(t, "skip_verify"))) {
		if (v->type != CTR_TOML_BOOL)
			return type_err(err, what, v, "skip_verify", "a boolean");
		h->skip_verify = v->b;
	}
	if ((v = ctr_toml_get(t, "capabilities"))) {
		if (v->type != CTR_TOML_ARRAY)
			return type_err(err, what, v, "capabilities", "an array of strings");
		if (v->n > 0)
			h->caps = 0;
		for (size_t i = 0; i < v->n; i++) {
			const struct ctr_toml *c = v->items[i];
			if (c->type != CTR_TOML_STRING)
				return type_err(err, what, c, "capabilities", "an array of strings");
			if (!strcasecmp(c->str, "pull"))
				h->caps |= CTR_HOST_CAP_PULL;
			else if (!strcasecmp(c->str, "resolve"))
				h->caps |= CTR_HOST_CAP_RESOLVE;
			else if (!strcasecmp(c->str, "push"))
				h->caps |= CTR_HOST_CAP_PUSH;
			else
				return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: unknown capability \"%.64s\"", what,
					       c->line, c->str);
		}
	}
	if ((v = ctr_toml_get(t, "ca")) && (r = string_list(v, what, "ca", basedir, true, &h->ca, err)) < 0)
		return r;
	if ((v = ctr_toml_get(t, "client"))) {
		if (v->type == CTR_TOML_STRING) {
			if (add_client(h, abs_path(v->str, basedir), NULL) < 0)
				return ctr_err_nomem(err);
		} else if (v->type == CTR_TOML_ARRAY) {
			for (size_t i = 0; i < v->n; i++) {
				const struct ctr_toml *c = v->items[i];
				if (c->type == CTR_TOML_STRING) {
					if (add_client(h, abs_path(c->str, basedir), NULL) < 0)
						return ctr_err_nomem(err);
				} else if (c->type == CTR_TOML_ARRAY && c->n == 2 &&
					   c->items[0]->type == CTR_TOML_STRING &&
					   c->items[1]->type == CTR_TOML_STRING) {
					char *key = abs_path(c->items[1]->str, basedir);
					if (!key || add_client(h, abs_path(c->items[0]->str, basedir), key) < 0)
						return ctr_err_nomem(err);
				} else {
					return type_err(err, what, c, "client",
							"a string, an array of strings or an array of [cert, key] pairs");
				}
			}
		} else {
			return type_err(err, what, v, "client", "a string or an array");
		}
	}
	if ((v = ctr_toml_get(t, "header"))) {
		if (v->type != CTR_TOML_TABLE)
			return type_err(err, what, v, "header", "a table");
		h->headers = calloc(v->n ? v->n : 1, sizeof(*h->headers));
		if (!h->headers)
			return ctr_err_nomem(err);
		for (size_t i = 0; i < v->n; i++) {
			const char *name = v->keys[i];
			for (const char *c = name; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
				      strchr("!#$%&'*+-.^_`|~", *c)))
					return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: invalid header name \"%.64s\"",
						       what, v->items[i]->line, name);
			if (!*name)
				return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: empty header name", what, v->items[i]->line);
			char **vals = NULL;
			if ((r = string_list(v->items[i], what, name, NULL, false, &vals, err)) < 0)
				return r;
			for (size_t j = 0; vals[j]; j++)
				if (strpbrk(vals[j], "\r\n")) {
					ctr_strv_free(vals);
					return ctr_err(err, CTR_EINVAL, 0, "%s: line %d: newline in header \"%.64s\"",
						       what, v->items[i]->line, name);
				}
			h->headers[h->n_headers].name = strdup(name);
			h->headers[h->n_headers].values = vals;
			h->n_headers++;
			if (!h->headers[h->n_headers - 1].name)
				return ctr_err_nomem(err);
		}
	}
	if ((v = ctr_toml_get(t, "dial_timeout")) && v->type != CTR_TOML_STRING)
		return type_err(err, what, v, "dial_timeout", "a string");
	return 0;
}

int ctr_hosts_parse(const char *text, size_t len, const char *basedir, const char *what, struct ctr_hosts *out,
		    ctr_error **err)
{
	struct ctr_toml *root = NULL;
	what = what ? what : "hosts.toml";
	int r = ctr_toml_parse(text, len, what, &root, err);
	if (r < 0)
		return r;
	struct ctr_hosts hs = {0};
	const struct ctr_toml *hosts = ctr_toml_get(root, "host");
	const struct ctr_toml *server = ctr_toml_get(root, "server");
	size_t n = 1;
	if (hosts && hosts->type != CTR_TOML_TABLE) {
		r = type_err(err, what, hosts, "host", "a table");
		goto out;
	}
	if (server && server->type != CTR_TOML_STRING) {
		r = type_err(err, what, server, "server", "a string");
		goto out;
	}
	if (hosts)
		n += hosts->n;
	hs.v = calloc(n, sizeof(*hs.v));
	if (!hs.v) {
		r = ctr_err_nomem(err);
		goto out;
	}
	for (size_t i = 0; hosts && i < hosts->n; i++) {
		const struct ctr_toml *t = hosts->items[i];
		hs.n++;
		if (t->type != CTR_TOML_TABLE) {
			r = type_err(err, what, t, hosts->keys[i], "a table");
			goto out;
		}
		if ((r = parse_host(&hs.v[i], hosts->keys[i], t->line, t, basedir, what, err)) < 0)
			goto out;
	}
	hs.n++;
	r = parse_host(&hs.v[hs.n - 1], server ? server->str : NULL, server ? server->line : 0, root, basedir, what,
		       err);
out:
	ctr_toml_free(root);
	if (r < 0) {
		ctr_hosts_clear(&hs);
		return r;
	}
	*out = hs;
	return 0;
}

/* Locates the directory for host under dir; *out NULL when there is none. */
static int find_host_dir(const char *dir, const char *host, char **out, ctr_error **err)
{
	_cleanup_free_ char *escaped = NULL;
	const char *colon = strrchr(host, ':');
	if (colon && colon != host && host[strlen(host) - 1] != ']') {
		if (asprintf(&escaped, "%.*s_%s_", (int)(colon - host), host, colon + 1) < 0)
			return ctr_err_nomem(err);
	}
	const char *cands[] = {escaped, host, "_default"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(cands); i++) {
		if (!cands[i])
			continue;
		/* A host comes from a validated reference, but refuse anything
		 * that could leave dir regardless. */
		if (strchr(cands[i], '/') || !strcmp(cands[i], "..") || !strcmp(cands[i], "."))
			return ctr_err(err, CTR_EINVAL, 0, "invalid registry host \"%.200s\"", host);
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, cands[i]) < 0)
			return ctr_err_nomem(err);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			*out = p;
			return 0;
		}
		free(p);
	}
	*out = NULL;
	return 0;
}

int ctr_hosts_load(const char *hosts_dir, const char *host, bool plain_http, struct ctr_hosts *out, ctr_error **err)
{
	struct ctr_hosts hs = {0};
	int r;
	if (!host || !*host)
		return ctr_err(err, CTR_EINVAL, 0, "empty registry host");
	if (hosts_dir) {
		_cleanup_free_ char *dir = NULL;
		if ((r = find_host_dir(hosts_dir, host, &dir, err)) < 0)
			return r;
		if (dir) {
			_cleanup_free_ char *text = NULL;
			size_t len = 0;
			_cleanup_free_ char *file = NULL;
			if (asprintf(&file, "%s/hosts.toml", dir) < 0)
				return ctr_err_nomem(err);
			r = ctr_read_file(AT_FDCWD, file, HOSTS_TOML_MAX, &text, &len, err);
			if (r < 0 && r != CTR_ENOTFOUND)
				return ctr_err_prefix(err, r, "hosts config for %s", host);
			if (r == 0 && (r = ctr_hosts_parse(text, len, dir, file, &hs, err)) < 0)
				return r;
		}
	}
	if (hs.n == 0) {
		hs.v = calloc(1, sizeof(*hs.v));
		if (!hs.v)
			return ctr_err_nomem(err);
		hs.n = 1;
		hs.v[0].skip_verify = -1;
		hs.v[0].caps = CTR_HOST_CAP_ALL;
	}
	struct ctr_registry_host *last = &hs.v[hs.n - 1];
	if (!last->host) {
		free(last->scheme);
		free(last->path);
		if (!strcmp(host, "docker.io")) {
			last->host = strdup("registry-1.docker.io");
			last->scheme = strdup("https");
		} else {
			last->host = strdup(host);
			last->scheme = strdup(plain_http ? "http" : "https");
		}
		last->path = strdup("/v2");
		if (!last->host || !last->scheme || !last->path) {
			ctr_hosts_clear(&hs);
			return ctr_err_nomem(err);
		}
	}
	*out = hs;
	return 0;
}
