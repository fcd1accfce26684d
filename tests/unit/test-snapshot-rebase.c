/* ctr_snapshots_commit_parent (lib/snapshots/snapshot-ns.c) and the overlay
 * snapshotter's commit_rebase: a snapshot prepared without a parent gets
 * one at commit. No root needed: nothing is mounted. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshots.h" /* before the fixture's globals, whose `c` its prototypes would shadow */
#include "client-fixture.h"

static const char *parent_of(const char *sn, const char *key)
{
	static char buf[300];
	ctr_snapshot_info *i = NULL;
	assert_int_equal(ctr_snapshot_stat(&i, c, sn, key, NULL, 0, NULL), 0);
	const char *p = ctr_snapshot_info_parent(i);
	snprintf(buf, sizeof(buf), "%s", p ? p : "");
	ctr_snapshot_info_free(i);
	return buf;
}

static ctr_snapshot_kind kind_of(const char *sn, const char *key)
{
	ctr_snapshot_info *i = NULL;
	if (ctr_snapshot_stat(&i, c, sn, key, NULL, 0, NULL) < 0)
		return CTR_SNAPSHOT_UNKNOWN;
	ctr_snapshot_kind k = ctr_snapshot_info_kind(i);
	ctr_snapshot_info_free(i);
	return k;
}

static void test_rebase(void **state)
{
	(void)state;
	const char *sn = "overlayfs";
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-base", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, sn, "base", "k-base", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-top", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "top", "k-top", "base", NULL, NULL, NULL), 0);
	assert_string_equal(parent_of(sn, "top"), "base");
	/* The snapshotter's own record has the parent too: a child of top
	 * mounts both layers as lowers, nearest first. */
	ctr_mount_list *m = NULL;
	assert_int_equal(ctr_snapshot_prepare(&m, c, sn, "k-child", "top", NULL, NULL, 0, NULL), 0);
	const char *const *opts = ctr_mount_list_options(m, 0);
	const char *lower = NULL;
	for (size_t i = 0; opts && opts[i]; i++)
		if (!strncmp(opts[i], "lowerdir=", 9))
			lower = opts[i];
	assert_non_null(lower);
	assert_non_null(strchr(lower, ':'));
	ctr_mount_list_free(m);
	/* Removing the parent while top uses it is refused. */
	assert_int_equal(ctr_snapshot_remove(c, sn, "base", NULL, 0, NULL), CTR_EPRECONDITION);
	/* No parent at all is fine too. */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-alone", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "alone", "k-alone", NULL, NULL, NULL, NULL), 0);
	assert_string_equal(parent_of(sn, "alone"), "");
}

static void test_rebase_refused(void **state)
{
	(void)state;
	const char *sn = "overlayfs";
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-base", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, sn, "base", "k-base", NULL, NULL, 0, NULL), 0);
	/* Already has a parent. */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-on", "base", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "on", "k-on", "base", NULL, NULL, NULL), CTR_EPRECONDITION);
	assert_int_equal(kind_of(sn, "k-on"), CTR_SNAPSHOT_ACTIVE);
	assert_int_equal(kind_of(sn, "on"), CTR_SNAPSHOT_UNKNOWN);
	/* Parent missing, parent not committed, name taken, bad parent key. */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, sn, "k-x", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "x", "k-x", "missing", NULL, NULL, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "x", "k-x", "k-on", NULL, NULL, NULL), CTR_EPRECONDITION);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "base", "k-x", NULL, NULL, NULL, NULL), CTR_EEXISTS);
	assert_int_equal(ctr_snapshots_commit_parent(c, sn, "x", "k-x", "bad\n", NULL, NULL, NULL), CTR_EINVAL);
	assert_int_equal(kind_of(sn, "k-x"), CTR_SNAPSHOT_ACTIVE);
	assert_int_equal(kind_of(sn, "x"), CTR_SNAPSHOT_UNKNOWN);
	assert_string_equal(parent_of(sn, "k-x"), "");
	/* native keeps a full copy per snapshot: a parent cannot come later. */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", "n-base", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, "native", "nb", "n-base", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", "n-k", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshots_commit_parent(c, "native", "n", "n-k", "nb", NULL, NULL, NULL), CTR_ENOTSUP);
	assert_int_equal(kind_of("native", "n-k"), CTR_SNAPSHOT_ACTIVE);
	assert_int_equal(kind_of("native", "n"), CTR_SNAPSHOT_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rebase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebase_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
