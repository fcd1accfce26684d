/* User-namespace remapping under runc (containerd's WithRemappedSnapshot,
 * WithRemapperLabels, WithUIDOwner/WithGIDOwner):
 *  - a container with a user namespace in its spec and a remapped snapshot
 *    sees its image's files as root's (`stat -c %u /bin/sh` prints 0),
 *    the host sees them as the mapped uid's, and a file the container
 *    changes is copied up owned by the mapped IDs (idmapped lowers: the
 *    image's layer on disk stays root's);
 *  - the same with the chown walk forced (as on a kernel without idmapped
 *    mounts): the snapshot sits on a shared committed copy whose files are
 *    chowned to the mapped IDs;
 *  - ctr_with_remapper_labels on ctr_with_new_snapshot labels the snapshot
 *    and mounts it idmapped; bad uses fail before anything is made;
 *  - ctr_with_uid_owner/ctr_with_gid_owner: the stdio pipes belong to the
 *    container's root, so it can reopen /dev/stdout; without them it
 *    cannot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "digest.h"
#include "platforms.h"
#include "idmap.h"
#include "snapshots.h"

static char base[128];
static ctr_client *cl;

#include "image-fixture.h"
static const char *skip_reason;

#define HOST_ID 100000u

/* "remap.test/busybox:1", unpacked in overlayfs: busybox, a setuid file
 * and /etc/f owned by 0:0, /etc/u owned by 1000:1000. */
static void make_image(void)
{
	char diff_id[CTR_DIGEST_MAX], cfg_d[CTR_DIGEST_MAX], man_d[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, "remap-test-layer", 16, diff_id, NULL), 0);
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_prepare(&ml, cl, "overlayfs", "extract", NULL, NULL, NULL, 0, NULL), 0);
	char mnt[256], cmd[1024];
	snprintf(mnt, sizeof(mnt), "%s/imgmnt", base);
	assert_int_equal(mkdir(mnt, 0755), 0);
	assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
	ctr_mount_list_free(ml);
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; mkdir -p bin proc dev sys tmp etc; cp /bin/busybox bin/; "
		 "for a in sh stat cat touch id echo; do ln -s busybox bin/$a; done; echo orig > etc/f; "
		 "echo u > etc/u; chown 1000:1000 etc/u; echo s > etc/s; chmod 4755 etc/s", mnt);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ctr_mount_unmount(mnt, CTR_UNMOUNT_ALL, NULL), 0);
	rmdir(mnt);
	assert_int_equal(ctr_snapshot_commit(cl, "overlayfs", diff_id, "extract", NULL, NULL, 0, NULL), 0);
	struct ctr_platform host;
	ctr_platform_host(&host);
	char cfg[1024];
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 host.arch, host.variant[0] ? "\"variant\":\"" : "", host.variant, host.variant[0] ? "\"," : "", diff_id);
	size_t man_len = put_manifest(cfg, diff_id, 16, cfg_d, man_d);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_create(&img, cl, "remap.test/busybox:1", "application/vnd.oci.image.manifest.v1+json",
					  man_d, (int64_t)man_len, NULL, NULL, 0, NULL), 0);
	ctr_image_free(img);
}

