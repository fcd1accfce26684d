/* The client's defaults and the options that go around them, for real
 * (runc, overlay mounts, a real docker-registry):
 *  - ctr_with_default_runtime and the namespace label
 *    containerd.io/defaults/runtime pick the runtime of a container created
 *    without ctr_with_runtime, in containerd's order (the container's own,
 *    the client's, the label, the built-in); the picked runtime (a wrapper
 *    that logs and execs runc) is the one that runs the task; a bad label
 *    or default is CTR_EINVAL with nothing created; ctr_runtime_check;
 *  - the label containerd.io/defaults/snapshotter sends snapshot calls and
 *    containers that name no snapshotter to that snapshotter, and a task
 *    runs on such a snapshot;
 *  - ctr_with_image_name records a name no image has, and the container
 *    runs;
 *  - ctr_with_task_rootfs: a task on caller-made mounts (a bind of a
 *    directory, an overlay whose upper directory gets the task's write),
 *    unmounted by delete; an empty list and a host root are CTR_EINVAL with
 *    no bundle left;
 *  - ctr_with_default_platform linux/arm64: a pull from the registry with
 *    no platform option keeps and unpacks the arm64 manifest of a
 *    two-platform index, a fresh handle's config, usage and chain follow it
 *    and its snapshot mounts with the arm64 files; a host-default client
 *    on the same root sees the host's manifest; ctr_with_platform_matcher
 *    on a pull and a fetch; bad matchers are CTR_EINVAL and pull nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "test-files.h"
#include "test-sh.h"

static char base[128], rootfs[192], root[192], statedir[192], src[256];
static ctr_client *cl;
static const char *skip_reason;
static char reg_dir[192], reg_addr[64];

#define OK(call)                                                              \
	do {                                                                  \
		ctr_error *e_ = NULL;                                         \
		int r_ = (call);                                              \
		if (r_)                                                       \
			print_message("%s: %s\n", #call, ctr_error_message(e_)); \
		ctr_error_free(e_);                                           \
		assert_int_equal(r_, 0);                                      \
	} while (0)

#define sh test_sh

/* path holds exactly want */
static void assert_file(const char *path, const char *want)
{
	char *got = read_all(path);
	if (!got)
		print_message("%s: missing\n", path);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int group_setup(void **s)
{
	(void)s;
	const char *msrc = getenv("MESON_SOURCE_ROOT");
	if (geteuid() != 0 || system("runc --version >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0 ||
	    !msrc || access("/usr/bin/docker-registry", X_OK) || access("/usr/bin/skopeo", X_OK)) {
		skip_reason = "needs root, runc, busybox-static, docker-registry, skopeo and MESON_SOURCE_ROOT";
		return 0;
	}
	snprintf(src, sizeof(src), "%s", msrc);
	snprintf(base, sizeof(base), "/tmp/ctr-defaults-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	make_busybox(rootfs);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(statedir)};
	assert_int_equal(ctr_client_new(&cl, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	return 0;
}

#include "client-sweep.h"

static int group_teardown_all(void **s)
{
	if (reg_dir[0])
		sh("%s/tests/fixtures/registry.sh stop %s >/dev/null 2>&1", src, reg_dir);
	return group_teardown(s);
}

/* Runs k's task with opts (stdout to log), waits, deletes; the exit status. */
static uint32_t run_task(ctr_container *k, const char *log, const ctr_opt *extra)
{
	char uri[512];
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *lo = ctr_with_log_uri(uri);
	const ctr_opt *to[] = {lo, extra};
	ctr_task *t = NULL;
	OK(ctr_container_new_task(&t, k, to, extra ? 2 : 1, &e_));
	ctr_opt_free(lo);
	uint32_t st = 1234;
	OK(ctr_task_start(t, &e_));
	OK(ctr_task_wait(&st, NULL, t, 20000, &e_));
	OK(ctr_task_delete(NULL, t, CTR_NO_OPTS, &e_));
	ctr_task_free(t);
	return st;
}

/* Runs k's task (exit 0) and checks what it printed. */
static void run_expect(ctr_container *k, const char *want)
{
	char log[256];
	snprintf(log, sizeof(log), "%s/%s.out", base, ctr_container_id(k));
	assert_int_equal(run_task(k, log, NULL), 0);
	assert_file(log, want);
}

/* A container on the busybox directory (no snapshot) running args. */
static int new_host_container(ctr_container **k, ctr_client *c, const char *id, const char *const *args,
			      const ctr_opt *extra, ctr_error **err)
{
	ctr_opt *so[] = {ctr_with_rootfs_path(rootfs), ctr_with_process_args(args)};
	ctr_opt *spec = ctr_with_new_spec((const ctr_opt *const *)so, 2);
	const ctr_opt *co[] = {spec, extra};
	int r = ctr_container_new(k, c, id, co, extra ? 2 : 1, err);
	ctr_opt_free(spec);
	ctr_opt_free(so[0]);
	ctr_opt_free(so[1]);
	return r;
}

static size_t n_containers(ctr_client *c)
{
	ctr_container **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_container_list(&v, &n, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_container_list_free(v, n);
	return n;
}

static size_t n_snapshots(ctr_client *c, const char *snapshotter)
{
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	OK(ctr_snapshot_list(&v, &n, c, snapshotter, NULL, 0, CTR_NO_OPTS, &e_));
	ctr_snapshot_info_list_free(v, n);
	return n;
}

static void test_default_runtime(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	/* a runtime binary of our own: logs its arguments, then is runc */
	char wrap[256], wlog[256], runc[256] = "";
	snprintf(wrap, sizeof(wrap), "%s/myrunc", base);
	snprintf(wlog, sizeof(wlog), "%s/myrunc.log", base);
	FILE *p = popen("command -v runc", "r");
	assert_non_null(p);
	assert_non_null(fgets(runc, sizeof(runc), p));
	pclose(p);
	runc[strcspn(runc, "\n")] = 0;
	char script[1024];
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" >>%s\nexec %s \"$@\"\n", wlog, runc);
	write_file(wrap, script, 0755);
	const char *args[] = {"/bin/echo", "ran", NULL};

	/* The built-in default: no client default, no label. */
	ctr_container *k = NULL;
	OK(new_host_container(&k, cl, "rt-builtin", args, NULL, &e_));
	assert_string_equal(ctr_container_runtime(k), CTR_DEFAULT_RUNTIME);
	ctr_container_free(k);

	/* The namespace label, for a client without a default runtime. */
	char lbl[512];
	snprintf(lbl, sizeof(lbl), "%s=%s", CTR_DEFAULT_RUNTIME_NS_LABEL, wrap);
	const char *lv[] = {lbl, NULL};
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));
	OK(new_host_container(&k, cl, "rt-label", args, NULL, &e_));
	assert_string_equal(ctr_container_runtime(k), wrap);
	run_expect(k, "ran\n");
	char *wl = read_all(wlog);
	assert_non_null(wl);
	assert_non_null(strstr(wl, "create")); /* the label's runtime created it */
	free(wl);
	ctr_container_free(k);
	/* The container's own ctr_with_runtime beats the label. */
	ctr_opt *rt = ctr_with_runtime(CTR_DEFAULT_RUNTIME);
	OK(new_host_container(&k, cl, "rt-own", args, rt, &e_));
	assert_string_equal(ctr_container_runtime(k), CTR_DEFAULT_RUNTIME);
	ctr_container_free(k);
	ctr_opt_free(rt);

	/* The client's default beats the label (containerd reads the label
	 * only without one). */
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(statedir), ctr_with_default_runtime(runc)};
	ctr_client *c2 = NULL;
	OK(ctr_client_new(&c2, (const ctr_opt *const *)o, 3, &e_));
	OK(new_host_container(&k, c2, "rt-client", args, NULL, &e_));
	assert_string_equal(ctr_container_runtime(k), runc);
	unlink(wlog);
	run_expect(k, "ran\n");
	assert_int_equal(access(wlog, F_OK), -1); /* not the label's wrapper */
	ctr_container_free(k);
	for (int i = 0; i < 3; i++)
		ctr_opt_free(o[i]);

	/* A relative default is refused when the client is made. */
	ctr_opt *bad[] = {ctr_with_root(root), ctr_with_state(statedir), ctr_with_default_runtime("runc")};
	ctr_client *c3 = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_client_new(&c3, (const ctr_opt *const *)bad, 3, &err), CTR_EINVAL);
	assert_null(c3);
	assert_non_null(strstr(ctr_error_message(err), "default runtime \"runc\""));
	ctr_error_free(err);
	for (int i = 0; i < 3; i++)
		ctr_opt_free(bad[i]);

	/* A bad label: CTR_EINVAL naming it, and no container. */
	size_t before = n_containers(cl);
	snprintf(lbl, sizeof(lbl), "%s=io.example.nope", CTR_DEFAULT_RUNTIME_NS_LABEL);
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));
	err = NULL;
	k = NULL;
	assert_int_equal(new_host_container(&k, cl, "rt-badlabel", args, NULL, &err), CTR_EINVAL);
	assert_null(k);
	assert_non_null(strstr(ctr_error_message(err), CTR_DEFAULT_RUNTIME_NS_LABEL));
	ctr_error_free(err);
	assert_int_equal(n_containers(cl), before);
	/* but the client with a default does not read it */
	OK(new_host_container(&k, c2, "rt-client2", args, NULL, &e_));
	assert_string_equal(ctr_container_runtime(k), runc);
	ctr_container_free(k);
	ctr_client_free(c2);
	snprintf(lbl, sizeof(lbl), "%s=", CTR_DEFAULT_RUNTIME_NS_LABEL);
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));

	/* containerd's CheckRuntime on what the containers got */
	static const struct {
		const char *cur, *exp;
		bool want;
	} cases[] = {
		{"io.containerd.runc.v2", "io.containerd.runc.v2", true},
		{"io.containerd.runc.v2", "io.containerd.runc", true},
		{"io.containerd.runc.v2", "io.containerd", true},
		{"io.containerd.runc.v2", "io.containerd.run", false},
		{"io.containerd.runc.v2", "io.containerd.runc.v1", false},
		{"io.containerd.runc.v2", "io.containerd.runc.v2.x", false},
		{"io.containerd.runc", "io.containerd.runc.v2", false},
		{"io.containerd.runc.v2", "", false},
		{"", "", true},
		{"io.containerd.runsc.v1", "io.containerd.runc", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool m = !cases[i].want;
		OK(ctr_runtime_check(&m, cases[i].cur, cases[i].exp, &e_));
		if (m != cases[i].want)
			print_message("CheckRuntime(%s, %s)\n", cases[i].cur, cases[i].exp);
		assert_true(m == cases[i].want);
	}
	OK(ctr_container_load(&k, cl, "rt-label", CTR_NO_OPTS, &e_));
	bool m = true;
	OK(ctr_runtime_check(&m, ctr_container_runtime(k), CTR_DEFAULT_RUNTIME, &e_));
	assert_false(m);
	ctr_container_free(k);
	err = NULL;
	assert_int_equal(ctr_runtime_check(&m, NULL, "x", &err), CTR_EINVAL);
	ctr_error_free(err);
}

