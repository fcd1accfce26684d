/* libctr: the OCI runtime-spec generator (containerd's oci package).
 *
 * ctr_spec_new() builds containerd's default Linux spec (populateDefaultUnixSpec)
 * for a namespace and container id, then applies spec options (kind
 * CTR_OPT_SPEC) in order, as containerd's oci.GenerateSpec does with SpecOpts.
 * The result is read as JSON text for a bundle's config.json. Nothing here
 * starts a process or touches the host except where an option says so
 * (ctr_with_all_current_capabilities reads /proc/self/status,
 * ctr_with_host_devices walks /dev, ctr_with_devices and
 * ctr_with_linux_device read the device paths given, ctr_with_env_file,
 * ctr_with_spec_from_file and ctr_with_seccomp_profile read their file,
 * user options read the rootfs' /etc/passwd and /etc/group). */
#ifndef CTR_SPEC_H
#define CTR_SPEC_H

#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctr_spec ctr_spec;

/* containerd's container label that records the image's stop signal. */
#define CTR_STOP_SIGNAL_LABEL "io.containerd.image.config.stop-signal"

/* Builds the default spec and applies opts in order.
 * ns: namespace (required, an identifier); id: container id (an identifier,
 * or NULL/"" for none, as `ctr oci spec` does); cgroupsPath becomes
 * "/<ns>/<id>". rootfs: the unpacked image root used to look up users and
 * groups (NULL: no lookup; numeric users still work, names fail with
 * CTR_ENOTFOUND). Files are read only inside rootfs: symlinks are resolved
 * as if rootfs were "/".
 * Errors: CTR_EINVAL (bad identifier, option or value), CTR_ENOTFOUND (user
 * or group name not in the image, rootfs missing), CTR_EIO, CTR_ENOMEM. */
CTR_EXPORT int ctr_spec_new(ctr_spec **out, const char *ns, const char *id,
			    const char *rootfs, const ctr_opt *const *opts,
			    size_t n_opts, ctr_error **err);
/* Applies more options to an existing spec; on failure the spec may be half
 * changed (as in containerd) and should be discarded. */
CTR_EXPORT int ctr_spec_apply(ctr_spec *s, const ctr_opt *const *opts, size_t n_opts,
			      ctr_error **err);
CTR_EXPORT void ctr_spec_free(ctr_spec *s);

#define CTR_SPEC_JSON_PRETTY 1u /* indent by 4 like `ctr oci spec` */
/* The spec as JSON text (config.json). *out is allocated: free it with
 * ctr_free(). flags: 0 or CTR_SPEC_JSON_PRETTY. */
CTR_EXPORT int ctr_spec_to_json(char **out, const ctr_spec *s, unsigned flags,
				ctr_error **err);
/* The stop signal from the image config given with
 * ctr_with_image_config(), or "SIGTERM" (containerd's default). Borrowed
 * from s. Store it in the container's labels under CTR_STOP_SIGNAL_LABEL. */
CTR_EXPORT const char *ctr_spec_stop_signal(const ctr_spec *s);

/* One-shot: ctr_spec_new + ctr_spec_to_json(0) + ctr_spec_free. *json_out
 * is freed with ctr_free(). */
CTR_EXPORT int ctr_spec_generate(char **json_out, const char *ns, const char *id,
				 const char *rootfs, const ctr_opt *const *opts,
				 size_t n_opts, ctr_error **err);

/* ---- Spec options (kind CTR_OPT_SPEC). Strings and arrays are copied.
 * A constructor returns NULL only when out of memory or given a NULL where a
 * value is required; values are checked when the option is applied, and a
 * bad one fails the call with CTR_EINVAL and a message naming it. Arrays of
 * strings are NULL-terminated. */

/* The image's config, as the JSON text of the OCI image config blob
 * (containerd's WithImageConfig): env (the image's, or the default PATH when
 * it has none, with the spec's own env laid over it), args = entrypoint +
 * cmd, cwd = workingDir or "/", user (resolved in rootfs) with supplementary
 * groups from /etc/group, and the stop signal for ctr_spec_stop_signal(). */
CTR_EXPORT ctr_opt *ctr_with_image_config(const char *config_json);
/* Like ctr_with_image_config, but args (when non-empty) replace the
 * image's cmd (containerd's WithImageConfigArgs). */
CTR_EXPORT ctr_opt *ctr_with_image_config_args(const char *config_json,
						   const char *const *args);
