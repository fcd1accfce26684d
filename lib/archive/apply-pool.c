/* Worker threads that create regular files for ctr_archive_apply.
 *
 * Creating a file costs far more kernel time than reading it from the tar
 * (ARCHITECTURE.md, "Data flow: pull"), and that cost parallelises, so the reader
 * hands small files (content already in memory) to a few workers. Workers
 * only ever create a new name in a directory fd that the reader resolved
 * inside the layer, with O_CREAT|O_EXCL|O_NOFOLLOW: they never resolve a
 * path and never remove anything, so the reader alone decides what the
 * namespace looks like. */
#include "apply-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"

void apply_meta_clear(struct apply_meta *m)
{
	for (size_t i = 0; i < m->n_xattrs; i++) {
		free(m->xattrs[i].name);
		free(m->xattrs[i].value);
	}
	free(m->xattrs);
	m->xattrs = NULL;
	m->n_xattrs = 0;
}

bool apply_xattr_ignorable(const struct apply_meta *m, const char *name, int e)
{
	if (e == ENOTSUP)
		return true; /* the file system has no xattrs of this kind */
	return e == EPERM && m->unprivileged && strncmp(name, "user.", 5) != 0;
}

struct apply_dir *apply_dir_ref(struct apply_dir *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void apply_dir_unref(struct apply_dir *d)
{
	if (!d)
		return;
	if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		close(d->fd);
		free(d);
	}
}

void apply_job_free(struct apply_job *j)
{
	if (!j)
		return;
	apply_dir_unref(j->dir);
	free(j->base);
	free(j->name);
	free(j->data);
	apply_meta_clear(&j->meta);
	free(j);
}

int apply_meta_fd(int fd, const char *name, const struct apply_meta *m, bool set_mode,
		  bool set_times, ctr_error **err)
{
	if (m->chown && fchown(fd, m->uid, m->gid) < 0)
		return ctr_err_errno(err, errno, "apply: %.300s: chown %u:%u", name, (unsigned)m->uid,
				     (unsigned)m->gid);
	for (size_t i = 0; i < m->n_xattrs; i++) {
		const struct apply_xattr *x = &m->xattrs[i];
		if (fsetxattr(fd, x->name, x->value, x->len, 0) < 0) {
			if (apply_xattr_ignorable(m, x->name, errno))
				continue;
			return ctr_err_errno(err, errno, "apply: %.300s: set xattr %.100s", name, x->name);
		}
	}
	if (set_mode && fchmod(fd, m->mode & 07777) < 0)
		return ctr_err_errno(err, errno, "apply: %.300s: chmod", name);
	if (set_times && futimens(fd, m->times) < 0)
		return ctr_err_errno(err, errno, "apply: %.300s: set times", name);
	return 0;
}

int apply_write_job(struct apply_job *j, ctr_error **err)
{
	_cleanup_close_ int fd = openat(j->dir->fd, j->base,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctr_err_errno(err, errno, "apply: %.300s: create", j->name);
	if (j->size) {
		int r = ctr_write_all(fd, j->data, j->size);
		if (r < 0)
			return ctr_err_errno(err, -r, "apply: %.300s: write", j->name);
	}
	return apply_meta_fd(fd, j->name, &j->meta, true, true, err);
}

static void *worker(void *arg)
{
	struct apply_queue *q = arg;
	struct apply_pool *p = q->pool;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!q->head && !p->stop)
			pthread_cond_wait(&q->cv, &p->mu);
		if (!q->head)
			break; /* stop and nothing left */
		struct apply_job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		bool skip = p->stop || p->failed;
		pthread_mutex_unlock(&p->mu);

		ctr_error *e = NULL;
		int r = skip ? 0 : apply_write_job(j, &e);
		size_t sz = j->size;
		apply_job_free(j);

		pthread_mutex_lock(&p->mu);
		if (r < 0 && !p->failed) {
			p->err = e;
			__atomic_store_n(&p->failed, r, __ATOMIC_RELEASE);
			e = NULL;
		}
		ctr_error_free(e);
		p->bytes -= sz;
		p->jobs--;
		pthread_cond_broadcast(&p->cv_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int apply_pool_start(struct apply_pool *p, unsigned n, size_t max_bytes, ctr_error **err)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	for (unsigned i = 0; i < CTR_ARRAY_SIZE(p->q); i++) {
		pthread_cond_init(&p->q[i].cv, NULL);
		p->q[i].pool = p;
		p->q[i].idx = i;
	}
	p->max_bytes = max_bytes;
	p->max_jobs = 1024;
	if (n > CTR_ARRAY_SIZE(p->threads))
		n = CTR_ARRAY_SIZE(p->threads);
	for (unsigned i = 0; i < n; i++) {
		int r = pthread_create(&p->threads[i], NULL, worker, &p->q[i]);
		if (r != 0) {
			apply_pool_stop(p);
			return ctr_err(err, r == EAGAIN ? CTR_EUNAVAILABLE : CTR_EIO, r, "apply: start worker");
		}
		p->n_threads++;
	}
	return 0;
}

void apply_pool_submit(struct apply_pool *p, struct apply_job *j)
{
	pthread_mutex_lock(&p->mu);
	/* A job bigger than the byte bound alone still goes when the queue is
	 * empty, so the bound can never deadlock the reader. */
	while (p->jobs > 0 && (p->bytes + j->size > p->max_bytes || p->jobs >= p->max_jobs))
		pthread_cond_wait(&p->cv_done, &p->mu);
	struct apply_queue *q = &p->q[(unsigned long long)j->dir->ino % p->n_threads];
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	p->bytes += j->size;
	p->jobs++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&p->mu);
}

int apply_pool_drain(struct apply_pool *p, ctr_error **err)
{
	pthread_mutex_lock(&p->mu);
	while (p->jobs > 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	int r = p->failed;
	if (r < 0 && p->err) {
		if (err && !*err)
			*err = p->err;
		else
			ctr_error_free(p->err);
		p->err = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

void apply_pool_stop(struct apply_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	for (unsigned i = 0; i < CTR_ARRAY_SIZE(p->q); i++)
		pthread_cond_broadcast(&p->q[i].cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
	/* Threads drain their queues before exiting (skipping the writes);
	 * free anything left (no threads were started). */
	for (unsigned i = 0; i < CTR_ARRAY_SIZE(p->q); i++) {
		struct apply_queue *q = &p->q[i];
		while (q->head) {
			struct apply_job *j = q->head;
			q->head = j->next;
			apply_job_free(j);
		}
		q->tail = NULL;
		pthread_cond_destroy(&q->cv);
	}
	ctr_error_free(p->err);
	p->err = NULL;
	pthread_cond_destroy(&p->cv_done);
	pthread_mutex_destroy(&p->mu);
}