static void test_default_snapshotter_label(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	char lbl[128];
	snprintf(lbl, sizeof(lbl), "%s=native", CTR_DEFAULT_SNAPSHOTTER_NS_LABEL);
	const char *lv[] = {lbl, NULL};
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));
	/* a snapshot call without a snapshotter goes to native */
	ctr_mount_list *ml = NULL;
	OK(ctr_snapshot_prepare(&ml, cl, NULL, "sn-label", NULL, NULL, CTR_NO_OPTS, &e_));
	ctr_snapshot_info *si = NULL;
	OK(ctr_snapshot_stat(&si, cl, "native", "sn-label", CTR_NO_OPTS, &e_));
	ctr_snapshot_info_free(si);
	si = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_snapshot_stat(&si, cl, CTR_DEFAULT_SNAPSHOTTER, "sn-label", CTR_NO_OPTS, &err),
			 CTR_ENOTFOUND);
	ctr_error_free(err);
	/* fill it with busybox through its mount, then run a container on it
	 * that names no snapshotter */
	char mnt[256];
	snprintf(mnt, sizeof(mnt), "%s/mnt-sn", base);
	assert_int_equal(mkdir(mnt, 0755), 0);
	OK(ctr_mount_list_mount(ml, mnt, &e_));
	ctr_mount_list_free(ml);
	make_busybox(mnt);
	write_file(strcat(strcpy((char[300]){0}, mnt), "/marker"), "native snapshot\n", 0644);
	OK(ctr_mount_unmount(mnt, 0, &e_));
	const char *args[] = {"/bin/cat", "/marker", NULL};
	ctr_opt *so = ctr_with_process_args(args);
	ctr_opt *co[] = {ctr_with_snapshot("sn-label"), ctr_with_new_spec((const ctr_opt *const *)&so, 1)};
	ctr_container *k = NULL;
	OK(ctr_container_new(&k, cl, "sn-ctr", (const ctr_opt *const *)co, 2, &e_));
	assert_string_equal(ctr_container_snapshotter(k), "native");
	run_expect(k, "native snapshot\n");
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	OK(ctr_container_delete(k, CTR_OPTS(cleanup), &e_));
	ctr_opt_free(cleanup);
	ctr_container_free(k);
	err = NULL;
	assert_int_equal(ctr_snapshot_stat(&si, cl, "native", "sn-label", CTR_NO_OPTS, &err), CTR_ENOTFOUND);
	ctr_error_free(err);
	for (size_t i = 0; i < 2; i++)
		ctr_opt_free(co[i]);
	ctr_opt_free(so);

	/* A label that is not a snapshotter name: CTR_EINVAL, nothing made. */
	snprintf(lbl, sizeof(lbl), "%s=../evil", CTR_DEFAULT_SNAPSHOTTER_NS_LABEL);
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));
	err = NULL;
	assert_int_equal(ctr_snapshot_prepare(NULL, cl, NULL, "sn-bad", NULL, NULL, CTR_NO_OPTS, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), CTR_DEFAULT_SNAPSHOTTER_NS_LABEL));
	ctr_error_free(err);
	assert_int_equal(n_snapshots(cl, CTR_DEFAULT_SNAPSHOTTER), 0);
	assert_int_equal(n_snapshots(cl, "native"), 0);
	snprintf(lbl, sizeof(lbl), "%s=", CTR_DEFAULT_SNAPSHOTTER_NS_LABEL);
	OK(ctr_namespace_set_labels(cl, "default", lv, &e_));
}