/* process.args = args (containerd's WithProcessArgs). */
CTR_EXPORT ctr_opt *ctr_with_process_args(const char *const *args);
/* "K=V" replaces K or appends; "K" alone removes K (WithEnv). */
CTR_EXPORT ctr_opt *ctr_with_env(const char *const *env);
/* Sets PATH to the default when missing or different (WithDefaultPathEnv). */
CTR_EXPORT ctr_opt *ctr_with_default_path_env(void);
CTR_EXPORT ctr_opt *ctr_with_cwd(const char *cwd);
/* terminal = true and TERM=xterm appended (WithTTY). */
CTR_EXPORT ctr_opt *ctr_with_tty(void);
CTR_EXPORT ctr_opt *ctr_with_hostname(const char *hostname);
/* type is "RLIMIT_*"; replaces an rlimit of the same type or appends.
 * Values above INT64_MAX are refused (JSON integers here are signed). */
CTR_EXPORT ctr_opt *ctr_with_rlimit(const char *type, uint64_t soft, uint64_t hard);
/* Appends a mount: e.g. ("bind", "/host/dir", "/dst", {"rbind","ro",NULL})
 * or ("tmpfs", "tmpfs", "/tmp", {"nosuid","size=64m",NULL}). destination
 * must be absolute; options may be NULL. */
CTR_EXPORT ctr_opt *ctr_with_mount(const char *type, const char *source,
				       const char *destination, const char *const *options);
/* Removes mounts whose destination is one of dests (WithoutMounts). */
CTR_EXPORT ctr_opt *ctr_with_mounts_removed(const char *const *dests);
/* Leaves the namespace of type ("pid", "network", "ipc", "uts", "mount",
 * "cgroup", "user", "time") to the host: removes it from the spec. */
CTR_EXPORT ctr_opt *ctr_with_host_namespace(const char *type);
/* Joins or replaces a namespace by path (WithLinuxNamespace); path may be NULL. */
CTR_EXPORT ctr_opt *ctr_with_linux_namespace(const char *type, const char *path);
/* Read-only binds of the host's /etc/hosts, /etc/resolv.conf. */
CTR_EXPORT ctr_opt *ctr_with_host_hosts_file(void);
CTR_EXPORT ctr_opt *ctr_with_host_resolvconf(void);
/* What `ctr run --net-host` adds: host network namespace, the two binds
 * above and HOSTNAME=<host name> in env. */
CTR_EXPORT ctr_opt *ctr_with_host_network(void);
CTR_EXPORT ctr_opt *ctr_with_rootfs_readonly(void);
/* root.path = path (containerd's WithRootFSPath). An absolute path makes a
 * container without a snapshot run on that host directory as is (`ctr run
 * --rootfs`); user names are then not resolved (numeric users only). */
CTR_EXPORT ctr_opt *ctr_with_rootfs_path(const char *path);
/* containerd's WithPrivileged: every capability libctr knows (as
 * ctr_with_all_capabilities), not only those the caller has; no masked or
 * read-only paths, writable sysfs and cgroupfs, no SELinux label, AppArmor
 * profile or seccomp. Inheritable capabilities stay empty. Devices: add
 * ctr_with_all_devices_allowed() and ctr_with_host_devices() as
 * `ctr run --privileged` does. */
CTR_EXPORT ctr_opt *ctr_with_privileged(void);
/* linux.maskedPaths / linux.readonlyPaths = paths, replacing the list (NULL
 * or empty: none). Each path must be absolute (WithMaskedPaths,
 * WithReadonlyPaths). */
CTR_EXPORT ctr_opt *ctr_with_masked_paths(const char *const *paths);
CTR_EXPORT ctr_opt *ctr_with_readonly_paths(const char *const *paths);
/* Every "ro" option of the sysfs (cgroup) mounts becomes "rw"
 * (WithWriteableSysfs, WithWriteableCgroupfs). */
CTR_EXPORT ctr_opt *ctr_with_writeable_sysfs(void);
CTR_EXPORT ctr_opt *ctr_with_writeable_cgroupfs(void);
/* process.selinuxLabel = label; "" removes it (WithSelinuxLabel). */
CTR_EXPORT ctr_opt *ctr_with_selinux_label(const char *label);
/* The cgroup device rules are left out, so the container inherits its
 * parent cgroup's (WithParentCgroupDevices). */
CTR_EXPORT ctr_opt *ctr_with_parent_cgroup_devices(void);
/* The device node at path (a character, block or fifo node; not followed
 * when a symlink) is added to linux.devices with a cgroup rule allowing
 * permissions, a non-empty subset of "rwm" (WithLinuxDevice). Errors when
 * applied: CTR_ENOTFOUND (no such path), CTR_EINVAL (not a device node, bad
 * permissions). */
