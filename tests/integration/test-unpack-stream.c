/* The streaming, parallel layer unpacker (lib/unpack/unpack-stream.c) for real
 * (root): images from tests/fixtures/mkimage.py, fed to the unpacker from
 * threads in random-sized chunks, with resets, corruption and wrong
 * diff_ids, and compared with `umoci unpack`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "client.h"
#include "platforms.h"
#include "resolve.h"
#include "layout.h"
#include "unpack-stream.h"
#include "unpack.h"
#include "fs.h"

static char tmp[256];
static char src_root[1024];
/* The snapshotter the helpers below use. */
static const char *cur_sn = "overlayfs";

static int setup(void **state)
{
	(void)state;
	cur_sn = "overlayfs";
	snprintf(tmp, sizeof(tmp), "/tmp/ctr-ustream-XXXXXX");
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

/* Writes an image made of layers given as Python mkimage.py entry lists. */
static void mkimage_py(const char *out, const char *layers_py)
{
	assert_int_equal(test_sh("python3 - %s %s/tests/fixtures <<'PY'\n"
			     "import sys,os\n"
			     "sys.path.insert(0, sys.argv[2]); import mkimage\n"
			     "out=sys.argv[1]; lay=mkimage.Layout(out)\n"
			     "%s\n"
			     "md,_,summ=mkimage.add_image(lay, layers, mkimage.native_arch(), 'gzip', {}, ['l']*len(layers))\n"
			     "lay.finish(md, 'latest', summ)\n"
			     "PY",
			     out, src_root, layers_py),
			 0);
}

/* The tree image, loaded as "tree", and umoci's unpack of it in tmp/umoci. */
static ctr_client *tree_client(const char *name, char *layout, size_t len)
{
	snprintf(layout, len, "%s/tree", tmp);
	assert_int_equal(test_sh("python3 %s/tests/fixtures/mkimage.py tree %s --tag latest >/dev/null", src_root, layout), 0);
	assert_int_equal(test_sh("umoci unpack --image %s:latest %s/umoci >/dev/null 2>&1", layout, tmp), 0);
	ctr_client *c = test_client(tmp, name);
	assert_int_equal(layout_load(c, layout, "tree", 0), 0);
	return c;
}

struct img {
	struct ctr_manifest m;
	struct ctr_image_config cfg;
	char chain[8][CTR_DIGEST_MAX];
	unsigned char *data[8];
	size_t len[8];
};

static void img_load(struct img *im, ctr_client *c, const char *name, const char *layout)
{
	memset(im, 0, sizeof(*im));
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, name, NULL, 0, NULL), 0);
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_default(&pm);
	char md[CTR_DIGEST_MAX];
	assert_int_equal(ctr_image_resolve(c, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img),
					   &pm, &im->m, md, &im->cfg, NULL),
			 0);
	ctr_image_free(img);
	assert_true(im->m.n_layers <= 8);
	assert_int_equal(ctr_chain_ids((const char *const *)im->cfg.diff_ids, im->m.n_layers, im->chain, NULL), 0);
	for (size_t i = 0; i < im->m.n_layers; i++) {
		char p[1200];
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, im->m.layers[i].digest + 7);
		FILE *f = fopen(p, "rb");
		assert_non_null(f);
		im->len[i] = (size_t)im->m.layers[i].size;
		im->data[i] = malloc(im->len[i] + 1);
		assert_int_equal(fread(im->data[i], 1, im->len[i], f), im->len[i]);
		fclose(f);
	}
}

static void img_clear(struct img *im)
{
	for (size_t i = 0; i < im->m.n_layers; i++)
		free(im->data[i]);
	ctr_manifest_clear(&im->m);
	ctr_image_config_clear(&im->cfg);
}

static size_t n_snapshots(ctr_client *c)
{
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_snapshot_list(&v, &n, c, cur_sn, NULL, 0, NULL, 0, NULL), 0);
	for (size_t k = 0; k < n; k++)
		print_message("snapshot: %s\n", ctr_snapshot_info_name(v[k]));
	ctr_snapshot_info_list_free(v, n);
	return n;
}

