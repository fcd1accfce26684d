/* lctr tasks|task|t: start, ls, kill, rm, wait, exec, ps, pause, resume,
 * metrics, update, attach (cmd-attach.c) and checkpoint (cmd-checkpoint.c)
 * in ctr's shapes. */
#include "lctr.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ctr_container *load_container(struct lctr *g, const char *id, const char *what)
{
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return NULL;
	ctr_error *err = NULL;
	ctr_container *k = NULL;
	if (ctr_container_load(&k, cl, id, NULL, 0, &err) < 0) {
		lctr_fail(what, err);
		return NULL;
	}
	return k;
}

static ctr_task *load_task(struct lctr *g, const char *id, const char *what)
{
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return NULL;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	if (ctr_task_load(&t, cl, id, NULL, 0, &err) < 0) {
		lctr_fail(what, err);
		return NULL;
	}
	return t;
}

static const char *status_name(ctr_status s)
{
	switch (s) {
	case CTR_TASK_CREATED: return "CREATED";
	case CTR_TASK_RUNNING: return "RUNNING";
	case CTR_TASK_PAUSED: return "PAUSED";
	case CTR_TASK_PAUSING: return "PAUSING";
	case CTR_TASK_STOPPED: return "STOPPED";
	default: return "UNKNOWN";
	}
}

/* For commands that take exactly one ID after their flags. */
static const char *one_id(int argc, char **argv, const char *cmd, char *what, size_t len)
{
	if (argc - optind != 1) {
		lctr_failf("tasks %s: usage: %s [flags] ID", cmd, cmd);
		return NULL;
	}
	snprintf(what, len, "tasks %s %.100s", cmd, argv[optind]);
	return argv[optind];
}

static int tasks_start(struct lctr *g, int argc, char **argv)
{
	struct lctr_cflags f = {0};
	bool detach = false;
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		if (c == 'd')
			detach = true;
		else if (lctr_cflags_opt(&f, c, optarg) != 1)
			return 2;
	}
	char what[160];
	const char *id = one_id(argc, argv, "start", what, sizeof(what));
	if (!id)
		return 1;
	ctr_container *k = load_container(g, id, what);
	if (!k)
		return 1;
	int rc = lctr_task_run(k, g, &f, detach, what);
	ctr_container_free(k);
	return rc;
}

static int tasks_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	ctr_container **v = NULL;
	size_t n = 0;
	if (ctr_container_list(&v, &n, cl, NULL, 0, NULL, 0, &err) < 0)
		return lctr_fail("tasks ls", err);
	struct lctr_table t;
	lctr_table_init(&t, 3);
	if (!quiet) {
		lctr_table_add(&t, "TASK");
		lctr_table_add(&t, "PID");
		lctr_table_add(&t, "STATUS");
	}
	for (size_t i = 0; i < n; i++) {
		ctr_task *tk = NULL;
		if (ctr_container_task(&tk, v[i], NULL) < 0)
			continue;
		ctr_status st = CTR_TASK_UNKNOWN;
		ctr_task_status(&st, NULL, tk, NULL);
		if (quiet) {
			puts(ctr_task_id(tk));
		} else {
			char pid[16];
			snprintf(pid, sizeof(pid), "%u", ctr_task_pid(tk));
			lctr_table_add(&t, ctr_task_id(tk));
			lctr_table_add(&t, pid);
			lctr_table_add(&t, status_name(st));
		}
		ctr_task_free(tk);
	}
	if (quiet)
		t.n = 0;
	lctr_table_print(&t, stdout);
	ctr_container_list_free(v, n);
	return 0;
}

