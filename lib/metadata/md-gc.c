/* The garbage collector: mark and sweep over every namespace in one write
 * transaction, with containerd's roots and references (metadata/gc.go):
 *
 * roots       images        -> their target content, and their labels' refs
 *             containers    -> their snapshot, and their labels' refs
 *             leases that have not expired -> every resource they hold
 *               (with label containerd.io/gc.flat only those, without
 *               following their references)
 *             content and snapshots labelled containerd.io/gc.root
 *             ingests whose expiry lies ahead
 * references  content, snapshot: labels
 *               containerd.io/gc.ref.content[.<name>] = <digest>
 *               containerd.io/gc.ref.snapshot.<snapshotter>[/<name>] = <key>
 *               (always within the same namespace)
 *             snapshot -> its parent
 *
 * Unmarked content, snapshot and ingest records and expired leases are
 * deleted. Bytes go only after the commit, through the sweeper, and a blob
 * only once no namespace records it: those whose records this run removed,
 * and any other blob on disk without a record (its last record deleted
 * directly, or a crash between the blob's rename and its record). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "json.h"
#include "macro.h"

enum { N_CONTENT = 0, N_SNAPSHOT = 1, N_INGEST = 2 };

struct node {
	int kind;
	char *ns, *a, *b; /* content: digest; snapshot: snapshotter, key; ingest: ref */
};

struct gc {
	struct ctr_db *db;
	sqlite3_stmt *mark;
	struct node *q;
	size_t nq, capq, head;
	int64_t now;
};

static void node_clear(struct node *n)
{
	free(n->ns);
	free(n->a);
	free(n->b);
}

/* Marks a node; a newly marked one is queued for its references when
 * `follow`. */
