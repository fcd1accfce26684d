/* lib/metadata/md-gc.c: roots, references, sweeping, and what the sweeper is
 * asked to remove. A recording sweeper stands in for the stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
#include "error.h"
#include "md-fixture.h"
#include "md-records.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

struct rec {
	struct ctr_strv_buf calls;
	struct ctr_strv_buf disk; /* blobs the fake store has */
	int fail_blob;            /* code remove_blob returns */
};

static int rec_blob(void *ud, const char *digest, ctr_error **err)
{
	struct rec *r = ud;
	ctr_strv_buf_addf(&r->calls, NULL, "blob %s", digest);
	if (r->fail_blob)
		return ctr_err(err, r->fail_blob, 0, "remove %s: injected", digest);
	for (size_t i = 0; i < r->disk.n; i++)
		if (!strcmp(r->disk.v[i], digest)) {
			free(r->disk.v[i]);
			r->disk.v[i] = r->disk.v[--r->disk.n];
			r->disk.v[r->disk.n] = NULL;
			break;
		}
	return 0;
}

static int rec_ingest(void *ud, const char *ref, ctr_error **err)
{
	struct rec *r = ud;
	(void)err;
	ctr_strv_buf_addf(&r->calls, NULL, "ingest %s", ref);
	return 0;
}

static int rec_walk(void *ud, int (*fn)(const char *digest, void *fn_ud), void *fn_ud,
		    ctr_error **err)
{
	struct rec *r = ud;
	(void)err;
	for (size_t i = 0; i < r->disk.n; i++) {
		int q = fn(r->disk.v[i], fn_ud);
		if (q)
			return q;
	}
	return 0;
}

static int rec_snap(void *ud, const char *ns, const char *snapshotter, const char *key,
		    ctr_error **err)
{
	struct rec *r = ud;
	(void)err;
	ctr_strv_buf_addf(&r->calls, NULL, "snapshot %s/%s/%s", ns, snapshotter, key);
	return 0;
}

/* Runs the collector; returns its removed list (caller frees) and leaves
 * the sweeper calls in rec. */
static char **gc(struct fx *f, struct rec *rec)
{
	ctr_strv_buf_clear(&rec->calls);
	struct ctr_gc_sweeper sw = {.remove_blob = rec_blob, .remove_snapshot = rec_snap, .remove_ingest = rec_ingest, .walk_blobs = rec_walk, .ud = rec};
	char **removed = NULL;
	ctr_error *err = NULL;
	int r = ctr_md_gc(&removed, f->c->db, &sw, &err);
	if (r < 0)
		fprintf(stderr, "gc: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	assert_int_equal(r, 0);
	assert_non_null(removed);
	return removed;
}

/* Asserts the list holds exactly the given entries, in any order. */
static void expect_set(char **got, const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++)
		if (!fx_strv_has(got, want[n])) {
			fprintf(stderr, "missing \"%s\" in:\n", want[n]);
			for (size_t i = 0; got && got[i]; i++)
				fprintf(stderr, "  %s\n", got[i]);
			fail();
		}
	if (fx_strv_len(got) != n) {
		fprintf(stderr, "want %zu entries, got:\n", n);
		for (size_t i = 0; got && got[i]; i++)
			fprintf(stderr, "  %s\n", got[i]);
		fail();
	}
}
#define NONE ((const char *const[]){NULL})

static void add(struct fx *f, const char *ns, const char *digest, const char *const *labels)
{
	assert_int_equal(ctr_md_content_add(f->c->db, ns, digest, 1, labels, NULL, NULL, NULL), 0);
}

