/* Platform parsing, normalisation and matching as containerd's platforms package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "error.h"
#include "macro.h"
#include "platforms.h"

static const char *fmt(const char *spec)
{
	static char buf[128];
	struct ctr_platform p;
	ctr_error *err = NULL;
	if (ctr_platform_parse(spec, &p, &err) < 0) {
		snprintf(buf, sizeof(buf), "ERR");
		ctr_error_free(err);
		return buf;
	}
	return ctr_platform_format(&p, buf, sizeof(buf));
}

static void test_parse(void **state)
{
	(void)state;
	assert_string_equal(fmt("linux/amd64"), "linux/amd64");
	assert_string_equal(fmt("linux/x86_64"), "linux/amd64");
	assert_string_equal(fmt("Linux/AMD64"), "linux/amd64");
	assert_string_equal(fmt("linux/arm64"), "linux/arm64");
	assert_string_equal(fmt("linux/arm64/v8"), "linux/arm64");
	assert_string_equal(fmt("linux/aarch64"), "linux/arm64");
	assert_string_equal(fmt("linux/arm"), "linux/arm/v7");
	assert_string_equal(fmt("linux/armhf"), "linux/arm/v7");
	assert_string_equal(fmt("linux/armel"), "linux/arm/v6");
	assert_string_equal(fmt("linux/i386"), "linux/386");
	assert_string_equal(fmt("arm64"), "linux/arm64");
	assert_string_equal(fmt("macos/arm64"), "darwin/arm64");
	struct ctr_platform host;
	ctr_platform_host(&host);
	char hb[128], want[160];
	snprintf(want, sizeof(want), "%s", ctr_platform_format(&host, hb, sizeof(hb)));
	assert_string_equal(fmt("linux"), want);
	assert_string_equal(fmt(""), "ERR");
	assert_string_equal(fmt("linux/*"), "ERR");
	assert_string_equal(fmt("a/b/c/d"), "ERR");
	assert_string_equal(fmt("linux//amd64"), "ERR");
	assert_string_equal(fmt("nosuchthing"), "ERR");
	assert_string_equal(fmt("linux/am d64"), "ERR");
}

static struct ctr_platform P(const char *s)
{
	struct ctr_platform p;
	assert_int_equal(ctr_platform_parse(s, &p, NULL), 0);
	return p;
}

static void test_match(void **state)
{
	(void)state;
	struct ctr_platform_matcher m;
	struct ctr_platform arm64 = P("linux/arm64");
	ctr_platform_matcher_only(&m, &arm64);
	struct ctr_platform v8 = {"linux", "arm64", "v8"};
	assert_true(ctr_platform_match(&m, &v8)); /* unnormalised input still matches */
	assert_true(ctr_platform_match(&m, &arm64));
	struct ctr_platform armv7 = P("linux/arm/v7");
	assert_true(ctr_platform_match(&m, &armv7));
	assert_true(ctr_platform_rank(&m, &arm64) < ctr_platform_rank(&m, &armv7));
	struct ctr_platform amd64 = P("linux/amd64");
	assert_false(ctr_platform_match(&m, &amd64));

	ctr_platform_matcher_only(&m, &amd64);
	struct ctr_platform i386 = P("linux/386");
	assert_true(ctr_platform_match(&m, &i386));
	assert_int_equal(ctr_platform_rank(&m, &amd64), 0);
	assert_false(ctr_platform_match(&m, &arm64));
	struct ctr_platform win = P("windows/amd64");
	assert_false(ctr_platform_match(&m, &win));

	ctr_platform_matcher_strict(&m, &amd64);
	assert_false(ctr_platform_match(&m, &i386));

	struct ctr_platform v3 = P("linux/amd64/v3");
	ctr_platform_matcher_only(&m, &v3);
	struct ctr_platform v2 = P("linux/amd64/v2");
	assert_true(ctr_platform_match(&m, &v2));
	assert_true(ctr_platform_match(&m, &amd64));
	assert_true(ctr_platform_rank(&m, &v2) < ctr_platform_rank(&m, &amd64));

	struct ctr_platform list[] = {P("linux/arm64"), P("linux/amd64")};
	ctr_platform_matcher_ordered(&m, list, 2);
	assert_int_equal(ctr_platform_rank(&m, &arm64), 0);
	assert_int_equal(ctr_platform_rank(&m, &amd64), 1);
	assert_int_equal(ctr_platform_rank(&m, &i386), 2);

	ctr_platform_matcher_all(&m);
	assert_true(ctr_platform_match(&m, &win));

	json_t *j = json_pack("{s:s,s:s,s:s}", "os", "linux", "architecture", "arm64", "variant", "v8");
	struct ctr_platform fj;
	assert_int_equal(ctr_platform_from_json(j, &fj, NULL), 0);
	assert_true(ctr_platform_equal(&fj, &arm64));
	json_decref(j);
	j = json_pack("{s:s}", "os", "linux");
	assert_int_equal(ctr_platform_from_json(j, &fj, NULL), CTR_EINVAL);
	json_decref(j);
}

