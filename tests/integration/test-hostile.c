/* Hostile registries and images: ctr_image_pull against
 * tests/fixtures/hostileserver.py, a registry that misbehaves on purpose
 * (manifests that are huge, truncated, lying, ambiguous, schema 1, nested
 * too deep; blobs with wrong bytes, cut short, ignoring Range; redirects
 * to another host, foreign layer URLs, a 401 loop; diff_ids that do not
 * match, gzip and zstd bombs; tar entries with NUL, overlong and empty
 * names, PAX names that escape, device nodes, links through symlinks).
 * Each case is one test: the exact CTR_E* code and a word of the message,
 * then that the pull left nothing (no image, blob, ingest, lease or
 * snapshot) and that nothing was written outside the root (the victim
 * directory the tar entries aim at stays empty). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctr/ctr.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"

static char top[64], srvdir[128], addr[64], other[64], victim[256];
static const char *src;
static pid_t srv_pid;
static int n_root;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			buf = realloc(buf, cap + 1);
		}
		size_t got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	return buf;
}

static int creds(const char *host, ctr_credentials *cred, void *ud)
{
	(void)host, (void)ud;
	return ctr_credentials_set(cred, "alice", "s3cret", NULL);
}

enum { UNPACK = 1, LIMIT = 2, PARTIAL = 4 };

struct hcase {
	const char *name; /* the repository, and the test's name */
	int flags;
	int rc;           /* 0: the pull succeeds */
	const char *msg;  /* a word of the error message */
};

/* Nothing in the namespace: no blob, image, ingest, lease or snapshot. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Nothing in the namespace: no image, lease or snapshot; blobs only when
 * keep_verified (a failed unpack keeps the blobs it verified, unreferenced,
 * as containerd's pull does until the next collection), and then each
 * re-hashes to its name; ingests only when keep_partial (a download cut
 * short stays to be resumed with Range, as containerd keeps it), and then
 * each is short of its total. */
