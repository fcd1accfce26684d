/* The runtime layer for real: busybox bundles run through runc under
 * libctr-shim. Needs root and runc. Every test tears down its containers,
 * shims and state even when it fails (runc delete --force, SIGKILL shims). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include <ctr/ctr.h>

#include "runtime/runtime-priv.h"
#include "task.h"
#include "runtime/shim/proto.h"
#include "util/digest.h"
#include "util/fs.h"

#include <jansson.h>

#define NS "rt-test"

static char base[256], rootfs[320], state[320], fifodir[320];
static const char *fail_reason;

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	char b[65536];
	ssize_t n;
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n)
			break;
	close(in);
	close(out);
	return n == 0 ? 0 : -1;
}

static int group_setup(void **s)
{
	(void)s;
	if (geteuid() != 0) {
		fail_reason = "needs root";
		return 0;
	}
	if (system("runc --version >/dev/null 2>&1") != 0) {
		fail_reason = "needs runc";
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/ctr-rt-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(fifodir, sizeof(fifodir), "%s/fifos", base);
	char p[512];
	assert_int_equal(mkdir(rootfs, 0755), 0);
	assert_int_equal(mkdir(fifodir, 0700), 0);
	const char *dirs[] = {"bin", "proc", "dev", "sys", "tmp", "etc"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", rootfs, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/bin/busybox", rootfs);
	assert_int_equal(copy_file("/bin/busybox", p, 0755), 0);
	const char *apps[] = {"sh", "echo", "cat", "sleep", "tty", "id", "ls", "kill", "head",
			      "seq", "dd", "true", "false", "wc", "sha256sum", "stty"};
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", rootfs, apps[i]);
		assert_int_equal(symlink("busybox", p), 0);
	}
	return 0;
}

/* Kills whatever a test left: shims, runc containers, state. */
static void sweep(void)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/" CTR_RT_DIR "/" NS, state);
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char cmd[4096];
		snprintf(cmd, sizeof(cmd), "runc --root %s/%s/runc delete --force %s >/dev/null 2>&1", p,
			 e->d_name, e->d_name);
		if (system(cmd) != 0) {
		}
		snprintf(cmd, sizeof(cmd),
			 "for f in %s/%s/init/shim.pid %s/%s/exec/*/shim.pid; do [ -f \"$f\" ] && "
			 "kill -9 $(cut -d' ' -f1 \"$f\") 2>/dev/null; done; true",
			 p, e->d_name, p, e->d_name);
		if (system(cmd) != 0) {
		}
	}
	closedir(d);
	ctr_rm_rf_at(AT_FDCWD, state, NULL);
}

static int group_teardown(void **s)
{
	(void)s;
	if (!base[0])
		return 0;
	sweep();
	ctr_rm_rf_at(AT_FDCWD, base, NULL);
	/* runc removes each container's cgroup, not the parent the specs
	 * name; it is empty by now */
	if (system("rmdir /sys/fs/cgroup/*/libctr-test /sys/fs/cgroup/libctr-test 2>/dev/null; true") != 0) {
	}
	return 0;
}

static int setup(void **s)
{
	(void)s;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	if (base[0])
		sweep();
	return 0;
}

#define SKIP_IF_NEEDED()                                                    \
	do {                                                                \
		if (fail_reason) {                                          \
			printf("SKIP: %s\n", fail_reason);                  \
			skip();                                             \
		}                                                           \
	} while (0)

/* A minimal spec modelled on `runc spec`. args_json is a JSON array. */
static char *spec(const char *id, const char *args_json, const char *cwd)
{
	char *s = NULL;
	int n = asprintf(&s,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
		"\"args\":%s,\"env\":[\"PATH=/bin\",\"TERM=xterm\"],\"cwd\":\"%s\","
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_AUDIT_WRITE\"],\"effective\":[\"CAP_KILL\","
		"\"CAP_AUDIT_WRITE\"],\"permitted\":[\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]},"
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
		"\"root\":{\"path\":\"rootfs\",\"readonly\":false},\"hostname\":\"%s\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
		"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
		"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],"
		"\"linux\":{\"cgroupsPath\":\"/libctr-test/%s\",\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
		"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
		"\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\"],\"readonlyPaths\":[\"/proc/sys\",\"/proc/sysrq-trigger\"]}}",
		args_json, cwd ? cwd : "/", id, id);
	assert_true(n > 0);
	return s;
}

static void mkfifos(const char *id, char *in, char *out, char *err, size_t len)
{
	snprintf(in, len, "%s/%s.in", fifodir, id);
	snprintf(out, len, "%s/%s.out", fifodir, id);
	snprintf(err, len, "%s/%s.err", fifodir, id);
}

static int create(ctr_rt_task **t, const char *id, const char *args_json, const struct ctr_rt_io *io,
		  const char *cwd, ctr_error **err)
{
	char *s = spec(id, args_json, cwd);
	char *dir = NULL;
	int r = ctr_rt_bundle_prepare(&dir, state, NS, id, s, rootfs, io && io->terminal, err);
	free(s);
	free(dir);
	if (r < 0)
		return r;
	return ctr_rt_create(t, state, NS, id, io, NULL, err);
}

static ctr_rt_task *run(const char *id, const char *args_json, const struct ctr_rt_io *io)
{
	ctr_rt_task *t = NULL;
	ctr_error *e = NULL;
	int r = create(&t, id, args_json, io, NULL, &e);
	if (r < 0)
		fail_msg("create %s: %s", id, ctr_error_message(e));
	r = ctr_rt_start(t, &e);
	if (r < 0)
		fail_msg("start %s: %s", id, ctr_error_message(e));
	return t;
}

