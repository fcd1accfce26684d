/* AppArmor's default container profile (containerd's
 * apparmor.WithDefaultProfile): the text generated for a host, against
 * fixtures written for two hosts (a current parser with tunables and
 * abstractions under a confined manager; a 2.8.0 parser with neither,
 * which knows no signal or ptrace rules), the parser's version string, bad
 * names, and the spec option on this machine: it loads the profile where
 * the kernel has AppArmor and apparmor_parser exists, and is CTR_ENOTSUP,
 * leaving the spec as it was, where it has not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "apparmor.h"
#include "fs.h"

static char *fixture(const char *name)
{
	const char *src = getenv("MESON_SOURCE_ROOT");
	assert_non_null(src);
	char p[4096];
	snprintf(p, sizeof(p), "%s/tests/fixtures/apparmor/%s", src, name);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(ctr_read_file(AT_FDCWD, p, 1 << 20, &text, &len, NULL), 0);
	return text;
}

static void test_profile_text(void **state)
{
	(void)state;
	struct ctr_aa_host modern = {.version = 213003, .tunables_global = true, .abstractions_base = true,
				     .manager_profile = "host-manager"};
	char *got = NULL, *want = fixture("libctr-default.modern");
	assert_int_equal(ctr_oci_apparmor_profile(&got, "libctr-default", &modern, NULL), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	struct ctr_aa_host old = {.version = 208000};
	want = fixture("libctr-default.old");
	assert_int_equal(ctr_oci_apparmor_profile(&got, "libctr-default", &old, NULL), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* the rule kinds start at their parser versions */
	struct ctr_aa_host ptrace_only = {.version = 208095};
	assert_int_equal(ctr_oci_apparmor_profile(&got, "p1", &ptrace_only, NULL), 0);
	assert_non_null(strstr(got, "ptrace (trace,read) peer=p1,"));
	assert_null(strstr(got, "signal"));
	free(got);
	struct ctr_aa_host both = {.version = 208096};
	assert_int_equal(ctr_oci_apparmor_profile(&got, "p1", &both, NULL), 0);
	assert_non_null(strstr(got, "signal (receive) peer=unconfined,\n  signal (receive) peer=unconfined,"));
	assert_non_null(strstr(got, "signal (send,receive) peer=p1,"));
	free(got);
	/* names that could break the profile's text are refused */
	const char *bad[] = {"", "a b", "x{", "p,\n  capability", ".hidden", "a/b", "q\"", NULL};
	for (size_t i = 0; bad[i]; i++) {
		got = (char *)"untouched";
		assert_int_equal(ctr_oci_apparmor_profile(&got, bad[i], &modern, NULL), CTR_EINVAL);
		assert_string_equal(got, "untouched");
	}
}

static void test_parser_version(void **state)
{
	(void)state;
	int v = 0;
	assert_int_equal(ctr_oci_apparmor_parse_version(&v, "AppArmor parser version 2.13.3\nCopyright (C) 1999-2008 Novell Inc.\n", NULL), 0);
	assert_int_equal(v, 213003);
	assert_int_equal(ctr_oci_apparmor_parse_version(&v, "AppArmor parser version 3.0.8\n", NULL), 0);
	assert_int_equal(v, 300008);
	assert_int_equal(ctr_oci_apparmor_parse_version(&v, "AppArmor parser version 2.8.95~2430-0ubuntu5\n", NULL), 0);
	assert_int_equal(v, 208095);
	assert_int_equal(ctr_oci_apparmor_parse_version(&v, "AppArmor parser version 4.1\n", NULL), 0);
	assert_int_equal(v, 401000);
	v = -1;
	const char *bad[] = {"", "AppArmor parser", "version x.y", "version 2.1000.1", "version 100.1.1", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(ctr_oci_apparmor_parse_version(&v, bad[i], NULL), CTR_EINVAL);
	assert_int_equal(ctr_oci_apparmor_parse_version(&v, NULL, NULL), CTR_EINVAL);
	assert_int_equal(v, -1);
}

static void test_spec_option(void **state)
{
	(void)state;
	assert_null(ctr_with_apparmor_default_profile(NULL));
	ctr_spec *s = NULL;
	assert_int_equal(ctr_spec_new(&s, "default", "aa", NULL, NULL, 0, NULL), 0);
	char *before = NULL;
	assert_int_equal(ctr_spec_to_json(&before, s, 0, NULL), 0);
	/* a bad name is refused before anything is read or loaded */
	ctr_opt *bad = ctr_with_apparmor_default_profile("bad name");
	assert_int_equal(ctr_spec_apply(s, CTR_OPTS(bad), NULL), CTR_EINVAL);
	ctr_opt_free(bad);
	char why[160];
	ctr_opt *o = ctr_with_apparmor_default_profile("libctr-default");
	ctr_error *e = NULL;
	int r = ctr_spec_apply(s, CTR_OPTS(o), &e);
	ctr_opt_free(o);
	bool enabled = ctr_oci_apparmor_enabled(why, sizeof(why));
	bool parser = system("apparmor_parser --version >/dev/null 2>&1") == 0;
	char *after = NULL;
	assert_int_equal(ctr_spec_to_json(&after, s, 0, NULL), 0);
	if (!enabled || !parser) {
		/* this machine: nothing to load into, said so, spec untouched */
		assert_int_equal(r, CTR_ENOTSUP);
		assert_non_null(strstr(ctr_error_message(e), "libctr-default"));
		assert_non_null(strstr(ctr_error_message(e), enabled ? "apparmor_parser" : why));
		assert_string_equal(after, before);
		print_message("SKIP load: %s\n", enabled ? "apparmor_parser is not on PATH" : why);
	} else if (geteuid() != 0) {
		print_message("SKIP load: loading a profile needs root (got %d: %s)\n", r,
			      e ? ctr_error_message(e) : "");
	} else {
		if (r < 0)
			fail_msg("load: %s", ctr_error_message(e));
		assert_non_null(strstr(after, "\"apparmorProfile\":\"libctr-default\""));
		char *list = NULL;
		size_t len = 0;
		assert_int_equal(ctr_read_file(AT_FDCWD, "/sys/kernel/security/apparmor/profiles", 1 << 22, &list,
					       &len, NULL),
				 0);
		assert_non_null(strstr(list, "libctr-default ("));
		free(list);
	}
	ctr_error_free(e);
	ctr_free(before);
	ctr_free(after);
	ctr_spec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_text),
		cmocka_unit_test(test_parser_version),
		cmocka_unit_test(test_spec_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