static void test_lease_holds_content(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	assert_int_equal(ctr_md_lease_create(NULL, f->c->db, "default", "pull", NULL, 0, NULL), 0);
	struct ctr_call call = {.lease = "pull"};
	assert_int_equal(ctr_md_content_add(f->c->db, "default", D1, 1, NULL, &call, NULL, NULL), 0);

	char **removed = gc(f, &rec);
	expect_set(removed, NONE);
	expect_set(rec.calls.v, NONE);
	ctr_strv_free(removed);

	assert_int_equal(ctr_md_lease_delete(f->c->db, "default", "pull", NULL), 0);
	removed = gc(f, &rec);
	expect_set(removed, L("content default/" D1, "blob " D1));
	expect_set(rec.calls.v, L("blob " D1));
	ctr_strv_free(removed);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), 0);

	/* Nothing left: a second run removes nothing. */
	removed = gc(f, &rec);
	expect_set(removed, NONE);
	ctr_strv_free(removed);
	ctr_strv_buf_clear(&rec.calls);
}

static void test_root_and_refs(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	/* root -> D2 (named ref) -> D3 (plain ref); D4 unreferenced; D5 is
	 * referenced only from D4, which is garbage itself. */
	add(f, "default", D1, L("containerd.io/gc.root=2024-01-01T00:00:00Z",
				 "containerd.io/gc.ref.content.config=" D2));
	add(f, "default", D2, L("containerd.io/gc.ref.content=" D3));
	add(f, "default", D3, NULL);
	add(f, "default", D4, L("containerd.io/gc.ref.content.l.0=" D5));
	add(f, "default", D5, NULL);
	/* A label that only looks like a ref is not one. */
	assert_int_equal(ctr_md_content_update_labels(NULL, f->c->db, "default", D3,
						      L("containerd.io/gc.ref.contentx=" D5), false, NULL),
			 0);

	char **removed = gc(f, &rec);
	expect_set(removed, L("content default/" D4, "content default/" D5, "blob " D4, "blob " D5));
	expect_set(rec.calls.v, L("blob " D4, "blob " D5));
	ctr_strv_free(removed);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), 3);

	/* Dropping the root label frees the whole chain. */
	assert_int_equal(ctr_md_content_update_labels(NULL, f->c->db, "default", D1,
						      L("containerd.io/gc.root="), false, NULL),
			 0);
	removed = gc(f, &rec);
	expect_set(removed, L("content default/" D1, "content default/" D2, "content default/" D3,
			      "blob " D1, "blob " D2, "blob " D3));
	ctr_strv_free(removed);
	ctr_strv_buf_clear(&rec.calls);
}

/* References stay inside a namespace; bytes go only when no namespace
 * records the blob. */
static void test_namespaces_share_bytes(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	add(f, "a", D1, L("containerd.io/gc.root=1"));
	add(f, "b", D1, NULL);
	/* b's root refers to D2 by label, but only a records D2. */
	add(f, "b", D3, L("containerd.io/gc.root=1", "containerd.io/gc.ref.content=" D2));
	add(f, "a", D2, NULL);

	char **removed = gc(f, &rec);
	expect_set(removed, L("content b/" D1, "content a/" D2, "blob " D2));
	expect_set(rec.calls.v, L("blob " D2));
	ctr_strv_free(removed);

	struct ctr_md_content c = {0};
	assert_int_equal(ctr_md_content_get(&c, f->c->db, "a", D1, NULL), 0);
	ctr_md_content_clear(&c);

	/* A blob whose last record was deleted directly (content rm) is found
	 * on disk by the walk; blobs still recorded stay. */
	assert_int_equal(ctr_strv_buf_addf(&rec.disk, NULL, "%s", D1), 0);
	assert_int_equal(ctr_strv_buf_addf(&rec.disk, NULL, "%s", D3), 0);
	removed = gc(f, &rec);
	expect_set(removed, NONE);
	ctr_strv_free(removed);
	assert_int_equal(ctr_md_content_delete(f->c->db, "a", D1, NULL), 0);
	removed = gc(f, &rec);
	expect_set(removed, L("blob " D1));
	expect_set(rec.disk.v, L(D3));
	ctr_strv_free(removed);
	ctr_strv_buf_clear(&rec.calls);
	ctr_strv_buf_clear(&rec.disk);
}

