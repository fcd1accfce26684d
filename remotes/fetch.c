#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "digest.h"
#include "macro.h"

struct fetch_state {
	struct ctr_remote *r;
	struct ctr_remote_fetch_item *item;
	int host;       /* index in r->hosts, or -1 once on foreign urls */
	size_t url_i;   /* next entry of desc->urls */
	bool blobs;     /* a manifest on /blobs/ after a 404 */
	uint64_t offset;
	uint64_t high;  /* furthest offset reached: progress past it earns fresh retries */
	ctr_hasher *hasher; /* NULL while the sink held bytes we never saw */
	ctr_digest_alg alg;
};

static int next_pull_host(struct ctr_remote *r, int from)
{
	for (size_t i = (size_t)from; i < r->hosts.n; i++)
		if (r->hosts.v[i].caps & CTR_HOST_CAP_PULL)
			return (int)i;
	return -1;
}

static int fetch_issue(struct ctr_job *j, ctr_error **err)
{
	struct fetch_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	struct ctr_xfer *x = NULL;
	if (s->host >= 0) {
		struct ctr_registry_host *h = &s->r->hosts.v[s->host];
		bool manifest = ctr_remote_is_manifest(d->media_type) && !s->blobs;
		_cleanup_free_ char *url = ctr_remote_url(s->r, h, manifest ? "manifests" : "blobs", d->digest);
		x = url ? ctr_xfer_new(j, "GET", url, h, true) : NULL;
		if (x && manifest && !(x->accept = strdup(d->media_type)))
			goto nomem;
	} else {
		/* A foreign URL: never with credentials or configured headers. */
		x = ctr_xfer_new(j, "GET", d->urls[s->url_i - 1], NULL, false);
	}
	if (!x)
		goto nomem;
	x->stream = true;
	int rc = ctr_xfer_submit(x, err);
	if (rc < 0)
		ctr_xfer_free(x);
	return rc;
nomem:
	ctr_xfer_free(x);
	return ctr_err_nomem(err);
}

static int restart_from_zero(struct fetch_state *s, ctr_error **err)
{
	struct ctr_remote_sink *k = s->item->sink;
	int rc = k->reset ? k->reset(k->ud, err) : ctr_err(err, CTR_EIO, 0, "sink cannot restart");
	if (rc < 0)
		return rc;
	s->offset = 0;
	ctr_hasher_free(s->hasher);
	s->hasher = NULL;
	return ctr_hasher_new(&s->hasher, s->alg, err);
}

static int fetch_start(struct ctr_job *j, ctr_error **err)
{
	struct fetch_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	int rc = ctr_digest_parse(d->digest, &s->alg, NULL, err);
	if (rc < 0)
		return rc;
	if (ctr_remote_is_manifest(d->media_type) && d->size > CTR_MANIFEST_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "%s: manifest %s of %llu bytes is larger than %d", s->r->name,
			       d->digest, (unsigned long long)d->size, CTR_MANIFEST_MAX);
	s->offset = s->item->sink->offset;
	s->high = s->offset;
	if (s->offset > d->size && (rc = restart_from_zero(s, err)) < 0)
		return rc;
	if (s->offset == 0 && !s->hasher && (rc = ctr_hasher_new(&s->hasher, s->alg, err)) < 0)
		return rc;
	if (s->offset == d->size && d->size > 0) {
		/* The sink has everything; it verifies on commit. */
		ctr_job_finish(j, 0, NULL);
		return 0;
	}
	s->host = next_pull_host(s->r, 0);
	if (s->host < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "%s: no host with the pull capability", s->r->name);
	ctr_job_progress(j, s->offset, d->size, CTR_REMOTE_DOWNLOADING);
	return fetch_issue(j, err);
}

static int fetch_prepare(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct fetch_state *s = j->data;
	free(x->range);
	x->range = NULL;
	if (s->offset > 0 && asprintf(&x->range, "bytes=%llu-", (unsigned long long)s->offset) < 0) {
		x->range = NULL;
		return ctr_err_nomem(err);
	}
	return 0;
}

