/* Spec options on the process: image config, args, env, cwd, tty, rlimits,
 * user and capabilities (containerd's oci.With* of the same names). */
#include "spec-internal.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "opts.h"
#include "json.h"
#include "macro.h"
#include "strv.h"

#define MAX_IMAGE_CONFIG (8u << 20)
#define ENV_FILE_MAX (8u << 20)
#define ENV_LINE_MAX (64u << 10)

struct ctr_oci_arg *ctr_oci_arg_new(void) { return calloc(1, sizeof(struct ctr_oci_arg)); }

void ctr_oci_arg_free(void *p)
{
	struct ctr_oci_arg *a = p;
	if (!a)
		return;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(a->s); i++)
		free(a->s[i]);
	for (size_t i = 0; i < CTR_ARRAY_SIZE(a->v); i++)
		ctr_strv_free(a->v[i]);
	free(a->maps[0]);
	free(a->maps[1]);
	free(a);
}

ctr_opt *ctr_oci_opt(const char *name, ctr_opt_apply_fn apply, struct ctr_oci_arg *a)
{
	return ctr_opt_make(CTR_OPT_SPEC, name, apply, a, ctr_oci_arg_free);
}

ctr_opt *ctr_oci_opt_str(const char *name, ctr_opt_apply_fn apply, const char *s)
{
	if (!s)
		return NULL;
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a || !(a->s[0] = strdup(s))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt(name, apply, a);
}

ctr_opt *ctr_oci_opt_i64(const char *name, ctr_opt_apply_fn apply, int64_t v)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->i[0] = v;
	return ctr_oci_opt(name, apply, a);
}

ctr_opt *ctr_oci_opt_iu(const char *name, ctr_opt_apply_fn apply, int64_t i, uint64_t u)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a)
		return NULL;
	a->i[0] = i;
	a->u[0] = u;
	return ctr_oci_opt(name, apply, a);
}

int ctr_oci_set_process_str(struct ctr_spec *s, const char *key, const char *v, ctr_error **err)
{
	json_t *proc = ctr_oci_obj(s->root, "process");
	if (!proc)
		return ctr_err_nomem(err);
	if (!*v) {
		json_object_del(proc, key);
		return 0;
	}
	return ctr_oci_set_str(proc, key, v, err);
}

ctr_opt *ctr_oci_opt_strv(const char *name, ctr_opt_apply_fn apply, const char *const *v)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a || !(a->v[0] = ctr_strv_dup(v))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt(name, apply, a);
}

static json_t *process_of(struct ctr_spec *s) { return ctr_oci_obj(s->root, "process"); }

/* ---- image config ---- */

