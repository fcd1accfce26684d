/* libctr: checkpoint images (containerd's Container.Checkpoint and
 * Client.Restore).
 *
 * A checkpoint is an image whose target is an OCI index. Its annotations
 * name the container's image ("org.opencontainers.image.ref.name"), runtime
 * ("io.containerd.checkpoint.runtime") and snapshotter
 * ("io.containerd.checkpoint.snapshotter"); its entries, with containerd's
 * media types, hold the container's spec (CTR_MT_CHECKPOINT_CONFIG, a
 * protobuf Any around the spec's JSON, as containerd writes it), and as the
 * options ask: the image's own target, the read-write layer as a gzip diff
 * (an OCI layer), and the task's CRIU image made by `runc checkpoint`
 * (CTR_MT_CHECKPOINT_CRIU) with its options. Checkpoints are images like
 * any other: they push and fetch (fetch it, or pull with all platforms: a
 * pull keeps one entry of an index, as containerd's does). */
#ifndef CTR_CHECKPOINT_H
#define CTR_CHECKPOINT_H

#include <ctr/common.h>
#include <ctr/opts.h>
#include <ctr/client.h>
#include <ctr/container.h>
#include <ctr/image.h>
#include <ctr/task.h>

#ifdef __cplusplus
extern "C" {
#endif

/* containerd's images.MediaTypeContainerd1* for checkpoints. */
#define CTR_MT_CHECKPOINT_CRIU "application/vnd.containerd.container.criu.checkpoint.criu.tar"
#define CTR_MT_CHECKPOINT_CONFIG "application/vnd.containerd.container.checkpoint.config.v1+proto"
#define CTR_MT_CHECKPOINT_OPTIONS "application/vnd.containerd.container.checkpoint.options.v1+proto"
#define CTR_MT_CHECKPOINT_RUNTIME_NAME "application/vnd.containerd.container.checkpoint.runtime.name"
#define CTR_MT_CHECKPOINT_RUNTIME_OPTIONS "application/vnd.containerd.container.checkpoint.runtime.options+proto"
/* The read-write layer's entry is an OCI gzip layer. */
#define CTR_MT_CHECKPOINT_RW "application/vnd.oci.image.layer.v1.tar+gzip"

/* Checkpoint options (kind CTR_OPT_CHECKPOINT), applied in order. */
/* Adds the container's image target to the index (WithCheckpointImage).
 * CTR_ENOTFOUND when the container has no image or its record is gone. */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_image(void);
/* Adds the read-write layer: the diff of the container's active snapshot
 * against its parent (WithCheckpointRW). CTR_ENOTSUP ("rw checkpoint is
 * not supported") when the container has no snapshot. */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_rw(void);
/* Adds the runtime's options (WithCheckpointRuntime). The runtime's name
 * is always in the annotations; libctr's runtimes have no options record,
 * so like containerd with nil options this adds no entry. */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_runtime(void);
/* Adds the running task's CRIU image (WithCheckpointTask): `runc
 * checkpoint` with the task left running. CTR_ENOTSUP, with criu's own
 * message, when criu is not installed or `criu check` fails;
 * CTR_ENOTFOUND when the container has no task. */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_task(void);
/* With ctr_with_checkpoint_task: the task exits after its checkpoint
 * (WithCheckpointTaskExit). */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_task_exit(void);

/* Writes the checkpoint of k as image `ref` (created, or CTR_EEXISTS) and
 * returns it (out may be NULL). Everything it writes is held by
 * ctr_with_lease's lease or a temporary one until the image record names
 * it; on failure nothing new is left. Also takes CTR_OPT_CALL options.
 * Errors: CTR_EINVAL (bad ref), CTR_EEXISTS, and the options' errors. */
CTR_EXPORT int ctr_container_checkpoint(ctr_image **out, ctr_container *k, const char *ref,
					const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Task.Checkpoint: `runc checkpoint` of the task (left running unless
 * ctr_with_checkpoint_task_exit), stored as a checkpoint image with its
 * CRIU image, the runtime's name, the spec, the image and the read-write
 * layer, labelled containerd.io/checkpoint=true (out may be NULL).
 * Options (kind CTR_OPT_CHECKPOINT): */
/* The image's name (WithCheckpointName); default
 * "containerd.io/checkpoint/<id>:<MM-DD-YYYY-HH-MM-SS>" (containerd's
 * format with '-' for ':' in the time, which a tag cannot hold). */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_name(const char *name);
/* CRIU's files go to this absolute directory and stay there; no image is
 * made and *out is set to NULL (WithCheckpointImagePath). */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_image_path(const char *path);
/* CRIU's work directory (logs), absolute; default the image path, or a
 * directory of the task's state removed afterwards. */
CTR_EXPORT ctr_opt *ctr_with_checkpoint_work_path(const char *path);
/* Errors: CTR_ENOTSUP with criu's own message when criu is not installed
 * or `criu check` fails; CTR_EINVAL (a bad name, a container option);
 * CTR_EEXISTS; the runtime's. Nothing new is left on failure. */
CTR_EXPORT int ctr_task_checkpoint(ctr_image **out, ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
				   ctr_error **err);

/* Restore options (kind CTR_OPT_RESTORE). */
/* A new snapshot `id` of the checkpoint's image, which this root must have
 * unpacked in the checkpoint's snapshotter, and the container's image
 * (WithRestoreImage). CTR_ENOTFOUND "image name not found in index",
 * "snapshotter not found in index", or the image or its unpacked layers
 * missing here. */
CTR_EXPORT ctr_opt *ctr_with_restore_image(void);
/* The spec from the checkpoint (WithRestoreSpec). CTR_ENOTFOUND "media type
 * not found" when the index has none; CTR_EINVAL when it is not a spec.
 * Without it the container gets containerd's default spec. */
CTR_EXPORT ctr_opt *ctr_with_restore_spec(void);
/* The runtime named in the checkpoint (WithRestoreRuntime). CTR_ENOTFOUND
 * "runtime not found in index"; CTR_EINVAL for a runtime libctr cannot run. */
CTR_EXPORT ctr_opt *ctr_with_restore_runtime(void);
/* Applies the checkpoint's read-write layer onto the new snapshot
 * (WithRestoreRW; needs ctr_with_restore_image). CTR_ENOTFOUND "media type
 * not found" when the index has none. */
CTR_EXPORT ctr_opt *ctr_with_restore_rw(void);

/* Creates container `id` again from checkpoint (Client.Restore), in the
 * checkpoint's namespace. Also takes CTR_OPT_CALL options. The
 * checkpoint's contents are untrusted: names are validated, the layer is
 * applied inside the snapshot. On failure nothing is left (the new
 * snapshot is removed). Publishes /containers/create. Errors: CTR_EINVAL
 * (bad id, the target is not an index), CTR_EEXISTS, the options' errors. */
CTR_EXPORT int ctr_container_restore(ctr_container **out, ctr_client *c, const char *id,
				     const ctr_image *checkpoint, const ctr_opt *const *opts, size_t n_opts,
				     ctr_error **err);

/* The first entry of img's index with media type mt, as descriptor JSON
 * (GetIndexByMediaType). Free with ctr_free. CTR_ENOTFOUND "media type not
 * found"; CTR_EINVAL when img's target is not an index. */
CTR_EXPORT int ctr_image_index_descriptor(char **json_out, const ctr_image *img, const char *mt,
					  ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
