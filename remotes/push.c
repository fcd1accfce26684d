#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "digest.h"
#include "macro.h"

enum push_step { P_HEAD, P_MOUNT, P_POST, P_PUT, P_PATCH, P_FINAL, P_MANIFEST };

struct push_state {
	struct ctr_remote *r;
	struct ctr_remote_push_item *item;
	struct ctr_registry_host *host;
	enum push_step step;
	bool is_manifest;
	const char *manifest_ref; /* tag or digest to PUT the manifest under */
	char *location;           /* current upload URL */
	bool loc_registry;        /* location on the registry's origin */
	uint64_t off;             /* chunked upload progress */
	char *mem;                /* a manifest's bytes */
	size_t mem_len;
};

static int submit(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	if (!x)
		return ctr_err_nomem(err);
	int rc = ctr_xfer_submit(x, err);
	if (rc < 0)
		ctr_xfer_free(x);
	return rc;
}

static struct ctr_xfer *registry_xfer(struct ctr_job *j, const char *method, const char *kind, const char *obj)
{
	struct push_state *s = j->data;
	_cleanup_free_ char *url = ctr_remote_url(s->r, s->host, kind, obj);
	return url ? ctr_xfer_new(j, method, url, s->host, true) : NULL;
}

static int issue_post(struct ctr_job *j, bool mount, ctr_error **err)
{
	struct push_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	s->step = mount ? P_MOUNT : P_POST;
	s->off = 0;
	struct ctr_xfer *x = registry_xfer(j, "POST", "blobs/uploads/", NULL);
	if (x && mount) {
		CURL *c = curl_easy_init();
		char *md = c ? curl_easy_escape(c, d->digest, 0) : NULL;
		char *mf = c ? curl_easy_escape(c, s->item->mount_from, 0) : NULL;
		char *u = NULL;
		if (md && mf && asprintf(&u, "%s?mount=%s&from=%s", x->url, md, mf) >= 0) {
			free(x->url);
			x->url = u;
		} else {
			ctr_xfer_free(x);
			x = NULL;
		}
		curl_free(md);
		curl_free(mf);
		curl_easy_cleanup(c);
	}
	return submit(j, x, err);
}

