/* Namespaced snapshot records: which keys a namespace owns in each
 * snapshotter, their parents, kinds and labels (containerd's metadata
 * snapshotter). The snapshotter itself stores "<ns>/<key>". */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "macro.h"

void ctr_md_snapshot_clear(struct ctr_md_snapshot *s)
{
	if (!s)
		return;
	free(s->key);
	free(s->parent);
	free(s->kind);
	ctr_strv_free(s->labels);
	memset(s, 0, sizeof(*s));
}

void ctr_md_snapshot_list_free(struct ctr_md_snapshot *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_md_snapshot_clear(&v[i]);
	free(v);
}

static int fill(sqlite3_stmt *st, struct ctr_md_snapshot *out, ctr_error **err)
{
	struct ctr_md_snapshot s = {0};
	int r = ctr_db_col_strdup(st, 0, &s.key, err);
	if (r == 0)
		r = ctr_db_col_strdup(st, 1, &s.parent, err);
	if (r == 0)
		r = ctr_db_col_strdup(st, 2, &s.kind, err);
	if (r == 0)
		r = ctr_md_labels_from_json(&s.labels, (const char *)sqlite3_column_text(st, 3), err);
	s.created_at = sqlite3_column_int64(st, 4);
	s.updated_at = sqlite3_column_int64(st, 5);
	if (r < 0) {
		ctr_md_snapshot_clear(&s);
		return r;
	}
	*out = s;
	return 0;
}

#define SNAP_COLS "key, parent, kind, labels, created_at, updated_at"

int ctr_md_snapshot_get_tx(struct ctr_md_snapshot *out, struct ctr_db *db, const char *ns,
			   const char *snapshotter, const char *key, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT " SNAP_COLS " FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 AND key = ?3", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 3, ns, snapshotter, key);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get snapshot");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s/%s: not found", snapshotter, key);
	if (r < 0)
		return r;
	return out ? fill(st, out, err) : 0;
}

int ctr_md_snapshot_get(struct ctr_md_snapshot *out, struct ctr_db *db, const char *ns,
			const char *snapshotter, const char *key, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, false, err);
	if (r == 0)
		r = ctr_md_snapshot_get_tx(out, db, ns, snapshotter, key, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	return r;
}

static void clear_rec(void *rec) { ctr_md_snapshot_clear(rec); }
static int fill_rec(sqlite3_stmt *st, void *rec, ctr_error **err) { return fill(st, rec, err); }
static void fields(const void *rec, const char **vals, char *scratch)
{
	(void)scratch;
	const struct ctr_md_snapshot *s = rec;
	vals[0] = s->key;
	vals[1] = s->key;
	vals[2] = s->parent;
	vals[3] = s->kind;
}

int ctr_md_snapshot_list(struct ctr_md_snapshot **out, size_t *n_out, struct ctr_db *db,
			 const char *ns, const char *snapshotter, const char *const *filters,
			 size_t n_filters, ctr_error **err)
{
	static const char *const keys[] = {"name", "key", "parent", "kind", NULL};
	struct ctr_md_lister l = {sizeof(struct ctr_md_snapshot), fill_rec, clear_rec, keys, fields, 3,
				  "list snapshots"};
	return ctr_md_list(&l, db, "SELECT " SNAP_COLS " FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 ORDER BY key",
			   ns, snapshotter, filters, n_filters, (void **)out, n_out, err);
}

int ctr_md_snapshot_delete_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
			      const char *key, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *c = NULL, *d = NULL;
	int r = ctr_db_prepare(db, &c, "SELECT key FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 AND parent = ?3 LIMIT 1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, c, err, 3, ns, snapshotter, key);
	if (r == 0)
		r = ctr_db_step_row(db, c, err, "snapshot children");
	if (r == 1)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: cannot remove, %s depends on it", key,
			       (const char *)sqlite3_column_text(c, 0));
	if (r < 0)
		return r;
	r = ctr_db_prepare(db, &d, "DELETE FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 AND key = ?3", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, d, err, 3, ns, snapshotter, key);
	if (r == 0)
		r = ctr_db_step_done(db, d, err, "delete snapshot");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s/%s: not found", snapshotter, key);
	if (r == 0) {
		/* Leases holding the key no longer hold anything. */
		_cleanup_stmt_ sqlite3_stmt *l = NULL;
		_cleanup_free_ char *type = NULL;
		if (asprintf(&type, "snapshots/%s", snapshotter) < 0)
			return ctr_err_nomem(err);
		r = ctr_db_prepare(db, &l, "DELETE FROM lease_resources WHERE ns = ?1 AND type = ?2 AND id = ?3", err);
		if (r == 0)
			r = ctr_db_bind_texts(db, l, err, 3, ns, type, key);
		if (r == 0)
			r = ctr_db_step_done(db, l, err, "release snapshot");
	}
	return r;
}

