/* Filter parsing: each input line is one filter; the matcher then runs on
 * a fixed object whose fields are looked up by path. */
#include <stdio.h>

#include "filters.h"
#include "fuzz.h"

static const char *field(void *obj, const char *const *path, size_t n)
{
	(void)obj;
	if (n == 1 && strcmp(path[0], "name") == 0)
		return "docker.io/library/busybox:latest";
	if (n == 1 && strcmp(path[0], "topic") == 0)
		return "/tasks/exit";
	if (n == 2 && strcmp(path[0], "labels") == 0 && strcmp(path[1], "a.b") == 0)
		return "c";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	const char *v[16];
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line && n < 16; line = strtok_r(NULL, "\n", &save))
		v[n++] = line;
	ctr_filter *f = NULL;
	ctr_error *err = NULL;
	if (ctr_filter_parse(&f, v, n, &err) == 0) {
		(void)ctr_filter_match(f, field, NULL);
		ctr_filter_free(f);
	}
	ctr_error_free(err);
	free(s);
	return 0;
}
