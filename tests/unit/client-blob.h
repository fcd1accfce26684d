/* Tests' helper: a blob written into a client's content store through the
 * public writer, its digest into digest (CTR_DIGEST_MAX bytes). */
#ifndef CTR_TEST_CLIENT_BLOB_H
#define CTR_TEST_CLIENT_BLOB_H
#include <string.h>

#include <ctr/ctr.h>

#include "digest.h"

static inline void client_write_blob(ctr_client *c, const char *data, char *digest)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, data, strlen(data), digest, NULL), 0);
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, digest, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	assert_int_equal(ctr_content_writer_commit(w, (int64_t)strlen(data), digest, NULL, CTR_NO_OPTS, NULL), 0);
	ctr_content_writer_free(w);
}

#endif
