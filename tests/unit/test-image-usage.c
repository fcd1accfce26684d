/* ctr_image_usage with containerd's WithUsageManifestLimit: an index of two
 * platforms (the host's listed second) counted with limit 1 (the host's
 * tree only, as without the option), 2 and 0 (everything), an index
 * naming a manifest the store lacks (refused with limit 0, not reached
 * with limit 2), the option refused by the other image calls. No root
 * needed. */
#include "client-fixture.h"

/* Writes data as a blob; its digest goes to digest, its size is returned. */
static int64_t blob(const char *data, char *digest)
{
	put_blob(data, digest);
	return (int64_t)strlen(data);
}

/* A manifest for arch with its own config and layer; returns the tree's
 * bytes (manifest + config + layer) and the manifest's digest and size. */
static int64_t tree(const char *arch, char *man_d, int64_t *man_size)
{
	char cfg[512], man[1024], layer[64], cd[CTR_DIGEST_MAX], ld[CTR_DIGEST_MAX];
	snprintf(layer, sizeof(layer), "layer bytes of %s", arch);
	int64_t ls = blob(layer, ld);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 arch, ld);
	int64_t cs = blob(cfg, cd);
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%lld},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%lld}]}",
		 cd, (long long)cs, ld, (long long)ls);
	*man_size = blob(man, man_d);
	return *man_size + cs + ls;
}

static ctr_image *index_image(const char *name, const char *entries, int64_t *size)
{
	char idx[4096], d[CTR_DIGEST_MAX];
	snprintf(idx, sizeof(idx),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[%s]}",
		 entries);
	*size = blob(idx, d);
	ctr_image *img = NULL;
	ctr_error *e = NULL;
	if (ctr_image_create(&img, c, name, "application/vnd.oci.image.index.v1+json", d, *size, NULL, NULL, 0, &e) < 0)
		fail_msg("image: %s", ctr_error_message(e));
	return img;
}

static int64_t usage(const ctr_image *img, const ctr_opt *o, int *rc)
{
	int64_t content = -1;
	const ctr_opt *v[1] = {o};
	*rc = ctr_image_usage(&content, NULL, img, NULL, v, o ? 1 : 0, NULL);
	return content;
}

static void test_manifest_limit(void **state)
{
	(void)state;
	struct ctr_platform host;
	ctr_platform_host(&host);
	char hd[CTR_DIGEST_MAX], od[CTR_DIGEST_MAX], entries[2048];
	int64_t hs, os_;
	int64_t host_tree = tree(host.arch, hd, &hs);
	int64_t other_tree = tree("s390x", od, &os_);
	snprintf(entries, sizeof(entries),
		 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
		 "\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"}},"
		 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
		 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"%s%s%s}}",
		 od, (long long)os_, hd, (long long)hs, host.arch, host.variant[0] ? ",\"variant\":\"" : "",
		 host.variant, host.variant[0] ? "\"" : "");
	int64_t is;
	ctr_image *img = index_image("lctr.test/multi:1", entries, &is);
	int rc;
	/* without the option: the host's tree */
	assert_int_equal(usage(img, NULL, &rc), is + host_tree);
	assert_int_equal(rc, 0);
	ctr_opt *l1 = ctr_with_usage_manifest_limit(1), *l2 = ctr_with_usage_manifest_limit(2),
		*l0 = ctr_with_usage_manifest_limit(0);
	assert_int_equal(ctr_opt_kind_of(l1), CTR_OPT_IMAGE);
	/* limit 1: the best match for the handle's platform, though listed second */
	assert_int_equal(usage(img, l1, &rc), is + host_tree);
	assert_int_equal(rc, 0);
	assert_int_equal(usage(img, l2, &rc), is + host_tree + other_tree);
	assert_int_equal(usage(img, l0, &rc), is + host_tree + other_tree);

	/* a third manifest the store lacks, listed last */
	char missing[CTR_DIGEST_MAX], e2[3072];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, "absent", 6, missing, NULL), 0);
	snprintf(e2, sizeof(e2),
		 "%s,{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":99,"
		 "\"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\"}}",
		 entries, missing);
	int64_t is2;
	ctr_image *gap = index_image("lctr.test/gap:1", e2, &is2);
	ctr_error *e = NULL;
	int64_t content = 7;
	assert_int_equal(ctr_image_usage(&content, NULL, gap, NULL, CTR_OPTS(l0), &e), CTR_ENOTFOUND);
	assert_non_null(strstr(ctr_error_message(e), missing));
	ctr_error_free(e);
	assert_int_equal(content, 7);
	assert_int_equal(usage(gap, l2, &rc), is2 + host_tree + other_tree);
	assert_int_equal(rc, 0);
	/* without the option a missing manifest is left out, as before */
	assert_int_equal(usage(gap, NULL, &rc), is2 + host_tree);

	/* the other image calls refuse it, and usage refuses theirs */
	ctr_image *got = NULL;
	assert_int_equal(ctr_image_get(&got, c, "lctr.test/multi:1", CTR_OPTS(l1), NULL), CTR_EINVAL);
	ctr_opt *force = ctr_with_tag_force();
	assert_int_equal(usage(img, force, &rc), -1);
	assert_int_equal(rc, CTR_EINVAL);
	ctr_opt_free(force);
	ctr_opt_free(l0);
	ctr_opt_free(l1);
	ctr_opt_free(l2);
	ctr_image_free(gap);
	ctr_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manifest_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
