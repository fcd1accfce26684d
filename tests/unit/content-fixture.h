/* Shared fixture of the content store tests: a temp root with a store
 * opened in it, forked children that teardown always reaps, and helpers
 * that look at the disk directly. */
#ifndef CTR_TEST_CONTENT_FIXTURE_H
#define CTR_TEST_CONTENT_FIXTURE_H
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
#include "store.h"
#include "error.h"
#include "digest.h"
#include "fs.h"
#include "macro.h"

static char tmpdir[256];
static int root_fd = -1;
static struct ctr_cs *cs;
static pid_t children[8];
static size_t n_children;

static inline int setup(void **state)
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
static inline int teardown(void **state)
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

static inline pid_t spawn(void)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		children[n_children++] = pid;
	return pid;
}

/* The exit code of a child, which is then forgotten by teardown. */
static inline int reap(pid_t pid)
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

static inline void fill(unsigned char *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

static inline void digest_of(const void *buf, size_t n, char *out)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, buf, n, out, NULL), 0);
}

static inline int path_exists(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

static inline int blob_file_exists(const char *digest)
{
	char rel[256];
	const char *colon = strchr(digest, ':');
	snprintf(rel, sizeof(rel), "content/blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
	return path_exists(rel);
}

/* Entries in tmpdir/rel, "." and ".." left out. */
static inline int count_entries(const char *rel)
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
static inline void list_tree(const char *base, const char *rel, char ***lines, size_t *n)
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

static inline int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline char *tree(void)
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
static inline void assert_blob(const char *digest, const void *want, size_t n)
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

static inline int write_chunks(struct ctr_cs_writer *w, const unsigned char *buf, size_t from, size_t to,
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

#endif
