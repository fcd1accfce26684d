#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "error.h"
#include "digest.h"
#include "json.h"
#include "macro.h"

#define ACCEPT_MANIFESTS                                                                                               \
	CTR_MEDIA_OCI_MANIFEST ", " CTR_MEDIA_OCI_INDEX ", " CTR_MEDIA_DOCKER_MANIFEST ", " CTR_MEDIA_DOCKER_LIST

void ctr_remote_desc_clear(struct ctr_remote_desc *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	ctr_strv_free(d->urls);
	memset(d, 0, sizeof(*d));
}

bool ctr_remote_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, CTR_MEDIA_OCI_MANIFEST) || !strcmp(mt, CTR_MEDIA_OCI_INDEX) ||
		      !strcmp(mt, CTR_MEDIA_DOCKER_MANIFEST) || !strcmp(mt, CTR_MEDIA_DOCKER_LIST));
}

static ssize_t fd_read_at(void *ud, void *buf, size_t len, uint64_t off, ctr_error **err)
{
	int fd = (int)(intptr_t)ud;
	for (;;) {
		ssize_t r = pread(fd, buf, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ctr_err_errno(err, errno, "push source: read");
		return r;
	}
}

void ctr_remote_source_fd(struct ctr_remote_source *s, int fd)
{
	s->read_at = fd_read_at;
	s->ud = (void *)(intptr_t)fd;
}

static ssize_t mem_read_at(void *ud, void *buf, size_t len, uint64_t off, ctr_error **err)
{
	struct ctr_remote_membuf *m = ud;
	if (off >= m->len)
		return 0;
	size_t n = m->len - (size_t)off < len ? m->len - (size_t)off : len;
	memcpy(buf, (const char *)m->buf + off, n);
	return (ssize_t)n;
}

void ctr_remote_source_mem(struct ctr_remote_source *s, struct ctr_remote_membuf *m)
{
	s->read_at = mem_read_at;
	s->ud = m;
}

static char **strv1(const char *s)
{
	char **v = calloc(2, sizeof(*v));
	if (v && !(v[0] = strdup(s))) {
		free(v);
		return NULL;
	}
	return v;
}

/* The call's CA and client certificate go to hosts that configure none. */
static int apply_call_tls(struct ctr_registry_host *h, const struct ctr_remote_opts *o, ctr_error **err)
{
	if (o->ca_file && (!h->ca || !h->ca[0])) {
		free(h->ca);
		if (!(h->ca = strv1(o->ca_file)))
			return ctr_err_nomem(err);
	}
	if (o->client_cert && h->n_client == 0) {
		free(h->client_cert);
		free(h->client_key);
		h->client_key = NULL;
		if (!(h->client_cert = strv1(o->client_cert)) ||
		    !(h->client_key = calloc(2, sizeof(char *))) ||
		    (o->client_key && !(h->client_key[0] = strdup(o->client_key))))
			return ctr_err_nomem(err);
		h->n_client = 1;
	}
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int ctr_remote_open(struct ctr_remote **out, const char *ref, const struct ctr_remote_opts *o, ctr_error **err)
{
	pthread_once(&curl_once, curl_init_once);
	static const struct ctr_remote_opts dflt;
	struct ctr_remote *r = calloc(1, sizeof(*r));
	int rc;
	if (!r)
		return ctr_err_nomem(err);
	r->o = o ? *o : dflt;
	if (!r->o.max_concurrency)
		r->o.max_concurrency = 3;
	if (r->o.max_retries == 0)
		r->o.max_retries = 4;
	else if (r->o.max_retries < 0)
		r->o.max_retries = 0;
	if (!r->o.retry_base_ms)
		r->o.retry_base_ms = 250;
	if (!r->o.chunk_threshold)
		r->o.chunk_threshold = 32 * 1024 * 1024;
	if (!r->o.chunk_size)
		r->o.chunk_size = 8 * 1024 * 1024;
	if (!r->o.low_speed_time)
		r->o.low_speed_time = 60;
	r->o.hosts_dir = NULL;
	r->o.docker_config = NULL;
	r->o.user_agent = NULL;
	r->o.ca_file = r->o.client_cert = r->o.client_key = NULL;
	if ((rc = ctr_ref_parse(ref, &r->ref, err)) < 0)
		goto fail;
	r->name = ctr_ref_name(&r->ref);
	r->user_agent = strdup(o && o->user_agent ? o->user_agent : "libctr/" CTR_VERSION);
	if (!r->name || !r->user_agent) {
		rc = ctr_err_nomem(err);
		goto fail;
	}
	if ((rc = ctr_hosts_load(o ? o->hosts_dir : NULL, r->ref.domain, r->o.plain_http, &r->hosts, err)) < 0)
		goto fail;
	for (size_t i = 0; i < r->hosts.n; i++) {
		if (r->hosts.v[i].skip_verify < 0 && r->o.skip_verify)
			r->hosts.v[i].skip_verify = 1;
		if (o && (rc = apply_call_tls(&r->hosts.v[i], o, err)) < 0)
			goto fail;
		if ((rc = ctr_http_load_ca(&r->hosts.v[i], err)) < 0)
			goto fail;
		if (r->hosts.v[i].n_client > 1) {
			/* curl presents one certificate per connection. */
			rc = ctr_err(err, CTR_ENOTSUP, 0, "host %s: more than one client certificate is not supported",
				     r->hosts.v[i].host);
			goto fail;
		}
	}
	if ((rc = ctr_auth_new(&r->auth, r->o.creds, r->o.creds_ud, o ? o->docker_config : NULL, err)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	ctr_remote_free(r);
	return rc;
}

void ctr_remote_free(struct ctr_remote *r)
{
	if (!r)
		return;
	ctr_ref_clear(&r->ref);
	free(r->name);
	free(r->user_agent);
	ctr_hosts_clear(&r->hosts);
	ctr_auth_free(r->auth);
	free(r);
}

const struct ctr_ref *ctr_remote_ref(const struct ctr_remote *r) { return &r->ref; }

char *ctr_remote_scope(const struct ctr_remote *r, bool push)
{
	char *s = NULL;
	if (asprintf(&s, "repository:%s:%s", r->ref.path, push ? "pull,push" : "pull") < 0)
		return NULL;
	return s;
}

/* ---- resolve ---- */

struct resolve_state {
	struct ctr_remote *r;
	size_t host;
	bool blobs; /* on /blobs/ after a 404 (or another error) from /manifests/ */
	bool get;
	struct ctr_remote_desc result;
	char *scope;
};

static int next_host(struct ctr_remote *r, size_t from, unsigned cap)
{
	for (size_t i = from; i < r->hosts.n; i++)
		if (r->hosts.v[i].caps & cap)
			return (int)i;
	return -1;
}

static int resolve_issue(struct ctr_job *j, ctr_error **err)
{
	struct resolve_state *s = j->data;
	struct ctr_registry_host *h = &s->r->hosts.v[s->host];
	_cleanup_free_ char *url =
		ctr_remote_url(s->r, h, s->blobs ? "blobs" : "manifests", ctr_ref_object(&s->r->ref));
	struct ctr_xfer *x = url ? ctr_xfer_new(j, s->get ? "GET" : "HEAD", url, h, true) : NULL;
	if (!x || !(x->accept = strdup(ACCEPT_MANIFESTS)))
		goto nomem;
	x->max_body = CTR_MANIFEST_MAX;
	int rc = ctr_xfer_submit(x, err);
	if (rc < 0)
		ctr_xfer_free(x);
	return rc;
nomem:
	ctr_xfer_free(x);
	return ctr_err_nomem(err);
}

static int resolve_start(struct ctr_job *j, ctr_error **err)
{
	struct resolve_state *s = j->data;
	int h = next_host(s->r, 0, CTR_HOST_CAP_RESOLVE);
	if (h < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "%s: no host with the resolve capability", s->r->name);
	s->host = (size_t)h;
	return resolve_issue(j, err);
}

static char *media_type_of(const char *ct)
{
	if (!ct)
		return NULL;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	char *m = strndup(ct, n);
	for (char *p = m; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return m;
}

/* Checks digest syntax of a header value and that it names `want` when
 * want is set. */
static int check_digest_header(struct ctr_remote *r, const char *hdr, const char *want, ctr_error **err)
{
	if (!hdr)
		return 0;
	if (!ctr_digest_valid(hdr))
		return ctr_err(err, CTR_EDIGEST, 0, "%s: invalid Docker-Content-Digest \"%.100s\"", r->name, hdr);
	if (want && strcmp(hdr, want))
		return ctr_err(err, CTR_EDIGEST, 0, "%s: registry says digest %s, expected %s", r->name, hdr, want);
	return 0;
}

static int resolve_done(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct resolve_state *s = j->data;
	struct ctr_remote *r = s->r;
	const char *want = r->ref.digest;
	long st = x->resp.status;
	int rc;
	if (st == 404) {
		if (want && !s->blobs) {
			s->blobs = true;
			return resolve_issue(j, err);
		}
		int h = next_host(r, s->host + 1, CTR_HOST_CAP_RESOLVE);
		if (h >= 0) {
			s->host = (size_t)h;
			s->blobs = false;
			s->get = false;
			return resolve_issue(j, err);
		}
		return ctr_err(err, CTR_ENOTFOUND, 0, "%s:%s: not found", r->name, ctr_ref_object(&r->ref));
	}
	if (st == 405 && !s->get) {
		s->get = true;
		return resolve_issue(j, err);
	}
	/* A digest that names a blob, not a manifest: distribution answers
	 * /manifests/ with an error other than 404 (a 500 for a layer); as
	 * containerd's resolver, /blobs/ is asked next. Auth errors stand, and
	 * so do the transient ones (429, 502, 503, 504: retried above, then
	 * reported), which say nothing about what the digest names. */
	if (want && !s->blobs && st >= 400 && st != 401 && st != 403 && st != 429 && st != 502 && st != 503 &&
	    st != 504) {
		s->blobs = true;
		return resolve_issue(j, err);
	}
	if (st < 200 || st >= 300) {
		char what[512];
		snprintf(what, sizeof(what), "resolve %s:%s", r->name, ctr_ref_object(&r->ref));
		return ctr_http_status_error(st, x->body, x->body_len, what, err);
	}
	if ((rc = check_digest_header(r, x->resp.docker_digest, want, err)) < 0)
		return rc;
	_cleanup_free_ char *mt = media_type_of(x->resp.content_type);
	if (!s->get) {
		const char *d = want ? want : x->resp.docker_digest;
		if (!d || x->resp.content_length < 0 || !mt || !*mt || !strcmp(mt, "application/octet-stream") ||
		    !strcmp(mt, "application/json")) {
			s->get = true;
			return resolve_issue(j, err);
		}
		if (x->resp.content_length > CTR_MANIFEST_MAX)
			return ctr_err(err, CTR_EINVAL, 0, "%s: manifest of %lld bytes is larger than %d", r->name,
				       (long long)x->resp.content_length, CTR_MANIFEST_MAX);
		s->result.digest = strdup(d);
		s->result.size = (uint64_t)x->resp.content_length;
		s->result.media_type = TAKE_PTR(mt);
	} else {
		/* Verify the body against what is known about it. */
		ctr_digest_alg alg = CTR_DIGEST_SHA256;
		const char *ref_d = want ? want : x->resp.docker_digest;
		if (ref_d)
			ctr_digest_parse(ref_d, &alg, NULL, NULL);
		char got[CTR_DIGEST_MAX];
		if ((rc = ctr_digest_buf(alg, x->body ? x->body : "", x->body_len, got, err)) < 0)
			return rc;
		if (ref_d && strcmp(got, ref_d))
			return ctr_err(err, CTR_EDIGEST, 0, "%s: manifest digest %s does not match %s", r->name, got,
				       ref_d);
		if (!mt || !ctr_remote_is_manifest(mt)) {
			/* Fall back to the document's own mediaType. */
			json_t *jd = NULL;
			if (ctr_json_parse(x->body ? x->body : "", x->body_len, CTR_MANIFEST_MAX, CTR_JSON_MAX_DEPTH,
					   "manifest", &jd, NULL) == 0) {
				const char *m = ctr_json_str(jd, "mediaType");
				free(mt);
				if (m)
					mt = strdup(m);
				else if (json_object_get(jd, "manifests"))
					mt = strdup(CTR_MEDIA_OCI_INDEX);
				else
					mt = strdup(CTR_MEDIA_OCI_MANIFEST);
				json_decref(jd);
			}
		}
		if (!mt)
			return ctr_err(err, CTR_EINVAL, 0, "%s: response has no media type", r->name);
		s->result.digest = strdup(got);
		s->result.size = x->body_len;
		s->result.media_type = TAKE_PTR(mt);
	}
	if (!s->result.digest || !s->result.media_type)
		return ctr_err_nomem(err);
	ctr_job_finish(j, 0, NULL);
	return 0;
}

static const struct ctr_job_ops resolve_ops = {
	.start = resolve_start,
	.done = resolve_done,
};

int ctr_remote_resolve(struct ctr_remote *r, struct ctr_remote_desc *out, ctr_error **err)
{
	struct resolve_state s = {.r = r};
	struct ctr_job job = {.ops = &resolve_ops, .data = &s};
	struct ctr_job *jobs[] = {&job};
	struct ctr_engine e;
	s.scope = ctr_remote_scope(r, false);
	job.scope = s.scope;
	int rc = s.scope ? ctr_engine_init(&e, r, err) : ctr_err_nomem(err);
	if (rc == 0) {
		rc = ctr_engine_run(&e, jobs, 1, err);
		ctr_engine_cleanup(&e);
	}
	if (rc == 0 && job.rc < 0)
		rc = job.rc;
	ctr_error_free(job.err);
	free(s.scope);
	if (rc < 0) {
		ctr_remote_desc_clear(&s.result);
		return rc;
	}
	*out = s.result;
	return 0;
}
