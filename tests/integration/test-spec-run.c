/* containerd's spec options under runc: each container runs a busybox
 * shell on a host directory and prints what the option should have done,
 * seen from inside (capability masks from /proc/self/status, a masked file
 * that reads empty, a read-only path, the size of /dev/shm, device nodes
 * and their cgroup rule, the cpuset, sysfs mounted rw, the host's
 * localtime, a spec given whole with options on top). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ctr/ctr.h>

static char base[128], rootfs[192];
static ctr_client *cl;
static const char *skip_reason;

static int group_setup(void **s)
{
	(void)s;
	if (geteuid() != 0 || system("runc --version >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0) {
		skip_reason = "needs root, runc and busybox-static";
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/ctr-spec-run-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "set -e; r=%s; mkdir -p $r/bin $r/proc $r/dev $r/sys $r/tmp $r/etc; cp /bin/busybox $r/bin/; "
		 "for a in sh cat grep df ls test echo touch wc head nproc awk; do ln -s busybox $r/bin/$a; done; "
		 "echo top-secret > $r/etc/secret",
		 rootfs);
	assert_int_equal(system(cmd), 0);
	char root[192], state[192];
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(state, sizeof(state), "%s/state", base);
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(state)};
	assert_int_equal(ctr_client_new(&cl, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	return 0;
}

/* Removes what a failed test left: tasks (forced), then containers. */
static int sweep(void **s)
{
	(void)s;
	ctr_container **v = NULL;
	size_t n = 0;
	if (!cl || ctr_container_list(&v, &n, cl, NULL, 0, NULL, 0, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		ctr_task *t = NULL;
		if (ctr_container_task(&t, v[i], NULL) == 0) {
			ctr_opt *pk = ctr_with_process_kill();
			ctr_task_delete(NULL, t, CTR_OPTS(pk), NULL);
			ctr_opt_free(pk);
		}
		ctr_task_free(t);
		ctr_container_delete(v[i], NULL, 0, NULL);
	}
	ctr_container_list_free(v, n);
	return 0;
}

static int group_teardown(void **s)
{
	if (!base[0])
		return 0;
	sweep(s);
	ctr_client_free(cl);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "grep -o ' %s[^ ]*' /proc/mounts | sort -r | while read -r m; do umount -l \"$m\"; done; rm -rf %s",
		 base, base);
	if (system(cmd) != 0)
		print_message("cleanup of %s failed\n", base);
	return 0;
}

#define SKIP_UNLESS_READY()                                                   \
	do {                                                                  \
		if (skip_reason) {                                            \
			print_message("skip: %s\n", skip_reason);            \
			skip();                                               \
		}                                                             \
	} while (0)

/* Runs `sh -c script` in container id on the busybox rootfs with the
 * spec options opts (freed here), after the rootfs and PATH; returns the
 * output (stdout and stderr, free()d by the caller) and the exit status. */
static char *run_sh(const char *id, const char *script, uint32_t *status, ctr_opt **opts, size_t n)
{
	const char *args[] = {"sh", "-c", script, NULL};
	ctr_opt *so[24] = {ctr_with_rootfs_path(rootfs), ctr_with_default_path_env()};
	size_t k = 2;
	for (size_t i = 0; i < n && k < 23; i++)
		so[k++] = opts[i];
	so[k++] = ctr_with_process_args(args);
	ctr_opt *co = ctr_with_new_spec((const ctr_opt *const *)so, k);
	ctr_container *c = NULL;
	ctr_error *e = NULL;
	int r = ctr_container_new(&c, cl, id, (const ctr_opt *const *)&co, 1, &e);
	if (r)
		print_message("new %s: %s\n", id, ctr_error_message(e));
	assert_int_equal(r, 0);
	ctr_opt_free(co);
	for (size_t i = 0; i < k; i++)
		ctr_opt_free(so[i]);
	char log[256], uri[300];
	snprintf(log, sizeof(log), "%s/%s.log", base, id);
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *to = ctr_with_log_uri(uri);
	ctr_task *t = NULL;
	r = ctr_container_new_task(&t, c, (const ctr_opt *const *)&to, 1, &e);
	ctr_opt_free(to);
	if (r)
		print_message("task %s: %s\n", id, ctr_error_message(e));
	assert_int_equal(r, 0);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	assert_int_equal(ctr_task_wait(status, NULL, t, 20000, NULL), 0);
	assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), 0);
	ctr_task_free(t);
	assert_int_equal(ctr_container_delete(c, NULL, 0, NULL), 0);
	ctr_container_free(c);
	FILE *f = fopen(log, "re");
	assert_non_null(f);
	char *out = calloc(1, 65536);
	assert_non_null(out);
	size_t got = fread(out, 1, 65535, f);
	(void)got;
	fclose(f);
	return out;
}

