#ifndef CTR_UTIL_IDENT_H
#define CTR_UTIL_IDENT_H

#include <ctr/common.h>
#include <stdbool.h>

#define CTR_IDENT_MAX 76

/* True when s matches ^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$ and is 1..76 chars:
 * safe to use as one path component. */
bool ctr_ident_ok(const char *s);
/* CTR_EINVAL naming `what` and the reason when not ctr_ident_ok. */
int ctr_ident_validate(const char *s, const char *what, ctr_error **err);

#endif
