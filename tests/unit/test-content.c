/* lib/content: the raw blob store and its ingest, across processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "client.h"
#include "content/store.h"
#include "error.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/macro.h"

static char tmpdir[256];
static int root_fd = -1;
static struct ctr_cs *cs;
static pid_t children[8];
static size_t n_children;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctr-content-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	root_fd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 || ctr_cs_open(&cs, root_fd, NULL) < 0)
		return -1;
	n_children = 0;
	return 0;
}

/* Runs even when an assertion failed: no child or temp dir outlives a test. */
static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_children; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	n_children = 0;
	ctr_cs_close(cs);
	cs = NULL;
	close(root_fd);
	ctr_rm_rf_at(AT_FDCWD, tmpdir, NULL);
	return 0;
}

static pid_t spawn(void)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		children[n_children++] = pid;
	return pid;
}

/* The exit code of a child, which is then forgotten by teardown. */
static int reap(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (size_t i = 0; i < n_children; i++)
		if (children[i] == pid)
			children[i] = children[--n_children];
	if (!WIFEXITED(st))
		return -1000 - (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return WEXITSTATUS(st);
}

static void fill(unsigned char *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

static void digest_of(const void *buf, size_t n, char *out)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, buf, n, out, NULL), 0);
}

static int path_exists(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

static int blob_file_exists(const char *digest)
{
	char rel[256];
	const char *colon = strchr(digest, ':');
	snprintf(rel, sizeof(rel), "content/blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
	return path_exists(rel);
}

/* Entries in tmpdir/rel, "." and ".." left out. */
static int count_entries(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A sorted listing of the whole tree (path, type, mode, size), so a test can
 * assert that nothing at all changed on disk. */
static void list_tree(const char *base, const char *rel, char ***lines, size_t *n)
{
	char p[2048];
	snprintf(p, sizeof(p), "%s%s%s", base, *rel ? "/" : "", rel);
	DIR *d = opendir(p);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char r[2048], full[4096];
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", base, r);
		struct stat st;
		assert_int_equal(lstat(full, &st), 0);
		*lines = realloc(*lines, (*n + 1) * sizeof(char *));
		assert_true(asprintf(&(*lines)[(*n)++], "%s %o %lld", r, (unsigned)st.st_mode,
				     S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size) > 0);
		if (S_ISDIR(st.st_mode))
			list_tree(base, r, lines, n);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *tree(void)
{
	char **lines = NULL;
	size_t n = 0, len = 1;
	list_tree(tmpdir, "", &lines, &n);
	qsort(lines, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(s, lines[i]);
		strcat(s, "\n");
		free(lines[i]);
	}
	free(lines);
	return s;
}

/* Reads a whole blob back through blob_open and pread. */
static void assert_blob(const char *digest, const void *want, size_t n)
{
	uint64_t size = 0;
	assert_int_equal(ctr_cs_blob_stat(cs, digest, &size, NULL), 0);
	assert_int_equal(size, n);
	int fd = ctr_cs_blob_open(cs, digest, NULL);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	unsigned char *got = malloc(n + 1);
	size_t off = 0;
	while (off < n + 1) {
		ssize_t k = pread(fd, got + off, n + 1 - off, (off_t)off);
		assert_true(k >= 0);
		if (k == 0)
			break;
		off += (size_t)k;
	}
	assert_int_equal(off, n);
	assert_memory_equal(got, want, n);
	char d[CTR_DIGEST_MAX];
	ctr_digest_alg alg;
	assert_int_equal(ctr_digest_parse(digest, &alg, NULL, NULL), 0);
	assert_int_equal(ctr_digest_fd(alg, fd, d, NULL, NULL), 0);
	assert_string_equal(d, digest);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	free(got);
	close(fd);
}

static int write_chunks(struct ctr_cs_writer *w, const unsigned char *buf, size_t from, size_t to,
			size_t chunk, int sleep_us)
{
	for (size_t off = from; off < to; off += chunk) {
		size_t k = to - off < chunk ? to - off : chunk;
		int r = ctr_cs_writer_write(w, buf + off, k, NULL);
		if (r < 0)
			return r;
		if (sleep_us)
			usleep((useconds_t)sleep_us);
	}
	return 0;
}

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
		cmocka_unit_test_setup_teardown(test_two_processes_same_ref, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_client, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
