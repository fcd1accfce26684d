/* Shared fixture of the runtime integration tests: a busybox rootfs in a
 * temp dir, a minimal runc-style spec, fifo helpers, and a teardown that
 * kills whatever a failed test left (runc delete --force, SIGKILL shims,
 * state and cgroups removed). */
#ifndef CTR_TEST_RUNTIME_FIXTURE_H
#define CTR_TEST_RUNTIME_FIXTURE_H

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

#include "runtime-priv.h"
#include "task.h"
#include "proto.h"
#include "digest.h"
#include "fs.h"

#include <jansson.h>

#define NS "rt-test"

static char base[256], rootfs[320], state[320], fifodir[320];
static const char *fail_reason;

static __attribute__((unused)) void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static __attribute__((unused)) int copy_file(const char *from, const char *to, mode_t mode)
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

static __attribute__((unused)) int group_setup(void **s)
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
static __attribute__((unused)) void sweep(void)
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

static __attribute__((unused)) int group_teardown(void **s)
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

static __attribute__((unused)) int setup(void **s)
{
	(void)s;
	return 0;
}

static __attribute__((unused)) int teardown(void **s)
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
static __attribute__((unused)) char *spec(const char *id, const char *args_json, const char *cwd)
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

static __attribute__((unused)) void mkfifos(const char *id, char *in, char *out, char *err, size_t len)
{
	snprintf(in, len, "%s/%s.in", fifodir, id);
	snprintf(out, len, "%s/%s.out", fifodir, id);
	snprintf(err, len, "%s/%s.err", fifodir, id);
}

static __attribute__((unused)) int create(ctr_rt_task **t, const char *id, const char *args_json, const struct ctr_rt_io *io,
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

static __attribute__((unused)) ctr_rt_task *run(const char *id, const char *args_json, const struct ctr_rt_io *io)
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

static __attribute__((unused)) uint32_t wait_exit(ctr_rt_proc *p)
{
	struct ctr_rt_exit ex;
	ctr_error *e = NULL;
	int r = ctr_rt_proc_wait(p, 30000, &ex, &e);
	if (r < 0)
		fail_msg("wait: %s", ctr_error_message(e));
	return ex.status;
}

/* A client on the fixture's root and state, in its namespace. */
static __attribute__((unused)) ctr_client *open_client(void)
{
	ctr_client *c = NULL;
	ctr_opt *o1 = ctr_with_root(base), *o2 = ctr_with_state(state), *o3 = ctr_with_namespace(NS);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(o1, o2, o3), NULL), 0);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
	return c;
}

/* Alive and not a zombie: this machine's pid 1 is slow to reap orphans. */
static __attribute__((unused)) bool pid_alive(pid_t pid)
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
static __attribute__((unused)) char *slurp(int fd, size_t *len)
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

static __attribute__((unused)) int open_reader(const char *path)
{
	/* The reader must exist before the shim opens its side: O_NONBLOCK
	 * so open returns, then blocking reads (the shim holds the writer). */
	assert_true(mkfifo(path, 0600) == 0 || errno == EEXIST);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static __attribute__((unused)) void blocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

static __attribute__((unused)) void delete_and_check_gone(ctr_rt_task *t)
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

static __attribute__((unused)) void read_line(int fd, char *buf, size_t len)
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

#endif
