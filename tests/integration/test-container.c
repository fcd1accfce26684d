/* Containers through the public API, at the container level (the spec
 * generator itself is covered by tests/unit/test-spec*.c):
 *  - a container made with ctr_with_new_spec(ctr_with_image_config())
 *    has the image's env/args/cwd/user and otherwise containerd's default
 *    spec (the `ctr oci spec` fixture);
 *  - a user name resolves from the container's own snapshot (and a task
 *    from that snapshot runs as that user);
 *  - an image record whose unpacked snapshot is made here (the unpack
 *    pipeline is elsewhere) runs through ctr_with_new_snapshot and through
 *    `lctr run IMAGE`, with the image's env, cwd and user (resolved in the
 *    image's /etc/passwd) and snapshot cleanup;
 *  - ctr_with_rootfs_path runs a snapshot-less container on a host
 *    directory, nothing leaks into it, and a working directory through
 *    /proc/self/fd does not start and leaves nothing behind;
 *  - a container with ctr_with_seccomp_profile cannot mkdir where the
 *    profile refuses it, and can without it;
 *  - ctr_with_task_volatile_rootfs mounts the snapshot's overlay volatile,
 *    exec refuses it, and after the task's delete the snapshot mounts
 *    again (plain) with nothing of the volatile marker left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "config.h"
#include "platforms.h"
#include "digest.h"
#include "test-files.h"

static char base[128], rootfs[192];
static ctr_client *cl;

#include "image-fixture.h"
static const char *skip_reason;

static int group_setup(void **s)
{
	(void)s;
	if (geteuid() != 0 || system("runc --version >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0) {
		skip_reason = "needs root, runc and busybox-static";
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/ctr-container-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	make_busybox(rootfs);
	char root[192], state[192];
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(state, sizeof(state), "%s/state", base);
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(state)};
	assert_int_equal(ctr_client_new(&cl, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	return 0;
}

#include "client-sweep.h"

static json_t *load_fixture(void)
{
	const char *src = getenv("MESON_SOURCE_ROOT");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/containerd-default-spec.json", src ? src : ".");
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char image_config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
	"\"Env\":[\"PATH=/opt/bin:/usr/bin:/bin\",\"LANG=C.UTF-8\"],"
	"\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
	"\"WorkingDir\":\"/srv\",\"User\":\"1000:1001\",\"StopSignal\":\"SIGQUIT\"},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

/* The image's env/args/cwd/user, and field for field containerd's default
 * spec otherwise (cgroupsPath names the container; maskedPaths has the
 * later powercap entry, see test-spec.c). */
static void test_spec_from_image_config(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_opt *so[] = {ctr_with_image_config(image_config)};
	ctr_opt *co[] = {ctr_with_new_spec((const ctr_opt *const *)so, 1)};
	ctr_container *k = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new(&k, cl, "spec1", (const ctr_opt *const *)co, 1, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	ctr_opt_free(co[0]);
	ctr_opt_free(so[0]);
	json_t *got = json_loads(ctr_container_spec(k), 0, NULL);
	assert_non_null(got);

	json_t *want = load_fixture();
	json_t *proc = json_object_get(want, "process");
	json_object_set_new(proc, "env", json_pack("[s,s]", "PATH=/opt/bin:/usr/bin:/bin", "LANG=C.UTF-8"));
	json_object_set_new(proc, "args", json_pack("[s,s,s]", "/bin/sh", "-c", "echo hi"));
	json_object_set_new(proc, "cwd", json_string("/srv"));
	json_object_set_new(proc, "user", json_pack("{s:i,s:i,s:[i]}", "uid", 1000, "gid", 1001, "additionalGids", 1001));
	json_t *lin = json_object_get(want, "linux");
	json_object_set_new(lin, "cgroupsPath", json_string("/default/spec1"));
	json_object_set(lin, "maskedPaths", json_object_get(json_object_get(got, "linux"), "maskedPaths"));
	if (!json_equal(got, want)) {
		char *a = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS), *b = json_dumps(want, JSON_INDENT(1) | JSON_SORT_KEYS);
		print_message("got:\n%s\nwant:\n%s\n", a, b);
		free(a);
		free(b);
	}
	assert_true(json_equal(got, want));
	/* the powercap entry is the only masked path beyond the fixture's */
	json_t *fx = load_fixture();
	assert_int_equal(json_array_size(json_object_get(json_object_get(got, "linux"), "maskedPaths")),
			 json_array_size(json_object_get(json_object_get(fx, "linux"), "maskedPaths")) + 1);
	json_decref(fx);
	json_decref(got);
	json_decref(want);
	ctr_container_free(k);
}

