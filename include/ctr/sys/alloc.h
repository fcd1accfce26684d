/* libctr implementer's API: memory that the library frees.
 *
 * A callback or vtable that hands the library an allocated result (a
 * snapshotter's apply_dir path, for example) allocates it here; the library
 * releases it with ctr_free. Not included by <ctr/ctr.h>. */
#ifndef CTR_SYS_ALLOC_H
#define CTR_SYS_ALLOC_H

#include <ctr/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NULL when out of memory. Free with ctr_free. */
CTR_EXPORT void *ctr_malloc(size_t size);
/* A copy of s (NULL for NULL or out of memory). Free with ctr_free. */
CTR_EXPORT char *ctr_strdup(const char *s);

#ifdef __cplusplus
}
#endif
#endif