CTR_EXPORT ctr_opt *ctr_with_linux_device(const char *path, const char *permissions);
/* containerd's WithDevices (`ctr run --device`): path is one device node,
 * or a directory whose device nodes are added recursively in name order
 * (skipping pts, shm, fd, mqueue, .lxc, .lxd-mounts, .udev, console,
 * fifos and symlinks), each with a cgroup rule allowing permissions.
 * container_path (NULL or "": the host path) renames them in the
 * container; it must be absolute. */
CTR_EXPORT ctr_opt *ctr_with_devices(const char *path, const char *container_path,
				       const char *permissions);
/* One entry of linux.devices, as the runtime spec has it. type is 'c',
 * 'b', 'u' or 'p'; path absolute. */
typedef struct ctr_linux_device {
	const char *path;
	char type;
	int64_t major;
	int64_t minor;
	uint32_t file_mode;
	uint32_t uid;
	uint32_t gid;
} ctr_linux_device;
/* Appends devices (copied) to linux.devices, without cgroup rules
 * (WithLinuxDevices). NULL when a path is NULL or not UTF-8. */
CTR_EXPORT ctr_opt *ctr_with_linux_devices(const ctr_linux_device *devices, size_t n);
/* Every capability libctr knows, in bounding, effective and permitted
 * (containerd's WithAllKnownCapabilities, WithAllCapabilities in 1.4). */
CTR_EXPORT ctr_opt *ctr_with_all_capabilities(void);
/* The capabilities in effect in the calling process (read from
 * /proc/self/status when applied; WithAllCurrentCapabilities). */
CTR_EXPORT ctr_opt *ctr_with_all_current_capabilities(void);
/* Sets the ambient and the inheritable set to caps ("CAP_*" names; NULL or
 * empty: none), as containerd's WithAmbientCapabilities does: the kernel
 * keeps an ambient capability only when it is also inheritable (and
 * permitted). No other option puts anything in the inheritable set. */
CTR_EXPORT ctr_opt *ctr_with_ambient_capabilities(const char *const *caps);
CTR_EXPORT ctr_opt *ctr_with_all_devices_allowed(void);
/* Adds every device node under the host's /dev (WithHostDevices). */
CTR_EXPORT ctr_opt *ctr_with_host_devices(void);
/* Cgroup rules for /dev/null, zero, full, random, urandom, tty, console,
 * ptmx and pts (WithDefaultUnixDevices). */
CTR_EXPORT ctr_opt *ctr_with_default_unix_devices(void);
/* Capabilities are "CAP_*" names. _with_capabilities sets bounding,
 * effective and permitted; _added adds to them; _dropped removes from them
 * and from inheritable. */
CTR_EXPORT ctr_opt *ctr_with_capabilities(const char *const *caps);
CTR_EXPORT ctr_opt *ctr_with_added_capabilities(const char *const *caps);
CTR_EXPORT ctr_opt *ctr_with_dropped_capabilities(const char *const *caps);
CTR_EXPORT ctr_opt *ctr_with_no_new_privileges(void);
CTR_EXPORT ctr_opt *ctr_with_new_privileges(void);
CTR_EXPORT ctr_opt *ctr_with_memory_limit(uint64_t bytes);
CTR_EXPORT ctr_opt *ctr_with_cpu_shares(uint64_t shares);
CTR_EXPORT ctr_opt *ctr_with_cpu_cfs(int64_t quota, uint64_t period);
/* `ctr run --cpus`: period 100000, quota = cpus * 100000. cpus > 0. */
CTR_EXPORT ctr_opt *ctr_with_cpus(double cpus);
CTR_EXPORT ctr_opt *ctr_with_pids_limit(int64_t limit);
/* linux.resources.memory.swap in bytes, -1 for unlimited (WithMemorySwap). */
CTR_EXPORT ctr_opt *ctr_with_memory_swap(int64_t bytes);
/* The cpuset: CPUs and memory nodes as a list such as "0-2,4" ("" removes
 * it; WithCPUs, WithCPUsMems). */
CTR_EXPORT ctr_opt *ctr_with_cpuset_cpus(const char *cpus);
CTR_EXPORT ctr_opt *ctr_with_cpuset_mems(const char *mems);
/* The size of the /dev/shm tmpfs in KiB, kb > 0: its size= options are
 * replaced by "size=<kb>k" (WithDevShmSize). CTR_ENOTFOUND when the spec
 * has no /dev/shm tmpfs of source "shm". */
