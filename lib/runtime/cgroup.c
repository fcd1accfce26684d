/* Cgroup files read directly for pids and metrics: no runtime process.
 * The container's cgroup comes from /proc/<init pid>/cgroup, its mount from
 * /proc/self/mountinfo, so v1, v2 and hybrid hosts all work. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-stats.h"
#include "error.h"
#include "runtime-priv.h"
#include "json.h"
#include "macro.h"

/* Does the comma list `list` contain `word`? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *s = list; s && *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && !strncmp(s, word, n))
			return true;
		s = e ? e + 1 : NULL;
	}
	return false;
}

/* The mount point of the v1 hierarchy with `ctrl`, or of cgroup2 when ctrl
 * is NULL, with the mount's root in *root. */
static int find_mount(const char *ctrl, char *mnt, size_t mlen, char *root, size_t rlen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char r[PATH_MAX], m[PATH_MAX], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		bool ok = ctrl ? !strcmp(fstype, "cgroup") && has_word(super, ctrl)
			       : !strcmp(fstype, "cgroup2");
		if (ok) {
			snprintf(mnt, mlen, "%s", m);
			snprintf(root, rlen, "%s", r);
			return 0;
		}
	}
	return -ENOENT;
}

/* The directory of pid's cgroup for controller ctrl (v1), or its v2 cgroup
 * when ctrl is NULL. */
static int cgroup_dir(pid_t pid, const char *ctrl, char *out, size_t len)
{
	char p[64], line[4096];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		const char *ctrls = c1 + 1, *path = c2 + 1;
		bool ok = ctrl ? has_word(ctrls, ctrl) : (!strcmp(line, "0") && !*ctrls);
		if (!ok)
			continue;
		char mnt[PATH_MAX], root[PATH_MAX];
		int r = find_mount(ctrl, mnt, sizeof(mnt), root, sizeof(root));
		if (r < 0)
			return r;
		size_t rl = strlen(root);
		if (strcmp(root, "/") && !strncmp(path, root, rl))
			path += rl;
		snprintf(out, len, "%s%s", mnt, path);
		return 0;
	}
	return -ENOENT;
}