static uint32_t wait_exit(ctr_rt_proc *p)
{
	struct ctr_rt_exit ex;
	ctr_error *e = NULL;
	int r = ctr_rt_proc_wait(p, 30000, &ex, &e);
	if (r < 0)
		fail_msg("wait: %s", ctr_error_message(e));
	return ex.status;
}

/* Alive and not a zombie: this machine's pid 1 is slow to reap orphans. */
static bool pid_alive(pid_t pid)
{
	char p[64], b[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return false;
	b[n] = 0;
	char *s = strrchr(b, ')');
	return s && s[1] == ' ' && s[2] != 'Z' && s[2] != 'X';
}

/* Reads the fifo until EOF into a malloc'd buffer. */
static char *slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (n + 4096 > cap)
			b = realloc(b, cap *= 2);
		ssize_t k = read(fd, b + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	b[n] = 0;
	if (len)
		*len = n;
	return b;
}

static int open_reader(const char *path)
{
	/* The reader must exist before the shim opens its side: O_NONBLOCK
	 * so open returns, then blocking reads (the shim holds the writer). */
	assert_true(mkfifo(path, 0600) == 0 || errno == EEXIST);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void blocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

static void delete_and_check_gone(ctr_rt_task *t)
{
	pid_t shim = ctr_rt_task_init(t)->shim_pid;
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", ctr_rt_task_dir(t));
	ctr_error *e = NULL;
	struct ctr_rt_exit ex;
	int r = ctr_rt_delete(t, true, &ex, &e);
	if (r < 0)
		fail_msg("delete: %s", ctr_error_message(e));
	ctr_rt_task_free(t);
	/* The shim was not our child: it may linger as nobody's zombie for a
	 * moment; give it up to a second to vanish. */
	for (int i = 0; i < 100 && pid_alive(shim); i++)
		usleep(10000);
	assert_false(pid_alive(shim));
	struct stat st;
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_exit_code(void **s)
{
	(void)s;
	SKIP_IF_NEEDED();
	ctr_rt_task *t = run("exit7", "[\"sh\",\"-c\",\"exit 7\"]", NULL);
	assert_int_equal(wait_exit(ctr_rt_task_init(t)), 7);
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
static void read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t k = read(fd, buf + n, 1);
		if (k <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
}

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
	ctr_client *c = NULL;
	ctr_opt *o1 = ctr_with_root(base), *o2 = ctr_with_state(state), *o3 = ctr_with_namespace(NS);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2, o3), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
	ctr_task *t = NULL;
	ctr_error *e = NULL;
	if (ctr_task_load(&t, c, "hostdies", NULL, 0, &e) < 0)
		fail_msg("load: %s", ctr_error_message(e));
	assert_true(ctr_task_pid(t) > 0);
	uint32_t code = 0;
	uint64_t at = 0;
	if (ctr_task_wait(t, 30000, &code, &at, &e) < 0)
		fail_msg("wait: %s", ctr_error_message(e));
	assert_int_equal(code, 9);
	assert_true(at > 0);
	pid_t shim = ctr_rt_task_init(t->rt)->shim_pid;
	assert_int_equal(ctr_task_delete(t, 0, &code, NULL), 0);
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
	ctr_client *c = NULL;
	ctr_opt *o1 = ctr_with_root(base), *o2 = ctr_with_state(state), *o3 = ctr_with_namespace(NS);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2, o3), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
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
	assert_int_equal(ctr_task_status(t, &st, NULL, NULL), 0);
	assert_int_equal(st, CTR_TASK_CREATED);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	assert_int_equal(ctr_task_start(t, NULL), CTR_EPRECONDITION);
	assert_true(ctr_task_pid(t) > 0);
	assert_int_equal(ctr_task_status(t, &st, NULL, NULL), 0);
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
	assert_int_equal(ctr_process_wait(p, 30000, &code, NULL, NULL), 0);
	assert_int_equal(code, 4);
	assert_int_equal(ctr_process_status(p, &st, &code, NULL), 0);
	assert_int_equal(st, CTR_TASK_STOPPED);
	assert_int_equal(ctr_process_delete(p, &code, NULL), 0);
	assert_int_equal(code, 4);
	ctr_process_free(p);

	uint32_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(ctr_task_pids(t, &pids, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], ctr_task_pid(t));
	ctr_free(pids);
	assert_int_equal(ctr_task_wait(t, 100, &code, NULL, NULL), CTR_ETIMEOUT);
	assert_int_equal(ctr_task_delete(t, 0, NULL, NULL), CTR_EPRECONDITION);
	/* EOF on stdin ends `read x` */
	assert_int_equal(ctr_task_close_io(t, NULL), 0);
	assert_int_equal(ctr_task_wait(t, 30000, &code, NULL, NULL), 0);
	assert_int_equal(code, 5);
	assert_int_equal(ctr_task_kill(t, SIGTERM, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_task_delete(t, 0, &code, NULL), 0);
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
	if (ctr_client_subscribe(&sub, c, filters, 1, CTR_OPTS(rp), &e) < 0)
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
	assert_int_equal(exits, 2);
	ctr_subscription_free(sub);
	ctr_opt_free(rp);
	free(j);
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
		 * fifo, the caller's fifos, pipes to the container */
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
		cmocka_unit_test_setup_teardown(test_exit_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdio_10mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_trap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_all_and_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal_resize_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_stdio_reaches_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cwd_leaked_fd_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
