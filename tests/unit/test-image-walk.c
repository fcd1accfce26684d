/* The one image-tree walk (lib/images/walk.c) and the gc.ref child labels:
 * order of visits, selection and flags, skipping what was seen, the one
 * depth limit, parse errors named, and containerd's label keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strv.h"
#include "walk.h"

#define HEX64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DG(c) "sha256:" HEX64(c)

/* A tiny store: digest -> document. */
struct doc {
	const char *digest;
	const char *mt;
	char *json;
};

struct fixture {
	struct doc docs[40];
	size_t n;
	char log[4096];
	int skip_seen; /* visit answers CTR_WALK_SKIP for a digest seen before */
	char seen[40][CTR_DIGEST_MAX];
	size_t n_seen;
	int only_first_child; /* select: the first child only, with flags 7 */
};

static const char *find(struct fixture *f, const char *digest)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->docs[i].digest, digest))
			return f->docs[i].json;
	return NULL;
}

static void logf_(struct fixture *f, const char *what, const struct ctr_desc *d, int depth)
{
	char b[64];
	/* the digest's first hex char names the node */
	snprintf(b, sizeof(b), "%s:%c@%d ", what, d->digest[7], depth);
	strncat(f->log, b, sizeof(f->log) - strlen(f->log) - 1);
}

static int t_visit(void *ud, const struct ctr_desc *d, int depth, bool node, ctr_error **err)
{
	struct fixture *f = ud;
	(void)err;
	logf_(f, node ? "node" : "leaf", d, depth);
	if (f->skip_seen) {
		for (size_t i = 0; i < f->n_seen; i++)
			if (!strcmp(f->seen[i], d->digest))
				return CTR_WALK_SKIP;
		snprintf(f->seen[f->n_seen++], sizeof(f->seen[0]), "%s", d->digest);
	}
	return 0;
}

static int t_read(void *ud, const struct ctr_desc *d, char **buf, size_t *len, ctr_error **err)
{
	const char *j = find(ud, d->digest);
	if (!j)
		return ctr_err(err, CTR_ENOTFOUND, 0, "no %s", d->digest);
	*buf = strdup(j);
	*len = strlen(j);
	return 0;
}

static int t_select(void *ud, const struct ctr_walk_node *n, struct ctr_walk_pick *sel, size_t *ns, ctr_error **err)
{
	struct fixture *f = ud;
	(void)err;
	*ns = 0;
	for (size_t i = 0; i < n->n_children && (!f->only_first_child || i < 1); i++)
		sel[(*ns)++] = (struct ctr_walk_pick){.i = i, .flags = f->only_first_child ? 7 : 0};
	return 0;
}

static int t_leave(void *ud, struct ctr_walk_node *n, ctr_error **err)
{
	struct fixture *f = ud;
	(void)err;
	char b[32];
	snprintf(b, sizeof(b), "flags=%u ", n->flags);
	logf_(f, "leave", n->desc, n->depth);
	strncat(f->log, b, sizeof(f->log) - strlen(f->log) - 1);
	return 0;
}

static void add_manifest(struct fixture *f, const char *digest, const char *config, const char *layer)
{
	char *j = NULL;
	assert_true(asprintf(&j,
			     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
			     "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2}]}",
			     CTR_MT_OCI_MANIFEST, CTR_MT_OCI_CONFIG, config, CTR_MT_OCI_LAYER_GZIP, layer) > 0);
	f->docs[f->n++] = (struct doc){digest, CTR_MT_OCI_MANIFEST, j};
}

/* An index of the given children (each a manifest or an index digest). */
static void add_index(struct fixture *f, const char *digest, const char *const *kids, const char *const *mts)
{
	char body[4096] = "";
	for (size_t i = 0; kids[i]; i++) {
		char e[300];
		snprintf(e, sizeof(e), "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1}", i ? "," : "", mts[i],
			 kids[i]);
		strcat(body, e);
	}
	char *j = NULL;
	assert_true(asprintf(&j, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", CTR_MT_OCI_INDEX,
			     body) > 0);
	f->docs[f->n++] = (struct doc){digest, CTR_MT_OCI_INDEX, j};
}

