/* Writers of the snapshot and ingest records: the namespaced snapshot layer
 * (lib/snapshots.c) and the content API (lib/content.c) record through
 * these. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "macro.h"
#include "digest.h"

/* Runs one prepared upsert in its own write transaction. */
typedef int (*tx_fn)(struct ctr_db *db, void *ud, ctr_error **err);
static int in_tx(struct ctr_db *db, tx_fn fn, void *ud, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = fn(db, ud, err);
	if (r < 0)
		return r;
	return ctr_db_tx_commit(&tx, err);
}

int ctr_md_snapshot_put_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
			   const char *key, const char *parent, const char *kind,
			   const char *const *labels, const struct ctr_call *call, ctr_error **err)
{
	_cleanup_free_ char *type = NULL;
	if (asprintf(&type, "snapshots/%s", snapshotter ? snapshotter : "") < 0)
		return ctr_err_nomem(err);
	int r = ctr_md_resource_validate(type, key, err);
	if (r == 0 && (!kind || (strcmp(kind, "active") && strcmp(kind, "view") && strcmp(kind, "committed"))))
		r = ctr_err(err, CTR_EINVAL, 0, "snapshot %s: kind must be active, view or committed", key);
	_cleanup_free_ char *json = NULL;
	if (r == 0)
		r = ctr_md_labels_to_json(&json, labels, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, ns, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT INTO snapshots(ns, snapshotter, key, parent, kind, labels, created_at, "
				   "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
				   "ON CONFLICT(ns, snapshotter, key) DO UPDATE SET parent = ?4, kind = ?5, "
				   "labels = ?6, updated_at = ?7",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 6, ns, snapshotter, key, parent, kind, json);
	if (r == 0) {
		sqlite3_bind_int64(st, 7, ctr_db_now());
		r = ctr_db_step_done(db, st, err, "put snapshot");
	}
	if (r == 0)
		r = ctr_md_call_lease_tx(db, ns, call, type, key, err);
	return r;
}

struct snap_args {
	const char *ns, *snapshotter, *key, *parent, *kind;
	const char *const *labels;
	const struct ctr_call *call;
};

static int snap_tx(struct ctr_db *db, void *ud, ctr_error **err)
{
	struct snap_args *a = ud;
	return ctr_md_snapshot_put_tx(db, a->ns, a->snapshotter, a->key, a->parent, a->kind, a->labels,
				      a->call, err);
}

int ctr_md_snapshot_put(struct ctr_db *db, const char *ns, const char *snapshotter, const char *key,
			const char *parent, const char *kind, const char *const *labels,
			const struct ctr_call *call, ctr_error **err)
{
	struct snap_args a = {ns, snapshotter, key, parent, kind, labels, call};
	return in_tx(db, snap_tx, &a, err);
}

struct ingest_args {
	const char *ns, *ref;
	int64_t expires_at;
	const struct ctr_call *call;
};

static int ingest_tx(struct ctr_db *db, void *ud, ctr_error **err)
{
	struct ingest_args *a = ud;
	int r = ctr_md_resource_validate("ingests", a->ref, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, a->ns, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT INTO ingests(ns, ref, expires_at) VALUES (?1, ?2, ?3) "
				   "ON CONFLICT(ns, ref) DO UPDATE SET expires_at = ?3",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, a->ns, a->ref);
	if (r == 0) {
		if (a->expires_at)
			sqlite3_bind_int64(st, 3, a->expires_at);
		r = ctr_db_step_done(db, st, err, "put ingest");
	}
	if (r == 0)
		r = ctr_md_call_lease_tx(db, a->ns, a->call, "ingests", a->ref, err);
	return r;
}

int ctr_md_ingest_put(struct ctr_db *db, const char *ns, const char *ref, int64_t expires_at,
		      const struct ctr_call *call, ctr_error **err)
{
	struct ingest_args a = {ns, ref, expires_at, call};
	return in_tx(db, ingest_tx, &a, err);
}

static int ingest_delete_tx(struct ctr_db *db, void *ud, ctr_error **err)
{
	struct ingest_args *a = ud;
	static const char *const sql[] = {
		"DELETE FROM ingests WHERE ns = ?1 AND ref = ?2",
		"DELETE FROM lease_resources WHERE ns = ?1 AND type = 'ingests' AND id = ?2",
	};
	int r = 0;
	for (size_t i = 0; r == 0 && i < CTR_ARRAY_SIZE(sql); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, sql[i], err);
		if (r == 0)
			r = ctr_db_bind_texts(db, st, err, 2, a->ns, a->ref);
		if (r == 0)
			r = ctr_db_step_done(db, st, err, "delete ingest");
	}
	return r;
}

int ctr_md_ingest_delete(struct ctr_db *db, const char *ns, const char *ref, ctr_error **err)
{
	struct ingest_args a = {ns, ref, 0, NULL};
	return in_tx(db, ingest_delete_tx, &a, err);
}
