/* HTTP plumbing shared by auth, resolve, fetch and push: applying a host's
 * TLS settings to a curl handle, collecting the response headers we use,
 * and mapping curl and HTTP failures to CTR_E* codes. */
#ifndef CTR_REMOTES_HTTP_H
#define CTR_REMOTES_HTTP_H

#include <ctr/common.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "hosts.h"

#define CTR_HTTP_ERRBODY_MAX (64 * 1024)

struct ctr_http_resp {
	long status;
	int64_t content_length; /* -1 when absent */
	char *content_type;
	char *docker_digest;    /* Docker-Content-Digest */
	char *location;
	char *www_auth;         /* all WWW-Authenticate values joined with ", " */
	char *content_range;
	char *range;            /* Range (upload progress) */
	long retry_after;       /* seconds, -1 when absent */
	bool headers_done;      /* the final header block ended */
};

void ctr_http_resp_clear(struct ctr_http_resp *r);
/* A CURLOPT_HEADERFUNCTION body: feeds one header line into r. Resets r
 * on each status line, so interim (1xx) responses are forgotten. */
void ctr_http_resp_header(struct ctr_http_resp *r, const char *line, size_t len);

/* Common options: no redirects (followed by hand so credentials never
 * cross hosts), protocols http/https only, timeouts, TLS from the host
 * entry (CA files, client pair, skip_verify). */
int ctr_http_setup(CURL *c, const struct ctr_registry_host *h, const char *user_agent, ctr_error **err);

/* Loads h->ca_pem: the system CA bundle followed by every "ca" file, so a
 * configured CA adds to the trusted roots as in containerd. No-op when h
 * has no "ca". CTR_ENOTFOUND/CTR_EIO naming the file that cannot be read. */
int ctr_http_load_ca(struct ctr_registry_host *h, ctr_error **err);

/* The code for a curl failure: TLS/certificate -> CTR_EUNAVAILABLE,
 * timeouts -> CTR_ETIMEOUT, other transport errors -> CTR_EUNAVAILABLE. */
int ctr_http_curl_error(CURLcode rc, const char *errbuf, const char *what, ctr_error **err);
/* Whether a curl failure may go away on retry (connection, timeouts). */
bool ctr_http_curl_transient(CURLcode rc);
/* Maps a failed HTTP status: 401/403 -> CTR_EPERM, 404 -> CTR_ENOTFOUND,
 * 429/5xx -> CTR_EUNAVAILABLE, else CTR_EIO. The registry's JSON
 * errors[].message (or code) goes in the text. */
int ctr_http_status_error(long status, const char *body, size_t len, const char *what, ctr_error **err);

/* Scheme+host of an absolute URL ("https://h:1"); NULL for a relative or
 * unparsable one. Lowercased host. Caller frees. */
char *ctr_http_origin(const char *url);
/* Resolves location against base; caller frees. NULL on error. */
char *ctr_http_resolve_url(const char *base, const char *location);

#endif
