/* Records of one snapshotter in its own SQLite file (<dir>/metadata.db,
 * like containerd's per-snapshotter metadata.db): id, key, parent, kind,
 * labels, times. Built-in snapshotters keep their directories under
 * <dir>/snapshots/<id>. */
#ifndef CTR_SNAPSHOT_STORAGE_H
#define CTR_SNAPSHOT_STORAGE_H

#include <ctr/common.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "snapshotter.h"

/* Threads: every thread of a client shares one store per snapshotter. The
 * connection is opened NOMUTEX and guarded by mu (recursive), which
 * ctr_snap_store_begin takes until commit or rollback (so no other thread's
 * statement lands in the transaction) and every other call takes for its
 * own statements. A walk's callback runs under it. */
struct ctr_snap_store {
	sqlite3 *db;
	pthread_mutex_t mu;
	bool in_tx; /* under mu */
	char *dir;
	int dir_fd;       /* <dir> */
	int snapshots_fd; /* <dir>/snapshots */
};

int ctr_snap_store_open(struct ctr_snap_store **out, const char *dir, ctr_error **err);
void ctr_snap_store_close(struct ctr_snap_store *st);

int ctr_snap_store_begin(struct ctr_snap_store *st, ctr_error **err);
int ctr_snap_store_commit_tx(struct ctr_snap_store *st, ctr_error **err);
void ctr_snap_store_rollback(struct ctr_snap_store *st);

/* In a transaction: inserts a new active or view snapshot. *id gets its id;
 * parent_ids (may be NULL) gets the ids of the parent chain, nearest first,
 * NULL-free array of *n_parents (caller frees). */
int ctr_snap_store_create(struct ctr_snap_store *st, enum ctr_snap_kind kind, const char *key,
			  const char *parent, const char *labels_json, int64_t *id,
			  int64_t **parent_ids, size_t *n_parents, ctr_error **err);
/* Id, kind and parent chain of key. */
int ctr_snap_store_get(struct ctr_snap_store *st, const char *key, int64_t *id,
		       enum ctr_snap_kind *kind, int64_t **parent_ids, size_t *n_parents,
		       ctr_error **err);
int ctr_snap_store_stat(struct ctr_snap_store *st, const char *key, struct ctr_snap_info *out,
			ctr_error **err);
/* In a transaction. */
int ctr_snap_store_commit(struct ctr_snap_store *st, const char *name, const char *key,
			  const char *labels_json, const struct ctr_snap_usage *usage, int64_t *id,
			  ctr_error **err);
/* In a transaction: like ctr_snap_store_commit for a key that has no
 * parent, giving the committed name `parent` (NULL: none) as its parent. */
int ctr_snap_store_commit_rebase(struct ctr_snap_store *st, const char *name, const char *key,
				 const char *parent, const char *labels_json,
				 const struct ctr_snap_usage *usage, int64_t *id, ctr_error **err);
/* In a transaction. *id and *kind get what was removed. */
int ctr_snap_store_remove(struct ctr_snap_store *st, const char *key, int64_t *id,
			  enum ctr_snap_kind *kind, ctr_error **err);
int ctr_snap_store_update(struct ctr_snap_store *st, const char *key, const char *labels_json,
			  ctr_error **err);
int ctr_snap_store_usage(struct ctr_snap_store *st, const char *key, struct ctr_snap_usage *out,
			 enum ctr_snap_kind *kind, int64_t *id, ctr_error **err);
int ctr_snap_store_walk(struct ctr_snap_store *st, ctr_snap_walk_fn fn, void *ud, ctr_error **err);
/* Whether an id has a record (for cleanup of orphan directories). */
int ctr_snap_store_id_exists(struct ctr_snap_store *st, int64_t id, ctr_error **err);

/* What the built-in snapshotters share about <dir>/snapshots: */
/* The lock that every prepare, commit and remove holds shared and cleanup
 * exclusive (an fd to close). */
int ctr_snap_store_lock(struct ctr_snap_store *st, bool exclusive, ctr_error **err);
/* The id of an active key: CTR_ENOTFOUND, CTR_EPRECONDITION (not active). */
int ctr_snap_store_get_active(struct ctr_snap_store *st, const char *key, int64_t *id, ctr_error **err);
/* ctr_snap_store_update in its own transaction. */
int ctr_snap_store_update_tx(struct ctr_snap_store *st, const char *key, const char *labels_json, ctr_error **err);
/* Removes key's record and renames its directory <id> to rm-<id> (its name
 * in rm) in one transaction; the caller deletes rm afterwards. */
int ctr_snap_store_remove_dir(struct ctr_snap_store *st, const char *key, char *rm, size_t rm_len,
			      ctr_error **err);
/* Under the exclusive lock, destroys every entry of <dir>/snapshots that no
 * record names (new-*, rm-*, ids without a record) with destroy(ud, name). */
typedef int (*ctr_snap_destroy_fn)(void *ud, const char *name, ctr_error **err);
int ctr_snap_store_cleanup(struct ctr_snap_store *st, ctr_snap_destroy_fn destroy, void *ud, ctr_error **err);

/* The store check (store-check.c): fn(ud, kind, name, detail, repaired)
 * gets each committed snapshot whose <id> directory is missing or holds
 * none of need (NULL-terminated; NULL: the directory is enough), as
 * CTR_CHECK_SNAPSHOT_INCOMPLETE (never repaired here: the caller removes it
 * with its record), and each entry no record names, as
 * CTR_CHECK_SNAPSHOT_ORPHAN_DIR, destroyed first when repair. */
typedef int (*ctr_snap_check_fn)(void *ud, int kind, const char *name, const char *detail, bool repaired);
int ctr_snap_store_check(struct ctr_snap_store *st, const char *const *need, bool repair,
			 ctr_snap_destroy_fn destroy, void *destroy_ud, ctr_snap_check_fn fn, void *ud,
			 ctr_error **err);

/* Size and inode count of a directory tree (du -s, not following links;
 * hardlinked inodes counted once). */
int ctr_dir_usage(int dirfd, struct ctr_snap_usage *out, ctr_error **err);

#endif
