/* Readers of cgroup statistics files (lib/runtime/cgroup-stats.c), each on
 * a cgroup directory. NULL (or -1) when the file is missing. */
#ifndef CTR_RT_CGROUP_STATS_H
#define CTR_RT_CGROUP_STATS_H

#include <jansson.h>
#include <stdbool.h>

/* obj[key] = the number in dir/name ("max": 0). */
int ctr_cg_u64(json_t *obj, const char *key, const char *dir, const char *name);
/* "key value" lines (memory.stat, cpu.stat, memory.events) as an object. */
json_t *ctr_cg_kv(const char *dir, const char *name);
/* v1 blkio lines "MAJ:MIN Op value" as [{op, major, minor, value}]. */
json_t *ctr_cg_blkio(const char *dir, const char *name);
/* v2 io.stat as [{major, minor, rbytes, wbytes, rios, wios, ...}]. */
json_t *ctr_cg_io_stat(const char *dir);
/* cpuacct.usage_percpu as an array of nanoseconds. */
json_t *ctr_cg_percpu(const char *dir);
/* One entry per huge page size of hugepages_dir (/sys/kernel/mm/hugepages)
 * that dir has files for: v1 {pagesize, usage, max (peak), failcnt}, v2
 * {pagesize, current, max (limit)}. Never NULL but on ENOMEM. */
json_t *ctr_cg_hugetlb(const char *dir, bool v1, const char *hugepages_dir);
/* Adds failcnt, stat, swap, kernel, kernel_tcp to a v1 memory object. */
void ctr_cg_memory_v1(json_t *mem, const char *dir);
/* Adds usage {total, user, kernel, per_cpu} (ticks: USER_HZ) and
 * throttling {periods, throttled_periods, throttled_time}; either dir may
 * be NULL. */
void ctr_cg_cpu_v1(json_t *cpu, const char *acct_dir, const char *cpu_dir, long ticks);
/* Adds containerd's blkio lists (each [] when empty) to out. */
void ctr_cg_blkio_v1(json_t *out, const char *dir);
/* Adds swap_usage, swap_limit, stat, events to a v2 memory object. */
void ctr_cg_memory_v2(json_t *mem, const char *dir);

#endif