static void test_image_name(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	const char *args[] = {"/bin/echo", "named", NULL};
	ctr_opt *in = ctr_with_image_name("registry.example/never/pulled:1");
	ctr_container *k = NULL;
	OK(new_host_container(&k, cl, "img-name", args, in, &e_));
	assert_string_equal(ctr_container_image_name(k), "registry.example/never/pulled:1");
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_container_image(&img, k, &err), CTR_ENOTFOUND); /* nothing was read */
	ctr_error_free(err);
	run_expect(k, "named\n");
	/* and through update */
	ctr_opt *in2 = ctr_with_image_name("other/name:2");
	OK(ctr_container_update(k, CTR_OPTS(in2), &e_));
	assert_string_equal(ctr_container_image_name(k), "other/name:2");
	ctr_opt_free(in2);
	ctr_container_free(k);
	ctr_opt_free(in);
	/* a name with a space: CTR_EINVAL, no container */
	size_t before = n_containers(cl);
	ctr_opt *bad = ctr_with_image_name("bad name");
	err = NULL;
	assert_int_equal(new_host_container(&k, cl, "img-bad", args, bad, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_image_name"));
	ctr_error_free(err);
	ctr_opt_free(bad);
	assert_int_equal(n_containers(cl), before);
	assert_null(ctr_with_image_name(NULL));
}

/* Nothing of the task's bundle is left, and nothing is mounted under it. */
static void assert_no_bundle(const char *id)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/tasks/default/%s", statedir, id);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(sh("grep -q ' %s' /proc/mounts", p), 1);
}

