#include "db.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "schema.h"
#include "macro.h"
#include "sqlite.h"

int64_t ctr_db_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ctr_db_prepare(struct ctr_db *db, sqlite3_stmt **st, const char *sql, ctr_error **err)
{
	int rc = sqlite3_prepare_v2(db->h, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		*st = NULL;
		return ctr_db_err(db, rc, err, "prepare");
	}
	return 0;
}

int ctr_db_step_done(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		return ctr_db_err(db, rc, err, what);
	return 0;
}

int ctr_db_step_row(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ctr_db_err(db, rc, err, what);
}

int ctr_db_bind_texts(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	int rc = SQLITE_OK;
	for (int i = 1; i <= n && rc == SQLITE_OK; i++) {
		const char *s = va_arg(ap, const char *);
		rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
	}
	va_end(ap);
	if (rc != SQLITE_OK)
		return ctr_db_err(db, rc, err, "bind");
	return 0;
}

int ctr_db_col_strdup(sqlite3_stmt *st, int i, char **out, ctr_error **err)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	if (!s) {
		*out = NULL;
		return 0;
	}
	char *c = strdup((const char *)s);
	if (!c)
		return ctr_err_nomem(err);
	*out = c;
	return 0;
}

/* BEGIN IMMEDIATE waits on the busy timeout itself; a few more tries cover a
 * writer that holds the lock longer than that under heavy load. */
struct ctr_db *ctr_db_lock(struct ctr_db *db)
{
	if (db)
		pthread_mutex_lock(&db->mu);
	return db;
}

void ctr_db_unlock(struct ctr_db *db)
{
	pthread_mutex_unlock(&db->mu);
}

/* On success the calling thread keeps mu until commit or rollback. */
int ctr_db_begin(struct ctr_db *db, bool write, ctr_error **err)
{
	ctr_db_lock(db);
	if (db->depth) {
		ctr_db_unlock(db);
		return ctr_err(err, CTR_EINVAL, 0, "metadata: nested transaction");
	}
	int rc = SQLITE_BUSY;
	for (int attempt = 0; attempt < 3; attempt++) {
		rc = sqlite3_exec(db->h, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
	}
	if (rc != SQLITE_OK) {
		int r = ctr_db_err(db, rc, err, "begin transaction");
		ctr_db_unlock(db);
		return r;
	}
	db->depth = 1;
	return 0;
}

int ctr_db_commit(struct ctr_db *db, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db);
	if (!db->depth)
		return ctr_err(err, CTR_EINVAL, 0, "metadata: commit without a transaction");
	int rc = SQLITE_BUSY;
	for (int attempt = 0; attempt < 3 && (rc & 0xff) == SQLITE_BUSY; attempt++)
		rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int r = ctr_db_err(db, rc, err, "commit");
		ctr_db_rollback(db);
		return r;
	}
	db->depth = 0;
	ctr_db_unlock(db); /* begin's hold */
	return 0;
}

void ctr_db_rollback(struct ctr_db *db)
{
	if (!db)
		return;
	CTR_DB_LOCK_SCOPE(db);
	if (!db->depth)
		return;
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->depth = 0;
	ctr_db_unlock(db); /* begin's hold */
}

int ctr_db_tx(struct ctr_db **tx, struct ctr_db *db, bool write, ctr_error **err)
{
	if (!db)
		return ctr_err(err, CTR_EUNAVAILABLE, 0, "metadata database is not open");
	int r = ctr_db_begin(db, write, err);
	if (r < 0)
		return r;
	*tx = db;
	return 0;
}

int ctr_db_tx_commit(struct ctr_db **tx, ctr_error **err)
{
	struct ctr_db *db = *tx;
	*tx = NULL;
	return ctr_db_commit(db, err);
}

void ctr_db_txp(struct ctr_db **tx)
{
	if (*tx)
		ctr_db_rollback(*tx);
}

