/* containerd filter syntax: parsing, errors and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "filters.h"
#include "macro.h"

/* A tiny object: name, topic, and labels as key/value pairs. */
struct obj {
	const char *name;
	const char *topic;
	const char *const *labels; /* k, v, k, v, NULL */
};

static const char *field(void *o, const char *const *path, size_t n)
{
	struct obj *ob = o;
	if (n == 1 && !strcmp(path[0], "name"))
		return ob->name;
	if (n == 1 && !strcmp(path[0], "topic"))
		return ob->topic;
	if (n == 2 && !strcmp(path[0], "labels")) {
		for (size_t i = 0; ob->labels && ob->labels[i]; i += 2)
			if (!strcmp(ob->labels[i], path[1]))
				return ob->labels[i + 1];
	}
	return NULL;
}

static bool m(const char *filter, struct obj *o)
{
	ctr_filter *f = NULL;
	const char *fs[] = {filter};
	ctr_error *err = NULL;
	int r = ctr_filter_parse(&f, fs, 1, &err);
	if (r < 0)
		fail_msg("parse %s: %s", filter, ctr_error_message(err));
	bool res = ctr_filter_match(f, field, o);
	ctr_filter_free(f);
	return res;
}

static void test_match(void **state)
{
	(void)state;
	const char *labels[] = {"a.b", "x", "env", "prod", "empty", "", NULL};
	struct obj o = {.name = "foo", .topic = "/tasks/exit", .labels = labels};
	assert_true(m("", &o));
	assert_true(m("name==foo", &o));
	assert_false(m("name==bar", &o));
	assert_true(m("name!=bar", &o));
	assert_false(m("name!=foo", &o));
	assert_true(m("name", &o));
	assert_true(m("labels.env", &o));
	assert_true(m("labels.empty", &o));
	assert_false(m("labels.missing", &o));
	assert_true(m("labels.missing!=x", &o)); /* containerd: != is true when absent */
	assert_true(m("labels.\"a.b\"==x", &o));
	assert_false(m("labels.a.b==x", &o));
	assert_true(m("topic~=\"/tasks/\"", &o));
	assert_true(m("topic~=/^\\/tasks\\//", &o));
	assert_true(m("topic~=|^/tasks/e.it$|", &o));
	assert_false(m("topic~=\"/images/\"", &o));
	assert_true(m("name==foo,labels.env==prod", &o));
	assert_false(m("name==foo,labels.env==dev", &o));
	assert_true(m("name==bar|labels.env==prod", &o));
	assert_true(m("name==foo , labels.env==prod", &o));
	assert_true(m("name==\"f\\x6fo\"", &o));
	assert_true(m("name~=^f.o$", &o));

	/* Several filter strings are ORed. */
	ctr_filter *f;
	const char *two[] = {"name==nope", "topic==\"/tasks/exit\""};
	assert_int_equal(ctr_filter_parse(&f, two, 2, NULL), 0);
	assert_true(ctr_filter_match(f, field, &o));
	ctr_filter_free(f);
	assert_int_equal(ctr_filter_parse(&f, NULL, 0, NULL), 0);
	assert_true(ctr_filter_match(f, field, &o));
	ctr_filter_free(f);
}

static void test_errors(void **state)
{
	(void)state;
	const char *bad[] = {"name==", "==foo", "name=foo", "name===foo", "name==\"foo", "labels.",
			     "name==foo,", "name~=\"(\"", "name==a b", "name==\"\\q\"", ".name", "name==\"\\x0\""};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		ctr_filter *f = NULL;
		ctr_error *err = NULL;
		const char *fs[] = {bad[i]};
		int r = ctr_filter_parse(&f, fs, 1, &err);
		if (r != CTR_EINVAL)
			fail_msg("\"%s\" parsed (r=%d)", bad[i], r);
		assert_null(f);
		assert_non_null(strstr(ctr_error_message(err), "filter"));
		ctr_error_free(err);
	}
}

/* fuzz-filter: "u++++...}}}" made regcomp allocate gigabytes. Nested
 * repetition, counts over 1000 and counts that multiply past 100000 are
 * refused before regcomp, as Go's regexp refuses them; plain patterns
 * with counts and brackets still compile. */
static void test_costly_regex(void **state)
{
	(void)state;
	const char *bad[] = {"name~=u++", "name~=\"a*+\"", "name~=\"a{2}{3}\"", "name~=\"a{1001}\"",
			     "name~=\"a{1,5000}\"", "name~=\"((a{100}){100}){100}\""};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		ctr_filter *f = NULL;
		ctr_error *err = NULL;
		const char *fs[] = {bad[i]};
		if (ctr_filter_parse(&f, fs, 1, &err) != CTR_EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_null(f);
		assert_non_null(strstr(ctr_error_message(err), "bad regex"));
		ctr_error_free(err);
	}
	char *long_re = malloc(1100);
	assert_non_null(long_re);
	memcpy(long_re, "name~=", 6);
	memset(long_re + 6, 'a', 1090);
	long_re[1096] = 0;
	ctr_filter *f = NULL;
	const char *fs[] = {long_re};
	assert_int_equal(ctr_filter_parse(&f, fs, 1, NULL), CTR_EINVAL);
	free(long_re);
	struct obj o = {.name = "docker.io/library/busybox:latest"};
	assert_true(m("name~=\"^docker[.]io/(library)?/bu{1,2}sy[+*]*box\"", &o));
	assert_true(m("name~=\"o{1}[a-z]{3,}[+]?\"", &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_costly_regex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
