/* Unpacking an image into snapshots (containerd's image.Unpack): each layer
 * is decompressed and applied into a fresh active snapshot on its parent's
 * chain, checked against the config's diff_id, and committed under its
 * chain ID. A half-applied layer never gets the chain ID: it stays under
 * its "extract-..." key, held only by the call's lease, and is removed on
 * failure (or by GC after a crash).
 *
 * Each chain ID is unpacked once even by concurrent processes: a flock per
 * (namespace, snapshotter, chain ID) serialises them, and whoever comes
 * second finds the snapshot committed. */
#include <ctr/image.h>
#include <ctr/leases.h>
#include <ctr/snapshot.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layer-archive.h"
#include "client.h"
#include "store.h"
#include "error.h"
#include "image.h"
#include "resolve.h"
#include "metadata.h"
#include "snapshots.h"
#include "unpack.h"
#include "fs.h"
#include "macro.h"

struct blob_src {
	int fd;
	uint64_t off;
	const struct ctr_unpack_progress *progress;
	const char *digest;
	uint64_t total;
};

static ssize_t blob_read(void *ud, void *buf, size_t len, ctr_error **err)
{
	struct blob_src *s = ud;
	for (;;) {
		ssize_t n = pread(s->fd, buf, len, (off_t)s->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctr_err_errno(err, errno, "read layer %s", s->digest);
		s->off += (uint64_t)n;
		if (s->progress && s->progress->fn && n > 0 &&
		    s->progress->fn(s->digest, s->off, s->total, s->progress->ud) != 0)
			return ctr_err(err, CTR_ECANCELED, 0, "unpack canceled");
		return n;
	}
}

/* Applies one layer blob into the active snapshot key. */
static int apply_layer(ctr_client *c, const char *ns, struct ctr_snapshotter *sn, const char *key,
		       const struct ctr_desc *layer, const char *diff_id,
		       const struct ctr_unpack_progress *progress, ctr_error **err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ctr_snapshot_apply_dir(&dir, c, sn->name, ns, key, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "open %s", dir);
	_cleanup_close_ int bfd = ctr_cs_blob_open(c->cs, layer->digest, err);
	if (bfd < 0)
		return ctr_err_prefix(err, bfd, "layer %s", layer->digest);
	struct blob_src src = {.fd = bfd, .progress = progress, .digest = layer->digest,
			       .total = (uint64_t)layer->size};
	struct ctr_decompress_opts dopts = {0};
	switch (ctr_media_compression(layer->media_type)) {
	case CTR_MT_COMP_GZIP: dopts.format = CTR_COMPRESSION_GZIP; break;
	case CTR_MT_COMP_ZSTD: dopts.format = CTR_COMPRESSION_ZSTD; break;
	case CTR_MT_COMP_NONE: dopts.format = CTR_COMPRESSION_NONE; break;
	default:
		return ctr_err(err, CTR_ENOTSUP, 0, "layer %s: media type %s is not a layer", layer->digest,
			       layer->media_type);
	}
	ctr_decompress *d = NULL;
	if ((r = ctr_decompress_new(&d, blob_read, &src, &dopts, err)) < 0)
		return r;
	struct ctr_apply_opts aopts = {
		.whiteouts = sn->overlay_whiteouts ? CTR_WHITEOUT_OVERLAY : CTR_WHITEOUT_DELETE,
	};
	struct ctr_apply_stats stats;
	r = ctr_archive_apply(dfd, ctr_decompress_read, d, &aopts, &stats, err);
	struct ctr_decompress_stats ds;
	if (r == 0)
		r = ctr_decompress_finish(d, &ds, err);
	ctr_decompress_free(d);
	if (r < 0)
		return ctr_err_prefix(err, r, "layer %s", layer->digest);
	if (strcmp(stats.diff_id, diff_id) != 0)
		return ctr_err(err, CTR_EDIGEST, 0, "layer %s: uncompressed digest %s does not match diff_id %s",
			       layer->digest, stats.diff_id, diff_id);
	if (strcmp(ds.compressed_digest, layer->digest) != 0)
		return ctr_err(err, CTR_EDIGEST, 0, "layer %s: blob digest is %s", layer->digest, ds.compressed_digest);
	return 0;
}

static int set_label_tx_free(ctr_client *c, const char *ns, const char *digest, const char *label, ctr_error **err)
{
	const char *upd[] = {label, NULL};
	return ctr_md_content_update_labels(NULL, c->db, ns, digest, upd, false, err);
}

int ctr_unpack(ctr_client *c, const char *ns, const char *media_type, const char *digest,
	       const struct ctr_platform_matcher *pm, const char *snapshotter, const struct ctr_call *call,
	       const struct ctr_unpack_progress *progress, char *top_chain, ctr_error **err)
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
	size_t n = m.n_layers;
	char (*chain)[CTR_DIGEST_MAX] = calloc(n ? n : 1, CTR_DIGEST_MAX);
	if (!chain) {
		r = ctr_err_nomem(err);
		goto out;
	}
	if ((r = ctr_chain_ids((const char *const *)cfg.diff_ids, n, chain, err)) < 0)
		goto out;
	/* A lease of our own holds the extract snapshots while we work, unless
	 * the caller gave one. */
	char lease_id[64] = "";
	if (!call || !call->lease) {
		snprintf(lease_id, sizeof(lease_id), "unpack-%d-%ld", (int)getpid(), (long)time(NULL) ^ (long)random());
		struct ctr_lease l = {0};
		if ((r = ctr_md_lease_create(&l, c->db, ns, lease_id, NULL,
					     ctr_db_now() + 24LL * 3600 * 1000000000LL, err)) < 0)
			goto out;
		ctr_md_lease_clear(&l);
	}
	ctr_opt *nsopt = ctr_with_call_namespace(ns);
	ctr_opt *lease = ctr_with_lease(lease_id[0] ? lease_id : call->lease);
	const ctr_opt *opts[] = {nsopt, lease};
	if (!nsopt || !lease) {
		ctr_opt_free(nsopt);
		ctr_opt_free(lease);
		r = ctr_err_nomem(err);
		goto release;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		ctr_snapshot_info *info = NULL;
		if (ctr_snapshot_stat(&info, c, sn->name, chain[i], opts, 1, NULL) == 0) {
			ctr_snapshot_info_free(info);
			continue;
		}
		_cleanup_close_ int lock = ctr_unpack_chain_lock(c, ns, sn->name, chain[i], err);
		if (lock < 0) {
			r = lock;
			break;
		}
		/* Somebody may have finished it while we waited for the lock. */
		if (ctr_snapshot_stat(&info, c, sn->name, chain[i], opts, 1, NULL) == 0) {
			ctr_snapshot_info_free(info);
			continue;
		}
		char key[CTR_DIGEST_MAX + 64];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(key, sizeof(key), "extract-%ld%09ld-%d %s", (long)ts.tv_sec, ts.tv_nsec, (int)getpid(), chain[i]);
		r = ctr_snapshot_prepare(NULL, c, sn->name, key, i ? chain[i - 1] : NULL, NULL, opts, 2, err);
		if (r < 0)
			break;
		r = apply_layer(c, ns, sn, key, &m.layers[i], cfg.diff_ids[i], progress, err);
		if (r == 0) {
			r = ctr_snapshot_commit(c, sn->name, chain[i], key, NULL, opts, 2, err);
			if (r == CTR_EEXISTS) /* committed meanwhile by a process that did not lock */
				r = 0;
		}
		if (r < 0) {
			ctr_snapshot_remove(c, sn->name, key, opts, 1, NULL);
			break;
		}
		/* containerd records the diff_id on the compressed blob. */
		char lbl[200];
		snprintf(lbl, sizeof(lbl), "containerd.io/uncompressed=%s", cfg.diff_ids[i]);
		set_label_tx_free(c, ns, m.layers[i].digest, lbl, NULL);
	}
	if (r == 0 && n > 0) {
		/* The config keeps the unpacked top layer alive for GC, as in
		 * containerd: containerd.io/gc.ref.snapshot.<snapshotter>. */
		char lbl[300];
		snprintf(lbl, sizeof(lbl), "containerd.io/gc.ref.snapshot.%s=%s", sn->name, chain[n - 1]);
		r = set_label_tx_free(c, ns, m.config.digest, lbl, err);
		if (r == 0 && top_chain)
			snprintf(top_chain, CTR_DIGEST_MAX, "%s", chain[n - 1]);
	}
	ctr_opt_free(nsopt);
	ctr_opt_free(lease);
release:
	if (lease_id[0])
		ctr_md_lease_delete(c->db, ns, lease_id, NULL);
out:
	free(chain);
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	return r;
}

