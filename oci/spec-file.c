/* A spec given whole, from bytes or a file (containerd's WithSpecFromBytes
 * and WithSpecFromFile): it replaces the spec being built, and the options
 * after it apply on top. */
#include "spec-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

#define SPEC_MAX (8u << 20)

/* The members the spec options walk into must have their spec type (a
 * later option would otherwise replace them); null is Go's nil. */
static int check_members(json_t *root, const char *what, ctr_error **err)
{
	static const struct {
		const char *key;
		json_type type;
	} members[] = {
		{"ociVersion", JSON_STRING}, {"process", JSON_OBJECT}, {"root", JSON_OBJECT},
		{"hostname", JSON_STRING},   {"mounts", JSON_ARRAY},   {"linux", JSON_OBJECT},
		{"annotations", JSON_OBJECT},
	};
	if (!json_is_object(root))
		return ctr_err(err, CTR_EINVAL, 0, "%s: not a JSON object", what);
	for (size_t i = 0; i < CTR_ARRAY_SIZE(members); i++) {
		json_t *v = json_object_get(root, members[i].key);
		if (json_is_null(v))
			json_object_del(root, members[i].key);
		else if (v && json_typeof(v) != members[i].type)
			return ctr_err(err, CTR_EINVAL, 0, "%s: \"%s\" has the wrong type", what,
				       members[i].key);
	}
	return 0;
}

static int replace_spec(struct ctr_spec *s, const char *buf, size_t len, const char *what, ctr_error **err)
{
	json_t *j = NULL;
	int r = ctr_json_parse(buf, len, SPEC_MAX, CTR_JSON_MAX_DEPTH, what, &j, err);
	if (r < 0)
		return r;
	if ((r = check_members(j, what, err)) < 0) {
		json_decref(j);
		return r;
	}
	json_decref(s->root);
	s->root = j;
	return 0;
}

static int apply_from_bytes(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	return replace_spec(target, a->s[0], (size_t)a->u[0], "spec", err);
}

CTR_EXPORT ctr_opt *ctr_with_spec_from_bytes(const char *json, size_t len)
{
	struct ctr_oci_arg *a = json ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = malloc(len + 1))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	memcpy(a->s[0], json, len);
	a->s[0][len] = 0;
	a->u[0] = len;
	return ctr_oci_opt("ctr_with_spec_from_bytes", apply_from_bytes, a);
}

static int apply_from_file(void *target, void *ud, ctr_error **err)
{
	const char *path = ((struct ctr_oci_arg *)ud)->s[0];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ctr_read_file(AT_FDCWD, path, SPEC_MAX, &buf, &len, err);
	if (r < 0)
		return r;
	return replace_spec(target, buf, len, path, err);
}

CTR_EXPORT ctr_opt *ctr_with_spec_from_file(const char *path)
{
	return ctr_oci_opt_str("ctr_with_spec_from_file", apply_from_file, path);
}
