/* Image records: name -> target descriptor, labels, times (containerd's
 * images.Store), per namespace. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "digest.h"
#include "macro.h"

void ctr_md_image_clear(struct ctr_md_image *i)
{
	if (!i)
		return;
	free(i->name);
	free(i->media_type);
	free(i->digest);
	ctr_strv_free(i->labels);
	memset(i, 0, sizeof(*i));
}

void ctr_md_image_list_free(struct ctr_md_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_md_image_clear(&v[i]);
	free(v);
}

int ctr_md_image_name_validate(const char *name, ctr_error **err)
{
	if (!name || !*name)
		return ctr_err(err, CTR_EINVAL, 0, "invalid image name: empty");
	size_t n = strlen(name);
	if (n > 4096)
		return ctr_err(err, CTR_EINVAL, 0, "invalid image name: longer than 4096 bytes");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f)
			return ctr_err(err, CTR_EINVAL, 0, "invalid image name \"%.100s\": space or control character", name);
	return 0;
}

#define IMG_COLS "name, target_media_type, target_digest, target_size, labels, created_at, updated_at"

static int fill(sqlite3_stmt *st, struct ctr_md_image *out, ctr_error **err)
{
	struct ctr_md_image i = {0};
	int r = ctr_db_col_strdup(st, 0, &i.name, err);
	if (r == 0)
		r = ctr_db_col_strdup(st, 1, &i.media_type, err);
	if (r == 0)
		r = ctr_db_col_strdup(st, 2, &i.digest, err);
	i.size = (uint64_t)sqlite3_column_int64(st, 3);
	if (r == 0)
		r = ctr_md_labels_from_json(&i.labels, (const char *)sqlite3_column_text(st, 4), err);
	i.created_at = sqlite3_column_int64(st, 5);
	i.updated_at = sqlite3_column_int64(st, 6);
	if (r < 0) {
		ctr_md_image_clear(&i);
		return r;
	}
	*out = i;
	return 0;
}

int ctr_md_image_get_tx(struct ctr_md_image *out, struct ctr_db *db, const char *ns, const char *name,
			ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "SELECT " IMG_COLS " FROM images WHERE ns = ?1 AND name = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, name);
	if (r == 0)
		r = ctr_db_step_row(db, st, err, "get image");
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "image \"%.200s\": not found", name);
	if (r < 0)
		return r;
	return out ? fill(st, out, err) : 0;
}

int ctr_md_image_get(struct ctr_md_image *out, struct ctr_db *db, const char *ns, const char *name,
		     ctr_error **err)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, db, false, err);
	if (r == 0)
		r = ctr_md_image_get_tx(out, db, ns, name, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	return r;
}

static void clear_rec(void *rec) { ctr_md_image_clear(rec); }
static int fill_rec(sqlite3_stmt *st, void *rec, ctr_error **err) { return fill(st, rec, err); }
static void fields(const void *rec, const char **vals, char *scratch)
{
	(void)scratch;
	vals[0] = ((const struct ctr_md_image *)rec)->name;
}

int ctr_md_image_list(struct ctr_md_image **out, size_t *n_out, struct ctr_db *db, const char *ns,
		      const char *const *filters, size_t n_filters, ctr_error **err)
{
	static const char *const keys[] = {"name", NULL};
	struct ctr_md_lister l = {sizeof(struct ctr_md_image), fill_rec, clear_rec, keys, fields, 4, "list images"};
	return ctr_md_list(&l, db, "SELECT " IMG_COLS " FROM images WHERE ns = ?1 ORDER BY name", ns, NULL, filters,
			   n_filters, (void **)out, n_out, err);
}

int ctr_md_image_create_tx(struct ctr_db *db, const char *ns, const struct ctr_md_image *img, bool replace,
			   ctr_error **err)
{
	int r = ctr_md_image_name_validate(img->name, err);
	if (r == 0 && (r = ctr_digest_parse(img->digest, NULL, NULL, err)) < 0)
		ctr_err_prefix(err, r, "image %s target", img->name);
	if (r == 0 && (!img->media_type || !*img->media_type))
		r = ctr_err(err, CTR_EINVAL, 0, "image %s: target media type is required", img->name);
	if (r == 0 && (r = ctr_md_labels_validate((const char *const *)img->labels, err)) == 0 && !replace &&
	    ctr_md_image_get_tx(NULL, db, ns, img->name, NULL) == 0)
		r = ctr_err(err, CTR_EEXISTS, 0, "image \"%.200s\": already exists", img->name);
	return r < 0 ? r : ctr_md_image_upsert_tx(db, ns, img, "create image", err);
}

int ctr_md_image_upsert_tx(struct ctr_db *db, const char *ns, const struct ctr_md_image *img, const char *what,
			   ctr_error **err)
{
	_cleanup_free_ char *json = NULL;
	int r = ctr_md_labels_to_json(&json, (const char *const *)img->labels, err);
	if (r == 0)
		r = ctr_md_ns_ensure_tx(db, ns, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st,
				   "INSERT INTO images(ns, name, target_media_type, target_digest, target_size, "
				   "labels, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
				   "ON CONFLICT(ns, name) DO UPDATE SET target_media_type = ?3, "
				   "target_digest = ?4, target_size = ?5, labels = ?6, updated_at = ?7",
				   err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 4, ns, img->name, img->media_type, img->digest);
	if (r == 0) {
		sqlite3_bind_int64(st, 5, (int64_t)img->size);
		sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, ctr_db_now());
		r = ctr_db_step_done(db, st, err, what);
	}
	return r;
}

int ctr_md_image_update_labels_tx(struct ctr_db *db, const char *ns, const char *name,
				  const char *const *updates, ctr_error **err)
{
	struct ctr_md_image cur = {0};
	int r = ctr_md_image_get_tx(&cur, db, ns, name, err);
	_cleanup_free_ char *json = NULL, *old = NULL;
	if (r == 0)
		r = ctr_md_labels_to_json(&old, (const char *const *)cur.labels, err);
	if (r == 0)
		r = ctr_md_labels_merge(&json, old, updates, false, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = ctr_db_prepare(db, &st, "UPDATE images SET labels = ?3, updated_at = ?4 WHERE ns = ?1 AND name = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 3, ns, name, json);
	if (r == 0) {
		sqlite3_bind_int64(st, 4, ctr_db_now());
		r = ctr_db_step_done(db, st, err, "update image labels");
	}
	ctr_md_image_clear(&cur);
	return r;
}

int ctr_md_image_delete_tx(struct ctr_db *db, const char *ns, const char *name, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "DELETE FROM images WHERE ns = ?1 AND name = ?2", err);
	if (r == 0)
		r = ctr_db_bind_texts(db, st, err, 2, ns, name);
	if (r == 0)
		r = ctr_db_step_done(db, st, err, "delete image");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "image \"%.200s\": not found", name);
	return r;
}