int ctr_md_snapshot_update_labels_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
				     const char *key, const char *const *updates, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *g = NULL, *u = NULL;
	int r = ctr_db_prepare(db, &g, "SELECT labels FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 AND key = ?3", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, g, err, 3, ns, snapshotter, key);
	if (r == 0)
		r = ctr_db_step_row(db, g, err, "get snapshot labels");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s/%s: not found", snapshotter, key);
	if (r < 0)
		return r;
	_cleanup_free_ char *json = NULL;
	r = ctr_md_labels_merge(&json, (const char *)sqlite3_column_text(g, 0), updates, false, err);
	if (r == 0)
		r = ctr_db_prepare(db, &u, "UPDATE snapshots SET labels = ?4, updated_at = ?5 WHERE ns = ?1 AND snapshotter = ?2 AND key = ?3", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, u, err, 4, ns, snapshotter, key, json);
	if (r == 0) {
		sqlite3_bind_int64(u, 5, ctr_db_now());
		r = ctr_db_step_done(db, u, err, "update snapshot labels");
	}
	return r;
}

static bool in_list(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

/* What holds (ns, snapshotter, key) besides leases[n]: another lease or a
 * container record. CTR_EPRECONDITION naming it, 0 when nothing. */
static int held_elsewhere_tx(struct ctr_db *db, const char *ns, const char *snapshotter, const char *key,
			     const char *const *leases, size_t n, ctr_error **err)
{
	_cleanup_free_ char *type = NULL;
	if (asprintf(&type, "snapshots/%s", snapshotter) < 0)
		return ctr_err_nomem(err);
	_cleanup_stmt_ sqlite3_stmt *l = NULL, *k = NULL;
	int r = ctr_db_prepare(db, &l, "SELECT lease FROM lease_resources WHERE ns = ?1 AND type = ?2 AND id = ?3", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, l, err, 3, ns, type, key);
	while (r == 0 && (r = ctr_db_step_row(db, l, err, "snapshot leases")) == 1) {
		const char *id = (const char *)sqlite3_column_text(l, 0);
		if (!in_list(id, leases, n))
			return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: held by lease %s", key, id);
		r = 0;
	}
	if (r < 0)
		return r;
	r = ctr_db_prepare(db, &k, "SELECT id FROM containers WHERE ns = ?1 AND snapshotter = ?2 AND snapshot_key = ?3 LIMIT 1", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, k, err, 3, ns, snapshotter, key);
	if (r == 0)
		r = ctr_db_step_row(db, k, err, "snapshot containers");
	if (r == 1)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: container %s uses it", key,
			       (const char *)sqlite3_column_text(k, 0));
	return r;
}

int ctr_md_snapshot_reclaim(bool *had_record, struct ctr_db *db, const char *ns, const char *snapshotter,
			    const char *key, const char *const *leases, size_t n, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT 1 FROM leases WHERE ns = ?1 AND id = ?2", err);
		if (r == 0)
			r = ctr_db_bind_texts(db, st, err, 2, ns, leases[i]);
		if (r == 0)
			r = ctr_db_step_row(db, st, err, "get lease");
		if (r == 0) /* another process reclaimed it first */
			r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: lease %s is gone", key, leases[i]);
		else if (r == 1)
			r = 0;
	}
	if (r == 0)
		r = held_elsewhere_tx(db, ns, snapshotter, key, leases, n, err);
	struct ctr_md_snapshot s = {0};
	bool had = false;
	if (r == 0) {
		r = ctr_md_snapshot_get_tx(&s, db, ns, snapshotter, key, NULL);
		had = r == 0;
		if (r == CTR_ENOTFOUND)
			r = 0;
	}
	if (r == 0 && had && !strcmp(s.kind, "committed"))
		r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: committed", key);
	for (size_t i = 0; r == 0 && had && s.labels && s.labels[i]; i++)
		if (!strncmp(s.labels[i], CTR_LABEL_GC_ROOT "=", strlen(CTR_LABEL_GC_ROOT) + 1))
			r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: labelled %s", key, CTR_LABEL_GC_ROOT);
	ctr_md_snapshot_clear(&s);
	if (r == 0 && had)
		r = ctr_md_snapshot_delete_tx(db, ns, snapshotter, key, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "DELETE FROM leases WHERE ns = ?1 AND id = ?2", err);
		if (r == 0)
			r = ctr_db_bind_texts(db, st, err, 2, ns, leases[i]);
		if (r == 0)
			r = ctr_db_step_done(db, st, err, "delete lease");
	}
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	if (r == 0 && had_record)
		*had_record = had;
	return r;
}
