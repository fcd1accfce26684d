/* libctr: containers (containerd's containers.Store and client.NewContainer).
 * A container is a record: an id, a runtime, an OCI spec, and optionally an
 * image and the snapshot that is its root filesystem. Running it is a task
 * (ctr/task.h). Calls run in the client's namespace or the one
 * ctr_with_call_namespace names; snapshots made for a container take
 * ctr_with_lease like every creating call. */
#ifndef CTR_CONTAINER_H
#define CTR_CONTAINER_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/image.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctr_container ctr_container;

#define CTR_DEFAULT_RUNTIME "io.containerd.runc.v2"

/* Container options (kind CTR_OPT_CONTAINER), applied in order. */
/* Records the image's name (WithImage). The image handle is borrowed. */
CTR_EXPORT ctr_opt *ctr_with_image(const ctr_image *img);
/* Records an image name without reading any image (WithImageName): the
 * image need not exist here. name must be a valid image name (CTR_EINVAL
 * from ctr_container_new and ctr_container_update otherwise). */
CTR_EXPORT ctr_opt *ctr_with_image_name(const char *name);
/* A new active snapshot `key` on the image's unpacked top layer for the
 * handle's platform (its pull's, else the client's default, else the
 * host's) (WithNewSnapshot). The image must be unpacked in the
 * container's snapshotter: CTR_ENOTFOUND otherwise. */
CTR_EXPORT ctr_opt *ctr_with_new_snapshot(const char *key, const ctr_image *img);
/* The same, read-only (WithNewSnapshotView). */
CTR_EXPORT ctr_opt *ctr_with_new_snapshot_view(const char *key, const ctr_image *img);
/* The same with snapshot options (kind CTR_OPT_SNAPSHOT, containerd's
 * snapshots.Opt: ctr_with_snapshot_labels) for the new snapshot, as
 * containerd's WithNewSnapshot(id, image, opts...) and
 * WithNewSnapshotView. The array is borrowed: it must live until the call
 * that takes this option returns. */
CTR_EXPORT ctr_opt *ctr_with_new_snapshot_opts(const char *key, const ctr_image *img,
					       const ctr_opt *const *snapshot_opts, size_t n_snapshot_opts);
CTR_EXPORT ctr_opt *ctr_with_new_snapshot_view_opts(const char *key, const ctr_image *img,
						    const ctr_opt *const *snapshot_opts, size_t n_snapshot_opts);
/* A new snapshot `key` for a container with a user namespace whose
 * container IDs 0..65535 are host uids uid.. and gids gid..
 * (WithRemappedSnapshot; the container's image is recorded too): the
 * files show as owned by the host IDs, which the container sees as its
 * own 0..65535. Where the snapshotter and the kernel can, the snapshot is
 * labelled as ctr_with_remapper_labels (ctr/snapshot.h) and mounts
 * idmapped (a copy-up keeps the host IDs); elsewhere it is made on a
 * committed copy of the image's top layer whose files were chowned to the
 * host IDs (shared by every container of that image and mapping).
 * ctr_container_new also takes snapshot options (CTR_OPT_SNAPSHOT) for the
 * snapshot a ctr_with_new_snapshot* option makes. NULL when a range passes
 * 2^32. */
CTR_EXPORT ctr_opt *ctr_with_remapped_snapshot(const char *key, const ctr_image *img, uint32_t uid,
					       uint32_t gid);
/* The same, read-only (WithRemappedSnapshotView). */
CTR_EXPORT ctr_opt *ctr_with_remapped_snapshot_view(const char *key, const ctr_image *img, uint32_t uid,
						    uint32_t gid);
/* An existing snapshot as the rootfs (WithSnapshot). */
CTR_EXPORT ctr_opt *ctr_with_snapshot(const char *key);
/* The snapshotter for the options above (default: the namespace's
 * CTR_DEFAULT_SNAPSHOTTER_NS_LABEL, else CTR_DEFAULT_SNAPSHOTTER). */
CTR_EXPORT ctr_opt *ctr_with_snapshotter(const char *name);
/* Generates the spec: containerd's default spec for the namespace and id,
 * then spec_opts in order (ctr_with_* spec options). User names resolve in the
 * container's snapshot when there is one. The options are borrowed until
 * the ctr_opt is freed. */
CTR_EXPORT ctr_opt *ctr_with_new_spec(const ctr_opt *const *spec_opts, size_t n_spec_opts);
/* A spec given as JSON text (WithSpec). */
CTR_EXPORT ctr_opt *ctr_with_spec(const char *spec_json);
/* "io.containerd.runc.v2" (runc from PATH) or the path of an OCI runtime
 * binary such as /usr/bin/crun. Without it a new container takes the
 * client's ctr_with_default_runtime, else the namespace's
 * CTR_DEFAULT_RUNTIME_NS_LABEL, else CTR_DEFAULT_RUNTIME. */
CTR_EXPORT ctr_opt *ctr_with_runtime(const char *runtime);
/* "k=v" labels (WithContainerLabels). */
CTR_EXPORT ctr_opt *ctr_with_container_labels(const char *const *labels);
/* An extension: a name and a JSON value (WithContainerExtension). */
CTR_EXPORT ctr_opt *ctr_with_container_extension(const char *name, const char *json);

