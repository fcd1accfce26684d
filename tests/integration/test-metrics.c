/* ctr_task_metrics with containerd's full cgroup sets, for real under runc
 * on this machine's hierarchies (cgroup v1 with a v2 hierarchy beside it,
 * or v2 alone): a task that fills /dev/shm, spins and runs several
 * processes shows it in memory, cpu and pids; blkio (v1) or io (v2) lists
 * what the kernel's own file lists; hugetlb has one entry per huge page
 * size where a hierarchy has the controller. Needs root and runc. */
#include "runtime-fixture.h"

static ctr_task *new_task(ctr_client *c, const char *id, const char *args)
{
	char *s = spec(id, args, NULL);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	int r = ctr_task_new_bundle(&t, c, NULL, id, s, rootfs, CTR_NO_OPTS, &e);
	free(s);
	if (r < 0)
		fail_msg("create %s: %s", id, ctr_error_message(e));
	return t;
}

static json_int_t at(json_t *j, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = j;
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	if (!json_is_integer(v))
		fail_msg("metrics: %s is not a number", path);
	return json_integer_value(v);
}

/* The directory of `ctrl`'s hierarchy (NULL: the v2 one) holding pid. */
static bool cgroup_of(pid_t pid, const char *ctrl, char *out, size_t len)
{
	char p[64], line[1024];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		bool v2 = !strcmp(line, "0") && !c1[1];
		if (ctrl ? strstr(c1 + 1, ctrl) && !v2 : v2) {
			if (ctrl)
				snprintf(out, len, "/sys/fs/cgroup/%s%s", ctrl, c2 + 1);
			else if (access("/sys/fs/cgroup/unified", F_OK) == 0)
				snprintf(out, len, "/sys/fs/cgroup/unified%s", c2 + 1);
			else
				snprintf(out, len, "/sys/fs/cgroup%s", c2 + 1);
			found = access(out, F_OK) == 0;
		}
	}
	fclose(f);
	return found;
}

static size_t count_lines(const char *path, const char *skip_prefix)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, skip_prefix, strlen(skip_prefix)) && line[0] != '\n')
			n++;
	fclose(f);
	return n;
}

static void test_full_metrics(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	ctr_task *t = new_task(c, "metrics",
			       "[\"sh\",\"-c\",\"dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=16 2>/dev/null; "
			       "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; sleep 100 & sleep 100 & echo done; wait\"]");
	assert_int_equal(ctr_task_start(t, NULL), 0);
	pid_t pid = (pid_t)ctr_task_pid(t);
	/* until both sleeps run */
	uint32_t *pids = NULL;
	size_t n = 0;
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(ctr_task_pids(&pids, &n, t, NULL), 0);
		ctr_free(pids);
		if (n >= 3)
			break;
		usleep(10000);
	}
	assert_true(n >= 3);
	char *text = NULL;
	ctr_error *e = NULL;
	if (ctr_task_metrics(&text, t, &e) < 0)
		fail_msg("metrics: %s", ctr_error_message(e));
	print_message("metrics: %s\n", text);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	const char *cg = json_string_value(json_object_get(j, "cgroup"));
	assert_non_null(cg);
	bool v1 = !strcmp(cg, "v1");
	char mem[600], dir[600];
	assert_true(cgroup_of(pid, v1 ? "memory" : NULL, mem, sizeof(mem)));
	/* pids: the shell and its two sleeps */
	assert_true(at(j, "pids.current") >= 3);
	/* memory: the 16 MiB in /dev/shm are the cgroup's shmem */
	assert_true(at(j, "memory.usage") >= 16 << 20);
	assert_true(at(j, "memory.stat.shmem") >= 16 << 20);
	assert_true(at(j, "memory.stat.pgfault") > 0);
	if (v1) {
		assert_true(at(j, "memory.stat.total_shmem") >= 16 << 20);
		assert_int_equal(at(j, "memory.failcnt"), 0);
		/* cpu: the loop's time, split into user and kernel and per CPU */
		json_int_t total = at(j, "cpu.usage.total");
		assert_true(total > 0);
		assert_int_equal(total, at(j, "cpu.usage_ns"));
		assert_true(at(j, "cpu.usage.user") + at(j, "cpu.usage.kernel") > 0);
		json_t *per = json_object_get(json_object_get(json_object_get(j, "cpu"), "usage"), "per_cpu");
		assert_true(json_array_size(per) >= (size_t)sysconf(_SC_NPROCESSORS_ONLN));
		json_int_t sum = 0;
		size_t i;
		json_t *v;
		json_array_foreach(per, i, v) sum += json_integer_value(v);
		assert_true(sum > 0);
		assert_true(at(j, "cpu.throttling.periods") >= 0);
		/* blkio: as many entries as the kernel's file has lines */
		json_t *b = json_object_get(j, "blkio");
		assert_non_null(b);
		assert_true(json_is_array(json_object_get(b, "io_merged_recursive")));
		assert_true(cgroup_of(pid, "blkio", dir, sizeof(dir)));
		char p[700];
		snprintf(p, sizeof(p), "%s/blkio.throttle.io_service_bytes_recursive", dir);
		size_t want = count_lines(p, "Total");
		snprintf(p, sizeof(p), "%s/blkio.io_service_bytes_recursive", dir);
		if (count_lines(p, "Total") > 0)
			want = count_lines(p, "Total");
		assert_int_equal(json_array_size(json_object_get(b, "io_service_bytes_recursive")), want);
	} else {
		assert_true(at(j, "cpu.stat.usage_usec") > 0);
		assert_true(at(j, "cpu.stat.user_usec") + at(j, "cpu.stat.system_usec") > 0);
		assert_true(json_is_array(json_object_get(json_object_get(j, "io"), "usage")));
		char p[700];
		snprintf(p, sizeof(p), "%s/io.stat", mem);
		assert_int_equal(json_array_size(json_object_get(json_object_get(j, "io"), "usage")), count_lines(p, "#"));
		assert_true(at(j, "memory.events.oom_kill") >= 0);
	}
	/* hugetlb: one entry per page size where a hierarchy has the
	 * controller (here: the files of the container's cgroup), none used */
	json_t *h = json_object_get(j, "hugetlb");
	assert_true(json_is_array(h));
	size_t sizes = 0;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;
	while (d && (de = readdir(d)))
		sizes += !strncmp(de->d_name, "hugepages-", 10);
	if (d)
		closedir(d);
	bool ctl = cgroup_of(pid, "hugetlb", dir, sizeof(dir));
	if (!ctl && cgroup_of(pid, NULL, dir, sizeof(dir))) {
		char p[700];
		snprintf(p, sizeof(p), "%s/hugetlb.2MB.current", dir);
		ctl = access(p, F_OK) == 0;
	}
	print_message("hugetlb: %zu page sizes, controller %s\n", sizes, ctl ? dir : "not in the task's cgroups");
	assert_int_equal(json_array_size(h), ctl ? sizes : 0);
	size_t i;
	json_t *v;
	json_array_foreach(h, i, v) {
		assert_non_null(json_string_value(json_object_get(v, "pagesize")));
		json_t *use = json_object_get(v, "usage") ? json_object_get(v, "usage") : json_object_get(v, "current");
		assert_true(json_is_integer(use));
		assert_int_equal(json_integer_value(use), 0);
	}
	json_decref(j);
	ctr_free(text);
	ctr_opt *k = ctr_with_process_kill();
	assert_int_equal(ctr_task_delete(NULL, t, CTR_OPTS(k), NULL), 0);
	ctr_opt_free(k);
	ctr_task_free(t);
	ctr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_full_metrics, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
