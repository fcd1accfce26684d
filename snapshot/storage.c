#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "sqlite.h"
#include "macro.h"

#define SCHEMA_VERSION 1

const char *ctr_snap_kind_name(enum ctr_snap_kind k)
{
	switch (k) {
	case CTR_SNAP_VIEW: return "View";
	case CTR_SNAP_ACTIVE: return "Active";
	case CTR_SNAP_COMMITTED: return "Committed";
	default: return "Unknown";
	}
}

enum ctr_snap_kind ctr_snap_kind_parse(const char *s)
{
	if (!s)
		return CTR_SNAP_UNKNOWN;
	if (!strcasecmp(s, "view"))
		return CTR_SNAP_VIEW;
	if (!strcasecmp(s, "active"))
		return CTR_SNAP_ACTIVE;
	if (!strcasecmp(s, "committed"))
		return CTR_SNAP_COMMITTED;
	return CTR_SNAP_UNKNOWN;
}

void ctr_snap_info_clear(struct ctr_snap_info *i)
{
	if (!i)
		return;
	free(i->name);
	free(i->parent);
	free(i->labels);
	memset(i, 0, sizeof(*i));
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int db_err(struct ctr_snap_store *st, int rc, ctr_error **err, const char *what)
{
	int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? CTR_EBUSY :
		   rc == SQLITE_CONSTRAINT ? CTR_EEXISTS :
		   rc == SQLITE_NOMEM ? CTR_ENOMEM : CTR_EIO;
	return ctr_err(err, code, 0, "snapshots %s: %s: %s", st->dir, what, sqlite3_errmsg(st->db));
}

static void finalizep(sqlite3_stmt **s)
{
	if (*s)
		sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(finalizep)

static int exec(struct ctr_snap_store *st, const char *sql, ctr_error **err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_err(st, rc, err, sql);
}

static int prep(struct ctr_snap_store *st, sqlite3_stmt **s, const char *sql, ctr_error **err)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
	return rc == SQLITE_OK ? 0 : db_err(st, rc, err, "prepare");
}

static struct ctr_snap_store *store_lock(struct ctr_snap_store *st)
{
	pthread_mutex_lock(&st->mu);
	return st;
}

static void store_unlockp(struct ctr_snap_store **st)
{
	pthread_mutex_unlock(&(*st)->mu);
}

/* Holds the store for the rest of the scope; declared before the
 * statements it covers, so they are finalized first. */
#define STORE_SCOPE(st) \
	__attribute__((cleanup(store_unlockp), unused)) struct ctr_snap_store *store_scope_ = store_lock(st)

int ctr_snap_store_open(struct ctr_snap_store **out, const char *dir, ctr_error **err)
{
	int r = ctr_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	struct ctr_snap_store *st = calloc(1, sizeof(*st));
	if (!st)
		return ctr_err_nomem(err);
	st->dir_fd = st->snapshots_fd = -1;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	st->dir = strdup(dir);
	_cleanup_free_ char *dbpath = NULL;
	if (!st->dir || asprintf(&dbpath, "%s/metadata.db", dir) < 0) {
		ctr_snap_store_close(st);
		return ctr_err_nomem(err);
	}
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0 || (mkdirat(st->dir_fd, "snapshots", 0700) < 0 && errno != EEXIST) ||
	    (st->snapshots_fd = openat(st->dir_fd, "snapshots", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = ctr_err_errno(err, errno, "open %s", dir);
		ctr_snap_store_close(st);
		return r;
	}
	int rc = sqlite3_open_v2(dbpath, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		r = ctr_err(err, CTR_EIO, 0, "open %s: %s", dbpath, st->db ? sqlite3_errmsg(st->db) : "failed");
		ctr_snap_store_close(st);
		return r;
	}
	sqlite3_busy_timeout(st->db, 10000);
	rc = ctr_sqlite_wal(st->db, 10000, NULL);
	r = rc == SQLITE_OK ? exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err)
			    : db_err(st, rc, err, "set journal mode WAL");
	if (r == 0)
		r = ctr_snap_store_begin(st, err);
	if (r == 0) {
		sqlite3_stmt *s = NULL;
		int v = 0;
		if (prep(st, &s, "PRAGMA user_version", err) == 0 && sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (v > SCHEMA_VERSION)
			r = ctr_err(err, CTR_ENOTSUP, 0, "snapshots %s: schema %d is newer than this library (%d)",
				    dir, v, SCHEMA_VERSION);
		else if (v < 1)
			r = exec(st,
				 "CREATE TABLE snapshots ("
				 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
				 "  key TEXT NOT NULL UNIQUE,"
				 "  parent_id INTEGER REFERENCES snapshots(id),"
				 "  kind INTEGER NOT NULL,"
				 "  labels TEXT NOT NULL DEFAULT '{}',"
				 "  created_at INTEGER NOT NULL,"
				 "  updated_at INTEGER NOT NULL,"
				 "  size INTEGER NOT NULL DEFAULT 0,"
				 "  inodes INTEGER NOT NULL DEFAULT 0);"
				 "CREATE INDEX snapshots_parent ON snapshots(parent_id);"
				 "PRAGMA user_version=1;",
				 err);
		if (r == 0)
			r = ctr_snap_store_commit_tx(st, err);
		else
			ctr_snap_store_rollback(st);
	}
	if (r < 0) {
		ctr_snap_store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

void ctr_snap_store_close(struct ctr_snap_store *st)
{
	if (!st)
		return;
	if (st->db)
		sqlite3_close_v2(st->db);
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	if (st->snapshots_fd >= 0)
		close(st->snapshots_fd);
	pthread_mutex_destroy(&st->mu);
	free(st->dir);
	free(st);
}

/* On success the calling thread keeps mu until commit or rollback. */
int ctr_snap_store_begin(struct ctr_snap_store *st, ctr_error **err)
{
	store_lock(st);
	for (int i = 0; i < 100; i++) {
		int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			st->in_tx = true;
			return 0;
		}
		if (rc != SQLITE_BUSY) {
			int r = db_err(st, rc, err, "begin");
			pthread_mutex_unlock(&st->mu);
			return r;
		}
		usleep(20000);
	}
	int r = db_err(st, SQLITE_BUSY, err, "begin");
	pthread_mutex_unlock(&st->mu);
	return r;
}

int ctr_snap_store_commit_tx(struct ctr_snap_store *st, ctr_error **err)
{
	STORE_SCOPE(st);
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int r = db_err(st, rc, err, "commit");
		ctr_snap_store_rollback(st);
		return r;
	}
	if (st->in_tx) {
		st->in_tx = false;
		pthread_mutex_unlock(&st->mu); /* begin's hold */
	}
	return 0;
}

void ctr_snap_store_rollback(struct ctr_snap_store *st)
{
	STORE_SCOPE(st);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (st->in_tx) {
		st->in_tx = false;
		pthread_mutex_unlock(&st->mu); /* begin's hold */
	}
}

/* Looks up key: id, kind, parent id. 1 found, 0 not found, <0 error. */
static int lookup(struct ctr_snap_store *st, const char *key, int64_t *id, enum ctr_snap_kind *kind,
		  int64_t *parent_id, ctr_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT id, kind, parent_id FROM snapshots WHERE key = ?1", err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_err(st, rc, err, "lookup");
	if (id)
		*id = sqlite3_column_int64(s, 0);
	if (kind)
		*kind = (enum ctr_snap_kind)sqlite3_column_int(s, 1);
	if (parent_id)
		*parent_id = sqlite3_column_type(s, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 2);
	return 1;
}

static int parent_chain(struct ctr_snap_store *st, int64_t first, int64_t **out, size_t *n_out, ctr_error **err)
{
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT parent_id FROM snapshots WHERE id = ?1", err);
	if (r < 0)
		return r;
	for (int64_t cur = first; cur; ) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int64_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return ctr_err_nomem(err);
			}
			v = nv;
		}
		v[n++] = cur;
		if (n > 4096) {
			free(v);
			return ctr_err(err, CTR_EINVAL, 0, "snapshot chain longer than 4096");
		}
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, cur);
		int rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			free(v);
			return db_err(st, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, err, "parent chain");
		}
		cur = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
	}
	if (out)
		*out = v;
	else
		free(v);
	if (n_out)
		*n_out = n;
	return 0;
}

