/* Registry authentication: WWW-Authenticate challenges, Basic, and the
 * Bearer token flow, with credentials from a caller callback or a docker
 * config.json that the caller names.
 *
 * Credentials and tokens are kept per registry host. They go only to that
 * host and to the token realm its Bearer challenge names; never to a host
 * a redirect leads to, nor to a descriptor's foreign URLs (callers attach
 * the header only to requests aimed at the registry host). Nothing here
 * logs a credential or puts one in an error message. */
#ifndef CTR_REMOTES_AUTH_H
#define CTR_REMOTES_AUTH_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hosts.h"

struct ctr_auth_param {
	char *key; /* lowercased */
	char *value;
};

struct ctr_auth_challenge {
	char *scheme; /* lowercased: "basic", "bearer", ... */
	struct ctr_auth_param *params;
	size_t n_params;
};

/* Parses a WWW-Authenticate value (RFC 7235): one or more challenges,
 * auth-params with token or quoted-string values (with \-escapes).
 * CTR_EINVAL for malformed input. */
int ctr_auth_parse_challenges(const char *hdr, struct ctr_auth_challenge **out, size_t *n, ctr_error **err);
void ctr_auth_challenges_free(struct ctr_auth_challenge *c, size_t n);
const char *ctr_auth_param_get(const struct ctr_auth_challenge *c, const char *key);

struct ctr_auth_token {
	char *token;
	char *refresh_token; /* NULL when none */
	int64_t expires_in;  /* seconds; 60 when the server gave none */
};
/* Parses a token endpoint response: {token | access_token, expires_in,
 * issued_at, refresh_token}. CTR_EINVAL without a token. */
int ctr_auth_parse_token(const char *buf, size_t len, struct ctr_auth_token *out, ctr_error **err);
void ctr_auth_token_clear(struct ctr_auth_token *t);

/* Looks host up in a docker config.json text: `auths` keys may be a bare
 * host, a URL ("https://host/v1/"); docker.io matches index.docker.io and
 * registry-1.docker.io. An entry gives base64 `auth` "user:pass", or
 * `username`/`password`, or `identitytoken` (user then ""). CTR_ENOTFOUND
 * when there is no entry; CTR_EINVAL for a malformed one. */
int ctr_auth_docker_config_parse(const char *text, size_t len, const char *host, char **user, char **secret,
				 ctr_error **err);

/* "Basic base64(user:secret)"; NULL on OOM. */
char *ctr_auth_basic(const char *user, const char *secret);

/* Credentials callback: fills *user and *secret (malloc'd; the library
 * frees them) for host, or leaves them NULL for anonymous. A negative
 * return fails the operation with that code. */
typedef int (*ctr_remote_creds_fn)(const char *host, char **user, char **secret, void *userdata);

struct ctr_auth;
int ctr_auth_new(struct ctr_auth **out, ctr_remote_creds_fn fn, void *ud, const char *docker_config, ctr_error **err);
void ctr_auth_free(struct ctr_auth *a);

/* The Authorization header line ("Authorization: ...") for a request to
 * host (the registry host name as in the reference) with the given scope
 * list (space separated), or NULL when nothing is known yet. */
int ctr_auth_header(struct ctr_auth *a, const char *host, const char *scope, char **out, ctr_error **err);

/* Reacts to a 401 from host: parses www_auth, and for Bearer fetches a
 * token from the realm (GET with Basic credentials when there are any, or
 * an OAuth POST with a refresh token) and caches it for host+scope until it
 * expires; for Basic remembers to send credentials. `reg` gives the TLS
 * settings used for the realm. Returns 0 when a retry may succeed,
 * CTR_EPERM when there is nothing more to try. */
int ctr_auth_challenge(struct ctr_auth *a, const char *host, const char *scope, const char *www_auth,
		       const struct ctr_registry_host *reg, const char *user_agent, ctr_error **err);

/* Forgets the cached token for host+scope (after it was refused). */
void ctr_auth_invalidate(struct ctr_auth *a, const char *host, const char *scope);

#endif
