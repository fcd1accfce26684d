/* runc's options on task creation, for real under runc: each option's
 * effect seen where runc or the kernel shows it (runc's state.json, the
 * container's /proc/keys, the shim's /proc/<pid>/cgroup, runc's state
 * root, the criu that a checkpoint runs, runc's systemd error), each
 * beside a run without it; and the bad values, refused with nothing left on
 * disk. Needs root and runc. */
#include "runtime-fixture.h"

/* The fixture's spec, with /proc/keys left unmasked when keys is set. */
static char *spec_keys(const char *id, const char *args, bool keys)
{
	char *text = spec(id, args, NULL);
	if (!keys)
		return text;
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	json_t *masked = json_object_get(json_object_get(j, "linux"), "maskedPaths");
	size_t i;
	json_t *v;
	json_array_foreach(masked, i, v) {
		if (strcmp(json_string_value(v), "/proc/keys") == 0) {
			json_array_remove(masked, i);
			break;
		}
	}
	char *out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(out);
	return out;
}

/* Creates task `id` through the public options; returns the code. */
static int new_task(ctr_task **t, ctr_client *c, const char *id, const char *args, bool keys,
		    const ctr_opt *const *opts, size_t n, ctr_error **e)
{
	char *s = spec_keys(id, args, keys);
	int r = ctr_task_new_bundle(t, c, NULL, id, s, rootfs, opts, n, e);
	free(s);
	return r;
}

static void delete_task(ctr_task *t)
{
	ctr_error *e = NULL;
	ctr_opt *k = ctr_with_process_kill();
	int r = ctr_task_delete(NULL, t, CTR_OPTS(k), &e);
	ctr_opt_free(k);
	if (r < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	ctr_task_free(t);
}

/* runc's own record of the container: state.json's config.<field>. */
static int state_flag(const char *runc_root, const char *id, const char *field)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s/state.json", runc_root, id);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return -1;
	int v = json_is_true(json_object_get(json_object_get(j, "config"), field));
	json_decref(j);
	return v;
}