static int fetch_headers(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct fetch_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	long st = x->resp.status;
	int64_t cl = x->resp.content_length;
	int rc;
	if (st == 206 && s->offset > 0) {
		unsigned long long a = 0, b = 0;
		const char *cr = x->resp.content_range;
		if (!cr || sscanf(cr, "bytes %llu-%llu", &a, &b) != 2 || a != s->offset || b + 1 != d->size)
			return ctr_err(err, CTR_EIO, 0, "%s: blob %s: unexpected Content-Range \"%.80s\"", s->r->name,
				       d->digest, cr ? cr : "");
		if (cl >= 0 && (uint64_t)cl != d->size - s->offset)
			return ctr_err(err, CTR_EDIGEST, 0, "%s: blob %s: server sends %lld bytes, %llu expected",
				       s->r->name, d->digest, (long long)cl, (unsigned long long)(d->size - s->offset));
		return 0;
	}
	if (st != 200)
		return ctr_err(err, CTR_EIO, 0, "%s: blob %s: unexpected status %ld", s->r->name, d->digest, st);
	/* 200: the whole body from byte 0. Never splice it onto what the
	 * sink holds. */
	if (s->offset > 0 && (rc = restart_from_zero(s, err)) < 0)
		return rc;
	if (cl >= 0 && (uint64_t)cl != d->size)
		return ctr_err(err, CTR_EDIGEST, 0, "%s: blob %s: server sends %lld bytes, descriptor says %llu",
			       s->r->name, d->digest, (long long)cl, (unsigned long long)d->size);
	return 0;
}

static int fetch_data(struct ctr_job *j, struct ctr_xfer *x, const char *buf, size_t len, ctr_error **err)
{
	struct fetch_state *s = j->data;
	const struct ctr_remote_desc *d = s->item->desc;
	if (len > d->size - s->offset)
		return ctr_err(err, CTR_EDIGEST, 0, "%s: blob %s: more than the %llu bytes of its descriptor",
			       s->r->name, d->digest, (unsigned long long)d->size);
	struct ctr_remote_sink *k = s->item->sink;
	int rc = k->write(k->ud, buf, len, err);
	if (rc < 0)
		return rc;
	if (s->hasher)
		ctr_hasher_update(s->hasher, buf, len);
	s->offset += len;
	if (s->offset > s->high) {
		/* A long download that keeps moving forward is not a failing
		 * one; a server that restarts from 0 each time gets no reprieve. */
		s->high = s->offset;
		j->retries = 0;
	}
	ctr_job_progress(j, s->offset, d->size, CTR_REMOTE_DOWNLOADING);
	return 0;
}

static int fetch_done(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err)
{
	struct fetch_state *s = j->data;
	struct ctr_remote *r = s->r;
	const struct ctr_remote_desc *d = s->item->desc;
	long st = x->resp.status;
	if (st == 200 || st == 206) {
		if (!x->hdr_checked) {
			/* An empty body never reached the header check. */
			int rc = fetch_headers(j, x, err);
			if (rc < 0)
				return rc;
		}
		if (s->offset < d->size) {
			if (ctr_job_retry(j, x, -1))
				return 1;
			return ctr_err(err, CTR_EUNAVAILABLE, 0, "%s: blob %s: connection closed after %llu of %llu bytes",
				       r->name, d->digest, (unsigned long long)s->offset, (unsigned long long)d->size);
		}
		ctr_job_progress(j, s->offset, d->size, CTR_REMOTE_VERIFYING);
		if (s->hasher) {
			char got[CTR_DIGEST_MAX];
			ctr_hasher_peek(s->hasher, got);
			if (strcmp(got, d->digest)) {
				struct ctr_remote_sink *k = s->item->sink;
				if (k->reset)
					k->reset(k->ud, NULL);
				return ctr_err(err, CTR_EDIGEST, 0, "%s: blob %s: content has digest %s", r->name,
					       d->digest, got);
			}
		}
		ctr_job_finish(j, 0, NULL);
		return 0;
	}
	if (st == 404) {
		if (s->host >= 0 && ctr_remote_is_manifest(d->media_type) && !s->blobs) {
			s->blobs = true;
			return fetch_issue(j, err);
		}
		if (s->host >= 0)
			s->host = next_pull_host(r, s->host + 1);
		s->blobs = false;
		if (s->host < 0) {
			/* Then the descriptor's own URLs, http(s) only. */
			while (d->urls && d->urls[s->url_i] && strncmp(d->urls[s->url_i], "https://", 8) &&
			       strncmp(d->urls[s->url_i], "http://", 7))
				s->url_i++;
			if (!d->urls || !d->urls[s->url_i])
				return ctr_err(err, CTR_ENOTFOUND, 0, "%s: blob %s: not found", r->name, d->digest);
			s->url_i++;
		}
		return fetch_issue(j, err);
	}
	char what[512];
	snprintf(what, sizeof(what), "%s: fetch %s", r->name, d->digest);
	return ctr_http_status_error(st, x->body, x->body_len, what, err);
}