static int mark(struct gc *g, int kind, const char *ns, const char *a, const char *b, bool follow,
		ctr_error **err)
{
	if (!a || !*a)
		return 0;
	sqlite3_stmt *st = g->mark;
	sqlite3_reset(st);
	sqlite3_bind_int(st, 1, kind);
	if (sqlite3_bind_text(st, 2, ns, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, a, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, b ? b : "", -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return ctr_db_err(g->db, SQLITE_NOMEM, err, "gc mark");
	int r = ctr_db_step_done(g->db, st, err, "gc mark");
	if (r < 0 || !follow || sqlite3_changes(g->db->h) == 0)
		return r;
	if (g->nq == g->capq) {
		size_t nc = g->capq ? g->capq * 2 : 64;
		struct node *nv = realloc(g->q, nc * sizeof(*nv));
		if (!nv)
			return ctr_err_nomem(err);
		g->q = nv;
		g->capq = nc;
	}
	struct node *n = &g->q[g->nq];
	n->kind = kind;
	n->ns = strdup(ns);
	n->a = strdup(a);
	n->b = strdup(b ? b : "");
	if (!n->ns || !n->a || !n->b) {
		node_clear(n);
		return ctr_err_nomem(err);
	}
	g->nq++;
	return 0;
}

/* Follows the gc.ref labels of one object. */
static int label_refs(struct gc *g, const char *ns, const char *labels_json, ctr_error **err)
{
	json_t *labels = ctr_md_labels_load(labels_json);
	if (!labels)
		return ctr_err_nomem(err);
	const size_t clen = strlen(CTR_LABEL_GC_REF_CONTENT), slen = strlen(CTR_LABEL_GC_REF_SNAPSHOT);
	const char *k;
	json_t *v;
	int r = 0;
	json_object_foreach(labels, k, v) {
		if (r < 0)
			break;
		const char *val = json_string_value(v);
		if (!val)
			continue;
		if (!strncmp(k, CTR_LABEL_GC_REF_CONTENT, clen) && (k[clen] == 0 || k[clen] == '.')) {
			r = mark(g, N_CONTENT, ns, val, NULL, true, err);
		} else if (!strncmp(k, CTR_LABEL_GC_REF_SNAPSHOT, slen) && k[slen]) {
			const char *ss = k + slen, *slash = strchr(ss, '/');
			_cleanup_free_ char *snapshotter = strndup(ss, slash ? (size_t)(slash - ss) : strlen(ss));
			if (!snapshotter)
				r = ctr_err_nomem(err);
			else if (*snapshotter)
				r = mark(g, N_SNAPSHOT, ns, snapshotter, val, true, err);
		}
	}
	json_decref(labels);
	return r;
}

static bool has_label(const char *labels_json, const char *key)
{
	json_t *labels = ctr_md_labels_load(labels_json);
	bool has = labels && json_object_get(labels, key) != NULL;
	json_decref(labels);
	return has;
}

#define COL(st, i) ((const char *)sqlite3_column_text((st), (i)))

static int scan_roots(struct gc *g, struct ctr_strv_buf *expired, ctr_error **err)
{
	struct ctr_db *db = g->db;
	int r;
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, target_digest, labels FROM images", err);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan images")) == 1) {
			r = mark(g, N_CONTENT, COL(st, 0), COL(st, 1), NULL, true, err);
			if (r == 0)
				r = label_refs(g, COL(st, 0), COL(st, 2), err);
		}
		if (r < 0)
			return r;
	}
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, snapshotter, snapshot_key, labels FROM containers", err);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan containers")) == 1) {
			r = 0;
			if (COL(st, 1) && *COL(st, 1))
				r = mark(g, N_SNAPSHOT, COL(st, 0), COL(st, 1), COL(st, 2), true, err);
			if (r == 0)
				r = label_refs(g, COL(st, 0), COL(st, 3), err);
		}
		if (r < 0)
			return r;
	}
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL, *res = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, id, labels, expires_at FROM leases ORDER BY ns, id", err);
		if (r == 0)
			r = ctr_db_prepare(db, &res,
					   "SELECT type, id FROM lease_resources WHERE ns = ?1 AND lease = ?2", err);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan leases")) == 1) {
			r = 0;
			const char *ns = COL(st, 0), *id = COL(st, 1);
			if (sqlite3_column_type(st, 3) != SQLITE_NULL && sqlite3_column_int64(st, 3) <= g->now) {
				r = ctr_strv_buf_addf(expired, err, "%s/%s", ns, id);
				continue;
			}
			bool flat = has_label(COL(st, 2), CTR_LABEL_GC_FLAT);
			sqlite3_reset(res);
			r = ctr_db_bind_texts(db, res, err, 2, ns, id);
			while (r == 0 && (r = ctr_db_step_row(db, res, err, "gc scan lease resources")) == 1) {
				const char *type = COL(res, 0), *rid = COL(res, 1);
				r = 0;
				if (!strcmp(type, "content"))
					r = mark(g, N_CONTENT, ns, rid, NULL, !flat, err);
				else if (!strcmp(type, "ingests"))
					r = mark(g, N_INGEST, ns, rid, NULL, false, err);
				else if (!strncmp(type, "snapshots/", 10))
					r = mark(g, N_SNAPSHOT, ns, type + 10, rid, !flat, err);
			}
		}
		if (r < 0)
			return r;
	}
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, digest, labels FROM content", err);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan content")) == 1) {
			r = 0;
			if (has_label(COL(st, 2), CTR_LABEL_GC_ROOT))
				r = mark(g, N_CONTENT, COL(st, 0), COL(st, 1), NULL, true, err);
		}
		if (r < 0)
			return r;
	}
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, snapshotter, key, labels FROM snapshots", err);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan snapshots")) == 1) {
			r = 0;
			if (has_label(COL(st, 3), CTR_LABEL_GC_ROOT))
				r = mark(g, N_SNAPSHOT, COL(st, 0), COL(st, 1), COL(st, 2), true, err);
		}
		if (r < 0)
			return r;
	}
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = ctr_db_prepare(db, &st, "SELECT ns, ref FROM ingests WHERE expires_at > ?1", err);
		if (r == 0)
			sqlite3_bind_int64(st, 1, g->now);
		while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc scan ingests")) == 1)
			r = mark(g, N_INGEST, COL(st, 0), COL(st, 1), NULL, false, err);
	}
	return r;
}

