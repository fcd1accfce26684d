/* Manifest, index and config parsing. The first byte picks the media type
 * the descriptor claims; the rest is the document, parsed as a manifest or
 * index and as an image config. An index then selects for the host. */
#include "fuzz.h"
#include "manifest.h"
#include "platforms.h"

static const char *const types[] = {
	NULL,
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	"application/octet-stream",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *mt = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	struct ctr_manifest m;
	ctr_error *err = NULL;
	if (ctr_manifest_parse(buf, len, mt, &m, &err) == 0) {
		if (m.kind == CTR_MT_INDEX) {
			struct ctr_platform_matcher pm;
			ctr_platform_matcher_default(&pm);
			ssize_t i = ctr_index_select(&m, &pm);
			if (i >= (ssize_t)m.n_manifests)
				abort();
			ctr_platform_matcher_all(&pm);
			(void)ctr_index_select(&m, &pm);
		}
		for (size_t i = 0; i < m.n_layers; i++) {
			json_t *j = ctr_desc_to_json(&m.layers[i]);
			json_decref(j);
		}
		ctr_manifest_clear(&m);
	}
	ctr_error_free(err);
	err = NULL;
	struct ctr_image_config c;
	if (ctr_image_config_parse(buf, len, &c, &err) == 0) {
		if (c.n_diff_ids > 0 && c.n_diff_ids <= 128) {
			char (*chain)[CTR_DIGEST_MAX] = malloc(c.n_diff_ids * CTR_DIGEST_MAX);
			if (chain && ctr_chain_ids((const char *const *)c.diff_ids, c.n_diff_ids, chain, NULL) != 0)
				abort(); /* validated diff_ids always chain */
			free(chain);
		}
		ctr_image_config_clear(&c);
	}
	ctr_error_free(err);
	return 0;
}
