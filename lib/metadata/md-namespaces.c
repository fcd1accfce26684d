/* Namespace records. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "macro.h"

int ctr_md_ns_ensure_tx(struct ctr_db *db, const char *ns, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st,
			       "INSERT OR IGNORE INTO namespaces(name, labels, created_at) VALUES (?1, '{}', ?2)",
			       err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 1, ns);
	if (r == 0 && sqlite3_bind_int64(st, 2, ctr_db_now()) != SQLITE_OK)
		r = ctr_db_err(db, SQLITE_ERROR, err, "bind");
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "create namespace");
	return r;
}

int ctr_md_ns_create(struct ctr_db *db, const char *ns, const char *const *labels, ctr_error **err)
{
	_cleanup_free_ char *json = NULL;
	int r = ctr_md_labels_to_json(&json, labels, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	r = ctr_db_prepare(db, &q, "SELECT 1 FROM namespaces WHERE name = ?1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, q, err, 1, ns);
	if (r == 0)
		r = ctr_db_step_row(db, q, err, "get namespace");
	if (r == 1)
		return ctr_err(err, CTR_EEXISTS, 0, "namespace %s already exists", ns);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT INTO namespaces(name, labels, created_at) VALUES (?1, ?2, ?3)", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, json);
	if (r == 0 && sqlite3_bind_int64(st, 3, ctr_db_now()) != SQLITE_OK)
		r = ctr_db_err(db, SQLITE_ERROR, err, "bind");
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "create namespace");
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

int ctr_md_ns_list(char ***out, struct ctr_db *db, const char *const *filters, size_t n_filters,
		   ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	struct ctr_filter *f = NULL;
	int r = ctr_md_filter_parse(&f, filters, n_filters, err);
	if (r < 0)
		return r;
	struct ctr_strv_buf b = {0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_prepare(db, &st, "SELECT name, labels FROM namespaces ORDER BY name", err);
	while (r == 0 && (r = ctr_db_step_row(db, st, err, "list namespaces")) == 1) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		r = 0;
		if (!name)
			continue;
		if (f) {
			json_t *labels = ctr_md_labels_load((const char *)sqlite3_column_text(st, 1));
			const char *keys[] = {"name", NULL}, *vals[] = {name, NULL};
			struct ctr_md_filter_obj o = {keys, vals, labels};
			bool m = ctr_md_filter_match(f, &o);
			json_decref(labels);
			if (!m)
				continue;
		}
		r = ctr_strv_buf_take(&b, strdup(name), err);
	}
	ctr_md_filter_free(f);
	char **v = r == 0 ? ctr_strv_buf_steal(&b, err) : NULL;
	ctr_strv_buf_clear(&b);
	if (r < 0)
		return r;
	if (!v)
		return CTR_ENOMEM;
	*out = v;
	return 0;
}

static int get_labels_json(char **out, struct ctr_db *db, const char *ns, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db); /* also called outside a transaction */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT labels FROM namespaces WHERE name = ?1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 1, ns);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get namespace");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "namespace %s not found", ns);
	if (r < 0)
		return r;
	return ctr_db_col_strdup(st, 0, out, err);
}

int ctr_md_ns_labels(char ***out, struct ctr_db *db, const char *ns, ctr_error **err)
{
	_cleanup_free_ char *json = NULL;
	int r = get_labels_json(&json, db, ns, err);
	if (r < 0)
		return r;
	return ctr_md_labels_from_json(out, json, err);
}

int ctr_md_ns_label(char **value, struct ctr_db *db, const char *ns, const char *key, ctr_error **err)
{
	_cleanup_free_ char *json = NULL;
	int r = get_labels_json(&json, db, ns, err);
	if (r == CTR_ENOTFOUND) { /* no namespace has no labels, as containerd's */
		ctr_err_drop(err);
		*value = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	json_t *o = ctr_md_labels_load(json);
	const char *v = json_string_value(json_object_get(o, key));
	bool have = v && *v; /* v lives in o: read it before o goes */
	char *c = have ? strdup(v) : NULL;
	json_decref(o);
	if (have && !c)
		return ctr_err_nomem(err);
	*value = c;
	return 0;
}

int ctr_md_ns_set_labels(struct ctr_db *db, const char *ns, const char *const *updates,
			 ctr_error **err)
{
	int r = ctr_md_labels_validate(updates, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, ns, err);
	_cleanup_free_ char *old = NULL, *json = NULL;
	if (r == 0)
		r = get_labels_json(&old, db, ns, err);
	if (r == 0)
		r = ctr_md_labels_merge(&json, old, updates, false, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st, "UPDATE namespaces SET labels = ?2 WHERE name = ?1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, json);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "set namespace labels");
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

int ctr_md_ns_delete(struct ctr_db *db, const char *ns, ctr_error **err)
{
	static const struct {
		const char *what;
		const char *sql;
	} checks[] = {
		{"images", "SELECT count(*) FROM images WHERE ns = ?1"},
		{"containers", "SELECT count(*) FROM containers WHERE ns = ?1"},
		{"content", "SELECT count(*) FROM content WHERE ns = ?1"},
		{"ingests", "SELECT count(*) FROM ingests WHERE ns = ?1"},
		{"leases", "SELECT count(*) FROM leases WHERE ns = ?1"},
		{"snapshots", "SELECT count(*) FROM snapshots WHERE ns = ?1"},
	};
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r < 0)
		return r;
	char left[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(checks); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, checks[i].sql, err);
		if (r == 0)
			r = ctr_db_bind_texts(db, st, err, 1, ns);
		if (r == 0)
			r = ctr_db_step_row(db, st, err, "count namespace records");
		if (r < 0)
			return r;
		int64_t n = r ? sqlite3_column_int64(st, 0) : 0;
		if (n > 0) {
			int w = snprintf(left + used, sizeof(left) - used, "%s%lld %s", used ? ", " : "",
					 (long long)n, checks[i].what);
			if (w > 0 && (size_t)w < sizeof(left) - used)
				used += (size_t)w;
		}
	}
	if (used)
		return ctr_err(err, CTR_EPRECONDITION, 0, "namespace %s must be empty, but it still has %s",
			       ns, left);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_prepare(db, &st, "DELETE FROM namespaces WHERE name = ?1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 1, ns);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete namespace");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = ctr_err(err, CTR_ENOTFOUND, 0, "namespace %s not found", ns);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}