/* The upload URL with ?digest= appended. */
static char *with_digest(const char *loc, const char *digest)
{
	CURLU *u = curl_url();
	char *out = NULL, *s = NULL, *q = NULL;
	if (!u || asprintf(&q, "digest=%s", digest) < 0)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = strdup(s);
out:
	free(q);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

static int issue_upload(struct ctr_job *j, ctr_error **err)
{
	struct push_state *s = j->data;
	struct ctr_remote *r = s->r;
	const struct ctr_remote_desc *d = s->item->desc;
	struct ctr_xfer *x = NULL;
	bool last = false;
	if (s->step == P_POST && d->size <= r->o.chunk_threshold) {
		s->step = P_PUT;
		last = true;
	} else if (s->step == P_POST || s->step == P_PATCH) {
		if (s->step == P_PATCH && s->off >= d->size) {
			s->step = P_FINAL;
			last = true;
		} else {
			s->step = P_PATCH;
		}
	}
	if (last) {
		_cleanup_free_ char *u = with_digest(s->location, d->digest);
		x = u ? ctr_xfer_new(j, "PUT", u, s->host, s->loc_registry) : NULL;
		if (x && s->step == P_PUT) {
			x->has_upload = true;
			x->up_src = &s->item->src;
			x->up_off = 0;
			x->up_len = d->size;
		}
	} else {
		x = ctr_xfer_new(j, "PATCH", s->location, s->host, s->loc_registry);
		if (x) {
			uint64_t n = d->size - s->off < r->o.chunk_size ? d->size - s->off : r->o.chunk_size;
			x->has_upload = true;
			x->up_src = &s->item->src;
			x->up_off = s->off;
			x->up_len = n;
			if (asprintf(&x->extra, "Content-Range: %llu-%llu", (unsigned long long)s->off,
				     (unsigned long long)(s->off + n - 1)) < 0)
				x->extra = NULL;
		}
	}
	if (x && x->has_upload && !(x->content_type = strdup("application/octet-stream"))) {
		ctr_xfer_free(x);
		x = NULL;
	}
	return submit(j, x, err);
}

static int take_location(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct push_state *s = j->data;
	if (!x->resp.location)
		return ctr_err(err, CTR_EIO, 0, "%s: upload response without Location", s->r->name);
	char *u = ctr_http_resolve_url(x->url, x->resp.location);
	char *o = u ? ctr_http_origin(u) : NULL;
	if (!u || !o || (strncmp(u, "https://", 8) && strncmp(u, "http://", 7))) {
		free(u);
		free(o);
		return ctr_err(err, CTR_EIO, 0, "%s: bad upload Location", s->r->name);
	}
	s->loc_registry = x->registry && !strcmp(o, x->origin);
	free(o);
	free(s->location);
	s->location = u;
	return 0;
}

static int push_start(struct ctr_job *j, ctr_error **err)
{
	struct push_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	int rc;
	if ((rc = ctr_digest_parse(d->digest, NULL, NULL, err)) < 0)
		return rc;
	ctr_job_progress(j, 0, d->size, CTR_REMOTE_DOWNLOADING);
	if (s->is_manifest) {
		if (d->size > CTR_MANIFEST_MAX)
			return ctr_err(err, CTR_EINVAL, 0, "%s: manifest %s larger than %d", s->r->name, d->digest,
				       CTR_MANIFEST_MAX);
		/* Read it whole and check it before it goes out. */
		s->mem = malloc(d->size + 1);
		if (!s->mem)
			return ctr_err_nomem(err);
		size_t got = 0;
		while (got < d->size) {
			ssize_t n = s->item->src.read_at(s->item->src.ud, s->mem + got, d->size - got, got, err);
			if (n < 0)
				return (int)n;
			if (n == 0)
				return ctr_err(err, CTR_EIO, 0, "manifest %s: source ended early", d->digest);
			got += (size_t)n;
		}
		s->mem_len = got;
		ctr_digest_alg alg;
		ctr_digest_parse(d->digest, &alg, NULL, NULL);
		char dg[CTR_DIGEST_MAX];
		if ((rc = ctr_digest_buf(alg, s->mem, got, dg, err)) < 0)
			return rc;
		if (strcmp(dg, d->digest))
			return ctr_err(err, CTR_EDIGEST, 0, "manifest %s: source content has digest %s", d->digest, dg);
		s->step = P_MANIFEST;
		struct ctr_xfer *x = registry_xfer(j, "PUT", "manifests", s->manifest_ref);
		if (x) {
			x->has_upload = true;
			x->up_mem = s->mem;
			x->up_len = s->mem_len;
			if (!(x->content_type = strdup(d->media_type ? d->media_type : CTR_MEDIA_OCI_MANIFEST))) {
				ctr_xfer_free(x);
				x = NULL;
			}
		}
		return submit(j, x, err);
	}
	s->step = P_HEAD;
	return submit(j, registry_xfer(j, "HEAD", "blobs", d->digest), err);
}

static int push_done(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct push_state *s = j->data;
	struct ctr_remote *r = s->r;
	const struct ctr_remote_desc *d = s->item->desc;
	long st = x->resp.status;
	int rc;
	switch (s->step) {
	case P_HEAD:
		if (st == 200) {
			ctr_job_finish(j, 0, NULL); /* already there */
			return 0;
		}
		if (st == 404)
			return issue_post(j, s->item->mount_from != NULL, err);
		break;
	case P_MOUNT:
		if (st == 201) {
			ctr_job_finish(j, 0, NULL);
			return 0;
		}
		if (st == 202) {
			if ((rc = take_location(j, x, err)) < 0)
				return rc;
			s->step = P_POST;
			return issue_upload(j, err);
		}
		/* A registry that cannot mount: upload normally. */
		if (st >= 400 && st < 500 && st != 401 && st != 403)
			return issue_post(j, false, err);
		break;
	case P_POST:
		if (st == 202) {
			if ((rc = take_location(j, x, err)) < 0)
				return rc;
			return issue_upload(j, err);
		}
		break;
	case P_PATCH:
		if (st == 202) {
			if ((rc = take_location(j, x, err)) < 0)
				return rc;
			s->off += x->up_len;
			ctr_job_progress(j, s->off, d->size, CTR_REMOTE_DOWNLOADING);
			return issue_upload(j, err);
		}
		break;
	case P_PUT:
	case P_FINAL:
	case P_MANIFEST:
		if (st == 201 || st == 200 || st == 204) {
			ctr_job_progress(j, d->size, d->size, CTR_REMOTE_VERIFYING);
			if (x->resp.docker_digest && strcmp(x->resp.docker_digest, d->digest))
				return ctr_err(err, CTR_EDIGEST, 0, "%s: registry stored %.100s for %s", r->name,
					       x->resp.docker_digest, d->digest);
			ctr_job_finish(j, 0, NULL);
			return 0;
		}
		break;
	}
	char what[512];
	snprintf(what, sizeof(what), "%s: push %s", r->name, d->digest);
	return ctr_http_status_error(st, x->body, x->body_len, what, err);
}

/* An upload that failed half-way starts again in a new session. */
static int push_retry(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct push_state *s = j->data;
	if (s->step == P_PUT || s->step == P_PATCH || s->step == P_FINAL) {
		int rc = issue_post(j, false, err);
		return rc < 0 ? rc : 1;
	}
	return 0;
}

static const struct ctr_job_ops push_ops = {
	.start = push_start,
	.done = push_done,
	.retry = push_retry,
};

/* Runs jobs[0..n) with at most max at once. */
static int run(struct ctr_remote *r, struct ctr_job **jp, size_t n, unsigned max, ctr_error **err)
{
	if (n == 0)
		return 0;
	struct ctr_engine e;
	int rc = ctr_engine_init(&e, r, err);
	if (rc < 0)
		return rc;
	e.max = max;
	rc = ctr_engine_run(&e, jp, n, err);
	ctr_engine_cleanup(&e);
	return rc;
}

int ctr_remote_push(struct ctr_remote *r, struct ctr_remote_push_item *items, size_t n, ctr_error **err)
{
	if (n == 0)
		return 0;
	struct ctr_registry_host *host = NULL;
	for (size_t i = 0; i < r->hosts.n && !host; i++)
		if (r->hosts.v[i].caps & CTR_HOST_CAP_PUSH)
			host = &r->hosts.v[i];
	if (!host)
		return ctr_err(err, CTR_ENOTSUP, 0, "%s: no host with the push capability", r->name);
	_cleanup_free_ struct push_state *st = calloc(n, sizeof(*st));
	_cleanup_free_ struct ctr_job *jobs = calloc(n, sizeof(*jobs));
	_cleanup_free_ struct ctr_job **blobs = calloc(n, sizeof(*blobs));
	_cleanup_free_ struct ctr_job **mans = calloc(n, sizeof(*mans));
	_cleanup_free_ char *scope = ctr_remote_scope(r, true);
	if (!st || !jobs || !blobs || !mans || !scope)
		return ctr_err_nomem(err);
	/* The token must also cover the repositories blobs are mounted from. */
	for (size_t i = 0; i < n; i++) {
		const char *mf = items[i].mount_from;
		if (!mf)
			continue;
		if (!ctr_ref_path_ok(mf, strlen(mf)))
			return ctr_err(err, CTR_EINVAL, 0, "push: invalid mount source repository \"%.200s\"", mf);
		_cleanup_free_ char *need = NULL;
		if (asprintf(&need, "repository:%s:pull", mf) < 0)
			return ctr_err_nomem(err);
		if (strstr(scope, need))
			continue;
		char *ns = NULL;
		if (asprintf(&ns, "%s %s", scope, need) < 0)
			return ctr_err_nomem(err);
		free(scope);
		scope = ns;
	}
	size_t nb = 0, nm = 0;
	for (size_t i = 0; i < n; i++) {
		if (!items[i].desc || !items[i].desc->digest || !items[i].src.read_at)
			return ctr_err(err, CTR_EINVAL, 0, "push item %zu: missing descriptor or source", i);
		st[i].r = r;
		st[i].item = &items[i];
		st[i].host = host;
		st[i].is_manifest = ctr_remote_is_manifest(items[i].desc->media_type);
		jobs[i].ops = &push_ops;
		jobs[i].data = &st[i];
		jobs[i].desc = items[i].desc;
		jobs[i].scope = scope;
		if (st[i].is_manifest)
			mans[nm++] = &jobs[i];
		else
			blobs[nb++] = &jobs[i];
	}
	for (size_t i = 0; i < nm; i++) {
		struct push_state *s = mans[i]->data;
		s->manifest_ref = i + 1 == nm ? ctr_ref_object(&r->ref) : s->item->desc->digest;
	}
	int rc = run(r, blobs, nb, r->o.max_concurrency, err);
	/* Manifests one at a time, in order: a registry may refuse an index
	 * whose manifests it does not have yet. */
	if (rc == 0)
		rc = run(r, mans, nm, 1, err);
	for (size_t i = 0; i < n; i++) {
		items[i].result = jobs[i].phase == JOB_DONE ? 0 : (jobs[i].rc < 0 ? jobs[i].rc : CTR_ECANCELED);
		ctr_error_free(jobs[i].err);
		free(st[i].location);
		free(st[i].mem);
	}
	return rc;
}
