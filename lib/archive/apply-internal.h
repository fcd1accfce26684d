/* Shared by the pieces of ctr_archive_apply: apply.c (the tar reader, which
 * owns the namespace), apply-entry.c (entry handlers on the reader thread),
 * apply-names.c (name cleaning) and apply-pool.c (workers that create
 * regular files). */
#ifndef CTR_ARCHIVE_APPLY_INTERNAL_H
#define CTR_ARCHIVE_APPLY_INTERNAL_H

#include <ctr/common.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "layer-archive.h"
#include "digest.h"

struct apply_xattr {
	char *name;
	void *value;
	size_t len;
};

/* What every entry type carries besides its content. */
struct apply_meta {
	mode_t mode; /* permission bits incl. setuid/setgid/sticky */
	uid_t uid;
	gid_t gid;
	bool chown;
	/* Not root: security.* and trusted.* xattrs that the kernel refuses
	 * (EPERM) are dropped like ownership is, as GNU tar run by a user. */
	bool unprivileged;
	struct timespec times[2]; /* atime, mtime */
	struct apply_xattr *xattrs;
	size_t n_xattrs;
};

void apply_meta_clear(struct apply_meta *m);
/* Whether a failed set of xattr name with errno e may be ignored. */
bool apply_xattr_ignorable(const struct apply_meta *m, const char *name, int e);

/* A directory fd resolved inside the layer, shared by the reader's cache and
 * queued jobs. Freed when the last reference goes. */
struct apply_dir {
	int fd;
	int refs;
	dev_t dev;
	ino_t ino;
	bool sgid; /* new files inherit the directory's group */
};
struct apply_dir *apply_dir_ref(struct apply_dir *d);
void apply_dir_unref(struct apply_dir *d);

/* Sets ownership, xattrs, mode and times on an open regular file or dir, in
 * the order that keeps them: chown first (it clears setuid and file caps),
 * then xattrs, then the mode, then times. times NULL: left alone. */
int apply_meta_fd(int fd, const char *name, const struct apply_meta *m, bool set_mode,
		  bool set_times, ctr_error **err);

/* One regular file whose content is in memory. */
struct apply_job {
	struct apply_job *next;
	struct apply_dir *dir;
	char *base;
	char *name; /* entry name, for errors */
	unsigned char *data;
	size_t size;
	struct apply_meta meta;
};
void apply_job_free(struct apply_job *j);

/* Creates dir/base (which must not exist: O_CREAT|O_EXCL|O_NOFOLLOW) with
 * the job's content and metadata. */
int apply_write_job(struct apply_job *j, ctr_error **err);

/* One queue per worker; a job goes to the queue of its directory (inode
 * modulo the workers). Creating files in one directory serialises on that
 * directory's lock in the kernel, so workers spread over directories
 * instead of queueing behind each other in the same one. */
struct apply_queue {
	struct apply_job *head, *tail;
	pthread_cond_t cv; /* a job was queued here, or stop was set */
	struct apply_pool *pool;
	unsigned idx;
};

struct apply_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv_done;  /* a job finished */
	struct apply_queue q[8];
	size_t bytes, jobs;      /* queued or running */
	size_t max_bytes, max_jobs;
	bool stop;
	int failed;              /* first error code, read without the lock */
	ctr_error *err;
	pthread_t threads[8];
	unsigned n_threads;
};

int apply_pool_start(struct apply_pool *p, unsigned n, size_t max_bytes, ctr_error **err);
/* Takes ownership of j. Blocks while the queue is over its bounds. */
void apply_pool_submit(struct apply_pool *p, struct apply_job *j);
/* Waits until every queued job has finished. Returns the first worker
 * error (moved into *err) or 0. */
int apply_pool_drain(struct apply_pool *p, ctr_error **err);
/* Discards queued jobs, waits for running ones and joins the threads. */
void apply_pool_stop(struct apply_pool *p);

/* ---- the reader's state (apply.c) ----------------------------------------- */

#define RBUF_SIZE (128u * 1024)
#define NAME_MAX_LEN 4095
#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* A small open-addressing set of strings. */
struct strset {
	char **slots;
	size_t cap, n;
};
bool ap_strset_has(const struct strset *s, const char *k);
int ap_strset_add(struct strset *s, const char *k); /* -ENOMEM or 0 */
void ap_strset_clear(struct strset *s);
void ap_strset_free(struct strset *s);

