/* The spec options of containerd's oci package that libctr mirrors, each
 * against the spec containerd's own option produces: the fixture
 * tests/fixtures/oci-opts/expected.json was written by gen.go next to it,
 * built against containerd 1.6.20's sources. Then each option's bad
 * inputs, with their exact error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "spec-helpers.h"

static json_t *fixture;
static char dir[4096];

static const char *in(const char *name)
{
	static char p[8][4200];
	static unsigned k;
	char *b = p[k++ % 8];
	snprintf(b, sizeof(p[0]), "%s/%s", dir, name);
	return b;
}

static int setup(void **state)
{
	(void)state;
	const char *src = getenv("MESON_SOURCE_ROOT");
	assert_non_null(src);
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/oci-opts", src);
	json_error_t je;
	fixture = json_load_file(in("expected.json"), 0, &je);
	if (!fixture)
		print_message("fixture: %s\n", je.text);
	assert_non_null(fixture);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(fixture);
	return 0;
}

/* Generates with opts (freed) and compares the whole spec with the case. */
static void check_v(const char *name, ctr_opt **opts, size_t n)
{
	json_t *want = json_object_get(fixture, name);
	if (!want)
		print_message("no fixture case %s\n", name);
	assert_non_null(want);
	json_t *got = gen_v(NULL, 0, opts, n);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		print_message("%s:\n got  %s\n want %s\n", name, g, w);
		free(g);
		free(w);
	}
	assert_true(json_equal(got, want));
	json_decref(got);
}

#define CHECK(name, ...)                                                             \
	check_v((name), (ctr_opt *[]){__VA_ARGS__},                                  \
		sizeof((ctr_opt *[]){__VA_ARGS__}) / sizeof(ctr_opt *))

static const char *const cgroup_ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};

static void test_paths_and_labels(void **state)
{
	(void)state;
	CHECK("masked_paths", ctr_with_masked_paths((const char *[]){"/proc/kcore", "/sys/secret", NULL}));
	CHECK("masked_paths_none", ctr_with_masked_paths(NULL));
	CHECK("readonly_paths", ctr_with_readonly_paths((const char *[]){"/proc/sys", "/etc", NULL}));
	CHECK("writeable_sysfs", ctr_with_writeable_sysfs());
	CHECK("writeable_cgroupfs", ctr_with_mount("cgroup", "cgroup", "/sys/fs/cgroup", cgroup_ro),
	      ctr_with_writeable_cgroupfs());
	CHECK("selinux_label", ctr_with_selinux_label("system_u:system_r:container_t:s0:c1,c2"));
	CHECK("selinux_cleared", ctr_with_selinux_label("x_t"), ctr_with_selinux_label(""));
	CHECK("apparmor_profile", ctr_with_apparmor_profile("my-profile"));
	CHECK("host_localtime", ctr_with_host_localtime());
	CHECK("tty_size", ctr_with_tty(), ctr_with_tty_size(132, 43));
}

static void test_devices(void **state)
{
	(void)state;
	CHECK("linux_device", ctr_with_linux_device("/dev/null", "rwm"));
	CHECK("devices_renamed", ctr_with_devices("/dev/zero", "/dev/myzero", "rw"));
	const ctr_linux_device given[] = {
		{"/dev/fuse", 'c', 10, 229, 0666, 0, 0},
		{"/dev/sdz", 'b', 8, 400, 0660, 0, 6},
	};
	CHECK("linux_devices", ctr_with_linux_devices(given, 2));
	CHECK("parent_cgroup_devices", ctr_with_default_unix_devices(), ctr_with_parent_cgroup_devices());

	/* A tree: every node of /dev under /cdev, each with its rule, in
	 * name order, none from the skipped directories. */
	json_t *s = GEN(NULL, 0, ctr_with_devices("/dev", "/cdev", "r"));
	json_t *d = jp(s, "linux.devices"), *rules = jp(s, "linux.resources.devices");
	assert_true(json_array_size(d) > 0);
	assert_int_equal(json_array_size(rules), json_array_size(d) + 1); /* + the default deny */
	bool null_seen = false;
	for (size_t i = 0; i < json_array_size(d); i++) {
		json_t *e = json_array_get(d, i), *r = json_array_get(rules, i + 1);
		const char *p = jstr(e, "path");
		assert_int_equal(strncmp(p, "/cdev/", 6), 0);
		assert_null(strstr(p, "/pts/"));
		assert_string_not_equal(p, "/cdev/console");
		assert_string_equal(jstr(r, "access"), "r");
		assert_true(json_equal(json_object_get(e, "major"), json_object_get(r, "major")));
		assert_true(json_equal(json_object_get(e, "minor"), json_object_get(r, "minor")));
		if (!strcmp(p, "/cdev/null")) {
			null_seen = true;
			assert_int_equal(jint(e, "major"), 1);
			assert_int_equal(jint(e, "minor"), 3);
		}
	}
	assert_true(null_seen);
	json_decref(s);
}

