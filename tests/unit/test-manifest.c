/* Manifests, indexes, configs: parsing limits, ambiguity, platform selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "manifest.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const char manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\","
	"\"config\":{\"mediaType\":\"" CTR_MT_OCI_CONFIG "\",\"digest\":\"" D("1") "\",\"size\":10},"
	"\"layers\":[{\"mediaType\":\"" CTR_MT_OCI_LAYER_GZIP "\",\"digest\":\"" D("2") "\",\"size\":20},"
	"{\"mediaType\":\"" CTR_MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D("3") "\",\"size\":30,\"urls\":[\"https://x/y\"]}]}";

static const char index_doc[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" CTR_MT_OCI_INDEX "\",\"manifests\":["
	"{\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\",\"digest\":\"" D("a") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	"{\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\",\"digest\":\"" D("b") "\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	"{\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\",\"digest\":\"" D("c") "\",\"size\":3,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	"{\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\",\"digest\":\"" D("d") "\",\"size\":4,\"platform\":{\"os\":\"linux\",\"architecture\":\"386\"}}]}";

static int parse(const char *doc, const char *mt, struct ctr_manifest *m, char **msg)
{
	ctr_error *err = NULL;
	int r = ctr_manifest_parse(doc, strlen(doc), mt, m, &err);
	if (msg)
		*msg = err ? strdup(ctr_error_message(err)) : NULL;
	ctr_error_free(err);
	return r;
}

/* One nesting limit for every image walk: the root and CTR_IMAGE_MAX_DEPTH
 * levels below it, and not one more. */
static void test_depth_limit(void **state)
{
	(void)state;
	assert_int_equal(ctr_image_depth_check(0, NULL), 0);
	assert_int_equal(ctr_image_depth_check(CTR_IMAGE_MAX_DEPTH, NULL), 0);
	ctr_error *e = NULL;
	assert_int_equal(ctr_image_depth_check(CTR_IMAGE_MAX_DEPTH + 1, &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "nested deeper than 16"));
	ctr_error_free(e);
}

static void test_manifest(void **state)
{
	(void)state;
	struct ctr_manifest m;
	assert_int_equal(parse(manifest, CTR_MT_OCI_MANIFEST, &m, NULL), 0);
	assert_int_equal(m.kind, CTR_MT_MANIFEST);
	assert_int_equal(m.n_layers, 2);
	assert_int_equal(m.layers[1].size, 30);
	assert_string_equal(m.layers[1].urls[0], "https://x/y");
	assert_int_equal(ctr_media_compression(m.layers[0].media_type), CTR_MT_COMP_GZIP);
	assert_int_equal(ctr_media_compression(m.layers[1].media_type), CTR_MT_COMP_ZSTD);
	ctr_manifest_clear(&m);
	/* Unknown media type from the descriptor side: inferred from the doc. */
	assert_int_equal(parse(manifest, NULL, &m, NULL), 0);
	ctr_manifest_clear(&m);
}