static void run_logged(ctr_container *k, const char *log, uint32_t *status)
{
	char uri[512];
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *to = ctr_with_log_uri(uri);
	ctr_task *t = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new_task(&t, k, (const ctr_opt *const *)&to, 1, &err);
	ctr_opt_free(to);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	/* The task's spec is the container's. */
	char *tspec = NULL;
	assert_int_equal(ctr_task_spec(&tspec, t, NULL), 0);
	json_t *a = json_loads(tspec, 0, NULL), *b = json_loads(ctr_container_spec(k), 0, NULL);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "process"), "cwd")),
			    json_string_value(json_object_get(json_object_get(b, "process"), "cwd")));
	json_decref(a);
	json_decref(b);
	ctr_free(tspec);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	assert_int_equal(ctr_task_wait(status, NULL, t, 20000, NULL), 0);
	assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), 0);
	ctr_task_free(t);
}

/* A user name resolves from the container's snapshot (not the host's
 * /etc), and the task from that snapshot runs as that user. */
static void test_user_from_snapshot(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_mount_list *ml = NULL;
	ctr_error *err = NULL;
	int r = ctr_snapshot_prepare(&ml, cl, "overlayfs", "usersnap", NULL, NULL, NULL, 0, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	char mnt[256], p[320];
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	assert_int_equal(mkdir(mnt, 0755), 0);
	assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
	ctr_mount_list_free(ml);
	make_busybox(mnt);
	snprintf(p, sizeof(p), "%s/etc/passwd", mnt);
	write_file(p, "root:x:0:0:root:/root:/bin/sh\nlctrapp:x:4321:4322::/home/app:/bin/sh\n", 0644);
	snprintf(p, sizeof(p), "%s/etc/group", mnt);
	write_file(p, "root:x:0:\nlctrgrp:x:4322:\nextra:x:4400:lctrapp\n", 0644);
	assert_int_equal(ctr_mount_unmount(mnt, CTR_UNMOUNT_ALL, NULL), 0);
	rmdir(mnt);

	/* A name the snapshot does not have: CTR_ENOTFOUND, no record. */
	ctr_opt *bad_so[] = {ctr_with_user("nosuchuser")};
	ctr_opt *bad_co[] = {ctr_with_snapshot("usersnap"), ctr_with_new_spec((const ctr_opt *const *)bad_so, 1)};
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, cl, "user0", (const ctr_opt *const *)bad_co, 2, NULL), CTR_ENOTFOUND);
	assert_null(k);
	assert_int_equal(ctr_container_load(&k, cl, "user0", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_opt_free(bad_co[0]);
	ctr_opt_free(bad_co[1]);
	ctr_opt_free(bad_so[0]);

	const char *args[] = {"sh", "-c", "id -u; id -g; id -G", NULL};
	ctr_opt *so[] = {ctr_with_process_args(args), ctr_with_default_path_env(),
			 ctr_with_user("lctrapp"), ctr_with_additional_gids("lctrapp")};
	ctr_opt *co[] = {ctr_with_snapshot("usersnap"), ctr_with_new_spec((const ctr_opt *const *)so, 4)};
	r = ctr_container_new(&k, cl, "user1", (const ctr_opt *const *)co, 2, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	for (size_t i = 0; i < 2; i++)
		ctr_opt_free(co[i]);
	for (size_t i = 0; i < 4; i++)
		ctr_opt_free(so[i]);
	json_t *spec = json_loads(ctr_container_spec(k), 0, NULL);
	json_t *user = json_object_get(json_object_get(spec, "process"), "user");
	assert_int_equal(json_integer_value(json_object_get(user, "uid")), 4321);
	assert_int_equal(json_integer_value(json_object_get(user, "gid")), 4322);
	json_decref(spec);

	char log[256];
	snprintf(log, sizeof(log), "%s/user.log", base);
	uint32_t status = 99;
	run_logged(k, log, &status);
	assert_int_equal(status, 0);
	char *out = read_all(log);
	assert_non_null(out);
	assert_string_equal(out, "4321\n4322\n4322 4400\n");
	free(out);
	ctr_opt *del = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_delete(k, (const ctr_opt *const *)&del, 1, NULL), 0);
	ctr_opt_free(del);
	ctr_container_free(k);
	/* the snapshot went with it */
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "usersnap", NULL, 0, NULL), CTR_ENOTFOUND);
}

