/* Spec options on devices: the cgroup device rules (all allowed, the
 * default unix set, the parent's) and device nodes, from the host (one
 * node, a tree, all of /dev) or given by the caller: containerd's
 * WithAllDevicesAllowed, WithDefaultUnixDevices, WithParentCgroupDevices,
 * WithLinuxDevice(s), WithDevices and WithHostDevices. */
#include "spec-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "opts.h"
#include "macro.h"

/* ---- cgroup rules ---- */

static int apply_all_devices(void *target, void *ud, ctr_error **err)
{
	json_t *res = ctr_oci_resources_of(target, NULL);
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
	json_t *res = ctr_oci_resources_of(target, NULL);
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

static int apply_parent_devices(void *target, void *ud, ctr_error **err)
{
	json_t *res = ctr_oci_resources_of(target, NULL);
	if (!res)
		return ctr_err_nomem(err);
	json_object_del(res, "devices");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_parent_cgroup_devices(void)
{
	return ctr_oci_opt("ctr_with_parent_cgroup_devices", apply_parent_devices, NULL);
}

/* ---- device nodes ---- */

/* The linux.devices entry of the node at path (lstat: a symlink is not a
 * device). 1 when path is not a device node, 0 with *out set, or an error
 * (CTR_ENOTFOUND when missing). */
static int device_from_path(const char *path, json_t **out, ctr_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return ctr_err_errno(err, errno, "device %.200s", path);
	const char *type = S_ISBLK(st.st_mode) ? "b" : S_ISCHR(st.st_mode) ? "c" : S_ISFIFO(st.st_mode) ? "p" : NULL;
	if (!type)
		return 1;
	*out = json_pack("{s:s, s:s, s:I, s:I, s:i, s:I, s:I}", "path", path, "type", type,
			 "major", (json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev),
			 "fileMode", (int)(st.st_mode & 07777), "uid", (json_int_t)st.st_uid,
			 "gid", (json_int_t)st.st_gid);
	/* json_pack fails on allocation or on a path that is not UTF-8. */
	if (!*out)
		return ctr_err(err, CTR_EINVAL, 0, "device path %.200s is not valid UTF-8", path);
	return 0;
}

/* dir + "/" + name, without doubling a slash (Go's filepath.Join on these). */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	char *p = NULL;
	if (asprintf(&p, "%.*s/%s", (int)(n == 1 && dir[0] == '/' ? 0 : n), dir, name) < 0)
		return NULL;
	return p;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The entries of dir but . and .., sorted by name as os.ReadDir does. */
static int read_names(const char *dir, char ***out, size_t *n_out, ctr_error **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ctr_err_errno(err, e, "read %.200s", dir);
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));
			if (!nv) {
				r = ctr_err_nomem(err);
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name))) {
			r = ctr_err_nomem(err);
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		names_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*n_out = n;
	return 0;
}

static int walk(const char *dir, const char *cpath, json_t *out, int depth, ctr_error **err);

/* One entry of a walked directory. */
static int walk_entry(const char *dir, const char *name, const char *cpath, json_t *out, int depth,
		      ctr_error **err)
{
	static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"};
	_cleanup_free_ char *path = join(dir, name);
	_cleanup_free_ char *cp = cpath ? join(cpath, name) : NULL;
	if (!path || (cpath && !cp))
		return ctr_err_nomem(err);
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : ctr_err_errno(err, errno, "stat %.200s", path);
	if (S_ISDIR(st.st_mode)) {
		for (size_t i = 0; i < CTR_ARRAY_SIZE(skip); i++)
			if (!strcmp(name, skip[i]))
				return 0;
		return walk(path, cp, out, depth + 1, err);
	}
	if (!strcmp(name, "console"))
		return 0;
	json_t *dev = NULL;
	ctr_error *local = NULL;
	int r = device_from_path(path, &dev, &local);
	if (r == CTR_ENOTFOUND || r == 1) {
		ctr_error_free(local);
		return 0;
	}
	if (r < 0) {
		if (err)
			*err = local;
		else
			ctr_error_free(local);
		return r;
	}
	if (!strcmp(json_string_value(json_object_get(dev, "type")), "p")) {
		json_decref(dev);
		return 0;
	}
	if (cp && (r = ctr_oci_set_str(dev, "path", cp, err)) < 0) {
		json_decref(dev);
		return r;
	}
	return json_array_append_new(out, dev) < 0 ? ctr_err_nomem(err) : 0;
}

