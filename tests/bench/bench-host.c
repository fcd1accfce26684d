/* Benchmark (not a test): the memory a host program keeps.
 *
 *   bench-host ROOT STATE REF
 *
 * Pulls REF over plain HTTP and unpacks it, runs `true` in a container of
 * it (create, start, wait, delete), keeps the client open as an idle
 * program would, and prints "rss KIB" from /proc/self/status. */
#include "bench-client.h"

#include <stdio.h>
#include <string.h>

#define fail(what, err) bench_fail("bench-host", what, err)

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench-host ROOT STATE REF\n");
		return 2;
	}
	ctr_error *err = NULL;
	ctr_client *c = NULL;
	int r = bench_client(&c, argv[1], argv[2], &err);
	if (r < 0)
		return fail("client", err);
	ctr_image *img = NULL;
	ctr_opt *unpack = ctr_with_pull_unpack(), *plain = ctr_with_plain_http();
	r = ctr_image_pull(&img, c, argv[3], CTR_OPTS(unpack, plain), &err);
	ctr_opt_free(unpack);
	ctr_opt_free(plain);
	if (r < 0)
		return fail("pull", err);

	char *config = NULL;
	ctr_container *k = NULL;
	static const char *const args[] = {"true", NULL};
	r = ctr_image_config(&config, img, &err);
	if (r == 0) {
		ctr_opt *spec_opts[] = {ctr_with_image_config_args(config, args)};
		ctr_opt *opts[] = {ctr_with_image(img), ctr_with_new_snapshot("bench-host-snapshot", img),
				   ctr_with_new_spec((const ctr_opt *const *)spec_opts, 1)};
		r = ctr_container_new(&k, c, "bench-host", (const ctr_opt *const *)opts, 3, &err);
		for (size_t i = 0; i < 3; i++)
			ctr_opt_free(opts[i]);
		ctr_opt_free(spec_opts[0]);
		ctr_free(config);
	}
	ctr_image_free(img);
	if (r < 0)
		return fail("container", err);
	ctr_task *t = NULL;
	uint32_t status = 0;
	ctr_opt *nul = ctr_with_stdio_null();
	r = ctr_container_new_task(&t, k, CTR_OPTS(nul), &err);
	ctr_opt_free(nul);
	if (r < 0)
		return fail("new task", err);
	if (ctr_task_start(t, &err) < 0 || ctr_task_wait(&status, NULL, t, -1, &err) < 0)
		return fail("run", err);
	if (ctr_task_delete(NULL, t, CTR_NO_OPTS, &err) < 0)
		return fail("task delete", err);
	ctr_task_free(t);
	if (bench_container_delete(k, &err) < 0)
		return fail("container delete", err);
	/* Idle with the client open: what a long-lived host program holds. */
	printf("rss %ld exit %u\n", rss_kib(), status);
	ctr_client_free(c);
	return status == 0 ? 0 : 1;
}