static int tasks_kill(struct lctr *g, int argc, char **argv)
{
	const char *sigs = NULL, *exec_id = NULL;
	bool all = false;
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		switch (c) {
		case 's': sigs = optarg; break;
		case 'a': all = true; break;
		case 'e': exec_id = optarg; break;
		default: return 2;
		}
	}
	char what[160];
	const char *id = one_id(argc, argv, "kill", what, sizeof(what));
	if (!id)
		return 1;
	if (all && exec_id)
		return lctr_failf("%s: specify an exec-id or all; not both", what);
	ctr_container *k = load_container(g, id, what);
	if (!k)
		return 1;
	/* ctr: the image's stop signal recorded on the container, else SIGTERM. */
	int sig = -1;
	int rc = 0;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	ctr_process *p = NULL;
	if (sigs ? ctr_parse_signal(&sig, sigs, NULL) < 0 : ctr_container_stop_signal(&sig, k, SIGTERM, &err) < 0) {
		rc = sigs ? lctr_failf("%s: unknown signal \"%s\"", what, sigs) : lctr_fail(what, err);
	} else if (ctr_container_task(&t, k, &err) < 0) {
		rc = lctr_fail(what, err);
	} else if (exec_id) {
		if (ctr_task_load_process(&p, t, exec_id, &err) < 0 || ctr_process_kill(p, sig, CTR_NO_OPTS, &err) < 0)
			rc = lctr_fail(what, err);
	} else {
		ctr_opt *kill_all = all ? ctr_with_kill_all() : NULL;
		const ctr_opt *o[1] = {kill_all};
		if (ctr_task_kill(t, sig, o, all ? 1 : 0, &err) < 0)
			rc = lctr_fail(what, err);
		ctr_opt_free(kill_all);
	}
	ctr_process_free(p);
	ctr_task_free(t);
	ctr_container_free(k);
	return rc;
}

static int tasks_rm(struct lctr *g, int argc, char **argv)
{
	bool force = false;
	optind = 0;
	while (lctr_getopt(argc, argv) == 'f')
		force = true;
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		char what[160];
		snprintf(what, sizeof(what), "tasks rm %.100s", argv[i]);
		ctr_task *t = load_task(g, argv[i], what);
		if (!t) {
			rc = 1;
			continue;
		}
		ctr_error *err = NULL;
		ctr_status st = CTR_TASK_UNKNOWN;
		ctr_task_status(&st, NULL, t, NULL);
		/* A created task never ran: deleting it needs no force (ctr). */
		bool kill = force || st == CTR_TASK_CREATED;
		ctr_opt *pk = kill ? ctr_with_process_kill() : NULL;
		const ctr_opt *o[1] = {pk};
		int r = ctr_task_delete(NULL, t, o, kill ? 1 : 0, &err);
		if (r == CTR_EPRECONDITION)
			rc = lctr_fail_hint(what, err, "kill it first or --force");
		else if (r < 0)
			rc = lctr_fail(what, err);
		else
			lctr_io_dir_remove(lctr_client(g), argv[i]);
		ctr_opt_free(pk);
		ctr_task_free(t);
	}
	return rc;
}

static int tasks_wait(struct lctr *g, int argc, char **argv)
{
	optind = 1;
	char what[160];
	const char *id = one_id(argc, argv, "wait", what, sizeof(what));
	if (!id)
		return 1;
	ctr_task *t = load_task(g, id, what);
	if (!t)
		return 1;
	ctr_error *err = NULL;
	uint32_t status = 0;
	int rc = ctr_task_wait(&status, NULL, t, -1, &err) < 0 ? lctr_fail(what, err) : (int)(status & 0xff);
	ctr_task_free(t);
	return rc;
}

/* The container's process spec with ctr exec's overrides. */
static char *exec_process(const char *spec, char **args, bool tty, const char *cwd, const char **env,
			  size_t n_env)
{
	json_t *s = json_loads(spec ? spec : "{}", 0, NULL);
	json_t *p = json_object_get(s, "process");
	char *out = NULL;
	if (!json_is_object(p))
		goto out;
	json_t *a = json_array();
	for (size_t i = 0; a && args[i]; i++)
		json_array_append_new(a, json_string(args[i]));
	json_object_set_new(p, "args", a);
	json_object_set_new(p, "terminal", json_boolean(tty));
	if (cwd)
		json_object_set_new(p, "cwd", json_string(cwd));
	json_t *e = json_object_get(p, "env");
	if (!json_is_array(e)) {
		e = json_array();
		json_object_set_new(p, "env", e);
	}
	for (size_t i = 0; i < n_env; i++) {
		/* replace K= or append, as WithEnv */
		const char *eq = strchr(env[i], '=');
		size_t kl = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
		size_t j;
		json_t *v;
		bool done = false;
		json_array_foreach(e, j, v) {
			const char *t = json_string_value(v);
			if (t && !strncmp(t, env[i], kl) && t[kl] == '=') {
				json_array_set_new(e, j, json_string(env[i]));
				done = true;
				break;
			}
		}
		if (!done)
			json_array_append_new(e, json_string(env[i]));
	}
	out = json_dumps(p, JSON_COMPACT);
out:
	json_decref(s);
	return out;
}

