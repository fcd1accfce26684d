/* Lease records and the resources they hold. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "error.h"
#include "metadata.h"
#include "digest.h"
#include "ident.h"
#include "json.h"
#include "macro.h"

#define NSEC 1000000000LL

void ctr_md_lease_clear(struct ctr_lease *l)
{
	if (!l)
		return;
	free(l->ns);
	free(l->id);
	ctr_strv_free(l->labels);
	memset(l, 0, sizeof(*l));
}

void ctr_md_lease_list_free(struct ctr_lease *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_md_lease_clear(&v[i]);
	free(v);
}

/* Ingest refs and snapshot keys never become paths here; bound them and
 * keep control characters out of records and messages. */
static int check_ref(const char *s, size_t max, const char *what, ctr_error **err)
{
	size_t n = s ? strnlen(s, max + 1) : 0;
	if (n == 0 || n > max)
		return ctr_err(err, CTR_EINVAL, 0, "%s must be 1..%zu bytes", what, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ctr_err(err, CTR_EINVAL, 0, "%s contains a control character", what);
	return 0;
}

int ctr_md_resource_validate(const char *type, const char *id, ctr_error **err)
{
	if (!type || !id)
		return ctr_err(err, CTR_EINVAL, 0, "lease resource: type and id are required");
	if (!strcmp(type, "content")) {
		int r = ctr_digest_parse(id, NULL, NULL, err);
		return r < 0 ? ctr_err_prefix(err, CTR_EINVAL, "lease resource content") : 0;
	}
	if (!strcmp(type, "ingests"))
		return check_ref(id, CTR_MD_INGEST_REF_MAX, "lease resource ingest ref", err);
	if (!strncmp(type, "snapshots/", 10)) {
		int r = ctr_ident_validate(type + 10, "snapshotter", err);
		if (r < 0)
			return ctr_err_prefix(err, r, "lease resource");
		return check_ref(id, CTR_MD_SNAPSHOT_KEY_MAX, "lease resource snapshot key", err);
	}
	return ctr_err(err, CTR_EINVAL, 0,
		       "lease resource type \"%.80s\": want content, ingests or snapshots/<snapshotter>",
		       type);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int ctr_md_time_parse(const char *s, int64_t *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *p = s;
	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't') || !p++ || digits(&p, 2, &h) ||
	    *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	int64_t frac = 0;
	if (*p == '.') {
		p++;
		int nd = 0;
		while (isdigit((unsigned char)*p)) {
			if (nd < 9) {
				frac = frac * 10 + (*p - '0');
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return -1;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	int sign = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -1;
	} else
		return -1;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
	    om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	t -= sign * (oh * 3600 + om * 60);
	*out = (int64_t)t * NSEC + frac;
	return 0;
}

void ctr_md_time_format(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / NSEC);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static int random_id(char **out, ctr_error **err)
{
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return ctr_err_errno(err, errno, "lease id: getrandom");
	if (asprintf(out, "%lld-%016llx", (long long)ctr_db_now(), (unsigned long long)rnd) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static int lease_from_row(struct ctr_lease *l, sqlite3_stmt *st, ctr_error **err)
{
	/* columns: ns, id, labels, created_at, expires_at */
	struct ctr_lease t = {0};
	int r = ctr_db_col_strdup(st, 0, &t.ns, err);
	if (r == 0)
		r = ctr_db_col_strdup(st, 1, &t.id, err);
	if (r == 0)
		r = ctr_md_labels_from_json(&t.labels, (const char *)sqlite3_column_text(st, 2), err);
	if (r < 0) {
		ctr_md_lease_clear(&t);
		return r;
	}
	t.created_at = sqlite3_column_int64(st, 3);
	t.expires_at = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4);
	*l = t;
	return 0;
}

/* 1 when ns has lease id, 0 when not, or a negative code. */
static int lease_exists(struct ctr_db *db, const char *ns, const char *id, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r = ctr_db_prepare(db, &q, "SELECT 1 FROM leases WHERE ns = ?1 AND id = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, q, err, 2, ns, id);
	if (r == 0)
		r = ctr_db_step_row(db, q, err, "get lease");
	return r;
}

int ctr_md_lease_create(struct ctr_lease *out, struct ctr_db *db, const char *ns, const char *id,
			const char *const *labels, int64_t expires_at, ctr_error **err)
{
	_cleanup_free_ char *gen = NULL, *json = NULL;
	int r = 0;
	if (!id) {
		r = random_id(&gen, err);
		if (r < 0)
			return r;
		id = gen;
	}
	r = ctr_md_labels_to_json(&json, labels, err);
	if (r < 0)
		return r;
	/* containerd keeps a lease's expiry in the gc.expire label; the column
	 * is what the collector reads, so both are kept in step. */
	json_t *lo = ctr_md_labels_load(json);
	if (!lo)
		return ctr_err_nomem(err);
	const char *lexp = ctr_json_str(lo, CTR_LABEL_GC_EXPIRE);
	int64_t t = 0;
	if (lexp && ctr_md_time_parse(lexp, &t) < 0) {
		r = ctr_err(err, CTR_EINVAL, 0, "lease %s: label %s=\"%.60s\" is not an RFC 3339 time",
			    id, CTR_LABEL_GC_EXPIRE, lexp);
		json_decref(lo);
		return r;
	}
	if (lexp && (!expires_at || t < expires_at))
		expires_at = t;
	if (!lexp && expires_at) {
		char buf[64];
		ctr_md_time_format(expires_at, buf, sizeof(buf));
		json_object_set_new(lo, CTR_LABEL_GC_EXPIRE, json_string(buf));
		free(json);
		json = ctr_json_dump(lo);
	}
	json_decref(lo);
	if (!json)
		return ctr_err_nomem(err);

	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, ns, err);
	if (r == 0)
		r = lease_exists(db, ns, id, err);
	if (r == 1)
		return ctr_err(err, CTR_EEXISTS, 0, "lease %s already exists", id);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int64_t now = ctr_db_now();
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT INTO leases(ns, id, labels, created_at, expires_at) "
				   "VALUES (?1, ?2, ?3, ?4, ?5)",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 3, ns, id, json);
	if (r == 0) {
		sqlite3_bind_int64(st, 4, now);
		if (expires_at)
			sqlite3_bind_int64(st, 5, expires_at);
		r = ctr_db_step_done(db, st, err, "create lease");
	}
	struct ctr_lease l = {0};
	if (r == 0 && out) {
		l.created_at = now;
		l.expires_at = expires_at;
		if (!(l.ns = strdup(ns)) || !(l.id = strdup(id)))
			r = ctr_err_nomem(err);
		if (r == 0)
			r = ctr_md_labels_from_json(&l.labels, json, err);
	}
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	if (r < 0) {
		ctr_md_lease_clear(&l);
		return r;
	}
	if (out)
		*out = l;
	return 0;
}

int ctr_md_lease_get(struct ctr_lease *out, struct ctr_db *db, const char *ns, const char *id,
		     ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st,
			       "SELECT ns, id, labels, created_at, expires_at FROM leases "
			       "WHERE ns = ?1 AND id = ?2",
			       err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, id);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get lease");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "lease %s not found", id);
	if (r < 0)
		return r;
	return lease_from_row(out, st, err);
}

static int fill_rec(sqlite3_stmt *st, void *rec, ctr_error **err) { return lease_from_row(rec, st, err); }
static void clear_rec(void *rec) { ctr_md_lease_clear(rec); }
static void fields(const void *rec, const char **vals, char *scratch)
{
	(void)scratch;
	vals[0] = ((const struct ctr_lease *)rec)->id;
}

int ctr_md_lease_list(struct ctr_lease **out, size_t *n, struct ctr_db *db, const char *ns,
		      const char *const *filters, size_t n_filters, ctr_error **err)
{
	static const char *const keys[] = {"id", NULL};
	struct ctr_md_lister l = {sizeof(struct ctr_lease), fill_rec, clear_rec, keys, fields, 2, "list leases"};
	return ctr_md_list(&l, db,
			   "SELECT ns, id, labels, created_at, expires_at FROM leases WHERE ns = ?1 "
			   "ORDER BY created_at, id",
			   ns, NULL, filters, n_filters, (void **)out, n, err);
}

int ctr_md_lease_delete(struct ctr_db *db, const char *ns, const char *id, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st, "DELETE FROM leases WHERE ns = ?1 AND id = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, id);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete lease");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = ctr_err(err, CTR_ENOTFOUND, 0, "lease %s not found", id);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

/* A lease past its expiry holds nothing: the next collection deletes it, so
 * adding to it would only hand the resource to the collector. */
static int lease_live_tx(struct ctr_db *db, const char *ns, const char *lease, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT expires_at FROM leases WHERE ns = ?1 AND id = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, lease);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get lease");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "lease %s not found", lease);
	if (r < 0)
		return r;
	if (sqlite3_column_type(st, 0) != SQLITE_NULL && sqlite3_column_int64(st, 0) <= ctr_db_now())
		return ctr_err(err, CTR_ENOTFOUND, 0, "lease %s has expired", lease);
	return 0;
}

int ctr_md_lease_add_resource_tx(struct ctr_db *db, const char *ns, const char *lease,
				 const char *type, const char *id, ctr_error **err)
{
	int r = ctr_md_resource_validate(type, id, err);
	if (r == 0)
		r = lease_live_tx(db, ns, lease, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT OR IGNORE INTO lease_resources(ns, lease, type, id) "
				   "VALUES (?1, ?2, ?3, ?4)",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 4, ns, lease, type, id);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "add lease resource");
	return r;
}

