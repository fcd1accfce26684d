/* NULL-terminated string vectors (freed with ctr_strv_free). */
#ifndef CTR_UTIL_STRV_H
#define CTR_UTIL_STRV_H

#include <stddef.h>

/* A deep copy of v (NULL: an empty vector). NULL only when out of memory. */
char **ctr_strv_dup(const char *const *v);
/* The number of strings before the NULL (0 for NULL). */
size_t ctr_strv_len(const char *const *v);
/* Appends the strings of add (borrowed, not copied) to the NULL-terminated
 * *v of *n entries, growing it. CTR_ENOMEM (and *v unchanged) or 0. */
int ctr_strv_append_borrowed(const char ***v, size_t *n, const char *const *add);

#endif
