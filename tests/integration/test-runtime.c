/* The runtime layer for real: busybox bundles run through runc under
 * libctr-shim: exit codes, stdio (fifos, terminal, log file, inherited),
 * signals, pause/resume, metrics. Needs root and runc. */
#include "runtime-fixture.h"

#include <pthread.h>

static void test_exit_code(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctr_rt_task *t = run("exit7", "[\"sh\",\"-c\",\"exit 7\"]", NULL);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 7);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("prepare+create+start+wait: %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ctr_rt_status st;
	struct ctr_rt_exit ex;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, &ex, NULL), 0);
	assert_int_equal(st, CTR_RT_STOPPED);
	assert_int_equal(ex.status, 7);
	assert_true(ex.exited_at > 1600000000ull * 1000000000ull);
	/* kill after exit: not found */
	assert_int_equal(ctr_rt_kill(t, SIGTERM, false, NULL), CTR_ENOTFOUND);
	delete_and_check_gone(t);
}

/* Expected output of `seq A B`. */
static char *seq_text(unsigned a, unsigned b, size_t *len)
{
	size_t cap = (size_t)(b - a + 1) * 9 + 16, n = 0;
	char *s = malloc(cap);
	for (unsigned i = a; i <= b; i++)
		n += (size_t)sprintf(s + n, "%u\n", i);
	*len = n;
	return s;
}

static void test_stdio_10mib(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("big", in, out, er, sizeof(in));
	int fo = open_reader(out), fe = open_reader(er);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = out, .stderr_path = er};
	/* seq 1 1500000 is 10.9 MB: both streams at once, over 10 MiB each */
	ctr_rt_task *t = run("big", "[\"sh\",\"-c\",\"seq 1 1500000 & seq 7 1500006 >&2; wait\"]", &io);
	size_t elen, olen;
	char *exp_o = seq_text(1, 1500000, &elen);
	char *exp_e = seq_text(7, 1500006, &olen);
	assert_true(elen > 10u << 20 && olen > 10u << 20);
	size_t cap = 12u << 20, no = 0, ne = 0;
	char *bo = malloc(cap), *be = malloc(cap);
	struct pollfd p[2] = {{.fd = fo, .events = POLLIN}, {.fd = fe, .events = POLLIN}};
	int open_n = 2;
	while (open_n) {
		assert_true(poll(p, 2, 30000) > 0);
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char *b = i ? be : bo;
			size_t *n = i ? &ne : &no;
			ssize_t k = read(p[i].fd, b + *n, cap - *n);
			if (k < 0 && errno == EAGAIN)
				continue;
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_n--;
				continue;
			}
			*n += (size_t)k;
		}
	}
	char d1[CTR_DIGEST_MAX], d2[CTR_DIGEST_MAX];
	assert_int_equal(no, elen);
	assert_int_equal(ne, olen);
	ctr_digest_buf(CTR_DIGEST_SHA256, bo, no, d1, NULL);
	ctr_digest_buf(CTR_DIGEST_SHA256, exp_o, elen, d2, NULL);
	assert_string_equal(d1, d2);
	ctr_digest_buf(CTR_DIGEST_SHA256, be, ne, d1, NULL);
	ctr_digest_buf(CTR_DIGEST_SHA256, exp_e, olen, d2, NULL);
	assert_string_equal(d1, d2);
	free(bo);
	free(be);
	free(exp_o);
	free(exp_e);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	delete_and_check_gone(t);
}

/* Reads one line (up to \n) from a blocking fd. */
static void test_sigterm_trap(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("trap", in, out, er, sizeof(in));
	int fo = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = out};
	ctr_rt_task *t = run("trap",
			     "[\"sh\",\"-c\",\"trap 'echo got; exit 42' TERM; echo ready; "
			     "while true; do sleep 0.05; done\"]",
			     &io);
	blocking(fo);
	char line[64];
	read_line(fo, line, sizeof(line));
	assert_string_equal(line, "ready");
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_RUNNING);
	assert_int_equal(ctr_rt_kill(t, SIGTERM, false, NULL), 0);
	read_line(fo, line, sizeof(line));
	assert_string_equal(line, "got");
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 42);
	close(fo);
	delete_and_check_gone(t);
}

