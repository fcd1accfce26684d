/* Snapshot options (containerd's snapshots.Opt): ctr_with_snapshot_labels
 * on prepare, view and commit, beside the labels argument; and new
 * container snapshots that take them (WithNewSnapshot(id, image, opts...)).
 * Bad labels and options of another kind are refused with the exact code
 * and leave no snapshot and no container. Overlayfs's store without mounts:
 * no root needed. */
#include "client-fixture.h"

#define SN "overlayfs"

/* The value of label `key` on snapshot `name`, "" when it has none; NULL
 * when there is no such snapshot. */
static const char *label_of(const char *name, const char *key)
{
	static char buf[300];
	ctr_snapshot_info *i = NULL;
	if (ctr_snapshot_stat(&i, c, SN, name, NULL, 0, NULL) < 0)
		return NULL;
	buf[0] = 0;
	size_t n = strlen(key);
	for (const char *const *l = ctr_snapshot_info_labels(i); l && *l; l++)
		if (!strncmp(*l, key, n) && (*l)[n] == '=')
			snprintf(buf, sizeof(buf), "%s", *l + n + 1);
	ctr_snapshot_info_free(i);
	return buf;
}

static void test_snapshot_calls(void **state)
{
	(void)state;
	const char *arg[] = {"a=from-arg", "b=from-arg", NULL};
	const char *more[] = {"b=from-opt", "c=1", NULL}, *last[] = {"c=2", NULL};
	ctr_opt *l1 = ctr_with_snapshot_labels(more), *l2 = ctr_with_snapshot_labels(last);
	assert_non_null(l1);
	assert_null(ctr_with_snapshot_labels(NULL));
	assert_int_equal(ctr_opt_kind_of(l1), CTR_OPT_SNAPSHOT);
	/* the argument's labels, then each option's: a later value wins */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "k1", NULL, arg, CTR_OPTS(l1, l2), NULL), 0);
	assert_string_equal(label_of("k1", "a"), "from-arg");
	assert_string_equal(label_of("k1", "b"), "from-opt");
	assert_string_equal(label_of("k1", "c"), "2");
	/* options alone, with a call option in the same array */
	ctr_opt *ns = ctr_with_call_namespace("default");
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "k2", NULL, NULL, CTR_OPTS(ns, l2), NULL), 0);
	assert_string_equal(label_of("k2", "c"), "2");
	/* commit: the options' labels on the committed name */
	assert_int_equal(ctr_snapshot_commit(c, SN, "base", "k2", NULL, CTR_OPTS(l1), NULL), 0);
	assert_string_equal(label_of("base", "c"), "1");
	assert_string_equal(label_of("base", "b"), "from-opt");
	/* view on it */
	assert_int_equal(ctr_snapshot_view(NULL, c, SN, "v1", "base", NULL, CTR_OPTS(l2), NULL), 0);
	assert_string_equal(label_of("v1", "c"), "2");

	/* a bad label through an option: CTR_EINVAL, no snapshot */
	const char *bad[] = {"novalue", NULL};
	ctr_opt *lb = ctr_with_snapshot_labels(bad);
	ctr_error *e = NULL;
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "k3", NULL, NULL, CTR_OPTS(lb), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "novalue"));
	ctr_error_free(e);
	assert_null(label_of("k3", "a"));
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "k4", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, SN, "c4", "k4", NULL, CTR_OPTS(lb), NULL), CTR_EINVAL);
	assert_null(label_of("c4", "a"));
	assert_non_null(label_of("k4", "a"));
	/* an option of another kind */
	ctr_opt *other = ctr_with_snapshot_cleanup();
	e = NULL;
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "k5", NULL, NULL, CTR_OPTS(other), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_snapshot_cleanup"));
	ctr_error_free(e);
	assert_null(label_of("k5", "a"));
	ctr_opt_free(other);
	ctr_opt_free(lb);
	ctr_opt_free(ns);
	ctr_opt_free(l1);
	ctr_opt_free(l2);
}

