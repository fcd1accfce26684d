/* The pull's extension points against a real docker-registry
 * (tests/fixtures/registry.sh): image handlers see every descriptor in
 * walk order and can skip one or fail the pull with nothing stored; a
 * handler wrapper sees each node's chosen children and can drop them;
 * unpack options label the layer snapshots and check the platform, on a
 * pull and on ctr_image_unpack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctr/ctr.h>
#include <ctr/sys/error.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "store-empty.h"
#include "test-sh.h"

static char top[64];
static const char *src;
static char reg_dir[128], reg_addr[256];
static char tree_ref[320], multi_ref[320];
static json_t *tree_man; /* the tree image's manifest */
static char tree_man_dg[80];
static int n_client;

/* ---- fixtures ---- */

static ctr_client *new_client(void)
{
	char root[128], state[128];
	snprintf(root, sizeof(root), "%s/root%d", top, n_client);
	snprintf(state, sizeof(state), "%s/state%d", top, n_client++);
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(state);
	ctr_client *c = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(ro, so), NULL), 0);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	return c;
}

/* ... and no snapshot either. */
static void assert_none(ctr_client *c)
{
	assert_empty(c);
	size_t n = 9;
	ctr_snapshot_info **ss = NULL;
	assert_int_equal(ctr_snapshot_list(&ss, &n, c, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_snapshot_info_list_free(ss, n);
}

static bool has_blob(ctr_client *c, const char *digest)
{
	ctr_content_info *i = NULL;
	int r = ctr_content_get(&i, c, digest, NULL, 0, NULL);
	ctr_content_info_free(i);
	return r == 0;
}

static const char *layer_digest(size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(tree_man, "layers"), i), "digest"));
}

static size_t n_layers(void)
{
	return json_array_size(json_object_get(tree_man, "layers"));
}

static const char *config_digest(void)
{
	return json_string_value(json_object_get(json_object_get(tree_man, "config"), "digest"));
}

static int pull(ctr_client *c, bool unpack, const ctr_opt *extra, const ctr_opt *extra2, ctr_error **err)
{
	ctr_opt *ph = ctr_with_plain_http(), *up = unpack ? ctr_with_pull_unpack() : ctr_with_pull_labels(
								      (const char *const[]){"x=1", NULL});
	const ctr_opt *o[4] = {ph, up};
	size_t n = 2;
	if (extra)
		o[n++] = extra;
	if (extra2)
		o[n++] = extra2;
	ctr_image *img = NULL;
	int r = ctr_image_pull(&img, c, tree_ref, o, n, err);
	ctr_image_free(img);
	ctr_opt_free(ph);
	ctr_opt_free(up);
	return r;
}

/* ---- handlers ---- */

struct seen {
	size_t n;
	char mt[16][128];
	char dg[16][80];
	int64_t size[16];
	const char *fail_at; /* digest to fail at */
	int fail_code;
	const char *skip_kind; /* media type substring to skip */
};

static int record(const ctr_descriptor *d, void *ud, ctr_error **err)
{
	struct seen *s = ud;
	if (s->n < 16) {
		snprintf(s->mt[s->n], sizeof(s->mt[0]), "%s", ctr_descriptor_media_type(d));
		snprintf(s->dg[s->n], sizeof(s->dg[0]), "%s", ctr_descriptor_digest(d));
		s->size[s->n] = ctr_descriptor_size(d);
	}
	s->n++;
	if (s->fail_at && !strcmp(s->fail_at, ctr_descriptor_digest(d)))
		return ctr_error_set(err, s->fail_code, 0, "refused by policy");
	if (s->skip_kind && strstr(ctr_descriptor_media_type(d), s->skip_kind))
		return CTR_IMAGE_HANDLER_SKIP;
	return 0;
}

static int count_calls(const ctr_descriptor *d, void *ud, ctr_error **err)
{
	(void)d, (void)err;
	(*(int *)ud)++;
	return 0;
}