static void fixture_clear(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->docs[i].json);
}

static struct ctr_desc root_of(const char *digest, const char *mt)
{
	struct ctr_desc d = {.media_type = (char *)mt, .size = 1};
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	return d;
}

/* Pre-order visits, post-order leaves, children in order, depth counted. */
static void test_order(void **state)
{
	(void)state;
	struct fixture f = {0};
	add_manifest(&f, DG("a"), DG("1"), DG("2"));
	add_manifest(&f, DG("b"), DG("1"), DG("3"));
	const char *kids[] = {DG("a"), DG("b"), NULL};
	const char *mts[] = {CTR_MT_OCI_MANIFEST, CTR_MT_OCI_MANIFEST};
	add_index(&f, DG("i"), kids, mts);
	struct ctr_image_walker w = {.visit = t_visit, .read = t_read, .leave = t_leave, .ud = &f};
	struct ctr_desc root = root_of(DG("i"), CTR_MT_OCI_INDEX);
	assert_int_equal(ctr_image_walk(&w, &root, NULL), 0);
	assert_string_equal(f.log, "node:i@0 node:a@1 leaf:1@2 leaf:2@2 leave:a@1 flags=0 node:b@1 leaf:1@2 "
				   "leaf:3@2 leave:b@1 flags=0 leave:i@0 flags=0 ");
	/* a visit that skips what it has seen: the shared config once */
	memset(f.log, 0, sizeof(f.log));
	f.skip_seen = 1;
	assert_int_equal(ctr_image_walk(&w, &root, NULL), 0);
	assert_string_equal(f.log, "node:i@0 node:a@1 leaf:1@2 leaf:2@2 leave:a@1 flags=0 node:b@1 leaf:1@2 "
				   "leaf:3@2 leave:b@1 flags=0 leave:i@0 flags=0 ");
	assert_int_equal(f.n_seen, 6);
	/* select: only what it picks is walked, and the child gets its flags */
	memset(f.log, 0, sizeof(f.log));
	f.skip_seen = 0;
	f.only_first_child = 1;
	w.select = t_select;
	assert_int_equal(ctr_image_walk(&w, &root, NULL), 0);
	assert_string_equal(f.log, "node:i@0 node:a@1 leaf:1@2 leave:a@1 flags=7 leave:i@0 flags=0 ");
	fixture_clear(&f);
}

/* Indexes nested CTR_IMAGE_MAX_DEPTH deep walk; one more level is refused
 * before it is read. */
static void test_depth(void **state)
{
	(void)state;
	static const char hex[] = "0123456789abcdef";
	static char digests[CTR_IMAGE_MAX_DEPTH + 3][80];
	for (int levels = CTR_IMAGE_MAX_DEPTH; levels <= CTR_IMAGE_MAX_DEPTH + 1; levels++) {
		struct fixture f = {0};
		/* index k (depth k) holds index k+1; the last holds a manifest */
		for (int k = 0; k <= levels + 1; k++) {
			char c = hex[k % 16];
			snprintf(digests[k], sizeof(digests[k]), "sha256:%c%c%.62s", hex[k / 16], c,
				 HEX64("e"));
		}
		add_manifest(&f, digests[levels + 1], DG("1"), DG("2"));
		for (int k = levels; k >= 0; k--) {
			const char *kids[] = {digests[k + 1], NULL};
			const char *mts[] = {k == levels ? CTR_MT_OCI_MANIFEST : CTR_MT_OCI_INDEX};
			add_index(&f, digests[k], kids, mts);
		}
		/* levels indexes below the root, then the manifest at depth levels+1 */
		struct ctr_image_walker w = {.read = t_read, .ud = &f};
		struct ctr_desc root = root_of(digests[0], CTR_MT_OCI_INDEX);
		ctr_error *err = NULL;
		int r = ctr_image_walk(&w, &root, &err);
		if (levels + 1 <= CTR_IMAGE_MAX_DEPTH) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, CTR_EINVAL);
			assert_non_null(strstr(ctr_error_message(err), "nested deeper than 16"));
		}
		ctr_error_free(err);
		fixture_clear(&f);
	}
}

