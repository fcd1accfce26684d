/* A growable array: a pointer, a count and a capacity kept by the caller. */
#ifndef CTR_UTIL_ARRAY_H
#define CTR_UTIL_ARRAY_H

#include <ctr/common.h>
#include <stddef.h>

/* Makes room for element n of *v (elements of `size` bytes, *cap of them
 * allocated), doubling the capacity from 16. *v and *cap change only on
 * success. CTR_ENOMEM (also when the size would overflow). */
int ctr_array_grow(void **v, size_t *cap, size_t n, size_t size, ctr_error **err);

#endif