/* An image "lctr.test/busybox:1" unpacked in overlayfs: one layer (its
 * snapshot committed under the chain ID, which for one layer is the
 * diff ID) with busybox, /etc/passwd and /etc/group; a config with env,
 * cmd, cwd and a user by name. */
static void make_image(void)
{
	static bool done;
	if (done)
		return;
	char diff_id[CTR_DIGEST_MAX], cfg_d[CTR_DIGEST_MAX], man_d[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, "lctr-test-layer", 15, diff_id, NULL), 0);
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_prepare(&ml, cl, "overlayfs", "extract-img", NULL, NULL, NULL, 0, NULL), 0);
	char mnt[256], p[320];
	snprintf(mnt, sizeof(mnt), "%s/imgmnt", base);
	assert_int_equal(mkdir(mnt, 0755), 0);
	assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
	ctr_mount_list_free(ml);
	make_busybox(mnt);
	snprintf(p, sizeof(p), "%s/etc/passwd", mnt);
	write_file(p, "root:x:0:0:root:/root:/bin/sh\nimguser:x:2345:2346::/:/bin/sh\n", 0644);
	snprintf(p, sizeof(p), "%s/etc/group", mnt);
	write_file(p, "root:x:0:\nimggrp:x:2346:\n", 0644);
	snprintf(p, sizeof(p), "%s/work", mnt);
	assert_int_equal(mkdir(p, 0777), 0);
	assert_int_equal(ctr_mount_unmount(mnt, CTR_UNMOUNT_ALL, NULL), 0);
	rmdir(mnt);
	assert_int_equal(ctr_snapshot_commit(cl, "overlayfs", diff_id, "extract-img", NULL, NULL, 0, NULL), 0);

	struct ctr_platform host;
	ctr_platform_host(&host);
	char cfg[1024];
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\",\"config\":{"
		 "\"Env\":[\"PATH=/bin\",\"FROMIMAGE=yes\"],\"Cmd\":[\"sh\",\"-c\",\"echo $FROMIMAGE $(id -u) $(pwd)\"],"
		 "\"WorkingDir\":\"/work\",\"User\":\"imguser\"},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 host.arch, host.variant[0] ? "\"variant\":\"" : "", host.variant, host.variant[0] ? "\"," : "", diff_id);
	size_t man_len = put_manifest(cfg, diff_id, 15, cfg_d, man_d);
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	int r = ctr_image_create(&img, cl, "lctr.test/busybox:1", "application/vnd.oci.image.manifest.v1+json",
					man_d, (int64_t)man_len, NULL, NULL, 0, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	ctr_image_free(img);
	done = true;
}

/* Through the API: a new snapshot on the image, the spec from its config
 * with the user resolved in that snapshot, then the task; the container's
 * snapshot goes with it and the image's stays. */
static void test_image_container(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	make_image();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "lctr.test/busybox:1", NULL, 0, NULL), 0);
	char *cfg = NULL;
	assert_int_equal(ctr_image_config(&cfg, img, NULL), 0);
	ctr_opt *so[] = {ctr_with_image_config(cfg)};
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot("img1", img),
			 ctr_with_new_spec((const ctr_opt *const *)so, 1)};
	ctr_container *k = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new(&k, cl, "img1", (const ctr_opt *const *)co, 3, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(co[i]);
	ctr_opt_free(so[0]);
	ctr_free(cfg);
	assert_string_equal(ctr_container_image_name(k), "lctr.test/busybox:1");
	assert_string_equal(ctr_container_snapshot_key(k), "img1");
	/* The image's stop signal travels as containerd's label (SIGTERM when
	 * the image names none). */
	bool sig = false;
	for (const char *const *l = ctr_container_labels(k); l && *l; l++)
		sig |= !strncmp(*l, CTR_STOP_SIGNAL_LABEL "=SIG", strlen(CTR_STOP_SIGNAL_LABEL) + 4);
	assert_true(sig);
	json_t *spec = json_loads(ctr_container_spec(k), 0, NULL);
	json_t *user = json_object_get(json_object_get(spec, "process"), "user");
	assert_int_equal(json_integer_value(json_object_get(user, "uid")), 2345);
	assert_int_equal(json_integer_value(json_object_get(user, "gid")), 2346);
	json_decref(spec);
	char log[256];
	snprintf(log, sizeof(log), "%s/img1.log", base);
	uint32_t status = 99;
	run_logged(k, log, &status);
	assert_int_equal(status, 0);
	char *out = read_all(log);
	assert_non_null(out);
	assert_string_equal(out, "yes 2345 /work\n");
	free(out);
	ctr_opt *del = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_delete(k, (const ctr_opt *const *)&del, 1, NULL), 0);
	ctr_opt_free(del);
	ctr_container_free(k);
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "img1", NULL, 0, NULL), CTR_ENOTFOUND);
	char *chain = NULL;
	assert_int_equal(ctr_image_chain_id(&chain, img, NULL), 0);
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", chain, NULL, 0, NULL), 0);
	ctr_snapshot_info_free(info);
	ctr_free(chain);
	ctr_image_free(img);
}

