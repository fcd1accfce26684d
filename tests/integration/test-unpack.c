/* Unpack for real (root): images made by tests/fixtures/mkimage.py, loaded
 * through the content API, unpacked into overlayfs and native snapshots,
 * mounted, and compared with `umoci unpack` of the same image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "client.h"
#include "platforms.h"
#include "layout.h"
#include "unpack.h"
#include "fs.h"

static char tmp[256];
static char src_root[1024];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-unpack-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[600];
	snprintf(p, sizeof(p), "%s/mnt", tmp);
	umount2(p, MNT_DETACH);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
	return 0;
}

/* Unpacks `image` of c into sn, mounts a view of its top layer on mnt. */
static void unpack_and_mount(ctr_client *c, const char *name, const char *sn, const char *mnt)
{
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_get(&img, c, name, NULL, 0, NULL), 0);
	if (ctr_image_unpack(img, sn, NULL, 0, &err) < 0)
		fail_msg("unpack %s into %s: %s", name, sn, ctr_error_message(err));
	bool unpacked = false;
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, sn, NULL), 0);
	assert_true(unpacked);
	char *chain = NULL;
	assert_int_equal(ctr_image_chain_id(&chain, img, NULL), 0);
	char key[300];
	snprintf(key, sizeof(key), "view-%s-%s", name, sn);
	ctr_mount_list *m = NULL;
	assert_int_equal(ctr_snapshot_view(&m, c, sn, key, chain, NULL, NULL, 0, NULL), 0);
	mkdir(mnt, 0755);
	if (ctr_mount_list_mount(m, mnt, &err) < 0)
		fail_msg("mount: %s", ctr_error_message(err));
	ctr_mount_list_free(m);
	free(chain);
	ctr_image_free(img);
}