static void test_resources(void **state)
{
	(void)state;
	CHECK("cpuset", ctr_with_cpuset_cpus("0-1,3"), ctr_with_cpuset_mems("0"));
	CHECK("memory_swap", ctr_with_memory_limit(1 << 28), ctr_with_memory_swap(1 << 29));
	CHECK("memory_swap_unlimited", ctr_with_memory_swap(-1));
	CHECK("dev_shm_size", ctr_with_dev_shm_size(131072));
}

static void test_env_file(void **state)
{
	(void)state;
	CHECK("env_file", ctr_with_env((const char *[]){"A=1", "B=2", NULL}), ctr_with_env_file(in("env.list")));
}

static void test_capabilities(void **state)
{
	(void)state;
	CHECK("all_capabilities", ctr_with_all_capabilities());
	CHECK("ambient_capabilities",
	      ctr_with_ambient_capabilities((const char *[]){"CAP_NET_BIND_SERVICE", "CAP_CHOWN", NULL}));
	/* CVE-2022-24769: adding capabilities leaves inheritable empty. */
	CHECK("added_capabilities", ctr_with_added_capabilities((const char *[]){"CAP_SYS_ADMIN", "CAP_NET_ADMIN", NULL}));
	json_t *s = GEN(NULL, 0, ctr_with_all_capabilities());
	assert_null(jp(s, "process.capabilities.inheritable"));
	assert_null(jp(s, "process.capabilities.ambient"));
	json_decref(s);
	s = GEN(NULL, 0, ctr_with_ambient_capabilities((const char *[]){"CAP_CHOWN", NULL}),
		ctr_with_ambient_capabilities(NULL));
	assert_null(jp(s, "process.capabilities.inheritable"));
	assert_null(jp(s, "process.capabilities.ambient"));
	json_decref(s);
}

static void test_whole_spec(void **state)
{
	(void)state;
	char *bytes = NULL;
	FILE *f = fopen(in("spec.json"), "re");
	assert_non_null(f);
	size_t cap = 0;
	ssize_t n = getdelim(&bytes, &cap, 0, f);
	fclose(f);
	assert_true(n > 0);
	CHECK("spec_from_bytes", ctr_with_spec_from_bytes(bytes, (size_t)n), ctr_with_hostname("on-top"),
	      ctr_with_env((const char *[]){"Z=1", NULL}), ctr_with_dev_shm_size(2048));
	free(bytes);
	CHECK("spec_from_file", ctr_with_spec_from_file(in("spec.json")),
	      ctr_with_process_args((const char *[]){"sh", NULL}),
	      ctr_with_added_capabilities((const char *[]){"CAP_CHOWN", NULL}));
}

#if HAVE_SECCOMP
static void test_seccomp_and_privileged(void **state)
{
	(void)state;
	CHECK("seccomp_profile", ctr_with_seccomp_profile(in("seccomp.json")));
	CHECK("seccomp_unconfined", ctr_with_seccomp_profile(in("seccomp.json")), ctr_with_seccomp_unconfined());
	CHECK("privileged", ctr_with_selinux_label("x_t"), ctr_with_apparmor_profile("p"),
	      ctr_with_mount("cgroup", "cgroup", "/sys/fs/cgroup", cgroup_ro),
	      ctr_with_seccomp_profile(in("seccomp.json")), ctr_with_privileged(), ctr_with_all_devices_allowed());
}
#endif

/* A file in a fresh temp dir with text; returns its path (static). */
static const char *temp_file(const char *text, size_t len)
{
	static char p[64];
	snprintf(p, sizeof(p), "/tmp/ctr-spec-opts-XXXXXX");
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return p;
}

/* Each bad input fails the generation with its code (GEN checks that no
 * spec comes out). */
