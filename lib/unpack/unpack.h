/* Internal: unpacking an image target into snapshots (lib/unpack/unpack-parallel.c; the public calls in lib/image-unpack.c). */
#ifndef CTR_LIB_UNPACK_H
#define CTR_LIB_UNPACK_H

#include <stdbool.h>

#include "client.h"
#include "manifest.h"
#include "platforms.h"
#include "digest.h"

/* Filled by CTR_OPT_UNPACK options (lib/unpack/unpack-opts.c), containerd's
 * UnpackConfig: labels ("key=value", strings borrowed from the options,
 * the array malloc'd) for every layer snapshot the unpack commits, and
 * whether the snapshotter must support the image's platform. Free with
 * ctr_unpack_cfg_clear. */
struct ctr_unpack_cfg {
	const char **labels;
	size_t n_labels;
	bool platform_check;
};
void ctr_unpack_cfg_clear(struct ctr_unpack_cfg *u);
/* containerd's WithSnapshotterPlatformCheck: with u->platform_check,
 * CTR_ENOTSUP unless the host's platform matcher (what every snapshotter
 * reports) matches the image config's platform. u may be NULL. */
int ctr_unpack_platform_check(const struct ctr_unpack_cfg *u, const char *snapshotter,
			      const struct ctr_image_config *cfg, const char *config_digest, ctr_error **err);

struct ctr_unpack_progress {
	/* Bytes of the compressed layer read so far; non-zero cancels. */
	int (*fn)(const char *digest, uint64_t done, uint64_t total, void *ud);
	void *ud;
};

/* Unpacks the manifest the target resolves to for pm into snapshotter
 * (NULL: default), in namespace ns, under call's lease (or a temporary
 * one): every layer at once through the streaming unpacker
 * (lib/unpack-stream.h), at most CTR_UNPACK_PARALLEL layers in flight,
 * committed in order. The one apply path, for every snapshotter. progress
 * is called from the layers' threads, one call at a time. top_chain (may be
 * NULL) gets the top layer's chain ID. Errors: CTR_EDIGEST (a layer's
 * diff_id, digest or compressed size), CTR_ENOTFOUND (content missing, no
 * platform match), CTR_ENOTSUP (layer media type), the apply's errors. */
#define CTR_UNPACK_PARALLEL 4
int ctr_unpack_parallel(ctr_client *c, const char *ns, const char *media_type, const char *digest,
			const struct ctr_platform_matcher *pm, const char *snapshotter,
			const struct ctr_call *call, const struct ctr_unpack_progress *progress,
			char *top_chain, ctr_error **err);
/* The same with the unpack options u (may be NULL). */
int ctr_unpack_parallel_cfg(ctr_client *c, const char *ns, const char *media_type, const char *digest,
			    const struct ctr_platform_matcher *pm, const char *snapshotter,
			    const struct ctr_call *call, const struct ctr_unpack_progress *progress,
			    const struct ctr_unpack_cfg *u, char *top_chain, ctr_error **err);

/* Exclusive flock for one chain ID of namespace ns in snapshotter sn
 * (blocks). Returns the fd; closing it releases the lock. Every unpacker
 * takes it, so a chain ID is applied once even by concurrent processes. */
int ctr_unpack_chain_lock(ctr_client *c, const char *ns, const char *sn, const char *chain, ctr_error **err);
/* The same without waiting: CTR_EBUSY while an unpacker holds it (the store
 * check's test of whether an extract snapshot is still being written). */
int ctr_unpack_chain_trylock(ctr_client *c, const char *ns, const char *sn, const char *chain, ctr_error **err);

#endif
