/* Shared helpers of the spec tests: generate a spec with options (taking
 * ownership of them) and walk the resulting JSON. */
#ifndef CTR_TEST_SPEC_HELPERS_H
#define CTR_TEST_SPEC_HELPERS_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <ctr/ctr.h>

/* Generates the spec for namespace "default", id "c1"; asserts the return
 * code; frees the options. Returns the parsed spec, or NULL on failure. */
static inline json_t *gen_v(const char *rootfs, int expect, ctr_opt **opts, size_t n)
{
	char *j = NULL;
	ctr_error *e = NULL;
	int r = ctr_spec_generate(&j, "default", "c1", rootfs, (const ctr_opt *const *)opts, n, &e);
	if (r != expect)
		print_message("spec: got %d (%s), expected %d\n", r, e ? ctr_error_message(e) : "-", expect);
	assert_int_equal(r, expect);
	for (size_t i = 0; i < n; i++)
		ctr_opt_free(opts[i]);
	if (r < 0) {
		assert_null(j);
		assert_non_null(e);
		ctr_error_free(e);
		return NULL;
	}
	assert_null(e);
	json_t *v = json_loads(j, 0, NULL);
	assert_non_null(v);
	ctr_free(j);
	return v;
}

#define GEN(root, expect, ...)                                                       \
	gen_v((root), (expect), (ctr_opt *[]){__VA_ARGS__},                          \
	      sizeof((ctr_opt *[]){__VA_ARGS__}) / sizeof(ctr_opt *))

/* Object member at a dotted path ("process.user.uid"); NULL when missing. */
static inline json_t *jp(json_t *v, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	return v;
}

static inline json_int_t jint(json_t *v, const char *path)
{
	json_t *x = jp(v, path);
	assert_true(json_is_integer(x));
	return json_integer_value(x);
}

static inline const char *jstr(json_t *v, const char *path)
{
	json_t *x = jp(v, path);
	return json_is_string(x) ? json_string_value(x) : NULL;
}

/* True when the array of strings at path holds s. */
static inline bool has_str(json_t *v, const char *path, const char *s)
{
	json_t *a = jp(v, path);
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)) ?: "", s))
			return true;
	return false;
}

/* Asserts that the array at path is exactly the JSON text `expect`. */
static inline void assert_json(json_t *v, const char *path, const char *expect)
{
	json_t *want = json_loads(expect, JSON_DECODE_ANY, NULL);
	assert_non_null(want);
	json_t *got = jp(v, path);
	if (!json_equal(got, want)) {
		char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		print_message("%s: got %s, want %s\n", path, g ? g : "(missing)", expect);
		free(g);
	}
	assert_true(json_equal(got, want));
	json_decref(want);
}

#endif
