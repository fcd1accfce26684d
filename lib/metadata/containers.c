/* Container records (containerd's containers.Store), per namespace. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "ident.h"
#include "json.h"
#include "macro.h"

void ctr_md_container_clear(struct ctr_md_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->image);
	free(c->runtime);
	free(c->spec);
	free(c->snapshotter);
	free(c->snapshot_key);
	free(c->extensions);
	ctr_strv_free(c->labels);
	memset(c, 0, sizeof(*c));
}

void ctr_md_container_list_free(struct ctr_md_container *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_md_container_clear(&v[i]);
	free(v);
}

#define CTR_COLS "id, image, runtime_name, spec, snapshotter, snapshot_key, extensions, labels, created_at, updated_at"

static int fill(sqlite3_stmt *st, struct ctr_md_container *out, ctr_error **err)
{
	struct ctr_md_container c = {0};
	int r = 0;
	char **fields[] = {&c.id, &c.image, &c.runtime, &c.spec, &c.snapshotter, &c.snapshot_key, &c.extensions};
	for (int i = 0; r == 0 && i < 7; i++)
		r = ctr_db_col_strdup(st, i, fields[i], err);
	if (r == 0)
		r = ctr_md_labels_from_json(&c.labels, (const char *)sqlite3_column_text(st, 7), err);
	c.created_at = sqlite3_column_int64(st, 8);
	c.updated_at = sqlite3_column_int64(st, 9);
	if (r < 0) {
		ctr_md_container_clear(&c);
		return r;
	}
	*out = c;
	return 0;
}

int ctr_md_container_get_tx(struct ctr_md_container *out, struct ctr_db *db, const char *ns, const char *id,
			    ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT " CTR_COLS " FROM containers WHERE ns = ?1 AND id = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, id);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get container");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "container \"%s\": not found", id);
	if (r < 0)
		return r;
	return out ? fill(st, out, err) : 0;
}

int ctr_md_container_get(struct ctr_md_container *out, struct ctr_db *db, const char *ns, const char *id,
			 ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, false, err);
	if (r == 0)
		r = ctr_md_container_get_tx(out, db, ns, id, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	return r;
}

static void clear_rec(void *rec) { ctr_md_container_clear(rec); }
static int fill_rec(sqlite3_stmt *st, void *rec, ctr_error **err) { return fill(st, rec, err); }
static void fields(const void *rec, const char **vals, char *scratch)
{
	(void)scratch;
	const struct ctr_md_container *c = rec;
	vals[0] = c->id;
	vals[1] = c->image;
	vals[2] = c->runtime;
	vals[3] = c->snapshotter;
}

int ctr_md_container_list(struct ctr_md_container **out, size_t *n_out, struct ctr_db *db, const char *ns,
			  const char *const *filters, size_t n_filters, ctr_error **err)
{
	/* containerd's container filter fields: id, image, runtime, snapshotter, labels */
	static const char *const keys[] = {"id", "image", "runtime", "snapshotter", NULL};
	struct ctr_md_lister l = {sizeof(struct ctr_md_container), fill_rec, clear_rec, keys, fields, 7,
				  "list containers"};
	return ctr_md_list(&l, db, "SELECT " CTR_COLS " FROM containers WHERE ns = ?1 ORDER BY id", ns, NULL,
			   filters, n_filters, (void **)out, n_out, err);
}

int ctr_md_container_write_tx(struct ctr_db *db, const char *ns, const struct ctr_md_container *c, bool create,
			      ctr_error **err)
{
	int r = ctr_ident_validate(c->id, "container id", err);
	if (r < 0)
		return r;
	bool exists = ctr_md_container_get_tx(NULL, db, ns, c->id, NULL) == 0;
	if (create && exists)
		return ctr_err(err, CTR_EEXISTS, 0, "container \"%s\": already exists", c->id);
	if (!create && !exists)
		return ctr_err(err, CTR_ENOTFOUND, 0, "container \"%s\": not found", c->id);
	if (!c->runtime || !*c->runtime)
		return ctr_err(err, CTR_EINVAL, 0, "container \"%s\": runtime is required", c->id);
	if (!c->spec || !*c->spec)
		return ctr_err(err, CTR_EINVAL, 0, "container \"%s\": spec is required", c->id);
	if ((c->snapshotter && *c->snapshotter) != (c->snapshot_key && *c->snapshot_key))
		return ctr_err(err, CTR_EINVAL, 0, "container \"%s\": snapshotter and snapshot key go together", c->id);
	_cleanup_free_ char *json = NULL;
	if ((r = ctr_md_labels_to_json(&json, (const char *const *)c->labels, err)) < 0)
		return r;
	if (create && (r = ctr_md_ns_ensure_tx(db, ns, err)) < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_prepare(db, &st,
			   "INSERT INTO containers(ns, id, image, runtime_name, spec, snapshotter, snapshot_key, "
			   "extensions, labels, created_at, updated_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE(?8, '{}'), ?9, ?10, ?10) "
			   "ON CONFLICT(ns, id) DO UPDATE SET image = ?3, runtime_name = ?4, spec = ?5, "
			   "snapshotter = ?6, snapshot_key = ?7, extensions = COALESCE(?8, '{}'), labels = ?9, "
			   "updated_at = ?10",
			   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 9, ns, c->id, c->image, c->runtime, c->spec,
				      c->snapshotter && *c->snapshotter ? c->snapshotter : NULL,
				      c->snapshot_key && *c->snapshot_key ? c->snapshot_key : NULL, c->extensions, json);
	if (r == 0) {
		sqlite3_bind_int64(st, 10, ctr_db_now());
		r = ctr_db_step_done(db, st, err, "write container");
	}
	return r;
}