static void test_kill_all_and_pids(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("killall", in, out, er, sizeof(in));
	int fo = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = out};
	ctr_rt_task *t = run("killall",
			     "[\"sh\",\"-c\",\"trap '' TERM; sleep 1000 & sleep 1000 & echo ready; wait\"]", &io);
	blocking(fo);
	char line[64];
	read_line(fo, line, sizeof(line));
	assert_string_equal(line, "ready");
	uint32_t *pids = NULL;
	size_t n = 0;
	ctr_error *e = NULL;
	if (ctr_rt_pids(t, &pids, &n, &e) < 0)
		fail_msg("pids: %s", ctr_error_message(e));
	assert_int_equal(n, 3);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= pids[i] == (uint32_t)ctr_rt_proc_pid(ctr_rt_task_init(t));
	assert_true(found);
	free(pids);
	/* The init ignores TERM; only --all reaches the sleeps, and KILL
	 * reaches everything. */
	assert_int_equal(ctr_rt_kill(t, SIGKILL, true, NULL), 0);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 128 + SIGKILL);
	close(fo);
	delete_and_check_gone(t);
}

static void test_terminal(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("tty", in, out, er, sizeof(in));
	int fo = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .terminal = true, .stdout_path = out};
	ctr_rt_task *t = run("tty", "[\"tty\"]", &io);
	blocking(fo);
	size_t n;
	char *o = slurp(fo, &n);
	close(fo);
	assert_string_equal(o, "/dev/pts/0\r\n");
	free(o);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	delete_and_check_gone(t);
}

static void test_terminal_resize_stdin(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("ttyin", in, out, er, sizeof(in));
	int fo = open_reader(out);
	assert_int_equal(mkfifo(in, 0600), 0);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .terminal = true, .stdin_path = in, .stdout_path = out};
	ctr_rt_task *t = run("ttyin", "[\"sh\",\"-c\",\"read x; stty size; echo got-$x\"]", &io);
	ctr_error *e = NULL;
	if (ctr_rt_proc_resize(ctr_rt_task_init(t), 91, 33, &e) < 0)
		fail_msg("resize: %s", ctr_error_message(e));
	int fi = open(in, O_WRONLY | O_CLOEXEC);
	assert_true(fi >= 0);
	usleep(100000); /* the resize lands before the shell reads the line */
	assert_int_equal(write(fi, "hello\n", 6), 6);
	close(fi);
	blocking(fo);
	char *o = slurp(fo, NULL);
	close(fo);
	assert_non_null(strstr(o, "33 91\r\n"));
	assert_non_null(strstr(o, "got-hello\r\n"));
	free(o);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	delete_and_check_gone(t);
}

static void test_stdin_fifo(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("stdin", in, out, er, sizeof(in));
	int fo = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdin_path = in, .stdout_path = out};
	ctr_rt_task *t = run("stdin", "[\"wc\",\"-c\"]", &io);
	int fi = open(in, O_WRONLY | O_CLOEXEC);
	assert_true(fi >= 0);
	assert_int_equal(write(fi, "12345", 5), 5);
	close(fi); /* EOF reaches the container */
	blocking(fo);
	char *o = slurp(fo, NULL);
	close(fo);
	assert_int_equal(atoi(o), 5);
	free(o);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	delete_and_check_gone(t);
}

static void test_log_file(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char log[512];
	snprintf(log, sizeof(log), "%s/log.txt", base);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FILE, .log_path = log};
	ctr_rt_task *t = run("log", "[\"sh\",\"-c\",\"echo to-out; echo to-err >&2\"]", &io);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	char *text = NULL;
	size_t len;
	assert_int_equal(ctr_read_file(AT_FDCWD, log, 1 << 20, &text, &len, NULL), 0);
	assert_non_null(strstr(text, "to-out\n"));
	assert_non_null(strstr(text, "to-err\n"));
	free(text);
	delete_and_check_gone(t);
}

