/* The namespaced content layer: the blob store (lib/content) seen through one
 * namespace's records (lib/metadata), as containerd's metadata content
 * store wraps its local store. lib/content.c parses the public calls'
 * options and calls these; transfer, unpack and snapshots call them directly.
 *
 * Ingest refs are stored as "<ns>/<ref>" so two namespaces writing the same
 * ref never share an ingest. Committing holds the store's GC lock shared from
 * the blob rename until the namespace's record exists, so a collector (which
 * holds it exclusive) never sees a named blob that nobody records. */
#include "content-ns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "store.h"
#include "error.h"
#include "events.h"
#include "metadata.h"
#include "macro.h"

int ctr_contents_info_get(ctr_content_info **out, ctr_client *c, const char *digest, const struct ctr_call *call,
			  ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content info: client is NULL");
	int r = ctr_digest_parse(digest, NULL, NULL, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "content info");
	ctr_content_info *i = calloc(1, sizeof(*i));
	if (!i)
		return ctr_err_nomem(err);
	r = ctr_md_content_get(&i->md, c->db, ctr_call_ns(c, call), digest, err);
	if (r < 0) {
		free(i);
		return ctr_err_prefix(err, r, "content info %s", digest);
	}
	*out = i;
	return 0;
}

int ctr_contents_update_labels(ctr_client *c, const char *digest, const char *const *labels, const struct ctr_call *call,
			       ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content label: client is NULL");
	int r = ctr_digest_parse(digest, NULL, NULL, err);
	if (r == 0)
		r = ctr_md_content_update_labels(NULL, c->db, ctr_call_ns(c, call), digest, labels, false, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "content label %s", digest ? digest : "");
	return 0;
}

int ctr_contents_delete(ctr_client *c, const char *digest, const struct ctr_call *call, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content delete: client is NULL");
	int r = ctr_digest_parse(digest, NULL, NULL, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "content delete");
	const char *ns = ctr_call_ns(c, call);
	/* Exclusive GC lock: no committer can be between rename and record
	 * while we decide the bytes are unowned. */
	_cleanup_close_ int lock = ctr_cs_gc_lock(c->cs, true, err);
	if (lock < 0)
		return ctr_err_prefix(err, lock, "content delete %s", digest);
	if ((r = ctr_md_content_delete(c->db, ns, digest, err)) < 0)
		return ctr_err_prefix(err, r, "content delete %s", digest);
	bool used = true;
	if (ctr_md_content_referenced(c->db, digest, &used, NULL) == 0 && !used)
		ctr_cs_blob_delete(c->cs, digest, NULL);
	ctr_events_publish(c, ns, "/content/delete", json_pack("{s:s}", "digest", digest));
	return 0;
}

int ctr_contents_reader_open(ctr_content_reader **out, ctr_client *c, const char *digest, const struct ctr_call *call,
			     ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content read: client is NULL");
	int r = ctr_digest_parse(digest, NULL, NULL, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "content read");
	struct ctr_md_content md = {0};
	if ((r = ctr_md_content_get(&md, c->db, ctr_call_ns(c, call), digest, err)) < 0)
		return ctr_err_prefix(err, r, "content read %s", digest);
	ctr_md_content_clear(&md);
	int fd = ctr_cs_blob_open(c->cs, digest, err);
	if (fd < 0)
		return ctr_err_prefix(err, fd, "content read %s", digest);
	struct stat st;
	ctr_content_reader *rd = calloc(1, sizeof(*rd));
	if (!rd || fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		free(rd);
		return rd ? ctr_err_errno(err, e, "content read %s", digest) : ctr_err_nomem(err);
	}
	rd->c = ctr_client_hold(c);
	rd->fd = fd;
	rd->size = st.st_size;
	*out = rd;
	return 0;
}

static char *ns_ref(const char *ns, const char *ref)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", ns, ref) < 0)
		return NULL;
	return s;
}

/* Records an existing blob in the namespace (shared bytes) under the GC
 * lock, as containerd's shared content policy does. */
static int adopt_existing(ctr_client *c, const char *ns, const struct ctr_call *call, const char *digest,
			  uint64_t size, const char *const *labels, ctr_error **err)
{
	_cleanup_close_ int lock = ctr_cs_gc_lock(c->cs, false, err);
	if (lock < 0)
		return lock;
	uint64_t have;
	int r = ctr_cs_blob_stat(c->cs, digest, &have, err);
	if (r < 0)
		return r;
	if (size && have != size)
		return ctr_err(err, CTR_EPRECONDITION, 0, "blob %s has %llu bytes, not %llu", digest,
			       (unsigned long long)have, (unsigned long long)size);
	bool created = false;
	r = ctr_md_content_add(c->db, ns, digest, have, labels, call, &created, err);
	if (r == 0 && created)
		ctr_events_publish(c, ns, "/content/create", json_pack("{s:s,s:I}", "digest", digest, "size", (json_int_t)have));
	return r;
}