/* A member of the image config that must be an array of strings when set. */
static int config_strv(const json_t *cfg, const char *key, json_t **out, ctr_error **err)
{
	json_t *v = json_object_get(cfg, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return ctr_err(err, CTR_EINVAL, 0, "image config: %s is not an array", key);
	for (size_t i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			return ctr_err(err, CTR_EINVAL, 0, "image config: %s[%zu] is not a string", key, i);
	*out = v;
	return 0;
}

static int config_str(const json_t *cfg, const char *key, const char **out, ctr_error **err)
{
	json_t *v = json_object_get(cfg, key);
	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return ctr_err(err, CTR_EINVAL, 0, "image config: %s is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int apply_image_config(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	_cleanup_(ctr_oci_json_decrefp) json_t *doc = NULL;
	int r = ctr_json_parse(a->s[0], strlen(a->s[0]), MAX_IMAGE_CONFIG, CTR_JSON_MAX_DEPTH,
			       "image config", &doc, err);
	if (r < 0)
		return r;
	if (!json_is_object(doc))
		return ctr_err(err, CTR_EINVAL, 0, "image config is not a JSON object");
	json_t *cfg = json_object_get(doc, "config");
	if (cfg && !json_is_null(cfg) && !json_is_object(cfg))
		return ctr_err(err, CTR_EINVAL, 0, "image config: config is not an object");
	json_t *env, *entry, *cmd;
	const char *wd, *user, *stop;
	if ((r = config_strv(cfg, "Env", &env, err)) < 0 ||
	    (r = config_strv(cfg, "Entrypoint", &entry, err)) < 0 ||
	    (r = config_strv(cfg, "Cmd", &cmd, err)) < 0 ||
	    (r = config_str(cfg, "WorkingDir", &wd, err)) < 0 ||
	    (r = config_str(cfg, "User", &user, err)) < 0 ||
	    (r = config_str(cfg, "StopSignal", &stop, err)) < 0)
		return r;
	if (!json_object_get(s->root, "linux"))
		return ctr_err(err, CTR_EINVAL, 0, "spec does not contain a Linux section");
	json_t *proc = process_of(s);
	if (!proc)
		return ctr_err_nomem(err);

	/* The image's env (or the default PATH) under the spec's own env. */
	_cleanup_(ctr_oci_json_decrefp) json_t *defaults = NULL;
	if (json_array_size(env))
		defaults = json_incref(env);
	else
		defaults = json_pack("[s]", CTR_OCI_DEFAULT_PATH);
	json_t *merged = ctr_oci_env_merge(defaults, json_object_get(proc, "env"));
	if (!merged || json_object_set_new(proc, "env", merged) < 0)
		return ctr_err_nomem(err);

	json_t *args = json_array();
	if (!args)
		return ctr_err_nomem(err);
	if (entry)
		json_array_extend(args, entry);
	if (a->v[0] && a->v[0][0]) {
		for (size_t i = 0; a->v[0][i]; i++)
			if (json_array_append_new(args, json_string(a->v[0][i])) < 0) {
				json_decref(args);
				return ctr_err(err, CTR_EINVAL, 0, "args: entry %zu is not valid UTF-8", i);
			}
	} else if (cmd)
		json_array_extend(args, cmd);
	if (json_array_size(args)) {
		if (json_object_set_new(proc, "args", args) < 0)
			return ctr_err_nomem(err);
	} else {
		json_decref(args);
		json_object_del(proc, "args");
	}
	if ((r = ctr_oci_set_str(proc, "cwd", *wd ? wd : "/", err)) < 0)
		return r;

	if (*stop) {
		char *c = strdup(stop);
		if (!c)
			return ctr_err_nomem(err);
		free(s->stop_signal);
		s->stop_signal = c;
	}

	if (*user) {
		if ((r = ctr_oci_apply_user(s, user, err)) < 0)
			return r;
		char uid[24];
		snprintf(uid, sizeof(uid), "%" JSON_INTEGER_FORMAT,
			 ctr_json_int(json_object_get(proc, "user"), "uid", 0));
		return ctr_oci_apply_additional_gids(s, uid, err);
	}
	/* Supplementary groups of root even when the image names no user. */
	return ctr_oci_apply_additional_gids(s, "root", err);
}

/* Both image-config constructors: args NULL keeps the image's own. */
static ctr_opt *image_config_opt(const char *config_json, const char *const *args)
{
	if (!config_json)
		return NULL;
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	if (!a || !(a->s[0] = strdup(config_json)) || (args && !(a->v[0] = ctr_strv_dup(args)))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	return ctr_oci_opt("ctr_with_image_config", apply_image_config, a);
}

CTR_EXPORT ctr_opt *ctr_with_image_config_args(const char *config_json, const char *const *args)
{
	return image_config_opt(config_json, args);
}

CTR_EXPORT ctr_opt *ctr_with_image_config(const char *config_json)
{
	return image_config_opt(config_json, NULL);
}

/* ---- process ---- */

static int apply_args(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	json_t *proc = process_of(s), *args;
	if (!proc)
		return ctr_err_nomem(err);
	int r = ctr_oci_strv_json((const char *const *)a->v[0], "args", &args, err);
	if (r < 0)
		return r;
	json_object_del(proc, "commandLine");
	if (!json_array_size(args)) {
		json_decref(args);
		json_object_del(proc, "args");
		return 0;
	}
	return json_object_set_new(proc, "args", args) < 0 ? ctr_err_nomem(err) : 0;
}

CTR_EXPORT ctr_opt *ctr_with_process_args(const char *const *args)
{
	return ctr_oci_opt_strv("ctr_with_process_args", apply_args, args);
}

static int merge_env(struct ctr_spec *s, const json_t *over, bool over_first, ctr_error **err)
{
	json_t *proc = process_of(s);
	if (!proc)
		return ctr_err_nomem(err);
	json_t *cur = json_object_get(proc, "env");
	json_t *m = over_first ? ctr_oci_env_merge(over, cur) : ctr_oci_env_merge(cur, over);
	if (!m)
		return ctr_err_nomem(err);
	if (!json_array_size(m)) {
		json_decref(m);
		json_object_del(proc, "env");
		return 0;
	}
	return json_object_set_new(proc, "env", m) < 0 ? ctr_err_nomem(err) : 0;
}

static int apply_env(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	if (!a->v[0][0])
		return 0;
	_cleanup_(ctr_oci_json_decrefp) json_t *over = NULL;
	int r = ctr_oci_strv_json((const char *const *)a->v[0], "env", &over, err);
	if (r < 0)
		return r;
	for (size_t i = 0; a->v[0][i]; i++)
		if (!a->v[0][i][0] || a->v[0][i][0] == '=')
			return ctr_err(err, CTR_EINVAL, 0, "env: entry %zu has no name", i);
	return merge_env(target, over, false, err);
}

CTR_EXPORT ctr_opt *ctr_with_env(const char *const *env)
{
	return ctr_oci_opt_strv("ctr_with_env", apply_env, env);
}

/* WithEnvFile: the file's lines, as Go's bufio.Scanner splits them. */
static int apply_env_file(void *target, void *ud, ctr_error **err)
{
	const char *path = ((struct ctr_oci_arg *)ud)->s[0];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ctr_read_file(AT_FDCWD, path, ENV_FILE_MAX, &buf, &len, err);
	if (r < 0)
		return r;
	_cleanup_(ctr_oci_json_decrefp) json_t *over = json_array();
	if (!over)
		return ctr_err_nomem(err);
	size_t lineno = 0;
	for (char *p = buf, *end = buf + len; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > ENV_LINE_MAX)
			return ctr_err(err, CTR_EINVAL, 0, "env file %.200s: line %zu is longer than 64 KiB",
				       path, lineno + 1);
		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[0] == '=')
			return ctr_err(err, CTR_EINVAL, 0, "env file %.200s: line %zu has no name", path, lineno + 1);
		if (memchr(p, 0, n))
			return ctr_err(err, CTR_EINVAL, 0, "env file %.200s: line %zu holds a NUL", path, lineno + 1);
		/* a blank line unsets nothing: leave it out */
		json_t *line = n ? json_stringn(p, n) : NULL;
		if (n && !line)
			return ctr_err(err, CTR_EINVAL, 0, "env file %.200s: line %zu is not valid UTF-8", path,
				       lineno + 1);
		if (line && json_array_append_new(over, line) < 0)
			return ctr_err_nomem(err);
		p = nl ? nl + 1 : end;
	}
	if (!json_array_size(over))
		return 0;
	return merge_env(target, over, false, err);
}

CTR_EXPORT ctr_opt *ctr_with_env_file(const char *path)
{
	return ctr_oci_opt_str("ctr_with_env_file", apply_env_file, path);
}

static int apply_default_path(void *target, void *ud, ctr_error **err)
{
	_cleanup_(ctr_oci_json_decrefp) json_t *over = json_pack("[s]", CTR_OCI_DEFAULT_PATH);
	if (!over)
		return ctr_err_nomem(err);
	return merge_env(target, over, false, err);
}

CTR_EXPORT ctr_opt *ctr_with_default_path_env(void)
{
	return ctr_oci_opt("ctr_with_default_path_env", apply_default_path, NULL);
}

static int apply_cwd(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	json_t *proc = process_of(target);
	if (!proc)
		return ctr_err_nomem(err);
	if (a->s[0][0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "cwd \"%.200s\" is not an absolute path", a->s[0]);
	return ctr_oci_set_str(proc, "cwd", a->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_cwd(const char *cwd)
{
	return ctr_oci_opt_str("ctr_with_cwd", apply_cwd, cwd);
}

static int apply_tty(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	json_t *proc = process_of(s);
	if (!proc || json_object_set_new(proc, "terminal", json_true()) < 0)
		return ctr_err_nomem(err);
	if (json_object_get(s->root, "linux")) {
		json_t *env = ctr_oci_arr(proc, "env");
		if (!env || json_array_append_new(env, json_string("TERM=xterm")) < 0)
			return ctr_err_nomem(err);
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_tty(void)
{
	return ctr_oci_opt("ctr_with_tty", apply_tty, NULL);
}

static int apply_tty_size(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	json_t *proc = process_of(target);
	if (!proc || json_object_set_new(proc, "consoleSize",
					 json_pack("{s:I, s:I}", "height", (json_int_t)a->u[0], "width",
						   (json_int_t)a->i[0])) < 0)
		return ctr_err_nomem(err);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_tty_size(uint32_t width, uint32_t height)
{
	return ctr_oci_opt_iu("ctr_with_tty_size", apply_tty_size, width, height);
}

static const char *const rlimit_types[] = {
	"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
	"RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
	"RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
	"RLIMIT_STACK",
};

static int apply_rlimit(void *target, void *ud, ctr_error **err)
{
	struct ctr_oci_arg *a = ud;
	bool known = false;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(rlimit_types); i++)
		known |= !strcmp(a->s[0], rlimit_types[i]);
	if (!known)
		return ctr_err(err, CTR_EINVAL, 0, "unknown rlimit type \"%.100s\"", a->s[0]);
	if (a->u[0] > INT64_MAX || a->u[1] > INT64_MAX)
		return ctr_err(err, CTR_EINVAL, ERANGE, "%s: limit above %lld", a->s[0], (long long)INT64_MAX);
	if (a->u[0] > a->u[1])
		return ctr_err(err, CTR_EINVAL, 0, "%s: soft limit above hard limit", a->s[0]);
	json_t *proc = process_of(target);
	json_t *rl = proc ? ctr_oci_arr(proc, "rlimits") : NULL;
	json_t *e = json_pack("{s:s, s:I, s:I}", "type", a->s[0], "hard", (json_int_t)a->u[1],
			      "soft", (json_int_t)a->u[0]);
	if (!rl || !e) {
		json_decref(e);
		return ctr_err_nomem(err);
	}
	for (size_t i = 0; i < json_array_size(rl); i++)
		if (!strcmp(ctr_json_str(json_array_get(rl, i), "type") ?: "", a->s[0]))
			return json_array_set_new(rl, i, e) < 0 ? ctr_err_nomem(err) : 0;
	return json_array_append_new(rl, e) < 0 ? ctr_err_nomem(err) : 0;
}

CTR_EXPORT ctr_opt *ctr_with_rlimit(const char *type, uint64_t soft, uint64_t hard)
{
	struct ctr_oci_arg *a = type ? ctr_oci_arg_new() : NULL;
	if (!a || !(a->s[0] = strdup(type))) {
		ctr_oci_arg_free(a);
		return NULL;
	}
	a->u[0] = soft;
	a->u[1] = hard;
	return ctr_oci_opt("ctr_with_rlimit", apply_rlimit, a);
}

static int apply_no_new_privs(void *target, void *ud, ctr_error **err)
{
	json_t *proc = process_of(target);
	if (!proc)
		return ctr_err_nomem(err);
	if (ud)
		return json_object_set_new(proc, "noNewPrivileges", json_true()) < 0 ? ctr_err_nomem(err) : 0;
	json_object_del(proc, "noNewPrivileges");
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_no_new_privileges(void)
{
	struct ctr_oci_arg *a = ctr_oci_arg_new();
	return a ? ctr_oci_opt("ctr_with_no_new_privileges", apply_no_new_privs, a) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_new_privileges(void)
{
	return ctr_oci_opt("ctr_with_new_privileges", apply_no_new_privs, NULL);
}

static int apply_user(void *target, void *ud, ctr_error **err)
{
	return ctr_oci_apply_user(target, ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_user(const char *user)
{
	return ctr_oci_opt_str("ctr_with_user", apply_user, user);
}

static int apply_additional_gids(void *target, void *ud, ctr_error **err)
{
	return ctr_oci_apply_additional_gids(target, ((struct ctr_oci_arg *)ud)->s[0], err);
}

CTR_EXPORT ctr_opt *ctr_with_additional_gids(const char *user)
{
	return ctr_oci_opt_str("ctr_with_additional_gids", apply_additional_gids, user);
}

/* ---- capabilities ---- */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

const char *ctr_oci_cap_name(unsigned bit)
{
	return bit < CTR_ARRAY_SIZE(cap_names) ? cap_names[bit] : NULL;
}

json_t *ctr_oci_caps_from_bitmap(uint64_t bits)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < 64; i++)
		if ((bits >> i) & 1 && ctr_oci_cap_name(i))
			json_array_append_new(a, json_string(ctr_oci_cap_name(i)));
	return a;
}

int ctr_oci_parse_cap_eff(const char *status, uint64_t *out, ctr_error **err)
{
	for (const char *p = status; p && *p;) {
		if (!strncmp(p, "CapEff:", 7)) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p + 7, &end, 16);
			while (*end == ' ' || *end == '\t')
				end++;
			if (errno || end == p + 7 || (*end && *end != '\n'))
				return ctr_err(err, CTR_EINVAL, 0, "malformed CapEff line in process status");
			*out = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return ctr_err(err, CTR_EINVAL, 0, "no CapEff line in process status");
}

static bool cap_valid(const char *c)
{
	if (strncmp(c, "CAP_", 4) || !c[4])
		return false;
	for (const char *p = c + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

static bool arr_has(const json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)) ?: "", s))
			return true;
	return false;
}

/* Sets caps[key] to arr, or removes it when arr is empty (Go's omitempty). */
static int set_or_drop(json_t *caps, const char *key, json_t *arr)
{
	if (!json_array_size(arr)) {
		json_decref(arr);
		json_object_del(caps, key);
		return 0;
	}
	return json_object_set_new(caps, key, arr);
}

int ctr_oci_set_capabilities(json_t *root, const json_t *list, ctr_error **err)
{
	json_t *proc = ctr_oci_obj(root, "process");
	json_t *caps = proc ? ctr_oci_obj(proc, "capabilities") : NULL;
	if (!caps)
		return ctr_err_nomem(err);
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(sets); i++)
		if (set_or_drop(caps, sets[i], json_copy((json_t *)list)) < 0)
			return ctr_err_nomem(err);
	json_t *inh = json_object_get(caps, "inheritable");
	if (json_array_size(list) == 0)
		json_object_del(caps, "inheritable");
	else if (json_array_size(inh)) {
		json_t *keep = json_array();
		for (size_t i = 0; keep && i < json_array_size(inh); i++)
			if (arr_has(list, json_string_value(json_array_get(inh, i)) ?: ""))
				json_array_append(keep, json_array_get(inh, i));
		if (!keep || set_or_drop(caps, "inheritable", keep) < 0)
			return ctr_err_nomem(err);
	}
	return 0;
}

int ctr_oci_check_caps(char **v, ctr_error **err)
{
	for (size_t i = 0; v[i]; i++)
		if (!cap_valid(v[i]))
			return ctr_err(err, CTR_EINVAL, 0,
				       "capability \"%.100s\" is not a CAP_ name", v[i]);
	return 0;
}

static int apply_caps(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	int r = ctr_oci_check_caps(a->v[0], err);
	if (r < 0)
		return r;
	_cleanup_(ctr_oci_json_decrefp) json_t *list = NULL;
	if ((r = ctr_oci_strv_json((const char *const *)a->v[0], "capabilities", &list, err)) < 0)
		return r;
	return ctr_oci_set_capabilities(s->root, list, err);
}

CTR_EXPORT ctr_opt *ctr_with_capabilities(const char *const *caps)
{
	return ctr_oci_opt_strv("ctr_with_capabilities", apply_caps, caps);
}

static int apply_caps_add(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	int r = ctr_oci_check_caps(a->v[0], err);
	if (r < 0)
		return r;
	json_t *proc = process_of(s);
	json_t *caps = proc ? ctr_oci_obj(proc, "capabilities") : NULL;
	if (!caps)
		return ctr_err_nomem(err);
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; a->v[0][i]; i++)
		for (size_t k = 0; k < CTR_ARRAY_SIZE(sets); k++) {
			json_t *set = ctr_oci_arr(caps, sets[k]);
			if (!set)
				return ctr_err_nomem(err);
			if (!arr_has(set, a->v[0][i]) &&
			    json_array_append_new(set, json_string(a->v[0][i])) < 0)
				return ctr_err_nomem(err);
		}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_added_capabilities(const char *const *caps)
{
	return ctr_oci_opt_strv("ctr_with_added_capabilities", apply_caps_add, caps);
}

static int apply_caps_drop(void *target, void *ud, ctr_error **err)
{
	struct ctr_spec *s = target;
	struct ctr_oci_arg *a = ud;
	int r = ctr_oci_check_caps(a->v[0], err);
	if (r < 0)
		return r;
	json_t *proc = process_of(s);
	json_t *caps = proc ? ctr_oci_obj(proc, "capabilities") : NULL;
	if (!caps)
		return ctr_err_nomem(err);
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable"};
	for (size_t k = 0; k < CTR_ARRAY_SIZE(sets); k++) {
		json_t *set = json_object_get(caps, sets[k]);
		for (size_t i = 0; i < json_array_size(set);) {
			const char *c = json_string_value(json_array_get(set, i)) ?: "";
			bool drop = false;
			for (size_t j = 0; a->v[0][j]; j++)
				drop |= !strcmp(c, a->v[0][j]);
			if (drop)
				json_array_remove(set, i);
			else
				i++;
		}
		if (set && !json_array_size(set))
			json_object_del(caps, sets[k]);
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_dropped_capabilities(const char *const *caps)
{
	return ctr_oci_opt_strv("ctr_with_dropped_capabilities", apply_caps_drop, caps);
}
