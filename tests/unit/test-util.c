/* lib/util: identifiers, gc labels, strv, arrays, digests, in-root resolution, atomic writes, locks, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "array.h"
#include "digest.h"
#include "fs.h"
#include "gc-labels.h"
#include "ident.h"
#include "json.h"
#include "macro.h"
#include "strv.h"

static void test_strv(void **state)
{
	(void)state;
	const char *in[] = {"a=1", "", "b", NULL};
	char **c = ctr_strv_dup(in);
	assert_non_null(c);
	assert_int_equal(ctr_strv_len((const char *const *)c), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(c[i], in[i]);
		assert_ptr_not_equal(c[i], in[i]);
	}
	assert_null(c[3]);
	ctr_strv_free(c);
	c = ctr_strv_dup(NULL);
	assert_non_null(c);
	assert_null(c[0]);
	assert_int_equal(ctr_strv_len(NULL), 0);
	ctr_strv_free(c);
}

static void test_array_grow(void **state)
{
	(void)state;
	int *v = NULL;
	size_t cap = 0;
	for (size_t n = 0; n < 100; n++) {
		assert_int_equal(ctr_array_grow((void **)&v, &cap, n, sizeof(*v), NULL), 0);
		assert_true(cap > n);
		v[n] = (int)n;
	}
	for (size_t n = 0; n < 100; n++)
		assert_int_equal(v[n], (int)n);
	/* A size that overflows fails and changes nothing. */
	size_t before = cap;
	ctr_error *e = NULL;
	assert_int_equal(ctr_array_grow((void **)&v, &cap, cap, SIZE_MAX / 4, &e), CTR_ENOMEM);
	assert_non_null(e);
	assert_int_equal(cap, before);
	ctr_err_drop(&e);
	assert_null(e);
	ctr_err_drop(&e);
	ctr_err_drop(NULL);
	free(v);
}

/* Each snapshotter names its own snapshots: the label of a native unpack is
 * not overlayfs's (pull with unpack once wrote "overlayfs" for any unnamed
 * snapshotter). */
static void test_gc_labels(void **state)
{
	(void)state;
	char *l = ctr_gc_label_snapshot("native", "sha256:ab");
	assert_string_equal(l, "containerd.io/gc.ref.snapshot.native=sha256:ab");
	free(l);
	l = ctr_gc_label_snapshot("overlayfs", "sha256:ab");
	assert_string_equal(l, "containerd.io/gc.ref.snapshot.overlayfs=sha256:ab");
	free(l);
	assert_null(ctr_gc_label_snapshot(NULL, "sha256:ab"));
	assert_null(ctr_gc_label_snapshot("", "sha256:ab"));
	assert_null(ctr_gc_label_snapshot("native", ""));
}

static void test_ident(void **state)
{
	(void)state;
	const char *good[] = {"a", "default", "k8s.io", "a_b-c.d", "A1", "0"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(good); i++)
		assert_true(ctr_ident_ok(good[i]));
	char long77[78], long76[77];
	memset(long77, 'a', 77);
	long77[77] = 0;
	memset(long76, 'a', 76);
	long76[76] = 0;
	assert_true(ctr_ident_ok(long76));
	const char *bad[] = {"../x", "a/b", "", long77, "a--b", ".a", "a.", "-a", "a b", "..", ".", "a\n", "é"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		ctr_error *err = NULL;
		assert_false(ctr_ident_ok(bad[i]));
		assert_int_equal(ctr_ident_validate(bad[i], "namespace", &err), CTR_EINVAL);
		assert_non_null(err);
		assert_non_null(strstr(ctr_error_message(err), "invalid namespace"));
		ctr_error_free(err);
	}
	assert_int_equal(ctr_ident_validate(NULL, "x", NULL), CTR_EINVAL);
}

