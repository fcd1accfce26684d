/* Introspection: the root's UUID (made once, the same in every process,
 * one UUID after a race, a corrupt file refused and left as it was) and the
 * plugin list (built-in and registered snapshotters, runtimes with their
 * versions, criu's own message when `criu check` fails), with fake tools on
 * PATH so the result does not depend on the machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>
#include <ctr/sys/error.h>
#include <ctr/sys/snapshotter.h>

#include "fs.h"

static char tmp[64], root[128], state[128];

static int setup(void **st)
{
	(void)st;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-introspect-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

static ctr_client *client(void)
{
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	ctr_client *c = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	ctr_opt_free(a);
	ctr_opt_free(b);
	return c;
}

static void uuid_of(char out[40])
{
	ctr_client *c = client();
	ctr_server_info *i = NULL;
	assert_int_equal(ctr_server_info_get(&i, c, NULL, 0, NULL), 0);
	snprintf(out, 40, "%s", ctr_server_info_uuid(i));
	ctr_server_info_free(i);
	ctr_client_free(c);
}

static void test_uuid(void **st)
{
	(void)st;
	char a[40], b[40];
	uuid_of(a);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	uuid_of(b);
	assert_string_equal(a, b);
	/* Another process reads the same one. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c[40];
		uuid_of(c);
		_exit(write(p[1], c, 36) == 36 ? 0 : 1);
	}
	close(p[1]);
	char got[40] = {0};
	assert_int_equal(read(p[0], got, 36), 36);
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	assert_string_equal(got, a);
	/* An option of another kind is refused. */
	ctr_client *c = client();
	ctr_opt *o = ctr_with_root("/x");
	ctr_server_info *i = NULL;
	assert_int_equal(ctr_server_info_get(&i, c, CTR_OPTS(o), NULL), CTR_EINVAL);
	ctr_plugin **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_plugin_list(&v, &n, c, CTR_OPTS(o), NULL), CTR_EINVAL);
	assert_null(i);
	assert_null(v);
	ctr_opt_free(o);
	ctr_client_free(c);
}

static void test_uuid_race(void **st)
{
	(void)st;
	enum { N = 8 };
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pids[N];
	for (int k = 0; k < N; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			char c[40];
			uuid_of(c);
			_exit(write(p[1], c, 36) == 36 ? 0 : 1);
		}
	}
	close(p[1]);
	char first[40] = {0}, got[40] = {0};
	for (int k = 0; k < N; k++) {
		memset(got, 0, sizeof(got));
		assert_int_equal(read(p[0], got, 36), 36);
		if (k == 0)
			memcpy(first, got, sizeof(got));
		assert_string_equal(got, first);
	}
	close(p[0]);
	for (int k = 0; k < N; k++) {
		int status;
		waitpid(pids[k], &status, 0);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	char now[40];
	uuid_of(now);
	assert_string_equal(now, first);
	/* No temporary file is left. */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q uuid.new", root);
	assert_int_not_equal(system(cmd), 0);
}

static void test_uuid_corrupt(void **st)
{
	(void)st;
	ctr_client *c = client();
	char path[300];
	snprintf(path, sizeof(path), "%s/uuid", root);
	const char *junk = "not-a-uuid-at-all-but-36-chars-long!\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, strlen(junk)), (ssize_t)strlen(junk));
	close(fd);
	ctr_server_info *i = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_server_info_get(&i, c, NULL, 0, &err), CTR_EIO);
	assert_non_null(strstr(ctr_error_message(err), "does not hold a UUID"));
	ctr_error_free(err);
	assert_null(i);
	char *s = NULL;
	size_t len = 0;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(ctr_read_file(dfd, "uuid", 100, &s, &len, NULL), 0);
	close(dfd);
	assert_string_equal(s, junk);
	free(s);
	ctr_client_free(c);
}

static void fake_tool(const char *dir, const char *name, const char *script)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", script);
	fclose(f);
	chmod(p, 0755);
}

static const ctr_plugin *find(ctr_plugin **v, size_t n, const char *type, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ctr_plugin_type(v[i]), type) && !strcmp(ctr_plugin_id(v[i]), id))
			return v[i];
	return NULL;
}

