/* A task's IO under real runc: in-process streams (ctr_with_stdio_streams),
 * binary:// log URIs with a logging binary built beside this test
 * (io-logger.c), re-attaching from another process (ctr_task_attach) and
 * the IO config (ctr_task_io). */
#include "runtime-fixture.h"

#include <pthread.h>

/* ---- helpers ---- */

struct sink {
	pthread_mutex_t mu;
	char d[65536];
	size_t n;
	int calls;
};

static int sink_write(const char *data, size_t len, void *ud)
{
	struct sink *s = ud;
	pthread_mutex_lock(&s->mu);
	if (s->n + len < sizeof(s->d)) {
		memcpy(s->d + s->n, data, len);
		s->n += len;
		s->d[s->n] = 0;
	}
	s->calls++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct io {
	const char *in; /* stdin to feed, then EOF */
	size_t in_off;
	int in_calls;
	struct sink out, err;
};

static void io_init(struct io *io, const char *in)
{
	memset(io, 0, sizeof(*io));
	io->in = in;
	pthread_mutex_init(&io->out.mu, NULL);
	pthread_mutex_init(&io->err.mu, NULL);
}

static long io_read(char *buf, size_t len, void *ud)
{
	struct io *io = ud;
	io->in_calls++;
	size_t left = strlen(io->in) - io->in_off;
	size_t n = left < len ? left : len;
	memcpy(buf, io->in + io->in_off, n);
	io->in_off += n;
	return (long)n;
}

static int io_out(const char *d, size_t n, void *ud) { return sink_write(d, n, &((struct io *)ud)->out); }
static int io_err(const char *d, size_t n, void *ud) { return sink_write(d, n, &((struct io *)ud)->err); }

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int threads(void) { return count_dir("/proc/self/task"); }
/* One less: opendir's own fd. */
static int fds(void) { return count_dir("/proc/self/fd") - 1; }

static ctr_task *new_task(ctr_client *c, const char *id, const char *args, ctr_opt *io, ctr_error **e,
			  int *r)
{
	char *sp = spec(id, args, NULL);
	ctr_task *t = NULL;
	*r = ctr_task_new_bundle(&t, c, NULL, id, sp, rootfs, io ? &(const ctr_opt *){io} : NULL, io ? 1 : 0, e);
	free(sp);
	return t;
}

static ctr_task *must_task(ctr_client *c, const char *id, const char *args, ctr_opt *io)
{
	ctr_error *e = NULL;
	int r;
	ctr_task *t = new_task(c, id, args, io, &e, &r);
	if (r < 0)
		fail_msg("new task %s: %s", id, ctr_error_message(e));
	return t;
}

static uint32_t wait_task(ctr_task *t)
{
	uint32_t st = 999;
	ctr_error *e = NULL;
	if (ctr_task_wait(&st, NULL, t, 30000, &e) < 0)
		fail_msg("wait: %s", ctr_error_message(e));
	return st;
}

static void delete_task(ctr_task *t)
{
	ctr_error *e = NULL;
	ctr_opt *k = ctr_with_process_kill();
	if (ctr_task_delete(NULL, t, CTR_OPTS(k), &e) < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	ctr_opt_free(k);
	ctr_task_free(t);
}

/* The client opens its journal and database on first use: run a task
 * once so that the fds counted afterwards are the copiers' alone. */
static void warm_up(ctr_client *c)
{
	ctr_task *t = must_task(c, "warm-up", "[\"true\"]", NULL);
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_start(t, &e), 0);
	wait_task(t);
	delete_task(t);
}

/* A client whose journal and database are open already (warm_up), and the
 * thread and fd counts that the test must come back to. */
static ctr_client *counted_client(int *th0, int *fd0)
{
	ctr_client *c = open_client();
	warm_up(c);
	*th0 = threads();
	*fd0 = fds();
	return c;
}

enum { IN = 1, OUT = 2, ERR = 4 };

/* A task whose streams (IN, OUT, ERR) go to io, which feeds it `in`. */
static ctr_task *streams_task(ctr_client *c, const char *id, const char *args, struct io *io, const char *in,
			      int which)
{
	io_init(io, in);
	ctr_opt *o = ctr_with_stdio_streams(which & IN ? io_read : NULL, which & OUT ? io_out : NULL,
					    which & ERR ? io_err : NULL, io);
	ctr_task *t = must_task(c, id, args, o);
	ctr_opt_free(o);
	return t;
}

static bool task_dir_exists(const char *id)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS "/%s", state, id);
	struct stat st;
	return stat(p, &st) == 0;
}

static json_t *io_config(ctr_task *t)
{
	char *text = NULL;
	ctr_error *e = NULL;
	if (ctr_task_io(&text, t, &e) < 0)
		fail_msg("task io: %s", ctr_error_message(e));
	json_t *j = json_loads(text, 0, NULL);
	ctr_free(text);
	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));
	assert_non_null(s);
	return s;
}

