/* ctr_client_check over stores corrupted by hand: each finding is reported
 * with its kind and subject, nothing changes without repair, and repair
 * fixes exactly what it reports (a second check finds nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "client-blob.h"
#include "digest.h"
#include "fs.h"

static char tmp[256];
static ctr_client *c;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-check-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	char root[300], st[300];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(st), *o3 = ctr_with_namespace("nsa");
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2, o3), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_client_free(c);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static ctr_check_report *check(bool repair)
{
	ctr_check_report *rep = NULL;
	ctr_error *err = NULL;
	int r;
	if (repair) {
		ctr_opt *o = ctr_with_check_repair();
		r = ctr_client_check(&rep, c, CTR_OPTS(o), &err);
		ctr_opt_free(o);
	} else {
		r = ctr_client_check(&rep, c, CTR_NO_OPTS, &err);
	}
	if (r < 0)
		fprintf(stderr, "check: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	assert_int_equal(r, 0);
	assert_non_null(rep);
	return rep;
}

static void dump(const ctr_check_report *rep)
{
	for (size_t i = 0; i < ctr_check_report_count(rep); i++)
		fprintf(stderr, "  %s %s: %s%s\n", ctr_check_report_kind_name(rep, i), ctr_check_report_subject(rep, i),
			ctr_check_report_detail(rep, i), ctr_check_report_repaired(rep, i) ? " (repaired)" : "");
}

/* Asserts the report holds exactly these findings (kind, subject,
 * repaired), in any order. */
struct want {
	ctr_check_kind kind;
	const char *subject;
	bool repaired;
};
static void expect(ctr_check_report *rep, const struct want *w, size_t n)
{
	if (ctr_check_report_count(rep) != n) {
		fprintf(stderr, "want %zu findings, got:\n", n);
		dump(rep);
		fail();
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = ctr_check_report_kind(rep, i) == w[k].kind &&
				!strcmp(ctr_check_report_subject(rep, i), w[k].subject) &&
				ctr_check_report_repaired(rep, i) == w[k].repaired;
		if (!found) {
			fprintf(stderr, "missing %d %s (repaired %d) in:\n", w[k].kind, w[k].subject, w[k].repaired);
			dump(rep);
			fail();
		}
	}
	ctr_check_report_free(rep);
}

static void expect_clean(void)
{
	expect(check(false), NULL, 0);
}

static void write_blob(const char *data, char *digest)
{
	client_write_blob(c, data, digest);
}

static void blob_path(const char *digest, char *p, size_t len)
{
	snprintf(p, len, "%s/root/content/blobs/sha256/%s", tmp, digest + 7);
}

static void test_clean_store(void **state)
{
	(void)state;
	char d[CTR_DIGEST_MAX];
	write_blob("clean", d);
	expect_clean();
	assert_int_equal(ctr_client_check(NULL, c, CTR_NO_OPTS, NULL), CTR_EINVAL);
	/* An option of another kind is refused. */
	ctr_opt *o = ctr_with_lease("x");
	ctr_check_report *rep = NULL;
	assert_int_equal(ctr_client_check(&rep, c, CTR_OPTS(o), NULL), CTR_EINVAL);
	assert_null(rep);
	ctr_opt_free(o);
}

static void test_corrupt_blob(void **state)
{
	(void)state;
	char d[CTR_DIGEST_MAX], ok[CTR_DIGEST_MAX], p[600], subj[600];
	write_blob("good bytes", d);
	write_blob("untouched", ok);
	blob_path(d, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "evil bytes", 10), 10);
	close(fd);

	/* Without repair nothing changes. */
	expect(check(false), (struct want[]){{CTR_CHECK_BLOB_CORRUPT, d, false}}, 1);
	assert_int_equal(access(p, F_OK), 0);
	ctr_content_info *info = NULL;
	assert_int_equal(ctr_content_get(&info, c, d, CTR_NO_OPTS, NULL), 0);
	ctr_content_info_free(info);

	/* Repair removes the blob, then its record. */
	snprintf(subj, sizeof(subj), "nsa/%s", d);
	expect(check(true),
	       (struct want[]){{CTR_CHECK_BLOB_CORRUPT, d, true}, {CTR_CHECK_CONTENT_MISSING, subj, true}}, 2);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(ctr_content_get(&info, c, d, CTR_NO_OPTS, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_content_get(&info, c, ok, CTR_NO_OPTS, NULL), 0);
	ctr_content_info_free(info);
	expect_clean();
}

