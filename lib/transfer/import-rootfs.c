/* ctr_image_import_rootfs: a one-layer image from a directory, as `docker
 * import` makes one (gzip layer, OCI config and manifest), stored through
 * the content API under a temporary lease. */
#include <ctr/archive.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "client.h"
#include "content-ns.h"
#include "error.h"
#include "image-ns.h"
#include "archive-util.h"
#include "manifest.h"
#include "metadata.h"
#include "macro.h"
#include "strv.h"
#include "walk.h"

static int to_writer(void *ud, const void *buf, size_t len, ctr_error **err)
{
	return ctr_content_writer_write(ud, buf, len, err);
}

static int put_doc(struct ctr_arc *a, json_t *doc, char *digest, int64_t *size, ctr_error **err)
{
	if (!doc)
		return ctr_err_nomem(err);
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!s)
		return ctr_err_nomem(err);
	*size = (int64_t)strlen(s);
	int r = ctr_arc_put(a, s, strlen(s), digest, err);
	free(s);
	return r;
}

static int build(struct ctr_arc *a, int dirfd, const char *name, ctr_image **out, ctr_error **err)
{
	/* The layer: the whole tree, gzip, digest and diff_id in one pass. */
	ctr_content_writer *w = NULL;
	char *ref = NULL;
	int r = ctr_arc_writer(a, NULL, -1, &w, &ref, err);
	if (r < 0)
		return r;
	struct ctr_diff_opts dopts = {.source = CTR_DIFF_COMPARE, .compression = CTR_DIFF_GZIP};
	struct ctr_diff_result res;
	r = ctr_diff_write(-1, dirfd, &dopts, to_writer, w, &res, err);
	if (r < 0) {
		ctr_content_writer_free(w);
		ctr_contents_abort(a->c, ref, &a->scope, NULL);
		free(ref);
		return ctr_err_prefix(err, r, "layer");
	}
	if ((r = ctr_arc_commit(a, w, ref, (int64_t)res.size, res.digest, err)) < 0)
		return ctr_err_prefix(err, r, "layer");

	struct ctr_platform host;
	ctr_platform_host(&host);
	char now[40];
	ctr_md_time_format(ctr_db_now(), now, sizeof(now));
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "created", now, "architecture", host.arch, "os", host.os);
	if (cfg && host.variant[0])
		json_object_set_new(cfg, "variant", json_string(host.variant));
	if (cfg) {
		json_object_set_new(cfg, "config", json_object());
		json_object_set_new(cfg, "rootfs", json_pack("{s:s,s:[s]}", "type", "layers", "diff_ids", res.diff_id));
		json_object_set_new(cfg, "history",
				    json_pack("[{s:s,s:s}]", "created", now, "created_by", "lctr images import --from-rootfs"));
	}
	char cdigest[CTR_DIGEST_MAX], mdigest[CTR_DIGEST_MAX];
	int64_t csize, msize;
	if ((r = put_doc(a, cfg, cdigest, &csize, err)) < 0)
		return ctr_err_prefix(err, r, "config");
	json_t *man = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "mediaType",
				CTR_MT_OCI_MANIFEST, "config", "mediaType", CTR_MT_OCI_CONFIG, "digest", cdigest,
				"size", (json_int_t)csize, "layers", "mediaType", CTR_MT_OCI_LAYER_GZIP, "digest",
				res.digest, "size", (json_int_t)res.size);
	if ((r = put_doc(a, man, mdigest, &msize, err)) < 0)
		return ctr_err_prefix(err, r, "manifest");

	struct ctr_desc cd = {.media_type = CTR_MT_OCI_CONFIG}, ld = {.media_type = CTR_MT_OCI_LAYER_GZIP};
	snprintf(cd.digest, sizeof(cd.digest), "%s", cdigest);
	snprintf(ld.digest, sizeof(ld.digest), "%s", res.digest);
	const struct ctr_desc *children[] = {&cd, &ld};
	char **labels = NULL;
	size_t n_labels = 0;
	r = ctr_gc_child_labels(&labels, &n_labels, children, 2, NULL, NULL, err);
	if (r == 0)
		r = ctr_md_content_update_labels(NULL, a->c->db, a->ns, mdigest, (const char *const *)labels, false, err);
	ctr_strv_free(labels);
	if (r < 0)
		return r;
	struct ctr_md_image md = {.name = (char *)name, .media_type = CTR_MT_OCI_MANIFEST, .digest = mdigest,
				  .size = (uint64_t)msize};
	return ctr_image_put(out, a->c, a->ns, &md, true, err);
}

CTR_EXPORT int ctr_image_import_rootfs(ctr_image **out, ctr_client *c, const char *dir,
					const char *name, const ctr_opt *const *opts,
					size_t n_opts, ctr_error **err)
{
	if (!c || !dir || !name)
		return ctr_err(err, CTR_EINVAL, 0, "import rootfs: client, dir and name are required");
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, "import rootfs", err);
	if (r == 0)
		r = ctr_md_image_name_validate(name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return ctr_err_errno(err, errno, "import rootfs: open %s", dir);
	struct ctr_arc a;
	if ((r = ctr_arc_begin(&a, c, &call, err)) < 0)
		return ctr_err_prefix(err, r, "import rootfs %s", dir);
	ctr_image *img = NULL;
	r = build(&a, dirfd, name, out ? &img : NULL, err);
	ctr_arc_end(&a, r < 0);
	if (r < 0)
		return ctr_err_prefix(err, r, "import rootfs %s", dir);
	if (out)
		*out = img;
	return 0;
}