static void test_bad_inputs(void **state)
{
	(void)state;
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_masked_paths((const char *[]){"proc/kcore", NULL})));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_readonly_paths((const char *[]){"", NULL})));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_device("/dev/null", "rwx")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_device("/dev/null", "")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_device("/dev/null", "rr")));
	assert_null(GEN(NULL, CTR_ENOTFOUND, ctr_with_linux_device("/dev/no-such-node", "rwm")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_device("/proc/self/status", "rwm")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_devices("/proc/self/status", NULL, "rwm")));
	assert_null(GEN(NULL, CTR_ENOTFOUND, ctr_with_devices("/dev/no-such-node", NULL, "rwm")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_devices("/dev/null", "dev/null", "rwm")));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_devices("", NULL, "rwm")));
	const ctr_linux_device bad_type[] = {{"/dev/x", 'x', 1, 1, 0, 0, 0}};
	const ctr_linux_device rel[] = {{"dev/x", 'c', 1, 1, 0, 0, 0}};
	const ctr_linux_device neg[] = {{"/dev/x", 'c', -1, 1, 0, 0, 0}};
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_devices(bad_type, 1)));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_devices(rel, 1)));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_linux_devices(neg, 1)));
	const ctr_linux_device nopath[] = {{NULL, 'c', 1, 1, 0, 0, 0}};
	assert_null(ctr_with_linux_devices(nopath, 1));
	assert_null(ctr_with_linux_devices(NULL, 1));
	static const char *const bad_sets[] = {"", "a", "1-0", "1,", ",1", "1--2", "-1", "1 2", "99999", NULL};
	for (size_t i = 0; bad_sets[i]; i++) {
		assert_null(GEN(NULL, CTR_EINVAL, ctr_with_cpuset_cpus(bad_sets[i][0] ? bad_sets[i] : "x")));
		assert_null(GEN(NULL, CTR_EINVAL, ctr_with_cpuset_mems(bad_sets[i][0] ? bad_sets[i] : "x")));
	}
	json_t *s = GEN(NULL, 0, ctr_with_cpuset_cpus("1"), ctr_with_cpuset_cpus(""));
	assert_null(jp(s, "linux.resources.cpu.cpus"));
	json_decref(s);
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_memory_swap(-2)));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_dev_shm_size(0)));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_dev_shm_size(-1)));
	assert_null(GEN(NULL, CTR_ENOTFOUND, ctr_with_mounts_removed((const char *[]){"/dev/shm", NULL}),
			ctr_with_dev_shm_size(64)));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_ambient_capabilities((const char *[]){"NET_ADMIN", NULL})));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_all_capabilities(),
			ctr_with_ambient_capabilities((const char *[]){"CAP_x", NULL})));

	/* env files */
	assert_null(GEN(NULL, CTR_ENOTFOUND, ctr_with_env_file("/nonexistent/env")));
	const char *p = temp_file("A=1\n=x\n", 7);
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_env_file(p)));
	unlink(p);
	p = temp_file("A=\xff\n", 4);
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_env_file(p)));
	unlink(p);
	p = temp_file("A=1\0B=2\n", 8);
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_env_file(p)));
	unlink(p);
	size_t big = (64u << 10) + 3;
	char *line = malloc(big);
	assert_non_null(line);
	memset(line, 'x', big);
	line[0] = 'L';
	line[1] = '=';
	p = temp_file(line, big);
	free(line);
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_env_file(p)));
	unlink(p);
	p = temp_file("", 0);
	s = GEN(NULL, 0, ctr_with_env_file(p));
	assert_null(jp(s, "process.env"));
	json_decref(s);
	unlink(p);

	/* whole specs */
	static const char *const bad_specs[] = {
		"", "[]", "\"spec\"", "{", "{\"process\":5}", "{\"mounts\":{}}", "{\"linux\":[]}",
		"{\"ociVersion\":1}", "{\"hostname\":false}", "{\"annotations\":[]}", "{\"root\":\"/\"}",
	};
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++)
		assert_null(GEN(NULL, CTR_EINVAL, ctr_with_spec_from_bytes(bad_specs[i], strlen(bad_specs[i]))));
	char deep[200];
	memset(deep, '[', sizeof(deep));
	assert_null(GEN(NULL, CTR_EINVAL, ctr_with_spec_from_bytes(deep, sizeof(deep))));
	assert_null(GEN(NULL, CTR_ENOTFOUND, ctr_with_spec_from_file("/nonexistent/config.json")));
	assert_null(ctr_with_spec_from_bytes(NULL, 0));
	/* null members are Go's nil: left out, and options recreate them */
	const char *nulls = "{\"process\":null,\"linux\":null}";
	s = GEN(NULL, 0, ctr_with_spec_from_bytes(nulls, strlen(nulls)), ctr_with_cwd("/x"));
	assert_json(s, "", "{\"process\":{\"cwd\":\"/x\"}}");
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_labels),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_whole_spec),
#if HAVE_SECCOMP
		cmocka_unit_test(test_seccomp_and_privileged),
#endif
		cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
