#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "macro.h"

#define MAX_REDIRECTS 10
#define MAX_BACKOFF_MS 10000

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *ctr_remote_url(const struct ctr_remote *r, const struct ctr_registry_host *h, const char *kind, const char *obj)
{
	char *u = NULL;
	if (asprintf(&u, "%s://%s%s/%s/%s%s%s", h->scheme, h->host, h->path, r->ref.path, kind, obj ? "/" : "",
		     obj ? obj : "") < 0)
		return NULL;
	return u;
}

struct ctr_xfer *ctr_xfer_new(struct ctr_job *j, const char *method, const char *url, const struct ctr_registry_host *h,
			      bool registry)
{
	struct ctr_xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->job = j;
	x->host = h;
	x->registry = registry && h;
	x->method = strdup(method);
	x->url = strdup(url);
	x->origin = ctr_http_origin(url);
	ctr_http_resp_clear(&x->resp);
	if (!x->method || !x->url || !x->origin) {
		ctr_xfer_free(x);
		return NULL;
	}
	return x;
}

static void xfer_release_easy(struct ctr_xfer *x)
{
	if (x->easy) {
		if (x->job && x->job->eng)
			curl_multi_remove_handle(x->job->eng->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	for (struct curl_slist *s = x->hl; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(x->hl);
	x->hl = NULL;
}

void ctr_xfer_free(struct ctr_xfer *x)
{
	if (!x)
		return;
	xfer_release_easy(x);
	free(x->method);
	free(x->url);
	free(x->origin);
	free(x->accept);
	free(x->content_type);
	free(x->range);
	free(x->extra);
	free(x->body);
	ctr_http_resp_clear(&x->resp);
	ctr_error_free(x->cb_err);
	free(x);
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct ctr_xfer *x = ud;
	size_t n = sz * nm;
	ctr_http_resp_header(&x->resp, p, n);
	long st = x->resp.status;
	if (!x->resp.headers_done || x->hdr_checked || st < 200 || st >= 300)
		return n;
	x->hdr_checked = true;
	if (!x->stream && x->resp.content_length >= 0 && (uint64_t)x->resp.content_length > x->max_body &&
	    strcmp(x->method, "HEAD")) {
		x->cb_rc = ctr_err(&x->cb_err, CTR_EINVAL, 0, "%s: response of %lld bytes is larger than the %zu allowed",
				   x->job->eng->r->name, (long long)x->resp.content_length, x->max_body);
		return 0;
	}
	if (x->stream && x->job->ops->headers) {
		int rc = x->job->ops->headers(x->job, x, &x->cb_err);
		if (rc < 0) {
			x->cb_rc = rc;
			return 0;
		}
	}
	return n;
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct ctr_xfer *x = ud;
	size_t n = sz * nm;
	if (x->job->eng->canceled)
		return 0;
	long st = x->resp.status;
	bool ok = st >= 200 && st < 300;
	if (ok && x->stream) {
		int rc = x->job->ops->data(x->job, x, p, n, &x->cb_err);
		if (rc < 0) {
			x->cb_rc = rc;
			return 0;
		}
		return x->job->eng->canceled ? 0 : n;
	}
	size_t max = ok ? x->max_body : CTR_HTTP_ERRBODY_MAX;
	if (x->body_len + n > max) {
		if (!ok)
			return n; /* an error body is only for the message */
		x->cb_rc = ctr_err(&x->cb_err, CTR_EINVAL, 0, "%s: response larger than the %zu bytes allowed",
				   x->job->eng->r->name, max);
		return 0;
	}
	char *nb = realloc(x->body, x->body_len + n + 1);
	if (!nb) {
		x->cb_rc = ctr_err_nomem(&x->cb_err);
		return 0;
	}
	x->body = nb;
	memcpy(x->body + x->body_len, p, n);
	x->body_len += n;
	x->body[x->body_len] = 0;
	return n;
}

static size_t read_cb(char *buf, size_t sz, size_t nm, void *ud)
{
	struct ctr_xfer *x = ud;
	uint64_t left = x->up_len - x->up_pos;
	size_t want = sz * nm < left ? sz * nm : (size_t)left;
	if (want == 0)
		return 0;
	if (x->up_mem) {
		memcpy(buf, (const char *)x->up_mem + x->up_off + x->up_pos, want);
		x->up_pos += want;
		return want;
	}
	ssize_t r = x->up_src->read_at(x->up_src->ud, buf, want, x->up_off + x->up_pos, &x->cb_err);
	if (r <= 0) {
		x->cb_rc = r < 0 ? (int)r : ctr_err(&x->cb_err, CTR_EIO, 0, "push source: unexpected end of data");
		return CURL_READFUNC_ABORT;
	}
	if ((size_t)r > want)
		r = (ssize_t)want;
	x->up_pos += (uint64_t)r;
	if (x->job->desc)
		ctr_job_progress(x->job, x->up_off + x->up_pos, x->job->desc->size, CTR_REMOTE_DOWNLOADING);
	if (x->job->eng->canceled)
		return CURL_READFUNC_ABORT;
	return (size_t)r;
}

static int add_header(struct ctr_xfer *x, const char *fmt, const char *v)
{
	char *line = NULL;
	if (asprintf(&line, fmt, v) < 0)
		return -1;
	struct curl_slist *n = curl_slist_append(x->hl, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (!n)
		return -1;
	x->hl = n;
	return 0;
}

int ctr_xfer_submit(struct ctr_xfer *x, ctr_error **err)
{
	struct ctr_job *j = x->job;
	struct ctr_engine *e = j->eng;
	struct ctr_remote *r = e->r;
	xfer_release_easy(x);
	ctr_http_resp_clear(&x->resp);
	free(x->body);
	x->body = NULL;
	x->body_len = 0;
	x->hdr_checked = false;
	x->cb_rc = 0;
	ctr_error_free(x->cb_err);
	x->cb_err = NULL;
	x->up_pos = 0;
	x->errbuf[0] = 0;
	int rc;
	if (j->ops->prepare && (rc = j->ops->prepare(j, x, err)) < 0)
		return rc;

	CURL *c = curl_easy_init();
	if (!c)
		return ctr_err_nomem(err);
	x->easy = c;
	/* A redirect target gets default TLS settings, not the registry's
	 * client certificate. */
	if ((rc = ctr_http_setup(c, x->registry ? x->host : NULL, r->user_agent, err)) < 0)
		return rc;
	if (!x->registry && r->o.skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, r->o.low_speed_time);
	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);

	bool ok = add_header(x, "%s", "Expect:") == 0;
	if (!strcmp(x->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(x->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(x->method, "POST") && !x->has_upload) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(x->has_upload ? x->up_len : 0));
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
	}
	if (x->accept)
		ok = ok && add_header(x, "Accept: %s", x->accept) == 0;
	if (x->content_type)
		ok = ok && add_header(x, "Content-Type: %s", x->content_type) == 0;
	if (x->range)
		ok = ok && add_header(x, "Range: %s", x->range) == 0;
	if (x->extra)
		ok = ok && add_header(x, "%s", x->extra) == 0;
	if (x->registry) {
		for (size_t i = 0; i < x->host->n_headers; i++)
			for (char **v = x->host->headers[i].values; v && *v; v++) {
				char *line = NULL;
				if (asprintf(&line, "%s: %s", x->host->headers[i].name, *v) < 0) {
					ok = false;
					break;
				}
				ok = ok && add_header(x, "%s", line) == 0;
				free(line);
			}
		_cleanup_free_ char *auth = NULL;
		if ((rc = ctr_auth_header(r->auth, x->host->host, j->scope, &auth, err)) < 0)
			return rc;
		x->sent_auth = auth != NULL;
		if (auth) {
			ok = ok && add_header(x, "%s", auth) == 0;
			explicit_bzero(auth, strlen(auth));
		}
	}
	if (!ok)
		return ctr_err_nomem(err);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hl);
	CURLMcode mc = curl_multi_add_handle(e->multi, c);
	if (mc != CURLM_OK)
		return ctr_err(err, CTR_EIO, 0, "curl: %s", curl_multi_strerror(mc));
	j->cur = x;
	return 0;
}

void ctr_job_progress(struct ctr_job *j, uint64_t done, uint64_t total, enum ctr_remote_state st)
{
	struct ctr_remote *r = j->eng->r;
	if (r->o.progress && j->desc && r->o.progress(j->desc, done, total, st, r->o.progress_ud) != 0)
		j->eng->canceled = true;
}

void ctr_job_finish(struct ctr_job *j, int rc, ctr_error *err)
{
	if (j->phase == JOB_DONE || j->phase == JOB_FAILED) {
		ctr_error_free(err);
		return;
	}
	j->rc = rc;
	ctr_error_free(j->err);
	j->err = err;
	if (rc < 0) {
		j->phase = JOB_FAILED;
		if (!j->eng->failed && rc != CTR_ECANCELED)
			j->eng->failed = true;
		ctr_job_progress(j, 0, j->desc ? j->desc->size : 0, CTR_REMOTE_FAILED);
	} else {
		j->phase = JOB_DONE;
		ctr_job_progress(j, j->desc ? j->desc->size : 0, j->desc ? j->desc->size : 0, CTR_REMOTE_DONE);
	}
}

static void schedule_retry(struct ctr_engine *e, struct ctr_job *j, struct ctr_xfer *x, long retry_after)
{
	j->retries++;
	uint64_t delay;
	if (retry_after >= 0) {
		delay = (uint64_t)retry_after * 1000;
	} else {
		delay = (uint64_t)e->r->o.retry_base_ms << (j->retries > 8 ? 7 : j->retries - 1);
		if (delay > MAX_BACKOFF_MS)
			delay = MAX_BACKOFF_MS;
	}
	xfer_release_easy(x);
	j->pending = x;
	j->retry_at = now_ms() + delay;
}

int ctr_job_retry(struct ctr_job *j, struct ctr_xfer *x, long retry_after)
{
	if (j->retries >= (unsigned)j->eng->r->o.max_retries)
		return 0;
	schedule_retry(j->eng, j, x, retry_after);
	return 1;
}

static bool is_redirect(long st) { return st == 301 || st == 302 || st == 303 || st == 307 || st == 308; }

static void handle_done(struct ctr_engine *e, struct ctr_xfer *x, CURLcode code)
{
	struct ctr_job *j = x->job;
	struct ctr_remote *r = e->r;
	ctr_error *err = NULL;
	int rc;
	j->cur = NULL;
	xfer_release_easy(x);
	if (e->canceled || j->phase != JOB_RUNNING) {
		ctr_xfer_free(x);
		return;
	}
	if (x->cb_rc < 0) {
		rc = x->cb_rc;
		err = TAKE_PTR(x->cb_err);
		ctr_xfer_free(x);
		ctr_job_finish(j, rc, err);
		return;
	}
	unsigned max_retries = (unsigned)r->o.max_retries;
	if (code != CURLE_OK) {
		if (ctr_http_curl_transient(code) && j->retries < max_retries) {
			schedule_retry(e, j, x, -1);
			return;
		}
		char what[600];
		snprintf(what, sizeof(what), "%s %s%s%s", r->name, x->method, j->desc ? " " : "",
			 j->desc ? j->desc->digest : "");
		rc = ctr_http_curl_error(code, x->errbuf, what, &err);
		ctr_xfer_free(x);
		ctr_job_finish(j, rc, err);
		return;
	}
	long st = x->resp.status;
	if (is_redirect(st) && x->resp.location) {
		char *next = ctr_http_resolve_url(x->url, x->resp.location);
		char *origin = next ? ctr_http_origin(next) : NULL;
		if (!next || !origin || x->redirects >= MAX_REDIRECTS ||
		    (strncmp(next, "http://", 7) && strncmp(next, "https://", 8))) {
			rc = ctr_err(&err, CTR_EIO, 0, "%s: bad or too many redirects", r->name);
		} else if (!strncmp(x->url, "https://", 8) && !strncmp(next, "http://", 7)) {
			rc = ctr_err(&err, CTR_EPERM, 0, "%s: refusing a redirect from https to http", r->name);
		} else {
			rc = 0;
		}
		if (rc < 0) {
			free(next);
			free(origin);
			ctr_xfer_free(x);
			ctr_job_finish(j, rc, err);
			return;
		}
		/* Once off the registry's origin, never back on: no credential
		 * follows a redirect chain. */
		if (strcmp(origin, x->origin))
			x->registry = false;
		free(origin);
		free(x->url);
		x->url = next;
		x->redirects++;
		if (st == 303 && strcmp(x->method, "HEAD")) {
			free(x->method);
			x->method = strdup("GET");
			x->has_upload = false;
		}
		rc = x->method ? ctr_xfer_submit(x, &err) : ctr_err_nomem(&err);
		if (rc < 0) {
			ctr_xfer_free(x);
			ctr_job_finish(j, rc, err);
		}
		return;
	}
	if (st == 401 && x->registry && x->auth_tries < 2 && x->resp.www_auth) {
		x->auth_tries++;
		/* A request that went out before a concurrent one learnt the
		 * credentials: send it again with them, it was not rejected. */
		_cleanup_free_ char *now = NULL;
		if (!x->sent_auth && ctr_auth_header(r->auth, x->host->host, j->scope, &now, NULL) == 0 && now) {
			explicit_bzero(now, strlen(now));
			rc = 0;
		} else {
			rc = ctr_auth_challenge(r->auth, x->host->host, j->scope, x->resp.www_auth, x->host,
						r->user_agent, &err);
		}
		if (rc == 0)
			rc = ctr_xfer_submit(x, &err);
		if (rc < 0) {
			ctr_xfer_free(x);
			ctr_job_finish(j, rc, err);
		}
		return;
	}
	if ((st == 429 || st >= 500) && j->retries < max_retries) {
		schedule_retry(e, j, x, x->resp.retry_after);
		return;
	}
	rc = j->ops->done(j, x, &err);
	if (rc == 1)
		return; /* the job resubmitted x */
	ctr_xfer_free(x);
	if (rc < 0)
		ctr_job_finish(j, rc, err);
	else
		ctr_error_free(err);
}

int ctr_engine_init(struct ctr_engine *e, struct ctr_remote *r, ctr_error **err)
{
	memset(e, 0, sizeof(*e));
	e->r = r;
	e->max = r->o.max_concurrency;
	e->multi = curl_multi_init();
	if (!e->multi)
		return ctr_err_nomem(err);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->max + 1);
	return 0;
}

void ctr_engine_cleanup(struct ctr_engine *e)
{
	if (e->multi)
		curl_multi_cleanup(e->multi);
	e->multi = NULL;
}

int ctr_engine_run(struct ctr_engine *e, struct ctr_job **jobs, size_t n, ctr_error **err)
{
	e->jobs = jobs;
	e->n_jobs = n;
	for (size_t i = 0; i < n; i++) {
		jobs[i]->eng = e;
		jobs[i]->phase = JOB_WAITING;
		ctr_job_progress(jobs[i], 0, jobs[i]->desc ? jobs[i]->desc->size : 0, CTR_REMOTE_WAITING);
	}
	for (;;) {
		if (e->canceled || e->failed)
			break;
		size_t active = 0, unfinished = 0;
		for (size_t i = 0; i < n; i++) {
			if (jobs[i]->phase == JOB_RUNNING)
				active++;
			if (jobs[i]->phase == JOB_RUNNING || jobs[i]->phase == JOB_WAITING)
				unfinished++;
		}
		if (!unfinished)
			break;
		bool changed = false;
		for (size_t i = 0; i < n && active < e->max && !e->failed && !e->canceled; i++) {
			struct ctr_job *j = jobs[i];
			if (j->phase != JOB_WAITING)
				continue;
			j->phase = JOB_RUNNING;
			active++;
			ctr_error *jerr = NULL;
			int rc = j->ops->start(j, &jerr);
			if (rc < 0)
				ctr_job_finish(j, rc, jerr);
			else
				ctr_error_free(jerr);
			if (j->phase != JOB_RUNNING) {
				active--;
				changed = true;
			}
		}
		long wait = 1000;
		uint64_t now = now_ms();
		for (size_t i = 0; i < n && !e->failed && !e->canceled; i++) {
			struct ctr_job *j = jobs[i];
			if (j->phase != JOB_RUNNING || !j->pending)
				continue;
			if (j->retry_at > now) {
				if ((long)(j->retry_at - now) < wait)
					wait = (long)(j->retry_at - now);
				continue;
			}
			struct ctr_xfer *x = TAKE_PTR(j->pending);
			ctr_error *jerr = NULL;
			int rc = j->ops->retry ? j->ops->retry(j, x, &jerr) : 0;
			if (rc == 1) {
				ctr_xfer_free(x);
			} else if (rc == 0) {
				rc = ctr_xfer_submit(x, &jerr);
				if (rc < 0)
					ctr_xfer_free(x);
			} else {
				ctr_xfer_free(x);
			}
			if (rc < 0)
				ctr_job_finish(j, rc, jerr);
			else
				ctr_error_free(jerr);
			changed = true;
		}
		/* A job with nothing in flight and nothing scheduled would wait
		 * forever: that is a bug in its hooks, report it. */
		for (size_t i = 0; i < n; i++) {
			struct ctr_job *j = jobs[i];
			if (j->phase == JOB_RUNNING && !j->cur && !j->pending) {
				ctr_job_finish(j, CTR_EIO, NULL);
				changed = true;
			}
		}
		if (e->canceled || e->failed)
			break;
		int running = 0;
		curl_multi_perform(e->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(e->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct ctr_xfer *x = NULL;
			CURLcode res = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			handle_done(e, x, res);
			changed = true;
		}
		if (!changed)
			curl_multi_poll(e->multi, NULL, 0, (int)(wait > 0 ? wait : 1), NULL);
	}
	/* Stop whatever is still going. */
	for (size_t i = 0; i < n; i++) {
		struct ctr_job *j = jobs[i];
		if (j->cur) {
			ctr_xfer_free(j->cur);
			j->cur = NULL;
		}
		if (j->pending) {
			ctr_xfer_free(j->pending);
			j->pending = NULL;
		}
		if (j->phase == JOB_RUNNING || j->phase == JOB_WAITING) {
			bool was_running = j->phase == JOB_RUNNING;
			j->phase = JOB_FAILED;
			j->rc = CTR_ECANCELED;
			if (was_running && j->eng->r->o.progress && j->desc)
				j->eng->r->o.progress(j->desc, 0, j->desc->size, CTR_REMOTE_FAILED, j->eng->r->o.progress_ud);
		}
	}
	if (e->failed) {
		for (size_t i = 0; i < n; i++) {
			struct ctr_job *j = jobs[i];
			if (j->phase == JOB_FAILED && j->rc != CTR_ECANCELED) {
				int rc = j->rc;
				if (err && !*err)
					*err = TAKE_PTR(j->err);
				else if (!j->err)
					rc = ctr_err(err, rc, 0, "%s: %s", e->r->name, ctr_strerror(rc));
				return rc;
			}
		}
	}
	if (e->canceled)
		return ctr_err(err, CTR_ECANCELED, 0, "%s: canceled", e->r->name);
	return 0;
}
