/* The public content API: namespaces own blobs, bytes are shared, leases
 * hold them through GC, bad input changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "fs.h"

static char tmp[256];
static ctr_client *c;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-capi-XXXXXX");
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

static void digest_of(const char *s, char *out)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, s, strlen(s), out, NULL), 0);
}

static int write_blob(const char *ref, const char *data, const ctr_opt *const *opts, size_t n,
		      const char *const *labels)
{
	ctr_content_writer *w = NULL;
	int r = ctr_content_writer_open(&w, c, ref, opts, n, NULL);
	if (r < 0)
		return r;
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	r = ctr_content_writer_commit(w, (int64_t)strlen(data), NULL, labels, CTR_NO_OPTS, NULL);
	ctr_content_writer_free(w);
	return r;
}

static bool blob_on_disk(const char *digest)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/root/content/blobs/sha256/%s", tmp, digest + 7);
	return access(p, F_OK) == 0;
}

static void test_namespaces_share_bytes(void **state)
{
	(void)state;
	char d[CTR_DIGEST_MAX];
	digest_of("hello", d);
	const char *labels[] = {"a=1", NULL};
	assert_int_equal(write_blob("r1", "hello", NULL, 0, labels), 0);
	ctr_content_info *i = NULL;
	assert_int_equal(ctr_content_get(&i, c, d, NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_info_size(i), 5);
	assert_string_equal(ctr_content_info_labels(i)[0], "a=1");
	ctr_content_info_free(i);
	/* Not visible in another namespace... */
	ctr_opt *nsb = ctr_with_call_namespace("nsb");
	ctr_error *err = NULL;
	assert_int_equal(ctr_content_get(&i, c, d, CTR_OPTS(nsb), &err), CTR_ENOTFOUND);
	ctr_error_free(err);
	ctr_content_reader *rd = NULL;
	assert_int_equal(ctr_content_reader_open(&rd, c, d, CTR_OPTS(nsb), NULL), CTR_ENOTFOUND);
	/* ...until it ingests it: the bytes are adopted, not rewritten. */
	ctr_opt *exp = ctr_with_content_expected(d, 5);
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "r2", CTR_OPTS(nsb, exp), NULL), CTR_EEXISTS);
	assert_int_equal(ctr_content_get(&i, c, d, CTR_OPTS(nsb), NULL), 0);
	ctr_content_info_free(i);
	/* Reading works in both; pread at an offset. */
	assert_int_equal(ctr_content_reader_open(&rd, c, d, CTR_OPTS(nsb), NULL), 0);
	char buf[8] = {0};
	size_t nr = 0;
	assert_int_equal(ctr_content_reader_pread(&nr, rd, buf, sizeof(buf), 1, NULL), 0);
	assert_int_equal(nr, 4);
	assert_string_equal(buf, "ello");
	assert_int_equal(ctr_content_reader_size(rd), 5);
	ctr_content_reader_free(rd);
	/* Deleting from one namespace keeps the bytes for the other. */
	assert_int_equal(ctr_content_delete(c, d, NULL, 0, NULL), 0);
	assert_true(blob_on_disk(d));
	assert_int_equal(ctr_content_delete(c, d, NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_content_delete(c, d, CTR_OPTS(nsb), NULL), 0);
	assert_false(blob_on_disk(d));
	ctr_opt_free(nsb);
	ctr_opt_free(exp);
}

