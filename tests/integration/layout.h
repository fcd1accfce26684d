/* Test helper: loads an OCI image layout directory (as tests/fixtures/
 * mkimage.py writes it) into a libctr client through the public content
 * and image API. */
#ifndef CTR_TEST_LAYOUT_H
#define CTR_TEST_LAYOUT_H

#include <ctr/ctr.h>
#include <dirent.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-sh.h"

/* A client on <dir>/<name>-root and <dir>/<name>-state (the callers
 * include cmocka first). */
static ctr_client *test_client(const char *dir, const char *name)
{
	char root[600], state[600];
	snprintf(root, sizeof(root), "%s/%s-root", dir, name);
	snprintf(state, sizeof(state), "%s/%s-state", dir, name);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	ctr_client *c = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	ctr_opt_free(a);
	ctr_opt_free(b);
	return c;
}

static int layout_ingest_file(ctr_client *c, const char *path, const char *digest)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	ctr_opt *exp = ctr_with_content_expected(digest, -1);
	ctr_content_writer *w = NULL;
	int r = ctr_content_writer_open(&w, c, digest, CTR_OPTS(exp), NULL);
	ctr_opt_free(exp);
	if (r == CTR_EEXISTS) {
		fclose(f);
		return 0;
	}
	if (r < 0) {
		fclose(f);
		return r;
	}
	char buf[1 << 16];
	size_t n;
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		r = ctr_content_writer_write(w, buf, n, NULL);
	fclose(f);
	if (r == 0)
		r = ctr_content_writer_commit(w, -1, digest, NULL, CTR_NO_OPTS, NULL);
	ctr_content_writer_free(w);
	return r == CTR_EEXISTS ? 0 : r;
}

/* Ingests every blob, then creates image `name` for index.json's first
 * entry. Returns 0 or a CTR_E code. */
static int layout_load(ctr_client *c, const char *dir, const char *name, int unused)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4400], digest[300];
		snprintf(path, sizeof(path), "%s/%s", p, de->d_name);
		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		r = layout_ingest_file(c, path, digest);
	}
	closedir(d);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/index.json", dir);
	json_t *idx = json_load_file(p, 0, NULL);
	if (!idx)
		return -1;
	(void)unused;
	json_t *m = json_array_get(json_object_get(idx, "manifests"), 0);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	const char *dg = json_string_value(json_object_get(m, "digest"));
	json_int_t sz = json_integer_value(json_object_get(m, "size"));
	r = ctr_image_create(NULL, c, name, mt, dg, sz, NULL, NULL, 0, NULL);
	json_decref(idx);
	return r;
}

#endif
