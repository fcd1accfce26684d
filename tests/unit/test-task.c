/* Task options and the task API's input checks; no root, no runc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "error.h"
#include "runtime.h"
#include "task.h"
#include "fs.h"

static char tmp[256], root[320], state[320];
static ctr_client *client;

static int setup(void **s)
{
	(void)s;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-task-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	assert_int_equal(ctr_client_new(&client, CTR_OPTS(a, b), NULL), 0);
	ctr_opt_free(a);
	ctr_opt_free(b);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	ctr_client_free(client);
	client = NULL;
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static int parse(struct ctr_task_opts *o, ctr_opt *opt, ctr_error **err)
{
	int r = ctr_task_opts_parse(o, NULL, CTR_OPTS(opt), "test", err);
	ctr_opt_free(opt);
	return r;
}

static void test_opts(void **s)
{
	(void)s;
	struct ctr_task_opts o;
	ctr_error *e = NULL;

	assert_int_equal(parse(&o, ctr_with_stdio_fifos("/a/in", NULL, "/a/err"), NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_FIFO);
	assert_string_equal(o.io.stdin_path, "/a/in");
	assert_null(o.io.stdout_path);
	assert_string_equal(o.io.stderr_path, "/a/err");
	ctr_task_opts_clear(&o);

	assert_int_equal(parse(&o, ctr_with_log_uri("file:///var/log/x.log"), NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_FILE);
	assert_string_equal(o.io.log_path, "/var/log/x.log");
	ctr_task_opts_clear(&o);

	assert_int_equal(parse(&o, ctr_with_log_uri("binary:///bin/logger?-n=x"), NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_BINARY);
	assert_string_equal(o.io.log_argv[0], "/bin/logger");
	assert_string_equal(o.io.log_argv[1], "-n");
	assert_string_equal(o.io.log_argv[2], "x");
	assert_null(o.io.log_argv[3]);
	assert_string_equal(o.io.log_uri, "binary:///bin/logger?-n=x");
	ctr_task_opts_clear(&o);
	assert_int_equal(parse(&o, ctr_with_log_uri("syslog:///dev/log"), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "file://"));
	ctr_error_free(e);
	e = NULL;
	assert_int_equal(parse(&o, ctr_with_log_uri("file://relative/x"), NULL), CTR_EINVAL);
	assert_int_equal(parse(&o, ctr_with_stdio_fifos(NULL, "rel/out", NULL), NULL), CTR_EINVAL);
	assert_int_equal(parse(&o, ctr_with_task_runtime(""), NULL), CTR_EINVAL);

	/* terminal combines with any stdio; the last stdio option wins */
	ctr_opt *t = ctr_with_terminal(), *n = ctr_with_stdio_inherit(), *r = ctr_with_task_runtime("crun");
	assert_int_equal(ctr_task_opts_parse(&o, NULL, CTR_OPTS(t, n, r), "test", NULL), 0);
	assert_true(o.io.terminal);
	assert_int_equal(o.io.kind, CTR_RT_IO_INHERIT);
	assert_string_equal(o.runtime, "crun");
	ctr_task_opts_clear(&o);
	ctr_opt_free(t);
	ctr_opt_free(n);
	ctr_opt_free(r);

	/* an option of another kind, and a NULL entry, are refused by name */
	ctr_opt *wrong = ctr_with_root("/x");
	assert_int_equal(ctr_task_opts_parse(&o, NULL, CTR_OPTS(wrong), "new task", &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "ctr_with_root"));
	ctr_error_free(e);
	e = NULL;
	ctr_opt_free(wrong);
	assert_int_equal(ctr_task_opts_parse(&o, NULL, CTR_OPTS(NULL), "new task", NULL), CTR_EINVAL);
}

static bool state_has_tasks(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR, state);
	struct stat st;
	return stat(p, &st) == 0;
}

