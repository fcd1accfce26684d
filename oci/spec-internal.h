/* Internal view of the OCI spec generator. */
#ifndef CTR_OCI_SPEC_INTERNAL_H
#define CTR_OCI_SPEC_INTERNAL_H

#include <ctr/spec.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The target of CTR_OPT_SPEC options: the spec document plus what
 * containerd's SpecOpts get from their context and container. */
struct ctr_spec {
	json_t *root;      /* the runtime spec, owned */
	char *ns;          /* namespace, owned */
	char *id;          /* container id, owned ("" for none) */
	int rootfd;        /* image rootfs for user lookup, owned, -1 for none */
	char *stop_signal; /* from the image config, owned; NULL: SIGTERM */
};

static inline void ctr_oci_json_decrefp(json_t **j) { json_decref(*j); }

/* The default spec's literal values, shared with the tests. */
#define CTR_OCI_VERSION "1.0.2-dev"
#define CTR_OCI_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Largest uid/gid accepted (runc's limit, which containerd follows). */
#define CTR_OCI_MAX_ID 2147483647u
/* Largest /etc/passwd or /etc/group read from an image. */
#define CTR_OCI_MAX_USER_FILE (10u << 20)

/* Like ctr_spec_new, with the rootfs as a directory fd (dup'ed; -1 none)
 * for callers that hold a mounted snapshot. */
int ctr_spec_new_at(ctr_spec **out, const char *ns, const char *id, int rootfd,
		    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Builds containerd's default Linux spec for ns and id ("" for none). */
json_t *ctr_oci_default_spec(const char *ns, const char *id);

/* jansson helpers: get the object/array at key, creating it when missing or
 * of another type. NULL only on allocation failure. */
json_t *ctr_oci_obj(json_t *parent, const char *key);
json_t *ctr_oci_arr(json_t *parent, const char *key);
/* spec.linux and spec.linux.resources(.sub when sub is not NULL), created
 * when missing. NULL only on allocation failure. */
static inline json_t *ctr_oci_linux_of(struct ctr_spec *s) { return ctr_oci_obj(s->root, "linux"); }
static inline json_t *ctr_oci_resources_of(struct ctr_spec *s, const char *sub)
{
	json_t *l = ctr_oci_linux_of(s);
	json_t *r = l ? ctr_oci_obj(l, "resources") : NULL;
	return r && sub ? ctr_oci_obj(r, sub) : r;
}
/* NULL-terminated strv -> JSON array of strings; CTR_EINVAL when a string
 * is not UTF-8 (jansson refuses it). `what` names it in the message. */
int ctr_oci_strv_json(const char *const *v, const char *what, json_t **out, ctr_error **err);
/* Sets obj[key] to a string, CTR_EINVAL when not UTF-8. */
int ctr_oci_set_str(json_t *obj, const char *key, const char *v, ctr_error **err);
/* containerd's replaceOrAppendEnvValues: returns a new array. */
json_t *ctr_oci_env_merge(const json_t *defaults, const json_t *overrides);

/* Arguments of a library spec option, owned by the option. */
struct ctr_oci_arg {
	char *s[3];
	char **v[2];
	int64_t i[2];
	uint64_t u[2];
	double d;
	ctr_id_map *maps[2];
	size_t n[2];
};
struct ctr_oci_arg *ctr_oci_arg_new(void);
void ctr_oci_arg_free(void *a);
/* Makes a CTR_OPT_SPEC option named `name` that owns a (may be NULL). The
 * apply function gets the struct ctr_spec and the arg. NULL on ENOMEM. */
ctr_opt *ctr_oci_opt(const char *name, ctr_opt_apply_fn apply, struct ctr_oci_arg *a);
/* An option with one copied string argument; NULL when s is NULL. */
ctr_opt *ctr_oci_opt_str(const char *name, ctr_opt_apply_fn apply, const char *s);
/* An option with one int64 argument (i[0]). */
ctr_opt *ctr_oci_opt_i64(const char *name, ctr_opt_apply_fn apply, int64_t v);
/* An option with an int64 (i[0]) and a uint64 (u[0]) argument. */
ctr_opt *ctr_oci_opt_iu(const char *name, ctr_opt_apply_fn apply, int64_t i, uint64_t u);
/* Sets process[key] to v, or removes it when v is "" (Go's omitempty). */
int ctr_oci_set_process_str(struct ctr_spec *s, const char *key, const char *v, ctr_error **err);
/* An option with one copied strv argument (v NULL: empty). */
ctr_opt *ctr_oci_opt_strv(const char *name, ctr_opt_apply_fn apply, const char *const *v);

/* Capabilities. */
const char *ctr_oci_cap_name(unsigned bit);
/* Parses CapEff from /proc/<pid>/status text. CTR_EINVAL when malformed or missing. */
int ctr_oci_parse_cap_eff(const char *status, uint64_t *out, ctr_error **err);
/* Names of the known capabilities set in bits, in bit order. */
json_t *ctr_oci_caps_from_bitmap(uint64_t bits);
/* CTR_EINVAL unless every entry of v is a CAP_ name. */
int ctr_oci_check_caps(char **v, ctr_error **err);
/* WithCapabilities(caps): sets bounding/effective/permitted, filters inheritable. */
int ctr_oci_set_capabilities(json_t *root, const json_t *caps, ctr_error **err);

/* Appends the device nodes under dir (recursively, skipping what
 * containerd's getDevices skips) to the JSON array out. */
int ctr_oci_host_devices(const char *dir, json_t *out, ctr_error **err);
/* Appends the device nodes at path (one node, or a directory walked as
 * containerd's getDevices walks it, in name order) to out, renamed under
 * cpath when cpath is not NULL or "". */
int ctr_oci_get_devices(const char *path, const char *cpath, json_t *out, ctr_error **err);

/* User resolution (user.c). */
int ctr_oci_apply_user(struct ctr_spec *s, const char *user, ctr_error **err);
int ctr_oci_apply_additional_gids(struct ctr_spec *s, const char *user, ctr_error **err);
/* Reads rootfd's /etc/passwd or /etc/group (name is "etc/passwd" or
 * "etc/group") inside the root: regular file, at most
 * CTR_OCI_MAX_USER_FILE bytes. CTR_ENOTFOUND when missing, CTR_EINVAL when
 * not a regular file or too big. *out is freed with free(). */
int ctr_oci_read_user_file(int rootfd, const char *name, char **out, ctr_error **err);

/* Seccomp (seccomp.c). goarch is Go's name of the architecture ("amd64",
 * "arm64", ...): the profile is built as containerd builds it on that
 * architecture. kernel_major/minor gate the ptrace group (>= 4.8). bounding
 * is the process's bounding capabilities (may be NULL). */
json_t *ctr_oci_seccomp_profile(const json_t *bounding, const char *goarch,
				int kernel_major, int kernel_minor);
/* Reads and checks the Docker/containerd-format profile at path (syscall
 * names and architectures through libseccomp) and sets *out to its OCI
 * linux.seccomp form. CTR_ENOTFOUND when missing, CTR_EINVAL naming what is
 * wrong, CTR_ENOTSUP when built without libseccomp. */
int ctr_oci_seccomp_load(const char *path, json_t **out, ctr_error **err);
/* Go's name of the architecture this library was built for. */
const char *ctr_oci_goarch(void);

#endif
