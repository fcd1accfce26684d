/* Unpacking an image from the content store through the streaming unpacker,
 * every layer at once (DESIGN.md "Data flow: pull" without the network):
 * one feeder thread per layer reads its blob into the layer's unpacker,
 * at most CTR_UNPACK_PARALLEL layers are in flight, and this thread starts
 * them in layer order (so chain locks are taken in the same order by every
 * process: no deadlock) and commits them in layer order. */
#include <ctr/leases.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "error.h"
#include "resolve.h"
#include "metadata.h"
#include "snapshots.h"
#include "unpack-stream.h"
#include "unpack.h"
#include "macro.h"
#include "gc-labels.h"

struct par {
	const struct ctr_unpack_progress *progress;
	pthread_mutex_t mu; /* progress calls, one at a time */
	int cancel;         /* atomic: stop feeding */
};

struct job {
	struct par *p;
	struct ctr_layer_unpack *u;
	const struct ctr_desc *layer;
	int fd;
	pthread_t th;
	bool th_on;
	int r;
	ctr_error *err;
};

#define FEED_CHUNK (256u << 10)

static void *feed_main(void *arg)
{
	struct job *j = arg;
	_cleanup_free_ unsigned char *buf = malloc(FEED_CHUNK);
	uint64_t off = 0;
	int r = buf ? 0 : ctr_err_nomem(&j->err);
	while (r == 0) {
		if (__atomic_load_n(&j->p->cancel, __ATOMIC_ACQUIRE)) {
			r = ctr_err(&j->err, CTR_ECANCELED, 0, "unpack canceled");
			break;
		}
		ssize_t n = pread(j->fd, buf, FEED_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ctr_err_errno(&j->err, errno, "read layer %s", j->layer->digest);
			break;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		r = ctr_layer_unpack_write(j->u, buf, (size_t)n, &j->err);
		const struct ctr_unpack_progress *pg = j->p->progress;
		if (r == 0 && pg && pg->fn) {
			pthread_mutex_lock(&j->p->mu);
			int q = pg->fn(j->layer->digest, off, (uint64_t)j->layer->size, pg->ud);
			pthread_mutex_unlock(&j->p->mu);
			if (q != 0)
				r = ctr_err(&j->err, CTR_ECANCELED, 0, "unpack canceled");
		}
	}
	int q = ctr_layer_unpack_finish(j->u, r == 0, &j->err);
	j->r = r < 0 ? r : q;
	if (j->r < 0)
		__atomic_store_n(&j->p->cancel, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int start_job(struct job *j, ctr_client *c, const char *ns, const char *sn, const char *diff_id,
		     const char *chain, const char *parent, const struct ctr_call *call, ctr_error **err)
{
	int r = ctr_layer_unpack_start(&j->u, c, ns, sn, j->layer, diff_id, chain, parent, call, 0, err);
	if (r < 0 || ctr_layer_unpack_skipped(j->u))
		return r;
	if ((j->fd = ctr_cs_blob_open(c->cs, j->layer->digest, err)) < 0)
		return ctr_err_prefix(err, j->fd, "layer %s", j->layer->digest);
	int e = pthread_create(&j->th, NULL, feed_main, j);
	if (e)
		return ctr_err_errno(err, e, "unpack: start a layer thread");
	j->th_on = true;
	return 0;
}

static int join_job(struct job *j, ctr_error **err)
{
	if (!j->th_on)
		return 0;
	pthread_join(j->th, NULL);
	j->th_on = false;
	if (j->r < 0 && err && !*err) {
		*err = j->err;
		j->err = NULL;
	}
	return j->r;
}

static int commit_job(struct job *j, ctr_error **err)
{
	int r = join_job(j, err);
	if (r == 0 && j->u)
		r = ctr_layer_unpack_commit(j->u, err);
	return r;
}

int ctr_unpack_parallel(ctr_client *c, const char *ns, const char *media_type, const char *digest,
			const struct ctr_platform_matcher *pm, const char *snapshotter,
			const struct ctr_call *call, const struct ctr_unpack_progress *progress,
			char *top_chain, ctr_error **err)
{
	struct ctr_snapshotter *sn = NULL;
	int r = ctr_client_snapshotter(&sn, c, snapshotter, err);
	if (r < 0)
		return r;
	struct ctr_manifest m = {0};
	struct ctr_image_config cfg = {0};
	char mdigest[CTR_DIGEST_MAX];
	if ((r = ctr_image_resolve(c, ns, media_type, digest, pm, &m, mdigest, &cfg, err)) < 0)
		return r;
	size_t n = m.n_layers, started = 0, done = 0;
	char (*chain)[CTR_DIGEST_MAX] = calloc(n ? n : 1, CTR_DIGEST_MAX);
	struct job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	struct par par = {.progress = progress};
	pthread_mutex_init(&par.mu, NULL);
	char lease_id[64] = "";
	if (!chain || !jobs) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if ((r = ctr_chain_ids((const char *const *)cfg.diff_ids, n, chain, err)) < 0)
		goto out;
	/* A lease of our own holds the extract snapshots, unless the caller
	 * gave one. */
	struct ctr_call lc = {.ns = ns, .lease = call ? call->lease : NULL};
	if (!lc.lease) {
		snprintf(lease_id, sizeof(lease_id), "unpack-%d-%ld", (int)getpid(), (long)time(NULL) ^ (long)random());
		struct ctr_lease l = {0};
		if ((r = ctr_md_lease_create(&l, c->db, ns, lease_id, NULL,
					     ctr_db_now() + 24LL * 3600 * 1000000000LL, err)) < 0) {
			lease_id[0] = 0;
			goto out;
		}
		ctr_md_lease_clear(&l);
		lc.lease = lease_id;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].p = &par;
		jobs[i].fd = -1;
		jobs[i].layer = &m.layers[i];
	}
	while (r == 0 && done < n) {
		if (started < n && started - done < CTR_UNPACK_PARALLEL) {
			r = start_job(&jobs[started], c, ns, sn->name, cfg.diff_ids[started], chain[started],
				      started ? chain[started - 1] : NULL, &lc, err);
			started++;
		} else {
			r = commit_job(&jobs[done++], err);
		}
	}
out:
	/* On failure: stop every feeder, then free (which removes what is not
	 * committed). */
	__atomic_store_n(&par.cancel, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; jobs && i < started; i++) {
		join_job(&jobs[i], NULL);
		ctr_layer_unpack_free(jobs[i].u);
		ctr_error_free(jobs[i].err);
		if (jobs[i].fd >= 0)
			close(jobs[i].fd);
	}
	if (r == 0 && n > 0) {
		/* The config keeps the unpacked top layer alive for GC, as in
		 * containerd: containerd.io/gc.ref.snapshot.<snapshotter>. */
		_cleanup_free_ char *lbl = ctr_gc_label_snapshot(sn->name, chain[n - 1]);
		const char *upd[] = {lbl, NULL};
		r = lbl ? ctr_md_content_update_labels(NULL, c->db, ns, m.config.digest, upd, false, err)
			: ctr_err_nomem(err);
		if (r == 0 && top_chain)
			snprintf(top_chain, CTR_DIGEST_MAX, "%s", chain[n - 1]);
	}
	if (lease_id[0])
		ctr_md_lease_delete(c->db, ns, lease_id, NULL);
	pthread_mutex_destroy(&par.mu);
	free(jobs);
	free(chain);
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	return r;
}
