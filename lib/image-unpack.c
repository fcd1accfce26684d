/* The public unpack calls on an image (containerd's image.Unpack): they parse
 * the options and call the unpack layer (lib/unpack), whose one apply path
 * is the streaming unpacker (lib/unpack/unpack-stream.c) fed from the
 * content store (lib/unpack/unpack-parallel.c). Each layer is checked
 * against the config's diff_id and its descriptor's digest and size, and
 * committed under its chain ID. A half-applied layer never gets the chain ID.
 *
 * Each chain ID is unpacked once even by concurrent processes: a flock per
 * (namespace, snapshotter, chain ID) serialises them (ctr_unpack_chain_lock),
 * and whoever comes second finds the snapshot committed. */
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
#include "image-ns.h"
#include "resolve.h"
#include "metadata.h"
#include "snapshots.h"
#include "unpack.h"
#include "fs.h"
#include "gc-labels.h"
#include "macro.h"

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
	if ((r = ctr_platform_matcher_for(&pm, (const char *const *)img->platforms, err)) < 0)
		return r;
	/* The one apply path, for every snapshotter (lib/unpack-stream.h says
	 * how each applies). */
	r = ctr_unpack_parallel(img->c, img->ns, img->md.media_type, img->md.digest, &pm, snapshotter, &call, NULL,
				NULL, err);
	return r < 0 ? ctr_err_prefix(err, r, "unpack %s", img->md.name) : 0;
}

CTR_EXPORT int ctr_image_is_unpacked(bool *out, const ctr_image *img, const char *snapshotter, ctr_error **err)
{
	if (!out || !img)
		return ctr_err(err, CTR_EINVAL, 0, "is unpacked: %s is NULL", out ? "image" : "out");
	*out = false;
	char *chain = NULL;
	int r = ctr_image_chain_id(&chain, img, err);
	if (r < 0)
		return r;
	const struct ctr_call scope = {.ns = img->ns};
	ctr_snapshot_info *info = NULL;
	r = ctr_snapshots_stat(&info, img->c, snapshotter, chain, &scope, err);
	free(chain);
	if (r == CTR_ENOTFOUND) {
		ctr_err_drop(err);
		return 0;
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "is unpacked %s", img->md.name);
	*out = ctr_snapshot_info_kind(info) == CTR_SNAPSHOT_COMMITTED;
	ctr_snapshot_info_free(info);
	return 0;
}
