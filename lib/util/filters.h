/* containerd's filter syntax (containerd/filters), used for every list call
 * and for event subscriptions:
 *
 *   name==foo            equality        name!=foo   inequality
 *   name~=^fo+$          POSIX extended regex match (the value may be quoted)
 *   labels."a.b"==v      quoted field path component
 *   labels.a             presence of a field
 *   a==1,b==2            ',' is AND inside one filter
 *   "a==1", "b==2"       several filter strings are ORed (as are '|' parts:
 *                        a==1|b==2)
 * Values may be bare words or quoted ("..." or /.../ for regex). */
#ifndef CTR_UTIL_FILTERS_H
#define CTR_UTIL_FILTERS_H

#include <ctr/common.h>
#include <stdbool.h>

typedef struct ctr_filter ctr_filter;

/* Parses n filter strings into one matcher (n == 0 matches everything).
 * CTR_EINVAL naming the position on a syntax error or a bad regex. */
int ctr_filter_parse(ctr_filter **out, const char *const *filters, size_t n, ctr_error **err);

/* Looks up a field path such as {"labels", "a.b"} on an object. Returns the
 * value, or NULL when the field is absent. */
typedef const char *(*ctr_filter_field_fn)(void *obj, const char *const *path, size_t n_path);

bool ctr_filter_match(const ctr_filter *f, ctr_filter_field_fn field, void *obj);
void ctr_filter_free(ctr_filter *f);

#endif