int ctr_snap_store_create(struct ctr_snap_store *st, enum ctr_snap_kind kind, const char *key,
			  const char *parent, const char *labels_json, int64_t *id,
			  int64_t **parent_ids, size_t *n_parents, ctr_error **err)
{
	STORE_SCOPE(st);
	int64_t pid = 0;
	enum ctr_snap_kind pkind;
	int r;
	if ((r = lookup(st, key, NULL, NULL, NULL, err)) != 0)
		return r < 0 ? r : ctr_err(err, CTR_EEXISTS, 0, "snapshot %s: already exists", key);
	if (parent && *parent) {
		if ((r = lookup(st, parent, &pid, &pkind, NULL, err)) < 0)
			return r;
		if (r == 0)
			return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: parent %s: not found", key, parent);
		if (pkind != CTR_SNAP_COMMITTED)
			return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: parent %s is not committed", key, parent);
	}
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if ((r = prep(st, &s, "INSERT INTO snapshots (key, parent_id, kind, labels, created_at, updated_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?5)", err)) < 0)
		return r;
	int64_t t = now_ns();
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (pid)
		sqlite3_bind_int64(s, 2, pid);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int(s, 3, kind);
	sqlite3_bind_text(s, 4, labels_json && *labels_json ? labels_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, t);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc, err, "insert");
	*id = sqlite3_last_insert_rowid(st->db);
	if (parent_ids) {
		if (pid)
			return parent_chain(st, pid, parent_ids, n_parents, err);
		*parent_ids = NULL;
		*n_parents = 0;
	}
	return 0;
}

