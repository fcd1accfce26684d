/* Remote, pull and push options; the adapters from the public callbacks to
 * remotes/; and the argument checks of fetch, pull and push, which must
 * fail before any network access and leave the store untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctr/ctr.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote-opts.h"
#include "fs.h"
#include "../integration/store-empty.h"

static int apply_spec(void *t, void *ud, ctr_error **err)
{
	(void)t, (void)ud, (void)err;
	return 0;
}

static void test_apply_multi(void **state)
{
	(void)state;
	struct ctr_remote_cfg cfg = {0};
	struct ctr_pull_cfg pull = {0};
	struct ctr_call call = {0};
	struct ctr_opt_target t[] = {{CTR_OPT_REMOTE, &cfg}, {CTR_OPT_PULL, &pull}};
	ctr_opt *ph = ctr_with_plain_http(), *hd = ctr_with_hosts_dir("/etc/containerd/certs.d"),
		*p1 = ctr_with_platform("linux/arm64"), *p2 = ctr_with_platform("linux/amd64"),
		*am = ctr_with_all_metadata(), *ns = ctr_with_call_namespace("other"),
		*lab = ctr_with_pull_labels((const char *const[]){"a=1", "b=2", NULL}),
		*lab2 = ctr_with_pull_labels((const char *const[]){"c=3", NULL}), *sk = ctr_with_skip_verify(),
		*dl = ctr_with_max_concurrent_downloads(5), *ca = ctr_with_tls_ca("/ca.pem"),
		*cc = ctr_with_tls_client_cert("/c.pem", NULL);
	assert_int_equal(ctr_opts_apply_multi(t, 2, &call, CTR_OPTS(ph, hd, p1, p2, am, ns, lab, lab2, sk, dl, ca, cc),
					      "pull", NULL),
			 0);
	assert_true(cfg.plain_http && cfg.skip_verify && pull.all_metadata);
	assert_string_equal(cfg.hosts_dir, "/etc/containerd/certs.d");
	assert_int_equal(cfg.n_platforms, 2);
	assert_string_equal(cfg.platforms[0].arch, "arm64");
	assert_string_equal(call.ns, "other");
	assert_int_equal(pull.n_labels, 3);
	assert_string_equal(pull.labels[2], "c=3");
	assert_null(pull.labels[3]);
	assert_int_equal(cfg.downloads, 5);
	assert_string_equal(cfg.ca_file, "/ca.pem");
	assert_string_equal(cfg.client_cert, "/c.pem");
	assert_null(cfg.client_key);

	struct ctr_platform_matcher m;
	bool ex = false;
	ctr_remote_cfg_matcher(&cfg, NULL, &m, &ex);
	assert_true(ex);
	assert_int_equal(m.n, 2);
	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&cfg, false, &ro);
	assert_true(ro.plain_http && ro.skip_verify);
	assert_int_equal(ro.max_concurrency, 5);
	assert_string_equal(ro.ca_file, "/ca.pem");
	ctr_remote_cfg_to_opts(&cfg, true, &ro); /* uploads fall back to downloads */
	assert_int_equal(ro.max_concurrency, 5);
	ctr_pull_cfg_clear(&pull);

	/* a push takes no pull option, and says which */
	struct ctr_push_cfg pc = {0};
	struct ctr_opt_target tp[] = {{CTR_OPT_REMOTE, &cfg}, {CTR_OPT_PUSH, &pc}};
	ctr_error *err = NULL;
	assert_int_equal(ctr_opts_apply_multi(tp, 2, &call, CTR_OPTS(ph, am), "push", &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_all_metadata"));
	assert_non_null(strstr(ctr_error_message(err), "pull option"));
	ctr_error_free(err);
	err = NULL;
	ctr_opt *spec = ctr_opt_new(CTR_OPT_SPEC, apply_spec, NULL, NULL);
	assert_int_equal(ctr_opts_apply_multi(tp, 2, NULL, CTR_OPTS(spec), "push", NULL), CTR_EINVAL);
	/* CALL options without a call target are refused */
	assert_int_equal(ctr_opts_apply_multi(tp, 2, NULL, CTR_OPTS(ns), "push", NULL), CTR_EINVAL);
	/* a bad platform and a bad label fail at apply; bad counts at construction */
	ctr_opt *bp = ctr_with_platform("linux/arm64/v8/extra/x");
	struct ctr_remote_cfg cfg2 = {0};
	assert_int_equal(ctr_opts_apply_multi(t, 2, &call, CTR_OPTS(bp), "pull", NULL), CTR_EINVAL);
	ctr_opt *bl = ctr_with_pull_labels((const char *const[]){"novalue", NULL});
	struct ctr_pull_cfg pull2 = {0};
	struct ctr_opt_target t2[] = {{CTR_OPT_REMOTE, &cfg2}, {CTR_OPT_PULL, &pull2}};
	assert_int_equal(ctr_opts_apply_multi(t2, 2, &call, CTR_OPTS(bl), "pull", NULL), CTR_EINVAL);
	ctr_pull_cfg_clear(&pull2);
	assert_null(ctr_with_max_concurrent_downloads(0));
	assert_null(ctr_with_max_concurrent_uploads((size_t)-1));
	assert_null(ctr_with_max_concurrent_uploads(1025));
	assert_null(ctr_with_platform(NULL));
	assert_null(ctr_with_hosts_dir(""));
	assert_null(ctr_with_credentials(NULL, NULL));
	assert_null(ctr_with_progress(NULL, NULL));
	assert_null(ctr_with_tls_client_cert(NULL, "k"));
	/* the default matcher is the host's, not explicit */
	ctr_remote_cfg_matcher(&cfg2, NULL, &m, &ex);
	assert_false(ex);
	assert_false(m.all);
	ctr_opt *all = ctr_with_all_platforms();
	assert_int_equal(ctr_opts_apply_multi(t2, 2, &call, CTR_OPTS(all), "pull", NULL), 0);
	ctr_remote_cfg_matcher(&cfg2, NULL, &m, &ex);
	assert_true(ex && m.all);
	const ctr_opt *v[] = {ph, hd, p1, p2, am, ns, lab, lab2, sk, dl, ca, cc, spec, bp, bl, all};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ctr_opt_free((ctr_opt *)v[i]);
}

struct cbdata {
	int calls;
	ctr_progress_state last;
	int64_t total;
	int cancel;
};

static int creds_cb(const char *host, ctr_credentials *cred, void *ud)
{
	struct cbdata *d = ud;
	d->calls++;
	if (!strcmp(host, "anon.local"))
		return 0;
	if (!strcmp(host, "fail.local"))
		return CTR_EPERM;
	assert_int_equal(ctr_credentials_set(NULL, "u", "p", NULL), CTR_EINVAL);
	assert_int_equal(ctr_credentials_set(cred, "first", "x", NULL), 0);
	return ctr_credentials_set(cred, "user", "secret", NULL);
}

static int progress_cb(const char *digest, const char *mt, int64_t done, int64_t total, ctr_progress_state s,
		       void *ud)
{
	(void)digest, (void)mt, (void)done;
	struct cbdata *d = ud;
	d->calls++;
	d->last = s;
	d->total = total;
	return d->cancel;
}

static void test_adapters(void **state)
{
	(void)state;
	struct cbdata cd = {0}, pd = {0};
	struct ctr_remote_cfg cfg = {0};
	struct ctr_call call = {0};
	struct ctr_opt_target t[] = {{CTR_OPT_REMOTE, &cfg}};
	ctr_opt *co = ctr_with_credentials(creds_cb, &cd), *po = ctr_with_progress(progress_cb, &pd);
	assert_int_equal(ctr_opts_apply_multi(t, 1, &call, CTR_OPTS(co, po), "fetch", NULL), 0);
	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&cfg, false, &ro);
	char *user = NULL, *secret = NULL;
	assert_int_equal(ro.creds("reg.local", &user, &secret, ro.creds_ud), 0);
	assert_string_equal(user, "user");
	assert_string_equal(secret, "secret");
	free(user);
	free(secret);
	user = secret = NULL;
	assert_int_equal(ro.creds("anon.local", &user, &secret, ro.creds_ud), 0);
	assert_null(user);
	assert_int_equal(ro.creds("fail.local", &user, &secret, ro.creds_ud), CTR_EPERM);
	assert_null(user);
	assert_int_equal(cd.calls, 3);

	struct ctr_remote_desc d = {.media_type = (char *)"application/octet-stream",
				    .digest = (char *)"sha256:0000000000000000000000000000000000000000000000000000000000000000"};
	assert_int_equal(ro.progress(&d, 1, 2, CTR_REMOTE_DOWNLOADING, ro.progress_ud), 0);
	assert_int_equal(pd.last, CTR_PROGRESS_DOWNLOADING);
	assert_int_equal(pd.total, 2);
	ctr_remote_cfg_to_opts(&cfg, true, &ro);
	assert_int_equal(ro.progress(&d, 1, 0, CTR_REMOTE_DOWNLOADING, ro.progress_ud), 0);
	assert_int_equal(pd.last, CTR_PROGRESS_UPLOADING);
	assert_int_equal(pd.total, -1); /* unknown */
	assert_int_equal(ro.progress(&d, 2, 2, CTR_REMOTE_FAILED, ro.progress_ud), 0);
	assert_int_equal(pd.last, CTR_PROGRESS_FAILED);
	pd.cancel = 1;
	assert_int_not_equal(ro.progress(&d, 2, 2, CTR_REMOTE_DONE, ro.progress_ud), 0);
	assert_int_equal(ctr_remote_cfg_progress(&cfg, d.digest, d.media_type, 1, 1, CTR_PROGRESS_DONE),
			 CTR_ECANCELED);
	ctr_opt_free(co);
	ctr_opt_free(po);
}