static int group_setup(void **s)
{
	(void)s;
	if (geteuid() != 0 || system("runc --version >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0) {
		skip_reason = "needs root, runc and busybox-static";
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/ctr-remap-XXXXXX");
	assert_non_null(mkdtemp(base));
	/* runc in the container's user namespace walks to the bundle */
	chmod(base, 0711);
	char root[192], state[192];
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(state, sizeof(state), "%s/state", base);
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(state)};
	assert_int_equal(ctr_client_new(&cl, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	if (ctr_idmap_check(root, NULL) < 0) {
		print_message("note: idmapped mounts unavailable here, the idmap cases run the chown walk\n");
	}
	make_image();
	return 0;
}

#include "client-sweep.h"

#define SKIP_UNLESS_READY()                                                   \
	do {                                                                  \
		if (skip_reason) {                                            \
			print_message("skip: %s\n", skip_reason);            \
			skip();                                               \
		}                                                             \
	} while (0)

/* Creates container id with a user namespace mapping 0..65535 to
 * host..; snap: the snapshot option. */
static ctr_container *new_container(const char *id, ctr_opt *snap, ctr_opt *extra, const char *script,
				    uint32_t host)
{
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "remap.test/busybox:1", NULL, 0, NULL), 0);
	ctr_id_map m = {0, host, 65536};
	const char *args[] = {"sh", "-c", script, NULL};
	char *cfg = NULL;
	assert_int_equal(ctr_image_config(&cfg, img, NULL), 0);
	ctr_opt *so[] = {ctr_with_image_config(cfg), ctr_with_process_args(args), ctr_with_user_namespace(&m, 1, &m, 1)};
	ctr_opt *co[] = {snap, ctr_with_new_spec((const ctr_opt *const *)so, 3), extra};
	ctr_container *k = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new(&k, cl, id, (const ctr_opt *const *)co, extra ? 3 : 2, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(co[i]);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(so[i]);
	ctr_free(cfg);
	ctr_image_free(img);
	return k;
}

/* Runs k's task with its output in log; the output, NUL-terminated. */
static char *run(ctr_container *k, ctr_opt *owner_u, ctr_opt *owner_g)
{
	char log[256], uri[300];
	snprintf(log, sizeof(log), "%s/%s.log", base, ctr_container_id(k));
	unlink(log);
	snprintf(uri, sizeof(uri), "file://%s", log);
	ctr_opt *to[] = {ctr_with_log_uri(uri), owner_u, owner_g};
	ctr_task *t = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new_task(&t, k, (const ctr_opt *const *)to, owner_u ? 3 : 1, &err);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(to[i]);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	uint32_t status = 99;
	assert_int_equal(ctr_task_wait(&status, NULL, t, 20000, NULL), 0);
	assert_int_equal(ctr_task_delete(NULL, t, CTR_NO_OPTS, NULL), 0);
	ctr_task_free(t);
	char *out = read_all(log);
	assert_non_null(out);
	print_message("%s: exit %u: %s", ctr_container_id(k), status, out);
	return out;
}

/* The owner of path inside the snapshot key as the host mounts it. */
static void host_owner(const char *key, const char *path, uid_t *uid, gid_t *gid)
{
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_mounts(&ml, cl, "overlayfs", key, NULL, 0, NULL), 0);
	char mnt[256], p[512];
	snprintf(mnt, sizeof(mnt), "%s/hostmnt", base);
	mkdir(mnt, 0755);
	assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
	ctr_mount_list_free(ml);
	snprintf(p, sizeof(p), "%s%s", mnt, path);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	*uid = st.st_uid;
	*gid = st.st_gid;
	assert_int_equal(ctr_mount_unmount(mnt, CTR_UNMOUNT_ALL, NULL), 0);
}

/* The value of option name= of the snapshot's first mount, or NULL. */
static char *mount_opt(const char *key, const char *name)
{
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_mounts(&ml, cl, "overlayfs", key, NULL, 0, NULL), 0);
	char *v = NULL;
	for (const char *const *o = ctr_mount_list_options(ml, 0); o && *o; o++)
		if (!strncmp(*o, name, strlen(name)) && (*o)[strlen(name)] == '=')
			v = strdup(*o + strlen(name) + 1);
	ctr_mount_list_free(ml);
	return v;
}

static const char script[] = "stat -c %u /bin/sh; stat -c %u:%g /bin/busybox /etc/u; stat -c %a /etc/s; "
			     "echo changed >> /etc/f; touch /new; stat -c %u:%g /etc/f /new";

static void delete(ctr_container *k)
{
	ctr_opt *del = ctr_with_snapshot_cleanup();
	assert_int_equal(ctr_container_delete(k, (const ctr_opt *const *)&del, 1, NULL), 0);
	ctr_opt_free(del);
	ctr_container_free(k);
}

static void check_host_view(const char *key, uint32_t host)
{
	uid_t u;
	gid_t g;
	host_owner(key, "/bin/busybox", &u, &g);
	assert_int_equal(u, host);
	assert_int_equal(g, host);
	host_owner(key, "/etc/u", &u, &g);
	assert_int_equal(u, host + 1000);
	assert_int_equal(g, host + 1000);
	host_owner(key, "/new", &u, &g);
	assert_int_equal(u, host);
}