int ctr_md_lease_add_resource(struct ctr_db *db, const char *ns, const char *lease,
			      const char *type, const char *id, ctr_error **err)
{
	int r = ctr_md_resource_validate(type, id, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_lease_add_resource_tx(db, ns, lease, type, id, err);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

int ctr_md_lease_delete_resource(struct ctr_db *db, const char *ns, const char *lease,
				 const char *type, const char *id, ctr_error **err)
{
	int r = ctr_md_resource_validate(type, id, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = lease_exists(db, ns, lease, err);
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "lease %s not found", lease);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_prepare(db, &st,
			   "DELETE FROM lease_resources WHERE ns = ?1 AND lease = ?2 AND type = ?3 AND id = ?4",
			   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 4, ns, lease, type, id);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete lease resource");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = ctr_err(err, CTR_ENOTFOUND, 0, "lease %s does not hold %s %.140s", lease, type, id);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

int ctr_md_lease_resources(char ***types, char ***ids, struct ctr_db *db, const char *ns,
			   const char *lease, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, false, err);
	if (r == 0)
		r = lease_exists(db, ns, lease, err);
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "lease %s not found", lease);
	if (r < 0)
		return r;
	struct ctr_strv_buf bt = {0}, bi = {0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_prepare(db, &st,
			   "SELECT type, id FROM lease_resources WHERE ns = ?1 AND lease = ?2 "
			   "ORDER BY type, id",
			   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, lease);
	while (r == 0 && (r = ctr_db_step_row(db, st, err, "list lease resources")) == 1) {
		r = ctr_strv_buf_take(&bt, strdup((const char *)sqlite3_column_text(st, 0)), err);
		if (r == 0)
			r = ctr_strv_buf_take(&bi, strdup((const char *)sqlite3_column_text(st, 1)), err);
	}
	char **vt = NULL, **vi = NULL;
	if (r == 0 && (!(vt = ctr_strv_buf_steal(&bt, err)) || !(vi = ctr_strv_buf_steal(&bi, err))))
		r = CTR_ENOMEM;
	ctr_strv_buf_clear(&bt);
	ctr_strv_buf_clear(&bi);
	if (r < 0) {
		ctr_strv_free(vt);
		ctr_strv_free(vi);
		return r;
	}
	*types = vt;
	*ids = vi;
	return 0;
}

int ctr_md_call_lease_tx(struct ctr_db *db, const char *ns, const struct ctr_call *call,
			 const char *type, const char *id, ctr_error **err)
{
	if (!call || !call->lease)
		return 0;
	int r = ctr_md_lease_add_resource_tx(db, ns, call->lease, type, id, err);
	return r < 0 ? ctr_err_prefix(err, r, "with lease %s", call->lease) : 0;
}
