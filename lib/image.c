/* The public image record API over the image handles of
 * lib/records/image-ns.c (records in lib/metadata/images.c). */
#include <ctr/image.h>

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "events.h"
#include "image-ns.h"
#include "platforms.h"
#include "resolve.h"
#include "metadata.h"
#include "macro.h"

static int call_opts(ctr_client *c, struct ctr_call *call, const ctr_opt *const *opts, size_t n,
		     const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	*call = (struct ctr_call){0};
	return ctr_opts_apply(CTR_OPT_CALL, call, call, opts, n, what, err);
}

/* The target of CTR_OPT_IMAGE options: each call takes only its own. */
struct image_cfg {
	bool get; /* ctr_image_get, else ctr_image_tag */
	bool force;
	char **platforms;
	size_t n_platforms;
};

static int apply_image_platform(void *target, void *userdata, ctr_error **err)
{
	struct image_cfg *c = target;
	if (!c->get)
		return ctr_err(err, CTR_EINVAL, 0, "only ctr_image_get takes it");
	struct ctr_platform p;
	int r = ctr_platform_parse(userdata, &p, err);
	if (r < 0)
		return r;
	char buf[100], **nv = realloc(c->platforms, (c->n_platforms + 2) * sizeof(char *));
	if (!nv)
		return ctr_err_nomem(err);
	c->platforms = nv;
	if (!(nv[c->n_platforms] = strdup(ctr_platform_format(&p, buf, sizeof(buf)))))
		return ctr_err_nomem(err);
	nv[++c->n_platforms] = NULL;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_image_platform(const char *platform)
{
	return platform ? ctr_opt_make_str(CTR_OPT_IMAGE, "ctr_with_image_platform", apply_image_platform, platform)
			: NULL;
}

CTR_EXPORT int ctr_image_get(ctr_image **out, ctr_client *c, const char *name,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "get image: client is NULL");
	struct ctr_call call = {0};
	struct image_cfg cfg = {.get = true};
	ctr_image *img = NULL;
	int r = ctr_opts_apply(CTR_OPT_IMAGE, &cfg, &call, opts, n_opts, "get image", err);
	if (r == 0)
		r = ctr_images_get(&img, c, ctr_call_ns(c, &call), name, err);
	if (r < 0) {
		ctr_strv_free(cfg.platforms);
		return r;
	}
	img->platforms = cfg.platforms;
	*out = img;
	return 0;
}

CTR_EXPORT int ctr_image_list(ctr_image ***out, size_t *n_out, ctr_client *c,
				      const char *const *filters, size_t n_filters,
				      const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "list images", err);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	struct ctr_md_image *v = NULL;
	size_t n = 0;
	if ((r = ctr_md_image_list(&v, &n, c->db, ns, filters, n_filters, err)) < 0)
		return ctr_err_prefix(err, r, "list images");
	ctr_image **res = calloc(n + 1, sizeof(*res));
	for (size_t i = 0; i < n; i++) {
		if (res && r == 0)
			r = ctr_image_wrap(&res[i], c, ns, &v[i], err);
		else
			ctr_md_image_clear(&v[i]);
	}
	free(v);
	if (!res)
		return ctr_err_nomem(err);
	if (r < 0) {
		ctr_image_list_free(res, n);
		return r;
	}
	*out = res;
	*n_out = n;
	return 0;
}

CTR_EXPORT int ctr_image_create(ctr_image **out, ctr_client *c, const char *name,
				       const char *media_type, const char *digest, int64_t size,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "create image", err);
	if (r < 0)
		return r;
	if (size < 0)
		return ctr_err(err, CTR_EINVAL, 0, "create image: negative size");
	struct ctr_md_image img = {.name = (char *)name, .media_type = (char *)media_type,
				   .digest = (char *)digest, .size = (uint64_t)size, .labels = (char **)labels};
	r = ctr_image_put(out, c, ctr_call_ns(c, &call), &img, false, err);
	return r < 0 ? ctr_err_prefix(err, r, "create image") : 0;
}