/* A number from a one-value cgroup file; "max" reads as 0 (no limit). */
static int read_u64(const char *dir, const char *name, uint64_t *v)
{
	char p[PATH_MAX + 64], b[64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	if (n <= 0)
		return -EIO;
	b[n] = 0;
	*v = strncmp(b, "max", 3) ? strtoull(b, NULL, 10) : 0;
	return 0;
}

/* "key value" lines (cpu.stat, memory.stat). */
static int read_key(const char *dir, const char *name, const char *key, uint64_t *v)
{
	char p[PATH_MAX + 64], line[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

static int running_pid(ctr_rt_task *t, pid_t *pid, ctr_error **err)
{
	ctr_rt_status st;
	int r = ctr_rt_proc_status(&t->init, &st, NULL, err);
	if (r < 0)
		return r;
	if (st == CTR_RT_STOPPED || st == CTR_RT_UNKNOWN || t->init.pid <= 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "task %s is not running", t->id);
	*pid = t->init.pid;
	return 0;
}

/* v1 when the container sits in a v1 memory hierarchy, else v2. */
static int task_cgroup(ctr_rt_task *t, bool *v1, char *dir, size_t len, ctr_error **err)
{
	pid_t pid;
	int r = running_pid(t, &pid, err);
	if (r < 0)
		return r;
	if (cgroup_dir(pid, "memory", dir, len) == 0) {
		*v1 = true;
		return 0;
	}
	r = cgroup_dir(pid, NULL, dir, len);
	if (r < 0)
		return ctr_err_errno(err, -r, "task %s: find its cgroup", t->id);
	*v1 = false;
	return 0;
}

int ctr_rt_pids(ctr_rt_task *t, uint32_t **pids, size_t *n, ctr_error **err)
{
	pid_t pid;
	int r = running_pid(t, &pid, err);
	if (r < 0)
		return r;
	char dir[PATH_MAX];
	if (cgroup_dir(pid, "pids", dir, sizeof(dir)) < 0 && cgroup_dir(pid, "memory", dir, sizeof(dir)) < 0 &&
	    (r = cgroup_dir(pid, NULL, dir, sizeof(dir))) < 0)
		return ctr_err_errno(err, -r, "task %s: find its cgroup", t->id);
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	if (!f)
		return ctr_err_errno(err, errno, "task %s: open %s", t->id, p);
	_cleanup_free_ uint32_t *v = NULL;
	size_t cnt = 0, cap = 0;
	unsigned long x;
	while (fscanf(f, "%lu", &x) == 1) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			uint32_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return ctr_err_nomem(err);
			v = nv;
		}
		v[cnt++] = (uint32_t)x;
	}
	if (!v && !(v = malloc(sizeof(*v))))
		return ctr_err_nomem(err);
	*pids = TAKE_PTR(v);
	*n = cnt;
	return 0;
}

/* containerd's full sets on top of the summary: each controller read
 * where this host mounts it (a hybrid host may have hugetlb only on its v2
 * hierarchy; its entries then have v2's fields). */
static void full_stats(json_t *j, pid_t pid, bool v1, const char *mem)
{
	json_t *m = json_object_get(j, "memory"), *cpu = json_object_get(j, "cpu");
	char d[PATH_MAX], d2[PATH_MAX], v2dir[PATH_MAX];
	bool have_v2 = cgroup_dir(pid, NULL, v2dir, sizeof(v2dir)) == 0;
	if (v1) {
		ctr_cg_memory_v1(m, mem);
		bool acct = cgroup_dir(pid, "cpuacct", d, sizeof(d)) == 0;
		bool cpud = cgroup_dir(pid, "cpu", d2, sizeof(d2)) == 0;
		ctr_cg_cpu_v1(cpu, acct ? d : NULL, cpud ? d2 : NULL, sysconf(_SC_CLK_TCK));
		json_t *b = json_object();
		if (b && cgroup_dir(pid, "blkio", d, sizeof(d)) == 0)
			ctr_cg_blkio_v1(b, d);
		if (b)
			json_object_set_new(j, "blkio", b);
	} else {
		ctr_cg_memory_v2(m, mem);
		json_t *st = ctr_cg_kv(mem, "cpu.stat");
		if (st)
			json_object_set_new(cpu, "stat", st);
		json_t *io = ctr_cg_io_stat(mem);
		json_object_set_new(j, "io", json_pack("{s:o}", "usage", io ? io : json_array()));
	}
	/* hugetlb: the v1 controller when mounted, else the v2 hierarchy's */
	if (cgroup_dir(pid, "hugetlb", d, sizeof(d)) == 0)
		json_object_set_new(j, "hugetlb", ctr_cg_hugetlb(d, true, "/sys/kernel/mm/hugepages"));
	else if (have_v2)
		json_object_set_new(j, "hugetlb", ctr_cg_hugetlb(v2dir, false, "/sys/kernel/mm/hugepages"));
	else
		json_object_set_new(j, "hugetlb", json_array());
}

int ctr_rt_metrics(ctr_rt_task *t, char **json_out, ctr_error **err)
{
	bool v1 = false;
	char mem[PATH_MAX];
	int r = task_cgroup(t, &v1, mem, sizeof(mem), err);
	if (r < 0)
		return r;
	uint64_t usage = 0, limit = 0, max_usage = 0, cpu_ns = 0, pcur = 0, plim = 0;
	if (v1) {
		if ((r = read_u64(mem, "memory.usage_in_bytes", &usage)) < 0)
			return ctr_err_errno(err, -r, "task %s: read %s/memory.usage_in_bytes", t->id, mem);
		read_u64(mem, "memory.limit_in_bytes", &limit);
		read_u64(mem, "memory.max_usage_in_bytes", &max_usage);
		char d[PATH_MAX];
		if (cgroup_dir(t->init.pid, "cpuacct", d, sizeof(d)) == 0)
			read_u64(d, "cpuacct.usage", &cpu_ns);
		if (cgroup_dir(t->init.pid, "pids", d, sizeof(d)) == 0) {
			read_u64(d, "pids.current", &pcur);
			read_u64(d, "pids.max", &plim);
		}
	} else {
		if ((r = read_u64(mem, "memory.current", &usage)) < 0)
			return ctr_err_errno(err, -r, "task %s: read %s/memory.current", t->id, mem);
		read_u64(mem, "memory.max", &limit);
		read_u64(mem, "memory.peak", &max_usage);
		uint64_t us = 0;
		if (read_key(mem, "cpu.stat", "usage_usec", &us) == 0)
			cpu_ns = us * 1000;
		read_u64(mem, "pids.current", &pcur);
		read_u64(mem, "pids.max", &plim);
	}
	json_t *j = json_pack("{s:s,s:{s:I,s:I,s:I},s:{s:I},s:{s:I,s:I}}", "cgroup", v1 ? "v1" : "v2",
			      "memory", "usage", (json_int_t)usage, "limit", (json_int_t)limit, "max_usage",
			      (json_int_t)max_usage, "cpu", "usage_ns", (json_int_t)cpu_ns, "pids", "current",
			      (json_int_t)pcur, "limit", (json_int_t)plim);
	if (j)
		full_stats(j, t->init.pid, v1, mem);
	if (!j)
		return ctr_err_nomem(err);
	char *s = ctr_json_dump(j);
	json_decref(j);
	if (!s)
		return ctr_err_nomem(err);
	*json_out = s;
	return 0;
}