int ctr_snap_store_get(struct ctr_snap_store *st, const char *key, int64_t *id,
		       enum ctr_snap_kind *kind, int64_t **parent_ids, size_t *n_parents,
		       ctr_error **err)
{
	STORE_SCOPE(st);
	int64_t pid = 0;
	int r = lookup(st, key, id, kind, &pid, err);
	if (r < 0)
		return r;
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	if (!parent_ids)
		return 0;
	if (!pid) {
		*parent_ids = NULL;
		*n_parents = 0;
		return 0;
	}
	return parent_chain(st, pid, parent_ids, n_parents, err);
}

static int fill_info(sqlite3_stmt *s, struct ctr_snap_info *out, ctr_error **err)
{
	struct ctr_snap_info i = {0};
	const char *k = (const char *)sqlite3_column_text(s, 0);
	const char *p = (const char *)sqlite3_column_text(s, 1);
	const char *l = (const char *)sqlite3_column_text(s, 3);
	i.name = strdup(k ? k : "");
	i.parent = p ? strdup(p) : NULL;
	i.kind = (enum ctr_snap_kind)sqlite3_column_int(s, 2);
	i.labels = strdup(l ? l : "{}");
	i.created_at = sqlite3_column_int64(s, 4);
	i.updated_at = sqlite3_column_int64(s, 5);
	if (!i.name || !i.labels || (p && !i.parent)) {
		ctr_snap_info_clear(&i);
		return ctr_err_nomem(err);
	}
	*out = i;
	return 0;
}

#define INFO_SELECT                                                                             \
	"SELECT s.key, p.key, s.kind, s.labels, s.created_at, s.updated_at FROM snapshots s " \
	"LEFT JOIN snapshots p ON p.id = s.parent_id "

int ctr_snap_store_stat(struct ctr_snap_store *st, const char *key, struct ctr_snap_info *out,
			ctr_error **err)
{
	STORE_SCOPE(st);
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, INFO_SELECT "WHERE s.key = ?1", err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	if (rc != SQLITE_ROW)
		return db_err(st, rc, err, "stat");
	return fill_info(s, out, err);
}

/* rebase: the key must have no parent, and gets parent's id (parent NULL:
 * stays without one). */
