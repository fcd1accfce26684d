/* Benchmark (not a test): garbage collection over a large store.
 *
 *   bench-gc ROOT STATE [BLOBS] [SNAPSHOTS]
 *
 * Fills ROOT through the public API with BLOBS small blobs (default 10000)
 * and SNAPSHOTS committed snapshots of the native snapshotter (default
 * 2000), a chain of ten per root, half of each kind labelled
 * containerd.io/gc.root and half not, then times one ctr_client_gc.
 * Prints "gc SECONDS removed N" and checks that exactly the unlabelled half
 * went (exit 1 otherwise). */
#include "bench-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define fail(what, err) bench_fail("bench-gc", what, err)

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench-gc ROOT STATE [BLOBS] [SNAPSHOTS]\n");
		return 2;
	}
	int nblobs = argc > 3 ? atoi(argv[3]) : 10000;
	int nsnaps = argc > 4 ? atoi(argv[4]) : 2000;
	ctr_error *err = NULL;
	ctr_client *c = NULL;
	int r = bench_client(&c, argv[1], argv[2], &err);
	if (r < 0)
		return fail("client", err);

	const char *root_label[] = {"containerd.io/gc.root=bench", NULL};
	const char *none[] = {NULL};
	double t0 = now();
	for (int i = 0; i < nblobs; i++) {
		char ref[64], data[64];
		snprintf(ref, sizeof(ref), "bench-%d", i);
		int n = snprintf(data, sizeof(data), "bench blob %d\n", i);
		ctr_content_writer *w = NULL;
		if (ctr_content_writer_open(&w, c, ref, CTR_NO_OPTS, &err) < 0 ||
		    ctr_content_writer_write(w, data, (size_t)n, &err) < 0)
			return fail("write blob", err);
		r = ctr_content_writer_commit(w, n, NULL, i % 2 ? none : root_label, CTR_NO_OPTS, &err);
		ctr_content_writer_free(w);
		if (r < 0)
			return fail("commit blob", err);
	}
	/* Chains of ten, each built from its base up: the top of every other
	 * chain carries the label, and keeps its parents through their
	 * references; the other chains go whole. */
	for (int i = 0; i < nsnaps; i++) {
		char key[64], name[64];
		int chain = i / 10, pos = i % 10;
		snprintf(key, sizeof(key), "active-%d", i);
		snprintf(name, sizeof(name), "snap-%d-%d", chain, pos);
		ctr_mount_list *m = NULL;
		char pbuf[64];
		const char *p = NULL;
		if (pos > 0) {
			snprintf(pbuf, sizeof(pbuf), "snap-%d-%d", chain, pos - 1);
			p = pbuf;
		}
		if (ctr_snapshot_prepare(&m, c, "native", key, p, NULL, CTR_NO_OPTS, &err) < 0)
			return fail("prepare", err);
		ctr_mount_list_free(m);
		const char **labels = pos == 9 && chain % 2 == 0 ? root_label : none;
		if (ctr_snapshot_commit(c, "native", name, key, labels, CTR_NO_OPTS, &err) < 0)
			return fail("commit snapshot", err);
	}
	double t1 = now();
	char **removed = NULL;
	r = ctr_client_gc(&removed, c, CTR_NO_OPTS, &err);
	double t2 = now();
	if (r < 0)
		return fail("gc", err);
	int content = 0, blobs = 0, snaps = 0, total = 0;
	for (char **s = removed; s && *s; s++, total++) {
		content += !strncmp(*s, "content ", 8);
		blobs += !strncmp(*s, "blob ", 5);
		snaps += !strncmp(*s, "snapshot ", 9);
	}
	ctr_strv_free(removed);
	ctr_client_free(c);
	printf("setup %.3f gc %.3f removed %d (content %d, blobs %d, snapshots %d)\n", t1 - t0, t2 - t1,
	       total, content, blobs, snaps);
	int want_snaps = nsnaps / 20 * 10;
	if (content != nblobs / 2 || blobs != nblobs / 2 || snaps != want_snaps) {
		fprintf(stderr, "bench-gc: expected %d blobs and %d snapshots removed\n", nblobs / 2, want_snaps);
		return 1;
	}
	return 0;
}
