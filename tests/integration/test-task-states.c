/* Task and process states as containerd reports them, for real under
 * runc: the stop signal a container's label names kills its task;
 * "pausing" while runc freezes the task, seen from another client too, and
 * not left behind when the pause fails; the unknown exit status (255) of a
 * process whose shim was killed; forced delete of exec'd processes, also
 * from another process's handle. Needs root and runc. */
#include "runtime-fixture.h"

#include <pthread.h>

static char *spec_args(const char *id, const char *args)
{
	return spec(id, args, NULL);
}

static ctr_task *new_task(ctr_client *c, const char *id, const char *args, const ctr_opt *const *opts,
			  size_t n)
{
	char *s = spec_args(id, args);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	int r = ctr_task_new_bundle(&t, c, NULL, id, s, rootfs, opts, n, &e);
	free(s);
	if (r < 0)
		fail_msg("create %s: %s", id, ctr_error_message(e));
	return t;
}

static void force_delete(ctr_task *t, uint32_t *code)
{
	ctr_error *e = NULL;
	ctr_opt *k = ctr_with_process_kill();
	int r = ctr_task_delete(code, t, CTR_OPTS(k), &e);
	ctr_opt_free(k);
	if (r < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	ctr_task_free(t);
}

/* The pid of a process's shim: the first field of its shim.pid. */
static pid_t shim_pid(const char *id, const char *exec_id)
{
	char p[1024], b[64] = {0};
	if (exec_id)
		snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/%s/exec/%s/shim.pid", state, id, exec_id);
	else
		snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/%s/init/shim.pid", state, id);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, b, sizeof(b) - 1) > 0);
	close(fd);
	return (pid_t)atoi(b);
}

static void kill_and_reap(pid_t pid)
{
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 500 && pid_alive(pid); i++)
		usleep(10000);
	assert_false(pid_alive(pid));
}

/* containerd's GetStopSignal feeds the kill: the task traps only SIGQUIT,
 * which its container's label names, and exits 42 through that trap. */
static void test_stop_signal_kills(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	const char *labels[] = {CTR_STOP_SIGNAL_LABEL "=SIGQUIT", NULL};
	ctr_opt *l = ctr_with_container_labels(labels);
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, c, "stopsig", CTR_OPTS(l), NULL), 0);
	ctr_opt_free(l);
	char ready[600];
	snprintf(ready, sizeof(ready), "%s/stopsig.log", fifodir);
	char uri[700];
	snprintf(uri, sizeof(uri), "file://%s", ready);
	ctr_opt *lo = ctr_with_log_uri(uri);
	ctr_task *t = new_task(c, "stopsig",
			       "[\"sh\",\"-c\",\"trap 'exit 42' QUIT; echo armed; while :; do sleep 0.05; done\"]",
			       CTR_OPTS(lo));
	ctr_opt_free(lo);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	/* the trap is set once the shell printed */
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		if (stat(ready, &st) == 0 && st.st_size > 0)
			break;
		usleep(10000);
	}
	int sig = 0;
	assert_int_equal(ctr_container_stop_signal(&sig, k, SIGTERM, NULL), 0);
	assert_int_equal(sig, SIGQUIT);
	assert_int_equal(ctr_task_kill(t, sig, CTR_NO_OPTS, NULL), 0);
	uint32_t code = 0;
	assert_int_equal(ctr_task_wait(&code, NULL, t, 30000, NULL), 0);
	assert_int_equal(code, 42);
	assert_int_equal(ctr_task_delete(&code, t, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 42);
	ctr_task_free(t);
	assert_int_equal(ctr_container_delete(k, CTR_NO_OPTS, NULL), 0);
	ctr_container_free(k);
	ctr_client_free(c);
}

static char gate[600], gate_fail[600];

/* A runtime that holds `pause` until the gate file exists (or fails it
 * when the fail file does), then runs runc: the window in which
 * containerd's shim says "pausing". */
static void write_gated_runtime(char *path, size_t len)
{
	snprintf(path, len, "%s/runc-gated", base);
	snprintf(gate, sizeof(gate), "%s/pause.gate", base);
	snprintf(gate_fail, sizeof(gate_fail), "%s/pause.fail", base);
	char script[4096];
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "for a in \"$@\"; do\n"
		 "  if [ \"$a\" = pause ]; then\n"
		 "    [ -e %s ] && { echo 'pause refused by the test' >&2; exit 1; }\n"
		 "    i=0; while [ ! -e %s ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done\n"
		 "    break\n"
		 "  fi\n"
		 "done\n"
		 "exec runc \"$@\"\n",
		 gate_fail, gate);
	write_file(path, script);
	assert_int_equal(chmod(path, 0755), 0);
}

