/* The streaming layer unpacker: see unpack-stream.h for the life of one
 * layer and its modes. The byte path is
 *
 *   write() --> ring (bounded, blocks the writer) --> apply thread:
 *               ctr_decompress --> ctr_archive_apply --> extract dir
 *
 * The apply thread never waits for anything but the ring, so a writer is
 * only ever held up by its own layer's disk writes. When apply fails the
 * thread keeps draining the ring, so the writer never blocks on a dead
 * layer; finish reports the failure. */
#include <ctr/leases.h>
#include <ctr/snapshot.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layer-archive.h"
#include "erofs.h"
#include "store.h"
#include "error.h"
#include "metadata.h"
#include "copy.h"
#include "snapshots.h"
#include "unpack-stream.h"
#include "unpack.h"
#include "macro.h"
#include "strv.h"

enum mode {
	M_SKIP,     /* already committed */
	M_REBASE,   /* applied without a parent, parent given at commit */
	M_SERIAL,   /* applied on the committed parent as the bytes come */
	M_DEFERRED, /* applied on the parent at commit, from the content store */
};

struct ctr_layer_unpack {
	ctr_client *c;
	struct ctr_snapshotter *sn;
	char *ns, *lease, *media_type;
	char digest[CTR_DIGEST_MAX], diff_id[CTR_DIGEST_MAX];
	char chain[CTR_DIGEST_MAX], parent[CTR_DIGEST_MAX]; /* parent "": none */
	int64_t size;
	uint64_t max_output; /* 0: the decompressor's default */
	enum mode mode;
	int lock_fd;
	char key[CTR_DIGEST_MAX + 64];
	char *dir; /* apply dir of key */
	char *image; /* the layer's image file (erofs), or NULL: into dir */
	char **labels; /* for the committed snapshot, or NULL */
	bool prepared, finished, committed, dead, needs_redo;

	/* ring and apply thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *ring;
	size_t head, len;
	bool eof, abort, th_on, th_done;
	pthread_t th;
	int th_r;
	ctr_error *th_err;
	/* Everything the apply thread took from the ring: tells a corrupt blob
	 * (CTR_EDIGEST) from a bad layer when apply fails. */
	ctr_hasher *hash;
	uint64_t bytes_in;
	struct ctr_apply_stats stats;
	struct ctr_decompress_stats ds;
};

/* Snapshot and metadata calls of one client's unpackers, one at a time: a
 * layer's start, reset, commit and cleanup each make several calls that
 * belong together (the client's mutex; other clients are not held up). */
void ctr_unpack_md_lock(ctr_client *c)
{
	pthread_mutex_lock(&c->unpack_mu);
}

void ctr_unpack_md_unlock(ctr_client *c)
{
	pthread_mutex_unlock(&c->unpack_mu);
}

/* ---- snapshot calls ---- */

/* The snapshot calls run in u's namespace and under u's lease. */
static struct ctr_call scope(const struct ctr_layer_unpack *u)
{
	return (struct ctr_call){.ns = u->ns, .lease = u->lease};
}

/* 1 when name is committed in u's namespace, 0 when not. */
static int is_committed(struct ctr_layer_unpack *u, const char *name)
{
	struct ctr_call call = scope(u);
	ctr_snapshot_info *info = NULL;
	ctr_unpack_md_lock(u->c);
	int r = ctr_snapshots_stat(&info, u->c, u->sn->name, name, &call, NULL);
	ctr_unpack_md_unlock(u->c);
	bool yes = r == 0 && ctr_snapshot_info_kind(info) == CTR_SNAPSHOT_COMMITTED;
	ctr_snapshot_info_free(info);
	return yes;
}

static void remove_extract(struct ctr_layer_unpack *u)
{
	if (!u->prepared)
		return;
	struct ctr_call call = scope(u);
	ctr_unpack_md_lock(u->c);
	ctr_snapshots_remove(u->c, u->sn->name, u->key, &call, NULL);
	ctr_unpack_md_unlock(u->c);
	u->prepared = false;
	free(u->dir);
	u->dir = NULL;
	free(u->image);
	u->image = NULL;
}