static void test_tree_matches_umoci(void **state)
{
	(void)state;
	char layout[600], bundle[600], mnt[600];
	snprintf(layout, sizeof(layout), "%s/tree", tmp);
	snprintf(bundle, sizeof(bundle), "%s/umoci", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py tree %s --tag latest >/dev/null", src_root, layout), 0);
	assert_int_equal(test_sh("umoci unpack --image %s:latest %s >/dev/null 2>&1", layout, bundle), 0);
	const char *sns[] = {"overlayfs", "native", "erofs"};
	for (int i = 0; i < 3; i++) {
		ctr_client *c = test_client(tmp, sns[i]);
		assert_int_equal(layout_load(c, layout, "test/tree:latest", 0), 0);
		unpack_and_mount(c, "test/tree:latest", sns[i], mnt);
		int rc = test_sh("python3 %s/tests/fixtures/treecmp.py %s/rootfs %s", src_root, bundle, mnt);
		int rc2 = test_sh("python3 %s/tests/fixtures/mkimage.py check-tree %s %s/expected.json", src_root, mnt, layout);
		umount2(mnt, MNT_DETACH);
		assert_int_equal(rc, 0);
		assert_int_equal(rc2, 0);
		if (!strcmp(sns[i], "erofs")) {
			/* each of the three layers is an image, never files on the
			 * host, and fsck.erofs accepts every one */
			assert_int_equal(test_sh("cd %s/%s-root/snapshots/erofs/snapshots && n=0 && "
						 "for f in */layer.erofs; do fsck.erofs $f >/dev/null || exit 1; n=$((n+1)); done && "
						 "[ $n = 3 ] && [ -z \"$(find . -path '*/fs/*' -print -quit)\" ]", tmp, sns[i]), 0);
		}
		/* A container's changes as a layer: write and delete through the
		 * mounted active snapshot, then diff it into the content store. */
		{
			char *chain = NULL;
			ctr_image *im2 = NULL;
			assert_int_equal(ctr_image_get(&im2, c, "test/tree:latest", NULL, 0, NULL), 0);
			assert_int_equal(ctr_image_chain_id(&chain, im2, NULL), 0);
			ctr_mount_list *ml = NULL;
			assert_int_equal(ctr_snapshot_prepare(&ml, c, sns[i], "work", chain, NULL, NULL, 0, NULL), 0);
			assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
			assert_int_equal(test_sh("echo new >%s/new.txt && rm %s/a/keep.txt", mnt, mnt), 0);
			umount2(mnt, MNT_DETACH);
			ctr_mount_list_free(ml);
			char *dg = NULL, *did = NULL;
			int64_t sz = 0;
			ctr_error *derr = NULL;
			if (ctr_snapshot_diff(&dg, &did, &sz, c, sns[i], "work", "gzip", NULL, 0, &derr) < 0)
				fail_msg("diff: %s", ctr_error_message(derr));
			assert_true(sz > 0);
			ctr_content_reader *rd = NULL;
			assert_int_equal(ctr_content_reader_open(&rd, c, dg, NULL, 0, NULL), 0);
			char blob[600];
			snprintf(blob, sizeof(blob), "%s/diff.tgz", tmp);
			FILE *bf = fopen(blob, "w");
			char buf[65536];
			int64_t off = 0;
			size_t nr = 0;
			while (ctr_content_reader_pread(&nr, rd, buf, sizeof(buf), off, NULL) == 0 && nr > 0) {
				fwrite(buf, 1, nr, bf);
				off += (int64_t)nr;
			}
			fclose(bf);
			ctr_content_reader_free(rd);
			assert_int_equal(test_sh("tar -tzf %s | grep -qx new.txt && tar -tzf %s | grep -qx a/.wh.keep.txt", blob, blob), 0);
			/* Only the changes: nothing of the image's own files. */
			assert_int_equal(test_sh("! tar -tzf %s | grep -q big.bin", blob), 0);
			assert_int_equal(test_sh("[ \"sha256:$(gzip -dc %s | sha256sum | cut -d' ' -f1)\" = %s ]", blob, did), 0);
			ctr_free(dg);
			ctr_free(did);
			free(chain);
			ctr_image_free(im2);
			assert_int_equal(ctr_snapshot_remove(c, sns[i], "work", NULL, 0, NULL), 0);
		}
		/* Unpacking again unpacks nothing new. */
		ctr_image *img = NULL;
		assert_int_equal(ctr_image_get(&img, c, "test/tree:latest", NULL, 0, NULL), 0);
		assert_int_equal(ctr_image_unpack(img, sns[i], NULL, 0, NULL), 0);
		ctr_snapshot_info **v = NULL;
		size_t n = 0;
		assert_int_equal(ctr_snapshot_list(&v, &n, c, sns[i], NULL, 0, NULL, 0, NULL), 0);
		assert_int_equal(n, 4); /* three layers and the view */
		for (size_t k = 0; k < n; k++)
			assert_null(strstr(ctr_snapshot_info_name(v[k]), "extract-"));
		ctr_snapshot_info_list_free(v, n);
		ctr_image_free(img);
		ctr_client_free(c);
	}
}

static void test_zstd_same_tree(void **state)
{
	(void)state;
	char gz[600], zs[600], mnt[600], mnt2[600];
	snprintf(gz, sizeof(gz), "%s/gz", tmp);
	snprintf(zs, sizeof(zs), "%s/zs", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(mnt2, sizeof(mnt2), "%s/mnt2", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py tree %s >/dev/null", src_root, gz), 0);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py tree %s --compress zstd >/dev/null", src_root, zs), 0);
	ctr_client *c = test_client(tmp, "zstd");
	assert_int_equal(layout_load(c, gz, "gz", 0), 0);
	assert_int_equal(layout_load(c, zs, "zs", 0), 0);
	unpack_and_mount(c, "gz", "overlayfs", mnt);
	unpack_and_mount(c, "zs", "overlayfs", mnt2);
	int rc = test_sh("python3 %s/tests/fixtures/treecmp.py %s %s", src_root, mnt, mnt2);
	umount2(mnt, MNT_DETACH);
	umount2(mnt2, MNT_DETACH);
	assert_int_equal(rc, 0);
	ctr_client_free(c);
}

static int kill_midway(const char *digest, uint64_t done, uint64_t total, void *ud)
{
	(void)digest;
	(void)ud;
	if (total > 100000 && done > total / 3)
		raise(SIGKILL);
	return 0;
}

struct count {
	uint64_t bytes;
};

static int count_bytes(const char *digest, uint64_t done, uint64_t total, void *ud)
{
	(void)digest;
	(void)total;
	static uint64_t last;
	struct count *c = ud;
	if (done < last)
		last = 0;
	c->bytes += done - last;
	last = done;
	return 0;
}

static void test_interrupted_and_concurrent(void **state)
{
	(void)state;
	char layout[600];
	snprintf(layout, sizeof(layout), "%s/tree", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py tree %s >/dev/null", src_root, layout), 0);
	ctr_client *c = test_client(tmp, "kill");
	assert_int_equal(layout_load(c, layout, "tree", 0), 0);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, "tree", NULL, 0, NULL), 0);
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_default(&pm);
	/* A child killed with SIGKILL in the middle of the big first layer. */
	pid_t pid = fork();
	if (pid == 0) {
		struct ctr_unpack_progress p = {kill_midway, NULL};
		ctr_unpack_parallel(c, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img), &pm,
			   "overlayfs", NULL, &p, NULL, NULL);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* No committed snapshot for any layer; the half-done one is only an extract key. */
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_snapshot_list(&v, &n, c, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	for (size_t k = 0; k < n; k++) {
		assert_int_not_equal(ctr_snapshot_info_kind(v[k]), CTR_SNAPSHOT_COMMITTED);
		assert_non_null(strstr(ctr_snapshot_info_name(v[k]), "extract-"));
	}
	ctr_snapshot_info_list_free(v, n);
	bool unpacked = true;
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, "overlayfs", NULL), 0);
	assert_false(unpacked);

	/* Two processes at once: both succeed, and every layer is read once in all. */
	int fds[2][2];
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pipe(fds[k]), 0);
		kids[k] = fork();
		if (kids[k] == 0) {
			ctr_client *c2 = test_client(tmp, "kill");
			struct count cnt = {0};
			struct ctr_unpack_progress p = {count_bytes, &cnt};
			int r = ctr_unpack_parallel(c2, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img),
					   &pm, "overlayfs", NULL, &p, NULL, NULL);
			if (write(fds[k][1], &cnt.bytes, sizeof(cnt.bytes)) < 0)
				_exit(3);
			_exit(r == 0 ? 0 : 2);
		}
		close(fds[k][1]);
	}
	uint64_t total = 0;
	for (int k = 0; k < 2; k++) {
		uint64_t b = 0;
		assert_int_equal(read(fds[k][0], &b, sizeof(b)), (ssize_t)sizeof(b));
		close(fds[k][0]);
		total += b;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* The sum of the compressed layer sizes. */
	char sumcmd[2000];
	snprintf(sumcmd, sizeof(sumcmd),
		 "python3 -c \"import json;print(sum(l['size'] for l in json.load(open('%s/summary.json'))['layers']))\"",
		 layout);
	FILE *f = popen(sumcmd, "r");
	unsigned long long want = 0;
	assert_int_equal(fscanf(f, "%llu", &want), 1);
	pclose(f);
	assert_int_equal(total, want);
	assert_int_equal(ctr_image_is_unpacked(&unpacked, img, "overlayfs", NULL), 0);
	assert_true(unpacked);
	ctr_image_free(img);
	ctr_client_free(c);
}

