/* Foreground tasks (ctr_with_task_foreground): nothing runs at create, one
 * `runc run` under the shim at start, runc removes its own state at the
 * exit and the delete runs no runtime. The runtime is a wrapper that logs
 * each call, so the tests count runc's calls. Needs root and runc. */
#include "runtime-fixture.h"

static char wrapper[400], calls[400];

/* A runtime that notes its verb (the first argument after runc's global
 * options) and runs runc. */
static void make_wrapper(void)
{
	snprintf(wrapper, sizeof(wrapper), "%s/runc-logged", base);
	snprintf(calls, sizeof(calls), "%s/runc-calls", base);
	char *s = NULL;
	assert_true(asprintf(&s,
			     "#!/bin/sh\n"
			     "v=\n"
			     "for a in \"$@\"; do case $a in run|create|start|delete|kill|state) v=$a; break;; esac; done\n"
			     "echo \"$v\" >>%s\n"
			     "exec runc \"$@\"\n",
			     calls) > 0);
	write_file(wrapper, s);
	free(s);
	assert_int_equal(chmod(wrapper, 0755), 0);
	unlink(calls);
}

/* The verbs the wrapper logged since make_wrapper, one a line. */
static char *logged(void)
{
	int fd = open(calls, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strdup("");
	char *s = slurp(fd, NULL);
	close(fd);
	return s;
}

static int create_fg(ctr_rt_task **t, const char *id, const char *args, const struct ctr_rt_io *io, ctr_error **e)
{
	return create_opts(t, id, args, io, NULL, &(struct ctr_rt_opts){.binary = wrapper, .foreground = true}, e);
}

/* <state>/tasks/NS/id/name exists */
static bool has(const char *id, const char *name)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/%s/%s", state, id, name);
	return lstat(p, &st) == 0;
}

static void test_one_runc_call(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	make_wrapper();
	ctr_rt_task *t = NULL;
	ctr_error *e = NULL;
	int r = create_fg(&t, "fg-exit", "[\"sh\",\"-c\",\"exit 7\"]", NULL, &e);
	if (r < 0)
		fail_msg("create: %s", ctr_error_message(e));
	/* Created, with no process and no runtime call yet. */
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_CREATED);
	assert_int_equal(ctr_rt_proc_pid(ctr_rt_task_init(t)), 0);
	assert_true(has("fg-exit", CTR_SHIM_FOREGROUND));
	assert_false(has("fg-exit", "init/" CTR_SHIM_PID_FILE));
	char *l = logged();
	assert_string_equal(l, "");
	free(l);

	if (ctr_rt_start(t, &e) < 0)
		fail_msg("start: %s", ctr_error_message(e));
	assert_true(ctr_rt_proc_pid(ctr_rt_task_init(t)) > 0);
	assert_int_equal(ctr_rt_start(t, NULL), CTR_EPRECONDITION);
	pid_t shim = ctr_rt_task_init(t)->shim_pid;
	assert_true(shim > 0);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 7);
	/* Its shim, like runc, is done once the status is written: it goes
	 * by itself, so the delete has no shim to stop. */
	for (int i = 0; i < 200 && pid_alive(shim); i++)
		usleep(10000);
	assert_false(pid_alive(shim));
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_STOPPED);
	/* runc removed its state itself */
	assert_false(has("fg-exit", "runc/fg-exit"));
	assert_int_equal(ctr_rt_kill(t, SIGTERM, false, NULL), CTR_ENOTFOUND);
	struct ctr_rt_exit ex;
	if (ctr_rt_delete(t, false, &ex, &e) < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	assert_int_equal(ex.status, 7);
	ctr_rt_task_free(t);
	/* The whole life was one runtime call. */
	l = logged();
	assert_string_equal(l, "run\n");
	free(l);
	assert_int_equal(ctr_rt_bundle_remove(state, NS, "fg-exit", NULL), 0);
	assert_false(has("fg-exit", ""));
}

static void test_kill_and_stdout(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	make_wrapper();
	char in[512], out[512], er[512];
	mkfifos("fg-kill", in, out, er, sizeof(in));
	int rd = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = out};
	ctr_rt_task *t = NULL;
	ctr_error *e = NULL;
	if (create_fg(&t, "fg-kill", "[\"sh\",\"-c\",\"echo up; exec sleep 100\"]", &io, &e) < 0 ||
	    ctr_rt_start(t, &e) < 0)
		fail_msg("create/start: %s", ctr_error_message(e));
	/* Through runc's own pipe, then the shim's. */
	char line[64];
	blocking(rd);
	read_line(rd, line, sizeof(line));
	assert_string_equal(line, "up");
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_RUNNING);
	/* The container runs while runc run waits: a delete without force
	 * refuses, runc kill reaches it, the status is the signal's. */
	assert_int_equal(ctr_rt_delete(t, false, NULL, NULL), CTR_EPRECONDITION);
	if (ctr_rt_kill(t, SIGKILL, false, &e) < 0)
		fail_msg("kill: %s", ctr_error_message(e));
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 128 + SIGKILL);
	close(rd);
	delete_and_check_gone(t);
	char *l = logged();
	assert_string_equal(l, "run\nkill\n");
	free(l);
}

static void test_refused(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	make_wrapper();
	/* With a terminal: CTR_EINVAL, and nothing of a task made (the bundle
	 * stays for its caller). */
	struct ctr_rt_io tio = {.kind = CTR_RT_IO_NULL, .terminal = true};
	ctr_rt_task *t = NULL;
	assert_int_equal(create_fg(&t, "fg-tty", "[\"true\"]", &tio, NULL), CTR_EINVAL);
	assert_null(t);
	assert_true(has("fg-tty", "config.json"));
	assert_false(has("fg-tty", "init"));
	assert_false(has("fg-tty", "runtime"));
	assert_false(has("fg-tty", CTR_SHIM_FOREGROUND));
	assert_int_equal(ctr_rt_bundle_remove(state, NS, "fg-tty", NULL), 0);
	assert_false(has("fg-tty", ""));

	/* Another handle cannot start it (it has not the stdio), sees it
	 * created, and can delete it: nothing runs, no runtime call. */
	ctr_error *e = NULL;
	if (create_fg(&t, "fg-other", "[\"true\"]", NULL, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_rt_task *u = NULL;
	assert_int_equal(ctr_rt_load(&u, state, NS, "fg-other", NULL), 0);
	assert_int_equal(ctr_rt_start(u, NULL), CTR_EPRECONDITION);
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(u), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_CREATED);
	assert_int_equal(ctr_rt_proc_wait(ctr_rt_task_init(u), 1000, NULL, NULL), CTR_EPRECONDITION);
	if (ctr_rt_delete(u, false, NULL, &e) < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	ctr_rt_task_free(u);
	ctr_rt_task_free(t);
	assert_int_equal(ctr_rt_bundle_remove(state, NS, "fg-other", NULL), 0);
	assert_false(has("fg-other", ""));
	char *l = logged();
	assert_string_equal(l, "");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_runc_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_and_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
