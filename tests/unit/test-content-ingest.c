/* lib/content: ingest across processes: concurrent writers of one ref,
 * EBUSY, SIGKILL then resume, resume rules, status and abort. */
#include "content-fixture.h"

#define BIG (256 * 1024)

/* Child body: ingest buf under ref, waiting for the lock. Exit codes: 0
 * committed, 1 EEXISTS (at open or commit), 2 resumed at want_offset and
 * committed, anything else a failure. */
static int child_ingest(const unsigned char *buf, const char *ref, const char *expected,
			long want_offset)
{
	struct ctr_cs_writer *w;
	int r = ctr_cs_writer_open(&w, cs, ref, BIG, expected, 20000, NULL);
	if (r == CTR_EEXISTS)
		return 1;
	if (r < 0)
		return 10;
	uint64_t off = ctr_cs_writer_offset(w);
	if (want_offset >= 0 && off != (uint64_t)want_offset)
		return 11;
	if (write_chunks(w, buf, off, BIG, BIG / 8, 20000) < 0)
		return 12;
	char got[CTR_DIGEST_MAX];
	r = ctr_cs_writer_commit(w, BIG, NULL, got, NULL);
	ctr_cs_writer_close(w);
	if (r == CTR_EEXISTS)
		return 1;
	if (r < 0)
		return 13;
	return want_offset > 0 ? 2 : 0;
}

static void check_one_blob(const unsigned char *buf, const char *digest)
{
	assert_int_equal(count_entries("content/blobs/sha256"), 1);
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_blob(digest, buf, BIG);
}

static void test_two_processes_same_ref(void **state)
{
	(void)state;
	unsigned char *buf = malloc(BIG);
	fill(buf, BIG, 5);
	char d[CTR_DIGEST_MAX];
	digest_of(buf, BIG, d);

	/* Once knowing the digest (the loser sees EEXISTS at open), once not
	 * (the loser writes again and sees EEXISTS at commit). */
	for (int round = 0; round < 2; round++) {
		const char *exp = round == 0 ? d : NULL;
		pid_t a = spawn();
		if (a == 0)
			_exit(child_ingest(buf, "same-ref", exp, -1));
		pid_t b = spawn();
		if (b == 0)
			_exit(child_ingest(buf, "same-ref", exp, -1));
		int ra = reap(a), rb = reap(b);
		assert_true((ra == 0 && rb == 1) || (ra == 1 && rb == 0));
		check_one_blob(buf, d);
		assert_int_equal(ctr_cs_blob_delete(cs, d, NULL), 0);
	}

	/* Hand-over: the first writer stops half-way and closes; the one
	 * waiting behind it resumes from exactly there. */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t a = spawn();
	if (a == 0) {
		struct ctr_cs_writer *w;
		if (ctr_cs_writer_open(&w, cs, "handover", BIG, d, 0, NULL) < 0)
			_exit(20);
		if (write(p[1], "o", 1) != 1)
			_exit(21);
		usleep(100000); /* let the other one queue up on the lock */
		if (write_chunks(w, buf, 0, BIG / 2, BIG / 16, 10000) < 0)
			_exit(22);
		ctr_cs_writer_close(w);
		_exit(3);
	}
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	pid_t b = spawn();
	if (b == 0)
		_exit(child_ingest(buf, "handover", d, BIG / 2));
	assert_int_equal(reap(a), 3);
	assert_int_equal(reap(b), 2);
	close(p[0]);
	close(p[1]);
	check_one_blob(buf, d);
	free(buf);
}