static void test_no_pivot_root(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	ctr_task *plain = NULL, *np = NULL;
	ctr_error *e = NULL;
	if (new_task(&plain, c, "pivot", "[\"sleep\",\"100\"]", false, NULL, 0, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_opt *o = ctr_with_no_pivot_root();
	if (new_task(&np, c, "nopivot", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e) < 0)
		fail_msg("create --no-pivot: %s", ctr_error_message(e));
	ctr_opt_free(o);
	assert_int_equal(state_flag(np->rt->runc_root, "pivot", "no_pivot_root"), -1);
	assert_int_equal(state_flag(plain->rt->runc_root, "pivot", "no_pivot_root"), 0);
	assert_int_equal(state_flag(np->rt->runc_root, "nopivot", "no_pivot_root"), 1);
	assert_int_equal(state_flag(np->rt->runc_root, "nopivot", "no_new_keyring"), 0);
	/* and it runs chrooted */
	assert_int_equal(ctr_task_start(np, NULL), 0);
	ctr_status st;
	assert_int_equal(ctr_task_status(&st, NULL, np, NULL), 0);
	assert_int_equal(st, CTR_TASK_RUNNING);
	delete_task(plain);
	delete_task(np);
	ctr_client_free(c);
}

/* What the container's `cat /proc/keys` printed (its log file). */
static char *keys_of(ctr_client *c, const char *id, const ctr_opt *extra)
{
	char log[512];
	snprintf(log, sizeof(log), "file://%s/%s.log", fifodir, id);
	ctr_opt *l = ctr_with_log_uri(log);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	int r = extra ? new_task(&t, c, id, "[\"cat\",\"/proc/keys\"]", true, CTR_OPTS(l, extra), &e)
		      : new_task(&t, c, id, "[\"cat\",\"/proc/keys\"]", true, CTR_OPTS(l), &e);
	ctr_opt_free(l);
	if (r < 0)
		fail_msg("create %s: %s", id, ctr_error_message(e));
	assert_int_equal(ctr_task_start(t, NULL), 0);
	uint32_t code = 99;
	assert_int_equal(ctr_task_wait(&code, NULL, t, 30000, NULL), 0);
	assert_int_equal(code, 0);
	delete_task(t);
	int fd = open(log + 7, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	size_t n;
	char *text = slurp(fd, &n);
	close(fd);
	return text;
}

static void test_no_new_keyring(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	/* runc gives each container its own session keyring, _ses.<id> */
	char *with = keys_of(c, "keyring", NULL);
	assert_non_null(strstr(with, "_ses.keyring:"));
	ctr_opt *o = ctr_with_no_new_keyring();
	char *without = keys_of(c, "nokeyring", o);
	ctr_opt_free(o);
	assert_null(strstr(without, "_ses.nokeyring"));
	assert_true(strlen(without) > 0);
	free(with);
	free(without);
	ctr_client_free(c);
}

/* The shim's cgroup line for hierarchy `ctl` ("memory", "pids", "" for v2)
 * into buf. */
static bool shim_cgroup_line(pid_t shim, const char *needle)
{
	char p[64], b[8192];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)shim);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return false;
	b[n] = 0;
	return strstr(b, needle) != NULL;
}

#define SHIM_CG "/libctr-shimtest"

static void rm_shim_cgroup(void)
{
	/* the shims left when their tasks were deleted; rmdir is refused
	 * until the last member is gone */
	for (int i = 0; i < 100; i++) {
		if (system("for d in /sys/fs/cgroup/*" SHIM_CG " /sys/fs/cgroup" SHIM_CG "; do "
			   "[ -d $d ] && rmdir $d 2>/dev/null; done; "
			   "! ls -d /sys/fs/cgroup/*" SHIM_CG " /sys/fs/cgroup" SHIM_CG " >/dev/null 2>&1") == 0)
			return;
		usleep(20000);
	}
}

static void test_shim_cgroup(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	ctr_opt *o = ctr_with_shim_cgroup(SHIM_CG);
	/* a cgroup that exists nowhere: CTR_ENOTFOUND, no task left */
	rm_shim_cgroup();
	assert_int_equal(new_task(&t, c, "shimcg", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e), CTR_ENOTFOUND);
	assert_non_null(strstr(ctr_error_message(e), "shim cgroup"));
	ctr_error_free(e);
	e = NULL;
	char p[1024];
	struct stat stt;
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/shimcg", state);
	assert_int_equal(stat(p, &stt), -1);
	assert_int_equal(errno, ENOENT);

	/* made in two v1 controllers (or the v2 tree): the shim is in it */
	bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	if (v2) {
		assert_int_equal(mkdir("/sys/fs/cgroup" SHIM_CG, 0755), 0);
	} else {
		assert_int_equal(mkdir("/sys/fs/cgroup/memory" SHIM_CG, 0755), 0);
		assert_int_equal(mkdir("/sys/fs/cgroup/pids" SHIM_CG, 0755), 0);
	}
	if (new_task(&t, c, "shimcg", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	pid_t shim = t->rt->init.shim_pid;
	assert_true(shim > 0);
	if (v2) {
		assert_true(shim_cgroup_line(shim, "0::" SHIM_CG "\n"));
	} else {
		assert_true(shim_cgroup_line(shim, ":memory:" SHIM_CG "\n"));
		assert_true(shim_cgroup_line(shim, ":pids:" SHIM_CG "\n"));
		/* where it does not exist the shim stays put */
		assert_false(shim_cgroup_line(shim, ":cpu:" SHIM_CG "\n"));
	}
	/* the container is in its own cgroup, not the shim's */
	pid_t pid = (pid_t)ctr_task_pid(t);
	assert_true(pid > 0);
	assert_false(shim_cgroup_line(pid, SHIM_CG "\n"));
	assert_true(shim_cgroup_line(pid, "/libctr-test/shimcg\n"));
	/* a task without the option: its shim is not there */
	ctr_task *t2 = NULL;
	if (new_task(&t2, c, "noshimcg", "[\"sleep\",\"100\"]", false, NULL, 0, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	assert_false(shim_cgroup_line(t2->rt->init.shim_pid, SHIM_CG "\n"));
	delete_task(t);
	delete_task(t2);
	ctr_opt_free(o);
	rm_shim_cgroup();
	ctr_client_free(c);
}

static void test_runc_root(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	char root[512], p[1024];
	snprintf(root, sizeof(root), "%s/runc-root", base);
	ctr_opt *o = ctr_with_runc_root(root);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (new_task(&t, c, "rroot", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_opt_free(o);
	/* runc's state is under <root>/<namespace>, not the task's runc/ */
	snprintf(p, sizeof(p), "%s/" NS, root);
	assert_int_equal(state_flag(p, "rroot", "no_pivot_root"), 0);
	struct stat st;
	snprintf(p, sizeof(p), "%s/runc/rroot", ctr_rt_task_dir(t->rt));
	assert_int_equal(stat(p, &st), -1);
	ctr_task_free(t);
	/* another handle, as another process loads it, finds runc's state:
	 * start, kill and delete all pass the root again */
	assert_int_equal(ctr_task_load(&t, c, "rroot", NULL, 0, NULL), 0);
	assert_string_equal(t->rt->runc_root, strcat(strcpy(p, root), "/" NS));
	assert_int_equal(ctr_task_start(t, &e), 0);
	assert_int_equal(ctr_task_kill(t, SIGKILL, NULL, 0, NULL), 0);
	uint32_t code = 0;
	assert_int_equal(ctr_task_wait(&code, NULL, t, 30000, NULL), 0);
	assert_int_equal(code, 128 + SIGKILL);
	assert_int_equal(ctr_task_delete(NULL, t, NULL, 0, &e), 0);
	ctr_task_free(t);
	snprintf(p, sizeof(p), "%s/" NS "/rroot", root);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(errno, ENOENT);
	ctr_client_free(c);
}

static void test_criu_path(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	ctr_opt *o = ctr_with_runc_criu_path("/nonexistent/criu");
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (new_task(&t, c, "criup", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_opt_free(o);
	assert_int_equal(ctr_task_start(t, &e), 0);
	/* a checkpoint runs that criu, from a loaded handle too */
	ctr_task *t2 = NULL;
	assert_int_equal(ctr_task_load(&t2, c, "criup", NULL, 0, NULL), 0);
	char img[512], work[512];
	snprintf(img, sizeof(img), "%s/ckpt-img", base);
	snprintf(work, sizeof(work), "%s/ckpt-work", base);
	mkdir(img, 0700);
	mkdir(work, 0700);
	assert_int_equal(ctr_rt_checkpoint(t2->rt, img, work, true, &e), CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(e), "/nonexistent/criu"));
	ctr_error_free(e);
	e = NULL;
	ctr_task_free(t2);
	delete_task(t);
	ctr_client_free(c);
}

static void test_systemd_cgroup(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	/* Without systemd as PID 1 there is nobody to make the cgroup, so
	 * this shows that --systemd-cgroup reaches runc by runc's answer to
	 * the fixture's path cgroupsPath: systemd wants slice:prefix:name. */
	ctr_client *c = open_client();
	ctr_opt *o = ctr_with_runc_systemd_cgroup();
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	assert_int_equal(new_task(&t, c, "sdcg", "[\"sleep\",\"100\"]", false, CTR_OPTS(o), &e), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(e), "slice:prefix:name"));
	ctr_error_free(e);
	e = NULL;
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/sdcg", state);
	assert_int_equal(stat(p, &st), -1);
	/* the same spec without it runs */
	if (new_task(&t, c, "sdcg", "[\"sleep\",\"100\"]", false, NULL, 0, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	delete_task(t);
	ctr_opt_free(o);
	ctr_client_free(c);
}

static void test_bad_values(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	struct {
		ctr_opt *o;
		const char *msg;
	} bad[] = {
		{ctr_with_runc_root("relative/root"), "want an absolute path"},
		{ctr_with_runc_root("/tmp/../etc"), "are not allowed"},
		{ctr_with_shim_cgroup("/a/./b"), "are not allowed"},
		{ctr_with_shim_cgroup("../../escape"), "want an absolute path"},
		{ctr_with_shim_cgroup("/x\n/y"), "want an absolute path"},
		{ctr_with_runc_criu_path("/bin/criu\nx"), "bad criu path"},
		{ctr_with_runc_criu_path(""), "bad criu path"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctr_task *t = NULL;
		ctr_error *e = NULL;
		assert_non_null(bad[i].o);
		assert_int_equal(new_task(&t, c, "bad", "[\"true\"]", false, CTR_OPTS(bad[i].o), &e), CTR_EINVAL);
		if (!strstr(ctr_error_message(e), bad[i].msg))
			fail_msg("case %zu: %s", i, ctr_error_message(e));
		ctr_error_free(e);
		char p[1024];
		struct stat st;
		snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/bad", state);
		assert_int_equal(stat(p, &st), -1);
		ctr_opt_free(bad[i].o);
	}
	/* exec'd processes take none of them */
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (new_task(&t, c, "execopt", "[\"sleep\",\"100\"]", false, NULL, 0, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_opt *np = ctr_with_no_pivot_root();
	ctr_process *p = NULL;
	assert_int_equal(ctr_task_exec(&p, t, "e1", "{\"args\":[\"true\"],\"cwd\":\"/\"}", CTR_OPTS(np), &e),
			 CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "task creation only"));
	ctr_error_free(e);
	ctr_opt_free(np);
	delete_task(t);
	ctr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_pivot_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_new_keyring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runc_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_criu_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_systemd_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