static void test_pause_resume_metrics(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = run("pause", "[\"sleep\",\"1000\"]", NULL);
	ctr_error *e = NULL;
	ctr_rt_status st;
	if (ctr_rt_pause(t, &e) < 0)
		fail_msg("pause: %s", ctr_error_message(e));
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_PAUSED);
	/* the kernel agrees: the process is frozen */
	char p[64], b[4096];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)ctr_rt_proc_pid(ctr_rt_task_init(t)));
	if (ctr_rt_resume(t, &e) < 0)
		fail_msg("resume: %s", ctr_error_message(e));
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_RUNNING);

	char *m = NULL;
	if (ctr_rt_metrics(t, &m, &e) < 0)
		fail_msg("metrics: %s", ctr_error_message(e));
	json_t *j = json_loads(m, 0, NULL);
	assert_non_null(j);
	json_int_t usage = json_integer_value(json_object_get(json_object_get(j, "memory"), "usage"));
	printf("metrics: %s\n", m);
	assert_true(usage > 0);
	json_decref(j);
	free(m);

	/* update: a pids limit shows up in the metrics */
	if (ctr_rt_update(t, "{\"pids\":{\"limit\":77}}", &e) < 0)
		fail_msg("update: %s", ctr_error_message(e));
	assert_int_equal(ctr_rt_metrics(t, &m, NULL), 0);
	j = json_loads(m, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "pids"), "limit")), 77);
	json_decref(j);
	free(m);
	assert_int_equal(ctr_rt_update(t, "[1]", NULL), CTR_EINVAL);

	/* RSS of the shim, against the ~1 MiB target */
	snprintf(p, sizeof(p), "/proc/%d/status", (int)ctr_rt_task_init(t)->shim_pid);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	while (fgets(b, sizeof(b), f))
		if (!strncmp(b, "VmRSS:", 6) || !strncmp(b, "Rss", 3))
			printf("shim %s", b);
	fclose(f);
	delete_and_check_gone(t);
}

static void test_inherit(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	int pp[2];
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		dup2(pp[1], 1);
		dup2(pp[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		struct ctr_rt_io io = {.kind = CTR_RT_IO_INHERIT};
		ctr_rt_task *t = NULL;
		if (create(&t, "inherit", "[\"sh\",\"-c\",\"echo inherited-out; echo inherited-err >&2; exit 6\"]", &io,
			   NULL, NULL) < 0 || ctr_rt_start(t, NULL) < 0)
			_exit(100);
		struct ctr_rt_exit ex;
		if (ctr_rt_proc_wait(ctr_rt_task_init(t), 30000, &ex, NULL) < 0)
			_exit(101);
		if (ctr_rt_delete(t, false, NULL, NULL) < 0)
			_exit(102);
		_exit((int)ex.status);
	}
	close(pp[1]);
	char *o = slurp(pp[0], NULL);
	close(pp[0]);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 6);
	assert_non_null(strstr(o, "inherited-out\n"));
	assert_non_null(strstr(o, "inherited-err\n"));
	free(o);
}

struct deleter {
	const char *id;
	int rc;
	bool done;
};

static void *delete_thread(void *ud)
{
	struct deleter *d = ud;
	ctr_rt_task *t = NULL;
	d->rc = ctr_rt_load(&t, state, NS, d->id, NULL);
	if (d->rc == 0)
		d->rc = ctr_rt_delete(t, false, NULL, NULL);
	ctr_rt_task_free(t);
	__atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Issue 12: between `runc start` and the "started" record a task read as
 * CREATED, and a delete then force-deleted the starting task. Here the
 * test is the starter, holding the start lock over that window: a delete
 * from elsewhere waits for the start, then refuses a running task. */
static void test_delete_waits_for_start(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = NULL;
	ctr_error *e = NULL;
	if (create(&t, "window", "[\"sleep\",\"30\"]", NULL, NULL, &e) < 0)
		fail_msg("create: %s", ctr_error_message(e));
	ctr_rt_proc *init = ctr_rt_task_init(t);
	int lock = openat(init->dir_fd, CTR_SHIM_START_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lock >= 0);
	assert_int_equal(ctr_lock_fd(lock, true, 0, NULL), 0);
	const char *args[] = {"start", "window", NULL};
	assert_int_equal(ctr_rt_runc(t, args, NULL, NULL), 0);
	struct deleter d = {.id = "window"};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, delete_thread, &d), 0);
	usleep(300 * 1000);
	assert_false(__atomic_load_n(&d.done, __ATOMIC_ACQUIRE));
	assert_int_equal(ctr_write_atomic(init->dir_fd, "started", "", 0, 0600, NULL), 0);
	close(lock);
	pthread_join(th, NULL);
	assert_int_equal(d.rc, CTR_EPRECONDITION);
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(init, &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_RUNNING);
	assert_int_equal(ctr_rt_kill(t, SIGKILL, false, NULL), 0);
	assert_int_equal(wait_exit(init), 128 + SIGKILL);
	delete_and_check_gone(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdio_10mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_trap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_all_and_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal_resize_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_waits_for_start, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
