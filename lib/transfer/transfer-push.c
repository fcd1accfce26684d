/* Pushing an image record (containerd's client Push): walk the local tree
 * (index -> manifests, filtered by the platform options -> config and
 * layers), then hand remotes/ the blobs (read from the content store,
 * mounted from another repository of the same registry when a
 * distribution.source label names one) and the manifests, children before
 * parents, the root last so it lands under the reference's tag. */
#include <ctr/content.h>
#include <ctr/image.h>
#include <ctr/remote.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "content-ns.h"
#include "error.h"
#include "manifest.h"
#include "image-ns.h"
#include "remote-opts.h"
#include "macro.h"
#include "walk.h"

#define MAX_NODES 4096

struct pnode {
	struct ctr_desc desc;
	bool manifest;
	char *buf; /* manifests: the bytes */
	size_t len;
	struct ctr_remote_membuf mem;
	ctr_content_reader *rd; /* blobs */
	char *mount_from;
	struct ctr_remote_desc rd_desc;
};

struct push {
	ctr_client *c;
	struct ctr_call scope; /* the call's namespace, for the content calls */
	struct ctr_remote_cfg cfg;
	struct ctr_platform_matcher matcher;
	const struct ctr_ref *ref;
	struct pnode *nodes;
	size_t n;
};

static void push_clear(struct push *p)
{
	for (size_t i = 0; i < p->n; i++) {
		ctr_desc_clear(&p->nodes[i].desc);
		free(p->nodes[i].buf);
		ctr_content_reader_free(p->nodes[i].rd);
		free(p->nodes[i].mount_from);
	}
	free(p->nodes);
}

static struct pnode *add_node(struct push *p, const struct ctr_desc *d, bool *dup, ctr_error **err)
{
	*dup = false;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->nodes[i].desc.digest, d->digest)) {
			*dup = true;
			return &p->nodes[i];
		}
	if (p->n >= MAX_NODES) {
		ctr_err(err, CTR_EINVAL, 0, "more than %d blobs", MAX_NODES);
		return NULL;
	}
	struct pnode *v = realloc(p->nodes, (p->n + 1) * sizeof(*v));
	if (!v) {
		ctr_err_nomem(err);
		return NULL;
	}
	p->nodes = v;
	struct pnode *nd = &v[p->n];
	*nd = (struct pnode){0};
	if (ctr_desc_copy(&nd->desc, d) < 0) {
		ctr_err_nomem(err);
		return NULL;
	}
	p->n++;
	return nd;
}

/* The repository (on the target registry) a blob came from, from its
 * containerd.io/distribution.source.<host>=repo[,repo...] label. */
static char *mount_source(struct push *p, const ctr_content_info *info)
{
	char key[300];
	snprintf(key, sizeof(key), "containerd.io/distribution.source.%s=", p->ref->domain);
	const char *const *l = ctr_content_info_labels(info);
	for (size_t i = 0; l && l[i]; i++) {
		if (strncmp(l[i], key, strlen(key)))
			continue;
		const char *v = l[i] + strlen(key);
		while (*v) {
			size_t len = strcspn(v, ",");
			if (len && (strlen(p->ref->path) != len || strncmp(v, p->ref->path, len)))
				return strndup(v, len);
			v += len + (v[len] == ',');
		}
	}
	return NULL;
}

static int add_blob(struct push *p, const struct ctr_desc *d, ctr_error **err)
{
	bool dup;
	struct pnode *nd = add_node(p, d, &dup, err);
	if (!nd)
		return err && *err ? ctr_error_code_of(*err) : CTR_ENOMEM;
	if (dup)
		return 0;
	int r = ctr_contents_reader_open(&nd->rd, p->c, d->digest, &p->scope, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "blob %s", d->digest);
	if (ctr_content_reader_size(nd->rd) != d->size)
		return ctr_err(err, CTR_EPRECONDITION, 0, "blob %s has %lld bytes, the descriptor says %lld", d->digest,
			       (long long)ctr_content_reader_size(nd->rd), (long long)d->size);
	ctr_content_info *info = NULL;
	if (ctr_contents_info_get(&info, p->c, d->digest, &p->scope, NULL) == 0) {
		nd->mount_from = mount_source(p, info);
		ctr_content_info_free(info);
	}
	return 0;
}

static int read_all(struct push *p, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	if (d->size > (int64_t)CTR_MAX_MANIFEST)
		return ctr_err(err, CTR_EINVAL, 0, "manifest %s: %lld bytes, more than %u", d->digest,
			       (long long)d->size, CTR_MAX_MANIFEST);
	ctr_content_reader *rd = NULL;
	int r = ctr_contents_reader_open(&rd, p->c, d->digest, &p->scope, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "manifest %s", d->digest);
	int64_t size = ctr_content_reader_size(rd);
	char *b = size == d->size ? malloc((size_t)size + 1) : NULL;
	int64_t got = 0;
	while (b && got < size) {
		size_t n = 0;
		r = ctr_content_reader_pread(&n, rd, b + got, (size_t)(size - got), got, err);
		if (r < 0 || n == 0) {
			free(b);
			ctr_content_reader_free(rd);
			return r < 0 ? r : ctr_err(err, CTR_EIO, 0, "manifest %s: short read", d->digest);
		}
		got += (int64_t)n;
	}
	ctr_content_reader_free(rd);
	if (!b)
		return size != d->size ? ctr_err(err, CTR_EPRECONDITION, 0, "manifest %s: size mismatch", d->digest)
				       : ctr_err_nomem(err);
	*buf = b;
	*len = (size_t)size;
	return 0;
}