static void assert_nothing_but(ctr_client *c, bool keep_verified, bool keep_partial)
{
	size_t n = 9;
	ctr_content_info **ci = NULL;
	assert_int_equal(ctr_content_list(&ci, &n, c, NULL, 0, NULL, 0, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		const char *d = ctr_content_info_digest(ci[i]);
		if (!keep_verified)
			fail_msg("blob left: %s", d);
		if (sh("test \"$(sha256sum < %s/content/blobs/sha256/%s | cut -d' ' -f1)\" = %s", ctr_client_root(c),
		       d + 7, d + 7))
			fail_msg("blob %s does not re-hash to its name", d);
	}
	ctr_content_info_list_free(ci, n);
	ctr_image **im = NULL;
	assert_int_equal(ctr_image_list(&im, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_image_list_free(im, n);
	ctr_content_status **st = NULL;
	assert_int_equal(ctr_content_status_list(&st, &n, c, NULL, 0, NULL, 0, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (!keep_partial)
			fail_msg("ingest left: %s", ctr_content_status_ref(st[i]));
		assert_true(ctr_content_status_offset(st[i]) < ctr_content_status_total(st[i]));
	}
	ctr_content_status_list_free(st, n);
	ctr_lease **ls = NULL;
	assert_int_equal(ctr_lease_list(&ls, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_lease_list_free(ls, n);
	ctr_snapshot_info **sn = NULL;
	assert_int_equal(ctr_snapshot_list(&sn, &n, c, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_snapshot_info_list_free(sn, n);
}


/* The victim directory beside the root: tar entries aim at it. */
static void assert_victim_empty(void)
{
	DIR *d = opendir(victim);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			fail_msg("written outside the root: %s/%s", victim, e->d_name);
	closedir(d);
}

/* How many requests the other host saw, and that none carried credentials. */
static size_t other_requests(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "curl -sf http://%s/_log > %s/log.json", addr, srvdir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/log.json", srvdir);
	json_t *log = json_load_file(cmd, 0, NULL);
	assert_non_null(log);
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(log, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "server")), "other"))
			continue;
		n++;
		if (!json_is_null(json_object_get(e, "auth")))
			fail_msg("credentials followed to the other host: %s", json_string_value(json_object_get(e, "auth")));
	}
	json_decref(log);
	return n;
}

static int pull(ctr_client *c, const struct hcase *k, ctr_image **img, ctr_error **err)
{
	char ref[256];
	snprintf(ref, sizeof(ref), "%s/%s:latest", addr, k->name);
	ctr_opt *o[4] = {ctr_with_plain_http(), ctr_with_credentials(creds, NULL), NULL, NULL};
	size_t n = 2;
	if (k->flags & UNPACK)
		o[n++] = ctr_with_pull_unpack();
	if (k->flags & LIMIT)
		o[n++] = ctr_with_pull_max_layer_size(1u << 20);
	int r = ctr_image_pull(img, c, ref, (const ctr_opt *const *)o, n, err);
	for (size_t i = 0; i < n; i++)
		ctr_opt_free(o[i]);
	return r;
}

static void run_case(void **state)
{
	const struct hcase *k = *state;
	char root[192], st[192];
	snprintf(root, sizeof(root), "%s/root%d", top, n_root);
	snprintf(st, sizeof(st), "%s/state%d", top, n_root++);
	ctr_client *c = NULL;
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(st);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(ro, so), NULL), 0);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	size_t before = other_requests();
	ctr_error *err = NULL;
	ctr_image *img = NULL;
	int r = pull(c, k, &img, &err);
	const char *m = err ? ctr_error_message(err) : "";
	if (r != k->rc || (k->msg && !strcasestr(m, k->msg)))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", k->name, r, m, k->rc, k->msg ? k->msg : "");
	ctr_error_free(err);
	if (k->rc)
		assert_nothing_but(c, k->flags & UNPACK, k->flags & PARTIAL);
	else
		assert_non_null(img);
	ctr_image_free(img);
	assert_victim_empty();
	size_t after = other_requests();
	if (!strcmp(k->name, "auth-redirect") || !strcmp(k->name, "auth-foreign"))
		assert_true(after > before); /* the blob did come from the other host */
	ctr_client_free(c);
}

static ctr_client *client_in(const char *dir, ctr_error **err)
{
	char root[256], st[256];
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(st, sizeof(st), "%s/state", dir);
	ctr_client *c = NULL;
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(st);
	int r = ctr_client_new(&c, CTR_OPTS(ro, so), err);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	return r < 0 ? NULL : c;
}

/* The store check finds nothing: a failed pull left the store consistent. */
static void assert_store_consistent(ctr_client *c)
{
	ctr_check_report *rep = NULL;
	ctr_error *err = NULL;
	if (ctr_client_check(&rep, c, CTR_NO_OPTS, &err) < 0)
		fail_msg("check: %s", ctr_error_message(err));
	size_t n = ctr_check_report_count(rep);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "finding: %s %s: %s\n", ctr_check_report_kind_name(rep, i),
			ctr_check_report_subject(rep, i), ctr_check_report_detail(rep, i));
	ctr_check_report_free(rep);
	assert_int_equal(n, 0);
}

/* The 3 MiB layer pulled onto a full mnt: the error is ENOSPC and names a
 * path under mnt; nothing is committed (no image, snapshot or lease; blobs
 * only verified ones); the check finds the store consistent. With mnt
 * grown, the same pull succeeds and the store is still consistent. */
static void full_then_room(ctr_client *c, const char *mnt)
{
	const struct hcase big = {"big", UNPACK, 0, NULL};
	ctr_error *err = NULL;
	ctr_image *img = NULL;
	int r = pull(c, &big, &img, &err);
	const char *m = ctr_error_message(err);
	if (r != CTR_EIO || ctr_error_errno(err) != ENOSPC || !strstr(m, "No space left on device") ||
	    !strstr(m, mnt))
		fail_msg("full disk: %d errno %d \"%s\"", r, ctr_error_errno(err), m);
	ctr_error_free(err);
	err = NULL;
	assert_null(img);
	assert_nothing_but(c, true, true);
	assert_store_consistent(c);
	assert_int_equal(sh("mount -o remount,size=64m %s", mnt), 0);
	if ((r = pull(c, &big, &img, &err)) < 0)
		fail_msg("after freeing space: %s", ctr_error_message(err));
	assert_non_null(img);
	ctr_image_free(img);
	ctr_snapshot_info **sn = NULL;
	size_t n = 0;
	assert_int_equal(ctr_snapshot_list(&sn, &n, c, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ctr_snapshot_info_kind(sn[0]), CTR_SNAPSHOT_COMMITTED);
	ctr_snapshot_info_list_free(sn, n);
	assert_store_consistent(c);
}

/* A pull with unpack onto a 4 MiB tmpfs: the 3 MiB layer is stored and
 * unpacked, which does not fit. */
static void test_enospc(void **state)
{
	(void)state;
	char mnt[128];
	snprintf(mnt, sizeof(mnt), "%s/small", top);
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(sh("mount -t tmpfs -o size=4m tmpfs %s", mnt), 0);
	ctr_client *c = client_in(mnt, NULL);
	assert_non_null(c);
	full_then_room(c, mnt);
	ctr_client_free(c);
	assert_int_equal(sh("umount %s", mnt), 0);
}

/* ENOSPC in the unpack itself: the content store has room, the snapshots
 * (a 2 MiB tmpfs on <root>/snapshots) have none for the 3 MiB file, and
 * the error names the layer's directory there. */
static void test_enospc_unpack(void **state)
{
	(void)state;
	char dir[128], snaps[192];
	snprintf(dir, sizeof(dir), "%s/unpackfull", top);
	snprintf(snaps, sizeof(snaps), "%s/root/snapshots", dir);
	assert_int_equal(sh("mkdir -p %s %s/state", snaps, dir), 0);
	assert_int_equal(sh("mount -t tmpfs -o size=2m tmpfs %s", snaps), 0);
	ctr_client *c = client_in(dir, NULL);
	assert_non_null(c);
	full_then_room(c, snaps);
	ctr_client_free(c);
	assert_int_equal(sh("umount %s", snaps), 0);
}

/* A read-only root: one clear error at ctr_client_new. */
static void test_readonly_root(void **state)
{
	(void)state;
	char mnt[128];
	snprintf(mnt, sizeof(mnt), "%s/ro", top);
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(sh("mount -t tmpfs -o size=4m tmpfs %s && mkdir %s/root %s/state", mnt, mnt, mnt), 0);
	assert_int_equal(sh("mount -o remount,ro %s", mnt), 0);
	ctr_error *err = NULL;
	ctr_client *c = client_in(mnt, &err);
	assert_null(c);
	assert_int_equal(ctr_error_code_of(err), CTR_EPERM);
	const char *m = ctr_error_message(err);
	if (!strstr(m, "not writable") || !strstr(m, "Read-only file system") || !strstr(m, mnt))
		fail_msg("read-only root: \"%s\"", m);
	ctr_error_free(err);
	assert_int_equal(sh("umount %s", mnt), 0);
}

static const struct hcase cases[] = {
	{"good", UNPACK, 0, NULL},
	/* manifests */
	{"m-huge", 0, CTR_EINVAL, "bytes"},
	{"m-truncated", 0, CTR_EINVAL, "JSON"},
	{"m-truncated-wire", 0, CTR_EUNAVAILABLE, "transfer closed"},
	{"m-size-lie", 0, CTR_EDIGEST, "size"},
	{"m-mediatype", 0, CTR_EINVAL, "media"},
	{"m-both", 0, CTR_EINVAL, "manifests"},
	{"m-schema1", 0, CTR_ENOTSUP, "schema"},
	{"m-deep", 0, CTR_EINVAL, "nest"},
	{"m-nested", 0, CTR_EINVAL, "nested deeper than 16"},
	/* blobs */
	{"b-wrong", UNPACK, CTR_EDIGEST, "digest"},
	{"b-short", UNPACK | PARTIAL, CTR_EUNAVAILABLE, "transfer closed"},
	{"b-norange", UNPACK, 0, NULL},
	/* auth and redirects */
	{"auth-redirect", UNPACK, 0, NULL},
	{"auth-foreign", UNPACK, 0, NULL},
	{"auth-401loop", 0, CTR_EPERM, NULL},
	/* layers */
	{"l-diffid", UNPACK, CTR_EDIGEST, "diff"},
	{"l-gzbomb", UNPACK | LIMIT, CTR_EINVAL, "exceeds 1048576 bytes"},
	{"l-zstdbomb", UNPACK, CTR_EINVAL, "bomb"},
	{"l-zstdbomb", UNPACK | LIMIT, CTR_EINVAL, "exceeds 1048576 bytes"},
	/* tar entries */
	/* libarchive ends the PAX path at the NUL: "a", inside the root */
	{"t-nul", UNPACK, 0, NULL},
	{"t-longname", UNPACK, CTR_EINVAL, "long"},
	{"t-emptyname", UNPACK, CTR_EINVAL, "empty"},
	{"t-pax", UNPACK, 0, NULL},
	{"t-device", UNPACK, 0, NULL},
	/* esc -> the victim's absolute path, resolved in the root, where it dangles */
	{"t-symlink", UNPACK, CTR_EINVAL, "dangling symlink"},
};

static int group_setup(void **state)
{
	(void)state;
	src = getenv("MESON_SOURCE_ROOT");
	if (!src || getuid() != 0 || access("/usr/bin/zstd", X_OK) || access("/usr/bin/curl", X_OK)) {
		fprintf(stderr, "skipped: needs MESON_SOURCE_ROOT, root (overlay unpack), zstd and curl\n");
		return -1;
	}
	strcpy(top, "/tmp/test-hostile.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(srvdir, sizeof(srvdir), "%s/srv", top);
	if (mkdir(srvdir, 0700) < 0)
		return -1;
	srv_pid = fork();
	if (srv_pid == 0) {
		char owner[16], script[512];
		snprintf(owner, sizeof(owner), "%d", (int)getppid());
		snprintf(script, sizeof(script), "%s/tests/fixtures/hostileserver.py", src);
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(fd, 0);
		execlp("python3", "python3", script, srvdir, owner, (char *)NULL);
		_exit(127);
	}
	char p[256];
	snprintf(p, sizeof(p), "%s/addr", srvdir);
	char *a = NULL;
	for (int i = 0; i < 600 && !(a = slurp(p)); i++)
		usleep(50 * 1000);
	if (!a)
		return -1;
	a[strcspn(a, "\n")] = 0;
	snprintf(addr, sizeof(addr), "%s", a);
	free(a);
	snprintf(p, sizeof(p), "%s/other", srvdir);
	a = slurp(p);
	if (!a)
		return -1;
	a[strcspn(a, "\n")] = 0;
	snprintf(other, sizeof(other), "%s", a);
	free(a);
	snprintf(victim, sizeof(victim), "%s/victim", srvdir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (top[0]) /* mounts of a failed test */
		sh("umount -l %s/small %s/ro %s/unpackfull/root/snapshots 2>/dev/null", top, top, top);
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
	}
	if (top[0])
		ctr_rm_rf_at(AT_FDCWD, top, NULL);
	return 0;
}

int main(void)
{
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N + 3];
	static char names[N][64];
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%s", cases[i].name, cases[i].flags & LIMIT ? "-limit" : "");
		tests[i] = (struct CMUnitTest){names[i], run_case, NULL, NULL, (void *)(uintptr_t)&cases[i]};
	}
	tests[N] = (struct CMUnitTest)cmocka_unit_test(test_enospc);
	tests[N + 1] = (struct CMUnitTest)cmocka_unit_test(test_enospc_unpack);
	tests[N + 2] = (struct CMUnitTest)cmocka_unit_test(test_readonly_root);
	return _cmocka_run_group_tests("hostile", tests, N + 3, group_setup, group_teardown);
}
