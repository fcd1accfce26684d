/* The public content API: parses each call's options and calls the
 * namespaced content layer (lib/records/content-ns.c), which holds the
 * handles and the rules of ingest and commit. */
#include <ctr/content.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "content-ns.h"
#include "store.h"
#include "error.h"
#include "events.h"
#include "metadata.h"
#include "filters.h"
#include "ident.h"
#include "macro.h"

struct ctr_content_status {
	struct ctr_cs_status st; /* st.ref is the caller's ref (no namespace) */
};

struct writer_cfg {
	char *expected;
	int64_t size;
	int timeout_ms;
};

/* ---- options ---- */

struct expected_opt {
	char *digest;
	int64_t size;
};

static void expected_free(void *p)
{
	struct expected_opt *e = p;
	if (e)
		free(e->digest);
	free(e);
}

static int apply_expected(void *target, void *ud, ctr_error **err)
{
	struct writer_cfg *cfg = target;
	struct expected_opt *e = ud;
	if (e->digest) {
		int r = ctr_digest_parse(e->digest, NULL, NULL, err);
		if (r < 0)
			return r;
		free(cfg->expected);
		if (!(cfg->expected = strdup(e->digest)))
			return ctr_err_nomem(err);
	}
	cfg->size = e->size;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_content_expected(const char *digest, int64_t size)
{
	struct expected_opt *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->size = size;
	if (digest && !(e->digest = strdup(digest))) {
		free(e);
		return NULL;
	}
	return ctr_opt_make(CTR_OPT_CONTENT, "ctr_with_content_expected", apply_expected, e, expected_free);
}

static int apply_wait(void *target, void *ud, ctr_error **err)
{
	(void)err;
	((struct writer_cfg *)target)->timeout_ms = (int)(intptr_t)ud;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_content_wait(int timeout_ms)
{
	return ctr_opt_make(CTR_OPT_CONTENT, "ctr_with_content_wait", apply_wait, (void *)(intptr_t)timeout_ms, NULL);
}

/* Applies call-only options (namespace, lease). */
static int call_opts(ctr_client *c, struct ctr_call *call, const ctr_opt *const *opts, size_t n,
		     const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	*call = (struct ctr_call){0};
	return ctr_opts_apply(CTR_OPT_CALL, call, call, opts, n, what, err);
}

/* ---- info ---- */

CTR_EXPORT const char *ctr_content_info_digest(const ctr_content_info *i) { return i ? i->md.digest : NULL; }
CTR_EXPORT int64_t ctr_content_info_size(const ctr_content_info *i) { return i ? (int64_t)i->md.size : 0; }
CTR_EXPORT int64_t ctr_content_info_created_at(const ctr_content_info *i) { return i ? i->md.created_at : 0; }
CTR_EXPORT int64_t ctr_content_info_updated_at(const ctr_content_info *i) { return i ? i->md.updated_at : 0; }
CTR_EXPORT const char *const *ctr_content_info_labels(const ctr_content_info *i)
{
	return i ? (const char *const *)i->md.labels : NULL;
}

CTR_EXPORT void ctr_content_info_free(ctr_content_info *i)
{
	if (!i)
		return;
	ctr_md_content_clear(&i->md);
	free(i);
}

CTR_EXPORT void ctr_content_info_list_free(ctr_content_info **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		ctr_content_info_free(v[i]);
	free(v);
}

CTR_EXPORT int ctr_content_get(ctr_content_info **out, ctr_client *c, const char *digest,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content info", err);
	return r < 0 ? r : ctr_contents_info_get(out, c, digest, &call, err);
}

CTR_EXPORT int ctr_content_list(ctr_content_info ***out, size_t *n_out, ctr_client *c,
				const char *const *filters, size_t n_filters,
				const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content list", err);
	if (r < 0)
		return r;
	struct ctr_md_content *v = NULL;
	size_t n = 0;
	if ((r = ctr_md_content_list(&v, &n, c->db, ctr_call_ns(c, &call), filters, n_filters, err)) < 0)
		return ctr_err_prefix(err, r, "content list");
	ctr_content_info **res = calloc(n + 1, sizeof(*res));
	if (!res) {
		ctr_md_content_list_free(v, n);
		return ctr_err_nomem(err);
	}
	for (size_t i = 0; i < n; i++) {
		res[i] = calloc(1, sizeof(**res));
		if (!res[i]) {
			ctr_content_info_list_free(res, i);
			for (size_t j = i; j < n; j++)
				ctr_md_content_clear(&v[j]);
			free(v);
			return ctr_err_nomem(err);
		}
		res[i]->md = v[i];
	}
	free(v);
	*out = res;
	*n_out = n;
	return 0;
}

CTR_EXPORT int ctr_content_update(ctr_client *c, const char *digest,
					 const char *const *labels, const ctr_opt *const *opts,
					 size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content label", err);
	return r < 0 ? r : ctr_contents_update_labels(c, digest, labels, &call, err);
}

CTR_EXPORT int ctr_content_delete(ctr_client *c, const char *digest,
				  const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content delete", err);
	return r < 0 ? r : ctr_contents_delete(c, digest, &call, err);
}

/* ---- reader ---- */

CTR_EXPORT int ctr_content_reader_open(ctr_content_reader **out, ctr_client *c, const char *digest,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content read", err);
	return r < 0 ? r : ctr_contents_reader_open(out, c, digest, &call, err);
}

CTR_EXPORT int64_t ctr_content_reader_size(const ctr_content_reader *r) { return r ? r->size : 0; }

CTR_EXPORT int ctr_content_reader_pread(size_t *n_read, ctr_content_reader *r, void *buf, size_t len,
				       int64_t offset, ctr_error **err)
{
	if (!n_read || !r || offset < 0)
		return ctr_err(err, CTR_EINVAL, 0, "content pread: bad reader or offset");
	for (;;) {
		ssize_t n = pread(r->fd, buf, len, offset);
		if (n >= 0) {
			*n_read = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return ctr_err_errno(err, errno, "content pread");
	}
}

CTR_EXPORT void ctr_content_reader_free(ctr_content_reader *r)
{
	if (!r)
		return;
	close(r->fd);
	ctr_client_free(r->c);
	free(r);
}

/* ---- writer ---- */

CTR_EXPORT int ctr_content_writer_open(ctr_content_writer **out, ctr_client *c, const char *ref,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content writer: client is NULL");
	struct writer_cfg cfg = {.size = -1};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CONTENT, &cfg, &call, opts, n_opts, "content writer", err);
	_cleanup_free_ char *expected = cfg.expected;
	if (r < 0)
		return r;
	return ctr_contents_writer_open(out, c, ref, expected, cfg.size, cfg.timeout_ms, &call, err);
}

CTR_EXPORT int64_t ctr_content_writer_offset(const ctr_content_writer *w)
{
	return w ? (int64_t)ctr_cs_writer_offset(w->w) : 0;
}

CTR_EXPORT int ctr_content_writer_write(ctr_content_writer *w, const void *buf, size_t len, ctr_error **err)
{
	if (!w)
		return ctr_err(err, CTR_EINVAL, 0, "content write: writer is NULL");
	return ctr_cs_writer_write(w->w, buf, len, err);
}

CTR_EXPORT int ctr_content_writer_commit(ctr_content_writer *w, int64_t size, const char *digest,
					 const char *const *labels, ctr_error **err)
{
	if (!w)
		return ctr_err(err, CTR_EINVAL, 0, "content commit: writer is NULL");
	int r;
	if (digest && (r = ctr_digest_parse(digest, NULL, NULL, err)) < 0)
		return ctr_err_prefix(err, r, "content commit %s", w->ref);
	if (labels && (r = ctr_md_labels_validate(labels, err)) < 0)
		return ctr_err_prefix(err, r, "content commit %s", w->ref);
	if (size < 0)
		size = w->expected_size > 0 ? w->expected_size : 0;
	_cleanup_close_ int lock = ctr_cs_gc_lock(w->c->cs, false, err);
	if (lock < 0)
		return lock;
	char dg[CTR_DIGEST_MAX] = "";
	int cr = ctr_cs_writer_commit(w->w, (uint64_t)size, digest ? digest : w->expected, dg, err);
	if (cr < 0 && cr != CTR_EEXISTS)
		return ctr_err_prefix(err, cr, "content commit %s", w->ref);
	uint64_t have = 0;
	if ((r = ctr_cs_blob_stat(w->c->cs, dg, &have, err)) < 0)
		return r;
	struct ctr_call call = {.ns = w->ns, .lease = w->lease};
	bool created = false;
	r = ctr_md_content_add(w->c->db, w->ns, dg, have, labels, &call, &created, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "content commit %s", w->ref);
	/* The ingest is the blob now: its record and lease hold go with it
	 * (the blob's own record is held by the lease instead). */
	if ((r = ctr_md_ingest_delete(w->c->db, w->ns, w->ref, err)) < 0)
		return ctr_err_prefix(err, r, "content commit %s", w->ref);
	if (created)
		ctr_events_publish(w->c, w->ns, "/content/create",
				   json_pack("{s:s,s:I}", "digest", dg, "size", (json_int_t)have));
	if (cr == CTR_EEXISTS && err && !*err)
		ctr_err(err, CTR_EEXISTS, 0, "content %s: already exists", dg);
	return cr == CTR_EEXISTS ? CTR_EEXISTS : 0;
}

/* ---- status ---- */

CTR_EXPORT const char *ctr_content_status_ref(const ctr_content_status *s) { return s ? s->st.ref : NULL; }
CTR_EXPORT int64_t ctr_content_status_offset(const ctr_content_status *s) { return s ? (int64_t)s->st.offset : 0; }
CTR_EXPORT int64_t ctr_content_status_total(const ctr_content_status *s) { return s ? (int64_t)s->st.total : 0; }
CTR_EXPORT const char *ctr_content_status_expected(const ctr_content_status *s) { return s ? s->st.expected : NULL; }
CTR_EXPORT int64_t ctr_content_status_started_at(const ctr_content_status *s) { return s ? s->st.started_at : 0; }
CTR_EXPORT int64_t ctr_content_status_updated_at(const ctr_content_status *s) { return s ? s->st.updated_at : 0; }

CTR_EXPORT void ctr_content_status_list_free(ctr_content_status **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i])
			ctr_cs_status_clear(&v[i]->st);
		free(v[i]);
	}
	free(v);
}

