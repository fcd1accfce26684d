/* The metadata database: one SQLite file <root>/meta.db in WAL mode, shared
 * by every process that uses the root. Each operation is one transaction;
 * writers start with BEGIN IMMEDIATE so concurrent writers queue on the
 * busy timeout instead of failing half-way with SQLITE_BUSY.
 *
 * Times are unix nanoseconds (INTEGER). Labels are JSON objects of strings
 * (TEXT). Every table is keyed by namespace. */
#ifndef CTR_METADATA_DB_H
#define CTR_METADATA_DB_H

#include <ctr/common.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* Threads. One connection serves every thread of a client, so a
 * transaction must own it from BEGIN to COMMIT/ROLLBACK: another thread's
 * statements would otherwise run inside it (and a second BEGIN would fail).
 * mu (recursive) is taken by ctr_db_begin and released by commit/rollback;
 * a statement run outside a transaction takes it with ctr_db_lock for as
 * long as the statement lives. SQLite's own FULLMUTEX mode covers the rest
 * (sqlite3_errmsg read after a step under mu stays that step's). */
struct ctr_db {
	sqlite3 *h;
	char *path;
	pthread_mutex_t mu;
	int depth; /* under mu: open transactions started with ctr_db_begin (0 or 1) */
};

/* How long a writer waits for another one before CTR_EBUSY. */
#define CTR_DB_BUSY_TIMEOUT_MS 10000

/* Opens (creating) <root>/meta.db and migrates it to the latest schema.
 * CTR_ENOTSUP when the file's schema is newer than this library knows;
 * CTR_EIO when it is not a database. */
int ctr_db_open(struct ctr_db **out, const char *root, ctr_error **err);
/* Like ctr_db_open but migrates only up to `version` (for tests). */
int ctr_db_open_version(struct ctr_db **out, const char *root, int version, ctr_error **err);
void ctr_db_close(struct ctr_db *db);

/* The schema version this library writes. */
int ctr_db_latest_version(void);
/* The file's schema version (PRAGMA user_version). */
int ctr_db_version(struct ctr_db *db, int *out, ctr_error **err);

/* Holds the connection for the calling thread (recursive: fine inside its
 * own transaction). Returns db, for the cleanup form below. */
struct ctr_db *ctr_db_lock(struct ctr_db *db);
void ctr_db_unlock(struct ctr_db *db);
static inline void ctr_db_unlockp(struct ctr_db **db)
{
	if (*db)
		ctr_db_unlock(*db);
}
/* Declare before the statements it covers, so they are finalized first. */
#define CTR_DB_LOCK_SCOPE(db) \
	__attribute__((cleanup(ctr_db_unlockp), unused)) struct ctr_db *ctr_db_scope_ = ctr_db_lock(db)

/* Transactions. ctr_db_begin(write=true) is BEGIN IMMEDIATE and retries on
 * SQLITE_BUSY; write=false is a deferred read transaction. */
int ctr_db_begin(struct ctr_db *db, bool write, ctr_error **err);
int ctr_db_commit(struct ctr_db *db, ctr_error **err);
/* Rolls back when a transaction is open; safe to call twice. */
void ctr_db_rollback(struct ctr_db *db);

/* A transaction that rolls back on scope exit unless committed:
 *   _cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
 *   r = ctr_db_tx(&tx, db, true, err); ... r = ctr_db_tx_commit(&tx, err); */
int ctr_db_tx(struct ctr_db **tx, struct ctr_db *db, bool write, ctr_error **err);
int ctr_db_tx_commit(struct ctr_db **tx, ctr_error **err);
void ctr_db_txp(struct ctr_db **tx);

/* Maps an SQLite result code to a CTR_E* code and fills err with the
 * database's message and `what`. */
int ctr_db_err(struct ctr_db *db, int rc, ctr_error **err, const char *what);

/* Runs SQL without results (may be several statements). */
int ctr_db_exec(struct ctr_db *db, const char *sql, ctr_error **err);

/* Prepares one statement. */
int ctr_db_prepare(struct ctr_db *db, sqlite3_stmt **st, const char *sql, ctr_error **err);
static inline void ctr_db_finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(ctr_db_finalizep)))

/* Steps a statement that returns no rows (or whose rows are ignored). */
int ctr_db_step_done(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, const char *what);
/* Steps once: 1 for a row, 0 when done, or a negative code. */
int ctr_db_step_row(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, const char *what);

/* Binds a sequence of text values to ?1..?n (NULL binds NULL). */
int ctr_db_bind_texts(struct ctr_db *db, sqlite3_stmt *st, ctr_error **err, int n, ...);

/* Copies column i as a string (NULL stays NULL); on allocation failure
 * returns CTR_ENOMEM. */
int ctr_db_col_strdup(sqlite3_stmt *st, int i, char **out, ctr_error **err);

/* Now, in unix nanoseconds (CLOCK_REALTIME). */
int64_t ctr_db_now(void);

/* A growable NULL-terminated string vector. */
struct ctr_strv_buf {
	char **v;
	size_t n, cap;
};
/* Takes ownership of s (frees it on failure). CTR_ENOMEM on failure. */
int ctr_strv_buf_take(struct ctr_strv_buf *b, char *s, ctr_error **err);
int ctr_strv_buf_addf(struct ctr_strv_buf *b, ctr_error **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Returns the vector (never NULL on success: an empty vector is {NULL}). */
char **ctr_strv_buf_steal(struct ctr_strv_buf *b, ctr_error **err);
void ctr_strv_buf_clear(struct ctr_strv_buf *b);

#endif