#define RUN(id, script, status, ...)                                                 \
	run_sh((id), (script), (status), (ctr_opt *[]){__VA_ARGS__},                 \
	       sizeof((ctr_opt *[]){__VA_ARGS__}) / sizeof(ctr_opt *))

/* The hex mask of a "Cap...:" line of a /proc/<pid>/status text. */
static uint64_t cap_mask(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

/* Ambient capabilities reach the process (CapAmb, and CapInh with it);
 * without them both stay 0 (CVE-2022-24769); privileged has every
 * capability the host's bounding set allows. */
static void test_capabilities(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	uint32_t st = 99;
	char *out = RUN("capdef", "grep ^Cap /proc/self/status", &st, ctr_with_default_unix_devices());
	assert_int_equal(st, 0);
	assert_int_equal(cap_mask(out, "CapAmb:"), 0);
	assert_int_equal(cap_mask(out, "CapInh:"), 0);
	free(out);

	const char *amb[] = {"CAP_NET_BIND_SERVICE", NULL};
	out = RUN("capamb", "grep ^Cap /proc/self/status", &st, ctr_with_ambient_capabilities(amb));
	assert_int_equal(st, 0);
	assert_int_equal(cap_mask(out, "CapAmb:"), 1ull << 10);
	assert_int_equal(cap_mask(out, "CapInh:"), 1ull << 10);
	free(out);

	FILE *f = fopen("/proc/self/status", "re");
	assert_non_null(f);
	char host[8192] = {0};
	size_t n = fread(host, 1, sizeof(host) - 1, f);
	(void)n;
	fclose(f);
	uint64_t bnd = cap_mask(host, "CapBnd:"), known = (1ull << 41) - 1;
	if ((bnd & known) == known) {
		/* every capability libctr knows (bits 0-40) */
		out = RUN("capall", "grep ^Cap /proc/self/status", &st, ctr_with_privileged());
		assert_int_equal(st, 0);
		assert_int_equal(cap_mask(out, "CapEff:"), known);
	} else {
		/* runc cannot grant what the host's bounding set lacks */
		print_message("part skipped: this host's bounding set %" PRIx64 " lacks capabilities libctr "
			      "knows, so privileged runs with the current set on top\n", bnd);
		out = RUN("capall", "grep ^Cap /proc/self/status", &st, ctr_with_privileged(),
			  ctr_with_all_current_capabilities());
		assert_int_equal(st, 0);
		assert_int_equal(cap_mask(out, "CapEff:"), cap_mask(host, "CapEff:"));
	}
	assert_int_equal(cap_mask(out, "CapInh:"), 0);
	free(out);
}

/* A masked file reads empty, a read-only path refuses writes, and
 * writable sysfs is mounted rw (it is ro by default). */
static void test_paths(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	uint32_t st = 99;
	char *out = RUN("paths", "cat /etc/secret; echo end; touch /tmp/x 2>&1; grep ' /sys sysfs' /proc/mounts",
			&st, ctr_with_masked_paths((const char *[]){"/etc/secret", NULL}),
			ctr_with_readonly_paths((const char *[]){"/tmp", NULL}));
	assert_null(strstr(out, "top-secret"));
	assert_non_null(strstr(out, "end\n"));
	assert_non_null(strstr(out, "Read-only file system"));
	assert_non_null(strstr(out, " ro,"));
	free(out);
	out = RUN("sysrw", "cat /etc/secret; grep ' /sys sysfs' /proc/mounts", &st, ctr_with_writeable_sysfs(),
		  ctr_with_masked_paths(NULL));
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "top-secret"));
	assert_non_null(strstr(out, " rw,"));
	free(out);
}

/* /dev/shm has the size asked for; the host's localtime is bound in. */
static void test_shm_and_localtime(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	uint32_t st = 99;
	struct stat lt;
	bool has_lt = stat("/etc/localtime", &lt) == 0;
	char *out = RUN("shm", has_lt ? "df -k /dev/shm | awk 'NR==2{print $2}'; wc -c < /etc/localtime"
				      : "df -k /dev/shm | awk 'NR==2{print $2}'",
			&st, ctr_with_dev_shm_size(2048), has_lt ? ctr_with_host_localtime() : ctr_with_env(NULL));
	assert_int_equal(st, 0);
	char want[64];
	if (has_lt)
		snprintf(want, sizeof(want), "2048\n%lld\n", (long long)lt.st_size);
	else
		snprintf(want, sizeof(want), "2048\n");
	assert_string_equal(out, want);
	free(out);
	if (!has_lt)
		print_message("no /etc/localtime on this host: only /dev/shm checked\n");
}

/* Device nodes from a host tree appear under the container path, and their
 * cgroup rule lets the process open them: writing to "full" gets ENOSPC
 * (open allowed), not EPERM, and kmsg (which runc does not allow by
 * default) opens. The same node given without a rule is there but the
 * default deny refuses to open it. */