/* Follows references from every queued node until the queue drains. */
static int mark_refs(struct gc *g, ctr_error **err)
{
	struct ctr_db *db = g->db;
	_cleanup_stmt_ sqlite3_stmt *cst = NULL, *sst = NULL;
	int r = ctr_db_prepare(db, &cst, "SELECT labels FROM content WHERE ns = ?1 AND digest = ?2", err);
	if (r == 0)
		r = ctr_db_prepare(db, &sst,
				   "SELECT parent, labels FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 "
				   "AND key = ?3",
				   err);
	while (r == 0 && g->head < g->nq) {
		/* Copy: mark() may move the queue. */
		struct node n = g->q[g->head++];
		if (n.kind == N_CONTENT) {
			sqlite3_reset(cst);
			r = ctr_db_bind_texts(db, cst, err, 2, n.ns, n.a);
			if (r == 0)
				r = ctr_db_step_row(db, cst, err, "gc read content");
			if (r == 1)
				r = label_refs(g, n.ns, COL(cst, 0), err);
		} else if (n.kind == N_SNAPSHOT) {
			sqlite3_reset(sst);
			r = ctr_db_bind_texts(db, sst, err, 3, n.ns, n.a, n.b);
			if (r == 0)
				r = ctr_db_step_row(db, sst, err, "gc read snapshot");
			if (r == 1) {
				_cleanup_free_ char *parent = NULL, *labels = NULL;
				r = ctr_db_col_strdup(sst, 0, &parent, err);
				if (r == 0)
					r = ctr_db_col_strdup(sst, 1, &labels, err);
				sqlite3_reset(sst);
				if (r == 0 && parent)
					r = mark(g, N_SNAPSHOT, n.ns, n.a, parent, true, err);
				if (r == 0)
					r = label_refs(g, n.ns, labels, err);
			}
		}
		if (r > 0)
			r = 0;
	}
	return r;
}

struct snap {
	char *ns, *snapshotter, *key, *parent;
	bool done;
};

/* Deletes unmarked records of one kind, collecting what went. */
static int sweep_content(struct gc *g, struct ctr_strv_buf *removed, struct ctr_strv_buf *blobs,
			 ctr_error **err)
{
	struct ctr_db *db = g->db;
	struct ctr_strv_buf gone = {0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *del = NULL;
	int r = ctr_db_prepare(db, &st,
			       "SELECT ns, digest FROM content c WHERE NOT EXISTS (SELECT 1 FROM temp.gc_mark m "
			       "WHERE m.kind = 0 AND m.ns = c.ns AND m.a = c.digest) ORDER BY ns, digest",
			       err);
	if (r == 0)
		r = ctr_db_prepare(db, &del, "DELETE FROM content WHERE ns = ?1 AND digest = ?2", err);
	while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc sweep content")) == 1) {
		r = ctr_strv_buf_addf(removed, err, "content %s/%s", COL(st, 0), COL(st, 1));
		if (r == 0)
			r = ctr_strv_buf_take(&gone, strdup(COL(st, 1)), err);
	}
	sqlite3_reset(st);
	/* Delete after the scan: deleting rows under a running SELECT is
	 * allowed in SQLite but makes the scan's order harder to reason about. */
	for (size_t i = 0; r == 0 && i < removed->n; i++) {
		const char *e = removed->v[i];
		if (strncmp(e, "content ", 8))
			continue;
		const char *slash = strchr(e + 8, '/');
		_cleanup_free_ char *ns = strndup(e + 8, (size_t)(slash - (e + 8)));
		if (!ns) {
			r = ctr_err_nomem(err);
			break;
		}
		sqlite3_reset(del);
		r = ctr_db_bind_texts(db, del, err, 2, ns, slash + 1);
		if (r == 0)
			r = ctr_db_step_done(db, del, err, "gc delete content");
	}
	/* A blob goes only when no namespace records it any more. */
	for (size_t i = 0; r == 0 && i < gone.n; i++) {
		bool dup = false, ref = false;
		for (size_t j = 0; j < blobs->n && !dup; j++)
			dup = !strcmp(blobs->v[j], gone.v[i]);
		if (dup)
			continue;
		r = ctr_md_content_referenced(db, gone.v[i], &ref, err);
		if (r == 0 && !ref)
			r = ctr_strv_buf_take(blobs, strdup(gone.v[i]), err);
	}
	ctr_strv_buf_clear(&gone);
	return r;
}