struct pause_call {
	ctr_task *t;
	int r;
};

static void *pause_thread(void *arg)
{
	struct pause_call *pc = arg;
	pc->r = ctr_task_pause(pc->t, NULL);
	return NULL;
}

static ctr_status status_of(ctr_task *t)
{
	ctr_status st = CTR_TASK_UNKNOWN;
	assert_int_equal(ctr_task_status(&st, NULL, t, NULL), 0);
	return st;
}

/* runc's freezer state of the container: "FROZEN", "THAWED". */
static bool frozen(const char *id)
{
	char p[512], b[64] = {0};
	snprintf(p, sizeof(p), "/sys/fs/cgroup/freezer/libctr-test/%s/freezer.state", id);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* cgroup v2: cgroup.freeze */
		snprintf(p, sizeof(p), "/sys/fs/cgroup/libctr-test/%s/cgroup.freeze", id);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_true(read(fd, b, sizeof(b) - 1) > 0);
		close(fd);
		return b[0] == '1';
	}
	assert_true(read(fd, b, sizeof(b) - 1) > 0);
	close(fd);
	return strncmp(b, "FROZEN", 6) == 0;
}

static void test_pausing(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char rt[512];
	write_gated_runtime(rt, sizeof(rt));
	unlink(gate);
	unlink(gate_fail);
	ctr_client *c = open_client(), *c2 = open_client();
	ctr_opt *ro = ctr_with_task_runtime(rt);
	ctr_task *t = new_task(c, "pausing", "[\"sleep\",\"100\"]", CTR_OPTS(ro));
	ctr_opt_free(ro);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	ctr_task *other = NULL;
	assert_int_equal(ctr_task_load(&other, c2, "pausing", CTR_NO_OPTS, NULL), 0);

	struct pause_call pc = {t, 1};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, pause_thread, &pc), 0);
	ctr_status st = CTR_TASK_RUNNING;
	for (int i = 0; i < 1000 && (st = status_of(other)) == CTR_TASK_RUNNING; i++)
		usleep(10000);
	/* runc pause is held: this process's handle and another client's say
	 * pausing, and the cgroup is not frozen yet */
	assert_int_equal(st, CTR_TASK_PAUSING);
	assert_int_equal(status_of(t), CTR_TASK_PAUSING);
	assert_false(frozen("pausing"));
	/* a pausing task is not deleted without force */
	assert_int_equal(ctr_task_delete(NULL, other, CTR_NO_OPTS, NULL), CTR_EPRECONDITION);
	write_file(gate, "go\n");
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(pc.r, 0);
	assert_int_equal(status_of(other), CTR_TASK_PAUSED);
	assert_true(frozen("pausing"));
	assert_int_equal(ctr_task_resume(t, NULL), 0);
	assert_int_equal(status_of(other), CTR_TASK_RUNNING);
	assert_false(frozen("pausing"));

	/* a pause the runtime refuses leaves the task running, not pausing */
	write_file(gate_fail, "no\n");
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_pause(t, &e), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(e), "pause refused by the test"));
	ctr_error_free(e);
	assert_int_equal(status_of(other), CTR_TASK_RUNNING);
	assert_int_equal(status_of(t), CTR_TASK_RUNNING);
	unlink(gate_fail);

	uint32_t code = 0;
	ctr_task_free(other);
	force_delete(t, &code);
	assert_int_equal(code, 128 + SIGKILL);
	ctr_client_free(c2);
	ctr_client_free(c);
}

/* A shim killed from outside leaves no exit status: the process is
 * UNKNOWN, its status and delete give containerd's UnknownExitStatus. */
