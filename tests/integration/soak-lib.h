/* Helpers of the soak and resource-bound tests (test-soak.c,
 * test-bounds.c): a registry from tests/fixtures with the busybox image
 * pushed, and the end-of-run store checks. No cmocka: these programs run
 * for a duration or a cycle count given on their command line and print
 * what failed. */
#ifndef CTR_TEST_SOAK_LIB_H
#define CTR_TEST_SOAK_LIB_H

#include <ctr/ctr.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-sh.h"

static inline double sk_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the machine can run these tests; prints why not. */
static inline bool sk_can_run(const char **src)
{
	*src = getenv("MESON_SOURCE_ROOT");
	if (!*src || geteuid() != 0 || access("/usr/bin/docker-registry", X_OK) || access("/usr/bin/skopeo", X_OK) ||
	    test_sh("runc --version >/dev/null 2>&1") || access("/bin/busybox", X_OK)) {
		fprintf(stderr, "skipped: needs root, MESON_SOURCE_ROOT, docker-registry, skopeo, runc and busybox\n");
		return false;
	}
	return true;
}

/* Starts a registry in <top>/reg and copies its host:port into addr. */
static inline int sk_registry_start(const char *src, const char *top, char *addr, size_t len)
{
	if (test_sh("mkdir %s/reg && %s/tests/fixtures/registry.sh start --dir %s/reg --owner-pid %d --ttl 900 "
		  ">/dev/null",
		  top, src, top, (int)getpid()))
		return -1;
	char p[600];
	snprintf(p, sizeof(p), "%s/reg/addr", top);
	FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	bool ok = fgets(addr, (int)len, f) != NULL;
	fclose(f);
	addr[strcspn(addr, "\n")] = 0;
	return ok && addr[0] ? 0 : -1;
}

/* Makes the busybox image of tests/fixtures and pushes it as repo:tag. */
static inline int sk_push_busybox(const char *src, const char *top, const char *repo_tag)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/bb", top);
	if (access(p, F_OK) && test_sh("python3 %s/tests/fixtures/mkimage.py busybox %s >/dev/null", src, p))
		return -1;
	return test_sh("%s/tests/fixtures/registry.sh push %s/reg oci:%s:latest %s >/dev/null 2>&1", src, top, p,
		     repo_tag);
}

static inline void sk_registry_stop(const char *src, const char *top)
{
	test_sh("%s/tests/fixtures/registry.sh stop %s/reg >/dev/null 2>&1", src, top);
}

/* Unmounts whatever is left under top (deepest first) and removes it. */
static inline void sk_remove_top(const char *top)
{
	test_sh("awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | xargs -r umount -l; rm -rf %s", top, top);
}

/* Store checks; each returns the number of problems and prints them. */

/* Every blob in <root>/content/blobs/sha256 re-hashes to its name. */
static inline int sk_check_blobs(const char *root, size_t *n_blobs)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd),
		 "cd %s/content/blobs/sha256 2>/dev/null && for f in *; do [ -f \"$f\" ] || continue; "
		 "echo \"$f  $f\"; done | sha256sum --quiet -c - 2>&1; ls | wc -l",
		 root);
	FILE *p = popen(cmd, "r");
	if (!p)
		return 1;
	char line[512], last[512] = "0";
	int bad = 0;
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "FAILED") || strstr(line, "No such")) {
			fprintf(stderr, "blob does not re-hash: %s", line);
			bad++;
		}
		snprintf(last, sizeof(last), "%s", line);
	}
	pclose(p);
	*n_blobs = strtoul(last, NULL, 10);
	return bad;
}

static inline bool sk_blob_present(const char *root, const char *digest)
{
	if (strncmp(digest, "sha256:", 7))
		return false;
	char p[1200];
	snprintf(p, sizeof(p), "%s/content/blobs/sha256/%s", root, digest + 7);
	return access(p, R_OK) == 0;
}