static int tasks_exec(struct lctr *g, int argc, char **argv)
{
	const char *exec_id = NULL, *cwd = NULL, *log_uri = NULL;
	bool tty = false, detach = false, null_io = false;
	const char *env[65];
	size_t n_env = 0;
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'e': exec_id = optarg; break;
		case 't': tty = true; break;
		case 'd': detach = true; break;
		case 'c': cwd = optarg; break;
		case 'l': log_uri = optarg; break;
		case 'n': null_io = true; break;
		case 'v':
			if (n_env == 64)
				return lctr_failf("tasks exec: too many --env");
			env[n_env++] = optarg;
			break;
		default: return 2;
		}
	}
	if (argc - optind < 2)
		return lctr_failf("tasks exec: usage: exec --exec-id E [-t] [-d] [--cwd D] [--env K=V]... ID CMD [ARG...]");
	if (!exec_id)
		return lctr_failf("tasks exec: exec-id must be provided");
	char what[200];
	snprintf(what, sizeof(what), "tasks exec %.100s", argv[optind]);
	if (tty && null_io)
		return lctr_failf("%s: tty and null-io cannot be used together", what);
	ctr_container *k = load_container(g, argv[optind], what);
	if (!k)
		return 1;
	int rc = 1;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	ctr_process *p = NULL;
	struct lctr_opts o = {0};
	char *pj = exec_process(ctr_container_spec(k), argv + optind + 1, tty, cwd, env, n_env);
	if (!pj) {
		lctr_failf("%s: the container's spec has no process", what);
		goto out;
	}
	if (ctr_container_task(&t, k, &err) < 0) {
		rc = lctr_fail(what, err);
		goto out;
	}
	lctr_io_opts(&o, tty, null_io, log_uri, detach, NULL);
	if (ctr_task_exec(&p, t, exec_id, pj, LCTR_OPTS(&o), &err) < 0) {
		rc = lctr_fail(what, err);
		goto out;
	}
	rc = lctr_process_run(p, tty, detach, what);
out:
	lctr_opts_free(&o);
	free(pj);
	ctr_process_free(p);
	ctr_task_free(t);
	ctr_container_free(k);
	return rc;
}

static int tasks_ps(struct lctr *g, int argc, char **argv)
{
	optind = 1;
	char what[160];
	const char *id = one_id(argc, argv, "ps", what, sizeof(what));
	if (!id)
		return 1;
	ctr_task *t = load_task(g, id, what);
	if (!t)
		return 1;
	ctr_error *err = NULL;
	uint32_t *pids = NULL;
	size_t n = 0;
	int rc = 0;
	if (ctr_task_pids(&pids, &n, t, &err) < 0) {
		rc = lctr_fail(what, err);
	} else {
		struct lctr_table tb;
		lctr_table_init(&tb, 2);
		lctr_table_add(&tb, "PID");
		lctr_table_add(&tb, "INFO");
		for (size_t i = 0; i < n; i++) {
			char b[16];
			snprintf(b, sizeof(b), "%u", pids[i]);
			lctr_table_add(&tb, b);
			lctr_table_add(&tb, "-");
		}
		lctr_table_print(&tb, stdout);
	}
	ctr_free(pids);
	ctr_task_free(t);
	return rc;
}

static int pause_resume(struct lctr *g, int argc, char **argv, bool pause)
{
	optind = 1;
	char what[160];
	const char *id = one_id(argc, argv, pause ? "pause" : "resume", what, sizeof(what));
	if (!id)
		return 1;
	ctr_task *t = load_task(g, id, what);
	if (!t)
		return 1;
	ctr_error *err = NULL;
	int rc = (pause ? ctr_task_pause : ctr_task_resume)(t, &err) < 0 ? lctr_fail(what, err) : 0;
	ctr_task_free(t);
	return rc;
}

static int tasks_pause(struct lctr *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, true);
}

static int tasks_resume(struct lctr *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, false);
}

static json_int_t jint(json_t *j, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(j, a), b));
}

