/* Unpacking while pulling: one streaming unpacker per layer of the manifest
 * chosen for this host, fed by the same sink that writes the layer's ingest
 * (lib/transfer/transfer-fetch.c), so each layer is downloaded, hashed, stored, inflated and
 * applied in one pass, all layers at once. Layers that do not come through
 * the network in this call (already in the store, or written by another
 * process) are fed from the content store. Commits go in layer order. */
#include <ctr/remote.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content-ns.h"
#include "store.h"
#include "error.h"
#include "fetch-ingest.h"
#include "fetch-internal.h"
#include "resolve.h"
#include "metadata.h"
#include "snapshots.h"
#include "gc-labels.h"
#include "unpack-stream.h"
#include "macro.h"

struct ctr_fetch_unpack {
	const struct ctr_manifest *m; /* borrowed from f->mans */
	struct ctr_image_config cfg;
	char (*chain)[CTR_DIGEST_MAX];
	struct ctr_layer_unpack **u;
	size_t n;
	char *snapshotter;
	const char *sn_name; /* snapshotter resolved (the default named), borrowed from the client */
	struct ctr_call call;
};

void ctr_fetch_unpack_free(struct ctr_fetch_unpack *up)
{
	if (!up)
		return;
	for (size_t i = 0; i < up->n; i++)
		ctr_layer_unpack_free(up->u[i]);
	free(up->u);
	free(up->chain);
	free(up->snapshotter);
	ctr_image_config_clear(&up->cfg);
	free(up);
}

static struct fblob *blob_of(struct fetch *f, const char *digest)
{
	for (size_t i = 0; i < f->n_blobs; i++)
		if (!strcmp(f->blobs[i].desc->digest, digest))
			return &f->blobs[i];
	return NULL;
}

/* The config, in the store before the layers: read from the store when the
 * namespace has it, else fetched into memory, verified and stored. */
static int load_config(struct fetch *f, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	ctr_content_writer *w = NULL;
	char *src[] = {f->src_label, NULL};
	int r = ctr_fetch_open_ingest(f, d, 10 * 60 * 1000, src, &w, err);
	if (r < 0)
		return r;
	if (r == 0) {
		struct ctr_remote_desc rd = {.media_type = d->media_type, .digest = (char *)d->digest,
					     .size = (uint64_t)d->size};
		r = ctr_remote_fetch_buf(f->r, &rd, CTR_MAX_CONFIG, buf, len, err);
		if (r == 0 && ctr_content_writer_offset(w) > 0)
			r = ctr_content_writer_reset(w, err);
		if (r == 0)
			r = ctr_content_writer_write(w, *buf, *len, err);
		if (r == 0)
			r = ctr_fetch_commit_blob(f, w, d, src, err);
		ctr_content_writer_free(w);
		if (r < 0) {
			free(*buf);
			*buf = NULL;
		}
		return r;
	}
	return ctr_content_read_all(f->c, f->ns, d->digest, CTR_MAX_CONFIG, buf, len, err);
}

