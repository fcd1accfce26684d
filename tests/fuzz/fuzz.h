/* Shared by the fuzz targets: libFuzzer's entry points, and a copy of the
 * input as a NUL-terminated string for the parsers that take one. */
#ifndef CTR_FUZZ_H
#define CTR_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input up to its first NUL, as a malloc'ed string (NULL on OOM). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits the input at the first occurrence of sep: *a gets what is before
 * (NUL-terminated copy), *b what is after (or "" when sep is absent). */
static inline int fuzz_split(const uint8_t *data, size_t size, char sep, char **a, char **b)
{
	const uint8_t *p = memchr(data, sep, size);
	size_t la = p ? (size_t)(p - data) : size;
	*a = fuzz_str(data, la);
	*b = p ? fuzz_str(p + 1, size - la - 1) : fuzz_str(data, 0);
	if (!*a || !*b) {
		free(*a);
		free(*b);
		return -1;
	}
	return 0;
}

static char fuzz_dir[64];

static inline void fuzz_rm_dir(void)
{
	if (fuzz_dir[0])
		(void)ctr_rm_rf_at(AT_FDCWD, fuzz_dir, NULL);
}

/* A fresh scratch directory for the target, removed at exit: on /dev/shm
 * when there is one (a tmpfs; a disk makes the file-creating targets ten
 * times slower), else /tmp. Aborts when it cannot be made. */
static inline const char *fuzz_tmpdir(const char *name)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/ctr-fuzz-%s.XXXXXX", base, name);
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_rm_dir);
	return fuzz_dir;
}

#endif