/* A fresh extract snapshot on parent (NULL: none) and its apply dir. */
static int prepare_extract(struct ctr_layer_unpack *u, const char *parent, ctr_error **err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(u->key, sizeof(u->key), "extract-%ld%09ld-%d %s", (long)ts.tv_sec, ts.tv_nsec, (int)getpid(),
		 u->chain);
	struct ctr_call call = scope(u);
	ctr_unpack_md_lock(u->c);
	int r = ctr_snapshots_prepare(NULL, u->c, u->sn->name, u->key, parent, NULL, false, &call, err);
	if (r == 0) {
		u->prepared = true;
		r = ctr_snapshot_apply_dir(&u->dir, u->c, u->sn->name, u->ns, u->key, err);
	}
	if (r == 0 && u->sn->ops->apply_image)
		r = ctr_snapshot_apply_image(&u->image, u->c, u->sn->name, u->ns, u->key, err);
	ctr_unpack_md_unlock(u->c);
	if (r < 0)
		remove_extract(u);
	return r;
}

static void release_lock(struct ctr_layer_unpack *u)
{
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	u->lock_fd = -1;
}

/* The unpacker is done for: nothing of it stays. */
static void kill_layer(struct ctr_layer_unpack *u)
{
	remove_extract(u);
	release_lock(u);
	u->dead = true;
}

/* ---- apply ---- */

static int decompress_format(const struct ctr_layer_unpack *u, enum ctr_compression *f, ctr_error **err)
{
	switch (ctr_media_compression(u->media_type)) {
	case CTR_MT_COMP_GZIP: *f = CTR_COMPRESSION_GZIP; return 0;
	case CTR_MT_COMP_ZSTD: *f = CTR_COMPRESSION_ZSTD; return 0;
	case CTR_MT_COMP_NONE: *f = CTR_COMPRESSION_NONE; return 0;
	default:
		return ctr_err(err, CTR_ENOTSUP, 0, "layer %s: media type %s is not a layer", u->digest, u->media_type);
	}
}

/* Decompresses read() and applies it into u->dir, or writes it as
 * u->image (lower: the parents' root for hardlinks into them, or -1);
 * fills stats and ds. */
static int apply_from(struct ctr_layer_unpack *u, ctr_archive_read_fn read, void *ud, int lower,
		      struct ctr_apply_stats *stats, struct ctr_decompress_stats *ds, ctr_error **err)
{
	struct ctr_decompress_opts dopts = {.max_output = u->max_output};
	int r = decompress_format(u, &dopts.format, err);
	if (r < 0)
		return r;
	const char *path = u->image ? u->image : u->dir;
	_cleanup_close_ int dfd = u->image ? open(u->image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
					   : open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "open %s", path);
	ctr_decompress *d = NULL;
	if ((r = ctr_decompress_new(&d, read, ud, &dopts, err)) < 0)
		return r;
	struct ctr_apply_opts aopts = {
		.whiteouts = u->sn->overlay_whiteouts ? CTR_WHITEOUT_OVERLAY : CTR_WHITEOUT_DELETE,
	};
	if (u->image)
		r = ctr_archive_apply_erofs(dfd, lower, ctr_decompress_read, d, &aopts, stats, err);
	else
		r = ctr_archive_apply(dfd, ctr_decompress_read, d, &aopts, stats, err);
	if (r == 0)
		r = ctr_decompress_finish(d, ds, err);
	ctr_decompress_free(d);
	return r;
}

