#include "strv.h"

#include <ctr/common.h>
#include <stdlib.h>
#include <string.h>

size_t ctr_strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **ctr_strv_dup(const char *const *v)
{
	size_t n = ctr_strv_len(v);
	char **c = calloc(n + 1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			ctr_strv_free(c);
			return NULL;
		}
	return c;
}

int ctr_strv_append_borrowed(const char ***v, size_t *n, const char *const *add)
{
	size_t k = ctr_strv_len(add);
	const char **g = realloc(*v, (*n + k + 1) * sizeof(*g));
	if (!g)
		return CTR_ENOMEM;
	for (size_t i = 0; i < k; i++)
		g[(*n)++] = add[i];
	g[*n] = NULL;
	*v = g;
	return 0;
}