static void test_load_bad_input(void **s)
{
	(void)s;
	/* A failed load closes no descriptor it does not own (fd 0 here: a
	 * half-made handle once closed its zeroed stream fds). */
	if (fcntl(0, F_GETFD) < 0)
		assert_int_equal(open("/dev/null", O_RDONLY), 0);
	ctr_task *t = NULL;
	assert_int_equal(ctr_task_load(&t, client, "missing", NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_task_load(&t, client, "../etc", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_load(&t, client, ".hidden", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_load(&t, client, "", NULL, 0, NULL), CTR_EINVAL);
	ctr_opt *ns = ctr_with_call_namespace("bad/ns");
	assert_int_equal(ctr_task_load(&t, client, "x", CTR_OPTS(ns), NULL), CTR_EINVAL);
	ctr_opt_free(ns);
	ctr_opt *term = ctr_with_terminal();
	assert_int_equal(ctr_task_load(&t, client, "x", CTR_OPTS(term), NULL), CTR_EINVAL);
	ctr_opt_free(term);
	assert_null(t);
	assert_false(state_has_tasks());
	assert_true(fcntl(0, F_GETFD) >= 0);
}

static void test_new_bundle_bad_input(void **s)
{
	(void)s;
	ctr_task *t = NULL;
	const char *spec = "{\"process\":{\"args\":[\"true\"]}}";
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "a/b", spec, "/", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", "{\"process\":", "/", NULL, 0, NULL),
			 CTR_EINVAL);
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", "{}", "/", NULL, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", spec, "relative", NULL, 0, NULL),
			 CTR_EINVAL);
	/* deeply nested JSON is refused before jansson sees it */
	char deep[400];
	memset(deep, '[', 300);
	deep[300] = 0;
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", deep, "/", NULL, 0, NULL), CTR_EINVAL);
	assert_null(t);
	char p[512];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/default/x", state);
	struct stat st;
	assert_int_equal(stat(p, &st), -1);
	/* A runtime that is not there: CTR_EUNAVAILABLE and nothing left. */
	ctr_opt *rt = ctr_with_task_runtime("/nonexistent/runc");
	setenv("LIBCTR_SHIM", "/nonexistent/libctr-shim", 1);
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", spec, "/", CTR_OPTS(rt), NULL),
			 CTR_EUNAVAILABLE);
	unsetenv("LIBCTR_SHIM");
	ctr_opt_free(rt);
	assert_int_equal(stat(p, &st), -1);
	/* A bad log URI fails at the option: nothing reaches the disk. */
	ctr_opt *lu = ctr_with_log_uri("binary://relative/logger");
	assert_int_equal(ctr_task_new_bundle(&t, client, NULL, "x", spec, "/", CTR_OPTS(lu), NULL), CTR_EINVAL);
	ctr_opt_free(lu);
	assert_int_equal(stat(p, &st), -1);
}