/* Mounts a view of chain on tmp/mnt and compares it with `against`. */
static int mount_and_compare(ctr_client *c, const char *chain, const char *against)
{
	char mnt[600], key[300];
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(key, sizeof(key), "view-%ld", (long)random());
	ctr_mount_list *m = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_snapshot_view(&m, c, cur_sn, key, chain, NULL, NULL, 0, NULL), 0);
	mkdir(mnt, 0755);
	if (ctr_mount_list_mount(m, mnt, &err) < 0)
		fail_msg("mount: %s", ctr_error_message(err));
	ctr_mount_list_free(m);
	int rc = test_sh("python3 %s/tests/fixtures/treecmp.py %s %s", src_root, against, mnt);
	umount2(mnt, MNT_DETACH);
	assert_int_equal(ctr_snapshot_remove(c, cur_sn, key, NULL, 0, NULL), 0);
	return rc;
}

/* Each committed layer has the layer below as its parent. */
static void check_parents(ctr_client *c, const struct img *im)
{
	for (size_t i = 0; i < im->m.n_layers; i++) {
		ctr_snapshot_info *info = NULL;
		assert_int_equal(ctr_snapshot_stat(&info, c, cur_sn, im->chain[i], NULL, 0, NULL), 0);
		assert_int_equal(ctr_snapshot_info_kind(info), CTR_SNAPSHOT_COMMITTED);
		const char *p = ctr_snapshot_info_parent(info);
		if (i == 0)
			assert_true(!p || !*p);
		else
			assert_string_equal(p, im->chain[i - 1]);
		ctr_snapshot_info_free(info);
	}
}

static void test_parallel_matches_umoci(void **state)
{
	(void)state;
	char layout[600], bundle[700];
	ctr_client *c = tree_client("par", layout, sizeof(layout));
	snprintf(bundle, sizeof(bundle), "%s/umoci/rootfs", tmp);
	struct img im;
	img_load(&im, c, "tree", layout);
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_default(&pm);
	char top[CTR_DIGEST_MAX] = "";
	ctr_error *err = NULL;
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, "tree", NULL, 0, NULL), 0);
	if (ctr_unpack_parallel(c, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img), &pm,
				"overlayfs", NULL, NULL, top, &err) < 0)
		fail_msg("unpack: %s", ctr_error_message(err));
	ctr_image_free(img);
	assert_string_equal(top, im.chain[im.m.n_layers - 1]);
	assert_int_equal(n_snapshots(c), im.m.n_layers); /* no extract key left */
	check_parents(c, &im);
	assert_int_equal(mount_and_compare(c, top, bundle), 0);
	char mnt[600];
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	img_clear(&im);
	ctr_client_free(c);
}

struct feed {
	struct ctr_layer_unpack *u;
	const unsigned char *data;
	size_t len;
	unsigned seed;
	size_t reset_at; /* 0: none */
	int r;
};

static int feed_range(struct feed *f, size_t end)
{
	for (size_t off = 0; off < end;) {
		size_t n = 1 + (size_t)rand_r(&f->seed) % 100000;
		if (n > end - off)
			n = end - off;
		int r = ctr_layer_unpack_write(f->u, f->data + off, n, NULL);
		if (r < 0)
			return r;
		off += n;
	}
	return 0;
}