static int sweep_ingests(struct gc *g, struct ctr_strv_buf *removed, struct ctr_strv_buf *gone,
			 ctr_error **err)
{
	struct ctr_db *db = g->db;
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *del = NULL;
	int r = ctr_db_prepare(db, &st,
			       "SELECT ns, ref FROM ingests i WHERE NOT EXISTS (SELECT 1 FROM temp.gc_mark m "
			       "WHERE m.kind = 2 AND m.ns = i.ns AND m.a = i.ref) ORDER BY ns, ref",
			       err);
	struct ctr_strv_buf ns = {0}, refs = {0};
	while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc sweep ingests")) == 1) {
		r = ctr_strv_buf_take(&ns, strdup(COL(st, 0)), err);
		if (r == 0)
			r = ctr_strv_buf_take(&refs, strdup(COL(st, 1)), err);
		if (r == 0)
			r = ctr_strv_buf_addf(removed, err, "ingest %s/%s", COL(st, 0), COL(st, 1));
	}
	if (r == 0)
		r = ctr_db_prepare(db, &del, "DELETE FROM ingests WHERE ns = ?1 AND ref = ?2", err);
	for (size_t i = 0; r == 0 && i < ns.n; i++) {
		sqlite3_reset(del);
		r = ctr_db_bind_texts(db, del, err, 2, ns.v[i], refs.v[i]);
		if (r == 0)
			r = ctr_db_step_done(db, del, err, "gc delete ingest");
	}
	/* The store keeps each namespace's ingest under "<ns>/<ref>" (see
	 * lib/records/content-ns.c), so every removed record names one store ingest. */
	for (size_t i = 0; r == 0 && i < refs.n; i++)
		r = ctr_strv_buf_addf(gone, err, "%s/%s", ns.v[i], refs.v[i]);

	ctr_strv_buf_clear(&ns);
	ctr_strv_buf_clear(&refs);
	return r;
}

static void snaps_free(struct snap *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].ns);
		free(v[i].snapshotter);
		free(v[i].key);
		free(v[i].parent);
	}
	free(v);
}

/* Unmarked snapshots, ordered children before parents so a snapshotter
 * never sees a parent removed under a child. */
