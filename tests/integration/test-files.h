/* Test helpers for the container tests (test-container.c,
 * test-defaults.c): small files, and a busybox tree to run in. Include
 * after cmocka.h. */
#ifndef CTR_TEST_FILES_H
#define CTR_TEST_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static __attribute__((unused)) void write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* The first 64 KiB of path, NUL-terminated; NULL when it cannot be read. */
static __attribute__((unused)) char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *b = calloc(1, 65536);
	size_t n = b ? fread(b, 1, 65535, f) : 0;
	(void)n;
	fclose(f);
	return b;
}

/* A busybox tree: bin/busybox and its applets, the usual mount points. */
static __attribute__((unused)) void make_busybox(const char *dir)
{
	char p[1024];
	snprintf(p, sizeof(p), "mkdir -p %s/bin %s/proc %s/dev %s/sys %s/tmp %s/etc && cp /bin/busybox %s/bin/ && "
		 "for a in sh ls id pwd cat echo true; do ln -sf busybox %s/bin/$a; done",
		 dir, dir, dir, dir, dir, dir, dir, dir);
	assert_int_equal(system(p), 0);
}

#endif
