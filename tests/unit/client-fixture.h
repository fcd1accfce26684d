/* Shared fixture of the unit tests of public calls on a client: a client on
 * a temp root and state, blobs written through the content API, and an
 * image record for this host made from a config. No root needed. */
#ifndef CTR_TEST_CLIENT_FIXTURE_H
#define CTR_TEST_CLIENT_FIXTURE_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "fs.h"
#include "platforms.h"

static char tmp[256];
static ctr_client *c;

static __attribute__((unused)) int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-client-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	char root[300], st[300];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(st);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	ctr_opt_free(a);
	ctr_opt_free(b);
	return 0;
}

static __attribute__((unused)) int teardown(void **state)
{
	(void)state;
	ctr_client_free(c);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static __attribute__((unused)) void put_blob(const char *data, char *digest)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, data, strlen(data), digest, NULL), 0);
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, c, digest, NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, data, strlen(data), NULL), 0);
	int r = ctr_content_writer_commit(w, (int64_t)strlen(data), digest, NULL, CTR_NO_OPTS, NULL);
	assert_true(r == 0 || r == CTR_EEXISTS);
	ctr_content_writer_free(w);
}

/* An image `name` for this host whose config's "config" object is cfg_obj
 * and whose rootfs.diff_ids and manifest layers are the JSON arrays
 * diff_ids and layers (NULL: none). */
static __attribute__((unused)) ctr_image *image_with(const char *name, const char *cfg_obj, const char *diff_ids, const char *layers)
{
	struct ctr_platform host;
	ctr_platform_host(&host);
	char cfg[1024], man[1024], cfg_d[CTR_DIGEST_MAX], man_d[CTR_DIGEST_MAX];
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\",\"config\":%s,"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":%s}}",
		 host.arch, host.variant[0] ? "\"variant\":\"" : "", host.variant, host.variant[0] ? "\"," : "",
		 cfg_obj, diff_ids ? diff_ids : "[]");
	put_blob(cfg, cfg_d);
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":%s}",
		 cfg_d, strlen(cfg), layers ? layers : "[]");
	put_blob(man, man_d);
	ctr_image *img = NULL;
	ctr_error *e = NULL;
	int r = ctr_image_create(&img, c, name, "application/vnd.oci.image.manifest.v1+json", man_d,
				 (int64_t)strlen(man), NULL, NULL, 0, &e);
	if (r)
		fail_msg("image %s: %s", name, ctr_error_message(e));
	return img;
}

/* How many containers the client's namespace has. */
static __attribute__((unused)) size_t n_containers(void)
{
	ctr_container **v = NULL;
	size_t n = 99;
	assert_int_equal(ctr_container_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_container_list_free(v, n);
	return n;
}

#endif
