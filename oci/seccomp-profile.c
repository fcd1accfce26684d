/* A seccomp profile read from a file, in the format of Docker and
 * containerd's LoadProfile (defaultAction, architectures or archMap,
 * syscalls with name or names), checked against libseccomp and turned into
 * the OCI linux.seccomp object that runc loads. */
#include "spec-internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "fs.h"
#include "macro.h"

#if HAVE_SECCOMP
#include <seccomp.h>

/* Largest profile file read; Docker's default profile is about 20 KiB. */
#define MAX_PROFILE (4u << 20)

static const char *const actions[] = {
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
	"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};
static const char *const ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const filter_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* libseccomp's token for an OCI architecture name ("SCMP_ARCH_X86_64" ->
 * "x86_64"); 0 when libseccomp does not know it. */
static uint32_t arch_token(const char *oci)
{
	const char *pre = "SCMP_ARCH_";
	char low[32];
	if (!oci || strncmp(oci, pre, strlen(pre)) || strlen(oci + strlen(pre)) >= sizeof(low))
		return 0;
	size_t i = 0;
	for (const char *c = oci + strlen(pre); *c; c++)
		low[i++] = (char)tolower((unsigned char)*c);
	low[i] = '\0';
	return seccomp_arch_resolve_name(low);
}

static int check_arch(const char *path, const json_t *a, ctr_error **err)
{
	const char *s = json_string_value(a);
	if (!arch_token(s))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: unknown architecture %s", path,
			       s ? s : "(not a string)");
	return 0;
}

/* architectures, or the archMap entry of the native architecture with its
 * sub-architectures, as Docker picks it. Sets *out (may stay NULL). */
static int load_arches(const char *path, const json_t *in, json_t **out, ctr_error **err)
{
	const json_t *arches = json_object_get(in, "architectures");
	const json_t *map = json_object_get(in, "archMap");
	*out = NULL;
	if (arches && map && json_array_size(arches) && json_array_size(map))
		return ctr_err(err, CTR_EINVAL, 0,
			       "seccomp profile %s: both architectures and archMap are given", path);
	if (arches && !json_is_array(arches))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: architectures is not an array", path);
	if (map && !json_is_array(map))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: archMap is not an array", path);
	int r = 0;
	json_t *res = json_array();
	if (!res)
		return ctr_err_nomem(err);
	size_t i;
	const json_t *v;
	json_array_foreach(arches, i, v) {
		if ((r = check_arch(path, v, err)) < 0)
			goto fail;
		if (json_array_append(res, (json_t *)v) < 0)
			goto nomem;
	}
	json_array_foreach(map, i, v) {
		const json_t *main = json_object_get(v, "architecture");
		const json_t *subs = json_object_get(v, "subArchitectures");
		if ((r = check_arch(path, main, err)) < 0)
			goto fail;
		if (subs && !json_is_array(subs)) {
			r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: subArchitectures is not an array", path);
			goto fail;
		}
		size_t k;
		const json_t *sub;
		json_array_foreach(subs, k, sub)
			if ((r = check_arch(path, sub, err)) < 0)
				goto fail;
		if (arch_token(json_string_value(main)) != seccomp_arch_native())
			continue;
		if (json_array_append(res, (json_t *)main) < 0)
			goto nomem;
		json_array_foreach(subs, k, sub)
			if (json_array_append(res, (json_t *)sub) < 0)
				goto nomem;
	}
	if (json_array_size(res))
		*out = res;
	else
		json_decref(res);
	return 0;
nomem:
	r = ctr_err_nomem(err);
fail:
	json_decref(res);
	return r;
}

static int check_action(const char *path, const char *what, const json_t *a, ctr_error **err)
{
	if (!a)
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s has no action", path, what);
	if (!in_list(json_string_value(a), actions, CTR_ARRAY_SIZE(actions)))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s has unknown action %s", path,
			       what, json_is_string(a) ? json_string_value(a) : "(not a string)");
	return 0;
}

static int check_errno(const char *path, const char *what, const json_t *v, ctr_error **err)
{
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
		  json_integer_value(v) > 4095))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s is not an errno", path, what);
	return 0;
}