static int verify(const struct ctr_layer_unpack *u, const struct ctr_apply_stats *stats,
		  const struct ctr_decompress_stats *ds, ctr_error **err)
{
	if (strcmp(stats->diff_id, u->diff_id) != 0)
		return ctr_err(err, CTR_EDIGEST, 0, "layer %s: uncompressed digest %s does not match diff_id %s",
			       u->digest, stats->diff_id, u->diff_id);
	if (strcmp(ds->compressed_digest, u->digest) != 0)
		return ctr_err(err, CTR_EDIGEST, 0, "layer %s: blob digest is %s", u->digest, ds->compressed_digest);
	if (u->size >= 0 && ds->compressed_bytes != (uint64_t)u->size)
		return ctr_err(err, CTR_EDIGEST, 0, "layer %s: %llu bytes, expected %lld", u->digest,
			       (unsigned long long)ds->compressed_bytes, (long long)u->size);
	return 0;
}

/* The apply thread's source: bytes from the ring. */
static ssize_t ring_read(void *ud, void *buf, size_t len, ctr_error **err)
{
	struct ctr_layer_unpack *u = ud;
	pthread_mutex_lock(&u->mu);
	while (!u->len && !u->eof && !u->abort)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->abort) {
		pthread_mutex_unlock(&u->mu);
		return ctr_err(err, CTR_ECANCELED, 0, "layer %s: stream abandoned", u->digest);
	}
	size_t n = len < u->len ? len : u->len;
	size_t first = CTR_UNPACK_RING_SIZE - u->head;
	if (first > n)
		first = n;
	memcpy(buf, u->ring + u->head, first);
	memcpy((unsigned char *)buf + first, u->ring, n - first);
	u->head = (u->head + n) % CTR_UNPACK_RING_SIZE;
	u->len -= n;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	ctr_hasher_update(u->hash, buf, n);
	u->bytes_in += n;
	return (ssize_t)n;
}

static void *apply_main(void *arg)
{
	struct ctr_layer_unpack *u = arg;
	ctr_error *e = NULL;
	struct ctr_apply_stats stats;
	struct ctr_decompress_stats ds;
	int r = apply_from(u, ring_read, u, -1, &stats, &ds, &e);
	bool redo = false;
	if (r == CTR_ENOTFOUND && u->mode == M_REBASE) {
		/* A hardlink into a lower layer: redone at commit. */
		redo = true;
		r = 0;
		ctr_error_free(e);
		e = NULL;
	}
	if (r < 0 || redo) {
		char buf[1 << 16];
		while (ring_read(u, buf, sizeof(buf), NULL) > 0)
			;
	}
	pthread_mutex_lock(&u->mu);
	u->th_r = r;
	u->th_err = e;
	u->needs_redo = redo;
	if (r == 0 && !redo) {
		u->stats = stats;
		u->ds = ds;
	}
	u->th_done = true;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

static int thread_start(struct ctr_layer_unpack *u, ctr_error **err)
{
	u->head = u->len = 0;
	u->eof = u->abort = u->th_done = u->needs_redo = false;
	u->th_r = 0;
	u->bytes_in = 0;
	ctr_hasher_free(u->hash);
	u->hash = NULL;
	int r = ctr_hasher_new(&u->hash, CTR_DIGEST_SHA256, err);
	if (r < 0)
		return r;
	int e = pthread_create(&u->th, NULL, apply_main, u);
	if (e)
		return ctr_err_errno(err, e, "layer %s: start apply thread", u->digest);
	u->th_on = true;
	return 0;
}

/* Ends the stream (abort: abandons it) and joins the thread. */
static void thread_stop(struct ctr_layer_unpack *u, bool abort)
{
	if (!u->th_on)
		return;
	pthread_mutex_lock(&u->mu);
	if (abort)
		u->abort = true;
	else
		u->eof = true;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->th, NULL);
	u->th_on = false;
}

/* ---- API ---- */


static int check_digest(const char *d, const char *what, ctr_error **err)
{
	ctr_digest_alg alg;
	const char *hex;
	int r = ctr_digest_parse(d, &alg, &hex, err);
	return r < 0 ? ctr_err_prefix(err, r, "unpack: %s", what) : 0;
}