static void test_missing_blob_and_image_target(void **state)
{
	(void)state;
	char d[CTR_DIGEST_MAX], p[600], subj[600];
	write_blob("{\"schemaVersion\":2}", d);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_create(&img, c, "example.com/a:1", "application/vnd.oci.image.manifest.v1+json", d,
					  19, NULL, CTR_NO_OPTS, NULL),
			 0);
	ctr_image_free(img);
	expect_clean();
	blob_path(d, p, sizeof(p));
	assert_int_equal(unlink(p), 0);

	snprintf(subj, sizeof(subj), "nsa/%s", d);
	const struct want before[] = {{CTR_CHECK_CONTENT_MISSING, subj, false},
				      {CTR_CHECK_IMAGE_TARGET_MISSING, "nsa/example.com/a:1", false}};
	expect(check(false), before, 2);
	/* Repair drops the record; the image stays, reported. */
	const struct want after[] = {{CTR_CHECK_CONTENT_MISSING, subj, true},
				     {CTR_CHECK_IMAGE_TARGET_MISSING, "nsa/example.com/a:1", false}};
	expect(check(true), after, 2);
	ctr_content_info *info = NULL;
	assert_int_equal(ctr_content_get(&info, c, d, CTR_NO_OPTS, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_image_get(&img, c, "example.com/a:1", CTR_NO_OPTS, NULL), 0);
	ctr_image_free(img);
	expect(check(false), (struct want[]){{CTR_CHECK_IMAGE_TARGET_MISSING, "nsa/example.com/a:1", false}}, 1);
}

static size_t n_ingests(void)
{
	ctr_content_status **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_content_status_list(&v, &n, c, NULL, 0, CTR_NO_OPTS, NULL), 0);
	ctr_content_status_list_free(v, n);
	return n;
}

static void test_stale_ingest(void **state)
{
	(void)state;
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "half-ref", CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "half", 4, NULL), 0);
	/* Held by a writer: not a finding, and repair leaves it. */
	expect(check(true), NULL, 0);
	ctr_content_writer_free(w);
	assert_int_equal(n_ingests(), 1);

	expect(check(false), (struct want[]){{CTR_CHECK_INGEST_STALE, "nsa/half-ref", false}}, 1);
	/* Resumable: a writer picks it up where it stopped. */
	assert_int_equal(ctr_content_writer_open(&w, c, "half-ref", CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_content_writer_offset(w), 4);
	ctr_content_writer_free(w);
	expect(check(true), (struct want[]){{CTR_CHECK_INGEST_STALE, "nsa/half-ref", true}}, 1);
	assert_int_equal(n_ingests(), 0);
	expect_clean();
}

static void prep_commit(const char *key, const char *name, const char *parent)
{
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", key, parent, NULL, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, "native", name, key, NULL, CTR_NO_OPTS, NULL), 0);
}

static int snap_stat(const char *key)
{
	ctr_snapshot_info *i = NULL;
	int r = ctr_snapshot_stat(&i, c, "native", key, CTR_NO_OPTS, NULL);
	ctr_snapshot_info_free(i);
	return r;
}

/* The id the native snapshotter gave a backing key. */
static long long snap_id(const char *bkey)
{
	char db[600];
	snprintf(db, sizeof(db), "%s/root/snapshots/native/metadata.db", tmp);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT id FROM snapshots WHERE key = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, bkey, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	long long id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return id;
}

