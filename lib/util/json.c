#include "json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"

int ctr_json_parse(const char *buf, size_t len, size_t max_size, int max_depth,
		   const char *what, json_t **out, ctr_error **err)
{
	if (len > max_size)
		return ctr_err(err, CTR_EINVAL, 0, "%s: %zu bytes is over the limit of %zu", what, len, max_size);
	int depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return ctr_err(err, CTR_EINVAL, 0, "%s: JSON nests deeper than %d", what, max_depth);
		} else if (c == ']' || c == '}')
			depth--;
	}
	json_error_t je;
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		return ctr_err(err, CTR_EINVAL, 0, "%s: invalid JSON at line %d column %d: %s", what,
			       je.line, je.column, je.text);
	*out = v;
	return 0;
}

const char *ctr_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t ctr_json_int(const json_t *obj, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

char *ctr_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

json_t *ctr_json_from_labels(const char *const *labels, ctr_error **err)
{
	json_t *o = json_object();
	if (!o) {
		ctr_err_nomem(err);
		return NULL;
	}
	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		if (!eq || eq == labels[i]) {
			json_decref(o);
			ctr_err(err, CTR_EINVAL, 0, "label \"%.100s\" is not key=value", labels[i]);
			return NULL;
		}
		_cleanup_free_ char *k = strndup(labels[i], (size_t)(eq - labels[i]));
		if (!k || json_object_set_new(o, k, json_string(eq + 1)) < 0) {
			json_decref(o);
			ctr_err(err, CTR_EINVAL, 0, "label \"%.100s\" is not valid UTF-8", labels[i]);
			return NULL;
		}
	}
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ctr_json_to_labels(const json_t *obj)
{
	size_t n = json_is_object(obj) ? json_object_size(obj) : 0, i = 0;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	const char *k;
	json_t *val;
	json_object_foreach((json_t *)obj, k, val) {
		if (!json_is_string(val))
			continue;
		if (asprintf(&v[i], "%s=%s", k, json_string_value(val)) < 0) {
			v[i] = NULL;
			ctr_strv_free(v);
			return NULL;
		}
		i++;
	}
	qsort(v, i, sizeof(char *), cmp_str);
	return v;
}
