/* A container create killed between its snapshot prepare and its record
 * leaves a snapshot that only its temporary lease holds. The same create
 * run again removes it and succeeds when that lease's creator is dead,
 * and fails with CTR_EEXISTS, changing nothing, while the creator lives
 * or while anything else holds the snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "container-cfg.h"
#include "client-blob.h"
#include "digest.h"
#include "fs.h"
#include "proc.h"
#include "snapshots.h"

#define NS "nsa"
static char tmp[256], root[300], st[300];
static ctr_client *c;
static ctr_image *img;
static char chain[80];

static ctr_client *open_client(void)
{
	ctr_client *k = NULL;
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(st), *o3 = ctr_with_namespace(NS);
	int r = ctr_client_new(&k, CTR_OPTS(o1, o2, o3), NULL);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	ctr_opt_free(o3);
	return r == 0 ? k : NULL;
}

static void write_blob(const char *data, char *digest)
{
	client_write_blob(c, data, digest);
}

/* An image of one layer whose chain (its diff_id) is committed in the
 * native snapshotter: what a container's new snapshot stacks on. */
static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-clease-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	assert_non_null(c = open_client());
	char layer[80], cfgd[80], man[80], cfg[512], buf[1024];
	write_blob("layer bytes", layer);
	snprintf(chain, sizeof(chain), "sha256:%064x", 7);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 chain);
	write_blob(cfg, cfgd);
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":11}]}",
		 cfgd, strlen(cfg), layer);
	write_blob(buf, man);
	assert_int_equal(ctr_image_create(&img, c, "example.com/lease:1", "application/vnd.oci.image.manifest.v1+json",
					  man, (int64_t)strlen(buf), NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_prepare(NULL, c, "native", "base-tmp", NULL, NULL, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_snapshot_commit(c, "native", chain, "base-tmp", NULL, CTR_NO_OPTS, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctr_image_free(img);
	img = NULL;
	ctr_client_free(c);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

/* What a create does before its record, in this process: its temporary
 * lease, then the snapshot under it. */
static void half_create(ctr_client *k, const char *key)
{
	char *lease = NULL;
	assert_int_equal(ctr_container_lease_create(&lease, k, NS, "native", key, NULL), 0);
	const struct ctr_call call = {.ns = NS, .lease = lease};
	assert_int_equal(ctr_snapshots_prepare(NULL, k, "native", key, chain, NULL, false, &call, NULL), 0);
	free(lease);
}

/* The same in a child that is then killed, as lctr was in the crash test
 * (CRASH_SEED=28702, kill 29). */
static void half_create_killed(const char *key)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ctr_client *k = open_client();
		char *lease = NULL;
		if (!k || ctr_container_lease_create(&lease, k, NS, "native", key, NULL) < 0)
			_exit(1);
		const struct ctr_call call = {.ns = NS, .lease = lease};
		if (ctr_snapshots_prepare(NULL, k, "native", key, chain, NULL, false, &call, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static int create(const char *id, const char *key, ctr_error **err)
{
	ctr_opt *sn = ctr_with_snapshotter("native"), *ns = ctr_with_new_snapshot(key, img);
	ctr_container *k = NULL;
	int r = ctr_container_new(&k, c, id, CTR_OPTS(sn, ns), err);
	ctr_opt_free(sn);
	ctr_opt_free(ns);
	ctr_container_free(k);
	return r;
}

static size_t n_leases(void)
{
	ctr_lease **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_lease_list(&v, &n, c, NULL, 0, CTR_NO_OPTS, NULL), 0);
	ctr_lease_list_free(v, n);
	return n;
}

static bool snapshot_exists(const char *key)
{
	ctr_snapshot_info *i = NULL;
	int r = ctr_snapshot_stat(&i, c, "native", key, CTR_NO_OPTS, NULL);
	ctr_snapshot_info_free(i);
	return r == 0;
}

static size_t n_snapshot_dirs(void)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/snapshots/native/snapshots", root);
	size_t n = 0;
	DIR *d = opendir(p);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void expect_exists(const char *id, const char *key)
{
	size_t leases = n_leases(), dirs = n_snapshot_dirs();
	ctr_error *err = NULL;
	assert_int_equal(create(id, key, &err), CTR_EEXISTS);
	char want[128];
	snprintf(want, sizeof(want), "snapshot prepare %s: already exists", key);
	if (!strstr(ctr_error_message(err), want))
		fail_msg("error: %s", ctr_error_message(err));
	ctr_error_free(err);
	assert_true(snapshot_exists(key));
	assert_int_equal(n_leases(), leases);
	assert_int_equal(n_snapshot_dirs(), dirs);
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_load(&k, c, id, CTR_NO_OPTS, NULL), CTR_ENOTFOUND);
}

/* The crash test's case: the creator was killed after the prepare. */
static void test_dead_creator(void **state)
{
	(void)state;
	half_create_killed("c1");
	assert_true(snapshot_exists("c1"));
	assert_int_equal(n_leases(), 1);
	ctr_error *err = NULL;
	if (create("c1", "c1", &err) < 0)
		fail_msg("retry: %s", ctr_error_message(err));
	assert_int_equal(n_leases(), 0); /* the dead one's and ours */
	assert_true(snapshot_exists("c1"));
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_load(&k, c, "c1", CTR_NO_OPTS, NULL), 0);
	assert_string_equal(ctr_container_snapshot_key(k), "c1");
	ctr_container_free(k);
}

/* Killed between the snapshotter's prepare and the namespace's record:
 * the snapshotter has the entry, no record names it. */
static void test_dead_creator_before_record(void **state)
{
	(void)state;
	half_create_killed("c2");
	ctr_client_free(c);
	char db[400];
	snprintf(db, sizeof(db), "%s/meta.db", root);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "DELETE FROM lease_resources; DELETE FROM snapshots WHERE key = 'c2'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_non_null(c = open_client());
	assert_false(snapshot_exists("c2"));
	size_t dirs = n_snapshot_dirs();
	ctr_error *err = NULL;
	if (create("c2", "c2", &err) < 0)
		fail_msg("retry: %s", ctr_error_message(err));
	assert_true(snapshot_exists("c2"));
	assert_int_equal(n_snapshot_dirs(), dirs); /* the old entry went, a new one came */
	assert_int_equal(n_leases(), 0);
}

/* A create in progress in another process keeps its snapshot; once that
 * process is gone the same create succeeds. */
static void test_live_creator_elsewhere(void **state)
{
	(void)state;
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		ctr_client *k = open_client();
		char *lease = NULL;
		if (!k || ctr_container_lease_create(&lease, k, NS, "native", "c3", NULL) < 0)
			_exit(1);
		const struct ctr_call call = {.ns = NS, .lease = lease};
		if (ctr_snapshots_prepare(NULL, k, "native", "c3", chain, NULL, false, &call, NULL) < 0)
			_exit(1);
		char b = 1;
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	close(ready[1]);
	close(go[0]);
	char b = 0;
	assert_int_equal(read(ready[0], &b, 1), 1);
	expect_exists("c3", "c3");
	assert_int_equal(write(go[1], &b, 1), 1);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	close(go[1]);
	assert_int_equal(create("c3", "c3", NULL), 0);
}

/* This process is the creator (another thread's create in progress). */
static void test_live_creator_here(void **state)
{
	(void)state;
	half_create(c, "c4");
	expect_exists("c4", "c4");
}

/* A dead creator's snapshot that something else holds stays: another
 * lease, or a container that uses it. */
static void test_held_elsewhere(void **state)
{
	(void)state;
	half_create_killed("c5");
	ctr_lease *l = NULL;
	assert_int_equal(ctr_lease_create(&l, c, CTR_NO_OPTS, NULL), 0);
	assert_int_equal(ctr_lease_add_resource(c, ctr_lease_id(l), "snapshots/native", "c5", CTR_NO_OPTS, NULL), 0);
	expect_exists("c5", "c5");
	ctr_lease_free(l);

	half_create_killed("c6");
	ctr_opt *sn = ctr_with_snapshotter("native"), *ex = ctr_with_snapshot("c6");
	assert_int_equal(ctr_container_new(NULL, c, "user", CTR_OPTS(sn, ex), NULL), 0);
	ctr_opt_free(sn);
	ctr_opt_free(ex);
	expect_exists("c6", "c6");
}

/* Which creators count as gone. */
static void test_creator_gone(void **state)
{
	(void)state;
	char me[CTR_PROC_CREATOR_MAX], v[CTR_PROC_CREATOR_MAX + 8];
	assert_int_equal(ctr_proc_creator(me, sizeof(me)), 0);
	assert_false(ctr_proc_creator_gone(me));
	char boot[40];
	unsigned long long ns = 0, start = 0;
	int pid = 0;
	assert_int_equal(sscanf(me, "%39[0-9a-f]:%llu:%d:%llu", boot, &ns, &pid, &start), 4);
	assert_int_equal(pid, getpid());
	assert_true(start == ctr_proc_starttime(getpid()));
	/* a later process with our pid */
	snprintf(v, sizeof(v), "%s:%llu:%d:%llu", boot, ns, pid, start + 1);
	assert_true(ctr_proc_creator_gone(v));
	/* an earlier boot */
	snprintf(v, sizeof(v), "%s:%llu:%d:%llu", "0123456789abcdef0123456789abcdef", ns, pid, start);
	assert_true(ctr_proc_creator_gone(v));
	/* another pid namespace: cannot tell, so alive */
	snprintf(v, sizeof(v), "%s:%llu:%d:%llu", boot, ns + 1, pid, start + 1);
	assert_false(ctr_proc_creator_gone(v));
	/* values that do not parse: alive */
	const char *bad[] = {"", "x", "abc:1:2", "abc:1:0:5", "abc:1:-4:5", "abc:1:2:3:4", "ABC:1:2:3", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_false(ctr_proc_creator_gone(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dead_creator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_creator_before_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_creator_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_creator_here, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_elsewhere, setup, teardown),
		cmocka_unit_test(test_creator_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
