/* Image and container records through the public API: bad names and ids
 * are refused with the exact code and leave no record; duplicates, missing
 * targets and labels behave as in containerd; update by field paths. No
 * root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "fs.h"

static char tmp[256];
static ctr_client *c;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-records-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	char root[300], st[300];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(st);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	ctr_opt_free(a);
	ctr_opt_free(b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_client_free(c);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static size_t n_images(void)
{
	ctr_image **v = NULL;
	size_t n = 99;
	assert_int_equal(ctr_image_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_image_list_free(v, n);
	return n;
}

static size_t n_containers(void)
{
	ctr_container **v = NULL;
	size_t n = 99;
	assert_int_equal(ctr_container_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_container_list_free(v, n);
	return n;
}

static void test_images(void **state)
{
	(void)state;
	/* A target the namespace's content has. */
	const char data[] = "{\"schemaVersion\":2}";
	char dg[80];
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "m", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, (int64_t)strlen(data), NULL, NULL, CTR_NO_OPTS, NULL), 0);
	ctr_content_writer_free(w);
	ctr_content_info **ci = NULL;
	size_t n = 0;
	assert_int_equal(ctr_content_list(&ci, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	snprintf(dg, sizeof(dg), "%s", ctr_content_info_digest(ci[0]));
	ctr_content_info_list_free(ci, n);
	const char *mt = "application/vnd.oci.image.manifest.v1+json";
	const char *labels[] = {"a=1", NULL};
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_create(&img, c, "docker.io/library/x:1", mt, dg, 19, labels, NULL, 0, NULL), 0);
	assert_string_equal(ctr_image_target_digest(img), dg);
	ctr_image_free(img);
	/* Duplicates, bad names and digests, missing targets: exact codes, no record. */
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_create(NULL, c, "docker.io/library/x:1", mt, dg, 19, NULL, NULL, 0, &err),
			 CTR_EEXISTS);
	ctr_error_free(err);
	const char *bad_names[] = {"", "has space", "tab\there", "nl\n"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(ctr_image_create(NULL, c, bad_names[i], mt, dg, 19, NULL, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_create(NULL, c, "y", mt, "sha256:../../x", 19, NULL, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_create(NULL, c, "y", mt,
						 "sha256:0000000000000000000000000000000000000000000000000000000000000000",
						 19, NULL, NULL, 0, NULL),
			 CTR_ENOTFOUND);
	const char *bad_labels[] = {"novalue", NULL};
	assert_int_equal(ctr_image_create(NULL, c, "y", mt, dg, 19, bad_labels, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(n_images(), 1);
	/* Tag, labels, filters, delete. */
	assert_int_equal(ctr_image_tag(NULL, c, "docker.io/library/x:1", "x:2", NULL, 0, NULL), 0);
	assert_int_equal(ctr_image_tag(NULL, c, "docker.io/library/x:1", "x:2", NULL, 0, NULL), CTR_EEXISTS);
	ctr_opt *force = ctr_with_tag_force();
	assert_int_equal(ctr_image_tag(NULL, c, "docker.io/library/x:1", "x:2", CTR_OPTS(force), NULL), 0);
	/* The force option is for tag only; other calls refuse its kind. */
	assert_int_equal(ctr_image_update(NULL, c, "x:2", NULL, CTR_OPTS(force), NULL), CTR_EINVAL);
	/* Both are CTR_OPT_IMAGE: get refuses the tag's, tag refuses the
	 * platform, each with its name; a bad platform is refused. */
	ctr_opt *plat = ctr_with_image_platform("linux/arm64"), *badplat = ctr_with_image_platform("linux/a/b/c");
	ctr_error *e = NULL;
	assert_int_equal(ctr_image_get(&img, c, "x:2", CTR_OPTS(force), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_tag_force"));
	ctr_error_free(e);
	e = NULL;
	assert_int_equal(ctr_image_tag(NULL, c, "x:2", "x:3", CTR_OPTS(plat), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_image_platform"));
	ctr_error_free(e);
	assert_int_equal(ctr_image_get(&img, c, "x:2", CTR_OPTS(badplat), NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_get(&img, c, "x:3", NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_image_get(&img, c, "x:2", CTR_OPTS(plat), NULL), 0);
	ctr_image_free(img);
	ctr_opt_free(plat);
	ctr_opt_free(badplat);
	ctr_opt_free(force);
	assert_int_equal(ctr_image_tag(NULL, c, "nosuch", "z", NULL, 0, NULL), CTR_ENOTFOUND);
	const char *upd[] = {"a=", "b=2", NULL};
	assert_int_equal(ctr_image_update(&img, c, "x:2", upd, NULL, 0, NULL), 0);
	assert_string_equal(ctr_image_labels(img)[0], "b=2");
	assert_null(ctr_image_labels(img)[1]);
	ctr_image_free(img);
	ctr_image **v = NULL;
	const char *f[] = {"labels.b==2"};
	assert_int_equal(ctr_image_list(&v, &n, c, f, 1, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_image_name(v[0]), "x:2");
	ctr_image_list_free(v, n);
	assert_int_equal(ctr_image_delete(c, "x:2", NULL, 0, NULL), 0);
	assert_int_equal(ctr_image_delete(c, "x:2", NULL, 0, NULL), CTR_ENOTFOUND);
	/* Another namespace sees none of it. */
	ctr_opt *ns = ctr_with_call_namespace("other");
	assert_int_equal(ctr_image_get(&img, c, "docker.io/library/x:1", CTR_OPTS(ns), NULL), CTR_ENOTFOUND);
	ctr_opt_free(ns);
}

static void test_containers(void **state)
{
	(void)state;
	ctr_opt *spec = ctr_with_spec("{\"ociVersion\":\"1.0.2\"}");
	const char *labels[] = {"team=a", NULL};
	ctr_opt *lab = ctr_with_container_labels(labels);
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, c, "c1", CTR_OPTS(spec, lab), NULL), 0);
	assert_string_equal(ctr_container_runtime(k), CTR_DEFAULT_RUNTIME);
	assert_null(ctr_container_snapshot_key(k));
	char *info = NULL;
	assert_int_equal(ctr_container_info(&info, k, NULL), 0);
	assert_non_null(strstr(info, "\"ID\": \"c1\""));
	ctr_free(info);
	ctr_error *err = NULL;
	ctr_container *k2 = NULL;
	assert_int_equal(ctr_container_new(&k2, c, "c1", CTR_OPTS(spec), &err), CTR_EEXISTS);
	ctr_error_free(err);
	const char *bad_ids[] = {"../x", "a/b", "", "a--b",
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ctr_container_new(&k2, c, bad_ids[i], CTR_OPTS(spec), NULL), CTR_EINVAL);
	ctr_opt *badspec = ctr_with_spec("[1,2]");
	assert_int_equal(ctr_container_new(&k2, c, "c2", CTR_OPTS(badspec), NULL), CTR_EINVAL);
	ctr_opt *badrt = ctr_with_runtime("crun");
	assert_int_equal(ctr_container_new(&k2, c, "c2", CTR_OPTS(spec, badrt), NULL), CTR_EINVAL);
	ctr_opt *nosnap = ctr_with_snapshot("nosuch");
	assert_int_equal(ctr_container_new(&k2, c, "c2", CTR_OPTS(spec, nosnap), NULL), CTR_ENOTFOUND);
	assert_int_equal(n_containers(), 1);
	/* Labels and filters; load from another handle; delete. */
	const char *upd[] = {"team=", "x=y", NULL};
	assert_int_equal(ctr_container_set_labels(k, upd, NULL), 0);
	assert_string_equal(ctr_container_labels(k)[0], "x=y");
	ctr_container **v = NULL;
	size_t n = 0;
	const char *f[] = {"labels.x==y"};
	assert_int_equal(ctr_container_list(&v, &n, c, f, 1, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	ctr_container_list_free(v, n);
	assert_int_equal(ctr_container_load(&k2, c, "c1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_container_delete(k2, NULL, 0, NULL), 0);
	ctr_container_free(k2);
	assert_int_equal(ctr_container_delete(k, NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(n_containers(), 0);
	ctr_container_free(k);
	ctr_opt_free(spec);
	ctr_opt_free(lab);
	ctr_opt_free(badspec);
	ctr_opt_free(badrt);
	ctr_opt_free(nosnap);
}

/* A metadata-only container: a record of labels, extensions and a spec.
 * Update by containerd's field paths changes only the parts named; an
 * option update does not support, or a bad path, is CTR_EINVAL and changes
 * nothing. */
static void test_update_fields(void **state)
{
	(void)state;
	ctr_opt *spec = ctr_with_spec("{\"ociVersion\":\"1.0.2\"}");
	const char *labels[] = {"a=1", "b=2", NULL};
	ctr_opt *lab = ctr_with_container_labels(labels);
	ctr_opt *ext = ctr_with_container_extension("x", "{\"kind\":\"x\"}");
	ctr_opt *ext2 = ctr_with_container_extension("y", "[1]");
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, c, "m1", CTR_OPTS(spec, lab, ext, ext2), NULL), 0);
	char *before = NULL;
	assert_int_equal(ctr_container_info(&before, k, NULL), 0);
	/* labels.a and extensions.x only: b, y and the spec stay, although
	 * the options also carry other values. */
	const char *nl[] = {"a=9", "b=8", "c=7", NULL};
	ctr_opt *lab2 = ctr_with_container_labels(nl);
	ctr_opt *x2 = ctr_with_container_extension("x", "\"new\"");
	ctr_opt *y2 = ctr_with_container_extension("y", "\"ignored\"");
	ctr_opt *spec2 = ctr_with_spec("{\"ociVersion\":\"9\"}");
	const char *paths[] = {"labels.a", "extensions.x", NULL};
	ctr_opt *fp = ctr_with_update_fields(paths);
	assert_int_equal(ctr_container_update(k, CTR_OPTS(lab2, x2, y2, spec2, fp), NULL), 0);
	const char *const *l = ctr_container_labels(k);
	assert_string_equal(l[0], "a=9");
	assert_string_equal(l[1], "b=2");
	assert_null(l[2]);
	assert_string_equal(ctr_container_extensions(k), "{\"x\":\"new\",\"y\":[1]}");
	assert_string_equal(ctr_container_spec(k), "{\"ociVersion\":\"1.0.2\"}");
	/* labels.b not given by the options: removed; spec replaced. */
	const char *paths2[] = {"labels.b", "spec", NULL};
	ctr_opt *fp2 = ctr_with_update_fields(paths2);
	ctr_opt *only_a[] = {ctr_with_container_labels((const char *[]){"a=0", NULL})};
	assert_int_equal(ctr_container_update(k, CTR_OPTS(only_a[0], spec2, fp2), NULL), 0);
	l = ctr_container_labels(k);
	assert_string_equal(l[0], "a=9");
	assert_null(l[1]);
	assert_string_equal(ctr_container_spec(k), "{\"ociVersion\":\"9\"}");
	/* Errors: nothing changes, also in the database. */
	char *mid = NULL;
	assert_int_equal(ctr_container_info(&mid, k, NULL), 0);
	ctr_error *err = NULL;
	const char *badp[] = {"labels.a", "snapshotter", NULL};
	ctr_opt *fp3 = ctr_with_update_fields(badp);
	assert_int_equal(ctr_container_update(k, CTR_OPTS(lab2, fp3), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "cannot update \"snapshotter\" field"));
	ctr_error_free(err);
	err = NULL;
	const char *nospec[] = {"spec", NULL};
	ctr_opt *fp4 = ctr_with_update_fields(nospec);
	assert_int_equal(ctr_container_update(k, CTR_OPTS(lab2, fp4), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "no ctr_with_spec"));
	ctr_error_free(err);
	err = NULL;
	/* ctr_with_new_snapshot used to be ignored by update. */
	char digest[80];
	const char *man = "{\"schemaVersion\":2}";
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "man", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, man, strlen(man), NULL), 0);
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, man, strlen(man), digest, NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, (int64_t)strlen(man), digest, NULL, CTR_NO_OPTS, NULL), 0);
	ctr_content_writer_free(w);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_create(&img, c, "lctr.test/upd:1", "application/vnd.oci.image.manifest.v1+json",
					  digest, (int64_t)strlen(man), NULL, NULL, 0, NULL), 0);
	ctr_opt *ns = ctr_with_new_snapshot("snap", img);
	assert_int_equal(ctr_container_update(k, CTR_OPTS(lab2, ns), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_new_snapshot: not supported by update"));
	ctr_error_free(err);
	err = NULL;
	ctr_opt *cl = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_update(k, CTR_OPTS(cl), &err), CTR_EINVAL);
	ctr_error_free(err);
	ctr_container *k2 = NULL;
	assert_int_equal(ctr_container_load(&k2, c, "m1", NULL, 0, NULL), 0);
	char *after = NULL;
	assert_int_equal(ctr_container_info(&after, k2, NULL), 0);
	assert_string_equal(after, mid);
	assert_string_not_equal(after, before);
	/* An empty list of field paths is no list, as in containerd: every
	 * part the options give is updated (labels merge). */
	const char *none[] = {NULL};
	ctr_opt *fp5 = ctr_with_update_fields(none);
	assert_int_equal(ctr_container_update(k2, CTR_OPTS(lab, fp5), NULL), 0);
	l = ctr_container_labels(k2);
	assert_string_equal(l[0], "a=1");
	assert_string_equal(l[1], "b=2");
	assert_null(l[2]);
	ctr_opt_free(fp5);
	ctr_free(before);
	ctr_free(mid);
	ctr_free(after);
	ctr_container_free(k2);
	ctr_container_free(k);
	ctr_image_free(img);
	ctr_opt *all[] = {spec, lab, ext, ext2, lab2, x2, y2, spec2, fp, fp2, only_a[0], fp3, fp4, ns, cl};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ctr_opt_free(all[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_fields, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
