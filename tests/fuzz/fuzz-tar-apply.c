/* Tar apply into a scratch root, with an oracle. The scratch root and a
 * victim directory sit side by side in one temporary directory (also the
 * process's cwd); after each input the root is removed and the oracle
 * aborts unless the victim tree is exactly as it was (names, types, modes,
 * owners, sizes, contents, link targets and ctimes, so any write, chmod,
 * chown or xattr through an escape shows) and the temporary directory holds
 * nothing but the victim. The first input byte picks the whiteout mode and
 * the worker count; the rest is the tar stream. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "fuzz.h"
#include "layer-archive.h"

static int tmpfd = -1;
static char *before;

struct src {
	const uint8_t *p;
	size_t n, off;
};

static ssize_t src_read(void *ud, void *buf, size_t len, ctr_error **err)
{
	(void)err;
	struct src *s = ud;
	size_t k = s->n - s->off < len ? s->n - s->off : len;
	memcpy(buf, s->p + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

struct fp {
	char *s;
	size_t len, cap;
};

static void fp_add(struct fp *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fp_add(struct fp *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	size_t k = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (f->len + k + 1 > f->cap) {
		f->cap = (f->len + k + 1) * 2;
		f->s = realloc(f->s, f->cap);
		if (!f->s)
			abort();
	}
	memcpy(f->s + f->len, line, k + 1);
	f->len += k;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends one line per entry under at/name (name itself included),
 * recursively, never following a symlink, in name order. */
static void walk(struct fp *f, int at, const char *name, const char *path)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fp_add(f, "%s: gone (%d)\n", path, errno);
		return;
	}
	fp_add(f, "%s mode=%o uid=%u gid=%u size=%lld ctime=%lld.%09ld", path, (unsigned)st.st_mode,
	       (unsigned)st.st_uid, (unsigned)st.st_gid, (long long)st.st_size, (long long)st.st_ctim.tv_sec,
	       st.st_ctim.tv_nsec);
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t k = readlinkat(at, name, t, sizeof(t) - 1);
		t[k > 0 ? k : 0] = '\0';
		fp_add(f, " -> %s\n", t);
	} else if (S_ISREG(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		uint64_t h = 1469598103934665603ull;
		unsigned char b[4096];
		ssize_t k;
		while (fd >= 0 && (k = read(fd, b, sizeof(b))) > 0)
			for (ssize_t i = 0; i < k; i++)
				h = (h ^ b[i]) * 1099511628211ull;
		if (fd >= 0)
			close(fd);
		fp_add(f, " fnv=%016llx\n", (unsigned long long)h);
	} else if (S_ISDIR(st.st_mode)) {
		fp_add(f, "\n");
		int dfd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (!d) {
			fp_add(f, "%s: cannot open\n", path);
			if (dfd >= 0)
				close(dfd);
			return;
		}
		char **names = NULL;
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			names = realloc(names, (n + 1) * sizeof(*names));
			if (!names || !(names[n++] = strdup(de->d_name)))
				abort();
		}
		qsort(names, n, sizeof(*names), cmp);
		for (size_t i = 0; i < n; i++) {
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, names[i]);
			walk(f, dirfd(d), names[i], sub);
			free(names[i]);
		}
		free(names);
		closedir(d);
	} else {
		fp_add(f, " rdev=%llx\n", (unsigned long long)st.st_rdev);
	}
}

/* The names in the temporary directory (its own times change with every
 * scratch root), then the whole victim tree. */
static char *fingerprint(void)
{
	struct fp f = {0};
	int dfd = openat(tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d)
		abort();
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fp_add(&f, "top: %s\n", de->d_name);
	closedir(d);
	walk(&f, tmpfd, "victim", "victim");
	return f.s;
}

static void put(const char *path, const char *text)
{
	int fd = openat(tmpfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ctr_write_all(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = fuzz_tmpdir("apply");
	if ((tmpfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(dir) < 0)
		abort();
	if (mkdirat(tmpfd, "victim", 0755) < 0 || mkdirat(tmpfd, "victim/sub", 0700) < 0 ||
	    symlinkat("../victim", tmpfd, "victim/up") < 0 || symlinkat("/etc", tmpfd, "victim/etc") < 0)
		abort();
	put("victim/secret", "do not touch\n");
	put("victim/sub/file", "nor this\n");
	before = fingerprint();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (mkdirat(tmpfd, "root", 0755) < 0)
		abort();
	int rootfd = openat(tmpfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
	struct ctr_apply_opts o = {
		.whiteouts = (data[0] & 1) ? CTR_WHITEOUT_DELETE : CTR_WHITEOUT_OVERLAY,
		.workers = (data[0] & 2) ? 2 : 1,
		.max_buffered_file = 4096,
		.max_in_flight = 16384,
	};
	struct src s = {data + 1, size - 1, 0};
	struct ctr_apply_stats st;
	ctr_error *err = NULL;
	(void)ctr_archive_apply(rootfd, src_read, &s, &o, &st, &err);
	ctr_error_free(err);
	close(rootfd);
	err = NULL;
	if (ctr_rm_rf_at(tmpfd, "root", &err) < 0) {
		fprintf(stderr, "cannot remove the scratch root: %s\n", ctr_error_message(err));
		abort();
	}
	char *after = fingerprint();
	if (strcmp(before, after) != 0) {
		fprintf(stderr, "outside the root changed.\nbefore:\n%s\nafter:\n%s\n", before, after);
		abort();
	}
	free(after);
	return 0;
}