static int tasks_metrics(struct lctr *g, int argc, char **argv)
{
	const char *format = "table";
	optind = 0;
	while (lctr_getopt(argc, argv) == 'f')
		format = optarg;
	if (strcmp(format, "table") && strcmp(format, "json"))
		return lctr_failf("tasks metrics: format must be table or json");
	char what[160];
	const char *id = one_id(argc, argv, "metrics", what, sizeof(what));
	if (!id)
		return 1;
	ctr_task *t = load_task(g, id, what);
	if (!t)
		return 1;
	ctr_error *err = NULL;
	char *js = NULL;
	int rc = 0;
	if (ctr_task_metrics(&js, t, &err) < 0) {
		rc = lctr_fail(what, err);
	} else if (!strcmp(format, "json")) {
		puts(js);
	} else {
		json_t *j = json_loads(js, 0, NULL);
		bool v2 = !strcmp(json_string_value(json_object_get(j, "cgroup")) ?: "", "v2");
		char ts[64];
		time_t now = time(NULL);
		struct tm tm;
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime_r(&now, &tm));
		printf("ID    TIMESTAMP\n%s    %s\n\n", id, ts);
		struct lctr_table tb;
		lctr_table_init(&tb, 2);
		lctr_table_add(&tb, "METRIC");
		lctr_table_add(&tb, "VALUE");
		/* ctr's names for each cgroup version */
		const struct {
			const char *v1, *v2, *a, *b;
		} rows[] = {
			{"memory.usage_in_bytes", "memory.usage", "memory", "usage"},
			{"memory.limit_in_bytes", "memory.usage_limit", "memory", "limit"},
			{"memory.max_usage_in_bytes", "memory.max_usage", "memory", "max_usage"},
			{"cpuacct.usage", "cpu.usage_usec", "cpu", "usage_ns"},
			{"pids.current", "pids.current", "pids", "current"},
			{"pids.limit", "pids.limit", "pids", "limit"},
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char b[32];
			json_int_t v = jint(j, rows[i].a, rows[i].b);
			if (v2 && !strcmp(rows[i].b, "usage_ns"))
				v /= 1000;
			snprintf(b, sizeof(b), "%lld", (long long)v);
			lctr_table_add(&tb, v2 ? rows[i].v2 : rows[i].v1);
			lctr_table_add(&tb, b);
		}
		lctr_table_print(&tb, stdout);
		json_decref(j);
	}
	ctr_free(js);
	ctr_task_free(t);
	return rc;
}

static int tasks_update(struct lctr *g, int argc, char **argv)
{
	struct lctr_cflags f = {0};
	long long quota = -2, period = 0;
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		char *end;
		switch (c) {
		case 'm':
			if (lctr_cflags_opt(&f, LCTR_O_MEMORY, optarg) < 0)
				return 1;
			break;
		case 'c':
			if (lctr_cflags_opt(&f, LCTR_O_CPUS, optarg) < 0)
				return 1;
			break;
		case 'q':
		case 'p':
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (!*optarg || *end || errno || v < (c == 'q' ? -1 : 1))
				return lctr_failf("tasks update: invalid --cpu-%s \"%s\"", c == 'q' ? "quota" : "period",
						  optarg);
			*(c == 'q' ? &quota : &period) = v;
			break;
		default:
			return 2;
		}
	}
	char what[160];
	const char *id = one_id(argc, argv, "update", what, sizeof(what));
	if (!id)
		return 1;
	json_t *r = json_object();
	if (f.memory_limit)
		json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)f.memory_limit));
	if (f.cpus > 0) {
		period = period ? period : 100000;
		quota = (long long)(f.cpus * (double)period);
	}
	if (quota != -2 || period) {
		json_t *cpu = json_object();
		if (quota != -2)
			json_object_set_new(cpu, "quota", json_integer(quota));
		if (period)
			json_object_set_new(cpu, "period", json_integer(period));
		json_object_set_new(r, "cpu", cpu);
	}
	if (!json_object_size(r)) {
		json_decref(r);
		return lctr_failf("%s: nothing to update (--memory-limit, --cpus, --cpu-quota, --cpu-period)", what);
	}
	char *rj = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	ctr_task *t = load_task(g, id, what);
	int rc = t ? 0 : 1;
	ctr_error *err = NULL;
	ctr_opt *res = t ? ctr_with_resources(rj) : NULL;
	if (t && ctr_task_update(t, CTR_OPTS(res), &err) < 0)
		rc = lctr_fail(what, err);
	ctr_opt_free(res);
	free(rj);
	ctr_task_free(t);
	return rc;
}