/* A ctr_with_task_rootfs of one mount; the option holds its own copy of
 * the list. */
static ctr_opt *rootfs_opt(const char *type, const char *source, const char *const *options)
{
	ctr_mount_list *ml = NULL;
	OK(ctr_mount_list_new(&ml, &e_));
	OK(ctr_mount_list_add(ml, type, source, options, &e_));
	ctr_opt *rf = ctr_with_task_rootfs(ml);
	assert_non_null(rf);
	ctr_mount_list_free(ml);
	return rf;
}

/* Runs k on rf (freed): the task printed want and wrote written_dir/new,
 * and its bundle is gone. */
static void run_on_rootfs(ctr_container *k, ctr_opt *rf, const char *name, const char *want,
			  const char *written_dir)
{
	char log[256], p[300];
	snprintf(log, sizeof(log), "%s/rootfs-%s.out", base, name);
	assert_int_equal(run_task(k, log, rf), 0);
	assert_file(log, want);
	snprintf(p, sizeof(p), "%s/new", written_dir);
	assert_file(p, "written\n");
	assert_no_bundle(ctr_container_id(k));
	ctr_opt_free(rf);
}

static void test_task_rootfs(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	/* a container with no snapshot and no host root: the task's rootfs
	 * comes from the mounts alone */
	const char *args[] = {"/bin/sh", "-c", "cat /hello && echo written >/new", NULL};
	ctr_opt *so = ctr_with_process_args(args);
	ctr_opt *spec = ctr_with_new_spec((const ctr_opt *const *)&so, 1);
	ctr_container *k = NULL;
	OK(ctr_container_new(&k, cl, "rootfs-ctr", CTR_OPTS(spec), &e_));
	ctr_opt_free(spec);
	ctr_opt_free(so);

	/* 1. a bind mount of a caller-made directory */
	char dir[256], p[300];
	snprintf(dir, sizeof(dir), "%s/bindroot", base);
	make_busybox(dir);
	snprintf(p, sizeof(p), "%s/hello", dir);
	write_file(p, "from the bind\n", 0644);
	const char *bo[] = {"rbind", "rw", NULL};
	ctr_opt *rf = rootfs_opt("bind", dir, bo);
	run_on_rootfs(k, rf, "bind", "from the bind\n", dir);

	/* 2. an overlay: busybox below, the caller's upper gets the write */
	char lower[256], upper[256], work[256];
	snprintf(lower, sizeof(lower), "%s/ovl-lower", base);
	snprintf(upper, sizeof(upper), "%s/ovl-upper", base);
	snprintf(work, sizeof(work), "%s/ovl-work", base);
	make_busybox(lower);
	snprintf(p, sizeof(p), "%s/hello", lower);
	write_file(p, "from the overlay\n", 0644);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	char lo[300], uo[300], wo[300];
	snprintf(lo, sizeof(lo), "lowerdir=%s", lower);
	snprintf(uo, sizeof(uo), "upperdir=%s", upper);
	snprintf(wo, sizeof(wo), "workdir=%s", work);
	const char *oo[] = {lo, uo, wo, NULL};
	run_on_rootfs(k, rootfs_opt("overlay", "overlay", oo), "ovl", "from the overlay\n", upper);
	snprintf(p, sizeof(p), "%s/new", lower);
	assert_int_equal(access(p, F_OK), -1); /* the lower stayed as it was */

	/* an empty list: CTR_EINVAL, no bundle */
	ctr_mount_list *ml = NULL;
	OK(ctr_mount_list_new(&ml, &e_));
	rf = ctr_with_task_rootfs(ml);
	ctr_mount_list_free(ml);
	ctr_task *t = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_container_new_task(&t, k, CTR_OPTS(rf), &err), CTR_EINVAL);
	assert_null(t);
	assert_non_null(strstr(ctr_error_message(err), "no mounts"));
	ctr_error_free(err);
	assert_no_bundle("rootfs-ctr");
	ctr_opt_free(rf);
	/* a mount that fails: the error, nothing mounted, no bundle */
	snprintf(p, sizeof(p), "%s/does-not-exist", base);
	rf = rootfs_opt("bind", p, bo);
	err = NULL;
	assert_true(ctr_container_new_task(&t, k, CTR_OPTS(rf), &err) < 0);
	assert_non_null(strstr(ctr_error_message(err), "ctr_with_task_rootfs"));
	ctr_error_free(err);
	assert_no_bundle("rootfs-ctr");
	ctr_container_free(k);

	/* a container with a host root refuses it */
	const char *a2[] = {"/bin/true", NULL};
	OK(new_host_container(&k, cl, "rootfs-host", a2, NULL, &e_));
	err = NULL;
	assert_int_equal(ctr_container_new_task(&t, k, CTR_OPTS(rf), &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "host root"));
	ctr_error_free(err);
	assert_no_bundle("rootfs-host");
	ctr_container_free(k);
	ctr_opt_free(rf);
	assert_null(ctr_with_task_rootfs(NULL));
}