int ctr_fetch_unpack_begin(struct fetch *f, ctr_error **err)
{
	/* The manifest for the pull's platforms (the host's by default) among
	 * those the walk kept, as containerd unpacks for the pull's platform. */
	const struct ctr_manifest *best = NULL;
	size_t best_rank = (size_t)-1;
	struct ctr_platform_matcher host = f->matcher;
	if (host.all)
		ctr_platform_matcher_default(&host);
	for (size_t i = 0; i < f->n_mans; i++) {
		const struct fman *fm = &f->mans[i];
		if (fm->m.kind != CTR_MT_MANIFEST)
			continue;
		size_t rank = fm->desc.has_platform ? ctr_platform_rank(&host, &fm->desc.platform) : 0;
		if (fm->desc.has_platform && rank >= host.n)
			continue;
		if (rank < best_rank) {
			best_rank = rank;
			best = &fm->m;
		}
	}
	if (!best)
		return ctr_err(err, CTR_ENOTFOUND, 0, "unpack: no manifest for the platform");
	struct ctr_fetch_unpack *up = calloc(1, sizeof(*up));
	if (!up)
		return ctr_err_nomem(err);
	f->up = up;
	up->m = best;
	up->call = (struct ctr_call){.ns = f->ns, .lease = f->lease};
	if (f->pull.snapshotter && !(up->snapshotter = strdup(f->pull.snapshotter)))
		return ctr_err_nomem(err);
	struct ctr_snapshotter *sn = NULL;
	int r = ctr_client_snapshotter(&sn, f->c, up->snapshotter, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "unpack");
	up->sn_name = sn->name;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	r = load_config(f, &best->config, &buf, &len, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "unpack: config %s", best->config.digest);
	struct fblob *cb = blob_of(f, best->config.digest);
	if (cb)
		cb->done = true;
	if ((r = ctr_image_config_parse(buf, len, &up->cfg, err)) < 0)
		return r;
	size_t n = best->n_layers;
	if (up->cfg.n_diff_ids != n)
		return ctr_err(err, CTR_EINVAL, 0, "unpack: config has %zu diff_ids for %zu layers", up->cfg.n_diff_ids, n);
	up->chain = calloc(n ? n : 1, CTR_DIGEST_MAX);
	up->u = calloc(n ? n : 1, sizeof(*up->u));
	if (!up->chain || !up->u)
		return ctr_err_nomem(err);
	if ((r = ctr_chain_ids((const char *const *)up->cfg.diff_ids, n, up->chain, err)) < 0)
		return r;
	/* Started in layer order: chain locks are then taken in the same order
	 * by every process. */
	for (size_t i = 0; i < n; i++) {
		r = ctr_layer_unpack_start(&up->u[i], f->c, f->ns, up->snapshotter, &best->layers[i],
					   up->cfg.diff_ids[i], up->chain[i], i ? up->chain[i - 1] : NULL, &up->call,
					   f->pull.max_layer_size, err);
		up->n = i + (r == 0);
		if (r < 0)
			return ctr_err_prefix(err, r, "unpack layer %zu", i);
		if (ctr_layer_unpack_skipped(up->u[i]))
			continue;
		struct fblob *b = blob_of(f, best->layers[i].digest);
		/* A digest listed twice streams into its first layer only. */
		if (b && !b->u)
			b->u = up->u[i];
	}
	return 0;
}

/* Feeds a layer from its committed blob. */
static int feed_from_store(struct fetch *f, struct ctr_layer_unpack *u, const char *digest, ctr_error **err)
{
	_cleanup_close_ int fd = ctr_cs_blob_open(f->c->cs, digest, err);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *buf = malloc(1 << 20);
	if (!buf)
		return ctr_err_nomem(err);
	for (off_t off = 0;;) {
		ssize_t n = pread(fd, buf, 1 << 20, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctr_err_errno(err, errno, "read %s", digest);
		if (n == 0)
			return 0;
		int r = ctr_layer_unpack_write(u, buf, (size_t)n, err);
		if (r < 0)
			return r;
		off += n;
	}
}

int ctr_fetch_unpack_end(struct fetch *f, bool ok, ctr_error **err)
{
	struct ctr_fetch_unpack *up = f->up;
	int r = 0;
	for (size_t i = 0; i < up->n; i++) {
		struct ctr_layer_unpack *u = up->u[i];
		if (ctr_layer_unpack_skipped(u))
			continue;
		const struct ctr_desc *l = &up->m->layers[i];
		struct fblob *b = blob_of(f, l->digest);
		bool streamed = b && b->u == u && b->streamed;
		int rr = 0;
		if (ok && r == 0 && !streamed && !ctr_layer_unpack_deferred(u))
			rr = feed_from_store(f, u, l->digest, err);
		bool whole = ok && r == 0 && rr == 0;
		int fr = ctr_layer_unpack_finish(u, whole, whole ? err : NULL);
		if (rr == 0)
			rr = fr;
		if (rr < 0 && r == 0)
			r = rr;
	}
	for (size_t i = 0; r == 0 && i < up->n; i++) {
		if (ctr_layer_unpack_skipped(up->u[i]))
			continue;
		r = ctr_layer_unpack_commit(up->u[i], err);
		if (r == 0) {
			const struct ctr_desc *l = &up->m->layers[i];
			if (ctr_remote_cfg_progress(&f->cfg, l->digest, l->media_type, l->size, l->size,
						    CTR_PROGRESS_UNPACKING) < 0)
				r = ctr_err(err, CTR_ECANCELED, 0, "canceled");
		}
	}
	if (r == 0 && up->n > 0) {
		/* The config keeps the unpacked top layer alive for GC. */
		_cleanup_free_ char *lbl = ctr_gc_label_snapshot(up->sn_name, up->chain[up->n - 1]);
		const char *upd[] = {lbl, NULL};
		r = lbl ? ctr_md_content_update_labels(NULL, f->c->db, f->ns, up->m->config.digest, upd, false, err)
			: ctr_err_nomem(err);
	}
	/* Detach from the blobs: free removes what was not committed. */
	for (size_t i = 0; i < f->n_blobs; i++)
		f->blobs[i].u = NULL;
	return r < 0 ? ctr_err_prefix(err, r, "unpack") : 0;
}
