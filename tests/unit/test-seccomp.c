/* ctr_with_seccomp_profile: a Docker/containerd-format profile file turned
 * into the spec's linux.seccomp, and each way a profile is refused (with the
 * spec left as it was). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "spec-helpers.h"

static char dir[] = "/tmp/ctr-seccomp-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to <dir>/name; returns the path (static buffer). */
static const char *profile(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

#if HAVE_SECCOMP

static json_t *spec_with(const char *path)
{
	ctr_opt *o = ctr_with_seccomp_profile(path);
	assert_non_null(o);
	json_t *s = GEN(NULL, 0, o);
	assert_non_null(s);
	return s;
}

static void test_valid(void **state)
{
	const char *p = profile("ok.json",
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1,"
		"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_AARCH64\"],"
		"\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"comment\":\"ignored\","
		"\"syscalls\":[{\"name\":\"mkdir\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
		"{\"names\":[\"personality\",\"mkdirat\"],\"action\":\"SCMP_ACT_LOG\","
		"\"args\":[{\"index\":0,\"value\":8,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	json_t *s = spec_with(p);
	json_t *want = json_loads(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1,"
		"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_AARCH64\"],"
		"\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
		"\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
		"{\"names\":[\"personality\",\"mkdirat\"],\"action\":\"SCMP_ACT_LOG\","
		"\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		0, NULL);
	assert_non_null(want);
	json_t *got = jp(s, "linux.seccomp");
	if (!json_equal(got, want)) {
		char *t = json_dumps(got, JSON_SORT_KEYS);
		print_message("got %s\n", t ? t : "(null)");
		free(t);
	}
	assert_true(json_equal(got, want));
	json_decref(want);
	json_decref(s);

	/* A later option replaces an earlier profile, unconfined removes it. */
	s = GEN(NULL, 0, ctr_with_seccomp_default(), ctr_with_seccomp_profile(p));
	assert_string_equal(jstr(s, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
	json_decref(s);
	s = GEN(NULL, 0, ctr_with_seccomp_profile(p), ctr_with_seccomp_unconfined());
	assert_null(jp(s, "linux.seccomp"));
	json_decref(s);
}

#if defined(__x86_64__) && !defined(__ILP32__)
/* archMap: the native architecture's entry with its sub-architectures. */
static void test_arch_map(void **state)
{
	const char *p = profile("map.json",
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":["
		"{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
		"{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],"
		"\"syscalls\":[]}");
	json_t *s = spec_with(p);
	assert_json(s, "linux.seccomp",
		    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
		    "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[]}");
	json_decref(s);
}
#endif

/* The option fails with code and a message holding frag; the spec it was
 * applied to is unchanged. */
static void expect_fail(const char *path, int code, const char *frag)
{
	ctr_spec *sp = NULL;
	ctr_error *e = NULL;
	assert_int_equal(ctr_spec_new(&sp, "default", "c1", NULL, NULL, 0, &e), 0);
	char *before = NULL, *after = NULL;
	assert_int_equal(ctr_spec_to_json(&before, sp, 0, &e), 0);
	ctr_opt *o = ctr_with_seccomp_profile(path);
	assert_non_null(o);
	int r = ctr_spec_apply(sp, (const ctr_opt *const[]){o}, 1, &e);
	ctr_opt_free(o);
	if (r != code || !e || !strstr(ctr_error_message(e), frag))
		print_message("%s: got %d (%s), expected %d with \"%s\"\n", path, r,
			      e ? ctr_error_message(e) : "-", code, frag);
	assert_int_equal(r, code);
	assert_non_null(e);
	assert_non_null(strstr(ctr_error_message(e), frag));
	assert_non_null(strstr(ctr_error_message(e), path));
	ctr_error_free(e);
	e = NULL;
	assert_int_equal(ctr_spec_to_json(&after, sp, 0, &e), 0);
	assert_string_equal(before, after);
	ctr_free(before);
	ctr_free(after);
	ctr_spec_free(sp);
}

static void test_errors(void **state)
{
	char missing[256];
	snprintf(missing, sizeof(missing), "%s/none.json", dir);
	expect_fail(missing, CTR_ENOTFOUND, "none.json");
	expect_fail(profile("bad.json", "{\"defaultAction\": "), CTR_EINVAL, "bad JSON");
	expect_fail(profile("nodef.json", "{\"syscalls\":[]}"), CTR_EINVAL,
		    "defaultAction has no action");
	expect_fail(profile("def.json", "{\"defaultAction\":\"SCMP_ACT_MAYBE\"}"), CTR_EINVAL,
		    "unknown action SCMP_ACT_MAYBE");
	expect_fail(profile("sys.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
				       "{\"names\":[\"read\",\"no_such_call\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"),
		    CTR_EINVAL, "unknown syscall no_such_call");
	expect_fail(profile("act.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
				       "{\"names\":[\"read\"]}]}"),
		    CTR_EINVAL, "syscalls[0] has no action");
	expect_fail(profile("act2.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
					"{\"name\":\"read\",\"action\":\"SCMP_ACT_NOPE\"}]}"),
		    CTR_EINVAL, "syscalls[0] has unknown action SCMP_ACT_NOPE");
	expect_fail(profile("arch.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
					"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}"),
		    CTR_EINVAL, "unknown architecture SCMP_ARCH_VAX");
	expect_fail(profile("map.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":["
				       "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"x86\"]}]}"),
		    CTR_EINVAL, "unknown architecture x86");
	expect_fail(profile("op.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
				      "[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
				      "\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}"),
		    CTR_EINVAL, "args[0] has unknown op SCMP_CMP_ABOUT");
	expect_fail(profile("idx.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
				       "[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,"
				       "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
		    CTR_EINVAL, "args[0] needs an index 0-5");
	expect_fail(profile("flags.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}"),
		    CTR_EINVAL, "unknown flags");
	expect_fail(profile("incl.json", "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
					"[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}"),
		    CTR_EINVAL, "syscalls[0]: includes/excludes are not supported");
}

/* The default profile's architectures come from libseccomp's native one. */
static void test_default_arches(void **state)
{
	json_t *s = GEN(NULL, 0, ctr_with_seccomp_default());
	json_t *a = jp(s, "linux.seccomp.architectures");
#if defined(__x86_64__) && !defined(__ILP32__)
	assert_json(s, "linux.seccomp.architectures",
		    "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
#endif
	(void)a;
	json_decref(s);
}

#else

/* Without libseccomp nothing can check a profile: even a valid one is
 * refused when the option applies. */
static void test_not_supported(void **state)
{
	ctr_opt *o = ctr_with_seccomp_profile(profile("ok.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"));
	assert_non_null(o);
	char *j = NULL;
	ctr_error *e = NULL;
	assert_int_equal(ctr_spec_generate(&j, "default", "c1", NULL, (const ctr_opt *const[]){o}, 1, &e),
			 CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(e), "without libseccomp"));
	assert_null(j);
	ctr_error_free(e);
	ctr_opt_free(o);
}

#endif

static void test_null_path(void **state)
{
	assert_null(ctr_with_seccomp_profile(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#if HAVE_SECCOMP
		cmocka_unit_test(test_valid),
#if defined(__x86_64__) && !defined(__ILP32__)
		cmocka_unit_test(test_arch_map),
#endif
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_default_arches),
#else
		cmocka_unit_test(test_not_supported),
#endif
		cmocka_unit_test(test_null_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