static void test_new_container_snapshot(void **state)
{
	(void)state;
	/* an "unpacked" image: its one layer committed under its chain ID */
	const char *diff = "sha256:4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a";
	assert_int_equal(ctr_snapshot_prepare(NULL, c, SN, "extract", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, SN, diff, "extract", NULL, NULL, 0, NULL), 0);
	char ids[100], layers[300];
	snprintf(ids, sizeof(ids), "[\"%s\"]", diff);
	snprintf(layers, sizeof(layers), "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":1}]",
		 diff);
	ctr_image *img = image_with("lctr.test/snap:1", "{}", ids, layers);

	const char *labels[] = {"team=build", "containerd.io/gc.root=keep", NULL};
	ctr_opt *l = ctr_with_snapshot_labels(labels);
	const ctr_opt *so[] = {l};
	ctr_opt *ns = ctr_with_new_snapshot_opts("rw1", img, so, 1);
	ctr_opt *nv = ctr_with_new_snapshot_view_opts("ro1", img, so, 1);
	assert_null(ctr_with_new_snapshot_opts("x", img, NULL, 1));
	ctr_container *k = NULL;
	ctr_error *e = NULL;
	if (ctr_container_new(&k, c, "c1", CTR_OPTS(ns), &e) < 0)
		fail_msg("new container: %s", ctr_error_message(e));
	ctr_container_free(k);
	assert_string_equal(label_of("rw1", "team"), "build");
	assert_string_equal(label_of("rw1", "containerd.io/gc.root"), "keep");
	ctr_snapshot_info *i = NULL;
	assert_int_equal(ctr_snapshot_stat(&i, c, SN, "rw1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_info_kind(i), CTR_SNAPSHOT_ACTIVE);
	assert_string_equal(ctr_snapshot_info_parent(i), diff);
	ctr_snapshot_info_free(i);
	assert_int_equal(ctr_container_new(&k, c, "c2", CTR_OPTS(nv), NULL), 0);
	ctr_container_free(k);
	assert_int_equal(ctr_snapshot_stat(&i, c, SN, "ro1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_info_kind(i), CTR_SNAPSHOT_VIEW);
	ctr_snapshot_info_free(i);
	assert_string_equal(label_of("ro1", "team"), "build");
	/* no options: as ctr_with_new_snapshot */
	ctr_opt *plain = ctr_with_new_snapshot_opts("rw2", img, NULL, 0);
	assert_int_equal(ctr_container_new(&k, c, "c3", CTR_OPTS(plain), NULL), 0);
	ctr_container_free(k);
	assert_string_equal(label_of("rw2", "team"), "");
	assert_int_equal(n_containers(), 3);

	/* refused: a bad label, an option that is not a snapshot option (a
	 * call option too); neither container nor snapshot is made */
	const char *bad[] = {"=nokey", NULL};
	ctr_opt *lb = ctr_with_snapshot_labels(bad), *lease = ctr_with_lease("l1");
	const ctr_opt *sb[] = {lb}, *sl[] = {lease};
	ctr_opt *nb = ctr_with_new_snapshot_opts("rw3", img, sb, 1), *nl = ctr_with_new_snapshot_opts("rw4", img, sl, 1);
	assert_int_equal(ctr_container_new(&k, c, "c4", CTR_OPTS(nb), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "=nokey"));
	ctr_error_free(e);
	e = NULL;
	assert_int_equal(ctr_container_new(&k, c, "c5", CTR_OPTS(nl), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_lease"));
	ctr_error_free(e);
	assert_null(label_of("rw3", "team"));
	assert_null(label_of("rw4", "team"));
	assert_int_equal(n_containers(), 3);
	/* update refuses a new snapshot, with options too */
	assert_int_equal(ctr_container_load(&k, c, "c1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_container_update(k, CTR_OPTS(ns), NULL), CTR_EINVAL);
	ctr_container_free(k);
	ctr_opt_free(nb);
	ctr_opt_free(nl);
	ctr_opt_free(lb);
	ctr_opt_free(lease);
	ctr_opt_free(plain);
	ctr_opt_free(ns);
	ctr_opt_free(nv);
	ctr_opt_free(l);
	ctr_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_container_snapshot, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
