#include "auth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "http.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

#define TOKEN_BODY_MAX (1024 * 1024)
#define DOCKER_CONFIG_MAX (4 * 1024 * 1024)

/* ---- WWW-Authenticate ---- */

static bool tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

void ctr_auth_challenges_free(struct ctr_auth_challenge *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].scheme);
		for (size_t j = 0; j < c[i].n_params; j++) {
			free(c[i].params[j].key);
			free(c[i].params[j].value);
		}
		free(c[i].params);
	}
	free(c);
}

const char *ctr_auth_param_get(const struct ctr_auth_challenge *c, const char *key)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (!strcmp(c->params[i].key, key))
			return c->params[i].value;
	return NULL;
}

static char *lowerdup(const char *s, size_t n)
{
	char *o = strndup(s, n);
	for (char *p = o; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return o;
}

int ctr_auth_parse_challenges(const char *hdr, struct ctr_auth_challenge **out, size_t *nout, ctr_error **err)
{
	struct ctr_auth_challenge *v = NULL;
	size_t n = 0;
	int r = 0;
	const char *p = hdr ? hdr : "";
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (tchar(*p))
			p++;
		if (p == s) {
			r = ctr_err(err, CTR_EINVAL, 0, "WWW-Authenticate: unexpected character at offset %zu",
				    (size_t)(p - hdr));
			goto fail;
		}
		size_t tl = (size_t)(p - s);
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=' && n > 0 && !(q == p && q[1] == '=') ) {
			/* auth-param of the current challenge */
			struct ctr_auth_challenge *c = &v[n - 1];
			p = q + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			char *val;
			if (*p == '"') {
				p++;
				size_t cap = strlen(p) + 1, o = 0;
				val = malloc(cap);
				if (!val) {
					r = ctr_err_nomem(err);
					goto fail;
				}
				for (;;) {
					if (!*p) {
						free(val);
						r = ctr_err(err, CTR_EINVAL, 0, "WWW-Authenticate: unterminated quoted string");
						goto fail;
					}
					if (*p == '"') {
						p++;
						break;
					}
					if (*p == '\\' && p[1])
						p++;
					val[o++] = *p++;
				}
				val[o] = 0;
			} else {
				const char *vs = p;
				while (tchar(*p) || *p == '/' || *p == ':' || *p == '=')
					p++;
				val = strndup(vs, (size_t)(p - vs));
			}
			struct ctr_auth_param *np = realloc(c->params, (c->n_params + 1) * sizeof(*np));
			char *key = lowerdup(s, tl);
			if (!val || !np || !key) {
				free(val);
				free(key);
				if (np)
					c->params = np;
				r = ctr_err_nomem(err);
				goto fail;
			}
			c->params = np;
			c->params[c->n_params].key = key;
			c->params[c->n_params].value = val;
			c->n_params++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p && *p != ',') {
				r = ctr_err(err, CTR_EINVAL, 0, "WWW-Authenticate: expected ',' at offset %zu",
					    (size_t)(p - hdr));
				goto fail;
			}
		} else if (*q == '=' && n == 0) {
			r = ctr_err(err, CTR_EINVAL, 0, "WWW-Authenticate: parameter before any scheme");
			goto fail;
		} else {
			/* a new challenge (a token68 credential after it is skipped) */
			struct ctr_auth_challenge *nv = realloc(v, (n + 1) * sizeof(*nv));
			if (!nv) {
				r = ctr_err_nomem(err);
				goto fail;
			}
			v = nv;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].scheme = lowerdup(s, tl);
			n++;
			if (!v[n - 1].scheme) {
				r = ctr_err_nomem(err);
				goto fail;
			}
			p = q;
			/* token68: letters, digits, -._~+/ then '='* and no '=' param */
			const char *t = p;
			while (isalnum((unsigned char)*t) || (*t && strchr("-._~+/", *t)))
				t++;
			const char *e = t;
			while (*e == '=')
				e++;
			if (t > p && (e > t) && (*e == 0 || *e == ',' || *e == ' '))
				p = e;
		}
	}
	if (n == 0) {
		r = ctr_err(err, CTR_EINVAL, 0, "WWW-Authenticate: no challenge");
		goto fail;
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	ctr_auth_challenges_free(v, n);
	return r;
}

