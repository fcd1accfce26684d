/* The caller's image handlers and handler wrapper (lib/transfer/pull-handlers.c):
 * the descriptor accessors, the options, and each answer a callback can
 * give, with the exact error for the hostile ones. The pull against a real
 * registry is tests/integration/test-pull-ext.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctr/ctr.h>
#include <ctr/sys/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pull-handlers.h"
#include "remote-opts.h"
#include "walk.h"

#define DG(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static struct ctr_desc make_desc(const char *mt, const char *dg, int64_t size)
{
	struct ctr_desc d = {.media_type = strdup(mt), .size = size};
	snprintf(d.digest, sizeof(d.digest), "%s", dg);
	return d;
}

static void test_accessors(void **state)
{
	(void)state;
	struct ctr_desc d = make_desc(CTR_MT_OCI_MANIFEST, DG("a"), 123);
	d.annotations = json_pack("{s:s, s:s, s:i}", "org.example.b", "2", "org.example.a", "1", "num", 3);
	d.has_platform = true;
	assert_int_equal(ctr_platform_parse("linux/arm/v7", &d.platform, NULL), 0);
	struct ctr_descriptor v;
	ctr_descriptor_init(&v, &d);
	assert_string_equal(ctr_descriptor_media_type(&v), CTR_MT_OCI_MANIFEST);
	assert_string_equal(ctr_descriptor_digest(&v), DG("a"));
	assert_int_equal(ctr_descriptor_size(&v), 123);
	assert_string_equal(ctr_descriptor_annotation(&v, "org.example.a"), "1");
	assert_null(ctr_descriptor_annotation(&v, "num")); /* not a string */
	assert_null(ctr_descriptor_annotation(&v, "missing"));
	assert_null(ctr_descriptor_annotation(&v, NULL));
	/* keys in the document's order */
	assert_string_equal(ctr_descriptor_annotation_key(&v, 0), "org.example.b");
	assert_string_equal(ctr_descriptor_annotation_key(&v, 1), "org.example.a");
	assert_string_equal(ctr_descriptor_annotation_key(&v, 2), "num");
	assert_null(ctr_descriptor_annotation_key(&v, 3));
	assert_string_equal(ctr_descriptor_platform(&v), "linux/arm/v7");
	ctr_desc_clear(&d);

	struct ctr_desc bare = make_desc(CTR_MT_OCI_LAYER_GZIP, DG("b"), 0);
	ctr_descriptor_init(&v, &bare);
	assert_null(ctr_descriptor_platform(&v));
	assert_null(ctr_descriptor_annotation(&v, "x"));
	assert_null(ctr_descriptor_annotation_key(&v, 0));
	ctr_desc_clear(&bare);
	assert_null(ctr_descriptor_digest(NULL));
	assert_null(ctr_descriptor_media_type(NULL));
	assert_int_equal(ctr_descriptor_size(NULL), -1);
}

struct rec {
	int answer;
	int calls;
	const char *msg; /* set with ctr_error_set when answer < 0 */
	char seen[4][80];
};

static int handler(const ctr_descriptor *d, void *ud, ctr_error **err)
{
	struct rec *r = ud;
	if (r->calls < 4)
		snprintf(r->seen[r->calls], sizeof(r->seen[0]), "%s", ctr_descriptor_digest(d));
	r->calls++;
	if (r->answer < 0 && r->msg)
		return ctr_error_set(err, r->answer, 0, r->msg);
	return r->answer;
}

static int run_handlers(struct rec *recs, size_t n, const struct ctr_desc *d, ctr_error **err)
{
	struct ctr_pull_cfg p = {0};
	struct ctr_call call = {0};
	ctr_opt *o[4];
	for (size_t i = 0; i < n; i++)
		o[i] = ctr_with_image_handler(handler, &recs[i]);
	struct ctr_opt_target t[] = {{CTR_OPT_PULL, &p}};
	assert_int_equal(ctr_opts_apply_multi(t, 1, &call, (const ctr_opt *const *)o, n, "pull", NULL), 0);
	assert_int_equal(p.n_handlers, n);
	int r = ctr_pull_handlers_run(p.handlers, p.n_handlers, d, err);
	for (size_t i = 0; i < n; i++)
		ctr_opt_free(o[i]);
	ctr_pull_cfg_clear(&p);
	return r;
}

static void test_handler_answers(void **state)
{
	(void)state;
	struct ctr_desc d = make_desc(CTR_MT_OCI_CONFIG, DG("c"), 10);
	ctr_error *e = NULL;

	/* in order, all of them */
	struct rec two[2] = {{0}, {0}};
	assert_int_equal(run_handlers(two, 2, &d, &e), 0);
	assert_int_equal(two[0].calls, 1);
	assert_int_equal(two[1].calls, 1);
	assert_string_equal(two[1].seen[0], DG("c"));

	/* skip and stop end the chain and skip the descriptor */
	for (int a = CTR_IMAGE_HANDLER_SKIP; a <= CTR_IMAGE_HANDLER_STOP; a++) {
		struct rec s[2] = {{.answer = a}, {0}};
		assert_int_equal(run_handlers(s, 2, &d, &e), CTR_WALK_SKIP);
		assert_null(e);
		assert_int_equal(s[1].calls, 0);
	}

	/* an error code with the handler's message */
	struct rec f[2] = {{.answer = CTR_EPERM, .msg = "policy forbids"}, {0}};
	assert_int_equal(run_handlers(f, 2, &d, &e), CTR_EPERM);
	assert_int_equal(f[1].calls, 0);
	assert_string_equal(ctr_error_message(e), "image handler: config " DG("c") ": policy forbids");
	ctr_error_free(e);
	e = NULL;
	/* without a message: the code's name */
	struct rec g = {.answer = CTR_ENOTFOUND};
	assert_int_equal(run_handlers(&g, 1, &d, &e), CTR_ENOTFOUND);
	assert_string_equal(ctr_error_message(e), "image handler: config " DG("c") ": not found");
	ctr_error_free(e);
	e = NULL;

	/* hostile answers: any other positive value, a code below the CTR_E set */
	int bad[] = {3, 1000, -14, -1000000};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec h = {.answer = bad[i]};
		assert_int_equal(run_handlers(&h, 1, &d, &e), CTR_EINVAL);
		char want[300];
		snprintf(want, sizeof(want),
			 "image handler: config " DG("c") ": returned %d, not 0, a CTR_E* code or CTR_IMAGE_HANDLER_*",
			 bad[i]);
		assert_string_equal(ctr_error_message(e), want);
		ctr_error_free(e);
		e = NULL;
	}
	ctr_desc_clear(&d);
}

