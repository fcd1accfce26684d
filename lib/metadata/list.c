/* The loop every filtered list of records shares: run a query in a read
 * transaction, turn each row into a record, keep those the filter selects. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "macro.h"

int ctr_md_list(struct ctr_md_lister *l, struct ctr_db *db, const char *sql, const char *ns,
		const char *arg2, const char *const *filters, size_t n_filters, void **out, size_t *n_out,
		ctr_error **err)
{
	struct ctr_filter *f = NULL;
	int r = ctr_md_filter_parse(&f, filters, n_filters, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = ctr_db_tx(&tx, db, false, err);
	if (r == 0)
		r = ctr_db_prepare(db, &st, sql, err);
	if (r == 0)
		r = arg2 ? ctr_db_bind_texts(db, st, err, 2, ns, arg2) : ctr_db_bind_texts(db, st, err, 1, ns);
	char *v = NULL;
	size_t n = 0, cap = 0;
	_cleanup_free_ char *rec = calloc(1, l->size);
	if (!rec)
		r = ctr_err_nomem(err);
	while (r == 0 && (r = ctr_db_step_row(db, st, err, l->what)) == 1) {
		if ((r = l->fill(st, rec, err)) < 0)
			break;
		json_t *labels = ctr_md_labels_load((const char *)sqlite3_column_text(st, l->labels_col));
		const char *vals[8] = {0};
		char scratch[64];
		l->fields(rec, vals, scratch);
		struct ctr_md_filter_obj fo = {l->keys, vals, labels};
		bool keep = ctr_md_filter_match(f, &fo);
		json_decref(labels);
		if (!keep) {
			l->clear(rec);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char *nv = realloc(v, cap * l->size);
			if (!nv) {
				l->clear(rec);
				r = ctr_err_nomem(err);
				break;
			}
			v = nv;
		}
		memcpy(v + n++ * l->size, rec, l->size);
		memset(rec, 0, l->size);
	}
	ctr_md_filter_free(f);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			l->clear(v + i * l->size);
		free(v);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}