static const char *status_field(void *obj, const char *const *path, size_t n)
{
	struct ctr_cs_status *st = obj;
	if (n == 1 && !strcmp(path[0], "ref"))
		return st->ref;
	if (n == 1 && !strcmp(path[0], "expected"))
		return st->expected;
	return NULL;
}

CTR_EXPORT int ctr_content_status_list(ctr_content_status ***out, size_t *n_out, ctr_client *c,
				       const char *const *filters, size_t n_filters,
				       const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content status", err);
	if (r < 0)
		return r;
	ctr_filter *f = NULL;
	if ((r = ctr_filter_parse(&f, filters, n_filters, err)) < 0)
		return r;
	struct ctr_cs_status *all = NULL;
	size_t n = 0;
	if ((r = ctr_cs_status_list(c->cs, &all, &n, err)) < 0) {
		ctr_filter_free(f);
		return r;
	}
	const char *ns = ctr_call_ns(c, &call);
	size_t plen = strlen(ns);
	ctr_content_status **res = calloc(n + 1, sizeof(*res));
	size_t k = 0;
	for (size_t i = 0; res && i < n; i++) {
		if (strncmp(all[i].ref, ns, plen) != 0 || all[i].ref[plen] != '/')
			continue;
		/* strip "<ns>/" */
		memmove(all[i].ref, all[i].ref + plen + 1, strlen(all[i].ref + plen + 1) + 1);
		if (!ctr_filter_match(f, status_field, &all[i]))
			continue;
		res[k] = calloc(1, sizeof(**res));
		if (!res[k])
			break;
		res[k]->st = all[i];
		memset(&all[i], 0, sizeof(all[i]));
		k++;
	}
	ctr_cs_status_list_free(all, n);
	ctr_filter_free(f);
	if (!res)
		return ctr_err_nomem(err);
	*out = res;
	*n_out = k;
	return 0;
}

CTR_EXPORT int ctr_content_abort(ctr_client *c, const char *ref, const ctr_opt *const *opts,
				 size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "content abort", err);
	return r < 0 ? r : ctr_contents_abort(c, ref, &call, err);
}