struct wrec {
	int answer;
	size_t n_seen;
	size_t drop; /* index to drop, or SIZE_MAX */
	char first_child[80];
};

static int wrapper(bool *keep, const ctr_descriptor *d, const ctr_descriptor *const *children, size_t n, void *ud,
		   ctr_error **err)
{
	(void)d, (void)err;
	struct wrec *w = ud;
	w->n_seen = n;
	for (size_t i = 0; i < n; i++)
		assert_true(keep[i]);
	if (n)
		snprintf(w->first_child, sizeof(w->first_child), "%s", ctr_descriptor_media_type(children[0]));
	if (w->drop < n)
		keep[w->drop] = false;
	return w->answer;
}

static void test_wrapper(void **state)
{
	(void)state;
	struct ctr_desc m = make_desc(CTR_MT_OCI_MANIFEST, DG("d"), 10);
	struct ctr_desc c0 = make_desc(CTR_MT_OCI_CONFIG, DG("e"), 1), c1 = make_desc(CTR_MT_OCI_LAYER, DG("f"), 2);
	const struct ctr_desc *kids[] = {&c0, &c1};
	bool keep[2];
	struct wrec w = {.drop = 1};
	ctr_opt *o1 = ctr_with_image_handler_wrapper(wrapper, NULL), *o2 = ctr_with_image_handler_wrapper(wrapper, &w);
	struct ctr_pull_cfg p = {0};
	struct ctr_call call = {0};
	struct ctr_opt_target t[] = {{CTR_OPT_PULL, &p}};
	assert_int_equal(ctr_opts_apply_multi(t, 1, &call, CTR_OPTS(o1, o2), "pull", NULL), 0);
	assert_ptr_equal(p.wrapper_ud, &w); /* the last one given */
	assert_int_equal(ctr_pull_wrapper_run(p.wrapper, p.wrapper_ud, &m, kids, 2, keep, NULL), 0);
	assert_int_equal(w.n_seen, 2);
	assert_string_equal(w.first_child, CTR_MT_OCI_CONFIG);
	assert_true(keep[0]);
	assert_false(keep[1]);
	w.answer = CTR_IMAGE_HANDLER_STOP;
	assert_int_equal(ctr_pull_wrapper_run(p.wrapper, p.wrapper_ud, &m, kids, 2, keep, NULL), CTR_WALK_SKIP);
	w.answer = 7;
	ctr_error *e = NULL;
	assert_int_equal(ctr_pull_wrapper_run(p.wrapper, p.wrapper_ud, &m, kids, 2, keep, &e), CTR_EINVAL);
	assert_string_equal(ctr_error_message(e), "image handler wrapper: manifest " DG("d")
						  ": returned 7, not 0, a CTR_E* code or CTR_IMAGE_HANDLER_*");
	ctr_error_free(e);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_pull_cfg_clear(&p);
	ctr_desc_clear(&m);
	ctr_desc_clear(&c0);
	ctr_desc_clear(&c1);
}

static void test_constructors(void **state)
{
	(void)state;
	assert_null(ctr_with_image_handler(NULL, NULL));
	assert_null(ctr_with_image_handler_wrapper(NULL, NULL));
	ctr_opt *o = ctr_with_image_handler(handler, NULL);
	assert_int_equal(ctr_opt_kind_of(o), CTR_OPT_PULL);
	assert_string_equal(ctr_opt_name(o), "ctr_with_image_handler");
	ctr_opt_free(o);
	/* more than the limit */
	struct ctr_pull_cfg p = {0};
	struct ctr_call call = {0};
	struct ctr_opt_target t[] = {{CTR_OPT_PULL, &p}};
	const ctr_opt *many[CTR_MAX_IMAGE_HANDLERS + 1];
	ctr_opt *one = ctr_with_image_handler(handler, NULL);
	for (size_t i = 0; i < CTR_MAX_IMAGE_HANDLERS + 1; i++)
		many[i] = one;
	ctr_error *e = NULL;
	assert_int_equal(ctr_opts_apply_multi(t, 1, &call, many, CTR_MAX_IMAGE_HANDLERS + 1, "pull", &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "more than 64 image handlers"));
	ctr_error_free(e);
	ctr_opt_free(one);
	ctr_pull_cfg_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_handler_answers),
		cmocka_unit_test(test_wrapper),
		cmocka_unit_test(test_constructors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