static const struct lctr_flag start_flags[] = {
	{'d', "detach", no_argument, 'd', NULL, "return once the task runs"},
	{0, "null-io", no_argument, LCTR_O_NULL_IO, NULL, "send the process's output to /dev/null"},
	{0, "log-uri", required_argument, LCTR_O_LOG_URI, "file:///PATH", "send stdout and stderr to a file"},
	{0, "pid-file", required_argument, LCTR_O_PID_FILE, "F", "write the task's pid to F"},
	{0, "fifo-dir", required_argument, LCTR_O_FIFO_DIR, "DIR",
	 "with -d: the stdio fifos in DIR/ID-XXXXXX (created), not in the state"},
	{0},
};

static const struct lctr_flag kill_flags[] = {
	{'s', "signal", required_argument, 's', "SIGNAL", "the signal (default: the image's stop signal, else SIGTERM)"},
	{'a', "all", no_argument, 'a', NULL, "signal every process of the task"},
	{0, "exec-id", required_argument, 'e', "E", "signal this exec'd process"},
	{0},
};

static const struct lctr_flag rm_flags[] = {
	{'f', "force", no_argument, 'f', NULL, "kill a running task first"},
	{0},
};

static const struct lctr_flag exec_flags[] = {
	{0, "exec-id", required_argument, 'e', "E", "the process's id (required)"},
	{'t', "tty", no_argument, 't', NULL, "give the process a terminal"},
	{'d', "detach", no_argument, 'd', NULL, "return once the process runs"},
	{0, "cwd", required_argument, 'c', "DIR", "working directory"},
	{0, "env", required_argument, 'v', "K=V", "set an environment variable (repeatable)"},
	{0, "log-uri", required_argument, 'l', "file:///PATH", "send stdout and stderr to a file"},
	{0, "null-io", no_argument, 'n', NULL, "send the process's output to /dev/null"},
	{0},
};

static const struct lctr_flag metrics_flags[] = {
	{0, "format", required_argument, 'f', "table|json", "output format (default table)"},
	{0},
};

static const struct lctr_flag update_flags[] = {
	{0, "memory-limit", required_argument, 'm', "BYTES", "new memory limit"},
	{0, "cpus", required_argument, 'c', "N", "new CPU limit, in CPUs"},
	{0, "cpu-quota", required_argument, 'q', "US", "CFS quota in microseconds (-1: none)"},
	{0, "cpu-period", required_argument, 'p', "US", "CFS period in microseconds"},
	{0},
};

static const struct lctr_cmd tasks_cmds[] = {
	{"start", NULL, tasks_start, "start a container's task", "ID", start_flags},
	{"ls", "list", tasks_ls, "list tasks", "", lctr_ls_flagdefs},
	{"kill", NULL, tasks_kill, "signal a task", "ID", kill_flags},
	{"rm", "delete del remove", tasks_rm, "delete tasks", "ID...", rm_flags},
	{"wait", NULL, tasks_wait, "wait for a task and exit with its status", "ID"},
	{"exec", NULL, tasks_exec, "run a process in a task", "ID CMD [ARG...]", exec_flags, NULL, 1},
	{"ps", NULL, tasks_ps, "list a task's processes", "ID"},
	{"pause", NULL, tasks_pause, "pause a task", "ID"},
	{"resume", NULL, tasks_resume, "resume a task", "ID"},
	{"metrics", "metric", tasks_metrics, "print a task's cgroup metrics", "ID", metrics_flags},
	{"update", NULL, tasks_update, "update a task's resources", "ID", update_flags},
	{"attach", NULL, lctr_tasks_attach, "attach to a task started with -d", "ID"},
	{"checkpoint", NULL, lctr_tasks_checkpoint, "checkpoint a task with CRIU", "ID",
	 lctr_tasks_checkpoint_flags},
};

const struct lctr_group lctr_tasks_group = {tasks_cmds, sizeof(tasks_cmds) / sizeof(tasks_cmds[0]), NULL};

int lctr_cmd_tasks(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "tasks", tasks_cmds, lctr_tasks_group.n, argc, argv);
}
