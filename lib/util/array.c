#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"

int ctr_array_grow(void **v, size_t *cap, size_t n, size_t size, ctr_error **err)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc <= n) {
		if (nc > SIZE_MAX / 2)
			return ctr_err_nomem(err);
		nc *= 2;
	}
	if (size && nc > SIZE_MAX / size)
		return ctr_err_nomem(err);
	void *p = realloc(*v, nc * size);
	if (!p)
		return ctr_err_nomem(err);
	*v = p;
	*cap = nc;
	return 0;
}
