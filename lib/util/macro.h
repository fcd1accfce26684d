/* Small helpers used everywhere inside libctr: cleanup attributes. */
#ifndef CTR_UTIL_MACRO_H
#define CTR_UTIL_MACRO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CTR_INTERNAL __attribute__((visibility("hidden")))
#define CTR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void ctr_freep(void *p) { free(*(void **)p); }
static inline void ctr_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void ctr_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
void ctr_strv_freep(char ***p);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(ctr_freep)
#define _cleanup_close_ _cleanup_(ctr_closep)
#define _cleanup_fclose_ _cleanup_(ctr_fclosep)
#define _cleanup_strv_ _cleanup_(ctr_strv_freep)

/* Takes ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                         \
	({                                                                  \
		__typeof__(p) _p = (p);                                     \
		(p) = NULL;                                                 \
		_p;                                                         \
	})
#define TAKE_FD(fd)                                                         \
	({                                                                  \
		int _fd = (fd);                                             \
		(fd) = -1;                                                  \
		_fd;                                                        \
	})

/* The value of a hex digit, or -1. */
static inline int ctr_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