/* Leaves are blobs to push; a document seen before is not walked again. */
static int push_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	struct push *p = ud;
	(void)depth;
	if (!node)
		return add_blob(p, d, err);
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->nodes[i].desc.digest, d->digest))
			return CTR_WALK_SKIP;
	return 0;
}

static int push_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	return read_all(ud, d, buf, len, err);
}

/* An index's entries for the platforms pushed (entries without one too). */
static int push_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *sel, size_t *n_sel,
		       ctr_error **err)
{
	struct push *p = ud;
	(void)err;
	size_t ns = 0;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct ctr_desc *c = n->children[i];
		if (n->m.kind != CTR_MT_INDEX || !c->has_platform || ctr_platform_match(&p->matcher, &c->platform))
			sel[ns++] = (struct ctr_walk_pick){.i = i};
	}
	*n_sel = ns;
	return 0;
}

/* Post-order: children first, so manifests end up before their index. */
static int push_leave(void *ud, struct ctr_walk_node *n, ctr_error **err)
{
	struct push *p = ud;
	bool dup;
	struct pnode *nd = add_node(p, n->desc, &dup, err);
	if (!nd)
		return err && *err ? ctr_error_code_of(*err) : CTR_ENOMEM;
	nd->manifest = true;
	nd->buf = n->buf;
	nd->len = n->len;
	n->buf = NULL;
	return 0;
}

static int push_walk(struct push *p, const struct ctr_desc *root, ctr_error **err)
{
	const struct ctr_image_walker w = {
		.visit = push_visit,
		.read = push_read,
		.select = push_select,
		.leave = push_leave,
		.ud = p,
	};
	return ctr_image_walk(&w, root, err);
}

CTR_EXPORT int ctr_image_push(ctr_client *c, const char *ref, const char *local_name, const ctr_opt *const *opts,
			       size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "push: client is NULL");
	if (!ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "push: empty reference");
	struct push p = {.c = c};
	struct ctr_push_cfg pc = {0};
	struct ctr_call call = {0};
	struct ctr_remote *rem = NULL;
	ctr_image *img = NULL;
	struct ctr_remote_push_item *items = NULL;
	struct ctr_opt_target t[] = {{CTR_OPT_REMOTE, &p.cfg}, {CTR_OPT_PUSH, &pc}};
	int r = ctr_opts_apply_multi(t, 2, &call, opts, n_opts, "push", err);
	if (r < 0)
		goto out;
	p.scope.ns = ctr_call_ns(c, &call);
	bool explicit_;
	ctr_remote_cfg_matcher(&p.cfg, c, &p.matcher, &explicit_);
	if (!explicit_)
		ctr_platform_matcher_all(&p.matcher); /* containerd pushes every platform by default */
	if ((r = ctr_images_get(&img, c, p.scope.ns, local_name ? local_name : ref, err)) < 0)
		goto out;
	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&p.cfg, true, &ro);
	if ((r = ctr_remote_open(&rem, ref, &ro, err)) < 0)
		goto out;
	p.ref = ctr_remote_ref(rem);
	struct ctr_desc root = {.media_type = (char *)ctr_image_target_media_type(img),
				.size = ctr_image_target_size(img)};
	snprintf(root.digest, sizeof(root.digest), "%s", ctr_image_target_digest(img));
	if (ctr_media_kind(root.media_type) != CTR_MT_MANIFEST && ctr_media_kind(root.media_type) != CTR_MT_INDEX) {
		r = ctr_err(err, CTR_ENOTSUP, 0, "image target media type %s", root.media_type);
		goto out;
	}
	if ((r = push_walk(&p, &root, err)) < 0)
		goto out;
	if (!(items = calloc(p.n, sizeof(*items)))) {
		r = ctr_err_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		struct pnode *nd = &p.nodes[i];
		nd->rd_desc = (struct ctr_remote_desc){.media_type = nd->desc.media_type,
						       .digest = nd->desc.digest,
						       .size = (uint64_t)nd->desc.size};
		items[i].desc = &nd->rd_desc;
		if (nd->manifest) {
			nd->mem = (struct ctr_remote_membuf){.buf = nd->buf, .len = nd->len};
			ctr_remote_source_mem(&items[i].src, &nd->mem);
		} else {
			items[i].src = (struct ctr_remote_source){.read_at = ctr_remote_content_read_at, .ud = nd->rd};
			items[i].mount_from = nd->mount_from;
		}
	}
	r = ctr_remote_push(rem, items, p.n, err);
out:
	free(items);
	ctr_remote_free(rem);
	ctr_image_free(img);
	push_clear(&p);
	if (r < 0)
		return ctr_err_prefix(err, r, "push %s", ref);
	return 0;
}
