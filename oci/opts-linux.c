/* Spec options on the container around the process: mounts, namespaces,
 * devices, resources, privileged mode, user namespaces, seccomp. */
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

static json_t *linux_of(struct ctr_spec *s) { return ctr_oci_obj(s->root, "linux"); }

static json_t *resources_of(struct ctr_spec *s, const char *sub)
{
	json_t *l = linux_of(s);
	json_t *r = l ? ctr_oci_obj(l, "resources") : NULL;
	return r && sub ? ctr_oci_obj(r, sub) : r;
}

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
	json_t *l = linux_of(target);
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
	json_t *proc = ctr_oci_obj(((struct ctr_spec *)target)->root, "process");
	const char *p = ud ? ((struct ctr_oci_arg *)ud)->s[0] : "";
	if (!proc)
		return ctr_err_nomem(err);
	if (!*p) {
		json_object_del(proc, "apparmorProfile");
		return 0;
	}
	return ctr_oci_set_str(proc, "apparmorProfile", p, err);
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
	json_t *l = linux_of(s);
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
	json_t *l = linux_of(target);
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
	json_t *l = linux_of(target);
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

/* ---- devices ---- */

static int apply_all_devices(void *target, void *ud, ctr_error **err)
{
	json_t *res = resources_of(target, NULL);
	if (!res || json_object_set_new(res, "devices",
					json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm")) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_all_devices_allowed(void)
{
	return ctr_oci_opt("ctr_with_all_devices_allowed", apply_all_devices, NULL);
}

static int apply_unix_devices(void *target, void *ud, ctr_error **err)
{
	/* null, random, full, tty, zero, urandom, console, pts (any minor), ptmx */
	static const int devs[][2] = {{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2}};
	json_t *res = resources_of(target, NULL);
	json_t *d = res ? ctr_oci_arr(res, "devices") : NULL;
	if (!d)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < CTR_ARRAY_SIZE(devs); i++) {
		json_t *e = json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", "c", "major",
				      devs[i][0], "access", "rwm");
		if (e && devs[i][1] >= 0)
			json_object_set_new(e, "minor", json_integer(devs[i][1]));
		if (!e || json_array_append_new(d, e) < 0)
			return ctr_err_nomem(err);
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_default_unix_devices(void)
{
	return ctr_oci_opt("ctr_with_default_unix_devices", apply_unix_devices, NULL);
}

static int walk_devices(const char *dir, json_t *out, int depth, ctr_error **err)
{
	if (depth > 16)
		return 0;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "open %s", dir);
	DIR *d = fdopendir(dfd);
	if (!d)
		return ctr_err_errno(err, errno, "read %s", dir);
	dfd = -1;
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			r = ctr_err_errno(err, errno, "stat %s/%s", dir, n);
			break;
		}
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", strcmp(dir, "/") ? dir : "", n) < 0) {
			r = ctr_err_nomem(err);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"};
			bool sk = false;
			for (size_t i = 0; i < CTR_ARRAY_SIZE(skip); i++)
				sk |= !strcmp(n, skip[i]);
			if (!sk)
				r = walk_devices(path, out, depth + 1, err);
			continue;
		}
		if (!strcmp(n, "console") || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
			continue;
		json_t *e = json_pack("{s:s, s:s, s:I, s:I, s:i, s:I, s:I}", "path", path, "type",
				      S_ISCHR(st.st_mode) ? "c" : "b",
				      "major", (json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev),
				      "fileMode", (int)(st.st_mode & 07777), "uid", (json_int_t)st.st_uid,
				      "gid", (json_int_t)st.st_gid);
		/* json_pack fails only on a name that is not UTF-8: skip it. */
		if (e && json_array_append_new(out, e) < 0)
			r = ctr_err_nomem(err);
	}
	closedir(d);
	return r;
}

int ctr_oci_host_devices(const char *dir, json_t *out, ctr_error **err)
{
	return walk_devices(dir, out, 0, err);
}

static int apply_host_devices(void *target, void *ud, ctr_error **err)
{
	json_t *l = linux_of(target);
	json_t *d = l ? ctr_oci_arr(l, "devices") : NULL;
	if (!d)
		return ctr_err_nomem(err);
	return ctr_oci_host_devices("/dev", d, err);
}

CTR_EXPORT ctr_opt *ctr_with_host_devices(void)
{
	return ctr_oci_opt("ctr_with_host_devices", apply_host_devices, NULL);
}

/* ---- privileged ---- */

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

static int apply_privileged(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	_cleanup_free_ char *status = NULL;
	size_t len;
	int r = ctr_read_file(AT_FDCWD, "/proc/self/status", 1 << 20, &status, &len, err);
	if (r < 0)
		return r;
	uint64_t eff;
	if ((r = ctr_oci_parse_cap_eff(status, &eff, err)) < 0)
		return r;
	_cleanup_(ctr_oci_json_decrefp) json_t *caps = ctr_oci_caps_from_bitmap(eff);
	if (!caps)
		return ctr_err_nomem(err);
	if ((r = ctr_oci_set_capabilities(s->root, caps, err)) < 0)
		return r;
	json_t *l = linux_of(s);
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
	return set_int(resources_of(target, "memory"), "limit", (json_int_t)a->u[0], err);
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
	return set_int(resources_of(target, "cpu"), "shares", (json_int_t)a->u[0], err);
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
	json_t *cpu = resources_of(target, "cpu");
	int r = set_int(cpu, "quota", a->i[0], err);
	return r < 0 ? r : set_int(cpu, "period", (json_int_t)a->u[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_cpu_cfs(int64_t quota, uint64_t period)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->i[0] = quota;
	a->u[0] = period;
	return ctr_oci_opt("ctr_with_cpu_cfs", apply_cfs, a);
}

static int apply_cpus(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	/* ctr: period 100000 and quota = int64(cpus * 100000.0). */
	if (!(a->d > 0.0) || !isfinite(a->d) || a->d * 100000.0 >= 9.2e18)
		return ctr_err(err, CTR_EINVAL, 0, "cpus %g is not a positive number", a->d);
	json_t *cpu = resources_of(target, "cpu");
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
	return set_int(resources_of(target, "pids"), "limit", ((struct ctr_oci_arg *)ud)->i[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_pids_limit(int64_t limit)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->i[0] = limit;
	return ctr_oci_opt("ctr_with_pids_limit", apply_pids, a);
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
	json_t *l = linux_of(s);
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
	json_t *l = linux_of(target);
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
	json_t *l = linux_of(target);
	if (!l || json_object_set_new(l, "seccomp", prof) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_seccomp_profile(const char *path)
{
	return ctr_oci_opt_str("ctr_with_seccomp_profile", apply_seccomp_profile, path);
}