static void test_incomplete_snapshot(void **state)
{
	(void)state;
	prep_commit("k-base", "base", NULL);
	prep_commit("k-top", "top", "base");
	prep_commit("k-other", "other", NULL);
	expect_clean();
	char p[600];
	snprintf(p, sizeof(p), "%s/root/snapshots/native/snapshots/%lld/fs", tmp, snap_id("nsa/base"));
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, p, NULL), 0);

	const struct want before[] = {{CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/base", false},
				      {CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/top", false}};
	expect(check(false), before, 2);
	assert_int_equal(snap_stat("base"), 0);
	const struct want after[] = {{CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/base", true},
				     {CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/top", true}};
	expect(check(true), after, 2);
	assert_int_equal(snap_stat("base"), CTR_ENOTFOUND);
	assert_int_equal(snap_stat("top"), CTR_ENOTFOUND);
	assert_int_equal(snap_stat("other"), 0);
	expect_clean();
}

static void test_missing_snapshot_dir(void **state)
{
	(void)state;
	prep_commit("k-gone", "gone", NULL);
	char p[600];
	snprintf(p, sizeof(p), "%s/root/snapshots/native/snapshots/%lld", tmp, snap_id("nsa/gone"));
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, p, NULL), 0);
	expect(check(false), (struct want[]){{CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/gone", false}}, 1);
	expect(check(true), (struct want[]){{CTR_CHECK_SNAPSHOT_INCOMPLETE, "native/nsa/gone", true}}, 1);
	assert_int_equal(snap_stat("gone"), CTR_ENOTFOUND);
	expect_clean();
}

static void test_orphan_dir(void **state)
{
	(void)state;
	prep_commit("k-keep", "keep", NULL);
	char p[600];
	snprintf(p, sizeof(p), "%s/root/snapshots/native/snapshots/99999", tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/root/snapshots/native/snapshots/new-1234", tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	const struct want before[] = {{CTR_CHECK_SNAPSHOT_ORPHAN_DIR, "native/99999", false},
				      {CTR_CHECK_SNAPSHOT_ORPHAN_DIR, "native/new-1234", false}};
	expect(check(false), before, 2);
	assert_int_equal(access(p, F_OK), 0);
	const struct want after[] = {{CTR_CHECK_SNAPSHOT_ORPHAN_DIR, "native/99999", true},
				     {CTR_CHECK_SNAPSHOT_ORPHAN_DIR, "native/new-1234", true}};
	expect(check(true), after, 2);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(snap_stat("keep"), 0);
	expect_clean();
}

static void test_record_without_entry(void **state)
{
	(void)state;
	prep_commit("k-rec", "rec", NULL);
	long long id = snap_id("nsa/rec");
	char db[600], p[600];
	snprintf(db, sizeof(db), "%s/root/snapshots/native/metadata.db", tmp);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "DELETE FROM snapshots WHERE key = 'nsa/rec'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	snprintf(p, sizeof(p), "%s/root/snapshots/native/snapshots/%lld", tmp, id);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, p, NULL), 0);

	expect(check(false), (struct want[]){{CTR_CHECK_SNAPSHOT_MISSING, "native/nsa/rec", false}}, 1);
	expect(check(true), (struct want[]){{CTR_CHECK_SNAPSHOT_MISSING, "native/nsa/rec", true}}, 1);
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_snapshot_list(&v, &n, c, "native", NULL, 0, CTR_NO_OPTS, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(ctr_snapshot_info_name(v[i]), "rec");
	ctr_snapshot_info_list_free(v, n);
	expect_clean();
}

static void test_stale_extract(void **state)
{
	(void)state;
	const char *key = "extract-1700000000000000000-1 sha256:0123456789abcdef";
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", key, NULL, NULL, CTR_NO_OPTS, NULL), 0);
	char subj[300];
	snprintf(subj, sizeof(subj), "native/nsa/%s", key);
	expect(check(false), (struct want[]){{CTR_CHECK_EXTRACT_STALE, subj, false}}, 1);
	assert_int_equal(snap_stat(key), 0);
	expect(check(true), (struct want[]){{CTR_CHECK_EXTRACT_STALE, subj, true}}, 1);
	assert_int_equal(snap_stat(key), CTR_ENOTFOUND);
	/* An ordinary active snapshot is no finding. */
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", "work", NULL, NULL, CTR_NO_OPTS, NULL), 0);
	expect_clean();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_blob_and_image_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_snapshot_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_without_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_extract, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