/* The same through `lctr run IMAGE ID [COMMAND]`. */
static int lctr_sh(const char *args, const char *out)
{
	const char *lctr = getenv("LCTR");
	if (!lctr) {
		print_message("LCTR is not set\n");
		return -1;
	}
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "LCTR_ROOT=%s/root LCTR_STATE=%s/state %s %s >%s 2>&1", base, base, lctr, args,
		 out);
	int st = system(cmd);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	char *o = read_all(out);
	print_message("lctr %s: exit %d: %s", args, rc, o ? o : "");
	free(o);
	return rc;
}

static void test_lctr_run_image(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	make_image();
	char out[256];
	snprintf(out, sizeof(out), "%s/lctr.out", base);
	assert_int_equal(lctr_sh("run --rm lctr.test/busybox:1 limg1", out), 0);
	char *o = read_all(out);
	assert_string_equal(o, "yes 2345 /work\n");
	free(o);
	/* COMMAND replaces the image's; flags override its user and env */
	assert_int_equal(lctr_sh("run --rm --user 0 --env FROMIMAGE=flag --cwd /tmp lctr.test/busybox:1 limg2 "
				 "sh -c 'echo $FROMIMAGE $(id -u) $(pwd); exit 3'",
				 out),
			 3);
	o = read_all(out);
	assert_string_equal(o, "flag 0 /tmp\n");
	free(o);
	/* --rm took the containers and their snapshots */
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_load(&k, cl, "limg1", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "limg2", NULL, 0, NULL), CTR_ENOTFOUND);
	/* without --rm: the record names the image (containers ls) */
	assert_int_equal(lctr_sh("run lctr.test/busybox:1 limg3 id", out), 0);
	assert_int_equal(lctr_sh("containers ls", out), 0);
	o = read_all(out);
	assert_non_null(strstr(o, "limg3"));
	assert_non_null(strstr(o, "lctr.test/busybox:1"));
	free(o);
	assert_int_equal(lctr_sh("containers rm limg3", out), 0);
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "limg3", NULL, 0, NULL), CTR_ENOTFOUND);
	/* an image that is not there: one line, exit 1 */
	assert_int_equal(lctr_sh("run lctr.test/missing:1 limg4 true", out), 1);
	o = read_all(out);
	assert_string_equal(o, "lctr: run limg4: image \"lctr.test/missing:1\": not found "
			       "(pull it first: lctr images pull lctr.test/missing:1)\n");
	free(o);
}

/* ctr_with_rootfs_path: the host directory is the rootfs, nothing is
 * mounted on it, and only 0, 1, 2 and ls's own directory are open inside. */
