/* A container's task: the bundle from the container's spec, its snapshot
 * mounted as the rootfs, then the runtime layer. */
#include <ctr/container.h>
#include <ctr/task.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "error.h"
#include "events.h"
#include "fs.h"
#include "snapshots.h"
#include "task.h"
#include "macro.h"

/* root.path of the spec when it is absolute, else NULL. */
static int spec_host_root(char **out, const char *spec, ctr_error **err)
{
	*out = NULL;
	json_t *j = json_loads(spec ? spec : "{}", 0, NULL);
	if (!j)
		return ctr_err(err, CTR_EINVAL, 0, "container spec is not valid JSON");
	const char *p = json_string_value(json_object_get(json_object_get(j, "root"), "path"));
	int r = 0;
	if (p && p[0] == '/' && !(*out = strdup(p)))
		r = ctr_err_nomem(err);
	json_decref(j);
	return r;
}

/* The workdir of a single writable overlay mount, else NULL (borrowed). */
static const char *overlay_workdir(const ctr_mount_list *ml)
{
	if (ml->n != 1 || strcmp(ml->v[0].type, "overlay") != 0)
		return NULL;
	const char *work = NULL;
	bool upper = false;
	for (char **o = ml->v[0].options; o && *o; o++) {
		if (!strncmp(*o, "workdir=", 8))
			work = *o + 8;
		else if (!strncmp(*o, "upperdir=", 9))
			upper = true;
	}
	return upper && work && work[0] == '/' ? work : NULL;
}

/* Mounts the snapshot's overlay with "volatile" and records its workdir
 * in the bundle (dfd). 1 when it did, 0 when the mount is not a writable
 * overlay or the kernel refused the option (nothing mounted), < 0 on a
 * failure after the mount (then unmounted again). */
static int mount_volatile(const ctr_mount_list *ml, int dfd, const char *rootfs, ctr_error **err)
{
	const char *work = overlay_workdir(ml);
	if (!work)
		return 0;
	size_t n = 0;
	while (ml->v[0].options[n])
		n++;
	_cleanup_free_ const char **opts = calloc(n + 2, sizeof(*opts));
	if (!opts)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++)
		opts[i] = ml->v[0].options[i];
	opts[n] = "volatile";
	struct ctr_mount m = {.type = ml->v[0].type, .source = ml->v[0].source, .options = (char **)opts};
	/* A kernel before 5.10 has no volatile overlays: a plain mount then. */
	if (ctr_mounts_apply(&m, 1, rootfs, NULL) < 0)
		return 0;
	int r = ctr_write_atomic(dfd, CTR_RT_VOLATILE_MARK, work, strlen(work), 0600, err);
	if (r < 0) {
		ctr_unmount(rootfs, true, NULL);
		return r;
	}
	return 1;
}

CTR_EXPORT int ctr_container_new_task(struct ctr_task **out, ctr_container *k, const ctr_opt *const *opts,
				      size_t n_opts, ctr_error **err)
{
	if (!out || !k)
		return ctr_err(err, CTR_EINVAL, 0, "new task: NULL argument");
	ctr_client *c = k->c;
	struct ctr_task_opts o;
	int r = ctr_task_opts_parse(&o, NULL, opts, n_opts, "new task", err);
	if (r < 0)
		return r;
	/* The container's runtime, unless the task overrides it. */
	const char *runtime = o.runtime;
	if (!runtime && k->md.runtime && strcmp(k->md.runtime, CTR_DEFAULT_RUNTIME) != 0)
		runtime = k->md.runtime;
	/* Without a snapshot, an absolute root.path (ctr_with_rootfs_path)
	 * is a host directory used as is; otherwise the bundle's own rootfs/. */
	_cleanup_free_ char *host_root = NULL;
	if (!k->md.snapshot_key)
		r = spec_host_root(&host_root, k->md.spec, err);
	_cleanup_free_ char *dir = NULL;
	if (r == 0)
		r = ctr_rt_bundle_prepare(&dir, c->state, k->ns, k->md.id, k->md.spec, host_root, o.io.terminal,
					  err);
	if (r < 0) {
		ctr_task_opts_clear(&o);
		return ctr_err_prefix(err, r, "new task %s", k->md.id);
	}
	_cleanup_free_ char *rootfs = NULL;
	if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
		r = ctr_err_nomem(err);
	bool mounted = false;
	if (r == 0 && k->md.snapshot_key) {
		ctr_mount_list *ml = NULL;
		r = ctr_snapshots_mounts(&ml, c, k->md.snapshotter, k->md.snapshot_key, &(struct ctr_call){.ns = k->ns},
					 err);
		int vol = 0;
		if (r == 0 && o.volatile_rootfs) {
			_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			vol = dfd < 0 ? ctr_err_errno(err, errno, "open %s", dir) : mount_volatile(ml, dfd, rootfs, err);
			if (vol < 0)
				r = vol;
		}
		if (r == 0 && vol == 0)
			r = ctr_mount_list_mount(ml, rootfs, err);
		ctr_mount_list_free(ml);
		mounted = r == 0;
	}
	ctr_rt_task *rt = NULL;
	if (r == 0) {
		struct ctr_rt_opts ro = ctr_task_opts_runc(&o, runtime);
		r = ctr_rt_create_opts(&rt, c->state, k->ns, k->md.id, &o.io, &ro, err);
	}
	ctr_task_opts_clear(&o);
	if (r < 0) {
		if (mounted)
			ctr_task_rootfs_unmount(dir, NULL);
		ctr_rt_bundle_remove(c->state, k->ns, k->md.id, NULL);
		return ctr_err_prefix(err, r, "new task %s", k->md.id);
	}
	ctr_task *t = NULL;
	if ((r = ctr_task_wrap(&t, c, rt, err)) < 0)
		return r;
	ctr_events_publish(c, k->ns, "/tasks/create",
			   json_pack("{s:s,s:s,s:I}", "container_id", k->md.id, "bundle", dir, "pid",
				     (json_int_t)ctr_task_pid(t)));
	*out = t;
	return 0;
}

CTR_EXPORT int ctr_container_task(struct ctr_task **out, ctr_container *k, ctr_error **err)
{
	if (!out || !k)
		return ctr_err(err, CTR_EINVAL, 0, "container task: NULL argument");
	return ctr_tasks_load(out, k->c, k->ns, k->md.id, err);
}
