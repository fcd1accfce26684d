/* Option objects and the client constructor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "fs.h"

static char tmpdir[256];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctr-opts-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	ctr_rm_rf_at(AT_FDCWD, tmpdir, NULL);
	return 0;
}

struct cb_data {
	int calls;
};

static int my_apply(void *target, void *userdata, ctr_error **err)
{
	(void)target;
	(void)err;
	((struct cb_data *)userdata)->calls++;
	return 0;
}

static int failing_apply(void *target, void *userdata, ctr_error **err)
{
	(void)target;
	(void)userdata;
	(void)err;
	return CTR_EPERM;
}

static int freed;
static void my_free(void *p)
{
	(void)p;
	freed++;
}

static void test_client_new(void **state)
{
	(void)state;
	char root[300], st[300];
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(st, sizeof(st), "%s/state", tmpdir);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(st), *o3 = ctr_with_namespace("ns1");
	struct cb_data d = {0};
	ctr_opt *cb = ctr_opt_new(CTR_OPT_CLIENT, my_apply, &d, my_free);
	ctr_client *c = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2, o3, cb), &err), 0);
	assert_null(err);
	assert_int_equal(d.calls, 1);
	assert_string_equal(ctr_client_namespace(c), "ns1");
	assert_string_equal(ctr_client_root(c), root);
	assert_string_equal(ctr_client_state(c), st);
	struct stat sb;
	assert_int_equal(stat(root, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* References: the last free destroys. */
	ctr_client *c2 = ctr_client_ref(c);
	ctr_client_free(c);
	assert_string_equal(ctr_client_namespace(c2), "ns1");
	ctr_client_free(c2);
	ctr_client_free(NULL);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
	ctr_opt_free(cb);
	assert_int_equal(freed, 1);
}

static void test_wrong_kind_and_null(void **state)
{
	(void)state;
	char root[300];
	snprintf(root, sizeof(root), "%s/r2", tmpdir);
	ctr_opt *good = ctr_with_root(root);
	ctr_opt *wrong = ctr_opt_new(CTR_OPT_SPEC, my_apply, NULL, NULL);
	ctr_client *c = (ctr_client *)0x1;
	ctr_error *err = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(good, wrong), &err), CTR_EINVAL);
	assert_ptr_equal(c, (ctr_client *)0x1); /* untouched on failure */
	assert_non_null(strstr(ctr_error_message(err), "option-callback"));
	assert_non_null(strstr(ctr_error_message(err), "spec option"));
	ctr_error_free(err);
	err = NULL;
	/* A lease option is a call option, which a client does not take. */
	ctr_opt *lease = ctr_with_lease("l1");
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(good, lease), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_lease"));
	ctr_error_free(err);
	err = NULL;
	/* A failed constructor gives NULL, which the call names. */
	ctr_opt *bad = ctr_with_root(NULL);
	assert_null(bad);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(good, bad), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "NULL"));
	ctr_error_free(err);
	err = NULL;
	/* A bad namespace is refused and the root dir is not created. */
	ctr_opt *ns = ctr_with_namespace("../x");
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(good, ns), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "invalid namespace"));
	ctr_error_free(err);
	assert_int_equal(access(root, F_OK), -1);
	/* A failing callback's code comes back. */
	ctr_opt *f = ctr_opt_new(CTR_OPT_CLIENT, failing_apply, NULL, NULL);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(good, f), NULL), CTR_EPERM);
	assert_null(ctr_opt_new(CTR_OPT_CLIENT, NULL, NULL, NULL));
	ctr_opt_free(good);
	ctr_opt_free(wrong);
	ctr_opt_free(lease);
	ctr_opt_free(ns);
	ctr_opt_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_new, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_wrong_kind_and_null, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
