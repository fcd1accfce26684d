/* Benchmark (not a test): where the time of one container run goes.
 *
 *   bench-run ROOT STATE REF N [--volatile] [--foreground]
 *
 * Pulls REF (plain HTTP, unpacked) once, then N times: creates a container
 * running `true` with a new snapshot, and times ctr_container_new,
 * ctr_container_new_task, ctr_task_start, ctr_task_wait, ctr_task_delete
 * and ctr_container_delete (with its snapshot). Prints one line per phase,
 * "PHASE median_ms", and "total median_ms". --volatile mounts the rootfs
 * volatile (lctr run --rm does), --foreground makes the task with
 * ctr_with_task_foreground (one `runc run`, as lctr run in the foreground). */
#include "bench-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define fail(what, err) bench_fail("bench-run", what, err)

enum { P_NEW, P_TASK, P_START, P_WAIT, P_DELETE, P_RM, P_TOTAL, N_PHASES };
static const char *const names[N_PHASES] = {"container_new", "new_task", "start", "wait",
					    "task_delete", "container_delete", "total"};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int one(ctr_client *c, ctr_image *img, const char *config, int i, int vol, int fg, double *t)
{
	ctr_error *err = NULL;
	char id[64];
	snprintf(id, sizeof(id), "bench-run-%d", i);
	static const char *const args[] = {"true", NULL};
	double t0 = now_ms();
	ctr_opt *spec_opts[] = {ctr_with_image_config_args(config, args)};
	ctr_opt *opts[] = {ctr_with_image(img), ctr_with_new_snapshot(id, img),
			   ctr_with_new_spec((const ctr_opt *const *)spec_opts, 1)};
	ctr_container *k = NULL;
	int r = ctr_container_new(&k, c, id, (const ctr_opt *const *)opts, 3, &err);
	for (size_t j = 0; j < 3; j++)
		ctr_opt_free(opts[j]);
	ctr_opt_free(spec_opts[0]);
	if (r < 0)
		return fail("container", err);
	double t1 = now_ms();
	ctr_opt *to[3] = {ctr_with_stdio_null()};
	size_t n_to = 1;
	if (vol)
		to[n_to++] = ctr_with_task_volatile_rootfs();
	if (fg)
		to[n_to++] = ctr_with_task_foreground();
	ctr_task *task = NULL;
	r = ctr_container_new_task(&task, k, (const ctr_opt *const *)to, n_to, &err);
	for (size_t j = 0; j < n_to; j++)
		ctr_opt_free(to[j]);
	if (r < 0)
		return fail("new task", err);
	double t2 = now_ms();
	if (ctr_task_start(task, &err) < 0)
		return fail("start", err);
	double t3 = now_ms();
	uint32_t status = 1;
	if (ctr_task_wait(&status, NULL, task, -1, &err) < 0)
		return fail("wait", err);
	double t4 = now_ms();
	if (ctr_task_delete(NULL, task, CTR_NO_OPTS, &err) < 0)
		return fail("task delete", err);
	ctr_task_free(task);
	double t5 = now_ms();
	if (bench_container_delete(k, &err) < 0)
		return fail("container delete", err);
	double t6 = now_ms();
	if (status != 0) {
		fprintf(stderr, "bench-run: true exited %u\n", status);
		return 1;
	}
	double d[N_PHASES] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t6 - t0};
	memcpy(t, d, sizeof(d));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5 || atoi(argv[4]) < 1) {
		fprintf(stderr, "usage: bench-run ROOT STATE REF N [--volatile] [--foreground]\n");
		return 2;
	}
	int n = atoi(argv[4]), vol = 0, fg = 0;
	for (int a = 5; a < argc; a++) {
		if (!strcmp(argv[a], "--volatile"))
			vol = 1;
		else if (!strcmp(argv[a], "--foreground"))
			fg = 1;
		else
			return fprintf(stderr, "bench-run: unknown flag %s\n", argv[a]), 2;
	}
	ctr_error *err = NULL;
	ctr_client *c = NULL;
	if (bench_client(&c, argv[1], argv[2], &err) < 0)
		return fail("client", err);
	ctr_image *img = NULL;
	ctr_opt *unpack = ctr_with_pull_unpack(), *plain = ctr_with_plain_http();
	int r = ctr_image_pull(&img, c, argv[3], CTR_OPTS(unpack, plain), &err);
	ctr_opt_free(unpack);
	ctr_opt_free(plain);
	if (r < 0)
		return fail("pull", err);
	char *config = NULL;
	if (ctr_image_config(&config, img, &err) < 0)
		return fail("config", err);
	double *t = calloc((size_t)n * N_PHASES, sizeof(*t));
	if (!t)
		return 1;
	for (int i = 0; i < n; i++)
		if (one(c, img, config, i, vol, fg, t + (size_t)i * N_PHASES))
			return 1;
	double col[n];
	for (int p = 0; p < N_PHASES; p++) {
		for (int i = 0; i < n; i++)
			col[i] = t[(size_t)i * N_PHASES + p];
		printf("%s %.2f\n", names[p], median(col, n));
	}
	free(t);
	ctr_free(config);
	ctr_image_free(img);
	ctr_client_free(c);
	return 0;
}
