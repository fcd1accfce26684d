/* Snapshot options (kind CTR_OPT_SNAPSHOT): what they collect for a new
 * snapshot, and containerd's WithRemapperLabels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "idmap.h"
#include "macro.h"
#include "opts.h"
#include "snapshots.h"
#include "strv.h"

void ctr_snap_opts_clear(struct ctr_snap_opts *o)
{
	for (size_t i = 0; i < o->n_labels; i++)
		free(o->labels[i]);
	free(o->labels);
	o->labels = NULL;
	o->n_labels = 0;
}

int ctr_snap_opts_add_label(struct ctr_snap_opts *o, const char *key, const char *value, ctr_error **err)
{
	char **nv = realloc(o->labels, (o->n_labels + 2) * sizeof(*nv));
	if (!nv)
		return ctr_err_nomem(err);
	o->labels = nv;
	if (asprintf(&nv[o->n_labels], "%s=%s", key, value) < 0)
		return ctr_err_nomem(err);
	nv[++o->n_labels] = NULL;
	return 0;
}

int ctr_snap_opts_labels(char ***out, const struct ctr_snap_opts *o, const char *const *base, ctr_error **err)
{
	size_t nb = 0;
	while (base && base[nb])
		nb++;
	char **v = calloc(nb + o->n_labels + 1, sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < nb + o->n_labels; i++)
		if (!(v[i] = strdup(i < nb ? base[i] : o->labels[i - nb]))) {
			ctr_strv_free(v);
			return ctr_err_nomem(err);
		}
	*out = v;
	return 0;
}

struct remap_arg {
	struct ctr_idmap_range u, g;
};

static int apply_remapper_labels(void *t, void *ud, ctr_error **err)
{
	const struct remap_arg *a = ud;
	_cleanup_free_ char *u = ctr_idmap_format(&a->u, 1), *g = ctr_idmap_format(&a->g, 1);
	if (!u || !g)
		return ctr_err_nomem(err);
	int r = ctr_snap_opts_add_label(t, CTR_SNAPSHOT_LABEL_UIDMAPPING, u, err);
	return r < 0 ? r : ctr_snap_opts_add_label(t, CTR_SNAPSHOT_LABEL_GIDMAPPING, g, err);
}

CTR_EXPORT ctr_opt *ctr_with_remapper_labels(uint32_t ctr_uid, uint32_t host_uid, uint32_t ctr_gid,
					     uint32_t host_gid, uint32_t length)
{
	const uint64_t top = (uint64_t)UINT32_MAX + 1;
	if (!length || ctr_uid + (uint64_t)length > top || host_uid + (uint64_t)length > top ||
	    ctr_gid + (uint64_t)length > top || host_gid + (uint64_t)length > top)
		return NULL;
	struct remap_arg *a = malloc(sizeof(*a));
	if (!a)
		return NULL;
	*a = (struct remap_arg){{ctr_uid, host_uid, length}, {ctr_gid, host_gid, length}};
	return ctr_opt_make(CTR_OPT_SNAPSHOT, "ctr_with_remapper_labels", apply_remapper_labels, a, free);
}
