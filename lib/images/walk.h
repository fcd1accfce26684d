/* The one walk of an image's tree, shared by fetch, push, import and
 * export: each of them says how to read a document, which children to
 * follow and what to do at each descriptor; the walk does the recursion,
 * the parsing and the one depth limit (CTR_IMAGE_MAX_DEPTH).
 *
 * A descriptor is a node when it is a manifest or an index (and a schema 1
 * manifest, for a walker that sets schema1_nodes: parsing it then gives
 * CTR_ENOTSUP), a leaf otherwise. */
#ifndef CTR_IMAGES_WALK_H
#define CTR_IMAGES_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

/* visit's answer for a descriptor the walk goes no further into. */
#define CTR_WALK_SKIP 1

struct ctr_walk_node {
	const struct ctr_desc *desc;
	int depth;      /* the root is 0 */
	unsigned flags; /* what the parent's select gave this child; 0 at the root */
	char *buf;      /* the document as read; a callback that keeps it sets buf to NULL */
	size_t len;
	struct ctr_manifest m;
	/* Set by a callback that keeps m (a struct copy): the walk then does not
	 * clear it, and the keeper keeps its arrays alive until the walk returns
	 * (the walk goes on reading the children from them). */
	bool keep_manifest;
	/* Borrowed from m: an index's manifests, or a manifest's config then its
	 * layers. */
	const struct ctr_desc **children;
	size_t n_children;
};

/* One child to follow: its position in children, and the flags its node
 * gets. */
struct ctr_walk_pick {
	size_t i;
	unsigned flags;
};

struct ctr_image_walker {
	bool schema1_nodes;
	/* Every descriptor reached, before anything else: 0 to go on, CTR_WALK_SKIP
	 * to go no further, or an error. A leaf ends here either way. Optional. */
	int (*visit)(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err);
	/* Reads node d into a malloc'd buffer. Required. */
	int (*read)(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err);
	/* After the document is parsed, before its children. Optional. */
	int (*enter)(void *ud, struct ctr_walk_node *n, ctr_error **err);
	/* The children to follow, in order: writes at most n->n_children picks.
	 * Optional: without it every child is followed, in order, with flags 0. */
	int (*select)(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *picks, size_t *n_picks,
		      ctr_error **err);
	/* After the children (post-order). Optional. */
	int (*leave)(void *ud, struct ctr_walk_node *n, ctr_error **err);
	void *ud;
};

/* Walks the tree under root. An error stops the walk and is returned; a
 * document that fails to parse is named in its message ("index <digest>:
 * ..."). */
int ctr_image_walk(const struct ctr_image_walker *w, const struct ctr_desc *root, ctr_error **err);

/* "manifest", "index", "config", "layer" or "unknown", for messages and
 * ingest names. */
const char *ctr_media_kind_name(const char *mt);

/* containerd's SetChildrenMappedLabels over ChildGCLabels: one
 * "key=digest" label per child, the key "containerd.io/gc.ref.content" plus
 * ".config", ".m.<i>", ".l.<i>" or ".<i>" by the child's media type, each
 * key numbered on its own. map (NULL: none) sees containerd's key and
 * returns the key to use (copied at once) or NULL for no label. Appends to
 * *labels (NULL-terminated, *n entries). */
typedef const char *(*ctr_gc_child_map_fn)(const struct ctr_desc *child, const char *key, void *ud);
int ctr_gc_child_labels(char ***labels, size_t *n, const struct ctr_desc *const *children, size_t n_children,
			ctr_gc_child_map_fn map, void *ud, ctr_error **err);

#endif