static void test_expired_leases(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	struct ctr_db *db = f->c->db;
	assert_int_equal(ctr_md_lease_create(NULL, db, "default", "live", NULL, ctr_db_now() + 3600LL * 1000000000, NULL), 0);
	assert_int_equal(ctr_md_lease_create(NULL, db, "default", "forever", NULL, 0, NULL), 0);
	struct ctr_call live = {.lease = "live"};
	add(f, "default", D1, NULL);
	assert_int_equal(ctr_md_content_add(db, "default", D2, 1, NULL, &live, NULL, NULL), 0);
	assert_int_equal(ctr_md_lease_add_resource(db, "default", "live", "content", D1, NULL), 0);
	/* An expired lease (via containerd's label) holding D1 and D3. */
	assert_int_equal(ctr_md_lease_create(NULL, db, "default", "old",
					     L("containerd.io/gc.expire=2000-01-01T00:00:00Z"), 0, NULL),
			 0);
	assert_int_equal(ctr_db_exec(db,
				     "INSERT INTO lease_resources VALUES ('default', 'old', 'content', '" D3 "');"
				     "INSERT INTO content VALUES ('default', '" D3 "', 1, '{}', 1, 1);",
				     NULL),
			 0);
	assert_int_equal(ctr_md_lease_create(NULL, db, "other", "old2", NULL, 1, NULL), 0);

	char **removed = gc(f, &rec);
	expect_set(removed, L("lease default/old", "lease other/old2", "content default/" D3, "blob " D3));
	ctr_strv_free(removed);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM leases"), 2);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM lease_resources"), 2);
	ctr_strv_buf_clear(&rec.calls);
}

static void test_snapshots_and_objects(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	struct ctr_db *db = f->c->db;
	/* base <- mid <- top, plus a stray child of base and an orphan. */
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "base", NULL, "committed", NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "mid", "base", "committed", NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "top", "mid", "active", NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "stray", "base", "active", NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_snapshot_put(db, "default", "native", "top", NULL, "active", NULL, NULL, NULL), 0);
	/* A snapshot referring to content and content referring to a snapshot. */
	assert_int_equal(ctr_md_snapshot_put(db, "default", "native", "labelled", NULL, "committed",
					     L("containerd.io/gc.ref.content.x=" D4), NULL, NULL),
			 0);
	add(f, "default", D4, NULL);
	/* The image's target is kept, and its ref to the config. */
	add(f, "default", D1, L("containerd.io/gc.ref.content.config=" D2,
				 "containerd.io/gc.ref.snapshot.native/l0=labelled"));
	add(f, "default", D2, NULL);
	add(f, "default", D3, NULL);
	assert_int_equal(ctr_md_image_put(db, "default", "docker.io/library/x:1",
					  "application/vnd.oci.image.manifest.v1+json", D1, 1, NULL, NULL),
			 0);
	assert_int_equal(ctr_md_container_put(db, "default", "c1", "docker.io/library/x:1", "overlayfs",
					      "top", NULL, NULL),
			 0);

	char **removed = gc(f, &rec);
	expect_set(removed, L("content default/" D3, "blob " D3, "snapshot default/overlayfs/stray",
			      "snapshot default/native/top"));
	expect_set(rec.calls.v, L("blob " D3, "snapshot default/overlayfs/stray", "snapshot default/native/top"));
	ctr_strv_free(removed);

	/* Without the container the chain goes, children before parents. */
	assert_int_equal(ctr_md_container_delete(db, "default", "c1", NULL), 0);
	removed = gc(f, &rec);
	expect_set(removed, L("snapshot default/overlayfs/top", "snapshot default/overlayfs/mid",
			      "snapshot default/overlayfs/base"));
	assert_int_equal(fx_strv_len(rec.calls.v), 3);
	assert_string_equal(rec.calls.v[0], "snapshot default/overlayfs/top");
	assert_string_equal(rec.calls.v[1], "snapshot default/overlayfs/mid");
	assert_string_equal(rec.calls.v[2], "snapshot default/overlayfs/base");
	ctr_strv_free(removed);

	/* Without the image, its content and the labelled snapshot go too. */
	assert_int_equal(ctr_md_image_delete(db, "default", "docker.io/library/x:1", NULL), 0);
	removed = gc(f, &rec);
	expect_set(removed, L("content default/" D1, "content default/" D2, "content default/" D4,
			      "blob " D1, "blob " D2, "blob " D4, "snapshot default/native/labelled"));
	ctr_strv_free(removed);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM snapshots"), 0);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), 0);
	ctr_strv_buf_clear(&rec.calls);
}