static void test_digest(void **state)
{
	(void)state;
	char out[CTR_DIGEST_MAX];
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, "abc", 3, out, NULL), 0);
	assert_string_equal(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA512, "abc", 3, out, NULL), 0);
	assert_string_equal(out, "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	ctr_digest_alg alg;
	const char *hex;
	assert_int_equal(ctr_digest_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &alg, &hex, NULL), 0);
	assert_int_equal(alg, CTR_DIGEST_SHA256);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(ctr_digest_parse("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", NULL, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_digest_parse("sha256:abc", NULL, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_digest_parse("sha256", NULL, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_digest_parse("", NULL, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_digest_parse("md5:d41d8cd98f00b204e9800998ecf8427e", NULL, NULL, NULL), CTR_ENOTSUP);
	assert_int_equal(ctr_digest_parse("sha256:../../../../etc/passwd000000000000000000000000000000000000000", NULL, NULL, NULL), CTR_EINVAL);

	/* Save and restore of hash state resumes the same digest. */
	ctr_hasher *h1, *h2;
	assert_int_equal(ctr_hasher_new(&h1, CTR_DIGEST_SHA256, NULL), 0);
	assert_int_equal(ctr_hasher_new(&h2, CTR_DIGEST_SHA256, NULL), 0);
	ctr_hasher_update(h1, "a", 1);
	char st[512];
	size_t n = ctr_hasher_save(h1, st, sizeof(st));
	assert_true(n > 0);
	assert_int_equal(ctr_hasher_restore(h2, st, n), 0);
	ctr_hasher_update(h2, "bc", 2);
	ctr_hasher_peek(h2, out);
	assert_string_equal(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ctr_hasher_free(h1);
	ctr_hasher_free(h2);
}

static char tmpdir[256];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctr-util-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	ctr_rm_rf_at(AT_FDCWD, tmpdir, NULL);
	return 0;
}

static void test_in_root(void **state)
{
	(void)state;
	char p[512];
	/* root/ with a victim file beside it outside. */
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/victim", tmpdir);
	int vf = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(vf >= 0);
	close(vf);
	snprintf(p, sizeof(p), "%s/root/up", tmpdir);
	assert_int_equal(symlink("../..", p), 0);
	snprintf(p, sizeof(p), "%s/root/abs", tmpdir);
	assert_int_equal(symlink("/", p), 0);
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	int root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);

	const char *escapes[] = {"../victim", "/../victim", "up/victim", "abs/victim", "up/up/../victim"};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(escapes); i++) {
		int fd = ctr_openat_in_root(root, escapes[i], O_WRONLY | O_CREAT | O_TRUNC, 0600, NULL);
		assert_true(fd >= 0); /* created inside the root, never outside */
		close(fd);
		snprintf(p, sizeof(p), "%s/root/victim", tmpdir);
		assert_int_equal(access(p, F_OK), 0);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/victim", tmpdir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* No file appeared next to the root. */
	DIR *d = opendir(tmpdir);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	assert_int_equal(n, 4); /* ., .., root, victim */

	char *base = NULL;
	int pfd = ctr_open_parent_in_root(root, "up/../x/..", &base, NULL);
	assert_true(pfd < 0);
	pfd = ctr_open_parent_in_root(root, "up/newfile", &base, NULL);
	assert_true(pfd >= 0);
	assert_string_equal(base, "newfile");
	free(base);
	close(pfd);
	close(root);
}

static void test_atomic_and_read(void **state)
{
	(void)state;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(ctr_write_atomic(dfd, "f", "hello", 5, 0600, NULL), 0);
	char *buf;
	size_t len;
	assert_int_equal(ctr_read_file(dfd, "f", 100, &buf, &len, NULL), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	ctr_error *err = NULL;
	assert_int_equal(ctr_read_file(dfd, "f", 4, &buf, &len, &err), CTR_EINVAL);
	ctr_error_free(err);
	assert_int_equal(ctr_read_file(dfd, "missing", 4, &buf, &len, NULL), CTR_ENOTFOUND);
	close(dfd);
}

/* A writer killed between the temp file and the rename leaves the temp
 * file, which kept a task's bundle directory from being removed (crash
 * test, CRASH_SEED=1111, kill 42). The dead writer's goes; a live one's
 * (ours, or a running child's) and other names stay. */
static void test_atomic_leftovers(void **state)
{
	(void)state;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t live = fork();
	if (live == 0) {
		char b;
		close(go[1]);
		_exit(read(go[0], &b, 1) < 0);
	}
	close(go[0]);
	char n_dead[64], n_live[64], n_self[64];
	snprintf(n_dead, sizeof(n_dead), ".tmp-%d-123", (int)dead);
	snprintf(n_live, sizeof(n_live), ".tmp-%d-456", (int)live);
	snprintf(n_self, sizeof(n_self), ".tmp-%d-789", (int)getpid());
	const char *names[] = {n_dead, n_live, n_self, ".tmp-x-1", ".tmp-1-2-3", "keep", NULL};
	for (size_t i = 0; names[i]; i++)
		close(openat(dfd, names[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	ctr_write_atomic_leftovers(dfd);
	assert_int_equal(faccessat(dfd, n_dead, F_OK, 0), -1);
	for (size_t i = 1; names[i]; i++)
		assert_int_equal(faccessat(dfd, names[i], F_OK, 0), 0);
	close(go[1]);
	assert_int_equal(waitpid(live, NULL, 0), live);
	close(dfd);
}

static void test_lock(void **state)
{
	(void)state;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int l1 = ctr_lock_path(dfd, "lock", true, 0, NULL);
	assert_true(l1 >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		int l2 = ctr_lock_path(dfd, "lock", true, 50, NULL);
		_exit(l2 == CTR_EBUSY ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(l1);
	int l3 = ctr_lock_path(dfd, "lock", true, 0, NULL);
	assert_true(l3 >= 0);
	close(l3);
	close(dfd);
}

static void test_json(void **state)
{
	(void)state;
	json_t *v = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_json_parse("{\"a\":1}", 7, 100, 4, "doc", &v, NULL), 0);
	json_decref(v);
	assert_int_equal(ctr_json_parse("{\"a\":1}", 7, 6, 4, "doc", &v, &err), CTR_EINVAL);
	ctr_error_free(err);
	err = NULL;
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_int_equal(ctr_json_parse(deep, 200, 1000, 64, "doc", &v, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "deeper"));
	ctr_error_free(err);
	/* Brackets inside strings do not count. */
	const char *s = "{\"a\":\"[[[[[[[[[[\"}";
	assert_int_equal(ctr_json_parse(s, strlen(s), 100, 2, "doc", &v, NULL), 0);
	json_decref(v);
	assert_int_equal(ctr_json_parse("{\"a\":1,\"a\":2}", 13, 100, 4, "doc", &v, NULL), CTR_EINVAL);
	assert_int_equal(ctr_json_parse("{", 1, 100, 4, "doc", &v, NULL), CTR_EINVAL);

	const char *labels[] = {"b=2", "a=1", NULL};
	json_t *o = ctr_json_from_labels(labels, NULL);
	char **back = ctr_json_to_labels(o);
	assert_string_equal(back[0], "a=1");
	assert_string_equal(back[1], "b=2");
	assert_null(back[2]);
	ctr_strv_free(back);
	json_decref(o);
	const char *badl[] = {"novalue", NULL};
	assert_null(ctr_json_from_labels(badl, NULL));
}

static void test_errors(void **state)
{
	(void)state;
	ctr_error *err = NULL;
	assert_int_equal(ctr_err(&err, CTR_EIO, ENOENT, "open %s", "x"), CTR_EIO);
	assert_string_equal(ctr_error_message(err), "open x: No such file or directory");
	assert_int_equal(ctr_error_errno(err), ENOENT);
	assert_int_equal(ctr_error_code_of(err), CTR_EIO);
	/* First error wins; context is prefixed on the way up. */
	ctr_err(&err, CTR_EINVAL, 0, "ignored");
	ctr_err_prefix(&err, CTR_EIO, "pull %s", "ref");
	assert_string_equal(ctr_error_message(err), "pull ref: open x: No such file or directory");
	ctr_error_free(err);
	assert_string_equal(ctr_strerror(CTR_EDIGEST), "digest mismatch");
	ctr_error_free(NULL);
}

/* containerd's ParseSignal: numbers, names with or without SIG in any
 * case, the real-time range; anything else is CTR_EINVAL and *sig stays. */
static void test_parse_signal(void **state)
{
	(void)state;
	int sig = 0;
	assert_int_equal(ctr_parse_signal(&sig, "SIGTERM", NULL), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(ctr_parse_signal(&sig, "kill", NULL), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(ctr_parse_signal(&sig, "SigQuit", NULL), 0);
	assert_int_equal(sig, SIGQUIT);
	assert_int_equal(ctr_parse_signal(&sig, "15", NULL), 0);
	assert_int_equal(sig, 15);
	assert_int_equal(ctr_parse_signal(&sig, "RTMIN+2", NULL), 0);
	assert_int_equal(sig, SIGRTMIN + 2);
	assert_int_equal(ctr_parse_signal(&sig, "SIGRTMAX-1", NULL), 0);
	assert_int_equal(sig, SIGRTMAX - 1);
	/* the ends of the range by name alone, and a sign as Go's Atoi takes it */
	assert_int_equal(ctr_parse_signal(&sig, "RTMIN", NULL), 0);
	assert_int_equal(sig, SIGRTMIN);
	assert_int_equal(ctr_parse_signal(&sig, "sigrtmax", NULL), 0);
	assert_int_equal(sig, SIGRTMAX);
	assert_int_equal(ctr_parse_signal(&sig, "+9", NULL), 0);
	assert_int_equal(sig, 9);
	static const char *const bad[] = {"", "0", "65", "-9", "SIGNOPE", "RTMIN+99", "RTMAX+1", "9x", "TERM ",
					  " 9", "RTMIN 2", "RTMIN2", "RTMIN+", "RTMIN+ 2", "RTMAX-99999999999999999999",
					  "RTMIN+9223372036854775807"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sig = 77;
		ctr_error *e = NULL;
		assert_int_equal(ctr_parse_signal(&sig, bad[i], &e), CTR_EINVAL);
		assert_int_equal(sig, 77);
		assert_non_null(strstr(ctr_error_message(e), "unknown signal"));
		ctr_error_free(e);
	}
	assert_int_equal(ctr_parse_signal(NULL, "TERM", NULL), CTR_EINVAL);
	assert_int_equal(ctr_parse_signal(&sig, NULL, NULL), CTR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_digest),
		cmocka_unit_test_setup_teardown(test_in_root, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_atomic_and_read, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_atomic_leftovers, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_lock, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_gc_labels),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_array_grow),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