/* ---- in-process streams ---- */

/* stdin from a callback reaches cat; stdout and stderr come back through
 * callbacks; after delete no thread and no fd of ours is left. */
static void test_streams(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	int th0, fd0;
	ctr_client *c = counted_client(&th0, &fd0);
	struct io io;
	ctr_task *t = streams_task(c, "streams", "[\"sh\",\"-c\",\"cat; echo to-stderr >&2\"]", &io,
				   "hello from a callback\nsecond line\n", IN | OUT | ERR);
	/* two copying threads while it runs (stdin's may be done already:
	 * the shim takes its input before the process starts) */
	assert_true(threads() >= th0 + 1 && threads() <= th0 + 2);
	json_t *j = io_config(t);
	assert_false(json_is_true(json_object_get(j, "terminal")));
	char want[1100];
	snprintf(want, sizeof(want), "%s/init/io.stdin", ctr_rt_task_dir(t->rt));
	assert_string_equal(jstr(j, "stdin"), want);
	snprintf(want, sizeof(want), "%s/init/io.stdout", ctr_rt_task_dir(t->rt));
	assert_string_equal(jstr(j, "stdout"), want);
	snprintf(want, sizeof(want), "%s/init/io.stderr", ctr_rt_task_dir(t->rt));
	assert_string_equal(jstr(j, "stderr"), want);
	json_decref(j);
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_start(t, &e), 0);
	assert_int_equal(wait_task(t), 0);
	delete_task(t);
	assert_string_equal(io.out.d, "hello from a callback\nsecond line\n");
	assert_string_equal(io.err.d, "to-stderr\n");
	assert_true(io.in_calls >= 2); /* the data, then the 0 that ended it */
	assert_int_equal(threads(), th0);
	assert_int_equal(fds(), fd0);
	assert_false(task_dir_exists("streams"));
	ctr_client_free(c);
}

/* An exec'd process gets its streams from ctr_process_start on; a stream
 * without a callback gets no fifo. */
static void test_streams_exec(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	int th0, fd0;
	ctr_client *c = counted_client(&th0, &fd0);
	ctr_task *t = must_task(c, "streams-exec", "[\"sleep\",\"30\"]", NULL);
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_start(t, &e), 0);
	struct io io;
	io_init(&io, "");
	ctr_opt *o = ctr_with_stdio_streams(NULL, io_out, io_err, &io);
	ctr_process *p = NULL;
	if (ctr_task_exec(&p, t, "x1", "{\"args\":[\"sh\",\"-c\",\"echo exec-out; echo exec-err >&2; exit 3\"],"
				  "\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}",
			  CTR_OPTS(o), &e) < 0)
		fail_msg("exec: %s", ctr_error_message(e));
	ctr_opt_free(o);
	char *text = NULL;
	assert_int_equal(ctr_process_io(&text, p, &e), 0);
	json_t *j = json_loads(text, 0, NULL);
	ctr_free(text);
	assert_string_equal(jstr(j, "stdin"), "");
	assert_non_null(strstr(jstr(j, "stdout"), "/exec/x1/io.stdout"));
	json_decref(j);
	assert_int_equal(threads(), th0); /* nothing copies before the start */
	if (ctr_process_start(p, &e) < 0)
		fail_msg("start: %s", ctr_error_message(e));
	assert_int_equal(threads(), th0 + 1); /* output only: no stdin callback */
	uint32_t st = 0;
	assert_int_equal(ctr_process_wait(&st, NULL, p, 30000, &e), 0);
	assert_int_equal(st, 3);
	assert_int_equal(ctr_process_delete(NULL, p, NULL, 0, &e), 0);
	assert_string_equal(io.out.d, "exec-out\n");
	assert_string_equal(io.err.d, "exec-err\n");
	assert_int_equal(threads(), th0);
	ctr_process_free(p);
	delete_task(t);
	assert_int_equal(fds(), fd0);
	ctr_client_free(c);
}

/* Freeing the handle of a running task stops the copying (the task keeps
 * running); a stdout callback that fails stops that stream only. */
static void test_streams_free_and_stop(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	int th0, fd0;
	ctr_client *c = counted_client(&th0, &fd0);
	struct io io;
	ctr_task *t = streams_task(c, "streams-free", "[\"sh\",\"-c\",\"echo first; sleep 30\"]", &io, "", OUT);
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_start(t, &e), 0);
	for (int i = 0; i < 500 && io.out.n == 0; i++)
		usleep(10000);
	assert_string_equal(io.out.d, "first\n");
	ctr_task_free(t);
	assert_int_equal(threads(), th0);
	assert_int_equal(fds(), fd0);
	ctr_task *u = NULL;
	assert_int_equal(ctr_task_load(&u, c, "streams-free", NULL, 0, &e), 0);
	ctr_status stt;
	assert_int_equal(ctr_task_status(&stt, NULL, u, &e), 0);
	assert_int_equal(stt, CTR_TASK_RUNNING);
	delete_task(u);
	ctr_client_free(c);
}

