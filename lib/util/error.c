#include "error.h"

#include <ctr/sys/alloc.h>
#include <ctr/sys/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int ctr_err(ctr_error **err, int code, int sys_errno, const char *fmt, ...)
{
	if (!err || *err)
		return code;
	ctr_error *e = calloc(1, sizeof(*e));
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	e->message = vformat(fmt, ap);
	va_end(ap);
	if (e->message && sys_errno && code != CTR_ENOMEM) {
		char *m = NULL;
		if (asprintf(&m, "%s: %s", e->message, strerror(sys_errno)) >= 0) {
			free(e->message);
			e->message = m;
		}
	}
	e->code = code;
	e->sys_errno = sys_errno;
	*err = e;
	return code;
}

int ctr_err_prefix(ctr_error **err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *prefix = vformat(fmt, ap);
	va_end(ap);
	if (!*err)
		return ctr_err(err, code, 0, "%s: %s", prefix ? prefix : "", ctr_strerror(code));
	char *m = NULL;
	if (prefix && asprintf(&m, "%s: %s", prefix, (*err)->message ? (*err)->message : "") >= 0) {
		free((*err)->message);
		(*err)->message = m;
	}
	return code;
}

int ctr_errno_code(int e)
{
	switch (e) {
	case ENOENT: return CTR_ENOTFOUND;
	case EEXIST: case ENOTEMPTY: return CTR_EEXISTS;
	case EINVAL: case ENAMETOOLONG: case ELOOP: case EXDEV: case ENOTDIR: return CTR_EINVAL;
	case EPERM: case EACCES: case EROFS: return CTR_EPERM;
	case EBUSY: case EWOULDBLOCK: return CTR_EBUSY;
	case ENOMEM: return CTR_ENOMEM;
	case ETIMEDOUT: return CTR_ETIMEOUT;
	case ECANCELED: case EINTR: return CTR_ECANCELED;
	case ENOTSUP: case ENOSYS: return CTR_ENOTSUP;
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: return CTR_EUNAVAILABLE;
	default: return CTR_EIO;
	}
}

CTR_EXPORT int ctr_error_code_of(const ctr_error *e) { return e ? e->code : CTR_OK; }
CTR_EXPORT const char *ctr_error_message(const ctr_error *e)
{
	if (!e)
		return "";
	return e->message ? e->message : ctr_strerror(e->code);
}
CTR_EXPORT int ctr_error_errno(const ctr_error *e) { return e ? e->sys_errno : 0; }
CTR_EXPORT void ctr_error_free(ctr_error *e)
{
	if (!e)
		return;
	free(e->message);
	free(e);
}

CTR_EXPORT const char *ctr_strerror(int code)
{
	switch (code) {
	case CTR_OK: return "success";
	case CTR_ENOTFOUND: return "not found";
	case CTR_EEXISTS: return "already exists";
	case CTR_EINVAL: return "invalid argument";
	case CTR_EPRECONDITION: return "failed precondition";
	case CTR_EUNAVAILABLE: return "unavailable";
	case CTR_ENOTSUP: return "not supported";
	case CTR_EPERM: return "permission denied";
	case CTR_EBUSY: return "busy";
	case CTR_ECANCELED: return "canceled";
	case CTR_ETIMEOUT: return "timeout";
	case CTR_EDIGEST: return "digest mismatch";
	case CTR_EIO: return "i/o error";
	case CTR_ENOMEM: return "out of memory";
	default: return "unknown error";
	}
}

CTR_EXPORT void ctr_free(void *p) { free(p); }
/* ctr_free is free(): what these allocate, the library frees. */
CTR_EXPORT void *ctr_malloc(size_t size) { return malloc(size ? size : 1); }
CTR_EXPORT char *ctr_strdup(const char *s) { return s ? strdup(s) : NULL; }

CTR_EXPORT int ctr_error_set(ctr_error **err, int code, int errnum, const char *message)
{
	if (code >= 0 || code < CTR_ENOMEM)
		code = CTR_EINVAL;
	return ctr_err(err, code, errnum, "%s", message ? message : ctr_strerror(code));
}

CTR_EXPORT void ctr_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **s = strv; *s; s++)
		free(*s);
	free(strv);
}

void ctr_strv_freep(char ***p) { ctr_strv_free(*p); }

void ctr_err_drop(ctr_error **err)
{
	if (err && *err) {
		ctr_error_free(*err);
		*err = NULL;
	}
}
