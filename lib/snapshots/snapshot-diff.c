/* ctr_snapshot_diff: an active snapshot's changes as a layer blob, and its
 * inverse, a layer blob of the namespace applied onto an active snapshot
 * (containerd's diff service: Compare and Apply). */
#include <ctr/content.h>
#include <ctr/snapshot.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"
#include "layer-archive.h"
#include "content-ns.h"
#include "error.h"
#include "metadata.h"
#include "snapshots.h"
#include "macro.h"

static int to_writer(void *ud, const void *buf, size_t len, ctr_error **err)
{
	return ctr_content_writer_write(ud, buf, len, err);
}

CTR_EXPORT int ctr_snapshot_diff(char **digest_out, char **diff_id_out, int64_t *size_out, ctr_client *c,
				 const char *snapshotter, const char *key, const char *compression,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || !key)
		return ctr_err(err, CTR_EINVAL, 0, "snapshot diff: client and key are required");
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, "snapshot diff", err);
	if (r < 0)
		return r;
	return ctr_snapshots_diff(digest_out, diff_id_out, size_out, c, snapshotter, key, compression, &call, err);
}

int ctr_snapshots_diff(char **digest_out, char **diff_id_out, int64_t *size_out, ctr_client *c,
		       const char *snapshotter, const char *key, const char *compression,
		       const struct ctr_call *callp, ctr_error **err)
{
	const struct ctr_call call = callp ? *callp : (struct ctr_call){0};
	int r = 0;
	struct ctr_diff_opts dopts = {0};
	if (!compression || !strcmp(compression, "gzip"))
		dopts.compression = CTR_DIFF_GZIP;
	else if (!strcmp(compression, "zstd"))
		dopts.compression = CTR_DIFF_ZSTD;
	else if (!strcmp(compression, "none"))
		dopts.compression = CTR_DIFF_NONE;
	else
		return ctr_err(err, CTR_EINVAL, 0, "snapshot diff: compression \"%.40s\": want gzip, zstd or none", compression);
	struct ctr_snapshotter *sn = NULL;
	const char *ns = ctr_call_ns(c, &call);
	if ((r = ctr_client_snapshotter_ns(&sn, c, ns, snapshotter, err)) < 0)
		return r;
	struct ctr_md_snapshot s = {0};
	if ((r = ctr_md_snapshot_get(&s, c->db, ns, sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot diff");
	_cleanup_free_ char *parent = s.parent ? strdup(s.parent) : NULL;
	bool active = !strcmp(s.kind, "active");
	ctr_md_snapshot_clear(&s);
	if (!active)
		return ctr_err(err, CTR_EPRECONDITION, 0, "snapshot diff %s: not an active snapshot", key);
	_cleanup_free_ char *dir = NULL;
	if ((r = ctr_snapshot_apply_dir(&dir, c, sn->name, ns, key, err)) < 0)
		return ctr_err_prefix(err, r, "snapshot diff %s", key);
	_cleanup_close_ int upper = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (upper < 0)
		return ctr_err_errno(err, errno, "snapshot diff: open %s", dir);
	/* native: compare with a view of the parent; overlay: the upper dir
	 * holds exactly the changes. */
	_cleanup_close_ int lower = -1;
	char view[128] = "";
	const struct ctr_call in_ns = {.ns = ns};
	const struct ctr_call in_lease = {.ns = ns, .lease = call.lease};
	if (!sn->overlay_whiteouts && parent) {
		dopts.source = CTR_DIFF_COMPARE;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(view, sizeof(view), "diff-view-%d-%ld", (int)getpid(), ts.tv_nsec);
		ctr_mount_list *ml = NULL;
		r = ctr_snapshots_prepare(&ml, c, sn->name, view, parent, NULL, true, &in_ns, err);
		if (r == 0)
			r = ctr_mounts_open_root(ml->v, ml->n, &lower, err);
		ctr_mount_list_free(ml);
	} else {
		dopts.source = sn->overlay_whiteouts ? CTR_DIFF_OVERLAY_UPPER : CTR_DIFF_COMPARE;
	}
	ctr_content_writer *w = NULL;
	char ref[200];
	snprintf(ref, sizeof(ref), "diff-%d-%ld", (int)getpid(), (long)time(NULL));
	if (r == 0)
		r = ctr_contents_writer_open(&w, c, ref, NULL, -1, 0, &in_lease, err);
	struct ctr_diff_result res = {0};
	if (r == 0)
		r = ctr_diff_write(lower, upper, &dopts, to_writer, w, &res, err);
	if (r == 0) {
		char lbl[200];
		snprintf(lbl, sizeof(lbl), "containerd.io/uncompressed=%s", res.diff_id);
		const char *labels[] = {lbl, NULL};
		r = ctr_contents_writer_commit(w, (int64_t)res.size, res.digest, labels, err);
		if (r == CTR_EEXISTS) {
			ctr_err_drop(err);
			r = 0;
		}
	} else if (w) {
		ctr_content_writer_free(w);
		w = NULL;
		ctr_contents_abort(c, ref, &in_ns, NULL);
	}
	ctr_content_writer_free(w);
	if (view[0])
		ctr_snapshots_remove(c, sn->name, view, &in_ns, NULL);
	if (r < 0)
		return ctr_err_prefix(err, r, "snapshot diff %s", key);
	char *d = digest_out ? strdup(res.digest) : NULL, *i = diff_id_out ? strdup(res.diff_id) : NULL;
	if ((digest_out && !d) || (diff_id_out && !i)) {
		free(d);
		free(i);
		return ctr_err_nomem(err);
	}
	if (digest_out)
		*digest_out = d;
	if (diff_id_out)
		*diff_id_out = i;
	if (size_out)
		*size_out = (int64_t)res.size;
	return 0;
}

int ctr_snapshots_apply(ctr_client *c, const char *snapshotter, const char *key, const char *digest,
			const char *diff_id, const struct ctr_call *callp, ctr_error **err)
{
	const struct ctr_call call = callp ? *callp : (struct ctr_call){0};
	struct ctr_snapshotter *sn = NULL;
	int r = ctr_client_snapshotter_ns(&sn, c, ctr_call_ns(c, &call), snapshotter, err);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	struct ctr_md_snapshot s = {0};
	if ((r = ctr_md_snapshot_get(&s, c->db, ns, sn->name, key, err)) < 0)
		return ctr_err_prefix(err, r, "apply %s", digest);
	bool active = !strcmp(s.kind, "active");
	ctr_md_snapshot_clear(&s);
	if (!active)
		return ctr_err(err, CTR_EPRECONDITION, 0, "apply %s: %s is not an active snapshot", digest, key);
	_cleanup_free_ char *dir = NULL;
	if ((r = ctr_snapshot_apply_dir(&dir, c, sn->name, ns, key, err)) < 0)
		return ctr_err_prefix(err, r, "apply %s", digest);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "apply %s: open %s", digest, dir);
	ctr_content_reader *rd = NULL;
	if ((r = ctr_contents_reader_open(&rd, c, digest, &(struct ctr_call){.ns = ns}, err)) < 0)
		return ctr_err_prefix(err, r, "apply %s", digest);
	struct ctr_archive_fd_src src = {.fd = rd->fd, .what = digest};
	ctr_decompress *d = NULL;
	struct ctr_decompress_stats ds;
	struct ctr_apply_stats as;
	const struct ctr_apply_opts aopts = {
		.whiteouts = sn->overlay_whiteouts ? CTR_WHITEOUT_OVERLAY : CTR_WHITEOUT_DELETE,
	};
	r = ctr_decompress_new(&d, ctr_archive_fd_read, &src, NULL, err);
	if (r == 0)
		r = ctr_archive_apply(dfd, ctr_decompress_read, d, &aopts, &as, err);
	if (r == 0)
		r = ctr_decompress_finish(d, &ds, err);
	ctr_decompress_free(d);
	ctr_content_reader_free(rd);
	if (r == 0 && strcmp(ds.compressed_digest, digest) != 0)
		r = ctr_err(err, CTR_EDIGEST, 0, "blob is %s", ds.compressed_digest);
	if (r == 0 && diff_id && strcmp(as.diff_id, diff_id) != 0)
		r = ctr_err(err, CTR_EDIGEST, 0, "diff_id is %s, the descriptor says %s", as.diff_id, diff_id);
	return r < 0 ? ctr_err_prefix(err, r, "apply %s onto %s", digest, key) : 0;
}