static void test_remapped_idmap(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "remap.test/busybox:1", NULL, 0, NULL), 0);
	ctr_container *k = new_container("rm1", ctr_with_remapped_snapshot("rm1", img, HOST_ID, HOST_ID), NULL, script,
					 HOST_ID);
	assert_string_equal(ctr_container_image_name(k), "remap.test/busybox:1");
	/* idmapped: the snapshot carries containerd's labels, and its
	 * mounts say so; its parent is the image's own layer */
	char *u = mount_opt("rm1", "uidmap"), *g = mount_opt("rm1", "gidmap");
	assert_string_equal(u, "0:100000:65536");
	assert_string_equal(g, "0:100000:65536");
	free(u);
	free(g);
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "rm1", NULL, 0, NULL), 0);
	char *chain = NULL;
	assert_int_equal(ctr_image_chain_id(&chain, img, NULL), 0);
	assert_string_equal(ctr_snapshot_info_parent(info), chain);
	bool lu = false;
	for (const char *const *l = ctr_snapshot_info_labels(info); l && *l; l++)
		lu |= !strcmp(*l, CTR_SNAPSHOT_LABEL_UIDMAPPING "=0:100000:65536");
	assert_true(lu);
	ctr_snapshot_info_free(info);
	char *out = run(k, NULL, NULL);
	assert_string_equal(out, "0\n0:0\n1000:1000\n4755\n0:0\n0:0\n");
	free(out);
	check_host_view("rm1", HOST_ID);
	/* the copy-up in the upper directory belongs to the mapped IDs, the
	 * image's layer on disk is untouched */
	char *upper = mount_opt("rm1", "upperdir");
	char p[4200];
	snprintf(p, sizeof(p), "%s/etc/f", upper);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, HOST_ID);
	assert_int_equal(st.st_gid, HOST_ID);
	snprintf(p, sizeof(p), "%s", upper);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, HOST_ID);
	free(upper);
	char *lower = mount_opt("rm1", "lowerdir");
	snprintf(p, sizeof(p), "%s/bin/busybox", lower);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 0);
	free(lower);
	delete(k);
	ctr_free(chain);
	ctr_image_free(img);
}

static void test_remapped_chown_fallback(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	/* As a kernel without idmapped mounts would answer the probe. */
	struct ctr_snapshotter *sn = NULL;
	assert_int_equal(ctr_client_snapshotter(&sn, cl, "overlayfs", NULL), 0);
	int saved = sn->idmap_ok;
	sn->idmap_ok = -1;
	const uint32_t host = 200000;
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "remap.test/busybox:1", NULL, 0, NULL), 0);
	ctr_container *k = new_container("rm2", ctr_with_remapped_snapshot("rm2", img, host, host), NULL, script, host);
	char *u = mount_opt("rm2", "uidmap");
	assert_null(u);
	/* the parent is the shared chowned copy of the image's layer */
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "rm2", NULL, 0, NULL), 0);
	char parent[200];
	snprintf(parent, sizeof(parent), "%s", ctr_snapshot_info_parent(info));
	ctr_snapshot_info_free(info);
	assert_int_equal(strncmp(parent, "sha256:", 7), 0);
	char *chain = NULL;
	assert_int_equal(ctr_image_chain_id(&chain, img, NULL), 0);
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", parent, NULL, 0, NULL), 0);
	assert_string_equal(ctr_snapshot_info_parent(info), chain);
	assert_int_equal(ctr_snapshot_info_kind(info), CTR_SNAPSHOT_COMMITTED);
	ctr_snapshot_info_free(info);
	char *out = run(k, NULL, NULL);
	/* the walk kept the setuid bit the chown clears */
	assert_string_equal(out, "0\n0:0\n1000:1000\n4755\n0:0\n0:0\n");
	free(out);
	check_host_view("rm2", host);
	/* a second container of the same image and mapping shares the copy */
	ctr_container *k2 = new_container("rm3", ctr_with_remapped_snapshot_view("rm3", img, host, host), NULL,
					  "stat -c %u /bin/sh", host);
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "rm3", NULL, 0, NULL), 0);
	assert_string_equal(ctr_snapshot_info_parent(info), parent);
	assert_int_equal(ctr_snapshot_info_kind(info), CTR_SNAPSHOT_VIEW);
	ctr_snapshot_info_free(info);
	delete(k2);
	delete(k);
	sn->idmap_ok = saved;
	ctr_free(chain);
	ctr_image_free(img);
}

