/* Credentials: Basic header values and docker config.json lookups. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "error.h"
#include "json.h"
#include "macro.h"

#define DOCKER_CONFIG_MAX (4 * 1024 * 1024)

static char *lowerdup(const char *s, size_t n)
{
	char *o = strndup(s, n);
	for (char *p = o; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return o;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t n)
{
	char *o = malloc((n + 2) / 3 * 4 + 1), *p = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		*p++ = b64[(v >> 18) & 63];
		*p++ = b64[(v >> 12) & 63];
		*p++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*p++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*p = 0;
	return o;
}

static char *b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s);
	unsigned char *o = malloc(n / 4 * 3 + 4);
	if (!o)
		return NULL;
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=') {
			pad++;
			continue;
		}
		const char *f = c ? strchr(b64, c) : NULL;
		if (!f || pad) {
			free(o);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)(f - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2) {
		free(o);
		return NULL;
	}
	o[k] = 0;
	*outlen = k;
	return (char *)o;
}

char *ctr_auth_basic(const char *user, const char *secret)
{
	_cleanup_free_ char *up = NULL;
	if (asprintf(&up, "%s:%s", user ? user : "", secret ? secret : "") < 0)
		return NULL;
	_cleanup_free_ char *enc = b64_encode((const unsigned char *)up, strlen(up));
	explicit_bzero(up, strlen(up));
	char *h = NULL;
	if (!enc || asprintf(&h, "Basic %s", enc) < 0)
		h = NULL;
	if (enc)
		explicit_bzero(enc, strlen(enc));
	return h;
}

/* ---- docker config.json ---- */

/* "https://index.docker.io/v1/" -> "docker.io"; "Host:5000/x" -> "host:5000". */
static char *norm_host(const char *k)
{
	if (!strncasecmp(k, "https://", 8))
		k += 8;
	else if (!strncasecmp(k, "http://", 7))
		k += 7;
	char *h = lowerdup(k, strcspn(k, "/"));
	if (h && (!strcmp(h, "index.docker.io") || !strcmp(h, "registry-1.docker.io"))) {
		free(h);
		h = strdup("docker.io");
	}
	return h;
}

int ctr_auth_docker_config_parse(const char *text, size_t len, const char *host, char **user, char **secret,
				 ctr_error **err)
{
	json_t *j = NULL;
	int r = ctr_json_parse(text, len, DOCKER_CONFIG_MAX, 16, "docker config", &j, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *want = norm_host(host);
	json_t *auths = json_object_get(j, "auths");
	const char *key;
	json_t *e, *found = NULL;
	json_object_foreach(auths, key, e)
	{
		_cleanup_free_ char *h = norm_host(key);
		if (h && want && !strcmp(h, want)) {
			found = e;
			break;
		}
	}
	if (!found || !json_is_object(found)) {
		json_decref(j);
		return ctr_err(err, CTR_ENOTFOUND, 0, "docker config: no credentials for %s", host);
	}
	char *u = NULL, *s = NULL;
	const char *a = ctr_json_str(found, "auth");
	const char *it = ctr_json_str(found, "identitytoken");
	if (a && *a) {
		size_t dl = 0;
		char *d = b64_decode(a, &dl);
		char *colon = d ? memchr(d, ':', dl) : NULL;
		if (!colon || memchr(d, 0, dl)) {
			if (d)
				explicit_bzero(d, dl);
			free(d);
			json_decref(j);
			return ctr_err(err, CTR_EINVAL, 0, "docker config: malformed \"auth\" for %s", host);
		}
		u = strndup(d, (size_t)(colon - d));
		s = strdup(colon + 1);
		explicit_bzero(d, dl);
		free(d);
	} else if (ctr_json_str(found, "username") || ctr_json_str(found, "password")) {
		const char *uu = ctr_json_str(found, "username"), *pp = ctr_json_str(found, "password");
		u = strdup(uu ? uu : "");
		s = strdup(pp ? pp : "");
	}
	if (it && *it) {
		/* An identity token is a refresh token: no user name. */
		free(u);
		if (s)
			explicit_bzero(s, strlen(s));
		free(s);
		u = strdup("");
		s = strdup(it);
	}
	json_decref(j);
	if (!u && !s)
		return ctr_err(err, CTR_ENOTFOUND, 0, "docker config: empty entry for %s", host);
	if (!u || !s) {
		free(u);
		free(s);
		return ctr_err_nomem(err);
	}
	*user = u;
	*secret = s;
	return 0;
}