static void test_rootfs_path_no_leak(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	const char *args[] = {"ls", "/proc/self/fd", NULL};
	ctr_opt *so[] = {ctr_with_rootfs_path(rootfs), ctr_with_default_path_env(),
			 ctr_with_process_args(args)};
	ctr_opt *co[] = {ctr_with_new_spec((const ctr_opt *const *)so, 3)};
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, cl, "fds", (const ctr_opt *const *)co, 1, NULL), 0);
	ctr_opt_free(co[0]);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(so[i]);
	assert_null(ctr_container_snapshot_key(k));
	char log[256];
	snprintf(log, sizeof(log), "%s/fds.log", base);
	uint32_t status = 99;
	run_logged(k, log, &status);
	assert_int_equal(status, 0);
	char *out = read_all(log);
	assert_non_null(out);
	assert_string_equal(out, "0\n1\n2\n3\n");
	free(out);
	assert_int_equal(ctr_container_delete(k, NULL, 0, NULL), 0);
	ctr_container_free(k);
	/* the host directory is untouched: busybox is still there, no
	 * mount on it, nothing left in the state directory */
	char p[320];
	snprintf(p, sizeof(p), "%s/bin/busybox", rootfs);
	assert_int_equal(access(p, X_OK), 0);
	char *mounts = read_all("/proc/self/mounts");
	assert_non_null(mounts);
	assert_null(strstr(mounts, base));
	free(mounts);
	snprintf(p, sizeof(p), "%s/state/tasks/default/fds", base);
	assert_int_equal(access(p, F_OK), -1);

	/* A relative or empty path is refused by the option. */
	ctr_opt *bad = ctr_with_rootfs_path("");
	char *j = NULL;
	assert_int_equal(ctr_spec_generate(&j, "default", "x", NULL, (const ctr_opt *const *)&bad, 1, NULL), CTR_EINVAL);
	assert_null(j);
	ctr_opt_free(bad);
}

/* Runs `busybox mkdir /tmp/<dir>` in a container on the busybox rootfs,
 * with the seccomp profile at profile (NULL: none); returns its output and
 * sets *status. */
static char *run_mkdir(const char *id, const char *dir, const char *profile, uint32_t *status)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "busybox mkdir /tmp/%s 2>&1 && echo made", dir);
	const char *args[] = {"sh", "-c", cmd, NULL};
	ctr_opt *so[] = {ctr_with_rootfs_path(rootfs), ctr_with_default_path_env(),
			 ctr_with_process_args(args), profile ? ctr_with_seccomp_profile(profile) : NULL};
	size_t n = profile ? 4 : 3;
	ctr_opt *co[] = {ctr_with_new_spec((const ctr_opt *const *)so, n)};
	ctr_container *k = NULL;
	ctr_error *e = NULL;
	int r = ctr_container_new(&k, cl, id, (const ctr_opt *const *)co, 1, &e);
	if (r)
		print_message("%s\n", ctr_error_message(e));
	assert_int_equal(r, 0);
	ctr_opt_free(co[0]);
	for (size_t i = 0; i < n; i++)
		ctr_opt_free(so[i]);
	char log[256];
	snprintf(log, sizeof(log), "%s/%s.log", base, id);
	run_logged(k, log, status);
	assert_int_equal(ctr_container_delete(k, NULL, 0, NULL), 0);
	ctr_container_free(k);
	char *out = read_all(log);
	assert_non_null(out);
	return out;
}

/* ctr_with_seccomp_profile through runc: a profile that makes mkdir fail
 * with EPERM (errnoRet 1) stops `mkdir` in the container, and the same
 * container without it makes the directory. */
static void test_seccomp_profile(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	char prof[256];
	snprintf(prof, sizeof(prof), "%s/deny-mkdir.json", base);
	FILE *f = fopen(prof, "w");
	assert_non_null(f);
	fputs("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
	      "\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},{\"architecture\":"
	      "\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],\"syscalls\":[{\"names\":"
	      "[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}", f);
	assert_int_equal(fclose(f), 0);
	char made[320];
	snprintf(made, sizeof(made), "%s/tmp/scx", rootfs);

	uint32_t status = 99;
	char *out = run_mkdir("secdeny", "scx", prof, &status);
	assert_non_null(out);
	if (!strstr(out, "Operation not permitted"))
		print_message("with the profile: status %u, output %s\n", status, out ? out : "(none)");
	assert_non_null(strstr(out, "Operation not permitted"));
	assert_null(strstr(out, "made"));
	assert_int_not_equal(status, 0);
	free(out);
	assert_int_equal(access(made, F_OK), -1);

	status = 99;
	out = run_mkdir("secallow", "scx", NULL, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "made\n");
	free(out);
	assert_int_equal(rmdir(made), 0);
}

/* An image whose WORKDIR is /proc/self/fd/7 (a host fd runc holds, the
 * CVE-2024-21626 shape) does not start, and nothing is left. */