static void test_busy(void **state)
{
	(void)state;
	struct ctr_cs_writer *w, *w2;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "busy", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, "abc", 3, NULL), 0);
	/* Another writer in this process is refused too. */
	ctr_error *err = NULL;
	assert_int_equal(ctr_cs_writer_open(&w2, cs, "busy", 0, NULL, 0, &err), CTR_EBUSY);
	assert_non_null(strstr(ctr_error_message(err), "another writer"));
	ctr_error_free(err);
	pid_t pid = spawn();
	if (pid == 0) {
		struct ctr_cs_writer *cw;
		if (ctr_cs_writer_open(&cw, cs, "busy", 0, NULL, 0, NULL) != CTR_EBUSY)
			_exit(1);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (ctr_cs_writer_open(&cw, cs, "busy", 0, NULL, 200, NULL) != CTR_EBUSY)
			_exit(2);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms < 190 || ms > 5000)
			_exit(3);
		if (ctr_cs_abort(cs, "busy", NULL) != CTR_EBUSY)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(reap(pid), 0);
	/* Nothing the refused ones did touched the ingest. */
	assert_int_equal(ctr_cs_writer_offset(w), 3);
	struct ctr_cs_status st;
	assert_int_equal(ctr_cs_status(cs, "busy", &st, NULL), 0);
	assert_int_equal(st.offset, 3);
	ctr_cs_status_clear(&st);
	ctr_cs_writer_close(w);
	assert_int_equal(ctr_cs_writer_open(&w, cs, "busy", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 3);
	ctr_cs_writer_close(w);
}

