/* lib/metadata: schema and migrations, namespaces, leases, content records,
 * several processes writing at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "md-fixture.h"
#include "md-records.h"
#include "ident.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Takes the error by address: the call in `r` must fill it first. */
static int count_apply(void *target, void *userdata, ctr_error **err)
{
	(void)target;
	(void)err;
	(*(int *)userdata)++;
	return 0;
}

static void expect_code(int r, int code, ctr_error **err)
{
	if (r != code)
		fprintf(stderr, "got %d (%s), want %d\n", r, *err ? ctr_error_message(*err) : "-", code);
	assert_int_equal(r, code);
	if (code)
		assert_non_null(*err);
	ctr_error_free(*err);
	*err = NULL;
}

static void test_ns_basic(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	char **v = NULL;

	assert_int_equal(ctr_namespace_create(c, "alpha", L("team=a", "tier=1"), CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_namespace_create(c, "beta", NULL, CTR_NO_OPTS, NULL), 0);
	expect_code(ctr_namespace_create(c, "alpha", NULL, CTR_NO_OPTS, &err), CTR_EEXISTS, &err);
	/* Namespace calls take CTR_OPT_NAMESPACE options: another kind is
	 * refused and nothing is created; an option-callback of the kind runs. */
	ctr_opt *lo = ctr_with_lease("l1");
	expect_code(ctr_namespace_create(c, "gamma", NULL, CTR_OPTS(lo), &err), CTR_EINVAL, &err);
	ctr_opt_free(lo);
	int ran = 0;
	ctr_opt *cb = ctr_opt_new(CTR_OPT_NAMESPACE, count_apply, &ran, NULL);
	char **names = NULL;
	assert_int_equal(ctr_namespace_list(&names, c, NULL, 0, CTR_OPTS(cb), NULL), 0);
	assert_int_equal(ran, 1);
	for (size_t i = 0; names[i]; i++)
		assert_string_not_equal(names[i], "gamma");
	ctr_strv_free(names);
	ctr_opt_free(cb);

	assert_int_equal(ctr_namespace_list(&v, c, NULL, 0, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), 2);
	assert_string_equal(v[0], "alpha");
	assert_string_equal(v[1], "beta");
	ctr_strv_free(v);

	assert_int_equal(ctr_namespace_labels(&v, c, "alpha", NULL), 0);
	assert_int_equal(fx_strv_len(v), 2);
	assert_string_equal(v[0], "team=a");
	assert_string_equal(v[1], "tier=1");
	ctr_strv_free(v);

	/* Set one, remove one with an empty value, leave the rest. */
	assert_int_equal(ctr_namespace_set_labels(c, "alpha", L("tier=2", "team=", "new=x"), NULL), 0);
	assert_int_equal(ctr_namespace_labels(&v, c, "alpha", NULL), 0);
	assert_int_equal(fx_strv_len(v), 2);
	assert_string_equal(v[0], "new=x");
	assert_string_equal(v[1], "tier=2");
	ctr_strv_free(v);

	/* Labelling a missing namespace creates it, as containerd's SetLabel. */
	assert_int_equal(ctr_namespace_set_labels(c, "gamma", L("k=v"), NULL), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM namespaces"), 3);

	v = (char **)0x1;
	expect_code(ctr_namespace_labels(&v, c, "nope", &err), CTR_ENOTFOUND, &err);
	assert_ptr_equal(v, (char **)0x1); /* untouched on failure */

	assert_int_equal(ctr_namespace_delete(c, "beta", CTR_NO_OPTS, NULL), 0);
	expect_code(ctr_namespace_delete(c, "beta", CTR_NO_OPTS, &err), CTR_ENOTFOUND, &err);
	assert_int_equal(ctr_namespace_list(&v, c, NULL, 0, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), 2);
	assert_false(fx_strv_has(v, "beta"));
	ctr_strv_free(v);

	/* Writes create their namespace implicitly. */
	assert_int_equal(ctr_md_content_add(c->db, "implicit", D1, 3, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM namespaces WHERE name = 'implicit'"), 1);
}

static void test_ns_delete_nonempty(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;

	assert_int_equal(ctr_namespace_create(c, "busy", NULL, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_md_content_add(c->db, "busy", D1, 1, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_lease_create(NULL, c->db, "busy", "l1", NULL, 0, NULL), 0);
	assert_int_equal(ctr_md_image_put(c->db, "busy", "docker.io/library/x:1",
					  "application/vnd.oci.image.index.v1+json", D2, 10, NULL, NULL),
			 0);
	assert_int_equal(ctr_md_snapshot_put(c->db, "busy", "overlayfs", "k1", NULL, "active", NULL,
					     NULL, NULL),
			 0);
	assert_int_equal(ctr_namespace_delete(c, "busy", CTR_NO_OPTS, &err), CTR_EPRECONDITION);
	const char *m = ctr_error_message(err);
	assert_non_null(strstr(m, "1 images"));
	assert_non_null(strstr(m, "1 content"));
	assert_non_null(strstr(m, "1 leases"));
	assert_non_null(strstr(m, "1 snapshots"));
	assert_null(strstr(m, "containers"));
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(fx_count(c, "SELECT count(*) FROM namespaces WHERE name = 'busy'"), 1);

	assert_int_equal(ctr_md_content_delete(c->db, "busy", D1, NULL), 0);
	assert_int_equal(ctr_md_lease_delete(c->db, "busy", "l1", NULL), 0);
	assert_int_equal(ctr_md_image_delete(c->db, "busy", "docker.io/library/x:1", NULL), 0);
	assert_int_equal(ctr_namespace_delete(c, "busy", CTR_NO_OPTS, &err), CTR_EPRECONDITION);
	assert_non_null(strstr(ctr_error_message(err), "snapshots"));
	ctr_error_free(err);
	assert_int_equal(ctr_db_exec(c->db, "DELETE FROM snapshots", NULL), 0);
	assert_int_equal(ctr_namespace_delete(c, "busy", CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM namespaces"), 0);
}

static void test_ns_bad_names(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	char long77[78];
	memset(long77, 'a', 77);
	long77[77] = 0;
	const char *bad[] = {"../x", "a/b", "", long77, "a--b", ".hidden", "a b", NULL};
	char before[4096], after[4096];
	fx_ls(f->root, before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctr_error *err = NULL;
		char **v = NULL;
		expect_code(ctr_namespace_create(c, bad[i], NULL, CTR_NO_OPTS, &err), CTR_EINVAL, &err);
		err = NULL;
		expect_code(ctr_namespace_set_labels(c, bad[i], L("a=b"), &err), CTR_EINVAL, &err);
		err = NULL;
		expect_code(ctr_namespace_labels(&v, c, bad[i], &err), CTR_EINVAL, &err);
		err = NULL;
		expect_code(ctr_namespace_delete(c, bad[i], CTR_NO_OPTS, &err), CTR_EINVAL, &err);
		err = NULL;
		/* A client may not even open on it. */
		ctr_opt *o = ctr_with_namespace(bad[i]);
		ctr_client *c2 = NULL;
		if (o) {
			ctr_opt *os[] = {ctr_with_root(f->root), ctr_with_state(f->state), o};
			expect_code(ctr_client_new(&c2, (const ctr_opt *const *)os, 3, &err), CTR_EINVAL, &err);
			ctr_opt_free(os[0]);
			ctr_opt_free(os[1]);
			ctr_opt_free(o);
		}
		assert_null(c2);
		/* Calls with a bad per-call namespace. */
		ctr_opt *co = ctr_with_call_namespace(bad[i]);
		if (co) {
			err = NULL;
			expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)&co, 1, &err), CTR_EINVAL, &err);
			ctr_opt_free(co);
		}
	}
	/* Bad labels write nothing either. */
	ctr_error *err = NULL;
	expect_code(ctr_namespace_create(c, "ok", L("novalue"), CTR_NO_OPTS, &err), CTR_EINVAL, &err);
	err = NULL;
	expect_code(ctr_namespace_create(c, "ok", L("=v"), CTR_NO_OPTS, &err), CTR_EINVAL, &err);
	err = NULL;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[0] = 'k';
	big[1] = '=';
	big[sizeof(big) - 1] = 0;
	expect_code(ctr_namespace_create(c, "ok", L(big), CTR_NO_OPTS, &err), CTR_EINVAL, &err);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM namespaces"), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM leases"), 0);
	fx_ls(f->root, after, sizeof(after));
	assert_string_equal(before, after);
}

/* Eight processes create namespaces and leases in one fresh root at once
 * (the first ones also race to create and migrate the database). */
static void test_concurrent_processes(void **state)
{
	struct fx *f = *state;
	ctr_client_free(f->c);
	f->c = NULL;
	ctr_rm_rf_at(AT_FDCWD, f->root, NULL);
	enum { P = 8, N = 20 };
	pid_t pids[P];
	for (int p = 0; p < P; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			int rc = 0;
			ctr_client *c = fx_client(f, NULL);
			if (!c)
				_exit(10);
			for (int i = 0; i < N && !rc; i++) {
				char name[32];
				snprintf(name, sizeof(name), "p%d-n%d", p, i);
				ctr_error *err = NULL;
				if (ctr_namespace_create(c, name, NULL, CTR_NO_OPTS, &err) < 0) {
					fprintf(stderr, "child %d: %s\n", p, ctr_error_message(err));
					rc = 11;
				}
				ctr_error_free(err);
				err = NULL;
				snprintf(name, sizeof(name), "lease-%d", i);
				char ns[16];
				snprintf(ns, sizeof(ns), "p%d", p);
				ctr_opt *o[] = {ctr_with_lease_id(name), ctr_with_call_namespace(ns)};
				if (!rc && ctr_lease_create(NULL, c, (const ctr_opt *const *)o, 2, &err) < 0) {
					fprintf(stderr, "child %d lease: %s\n", p, ctr_error_message(err));
					rc = 12;
				}
				ctr_error_free(err);
				ctr_opt_free(o[0]);
				ctr_opt_free(o[1]);
			}
			ctr_client_free(c);
			_exit(rc);
		}
	}
	for (int p = 0; p < P; p++) {
		int st;
		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	f->c = fx_client(f, NULL);
	assert_non_null(f->c);
	char **v = NULL;
	assert_int_equal(ctr_namespace_list(&v, f->c, NULL, 0, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), P * N + P);
	for (int p = 0; p < P; p++)
		for (int i = 0; i < N; i++) {
			char name[32];
			snprintf(name, sizeof(name), "p%d-n%d", p, i);
			assert_true(fx_strv_has(v, name));
		}
	ctr_strv_free(v);
	for (int p = 0; p < P; p++) {
		char ns[16];
		snprintf(ns, sizeof(ns), "p%d", p);
		ctr_opt *o = ctr_with_call_namespace(ns);
		ctr_lease **ls = NULL;
		size_t n = 0;
		assert_int_equal(ctr_lease_list(&ls, &n, f->c, NULL, 0, (const ctr_opt *const *)&o, 1, NULL), 0);
		assert_int_equal(n, N);
		ctr_lease_list_free(ls, n);
		ctr_opt_free(o);
	}
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->c->db->h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	int version = 0;
	assert_int_equal(ctr_db_version(f->c->db, &version, NULL), 0);
	assert_int_equal(version, ctr_db_latest_version());
}

static void test_lease_basic(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	ctr_lease *l = NULL;

	ctr_opt *o1[] = {ctr_with_lease_id("build-1"), ctr_with_lease_labels(L("a=1")),
			 ctr_with_lease_labels(L("b=2"))};
	assert_int_equal(ctr_lease_create(&l, c, (const ctr_opt *const *)o1, 3, NULL), 0);
	assert_string_equal(ctr_lease_id(l), "build-1");
	assert_string_equal(ctr_lease_namespace(l), "default");
	assert_int_equal(ctr_lease_expires_at(l), 0);
	assert_true(ctr_lease_created_at(l) > 0);
	assert_string_equal(ctr_lease_labels(l)[0], "a=1");
	assert_string_equal(ctr_lease_labels(l)[1], "b=2");
	assert_null(ctr_lease_labels(l)[2]);
	ctr_lease_free(l);
	expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)o1, 3, &err), CTR_EEXISTS, &err);
	for (int i = 0; i < 3; i++)
		ctr_opt_free(o1[i]);

	/* No id: a random, valid one, different each time. */
	ctr_lease *r1 = NULL, *r2 = NULL;
	assert_int_equal(ctr_lease_create(&r1, c, NULL, 0, NULL), 0);
	assert_int_equal(ctr_lease_create(&r2, c, NULL, 0, NULL), 0);
	assert_true(ctr_ident_ok(ctr_lease_id(r1)));
	assert_string_not_equal(ctr_lease_id(r1), ctr_lease_id(r2));

	ctr_lease **ls = NULL;
	size_t n = 0;
	assert_int_equal(ctr_lease_list(&ls, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ctr_lease_id(ls[0]), "build-1");
	assert_null(ls[3]);
	ctr_lease_list_free(ls, n);

	assert_int_equal(ctr_lease_delete(c, ctr_lease_id(r1), NULL, 0, NULL), 0);
	err = NULL;
	expect_code(ctr_lease_delete(c, ctr_lease_id(r1), NULL, 0, &err), CTR_ENOTFOUND, &err);
	ctr_lease_free(r1);
	ctr_lease_free(r2);

	/* Bad ids and options, nothing written. */
	long long before = fx_count(c, "SELECT count(*) FROM leases");
	const char *bad[] = {"../x", "a/b", "a--b", ""};
	for (size_t i = 0; i < 4; i++) {
		ctr_opt *o = ctr_with_lease_id(bad[i]);
		err = NULL;
		expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)&o, 1, &err), CTR_EINVAL, &err);
		ctr_opt_free(o);
		err = NULL;
		expect_code(ctr_lease_delete(c, bad[i], NULL, 0, &err), CTR_EINVAL, &err);
	}
	ctr_opt *wrong = ctr_with_root("/x");
	err = NULL;
	expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)&wrong, 1, &err), CTR_EINVAL, &err);
	ctr_opt_free(wrong);
	ctr_opt *zero = ctr_with_lease_expiration(0);
	err = NULL;
	expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)&zero, 1, &err), CTR_EINVAL, &err);
	ctr_opt_free(zero);
	const ctr_opt *nul = NULL;
	err = NULL;
	expect_code(ctr_lease_create(NULL, c, &nul, 1, &err), CTR_EINVAL, &err);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM leases"), before);

	/* Per-call namespace. */
	ctr_opt *o2[] = {ctr_with_lease_id("other"), ctr_with_call_namespace("ns2")};
	assert_int_equal(ctr_lease_create(&l, c, (const ctr_opt *const *)o2, 2, NULL), 0);
	assert_string_equal(ctr_lease_namespace(l), "ns2");
	ctr_lease_free(l);
	err = NULL;
	expect_code(ctr_lease_delete(c, "other", NULL, 0, &err), CTR_ENOTFOUND, &err);
	assert_int_equal(ctr_lease_delete(c, "other", (const ctr_opt *const *)&o2[1], 1, NULL), 0);
	ctr_opt_free(o2[0]);
	ctr_opt_free(o2[1]);
}

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(ctr_md_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(ctr_md_time_parse("2024-02-29T12:30:45.5Z", &t), 0);
	assert_int_equal(t, 1709209845LL * 1000000000 + 500000000);
	assert_int_equal(ctr_md_time_parse("2024-02-29T14:30:45.5+02:00", &t), 0);
	assert_int_equal(t, 1709209845LL * 1000000000 + 500000000);
	assert_int_equal(ctr_md_time_parse("2024-02-29T10:00:45-02:30", &t), 0);
	assert_int_equal(t, 1709209845LL * 1000000000);
	const char *bad[] = {"", "2024-02-29", "2024-02-29T12:30:45", "2024-13-01T00:00:00Z",
			     "2024-02-29T12:30:45.Z", "2024-02-29T12:30:45Zjunk", "tomorrow"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctr_md_time_parse(bad[i], &t), -1);
	char buf[64];
	ctr_md_time_format(1709209845LL * 1000000000 + 7, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T12:30:45Z");
}

static void test_lease_expiry(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	ctr_lease *l = NULL;

	int64_t before = ctr_db_now();
	ctr_opt *o[] = {ctr_with_lease_id("day"), ctr_with_lease_expiration(86400)};
	assert_int_equal(ctr_lease_create(&l, c, (const ctr_opt *const *)o, 2, NULL), 0);
	int64_t exp = ctr_lease_expires_at(l);
	assert_true(exp >= before + 86400LL * 1000000000 && exp <= ctr_db_now() + 86400LL * 1000000000);
	/* Recorded as containerd's label too. */
	const char *const *lab = ctr_lease_labels(l);
	assert_non_null(lab[0]);
	assert_memory_equal(lab[0], "containerd.io/gc.expire=", 24);
	int64_t t;
	assert_int_equal(ctr_md_time_parse(lab[0] + 24, &t), 0);
	assert_true(t / 1000000000 == exp / 1000000000);
	ctr_lease_free(l);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);

	/* The label alone sets the expiry; one in the past makes the lease
	 * unable to take resources. */
	ctr_opt *p[] = {ctr_with_lease_id("old"),
			ctr_with_lease_labels(L("containerd.io/gc.expire=2001-01-01T00:00:00Z"))};
	assert_int_equal(ctr_lease_create(&l, c, (const ctr_opt *const *)p, 2, NULL), 0);
	assert_int_equal(ctr_lease_expires_at(l), 978307200LL * 1000000000);
	ctr_lease_free(l);
	ctr_opt_free(p[0]);
	ctr_opt_free(p[1]);
	expect_code(ctr_lease_add_resource(c, "old", "content", D1, NULL, 0, &err), CTR_ENOTFOUND, &err);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM lease_resources"), 0);
	assert_int_equal(ctr_lease_add_resource(c, "day", "content", D1, NULL, 0, NULL), 0);

	/* A short expiry really passes. */
	ctr_opt *s[] = {ctr_with_lease_id("short"), ctr_with_lease_expiration(1)};
	assert_int_equal(ctr_lease_create(NULL, c, (const ctr_opt *const *)s, 2, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(c, "short", "content", D1, NULL, 0, NULL), 0);
	usleep(1100 * 1000);
	err = NULL;
	expect_code(ctr_lease_add_resource(c, "short", "content", D2, NULL, 0, &err), CTR_ENOTFOUND, &err);
	ctr_opt_free(s[0]);
	ctr_opt_free(s[1]);

	/* A gc.expire label that is not a time. */
	ctr_opt *b[] = {ctr_with_lease_id("bad"), ctr_with_lease_labels(L("containerd.io/gc.expire=soon"))};
	err = NULL;
	expect_code(ctr_lease_create(NULL, c, (const ctr_opt *const *)b, 2, &err), CTR_EINVAL, &err);
	ctr_opt_free(b[0]);
	ctr_opt_free(b[1]);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM leases WHERE id = 'bad'"), 0);
}

static void test_lease_resources(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	ctr_opt *o = ctr_with_lease_id("l");
	assert_int_equal(ctr_lease_create(NULL, c, (const ctr_opt *const *)&o, 1, NULL), 0);
	ctr_opt_free(o);

	assert_int_equal(ctr_lease_add_resource(c, "l", "snapshots/overlayfs", "sha256:abc key", NULL, 0, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(c, "l", "content", D2, NULL, 0, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(c, "l", "content", D1, NULL, 0, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(c, "l", "content", D1, NULL, 0, NULL), 0); /* twice is fine */
	assert_int_equal(ctr_lease_add_resource(c, "l", "ingests", "layer-sha256:1", NULL, 0, NULL), 0);

	char **types = NULL, **ids = NULL;
	assert_int_equal(ctr_lease_list_resources(&types, &ids, c, "l", NULL, 0, NULL), 0);
	assert_int_equal(fx_strv_len(types), 4);
	assert_int_equal(fx_strv_len(ids), 4);
	assert_string_equal(types[0], "content");
	assert_string_equal(ids[0], D1);
	assert_string_equal(types[1], "content");
	assert_string_equal(ids[1], D2);
	assert_string_equal(types[2], "ingests");
	assert_string_equal(types[3], "snapshots/overlayfs");
	assert_string_equal(ids[3], "sha256:abc key");
	ctr_strv_free(types);
	ctr_strv_free(ids);

	assert_int_equal(ctr_lease_delete_resource(c, "l", "content", D2, NULL, 0, NULL), 0);
	expect_code(ctr_lease_delete_resource(c, "l", "content", D2, NULL, 0, &err), CTR_ENOTFOUND, &err);
	err = NULL;
	expect_code(ctr_lease_add_resource(c, "missing", "content", D1, NULL, 0, &err), CTR_ENOTFOUND, &err);
	err = NULL;
	expect_code(ctr_lease_list_resources(&types, &ids, c, "missing", NULL, 0, &err), CTR_ENOTFOUND, &err);

	struct {
		const char *type, *id;
	} bad[] = {
		{"blobs", D1},
		{"content", "sha256:xyz"},
		{"content", "../../etc/passwd"},
		{"snapshots/", "k"},
		{"snapshots/../x", "k"},
		{"snapshots/overlayfs", ""},
		{"snapshots/overlayfs", "a\nb"},
		{"ingests", ""},
		{NULL, "x"},
		{"content", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		expect_code(ctr_lease_add_resource(c, "l", bad[i].type, bad[i].id, NULL, 0, &err), CTR_EINVAL, &err);
	}
	assert_int_equal(fx_count(c, "SELECT count(*) FROM lease_resources"), 3);

	/* Deleting the lease releases its resources. */
	assert_int_equal(ctr_lease_delete(c, "l", NULL, 0, NULL), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM lease_resources"), 0);
}

/* ctr_with_lease on a creating call puts what it creates on the lease, in
 * the same transaction. */
static void test_call_lease(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	assert_int_equal(ctr_md_lease_create(NULL, c->db, "default", "hold", NULL, 0, NULL), 0);
	struct ctr_call call = {.lease = "hold"};
	bool created = false;
	assert_int_equal(ctr_md_content_add(c->db, "default", D1, 5, NULL, &call, &created, NULL), 0);
	assert_true(created);
	assert_int_equal(ctr_md_content_add(c->db, "default", D1, 5, NULL, &call, &created, NULL), 0);
	assert_false(created);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM lease_resources WHERE type = 'content'"), 1);

	struct ctr_call gone = {.lease = "nope"};
	expect_code(ctr_md_content_add(c->db, "default", D2, 5, NULL, &gone, NULL, &err), CTR_ENOTFOUND, &err);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM content WHERE digest = '" D2 "'"), 0);

	assert_int_equal(ctr_md_snapshot_put(c->db, "default", "native", "s1", NULL, "active", NULL, &call, NULL), 0);
	assert_int_equal(ctr_md_ingest_put(c->db, "default", "ref-1", 0, &call, NULL), 0);
	assert_int_equal(fx_count(c, "SELECT count(*) FROM lease_resources"), 3);
}

static void test_content_records(void **state)
{
	struct fx *f = *state;
	struct ctr_db *db = f->c->db;
	ctr_error *err = NULL;
	struct ctr_md_content rec = {0};

	assert_int_equal(ctr_md_content_add(db, "a", D1, 42, L("x=1"), NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_content_get(&rec, db, "a", D1, NULL), 0);
	assert_string_equal(rec.digest, D1);
	assert_int_equal(rec.size, 42);
	assert_string_equal(rec.labels[0], "x=1");
	assert_true(rec.created_at > 0 && rec.updated_at == rec.created_at);
	ctr_md_content_clear(&rec);

	/* Not visible in b until b records it. */
	expect_code(ctr_md_content_get(&rec, db, "b", D1, &err), CTR_ENOTFOUND, &err);
	assert_int_equal(ctr_md_content_add(db, "b", D1, 42, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_content_get(&rec, db, "b", D1, NULL), 0);
	assert_null(rec.labels[0]);
	ctr_md_content_clear(&rec);

	assert_int_equal(ctr_md_content_update_labels(&rec, db, "a", D1, L("y=2", "x="), false, NULL), 0);
	assert_int_equal(fx_strv_len(rec.labels), 1);
	assert_string_equal(rec.labels[0], "y=2");
	assert_true(rec.updated_at >= rec.created_at);
	ctr_md_content_clear(&rec);
	assert_int_equal(ctr_md_content_update_labels(NULL, db, "a", D1, L("z=3"), true, NULL), 0);
	assert_int_equal(ctr_md_content_get(&rec, db, "a", D1, NULL), 0);
	assert_int_equal(fx_strv_len(rec.labels), 1);
	assert_string_equal(rec.labels[0], "z=3");
	ctr_md_content_clear(&rec);
	err = NULL;
	expect_code(ctr_md_content_update_labels(NULL, db, "c", D1, L("z=3"), false, &err), CTR_ENOTFOUND, &err);

	assert_int_equal(ctr_md_content_add(db, "a", D2, 1, NULL, NULL, NULL, NULL), 0);
	struct ctr_md_content *v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_md_content_list(&v, &n, db, "a", NULL, 0, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].digest, D1);
	assert_string_equal(v[1].digest, D2);
	ctr_md_content_list_free(v, n);

	assert_int_equal(ctr_md_content_delete(db, "a", D1, NULL), 0);
	err = NULL;
	expect_code(ctr_md_content_delete(db, "a", D1, &err), CTR_ENOTFOUND, &err);
	bool ref = false;
	assert_int_equal(ctr_md_content_referenced(db, D1, &ref, NULL), 0);
	assert_true(ref); /* b still has it */

	/* Bad digests and labels: nothing written. */
	long long before = fx_count(f->c, "SELECT count(*) FROM content");
	const char *bad[] = {"sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "../../x", "", NULL};
	for (size_t i = 0; i < 5; i++) {
		err = NULL;
		int r = ctr_md_content_add(db, "a", bad[i], 1, NULL, NULL, NULL, &err);
		assert_true(r == CTR_EINVAL);
		ctr_error_free(err);
	}
	err = NULL;
	expect_code(ctr_md_content_add(db, "a", D3, 1, L("nokey"), NULL, NULL, &err), CTR_EINVAL, &err);
	assert_int_equal(fx_count(f->c, "SELECT count(*) FROM content"), before);
}

static void test_migration(void **state)
{
	struct fx *f = *state;
	ctr_client_free(f->c);
	f->c = NULL;
	ctr_rm_rf_at(AT_FDCWD, f->root, NULL);
	assert_int_equal(ctr_mkdir_p(f->root, 0700, NULL), 0);
	assert_true(ctr_db_latest_version() >= 2);

	/* A database left at version 1 by an older library... */
	struct ctr_db *db = NULL;
	assert_int_equal(ctr_db_open_version(&db, f->root, 1, NULL), 0);
	int v = 0;
	assert_int_equal(ctr_db_version(db, &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ctr_md_content_add(db, "old", D1, 7, L("kept=yes"), NULL, NULL, NULL), 0);
	ctr_error *err = NULL;
	assert_int_not_equal(ctr_md_image_put(db, "old", "img", "t", D1, 7, NULL, &err), 0);
	ctr_error_free(err);
	ctr_db_close(db);

	/* ...migrates to the latest on open and keeps its data. */
	f->c = fx_client(f, NULL);
	assert_non_null(f->c);
	assert_int_equal(ctr_db_version(f->c->db, &v, NULL), 0);
	assert_int_equal(v, ctr_db_latest_version());
	struct ctr_md_content rec = {0};
	assert_int_equal(ctr_md_content_get(&rec, f->c->db, "old", D1, NULL), 0);
	assert_string_equal(rec.labels[0], "kept=yes");
	ctr_md_content_clear(&rec);
	assert_int_equal(ctr_md_image_put(f->c->db, "old", "img", "t", D1, 7, NULL, NULL), 0);
	ctr_client_free(f->c);
	f->c = NULL;

	/* A newer schema than this library knows is refused. */
	char path[160];
	snprintf(path, sizeof(path), "%s/meta.db", f->root);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", ctr_db_latest_version() + 1);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	err = NULL;
	expect_code(ctr_db_open(&db, f->root, &err), CTR_ENOTSUP, &err);
	ctr_client *c2 = NULL;
	ctr_opt *o[] = {ctr_with_root(f->root), ctr_with_state(f->state)};
	err = NULL;
	assert_int_equal(ctr_client_new(&c2, (const ctr_opt *const *)o, 2, &err), CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(err), "schema version"));
	ctr_error_free(err);
	assert_null(c2);

	/* Not a database at all. */
	unlink(path);
	char wal[200];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	FILE *fp = fopen(path, "we");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite database. ", fp);
	fclose(fp);
	err = NULL;
	expect_code(ctr_client_new(&c2, (const ctr_opt *const *)o, 2, &err), CTR_EIO, &err);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	unlink(path);
	f->c = fx_client(f, NULL);
	assert_non_null(f->c);
}

/* Listing takes containerd filter strings. */
static void test_filters(void **state)
{
	struct fx *f = *state;
	ctr_client *c = f->c;
	ctr_error *err = NULL;
	char **v = NULL;
	assert_int_equal(ctr_namespace_create(c, "prod-a", L("env=prod", "team=a"), CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_namespace_create(c, "prod-b", L("env=prod"), CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_namespace_create(c, "dev", L("env=dev"), CTR_NO_OPTS, NULL), 0);

	assert_int_equal(ctr_namespace_list(&v, c, L("labels.env==prod"), 1, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), 2);
	assert_string_equal(v[0], "prod-a");
	ctr_strv_free(v);
	assert_int_equal(ctr_namespace_list(&v, c, L("name~=^prod", "name==dev"), 2, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), 3);
	ctr_strv_free(v);
	assert_int_equal(ctr_namespace_list(&v, c, L("labels.env==prod,labels.team"), 1, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(fx_strv_len(v), 1);
	assert_string_equal(v[0], "prod-a");
	ctr_strv_free(v);
	v = NULL;
	expect_code(ctr_namespace_list(&v, c, L("name=="), 1, CTR_NO_OPTS, &err), CTR_EINVAL, &err);
	assert_null(v);

	ctr_opt *o1[] = {ctr_with_lease_id("a"), ctr_with_lease_labels(L("kind=pull"))};
	ctr_opt *o2[] = {ctr_with_lease_id("b"), ctr_with_lease_labels(L("kind=build"))};
	assert_int_equal(ctr_lease_create(NULL, c, (const ctr_opt *const *)o1, 2, NULL), 0);
	assert_int_equal(ctr_lease_create(NULL, c, (const ctr_opt *const *)o2, 2, NULL), 0);
	for (int i = 0; i < 2; i++) {
		ctr_opt_free(o1[i]);
		ctr_opt_free(o2[i]);
	}
	ctr_lease **ls = NULL;
	size_t n = 0;
	assert_int_equal(ctr_lease_list(&ls, &n, c, L("labels.kind==build"), 1, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_lease_id(ls[0]), "b");
	ctr_lease_list_free(ls, n);
	assert_int_equal(ctr_lease_list(&ls, &n, c, L("id==a"), 1, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ctr_lease_id(ls[0]), "a");
	ctr_lease_list_free(ls, n);

	assert_int_equal(ctr_md_content_add(c->db, "default", D1, 10, L("a=1"), NULL, NULL, NULL), 0);
	assert_int_equal(ctr_md_content_add(c->db, "default", D2, 20, NULL, NULL, NULL, NULL), 0);
	struct ctr_md_content *cv = NULL;
	assert_int_equal(ctr_md_content_list(&cv, &n, c->db, "default", L("size==20"), 1, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(cv[0].digest, D2);
	ctr_md_content_list_free(cv, n);
	assert_int_equal(ctr_md_content_list(&cv, &n, c->db, "default", L("labels.a==1", "digest==" D2), 2, NULL), 0);
	assert_int_equal(n, 2);
	ctr_md_content_list_free(cv, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ns_basic, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ns_delete_nonempty, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ns_bad_names, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_processes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lease_basic, fx_setup, fx_teardown),
		cmocka_unit_test(test_time),
		cmocka_unit_test_setup_teardown(test_lease_expiry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lease_resources, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_call_lease, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_content_records, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_migration, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_filters, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
