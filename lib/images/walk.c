/* The one walk of an image's tree (walk.h). */
#include "walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gc-labels.h"
#include "macro.h"

const char *ctr_media_kind_name(const char *mt)
{
	switch (ctr_media_kind(mt)) {
	case CTR_MT_MANIFEST: return "manifest";
	case CTR_MT_INDEX: return "index";
	case CTR_MT_CONFIG: return "config";
	case CTR_MT_LAYER: return "layer";
	default: return "unknown";
	}
}

static bool is_node(const struct ctr_image_walker *w, const char *mt)
{
	enum ctr_mt_kind k = ctr_media_kind(mt);
	return k == CTR_MT_MANIFEST || k == CTR_MT_INDEX || (w->schema1_nodes && k == CTR_MT_SCHEMA1);
}

static int walk(const struct ctr_image_walker *w, const struct ctr_desc *d, int depth, unsigned flags,
		ctr_error **err);

static int walk_children(const struct ctr_image_walker *w, struct ctr_walk_node *n, ctr_error **err)
{
	if (!n->n_children)
		return 0;
	_cleanup_free_ struct ctr_walk_pick *picks = calloc(n->n_children, sizeof(*picks));
	if (!picks)
		return ctr_err_nomem(err);
	size_t np = n->n_children;
	int r = 0;
	if (w->select) {
		np = 0;
		if ((r = w->select(w->ud, n, picks, &np, err)) < 0)
			return r;
		if (np > n->n_children)
			np = n->n_children;
	} else {
		for (size_t i = 0; i < np; i++)
			picks[i] = (struct ctr_walk_pick){.i = i};
	}
	for (size_t k = 0; k < np && r == 0; k++)
		if (picks[k].i < n->n_children)
			r = walk(w, n->children[picks[k].i], n->depth + 1, picks[k].flags, err);
	return r;
}

static int walk(const struct ctr_image_walker *w, const struct ctr_desc *d, int depth, unsigned flags,
		ctr_error **err)
{
	bool node = is_node(w, d->media_type);
	int r = node ? ctr_image_depth_check(depth, err) : 0;
	if (r == 0 && w->visit)
		r = w->visit(w->ud, d, depth, node, err);
	if (r != 0 || !node)
		return r < 0 ? r : 0;
	struct ctr_walk_node n = {.desc = d, .depth = depth, .flags = flags};
	if ((r = w->read(w->ud, d, &n.buf, &n.len, err)) < 0)
		return r;
	if ((r = ctr_manifest_parse(n.buf, n.len, d->media_type, &n.m, err)) < 0) {
		free(n.buf);
		return ctr_err_prefix(err, r, "%s %s", ctr_media_kind_name(d->media_type), d->digest);
	}
	size_t nc = n.m.kind == CTR_MT_INDEX ? n.m.n_manifests : 1 + n.m.n_layers;
	n.children = calloc(nc ? nc : 1, sizeof(*n.children));
	if (!n.children)
		r = ctr_err_nomem(err);
	else if (n.m.kind == CTR_MT_INDEX)
		for (size_t i = 0; i < nc; i++)
			n.children[n.n_children++] = &n.m.manifests[i];
	else {
		n.children[n.n_children++] = &n.m.config;
		for (size_t i = 0; i < n.m.n_layers; i++)
			n.children[n.n_children++] = &n.m.layers[i];
	}
	if (r == 0 && w->enter)
		r = w->enter(w->ud, &n, err);
	if (r == 0)
		r = walk_children(w, &n, err);
	if (r == 0 && w->leave)
		r = w->leave(w->ud, &n, err);
	free(n.children);
	free(n.buf);
	if (!n.keep_manifest)
		ctr_manifest_clear(&n.m);
	return r;
}

int ctr_image_walk(const struct ctr_image_walker *w, const struct ctr_desc *root, ctr_error **err)
{
	if (!w || !w->read || !root)
		return ctr_err(err, CTR_EINVAL, 0, "image walk: NULL argument");
	return walk(w, root, 0, 0, err);
}

/* containerd's ChildGCLabels: the key's stems, and which one a child's
 * media type takes. */
static const char *const stems[] = {
	CTR_GC_REF_PREFIX "content.config",
	CTR_GC_REF_PREFIX "content.l.",
	CTR_GC_REF_PREFIX "content.m.",
	CTR_GC_REF_PREFIX "content.",
};

static size_t child_stem(const char *mt)
{
	switch (ctr_media_kind(mt)) {
	case CTR_MT_CONFIG: return 0;
	case CTR_MT_LAYER: return 1;
	case CTR_MT_MANIFEST: return 2;
	default: return 3;
	}
}

int ctr_gc_child_labels(char ***labels, size_t *n, const struct ctr_desc *const *children, size_t n_children,
			ctr_gc_child_map_fn map, void *ud, ctr_error **err)
{
	size_t count[4] = {0};
	for (size_t i = 0; i < n_children; i++) {
		size_t s = child_stem(children[i]->media_type);
		const char *stem = stems[s];
		size_t idx = count[s]++;
		char key[128];
		if (idx > 0 || stem[strlen(stem) - 1] == '.')
			snprintf(key, sizeof(key), "%s%zu", stem, idx);
		else
			snprintf(key, sizeof(key), "%s", stem);
		const char *use = map ? map(children[i], key, ud) : key;
		if (!use)
			continue;
		char **v = realloc(*labels, (*n + 2) * sizeof(*v));
		if (!v)
			return ctr_err_nomem(err);
		*labels = v;
		if (asprintf(&v[*n], "%s=%s", use, children[i]->digest) < 0) {
			v[*n] = NULL;
			return ctr_err_nomem(err);
		}
		v[++*n] = NULL;
	}
	return 0;
}
