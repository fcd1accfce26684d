/* The full cgroup statistics containerd reports for a task (its cgroups v1
 * and v2 Metrics): memory, cpu, pids, blkio or io, hugetlb, each read from
 * the hierarchy that holds the controller. Every reader takes a cgroup
 * directory, so the unit test runs them on a directory of its own. A file
 * that is missing (a controller not enabled, a kernel without swap
 * accounting) leaves its part out; a malformed line is skipped, as the
 * kernel's files never hold one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-stats.h"
#include "macro.h"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static FILE *open_in(const char *dir, const char *name)
{
	char p[PATH_MAX + 128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return fopen(p, "re");
}

static json_t *num(const char *s)
{
	/* "max" is no limit: 0, as the rest of ctr_task_metrics says it */
	return json_integer(strncmp(s, "max", 3) ? (json_int_t)strtoull(s, NULL, 10) : 0);
}

int ctr_cg_u64(json_t *obj, const char *key, const char *dir, const char *name)
{
	_cleanup_fclose_ FILE *f = open_in(dir, name);
	char b[64];
	if (!f || !fgets(b, sizeof(b), f))
		return -1;
	json_object_set_new(obj, key, num(b));
	return 0;
}

json_t *ctr_cg_kv(const char *dir, const char *name)
{
	_cleanup_fclose_ FILE *f = open_in(dir, name);
	if (!f)
		return NULL;
	json_t *o = json_object();
	char line[256], key[128];
	unsigned long long v;
	while (o && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %llu", key, &v) == 2)
			json_object_set_new(o, key, json_integer((json_int_t)v));
	return o;
}

json_t *ctr_cg_blkio(const char *dir, const char *name)
{
	_cleanup_fclose_ FILE *f = open_in(dir, name);
	if (!f)
		return NULL;
	json_t *a = json_array();
	char line[256], op[32];
	unsigned maj, min;
	unsigned long long v;
	while (a && fgets(line, sizeof(line), f)) {
		/* "8:0 Read 4096", or "8:0 4096" for the files without ops */
		int n = sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v);
		if (n == 3 && sscanf(line, "%u:%u %llu", &maj, &min, &v) == 3)
			op[0] = 0;
		else if (n != 4)
			continue; /* "Total 123" */
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:I}", "op", op, "major", (int)maj, "minor",
						   (int)min, "value", (json_int_t)v));
	}
	return a;
}

json_t *ctr_cg_io_stat(const char *dir)
{
	_cleanup_fclose_ FILE *f = open_in(dir, "io.stat");
	if (!f)
		return NULL;
	json_t *a = json_array();
	char line[1024];
	while (a && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		int off = 0;
		if (sscanf(line, "%u:%u%n", &maj, &min, &off) != 2)
			continue;
		json_t *e = json_pack("{s:i,s:i}", "major", (int)maj, "minor", (int)min);
		char key[32];
		unsigned long long v;
		int k = 0;
		for (const char *s = line + off; e && sscanf(s, " %31[a-z_]=%llu%n", key, &v, &k) == 2; s += k)
			json_object_set_new(e, key, json_integer((json_int_t)v));
		json_array_append_new(a, e);
	}
	return a;
}

json_t *ctr_cg_percpu(const char *dir)
{
	_cleanup_fclose_ FILE *f = open_in(dir, "cpuacct.usage_percpu");
	if (!f)
		return NULL;
	json_t *a = json_array();
	unsigned long long v;
	while (a && fscanf(f, "%llu", &v) == 1)
		json_array_append_new(a, json_integer((json_int_t)v));
	return a;
}

/* "hugepages-2048kB" -> "2MB", as the cgroup files name the size. */
static bool page_size_name(const char *ent, char *out, size_t len)
{
	unsigned long kb;
	char unit[4];
	if (sscanf(ent, "hugepages-%lu%3s", &kb, unit) != 2 || strcmp(unit, "kB") || !kb)
		return false;
	if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
		snprintf(out, len, "%luGB", kb / (1024 * 1024));
	else if (kb >= 1024 && kb % 1024 == 0)
		snprintf(out, len, "%luMB", kb / 1024);
	else
		snprintf(out, len, "%luKB", kb);
	return true;
}