static void test_commit_checks(void **state)
{
	(void)state;
	char d[CTR_DIGEST_MAX], other[CTR_DIGEST_MAX];
	digest_of("data", d);
	digest_of("other", other);
	ctr_content_writer *w = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "x", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "data", 4, NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, 4, other, NULL, CTR_NO_OPTS, &err), CTR_EDIGEST);
	ctr_error_free(err);
	ctr_content_writer_free(w);
	assert_false(blob_on_disk(d));
	assert_false(blob_on_disk(other));
	assert_int_equal(ctr_content_writer_open(&w, c, "y", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "data", 4, NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, 5, NULL, NULL, CTR_NO_OPTS, NULL), CTR_EPRECONDITION);
	ctr_content_writer_free(w);
	assert_false(blob_on_disk(d));
	/* An option that does not apply to a commit: CTR_EINVAL naming it, no
	 * blob, and the ingest is still there to commit. */
	char z[CTR_DIGEST_MAX];
	digest_of("zata", z);
	assert_int_equal(ctr_content_writer_open(&w, c, "z", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "zata", 4, NULL), 0);
	ctr_opt *wait = ctr_with_content_wait(0);
	err = NULL;
	assert_int_equal(ctr_content_writer_commit(w, 4, NULL, NULL, CTR_OPTS(wait), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_content_wait"));
	assert_non_null(strstr(ctr_error_message(err), "not a content commit option"));
	ctr_error_free(err);
	ctr_opt_free(wait);
	assert_false(blob_on_disk(z));
	assert_int_equal(ctr_content_writer_commit(w, 4, NULL, NULL, CTR_NO_OPTS, NULL), 0);
	ctr_content_writer_free(w);
	assert_true(blob_on_disk(z));
	assert_int_equal(ctr_content_delete(c, z, CTR_NO_OPTS, NULL), 0);
	/* Bad digests: exact code, nothing on disk. */
	const char *bad[] = {"sha256:../../x", "nodigest", "sha256:ABC", ""};
	for (size_t i = 0; i < 4; i++) {
		ctr_content_info *info;
		assert_int_equal(ctr_content_get(&info, c, bad[i], NULL, 0, NULL), CTR_EINVAL);
		assert_int_equal(ctr_content_delete(c, bad[i], NULL, 0, NULL), CTR_EINVAL);
		const char *l[] = {"k=v", NULL};
		assert_int_equal(ctr_content_update(c, bad[i], l, NULL, 0, NULL), CTR_EINVAL);
	}
	ctr_content_info **v = NULL;
	size_t n = 9;
	assert_int_equal(ctr_content_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_content_info_list_free(v, n);
}

static void test_labels_filters_status(void **state)
{
	(void)state;
	const char *la[] = {"team=a", NULL}, *lb[] = {"team=b", NULL};
	assert_int_equal(write_blob("a", "aaa", NULL, 0, la), 0);
	assert_int_equal(write_blob("b", "bbb", NULL, 0, lb), 0);
	ctr_content_info **v = NULL;
	size_t n = 0;
	const char *f[] = {"labels.team==b"};
	assert_int_equal(ctr_content_list(&v, &n, c, f, 1, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	char d[CTR_DIGEST_MAX];
	digest_of("bbb", d);
	assert_string_equal(ctr_content_info_digest(v[0]), d);
	ctr_content_info_list_free(v, n);
	const char *upd[] = {"team=", "x=y", NULL};
	assert_int_equal(ctr_content_update(c, d, upd, NULL, 0, NULL), 0);
	ctr_content_info *i;
	assert_int_equal(ctr_content_get(&i, c, d, NULL, 0, NULL), 0);
	assert_string_equal(ctr_content_info_labels(i)[0], "x=y");
	assert_null(ctr_content_info_labels(i)[1]);
	ctr_content_info_free(i);

	/* An in-flight ingest shows in status for its namespace only. */
	ctr_content_writer *w = NULL;
	ctr_opt *exp = ctr_with_content_expected(NULL, 10);
	assert_int_equal(ctr_content_writer_open(&w, c, "inflight", CTR_OPTS(exp), NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "12345", 5, NULL), 0);
	ctr_content_status **s = NULL;
	assert_int_equal(ctr_content_status_list(&s, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_content_status_ref(s[0]), "inflight");
	assert_int_equal(ctr_content_status_offset(s[0]), 5);
	assert_int_equal(ctr_content_status_total(s[0]), 10);
	ctr_content_status_list_free(s, n);
	ctr_opt *nsb = ctr_with_call_namespace("nsb");
	assert_int_equal(ctr_content_status_list(&s, &n, c, NULL, 0, CTR_OPTS(nsb), NULL), 0);
	assert_int_equal(n, 0);
	ctr_content_status_list_free(s, n);
	/* Abort while held: busy; after close: gone. */
	assert_int_equal(ctr_content_abort(c, "inflight", NULL, 0, NULL), CTR_EBUSY);
	ctr_content_writer_free(w);
	assert_int_equal(ctr_content_abort(c, "inflight", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_abort(c, "inflight", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_opt_free(exp);
	ctr_opt_free(nsb);
}

static void test_lease_holds_through_gc(void **state)
{
	(void)state;
	ctr_opt *id = ctr_with_lease_id("pull-1");
	ctr_lease *l = NULL;
	assert_int_equal(ctr_lease_create(&l, c, CTR_OPTS(id), NULL), 0);
	ctr_lease_free(l);
	ctr_opt *lease = ctr_with_lease("pull-1");
	char held[CTR_DIGEST_MAX], loose[CTR_DIGEST_MAX];
	digest_of("held", held);
	digest_of("loose", loose);
	assert_int_equal(write_blob("h", "held", CTR_OPTS(lease), NULL), 0);
	assert_int_equal(write_blob("l", "loose", NULL, 0, NULL), 0);
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	ctr_strv_free(removed);
	assert_true(blob_on_disk(held));
	assert_false(blob_on_disk(loose));
	assert_int_equal(ctr_lease_delete(c, "pull-1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	ctr_strv_free(removed);
	assert_false(blob_on_disk(held));
	/* A lease that does not exist fails the write and stores nothing. */
	ctr_opt *nolease = ctr_with_lease("nosuch");
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "z", CTR_OPTS(nolease), NULL), CTR_ENOTFOUND);
	ctr_opt_free(id);
	ctr_opt_free(lease);
	ctr_opt_free(nolease);
}

/* Rows of meta.db for a query that yields one text column, joined by " ". */
static void db_rows(const char *sql, char *out, size_t len)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/root/meta.db", tmp);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s%s", n ? " " : "", v ? v : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void expect_no_ingest_removed(char **removed)
{
	for (size_t i = 0; removed && removed[i]; i++)
		if (!strncmp(removed[i], "ingest ", 7))
			fail_msg("gc removed %s", removed[i]);
}

/* Issue 12: a commit left its ingest's record behind (and its lease hold),
 * which `content active` did not show and the first gc reported removed;
 * and an ingest written without a lease lost its record and its partial
 * bytes to the next gc. Now a commit and an abort drop the record and the
 * hold, and an un-leased ingest expires a day later, as in containerd. */
static void test_ingest_records_follow_the_ingest(void **state)
{
	(void)state;
	ctr_opt *id = ctr_with_lease_id("pull-2");
	ctr_lease *l = NULL;
	assert_int_equal(ctr_lease_create(&l, c, CTR_OPTS(id), NULL), 0);
	ctr_lease_free(l);
	ctr_opt *lease = ctr_with_lease("pull-2");
	assert_int_equal(write_blob("leased", "leased bytes", CTR_OPTS(lease), NULL), 0);
	assert_int_equal(write_blob("bare", "bare bytes", NULL, 0, NULL), 0);
	/* Two partial ingests: one aborted, one left to resume. */
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, "aborted", CTR_OPTS(lease), NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "abc", 3, NULL), 0);
	ctr_content_writer_free(w);
	assert_int_equal(ctr_content_abort(c, "aborted", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_open(&w, c, "partial", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, "0123456789", 10, NULL), 0);
	ctr_content_writer_free(w);

	char rows[512];
	db_rows("SELECT ns || '/' || ref FROM ingests ORDER BY ref", rows, sizeof(rows));
	assert_string_equal(rows, "nsa/partial");
	db_rows("SELECT lease || ':' || id FROM lease_resources WHERE type = 'ingests'", rows, sizeof(rows));
	assert_string_equal(rows, "");
	db_rows("SELECT CASE WHEN expires_at > (strftime('%s','now') + 23 * 3600) * 1000000000 "
		"AND expires_at <= (strftime('%s','now') + 24 * 3600 + 60) * 1000000000 "
		"THEN 'a day' ELSE 'wrong: ' || ifnull(expires_at, 'none') END FROM ingests",
		rows, sizeof(rows));
	assert_string_equal(rows, "a day");

	/* gc removes no ingest and the partial one still resumes. */
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	expect_no_ingest_removed(removed);
	ctr_strv_free(removed);
	assert_int_equal(ctr_content_writer_open(&w, c, "partial", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_offset(w), 10);
	ctr_content_writer_free(w);

	/* Once expired, the collector takes the record and the bytes. */
	char p[600];
	snprintf(p, sizeof(p), "%s/root/meta.db", tmp);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE ingests SET expires_at = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ctr_client_gc(&removed, c, NULL, 0, NULL), 0);
	bool swept = false;
	for (size_t i = 0; removed && removed[i]; i++)
		swept |= !strcmp(removed[i], "ingest nsa/partial");
	ctr_strv_free(removed);
	assert_true(swept);
	assert_int_equal(ctr_content_writer_open(&w, c, "partial", NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_offset(w), 0);
	ctr_content_writer_free(w);
	ctr_opt_free(id);
	ctr_opt_free(lease);
}

/* Without ctr_with_lease_id a lease gets a fresh id of its own
 * (leases.WithRandomID): creation time in nanoseconds, '-', 16 hex digits. */
static void test_lease_random_id(void **state)
{
	(void)state;
	ctr_lease *a = NULL, *b = NULL;
	assert_int_equal(ctr_lease_create(&a, c, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_lease_create(&b, c, CTR_NO_OPTS, NULL), 0);
	const char *ids[] = {ctr_lease_id(a), ctr_lease_id(b)};
	for (int i = 0; i < 2; i++) {
		const char *dash = strchr(ids[i], '-');
		assert_non_null(dash);
		assert_true(dash > ids[i]);
		assert_int_equal(strspn(ids[i], "0123456789"), (size_t)(dash - ids[i]));
		assert_int_equal(strlen(dash + 1), 16);
		assert_int_equal(strspn(dash + 1, "0123456789abcdef"), 16);
	}
	assert_string_not_equal(ids[0], ids[1]);
	ctr_lease **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_lease_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	int seen = 0;
	for (size_t i = 0; i < n; i++)
		seen += !strcmp(ctr_lease_id(v[i]), ids[0]) || !strcmp(ctr_lease_id(v[i]), ids[1]);
	ctr_lease_list_free(v, n);
	assert_int_equal(seen, 2);
	assert_int_equal(ctr_lease_delete(c, ids[0], NULL, 0, NULL), 0);
	assert_int_equal(ctr_lease_delete(c, ids[1], NULL, 0, NULL), 0);
	ctr_lease_free(a);
	ctr_lease_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_namespaces_share_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_random_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_filters_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_holds_through_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_records_follow_the_ingest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