/* ---- token responses ---- */

void ctr_auth_token_clear(struct ctr_auth_token *t)
{
	if (!t)
		return;
	if (t->token)
		explicit_bzero(t->token, strlen(t->token));
	free(t->token);
	if (t->refresh_token)
		explicit_bzero(t->refresh_token, strlen(t->refresh_token));
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

int ctr_auth_parse_token(const char *buf, size_t len, struct ctr_auth_token *out, ctr_error **err)
{
	json_t *j = NULL;
	int r = ctr_json_parse(buf, len, TOKEN_BODY_MAX, 8, "token response", &j, err);
	if (r < 0)
		return r;
	if (!json_is_object(j)) {
		json_decref(j);
		return ctr_err(err, CTR_EINVAL, 0, "token response: not a JSON object");
	}
	const char *tok = ctr_json_str(j, "token");
	if (!tok || !*tok)
		tok = ctr_json_str(j, "access_token");
	if (!tok || !*tok) {
		json_decref(j);
		return ctr_err(err, CTR_EINVAL, 0, "token response: no token");
	}
	for (const char *c = tok; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			json_decref(j);
			return ctr_err(err, CTR_EINVAL, 0, "token response: invalid character in token");
		}
	struct ctr_auth_token t = {0};
	t.token = strdup(tok);
	const char *rt = ctr_json_str(j, "refresh_token");
	if (rt && *rt)
		t.refresh_token = strdup(rt);
	json_int_t exp = ctr_json_int(j, "expires_in", 0);
	/* The spec's minimum: a token without expires_in lives 60 s. */
	t.expires_in = exp > 0 ? (exp > 86400 * 365 ? 86400 * 365 : exp) : 60;
	bool want_rt = rt && *rt;
	json_decref(j);
	if (!t.token || (want_rt && !t.refresh_token)) {
		ctr_auth_token_clear(&t);
		return ctr_err_nomem(err);
	}
	*out = t;
	return 0;
}

/* ---- the authorizer ---- */

struct tok_entry {
	char *host, *scope, *token;
	uint64_t expires_ms;
	struct tok_entry *next;
};

struct host_state {
	char *host;
	char *user, *secret;
	char *refresh_token;
	bool creds_loaded;
	bool basic;      /* the host asked for Basic */
	struct host_state *next;
};

struct ctr_auth {
	ctr_remote_creds_fn fn;
	void *ud;
	char *docker_config;
	struct host_state *hosts;
	struct tok_entry *tokens;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void zfree(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int ctr_auth_new(struct ctr_auth **out, ctr_remote_creds_fn fn, void *ud, const char *docker_config, ctr_error **err)
{
	struct ctr_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return ctr_err_nomem(err);
	a->fn = fn;
	a->ud = ud;
	if (docker_config && !(a->docker_config = strdup(docker_config))) {
		free(a);
		return ctr_err_nomem(err);
	}
	*out = a;
	return 0;
}

void ctr_auth_free(struct ctr_auth *a)
{
	if (!a)
		return;
	for (struct host_state *h = a->hosts, *n; h; h = n) {
		n = h->next;
		free(h->host);
		zfree(h->user);
		zfree(h->secret);
		zfree(h->refresh_token);
		free(h);
	}
	for (struct tok_entry *t = a->tokens, *n; t; t = n) {
		n = t->next;
		free(t->host);
		free(t->scope);
		zfree(t->token);
		free(t);
	}
	free(a->docker_config);
	free(a);
}

static struct host_state *host_get(struct ctr_auth *a, const char *host)
{
	for (struct host_state *h = a->hosts; h; h = h->next)
		if (!strcmp(h->host, host))
			return h;
	struct host_state *h = calloc(1, sizeof(*h));
	if (!h || !(h->host = strdup(host))) {
		free(h);
		return NULL;
	}
	h->next = a->hosts;
	a->hosts = h;
	return h;
}

static int load_creds(struct ctr_auth *a, struct host_state *h, ctr_error **err)
{
	if (h->creds_loaded)
		return 0;
	char *u = NULL, *s = NULL;
	int r = 0;
	/* Docker Hub's API host answers for docker.io: ask for that name. */
	const char *name = strcmp(h->host, "registry-1.docker.io") ? h->host : "docker.io";
	if (a->fn) {
		r = a->fn(name, &u, &s, a->ud);
		if (r < 0) {
			zfree(u);
			zfree(s);
			return ctr_err(err, r, 0, "credentials callback failed for %s", h->host);
		}
	}
	if (!u && !s && a->docker_config) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		r = ctr_read_file(AT_FDCWD, a->docker_config, DOCKER_CONFIG_MAX, &text, &len, err);
		if (r < 0 && r != CTR_ENOTFOUND)
			return ctr_err_prefix(err, r, "docker config %s", a->docker_config);
		if (r == 0) {
			ctr_error *e2 = NULL;
			r = ctr_auth_docker_config_parse(text, len, h->host, &u, &s, &e2);
			explicit_bzero(text, len);
			if (r < 0 && r != CTR_ENOTFOUND) {
				if (err && !*err)
					*err = e2;
				else
					ctr_error_free(e2);
				return r;
			}
			ctr_error_free(e2);
		}
	}
	h->user = u;
	h->secret = s;
	h->creds_loaded = true;
	/* An identity token (secret without user) is a refresh token. */
	if (s && *s && (!u || !*u) && !h->refresh_token)
		h->refresh_token = strdup(s);
	return 0;
}

static struct tok_entry *tok_find(struct ctr_auth *a, const char *host, const char *scope)
{
	for (struct tok_entry *t = a->tokens; t; t = t->next)
		if (!strcmp(t->host, host) && !strcmp(t->scope, scope ? scope : ""))
			return t;
	return NULL;
}

void ctr_auth_invalidate(struct ctr_auth *a, const char *host, const char *scope)
{
	struct tok_entry *t = tok_find(a, host, scope);
	if (t)
		t->expires_ms = 0;
}

int ctr_auth_header(struct ctr_auth *a, const char *host, const char *scope, char **out, ctr_error **err)
{
	*out = NULL;
	if (!a)
		return 0;
	struct tok_entry *t = tok_find(a, host, scope);
	if (t && t->expires_ms > now_ms()) {
		if (asprintf(out, "Authorization: Bearer %s", t->token) < 0)
			return ctr_err_nomem(err);
		return 0;
	}
	for (struct host_state *h = a->hosts; h; h = h->next) {
		if (strcmp(h->host, host) || !h->basic || !h->user)
			continue;
		_cleanup_free_ char *b = ctr_auth_basic(h->user, h->secret);
		if (!b || asprintf(out, "Authorization: %s", b) < 0)
			return ctr_err_nomem(err);
		explicit_bzero(b, strlen(b));
	}
	return 0;
}

struct membuf {
	char *buf;
	size_t len, max;
	bool over;
};

static size_t mem_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct membuf *m = ud;
	size_t n = sz * nm;
	if (m->len + n > m->max) {
		m->over = true;
		return 0;
	}
	char *nb = realloc(m->buf, m->len + n + 1);
	if (!nb)
		return 0;
	m->buf = nb;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	m->buf[m->len] = 0;
	return n;
}

static size_t hdr_cb(char *p, size_t sz, size_t nm, void *ud)
{
	ctr_http_resp_header(ud, p, sz * nm);
	return sz * nm;
}

/* Appends "&key=escaped(value)" to *q. */
static int q_add(CURL *c, char **q, const char *key, const char *value)
{
	char *e = curl_easy_escape(c, value, 0);
	char *n = NULL;
	if (!e)
		return -1;
	int r = asprintf(&n, "%s%s%s=%s", *q ? *q : "", *q ? "&" : "", key, e);
	curl_free(e);
	if (r < 0)
		return -1;
	if (*q)
		explicit_bzero(*q, strlen(*q));
	free(*q);
	*q = n;
	return 0;
}

static int fetch_token(struct ctr_auth *a, struct host_state *h, const char *realm, const char *service,
		       const char *scope, const struct ctr_registry_host *reg, const char *ua, struct ctr_auth_token *tok,
		       ctr_error **err)
{
	CURL *c = curl_easy_init();
	if (!c)
		return ctr_err_nomem(err);
	struct membuf body = {.max = TOKEN_BODY_MAX};
	struct ctr_http_resp resp;
	memset(&resp, 0, sizeof(resp));
	ctr_http_resp_clear(&resp);
	char *query = NULL, *url = NULL;
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	_cleanup_free_ char *sc = strdup(scope ? scope : "");
	int r = ctr_http_setup(c, reg, ua, err);
	if (r < 0)
		goto out;
	bool post = h->refresh_token != NULL;
	bool ok = true;
	if (service && *service)
		ok = ok && q_add(c, &query, "service", service) == 0;
	/* Scopes are space separated; each is its own parameter. */
	if (!sc)
		ok = false;
	if (post) {
		if (sc && *sc)
			ok = ok && q_add(c, &query, "scope", sc) == 0;
		ok = ok && q_add(c, &query, "grant_type", "refresh_token") == 0 &&
		     q_add(c, &query, "refresh_token", h->refresh_token) == 0 &&
		     q_add(c, &query, "client_id", "libctr") == 0;
	} else {
		char *save = NULL;
		for (char *s = sc ? strtok_r(sc, " ", &save) : NULL; s; s = strtok_r(NULL, " ", &save))
			ok = ok && q_add(c, &query, "scope", s) == 0;
	}
	if (!ok) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if (post) {
		url = strdup(realm);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, query ? query : "");
		hl = curl_slist_append(hl, "Content-Type: application/x-www-form-urlencoded");
	} else {
		if (query && asprintf(&url, "%s%s%s", realm, strchr(realm, '?') ? "&" : "?", query) < 0)
			url = NULL;
		else if (!query)
			url = strdup(realm);
		if (h->user && *h->user) {
			_cleanup_free_ char *b = ctr_auth_basic(h->user, h->secret);
			char *line = NULL;
			if (!b || asprintf(&line, "Authorization: %s", b) < 0) {
				r = ctr_err_nomem(err);
				goto out;
			}
			hl = curl_slist_append(hl, line);
			zfree(line);
			explicit_bzero(b, strlen(b));
		}
	}
	if (!url) {
		r = ctr_err_nomem(err);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hdr_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		r = body.over ? ctr_err(err, CTR_EINVAL, 0, "token response from %s: larger than %d bytes", realm,
					TOKEN_BODY_MAX)
			      : ctr_http_curl_error(cr, errbuf, "fetch token", err);
		goto out;
	}
	if (resp.status != 200) {
		/* Realm URLs can carry secrets in their query: name only the
		 * registry. */
		char what[300];
		snprintf(what, sizeof(what), "fetch token for %s", h->host);
		r = ctr_http_status_error(resp.status, body.buf, body.len, what, err);
		goto out;
	}
	r = ctr_auth_parse_token(body.buf ? body.buf : "", body.len, tok, err);
out:
	if (body.buf)
		explicit_bzero(body.buf, body.len);
	free(body.buf);
	zfree(query);
	zfree(url);
	for (struct curl_slist *s = hl; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hl);
	ctr_http_resp_clear(&resp);
	curl_easy_cleanup(c);
	return r;
}