/* The handler sees the manifest, its config, then its layers in order, with
 * their sizes, before they are fetched; the pull with unpack goes through. */
static void test_handler_sees_walk(void **state)
{
	(void)state;
	ctr_client *c = new_client();
	struct seen s = {0};
	int calls = 0;
	ctr_opt *h = ctr_with_image_handler(record, &s), *h2 = ctr_with_image_handler(count_calls, &calls);
	ctr_error *err = NULL;
	if (pull(c, true, h, h2, &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	size_t nl = n_layers();
	assert_true(nl >= 2);
	assert_int_equal(s.n, 2 + nl);
	assert_int_equal(calls, (int)s.n); /* the second handler ran on each too */
	assert_string_equal(s.dg[0], tree_man_dg);
	assert_string_equal(s.mt[0], "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(s.dg[1], config_digest());
	assert_int_equal(s.size[1], json_integer_value(json_object_get(json_object_get(tree_man, "config"), "size")));
	for (size_t i = 0; i < nl; i++) {
		json_t *l = json_array_get(json_object_get(tree_man, "layers"), i);
		assert_string_equal(s.dg[2 + i], layer_digest(i));
		assert_string_equal(s.mt[2 + i], json_string_value(json_object_get(l, "mediaType")));
		assert_int_equal(s.size[2 + i], json_integer_value(json_object_get(l, "size")));
	}
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, tree_ref, NULL, 0, NULL), 0);
	bool unpacked = false;
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, NULL, NULL), 0);
	assert_true(unpacked);
	ctr_image_free(img);
	ctr_opt_free(h);
	ctr_opt_free(h2);
	ctr_client_free(c);
}

/* A handler's error stops the pull with its code and message, wherever it
 * comes (the root, the config, the last layer), and nothing is stored; a
 * handler after it is not called for that descriptor. */
static void test_handler_error_stops(void **state)
{
	(void)state;
	const char *at[] = {tree_man_dg, config_digest(), layer_digest(n_layers() - 1)};
	int codes[] = {CTR_EPERM, CTR_ENOTFOUND, CTR_ECANCELED};
	const char *kinds[] = {"manifest", "config", "layer"};
	for (size_t k = 0; k < 3; k++) {
		ctr_client *c = new_client();
		struct seen s = {.fail_at = at[k], .fail_code = codes[k]};
		int calls = 0;
		ctr_opt *h = ctr_with_image_handler(record, &s), *h2 = ctr_with_image_handler(count_calls, &calls);
		ctr_error *err = NULL;
		assert_int_equal(pull(c, true, h, h2, &err), codes[k]);
		char want[700];
		snprintf(want, sizeof(want), "pull %s: image handler: %s %s: refused by policy", tree_ref, kinds[k], at[k]);
		assert_string_equal(ctr_error_message(err), want);
		assert_int_equal(calls, (int)s.n - 1);
		ctr_error_free(err);
		assert_none(c);
		ctr_opt_free(h);
		ctr_opt_free(h2);
		ctr_client_free(c);
	}
	/* a hostile answer */
	ctr_client *c = new_client();
	struct seen s = {.fail_at = config_digest(), .fail_code = 42};
	ctr_opt *h = ctr_with_image_handler(record, &s);
	ctr_error *err = NULL;
	assert_int_equal(pull(c, false, h, NULL, &err), CTR_EINVAL);
	ctr_error_free(err);
	assert_none(c);
	ctr_opt_free(h);
	ctr_client_free(c);
}

/* CTR_IMAGE_HANDLER_SKIP: the layers are not fetched, the manifest and
 * config are, and the image record exists. */
