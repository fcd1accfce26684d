/* Public namespace API over the metadata layer. */
#include <ctr/namespaces.h>

#include "client.h"
#include "error.h"
#include "metadata.h"
#include "ident.h"

static int check(ctr_client *c, const char *name, const char *what, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "%s: client is NULL", what);
	int r = ctr_ident_validate(name, "namespace", err);
	return r < 0 ? ctr_err_prefix(err, r, "%s", what) : 0;
}

/* Namespace calls take CTR_OPT_NAMESPACE options; none are defined yet,
 * but an application's option-callback of that kind is applied. */
static int ns_opts(const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err)
{
	return ctr_opts_apply(CTR_OPT_NAMESPACE, NULL, NULL, opts, n_opts, what, err);
}

CTR_EXPORT int ctr_namespace_create(ctr_client *c, const char *name, const char *const *labels,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	int r = ns_opts(opts, n_opts, "create namespace", err);
	if (r == 0)
		r = check(c, name, "create namespace", err);
	if (r == 0)
		r = ctr_md_ns_create(c->db, name, labels, err);
	return r;
}

CTR_EXPORT int ctr_namespace_list(char ***names, ctr_client *c, const char *const *filters,
				  size_t n_filters, const ctr_opt *const *opts, size_t n_opts,
				  ctr_error **err)
{
	if (!names || !c)
		return ctr_err(err, CTR_EINVAL, 0, "list namespaces: names and client are required");
	int r = ns_opts(opts, n_opts, "list namespaces", err);
	if (r < 0)
		return r;
	return ctr_md_ns_list(names, c->db, filters, n_filters, err);
}

CTR_EXPORT int ctr_namespace_labels(char ***labels, ctr_client *c, const char *name,
				    ctr_error **err)
{
	if (!labels)
		return ctr_err(err, CTR_EINVAL, 0, "namespace labels: labels is NULL");
	int r = check(c, name, "namespace labels", err);
	if (r == 0)
		r = ctr_md_ns_labels(labels, c->db, name, err);
	return r;
}

CTR_EXPORT int ctr_namespace_set_labels(ctr_client *c, const char *name,
					const char *const *labels, ctr_error **err)
{
	int r = check(c, name, "label namespace", err);
	if (r == 0)
		r = ctr_md_ns_set_labels(c->db, name, labels, err);
	return r;
}

CTR_EXPORT int ctr_namespace_delete(ctr_client *c, const char *name, const ctr_opt *const *opts,
				    size_t n_opts, ctr_error **err)
{
	int r = ns_opts(opts, n_opts, "delete namespace", err);
	if (r == 0)
		r = check(c, name, "delete namespace", err);
	if (r == 0)
		r = ctr_md_ns_delete(c->db, name, err);
	return r;
}
