#include "http.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

void ctr_http_resp_clear(struct ctr_http_resp *r)
{
	free(r->content_type);
	free(r->docker_digest);
	free(r->location);
	free(r->www_auth);
	free(r->content_range);
	free(r->range);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->retry_after = -1;
}

static char *trimdup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return strndup(s, n);
}

static void set_str(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = trimdup(v, n);
}

void ctr_http_resp_header(struct ctr_http_resp *r, const char *line, size_t len)
{
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		ctr_http_resp_clear(r);
		const char *sp = memchr(line, ' ', len);
		if (sp)
			r->status = strtol(sp + 1, NULL, 10);
		return;
	}
	if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		if (r->status >= 200 || r->status < 100)
			r->headers_done = true;
		return;
	}
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return;
	size_t kl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = len - kl - 1;
#define IS(k) (kl == sizeof(k) - 1 && !strncasecmp(line, k, kl))
	if (IS("content-length")) {
		_cleanup_free_ char *s = trimdup(v, vl);
		char *end = NULL;
		if (s && *s && s[0] != '-') {
			long long n = strtoll(s, &end, 10);
			if (end && !*end)
				r->content_length = n;
		}
	} else if (IS("content-type")) {
		set_str(&r->content_type, v, vl);
	} else if (IS("docker-content-digest")) {
		set_str(&r->docker_digest, v, vl);
	} else if (IS("location")) {
		set_str(&r->location, v, vl);
	} else if (IS("content-range")) {
		set_str(&r->content_range, v, vl);
	} else if (IS("range")) {
		set_str(&r->range, v, vl);
	} else if (IS("retry-after")) {
		_cleanup_free_ char *s = trimdup(v, vl);
		if (s && isdigit((unsigned char)s[0])) {
			long n = strtol(s, NULL, 10);
			r->retry_after = n > 60 ? 60 : n; /* a hostile server must not park us */
		}
	} else if (IS("www-authenticate")) {
		_cleanup_free_ char *s = trimdup(v, vl);
		if (!s)
			return;
		if (!r->www_auth) {
			r->www_auth = TAKE_PTR(s);
		} else {
			char *j = NULL;
			if (asprintf(&j, "%s, %s", r->www_auth, s) >= 0) {
				free(r->www_auth);
				r->www_auth = j;
			}
		}
	}
#undef IS
}