/* A failed unpack leaves no snapshot at all in sn, committed or not. */
static void assert_no_snapshots(ctr_client *c, const char *sn)
{
	ctr_snapshot_info **v = NULL;
	size_t n = 9;
	assert_int_equal(ctr_snapshot_list(&v, &n, c, sn, NULL, 0, NULL, 0, NULL), 0);
	for (size_t k = 0; k < n; k++)
		print_message("left: %s\n", ctr_snapshot_info_name(v[k]));
	assert_int_equal(n, 0);
	ctr_snapshot_info_list_free(v, n);
}

static void test_bad_diff_id(void **state)
{
	(void)state;
	/* A config whose diff_id does not match the layer: the unpack fails with
	 * CTR_EDIGEST and leaves no committed snapshot. */
	char layout[600];
	snprintf(layout, sizeof(layout), "%s/bb", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py busybox %s >/dev/null", src_root, layout), 0);
	assert_int_equal(test_sh("python3 - %s <<'PY'\n"
			     "import json,hashlib,os,sys\n"
			     "d=sys.argv[1]; s=json.load(open(d+'/summary.json'))\n"
			     "b=lambda x: d+'/blobs/sha256/'+x.split(':')[1]\n"
			     "cfg=json.load(open(b(s['config'])))\n"
			     "cfg['rootfs']['diff_ids'][0]='sha256:'+'0'*64\n"
			     "cb=json.dumps(cfg).encode(); cd='sha256:'+hashlib.sha256(cb).hexdigest()\n"
			     "open(b(cd),'wb').write(cb)\n"
			     "m=json.load(open(b(s['digest'])))\n"
			     "m['config']['digest']=cd; m['config']['size']=len(cb)\n"
			     "mb=json.dumps(m).encode(); md='sha256:'+hashlib.sha256(mb).hexdigest()\n"
			     "open(b(md),'wb').write(mb)\n"
			     "i=json.load(open(d+'/index.json')); i['manifests'][0]['digest']=md; i['manifests'][0]['size']=len(mb)\n"
			     "json.dump(i,open(d+'/index.json','w'))\n"
			     "PY", layout), 0);
	ctr_client *c = test_client(tmp, "bad");
	assert_int_equal(layout_load(c, layout, "bad", 0), 0);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, "bad", NULL, 0, NULL), 0);
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_unpack(img, "overlayfs", NULL, 0, &err), CTR_EDIGEST);
	assert_non_null(strstr(ctr_error_message(err), "diff_id"));
	ctr_error_free(err);
	assert_no_snapshots(c, "overlayfs");
	ctr_image_free(img);
	ctr_client_free(c);
}