/* Creates the container. Errors: CTR_EINVAL (bad id, option, spec),
 * CTR_EEXISTS, CTR_ENOTFOUND (image not unpacked, snapshot missing). On
 * failure nothing is left: a snapshot made for it is removed. Publishes
 * /containers/create. */
CTR_EXPORT int ctr_container_new(ctr_container **out, ctr_client *c, const char *id,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Loads an existing container (from any process). CTR_ENOTFOUND. */
CTR_EXPORT int ctr_container_load(ctr_container **out, ctr_client *c, const char *id,
					 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Filters over id, image, runtime, snapshotter and labels.<key>. */
CTR_EXPORT int ctr_container_list(ctr_container ***out, size_t *n_out, ctr_client *c,
					  const char *const *filters, size_t n_filters,
					  const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Borrowed getters. */
CTR_EXPORT const char *ctr_container_id(const ctr_container *k);
CTR_EXPORT const char *ctr_container_namespace(const ctr_container *k);
/* NULL when the container has no image. */
CTR_EXPORT const char *ctr_container_image_name(const ctr_container *k);
CTR_EXPORT const char *ctr_container_runtime(const ctr_container *k);
/* The OCI runtime spec as JSON text. */
CTR_EXPORT const char *ctr_container_spec(const ctr_container *k);
CTR_EXPORT const char *ctr_container_snapshotter(const ctr_container *k);
CTR_EXPORT const char *ctr_container_snapshot_key(const ctr_container *k);
CTR_EXPORT const char *const *ctr_container_labels(const ctr_container *k);
/* The extensions as a JSON object text. */
CTR_EXPORT const char *ctr_container_extensions(const ctr_container *k);
CTR_EXPORT int64_t ctr_container_created_at(const ctr_container *k);
CTR_EXPORT int64_t ctr_container_updated_at(const ctr_container *k);
CTR_EXPORT ctr_client *ctr_container_client(const ctr_container *k);
/* containerd's GetStopSignal: the signal in the container's
 * CTR_STOP_SIGNAL_LABEL (<ctr/spec.h>; ctr_container_new records the image
 * config's StopSignal there), else default_sig (1-64). CTR_EINVAL when the
 * label holds no signal ctr_parse_signal reads. */
CTR_EXPORT int ctr_container_stop_signal(int *sig, const ctr_container *k, int default_sig, ctr_error **err);

/* The record as JSON, shaped like `ctr containers info` (containerd's
 * containers.Container). Free with ctr_free. */
CTR_EXPORT int ctr_container_info(char **json_out, const ctr_container *k, ctr_error **err);
/* The container's image record. CTR_ENOTFOUND when it has none. */
CTR_EXPORT int ctr_container_image(ctr_image **out, const ctr_container *k, ctr_error **err);
/* Label updates: "k=v" sets, "k=" removes. Publishes /containers/update. */
CTR_EXPORT int ctr_container_set_labels(ctr_container *k, const char *const *labels, ctr_error **err);
/* Update option (kind CTR_OPT_CONTAINER): only these parts change, as
 * containerd's field paths name them: "labels" (all replaced by the
 * options' labels), "labels.<key>" (that label set from the options, or
 * removed when they do not give it), "extensions", "extensions.<name>",
 * "spec", "image", "runtime", "snapshotkey" (the part from the options;
 * image and snapshotkey are cleared when none is given). An unknown path is
 * CTR_EINVAL. */
CTR_EXPORT ctr_opt *ctr_with_update_fields(const char *const *paths);
/* Applies container options to the record and stores it, reading and
 * writing it in one transaction. Without ctr_with_update_fields every part
 * an option gives changes (labels and extensions merge). Errors:
 * CTR_EINVAL for an option update does not support (ctr_with_new_snapshot,
 * ctr_with_new_snapshot_view, ctr_with_snapshot_cleanup, a snapshotter
 * without ctr_with_snapshot) or a bad field path, CTR_ENOTFOUND (the record
 * or the snapshot ctr_with_snapshot names); nothing changes on error. */
CTR_EXPORT int ctr_container_update(ctr_container *k, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err);

/* Creates the container's task (containerd's Container.NewTask): writes
 * the bundle, mounts the container's snapshot as its rootfs and runs the
 * runtime's create under a shim. Task options (ctr/task.h) pick the IO.
 * Errors: CTR_EEXISTS (a task exists), CTR_EPERM (mounting needs root),
 * the runtime's errors. On failure nothing is left mounted. */
struct ctr_task;
CTR_EXPORT int ctr_container_new_task(struct ctr_task **out, ctr_container *k,
				      const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* The container's existing task, from any process. CTR_ENOTFOUND. */
CTR_EXPORT int ctr_container_task(struct ctr_task **out, ctr_container *k, ctr_error **err);

/* Delete options (kind CTR_OPT_CONTAINER). */
/* Also remove the container's snapshot (WithSnapshotCleanup). */
CTR_EXPORT ctr_opt *ctr_with_snapshot_cleanup(void);

/* Deletes the record. CTR_EPRECONDITION while it has a task. Publishes
 * /containers/delete. The handle stays valid for getters. */
CTR_EXPORT int ctr_container_delete(ctr_container *k, const ctr_opt *const *opts, size_t n_opts,
				    ctr_error **err);
CTR_EXPORT void ctr_container_free(ctr_container *k);
CTR_EXPORT void ctr_container_list_free(ctr_container **v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
