/* lib/content: blobs, commit checks, hostile refs and digests, GC lock. */
#include "content-fixture.h"

static int count_blob(const char *digest, uint64_t size, void *ud)
{
	(void)digest;
	(void)size;
	(*(int *)ud)++;
	return 0;
}

static int stop_walk(const char *digest, uint64_t size, void *ud)
{
	(void)digest;
	(void)size;
	(void)ud;
	return 42;
}

static void test_write_commit_read(void **state)
{
	(void)state;
	size_t n = 300000;
	unsigned char *buf = malloc(n);
	fill(buf, n, 1);
	char want[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX], cur[CTR_DIGEST_MAX];
	digest_of(buf, n, want);

	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "layer-1", n, want, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_offset(w), 0);
	assert_string_equal(ctr_cs_writer_ref(w), "layer-1");
	assert_int_equal(write_chunks(w, buf, 0, n, 65536, 0), 0);
	assert_int_equal(ctr_cs_writer_offset(w), n);
	ctr_cs_writer_digest(w, cur);
	assert_string_equal(cur, want);
	assert_int_equal(count_entries("content/ingest"), 1);
	assert_int_equal(ctr_cs_writer_commit(w, n, NULL, got, NULL), 0);
	assert_string_equal(got, want);
	/* Committed: the writer takes nothing more. */
	assert_int_equal(ctr_cs_writer_write(w, "x", 1, NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, NULL, NULL), CTR_EINVAL);
	ctr_cs_writer_close(w);
	assert_blob(want, buf, n);
	assert_int_equal(count_entries("content/ingest"), 0);

	/* The same bytes again under another ref, digest unknown: EEXISTS at
	 * commit, with the digest, and the ingest is gone. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "layer-1-again", 0, NULL, 0, NULL), 0);
	assert_int_equal(write_chunks(w, buf, 0, n, 100000, 0), 0);
	memset(got, 0, sizeof(got));
	ctr_error *err = NULL;
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, got, &err), CTR_EEXISTS);
	assert_int_equal(ctr_error_code_of(err), CTR_EEXISTS);
	ctr_error_free(err);
	assert_string_equal(got, want);
	ctr_cs_writer_close(w);
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_blob(want, buf, n);

	/* Knowing the digest, open already says EEXISTS and creates nothing. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "layer-1-third", n, want, 0, NULL), CTR_EEXISTS);
	assert_int_equal(count_entries("content/ingest"), 0);

	/* The empty blob. */
	char empty[CTR_DIGEST_MAX];
	digest_of("", 0, empty);
	assert_int_equal(ctr_cs_writer_open(&w, cs, "empty", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 0, empty, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_string_equal(got, empty);
	assert_blob(empty, "", 0);

	int count = 0;
	assert_int_equal(ctr_cs_blob_walk(cs, count_blob, &count, NULL), 0);
	assert_int_equal(count, 2);
	assert_int_equal(ctr_cs_blob_walk(cs, stop_walk, NULL, NULL), 42);

	assert_int_equal(ctr_cs_blob_delete(cs, want, NULL), 0);
	assert_false(blob_file_exists(want));
	uint64_t size;
	assert_int_equal(ctr_cs_blob_stat(cs, want, &size, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_cs_blob_open(cs, want, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_cs_blob_delete(cs, want, NULL), CTR_ENOTFOUND);
	count = 0;
	assert_int_equal(ctr_cs_blob_walk(cs, count_blob, &count, NULL), 0);
	assert_int_equal(count, 1);
	free(buf);
}

static void test_sha512(void **state)
{
	(void)state;
	unsigned char buf[5000];
	fill(buf, sizeof(buf), 2);
	char d512[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA512, buf, sizeof(buf), d512, NULL), 0);

	/* Expected known at open: hashed with sha512 on the fly. */
	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "s512", sizeof(buf), d512, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	ctr_cs_writer_digest(w, got);
	assert_string_equal(got, d512);
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_string_equal(got, d512);
	assert_true(blob_file_exists(d512));
	assert_blob(d512, buf, sizeof(buf));
	assert_int_equal(ctr_cs_blob_delete(cs, d512, NULL), 0);

	/* Expected given only at commit, of another algorithm: still right. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "s512b", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, sizeof(buf), d512, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_string_equal(got, d512);
	assert_blob(d512, buf, sizeof(buf));
	char d256[CTR_DIGEST_MAX];
	digest_of(buf, sizeof(buf), d256);
	assert_false(blob_file_exists(d256));
}

static void test_size_and_digest_mismatch(void **state)
{
	(void)state;
	unsigned char buf[4096], other[4096];
	fill(buf, sizeof(buf), 3);
	fill(other, sizeof(other), 4);
	char d[CTR_DIGEST_MAX], dother[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX] = "untouched";
	digest_of(buf, sizeof(buf), d);
	digest_of(other, sizeof(other), dother);
	struct ctr_cs_writer *w;
	ctr_error *err = NULL;

	/* Size given at commit differs. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "size", 0, d, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, sizeof(buf) + 1, NULL, got, &err), CTR_EPRECONDITION);
	assert_non_null(strstr(ctr_error_message(err), "size"));
	ctr_error_free(err);
	err = NULL;
	assert_string_equal(got, "untouched");
	assert_int_equal(ctr_cs_writer_write(w, buf, 1, NULL), CTR_EINVAL);
	ctr_cs_writer_close(w);
	assert_false(blob_file_exists(d));
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_int_equal(ctr_cs_status(cs, "size", &(struct ctr_cs_status){0}, NULL), CTR_ENOTFOUND);

	/* Total given at open, fewer bytes written. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "short", sizeof(buf) + 10, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, NULL, NULL), CTR_EPRECONDITION);
	ctr_cs_writer_close(w);
	assert_false(blob_file_exists(d));
	assert_int_equal(count_entries("content/ingest"), 0);

	/* A write past total is refused whole and changes nothing. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "long", 100, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, 60, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf + 60, 41, NULL), CTR_EPRECONDITION);
	assert_int_equal(ctr_cs_writer_offset(w), 60);
	assert_int_equal(ctr_cs_writer_write(w, buf + 60, 40, NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 100, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	char d100[CTR_DIGEST_MAX];
	digest_of(buf, 100, d100);
	assert_string_equal(got, d100);
	assert_blob(d100, buf, 100);
	assert_int_equal(ctr_cs_blob_delete(cs, d100, NULL), 0);

	/* Expected at open is the digest of other bytes. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "digest", sizeof(buf), dother, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, sizeof(buf), NULL, got, &err), CTR_EDIGEST);
	assert_non_null(strstr(ctr_error_message(err), d));
	ctr_error_free(err);
	err = NULL;
	ctr_cs_writer_close(w);
	assert_false(blob_file_exists(d));
	assert_false(blob_file_exists(dother));
	assert_int_equal(count_entries("content/ingest"), 0);

	/* Expected given at commit only. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "digest2", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, buf, sizeof(buf), NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 0, dother, NULL, NULL), CTR_EDIGEST);
	ctr_cs_writer_close(w);
	assert_false(blob_file_exists(d));
	assert_false(blob_file_exists(dother));
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_int_equal(count_entries("content/blobs/sha256"), 0);
	assert_int_equal(count_entries("content/blobs/sha512"), 0);
}

static void test_hostile_refs(void **state)
{
	(void)state;
	char *long_ref = malloc(5001);
	memset(long_ref, 'a', 5000);
	memcpy(long_ref, "../", 3);
	long_ref[5000] = 0;
	const char *refs[] = {"../../etc/passwd", "a/b", "/abs/path", "..", ".", "line1\nline2\n",
			      "sp ace\ttab", "lock", long_ref, "-rf"};
	size_t n = CTR_ARRAY_SIZE(refs);
	for (size_t i = 0; i < n; i++) {
		struct ctr_cs_writer *w;
		assert_int_equal(ctr_cs_writer_open(&w, cs, refs[i], 0, NULL, 0, NULL), 0);
		char b[16];
		int k = snprintf(b, sizeof(b), "content %zu", i);
		assert_int_equal(ctr_cs_writer_write(w, b, (size_t)k, NULL), 0);
		ctr_cs_writer_close(w);
	}
	/* Everything stayed under content/ingest, one dir per ref named by
	 * a hash. */
	assert_int_equal(count_entries(""), 1);
	assert_int_equal(count_entries("content"), 2);
	assert_true(path_exists("content/blobs") && path_exists("content/ingest"));
	assert_int_equal(count_entries("content/blobs"), 2);
	assert_int_equal(count_entries("content/blobs/sha256"), 0);
	assert_int_equal(count_entries("content/ingest"), (int)n);
	char p[512];
	snprintf(p, sizeof(p), "%s/content/ingest", tmpdir);
	DIR *d = opendir(p);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_int_equal(strlen(de->d_name), 64);
		assert_int_equal(strspn(de->d_name, "0123456789abcdef"), 64);
	}
	closedir(d);

	/* Status gives every ref back exactly. */
	struct ctr_cs_status *v;
	size_t nv;
	assert_int_equal(ctr_cs_status_list(cs, &v, &nv, NULL), 0);
	assert_int_equal(nv, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < nv; j++)
			if (!strcmp(v[j].ref, refs[i])) {
				found = true;
				assert_int_equal(v[j].offset, strlen("content 0"));
			}
		assert_true(found);
	}
	ctr_cs_status_list_free(v, nv);

	/* Refs that cannot be: empty, too long. Nothing changes. */
	char *before = tree();
	char *huge = malloc(CTR_CS_REF_MAX + 2);
	memset(huge, 'x', CTR_CS_REF_MAX + 1);
	huge[CTR_CS_REF_MAX + 1] = 0;
	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "", 0, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_writer_open(&w, cs, NULL, 0, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_writer_open(&w, cs, huge, 0, NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_abort(cs, "", NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_abort(cs, "never-seen", NULL), CTR_ENOTFOUND);
	struct ctr_cs_status st;
	assert_int_equal(ctr_cs_status(cs, huge, &st, NULL), CTR_EINVAL);
	assert_int_equal(ctr_cs_status(cs, "../../etc/passwd/x", &st, NULL), CTR_ENOTFOUND);
	char *after = tree();
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(huge);

	/* Commit and abort work on them too. */
	char got[CTR_DIGEST_MAX];
	assert_int_equal(ctr_cs_writer_open(&w, cs, refs[0], 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 0, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	assert_blob(got, "content 0", 9);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(ctr_cs_abort(cs, refs[i], NULL), 0);
	assert_int_equal(count_entries("content/ingest"), 0);
	assert_int_equal(count_entries(""), 1);
	free(long_ref);
}

static void test_bad_digests(void **state)
{
	(void)state;
	char good[CTR_DIGEST_MAX], got[CTR_DIGEST_MAX];
	digest_of("hello", 5, good);
	struct ctr_cs_writer *w;
	assert_int_equal(ctr_cs_writer_open(&w, cs, "hello", 5, good, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, "hello", 5, NULL), 0);
	assert_int_equal(ctr_cs_writer_commit(w, 5, NULL, got, NULL), 0);
	ctr_cs_writer_close(w);
	/* An in-flight ingest too, so a bad commit can be seen to leave it. */
	assert_int_equal(ctr_cs_writer_open(&w, cs, "inflight", 0, NULL, 0, NULL), 0);
	assert_int_equal(ctr_cs_writer_write(w, "hello", 5, NULL), 0);

	char upper[CTR_DIGEST_MAX];
	strcpy(upper, good);
	for (char *s = upper + 7; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
	char shortd[CTR_DIGEST_MAX];
	snprintf(shortd, sizeof(shortd), "%.70s", good);
	char longd[CTR_DIGEST_MAX + 8];
	snprintf(longd, sizeof(longd), "%s0", good);
	char dotdot[CTR_DIGEST_MAX];
	snprintf(dotdot, sizeof(dotdot), "sha256:../../../../../../../../../../../../../../../../etc/passwd");
	char as512[CTR_DIGEST_MAX];
	snprintf(as512, sizeof(as512), "sha512:%s", good + 7);
	struct {
		const char *d;
		int code;
	} bad[] = {
		{"sha256:../x", CTR_EINVAL},
		{dotdot, CTR_EINVAL},
		{upper, CTR_EINVAL},
		{shortd, CTR_EINVAL},
		{longd, CTR_EINVAL},
		{as512, CTR_EINVAL},
		{good + 7, CTR_EINVAL},
		{"", CTR_EINVAL},
		{"sha256:", CTR_EINVAL},
		{"SHA256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", CTR_EINVAL},
		{"../sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", CTR_EINVAL},
		{"md5:5d41402abc4b2a76b9719d911017c592", CTR_ENOTSUP},
		{"sha384:abc", CTR_ENOTSUP},
	};
	char *before = tree();
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		uint64_t size = 77;
		ctr_error *err = NULL;
		assert_int_equal(ctr_cs_blob_stat(cs, bad[i].d, &size, &err), bad[i].code);
		assert_int_equal(ctr_error_code_of(err), bad[i].code);
		ctr_error_free(err);
		assert_int_equal(size, 77);
		assert_int_equal(ctr_cs_blob_open(cs, bad[i].d, NULL), bad[i].code);
		assert_int_equal(ctr_cs_blob_delete(cs, bad[i].d, NULL), bad[i].code);
		struct ctr_cs_writer *w2;
		assert_int_equal(ctr_cs_writer_open(&w2, cs, "bad-expected", 0, bad[i].d, 0, NULL), bad[i].code);
		memcpy(got, "untouched", 10);
		assert_int_equal(ctr_cs_writer_commit(w, 0, bad[i].d, got, NULL), bad[i].code);
		assert_string_equal(got, "untouched");
		assert_int_equal(ctr_cs_writer_offset(w), 5);
	}
	/* NULL is as bad as it gets. */
	assert_int_equal(ctr_cs_blob_stat(cs, NULL, NULL, NULL), CTR_EINVAL);
	char *after = tree();
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* The in-flight ingest is still good. */
	assert_int_equal(ctr_cs_writer_commit(w, 5, NULL, got, NULL), CTR_EEXISTS);
	ctr_cs_writer_close(w);
	assert_blob(good, "hello", 5);
}

static void test_gc_lock(void **state)
{
	(void)state;
	int sh = ctr_cs_gc_lock(cs, false, NULL);
	assert_true(sh >= 0);
	pid_t pid = spawn();
	if (pid == 0) {
		int fd = ctr_cs_gc_lock(cs, false, NULL); /* shared with the parent */
		if (fd < 0)
			_exit(1);
		close(fd);
		char p[512];
		snprintf(p, sizeof(p), "%s/content/gc.lock", tmpdir);
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
			_exit(2); /* exclusive must not be had */
		_exit(0);
	}
	assert_int_equal(reap(pid), 0);
	close(sh);
	int ex = ctr_cs_gc_lock(cs, true, NULL);
	assert_true(ex >= 0);
	close(ex);
}

/* Leftovers of a removal cut short are swept by the next open. */
static void test_sweep_and_client(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof(p), "%s/content/ingest/.trash-0123-1-2-3", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/content/ingest/.trash-0123-1-2-3/data", tmpdir);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct ctr_cs *cs2;
	assert_int_equal(ctr_cs_open(&cs2, root_fd, NULL), 0);
	ctr_cs_close(cs2);
	assert_int_equal(count_entries("content/ingest"), 0);

	/* The client opens the store in its root. */
	char root[512], st[512];
	snprintf(root, sizeof(root), "%s/croot", tmpdir);
	snprintf(st, sizeof(st), "%s/cstate", tmpdir);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(st);
	ctr_client *c = NULL;
	int r = ctr_client_new(&c, CTR_OPTS(o1, o2), NULL);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	assert_int_equal(r, 0);
	assert_non_null(c->cs);
	assert_true(path_exists("croot/content/blobs/sha256"));
	assert_true(path_exists("croot/content/ingest"));
	ctr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_commit_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha512, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_and_digest_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_client, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