static void test_leased_snapshots_ingests_flat(void **state)
{
	struct fx *f = *state;
	struct rec rec = {0};
	struct ctr_db *db = f->c->db;
	assert_int_equal(ctr_md_lease_create(NULL, db, "default", "l", NULL, 0, NULL), 0);
	assert_int_equal(ctr_md_lease_create(NULL, db, "default", "flat",
					     L("containerd.io/gc.flat=1"), 0, NULL),
			 0);
	struct ctr_call l = {.lease = "l"}, flat = {.lease = "flat"};
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "p", NULL, "committed", NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_snapshot_put(db, "default", "overlayfs", "c", "p", "active", NULL, &l, NULL), 0);
	/* A flat lease holds D1 itself, not what D1 refers to. */
	assert_int_equal(ctr_md_content_add(db, "default", D1, 1, L("containerd.io/gc.ref.content=" D2),
					    &flat, NULL, NULL),
			 0);
	add(f, "default", D2, NULL);
	/* Ingests: one leased, one with a future expiry, one expired, one bare. */
	assert_int_equal(ctr_md_ingest_put(db, "default", "leased", 0, &l, NULL), 0);
	assert_int_equal(ctr_md_ingest_put(db, "default", "future", ctr_db_now() + 3600LL * 1000000000, NULL, NULL), 0);
	assert_int_equal(ctr_md_ingest_put(db, "default", "past", 1, NULL, NULL), 0);
	assert_int_equal(ctr_md_ingest_put(db, "default", "bare", 0, NULL, NULL), 0);

	/* The same ref in another namespace is another store ingest, and stays. */
	assert_int_equal(ctr_md_ingest_put(db, "other", "bare", ctr_db_now() + 3600LL * 1000000000, NULL, NULL), 0);
	char **removed = gc(f, &rec);
	expect_set(removed, L("content default/" D2, "blob " D2, "ingest default/past", "ingest default/bare"));
	expect_set(rec.calls.v, L("blob " D2, "ingest default/past", "ingest default/bare"));
	ctr_strv_free(removed);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM snapshots"), 2);
	ctr_strv_buf_clear(&rec.calls);
}

/* A sweeper failure is reported; the records are gone all the same. */
static void test_sweeper_failure(void **state)
{
	struct fx *f = *state;
	struct rec rec = {.fail_blob = CTR_EIO};
	add(f, "default", D1, NULL);
	struct ctr_gc_sweeper sw = {.remove_blob = rec_blob, .remove_snapshot = rec_snap, .remove_ingest = rec_ingest, .walk_blobs = rec_walk, .ud = &rec};
	char **removed = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_md_gc(&removed, f->c->db, &sw, &err), CTR_EIO);
	assert_null(removed);
	assert_non_null(err);
	assert_non_null(strstr(ctr_error_message(err), "injected"));
	ctr_error_free(err);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), 0);

	/* A blob already missing is not an error and not listed. */
	rec.fail_blob = CTR_ENOTFOUND;
	add(f, "default", D2, NULL);
	removed = gc(f, &rec);
	expect_set(removed, L("content default/" D2));
	ctr_strv_free(removed);
	ctr_strv_buf_clear(&rec.calls);
}

