/* Public lease API over the metadata layer. */
#include <ctr/leases.h>

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "metadata.h"
#include "ident.h"
#include "macro.h"
#include "strv.h"

struct lease_cfg {
	const char *id;
	int64_t expire_s;
	struct ctr_strv_buf labels;
};

static int apply_id(void *t, void *ud, ctr_error **err)
{
	int r = ctr_ident_validate(ud, "lease id", err);
	if (r == 0)
		((struct lease_cfg *)t)->id = ud;
	return r;
}

static int apply_expiration(void *t, void *ud, ctr_error **err)
{
	int64_t s = *(int64_t *)ud;
	/* Bounded so that now + s stays far inside int64 nanoseconds. */
	if (s <= 0 || s > 100LL * 365 * 24 * 3600)
		return ctr_err(err, CTR_EINVAL, 0, "lease expiration %lld s: must be 1 s .. 100 years",
			       (long long)s);
	((struct lease_cfg *)t)->expire_s = s;
	return 0;
}

static int apply_labels(void *t, void *ud, ctr_error **err)
{
	struct lease_cfg *cfg = t;
	for (char **l = ud; l && *l; l++) {
		int r = ctr_strv_buf_take(&cfg->labels, strdup(*l), err);
		if (r < 0)
			return r;
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_lease_id(const char *id)
{
	return id ? ctr_opt_make_str(CTR_OPT_LEASE, "ctr_with_lease_id", apply_id, id) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_lease_expiration(int64_t seconds)
{
	int64_t *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	*p = seconds;
	return ctr_opt_make(CTR_OPT_LEASE, "ctr_with_lease_expiration", apply_expiration, p, free);
}

static void strv_free_ud(void *p) { ctr_strv_free(p); }

CTR_EXPORT ctr_opt *ctr_with_lease_labels(const char *const *labels)
{
	char **v = ctr_strv_dup(labels);
	if (!v)
		return NULL;
	return ctr_opt_make(CTR_OPT_LEASE, "ctr_with_lease_labels", apply_labels, v, strv_free_ud);
}

CTR_EXPORT int ctr_lease_create(ctr_lease **out, ctr_client *c, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "create lease: client is NULL");
	struct lease_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_LEASE, &cfg, &call, opts, n_opts, "create lease", err);
	ctr_lease *l = NULL;
	if (r == 0 && !(l = calloc(1, sizeof(*l))))
		r = ctr_err_nomem(err);
	if (r == 0) {
		int64_t exp = cfg.expire_s ? ctr_db_now() + cfg.expire_s * 1000000000LL : 0;
		r = ctr_md_lease_create(l, c->db, ctr_call_ns(c, &call), cfg.id,
					(const char *const *)cfg.labels.v, exp, err);
		if (r < 0)
			ctr_err_prefix(err, r, "create lease");
	}
	ctr_strv_buf_clear(&cfg.labels);
	if (r < 0) {
		free(l);
		return r;
	}
	if (out)
		*out = l;
	else
		ctr_lease_free(l);
	return 0;
}

CTR_EXPORT const char *ctr_lease_id(const ctr_lease *l) { return l ? l->id : NULL; }
CTR_EXPORT const char *ctr_lease_namespace(const ctr_lease *l) { return l ? l->ns : NULL; }
CTR_EXPORT int64_t ctr_lease_created_at(const ctr_lease *l) { return l ? l->created_at : 0; }
CTR_EXPORT int64_t ctr_lease_expires_at(const ctr_lease *l) { return l ? l->expires_at : 0; }
CTR_EXPORT const char *const *ctr_lease_labels(const ctr_lease *l)
{
	return l ? (const char *const *)l->labels : NULL;
}

CTR_EXPORT void ctr_lease_free(ctr_lease *l)
{
	if (!l)
		return;
	ctr_md_lease_clear(l);
	free(l);
}

CTR_EXPORT void ctr_lease_list_free(ctr_lease **v, size_t n)
{
	for (size_t i = 0; v && i < n && v[i]; i++)
		ctr_lease_free(v[i]);
	free(v);
}

/* Resolves the namespace of a lease call from its CTR_OPT_CALL options. */
static int call_ns(const char **ns, ctr_client *c, const ctr_opt *const *opts, size_t n_opts,
		   const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CALL, &call, &call, opts, n_opts, what, err);
	if (r < 0)
		return r;
	*ns = ctr_call_ns(c, &call);
	return 0;
}

CTR_EXPORT int ctr_lease_list(ctr_lease ***out, size_t *n, ctr_client *c,
			      const char *const *filters, size_t n_filters,
			      const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!out)
		return ctr_err(err, CTR_EINVAL, 0, "list leases: out is NULL");
	const char *ns = NULL;
	int r = call_ns(&ns, c, opts, n_opts, "list leases", err);
	struct ctr_lease *recs = NULL;
	size_t cnt = 0;
	if (r == 0)
		r = ctr_md_lease_list(&recs, &cnt, c->db, ns, filters, n_filters, err);
	if (r < 0)
		return r;
	ctr_lease **v = calloc(cnt + 1, sizeof(*v));
	for (size_t i = 0; v && i < cnt; i++) {
		if (!(v[i] = malloc(sizeof(**v)))) {
			ctr_lease_list_free(v, cnt);
			v = NULL;
			break;
		}
		*v[i] = recs[i];
		memset(&recs[i], 0, sizeof(recs[i]));
	}
	ctr_md_lease_list_free(recs, cnt);
	if (!v)
		return ctr_err_nomem(err);
	*out = v;
	if (n)
		*n = cnt;
	return 0;
}

CTR_EXPORT int ctr_lease_delete(ctr_client *c, const char *id, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err)
{
	const char *ns = NULL;
	int r = call_ns(&ns, c, opts, n_opts, "delete lease", err);
	if (r == 0)
		r = ctr_ident_validate(id, "lease id", err);
	if (r == 0)
		r = ctr_md_lease_delete(c->db, ns, id, err);
	return r;
}

CTR_EXPORT int ctr_lease_add_resource(ctr_client *c, const char *id, const char *type,
				      const char *resource_id, const ctr_opt *const *opts,
				      size_t n_opts, ctr_error **err)
{
	const char *ns = NULL;
	int r = call_ns(&ns, c, opts, n_opts, "add lease resource", err);
	if (r == 0)
		r = ctr_ident_validate(id, "lease id", err);
	if (r == 0)
		r = ctr_md_lease_add_resource(c->db, ns, id, type, resource_id, err);
	return r;
}

CTR_EXPORT int ctr_lease_delete_resource(ctr_client *c, const char *id, const char *type,
					 const char *resource_id, const ctr_opt *const *opts,
					 size_t n_opts, ctr_error **err)
{
	const char *ns = NULL;
	int r = call_ns(&ns, c, opts, n_opts, "delete lease resource", err);
	if (r == 0)
		r = ctr_ident_validate(id, "lease id", err);
	if (r == 0)
		r = ctr_md_lease_delete_resource(c->db, ns, id, type, resource_id, err);
	return r;
}

CTR_EXPORT int ctr_lease_list_resources(char ***types, char ***ids, ctr_client *c, const char *id,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!types || !ids)
		return ctr_err(err, CTR_EINVAL, 0, "lease resources: types and ids are required");
	const char *ns = NULL;
	int r = call_ns(&ns, c, opts, n_opts, "lease resources", err);
	if (r == 0)
		r = ctr_ident_validate(id, "lease id", err);
	if (r == 0)
		r = ctr_md_lease_resources(types, ids, c->db, ns, id, err);
	return r;
}