static void *feed_main(void *arg)
{
	struct feed *f = arg;
	int r = 0;
	if (f->reset_at) {
		r = feed_range(f, f->reset_at);
		if (r == 0)
			r = ctr_layer_unpack_reset(f->u, NULL);
	}
	if (r == 0)
		r = feed_range(f, f->len);
	ctr_error *err = NULL;
	int q = ctr_layer_unpack_finish(f->u, r == 0, &err);
	if (q < 0)
		print_message("finish: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	f->r = r < 0 ? r : q;
	return NULL;
}

/* Starts every layer, feeds each from its own thread (resetting layer
 * reset_layer midway), finishes, and commits in order; an early commit of
 * the top layer must be refused. */
static void stream_all(ctr_client *c, struct img *im, int reset_layer)
{
	size_t n = im->m.n_layers;
	struct ctr_layer_unpack *u[8] = {0};
	struct feed f[8];
	pthread_t th[8];
	struct ctr_call call = {.ns = "default"};
	for (size_t i = 0; i < n; i++) {
		ctr_error *err = NULL;
		if (ctr_layer_unpack_start(&u[i], c, "default", cur_sn, &im->m.layers[i], im->cfg.diff_ids[i],
					   im->chain[i], i ? im->chain[i - 1] : NULL, &call, 0, &err) < 0)
			fail_msg("start: %s", ctr_error_message(err));
		assert_false(ctr_layer_unpack_skipped(u[i]));
		/* native: only a layer whose parent is committed can stream. */
		assert_int_equal(ctr_layer_unpack_deferred(u[i]), !strcmp(cur_sn, "native") && i > 0);
		f[i] = (struct feed){.u = u[i], .data = im->data[i], .len = im->len[i], .seed = (unsigned)(i * 7 + 1),
				     .reset_at = (int)i == reset_layer ? im->len[i] / 2 : 0};
		assert_int_equal(pthread_create(&th[i], NULL, feed_main, &f[i]), 0);
	}
	for (size_t i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(f[i].r, 0);
	}
	/* Out of order: the parent is not committed yet, nothing changes. */
	if (n > 1)
		assert_int_equal(ctr_layer_unpack_commit(u[n - 1], NULL), CTR_EPRECONDITION);
	for (size_t i = 0; i < n; i++) {
		ctr_error *err = NULL;
		if (ctr_layer_unpack_commit(u[i], &err) < 0)
			fail_msg("commit %zu: %s", i, ctr_error_message(err));
		ctr_layer_unpack_free(u[i]);
	}
}

static void test_chunks_and_reset(void **state)
{
	(void)state;
	char layout[600], bundle[700];
	snprintf(bundle, sizeof(bundle), "%s/umoci/rootfs", tmp);
	ctr_client *c = tree_client("chunks", layout, sizeof(layout));
	struct img im;
	img_load(&im, c, "tree", layout);
	/* Random-sized chunks from one thread per layer. */
	stream_all(c, &im, -1);
	assert_int_equal(n_snapshots(c), im.m.n_layers);
	check_parents(c, &im);
	assert_int_equal(mount_and_compare(c, im.chain[im.m.n_layers - 1], bundle), 0);
	img_clear(&im);
	ctr_client_free(c);

	/* A reset in the middle of the big first layer, then the whole stream. */
	c = test_client(tmp, "reset");
	assert_int_equal(layout_load(c, layout, "tree", 0), 0);
	img_load(&im, c, "tree", layout);
	stream_all(c, &im, 0);
	assert_int_equal(n_snapshots(c), im.m.n_layers);
	check_parents(c, &im);
	assert_int_equal(mount_and_compare(c, im.chain[im.m.n_layers - 1], bundle), 0);
	/* native: the first layer streams on nothing, the others are applied at
	 * commit on their committed parent, from the content store. */
	ctr_client *cn = test_client(tmp, "native");
	assert_int_equal(layout_load(cn, layout, "tree", 0), 0);
	cur_sn = "native";
	stream_all(cn, &im, 0);
	assert_int_equal(n_snapshots(cn), im.m.n_layers);
	check_parents(cn, &im);
	assert_int_equal(mount_and_compare(cn, im.chain[im.m.n_layers - 1], bundle), 0);
	cur_sn = "overlayfs";
	ctr_client_free(cn);
	/* Already there: a skipped, no-op unpacker. */
	struct ctr_layer_unpack *u = NULL;
	assert_int_equal(ctr_layer_unpack_start(&u, c, "default", "overlayfs", &im.m.layers[0], im.cfg.diff_ids[0],
						im.chain[0], NULL, NULL, 0, NULL),
			 0);
	assert_true(ctr_layer_unpack_skipped(u));
	assert_int_equal(ctr_layer_unpack_write(u, "x", 1, NULL), 0);
	assert_int_equal(ctr_layer_unpack_finish(u, true, NULL), 0);
	assert_int_equal(ctr_layer_unpack_commit(u, NULL), 0);
	ctr_layer_unpack_free(u);
	img_clear(&im);
	ctr_client_free(c);
}

/* Feeds layer 0 (optionally corrupted, with diff_id) and expects code at
 * finish and no snapshot at all afterwards. */
static void expect_bad(ctr_client *c, struct img *im, bool corrupt, const char *diff_id, int code)
{
	struct ctr_layer_unpack *u = NULL;
	assert_int_equal(ctr_layer_unpack_start(&u, c, "default", "overlayfs", &im->m.layers[0], diff_id, im->chain[0],
						NULL, NULL, 0, NULL),
			 0);
	unsigned char *d = malloc(im->len[0]);
	memcpy(d, im->data[0], im->len[0]);
	if (corrupt)
		for (size_t k = 0; k < 16; k++)
			d[im->len[0] / 2 + k] ^= 0x5a;
	struct feed f = {.u = u, .data = d, .len = im->len[0], .seed = 3};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, feed_main, &f), 0);
	pthread_join(th, NULL);
	assert_int_equal(f.r, code);
	assert_int_equal(ctr_layer_unpack_commit(u, NULL), CTR_EINVAL);
	ctr_layer_unpack_free(u);
	free(d);
	assert_int_equal(n_snapshots(c), 0);
	ctr_snapshot_info *info = NULL;
	assert_int_equal(ctr_snapshot_stat(&info, c, "overlayfs", im->chain[0], NULL, 0, NULL), CTR_ENOTFOUND);
	/* Nothing in the snapshotter's own store either. */
	char p[700];
	snprintf(p, sizeof(p), "ls %s/bad-root/snapshots/overlayfs/snapshots | grep -q .", tmp);
	assert_int_not_equal(test_sh("%s", p), 0);
}

