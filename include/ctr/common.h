/* libctr: error codes, the error object, memory and version.
 *
 * Every call returns 0 on success or a negative CTR_E* code. The optional
 * `ctr_error **err` out-parameter receives a detailed error object that the
 * caller frees with ctr_error_free(). Output parameters are written only on
 * success. */
#ifndef CTR_COMMON_H
#define CTR_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define CTR_EXPORT __attribute__((visibility("default")))
#else
#define CTR_EXPORT
#endif

/* The stable error codes. Values never change once released. */
typedef enum ctr_error_code {
	CTR_OK = 0,
	CTR_ENOTFOUND = -1,
	CTR_EEXISTS = -2,
	CTR_EINVAL = -3,
	CTR_EPRECONDITION = -4,
	CTR_EUNAVAILABLE = -5,
	CTR_ENOTSUP = -6,
	CTR_EPERM = -7,
	CTR_EBUSY = -8,
	CTR_ECANCELED = -9,
	CTR_ETIMEOUT = -10,
	CTR_EDIGEST = -11,
	CTR_EIO = -12,
	CTR_ENOMEM = -13
} ctr_error_code;

/* Detail of a failure: the code, a message with context and the errno that
 * caused it (0 when none). Opaque; read it with the getters below. */
typedef struct ctr_error ctr_error;

CTR_EXPORT int ctr_error_code_of(const ctr_error *e);
/* Borrowed from e. Never NULL. */
CTR_EXPORT const char *ctr_error_message(const ctr_error *e);
CTR_EXPORT int ctr_error_errno(const ctr_error *e);
CTR_EXPORT void ctr_error_free(ctr_error *e);

/* Static name of a code, e.g. "not found" for CTR_ENOTFOUND. */
CTR_EXPORT const char *ctr_strerror(int code);

/* Frees memory that the library allocated and handed to the caller. */
CTR_EXPORT void ctr_free(void *p);
/* Frees a NULL-terminated array of strings and the strings in it. */
CTR_EXPORT void ctr_strv_free(char **strv);

/* containerd's ParseSignal: a signal number ("9", 1-64), a name with or
 * without "SIG" in any case ("SIGTERM", "term"), or "RTMIN", "RTMIN+N",
 * "RTMAX", "RTMAX-N" within the real-time range. *sig is written only on
 * success. CTR_EINVAL names the string when it is none of these. */
CTR_EXPORT int ctr_parse_signal(int *sig, const char *name, ctr_error **err);

/* The library version as "MAJOR.MINOR.PATCH". Static storage. */
CTR_EXPORT const char *ctr_version(void);

#ifdef __cplusplus
}
#endif
#endif