int ctr_http_setup(CURL *c, const struct ctr_registry_host *h, const char *user_agent, ctr_error **err)
{
	CURLcode rc = CURLE_OK;
#define SET(o, v)                                                                                                      \
	do {                                                                                                           \
		if (rc == CURLE_OK)                                                                                    \
			rc = curl_easy_setopt(c, o, v);                                                                \
	} while (0)
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 KiB/s for 60 s) is a timeout. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
	SET(CURLOPT_LOW_SPEED_TIME, 60L);
	SET(CURLOPT_USERAGENT, user_agent ? user_agent : "libctr/" CTR_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, NULL);
	if (h) {
		if (h->skip_verify == 1) {
			SET(CURLOPT_SSL_VERIFYPEER, 0L);
			SET(CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (h->ca_pem) {
			struct curl_blob b = {.data = h->ca_pem, .len = h->ca_pem_len, .flags = CURL_BLOB_COPY};
			SET(CURLOPT_CAINFO_BLOB, &b);
		} else if (h->ca && h->ca[0]) {
			/* Not loaded with ctr_http_load_ca: curl takes one file. */
			if (h->ca[1])
				return ctr_err(err, CTR_ENOTSUP, 0, "host %s: more than one \"ca\" file is not supported",
					       h->host);
			SET(CURLOPT_CAINFO, h->ca[0]);
		}
		if (h->n_client > 0) {
			if (h->n_client > 1)
				return ctr_err(err, CTR_ENOTSUP, 0, "host %s: more than one client pair is not supported",
					       h->host);
			SET(CURLOPT_SSLCERT, h->client_cert[0]);
			SET(CURLOPT_SSLKEY, h->client_key[0] ? h->client_key[0] : h->client_cert[0]);
		}
	}
#undef SET
	if (rc != CURLE_OK)
		return ctr_err(err, CTR_EIO, 0, "curl setup: %s", curl_easy_strerror(rc));
	return 0;
}

#define CA_FILE_MAX (4 * 1024 * 1024)

static int append_file(char **buf, size_t *len, const char *path, bool missing_ok, ctr_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t n = 0;
	int r = ctr_read_file(AT_FDCWD, path, CA_FILE_MAX, &data, &n, err);
	if (r == CTR_ENOTFOUND && missing_ok)
		return 0;
	if (r < 0)
		return ctr_err_prefix(err, r, "CA file %s", path);
	char *nb = realloc(*buf, *len + n + 2);
	if (!nb)
		return ctr_err_nomem(err);
	memcpy(nb + *len, data, n);
	*len += n;
	nb[(*len)++] = '\n';
	nb[*len] = 0;
	*buf = nb;
	return 0;
}

int ctr_http_load_ca(struct ctr_registry_host *h, ctr_error **err)
{
	if (!h->ca || !h->ca[0] || h->ca_pem)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	int r = 0;
	CURL *c = curl_easy_init();
	char *sys = NULL;
	if (c && curl_easy_getinfo(c, CURLINFO_CAINFO, &sys) == CURLE_OK && sys)
		r = append_file(&buf, &len, sys, true, err);
	curl_easy_cleanup(c);
	for (size_t i = 0; r == 0 && h->ca[i]; i++)
		r = append_file(&buf, &len, h->ca[i], false, err);
	if (r < 0) {
		free(buf);
		return r;
	}
	h->ca_pem = buf;
	h->ca_pem_len = len;
	return 0;
}

bool ctr_http_curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

int ctr_http_curl_error(CURLcode rc, const char *errbuf, const char *what, ctr_error **err)
{
	const char *msg = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return ctr_err(err, CTR_ETIMEOUT, 0, "%s: timed out: %s", what, msg);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return ctr_err(err, CTR_EUNAVAILABLE, 0, "%s: TLS/certificate error: %s", what, msg);
	case CURLE_OUT_OF_MEMORY:
		return ctr_err_nomem(err);
	default:
		return ctr_err(err, CTR_EUNAVAILABLE, 0, "%s: %s", what, msg);
	}
}

int ctr_http_status_error(long status, const char *body, size_t len, const char *what, ctr_error **err)
{
	_cleanup_free_ char *detail = NULL;
	json_t *j = NULL;
	if (body && len > 0 && ctr_json_parse(body, len, CTR_HTTP_ERRBODY_MAX, 8, "error body", &j, NULL) == 0) {
		json_t *errs = json_object_get(j, "errors");
		size_t i;
		json_t *e;
		json_array_foreach(errs, i, e)
		{
			const char *m = ctr_json_str(e, "message");
			const char *c = ctr_json_str(e, "code");
			const char *s = m && *m ? m : c;
			if (!s)
				continue;
			char *n = NULL;
			if (asprintf(&n, "%s%s%.300s", detail ? detail : "", detail ? "; " : "", s) < 0)
				break;
			free(detail);
			detail = n;
			if (i >= 4)
				break;
		}
		json_decref(j);
	}
	/* Keep control characters from a hostile server out of messages. */
	for (char *p = detail; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	int code;
	const char *name;
	if (status == 401) {
		code = CTR_EPERM;
		name = "unauthorized";
	} else if (status == 403) {
		code = CTR_EPERM;
		name = "forbidden";
	} else if (status == 404) {
		code = CTR_ENOTFOUND;
		name = "not found";
	} else if (status == 429) {
		code = CTR_EUNAVAILABLE;
		name = "too many requests";
	} else if (status >= 500) {
		code = CTR_EUNAVAILABLE;
		name = "server error";
	} else {
		code = CTR_EIO;
		name = "unexpected status";
	}
	if (detail)
		return ctr_err(err, code, 0, "%s: %ld %s: %s", what, status, name, detail);
	return ctr_err(err, code, 0, "%s: %ld %s", what, status, name);
}

char *ctr_http_origin(const char *url)
{
	CURLU *u = curl_url();
	if (!u)
		return NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (asprintf(&out, "%s://%s:%s", scheme, host, port) < 0)
			out = NULL;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

char *ctr_http_resolve_url(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;
	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = strdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}