int ctr_contents_writer_open(ctr_content_writer **out, ctr_client *c, const char *ref, const char *expected_digest,
			     int64_t size, int timeout_ms, const struct ctr_call *call, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content writer: client is NULL");
	if (!ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "content writer: empty ref");
	int r;
	if (expected_digest && (r = ctr_digest_parse(expected_digest, NULL, NULL, err)) < 0)
		return ctr_err_prefix(err, r, "content writer");
	_cleanup_free_ char *expected = expected_digest ? strdup(expected_digest) : NULL;
	if (expected_digest && !expected)
		return ctr_err_nomem(err);
	const struct ctr_call none = {0};
	if (!call)
		call = &none;
	const char *ns = ctr_call_ns(c, call);
	if (expected) {
		struct ctr_md_content md = {0};
		r = ctr_md_content_get(&md, c->db, ns, expected, NULL);
		ctr_md_content_clear(&md);
		if (r == 0)
			return ctr_err(err, CTR_EEXISTS, 0, "content %s: already exists", expected);
		uint64_t have;
		if (ctr_cs_blob_stat(c->cs, expected, &have, NULL) == 0) {
			/* CTR_ENOTFOUND: a collection took the blob after the
			 * stat; then it is written anew below. */
			ctr_error *e = NULL;
			r = adopt_existing(c, ns, call, expected, size > 0 ? (uint64_t)size : 0, NULL, &e);
			if (r == 0)
				return ctr_err(err, CTR_EEXISTS, 0, "content %s: already exists", expected);
			if (r != CTR_ENOTFOUND) {
				if (err && !*err)
					*err = TAKE_PTR(e);
				ctr_error_free(e);
				return ctr_err_prefix(err, r, "content writer %s", ref);
			}
			ctr_error_free(e);
		}
	}
	_cleanup_free_ char *key = ns_ref(ns, ref);
	if (!key)
		return ctr_err_nomem(err);
	/* The ingest is owned by the namespace and held by the call's lease;
	 * without a lease it expires a day later, as containerd's metadata
	 * content store does, so the collector keeps it resumable until then. */
	int64_t expires = call->lease ? 0 : ctr_db_now() + CTR_INGEST_UNLEASED_EXPIRY;
	if ((r = ctr_md_ingest_put(c->db, ns, ref, expires, call, err)) < 0)
		return ctr_err_prefix(err, r, "content writer %s", ref);
	ctr_content_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ctr_err_nomem(err);
	for (int tries = 0;; tries++) {
		r = ctr_cs_writer_open(&w->w, c->cs, key, size > 0 ? (uint64_t)size : 0, expected,
				       timeout_ms, err);
		if (r != CTR_EEXISTS || !expected)
			break;
		/* Another writer committed it while we waited for its ingest:
		 * adopt that blob, or, when a collection took it before we
		 * could, write it anew (found by the concurrency soak). */
		ctr_err_drop(err);
		ctr_error *e = NULL;
		int r2 = adopt_existing(c, ns, call, expected, 0, NULL, &e);
		if (r2 == CTR_ENOTFOUND && tries < 3) {
			ctr_error_free(e);
			continue;
		}
		free(w);
		if (r2 < 0) {
			if (err && !*err)
				*err = TAKE_PTR(e);
			ctr_error_free(e);
			return ctr_err_prefix(err, r2, "content writer %s", ref);
		}
		ctr_error_free(e);
		return ctr_err(err, CTR_EEXISTS, 0, "content %s: already exists", expected);
	}
	if (r < 0) {
		free(w);
		return ctr_err_prefix(err, r, "content writer %s", ref);
	}
	w->c = ctr_client_hold(c);
	w->ns = strdup(ns);
	w->lease = call->lease ? strdup(call->lease) : NULL;
	w->ref = strdup(ref);
	w->expected = TAKE_PTR(expected);
	w->expected_size = size;
	if (!w->ns || !w->ref || (call->lease && !w->lease)) {
		ctr_content_writer_free(w);
		return ctr_err_nomem(err);
	}
	*out = w;
	return 0;
}

int64_t ctr_content_writer_pread(ctr_content_writer *w, void *buf, size_t len, int64_t off, ctr_error **err)
{
	if (!w || off < 0)
		return ctr_err(err, CTR_EINVAL, 0, "content writer pread: bad writer or offset");
	return ctr_cs_writer_pread(w->w, buf, len, (uint64_t)off, err);
}

int ctr_content_writer_reset(ctr_content_writer *w, ctr_error **err)
{
	if (!w)
		return ctr_err(err, CTR_EINVAL, 0, "content reset: writer is NULL");
	return ctr_cs_writer_reset(w->w, err);
}

CTR_EXPORT void ctr_content_writer_free(ctr_content_writer *w)
{
	if (!w)
		return;
	ctr_cs_writer_close(w->w);
	ctr_client_release(w->c);
	free(w->ns);
	free(w->lease);
	free(w->ref);
	free(w->expected);
	free(w);
}

int ctr_contents_abort(ctr_client *c, const char *ref, const struct ctr_call *call, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "content abort: client is NULL");
	if (!ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "content abort: empty ref");
	const char *ns = ctr_call_ns(c, call);
	_cleanup_free_ char *key = ns_ref(ns, ref);
	if (!key)
		return ctr_err_nomem(err);
	int r = ctr_cs_abort(c->cs, key, err);
	if (r == 0 || r == CTR_ENOTFOUND) {
		int q = ctr_md_ingest_delete(c->db, ns, ref, r == 0 ? err : NULL);
		if (r == 0)
			r = q;
	}
	return r < 0 ? ctr_err_prefix(err, r, "content abort %s", ref) : 0;
}

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
	ctr_client_release(r->c);
	free(r);
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

int ctr_contents_writer_commit(ctr_content_writer *w, int64_t size, const char *digest, const char *const *labels,
			       ctr_error **err)
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