CTR_EXPORT int ctr_image_unpack(ctr_image *img, const char *snapshotter, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err)
{
	if (!img)
		return ctr_err(err, CTR_EINVAL, 0, "unpack: image is NULL");
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, "unpack", err);
	if (r < 0)
		return r;
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_default(&pm);
	/* Layers apply side by side where each gets its own directory whatever
	 * its parent (overlayfs); on top of a copy of the parent otherwise. */
	struct ctr_snapshotter *sn = NULL;
	if ((r = ctr_client_snapshotter(&sn, img->c, snapshotter, err)) < 0)
		return ctr_err_prefix(err, r, "unpack %s", img->md.name);
	bool parallel = sn->ops->commit_rebase && sn->overlay_whiteouts;
	r = (parallel ? ctr_unpack_parallel : ctr_unpack)(img->c, img->ns, img->md.media_type, img->md.digest, &pm, snapshotter, &call, NULL, NULL, err);
	return r < 0 ? ctr_err_prefix(err, r, "unpack %s", img->md.name) : 0;
}

CTR_EXPORT int ctr_image_is_unpacked(int *out, const ctr_image *img, const char *snapshotter, ctr_error **err)
{
	char *chain = NULL;
	int r = ctr_image_chain_id(&chain, img, err);
	if (r < 0)
		return r;
	ctr_opt *ns = ctr_with_call_namespace(img->ns);
	ctr_snapshot_info *info = NULL;
	r = ctr_snapshot_stat(&info, img->c, snapshotter, chain, CTR_OPTS(ns), NULL);
	ctr_opt_free(ns);
	free(chain);
	*out = r == 0 && ctr_snapshot_info_kind(info) == CTR_SNAPSHOT_COMMITTED;
	ctr_snapshot_info_free(info);
	return 0;
}