static void test_handler_skip(void **state)
{
	(void)state;
	ctr_client *c = new_client();
	struct seen s = {.skip_kind = "layer"};
	ctr_opt *h = ctr_with_image_handler(record, &s);
	ctr_error *err = NULL;
	if (pull(c, false, h, NULL, &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	assert_int_equal(s.n, 2 + n_layers());
	assert_true(has_blob(c, tree_man_dg));
	assert_true(has_blob(c, config_digest()));
	for (size_t i = 0; i < n_layers(); i++)
		assert_false(has_blob(c, layer_digest(i)));
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, tree_ref, NULL, 0, NULL), 0);
	ctr_image_free(img);
	ctr_opt_free(h);
	ctr_client_free(c);
}

struct wseen {
	size_t calls;
	size_t manifest_children;
	char first_child[80];
	size_t drop_from; /* manifest children from this index on are dropped */
	bool skip_root;
};

static int wrap(bool *keep, const ctr_descriptor *d, const ctr_descriptor *const *children, size_t n, void *ud,
		ctr_error **err)
{
	(void)err;
	struct wseen *w = ud;
	w->calls++;
	if (strstr(ctr_descriptor_media_type(d), "manifest")) {
		if (w->skip_root)
			return CTR_IMAGE_HANDLER_STOP;
		w->manifest_children = n;
		snprintf(w->first_child, sizeof(w->first_child), "%s", ctr_descriptor_digest(children[0]));
		for (size_t i = w->drop_from; i < n; i++)
			keep[i] = false;
	} else {
		assert_int_equal(n, 0);
	}
	return 0;
}

/* The wrapper sees the manifest's config and layers and drops all but the
 * first layer: the dropped ones are not fetched. Stopping at the root
 * stores nothing, and the pull fails: no record without its target. */