/* One syscalls[] entry -> {names, action, errnoRet?, args?}. */
static int load_rule(const char *path, size_t idx, const json_t *in, json_t *calls, ctr_error **err)
{
	char what[48];
	int r = 0;
	snprintf(what, sizeof(what), "syscalls[%zu]", idx);
	if (!json_is_object(in))
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s is not an object", path, what);
	json_t *names = json_array();
	json_t *rule = json_object();
	if (!names || !rule) {
		json_decref(names);
		json_decref(rule);
		return ctr_err_nomem(err);
	}
	if (json_object_set_new(rule, "names", names) < 0)
		goto nomem;
	const json_t *one = json_object_get(in, "name");
	const json_t *many = json_object_get(in, "names");
	if ((one && !json_is_string(one)) || (many && !json_is_array(many))) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s: names is not a list of strings", path, what);
		goto fail;
	}
	if (one && json_array_append(names, (json_t *)one) < 0)
		goto nomem;
	size_t i;
	const json_t *v;
	json_array_foreach(many, i, v)
		if (json_array_append(names, (json_t *)v) < 0)
			goto nomem;
	if (!json_array_size(names)) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s names no syscall", path, what);
		goto fail;
	}
	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);
		if (!n || seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR) {
			r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: unknown syscall %s", path,
				n ? n : "(not a string)");
			goto fail;
		}
	}
	/* Docker's conditions (by capability, architecture, kernel) have no
	 * OCI form: refused rather than dropped, which would widen the rule. */
	if (json_object_get(in, "includes") || json_object_get(in, "excludes")) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s: includes/excludes are not supported",
			    path, what);
		goto fail;
	}
	const json_t *action = json_object_get(in, "action");
	const json_t *eno = json_object_get(in, "errnoRet");
	if ((r = check_action(path, what, action, err)) < 0 ||
	    (r = check_errno(path, what, eno, err)) < 0)
		goto fail;
	if (json_object_set(rule, "action", (json_t *)action) < 0 ||
	    (eno && json_object_set(rule, "errnoRet", (json_t *)eno) < 0))
		goto nomem;
	const json_t *args = json_object_get(in, "args");
	if (args && !json_is_array(args)) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s: args is not an array", path, what);
		goto fail;
	}
	json_t *out_args = json_array();
	if (!out_args || json_object_set_new(rule, "args", out_args) < 0)
		goto nomem;
	json_array_foreach(args, i, v) {
		const json_t *index = json_object_get(v, "index");
		const json_t *value = json_object_get(v, "value");
		const json_t *two = json_object_get(v, "valueTwo");
		const json_t *op = json_object_get(v, "op");
		if (!json_is_integer(index) || json_integer_value(index) < 0 ||
		    json_integer_value(index) > 5 || !json_is_integer(value) ||
		    (two && !json_is_integer(two))) {
			r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s: args[%zu] needs an index 0-5 and an integer value",
				path, what, i);
			goto fail;
		}
		if (!in_list(json_string_value(op), ops, CTR_ARRAY_SIZE(ops))) {
			r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: %s: args[%zu] has unknown op %s", path,
				what, i, json_is_string(op) ? json_string_value(op) : "(not a string)");
			goto fail;
		}
		/* valueTwo 0 is left out, as the runtime spec's omitempty does */
		json_t *a = json_pack("{s:O, s:O, s:O}", "index", (json_t *)index, "value", (json_t *)value,
				      "op", (json_t *)op);
		if (!a || (two && json_integer_value(two) && json_object_set(a, "valueTwo", (json_t *)two) < 0) ||
		    json_array_append_new(out_args, a) < 0)
			goto nomem;
	}
	if (!json_array_size(out_args))
		json_object_del(rule, "args");
	if (json_array_append_new(calls, rule) < 0)
		return ctr_err_nomem(err);
	return 0;
nomem:
	r = ctr_err_nomem(err);
fail:
	json_decref(rule);
	return r;
}

int ctr_oci_seccomp_load(const char *path, json_t **out, ctr_error **err)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int r = ctr_read_file(AT_FDCWD, path, MAX_PROFILE, &text, &len, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "seccomp profile %s", path);
	json_error_t je;
	json_t *in = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!in)
		return ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: bad JSON at line %d: %s", path,
			       je.line, je.text);
	json_t *prof = NULL, *arches = NULL;
	r = -1;
	if (!json_is_object(in)) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: not a JSON object", path);
		goto done;
	}
	const json_t *def = json_object_get(in, "defaultAction");
	const json_t *def_eno = json_object_get(in, "defaultErrnoRet");
	if ((r = check_action(path, "defaultAction", def, err)) < 0 ||
	    (r = check_errno(path, "defaultErrnoRet", def_eno, err)) < 0 ||
	    (r = load_arches(path, in, &arches, err)) < 0)
		goto done;
	prof = json_pack("{s:O}", "defaultAction", (json_t *)def);
	if (!prof || (def_eno && json_object_set(prof, "defaultErrnoRet", (json_t *)def_eno) < 0) ||
	    (arches && json_object_set_new(prof, "architectures", arches) < 0)) {
		arches = NULL;
		r = ctr_err_nomem(err);
		goto done;
	}
	arches = NULL;
	const json_t *flags = json_object_get(in, "flags");
	if (flags) {
		size_t k;
		const json_t *f;
		bool ok = json_is_array(flags);
		json_array_foreach(flags, k, f)
			ok = ok && in_list(json_string_value(f), filter_flags, CTR_ARRAY_SIZE(filter_flags));
		if (!ok) {
			r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: unknown flags", path);
			goto done;
		}
		if (json_array_size(flags) && json_object_set(prof, "flags", (json_t *)flags) < 0) {
			r = ctr_err_nomem(err);
			goto done;
		}
	}
	const json_t *calls_in = json_object_get(in, "syscalls");
	if (calls_in && !json_is_array(calls_in)) {
		r = ctr_err(err, CTR_EINVAL, 0, "seccomp profile %s: syscalls is not an array", path);
		goto done;
	}
	json_t *calls = json_array();
	if (!calls || json_object_set_new(prof, "syscalls", calls) < 0) {
		r = ctr_err_nomem(err);
		goto done;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(calls_in, i, v)
		if ((r = load_rule(path, i, v, calls, err)) < 0)
			goto done;
	*out = prof;
	prof = NULL;
	r = 0;
done:
	json_decref(arches);
	json_decref(prof);
	json_decref(in);
	return r;
}

#else

int ctr_oci_seccomp_load(const char *path, json_t **out, ctr_error **err)
{
	*out = NULL;
	return ctr_err(err, CTR_ENOTSUP, 0,
		       "seccomp profile %s: libctr was built without libseccomp (meson -Dseccomp)", path);
}

#endif