static int sweep_snapshots(struct gc *g, struct ctr_strv_buf *removed, struct snap **out,
			   size_t *n_out, ctr_error **err)
{
	struct ctr_db *db = g->db;
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *del = NULL;
	struct snap *v = NULL, *sorted = NULL;
	size_t n = 0, cap = 0;
	int r = ctr_db_prepare(db, &st,
			       "SELECT ns, snapshotter, key, parent FROM snapshots s WHERE NOT EXISTS "
			       "(SELECT 1 FROM temp.gc_mark m WHERE m.kind = 1 AND m.ns = s.ns AND "
			       "m.a = s.snapshotter AND m.b = s.key) ORDER BY ns, snapshotter, key",
			       err);
	while (r == 0 && (r = ctr_db_step_row(db, st, err, "gc sweep snapshots")) == 1) {
		r = 0;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct snap *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				r = ctr_err_nomem(err);
				break;
			}
			v = nv;
			cap = nc;
		}
		struct snap *s = &v[n++];
		memset(s, 0, sizeof(*s));
		if (ctr_db_col_strdup(st, 0, &s->ns, err) < 0 || ctr_db_col_strdup(st, 1, &s->snapshotter, err) < 0 ||
		    ctr_db_col_strdup(st, 2, &s->key, err) < 0 || ctr_db_col_strdup(st, 3, &s->parent, err) < 0)
			r = CTR_ENOMEM;
	}
	if (r == 0 && n && !(sorted = calloc(n, sizeof(*sorted))))
		r = ctr_err_nomem(err);
	/* Repeatedly take the snapshots that no remaining one names as parent. */
	size_t ns = 0;
	while (r == 0 && ns < n) {
		size_t before = ns;
		for (size_t i = 0; i < n; i++) {
			if (v[i].done)
				continue;
			bool is_parent = false;
			for (size_t j = 0; j < n && !is_parent; j++)
				is_parent = j != i && !v[j].done && v[j].parent &&
					    !strcmp(v[j].parent, v[i].key) && !strcmp(v[j].ns, v[i].ns) &&
					    !strcmp(v[j].snapshotter, v[i].snapshotter);
			if (!is_parent)
				v[i].done = true, sorted[ns++] = v[i];
		}
		if (ns == before) /* a cycle in the records: take the rest as they are */
			for (size_t i = 0; i < n; i++)
				if (!v[i].done)
					v[i].done = true, sorted[ns++] = v[i];
	}
	if (r == 0)
		r = ctr_db_prepare(db, &del, "DELETE FROM snapshots WHERE ns = ?1 AND snapshotter = ?2 AND key = ?3",
				   err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		sqlite3_reset(del);
		r = ctr_db_bind_texts(db, del, err, 3, sorted[i].ns, sorted[i].snapshotter, sorted[i].key);
		if (r == 0)
			r = ctr_db_step_done(db, del, err, "gc delete snapshot");
		if (r == 0)
			r = ctr_strv_buf_addf(removed, err, "snapshot %s/%s/%s", sorted[i].ns,
					      sorted[i].snapshotter, sorted[i].key);
	}
	if (r < 0 || !sorted) {
		if (sorted) {
			free(v);
			snaps_free(sorted, n);
		} else {
			snaps_free(v, n);
		}
		return r;
	}
	free(v);
	*out = sorted;
	*n_out = n;
	return 0;
}

static int delete_expired(struct gc *g, struct ctr_strv_buf *expired, struct ctr_strv_buf *removed,
			  ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *del = NULL;
	int r = ctr_db_prepare(g->db, &del, "DELETE FROM leases WHERE ns = ?1 AND id = ?2", err);
	for (size_t i = 0; r == 0 && i < expired->n; i++) {
		const char *e = expired->v[i], *slash = strchr(e, '/');
		_cleanup_free_ char *ns = strndup(e, (size_t)(slash - e));
		if (!ns)
			return ctr_err_nomem(err);
		sqlite3_reset(del);
		r = ctr_db_bind_texts(g->db, del, err, 2, ns, slash + 1);
		if (r == 0)
			r = ctr_db_step_done(g->db, del, err, "gc delete lease");
		if (r == 0)
			r = ctr_strv_buf_addf(removed, err, "lease %s", e);
	}
	return r;
}

static int collect_blob(const char *digest, void *ud)
{
	return ctr_strv_buf_take(ud, strdup(digest), NULL);
}

