/* The default spec (containerd's populateDefaultUnixSpec) and the spec
 * object that CTR_OPT_SPEC options apply to. */
#include "spec-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "opts.h"
#include "ident.h"
#include "macro.h"

json_t *ctr_oci_obj(json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);
	if (json_is_object(v))
		return v;
	v = json_object();
	if (!v || json_object_set_new(parent, key, v) < 0)
		return NULL;
	return v;
}

json_t *ctr_oci_arr(json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);
	if (json_is_array(v))
		return v;
	v = json_array();
	if (!v || json_object_set_new(parent, key, v) < 0)
		return NULL;
	return v;
}

int ctr_oci_strv_json(const char *const *v, const char *what, json_t **out, ctr_error **err)
{
	json_t *a = json_array();
	if (!a)
		return ctr_err_nomem(err);
	for (size_t i = 0; v && v[i]; i++) {
		json_t *s = json_string(v[i]);
		if (!s || json_array_append_new(a, s) < 0) {
			json_decref(a);
			return ctr_err(err, CTR_EINVAL, 0, "%s: entry %zu is not valid UTF-8", what, i);
		}
	}
	*out = a;
	return 0;
}

int ctr_oci_set_str(json_t *obj, const char *key, const char *v, ctr_error **err)
{
	json_t *s = json_string(v);
	if (!s)
		return ctr_err(err, CTR_EINVAL, 0, "%s is not valid UTF-8", key);
	if (json_object_set_new(obj, key, s) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

/* containerd keys its cache by the defaults only, and a later duplicate
 * key wins, so search the defaults from the end. */
static ssize_t env_find_default(const json_t *defaults, const char *e)
{
	size_t kl = env_key_len(e);
	for (size_t i = json_array_size(defaults); i-- > 0;) {
		const char *d = json_string_value(json_array_get(defaults, i));
		if (d && env_key_len(d) == kl && !strncmp(d, e, kl))
			return (ssize_t)i;
	}
	return -1;
}

json_t *ctr_oci_env_merge(const json_t *defaults, const json_t *overrides)
{
	/* Entries removed by "KEY" (no '=') are first blanked, then dropped,
	 * so later overrides still see the original positions. */
	json_t *r = json_array();
	if (!r)
		return NULL;
	for (size_t i = 0; i < json_array_size(defaults); i++)
		if (json_array_append(r, json_array_get(defaults, i)) < 0)
			goto fail;
	for (size_t i = 0; i < json_array_size(overrides); i++) {
		json_t *o = json_array_get(overrides, i);
		const char *e = json_string_value(o);
		if (!e)
			continue;
		ssize_t at = env_find_default(defaults, e);
		if (!strchr(e, '=')) {
			if (at >= 0 && json_array_set_new(r, (size_t)at, json_string("")) < 0)
				goto fail;
			continue;
		}
		if (at >= 0) {
			if (json_array_set(r, (size_t)at, o) < 0)
				goto fail;
		} else if (json_array_append(r, o) < 0)
			goto fail;
	}
	for (size_t i = 0; i < json_array_size(r);) {
		const char *e = json_string_value(json_array_get(r, i));
		if (e && !*e)
			json_array_remove(r, i);
		else
			i++;
	}
	return r;
fail:
	json_decref(r);
	return NULL;
}

static json_t *strs(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

/* containerd 1.6's list plus /sys/devices/virtual/powercap (added in later
 * containerd releases: it exposes energy counters usable as a side channel). */
static const char *const default_masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap",
	"/proc/scsi",
};

static const char *const default_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const char *const default_namespaces[] = {"pid", "ipc", "uts", "mount", "network"};

static const struct {
	const char *dst, *type, *src;
	const char *opts[7];
} default_mounts[] = {
	{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
	{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
	{"/dev/pts", "devpts", "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	{"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	{"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
	{"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
	{"/run", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
};

static json_t *nstrs(const char *const *v, size_t max)
{
	size_t n = 0;
	while (n < max && v[n])
		n++;
	return strs(v, n);
}

json_t *ctr_oci_default_spec(const char *ns, const char *id)
{
	_cleanup_free_ char *cg = NULL;
	if (id && *id ? asprintf(&cg, "/%s/%s", ns, id) < 0 : asprintf(&cg, "/%s", ns) < 0)
		return NULL;
	json_t *mounts = json_array();
	for (size_t i = 0; mounts && i < CTR_ARRAY_SIZE(default_mounts); i++)
		json_array_append_new(mounts,
			json_pack("{s:s, s:s, s:s, s:o}", "destination", default_mounts[i].dst,
				  "type", default_mounts[i].type, "source", default_mounts[i].src,
				  "options", nstrs(default_mounts[i].opts, 7)));
	json_t *nss = json_array();
	for (size_t i = 0; nss && i < CTR_ARRAY_SIZE(default_namespaces); i++)
		json_array_append_new(nss, json_pack("{s:s}", "type", default_namespaces[i]));
	size_t nc = CTR_ARRAY_SIZE(default_caps);
	json_t *spec = json_pack(
		"{s:s,"
		" s:{s:{s:i, s:i}, s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b},"
		" s:{s:s},"
		" s:o,"
		" s:{s:{s:[{s:b, s:s}]}, s:s, s:o, s:o, s:o}}",
		"ociVersion", CTR_OCI_VERSION,
		"process",
		"user", "uid", 0, "gid", 0,
		"cwd", "/",
		"capabilities", "bounding", strs(default_caps, nc), "effective",
		strs(default_caps, nc), "permitted", strs(default_caps, nc),
		"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"noNewPrivileges", 1,
		"root", "path", "rootfs",
		"mounts", mounts,
		"linux", "resources", "devices", "allow", 0, "access", "rwm",
		"cgroupsPath", cg,
		"namespaces", nss,
		"maskedPaths", strs(default_masked, CTR_ARRAY_SIZE(default_masked)),
		"readonlyPaths", strs(default_readonly, CTR_ARRAY_SIZE(default_readonly)));
	return spec;
}

static void spec_free(ctr_spec *s)
{
	if (!s)
		return;
	json_decref(s->root);
	free(s->ns);
	free(s->id);
	if (s->rootfd >= 0)
		close(s->rootfd);
	free(s->stop_signal);
	free(s);
}

CTR_EXPORT void ctr_spec_free(ctr_spec *s) { spec_free(s); }

static void spec_freep(ctr_spec **s) { spec_free(*s); }

static int spec_alloc(ctr_spec **out, const char *ns, const char *id, ctr_error **err)
{
	int r = ctr_ident_validate(ns, "namespace", err);
	if (r < 0)
		return r;
	if (id && *id && (r = ctr_ident_validate(id, "container id", err)) < 0)
		return r;
	ctr_spec *s = calloc(1, sizeof(*s));
	if (!s)
		return ctr_err_nomem(err);
	s->rootfd = -1;
	s->ns = strdup(ns);
	s->id = strdup(id ? id : "");
	s->root = ctr_oci_default_spec(ns, s->id ? s->id : "");
	if (!s->ns || !s->id || !s->root) {
		spec_free(s);
		return ctr_err_nomem(err);
	}
	*out = s;
	return 0;
}

CTR_EXPORT int ctr_spec_apply(ctr_spec *s, const ctr_opt *const *opts, size_t n_opts,
			      ctr_error **err)
{
	if (!s)
		return ctr_err(err, CTR_EINVAL, 0, "spec: NULL spec");
	return ctr_opts_apply(CTR_OPT_SPEC, s, NULL, opts, n_opts, "spec", err);
}

int ctr_spec_new_at(ctr_spec **out, const char *ns, const char *id, int rootfd,
		    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	_cleanup_(spec_freep) ctr_spec *s = NULL;
	int r = spec_alloc(&s, ns, id, err);
	if (r < 0)
		return r;
	if (rootfd >= 0 && (s->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3)) < 0)
		return ctr_err_errno(err, errno, "spec: dup rootfs fd");
	if ((r = ctr_spec_apply(s, opts, n_opts, err)) < 0)
		return r;
	*out = TAKE_PTR(s);
	return 0;
}

CTR_EXPORT int ctr_spec_new(ctr_spec **out, const char *ns, const char *id, const char *rootfs,
			    const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!out)
		return ctr_err(err, CTR_EINVAL, 0, "spec: NULL output");
	_cleanup_close_ int fd = -1;
	if (rootfs) {
		fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return ctr_err_errno(err, errno, "spec: open rootfs %s", rootfs);
	}
	return ctr_spec_new_at(out, ns, id, fd, opts, n_opts, err);
}

CTR_EXPORT int ctr_spec_to_json(char **out, const ctr_spec *s, unsigned flags, ctr_error **err)
{
	if (!s || !out)
		return ctr_err(err, CTR_EINVAL, 0, "spec: NULL argument");
	if (flags & ~CTR_SPEC_JSON_PRETTY)
		return ctr_err(err, CTR_EINVAL, 0, "spec: unknown flags 0x%x", flags);
	char *j = json_dumps(s->root, (flags & CTR_SPEC_JSON_PRETTY) ? JSON_INDENT(4) : JSON_COMPACT);
	if (!j)
		return ctr_err_nomem(err);
	*out = j;
	return 0;
}

CTR_EXPORT const char *ctr_spec_stop_signal(const ctr_spec *s)
{
	return s && s->stop_signal ? s->stop_signal : "SIGTERM";
}

CTR_EXPORT int ctr_spec_generate(char **json_out, const char *ns, const char *id,
				 const char *rootfs, const ctr_opt *const *opts,
				 size_t n_opts, ctr_error **err)
{
	if (!json_out)
		return ctr_err(err, CTR_EINVAL, 0, "spec: NULL output");
	_cleanup_(spec_freep) ctr_spec *s = NULL;
	int r = ctr_spec_new(&s, ns, id, rootfs, opts, n_opts, err);
	if (r < 0)
		return r;
	return ctr_spec_to_json(json_out, s, 0, err);
}