static void test_devices(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	char devs[256], sub[300], node[320];
	snprintf(devs, sizeof(devs), "%s/devs", base);
	snprintf(sub, sizeof(sub), "%s/sub", devs);
	assert_int_equal(mkdir(devs, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(node, sizeof(node), "%s/full", devs);
	assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(1, 7)), 0);
	snprintf(node, sizeof(node), "%s/zero", sub);
	assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(1, 5)), 0);
	snprintf(node, sizeof(node), "%s/kmsg", devs);
	assert_int_equal(mknod(node, S_IFCHR | 0600, makedev(1, 11)), 0);
	snprintf(node, sizeof(node), "%s/fifo", devs);
	assert_int_equal(mkfifo(node, 0600), 0);
	uint32_t st = 99;
	const ctr_linux_device given[] = {{"/dev/given-kmsg", 'c', 1, 11, 0600, 0, 0}};
	char *out = RUN("devs",
			"exec 2>&1; ls /dev/extra /dev/extra/sub; echo x > /dev/extra/full; "
			"head -c 3 /dev/extra/sub/zero | wc -c; : > /dev/extra/kmsg && echo kmsg-open; "
			"test -c /dev/given-kmsg && echo given; : > /dev/given-kmsg",
			&st, ctr_with_devices(devs, "/dev/extra", "rwm"), ctr_with_linux_devices(given, 1));
	assert_non_null(out);
	if (!strstr(out, "No space left on device"))
		print_message("output: %s\n", out ? out : "(none)");
	assert_non_null(strstr(out, "full\nkmsg\nsub\n"));
	assert_non_null(strstr(out, "kmsg-open\n"));
	assert_null(strstr(out, "fifo"));
	assert_non_null(strstr(out, "zero\n"));
	assert_non_null(strstr(out, "No space left on device"));
	assert_non_null(strstr(out, "3\n"));
	assert_non_null(strstr(out, "given\n"));
	/* the positive side above holds everywhere; the refusal needs a
	 * device cgroup that enforces rules, which a nested machine may not */
	if (strstr(out, "Operation not permitted"))
		print_message("the node without a rule was refused\n");
	else
		print_message("part skipped: this host's device cgroup does not refuse a node without a rule\n");
	free(out);
}

/* A cpuset of one CPU: nproc says 1 (when the cpuset controller is
 * there to apply it). */
static void test_cpuset(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	FILE *f = fopen("/sys/fs/cgroup/cgroup.subtree_control", "re");
	char ctl[512] = {0};
	if (f) {
		size_t n = fread(ctl, 1, sizeof(ctl) - 1, f);
		(void)n;
		fclose(f);
	}
	if (!strstr(ctl, "cpuset") && access("/sys/fs/cgroup/cpuset/cpuset.cpus", F_OK) != 0) {
		print_message("skip: no cpuset controller here (neither delegated by the cgroup v2 root nor v1)\n");
		skip();
	}
	uint32_t st = 99;
	char *out = RUN("cpuset", "nproc; cat /sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null || true", &st,
			ctr_with_cpuset_cpus("0"), ctr_with_cpuset_mems("0"));
	assert_int_equal(st, 0);
	assert_int_equal(strncmp(out, "1\n", 2), 0);
	free(out);
}

/* A whole spec from a file runs, with the options after it on top. */
static void test_spec_from_file(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	const char *args[] = {"sh", "-c", "echo from-file", NULL};
	char *json = NULL;
	ctr_opt *g[] = {ctr_with_process_args(args), ctr_with_hostname("filehost")};
	assert_int_equal(ctr_spec_generate(&json, "default", "specfile", NULL, (const ctr_opt *const *)g, 2, NULL), 0);
	ctr_opt_free(g[0]);
	ctr_opt_free(g[1]);
	char path[256];
	snprintf(path, sizeof(path), "%s/config.json", base);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(json, f);
	assert_int_equal(fclose(f), 0);
	ctr_free(json);
	uint32_t st = 99;
	/* run_sh puts the rootfs and PATH before these: the file replaces
	 * them, so they come again after it; the shell's args come last */
	char *out = RUN("specfile", "hostname; echo $ONTOP", &st, ctr_with_spec_from_file(path),
			ctr_with_rootfs_path(rootfs), ctr_with_default_path_env(),
			ctr_with_env((const char *[]){"ONTOP=yes", NULL}));
	assert_int_equal(st, 0);
	assert_string_equal(out, "filehost\nyes\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_capabilities, sweep),
		cmocka_unit_test_teardown(test_paths, sweep),
		cmocka_unit_test_teardown(test_shm_and_localtime, sweep),
		cmocka_unit_test_teardown(test_devices, sweep),
		cmocka_unit_test_teardown(test_cpuset, sweep),
		cmocka_unit_test_teardown(test_spec_from_file, sweep),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
