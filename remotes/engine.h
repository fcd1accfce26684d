/* The transfer engine behind resolve, fetch and push: one curl multi
 * handle, jobs (one per blob or manifest) that issue requests one after
 * another, and the handling common to every request: redirects followed by
 * hand (auth and configured headers only on the registry's own origin),
 * 401 challenges, retry with backoff on transient failures. */
#ifndef CTR_REMOTES_ENGINE_H
#define CTR_REMOTES_ENGINE_H

#include <curl/curl.h>
#include <stdbool.h>

#include "http.h"
#include "remotes.h"

struct ctr_remote {
	struct ctr_ref ref;
	char *name; /* domain/path for messages */
	struct ctr_hosts hosts;
	struct ctr_auth *auth;
	struct ctr_remote_opts o;
	char *user_agent;
};

struct ctr_job;
struct ctr_xfer;

struct ctr_job_ops {
	/* Issues the first request, or finishes at once. */
	int (*start)(struct ctr_job *j, ctr_error **err);
	/* Called before each (re)submission of x: set Range etc. */
	int (*prepare)(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err);
	/* Headers of a 2xx response to a streaming request are complete. */
	int (*headers)(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err);
	/* Body bytes of a 2xx response to a streaming request. */
	int (*data)(struct ctr_job *j, struct ctr_xfer *x, const char *buf, size_t len, ctr_error **err);
	/* The request finished with a status the engine leaves to the job.
	 * Submit the next request, or call ctr_job_finish; return < 0 to fail. */
	int (*done)(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err);
	/* A retry after a transient failure; return 1 when the job issued a
	 * different request itself, 0 to resubmit x. */
	int (*retry)(struct ctr_job *j, struct ctr_xfer *x, ctr_error **err);
};

enum ctr_job_phase { JOB_WAITING, JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct ctr_engine;

struct ctr_job {
	const struct ctr_job_ops *ops;
	struct ctr_engine *eng;
	const struct ctr_remote_desc *desc;
	enum ctr_job_phase phase;
	int rc;
	ctr_error *err;
	unsigned retries;
	uint64_t retry_at;        /* monotonic ms; the pending xfer waits */
	struct ctr_xfer *pending; /* waiting for retry_at */
	struct ctr_xfer *cur;     /* in flight */
	const char *scope;
	void *data;               /* the job kind's own state */
};

struct ctr_xfer {
	struct ctr_job *job;
	CURL *easy;
	struct curl_slist *hl;
	char *method;
	char *url;
	const struct ctr_registry_host *host;
	char *origin;  /* the registry's origin */
	bool registry; /* url is on the registry origin: auth and headers ok */
	char *accept;
	char *content_type;
	char *range;
	char *extra; /* one more header line */
	bool stream;
	size_t max_body;
	/* upload body: memory or source */
	const void *up_mem;
	size_t up_mem_len;
	const struct ctr_remote_source *up_src;
	uint64_t up_off, up_len, up_pos;
	bool has_upload;
	/* response */
	struct ctr_http_resp resp;
	char *body;
	size_t body_len;
	bool hdr_checked;
	int cb_rc;
	ctr_error *cb_err;
	unsigned redirects, auth_tries;
	bool sent_auth; /* the last submission carried an Authorization header */
	char errbuf[CURL_ERROR_SIZE];
};

struct ctr_engine {
	struct ctr_remote *r;
	CURLM *multi;
	struct ctr_job **jobs;
	size_t n_jobs;
	unsigned max;
	bool canceled;
	bool failed;
};

/* A request on host h (NULL: none, e.g. a foreign URL) for job j. url is
 * copied. registry is whether auth may be attached. */
struct ctr_xfer *ctr_xfer_new(struct ctr_job *j, const char *method, const char *url,
			      const struct ctr_registry_host *h, bool registry);
void ctr_xfer_free(struct ctr_xfer *x);
int ctr_xfer_submit(struct ctr_xfer *x, ctr_error **err);

/* "repository:<path>:pull" or ":pull,push"; caller frees. */
char *ctr_remote_scope(const struct ctr_remote *r, bool push);

/* Builds scheme://host/path/<repo>/<kind>/<obj>; caller frees. */
char *ctr_remote_url(const struct ctr_remote *r, const struct ctr_registry_host *h, const char *kind,
		     const char *obj);

/* From a done hook: schedules x again after a backoff when retries are
 * left and returns 1 (the engine keeps x); 0 when none are left. */
int ctr_job_retry(struct ctr_job *j, struct ctr_xfer *x, long retry_after);
void ctr_job_finish(struct ctr_job *j, int rc, ctr_error *err);
/* Reports progress; a non-zero answer cancels the engine. */
void ctr_job_progress(struct ctr_job *j, uint64_t done, uint64_t total, enum ctr_remote_state st);

int ctr_engine_init(struct ctr_engine *e, struct ctr_remote *r, ctr_error **err);
/* Runs until every job is done or failed; the first failure cancels the
 * rest and is returned. */
int ctr_engine_run(struct ctr_engine *e, struct ctr_job **jobs, size_t n, ctr_error **err);
void ctr_engine_cleanup(struct ctr_engine *e);

#endif
