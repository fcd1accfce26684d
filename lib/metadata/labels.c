/* Labels and filters shared by every metadata table. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metadata.h"
#include "filters.h"
#include "json.h"
#include "macro.h"

int ctr_md_labels_validate(const char *const *labels, ctr_error **err)
{
	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		if (!eq || eq == labels[i])
			return ctr_err(err, CTR_EINVAL, 0, "label \"%.100s\" is not key=value", labels[i]);
		if (strlen(labels[i]) - 1 > CTR_LABEL_MAX)
			return ctr_err(err, CTR_EINVAL, 0, "label %.*s: key and value longer than %d bytes",
				       (int)(eq - labels[i] > 100 ? 100 : eq - labels[i]), labels[i],
				       CTR_LABEL_MAX);
	}
	return 0;
}

static int dump(char **out, json_t *o, ctr_error **err)
{
	char *s = ctr_json_dump(o);
	if (!s)
		return ctr_err_nomem(err);
	*out = s;
	return 0;
}

int ctr_md_labels_to_json(char **out, const char *const *labels, ctr_error **err)
{
	int r = ctr_md_labels_validate(labels, err);
	if (r < 0)
		return r;
	json_t *o = ctr_json_from_labels(labels, err);
	if (!o)
		return err && *err ? ctr_error_code_of(*err) : CTR_EINVAL;
	r = dump(out, o, err);
	json_decref(o);
	return r;
}

json_t *ctr_md_labels_load(const char *json)
{
	json_t *o = json ? json_loads(json, 0, NULL) : NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	return o;
}

int ctr_md_labels_merge(char **out, const char *json, const char *const *updates, bool replace,
			ctr_error **err)
{
	int r = ctr_md_labels_validate(updates, err);
	if (r < 0)
		return r;
	json_t *o = replace ? json_object() : ctr_md_labels_load(json);
	if (!o)
		return ctr_err_nomem(err);
	for (size_t i = 0; updates && updates[i]; i++) {
		const char *eq = strchr(updates[i], '=');
		_cleanup_free_ char *k = strndup(updates[i], (size_t)(eq - updates[i]));
		if (!k) {
			json_decref(o);
			return ctr_err_nomem(err);
		}
		if (!eq[1]) {
			json_object_del(o, k);
			continue;
		}
		if (json_object_set_new(o, k, json_string(eq + 1)) < 0) {
			json_decref(o);
			return ctr_err(err, CTR_EINVAL, 0, "label \"%.100s\" is not valid UTF-8", updates[i]);
		}
	}
	r = dump(out, o, err);
	json_decref(o);
	return r;
}

int ctr_md_labels_from_json(char ***out, const char *json, ctr_error **err)
{
	json_t *o = ctr_md_labels_load(json);
	if (!o)
		return ctr_err_nomem(err);
	char **v = ctr_json_to_labels(o);
	json_decref(o);
	if (!v)
		return ctr_err_nomem(err);
	*out = v;
	return 0;
}

const char *ctr_md_filter_field(void *obj, const char *const *path, size_t n_path)
{
	struct ctr_md_filter_obj *o = obj;
	if (n_path == 0)
		return NULL;
	if (!strcmp(path[0], "labels")) {
		if (n_path != 2)
			return NULL;
		return ctr_json_str(o->labels, path[1]);
	}
	if (n_path != 1)
		return NULL;
	for (size_t i = 0; o->keys && o->keys[i]; i++)
		if (!strcmp(o->keys[i], path[0]))
			return o->vals[i];
	return NULL;
}

int ctr_md_filter_parse(struct ctr_filter **out, const char *const *filters, size_t n,
			ctr_error **err)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if (!filters)
		return ctr_err(err, CTR_EINVAL, 0, "filters: array is NULL with %zu filters", n);
	return ctr_filter_parse(out, filters, n, err);
}

bool ctr_md_filter_match(const struct ctr_filter *f, struct ctr_md_filter_obj *o)
{
	return !f || ctr_filter_match(f, ctr_md_filter_field, o);
}

void ctr_md_filter_free(struct ctr_filter *f) { ctr_filter_free(f); }