json_t *ctr_cg_hugetlb(const char *dir, bool v1, const char *hugepages_dir)
{
	_cleanup_(closedirp) DIR *d = opendir(hugepages_dir);
	if (!d)
		return json_array();
	json_t *a = json_array();
	struct dirent *e;
	while (a && (e = readdir(d))) {
		char size[32], f[96];
		if (!page_size_name(e->d_name, size, sizeof(size)))
			continue;
		json_t *o = json_pack("{s:s}", "pagesize", size);
		if (!o)
			continue;
		int got = 0;
		if (v1) {
			snprintf(f, sizeof(f), "hugetlb.%s.usage_in_bytes", size);
			got = ctr_cg_u64(o, "usage", dir, f) == 0;
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
			ctr_cg_u64(o, "max", dir, f);
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
			ctr_cg_u64(o, "failcnt", dir, f);
		} else {
			snprintf(f, sizeof(f), "hugetlb.%s.current", size);
			got = ctr_cg_u64(o, "current", dir, f) == 0;
			snprintf(f, sizeof(f), "hugetlb.%s.max", size);
			ctr_cg_u64(o, "max", dir, f);
		}
		if (got)
			json_array_append_new(a, o);
		else
			json_decref(o);
	}
	return a;
}

/* A v1 resource counter ({prefix}usage_in_bytes and its kin). */
static json_t *counter(const char *dir, const char *prefix)
{
	char f[96];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "%susage_in_bytes", prefix);
	if (!o || ctr_cg_u64(o, "usage", dir, f) < 0) {
		json_decref(o);
		return NULL;
	}
	snprintf(f, sizeof(f), "%slimit_in_bytes", prefix);
	ctr_cg_u64(o, "limit", dir, f);
	snprintf(f, sizeof(f), "%smax_usage_in_bytes", prefix);
	ctr_cg_u64(o, "max", dir, f);
	snprintf(f, sizeof(f), "%sfailcnt", prefix);
	ctr_cg_u64(o, "failcnt", dir, f);
	return o;
}

static void set_if(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(o, key, v);
}

void ctr_cg_memory_v1(json_t *mem, const char *dir)
{
	ctr_cg_u64(mem, "failcnt", dir, "memory.failcnt");
	set_if(mem, "stat", ctr_cg_kv(dir, "memory.stat"));
	set_if(mem, "swap", counter(dir, "memory.memsw."));
	set_if(mem, "kernel", counter(dir, "memory.kmem."));
	set_if(mem, "kernel_tcp", counter(dir, "memory.kmem.tcp."));
}

void ctr_cg_cpu_v1(json_t *cpu, const char *acct_dir, const char *cpu_dir, long ticks)
{
	json_t *u = json_object();
	if (u && acct_dir) {
		ctr_cg_u64(u, "total", acct_dir, "cpuacct.usage");
		/* cpuacct.stat counts USER_HZ ticks: nanoseconds, as containerd gives */
		json_t *st = ctr_cg_kv(acct_dir, "cpuacct.stat");
		if (st && ticks > 0) {
			json_object_set_new(u, "user", json_integer(json_integer_value(json_object_get(st, "user")) *
								    (1000000000 / ticks)));
			json_object_set_new(u, "kernel",
					    json_integer(json_integer_value(json_object_get(st, "system")) *
							 (1000000000 / ticks)));
		}
		json_decref(st);
		set_if(u, "per_cpu", ctr_cg_percpu(acct_dir));
	}
	set_if(cpu, "usage", u);
	json_t *st = cpu_dir ? ctr_cg_kv(cpu_dir, "cpu.stat") : NULL;
	if (st) {
		json_object_set_new(cpu, "throttling",
				    json_pack("{s:O,s:O,s:O}", "periods", json_object_get(st, "nr_periods"),
					      "throttled_periods", json_object_get(st, "nr_throttled"), "throttled_time",
					      json_object_get(st, "throttled_time")));
		json_decref(st);
	}
}

void ctr_cg_blkio_v1(json_t *out, const char *dir)
{
	/* The CFQ files when the scheduler keeps them, else the throttle
	 * layer's, which count every request (containerd's order). */
	static const char *const files[] = {
		"io_service_bytes_recursive", "io_serviced_recursive", "io_queued_recursive",
		"io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
		"time_recursive", "sectors_recursive",
	};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(files); i++) {
		char f[96];
		snprintf(f, sizeof(f), "blkio.%s", files[i]);
		json_t *a = ctr_cg_blkio(dir, f);
		if ((!a || !json_array_size(a)) && i < 2) {
			json_decref(a);
			snprintf(f, sizeof(f), "blkio.throttle.%s", files[i]);
			a = ctr_cg_blkio(dir, f);
		}
		json_object_set_new(out, files[i], a ? a : json_array());
	}
}

void ctr_cg_memory_v2(json_t *mem, const char *dir)
{
	ctr_cg_u64(mem, "swap_usage", dir, "memory.swap.current");
	ctr_cg_u64(mem, "swap_limit", dir, "memory.swap.max");
	set_if(mem, "stat", ctr_cg_kv(dir, "memory.stat"));
	set_if(mem, "events", ctr_cg_kv(dir, "memory.events"));
}