/* Sorted, de-duplicated union of two space-separated scope lists. */
static char *merge_scopes(const char *a, const char *b)
{
	_cleanup_free_ char *all = NULL;
	if (asprintf(&all, "%s %s", a ? a : "", b ? b : "") < 0)
		return NULL;
	char *items[64];
	size_t n = 0;
	char *save = NULL;
	for (char *s = strtok_r(all, " ", &save); s && n < 64; s = strtok_r(NULL, " ", &save)) {
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup = dup || !strcmp(items[i], s);
		if (!dup)
			items[n++] = s;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(items[k - 1], items[k]) > 0; k--) {
			char *t = items[k];
			items[k] = items[k - 1];
			items[k - 1] = t;
		}
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(items[i]) + 1;
	char *o = calloc(1, len);
	for (size_t i = 0; o && i < n; i++) {
		if (i)
			strcat(o, " ");
		strcat(o, items[i]);
	}
	return o;
}

int ctr_auth_challenge(struct ctr_auth *a, const char *host, const char *scope, const char *www_auth,
		       const struct ctr_registry_host *reg, const char *ua, ctr_error **err)
{
	struct ctr_auth_challenge *cs = NULL;
	size_t n = 0;
	if (!a)
		return ctr_err(err, CTR_EPERM, 0, "%s: authentication required", host);
	int r = ctr_auth_parse_challenges(www_auth, &cs, &n, err);
	if (r < 0)
		return ctr_err_prefix(err, CTR_EPERM, "%s: 401 unauthorized", host);
	struct ctr_auth_challenge *bearer = NULL, *basic = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!bearer && !strcmp(cs[i].scheme, "bearer"))
			bearer = &cs[i];
		if (!basic && !strcmp(cs[i].scheme, "basic"))
			basic = &cs[i];
	}
	struct host_state *h = host_get(a, host);
	if (!h) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if ((r = load_creds(a, h, err)) < 0)
		goto out;
	if (bearer) {
		const char *realm = ctr_auth_param_get(bearer, "realm");
		const char *service = ctr_auth_param_get(bearer, "service");
		const char *cscope = ctr_auth_param_get(bearer, "scope");
		if (!realm || (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7))) {
			r = ctr_err(err, CTR_EPERM, 0, "%s: bearer challenge without an http(s) realm", host);
			goto out;
		}
		/* No downgrade: an https registry's realm must be https. */
		if (reg && reg->scheme && !strcmp(reg->scheme, "https") && strncmp(realm, "https://", 8)) {
			r = ctr_err(err, CTR_EPERM, 0, "%s: refusing plain-http token realm for an https registry", host);
			goto out;
		}
		const char *errp = ctr_auth_param_get(bearer, "error");
		struct tok_entry *old = tok_find(a, host, scope);
		if (errp && !strcmp(errp, "insufficient_scope") && old && old->expires_ms > now_ms()) {
			r = ctr_err(err, CTR_EPERM, 0, "%s: insufficient scope for %s", host, scope ? scope : "");
			goto out;
		}
		_cleanup_free_ char *merged = merge_scopes(scope, cscope);
		if (!merged) {
			r = ctr_err_nomem(err);
			goto out;
		}
		struct ctr_auth_token tok = {0};
		r = fetch_token(a, h, realm, service, merged, reg, ua, &tok, err);
		if (r < 0)
			goto out;
		struct tok_entry *t = tok_find(a, host, scope);
		if (!t) {
			t = calloc(1, sizeof(*t));
			if (!t || !(t->host = strdup(host)) || !(t->scope = strdup(scope ? scope : ""))) {
				if (t)
					free(t->host);
				free(t);
				ctr_auth_token_clear(&tok);
				r = ctr_err_nomem(err);
				goto out;
			}
			t->next = a->tokens;
			a->tokens = t;
		}
		zfree(t->token);
		t->token = TAKE_PTR(tok.token);
		/* Renew a little early so a token does not expire in flight. */
		uint64_t life = (uint64_t)tok.expires_in * 1000;
		t->expires_ms = now_ms() + (life > 10000 ? life - 5000 : life);
		if (tok.refresh_token) {
			zfree(h->refresh_token);
			h->refresh_token = TAKE_PTR(tok.refresh_token);
		}
		ctr_auth_token_clear(&tok);
		r = 0;
	} else if (basic) {
		if (!h->user || !*h->user) {
			r = ctr_err(err, CTR_EPERM, 0, "%s: 401 unauthorized: no credentials for basic authentication",
				    host);
		} else if (h->basic) {
			r = ctr_err(err, CTR_EPERM, 0, "%s: 401 unauthorized: credentials rejected", host);
		} else {
			h->basic = true;
			r = 0;
		}
	} else {
		r = ctr_err(err, CTR_EPERM, 0, "%s: 401 unauthorized: unsupported authentication scheme \"%.40s\"", host,
			    cs[0].scheme);
	}
out:
	ctr_auth_challenges_free(cs, n);
	return r;
}