static void test_corrupt_and_bad_diff_id(void **state)
{
	(void)state;
	char layout[600];
	ctr_client *c = tree_client("bad", layout, sizeof(layout));
	struct img im;
	img_load(&im, c, "tree", layout);
	expect_bad(c, &im, true, im.cfg.diff_ids[0], CTR_EDIGEST);
	expect_bad(c, &im, false, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		   CTR_EDIGEST);
	/* A bad digest argument is refused before anything is made. */
	struct ctr_layer_unpack *u = NULL;
	assert_int_equal(ctr_layer_unpack_start(&u, c, "default", "overlayfs", &im.m.layers[0], "sha256:zz",
						im.chain[0], NULL, NULL, 0, NULL),
			 CTR_EINVAL);
	assert_null(u);
	assert_int_equal(n_snapshots(c), 0);
	img_clear(&im);
	ctr_client_free(c);
}

static const char xlink_layers[] =
	"layers=[\n"
	" [('dir','d',0o750),('file','d/target',0o640,b'shared\\n'*1000),('file','keep',0o600,b'k\\n')],\n"
	" [('dir','d',0o750),('hardlink','d/link','d/target',0o640),('file','new',0o644,b'n\\n')],\n"
	" [('hardlink','keep2','keep',0o600),('hardlink','d/link3','d/link',0o640)],\n"
	"]";

static void test_cross_layer_hardlink(void **state)
{
	(void)state;
	char layout[600], bundle[700];
	snprintf(layout, sizeof(layout), "%s/xlink", tmp);
	snprintf(bundle, sizeof(bundle), "%s/umoci/rootfs", tmp);
	mkimage_py(layout, xlink_layers);
	assert_int_equal(test_sh("umoci unpack --image %s:latest %s/umoci >/dev/null 2>&1", layout, tmp), 0);
	/* Streamed by hand, and through ctr_image_unpack. */
	for (int way = 0; way < 2; way++) {
		ctr_client *c = test_client(tmp, way ? "xlink-image" : "xlink-stream");
		assert_int_equal(layout_load(c, layout, "xlink", 0), 0);
		struct img im;
		img_load(&im, c, "xlink", layout);
		if (way == 0) {
			stream_all(c, &im, -1);
		} else {
			ctr_image *img = NULL;
			ctr_error *err = NULL;
			assert_int_equal(ctr_image_get(&img, c, "xlink", NULL, 0, NULL), 0);
			if (ctr_image_unpack(img, "overlayfs", NULL, 0, &err) < 0)
				fail_msg("unpack: %s", ctr_error_message(err));
			ctr_image_free(img);
		}
		assert_int_equal(n_snapshots(c), 3);
		check_parents(c, &im);
		assert_int_equal(mount_and_compare(c, im.chain[2], bundle), 0);
		img_clear(&im);
		ctr_client_free(c);
	}
	/* A link to a file that no layer has: CTR_ENOTFOUND at commit; the
	 * layer below stays committed, nothing of the failed one is left. */
	snprintf(layout, sizeof(layout), "%s/xmiss", tmp);
	mkimage_py(layout, "layers=[[('file','a',0o644,b'a')],[('hardlink','b','nope',0o644)]]");
	ctr_client *c = test_client(tmp, "xmiss");
	assert_int_equal(layout_load(c, layout, "xmiss", 0), 0);
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_get(&img, c, "xmiss", NULL, 0, NULL), 0);
	assert_int_equal(ctr_image_unpack(img, "overlayfs", NULL, 0, &err), CTR_ENOTFOUND);
	print_message("expected error: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	ctr_image_free(img);
	assert_int_equal(n_snapshots(c), 1);
	ctr_client_free(c);
}

/* Progress of one process: bytes read per layer, summed. */
struct count {
	char digest[8][CTR_DIGEST_MAX];
	uint64_t last[8];
	uint64_t total;
};

