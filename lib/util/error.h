/* Internal error helpers. They return the code so a failure is one line:
 *   return ctr_err(err, CTR_EIO, errno, "mount %s", target); */
#ifndef CTR_LIB_ERROR_H
#define CTR_LIB_ERROR_H

#include <ctr/common.h>
#include <stdarg.h>

struct ctr_error {
	int code;
	int sys_errno;
	char *message;
};

/* Fills *err (when err is non-NULL and *err is NULL) and returns code. */
int ctr_err(ctr_error **err, int code, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefixes context ("what: ") to an existing error; returns code. */
int ctr_err_prefix(ctr_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drops the error a caller has handled: frees *err and sets it to NULL
 * (err or *err may be NULL). */
void ctr_err_drop(ctr_error **err);
/* Maps an errno to the closest CTR_E* code. */
int ctr_errno_code(int e);
/* ctr_err with the code derived from errno. */
#define ctr_err_errno(err, e, ...) ctr_err((err), ctr_errno_code(e), (e), __VA_ARGS__)
#define ctr_err_nomem(err) ctr_err((err), CTR_ENOMEM, ENOMEM, "out of memory")

#endif
