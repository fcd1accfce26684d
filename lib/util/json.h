/* JSON helpers over jansson with size and depth limits for untrusted input. */
#ifndef CTR_UTIL_JSON_H
#define CTR_UTIL_JSON_H

#include <ctr/common.h>
#include <jansson.h>

#define CTR_JSON_MAX_DEPTH 64

/* Parses buf[0..len) after checking len <= max_size and that arrays/objects
 * nest at most max_depth deep (checked by a scan before jansson sees it).
 * `what` names the document in errors. CTR_EINVAL on any violation. */
int ctr_json_parse(const char *buf, size_t len, size_t max_size, int max_depth,
		   const char *what, json_t **out, ctr_error **err);

/* Typed getters that return NULL/0 when missing or of another type. */
const char *ctr_json_str(const json_t *obj, const char *key);
json_int_t ctr_json_int(const json_t *obj, const char *key, json_int_t dflt);

/* Serialises compactly with sorted keys; caller frees. */
char *ctr_json_dump(const json_t *v);

/* Labels: NULL-terminated "key=value" strv <-> JSON object of strings. */
json_t *ctr_json_from_labels(const char *const *labels, ctr_error **err);
char **ctr_json_to_labels(const json_t *obj);

#endif
