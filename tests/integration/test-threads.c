/* Two threads on one client (libctr(3), THREAD SAFETY): one pulls an image
 * from a real docker-registry with unpack and runs a container from it
 * through runc, a few times over; the other lists images, containers,
 * content and snapshots and runs the collector all the while. Built and run
 * under ThreadSanitizer too (tests/run.sh). cmocka's asserts belong to the
 * main thread: the workers record their first failure and main checks it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctr/ctr.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layout.h"

#define ITERATIONS 3

static char top[64];
static const char *src;
static char reg_dir[128], ref[256];
static ctr_client *cl;

struct worker {
	int fails;
	char msg[512];
	int rounds;
};

/* Records the first failure and frees (and clears) *err. */
static void fail_rec(struct worker *w, int r, ctr_error **err, const char *what)
{
	if (!w->fails++)
		snprintf(w->msg, sizeof(w->msg), "%s: %d %s", what, r, *err ? ctr_error_message(*err) : "");
	ctr_error_free(*err);
	*err = NULL;
}

static int done; /* atomic: the runner has finished */

/* One round: pull (unpacking) -> container on a new snapshot -> task
 * create, start, wait, delete -> container and image delete. */
static int run_once(struct worker *w, int i)
{
	ctr_error *err = NULL;
	ctr_opt *ph = ctr_with_plain_http(), *un = ctr_with_pull_unpack();
	ctr_image *img = NULL;
	int r = ctr_image_pull(&img, cl, ref, CTR_OPTS(ph, un), &err);
	ctr_opt_free(ph);
	ctr_opt_free(un);
	if (r < 0) {
		fail_rec(w, r, &err, "pull");
		return r;
	}
	char *cfg = NULL;
	if ((r = ctr_image_config(&cfg, img, &err)) < 0) {
		fail_rec(w, r, &err, "image config");
		ctr_image_free(img);
		return r;
	}
	char id[32];
	snprintf(id, sizeof(id), "th%d", i);
	const char *args[] = {"/bin/sh", "-c", "mkdir /tmp/x && test -d /tmp/x", NULL};
	ctr_opt *so = ctr_with_image_config_args(cfg, args);
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot(id, img), ctr_with_new_spec(CTR_OPTS(so))};
	ctr_container *k = NULL;
	r = ctr_container_new(&k, cl, id, (const ctr_opt *const *)co, 3, &err);
	for (size_t j = 0; j < 3; j++)
		ctr_opt_free(co[j]);
	ctr_opt_free(so);
	ctr_free(cfg);
	if (r < 0) {
		fail_rec(w, r, &err, "container new");
		ctr_image_free(img);
		return r;
	}
	ctr_task *t = NULL;
	uint32_t status = 99;
	if ((r = ctr_container_new_task(&t, k, NULL, 0, &err)) < 0)
		fail_rec(w, r, &err, "new task");
	else if ((r = ctr_task_start(t, &err)) < 0)
		fail_rec(w, r, &err, "task start");
	else if ((r = ctr_task_wait(&status, NULL, t, 30000, &err)) < 0)
		fail_rec(w, r, &err, "task wait");
	else if (status != 0)
		fail_rec(w, r = -1, &err, "task exit status not 0");
	if (t) {
		ctr_opt *kill = r < 0 ? ctr_with_process_kill() : NULL;
		int q = kill ? ctr_task_delete(NULL, t, CTR_OPTS(kill), &err) : ctr_task_delete(NULL, t, NULL, 0, &err);
		ctr_opt_free(kill);
		if (q < 0 && r == 0)
			fail_rec(w, r = q, &err, "task delete");
		else
			ctr_error_free(err);
		err = NULL;
		ctr_task_free(t);
	}
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	int q = ctr_container_delete(k, CTR_OPTS(cleanup), &err);
	ctr_opt_free(cleanup);
	ctr_container_free(k);
	if (q < 0 && r == 0)
		fail_rec(w, r = q, &err, "container delete");
	else
		ctr_error_free(err);
	err = NULL;
	/* The collector in the other thread may now take the image's content
	 * and snapshots: the next round pulls them again. */
	q = ctr_image_delete(cl, ref, NULL, 0, &err);
	if (q < 0 && r == 0)
		fail_rec(w, r = q, &err, "image delete");
	else
		ctr_error_free(err);
	ctr_image_free(img);
	return r;
}