static char tmp[64];

static void test_call_checks(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test-remote-opts.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	char root[128], st[128];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_client *c = NULL;
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(st);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(ro, so), NULL), 0);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	ctr_image *img = (ctr_image *)0x1;
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_fetch(&img, c, "Bad/Ref", NULL, 0, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "fetch Bad/Ref"));
	ctr_error_free(err);
	assert_ptr_equal(img, (ctr_image *)0x1);
	assert_int_equal(ctr_image_pull(&img, c, "", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_pull(&img, NULL, "a/b", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_pull(&img, c, "a b", NULL, 0, NULL), CTR_EINVAL);
	ctr_opt *spec = ctr_opt_new(CTR_OPT_SPEC, apply_spec, NULL, NULL);
	assert_int_equal(ctr_image_pull(&img, c, "127.0.0.1:9/a:1", CTR_OPTS(spec), NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_fetch(&img, c, "127.0.0.1:9/a:1", CTR_OPTS(NULL), NULL), CTR_EINVAL);
	ctr_opt *badns = ctr_with_call_namespace("../x");
	assert_int_equal(ctr_image_fetch(&img, c, "127.0.0.1:9/a:1", CTR_OPTS(badns), NULL), CTR_EINVAL);
	/* push of an image the namespace does not have: before any request */
	assert_int_equal(ctr_image_push(c, "127.0.0.1:9/a:1", NULL, NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_image_push(c, "127.0.0.1:9/a:1", "local", NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_image_push(c, NULL, NULL, NULL, 0, NULL), CTR_EINVAL);
	ctr_opt *am = ctr_with_all_metadata();
	assert_int_equal(ctr_image_push(c, "127.0.0.1:9/a:1", NULL, CTR_OPTS(am), NULL), CTR_EINVAL);
	assert_empty(c); /* nor an ingest */
	/* ctr_image_size / ctr_image_platforms refuse NULL */
	int64_t sz;
	assert_int_equal(ctr_image_size(&sz, NULL, NULL), CTR_EINVAL);
	char **pl = NULL;
	assert_int_equal(ctr_image_platforms(&pl, NULL, NULL), CTR_EINVAL);
	ctr_opt_free(spec);
	ctr_opt_free(badns);
	ctr_opt_free(am);
	ctr_client_free(c);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, tmp, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_multi),
		cmocka_unit_test(test_adapters),
		cmocka_unit_test(test_call_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