static void test_unknown_exit_status(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	ctr_task *t = new_task(c, "unknown", "[\"sleep\",\"100\"]", CTR_NO_OPTS);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	ctr_process *p = NULL;
	assert_int_equal(ctr_task_exec(&p, t, "x1", "{\"args\":[\"sleep\",\"100\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
				       CTR_NO_OPTS, NULL),
			 0);
	assert_int_equal(ctr_process_start(p, NULL), 0);

	/* the exec's shim first */
	kill_and_reap(shim_pid("unknown", "x1"));
	ctr_status st = CTR_TASK_RUNNING;
	uint32_t code = 0;
	assert_int_equal(ctr_process_status(&st, &code, p, NULL), 0);
	assert_int_equal(st, CTR_TASK_UNKNOWN);
	assert_int_equal(code, CTR_UNKNOWN_EXIT_STATUS);
	assert_int_equal(CTR_UNKNOWN_EXIT_STATUS, 255);
	assert_int_equal(ctr_process_wait(&code, NULL, p, 1000, NULL), CTR_EUNAVAILABLE);
	code = 0;
	assert_int_equal(ctr_process_delete(&code, p, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 255);
	ctr_process_free(p);

	/* then the init's: the task is UNKNOWN, with the unknown status */
	kill_and_reap(shim_pid("unknown", NULL));
	code = 0;
	assert_int_equal(ctr_task_status(&st, &code, t, NULL), 0);
	assert_int_equal(st, CTR_TASK_UNKNOWN);
	assert_int_equal(code, 255);
	assert_int_equal(ctr_task_wait(&code, NULL, t, 1000, NULL), CTR_EUNAVAILABLE);
	/* delete needs no force for a task whose shim is gone, and runc's
	 * delete still removes the container */
	code = 0;
	ctr_error *e = NULL;
	if (ctr_task_delete(&code, t, CTR_NO_OPTS, &e) < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	assert_int_equal(code, 255);
	ctr_task_free(t);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "runc --root %s/" CTR_RT_DIR "/" NS "/unknown/runc state unknown >/dev/null 2>&1",
		 state);
	assert_true(system(cmd) != 0);
	ctr_client_free(c);
}

/* Forced delete of exec'd processes: one created and never started goes
 * without force, as containerd's Created; a running one from a handle that
 * another client loaded is killed and deleted with ctr_with_process_kill,
 * its shim gone and the task untouched. */
static void test_force_delete_exec(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client(), *c2 = open_client();
	ctr_task *t = new_task(c, "forced", "[\"sleep\",\"100\"]", CTR_NO_OPTS);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	const char *args = "{\"args\":[\"sleep\",\"100\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}";
	ctr_process *made = NULL, *run = NULL;
	assert_int_equal(ctr_task_exec(&made, t, "made", args, CTR_NO_OPTS, NULL), 0);
	ctr_status st;
	assert_int_equal(ctr_process_status(&st, NULL, made, NULL), 0);
	assert_int_equal(st, CTR_TASK_CREATED);
	uint32_t code = 99;
	assert_int_equal(ctr_process_delete(&code, made, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 0);
	ctr_process_free(made);
	char p[1024];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/forced/exec/made", state);
	assert_int_equal(access(p, F_OK), -1);

	assert_int_equal(ctr_task_exec(&run, t, "run", args, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_process_start(run, NULL), 0);
	uint32_t pid = ctr_process_pid(run);
	assert_true(pid > 0);
	pid_t shim = shim_pid("forced", "run");
	ctr_process_free(run);

	ctr_task *t2 = NULL;
	ctr_process *loaded = NULL;
	assert_int_equal(ctr_task_load(&t2, c2, "forced", CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_task_load_process(&loaded, t2, "run", NULL), 0);
	assert_int_equal(ctr_process_delete(&code, loaded, CTR_NO_OPTS, NULL), CTR_EPRECONDITION);
	assert_true(pid_alive((pid_t)pid));
	ctr_opt *pk = ctr_with_process_kill();
	code = 0;
	assert_int_equal(ctr_process_delete(&code, loaded, CTR_OPTS(pk), NULL), 0);
	ctr_opt_free(pk);
	assert_int_equal(code, 128 + SIGKILL);
	ctr_process_free(loaded);
	for (int i = 0; i < 500 && (pid_alive((pid_t)pid) || pid_alive(shim)); i++)
		usleep(10000);
	assert_false(pid_alive((pid_t)pid));
	assert_false(pid_alive(shim));
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/forced/exec/run", state);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(ctr_task_load_process(&loaded, t2, "run", NULL), CTR_ENOTFOUND);
	/* the task runs on */
	assert_int_equal(status_of(t2), CTR_TASK_RUNNING);
	ctr_task_free(t2);
	force_delete(t, &code);
	ctr_client_free(c2);
	ctr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stop_signal_kills, teardown),
		cmocka_unit_test_teardown(test_pausing, teardown),
		cmocka_unit_test_teardown(test_unknown_exit_status, teardown),
		cmocka_unit_test_teardown(test_force_delete_exec, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
