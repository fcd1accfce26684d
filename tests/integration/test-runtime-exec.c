/* The runtime layer for real, part two: exec'd processes, the public task
 * API, a host that dies, a shim that dies, what reaches the container, bad
 * input. Needs root and runc. */
#include "runtime-fixture.h"

static void test_exec(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = run("exec", "[\"sleep\",\"1000\"]", NULL);
	ctr_rt_proc *p = NULL;
	ctr_error *e = NULL;
	if (ctr_rt_exec(&p, t, "e1", "{\"args\":[\"sh\",\"-c\",\"exit 3\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
				      "\"user\":{\"uid\":0,\"gid\":0}}", NULL, &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	assert_int_equal(ctr_rt_exec(&(ctr_rt_proc *){NULL}, t, "e1", "{\"args\":[\"true\"]}", NULL, NULL),
			 CTR_EEXISTS);
	assert_int_equal(ctr_rt_exec(&(ctr_rt_proc *){NULL}, t, "../e", "{\"args\":[\"true\"]}", NULL, NULL),
			 CTR_EINVAL);
	assert_int_equal(ctr_rt_exec(&(ctr_rt_proc *){NULL}, t, "e9", "{\"args\":[]}", NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_rt_exec_load(&(ctr_rt_proc *){NULL}, t, "e9", NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_rt_proc_wait(p, 1000, NULL, NULL), CTR_EPRECONDITION);
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(p, &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_CREATED);
	if (ctr_rt_proc_start(p, &e) < 0)
		fail_msg("exec start: %s", ctr_error_message(e));
	assert_true(ctr_rt_proc_pid(p) > 0);
	assert_int_equal(wait_exit(p), 3);
	/* The exec'd process's shim leaves once the status is written. */
	pid_t shim = p->shim_pid;
	for (int i = 0; i < 200 && pid_alive(shim); i++)
		usleep(10000);
	assert_false(pid_alive(shim));
	/* loaded again from the files, still 3 */
	ctr_rt_proc *q = NULL;
	assert_int_equal(ctr_rt_exec_load(&q, t, "e1", NULL), 0);
	struct ctr_rt_exit ex;
	assert_int_equal(ctr_rt_proc_status(q, &st, &ex, NULL), 0);
	assert_int_equal(st, CTR_RT_STOPPED);
	assert_int_equal(ex.status, 3);
	assert_int_equal(ctr_rt_proc_delete(q, &ex, NULL), 0);
	assert_int_equal(ex.status, 3);
	ctr_rt_proc_free(q);
	ctr_rt_proc_free(p);
	assert_int_equal(ctr_rt_exec_load(&q, t, "e1", NULL), CTR_ENOTFOUND);

	/* An exec'd process killed through its shim. */
	char in[512], out[512], er[512];
	mkfifos("exec2", in, out, er, sizeof(in));
	int fo = open_reader(out);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = out};
	if (ctr_rt_exec(&p, t, "e2", "{\"args\":[\"sh\",\"-c\",\"echo ready; exec sleep 1000\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"]}", &io,
			&e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	if (ctr_rt_proc_start(p, &e) < 0)
		fail_msg("exec start: %s", ctr_error_message(e));
	blocking(fo);
	char line[64];
	read_line(fo, line, sizeof(line));
	assert_string_equal(line, "ready");
	assert_int_equal(ctr_rt_proc_kill(p, SIGUSR1, NULL), 0);
	assert_int_equal(wait_exit(p), 128 + SIGUSR1);
	close(fo);
	ctr_rt_proc_free(p);
	/* An exec'd process with its own terminal. */
	mkfifos("exec3", in, out, er, sizeof(in));
	fo = open_reader(out);
	struct ctr_rt_io tio = {.kind = CTR_RT_IO_FIFO, .terminal = true, .stdout_path = out};
	if (ctr_rt_exec(&p, t, "e3", "{\"args\":[\"tty\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"]}", &tio, &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	if (ctr_rt_proc_start(p, &e) < 0)
		fail_msg("exec start: %s", ctr_error_message(e));
	blocking(fo);
	char *o = slurp(fo, NULL);
	close(fo);
	assert_true(!strncmp(o, "/dev/pts/", 9) && strstr(o, "\r\n"));
	free(o);
	assert_int_equal(wait_exit(p), 0);
	ctr_rt_proc_free(p);
	/* the init is untouched */
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_RUNNING);
	assert_int_equal(ctr_rt_delete(t, false, NULL, NULL), CTR_EPRECONDITION);
	delete_and_check_gone(t);
}

static void test_host_dies(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	int pp[2];
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		ctr_rt_task *t = NULL;
		if (create(&t, "hostdies", "[\"sh\",\"-c\",\"sleep 0.5; exit 9\"]", NULL, NULL, NULL) < 0 ||
		    ctr_rt_start(t, NULL) < 0)
			_exit(1);
		if (write(pp[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pp[1]);
	char ch = 0;
	assert_int_equal(read(pp[0], &ch, 1), 1);
	close(pp[0]);
	kill(child, SIGKILL);
	int status;
	waitpid(child, &status, 0);
	/* The parent never saw the task: it loads it through the public API
	 * from the state directory and gets the real exit code. */
	ctr_client *c = open_client();
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (ctr_task_load(&t, c, "hostdies", NULL, 0, &e) < 0)
		fail_msg("load: %s", ctr_error_message(e));
	assert_true(ctr_task_pid(t) > 0);
	uint32_t code = 0;
	uint64_t at = 0;
	if (ctr_task_wait(&code, &at, t, 30000, &e) < 0)
		fail_msg("wait: %s", ctr_error_message(e));
	assert_int_equal(code, 9);
	assert_true(at > 0);
	pid_t shim = ctr_rt_task_init(t->rt)->shim_pid;
	assert_int_equal(ctr_task_delete(&code, t, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 9);
	ctr_task_free(t);
	for (int i = 0; i < 100 && pid_alive(shim); i++)
		usleep(10000);
	assert_false(pid_alive(shim));
	assert_int_equal(ctr_task_load(&t, c, "hostdies", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_client_free(c);
}

/* A shim killed under a running container: no status can be known, and
 * a forced delete still cleans everything up. */
static void test_shim_killed(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = run("shimkill", "[\"sleep\",\"1000\"]", NULL);
	pid_t shim = ctr_rt_task_init(t)->shim_pid, pid = ctr_rt_proc_pid(ctr_rt_task_init(t));
	assert_true(pid_alive(pid));
	assert_int_equal(kill(shim, SIGKILL), 0);
	ctr_error *e = NULL;
	assert_int_equal(ctr_rt_proc_wait(ctr_rt_task_init(t), 10000, NULL, &e), CTR_EUNAVAILABLE);
	assert_non_null(strstr(ctr_error_message(e), "without an exit status"));
	ctr_error_free(e);
	ctr_rt_status st;
	assert_int_equal(ctr_rt_proc_status(ctr_rt_task_init(t), &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_RT_UNKNOWN);
	assert_true(pid_alive(pid)); /* the container outlived its shim */
	delete_and_check_gone(t);
	for (int i = 0; i < 100 && pid_alive(pid); i++)
		usleep(10000);
	assert_false(pid_alive(pid));
}

static void test_public_api(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	char in[512], out[512], er[512];
	mkfifos("pub", in, out, er, sizeof(in));
	int fo = open_reader(out);
	ctr_opt *io = ctr_with_stdio_fifos(in, out, NULL);
	char *sp = spec("pub", "[\"sh\",\"-c\",\"echo hi; read x; exit 5\"]", NULL);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (ctr_task_new_bundle(&t, c, NULL, "pub", sp, rootfs, CTR_OPTS(io), &e) < 0)
		fail_msg("new task: %s", ctr_error_message(e));
	free(sp);
	ctr_opt_free(io);
	ctr_status st;
	assert_int_equal(ctr_task_status(&st, NULL, t, NULL), 0);
	assert_int_equal(st, CTR_TASK_CREATED);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	assert_int_equal(ctr_task_start(t, NULL), CTR_EPRECONDITION);
	assert_true(ctr_task_pid(t) > 0);
	assert_int_equal(ctr_task_status(&st, NULL, t, NULL), 0);
	assert_int_equal(st, CTR_TASK_RUNNING);
	blocking(fo);
	char line[64];
	read_line(fo, line, sizeof(line));
	assert_string_equal(line, "hi");

	ctr_process *p = NULL;
	if (ctr_task_exec(&p, t, "p1", "{\"args\":[\"sh\",\"-c\",\"exit 4\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
			  NULL, 0, &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	assert_string_equal(ctr_process_id(p), "p1");
	assert_int_equal(ctr_process_pid(p), 0);
	assert_int_equal(ctr_process_start(p, NULL), 0);
	uint32_t code = 0;
	assert_int_equal(ctr_process_wait(&code, NULL, p, 30000, NULL), 0);
	assert_int_equal(code, 4);
	assert_int_equal(ctr_process_status(&st, &code, p, NULL), 0);
	assert_int_equal(st, CTR_TASK_STOPPED);
	assert_int_equal(ctr_process_delete(&code, p, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 4);
	ctr_process_free(p);

	/* Kill and delete options: a running exec is deleted only with
	 * ctr_with_process_kill, which kills it first (128 + SIGKILL);
	 * ctr_with_kill_all is for tasks, and options of another kind are
	 * refused. */
	if (ctr_task_exec(&p, t, "p2", "{\"args\":[\"sleep\",\"100\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
			  NULL, 0, &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	assert_int_equal(ctr_process_start(p, NULL), 0);
	ctr_opt *pk = ctr_with_process_kill(), *ka = ctr_with_kill_all();
	assert_int_equal(ctr_process_delete(&code, p, CTR_NO_OPTS, NULL), CTR_EPRECONDITION);
	assert_int_equal(ctr_process_kill(p, SIGTERM, CTR_OPTS(ka), NULL), CTR_EINVAL);
	assert_int_equal(ctr_process_kill(p, SIGTERM, CTR_OPTS(pk), NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_kill(t, SIGTERM, CTR_OPTS(pk), NULL), CTR_EINVAL);
	assert_int_equal(ctr_process_status(&st, NULL, p, NULL), 0);
	assert_int_equal(st, CTR_TASK_RUNNING);
	code = 0;
	assert_int_equal(ctr_process_delete(&code, p, CTR_OPTS(pk), NULL), 0);
	assert_int_equal(code, 128 + SIGKILL);
	ctr_process_free(p);
	ctr_opt_free(pk);
	ctr_opt_free(ka);

	/* Killing one exec'd process (containerd's WithKillExecID: a kill on
	 * the process) ends it alone: 128 + SIGTERM, the task runs on. */
	if (ctr_task_exec(&p, t, "p3", "{\"args\":[\"sleep\",\"100\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
			  NULL, 0, &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	assert_int_equal(ctr_process_start(p, NULL), 0);
	assert_int_equal(ctr_process_kill(p, SIGTERM, CTR_NO_OPTS, NULL), 0);
	code = 0;
	assert_int_equal(ctr_process_wait(&code, NULL, p, 30000, NULL), 0);
	assert_int_equal(code, 128 + SIGTERM);
	assert_int_equal(ctr_task_status(&st, NULL, t, NULL), 0);
	assert_int_equal(st, CTR_TASK_RUNNING);
	assert_int_equal(ctr_process_delete(&code, p, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 128 + SIGTERM);
	ctr_process_free(p);

	uint32_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(ctr_task_pids(&pids, &n, t, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], ctr_task_pid(t));
	ctr_free(pids);
	assert_int_equal(ctr_task_wait(&code, NULL, t, 100, NULL), CTR_ETIMEOUT);
	assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), CTR_EPRECONDITION);
	/* EOF on stdin ends `read x` */
	assert_int_equal(ctr_task_close_io(t, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_task_wait(&code, NULL, t, 30000, NULL), 0);
	assert_int_equal(code, 5);
	assert_int_equal(ctr_task_kill(t, SIGTERM, CTR_NO_OPTS, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_task_delete(&code, t, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(code, 5);
	ctr_task_free(t);
	close(fo);
	/* the task's life went to the event journal */
	char jp[512];
	snprintf(jp, sizeof(jp), "%s/events/journal.1", state);
	char *j = NULL;
	size_t jl;
	assert_int_equal(ctr_read_file(AT_FDCWD, jp, 1 << 20, &j, &jl, NULL), 0);
	assert_non_null(strstr(j, "\"/tasks/create\""));
	assert_non_null(strstr(j, "\"/tasks/start\""));
	assert_non_null(strstr(j, "\"/tasks/exec-started\""));
	assert_non_null(strstr(j, "\"/tasks/delete\""));
	/* the shims' exits, parsed as the library's reader would */
	assert_non_null(strstr(j, "\"topic\":\"/tasks/exit\",\"payload\":{\"container_id\":\"pub\",\"exit_status\":4,"));
	assert_non_null(strstr(j, "\"topic\":\"/tasks/exit\",\"payload\":{\"container_id\":\"pub\",\"exit_status\":5,"));
	ctr_subscription *sub = NULL;
	ctr_opt *rp = ctr_with_subscribe_replay();
	const char *filters[] = {"topic==\"/tasks/exit\""};
	if (ctr_event_subscribe(&sub, c, filters, 1, CTR_OPTS(rp), &e) < 0)
		fail_msg("subscribe: %s", ctr_error_message(e));
	int exits = 0;
	for (;;) {
		ctr_event *ev = NULL;
		if (ctr_subscription_next(&ev, sub, 0, NULL) != 0)
			break;
		assert_string_equal(ctr_event_topic(ev), "/tasks/exit");
		assert_string_equal(ctr_event_namespace(ev), NS);
		exits++;
		ctr_event_free(ev);
	}
	assert_int_equal(exits, 4); /* p1, p2, p3 and the init */
	ctr_subscription_free(sub);
	ctr_opt_free(rp);
	free(j);
	ctr_client_free(c);
}

/* Issue 12: a container that exits at once had its /tasks/exit published
 * before its /tasks/start. Every subscriber must see each task's events in
 * causal order: create, start, exit, delete. */
static void test_event_order(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	enum { N = 12 };
	for (int i = 0; i < N; i++) {
		char id[32];
		snprintf(id, sizeof(id), "order%d", i);
		char *sp = spec(id, "[\"true\"]", NULL);
		ctr_task *t = NULL;
		ctr_error *e = NULL;
		if (ctr_task_new_bundle(&t, c, NULL, id, sp, rootfs, NULL, 0, &e) < 0)
			fail_msg("new task: %s", ctr_error_message(e));
		free(sp);
		assert_int_equal(ctr_task_start(t, NULL), 0);
		uint32_t code = 1;
		assert_int_equal(ctr_task_wait(&code, NULL, t, 30000, NULL), 0);
		assert_int_equal(code, 0);
		assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), 0);
		ctr_task_free(t);
	}
	ctr_subscription *sub = NULL;
	ctr_opt *rp = ctr_with_subscribe_replay();
	const char *filters[] = {"topic~=\"^/tasks/\""};
	assert_int_equal(ctr_event_subscribe(&sub, c, filters, 1, CTR_OPTS(rp), NULL), 0);
	char seen[N][128];
	memset(seen, 0, sizeof(seen));
	for (;;) {
		ctr_event *ev = NULL;
		if (ctr_subscription_next(&ev, sub, 0, NULL) != 0)
			break;
		json_t *pl = json_loads(ctr_event_payload(ev), 0, NULL);
		const char *cid = json_string_value(json_object_get(pl, "container_id"));
		int i = -1;
		if (cid && sscanf(cid, "order%d", &i) == 1 && i >= 0 && i < N) {
			size_t n = strlen(seen[i]);
			snprintf(seen[i] + n, sizeof(seen[i]) - n, "%s%s", n ? " " : "", ctr_event_topic(ev) + 7);
		}
		json_decref(pl);
		ctr_event_free(ev);
	}
	for (int i = 0; i < N; i++) {
		if (strcmp(seen[i], "create start exit delete") != 0)
			fail_msg("task order%d: events %s", i, seen[i]);
	}
	ctr_subscription_free(sub);
	ctr_opt_free(rp);
	ctr_client_free(c);
}

static void test_only_stdio_reaches_container(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], er[512];
	mkfifos("fds", in, out, er, sizeof(in));
	int fo = open_reader(out);
	/* An fd a careless host program left inheritable must not reach the
	 * shim (and so neither runc nor the container). */
	char marker[512];
	snprintf(marker, sizeof(marker), "%s/leak-marker", base);
	write_file(marker, "x");
	int extra = open(marker, O_RDONLY);
	assert_true(extra >= 0);
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdin_path = in, .stdout_path = out};
	ctr_rt_task *t = run("fds", "[\"ls\",\"/proc/self/fd\"]", &io);
	blocking(fo);
	char *o = slurp(fo, NULL);
	close(fo);
	/* 3 is the directory ls is reading */
	assert_string_equal(o, "0\n1\n2\n3\n");
	free(o);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 0);
	/* The shim holds exactly: 0-2 (/dev/null), its signalfd, the control
	 * fifo and nothing of ours. */
	char fdd[64];
	snprintf(fdd, sizeof(fdd), "/proc/%d/fd", (int)ctr_rt_task_init(t)->shim_pid);
	DIR *d = opendir(fdd);
	assert_non_null(d);
	struct dirent *de;
	int count = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char lp[400], target[1024];
		snprintf(lp, sizeof(lp), "%s/%s", fdd, de->d_name);
		ssize_t k = readlink(lp, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = 0;
		if (strstr(target, "leak-marker"))
			fail_msg("shim holds the host's fd %s -> %s", de->d_name, target);
		/* what the shim may hold: /dev/null, its signalfd, the control
		 * fifo, the caller's fifos, pipes to the container, and for a
		 * moment after the exit the start lock (it publishes /tasks/exit
		 * only once no starter holds it), which the count leaves out */
		if (strstr(target, "/init/" CTR_SHIM_START_LOCK))
			continue;
		/* and, while it appends /tasks/exit, the event journal's
		 * directory, lock and newest file: the shim's own, not ours */
		char evd[600];
		snprintf(evd, sizeof(evd), "%s/events", state);
		if (!strncmp(target, evd, strlen(evd)) && (target[strlen(evd)] == 0 || target[strlen(evd)] == '/'))
			continue;
		if (strcmp(target, "/dev/null") && strcmp(target, "anon_inode:[signalfd]") &&
		    !strstr(target, "/init/" CTR_SHIM_CONTROL) && strcmp(target, in) &&
		    strncmp(target, "pipe:[", 6))
			fail_msg("shim holds an unexpected fd %s -> %s", de->d_name, target);
		count++;
	}
	closedir(d);
	printf("shim fds: %d\n", count);
	assert_true(count <= 7);
	close(extra);
	delete_and_check_gone(t);
}

/* The caller's own stdio: a child whose fds 1 and 2 are a pipe runs a
 * task with inherited stdio; the pipe gets the output. */
static void test_cwd_leaked_fd_refused(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = NULL;
	ctr_error *e = NULL;
	int r = create(&t, "cwdfd", "[\"sh\",\"-c\",\"ls ../../../; exit 0\"]", NULL, "/proc/self/fd/7", &e);
	if (r == 0) {
		/* runc 1.1 may only fail at start; either way it never runs */
		r = ctr_rt_start(t, &e);
		if (r == 0) {
			uint32_t st = wait_exit(ctr_rt_task_init(t));
			fail_msg("process with cwd /proc/self/fd/7 ran (exit %u)", st);
		}
		ctr_rt_delete(t, true, NULL, NULL);
		ctr_rt_task_free(t);
	} else {
		char p[1024];
		snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/cwdfd/init", state);
		struct stat st;
		assert_int_equal(stat(p, &st), -1); /* nothing half-made stays */
	}
	printf("refused: %s\n", e ? ctr_error_message(e) : "?");
	assert_true(r < 0);
	ctr_error_free(e);
}

static void test_bad_input(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char *dir = NULL;
	char *sp = spec("x", "[\"true\"]", NULL);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "../x", sp, rootfs, false, NULL), CTR_EINVAL);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, "a/b", "x", sp, rootfs, false, NULL), CTR_EINVAL);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "x", sp, "relative", false, NULL), CTR_EINVAL);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "x", "{", rootfs, false, NULL), CTR_EINVAL);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "x", "[]", rootfs, false, NULL), CTR_EINVAL);
	struct stat st;
	char p[1024];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/x", state);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "x", sp, rootfs, false, NULL), 0);
	free(dir);
	assert_int_equal(ctr_rt_bundle_prepare(&dir, state, NS, "x", sp, rootfs, false, NULL), CTR_EEXISTS);
	/* a regular file where a fifo is expected */
	char reg[512];
	snprintf(reg, sizeof(reg), "%s/regular", base);
	write_file(reg, "keep");
	struct ctr_rt_io io = {.kind = CTR_RT_IO_FIFO, .stdout_path = reg};
	ctr_rt_task *t = NULL;
	assert_int_equal(ctr_rt_create(&t, state, NS, "x", &io, NULL, NULL), CTR_EINVAL);
	char *text = NULL;
	size_t len;
	assert_int_equal(ctr_read_file(AT_FDCWD, reg, 100, &text, &len, NULL), 0);
	assert_string_equal(text, "keep");
	free(text);
	/* a runtime that does not exist */
	assert_int_equal(ctr_rt_create(&t, state, NS, "x", NULL, "/nonexistent/runc", NULL), CTR_EUNAVAILABLE);
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/x/init", state);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(ctr_rt_load(&t, state, NS, "nope", NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_rt_bundle_remove(state, NS, "x", NULL), 0);
	free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_stdio_reaches_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cwd_leaked_fd_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