static int m_prepare(ctr_mount_list **o, void *s, const char *k, const char *p, const char *const *l,
		     ctr_error **e)
{
	(void)o, (void)s, (void)k, (void)p, (void)l;
	return ctr_error_set(e, CTR_ENOTSUP, 0, "unused");
}
static int m_mounts(ctr_mount_list **o, void *s, const char *k, ctr_error **e)
{
	(void)o, (void)s, (void)k;
	return ctr_error_set(e, CTR_ENOTSUP, 0, "unused");
}
static int m_commit(void *s, const char *n, const char *k, const char *const *l, ctr_error **e)
{
	(void)s, (void)n, (void)k, (void)l;
	return ctr_error_set(e, CTR_ENOTSUP, 0, "unused");
}
static int m_remove(void *s, const char *k, ctr_error **e)
{
	(void)s, (void)k;
	return ctr_error_set(e, CTR_ENOTSUP, 0, "unused");
}
static int m_stat(ctr_snapshot_info **o, void *s, const char *k, ctr_error **e)
{
	(void)o, (void)s, (void)k;
	return ctr_error_set(e, CTR_ENOTFOUND, 0, "unused");
}
static int m_walk(void *s, int (*fn)(const ctr_snapshot_info *, void *), void *ud, ctr_error **e)
{
	(void)s, (void)fn, (void)ud, (void)e;
	return 0;
}

static void test_plugins(void **st)
{
	(void)st;
	char bin[300];
	snprintf(bin, sizeof(bin), "%s/bin", tmp);
	assert_int_equal(mkdir(bin, 0755), 0);
	fake_tool(bin, "runc", "echo 'runc version 1.2.3'; echo 'spec: 1.0.2'");
	fake_tool(bin, "criu", "echo 'Error (criu/kerndat.c:1): no vdso here' >&2; exit 1");
	/* no crun */
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	setenv("PATH", bin, 1);
	ctr_client *c = client();
	struct ctr_snapshotter_vtable vt = {
		.version = CTR_SNAPSHOTTER_VTABLE_VERSION, .prepare = m_prepare, .view = m_prepare,
		.mounts = m_mounts, .commit = m_commit, .remove = m_remove, .stat = m_stat, .walk = m_walk,
	};
	int self = 0;
	assert_int_equal(ctr_snapshotter_register(c, "appsnap", &vt, &self, NULL), 0);
	ctr_plugin **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_plugin_list(&v, &n, c, NULL, 0, NULL), 0);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	const char *snap = "io.containerd.snapshotter.v1", *rt = "io.containerd.runtime.v2";
	/* The built-ins in the table's order, then the registered one. */
	assert_string_equal(ctr_plugin_id(v[0]), "overlayfs");
	assert_string_equal(ctr_plugin_id(v[1]), "native");
	assert_string_equal(ctr_plugin_id(v[2]), "btrfs");
	const ctr_plugin *p = find(v, n, snap, "native");
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_OK);
	assert_null(ctr_plugin_reason(p));
	assert_non_null(ctr_plugin_platforms(p)[0]);
	assert_non_null(strstr(ctr_plugin_platforms(p)[0], "linux/"));
	p = find(v, n, snap, "btrfs");
	struct statfs sf;
	assert_int_equal(statfs(tmp, &sf), 0);
	if ((unsigned long)sf.f_type != 0x9123683eUL) {
		assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_SKIP);
		char want[300];
		snprintf(want, sizeof(want), "%s/snapshots/btrfs is not on btrfs (filesystem type 0x", root);
		assert_non_null(strstr(ctr_plugin_reason(p), want));
	}
	/* Checking creates nothing for a snapshotter. */
	char d[300];
	snprintf(d, sizeof(d), "%s/snapshots/btrfs", root);
	assert_int_equal(access(d, F_OK), -1);
	/* erofs's probe (an image mounted where root can mount) leaves none */
	assert_non_null(find(v, n, snap, "erofs"));
	snprintf(d, sizeof(d), "%s/snapshots/erofs", root);
	assert_int_equal(access(d, F_OK), -1);
	snprintf(d, sizeof(d), "%s/snapshots", root);
	assert_int_equal(access(d, F_OK), -1);
	p = find(v, n, snap, "appsnap");
	assert_non_null(p);
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_OK);
	p = find(v, n, rt, "runc");
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_OK);
	assert_string_equal(ctr_plugin_version(p), "1.2.3");
	p = find(v, n, rt, "crun");
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_SKIP);
	assert_string_equal(ctr_plugin_reason(p), "crun: not found on PATH: No such file or directory");
	p = find(v, n, "io.containerd.differ.v1", "walking");
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_OK);
	p = find(v, n, "io.containerd.checkpoint.v1", "criu");
	assert_int_equal(ctr_plugin_status(p), CTR_PLUGIN_SKIP);
	assert_string_equal(ctr_plugin_reason(p), "criu check: exit status 1: Error (criu/kerndat.c:1): no vdso here");
	assert_null(ctr_plugin_platforms(p)[0]);
	ctr_plugin_list_free(v, n);
	ctr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uuid_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uuid_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
