/* Helpers shared by the integration tests that make images through the
 * public API on a client of their own (test-container.c, test-remap.c):
 * each defines `cl` (its client) before including this. */
#ifndef CTR_TEST_IMAGE_FIXTURE_H
#define CTR_TEST_IMAGE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "test-files.h" /* read_all */

/* Stores a blob in the content store; digest out (CTR_DIGEST_MAX). */
static __attribute__((unused)) void put_blob(const char *data, char *digest)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, data, strlen(data), digest, NULL), 0);
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, cl, digest, NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	int r = ctr_content_writer_commit(w, (int64_t)strlen(data), digest, NULL, CTR_NO_OPTS, NULL);
	assert_true(r == 0 || r == CTR_EEXISTS);
	ctr_content_writer_free(w);
}

/* Stores cfg, then an OCI manifest naming it and one uncompressed layer
 * (its digest and size); both digests out (CTR_DIGEST_MAX). Returns the
 * manifest's length. */
static __attribute__((unused)) size_t put_manifest(const char *cfg, const char *layer, size_t layer_size,
						   char *cfg_d, char *man_d)
{
	put_blob(cfg, cfg_d);
	char man[1024];
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		 cfg_d, strlen(cfg), layer, layer_size);
	put_blob(man, man_d);
	return strlen(man);
}

#endif