int ctr_layer_unpack_start(struct ctr_layer_unpack **out, ctr_client *c, const char *ns,
			   const char *snapshotter, const struct ctr_desc *layer, const char *diff_id,
			   const char *chain_id, const char *parent_chain, const struct ctr_call *call,
			   uint64_t max_size, ctr_error **err)
{
	if (!c || !ns || !layer || !diff_id || !chain_id)
		return ctr_err(err, CTR_EINVAL, 0, "unpack: missing argument");
	int r = check_digest(layer->digest, "layer digest", err);
	if (r == 0)
		r = check_digest(diff_id, "diff_id", err);
	if (r == 0)
		r = check_digest(chain_id, "chain ID", err);
	if (r == 0 && parent_chain)
		r = check_digest(parent_chain, "parent chain ID", err);
	if (r < 0)
		return r;
	struct ctr_layer_unpack *u = calloc(1, sizeof(*u));
	if (!u)
		return ctr_err_nomem(err);
	u->c = c;
	u->lock_fd = -1;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->ns = strdup(ns);
	u->media_type = strdup(layer->media_type ? layer->media_type : "");
	u->lease = call && call->lease ? strdup(call->lease) : NULL;
	if (!u->ns || !u->media_type || (call && call->lease && !u->lease)) {
		ctr_layer_unpack_free(u);
		return ctr_err_nomem(err);
	}
	snprintf(u->digest, sizeof(u->digest), "%s", layer->digest);
	snprintf(u->diff_id, sizeof(u->diff_id), "%s", diff_id);
	snprintf(u->chain, sizeof(u->chain), "%s", chain_id);
	snprintf(u->parent, sizeof(u->parent), "%s", parent_chain ? parent_chain : "");
	u->size = layer->size;
	u->max_output = max_size;
	ctr_unpack_md_lock(u->c);
	r = ctr_client_snapshotter_ns(&u->sn, c, ns, snapshotter, err);
	ctr_unpack_md_unlock(u->c);
	if (r == 0) {
		enum ctr_compression f;
		r = decompress_format(u, &f, err);
	}
	if (r < 0)
		goto fail;
	if (is_committed(u, u->chain)) {
		u->mode = M_SKIP;
		*out = u;
		return 0;
	}
	/* Whoever holds the lock may be committing it right now. */
	if ((u->lock_fd = ctr_unpack_chain_lock(c, u->ns, u->sn->name, u->chain, err)) < 0) {
		r = u->lock_fd;
		goto fail;
	}
	if (is_committed(u, u->chain)) {
		release_lock(u);
		u->mode = M_SKIP;
		*out = u;
		return 0;
	}
	if (u->sn->ops->commit_rebase && u->sn->overlay_whiteouts)
		u->mode = M_REBASE;
	else if (!u->parent[0] || is_committed(u, u->parent))
		u->mode = M_SERIAL;
	else
		u->mode = M_DEFERRED;
	if (u->mode != M_DEFERRED) {
		r = prepare_extract(u, u->mode == M_SERIAL && u->parent[0] ? u->parent : NULL, err);
		if (r == 0 && !(u->ring = malloc(CTR_UNPACK_RING_SIZE)))
			r = ctr_err_nomem(err);
		if (r == 0)
			r = thread_start(u, err);
		if (r < 0)
			goto fail;
	}
	*out = u;
	return 0;
fail:
	ctr_layer_unpack_free(u);
	return ctr_err_prefix(err, r, "unpack layer %s", layer->digest);
}

bool ctr_layer_unpack_skipped(const struct ctr_layer_unpack *u)
{
	return u && u->mode == M_SKIP;
}

bool ctr_layer_unpack_deferred(const struct ctr_layer_unpack *u)
{
	return u && (u->mode == M_DEFERRED || u->needs_redo);
}

