/* Layer diff writer: compare mode, overlay-upper mode, compression, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diff.h"
#include "error.h"
#include "fs.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-diff-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

struct membuf {
	char *p;
	size_t n;
};

static int mem_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	(void)err;
	struct membuf *m = ud;
	m->p = realloc(m->p, m->n + len);
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	return 0;
}

static void put(const char *rel, const char *content, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	fchmod(fd, mode);
	close(fd);
	struct timespec ts[2] = {{1000, 5}, {1000, 5}};
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void fix_dir_times(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	struct timespec ts[2] = {{1000, 5}, {1000, 5}};
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static int dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Lists "type name[->target]" lines of a (possibly compressed) tar. */
static char *list_tar(const struct membuf *m)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, m->p, m->n), ARCHIVE_OK);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char t = archive_entry_hardlink(e) ? 'h' :
			 archive_entry_filetype(e) == AE_IFDIR ? 'd' :
			 archive_entry_filetype(e) == AE_IFLNK ? 'l' : 'f';
		fprintf(f, "%c %s", t, archive_entry_pathname(e));
		if (archive_entry_symlink(e))
			fprintf(f, "->%s", archive_entry_symlink(e));
		if (archive_entry_hardlink(e))
			fprintf(f, "=>%s", archive_entry_hardlink(e));
		fprintf(f, "\n");
	}
	archive_read_free(a);
	fclose(f);
	return out;
}

static void test_compare(void **state)
{
	(void)state;
	mk("lower");
	mk("lower/etc");
	put("lower/etc/keep", "same", 0644);
	put("lower/etc/change", "old", 0644);
	put("lower/gone", "x", 0644);
	mk("lower/olddir");
	put("lower/olddir/f", "x", 0644);
	fix_dir_times("lower/etc");
	fix_dir_times("lower/olddir");
	mk("upper");
	mk("upper/etc");
	put("upper/etc/keep", "same", 0644);
	put("upper/etc/change", "newer", 0644);
	/* Same size and a whole-second mtime: only the bytes tell. */
	put("lower/etc/trunc", "aaa", 0644);
	put("upper/etc/trunc", "bbb", 0644);
	put("lower/etc/trunc2", "ccc", 0644);
	put("upper/etc/trunc2", "ccc", 0644);
	const char *tr[] = {"lower/etc/trunc", "upper/etc/trunc", "lower/etc/trunc2", "upper/etc/trunc2"};
	for (int i = 0; i < 4; i++) {
		char tp[512];
		snprintf(tp, sizeof(tp), "%s/%s", tmp, tr[i]);
		struct timespec ts0[2] = {{1000, 0}, {1000, 0}};
		utimensat(AT_FDCWD, tp, ts0, AT_SYMLINK_NOFOLLOW);
	}
	fix_dir_times("lower/etc");
	put("upper/etc/added", "a", 0600);
	fix_dir_times("upper/etc");
	char p[512];
	snprintf(p, sizeof(p), "%s/upper/link", tmp);
	assert_int_equal(symlink("etc/added", p), 0);
	char p2[512];
	snprintf(p, sizeof(p), "%s/upper/etc/added", tmp);
	snprintf(p2, sizeof(p2), "%s/upper/hard", tmp);
	assert_int_equal(link(p, p2), 0);
	fix_dir_times("upper/etc");

	int l = dir("lower"), u = dir("upper");
	struct ctr_diff_opts o = {.source = CTR_DIFF_COMPARE, .compression = CTR_DIFF_GZIP};
	struct membuf m = {0};
	struct ctr_diff_result res;
	assert_int_equal(ctr_diff_write(l, u, &o, mem_write, &m, &res, NULL), 0);
	char *list = list_tar(&m);
	assert_string_equal(list,
			    "f etc/added\n"
			    "f etc/change\n"
			    "f etc/trunc\n"
			    "f .wh.gone\n"
			    "h hard=>etc/added\n"
			    "l link->etc/added\n"
			    "f .wh.olddir\n");
	free(list);
	/* The blob digest is over the compressed bytes. */
	char d[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, m.p, m.n, d, NULL), 0);
	assert_string_equal(d, res.digest);
	assert_int_equal(res.size, m.n);
	assert_string_not_equal(res.digest, res.diff_id);

	/* Deterministic: the same trees give the same bytes; zstd decodes. */
	struct membuf m2 = {0};
	struct ctr_diff_result res2;
	assert_int_equal(ctr_diff_write(l, u, &o, mem_write, &m2, &res2, NULL), 0);
	assert_string_equal(res.digest, res2.digest);
	struct membuf m3 = {0};
	o.compression = CTR_DIFF_ZSTD;
	struct ctr_diff_result res3;
	assert_int_equal(ctr_diff_write(l, u, &o, mem_write, &m3, &res3, NULL), 0);
	assert_string_equal(res3.diff_id, res.diff_id); /* same tar inside */
	list = list_tar(&m3);
	assert_non_null(strstr(list, "f .wh.gone\n"));
	free(list);
	/* Whole tree (no lower). */
	struct membuf m4 = {0};
	o.compression = CTR_DIFF_NONE;
	assert_int_equal(ctr_diff_write(-1, u, &o, mem_write, &m4, &res3, NULL), 0);
	list = list_tar(&m4);
	assert_string_equal(list, "d etc/\nf etc/added\nf etc/change\nf etc/keep\nf etc/trunc\nf etc/trunc2\nh hard=>etc/added\nl link->etc/added\n");
	free(list);
	assert_string_equal(res3.digest, res3.diff_id);
	free(m.p);
	free(m2.p);
	free(m3.p);
	free(m4.p);
	close(l);
	close(u);
}

static void test_overlay_upper(void **state)
{
	(void)state;
	mk("up");
	mk("up/opq");
	put("up/opq/new", "n", 0644);
	char p[512];
	snprintf(p, sizeof(p), "%s/up/deleted", tmp);
	if (mknod(p, S_IFCHR | 0, makedev(0, 0)) < 0) {
		print_message("skip overlay-upper case: mknod needs root (CAP_MKNOD)\n");
		return;
	}
	snprintf(p, sizeof(p), "%s/up/opq", tmp);
	assert_int_equal(lsetxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
	int u = dir("up");
	struct ctr_diff_opts o = {.source = CTR_DIFF_OVERLAY_UPPER};
	struct membuf m = {0};
	assert_int_equal(ctr_diff_write(-1, u, &o, mem_write, &m, NULL, NULL), 0);
	char *list = list_tar(&m);
	assert_string_equal(list, "f .wh.deleted\nd opq/\nf opq/.wh..wh..opq\nf opq/new\n");
	free(list);
	free(m.p);
	close(u);
}

static int failing_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	(void)ud;
	(void)buf;
	(void)len;
	return ctr_err(err, CTR_EIO, 0, "sink full");
}

static void test_sink_error(void **state)
{
	(void)state;
	mk("s");
	put("s/f", "data", 0644);
	int u = dir("s");
	struct ctr_diff_opts o = {.source = CTR_DIFF_COMPARE};
	ctr_error *err = NULL;
	struct ctr_diff_result res = {.size = 77};
	assert_int_equal(ctr_diff_write(-1, u, &o, failing_write, NULL, &res, &err), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(err), "sink full"));
	assert_int_equal(res.size, 77); /* untouched on failure */
	ctr_error_free(err);
	close(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_upper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