int ctr_md_gc(char ***removed_out, struct ctr_db *db, const struct ctr_gc_sweeper *sweeper,
	      ctr_error **err)
{
	struct gc g = {.db = db, .now = ctr_db_now()};
	struct ctr_strv_buf removed = {0}, expired = {0}, blobs = {0}, ingests = {0};
	struct snap *snaps = NULL;
	size_t n_snaps = 0;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_db_exec(db,
				"CREATE TEMP TABLE gc_mark (kind INTEGER NOT NULL, ns TEXT NOT NULL, "
				"a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (kind, ns, a, b))",
				err);
	if (r == 0)
		r = ctr_db_prepare(db, &g.mark,
				   "INSERT OR IGNORE INTO temp.gc_mark(kind, ns, a, b) VALUES (?1, ?2, ?3, ?4)",
				   err);
	if (r == 0)
		r = scan_roots(&g, &expired, err);
	if (r == 0)
		r = mark_refs(&g, err);
	if (r == 0)
		r = delete_expired(&g, &expired, &removed, err);
	if (r == 0)
		r = sweep_content(&g, &removed, &blobs, err);
	if (r == 0)
		r = sweep_ingests(&g, &removed, &ingests, err);
	if (r == 0)
		r = sweep_snapshots(&g, &removed, &snaps, &n_snaps, err);
	if (g.mark)
		sqlite3_finalize(g.mark);
	for (size_t i = 0; i < g.nq; i++)
		node_clear(&g.q[i]);
	free(g.q);
	if (r == 0)
		r = ctr_db_exec(db, "DROP TABLE temp.gc_mark", err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	ctr_strv_buf_clear(&expired);
	if (r < 0) {
		/* The rollback also drops the temp table. */
		ctr_strv_buf_clear(&removed);
		ctr_strv_buf_clear(&blobs);
		ctr_strv_buf_clear(&ingests);
		snaps_free(snaps, n_snaps);
		return ctr_err_prefix(err, r, "gc");
	}

	/* Committed: now the bytes. Failures leave orphans a later run of the
	 * store's own sweep can find; report the first. */
	int first = 0;
	ctr_error *first_err = NULL;
	for (size_t i = 0; sweeper && sweeper->remove_snapshot && i < n_snaps; i++) {
		ctr_error *e = NULL;
		int q = sweeper->remove_snapshot(sweeper->ud, snaps[i].ns, snaps[i].snapshotter,
						 snaps[i].key, &e);
		if (q < 0 && q != CTR_ENOTFOUND && !first) {
			first = q;
			first_err = TAKE_PTR(e);
		}
		ctr_error_free(e);
	}
	/* An ingest somebody is still writing (CTR_EBUSY) stays on disk. */
	for (size_t i = 0; sweeper && sweeper->remove_ingest && i < ingests.n; i++) {
		ctr_error *e = NULL;
		int q = sweeper->remove_ingest(sweeper->ud, ingests.v[i], &e);
		if (q < 0 && q != CTR_ENOTFOUND && q != CTR_EBUSY && !first) {
			first = q;
			first_err = TAKE_PTR(e);
		}
		ctr_error_free(e);
	}
	ctr_strv_buf_clear(&ingests);
	for (size_t i = 0; sweeper && sweeper->remove_blob && i < blobs.n; i++) {
		ctr_error *e = NULL;
		int q = sweeper->remove_blob(sweeper->ud, blobs.v[i], &e);
		if (q == 0)
			q = ctr_strv_buf_addf(&removed, &e, "blob %s", blobs.v[i]);
		if (q < 0 && q != CTR_ENOTFOUND && !first) {
			first = q;
			first_err = TAKE_PTR(e);
		}
		ctr_error_free(e);
	}
	if (sweeper && sweeper->walk_blobs && sweeper->remove_blob) {
		struct ctr_strv_buf disk = {0};
		ctr_error *e = NULL;
		int q = sweeper->walk_blobs(sweeper->ud, collect_blob, &disk, &e);
		for (size_t i = 0; q == 0 && i < disk.n; i++) {
			bool ref = true;
			q = ctr_md_content_referenced(db, disk.v[i], &ref, &e);
			if (q == 0 && !ref) {
				q = sweeper->remove_blob(sweeper->ud, disk.v[i], &e);
				if (q == 0)
					q = ctr_strv_buf_addf(&removed, &e, "blob %s", disk.v[i]);
				else if (q == CTR_ENOTFOUND) {
					ctr_error_free(e);
					e = NULL;
					q = 0;
				}
			}
		}
		if (q < 0 && !first) {
			first = q;
			first_err = TAKE_PTR(e);
		}
		ctr_error_free(e);
		ctr_strv_buf_clear(&disk);
	}
	if (first) {
		if (err && !*err)
			*err = TAKE_PTR(first_err);
		ctr_error_free(first_err);
	}
	snaps_free(snaps, n_snaps);
	ctr_strv_buf_clear(&blobs);
	char **v = first ? NULL : ctr_strv_buf_steal(&removed, err);
	ctr_strv_buf_clear(&removed);
	if (first)
		return ctr_err_prefix(err, first, "gc: sweep");
	if (!v)
		return CTR_ENOMEM;
	if (removed_out)
		*removed_out = v;
	else
		ctr_strv_free(v);
	return 0;
}