/* A document that does not parse is named; its children are not walked. */
static void test_parse_error(void **state)
{
	(void)state;
	struct fixture f = {0};
	f.docs[f.n++] = (struct doc){DG("a"), CTR_MT_OCI_MANIFEST, strdup("{\"schemaVersion\":2,")};
	struct ctr_image_walker w = {.visit = t_visit, .read = t_read, .ud = &f};
	struct ctr_desc root = root_of(DG("a"), CTR_MT_OCI_MANIFEST);
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_walk(&w, &root, &err), CTR_EINVAL);
	assert_true(!strncmp(ctr_error_message(err), "manifest " DG("a") ": ", 9 + 71 + 2));
	assert_string_equal(f.log, "node:a@0 ");
	ctr_error_free(err);
	/* a schema 1 manifest is a leaf, unless the walker asks for it */
	f.docs[f.n++] = (struct doc){DG("5"), CTR_MT_DOCKER_SCHEMA1, strdup("{\"schemaVersion\":1,\"name\":\"x\"}")};
	struct ctr_desc s1 = root_of(DG("5"), CTR_MT_DOCKER_SCHEMA1);
	memset(f.log, 0, sizeof(f.log));
	assert_int_equal(ctr_image_walk(&w, &s1, NULL), 0);
	assert_string_equal(f.log, "leaf:5@0 ");
	w.schema1_nodes = true;
	assert_int_equal(ctr_image_walk(&w, &s1, NULL), CTR_ENOTSUP);
	assert_int_equal(ctr_image_walk(NULL, &s1, NULL), CTR_EINVAL);
	fixture_clear(&f);
}

static const char *drop_layers(const struct ctr_desc *child, const char *key, void *ud)
{
	(void)ud;
	return ctr_media_kind(child->media_type) == CTR_MT_LAYER ? NULL : key;
}

/* containerd's ChildGCLabels keys, numbered per key. */
static void test_child_labels(void **state)
{
	(void)state;
	struct ctr_desc c[6] = {
		{.media_type = CTR_MT_OCI_MANIFEST}, {.media_type = CTR_MT_DOCKER_MANIFEST},
		{.media_type = CTR_MT_OCI_INDEX},    {.media_type = CTR_MT_OCI_CONFIG},
		{.media_type = CTR_MT_OCI_LAYER_GZIP}, {.media_type = CTR_MT_DOCKER_LAYER_GZIP},
	};
	const struct ctr_desc *p[6];
	for (int i = 0; i < 6; i++) {
		snprintf(c[i].digest, sizeof(c[i].digest), "sha256:%d", i);
		p[i] = &c[i];
	}
	char **l = NULL;
	size_t n = 0;
	assert_int_equal(ctr_gc_child_labels(&l, &n, p, 6, NULL, NULL, NULL), 0);
	assert_int_equal(n, 6);
	assert_string_equal(l[0], "containerd.io/gc.ref.content.m.0=sha256:0");
	assert_string_equal(l[1], "containerd.io/gc.ref.content.m.1=sha256:1");
	assert_string_equal(l[2], "containerd.io/gc.ref.content.0=sha256:2");
	assert_string_equal(l[3], "containerd.io/gc.ref.content.config=sha256:3");
	assert_string_equal(l[4], "containerd.io/gc.ref.content.l.0=sha256:4");
	assert_string_equal(l[5], "containerd.io/gc.ref.content.l.1=sha256:5");
	assert_null(l[6]);
	/* a map that drops layers; appends to what is there */
	assert_int_equal(ctr_gc_child_labels(&l, &n, p + 3, 3, drop_layers, NULL, NULL), 0);
	assert_int_equal(n, 7);
	assert_string_equal(l[6], "containerd.io/gc.ref.content.config=sha256:3");
	assert_null(l[7]);
	ctr_strv_free(l);
	assert_string_equal(ctr_media_kind_name(CTR_MT_DOCKER_LIST), "index");
	assert_string_equal(ctr_media_kind_name("text/plain"), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_child_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