/* ---- platforms ---- */

static void reg_setup(void)
{
	if (reg_dir[0])
		return;
	char multi[256];
	snprintf(multi, sizeof(multi), "%s/multi", base);
	assert_int_equal(sh("python3 %s/tests/fixtures/mkimage.py multiarch %s >/dev/null", src, multi), 0);
	snprintf(reg_dir, sizeof(reg_dir), "%s/reg", base);
	assert_int_equal(mkdir(reg_dir, 0700), 0);
	assert_int_equal(sh("%s/tests/fixtures/registry.sh start plain --dir %s --owner-pid %d --ttl 600 >/dev/null", src,
			    reg_dir, (int)getpid()),
			 0);
	char envf[256];
	snprintf(envf, sizeof(envf), "%s/env", reg_dir);
	char *env = read_all(envf);
	assert_non_null(env);
	char *a = strstr(env, "REGISTRY_ADDR=");
	assert_non_null(a);
	a += strlen("REGISTRY_ADDR=");
	if (*a == '\'')
		a++;
	snprintf(reg_addr, sizeof(reg_addr), "%.*s", (int)strcspn(a, "'\n"), a);
	free(env);
	assert_int_equal(sh("%s/tests/fixtures/registry.sh push %s oci:%s:latest test/multi:latest --all >/dev/null 2>&1",
			    src, reg_dir, multi),
			 0);
}