static void test_workdir_proc_fd(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	const char *cfg = "{\"config\":{\"WorkingDir\":\"/proc/self/fd/7\",\"Cmd\":[\"pwd\"]}}";
	ctr_opt *so[] = {ctr_with_image_config(cfg), ctr_with_rootfs_path(rootfs)};
	ctr_opt *co[] = {ctr_with_new_spec((const ctr_opt *const *)so, 2)};
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, cl, "fdcwd", (const ctr_opt *const *)co, 1, NULL), 0);
	ctr_opt_free(co[0]);
	ctr_opt_free(so[0]);
	ctr_opt_free(so[1]);
	char log[256], uri[300];
	snprintf(log, sizeof(log), "%s/fdcwd.log", base);
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *to = ctr_with_log_uri(uri);
	ctr_task *t = NULL;
	int r = ctr_container_new_task(&t, k, (const ctr_opt *const *)&to, 1, NULL);
	ctr_opt_free(to);
	if (r == 0) {
		/* a runtime that creates it must still not run it there */
		uint32_t status = 0;
		if (ctr_task_start(t, NULL) == 0)
			assert_int_equal(ctr_task_wait(&status, NULL, t, 20000, NULL), 0);
		ctr_opt *pk = ctr_with_process_kill();
		ctr_task_delete(NULL, t, CTR_OPTS(pk), NULL);
		ctr_opt_free(pk);
		ctr_task_free(t);
		char *out = read_all(log);
		print_message("started: status %u, output %s\n", status, out ? out : "");
		free(out);
		fail_msg("a task with cwd /proc/self/fd/7 was created");
	}
	assert_null(t);
	ctr_task *t2 = NULL;
	assert_int_equal(ctr_container_task(&t2, k, NULL), CTR_ENOTFOUND);
	char p[320];
	snprintf(p, sizeof(p), "%s/state/tasks/default/fdcwd", base);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(ctr_container_delete(k, NULL, 0, NULL), 0);
	ctr_container_free(k);
}

/* The snapshot's overlay workdir (from its mounts). */
static void snapshot_workdir(char *out, size_t len, const char *key)
{
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_mounts(&ml, cl, "overlayfs", key, NULL, 0, NULL), 0);
	out[0] = 0;
	for (const char *const *o = ctr_mount_list_options(ml, 0); o && *o; o++)
		if (!strncmp(*o, "workdir=", 8))
			snprintf(out, len, "%s", *o + 8);
	ctr_mount_list_free(ml);
	assert_true(out[0] == '/');
}

/* Whether the root line of the mountinfo in log (" / / " then its
 * options) has "volatile" among the superblock's options ("fsync=volatile"
 * on newer kernels). */
static bool root_volatile(const char *log)
{
	char *out = read_all(log);
	assert_non_null(out);
	char *root = strstr(out, " / / ");
	assert_non_null(root);
	char *eol = strchr(root, '\n');
	if (eol)
		*eol = 0;
	bool v = strstr(root, "volatile") != NULL;
	free(out);
	return v;
}

/* A volatile rootfs: the container sees its overlay mounted volatile (no
 * syncs), exec refuses the option, and a clean delete leaves the snapshot
 * as mountable as before (the kernel refuses to mount an upper that still
 * has the volatile marker). */