static void test_sigkill_resume(void **state)
{
	(void)state;
	unsigned char *buf = malloc(BIG);
	fill(buf, BIG, 6);
	char d[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX];
	digest_of(buf, BIG, d);
	size_t half = BIG / 2 + 17;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = spawn();
	if (pid == 0) {
		struct ctr_cs_writer *w;
		if (ctr_cs_writer_open(&w, cs, "killed", BIG, d, 0, NULL) < 0)
			_exit(1);
		if (write_chunks(w, buf, 0, half, 10000, 0) < 0)
			_exit(2);
		if (write(p[1], "h", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	/* Still held while the child lives. */
	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "killed", BIG, d, 0, NULL), CTR_EBUSY);
	struct ctr_cs_status st;
	assert_int_equal(ctr_cs_status(cs, "killed", &st, NULL), 0);
	assert_int_equal(st.offset, half);
	assert_int_equal(st.total, BIG);
	assert_string_equal(st.expected, d);
	ctr_cs_status_clear(&st);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(reap(pid), -1000 - SIGKILL);

	assert_int_equal(ctr_cs_writer_open(&w, cs, "killed", BIG, d, 2000, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), half);
	/* The hash state is that of the bytes already there. */
	char dhalf[CTR_DIGEST_MAX];
	digest_of(buf, half, dhalf);
	ctr_cs_writer_digest(w, got);
	assert_string_equal(got, dhalf);
	assert_int_equal(write_chunks(w, buf, half, BIG, 50000, 0), 0);
	assert_int_equal(ctr_cs_writer_commit(w, BIG, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_string_equal(got, d);
	check_one_blob(buf, d);
	free(buf);
}

static void test_resume_rules(void **state)
{
	(void)state;
	unsigned char buf[1000];
	fill(buf, sizeof(buf), 7);
	char da[CTR_DIGEST_MAX], db[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX], d10[CTR_DIGEST_MAX];
	digest_of(buf, sizeof(buf), da);
	digest_of(buf, 999, db);
	digest_of(buf, 10, d10);
	struct ctr_cs_writer *w;

	/* Same expected: resumes, with the hash of what is there. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", sizeof(buf), da, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, 10, NULL), 0);
	ctr_cs_writer_close(w);
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", sizeof(buf), da, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 10);
	ctr_cs_writer_digest(w, got);
	assert_string_equal(got, d10);
	ctr_cs_writer_close(w);

	/* Another expected digest (total not given): starts again at 0. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", 0, db, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 0);
	assert_int_equal(ctr_cs_writer_total(w), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, 5, NULL), 0);
	ctr_cs_writer_close(w);
	struct ctr_cs_status st;
	assert_int_equal(ctr_cs_status(cs, "r", &st, NULL), 0);
	assert_int_equal(st.offset, 5);
	assert_int_equal(st.total, 0);
	assert_string_equal(st.expected, db);
	ctr_cs_status_clear(&st);

	/* A total where none was recorded: resumes and records it. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", 999, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 5);
	ctr_cs_writer_close(w);

	/* Nothing known: keeps what was recorded. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 5);
	assert_int_equal(ctr_cs_writer_total(w), 999);
	assert_string_equal(ctr_cs_writer_expected(w), db);
	ctr_cs_writer_close(w);

	/* Another total: starts again. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "r", 998, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 0);
	assert_int_equal(ctr_cs_writer_total(w), 998);
	assert_null(ctr_cs_writer_expected(w));
	/* Reset drops what was written and the hash with it. */
	assert_int_equal(ctr_cs_writer_write(w, buf, 300, NULL), 0);
	assert_int_equal(ctr_cs_writer_reset(w, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 0);
	char empty[CTR_DIGEST_MAX];
	digest_of("", 0, empty);
	ctr_cs_writer_digest(w, got);
	assert_string_equal(got, empty);
	assert_int_equal(ctr_cs_status(cs, "r", &st, NULL), 0);
	assert_int_equal(st.offset, 0);
	ctr_cs_status_clear(&st);
	assert_int_equal(ctr_cs_writer_write(w, buf, 998, NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_blob(got, buf, 998);

	/* More data than the total now given: nothing to save. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "over", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, 100, NULL), 0);
	ctr_cs_writer_close(w);
	assert_int_equal(ctr_cs_writer_open(&w, cs, "over", 50, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 0);
	ctr_cs_writer_close(w);
	assert_int_equal(ctr_cs_abort(cs, "over", NULL), 0);
}

static void test_status_and_abort(void **state)
{
	(void)state;
	unsigned char buf[1000];
	fill(buf, sizeof(buf), 8);
	char d[CTR_DIGEST_MAX];
	digest_of(buf, sizeof(buf), d);
	struct ctr_cs_status *v;
	size_t nv;
	assert_int_equal(ctr_cs_status_list(cs, &v, &nv, NULL), 0);
	assert_int_equal(nv, 0);
	ctr_cs_status_list_free(v, nv);

	int64_t t0 = (int64_t)time(NULL) * 1000000000;
	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "inflight", sizeof(buf), d, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, 300, NULL), 0);
	struct ctr_cs_writer *w2;
	assert_int_equal(ctr_cs_writer_open(&w2, cs, "other", 0, NULL, 0, NULL), 0);
	ctr_cs_writer_close(w2);

	assert_int_equal(ctr_cs_status_list(cs, &v, &nv, NULL), 0);
	assert_int_equal(nv, 2);
	struct ctr_cs_status *s = !strcmp(v[0].ref, "inflight") ? &v[0] : &v[1];
	struct ctr_cs_status *o = s == &v[0] ? &v[1] : &v[0];
	assert_string_equal(s->ref, "inflight");
	assert_int_equal(s->offset, 300);
	assert_int_equal(s->total, sizeof(buf));
	assert_string_equal(s->expected, d);
	assert_true(s->started_at >= t0 - 1000000000);
	assert_true(s->updated_at >= s->started_at);
	assert_string_equal(o->ref, "other");
	assert_int_equal(o->offset, 0);
	assert_int_equal(o->total, 0);
	assert_null(o->expected);
	ctr_cs_status_list_free(v, nv);

	/* Held: abort refuses, from this process and from another. */
	ctr_error *err = NULL;
	assert_int_equal(ctr_cs_abort(cs, "inflight", &err), CTR_EBUSY);
	assert_non_null(strstr(ctr_error_message(err), "inflight"));
	ctr_error_free(err);
	pid_t pid = spawn();
	if (pid == 0)
		_exit(ctr_cs_abort(cs, "inflight", NULL) == CTR_EBUSY ? 0 : 1);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 300);
	ctr_cs_writer_close(w);

	/* Released, it stays for a resume until aborted. */
	struct ctr_cs_status st;
	assert_int_equal(ctr_cs_status(cs, "inflight", &st, NULL), 0);
	assert_int_equal(st.offset, 300);
	ctr_cs_status_clear(&st);
	assert_int_equal(ctr_cs_abort(cs, "inflight", NULL), 0);
	assert_int_equal(ctr_cs_status(cs, "inflight", &st, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_cs_abort(cs, "inflight", NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_cs_abort(cs, "other", NULL), 0);
	assert_int_equal(ctr_cs_status_list(cs, &v, &nv, NULL), 0);
	assert_int_equal(nv, 0);
	ctr_cs_status_list_free(v, nv);
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_false(blob_file_exists(d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_processes_same_ref, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_abort, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
