/* remotes/reference: parsing and normalisation of image references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reference.h"
#include "macro.h"

#define D1 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void check_norm(const char *in, const char *want, const char *domain, const char *path,
		       const char *tag, const char *digest)
{
	struct ctr_ref r;
	ctr_error *err = NULL;
	int rc = ctr_ref_parse(in, &r, &err);
	if (rc != 0)
		fail_msg("parse %s: %s", in, ctr_error_message(err));
	_cleanup_free_ char *s = ctr_ref_string(&r);
	assert_string_equal(s, want);
	assert_string_equal(r.domain, domain);
	assert_string_equal(r.path, path);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	_cleanup_free_ char *name = ctr_ref_name(&r);
	assert_true(strncmp(want, name, strlen(name)) == 0);
	assert_string_equal(ctr_ref_object(&r), digest ? digest : tag);
	ctr_ref_clear(&r);
}

static void test_normalise(void **state)
{
	(void)state;
	check_norm("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", NULL);
	check_norm("busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
	check_norm("library/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", NULL);
	check_norm("user/app", "docker.io/user/app:latest", "docker.io", "user/app", "latest", NULL);
	check_norm("docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", NULL);
	check_norm("index.docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", NULL);
	check_norm("index.docker.io/a/b", "docker.io/a/b:latest", "docker.io", "a/b", "latest", NULL);
	check_norm("host:5000/a/b:tag", "host:5000/a/b:tag", "host:5000", "a/b", "tag", NULL);
	check_norm("quay.io/x/y/z:v1.0-rc_1", "quay.io/x/y/z:v1.0-rc_1", "quay.io", "x/y/z", "v1.0-rc_1", NULL);
	check_norm("localhost/foo", "localhost/foo:latest", "localhost", "foo", "latest", NULL);
	check_norm("localhost:5000/foo", "localhost:5000/foo:latest", "localhost:5000", "foo", "latest", NULL);
	check_norm("127.0.0.1:5000/foo:1", "127.0.0.1:5000/foo:1", "127.0.0.1:5000", "foo", "1", NULL);
	check_norm("[::1]:5000/foo", "[::1]:5000/foo:latest", "[::1]:5000", "foo", "latest", NULL);
	/* No '.' or ':' and not localhost: the first component is a path. */
	check_norm("localhostx/foo", "docker.io/localhostx/foo:latest", "docker.io", "localhostx/foo", "latest", NULL);
	/* An upper-case first component is a domain (newer distribution rule). */
	check_norm("Registry/foo", "Registry/foo:latest", "Registry", "foo", "latest", NULL);
	/* "localhost:5000" alone is the image localhost with tag 5000, as in docker. */
	check_norm("localhost:5000", "docker.io/library/localhost:5000", "docker.io", "library/localhost", "5000", NULL);
	check_norm("busybox@" D1, "docker.io/library/busybox@" D1, "docker.io", "library/busybox", NULL, D1);
	check_norm("busybox:1@" D1, "docker.io/library/busybox:1@" D1, "docker.io", "library/busybox", "1", D1);
	check_norm("host:5000/a@" D1, "host:5000/a@" D1, "host:5000", "a", NULL, D1);
	check_norm("a__b/c-d--e/f.g:T_ag", "docker.io/a__b/c-d--e/f.g:T_ag", "docker.io", "a__b/c-d--e/f.g", "T_ag", NULL);
}

static void check_bad(const char *in, int code, const char *needle)
{
	struct ctr_ref r = {.domain = (char *)"sentinel"};
	ctr_error *err = NULL;
	assert_int_equal(ctr_ref_parse(in, &r, &err), code);
	assert_non_null(err);
	if (needle && !strstr(ctr_error_message(err), needle))
		fail_msg("%s: message \"%s\" lacks \"%s\"", in ? in : "(null)", ctr_error_message(err), needle);
	/* Output untouched on failure. */
	assert_string_equal(r.domain, "sentinel");
	ctr_error_free(err);
}