static const struct ctr_job_ops fetch_ops = {
	.start = fetch_start,
	.prepare = fetch_prepare,
	.headers = fetch_headers,
	.data = fetch_data,
	.done = fetch_done,
};

int ctr_remote_fetch(struct ctr_remote *r, struct ctr_remote_fetch_item *items, size_t n, ctr_error **err)
{
	if (n == 0)
		return 0;
	_cleanup_free_ struct fetch_state *st = calloc(n, sizeof(*st));
	_cleanup_free_ struct ctr_job *jobs = calloc(n, sizeof(*jobs));
	_cleanup_free_ struct ctr_job **jp = calloc(n, sizeof(*jp));
	_cleanup_free_ char *scope = ctr_remote_scope(r, false);
	if (!st || !jobs || !jp || !scope)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].desc || !items[i].sink || !items[i].sink->write)
			return ctr_err(err, CTR_EINVAL, 0, "fetch item %zu: missing descriptor or sink", i);
		st[i].r = r;
		st[i].item = &items[i];
		jobs[i].ops = &fetch_ops;
		jobs[i].data = &st[i];
		jobs[i].desc = items[i].desc;
		jobs[i].scope = scope;
		jp[i] = &jobs[i];
	}
	struct ctr_engine e;
	int rc = ctr_engine_init(&e, r, err);
	if (rc == 0) {
		rc = ctr_engine_run(&e, jp, n, err);
		ctr_engine_cleanup(&e);
	}
	for (size_t i = 0; i < n; i++) {
		items[i].result = jobs[i].rc;
		ctr_error_free(jobs[i].err);
		ctr_hasher_free(st[i].hasher);
	}
	return rc;
}

struct memsink {
	char *buf;
	size_t len, max;
};

static int mem_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	struct memsink *m = ud;
	if (len > m->max - m->len)
		return ctr_err(err, CTR_EINVAL, 0, "blob larger than %zu bytes", m->max);
	char *nb = realloc(m->buf, m->len + len + 1);
	if (!nb)
		return ctr_err_nomem(err);
	m->buf = nb;
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	m->buf[m->len] = 0;
	return 0;
}

static int mem_reset(void *ud, ctr_error **err)
{
	struct memsink *m = ud;
	m->len = 0;
	return 0;
}

int ctr_remote_fetch_buf(struct ctr_remote *r, const struct ctr_remote_desc *d, size_t max, char **buf, size_t *len,
			 ctr_error **err)
{
	if (d->size > max)
		return ctr_err(err, CTR_EINVAL, 0, "%s: blob %s of %llu bytes is larger than the %zu allowed", r->name,
			       d->digest, (unsigned long long)d->size, max);
	struct memsink m = {.max = max};
	struct ctr_remote_sink sink = {.write = mem_write, .reset = mem_reset, .ud = &m};
	struct ctr_remote_fetch_item item = {.desc = d, .sink = &sink};
	int rc = ctr_remote_fetch(r, &item, 1, err);
	if (rc == 0 && !m.buf)
		m.buf = calloc(1, 1);
	if (rc == 0 && !m.buf)
		rc = ctr_err_nomem(err);
	if (rc < 0) {
		free(m.buf);
		return rc;
	}
	*buf = m.buf;
	*len = m.len;
	return 0;
}