int ctr_db_version(struct ctr_db *db, int *out, ctr_error **err)
{
	CTR_DB_LOCK_SCOPE(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = ctr_db_prepare(db, &st, "PRAGMA user_version", err);
	if (r < 0)
		return r;
	r = ctr_db_step_row(db, st, err, "read schema version");
	if (r < 0)
		return r;
	*out = r ? sqlite3_column_int(st, 0) : 0;
	return 0;
}

int ctr_db_latest_version(void) { return (int)ctr_db_n_migrations; }

/* Each step runs in its own write transaction and re-reads the version under
 * the write lock, so processes opening a fresh root at once apply it once. */
static int migrate(struct ctr_db *db, int target, ctr_error **err)
{
	int v, r = ctr_db_version(db, &v, err);
	if (r < 0)
		return r;
	if (v > ctr_db_latest_version())
		return ctr_err(err, CTR_ENOTSUP, 0,
			       "metadata %s has schema version %d; this libctr knows up to %d",
			       db->path, v, ctr_db_latest_version());
	while (v < target) {
		r = ctr_db_begin(db, true, err);
		if (r < 0)
			return r;
		r = ctr_db_version(db, &v, err);
		if (r == 0 && v > ctr_db_latest_version())
			r = ctr_err(err, CTR_ENOTSUP, 0,
				    "metadata %s has schema version %d; this libctr knows up to %d",
				    db->path, v, ctr_db_latest_version());
		if (r == 0 && v < target) {
			r = ctr_db_migrations[v](db, err);
			if (r < 0)
				ctr_err_prefix(err, r, "metadata: migrate to version %d", v + 1);
			if (r == 0) {
				char sql[64];
				snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
				r = ctr_db_exec(db, sql, err);
			}
			if (r == 0)
				v++;
		}
		if (r < 0) {
			ctr_db_rollback(db);
			return r;
		}
		r = ctr_db_commit(db, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_wal(struct ctr_db *db, ctr_error **err)
{
	const char *mode = NULL;
	int rc = ctr_sqlite_wal(db->h, CTR_DB_BUSY_TIMEOUT_MS, &mode);
	if (rc == SQLITE_OK)
		return 0;
	if (mode)
		return ctr_err(err, CTR_EIO, 0, "metadata %s: cannot use WAL (journal mode %s)", db->path, mode);
	return ctr_db_err(db, rc, err, "set journal mode");
}

int ctr_db_open_version(struct ctr_db **out, const char *root, int version, ctr_error **err)
{
	struct ctr_db *db = calloc(1, sizeof(*db));
	if (!db)
		return ctr_err_nomem(err);
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&db->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	int r = 0;
	if (asprintf(&db->path, "%s/meta.db", root) < 0) {
		db->path = NULL;
		r = ctr_err_nomem(err);
	}
	if (r == 0) {
		int rc = sqlite3_open_v2(db->path, &db->h,
					 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						 SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
					 NULL);
		if (rc != SQLITE_OK)
			r = ctr_db_err(db, rc, err, "open");
	}
	if (r == 0) {
		sqlite3_extended_result_codes(db->h, 1);
		sqlite3_busy_timeout(db->h, CTR_DB_BUSY_TIMEOUT_MS);
		r = set_wal(db, err);
	}
	if (r == 0)
		r = ctr_db_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
				    "PRAGMA temp_store=MEMORY", err);
	if (r == 0)
		r = migrate(db, version, err);
	if (r < 0) {
		ctr_err_prefix(err, r, "open %s", db->path ? db->path : "meta.db");
		ctr_db_close(db);
		return r;
	}
	*out = db;
	return 0;
}

int ctr_db_open(struct ctr_db **out, const char *root, ctr_error **err)
{
	return ctr_db_open_version(out, root, ctr_db_latest_version(), err);
}

void ctr_db_close(struct ctr_db *db)
{
	if (!db)
		return;
	ctr_db_rollback(db);
	if (db->h)
		sqlite3_close_v2(db->h);
	pthread_mutex_destroy(&db->mu);
	free(db->path);
	free(db);
}

/* String vectors. */
int ctr_strv_buf_take(struct ctr_strv_buf *b, char *s, ctr_error **err)
{
	if (!s)
		return ctr_err_nomem(err);
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		char **v = realloc(b->v, cap * sizeof(char *));
		if (!v) {
			free(s);
			return ctr_err_nomem(err);
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
	return 0;
}

int ctr_strv_buf_addf(struct ctr_strv_buf *b, ctr_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return ctr_strv_buf_take(b, s, err);
}

char **ctr_strv_buf_steal(struct ctr_strv_buf *b, ctr_error **err)
{
	if (!b->v) {
		b->v = calloc(1, sizeof(char *));
		if (!b->v) {
			ctr_err_nomem(err);
			return NULL;
		}
	}
	char **v = b->v;
	b->v = NULL;
	b->n = b->cap = 0;
	return v;
}

void ctr_strv_buf_clear(struct ctr_strv_buf *b)
{
	ctr_strv_free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}
