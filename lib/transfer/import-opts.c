/* Options of ctr_image_import (kind CTR_OPT_IMPORT). */
#include <ctr/archive.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"
#include "import.h"
#include "metadata.h"
#include "json.h"
#include "macro.h"
#include "strv.h"



void ctr_import_cfg_clear(struct imp_cfg *c)
{
	free(c->index_name);
	free(c->prefix);
	free(c->digest_prefix);
	free(c->snapshotter);
	ctr_strv_free(c->labels);
}

static int set_str(char **dst, const char *s, ctr_error **err)
{
	char *d = strdup(s);
	if (!d)
		return ctr_err_nomem(err);
	free(*dst);
	*dst = d;
	return 0;
}

static int apply_platform(void *t, void *ud, ctr_error **err)
{
	struct imp_cfg *c = t;
	if (c->n_plats == IMPORT_MAX_PLATFORMS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d platforms", IMPORT_MAX_PLATFORMS);
	int r = ctr_platform_parse(ud, &c->plats[c->n_plats], err);
	if (r == 0)
		c->n_plats++;
	return r;
}

CTR_EXPORT ctr_opt *ctr_with_import_platform(const char *spec)
{
	return spec ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_platform", apply_platform, spec) : NULL;
}

static int apply_all(void *t, void *ud, ctr_error **err)
{
	((struct imp_cfg *)t)->all = true;
	return 0;
}

static int apply_unpack(void *t, void *ud, ctr_error **err)
{
	struct imp_cfg *c = t;
	c->unpack = true;
	if (!ud)
		return 0;
	int r = ctr_ident_validate(ud, "snapshotter", err);
	return r < 0 ? r : set_str(&c->snapshotter, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_import_unpack(const char *snapshotter)
{
	return ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_unpack", apply_unpack, snapshotter);
}

CTR_EXPORT ctr_opt *ctr_with_import_all_platforms(void)
{
	return ctr_opt_make(CTR_OPT_IMPORT, "ctr_with_import_all_platforms", apply_all, NULL, NULL);
}

static int apply_index_name(void *t, void *ud, ctr_error **err)
{
	int r = ctr_md_image_name_validate(ud, err);
	return r < 0 ? r : set_str(&((struct imp_cfg *)t)->index_name, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_import_index_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_index_name", apply_index_name, name) : NULL;
}

static int apply_prefix(struct imp_cfg *c, const char *s, bool filter, ctr_error **err)
{
	if (!*s)
		return ctr_err(err, CTR_EINVAL, 0, "empty image name prefix");
	c->filter_prefix = filter;
	return set_str(&c->prefix, s, err);
}

static int apply_base_name(void *t, void *ud, ctr_error **err) { return apply_prefix(t, ud, true, err); }
static int apply_ref_prefix(void *t, void *ud, ctr_error **err) { return apply_prefix(t, ud, false, err); }

CTR_EXPORT ctr_opt *ctr_with_import_base_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_base_name", apply_base_name, name) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_import_ref_prefix(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_ref_prefix", apply_ref_prefix, name) : NULL;
}

static int apply_digest_refs(void *t, void *ud, ctr_error **err)
{
	return set_str(&((struct imp_cfg *)t)->digest_prefix, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_import_digest_refs(const char *prefix)
{
	return prefix ? ctr_opt_make_str(CTR_OPT_IMPORT, "ctr_with_import_digest_refs", apply_digest_refs, prefix) : NULL;
}

static void strv_free_ud(void *p) { ctr_strv_free(p); }

static int apply_labels(void *t, void *ud, ctr_error **err)
{
	struct imp_cfg *c = t;
	const char *const *in = ud;
	int r = ctr_md_labels_validate(in, err);
	if (r < 0)
		return r;
	char **v = ctr_strv_dup(in);
	if (!v)
		return ctr_err_nomem(err);
	ctr_strv_free(c->labels);
	c->labels = v;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_import_labels(const char *const *labels)
{
	char **v = labels ? ctr_strv_dup(labels) : NULL;
	if (!v)
		return NULL;
	return ctr_opt_make(CTR_OPT_IMPORT, "ctr_with_import_labels", apply_labels, v, strv_free_ud);
}

struct progress_ud {
	ctr_progress_fn fn;
	void *ud;
};

static int apply_progress(void *t, void *ud, ctr_error **err)
{
	ctr_transfer_progress_get(ud, &((struct imp_cfg *)t)->progress, &((struct imp_cfg *)t)->progress_ud);
	return 0;
}

void ctr_transfer_progress_get(const void *ud, ctr_progress_fn *fn, void **userdata)
{
	const struct progress_ud *p = ud;
	*fn = p->fn;
	*userdata = p->ud;
}

/* The callback and its userdata of ctr_with_import_progress and
 * ctr_with_export_progress, as one option's userdata. */
ctr_opt *ctr_transfer_progress_opt(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply, ctr_progress_fn fn,
				   void *userdata)
{
	struct progress_ud *p = fn ? malloc(sizeof(*p)) : NULL;
	if (!p)
		return NULL;
	*p = (struct progress_ud){fn, userdata};
	return ctr_opt_make(kind, name, apply, p, free); /* frees p on failure */
}

CTR_EXPORT ctr_opt *ctr_with_import_progress(ctr_progress_fn fn, void *userdata)
{
	return ctr_transfer_progress_opt(CTR_OPT_IMPORT, "ctr_with_import_progress", apply_progress, fn, userdata);
}