static void *runner(void *ud)
{
	struct worker *w = ud;
	for (int i = 0; i < ITERATIONS && !w->fails; i++) {
		if (run_once(w, i) == 0)
			w->rounds++;
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *lister(void *ud)
{
	struct worker *w = ud;
	while (!w->fails) {
		bool last = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
		ctr_error *err = NULL;
		int r;
		ctr_image **imgs = NULL;
		size_t n = 0;
		if ((r = ctr_image_list(&imgs, &n, cl, NULL, 0, NULL, 0, &err)) < 0)
			fail_rec(w, r, &err, "list images");
		else
			ctr_image_list_free(imgs, n);
		ctr_container **ks = NULL;
		if ((r = ctr_container_list(&ks, &n, cl, NULL, 0, NULL, 0, &err)) < 0)
			fail_rec(w, r, &err, "list containers");
		else
			ctr_container_list_free(ks, n);
		ctr_content_info **cs = NULL;
		if ((r = ctr_content_list(&cs, &n, cl, NULL, 0, NULL, 0, &err)) < 0)
			fail_rec(w, r, &err, "list content");
		else
			ctr_content_info_list_free(cs, n);
		ctr_snapshot_info **ss = NULL;
		if ((r = ctr_snapshot_list(&ss, &n, cl, "overlayfs", NULL, 0, NULL, 0, &err)) < 0)
			fail_rec(w, r, &err, "list snapshots");
		else
			ctr_snapshot_info_list_free(ss, n);
		char **removed = NULL;
		if ((r = ctr_client_gc(&removed, cl, NULL, 0, &err)) < 0)
			fail_rec(w, r, &err, "gc");
		else
			ctr_strv_free(removed);
		w->rounds++;
		if (last)
			break;
	}
	return NULL;
}

static void test_pull_run_while_listing(void **s)
{
	(void)s;
	if (!cl)
		skip();
	struct worker a = {0}, b = {0};
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, runner, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, lister, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (a.fails)
		fail_msg("runner: %s", a.msg);
	if (b.fails)
		fail_msg("lister: %s", b.msg);
	assert_int_equal(a.rounds, ITERATIONS);
	assert_true(b.rounds >= 1);
	/* Nothing left behind: the last collection ran after the last delete. */
	ctr_container **ks = NULL;
	size_t n = 9;
	assert_int_equal(ctr_container_list(&ks, &n, cl, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_container_list_free(ks, n);
	char **removed = NULL;
	assert_int_equal(ctr_client_gc(&removed, cl, NULL, 0, NULL), 0);
	ctr_strv_free(removed);
	ctr_snapshot_info **ss = NULL;
	assert_int_equal(ctr_snapshot_list(&ss, &n, cl, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_snapshot_info_list_free(ss, n);
}

static int group_setup(void **s)
{
	(void)s;
	src = getenv("MESON_SOURCE_ROOT");
	if (!src || geteuid() != 0 || access("/usr/bin/docker-registry", X_OK) || access("/usr/bin/skopeo", X_OK) ||
	    test_sh("runc --version >/dev/null 2>&1") || access("/bin/busybox", X_OK)) {
		fprintf(stderr, "skipped: needs root, MESON_SOURCE_ROOT, docker-registry, skopeo, runc and busybox\n");
		return 0;
	}
	strcpy(top, "/tmp/test-threads.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(reg_dir, sizeof(reg_dir), "%s/reg", top);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py busybox %s/bb >/dev/null", src, top), 0);
	assert_int_equal(test_sh("mkdir %s && %s/tests/fixtures/registry.sh start --dir %s --owner-pid %d --ttl 600 "
				 ">/dev/null",
				 reg_dir, src, reg_dir, (int)getpid()),
			 0);
	char addr[256] = "";
	char envf[256];
	snprintf(envf, sizeof(envf), "%s/env", reg_dir);
	FILE *f = fopen(envf, "re");
	assert_non_null(f);
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "REGISTRY_ADDR=", 14)) {
			snprintf(addr, sizeof(addr), "%s", line + 14);
			addr[strcspn(addr, "\n")] = 0;
			if (addr[0] == '\'') {
				memmove(addr, addr + 1, strlen(addr));
				addr[strcspn(addr, "'")] = 0;
			}
		}
	fclose(f);
	assert_true(addr[0]);
	snprintf(ref, sizeof(ref), "%s/threads/bb:1", addr);
	assert_int_equal(test_sh("%s/tests/fixtures/registry.sh push %s oci:%s/bb:latest %s >/dev/null 2>&1", src,
				 reg_dir, top, "threads/bb:1"),
			 0);
	cl = test_client(top, "c");
	return 0;
}

static int group_teardown(void **s)
{
	(void)s;
	ctr_client_free(cl);
	cl = NULL;
	if (top[0]) {
		test_sh("%s/tests/fixtures/registry.sh stop %s >/dev/null 2>&1", src, reg_dir);
		test_sh("grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
			"xargs -r umount -l; rm -rf %s",
			top, top, top);
	}
	return 0;
}

int main(void)
{
	(void)layout_load; /* layout.h brings it; this test pulls instead */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_run_while_listing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