static int commit_impl(struct ctr_snap_store *st, const char *name, const char *key, bool rebase,
		       const char *parent, const char *labels_json, const struct ctr_snap_usage *usage,
		       int64_t *id, ctr_error **err)
{
	enum ctr_snap_kind kind;
	int64_t cur_parent = 0, new_parent = 0;
	int r = lookup(st, key, id, &kind, &cur_parent, err);
	if (r < 0)
		return r;
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	if (kind != CTR_SNAP_ACTIVE)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: not active (%s)", key, ctr_snap_kind_name(kind));
	if ((r = lookup(st, name, NULL, NULL, NULL, err)) != 0)
		return r < 0 ? r : ctr_err(err, CTR_EEXISTS, 0, "snapshot %s: already exists", name);
	if (rebase && cur_parent)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: already has a parent", key);
	if (rebase && parent) {
		enum ctr_snap_kind pk;
		if ((r = lookup(st, parent, &new_parent, &pk, NULL, err)) < 0)
			return r;
		if (r == 0)
			return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: parent %s not found", key, parent);
		if (pk != CTR_SNAP_COMMITTED)
			return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: parent %s is not committed", key, parent);
	}
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if ((r = prep(st, &s, "UPDATE snapshots SET key = ?1, kind = ?2, labels = COALESCE(?3, labels), "
			       "updated_at = ?4, size = ?5, inodes = ?6, "
			       "parent_id = CASE WHEN ?8 THEN ?9 ELSE parent_id END WHERE key = ?7", err)) < 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, CTR_SNAP_COMMITTED);
	if (labels_json)
		sqlite3_bind_text(s, 3, labels_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int64(s, 4, now_ns());
	sqlite3_bind_int64(s, 5, usage ? usage->size : 0);
	sqlite3_bind_int64(s, 6, usage ? usage->inodes : 0);
	sqlite3_bind_text(s, 7, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, rebase);
	if (new_parent)
		sqlite3_bind_int64(s, 9, new_parent);
	else
		sqlite3_bind_null(s, 9);
	int rc = sqlite3_step(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, err, "commit");
}

int ctr_snap_store_commit(struct ctr_snap_store *st, const char *name, const char *key,
			  const char *labels_json, const struct ctr_snap_usage *usage, int64_t *id,
			  ctr_error **err)
{
	STORE_SCOPE(st);
	return commit_impl(st, name, key, false, NULL, labels_json, usage, id, err);
}

int ctr_snap_store_commit_rebase(struct ctr_snap_store *st, const char *name, const char *key,
				 const char *parent, const char *labels_json,
				 const struct ctr_snap_usage *usage, int64_t *id, ctr_error **err)
{
	STORE_SCOPE(st);
	return commit_impl(st, name, key, true, parent, labels_json, usage, id, err);
}

int ctr_snap_store_remove(struct ctr_snap_store *st, const char *key, int64_t *id,
			  enum ctr_snap_kind *kind, ctr_error **err)
{
	STORE_SCOPE(st);
	int r = lookup(st, key, id, kind, NULL, err);
	if (r < 0)
		return r;
	if (r == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	_cleanup_stmt_ sqlite3_stmt *c = NULL;
	if ((r = prep(st, &c, "SELECT key FROM snapshots WHERE parent_id = ?1 LIMIT 1", err)) < 0)
		return r;
	sqlite3_bind_int64(c, 1, *id);
	int rc = sqlite3_step(c);
	if (rc == SQLITE_ROW)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: cannot remove, %s depends on it", key,
			       (const char *)sqlite3_column_text(c, 0));
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if ((r = prep(st, &s, "DELETE FROM snapshots WHERE id = ?1", err)) < 0)
		return r;
	sqlite3_bind_int64(s, 1, *id);
	rc = sqlite3_step(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, err, "remove");
}

int ctr_snap_store_update(struct ctr_snap_store *st, const char *key, const char *labels_json,
			  ctr_error **err)
{
	STORE_SCOPE(st);
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "UPDATE snapshots SET labels = ?1, updated_at = ?2 WHERE key = ?3", err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, labels_json ? labels_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ns());
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc, err, "update");
	if (sqlite3_changes(st->db) == 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	return 0;
}

int ctr_snap_store_usage(struct ctr_snap_store *st, const char *key, struct ctr_snap_usage *out,
			 enum ctr_snap_kind *kind, int64_t *id, ctr_error **err)
{
	STORE_SCOPE(st);
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT size, inodes, kind, id FROM snapshots WHERE key = ?1", err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshot %s: not found", key);
	if (rc != SQLITE_ROW)
		return db_err(st, rc, err, "usage");
	out->size = sqlite3_column_int64(s, 0);
	out->inodes = sqlite3_column_int64(s, 1);
	*kind = (enum ctr_snap_kind)sqlite3_column_int(s, 2);
	*id = sqlite3_column_int64(s, 3);
	return 0;
}

int ctr_snap_store_walk(struct ctr_snap_store *st, ctr_snap_walk_fn fn, void *ud, ctr_error **err)
{
	STORE_SCOPE(st);
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, INFO_SELECT "ORDER BY s.key", err);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ctr_snap_info i;
		if ((r = fill_info(s, &i, err)) < 0)
			return r;
		r = fn(&i, ud);
		ctr_snap_info_clear(&i);
		if (r)
			return r;
	}
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, err, "walk");
}

int ctr_snap_store_id_exists(struct ctr_snap_store *st, int64_t id, ctr_error **err)
{
	STORE_SCOPE(st);
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT 1 FROM snapshots WHERE id = ?1", err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, err, "lookup id");
}

struct ino_set {
	dev_t *dev;
	ino_t *ino;
	size_t n, cap;
};