/* The public entry point over the client. */
static void test_client_gc(void **state)
{
	struct fx *f = *state;
	add(f, "default", D1, NULL);
	ctr_opt *o = ctr_with_lease_id("x");
	assert_int_equal(ctr_lease_create(NULL, f->c, (const ctr_opt *const *)&o, 1, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(f->c, "x", "content", D2, NULL, 0, NULL), 0);
	add(f, "default", D2, NULL);
	ctr_error *err = NULL;
	/* Options of another kind are refused. */
	assert_int_equal(ctr_client_gc(NULL, f->c, (const ctr_opt *const *)&o, 1, &err), CTR_EINVAL);
	ctr_error_free(err);
	ctr_opt_free(o);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), 2);
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, f->c, NULL, 0, NULL), 0);
	assert_true(fx_strv_has(removed, "content default/" D1));
	assert_false(fx_strv_has(removed, "content default/" D2));
	ctr_strv_free(removed);
}

/* Writes data as a blob into the client's store; out gets its digest. */
static void put_blob(struct fx *f, const char *data, char out[CTR_DIGEST_MAX])
{
	struct ctr_cs_writer *w = NULL;
	assert_int_equal(ctr_cs_writer_open(&w, f->c->cs, data, 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, data, strlen(data), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, strlen(data), NULL, out, NULL), 0);
	ctr_cs_writer_close(w);
}

/* ctr_client_gc over the real blob store: bytes of unrecorded blobs go,
 * recorded ones stay. */
static void test_client_gc_store(void **state)
{
	struct fx *f = *state;
	assert_non_null(f->c->cs);
	char kept[CTR_DIGEST_MAX], dropped[CTR_DIGEST_MAX], orphan[CTR_DIGEST_MAX];
	put_blob(f, "kept", kept);
	put_blob(f, "dropped", dropped);
	put_blob(f, "orphan", orphan); /* never recorded: a crash before its record */
	add(f, "default", kept, L("containerd.io/gc.root=1"));
	add(f, "default", dropped, NULL);
	add(f, "other", dropped, NULL);
	/* An interrupted ingest whose record nothing holds (the store keys a
	 * namespace's ingest as "<ns>/<ref>"). */
	struct ctr_cs_writer *w = NULL;
	assert_int_equal(ctr_cs_writer_open(&w, f->c->cs, "default/leftover", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, "part", 4, NULL), 0);
	ctr_cs_writer_close(w);
	assert_int_equal(ctr_md_ingest_put(f->c->db, "default", "leftover", 0, NULL, NULL), 0);
	struct ctr_cs_status st = {0};
	assert_int_equal(ctr_cs_status(f->c->cs, "default/leftover", &st, NULL), 0);
	ctr_cs_status_clear(&st);

	char **removed = NULL;
	ctr_error *err = NULL;
	int r = ctr_client_gc(&removed, f->c, NULL, 0, &err);
	if (r < 0)
		fprintf(stderr, "gc: %s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	char e1[160], e2[160], e3[160], e4[160];
	snprintf(e1, sizeof(e1), "content default/%s", dropped);
	snprintf(e2, sizeof(e2), "content other/%s", dropped);
	snprintf(e3, sizeof(e3), "blob %s", dropped);
	snprintf(e4, sizeof(e4), "blob %s", orphan);
	expect_set(removed, (const char *const[]){e1, e2, e3, e4, "ingest default/leftover", NULL});
	assert_int_equal(ctr_cs_status(f->c->cs, "default/leftover", &st, NULL), CTR_ENOTFOUND);
	ctr_strv_free(removed);
	uint64_t size = 0;
	assert_int_equal(ctr_cs_blob_stat(f->c->cs, kept, &size, NULL), 0);
	assert_int_equal(size, 4);
	assert_int_equal(ctr_cs_blob_stat(f->c->cs, dropped, &size, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_cs_blob_stat(f->c->cs, orphan, &size, NULL), CTR_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_holds_content, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_root_and_refs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_namespaces_share_bytes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_leases, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_and_objects, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_leased_snapshots_ingests_flat, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sweeper_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_gc, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_gc_store, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
