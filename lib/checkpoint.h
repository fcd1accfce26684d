/* Internal: what checkpoint (lib/checkpoint.c) and restore (lib/restore.c)
 * share: containerd's annotation keys and type URLs, the protobuf Any
 * wrapper, reading a checkpoint's index. */
#ifndef CTR_LIB_CHECKPOINT_H
#define CTR_LIB_CHECKPOINT_H

#include <ctr/checkpoint.h>

#include "image-ns.h"
#include "manifest.h"

#define CTR_CKPT_ANN_IMAGE "org.opencontainers.image.ref.name"
#define CTR_CKPT_ANN_RUNTIME "io.containerd.checkpoint.runtime"
#define CTR_CKPT_ANN_SNAPSHOTTER "io.containerd.checkpoint.snapshotter"
/* typeurl's names: the spec as containerd registers it, runc's options. */
#define CTR_CKPT_SPEC_TYPE "types.containerd.io/opencontainers/runtime-spec/1/Spec"
#define CTR_CKPT_OPTIONS_TYPE "containerd.runc.v1.CheckpointOptions"
/* Largest spec blob read back. */
#define CTR_CKPT_SPEC_MAX (16u << 20)

/* A protobuf Any {type_url, value}. Caller frees *out. */
int ctr_ckpt_any_encode(char **out, size_t *len, const char *type_url, const void *value, size_t vlen,
			ctr_error **err);
/* Parses an Any of type want_type; *value points into buf. CTR_EINVAL for
 * anything else (a truncated or unknown field, another type). */
int ctr_ckpt_any_decode(const char *buf, size_t len, const char *want_type, const char **value,
			size_t *vlen, ctr_error **err);

/* img's target parsed as an index (CTR_EINVAL when it is not one). */
int ctr_ckpt_index_read(struct ctr_manifest *out, const ctr_image *img, ctr_error **err);
/* The first entry with media type mt, or NULL (GetIndexByMediaType). */
const struct ctr_desc *ctr_ckpt_index_find(const struct ctr_manifest *idx, const char *mt);

#endif