static void test_wrapper_filters(void **state)
{
	(void)state;
	ctr_client *c = new_client();
	struct wseen w = {.drop_from = 2};
	ctr_opt *o = ctr_with_image_handler_wrapper(wrap, &w);
	ctr_error *err = NULL;
	if (pull(c, false, o, NULL, &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	assert_int_equal(w.manifest_children, 1 + n_layers());
	assert_string_equal(w.first_child, config_digest());
	assert_int_equal(w.calls, 3); /* manifest, config, first layer */
	assert_true(has_blob(c, tree_man_dg));
	assert_true(has_blob(c, config_digest()));
	assert_true(has_blob(c, layer_digest(0)));
	for (size_t i = 1; i < n_layers(); i++)
		assert_false(has_blob(c, layer_digest(i)));
	ctr_opt_free(o);
	ctr_client_free(c);

	c = new_client();
	struct wseen w2 = {.skip_root = true};
	o = ctr_with_image_handler_wrapper(wrap, &w2);
	/* the record cannot name a target that is not stored */
	assert_int_equal(pull(c, false, o, NULL, &err), CTR_ENOTFOUND);
	char want[300];
	snprintf(want, sizeof(want), "target: content %s not found", tree_man_dg);
	assert_non_null(strstr(ctr_error_message(err), want));
	ctr_error_free(err);
	assert_int_equal(w2.calls, 1);
	assert_none(c);
	ctr_opt_free(o);
	ctr_client_free(c);
}

/* ---- unpack options ---- */

/* Every committed snapshot of sn carries label; returns how many. */
static size_t committed_with_label(ctr_client *c, const char *sn, const char *label)
{
	ctr_snapshot_info **ss = NULL;
	size_t n = 0, k = 0;
	assert_int_equal(ctr_snapshot_list(&ss, &n, c, sn, NULL, 0, NULL, 0, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (ctr_snapshot_info_kind(ss[i]) != CTR_SNAPSHOT_COMMITTED)
			continue;
		bool found = false;
		for (const char *const *l = ctr_snapshot_info_labels(ss[i]); l && *l; l++)
			found |= !strcmp(*l, label);
		assert_true(found);
		k++;
	}
	ctr_snapshot_info_list_free(ss, n);
	return k;
}

/* Labels land on every layer snapshot, from a pull and from
 * ctr_image_unpack; a bad label fails before anything is stored. */
static void test_unpack_labels(void **state)
{
	(void)state;
	ctr_client *c = new_client();
	ctr_opt *l = ctr_with_unpack_snapshot_labels((const char *const[]){"org.example/origin=pull-ext", NULL});
	ctr_error *err = NULL;
	if (pull(c, true, l, NULL, &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	assert_int_equal(committed_with_label(c, "overlayfs", "org.example/origin=pull-ext"), n_layers());

	/* the same image into another snapshotter through ctr_image_unpack */
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, tree_ref, NULL, 0, NULL), 0);
	ctr_opt *l2 = ctr_with_unpack_snapshot_labels((const char *const[]){"a=1", "b=2", NULL});
	if (ctr_image_unpack(img, "native", CTR_OPTS(l2), &err) < 0)
		fail_msg("unpack: %s", ctr_error_message(err));
	assert_int_equal(committed_with_label(c, "native", "a=1"), n_layers());
	assert_int_equal(committed_with_label(c, "native", "b=2"), n_layers());
	ctr_image_free(img);
	ctr_opt_free(l2);
	ctr_opt_free(l);
	ctr_client_free(c);

	/* hostile labels: refused by the constructor or by the call */
	assert_null(ctr_with_unpack_snapshot_labels(NULL));
	assert_null(ctr_with_unpack_snapshot_labels((const char *const[]){NULL}));
	c = new_client();
	ctr_opt *bad = ctr_with_unpack_snapshot_labels((const char *const[]){"=x", NULL});
	assert_non_null(bad);
	assert_int_equal(pull(c, true, bad, NULL, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "label"));
	ctr_error_free(err);
	err = NULL;
	assert_none(c);
	/* an unpack option given to a fetch is of the wrong kind */
	ctr_opt *pc = ctr_with_unpack_platform_check();
	assert_int_equal(ctr_image_fetch(NULL, c, tree_ref, CTR_OPTS(pc), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_unpack_platform_check"));
	ctr_error_free(err);
	assert_none(c);
	ctr_opt_free(pc);
	ctr_opt_free(bad);
	ctr_client_free(c);
}

/* An image for another platform: unpacks without the check; with it the
 * pull and ctr_image_unpack fail with CTR_ENOTSUP and commit nothing. */
static void test_unpack_platform_check(void **state)
{
	(void)state;
	/* the multiarch fixture holds amd64 and arm64 */
	const char *other = test_sh("uname -m | grep -qx x86_64") == 0 ? "linux/arm64" : "linux/amd64";
	ctr_client *c = new_client();
	ctr_opt *ph = ctr_with_plain_http(), *up = ctr_with_pull_unpack(), *pl = ctr_with_platform(other),
		*pc = ctr_with_unpack_platform_check();
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_pull(NULL, c, multi_ref, CTR_OPTS(ph, up, pl, pc), &err), CTR_ENOTSUP);
	char want[300];
	snprintf(want, sizeof(want), "snapshotter overlayfs does not support platform %s for image sha256:", other);
	assert_non_null(strstr(ctr_error_message(err), want));
	ctr_error_free(err);
	err = NULL;
	/* The config was read to learn the platform: only the collector's
	 * (no record, lease or snapshot holds it), as after any failed pull. */
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	ctr_strv_free(removed);
	assert_none(c);

	/* fetched, then unpacked with the check: refused, nothing committed */
	ctr_image *img = NULL;
	if (ctr_image_pull(&img, c, multi_ref, CTR_OPTS(ph, pl), &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	assert_int_equal(ctr_image_unpack(img, NULL, CTR_OPTS(pc), &err), CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(err), want));
	ctr_error_free(err);
	err = NULL;
	bool unpacked = true;
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, NULL, NULL), 0);
	assert_false(unpacked);
	/* without the check it unpacks */
	if (ctr_image_unpack(img, NULL, NULL, 0, &err) < 0)
		fail_msg("unpack: %s", ctr_error_message(err));
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, NULL, NULL), 0);
	assert_true(unpacked);
	ctr_image_free(img);
	/* this host's platform passes the check */
	ctr_client *c2 = new_client();
	if (ctr_image_pull(NULL, c2, multi_ref, CTR_OPTS(ph, up, pc), &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	ctr_client_free(c2);
	ctr_opt_free(ph);
	ctr_opt_free(up);
	ctr_opt_free(pl);
	ctr_opt_free(pc);
	ctr_client_free(c);
}

/* ---- setup ---- */

static int group_setup(void **state)
{
	(void)state;
	src = getenv("MESON_SOURCE_ROOT");
	if (!src || geteuid() != 0 || access("/usr/bin/docker-registry", X_OK) || access("/usr/bin/skopeo", X_OK)) {
		fprintf(stderr, "skipped: needs root, MESON_SOURCE_ROOT, docker-registry and skopeo\n");
		return -1;
	}
	strcpy(top, "/tmp/test-pull-ext.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(reg_dir, sizeof(reg_dir), "%s/reg", top);
	if (test_sh("python3 %s/tests/fixtures/mkimage.py tree %s/tree >/dev/null", src, top) ||
	    test_sh("python3 %s/tests/fixtures/mkimage.py multiarch %s/multi >/dev/null", src, top) ||
	    test_sh("mkdir %s && %s/tests/fixtures/registry.sh start --dir %s --owner-pid %d --ttl 600 >/dev/null",
		    reg_dir, src, reg_dir, (int)getpid()))
		return -1;
	char envf[256], line[256];
	snprintf(envf, sizeof(envf), "%s/env", reg_dir);
	FILE *f = fopen(envf, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "REGISTRY_ADDR=", 14)) {
			char *v = line + 14;
			v[strcspn(v, "\n")] = 0;
			if (v[0] == '\'') {
				v++;
				v[strcspn(v, "'")] = 0;
			}
			snprintf(reg_addr, sizeof(reg_addr), "%s", v);
		}
	fclose(f);
	if (!reg_addr[0])
		return -1;
	snprintf(tree_ref, sizeof(tree_ref), "%s/ext/tree:1", reg_addr);
	snprintf(multi_ref, sizeof(multi_ref), "%s/ext/multi:1", reg_addr);
	if (test_sh("%s/tests/fixtures/registry.sh push %s oci:%s/tree:latest ext/tree:1 >/dev/null 2>&1", src, reg_dir,
		    top) ||
	    test_sh("%s/tests/fixtures/registry.sh push %s oci:%s/multi:latest ext/multi:1 --all >/dev/null 2>&1", src,
		    reg_dir, top))
		return -1;
	char p[256];
	snprintf(p, sizeof(p), "%s/tree/index.json", top);
	json_t *idx = json_load_file(p, 0, NULL);
	if (!idx)
		return -1;
	snprintf(tree_man_dg, sizeof(tree_man_dg), "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "digest")));
	json_decref(idx);
	snprintf(p, sizeof(p), "%s/tree/blobs/sha256/%s", top, tree_man_dg + 7);
	tree_man = json_load_file(p, 0, NULL);
	return tree_man ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	json_decref(tree_man);
	if (top[0]) {
		test_sh("%s/tests/fixtures/registry.sh stop %s >/dev/null 2>&1", src, reg_dir);
		test_sh("awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | xargs -r umount -l", top);
		ctr_rm_rf_at(AT_FDCWD, top, NULL);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handler_sees_walk),
		cmocka_unit_test(test_handler_error_stops),
		cmocka_unit_test(test_handler_skip),
		cmocka_unit_test(test_wrapper_filters),
		cmocka_unit_test(test_unpack_labels),
		cmocka_unit_test(test_unpack_platform_check),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
