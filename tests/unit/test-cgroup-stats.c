/* The cgroup statistics readers behind ctr_task_metrics on files shaped as
 * the kernel writes them (v1 blkio with and without ops, v2 io.stat,
 * memory.stat, hugetlb files of both versions, "max", per-CPU usage), in a
 * temp dir; the metrics integration test reads this machine's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-stats.h"
#include "fs.h"

static char dir[64], hp[96];

static void put(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ctr-cgstats-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(hp, sizeof(hp), "%s/hugepages", dir);
	assert_int_equal(mkdir(hp, 0755), 0);
	char p[160];
	const char *sizes[] = {"hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB", "not-a-size", NULL};
	for (size_t i = 0; sizes[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", hp, sizes[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_rm_rf_at(AT_FDCWD, dir, NULL);
	return 0;
}

static json_t *find(json_t *a, const char *key, const char *val)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(json_object_get(v, key)), val))
			return v;
	return NULL;
}

static json_int_t geti(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void test_v1(void **state)
{
	(void)state;
	put("blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 4096\n8:0 Write 1048576\n8:0 Sync 0\n8:0 Async 1052672\n8:0 Discard 0\n8:0 Total 1052672\nTotal 1052672\n");
	put("blkio.io_service_bytes_recursive", "Total 0\n");
	put("blkio.sectors_recursive", "8:0 2056\n");
	json_t *b = json_object();
	ctr_cg_blkio_v1(b, dir);
	json_t *sb = json_object_get(b, "io_service_bytes_recursive");
	assert_int_equal(json_array_size(sb), 6); /* the per-device Total too, not the grand total */
	json_t *w = find(sb, "op", "Write");
	assert_non_null(w);
	assert_int_equal(geti(w, "major"), 8);
	assert_int_equal(geti(w, "minor"), 0);
	assert_int_equal(geti(w, "value"), 1048576);
	json_t *sec = json_object_get(b, "sectors_recursive");
	assert_int_equal(json_array_size(sec), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sec, 0), "op")), "");
	assert_int_equal(geti(json_array_get(sec, 0), "value"), 2056);
	assert_int_equal(json_array_size(json_object_get(b, "io_queued_recursive")), 0);
	json_decref(b);

	put("memory.failcnt", "3\n");
	put("memory.stat", "cache 16777216\nrss 147456\nshmem 16777216\ntotal_rss 147456\n");
	put("memory.memsw.usage_in_bytes", "20000\n");
	put("memory.memsw.limit_in_bytes", "9223372036854771712\n");
	put("memory.memsw.max_usage_in_bytes", "30000\n");
	put("memory.memsw.failcnt", "0\n");
	json_t *m = json_object();
	ctr_cg_memory_v1(m, dir);
	assert_int_equal(geti(m, "failcnt"), 3);
	assert_int_equal(geti(json_object_get(m, "stat"), "shmem"), 16777216);
	assert_int_equal(geti(json_object_get(m, "stat"), "total_rss"), 147456);
	assert_int_equal(geti(json_object_get(m, "swap"), "max"), 30000);
	assert_null(json_object_get(m, "kernel")); /* no kmem files: left out */
	json_decref(m);

	put("cpuacct.usage", "500000000\n");
	put("cpuacct.stat", "user 30\nsystem 10\n");
	put("cpuacct.usage_percpu", "100000000 400000000 \n");
	put("cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 123456\n");
	json_t *cpu = json_object();
	ctr_cg_cpu_v1(cpu, dir, dir, 100);
	json_t *u = json_object_get(cpu, "usage");
	assert_int_equal(geti(u, "total"), 500000000);
	assert_int_equal(geti(u, "user"), 300000000);
	assert_int_equal(geti(u, "kernel"), 100000000);
	assert_int_equal(json_array_size(json_object_get(u, "per_cpu")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(u, "per_cpu"), 1)), 400000000);
	json_t *th = json_object_get(cpu, "throttling");
	assert_int_equal(geti(th, "periods"), 7);
	assert_int_equal(geti(th, "throttled_periods"), 2);
	assert_int_equal(geti(th, "throttled_time"), 123456);
	json_decref(cpu);

	put("hugetlb.2MB.usage_in_bytes", "2097152\n");
	put("hugetlb.2MB.max_usage_in_bytes", "4194304\n");
	put("hugetlb.2MB.failcnt", "1\n");
	put("hugetlb.1GB.usage_in_bytes", "0\n");
	json_t *h = ctr_cg_hugetlb(dir, true, hp);
	assert_int_equal(json_array_size(h), 2); /* 64KB has no files here */
	json_t *two = find(h, "pagesize", "2MB");
	assert_non_null(two);
	assert_int_equal(geti(two, "usage"), 2097152);
	assert_int_equal(geti(two, "max"), 4194304);
	assert_int_equal(geti(two, "failcnt"), 1);
	assert_non_null(find(h, "pagesize", "1GB"));
	json_decref(h);
}

static void test_v2(void **state)
{
	(void)state;
	put("io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=0 rios=1 wios=0\n");
	json_t *io = ctr_cg_io_stat(dir);
	assert_int_equal(json_array_size(io), 2);
	json_t *e = json_array_get(io, 0);
	assert_int_equal(geti(e, "major"), 8);
	assert_int_equal(geti(e, "wbytes"), 8192);
	assert_int_equal(geti(e, "wios"), 2);
	assert_int_equal(geti(json_array_get(io, 1), "minor"), 1);
	json_decref(io);

	put("memory.swap.current", "0\n");
	put("memory.swap.max", "max\n");
	put("memory.stat", "anon 4096\nfile 16777216\nshmem 16777216\npgfault 900\n");
	put("memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
	json_t *m = json_object();
	ctr_cg_memory_v2(m, dir);
	assert_int_equal(geti(m, "swap_limit"), 0); /* "max": no limit */
	assert_int_equal(geti(json_object_get(m, "stat"), "file"), 16777216);
	assert_int_equal(geti(json_object_get(m, "events"), "oom_kill"), 1);
	json_decref(m);

	put("hugetlb.2MB.current", "0\n");
	put("hugetlb.2MB.max", "max\n");
	put("hugetlb.64KB.current", "65536\n");
	put("hugetlb.64KB.max", "131072\n");
	json_t *h = ctr_cg_hugetlb(dir, false, hp);
	assert_int_equal(json_array_size(h), 2);
	json_t *small = find(h, "pagesize", "64KB");
	assert_non_null(small);
	assert_int_equal(geti(small, "current"), 65536);
	assert_int_equal(geti(small, "max"), 131072);
	assert_int_equal(geti(find(h, "pagesize", "2MB"), "max"), 0);
	json_decref(h);
	/* missing files: nothing, not an error */
	assert_null(ctr_cg_kv(dir, "no.such"));
	assert_null(ctr_cg_io_stat("/nonexistent"));
	h = ctr_cg_hugetlb(dir, false, "/nonexistent");
	assert_int_equal(json_array_size(h), 0);
	json_decref(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