static int count_bytes(const char *digest, uint64_t done, uint64_t total, void *ud)
{
	(void)total;
	struct count *c = ud;
	for (int i = 0; i < 8; i++) {
		if (!c->digest[i][0])
			snprintf(c->digest[i], CTR_DIGEST_MAX, "%s", digest);
		if (!strcmp(c->digest[i], digest)) {
			c->total += done - c->last[i];
			c->last[i] = done;
			return 0;
		}
	}
	return 0;
}

static int kill_midway(const char *digest, uint64_t done, uint64_t total, void *ud)
{
	(void)digest;
	(void)ud;
	if (total > 100000 && done > total / 3)
		raise(SIGKILL);
	return 0;
}

static int cancel_at_once(const char *digest, uint64_t done, uint64_t total, void *ud)
{
	(void)digest;
	(void)done;
	(void)total;
	(void)ud;
	return 1;
}

static void test_two_processes(void **state)
{
	(void)state;
	char layout[600];
	ctr_client *c = tree_client("two", layout, sizeof(layout));
	struct img im;
	img_load(&im, c, "tree", layout);
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, c, "tree", NULL, 0, NULL), 0);
	struct ctr_platform_matcher pm;
	ctr_platform_matcher_default(&pm);
	/* Canceled through progress: CTR_ECANCELED and nothing left. */
	struct ctr_unpack_progress cp = {cancel_at_once, NULL};
	assert_int_equal(ctr_unpack_parallel(c, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img),
					     &pm, "overlayfs", NULL, &cp, NULL, NULL),
			 CTR_ECANCELED);
	assert_int_equal(n_snapshots(c), 0);
	/* Killed in the middle of the big first layer: nothing is committed,
	 * what is left are extract keys, and they do not get in the way. */
	pid_t pid = fork();
	if (pid == 0) {
		ctr_client *c2 = test_client(tmp, "two");
		struct ctr_unpack_progress p = {kill_midway, NULL};
		ctr_unpack_parallel(c2, "default", ctr_image_target_media_type(img), ctr_image_target_digest(img), &pm,
				    "overlayfs", NULL, &p, NULL, NULL);
		_exit(0);
	}
	int kst;
	waitpid(pid, &kst, 0);
	assert_true(WIFSIGNALED(kst) && WTERMSIG(kst) == SIGKILL);
	ctr_snapshot_info **v = NULL;
	size_t nv = 0;
	assert_int_equal(ctr_snapshot_list(&v, &nv, c, "overlayfs", NULL, 0, NULL, 0, NULL), 0);
	for (size_t k = 0; k < nv; k++) {
		assert_int_not_equal(ctr_snapshot_info_kind(v[k]), CTR_SNAPSHOT_COMMITTED);
		assert_non_null(strstr(ctr_snapshot_info_name(v[k]), "extract-"));
	}
	ctr_snapshot_info_list_free(v, nv);
	size_t left = nv;
	int fds[2][2];
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pipe(fds[k]), 0);
		kids[k] = fork();
		if (kids[k] == 0) {
			ctr_client *c2 = test_client(tmp, "two");
			struct count cnt;
			memset(&cnt, 0, sizeof(cnt));
			struct ctr_unpack_progress p = {count_bytes, &cnt};
			ctr_error *err = NULL;
			int r = ctr_unpack_parallel(c2, "default", ctr_image_target_media_type(img),
						    ctr_image_target_digest(img), &pm, "overlayfs", NULL, &p, NULL, &err);
			if (r < 0)
				print_message("process %d: %s\n", k, ctr_error_message(err));
			if (write(fds[k][1], &cnt.total, sizeof(cnt.total)) < 0)
				_exit(3);
			_exit(r == 0 ? 0 : 2);
		}
		close(fds[k][1]);
	}
	uint64_t total = 0, want = 0;
	for (int k = 0; k < 2; k++) {
		uint64_t b = 0;
		assert_int_equal(read(fds[k][0], &b, sizeof(b)), (ssize_t)sizeof(b));
		close(fds[k][0]);
		total += b;
		int st;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (size_t i = 0; i < im.m.n_layers; i++)
		want += im.len[i];
	assert_int_equal(total, want); /* each layer applied once in all */
	assert_int_equal(n_snapshots(c), im.m.n_layers + left);
	check_parents(c, &im);
	ctr_image_free(img);
	img_clear(&im);
	ctr_client_free(c);
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
		cmocka_unit_test_setup_teardown(test_parallel_matches_umoci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_bad_diff_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_layer_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