/* Each hostile log URI gets its own exact error, at the option. */
static void test_log_uri_hostile(void **s)
{
	(void)s;
	static const struct {
		const char *uri, *msg;
	} bad[] = {
		{"", "log URI: empty"},
		{"syslog:///dev/log", "unsupported scheme (want file://, binary:// or binary-v2://)"},
		{"binary://logger", "the path must be absolute (scheme:///abs/path)"},
		{"binary://host/bin/logger", "the path must be absolute (scheme:///abs/path)"},
		{"binary://./logger", "the path must be absolute (scheme:///abs/path)"},
		{"file://relative/x", "the path must be absolute (scheme:///abs/path)"},
		{"binary:///bin/../tmp/evil", "\".\" and \"..\" are not allowed in the path"},
		{"binary:///bin/%2e%2e/tmp/evil", "\".\" and \"..\" are not allowed in the path"},
		{"binary:///bin/./logger", "\".\" and \"..\" are not allowed in the path"},
		{"binary:///bin/log%zzger", "bad percent-encoding in the path"},
		{"binary:///bin/logger%", "bad percent-encoding in the path"},
		{"binary:///bin/log%00ger", "a NUL byte in the path"},
		{"binary:///bin/logger?k=%0", "bad percent-encoding in the query"},
		{"binary:///bin/logger?k=a%00", "a NUL byte in the query"},
		{"binary:///bin/logger?=v", "empty query key"},
		{"binary:///bin/logger?a=1&&b=2", "empty query key"},
		{"binary:///bin/logger?a=1&a=2", "query key \"a\" given twice"},
		{"binary:///bin/logger#frag", "a fragment (#) is not allowed"},
		{"binary:///bin/logger\n?x", "control characters are not allowed"},
		{"binary:///", "the path names a directory"},
		{"binary:///bin/", "the path names a directory"},
		{"file:///var/log/x?y=1", "file:// takes no query"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctr_task_opts o;
		ctr_error *e = NULL;
		if (parse(&o, ctr_with_log_uri(bad[i].uri), &e) != CTR_EINVAL)
			fail_msg("%s: not CTR_EINVAL", bad[i].uri);
		if (!strstr(ctr_error_message(e), bad[i].msg))
			fail_msg("%s: %s", bad[i].uri, ctr_error_message(e));
		assert_non_null(strstr(ctr_error_message(e), "ctr_with_log_uri"));
		ctr_error_free(e);
	}
	/* more than 32 arguments */
	char many[2048] = "binary:///bin/logger?";
	for (int i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d=v", i ? "&" : "", i);
	struct ctr_task_opts o;
	ctr_error *e = NULL;
	assert_int_equal(parse(&o, ctr_with_log_uri(many), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "more than 32 query arguments"));
	ctr_error_free(e);
	e = NULL;
	/* too long */
	char *huge = malloc(5000);
	memset(huge, 'a', 4999);
	memcpy(huge, "file:///", 8);
	huge[4999] = 0;
	assert_int_equal(parse(&o, ctr_with_log_uri(huge), &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "longer than 4096 bytes"));
	ctr_error_free(e);
	e = NULL;
	free(huge);

	/* what parses: containerd's NewBinaryCmd argv, binary-v2's flag */
	assert_int_equal(parse(&o, ctr_with_log_uri("binary-v2:///opt/log%20ger?b=&a&c=x+y%26z"), NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_BINARY);
	assert_true(o.io.log_ready_byte);
	const char *want[] = {"/opt/log ger", "b", "", "a", "", "c", "x y&z", NULL};
	for (int i = 0; want[i]; i++)
		assert_string_equal(o.io.log_argv[i], want[i]);
	assert_null(o.io.log_argv[7]);
	ctr_task_opts_clear(&o);
	assert_int_equal(parse(&o, ctr_with_log_uri("binary:///opt/logger?"), NULL), 0);
	assert_string_equal(o.io.log_argv[0], "/opt/logger");
	assert_null(o.io.log_argv[1]);
	assert_false(o.io.log_ready_byte);
	ctr_task_opts_clear(&o);
	/* the last stdio option wins, a log URI included */
	ctr_opt *a = ctr_with_log_uri("binary:///opt/logger"), *b = ctr_with_stdio_null();
	assert_int_equal(ctr_task_opts_parse(&o, NULL, CTR_OPTS(a, b), "test", NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_NULL);
	ctr_task_opts_clear(&o);
	ctr_opt_free(a);
	ctr_opt_free(b);
}

static long no_read(char *buf, size_t len, void *ud)
{
	(void)buf;
	(void)len;
	(void)ud;
	return 0;
}

static int no_write(const char *d, size_t n, void *ud)
{
	(void)d;
	(void)n;
	(void)ud;
	return 0;
}

/* Streams options, and the IO calls' input checks. */
static void test_streams_opts(void **s)
{
	(void)s;
	struct ctr_task_opts o;
	int ud;
	assert_int_equal(parse(&o, ctr_with_stdio_streams(no_read, NULL, no_write, &ud), NULL), 0);
	assert_int_equal(o.io.kind, CTR_RT_IO_STREAMS);
	assert_int_equal(o.io.streams, CTR_RT_STREAM_STDIN | CTR_RT_STREAM_STDERR);
	assert_ptr_equal(o.streams.in, no_read);
	assert_null(o.streams.out);
	assert_ptr_equal(o.streams.err, no_write);
	assert_ptr_equal(o.streams.userdata, &ud);
	ctr_task_opts_clear(&o);
	char *json = NULL;
	assert_int_equal(ctr_task_io(&json, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_process_io(&json, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_attach(NULL, CTR_NO_OPTS, NULL), CTR_EINVAL);
	assert_int_equal(ctr_process_attach(NULL, CTR_NO_OPTS, NULL), CTR_EINVAL);
	assert_null(json);
}

/* The shim is found without $LIBCTR_SHIM: this program runs from the build
 * tree, so the one built there; $LIBCTR_SHIM overrides it, and a missing
 * one is an error naming the path. */
static void test_shim_find(void **s)
{
	(void)s;
	char path[4200], want[4200];
	const char *build = getenv("MESON_BUILD_ROOT");
	assert_non_null(build);
	snprintf(want, sizeof(want), "%s/libctr-shim", build);
	unsetenv("LIBCTR_SHIM");
	assert_int_equal(ctr_rt_shim_find(path, sizeof(path), NULL), 0);
	assert_string_equal(path, want);
	setenv("LIBCTR_SHIM", "/bin/true", 1);
	assert_int_equal(ctr_rt_shim_find(path, sizeof(path), NULL), 0);
	assert_string_equal(path, "/bin/true");
	ctr_error *e = NULL;
	setenv("LIBCTR_SHIM", "/nonexistent/libctr-shim", 1);
	assert_int_equal(ctr_rt_shim_find(path, sizeof(path), &e), CTR_EUNAVAILABLE);
	assert_non_null(strstr(ctr_error_message(e), "LIBCTR_SHIM=/nonexistent/libctr-shim"));
	ctr_error_free(e);
	unsetenv("LIBCTR_SHIM");
}

static void test_null_args(void **s)
{
	(void)s;
	assert_int_equal(ctr_task_start(NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_kill(NULL, 9, CTR_NO_OPTS, NULL), CTR_EINVAL);
	assert_int_equal(ctr_process_start(NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_task_pid(NULL), 0);
	assert_null(ctr_task_id(NULL));
	ctr_task_free(NULL);
	ctr_process_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_opts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_uri_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_opts, setup, teardown),
		cmocka_unit_test(test_shim_find),
		cmocka_unit_test_setup_teardown(test_load_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_bundle_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_args, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