/* ---- binary:// ---- */

static void logger_path(char *buf, size_t len)
{
	char self[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(buf, len, "%s/io-logger", self);
	assert_int_equal(access(buf, X_OK), 0);
}

static char *slurp_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *b = slurp(fd, NULL);
	close(fd);
	return b;
}

static void check_logged(const char *logged, const char *id)
{
	char line[256];
	snprintf(line, sizeof(line), "env CONTAINER_ID=%s\n", id);
	assert_non_null(strstr(logged, line));
	assert_non_null(strstr(logged, "env CONTAINER_NAMESPACE=" NS "\n"));
	/* only those two, as containerd's shim sets cmd.Env */
	assert_non_null(strstr(logged, "n_env 2\n"));
	assert_non_null(strstr(logged, "eof\n"));
}

/* The shim starts the logger with stdout on fd 3 and stderr on fd 4, the
 * URI's query as arguments and CONTAINER_ID/CONTAINER_NAMESPACE; it is
 * gone after delete. binary-v2 waits for the readiness byte. */
static void test_binary_log(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	char logger[PATH_MAX], out[512], uri[PATH_MAX + 1200];
	logger_path(logger, sizeof(logger));
	const char *schemes[2] = {"binary", "binary-v2"};
	for (int k = 0; k < 2; k++) {
		snprintf(out, sizeof(out), "%s/logged-%d.txt", base, k);
		snprintf(uri, sizeof(uri), "%s://%s?out=%s&ready=%s&flag&sp=a+b%%2Fc", schemes[k], logger, out,
			 k ? "byte" : "none");
		const char *id = k ? "binlog-v2" : "binlog";
		ctr_opt *o = ctr_with_log_uri(uri);
		ctr_task *t = must_task(c, id, "[\"sh\",\"-c\",\"echo to-stdout; echo to-stderr >&2\"]", o);
		ctr_opt_free(o);
		json_t *j = io_config(t);
		assert_string_equal(jstr(j, "stdout"), uri);
		assert_string_equal(jstr(j, "stderr"), uri);
		assert_string_equal(jstr(j, "stdin"), "");
		json_decref(j);
		ctr_error *e = NULL;
		assert_int_equal(ctr_task_start(t, &e), 0);
		assert_int_equal(wait_task(t), 0);
		delete_task(t);
		char *logged = slurp_path(out);
		assert_non_null(logged);
		check_logged(logged, id);
		assert_non_null(strstr(logged, "stdout to-stdout\n"));
		assert_non_null(strstr(logged, "stderr to-stderr\n"));
		/* the query's pairs in order, decoded, a bare key with "" */
		char args[1200];
		snprintf(args, sizeof(args), "arg out\narg %s\narg ready\narg %s\narg flag\narg \narg sp\narg a b/c\n",
			 out, k ? "byte" : "none");
		assert_non_null(strstr(logged, args));
		int pid = atoi(strstr(logged, "pid ") + 4);
		assert_true(pid > 0);
		for (int i = 0; i < 100 && pid_alive(pid); i++)
			usleep(10000);
		assert_false(pid_alive(pid));
		free(logged);
	}
	ctr_client_free(c);
}

/* binary-v2 without the byte, and a missing binary: creation fails with
 * the exact error and leaves no task behind. */
static void test_binary_log_failures(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	char logger[PATH_MAX], uri[PATH_MAX + 600];
	logger_path(logger, sizeof(logger));
	snprintf(uri, sizeof(uri), "binary-v2://%s?out=%s/never.txt&ready=none", logger, base);
	ctr_opt *o = ctr_with_log_uri(uri);
	ctr_error *e = NULL;
	int r;
	ctr_task *t = new_task(c, "binlog-noready", "[\"true\"]", o, &e, &r);
	ctr_opt_free(o);
	assert_null(t);
	assert_int_equal(r, CTR_EIO);
	assert_non_null(strstr(ctr_error_message(e), "logging binary did not call ready"));
	ctr_error_free(e);
	e = NULL;
	assert_false(task_dir_exists("binlog-noready"));

	o = ctr_with_log_uri("binary:///nonexistent/logger?x=1");
	t = new_task(c, "binlog-missing", "[\"true\"]", o, &e, &r);
	ctr_opt_free(o);
	assert_null(t);
	assert_int_equal(r, CTR_ENOTFOUND);
	assert_non_null(strstr(ctr_error_message(e), "logging binary /nonexistent/logger: not found"));
	ctr_error_free(e);
	e = NULL;
	assert_false(task_dir_exists("binlog-missing"));

	/* a relative path never reaches the runtime */
	o = ctr_with_log_uri("binary://io-logger");
	t = new_task(c, "binlog-rel", "[\"true\"]", o, &e, &r);
	ctr_opt_free(o);
	assert_int_equal(r, CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "the path must be absolute"));
	ctr_error_free(e);
	assert_false(task_dir_exists("binlog-rel"));
	ctr_client_free(c);
}