static void test_volatile_rootfs(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	make_image();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "lctr.test/busybox:1", NULL, 0, NULL), 0);
	const char *args[] = {"/bin/cat", "/proc/self/mountinfo", NULL};
	ctr_opt *so[] = {ctr_with_process_args(args)};
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot("vol1", img),
			 ctr_with_new_spec((const ctr_opt *const *)so, 1)};
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, cl, "vol1", (const ctr_opt *const *)co, 3, NULL), 0);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(co[i]);
	ctr_opt_free(so[0]);
	char work[512], mark[600], log[256], uri[300], bundle[320];
	snapshot_workdir(work, sizeof(work), "vol1");
	snprintf(mark, sizeof(mark), "%s/work/incompat/volatile", work);
	snprintf(log, sizeof(log), "%s/vol1.log", base);
	snprintf(uri, sizeof(uri), "file://%s", log);
	snprintf(bundle, sizeof(bundle), "%s/state/tasks/default/vol1", base);

	ctr_opt *to[] = {ctr_with_log_uri(uri), ctr_with_task_volatile_rootfs()};
	ctr_task *t = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new_task(&t, k, (const ctr_opt *const *)to, 2, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	/* The kernel marks a volatile upper while it is mounted. */
	assert_int_equal(access(mark, F_OK), 0);
	/* Exec takes task options but not this one; nothing is made. */
	ctr_process *p = NULL;
	assert_int_equal(ctr_task_exec(&p, t, "e1", "{\"args\":[\"true\"]}", (const ctr_opt *const *)&to[1], 1,
				       &err),
			 CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_task_volatile_rootfs"));
	ctr_error_free(err);
	err = NULL;
	char ex[400];
	snprintf(ex, sizeof(ex), "%s/exec/e1", bundle);
	assert_int_equal(access(ex, F_OK), -1);
	ctr_opt_free(to[0]);
	ctr_opt_free(to[1]);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	uint32_t status = 99;
	assert_int_equal(ctr_task_wait(&status, NULL, t, 20000, NULL), 0);
	assert_int_equal(status, 0);
	assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), 0);
	ctr_task_free(t);
	assert_true(root_volatile(log));
	/* Clean delete: marker, bundle and its record of the workdir gone. */
	assert_int_equal(access(mark, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(bundle, F_OK), -1);

	/* The snapshot mounts again, plain this time. */
	unlink(log);
	run_logged(k, log, &status);
	assert_int_equal(status, 0);
	assert_false(root_volatile(log));
	ctr_opt *del = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_delete(k, (const ctr_opt *const *)&del, 1, NULL), 0);
	ctr_opt_free(del);
	ctr_container_free(k);
	ctr_image_free(img);
}

/* A host process that still holds the rootfs (an open directory in it)
 * does not leave the task half deleted: the delete detaches the mount and
 * finishes, and the container can be deleted after it. */
static void test_busy_rootfs_delete(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	make_image();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "lctr.test/busybox:1", NULL, 0, NULL), 0);
	const char *args[] = {"/bin/sh", "-c", "exit 0", NULL};
	ctr_opt *so[] = {ctr_with_process_args(args)};
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot("busy1", img),
			 ctr_with_new_spec((const ctr_opt *const *)so, 1)};
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_new(&k, cl, "busy1", (const ctr_opt *const *)co, 3, NULL), 0);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(co[i]);
	ctr_opt_free(so[0]);
	char log[256], uri[300];
	snprintf(log, sizeof(log), "%s/busy1.log", base);
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *lo = ctr_with_log_uri(uri);
	ctr_task *t = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new_task(&t, k, CTR_OPTS(lo), &err);
	ctr_opt_free(lo);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	uint32_t status = 99;
	assert_int_equal(ctr_task_wait(&status, NULL, t, 20000, NULL), 0);
	assert_int_equal(status, 0);
	char bundle[320], inside[400];
	snprintf(bundle, sizeof(bundle), "%s/state/tasks/default/busy1", base);
	snprintf(inside, sizeof(inside), "%s/rootfs/bin", bundle);
	int hold = open(inside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(hold >= 0);
	r = ctr_task_delete(NULL, t, CTR_NO_OPTS, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	ctr_task_free(t);
	/* the bundle is gone, the held directory still reads (the kernel keeps
	 * the detached mount for its last user) */
	assert_int_equal(access(bundle, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(faccessat(hold, "sh", F_OK, 0), 0);
	t = NULL;
	assert_int_equal(ctr_container_task(&t, k, NULL), CTR_ENOTFOUND);
	close(hold);
	ctr_opt *del = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_delete(k, (const ctr_opt *const *)&del, 1, NULL), 0);
	ctr_opt_free(del);
	ctr_container_free(k);
	ctr_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_spec_from_image_config, teardown),
		cmocka_unit_test_teardown(test_user_from_snapshot, teardown),
		cmocka_unit_test_teardown(test_image_container, teardown),
		cmocka_unit_test_teardown(test_lctr_run_image, teardown),
		cmocka_unit_test_teardown(test_rootfs_path_no_leak, teardown),
		cmocka_unit_test_teardown(test_workdir_proc_fd, teardown),
		cmocka_unit_test_teardown(test_volatile_rootfs, teardown),
		cmocka_unit_test_teardown(test_busy_rootfs_delete, teardown),
#if HAVE_SECCOMP
		cmocka_unit_test_teardown(test_seccomp_profile, teardown),
#endif
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