int ctr_layer_unpack_write(struct ctr_layer_unpack *u, const void *buf, size_t len, ctr_error **err)
{
	if (u->dead || u->finished)
		return ctr_err(err, CTR_EINVAL, 0, "unpack layer %s: write after finish", u->digest);
	if (!u->th_on)
		return 0; /* skipped or deferred: the content store has the bytes */
	const unsigned char *p = buf;
	pthread_mutex_lock(&u->mu);
	while (len > 0) {
		while (u->len == CTR_UNPACK_RING_SIZE && !u->th_done)
			pthread_cond_wait(&u->cv, &u->mu);
		if (u->th_done)
			break; /* cannot happen before eof; nothing reads any more */
		size_t tail = (u->head + u->len) % CTR_UNPACK_RING_SIZE;
		size_t room = CTR_UNPACK_RING_SIZE - u->len;
		size_t n = len < room ? len : room;
		size_t first = CTR_UNPACK_RING_SIZE - tail;
		if (first > n)
			first = n;
		memcpy(u->ring + tail, p, first);
		memcpy(u->ring, p + first, n - first);
		u->len += n;
		p += n;
		len -= n;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return 0;
}

int ctr_layer_unpack_reset(struct ctr_layer_unpack *u, ctr_error **err)
{
	if (u->dead || u->finished)
		return ctr_err(err, CTR_EINVAL, 0, "unpack layer %s: reset after finish", u->digest);
	if (!u->th_on)
		return 0;
	thread_stop(u, true);
	ctr_error_free(u->th_err);
	u->th_err = NULL;
	/* A new, empty snapshot: emptying the old dir would leave its root's
	 * metadata as the abandoned stream set it. */
	remove_extract(u);
	int r = prepare_extract(u, u->mode == M_SERIAL && u->parent[0] ? u->parent : NULL, err);
	if (r == 0)
		r = thread_start(u, err);
	if (r < 0) {
		kill_layer(u);
		return ctr_err_prefix(err, r, "unpack layer %s: reset", u->digest);
	}
	return 0;
}

int ctr_layer_unpack_finish(struct ctr_layer_unpack *u, bool ok, ctr_error **err)
{
	if (u->dead || u->finished)
		return ctr_err(err, CTR_EINVAL, 0, "unpack layer %s: finished already", u->digest);
	if (u->mode == M_SKIP) {
		u->finished = true;
		return 0;
	}
	int r = 0;
	if (u->th_on) {
		thread_stop(u, !ok);
		r = u->th_r;
		char got[CTR_DIGEST_MAX];
		ctr_hasher_peek(u->hash, got);
		bool blob_ok = !strcmp(got, u->digest) && (u->size < 0 || u->bytes_in == (uint64_t)u->size);
		if (r < 0 && ok && !blob_ok) {
			r = ctr_err(err, CTR_EDIGEST, 0, "layer %s: blob digest is %s (%llu bytes): %s", u->digest, got,
				    (unsigned long long)u->bytes_in, ctr_error_message(u->th_err));
		} else if (r < 0 && ok) {
			if (err && !*err) {
				*err = u->th_err;
				u->th_err = NULL;
			}
		}
		if (r == 0 && ok && !u->needs_redo)
			r = verify(u, &u->stats, &u->ds, err);
		else if (r == 0 && ok && !blob_ok)
			r = ctr_err(err, CTR_EDIGEST, 0, "layer %s: blob digest is %s", u->digest, got);
		free(u->ring);
		u->ring = NULL;
	}
	if (!ok || r < 0) {
		/* A full disk: the message says which directory filled it. */
		bool full = ok && err && *err && ((*err)->sys_errno == ENOSPC || (*err)->sys_errno == EDQUOT);
		_cleanup_free_ char *dir = full && u->dir ? strdup(u->dir) : NULL;
		kill_layer(u);
		if (!ok)
			return 0;
		return dir ? ctr_err_prefix(err, r, "unpack layer %s into %s", u->digest, dir)
			   : ctr_err_prefix(err, r, "unpack layer %s", u->digest);
	}
	if (u->needs_redo) /* the first try's tree is of no use */
		remove_extract(u);
	u->finished = true;
	return 0;
}

static int open_blob(struct ctr_layer_unpack *u, struct ctr_archive_fd_src *s, ctr_error **err)
{
	*s = (struct ctr_archive_fd_src){.what = u->digest};
	s->fd = ctr_cs_blob_open(u->c->cs, u->digest, err);
	return s->fd < 0 ? s->fd : 0;
}

/* The hardlink targets the layer does not create itself. */
static int list_link_targets(struct ctr_layer_unpack *u, char ***targets, size_t *n, ctr_error **err)
{
	struct ctr_archive_fd_src s;
	int r = open_blob(u, &s, err);
	if (r < 0)
		return r;
	ctr_decompress *d = NULL;
	struct ctr_decompress_opts dopts = {.max_output = u->max_output};
	r = decompress_format(u, &dopts.format, err);
	if (r == 0)
		r = ctr_decompress_new(&d, ctr_archive_fd_read, &s, &dopts, err);
	if (r == 0)
		r = ctr_archive_missing_link_targets(targets, n, ctr_decompress_read, d, err);
	ctr_decompress_free(d);
	close(s.fd);
	return r;
}

/* A view of the parent chain and an fd on its root (*root -1 on error);
 * parent_view_close undoes both. */
static int parent_view_open(struct ctr_layer_unpack *u, char *vkey, size_t vlen, ctr_mount_list **ml, int *root,
			    ctr_error **err)
{
	snprintf(vkey, vlen, "%s view", u->key);
	struct ctr_call call = scope(u);
	*ml = NULL;
	*root = -1;
	ctr_unpack_md_lock(u->c);
	int r = ctr_snapshots_prepare(ml, u->c, u->sn->name, vkey, u->parent, NULL, true, &call, err);
	ctr_unpack_md_unlock(u->c);
	if (r == 0)
		r = ctr_mounts_open_root((*ml)->v, (*ml)->n, root, err);
	return r;
}

static void parent_view_close(struct ctr_layer_unpack *u, const char *vkey, ctr_mount_list *ml, int root)
{
	if (root >= 0)
		close(root);
	if (ml) {
		struct ctr_call call = scope(u);
		ctr_mount_list_free(ml);
		ctr_unpack_md_lock(u->c);
		ctr_snapshots_remove(u->c, u->sn->name, vkey, &call, NULL);
		ctr_unpack_md_unlock(u->c);
	}
}

/* Copies targets from the parent chain (through a view of it) into u->dir. */
static int copy_up_targets(struct ctr_layer_unpack *u, char **targets, size_t n, ctr_error **err)
{
	char vkey[CTR_DIGEST_MAX + 80];
	ctr_mount_list *ml;
	int root;
	int r = parent_view_open(u, vkey, sizeof(vkey), &ml, &root, err);
	int dst = r == 0 ? open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && dst < 0)
		r = ctr_err_errno(err, errno, "open %s", u->dir);
	for (size_t i = 0; r == 0 && i < n; i++) {
		ctr_error *e = NULL;
		r = ctr_copy_up(root, dst, targets[i], &e);
		if (r == CTR_ENOTFOUND) /* not in the parents either: apply will say so */
			r = 0;
		if (r < 0 && err && !*err) {
			*err = e;
			e = NULL;
		}
		ctr_error_free(e);
	}
	if (dst >= 0)
		close(dst);
	parent_view_close(u, vkey, ml, root);
	return r;
}