/* file:// keeps working, and its config reports the URI. */
static void test_file_log_config(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_client *c = open_client();
	char uri[600], path[512];
	snprintf(path, sizeof(path), "%s/file-log.txt", base);
	snprintf(uri, sizeof(uri), "file://%s", path);
	ctr_opt *o = ctr_with_log_uri(uri);
	ctr_task *t = must_task(c, "filelog", "[\"sh\",\"-c\",\"echo out; echo err >&2\"]", o);
	ctr_opt_free(o);
	json_t *j = io_config(t);
	assert_string_equal(jstr(j, "stdout"), uri);
	assert_string_equal(jstr(j, "stderr"), uri);
	json_decref(j);
	ctr_error *e = NULL;
	/* nothing to attach to */
	struct io io;
	io_init(&io, "");
	ctr_opt *so = ctr_with_stdio_streams(NULL, io_out, NULL, &io);
	assert_int_equal(ctr_task_attach(t, CTR_OPTS(so), &e), CTR_EPRECONDITION);
	assert_non_null(strstr(ctr_error_message(e), "the process's IO is not fifos"));
	ctr_error_free(e);
	e = NULL;
	ctr_opt_free(so);
	assert_int_equal(ctr_task_start(t, &e), 0);
	assert_int_equal(wait_task(t), 0);
	delete_task(t);
	char *logged = slurp_path(path);
	assert_non_null(logged);
	assert_non_null(strstr(logged, "out\n"));
	assert_non_null(strstr(logged, "err\n"));
	free(logged);
	ctr_client_free(c);
}

/* ---- re-attach ---- */

/* Process A creates and starts a task with fifos and exits without ever
 * reading them; process B (this one) loads it, attaches, feeds its stdin
 * and reads its output. */
static void test_attach_other_process(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	char in[512], out[512], err[512], go[512];
	mkfifos("attach", in, out, err, sizeof(in));
	snprintf(go, sizeof(go), "%s/tmp/attach-go", rootfs);
	unlink(go);
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		ctr_client *c = open_client();
		ctr_opt *o = ctr_with_stdio_fifos(in, out, err);
		ctr_error *e = NULL;
		int r;
		/* waits for B to attach, then echoes its stdin */
		ctr_task *t = new_task(c, "attach",
				       "[\"sh\",\"-c\",\"while [ ! -e /tmp/attach-go ]; do sleep 0.05; done; "
				       "echo attached-err >&2; cat\"]",
				       o, &e, &r);
		_exit(r == 0 && ctr_task_start(t, &e) == 0 ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	int th0, fd0;
	ctr_client *c = counted_client(&th0, &fd0);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	assert_int_equal(ctr_task_load(&t, c, "attach", NULL, 0, &e), 0);
	json_t *j = io_config(t);
	assert_string_equal(jstr(j, "stdin"), in);
	assert_string_equal(jstr(j, "stdout"), out);
	assert_string_equal(jstr(j, "stderr"), err);
	json_decref(j);
	struct io io;
	io_init(&io, "read back through the attach\n");
	ctr_opt *o = ctr_with_stdio_streams(io_read, io_out, io_err, &io);
	ctr_opt *term = ctr_with_terminal();
	assert_int_equal(ctr_task_attach(t, CTR_OPTS(o, term), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "takes ctr_with_stdio_streams and no other option"));
	ctr_error_free(e);
	e = NULL;
	ctr_opt_free(term);
	if (ctr_task_attach(t, CTR_OPTS(o), &e) < 0)
		fail_msg("attach: %s", ctr_error_message(e));
	assert_int_equal(ctr_task_attach(t, CTR_OPTS(o), &e), CTR_EBUSY);
	ctr_error_free(e);
	e = NULL;
	ctr_opt_free(o);
	write_file(go, "");
	assert_int_equal(wait_task(t), 0);
	delete_task(t);
	assert_string_equal(io.out.d, "read back through the attach\n");
	assert_string_equal(io.err.d, "attached-err\n");
	assert_int_equal(threads(), th0);
	assert_int_equal(fds(), fd0);
	ctr_client_free(c);
	unlink(go);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_free_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_log_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_log_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_other_process, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
