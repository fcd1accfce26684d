/* Spec options on the container around the process: mounts, namespaces,
 * resources, user namespaces, seccomp. Devices are in opts-devices.c,
 * privileged mode and the security fields in opts-security.c. */
#include "spec-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "error.h"
#include "opts.h"
#include "fs.h"
#include "json.h"
#include "macro.h"
#include "strv.h"

/* ---- simple fields ---- */

static int apply_hostname(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	const char *h = ((struct ctr_oci_arg *)ud)->s[0];
	if (!*h) {
		json_object_del(s->root, "hostname");
		return 0;
	}
	return ctr_oci_set_str(s->root, "hostname", h, err);
}

CTR_EXPORT ctr_opt *ctr_with_hostname(const char *hostname)
{
	return ctr_oci_opt_str("ctr_with_hostname", apply_hostname, hostname);
}

static int apply_readonly(void *target, void *ud, ctr_error **err)
{
	json_t *root = ctr_oci_obj(((struct ctr_spec *)target)->root, "root");
	if (!root || json_object_set_new(root, "readonly", json_true()) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_rootfs_readonly(void)
{
	return ctr_oci_opt("ctr_with_rootfs_readonly", apply_readonly, NULL);
}

/* containerd's WithRootFSPath. Only an absolute path takes effect for a
 * container's task (ctr_container_new_task): the host directory is the
 * rootfs as is, with nothing mounted, as `ctr run --rootfs` does. */
static int apply_rootfs_path(void *target, void *ud, ctr_error **err)
{
	const char *p = ((struct ctr_oci_arg *)ud)->s[0];
	json_t *root = ctr_oci_obj(((struct ctr_spec *)target)->root, "root");
	if (!root)
		return ctr_err_nomem(err);
	if (!*p)
		return ctr_err(err, CTR_EINVAL, 0, "rootfs path is empty");
	return ctr_oci_set_str(root, "path", p, err);
}

CTR_EXPORT ctr_opt *ctr_with_rootfs_path(const char *path)
{
	return ctr_oci_opt_str("ctr_with_rootfs_path", apply_rootfs_path, path);
}

static int apply_cgroup(void *target, void *ud, ctr_error **err)
{
	json_t *l = ctr_oci_linux_of(target);
	if (!l)
		return ctr_err_nomem(err);
	return ctr_oci_set_str(l, "cgroupsPath", ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_cgroup(const char *path)
{
	return ctr_oci_opt_str("ctr_with_cgroup", apply_cgroup, path);
}

static int apply_apparmor(void *target, void *ud, ctr_error **err)
{
	return ctr_oci_set_process_str(target, "apparmorProfile", ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_apparmor_profile(const char *profile)
{
	return ctr_oci_opt_str("ctr_with_apparmor_profile", apply_apparmor, profile);
}

static int apply_annotation(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	json_t *an = ctr_oci_obj(((struct ctr_spec *)target)->root, "annotations");
	if (!an)
		return ctr_err_nomem(err);
	if (!*a->s[0])
		return ctr_err(err, CTR_EINVAL, 0, "annotation with an empty key");
	json_t *v = json_string(a->s[1]);
	if (!v)
		return ctr_err(err, CTR_EINVAL, 0, "annotation %.100s: value is not valid UTF-8", a->s[0]);
	/* set_new refuses a key that is not UTF-8 (and releases v). */
	if (json_object_set_new(an, a->s[0], v) < 0)
		return ctr_err(err, CTR_EINVAL, 0, "annotation key is not valid UTF-8");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_annotation(const char *key, const char *value)
{
	struct ctr_oci_arg *a = key && value ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = strdup(key)) || !(a->s[1] = strdup(value))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt("ctr_with_annotation", apply_annotation, a);
}

/* ---- mounts ---- */

static int add_mount(struct ctr_spec *s, const char *type, const char *src, const char *dst,
		     char *const *options, ctr_error **err)
{
	if (!dst || dst[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "mount destination \"%.200s\" is not absolute",
			       dst ? dst : "");
	if (!type || !*type)
		return ctr_err(err, CTR_EINVAL, 0, "mount on %.200s has no type", dst);
	json_t *m = json_object();
	json_t *ms = ctr_oci_arr(s->root, "mounts");
	if (!m || !ms) {
		json_decref(m);
		return ctr_err_nomem(err);
	}
	json_t *opts = NULL;
	int r = ctr_oci_set_str(m, "destination", dst, err);
	if (r >= 0)
		r = ctr_oci_set_str(m, "type", type, err);
	if (r >= 0 && src && *src)
		r = ctr_oci_set_str(m, "source", src, err);
	if (r >= 0 && options && options[0] &&
	    (r = ctr_oci_strv_json((const char *const *)options, "mount options", &opts, err)) >= 0 &&
	    json_object_set_new(m, "options", opts) < 0)
		r = ctr_err_nomem(err);
	if (r < 0) {
		json_decref(m);
		return r;
	}
	return json_array_append_new(ms, m) < 0 ? ctr_err_nomem(err) : 0;
}

static int apply_mount(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	return add_mount(target, a->s[0], a->s[1], a->s[2], a->v[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_mount(const char *type, const char *source, const char *destination,
				       const char *const *options)
{
	if (!type || !destination)
		return NULL;
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a || !(a->s[0] = strdup(type)) || (source && !(a->s[1] = strdup(source))) ||
	    !(a->s[2] = strdup(destination)) || !(a->v[0] = ctr_strv_dup(options))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt("ctr_with_mount", apply_mount, a);
}

/* Go's path.Clean for the absolute and relative paths mounts use. */
static char *path_clean(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	bool abs = p[0] == '/';
	size_t o = 0;
	if (abs)
		out[o++] = '/';
	size_t base = o;
	for (const char *q = p; *q;) {
		while (*q == '/')
			q++;
		const char *e = q;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - q);
		if (!l)
			break;
		if (l == 1 && q[0] == '.') {
		} else if (l == 2 && q[0] == '.' && q[1] == '.') {
			if (o > base) {
				while (o > base && out[o - 1] != '/')
					o--;
				if (o > base)
					o--;
			} else if (!abs) {
				if (o)
					out[o++] = '/';
				out[o++] = '.';
				out[o++] = '.';
				base = o;
			}
		} else {
			if (o > (abs ? 1u : 0u))
				out[o++] = '/';
			memcpy(out + o, q, l);
			o += l;
		}
		q = e;
	}
	if (!o)
		out[o++] = '.';
	out[o] = 0;
	return out;
}

static int apply_without_mounts(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	json_t *ms = json_object_get(s->root, "mounts");
	for (size_t i = 0; i < json_array_size(ms);) {
		_cleanup_free_ char *d = path_clean(ctr_json_str(json_array_get(ms, i), "destination") ?: "");
		if (!d)
			return ctr_err_nomem(err);
		bool drop = false;
		for (size_t k = 0; a->v[0][k]; k++)
			drop |= !strcmp(d, a->v[0][k]);
		if (drop)
			json_array_remove(ms, i);
		else
			i++;
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_mounts_removed(const char *const *dests)
{
	return ctr_oci_opt_strv("ctr_with_mounts_removed", apply_without_mounts, dests);
}

static const char *const ro_bind[] = {"rbind", "ro", NULL};

static int apply_hosts_file(void *target, void *ud, ctr_error **err)
{
	return add_mount(target, "bind", "/etc/hosts", "/etc/hosts", (char *const *)ro_bind, err);
}

CTR_EXPORT ctr_opt *ctr_with_host_hosts_file(void)
{
	return ctr_oci_opt("ctr_with_host_hosts_file", apply_hosts_file, NULL);
}

static int apply_localtime(void *target, void *ud, ctr_error **err)
{
	return add_mount(target, "bind", "/etc/localtime", "/etc/localtime", (char *const *)ro_bind, err);
}

CTR_EXPORT ctr_opt *ctr_with_host_localtime(void)
{
	return ctr_oci_opt("ctr_with_host_localtime", apply_localtime, NULL);
}

/* WithDevShmSize: the first tmpfs "shm" on /dev/shm. */
static int apply_shm_size(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	int64_t kb = ((struct ctr_oci_arg *)ud)->i[0];
	if (kb <= 0)
		return ctr_err(err, CTR_EINVAL, 0, "/dev/shm size %lld KiB is not positive", (long long)kb);
	json_t *ms = json_object_get(s->root, "mounts");
	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *m = json_array_get(ms, i);
		_cleanup_free_ char *d = path_clean(ctr_json_str(m, "destination") ?: "");
		if (!d)
			return ctr_err_nomem(err);
		if (strcmp(d, "/dev/shm") || strcmp(ctr_json_str(m, "source") ?: "", "shm") ||
		    strcmp(ctr_json_str(m, "type") ?: "", "tmpfs"))
			continue;
		json_t *o = ctr_oci_arr(m, "options");
		if (!o)
			return ctr_err_nomem(err);
		for (size_t k = 0; k < json_array_size(o);)
			if (!strncmp(json_string_value(json_array_get(o, k)) ?: "", "size=", 5))
				json_array_remove(o, k);
			else
				k++;
		char v[32];
		snprintf(v, sizeof(v), "size=%lldk", (long long)kb);
		return json_array_append_new(o, json_string(v)) < 0 ? ctr_err_nomem(err) : 0;
	}
	return ctr_err(err, CTR_ENOTFOUND, 0, "no /dev/shm mount specified");
}

CTR_EXPORT ctr_opt *ctr_with_dev_shm_size(int64_t kb)
{
	return ctr_oci_opt_i64("ctr_with_dev_shm_size", apply_shm_size, kb);
}

static int apply_resolvconf(void *target, void *ud, ctr_error **err)
{
	return add_mount(target, "bind", "/etc/resolv.conf", "/etc/resolv.conf",
			 (char *const *)ro_bind, err);
}

CTR_EXPORT ctr_opt *ctr_with_host_resolvconf(void)
{
	return ctr_oci_opt("ctr_with_host_resolvconf", apply_resolvconf, NULL);
}

/* ---- namespaces ---- */

static const char *const ns_types[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};

static int check_ns(const char *t, ctr_error **err)
{
	for (size_t i = 0; i < CTR_ARRAY_SIZE(ns_types); i++)
		if (!strcmp(t, ns_types[i]))
			return 0;
	return ctr_err(err, CTR_EINVAL, 0, "unknown namespace type \"%.50s\"", t);
}

static int host_ns(struct ctr_spec *s, const char *type, ctr_error **err)
{
	int r = check_ns(type, err);
	if (r < 0)
		return r;
	json_t *l = ctr_oci_linux_of(s);
	if (!l)
		return ctr_err_nomem(err);
	json_t *nss = json_object_get(l, "namespaces");
	for (size_t i = 0; i < json_array_size(nss); i++)
		if (!strcmp(ctr_json_str(json_array_get(nss, i), "type") ?: "", type)) {
			json_array_remove(nss, i);
			break;
		}
	return 0;
}

static int apply_host_ns(void *target, void *ud, ctr_error **err)
{
	return host_ns(target, ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_host_namespace(const char *type)
{
	return ctr_oci_opt_str("ctr_with_host_namespace", apply_host_ns, type);
}

static int apply_linux_ns(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	int r = check_ns(a->s[0], err);
	if (r < 0)
		return r;
	json_t *l = ctr_oci_linux_of(target);
	json_t *nss = l ? ctr_oci_arr(l, "namespaces") : NULL;
	json_t *n = json_pack("{s:s}", "type", a->s[0]);
	if (!nss || !n) {
		json_decref(n);
		return ctr_err_nomem(err);
	}
	if (a->s[1] && *a->s[1] && (r = ctr_oci_set_str(n, "path", a->s[1], err)) < 0) {
		json_decref(n);
		return r;
	}
	for (size_t i = 0; i < json_array_size(nss); i++)
		if (!strcmp(ctr_json_str(json_array_get(nss, i), "type") ?: "", a->s[0]))
			return json_array_set_new(nss, i, n) < 0 ? ctr_err_nomem(err) : 0;
	return json_array_append_new(nss, n) < 0 ? ctr_err_nomem(err) : 0;
}

CTR_EXPORT ctr_opt *ctr_with_linux_namespace(const char *type, const char *path)
{
	struct ctr_oci_arg *a = type ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = strdup(type)) || (path && !(a->s[1] = strdup(path)))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt("ctr_with_linux_namespace", apply_linux_ns, a);
}

static int apply_host_network(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) < 0)
		return ctr_err_errno(err, errno, "get hostname");
	_cleanup_free_ char *env = NULL;
	if (asprintf(&env, "HOSTNAME=%s", host) < 0)
		return ctr_err_nomem(err);
	int r;
	if ((r = host_ns(s, "network", err)) < 0 || (r = apply_hosts_file(s, NULL, err)) < 0 ||
	    (r = apply_resolvconf(s, NULL, err)) < 0)
		return r;
	_cleanup_(ctr_oci_json_decrefp) json_t *over = json_pack("[s]", env);
	json_t *proc = ctr_oci_obj(s->root, "process");
	if (!over || !proc)
		return ctr_err(err, CTR_EINVAL, 0, "host name is not valid UTF-8");
	json_t *m = ctr_oci_env_merge(json_object_get(proc, "env"), over);
	if (!m || json_object_set_new(proc, "env", m) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_host_network(void)
{
	return ctr_oci_opt("ctr_with_host_network", apply_host_network, NULL);
}

static int apply_userns(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	json_t *l = ctr_oci_linux_of(target);
	json_t *nss = l ? ctr_oci_arr(l, "namespaces") : NULL;
	if (!nss)
		return ctr_err_nomem(err);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < a->n[k]; i++)
			if (!a->maps[k][i].size || (uint64_t)a->maps[k][i].container_id + a->maps[k][i].size > 1ull << 32 ||
			    (uint64_t)a->maps[k][i].host_id + a->maps[k][i].size > 1ull << 32)
				return ctr_err(err, CTR_EINVAL, 0, "%s mapping %zu is empty or overflows",
					       k ? "gid" : "uid", i);
	bool has = false;
	for (size_t i = 0; i < json_array_size(nss); i++)
		has |= !strcmp(ctr_json_str(json_array_get(nss, i), "type") ?: "", "user");
	if (!has && json_array_append_new(nss, json_pack("{s:s}", "type", "user")) < 0)
		return ctr_err_nomem(err);
	static const char *const keys[] = {"uidMappings", "gidMappings"};
	for (size_t k = 0; k < 2; k++) {
		if (!a->n[k])
			continue;
		json_t *arr = ctr_oci_arr(l, keys[k]);
		for (size_t i = 0; arr && i < a->n[k]; i++)
			if (json_array_append_new(arr, json_pack("{s:I, s:I, s:I}",
					"containerID", (json_int_t)a->maps[k][i].container_id,
					"hostID", (json_int_t)a->maps[k][i].host_id,
					"size", (json_int_t)a->maps[k][i].size)) < 0)
				arr = NULL;
		if (!arr)
			return ctr_err_nomem(err);
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_user_namespace(const ctr_id_map *uid_maps, size_t n_uid,
						const ctr_id_map *gid_maps, size_t n_gid)
{
	if ((n_uid && !uid_maps) || (n_gid && !gid_maps) || n_uid > 4096 || n_gid > 4096)
		return NULL;
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	const ctr_id_map *src[2] = {uid_maps, gid_maps};
	size_t n[2] = {n_uid, n_gid};
	for (size_t k = 0; k < 2; k++) {
		a->n[k] = n[k];
		if (!n[k])
			continue;
		if (!(a->maps[k] = malloc(n[k] * sizeof(ctr_id_map)))) {
			ctr_oci_arg_free(a);
			return NULL;
		}
		memcpy(a->maps[k], src[k], n[k] * sizeof(ctr_id_map));
	}
	return ctr_oci_opt("ctr_with_user_namespace", apply_userns, a);
}

/* ---- resources ---- */

static int set_int(json_t *obj, const char *key, json_int_t v, ctr_error **err)
{
	if (!obj || json_object_set_new(obj, key, json_integer(v)) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static int apply_memory(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	if (a->u[0] > INT64_MAX)
		return ctr_err(err, CTR_EINVAL, ERANGE, "memory limit %llu out of range",
			       (unsigned long long)a->u[0]);
	return set_int(ctr_oci_resources_of(target, "memory"), "limit", (json_int_t)a->u[0], err);
}

static ctr_opt *opt_u64(const char *name, ctr_opt_apply_fn fn, uint64_t v)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->u[0] = v;
	return ctr_oci_opt(name, fn, a);
}

CTR_EXPORT ctr_opt *ctr_with_memory_limit(uint64_t bytes)
{
	return opt_u64("ctr_with_memory_limit", apply_memory, bytes);
}

static int apply_shares(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	if (a->u[0] > INT64_MAX)
		return ctr_err(err, CTR_EINVAL, ERANGE, "cpu shares out of range");
	return set_int(ctr_oci_resources_of(target, "cpu"), "shares", (json_int_t)a->u[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_cpu_shares(uint64_t shares)
{
	return opt_u64("ctr_with_cpu_shares", apply_shares, shares);
}

static int apply_cfs(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	if (a->u[0] > INT64_MAX)
		return ctr_err(err, CTR_EINVAL, ERANGE, "cpu period out of range");
	json_t *cpu = ctr_oci_resources_of(target, "cpu");
	int r = set_int(cpu, "quota", a->i[0], err);
	return r < 0 ? r : set_int(cpu, "period", (json_int_t)a->u[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_cpu_cfs(int64_t quota, uint64_t period)
{
	return ctr_oci_opt_iu("ctr_with_cpu_cfs", apply_cfs, quota, period);
}

static int apply_cpus(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	/* ctr: period 100000 and quota = int64(cpus * 100000.0). */
	if (!(a->d > 0.0) || !isfinite(a->d) || a->d * 100000.0 >= 9.2e18)
		return ctr_err(err, CTR_EINVAL, 0, "cpus %g is not a positive number", a->d);
	json_t *cpu = ctr_oci_resources_of(target, "cpu");
	int r = set_int(cpu, "quota", (json_int_t)(a->d * 100000.0), err);
	return r < 0 ? r : set_int(cpu, "period", 100000, err);
}

CTR_EXPORT ctr_opt *ctr_with_cpus(double cpus)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->d = cpus;
	return ctr_oci_opt("ctr_with_cpus", apply_cpus, a);
}

static int apply_pids(void *target, void *ud, ctr_error **err)
{
	return set_int(ctr_oci_resources_of(target, "pids"), "limit", ((struct ctr_oci_arg *)ud)->i[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_pids_limit(int64_t limit)
{
	return ctr_oci_opt_i64("ctr_with_pids_limit", apply_pids, limit);
}

static int apply_swap(void *target, void *ud, ctr_error **err)
{
	int64_t v = ((struct ctr_oci_arg *)ud)->i[0];
	if (v < -1)
		return ctr_err(err, CTR_EINVAL, 0, "memory swap %lld is below -1", (long long)v);
	return set_int(ctr_oci_resources_of(target, "memory"), "swap", v, err);
}

CTR_EXPORT ctr_opt *ctr_with_memory_swap(int64_t bytes)
{
	return ctr_oci_opt_i64("ctr_with_memory_swap", apply_swap, bytes);
}

/* A cpuset list as the kernel reads it: "N" or "N-M" items, comma separated. */
static bool cpuset_valid(const char *p)
{
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return false;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return false;
			b = strtoul(p, &end, 10);
		}
		if (a > b || b > 65535)
			return false;
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

static int apply_cpuset(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	const char *key = a->s[1];
	json_t *cpu = ctr_oci_resources_of(target, "cpu");
	if (!cpu)
		return ctr_err_nomem(err);
	if (!*a->s[0]) {
		json_object_del(cpu, key);
		return 0;
	}
	if (!cpuset_valid(a->s[0]))
		return ctr_err(err, CTR_EINVAL, 0, "cpuset %s \"%.100s\" is not a list such as 0-2,4", key, a->s[0]);
	return ctr_oci_set_str(cpu, key, a->s[0], err);
}

static ctr_opt *cpuset_opt(const char *name, const char *key, const char *v)
{
	struct ctr_oci_arg *a = v ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = strdup(v)) || !(a->s[1] = strdup(key))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt(name, apply_cpuset, a);
}

CTR_EXPORT ctr_opt *ctr_with_cpuset_cpus(const char *cpus)
{
	return cpuset_opt("ctr_with_cpuset_cpus", "cpus", cpus);
}

CTR_EXPORT ctr_opt *ctr_with_cpuset_mems(const char *mems)
{
	return cpuset_opt("ctr_with_cpuset_mems", "mems", mems);
}

/* ---- seccomp ---- */

static int apply_seccomp_default(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct utsname u;
	int maj = 0, min = 0;
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &maj, &min) < 2)
		maj = min = 0;
	json_t *bounding = json_object_get(json_object_get(json_object_get(s->root, "process"),
							   "capabilities"), "bounding");
	json_t *prof = ctr_oci_seccomp_profile(bounding, ctr_oci_goarch(), maj, min);
	json_t *l = ctr_oci_linux_of(s);
	if (!prof || !l || json_object_set_new(l, "seccomp", prof) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_seccomp_default(void)
{
	return ctr_oci_opt("ctr_with_seccomp_default", apply_seccomp_default, NULL);
}

static int apply_seccomp_unconfined(void *target, void *ud, ctr_error **err)
{
	json_t *l = ctr_oci_linux_of(target);
	if (!l)
		return ctr_err_nomem(err);
	json_object_del(l, "seccomp");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_seccomp_unconfined(void)
{
	return ctr_oci_opt("ctr_with_seccomp_unconfined", apply_seccomp_unconfined, NULL);
}

static int apply_seccomp_profile(void *target, void *ud, ctr_error **err)
{
	json_t *prof = NULL;
	int r = ctr_oci_seccomp_load(((struct ctr_oci_arg *)ud)->s[0], &prof, err);
	if (r < 0)
		return r;
	json_t *l = ctr_oci_linux_of(target);
	if (!l || json_object_set_new(l, "seccomp", prof) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_seccomp_profile(const char *path)
{
	return ctr_oci_opt_str("ctr_with_seccomp_profile", apply_seccomp_profile, path);
}