/* Makes the layer apply on its own: overlayfs then shows the copy where the
 * lower file was (a copy-up, as if the link were made through the mount). */
static int seed_link_targets(struct ctr_layer_unpack *u, ctr_error **err)
{
	char **targets = NULL;
	size_t n = 0;
	int r = list_link_targets(u, &targets, &n, err);
	if (r == 0 && n > 0 && u->parent[0])
		r = copy_up_targets(u, targets, n, err);
	for (size_t i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	return r;
}

/* Applies the layer now, from the content store (deferred or redone). */
static int apply_stored(struct ctr_layer_unpack *u, ctr_error **err)
{
	remove_extract(u);
	int r = prepare_extract(u, u->mode == M_REBASE ? NULL : (u->parent[0] ? u->parent : NULL), err);
	/* An image takes the targets from the parents as it goes; a
	 * directory gets them copied up first. */
	char vkey[CTR_DIGEST_MAX + 80];
	ctr_mount_list *ml = NULL;
	int lower = -1;
	if (r == 0 && u->mode == M_REBASE && u->image && u->parent[0])
		r = parent_view_open(u, vkey, sizeof(vkey), &ml, &lower, err);
	else if (r == 0 && u->mode == M_REBASE && !u->image)
		r = seed_link_targets(u, err);
	struct ctr_archive_fd_src s = {.fd = -1};
	if (r == 0)
		r = open_blob(u, &s, err);
	struct ctr_apply_stats stats;
	struct ctr_decompress_stats ds;
	if (r == 0)
		r = apply_from(u, ctr_archive_fd_read, &s, lower, &stats, &ds, err);
	if (s.fd >= 0)
		close(s.fd);
	parent_view_close(u, vkey, ml, lower);
	if (r == 0)
		r = verify(u, &stats, &ds, err);
	return r;
}

int ctr_layer_unpack_set_labels(struct ctr_layer_unpack *u, const char *const *labels, ctr_error **err)
{
	if (!labels || !labels[0])
		return 0;
	char **v = ctr_strv_dup(labels);
	if (!v)
		return ctr_err_nomem(err);
	ctr_strv_free(u->labels);
	u->labels = v;
	return 0;
}

int ctr_layer_unpack_commit(struct ctr_layer_unpack *u, ctr_error **err)
{
	if (u->mode == M_SKIP || u->committed)
		return 0;
	if (u->dead)
		return ctr_err(err, CTR_EINVAL, 0, "unpack layer %s: failed earlier", u->digest);
	if (!u->finished)
		return ctr_err(err, CTR_EPRECONDITION, 0, "unpack layer %s: commit before finish", u->digest);
	if (u->parent[0] && !is_committed(u, u->parent))
		return ctr_err(err, CTR_EPRECONDITION, 0, "unpack layer %s: parent %s is not committed", u->digest,
			       u->parent);
	int r = 0;
	if (u->mode == M_DEFERRED || u->needs_redo)
		r = apply_stored(u, err);
	if (r == 0) {
		struct ctr_call call = scope(u);
		ctr_unpack_md_lock(u->c);
		if (u->mode == M_REBASE)
			r = ctr_snapshots_commit_parent(u->c, u->sn->name, u->chain, u->key,
							u->parent[0] ? u->parent : NULL, (const char *const *)u->labels,
							&call, err);
		else
			r = ctr_snapshots_commit(u->c, u->sn->name, u->chain, u->key, (const char *const *)u->labels,
						 &call, err);
		if (r == 0) {
			u->prepared = false; /* the key is the chain ID now */
			/* containerd records the diff_id on the compressed blob. */
			char lbl[200];
			snprintf(lbl, sizeof(lbl), "containerd.io/uncompressed=%s", u->diff_id);
			const char *upd[] = {lbl, NULL};
			ctr_md_content_update_labels(NULL, u->c->db, u->ns, u->digest, upd, false, NULL);
		}
		ctr_unpack_md_unlock(u->c);
	}
	if (r == CTR_EEXISTS && is_committed(u, u->chain))
		r = 0; /* committed meanwhile by a process that did not lock */
	if (r < 0) {
		kill_layer(u);
		return ctr_err_prefix(err, r, "unpack layer %s", u->digest);
	}
	remove_extract(u);
	release_lock(u);
	u->committed = true;
	return 0;
}

void ctr_layer_unpack_free(struct ctr_layer_unpack *u)
{
	if (!u)
		return;
	thread_stop(u, true);
	if (!u->committed)
		remove_extract(u);
	release_lock(u);
	ctr_error_free(u->th_err);
	ctr_hasher_free(u->hash);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	free(u->ring);
	free(u->dir);
	free(u->image);
	free(u->ns);
	free(u->lease);
	free(u->media_type);
	ctr_strv_free(u->labels);
	free(u);
}