static int walk(const char *dir, const char *cpath, json_t *out, int depth, ctr_error **err)
{
	/* a bound on a loop of bind mounts; containerd has none */
	if (depth > 16)
		return 0;
	char **names = NULL;
	size_t n = 0;
	int r = read_names(dir, &names, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = walk_entry(dir, names[i], cpath, out, depth, err);
	names_free(names, n);
	return r;
}

int ctr_oci_get_devices(const char *path, const char *cpath, json_t *out, ctr_error **err)
{
	if (cpath && !*cpath)
		cpath = NULL;
	struct stat st;
	if (stat(path, &st) < 0)
		return ctr_err_errno(err, errno, "device path %.200s", path);
	if (S_ISDIR(st.st_mode))
		return walk(path, cpath, out, 0, err);
	json_t *dev = NULL;
	int r = device_from_path(path, &dev, err);
	if (r == 1)
		return ctr_err(err, CTR_EINVAL, 0, "%.200s is not a device node", path);
	if (r < 0)
		return r;
	if (cpath && (r = ctr_oci_set_str(dev, "path", cpath, err)) < 0) {
		json_decref(dev);
		return r;
	}
	return json_array_append_new(out, dev) < 0 ? ctr_err_nomem(err) : 0;
}

int ctr_oci_host_devices(const char *dir, json_t *out, ctr_error **err)
{
	return walk(dir, NULL, out, 0, err);
}

static int apply_host_devices(void *target, void *ud, ctr_error **err)
{
	json_t *l = ctr_oci_linux_of(target);
	json_t *d = l ? ctr_oci_arr(l, "devices") : NULL;
	if (!d)
		return ctr_err_nomem(err);
	return ctr_oci_host_devices("/dev", d, err);
}

CTR_EXPORT ctr_opt *ctr_with_host_devices(void)
{
	return ctr_oci_opt("ctr_with_host_devices", apply_host_devices, NULL);
}

/* A cgroup access string: a non-empty subset of "rwm", each letter once. */
static int check_access(const char *p, ctr_error **err)
{
	bool seen[3] = {false, false, false};
	for (const char *c = p; *c; c++) {
		const char *at = strchr("rwm", *c);
		if (!at || seen[at - "rwm"])
			return ctr_err(err, CTR_EINVAL, 0, "device permissions \"%.10s\" are not a subset of rwm", p);
		seen[at - "rwm"] = true;
	}
	if (!*p)
		return ctr_err(err, CTR_EINVAL, 0, "device permissions are empty");
	return 0;
}

/* Moves the nodes of devs into linux.devices, each with a cgroup rule. */
static int add_with_rules(struct ctr_spec *s, json_t *devs, const char *access, ctr_error **err)
{
	json_t *l = ctr_oci_linux_of(s);
	json_t *res = ctr_oci_resources_of(s, NULL);
	json_t *nodes = l ? ctr_oci_arr(l, "devices") : NULL;
	json_t *rules = res ? ctr_oci_arr(res, "devices") : NULL;
	if (!nodes || !rules)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < json_array_size(devs); i++) {
		json_t *d = json_array_get(devs, i);
		json_t *rule = json_pack("{s:b, s:O, s:O, s:O, s:s}", "allow", 1, "type",
					 json_object_get(d, "type"), "major", json_object_get(d, "major"),
					 "minor", json_object_get(d, "minor"), "access", access);
		if (!rule || json_array_append(nodes, d) < 0 || json_array_append_new(rules, rule) < 0)
			return ctr_err_nomem(err);
	}
	return 0;
}

