/* libctr implementer's API: making errors.
 *
 * For code that implements a callback, an option-callback or a vtable
 * (ctr/sys/snapshotter.h) and receives a `ctr_error **err`: the library
 * passes the error it makes on to its caller. Not included by <ctr/ctr.h>. */
#ifndef CTR_SYS_ERROR_H
#define CTR_SYS_ERROR_H

#include <ctr/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills *err with a new error of code (a negative CTR_E* code), errnum (an
 * errno value, or 0) and a copy of message, unless err is NULL or *err is
 * already set (the first error is kept). Returns code, so a callback can
 * write `return ctr_error_set(err, CTR_ENOTFOUND, 0, "no such key");`. A
 * code that is not a CTR_E* error becomes CTR_EINVAL. */
CTR_EXPORT int ctr_error_set(ctr_error **err, int code, int errnum, const char *message);

#ifdef __cplusplus
}
#endif
#endif