static bool seen(struct ino_set *s, dev_t d, ino_t i)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->ino[k] == i && s->dev[k] == d)
			return true;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		dev_t *nd = realloc(s->dev, nc * sizeof(dev_t));
		if (!nd)
			return false;
		s->dev = nd;
		ino_t *ni = realloc(s->ino, nc * sizeof(ino_t));
		if (!ni)
			return false;
		s->ino = ni;
		s->cap = nc;
	}
	s->dev[s->n] = d;
	s->ino[s->n++] = i;
	return false;
}

static int du(int dfd, struct ctr_snap_usage *u, struct ino_set *links, int depth, ctr_error **err)
{
	if (depth > 1024)
		return ctr_err(err, CTR_EINVAL, 0, "usage: tree too deep");
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "usage: open");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ctr_err_errno(err, errno, "usage: opendir");
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && seen(links, st.st_dev, st.st_ino))
			continue;
		u->inodes++;
		u->size += (int64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0) {
				r = du(cfd, u, links, depth + 1, err);
				close(cfd);
			}
		}
	}
	closedir(d);
	return r;
}

int ctr_dir_usage(int dirfd, struct ctr_snap_usage *out, ctr_error **err)
{
	struct ctr_snap_usage u = {0, 0};
	struct ino_set links = {0};
	int r = du(dirfd, &u, &links, 0, err);
	free(links.dev);
	free(links.ino);
	if (r == 0)
		*out = u;
	return r;
}

/* ---- what the built-in snapshotters share about their directories ---- */

int ctr_snap_store_lock(struct ctr_snap_store *st, bool exclusive, ctr_error **err)
{
	return ctr_lock_path(st->dir_fd, "cleanup.lock", exclusive, -1, err);
}

int ctr_snap_store_get_active(struct ctr_snap_store *st, const char *key, int64_t *id, ctr_error **err)
{
	enum ctr_snap_kind kind;
	int r = ctr_snap_store_get(st, key, id, &kind, NULL, NULL, err);
	if (r == 0 && kind != CTR_SNAP_ACTIVE)
		r = ctr_err(err, CTR_EPRECONDITION, 0, "snapshot %s: not active (%s)", key, ctr_snap_kind_name(kind));
	return r;
}

int ctr_snap_store_update_tx(struct ctr_snap_store *st, const char *key, const char *labels_json, ctr_error **err)
{
	int r = ctr_snap_store_begin(st, err);
	if (r < 0)
		return r;
	r = ctr_snap_store_update(st, key, labels_json, err);
	if (r == 0)
		return ctr_snap_store_commit_tx(st, err);
	ctr_snap_store_rollback(st);
	return r;
}

int ctr_snap_store_remove_dir(struct ctr_snap_store *st, const char *key, char *rm, size_t rm_len,
			      ctr_error **err)
{
	int r = ctr_snap_store_begin(st, err);
	if (r < 0)
		return r;
	int64_t id;
	enum ctr_snap_kind kind;
	r = ctr_snap_store_remove(st, key, &id, &kind, err);
	char name[32];
	snprintf(name, sizeof(name), "%lld", (long long)id);
	snprintf(rm, rm_len, "rm-%lld", (long long)id);
	if (r == 0 && renameat(st->snapshots_fd, name, st->snapshots_fd, rm) < 0 && errno != ENOENT)
		r = ctr_err_errno(err, errno, "snapshot %s: rename for removal", key);
	if (r < 0) {
		ctr_snap_store_rollback(st);
		return r;
	}
	if ((r = ctr_snap_store_commit_tx(st, err)) < 0)
		renameat(st->snapshots_fd, rm, st->snapshots_fd, name);
	return r;
}

int ctr_snap_store_cleanup(struct ctr_snap_store *st, ctr_snap_destroy_fn destroy, void *ud, ctr_error **err)
{
	_cleanup_close_ int lock = ctr_snap_store_lock(st, true, err);
	if (lock < 0)
		return lock;
	int fd = openat(st->snapshots_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ctr_err_errno(err, errno, "snapshots cleanup: opendir");
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool orphan = !strncmp(de->d_name, "new-", 4) || !strncmp(de->d_name, "rm-", 3);
		if (!orphan) {
			char *end;
			long long id = strtoll(de->d_name, &end, 10);
			int ex = *end ? 0 : ctr_snap_store_id_exists(st, id, err);
			if (ex < 0)
				r = ex;
			orphan = ex == 0;
		}
		if (r == 0 && orphan)
			r = destroy(ud, de->d_name, err);
	}
	closedir(d);
	return r;
}
