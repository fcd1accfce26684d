/* Test-only writers of image and container records: the tests of the
 * collector and of the metadata layer seed meta.db with these, each in its
 * own write transaction, through the metadata layer's own writers. */
#include "md-records.h"

#include "error.h"
#include "macro.h"

int ctr_md_image_put(struct ctr_db *db, const char *ns, const char *name, const char *media_type,
		     const char *digest, uint64_t size, const char *const *labels, ctr_error **err)
{
	struct ctr_md_image img = {(char *)name, (char *)media_type, (char *)digest, size, (char **)labels, 0, 0};
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_image_create_tx(db, ns, &img, true, err);
	return r < 0 ? r : ctr_db_tx_commit(&tx, err);
}

int ctr_md_image_delete(struct ctr_db *db, const char *ns, const char *name, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_md_image_delete_tx(db, ns, name, err);
	return r < 0 ? r : ctr_db_tx_commit(&tx, err);
}

int ctr_md_container_put(struct ctr_db *db, const char *ns, const char *id, const char *image,
			 const char *snapshotter, const char *snapshot_key,
			 const char *const *labels, ctr_error **err)
{
	struct ctr_md_container c = {
		.id = (char *)id,
		.image = (char *)image,
		.runtime = (char *)"io.containerd.runc.v2",
		.spec = (char *)"{}",
		.snapshotter = (char *)snapshotter,
		.snapshot_key = (char *)snapshot_key,
		.labels = (char **)labels,
	};
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0) {
		bool exists = ctr_md_container_get_tx(NULL, db, ns, id, NULL) == 0;
		r = ctr_md_container_write_tx(db, ns, &c, !exists, err);
	}
	return r < 0 ? r : ctr_db_tx_commit(&tx, err);
}

int ctr_md_container_delete(struct ctr_db *db, const char *ns, const char *id, ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_tx(&tx, db, true, err);
	if (r == 0)
		r = ctr_db_prepare(db, &st, "DELETE FROM containers WHERE ns = ?1 AND id = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, id);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete container");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = ctr_err(err, CTR_ENOTFOUND, 0, "container %s not found", id);
	sqlite3_finalize(st);
	st = NULL;
	return r < 0 ? r : ctr_db_tx_commit(&tx, err);
}