static int apply_tag_force(void *target, void *userdata, ctr_error **err)
{
	(void)userdata;
	struct image_cfg *c = target;
	if (c->get)
		return ctr_err(err, CTR_EINVAL, 0, "only ctr_image_tag takes it");
	c->force = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_tag_force(void)
{
	return ctr_opt_make(CTR_OPT_IMAGE, "ctr_with_tag_force", apply_tag_force, NULL, NULL);
}

CTR_EXPORT int ctr_image_tag(ctr_image **out, ctr_client *c, const char *src, const char *dst,
			     const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "tag image: client is NULL");
	struct ctr_call call = {0};
	struct image_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_IMAGE, &cfg, &call, opts, n_opts, "tag image", err);
	bool force = cfg.force;
	if (r == 0)
		r = ctr_md_image_name_validate(dst, err);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	struct ctr_md_image s = {0};
	if ((r = ctr_md_image_get(&s, c->db, ns, src, err)) < 0)
		return ctr_err_prefix(err, r, "tag image");
	free(s.name);
	s.name = (char *)dst;
	r = ctr_image_put(out, c, ns, &s, force, err);
	s.name = NULL;
	ctr_md_image_clear(&s);
	return r < 0 ? ctr_err_prefix(err, r, "tag image") : 0;
}

CTR_EXPORT int ctr_image_update(ctr_image **out, ctr_client *c, const char *name,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "update image", err);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_image_update_labels_tx(c->db, ns, name, labels, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "update image");
	ctr_events_publish(c, ns, "/images/update", json_pack("{s:s}", "name", name));
	return out ? ctr_images_get(out, c, ns, name, err) : 0;
}

CTR_EXPORT int ctr_image_delete(ctr_client *c, const char *name, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err)
{
	struct ctr_call call;
	int r = call_opts(c, &call, opts, n_opts, "delete image", err);
	if (r < 0)
		return r;
	const char *ns = ctr_call_ns(c, &call);
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_image_delete_tx(c->db, ns, name, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "delete image");
	ctr_events_publish(c, ns, "/images/delete", json_pack("{s:s}", "name", name));
	return 0;
}

static int resolve_for_platform(const ctr_image *i, struct ctr_manifest *m, struct ctr_image_config *cfg, ctr_error **err)
{
	if (!i)
		return ctr_err(err, CTR_EINVAL, 0, "image is NULL");
	struct ctr_platform_matcher pm;
	int r = ctr_platform_matcher_for(&pm, (const char *const *)i->platforms, err);
	if (r == 0)
		r = ctr_image_resolve(i->c, i->ns, i->md.media_type, i->md.digest, &pm, m, NULL, cfg, err);
	return r < 0 ? ctr_err_prefix(err, r, "image %s", i->md.name) : 0;
}

CTR_EXPORT int ctr_image_config(char **json_out, const ctr_image *i, ctr_error **err)
{
	struct ctr_manifest m = {0};
	struct ctr_image_config cfg = {0};
	int r = resolve_for_platform(i, &m, &cfg, err);
	if (r < 0)
		return r;
	char *s = json_dumps(cfg.doc, JSON_COMPACT);
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	if (!s)
		return ctr_err_nomem(err);
	*json_out = s;
	return 0;
}

CTR_EXPORT int ctr_image_rootfs(char ***diff_ids, const ctr_image *i, ctr_error **err)
{
	struct ctr_manifest m = {0};
	struct ctr_image_config cfg = {0};
	int r = resolve_for_platform(i, &m, &cfg, err);
	if (r < 0)
		return r;
	*diff_ids = cfg.diff_ids;
	cfg.diff_ids = NULL;
	ctr_manifest_clear(&m);
	ctr_image_config_clear(&cfg);
	return 0;
}

CTR_EXPORT int ctr_image_chain_id(char **out, const ctr_image *i, ctr_error **err)
{
	char **ids = NULL;
	int r = ctr_image_rootfs(&ids, i, err);
	if (r < 0)
		return r;
	size_t n = 0;
	while (ids[n])
		n++;
	if (n == 0) {
		ctr_strv_free(ids);
		return ctr_err(err, CTR_EINVAL, 0, "image %s has no layers", i->md.name);
	}
	char (*chain)[CTR_DIGEST_MAX] = calloc(n, CTR_DIGEST_MAX);
	if (!chain) {
		ctr_strv_free(ids);
		return ctr_err_nomem(err);
	}
	r = ctr_chain_ids((const char *const *)ids, n, chain, err);
	ctr_strv_free(ids);
	char *s = r == 0 ? strdup(chain[n - 1]) : NULL;
	free(chain);
	if (r < 0)
		return r;
	if (!s)
		return ctr_err_nomem(err);
	*out = s;
	return 0;
}