static void test_remapper_labels(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "remap.test/busybox:1", NULL, 0, NULL), 0);
	ctr_container *k = new_container("rm4", ctr_with_new_snapshot("rm4", img),
					 ctr_with_remapper_labels(0, HOST_ID, 0, HOST_ID, 65536), script, HOST_ID);
	char *u = mount_opt("rm4", "uidmap");
	assert_string_equal(u, "0:100000:65536");
	free(u);
	char *out = run(k, NULL, NULL);
	assert_string_equal(out, "0\n0:0\n1000:1000\n4755\n0:0\n0:0\n");
	free(out);
	check_host_view("rm4", HOST_ID);
	delete(k);

	/* bad uses, each refused before anything exists */
	assert_null(ctr_with_remapper_labels(0, 4294967295u, 0, 0, 2));
	assert_null(ctr_with_remapper_labels(0, 1, 0, 1, 0));
	assert_null(ctr_with_remapped_snapshot("x", img, 4294967295u - 100, 0));
	ctr_opt *bad[] = {ctr_with_snapshot("rm1"), ctr_with_remapper_labels(0, HOST_ID, 0, HOST_ID, 65536)};
	ctr_error *err = NULL;
	ctr_container *none = NULL;
	assert_int_equal(ctr_container_new(&none, cl, "rm5", (const ctr_opt *const *)bad, 2, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "snapshot options need ctr_with_new_snapshot"));
	ctr_error_free(err);
	err = NULL;
	ctr_opt_free(bad[0]);
	ctr_opt_free(bad[1]);
	/* a mapping without container 0 cannot own the upper directory */
	ctr_opt *no0[] = {ctr_with_new_snapshot("rm6", img), ctr_with_remapper_labels(1, HOST_ID, 1, HOST_ID, 10)};
	assert_int_equal(ctr_container_new(&none, cl, "rm6", (const ctr_opt *const *)no0, 2, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "no entry for container uid and gid 0"));
	ctr_error_free(err);
	ctr_opt_free(no0[0]);
	ctr_opt_free(no0[1]);
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, cl, "overlayfs", "rm6", NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_container_load(&none, cl, "rm6", NULL, 0, NULL), CTR_ENOTFOUND);
	/* on ctr_snapshot_prepare too */
	ctr_opt *lo = ctr_with_remapper_labels(0, HOST_ID, 0, HOST_ID, 65536);
	char *chain = NULL;
	assert_int_equal(ctr_image_chain_id(&chain, img, NULL), 0);
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_view(&ml, cl, "overlayfs", "v1", chain, NULL, CTR_OPTS(lo), NULL), 0);
	bool found = false;
	for (const char *const *o = ctr_mount_list_options(ml, 0); o && *o; o++)
		found |= !strcmp(*o, "uidmap=0:100000:65536");
	assert_true(found);
	ctr_mount_list_free(ml);
	assert_int_equal(ctr_snapshot_remove(cl, "overlayfs", "v1", NULL, 0, NULL), 0);
	ctr_opt_free(lo);
	ctr_free(chain);
	ctr_image_free(img);
}

static void test_io_owner(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, "remap.test/busybox:1", NULL, 0, NULL), 0);
	const char *sc = "stat -Lc %u:%g /proc/self/fd/1; echo reopened > /dev/stdout || echo refused";
	ctr_container *k = new_container("rm7", ctr_with_remapped_snapshot("rm7", img, HOST_ID, HOST_ID), NULL, sc,
					 HOST_ID);
	char *out = run(k, ctr_with_uid_owner(HOST_ID), ctr_with_gid_owner(HOST_ID));
	assert_string_equal(out, "0:0\nreopened\n");
	free(out);
	/* without the owner the pipe is host root's, which the namespace
	 * does not map */
	out = run(k, NULL, NULL);
	assert_non_null(strstr(out, "65534:65534\n"));
	assert_non_null(strstr(out, "refused\n"));
	free(out);
	/* exec'd processes do not take the option: it is the task's */
	delete(k);
	ctr_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_remapped_idmap, teardown),
		cmocka_unit_test_teardown(test_remapped_chown_fallback, teardown),
		cmocka_unit_test_teardown(test_remapper_labels, teardown),
		cmocka_unit_test_teardown(test_io_owner, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