static int apply_devices(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	const char *path = a->s[0], *cpath = a->s[1], *access = a->s[2];
	int r = check_access(access, err);
	if (r < 0)
		return r;
	if (!*path)
		return ctr_err(err, CTR_EINVAL, 0, "device path is empty");
	if (cpath && *cpath && cpath[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "device container path \"%.200s\" is not absolute", cpath);
	_cleanup_(ctr_oci_json_decrefp) json_t *devs = json_array();
	if (!devs)
		return ctr_err_nomem(err);
	if (a->i[0]) { /* one node: WithLinuxDevice */
		json_t *dev = NULL;
		if ((r = device_from_path(path, &dev, err)) == 1)
			return ctr_err(err, CTR_EINVAL, 0, "%.200s is not a device node", path);
		if (r < 0)
			return r;
		if (json_array_append_new(devs, dev) < 0)
			return ctr_err_nomem(err);
	} else if ((r = ctr_oci_get_devices(path, cpath, devs, err)) < 0)
		return r;
	return add_with_rules(target, devs, access, err);
}

static ctr_opt *devices_opt(const char *name, const char *path, const char *cpath, const char *perms,
			    bool one)
{
	struct ctr_oci_arg *a = path && perms ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = strdup(path)) || !(a->s[2] = strdup(perms)) ||
	    (cpath && !(a->s[1] = strdup(cpath)))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	a->i[0] = one;
	return ctr_oci_opt(name, apply_devices, a);
}

CTR_EXPORT ctr_opt *ctr_with_linux_device(const char *path, const char *permissions)
{
	return devices_opt("ctr_with_linux_device", path, NULL, permissions, true);
}

CTR_EXPORT ctr_opt *ctr_with_devices(const char *path, const char *container_path, const char *permissions)
{
	return devices_opt("ctr_with_devices", path, container_path, permissions, false);
}

/* ---- given devices ---- */

static int apply_linux_devices(void *target, void *ud, ctr_error **err)
{
	json_t *given = ud;
	for (size_t i = 0; i < json_array_size(given); i++) {
		json_t *d = json_array_get(given, i);
		const char *p = json_string_value(json_object_get(d, "path"));
		const char *t = json_string_value(json_object_get(d, "type"));
		if (!p || p[0] != '/')
			return ctr_err(err, CTR_EINVAL, 0, "device %zu: path is not absolute", i);
		if (!t || strlen(t) != 1 || !strchr("cbup", t[0]))
			return ctr_err(err, CTR_EINVAL, 0, "device %.200s: type is not c, b, u or p", p);
		if (json_integer_value(json_object_get(d, "major")) < 0 ||
		    json_integer_value(json_object_get(d, "minor")) < 0)
			return ctr_err(err, CTR_EINVAL, 0, "device %.200s: negative major or minor", p);
	}
	json_t *l = ctr_oci_linux_of(target);
	json_t *nodes = l ? ctr_oci_arr(l, "devices") : NULL;
	if (!nodes || json_array_extend(nodes, given) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static void json_free(void *p) { json_decref(p); }

CTR_EXPORT ctr_opt *ctr_with_linux_devices(const ctr_linux_device *devices, size_t n)
{
	if ((n && !devices) || n > 65536)
		return NULL;
	json_t *v = json_array();
	for (size_t i = 0; v && i < n; i++) {
		const ctr_linux_device *d = &devices[i];
		char t[2] = {d->type, 0};
		/* NULL for a NULL path or one that is not UTF-8 */
		json_t *e = d->path ? json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", d->path,
						"type", t, "major", (json_int_t)d->major, "minor",
						(json_int_t)d->minor, "fileMode", (json_int_t)d->file_mode,
						"uid", (json_int_t)d->uid, "gid", (json_int_t)d->gid)
				    : NULL;
		if (!e || json_array_append_new(v, e) < 0) {
			json_decref(v);
			v = NULL;
		}
	}
	if (!v)
		return NULL;
	return ctr_opt_make(CTR_OPT_SPEC, "ctr_with_linux_devices", apply_linux_devices, v, json_free);
}