/* The manifest (or index) `digest` and everything it needs are present:
 * for an index, the children that are present must be complete and at
 * least one must be. */
static inline int sk_check_tree(const char *root, const char *digest, int depth)
{
	if (depth > 4 || !sk_blob_present(root, digest)) {
		fprintf(stderr, "missing content %s\n", digest);
		return 1;
	}
	char p[1200];
	snprintf(p, sizeof(p), "%s/content/blobs/sha256/%s", root, digest + 7);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j) {
		fprintf(stderr, "unparsable manifest %s\n", digest);
		return 1;
	}
	int bad = 0;
	json_t *ms = json_object_get(j, "manifests"), *v;
	size_t i;
	if (json_is_array(ms)) {
		int present = 0;
		json_array_foreach(ms, i, v) {
			const char *d = json_string_value(json_object_get(v, "digest"));
			if (d && sk_blob_present(root, d)) {
				present++;
				bad += sk_check_tree(root, d, depth + 1);
			}
		}
		if (!present) {
			fprintf(stderr, "index %s has no child present\n", digest);
			bad++;
		}
	} else {
		const char *cd = json_string_value(json_object_get(json_object_get(j, "config"), "digest"));
		if (!cd || !sk_blob_present(root, cd)) {
			fprintf(stderr, "manifest %s: config missing\n", digest);
			bad++;
		}
		json_array_foreach(json_object_get(j, "layers"), i, v) {
			const char *d = json_string_value(json_object_get(v, "digest"));
			if (!d || !sk_blob_present(root, d)) {
				fprintf(stderr, "manifest %s: layer %s missing\n", digest, d ? d : "?");
				bad++;
			}
		}
	}
	json_decref(j);
	return bad;
}

/* Every image listed has its content. */
static inline int sk_check_images(ctr_client *c, const char *root, size_t *n_images)
{
	ctr_image **imgs = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_image_list(&imgs, &n, c, NULL, 0, NULL, 0, &err) < 0) {
		fprintf(stderr, "image list: %s\n", ctr_error_message(err));
		ctr_error_free(err);
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += sk_check_tree(root, ctr_image_target_digest(imgs[i]), 0);
	*n_images = n;
	ctr_image_list_free(imgs, n);
	return bad;
}

/* No shim, mount or cgroup of this run is left: shims are found by the
 * state directory on their command line, mounts under top, cgroups by the
 * container id prefix. */
static inline int sk_check_leftovers(const char *top, const char *id_prefix)
{
	int bad = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char p[300], buf[4096];
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		for (size_t k = 0; k + 1 < n; k++)
			if (!buf[k])
				buf[k] = ' ';
		if (strstr(buf, "libctr-shim") && strstr(buf, top)) {
			fprintf(stderr, "leftover shim %s: %s\n", e->d_name, buf);
			bad++;
		}
	}
	if (d)
		closedir(d);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "awk '$2 ~ \"^%s/\"' /proc/mounts | grep -v '/reg' | grep -c .", top);
	FILE *p = popen(cmd, "r");
	char line[64] = "0";
	if (p) {
		if (!fgets(line, sizeof(line), p))
			snprintf(line, sizeof(line), "0");
		pclose(p);
	}
	if (atoi(line)) {
		fprintf(stderr, "%d mounts left under %s\n", atoi(line), top);
		test_sh("awk '$2 ~ \"^%s/\"' /proc/mounts >&2", top);
		bad++;
	}
	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -maxdepth 3 -type d -name '%s*' 2>/dev/null | grep -c .",
		 id_prefix);
	p = popen(cmd, "r");
	snprintf(line, sizeof(line), "0");
	if (p) {
		if (!fgets(line, sizeof(line), p))
			snprintf(line, sizeof(line), "0");
		pclose(p);
	}
	if (atoi(line)) {
		fprintf(stderr, "%d cgroups named %s* left\n", atoi(line), id_prefix);
		bad++;
	}
	return bad;
}

#endif
