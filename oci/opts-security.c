/* Spec options on the container's confinement: masked and read-only
 * paths, writable sysfs and cgroupfs, the SELinux label, the capability
 * sets as a whole, and privileged mode, which composes them (containerd's
 * WithMaskedPaths, WithReadonlyPaths, WithWriteableSysfs,
 * WithWriteableCgroupfs, WithSelinuxLabel, WithAllKnownCapabilities,
 * WithAllCurrentCapabilities, WithAmbientCapabilities, WithPrivileged). */
#include "spec-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

/* ---- paths ---- */

static int set_paths(struct ctr_spec *s, const char *key, char **v, ctr_error **err)
{
	json_t *l = ctr_oci_linux_of(s);
	if (!l)
		return ctr_err_nomem(err);
	for (size_t i = 0; v[i]; i++)
		if (v[i][0] != '/')
			return ctr_err(err, CTR_EINVAL, 0, "%s: \"%.200s\" is not an absolute path", key, v[i]);
	if (!v[0]) { /* Go's omitempty */
		json_object_del(l, key);
		return 0;
	}
	json_t *a = NULL;
	int r = ctr_oci_strv_json((const char *const *)v, key, &a, err);
	if (r < 0)
		return r;
	return json_object_set_new(l, key, a) < 0 ? ctr_err_nomem(err) : 0;
}

static int apply_masked(void *target, void *ud, ctr_error **err)
{
	return set_paths(target, "maskedPaths", ((struct ctr_oci_arg *)ud)->v[0], err);
}

static int apply_readonly_paths(void *target, void *ud, ctr_error **err)
{
	return set_paths(target, "readonlyPaths", ((struct ctr_oci_arg *)ud)->v[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_masked_paths(const char *const *paths)
{
	static const char *const none[] = {NULL};
	return ctr_oci_opt_strv("ctr_with_masked_paths", apply_masked, paths ? paths : none);
}

CTR_EXPORT ctr_opt *ctr_with_readonly_paths(const char *const *paths)
{
	static const char *const none[] = {NULL};
	return ctr_oci_opt_strv("ctr_with_readonly_paths", apply_readonly_paths, paths ? paths : none);
}

/* ---- writable sysfs and cgroupfs ---- */

static void writable(json_t *mounts, const char *type)
{
	for (size_t i = 0; i < json_array_size(mounts); i++) {
		json_t *m = json_array_get(mounts, i);
		if (strcmp(ctr_json_str(m, "type") ?: "", type))
			continue;
		json_t *o = json_object_get(m, "options");
		for (size_t k = 0; k < json_array_size(o); k++)
			if (!strcmp(json_string_value(json_array_get(o, k)) ?: "", "ro"))
				json_array_set_new(o, k, json_string("rw"));
	}
}

static int apply_writeable_sysfs(void *target, void *ud, ctr_error **err)
{
	writable(json_object_get(((struct ctr_spec *)target)->root, "mounts"), "sysfs");
	return 0;
}

static int apply_writeable_cgroupfs(void *target, void *ud, ctr_error **err)
{
	writable(json_object_get(((struct ctr_spec *)target)->root, "mounts"), "cgroup");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_writeable_sysfs(void)
{
	return ctr_oci_opt("ctr_with_writeable_sysfs", apply_writeable_sysfs, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_writeable_cgroupfs(void)
{
	return ctr_oci_opt("ctr_with_writeable_cgroupfs", apply_writeable_cgroupfs, NULL);
}

/* ---- SELinux ---- */

static int apply_selinux(void *target, void *ud, ctr_error **err)
{
	return ctr_oci_set_process_str(target, "selinuxLabel", ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_selinux_label(const char *label)
{
	return ctr_oci_opt_str("ctr_with_selinux_label", apply_selinux, label);
}

/* ---- capability sets ---- */

static int set_caps_bitmap(struct ctr_spec *s, uint64_t bits, ctr_error **err)
{
	_cleanup_(ctr_oci_json_decrefp) json_t *caps = ctr_oci_caps_from_bitmap(bits);
	if (!caps)
		return ctr_err_nomem(err);
	return ctr_oci_set_capabilities(s->root, caps, err);
}

static int apply_all_caps(void *target, void *ud, ctr_error **err)
{
	return set_caps_bitmap(target, UINT64_MAX, err);
}

CTR_EXPORT ctr_opt *ctr_with_all_capabilities(void)
{
	return ctr_oci_opt("ctr_with_all_capabilities", apply_all_caps, NULL);
}

static int apply_current_caps(void *target, void *ud, ctr_error **err)
{
	_cleanup_free_ char *status = NULL;
	size_t len;
	int r = ctr_read_file(AT_FDCWD, "/proc/self/status", 1 << 20, &status, &len, err);
	if (r < 0)
		return r;
	uint64_t eff;
	if ((r = ctr_oci_parse_cap_eff(status, &eff, err)) < 0)
		return r;
	return set_caps_bitmap(target, eff, err);
}

CTR_EXPORT ctr_opt *ctr_with_all_current_capabilities(void)
{
	return ctr_oci_opt("ctr_with_all_current_capabilities", apply_current_caps, NULL);
}

static int apply_ambient(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	char **v = ((struct ctr_oci_arg *)ud)->v[0];
	int r = ctr_oci_check_caps(v, err);
	if (r < 0)
		return r;
	json_t *proc = ctr_oci_obj(s->root, "process");
	json_t *caps = proc ? ctr_oci_obj(proc, "capabilities") : NULL;
	if (!caps)
		return ctr_err_nomem(err);
	static const char *const sets[] = {"inheritable", "ambient"};
	for (size_t k = 0; k < CTR_ARRAY_SIZE(sets); k++) {
		if (!v[0]) {
			json_object_del(caps, sets[k]);
			continue;
		}
		json_t *a = NULL;
		if ((r = ctr_oci_strv_json((const char *const *)v, sets[k], &a, err)) < 0)
			return r;
		if (json_object_set_new(caps, sets[k], a) < 0)
			return ctr_err_nomem(err);
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_ambient_capabilities(const char *const *caps)
{
	static const char *const none[] = {NULL};
	return ctr_oci_opt_strv("ctr_with_ambient_capabilities", apply_ambient, caps ? caps : none);
}

/* ---- privileged ---- */

static int apply_privileged(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	/* containerd 1.4's WithAllCapabilities: every known one. 1.6 takes
	 * the caller's effective set instead, which depends on who calls;
	 * ctr_with_all_current_capabilities is that. */
	int r = set_caps_bitmap(s, UINT64_MAX, err);
	if (r < 0)
		return r;
	json_t *l = ctr_oci_linux_of(s);
	json_t *proc = ctr_oci_obj(s->root, "process");
	if (!l || !proc)
		return ctr_err_nomem(err);
	json_object_del(l, "maskedPaths");
	json_object_del(l, "readonlyPaths");
	writable(json_object_get(s->root, "mounts"), "sysfs");
	writable(json_object_get(s->root, "mounts"), "cgroup");
	json_object_del(proc, "selinuxLabel");
	json_object_del(proc, "apparmorProfile");
	json_object_del(l, "seccomp");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_privileged(void)
{
	return ctr_oci_opt("ctr_with_privileged", apply_privileged, NULL);
}
