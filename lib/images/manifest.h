/* OCI and Docker schema 2 documents: descriptors, manifests, indexes and
 * image configs, parsed with the size and nesting limits of ARCHITECTURE.md. */
#ifndef CTR_IMAGES_MANIFEST_H
#define CTR_IMAGES_MANIFEST_H

#include <ctr/common.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "platforms.h"
#include "digest.h"

#define CTR_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define CTR_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define CTR_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define CTR_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define CTR_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define CTR_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define CTR_MT_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define CTR_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define CTR_MT_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define CTR_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CTR_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define CTR_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define CTR_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define CTR_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define CTR_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define CTR_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define CTR_MT_DOCKER_SCHEMA1_PLAIN "application/vnd.docker.distribution.manifest.v1+json"

#define CTR_MAX_MANIFEST (4u << 20)
#define CTR_MAX_CONFIG (8u << 20)
/* How deep indexes may nest below an image's root: the one limit of every
 * walk of an image tree (fetch, push, import, export). */
#define CTR_IMAGE_MAX_DEPTH 16

enum ctr_mt_kind {
	CTR_MT_UNKNOWN = 0,
	CTR_MT_MANIFEST,
	CTR_MT_INDEX,
	CTR_MT_CONFIG,
	CTR_MT_LAYER,
	CTR_MT_SCHEMA1,
};

enum ctr_mt_comp { CTR_MT_COMP_NONE, CTR_MT_COMP_GZIP, CTR_MT_COMP_ZSTD, CTR_MT_COMP_UNKNOWN };

enum ctr_mt_kind ctr_media_kind(const char *mt);
/* For layers: the compression its media type names. */
enum ctr_mt_comp ctr_media_compression(const char *mt);

struct ctr_desc {
	char *media_type;
	char digest[CTR_DIGEST_MAX];
	int64_t size;
	char **urls;         /* NULL-terminated or NULL */
	json_t *annotations; /* object or NULL */
	bool has_platform;
	struct ctr_platform platform;
};

/* Validates and copies: mediaType a string, digest valid, size >= 0.
 * CTR_EINVAL naming `what` otherwise. */
int ctr_desc_from_json(const json_t *obj, struct ctr_desc *out, const char *what, ctr_error **err);
json_t *ctr_desc_to_json(const struct ctr_desc *d);
int ctr_desc_copy(struct ctr_desc *dst, const struct ctr_desc *src);
void ctr_desc_clear(struct ctr_desc *d);

struct ctr_manifest {
	enum ctr_mt_kind kind; /* CTR_MT_MANIFEST or CTR_MT_INDEX */
	char *media_type;
	/* manifest */
	struct ctr_desc config;
	struct ctr_desc *layers;
	size_t n_layers;
	/* index */
	struct ctr_desc *manifests;
	size_t n_manifests;
	json_t *annotations;
};

/* Parses a manifest or an index whose descriptor says media_type (may be
 * NULL when unknown, e.g. an index.json from a layout). Refuses: more than
 * CTR_MAX_MANIFEST bytes, JSON nested deeper than CTR_JSON_MAX_DEPTH,
 * invalid JSON, a "mediaType" field that disagrees with media_type, a
 * manifest carrying "manifests" or an index carrying "config"/"layers" (the
 * ambiguity behind CVE-2021-41190): all CTR_EINVAL. Schema 1: CTR_ENOTSUP. */
int ctr_manifest_parse(const char *buf, size_t len, const char *media_type,
		       struct ctr_manifest *out, ctr_error **err);
void ctr_manifest_clear(struct ctr_manifest *m);

/* The index entry best matching m (lowest rank, first of equals); -1 when
 * none matches. Entries without a platform never match. */
ssize_t ctr_index_select(const struct ctr_manifest *idx, const struct ctr_platform_matcher *m);

struct ctr_image_config {
	struct ctr_platform platform;
	char **diff_ids; /* NULL-terminated, validated digests */
	size_t n_diff_ids;
	json_t *config; /* the "config" object (Env, Cmd, ...) or NULL; owned */
	json_t *doc;    /* the whole document; owned */
};

/* Parses an image config (≤ CTR_MAX_CONFIG): rootfs.type "layers" and valid
 * diff_ids required. CTR_EINVAL otherwise. */
int ctr_image_config_parse(const char *buf, size_t len, struct ctr_image_config *out, ctr_error **err);
void ctr_image_config_clear(struct ctr_image_config *c);

/* Chain IDs as in the OCI spec: chain[0] = diff[0], chain[i] =
 * sha256(chain[i-1] + " " + diff[i]). out has n entries of CTR_DIGEST_MAX. */
int ctr_chain_ids(const char *const *diff_ids, size_t n, char (*out)[CTR_DIGEST_MAX], ctr_error **err);

/* 0, or CTR_EINVAL when a walk at `depth` (the root is 0) is deeper than
 * CTR_IMAGE_MAX_DEPTH. */
int ctr_image_depth_check(int depth, ctr_error **err);

#endif