static void test_bad(void **state)
{
	(void)state;
	char longtag[140], longname[300];
	memset(longtag, 'a', sizeof(longtag));
	memcpy(longtag, "x:", 2);
	longtag[2 + 129] = 0;
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "h.io/", 5);
	longname[256] = 0;
	check_bad(NULL, CTR_EINVAL, "empty");
	check_bad("", CTR_EINVAL, "empty");
	check_bad("Busybox", CTR_EINVAL, "must be lowercase");
	check_bad("docker.io/Library/busybox", CTR_EINVAL, "must be lowercase");
	check_bad("host:5000/A/b", CTR_EINVAL, "must be lowercase");
	check_bad("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", CTR_EINVAL, "64-byte hexadecimal");
	check_bad("busybox:", CTR_EINVAL, "invalid tag");
	check_bad("busybox:-x", CTR_EINVAL, "invalid tag");
	check_bad("busybox:.x", CTR_EINVAL, "invalid tag");
	check_bad("busybox:a/b", CTR_EINVAL, NULL);
	check_bad("busybox:a+b", CTR_EINVAL, "invalid tag");
	check_bad(longtag, CTR_EINVAL, "invalid tag");
	check_bad(longname, CTR_EINVAL, "longer than 255");
	check_bad("busybox@sha256:abc", CTR_EINVAL, "want 64 hex");
	check_bad("busybox@sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", CTR_EINVAL, "hex");
	check_bad("busybox@", CTR_EINVAL, "digest");
	check_bad("busybox@" D1 "@" D1, CTR_EINVAL, "more than one");
	check_bad("busybox@md5:d41d8cd98f00b204e9800998ecf8427e", CTR_ENOTSUP, "unsupported");
	check_bad("a//b", CTR_EINVAL, "invalid repository path");
	check_bad("a/b/", CTR_EINVAL, "invalid repository path");
	check_bad("/a", CTR_EINVAL, "invalid repository path");
	check_bad("a/.b", CTR_EINVAL, "invalid repository path");
	check_bad("a/b.", CTR_EINVAL, "invalid repository path");
	check_bad("a/b___c", CTR_EINVAL, "invalid repository path");
	check_bad("a/b_-c", CTR_EINVAL, "invalid repository path");
	check_bad("a/../b", CTR_EINVAL, "invalid repository path");
	check_bad("host.io/", CTR_EINVAL, "invalid repository path");
	check_bad("-host.io/a", CTR_EINVAL, "invalid domain");
	check_bad("host-.io/a", CTR_EINVAL, "invalid domain");
	check_bad("host..io/a", CTR_EINVAL, "invalid domain");
	check_bad("host:/a", CTR_EINVAL, "invalid domain");
	check_bad("host:5x/a", CTR_EINVAL, "invalid domain");
	check_bad("host:123456/a", CTR_EINVAL, "invalid domain");
	check_bad("[]:5000/a", CTR_EINVAL, "invalid domain");
	check_bad("[::g]/a", CTR_EINVAL, "invalid domain");
	check_bad("h_st.io/a", CTR_EINVAL, "invalid domain");
	check_bad("a b", CTR_EINVAL, "invalid character");
	check_bad("a\nb", CTR_EINVAL, "invalid character");
	check_bad("caf\xc3\xa9", CTR_EINVAL, "invalid character");
	check_bad(":tag", CTR_EINVAL, "empty name");
	check_bad("@" D1, CTR_EINVAL, "empty name");
	check_bad("_tag", CTR_EINVAL, "invalid repository path");
}

static void test_grammar_helpers(void **state)
{
	(void)state;
	assert_true(ctr_ref_tag_ok("latest"));
	assert_true(ctr_ref_tag_ok("_"));
	assert_true(ctr_ref_tag_ok("A.b-c_9"));
	assert_false(ctr_ref_tag_ok(""));
	assert_false(ctr_ref_tag_ok("-a"));
	assert_true(ctr_ref_path_ok("a/b-c", 5));
	assert_true(ctr_ref_path_ok("a.b_c__d---e", 12));
	assert_false(ctr_ref_path_ok("", 0));
	assert_false(ctr_ref_path_ok("a-", 2));
	assert_false(ctr_ref_path_ok("-a", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_grammar_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
