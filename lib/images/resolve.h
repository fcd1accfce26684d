/* Reading an image's tree from the content store: the manifest for a
 * platform and its config. Used by unpack, containers and image getters. */
#ifndef CTR_IMAGES_RESOLVE_H
#define CTR_IMAGES_RESOLVE_H

#include "client.h"
#include "manifest.h"
#include "platforms.h"

/* Reads blob digest of the namespace's content (at most max bytes, and the
 * record must exist in ns: CTR_ENOTFOUND otherwise). *buf is NUL-terminated. */
int ctr_content_read_all(ctr_client *c, const char *ns, const char *digest, size_t max, char **buf,
			 size_t *len, ctr_error **err);

struct ctr_image_target {
	char *media_type;
	char digest[CTR_DIGEST_MAX];
	int64_t size;
};

/* From the target (a manifest, or an index walked down, nested indexes
 * included, to the best match for m), fills the manifest, its descriptor
 * digest and the parsed config. CTR_ENOTFOUND when no manifest matches the
 * platform or a blob is missing; CTR_EINVAL/CTR_ENOTSUP from parsing. */
int ctr_image_resolve(ctr_client *c, const char *ns, const char *media_type, const char *digest,
		      const struct ctr_platform_matcher *m, struct ctr_manifest *manifest,
		      char manifest_digest[CTR_DIGEST_MAX], struct ctr_image_config *config, ctr_error **err);

#endif