/* fuzz-platform: amd64/v2000000004 walked down two billion variants. The
 * walk stops once the matcher is full; a normal variant still gets its
 * whole list. */
static void test_huge_variant(void **state)
{
	(void)state;
	struct ctr_platform_matcher m;
	struct ctr_platform huge = {"linux", "amd64", "v2000000004"};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctr_platform_matcher_only(&m, &huge);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(m.n, CTR_ARRAY_SIZE(m.vec));
	assert_true(ctr_platform_match(&m, &huge));
	struct ctr_platform overflow = {"linux", "amd64", "v99999999999999999999"};
	ctr_platform_matcher_only(&m, &overflow);
	assert_int_equal(m.n, 2); /* itself and 386 */
	struct ctr_platform v3 = {"linux", "amd64", "v3"}, i386 = {"linux", "386", ""};
	ctr_platform_matcher_only(&m, &v3);
	assert_int_equal(m.n, 4); /* v3, v2, plain amd64, 386 */
	assert_true(ctr_platform_match(&m, &i386));
}

static size_t rank_of(const struct ctr_platform_matcher *m, const char *spec)
{
	struct ctr_platform p;
	assert_int_equal(ctr_platform_parse(spec, &p, NULL), 0);
	return ctr_platform_rank(m, &p);
}

/* The public matcher kinds (ctr_with_default_platform,
 * ctr_with_platform_matcher) and their errors. */
static void test_matcher_kinds(void **state)
{
	(void)state;
	struct ctr_platform_matcher m;
	/* Only of two: what the first runs ranks before the second */
	const char *two[] = {"linux/arm64", "linux/amd64", NULL};
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ONLY, two, NULL), 0);
	assert_int_equal(rank_of(&m, "linux/arm64/v8"), 0);
	assert_true(rank_of(&m, "linux/arm/v7") < rank_of(&m, "linux/amd64"));
	assert_true(rank_of(&m, "linux/amd64") < rank_of(&m, "linux/386"));
	assert_int_equal(rank_of(&m, "linux/ppc64le"), m.n);
	/* Ordered: exactly those, in order; arm/v7 is not arm64 */
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ORDERED, two, NULL), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(rank_of(&m, "linux/amd64"), 1);
	assert_false(ctr_platform_match(&m, &(struct ctr_platform){"linux", "arm", "v7"}));
	/* Any: the same set, no preference */
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ANY, two, NULL), 0);
	assert_int_equal(rank_of(&m, "linux/amd64"), 0);
	assert_int_equal(rank_of(&m, "linux/arm64"), 0);
	assert_int_equal(rank_of(&m, "linux/386"), m.n);
	/* All */
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ALL, NULL, NULL), 0);
	assert_true(m.all);
	/* errors */
	ctr_error *err = NULL;
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ALL, two, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ALL takes no platforms"));
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ONLY, NULL, &err), CTR_EINVAL);
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_platform_matcher_make(&m, 0, two, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "unknown match 0"));
	ctr_error_free(err);
	const char *nine[] = {"linux/amd64", "linux/arm64", "linux/386", "linux/arm/v7", "linux/arm/v6",
			      "linux/ppc64le", "linux/s390x", "linux/riscv64", "linux/mips64", NULL};
	err = NULL;
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ORDERED, nine, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "more than 8"));
	ctr_error_free(err);
	/* eight of Only's widest still fit the vector */
	nine[8] = NULL;
	assert_int_equal(ctr_platform_matcher_make(&m, CTR_PLATFORM_MATCH_ONLY, nine, NULL), 0);
	assert_int_equal(rank_of(&m, "linux/riscv64"), m.n - 1);
	/* a client with no default platform: the host's */
	struct ctr_platform_matcher h, d;
	ctr_platform_matcher_client(&h, NULL);
	ctr_platform_matcher_default(&d);
	assert_int_equal(h.n, d.n);
	assert_true(ctr_platform_equal(&h.vec[0], &d.vec[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_huge_variant),
		cmocka_unit_test(test_matcher_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
