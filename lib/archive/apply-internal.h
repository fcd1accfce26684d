/* Shared between apply.c (the tar reader, which owns the namespace) and
 * apply-pool.c (workers that create regular files). */
#ifndef CTR_ARCHIVE_APPLY_INTERNAL_H
#define CTR_ARCHIVE_APPLY_INTERNAL_H

#include <ctr/common.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

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
	struct timespec times[2]; /* atime, mtime */
	struct apply_xattr *xattrs;
	size_t n_xattrs;
};

void apply_meta_clear(struct apply_meta *m);

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

struct apply_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv_work;  /* a job was queued or stop was set */
	pthread_cond_t cv_done;  /* a job finished */
	struct apply_job *head, *tail;
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

#endif
