/* Per-namespace content records: which namespaces may see which blobs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "digest.h"
#include "macro.h"

void ctr_md_content_clear(struct ctr_md_content *c)
{
	if (!c)
		return;
	free(c->digest);
	ctr_strv_free(c->labels);
	memset(c, 0, sizeof(*c));
}

void ctr_md_content_list_free(struct ctr_md_content *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_md_content_clear(&v[i]);
	free(v);
}

static int check_digest(const char *digest, ctr_error **err)
{
	int r = ctr_digest_parse(digest, NULL, NULL, err);
	return r < 0 ? ctr_err_prefix(err, CTR_EINVAL, "content record") : 0;
}

#define CONTENT_COLS "digest, size, labels, created_at, updated_at"

static int content_from_row(struct ctr_md_content *out, sqlite3_stmt *st, ctr_error **err)
{
	struct ctr_md_content c = {0};
	int r = ctr_db_col_strdup(st, 0, &c.digest, err);
	if (r == 0)
		r = ctr_md_labels_from_json(&c.labels, (const char *)sqlite3_column_text(st, 2), err);
	if (r < 0) {
		ctr_md_content_clear(&c);
		return r;
	}
	c.size = (uint64_t)sqlite3_column_int64(st, 1);
	c.created_at = sqlite3_column_int64(st, 3);
	c.updated_at = sqlite3_column_int64(st, 4);
	*out = c;
	return 0;
}

int ctr_md_content_add_tx(struct ctr_db *db, const char *ns, const char *digest, uint64_t size,
			  const char *const *labels, const struct ctr_call *call, bool *created,
			  ctr_error **err)
{
	if (size > INT64_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "content %s: size %" PRIu64 " out of range", digest, size);
	int r = check_digest(digest, err);
	_cleanup_free_ char *json = NULL;
	if (r == 0)
		r = ctr_md_labels_to_json(&json, labels, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, ns, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int64_t now = ctr_db_now();
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT OR IGNORE INTO content(ns, digest, size, labels, created_at, updated_at) "
				   "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, digest);
	if (r == 0) {
		sqlite3_bind_int64(st, 3, (int64_t)size);
		sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		r = ctr_db_step_done(db, st, err, "add content record");
	}
	bool was_created = r == 0 && sqlite3_changes(db->h) > 0;
	if (r == 0)
		r = ctr_md_call_lease_tx(db, ns, call, "content", digest, err);
	if (r < 0)
		return r;
	if (created)
		*created = was_created;
	return 0;
}

int ctr_md_content_add(struct ctr_db *db, const char *ns, const char *digest, uint64_t size,
		       const char *const *labels, const struct ctr_call *call, bool *created,
		       ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	bool c = false;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_content_add_tx(db, ns, digest, size, labels, call, &c, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	if (r < 0)
		return r;
	if (created)
		*created = c;
	return 0;
}

static int get_row(struct ctr_md_content *out, struct ctr_db *db, const char *ns,
		   const char *digest, char **labels_json, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st,
			       "SELECT " CONTENT_COLS " FROM content WHERE ns = ?1 AND digest = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, digest);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get content record");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "content %s not found in namespace %s", digest, ns);
	if (r < 0)
		return r;
	if (labels_json) {
		r = ctr_db_col_strdup(st, 2, labels_json, err);
		if (r < 0)
			return r;
	}
	return out ? content_from_row(out, st, err) : 0;
}

int ctr_md_content_get(struct ctr_md_content *out, struct ctr_db *db, const char *ns,
		       const char *digest, ctr_error **err)
{
	int r = check_digest(digest, err);
	return r < 0 ? r : get_row(out, db, ns, digest, NULL, err);
}

int ctr_md_content_update_labels(struct ctr_md_content *out, struct ctr_db *db, const char *ns,
				 const char *digest, const char *const *updates, bool replace,
				 ctr_error **err)
{
	int r = check_digest(digest, err);
	if (r == 0)
		r = ctr_md_labels_validate(updates, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	_cleanup_free_ char *old = NULL, *json = NULL;
	if (r == 0)
		r = get_row(NULL, db, ns, digest, &old, err);
	if (r == 0)
		r = ctr_md_labels_merge(&json, old, updates, replace, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "UPDATE content SET labels = ?3, updated_at = ?4 WHERE ns = ?1 AND digest = ?2",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 3, ns, digest, json);
	if (r == 0) {
		sqlite3_bind_int64(st, 4, ctr_db_now());
		r = ctr_db_step_done(db, st, err, "update content labels");
	}
	struct ctr_md_content c = {0};
	if (r == 0 && out)
		r = get_row(&c, db, ns, digest, NULL, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	if (r < 0) {
		ctr_md_content_clear(&c);
		return r;
	}
	if (out)
		*out = c;
	return 0;
}

int ctr_md_content_delete(struct ctr_db *db, const char *ns, const char *digest, ctr_error **err)
{
	int r = check_digest(digest, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st, "DELETE FROM content WHERE ns = ?1 AND digest = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, digest);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete content record");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = ctr_err(err, CTR_ENOTFOUND, 0, "content %s not found in namespace %s", digest, ns);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

static int fill_rec(sqlite3_stmt *st, void *rec, ctr_error **err) { return content_from_row(rec, st, err); }
static void clear_rec(void *rec) { ctr_md_content_clear(rec); }
static void fields(const void *rec, const char **vals, char *scratch)
{
	const struct ctr_md_content *c = rec;
	snprintf(scratch, 64, "%llu", (unsigned long long)c->size);
	vals[0] = c->digest;
	vals[1] = scratch;
}

int ctr_md_content_list(struct ctr_md_content **out, size_t *n, struct ctr_db *db, const char *ns,
			const char *const *filters, size_t n_filters, ctr_error **err)
{
	static const char *const keys[] = {"digest", "size", NULL};
	struct ctr_md_lister l = {sizeof(struct ctr_md_content), fill_rec, clear_rec, keys, fields, 2, "list content"};
	return ctr_md_list(&l, db, "SELECT " CONTENT_COLS " FROM content WHERE ns = ?1 ORDER BY digest", ns, NULL,
			   filters, n_filters, (void **)out, n, err);
}

int ctr_md_content_referenced(struct ctr_db *db, const char *digest, bool *out, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT 1 FROM content WHERE digest = ?1 LIMIT 1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 1, digest);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "find content record");
	if (r < 0)
		return r;
	*out = r == 1;
	return 0;
}