/* Lexical clean of a tar name against "/" (apply-names.c): drops empty and
 * "." components, ".." pops but never above the root. No leading or
 * trailing "/"; "" is the root itself. NULL on OOM. */
char *ap_clean_name(const char *in);
/* The next component of a name at *p (empty and "." ones skipped), its
 * length in *len; *p moves past it. NULL at the end. */
const char *ap_next_component(const char **p, size_t *len);
/* Splits a cleaned name in place into parent ("" at the root) and base. */
void ap_split_name(char *clean, const char **parent, const char **base);

struct deferred_dir {
	char *name;
	mode_t mode;
	struct timespec times[2];
};

struct apply {
	int root;
	struct ctr_apply_opts o;
	bool do_chown;
	uid_t euid;
	gid_t egid;
	struct archive *ar;
	ctr_archive_read_fn read;
	void *ud;
	ctr_error *read_err;
	int read_failed;
	bool read_eof;
	unsigned char *rbuf;
	ctr_hasher *hash;
	uint64_t tar_bytes, entries, file_bytes;

	/* The reader's one-entry cache of the last parent directory. */
	char *cache_path;
	struct apply_dir *cache_dir;

	bool pool_on;
	struct apply_pool pool;
	struct strset pending; /* "dev:ino/base" handed to workers */
	struct strset touched; /* DELETE mode: names this layer created, and their ancestors */

	struct deferred_dir *dirs;
	size_t n_dirs, cap_dirs;

	const char *entry; /* raw name of the current entry, for errors */
};

/* libarchive's read callback over a->read: hashes and counts the stream
 * (ud is the struct apply). */
la_ssize_t ap_la_read(struct archive *ar, void *ud, const void **buf);

/* An entry's name, checked and cleaned as every writer of a layer does
 * (apply.c): name (cleaned) and split (cut into parent and base) belong
 * to the caller, free them with ap_entry_name_clear. */
struct ap_entry_name {
	char *name, *split;
	const char *parent, *base;
	mode_t type;
	bool is_link;
};
/* 0 with n filled, 1 when the entry is skipped (AUFS metadata at the top,
 * the root directory itself), or CTR_EINVAL (no name, too long, a
 * non-directory at the root) / CTR_ENOMEM. Sets a->entry. */
int ap_entry_name(struct apply *a, struct archive_entry *e, struct ap_entry_name *n, ctr_error **err);
void ap_entry_name_clear(struct ap_entry_name *n);

/* Errors naming the current entry (apply.c). */
int ap_eerr(struct apply *a, ctr_error **err, int code, int e, const char *what);
int ap_eerrno(struct apply *a, ctr_error **err, int e, const char *what);
/* libarchive failed: the source's own error when it was the source. */
int ap_archive_fail(struct apply *a, ctr_error **err);

/* Namespace helpers, reader thread only (apply-dirs.c). */
int ap_touch(struct apply *a, const char *parent, const char *base, ctr_error **err);
int ap_get_parent(struct apply *a, const char *parent, struct apply_dir **out, ctr_error **err);
int ap_drain(struct apply *a, ctr_error **err);
int ap_open_dir(struct apply *a, const char *path, bool create, int flags, ctr_error **err);
void ap_cache_drop(struct apply *a);
int ap_wait_if_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err);
int ap_prepare_slot(struct apply *a, struct apply_dir *d, const char *base, bool want_dir, ctr_error **err);
int ap_add_pending(struct apply *a, const struct apply_dir *d, const char *base, ctr_error **err);

/* Entry handlers (apply-entry.c). m may be taken over (zeroed) by
 * ap_do_regular when the file goes to a worker. */
int ap_read_meta(struct apply *a, struct archive_entry *e, struct apply_meta *m, ctr_error **err);
int ap_do_regular(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		  struct apply_meta *m, ctr_error **err);
int ap_do_dir(struct apply *a, struct apply_dir *d, const char *parent, const char *base,
	      const struct apply_meta *m, ctr_error **err);
int ap_do_link(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *name,
	       const char *base, ctr_error **err);
int ap_do_special(struct apply *a, struct archive_entry *e, struct apply_dir *d, const char *base,
		  const struct apply_meta *m, ctr_error **err);

#endif
