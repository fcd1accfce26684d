/* Unpack options (kind CTR_OPT_UNPACK, containerd's UnpackOpt): labels for
 * the layer snapshots, and the snapshotter platform check. ctr_image_unpack
 * takes them, and so does ctr_image_pull when it unpacks (containerd's
 * WithUnpackOpts). */
#include <ctr/image.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "opts.h"
#include "strv.h"
#include "unpack.h"

void ctr_unpack_cfg_clear(struct ctr_unpack_cfg *u)
{
	free(u->labels);
	u->labels = NULL;
	u->n_labels = 0;
}

int ctr_unpack_platform_check(const struct ctr_unpack_cfg *u, const char *snapshotter,
			      const struct ctr_image_config *cfg, const char *config_digest, ctr_error **err)
{
	if (!u || !u->platform_check)
		return 0;
	struct ctr_platform_matcher host;
	ctr_platform_matcher_default(&host);
	if (ctr_platform_match(&host, &cfg->platform))
		return 0;
	char buf[128];
	return ctr_err(err, CTR_ENOTSUP, 0, "snapshotter %s does not support platform %s for image %s", snapshotter,
		       ctr_platform_format(&cfg->platform, buf, sizeof(buf)), config_digest);
}

static int apply_labels(void *t, void *ud, ctr_error **err)
{
	struct ctr_unpack_cfg *u = t;
	char **labels = ud;
	int r = ctr_md_labels_validate((const char *const *)labels, err);
	if (r < 0)
		return r;
	if (ctr_strv_append_borrowed(&u->labels, &u->n_labels, (const char *const *)labels) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static void labels_free(void *p)
{
	ctr_strv_free(p);
}

CTR_EXPORT ctr_opt *ctr_with_unpack_snapshot_labels(const char *const *labels)
{
	char **v = labels && labels[0] ? ctr_strv_dup(labels) : NULL;
	if (!v)
		return NULL;
	return ctr_opt_make(CTR_OPT_UNPACK, "ctr_with_unpack_snapshot_labels", apply_labels, v, labels_free);
}

static int apply_platform_check(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_unpack_cfg *)t)->platform_check = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_unpack_platform_check(void)
{
	return ctr_opt_make(CTR_OPT_UNPACK, "ctr_with_unpack_platform_check", apply_platform_check, NULL, NULL);
}
