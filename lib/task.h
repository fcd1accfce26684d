/* Internal view of tasks: how the container API (ctr_container_new_task)
 * builds a ctr_task on the runtime layer. */
#ifndef CTR_LIB_TASK_H
#define CTR_LIB_TASK_H

#include <ctr/task.h>

#include "client.h"
#include "runtime.h"

struct ctr_task {
	int refs; /* atomic: ctr_task_ref/_free from any thread */
	ctr_client *client; /* a reference */
	ctr_rt_task *rt;
};

/* What CTR_OPT_TASK options set. Strings are owned (ctr_task_opts_clear). */
struct ctr_task_opts {
	struct ctr_rt_io io;
	char *paths[4]; /* owned storage behind io's paths */
	char *runtime;
	bool volatile_rootfs; /* ctr_with_task_volatile_rootfs */
	/* runc's options (ctr_rt_opts); the strings are owned */
	char *runc_root, *criu, *shim_cgroup;
	bool systemd_cgroup, no_pivot, no_new_keyring;
};
/* o's runc options as the runtime layer takes them, borrowing o's strings;
 * runtime overrides o->runtime when o has none. */
struct ctr_rt_opts ctr_task_opts_runc(const struct ctr_task_opts *o, const char *runtime);

/* Applies CTR_OPT_TASK (and, when call is non-NULL, CTR_OPT_CALL) options. */
int ctr_task_opts_parse(struct ctr_task_opts *o, struct ctr_call *call, const ctr_opt *const *opts,
			size_t n_opts, const char *what, ctr_error **err);
void ctr_task_opts_clear(struct ctr_task_opts *o);

/* Unmounts the rootfs of the bundle at dir (every mount on it; none is
 * fine). When new_task mounted it volatile, a clean unmount also removes
 * the overlay's volatile marker, so the snapshot mounts again: the bundle
 * lives under the state directory, which a reboot (and so a crash of the
 * machine) clears, so its presence shows the upper directory is intact. */
int ctr_task_rootfs_unmount(const char *dir, ctr_error **err);

/* Wraps a runtime task (taking ownership of rt) in a public handle that
 * holds a reference on c. The container API's new_task does:
 *   ctr_rt_bundle_prepare -> mount the snapshot on <dir>/rootfs ->
 *   ctr_rt_create(opts.io, opts.runtime) -> ctr_task_wrap. */
int ctr_task_wrap(ctr_task **out, ctr_client *c, ctr_rt_task *rt, ctr_error **err);
/* ctr_task_load in namespace ns (not NULL). */
int ctr_tasks_load(ctr_task **out, ctr_client *c, const char *ns, const char *id, ctr_error **err);

/* Convenience for callers that already have a spec and a mounted rootfs
 * (absolute path): prepare + create + wrap in namespace ns (NULL: the
 * client's). Publishes /tasks/create. */
int ctr_task_new_bundle(ctr_task **out, ctr_client *c, const char *ns, const char *id,
			const char *config_json, const char *rootfs, const ctr_opt *const *opts,
			size_t n_opts, ctr_error **err);

#endif