CTR_EXPORT ctr_opt *ctr_with_dev_shm_size(int64_t kb);
/* A read-only bind of the host's /etc/localtime (WithHostLocaltime). */
CTR_EXPORT ctr_opt *ctr_with_host_localtime(void);
/* process.consoleSize = width x height (WithTTYSize). */
CTR_EXPORT ctr_opt *ctr_with_tty_size(uint32_t width, uint32_t height);
/* Every line of the file at path is given to ctr_with_env, as containerd's
 * WithEnvFile does: "K=V" sets, a line without '=' (a comment, a blank
 * line) unsets that name or does nothing. A trailing "\r" is dropped. The
 * file is read when the option applies: a regular file of at most 8 MiB,
 * lines at most 64 KiB (Go's scanner). CTR_ENOTFOUND when missing,
 * CTR_EINVAL when too big, not UTF-8, or a line starts with '='. */
CTR_EXPORT ctr_opt *ctr_with_env_file(const char *path);
/* The spec is replaced by the JSON runtime spec in json[0..len) (a JSON
 * object of at most 8 MiB; process, root, linux, annotations objects,
 * mounts an array, hostname and ociVersion strings when present); options
 * after it apply on top (WithSpecFromBytes). _from_file reads it from path
 * when applied (WithSpecFromFile; CTR_ENOTFOUND when missing). */
CTR_EXPORT ctr_opt *ctr_with_spec_from_bytes(const char *json, size_t len);
CTR_EXPORT ctr_opt *ctr_with_spec_from_file(const char *path);
CTR_EXPORT ctr_opt *ctr_with_cgroup(const char *path);
CTR_EXPORT ctr_opt *ctr_with_apparmor_profile(const char *profile);
/* containerd's apparmor.WithDefaultProfile: process.apparmorProfile = name,
 * after loading containerd's default container profile under that name
 * (generated for this host's AppArmor, loaded with apparmor_parser -Kr)
 * unless the kernel lists a profile of that name. The spec call fails with
 * CTR_ENOTSUP when the kernel has no AppArmor enabled or apparmor_parser
 * is not on PATH, CTR_EINVAL for a name that is not an identifier, CTR_EIO
 * when the parser refuses the profile. */
CTR_EXPORT ctr_opt *ctr_with_apparmor_default_profile(const char *name);
CTR_EXPORT ctr_opt *ctr_with_annotation(const char *key, const char *value);

/* One uid or gid mapping of a user namespace. */
typedef struct ctr_id_map {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
} ctr_id_map;
/* Adds a user namespace (once) and appends the mappings (WithUserNamespace). */
CTR_EXPORT ctr_opt *ctr_with_user_namespace(const ctr_id_map *uid_maps, size_t n_uid,
						const ctr_id_map *gid_maps, size_t n_gid);

/* The process user, from an OCI image USER string: "uid", "uid:gid",
 * "user", "user:group", "uid:group", "user:gid" (containerd's WithUser).
 * Names are looked up in the rootfs' /etc/passwd and /etc/group. A bare uid
 * takes its gid from /etc/passwd, or 0 when absent. additionalGids always
 * holds the gid. Ids above 2147483647, negative or malformed: CTR_EINVAL;
 * an unknown name: CTR_ENOTFOUND; a passwd or group file that is not a
 * regular file or is over 10 MiB: CTR_EINVAL. */
CTR_EXPORT ctr_opt *ctr_with_user(const char *user);
/* Supplementary groups of user (a name, or a uid looked up in /etc/passwd)
 * from /etc/group membership, after the gid (WithAdditionalGIDs). */
CTR_EXPORT ctr_opt *ctr_with_additional_gids(const char *user);
/* containerd's default seccomp profile, built for the process's bounding
 * capabilities at the time the option applies: put it after capability
 * options. Off unless this option is given, as in containerd. */
CTR_EXPORT ctr_opt *ctr_with_seccomp_default(void);
CTR_EXPORT ctr_opt *ctr_with_seccomp_unconfined(void);
/* The seccomp profile in the file at path (copied), in the Docker and
 * containerd format: defaultAction, defaultErrnoRet, architectures or
 * archMap, syscalls[] with name or names, action, errnoRet and args. The
 * file is read when the option applies; every syscall name and architecture
 * must be known to libseccomp. Errors: CTR_ENOTFOUND when the file is
 * missing, CTR_EINVAL naming the bad JSON, action, architecture, syscall or
 * argument op, CTR_ENOTSUP when libctr was built without libseccomp. */
CTR_EXPORT ctr_opt *ctr_with_seccomp_profile(const char *path);

#ifdef __cplusplus
}
#endif
#endif