static void test_bad_layer_size(void **state)
{
	(void)state;
	/* A manifest whose first layer descriptor says one byte more than the
	 * blob has: every snapshotter's unpack fails with CTR_EDIGEST naming
	 * the size, and commits nothing. */
	char layout[600];
	snprintf(layout, sizeof(layout), "%s/sz", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py busybox %s >/dev/null", src_root, layout), 0);
	assert_int_equal(test_sh("python3 - %s <<'PY'\n"
			     "import json,hashlib,sys\n"
			     "d=sys.argv[1]; s=json.load(open(d+'/summary.json'))\n"
			     "b=lambda x: d+'/blobs/sha256/'+x.split(':')[1]\n"
			     "m=json.load(open(b(s['digest'])))\n"
			     "m['layers'][0]['size']+=1\n"
			     "mb=json.dumps(m).encode(); md='sha256:'+hashlib.sha256(mb).hexdigest()\n"
			     "open(b(md),'wb').write(mb)\n"
			     "i=json.load(open(d+'/index.json')); i['manifests'][0]['digest']=md; i['manifests'][0]['size']=len(mb)\n"
			     "json.dump(i,open(d+'/index.json','w'))\n"
			     "PY", layout), 0);
	const char *sns[] = {"overlayfs", "native", "erofs"};
	for (size_t k = 0; k < 3; k++) {
		char name[32];
		snprintf(name, sizeof(name), "size-%s", sns[k]);
		ctr_client *c = test_client(tmp, name);
		assert_int_equal(layout_load(c, layout, "sz", 0), 0);
		ctr_image *img = NULL;
		assert_int_equal(ctr_image_get(&img, c, "sz", NULL, 0, NULL), 0);
		ctr_error *err = NULL;
		assert_int_equal(ctr_image_unpack(img, sns[k], NULL, 0, &err), CTR_EDIGEST);
		print_message("%s: %s\n", sns[k], ctr_error_message(err));
		assert_non_null(strstr(ctr_error_message(err), "bytes, expected"));
		ctr_error_free(err);
		assert_no_snapshots(c, sns[k]);
		bool unpacked = true;
		assert_int_equal(ctr_image_is_unpacked(&unpacked, img, sns[k], NULL), 0);
		assert_false(unpacked);
		ctr_image_free(img);
		ctr_client_free(c);
	}
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: unpack tests need root (overlay mounts, device nodes)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("SKIP: cannot make a private mount namespace: %s\n", strerror(errno));
		return 77;
	}
	const char *s = getenv("MESON_SOURCE_ROOT");
	snprintf(src_root, sizeof(src_root), "%s", s ? s : ".");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tree_matches_umoci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd_same_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_and_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_diff_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_layer_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