static ctr_client *client_at(const char *name, ctr_opt *extra)
{
	char r[256], st[256];
	snprintf(r, sizeof(r), "%s/%s-root", base, name);
	snprintf(st, sizeof(st), "%s/%s-state", base, name);
	ctr_opt *o[] = {ctr_with_root(r), ctr_with_state(st), extra};
	ctr_client *c = NULL;
	OK(ctr_client_new(&c, (const ctr_opt *const *)o, extra ? 3 : 2, &e_));
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	ctr_opt_free(extra); /* the client keeps what it needs */
	return c;
}

static char *config_arch(const ctr_image *img)
{
	char *cfg = NULL;
	OK(ctr_image_config(&cfg, img, &e_));
	json_t *j = json_loads(cfg, 0, NULL);
	assert_non_null(j);
	char *a = strdup(json_string_value(json_object_get(j, "architecture")));
	json_decref(j);
	ctr_free(cfg);
	return a;
}

/* The unpacked top of img mounted read-only; its /platform.txt (NULL
 * when missing). */
static char *mounted_platform(ctr_client *c, const ctr_image *img, const char *key)
{
	char *chain = NULL;
	OK(ctr_image_chain_id(&chain, img, &e_));
	ctr_mount_list *ml = NULL;
	OK(ctr_snapshot_view(&ml, c, NULL, key, chain, NULL, CTR_NO_OPTS, &e_));
	ctr_free(chain);
	char mnt[256], p[300];
	snprintf(mnt, sizeof(mnt), "%s/mnt-%s", base, key);
	assert_int_equal(mkdir(mnt, 0755), 0);
	OK(ctr_mount_list_mount(ml, mnt, &e_));
	ctr_mount_list_free(ml);
	snprintf(p, sizeof(p), "%s/platform.txt", mnt);
	char *out = read_all(p);
	OK(ctr_mount_unmount(mnt, 0, &e_));
	OK(ctr_snapshot_remove(c, NULL, key, CTR_NO_OPTS, &e_));
	return out;
}

static size_t n_images(ctr_client *c)
{
	ctr_image **v = NULL;
	size_t n = 0;
	OK(ctr_image_list(&v, &n, c, NULL, 0, CTR_NO_OPTS, &e_));
	ctr_image_list_free(v, n);
	return n;
}

/* Both manifests of the index are in c's store; with host_unpacked, the
 * amd64 one (the host's) is unpacked and the arm64 one is not. */