static void test_bad(void **state)
{
	(void)state;
	struct ctr_manifest m;
	char *msg;
	/* A manifest carrying manifests: ambiguity. */
	const char amb[] = "{\"schemaVersion\":2,\"mediaType\":\"" CTR_MT_OCI_MANIFEST "\",\"manifests\":[],"
			   "\"config\":{\"mediaType\":\"x\",\"digest\":\"" D("1") "\",\"size\":1},\"layers\":[]}";
	assert_int_equal(parse(amb, CTR_MT_OCI_MANIFEST, &m, &msg), CTR_EINVAL);
	assert_non_null(strstr(msg, "ambiguous"));
	free(msg);
	const char amb2[] = "{\"schemaVersion\":2,\"manifests\":[]}";
	assert_int_equal(parse(amb2, CTR_MT_OCI_MANIFEST, &m, &msg), CTR_EINVAL);
	assert_non_null(strstr(msg, "must not carry"));
	free(msg);
	const char amb3[] = "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}";
	assert_int_equal(parse(amb3, CTR_MT_OCI_INDEX, &m, &msg), CTR_EINVAL);
	free(msg);
	/* Descriptor says index, document says manifest. */
	assert_int_equal(parse(manifest, CTR_MT_OCI_INDEX, &m, &msg), CTR_EINVAL);
	assert_non_null(strstr(msg, "does not match"));
	free(msg);
	/* Schema 1 */
	assert_int_equal(parse("{\"schemaVersion\":1,\"name\":\"x\"}", NULL, &m, &msg), CTR_ENOTSUP);
	assert_non_null(strstr(msg, "schema 1"));
	free(msg);
	assert_int_equal(parse("{\"schemaVersion\":2}", CTR_MT_DOCKER_SCHEMA1, &m, NULL), CTR_ENOTSUP);
	/* Truncated, invalid, not an object, deep. */
	char trunc[sizeof(manifest)];
	memcpy(trunc, manifest, 50);
	trunc[50] = 0;
	assert_int_equal(parse(trunc, CTR_MT_OCI_MANIFEST, &m, NULL), CTR_EINVAL);
	assert_int_equal(parse("not json", CTR_MT_OCI_MANIFEST, &m, NULL), CTR_EINVAL);
	assert_int_equal(parse("[]", CTR_MT_OCI_MANIFEST, &m, NULL), CTR_EINVAL);
	char *deep = malloc(20000);
	strcpy(deep, "{\"schemaVersion\":2,\"x\":");
	size_t n = strlen(deep);
	for (int i = 0; i < 5000; i++)
		deep[n++] = '[';
	for (int i = 0; i < 5000; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = 0;
	assert_int_equal(parse(deep, CTR_MT_OCI_MANIFEST, &m, &msg), CTR_EINVAL);
	assert_non_null(strstr(msg, "deeper"));
	free(msg);
	free(deep);
	/* Oversized: refused by size before parsing. */
	size_t big = CTR_MAX_MANIFEST + 1;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	huge[big] = 0;
	assert_int_equal(parse(huge, CTR_MT_OCI_MANIFEST, &m, &msg), CTR_EINVAL);
	assert_non_null(strstr(msg, "over the limit"));
	free(msg);
	free(huge);
	/* Bad descriptors */
	const char baddg[] = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:../../x\",\"size\":1},\"layers\":[]}";
	assert_int_equal(parse(baddg, CTR_MT_OCI_MANIFEST, &m, NULL), CTR_EINVAL);
	const char negsize[] = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D("1") "\",\"size\":-1},\"layers\":[]}";
	assert_int_equal(parse(negsize, CTR_MT_OCI_MANIFEST, &m, NULL), CTR_EINVAL);
}

static void test_select(void **state)
{
	(void)state;
	struct ctr_manifest idx;
	assert_int_equal(parse(index_doc, CTR_MT_OCI_INDEX, &idx, NULL), 0);
	assert_int_equal(idx.n_manifests, 4);
	struct ctr_platform_matcher m;
	struct ctr_platform p;
	assert_int_equal(ctr_platform_parse("linux/amd64", &p, NULL), 0);
	ctr_platform_matcher_only(&m, &p);
	assert_int_equal(ctr_index_select(&idx, &m), 1); /* first of the equal amd64 entries */
	assert_int_equal(ctr_platform_parse("linux/arm64", &p, NULL), 0);
	ctr_platform_matcher_only(&m, &p);
	assert_int_equal(ctr_index_select(&idx, &m), 0);
	assert_int_equal(ctr_platform_parse("linux/386", &p, NULL), 0);
	ctr_platform_matcher_only(&m, &p);
	assert_int_equal(ctr_index_select(&idx, &m), 3);
	assert_int_equal(ctr_platform_parse("linux/s390x", &p, NULL), 0);
	ctr_platform_matcher_only(&m, &p);
	assert_int_equal(ctr_index_select(&idx, &m), -1);
	ctr_manifest_clear(&idx);
}

static void test_config(void **state)
{
	(void)state;
	const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
			   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D("a") "\",\"" D("b") "\"]}}";
	struct ctr_image_config c;
	assert_int_equal(ctr_image_config_parse(cfg, strlen(cfg), &c, NULL), 0);
	assert_int_equal(c.n_diff_ids, 2);
	assert_string_equal(c.platform.arch, "amd64");
	char chain[2][CTR_DIGEST_MAX];
	assert_int_equal(ctr_chain_ids((const char *const *)c.diff_ids, 2, chain, NULL), 0);
	assert_string_equal(chain[0], D("a"));
	assert_string_equal(chain[1], "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
	ctr_image_config_clear(&c);
	const char bad[] = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:zz\"]}}";
	assert_int_equal(ctr_image_config_parse(bad, strlen(bad), &c, NULL), CTR_EINVAL);
	const char bad2[] = "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}";
	assert_int_equal(ctr_image_config_parse(bad2, strlen(bad2), &c, NULL), CTR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_depth_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