static void assert_both_platforms(ctr_client *c, const char *ref, bool host_unpacked)
{
	const char *plats[] = {"linux/amd64", "linux/arm64", NULL};
	for (size_t i = 0; plats[i]; i++) {
		ctr_opt *ip = ctr_with_image_platform(plats[i]);
		ctr_image *img = NULL;
		OK(ctr_image_get(&img, c, ref, CTR_OPTS(ip), &e_));
		ctr_opt_free(ip);
		int64_t present = -1, required = -2;
		OK(ctr_image_check(&present, &required, img, &e_));
		assert_true(required > 0);
		assert_int_equal(present, required);
		if (host_unpacked) {
			bool u = false;
			OK(ctr_image_is_unpacked(&u, img, NULL, &e_));
			assert_true(u == (i == 0));
		}
		ctr_image_free(img);
	}
}

static void test_default_platform(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
#if !defined(__x86_64__)
	print_message("skip: the multiarch fixture's other platform is arm64; this test runs on amd64 hosts\n");
	skip();
#endif
	reg_setup();
	char ref[160];
	snprintf(ref, sizeof(ref), "%s/test/multi:latest", reg_addr);
	const char *arm[] = {"linux/arm64", NULL};
	ctr_client *c = client_at("arm", ctr_with_default_platform(CTR_PLATFORM_MATCH_ONLY, arm));
	ctr_opt *ph = ctr_with_plain_http(), *up = ctr_with_pull_unpack();
	ctr_image *img = NULL;
	OK(ctr_image_pull(&img, c, ref, CTR_OPTS(ph, up), &e_));
	char *plat = NULL;
	OK(ctr_image_platform(&plat, img, &e_));
	assert_string_equal(plat, "linux/arm64");
	ctr_free(plat);
	char *a = config_arch(img);
	assert_string_equal(a, "arm64");
	free(a);
	bool unpacked = false;
	OK(ctr_image_is_unpacked(&unpacked, img, NULL, &e_));
	assert_true(unpacked);
	ctr_image_free(img);
	/* a fresh handle (no platforms of its own) follows the client's default */
	OK(ctr_image_get(&img, c, ref, CTR_NO_OPTS, &e_));
	a = config_arch(img);
	assert_string_equal(a, "arm64");
	free(a);
	int64_t content = 0, snaps = 0;
	OK(ctr_image_usage(&content, &snaps, img, NULL, CTR_NO_OPTS, &e_));
	assert_true(content > 0);
	assert_true(snaps > 0);
	char *pf = mounted_platform(c, img, "arm-view");
	assert_non_null(pf);
	assert_string_equal(pf, "linux/arm64\n");
	free(pf);
	/* only the arm64 manifest was kept: one layer, one committed snapshot */
	assert_int_equal(n_snapshots(c, NULL), 1);
	/* a new snapshot for a container takes the arm64 chain too */
	ctr_opt *ns = ctr_with_new_snapshot("arm-ctr", img);
	ctr_container *k = NULL;
	OK(ctr_container_new(&k, c, "arm-ctr", CTR_OPTS(ns), &e_));
	ctr_opt_free(ns);
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	OK(ctr_container_delete(k, CTR_OPTS(cleanup), &e_));
	ctr_opt_free(cleanup);
	ctr_container_free(k);
	ctr_image_free(img);

	/* a host-default client on the same root resolves the host's manifest,
	 * which was never fetched */
	char r[256], st[256];
	snprintf(r, sizeof(r), "%s/arm-root", base);
	snprintf(st, sizeof(st), "%s/arm-state", base);
	ctr_opt *ho[] = {ctr_with_root(r), ctr_with_state(st)};
	ctr_client *h = NULL;
	OK(ctr_client_new(&h, (const ctr_opt *const *)ho, 2, &e_));
	ctr_opt_free(ho[0]);
	ctr_opt_free(ho[1]);
	OK(ctr_image_get(&img, h, ref, CTR_NO_OPTS, &e_));
	char *cfg = NULL;
	ctr_error *err = NULL;
	assert_true(ctr_image_config(&cfg, img, &err) < 0);
	assert_null(cfg);
	ctr_error_free(err);
	ctr_image_free(img);
	ctr_client_free(h);
	ctr_client_free(c);

	/* ctr_with_platform_matcher on a pull: arm64 for a host-default
	 * client, and the returned handle keeps that matcher */
	c = client_at("matcher", NULL);
	const char *armv8[] = {"linux/arm64/v8", NULL};
	ctr_opt *pm = ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ORDERED, armv8);
	OK(ctr_image_pull(&img, c, ref, CTR_OPTS(ph, up, pm), &e_));
	ctr_opt_free(pm);
	a = config_arch(img);
	assert_string_equal(a, "arm64");
	free(a);
	pf = mounted_platform(c, img, "matcher-view");
	assert_string_equal(pf, "linux/arm64\n");
	free(pf);
	ctr_image_free(img);
	/* ANY over both: no preference, the index's first (amd64) wins */
	const char *both[] = {"linux/arm64/v8", "linux/amd64", NULL};
	pm = ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ANY, both);
	OK(ctr_image_pull(&img, c, ref, CTR_OPTS(ph, pm), &e_));
	ctr_opt_free(pm);
	a = config_arch(img);
	assert_string_equal(a, "amd64");
	free(a);
	ctr_image_free(img);
	ctr_client_free(c);
	/* ALL on a fetch keeps both manifests (a fresh root) */
	c = client_at("fetchall", NULL);
	pm = ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ALL, NULL);
	OK(ctr_image_fetch(&img, c, ref, CTR_OPTS(ph, pm), &e_));
	ctr_opt_free(pm);
	ctr_image_free(img);
	assert_both_platforms(c, ref, false);
	ctr_client_free(c);

	/* a client default of every platform: a pull keeps both and unpacks
	 * the host's */
	c = client_at("alldefault", ctr_with_default_platform(CTR_PLATFORM_MATCH_ALL, NULL));
	OK(ctr_image_pull(&img, c, ref, CTR_OPTS(ph, up), &e_));
	ctr_image_free(img);
	assert_both_platforms(c, ref, true);
	ctr_client_free(c);

	/* bad matchers: CTR_EINVAL naming the reason, nothing pulled */
	c = client_at("badmatch", NULL);
	const char *badspec[] = {"linux/", NULL};
	struct {
		ctr_opt *o;
		const char *msg;
	} bad[] = {
		{ctr_with_platform_matcher((ctr_platform_match_kind)42, arm), "unknown match 42"},
		{ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ALL, arm), "ALL takes no platforms"},
		{ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ONLY, NULL), "no platforms"},
		{ctr_with_platform_matcher(CTR_PLATFORM_MATCH_ONLY, badspec), "platform"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		img = NULL;
		assert_int_equal(ctr_image_pull(&img, c, ref, CTR_OPTS(ph, bad[i].o), &err), CTR_EINVAL);
		assert_null(img);
		if (!strstr(ctr_error_message(err), bad[i].msg))
			print_message("%s\n", ctr_error_message(err));
		assert_non_null(strstr(ctr_error_message(err), bad[i].msg));
		ctr_error_free(err);
		ctr_opt_free(bad[i].o);
	}
	assert_int_equal(n_images(c), 0);
	ctr_client_free(c);
	/* and as a client default: the client is not made */
	err = NULL;
	h = NULL;
	snprintf(r, sizeof(r), "%s/bad-root", base);
	ctr_opt *bo[] = {ctr_with_root(r), ctr_with_default_platform(CTR_PLATFORM_MATCH_ANY, NULL)};
	assert_int_equal(ctr_client_new(&h, (const ctr_opt *const *)bo, 2, &err), CTR_EINVAL);
	assert_null(h);
	assert_non_null(strstr(ctr_error_message(err), "default platform"));
	ctr_error_free(err);
	ctr_opt_free(bo[0]);
	ctr_opt_free(bo[1]);
	ctr_opt_free(ph);
	ctr_opt_free(up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_default_runtime, teardown),
		cmocka_unit_test_teardown(test_default_snapshotter_label, teardown),
		cmocka_unit_test_teardown(test_image_name, teardown),
		cmocka_unit_test_teardown(test_task_rootfs, teardown),
		cmocka_unit_test_teardown(test_default_platform, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown_all);
}
