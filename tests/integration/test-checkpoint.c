/* Checkpoint images through the public API (the round trip through a real
 * registry is tests/integration/test-example-checkpoint.sh):
 *  - a container whose snapshot got a file is checkpointed with its
 *    read-write layer and restored under another id: the file is in the
 *    new snapshot, the spec is byte for byte the same, the index entries
 *    are found by media type;
 *  - checkpoint errors: read-write without a snapshot, a ref in use, a bad
 *    ref, options of the other call, and the task option and
 *    ctr_task_checkpoint, which need `criu check` to pass: where it fails,
 *    CTR_ENOTSUP with criu's own message (the CRIU checkpoint itself is
 *    skipped, saying why);
 *  - hostile checkpoints, each its exact error and no container or
 *    snapshot left: missing image, snapshotter, runtime, spec or layer
 *    entries, a bad snapshotter or runtime name, a spec of another type or
 *    not a JSON object, a truncated Any, a target that is not an index;
 *    and a layer whose names climb out or go through an absolute symlink
 *    writes nothing outside the snapshot. */
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

#include "digest.h"
#include "platforms.h"

#define IMAGE "lctr.test/ckpt-base:1"

static char base[128];
static ctr_client *cl;
static const char *skip_reason;

#define SKIP_UNLESS_READY()                                        \
	do {                                                       \
		if (skip_reason) {                                 \
			print_message("skip: %s\n", skip_reason); \
			skip();                                    \
		}                                                  \
	} while (0)

/* Runs cmd in sh with $X set to x. */
static int sh_x(const char *x, const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof(full), "X='%s'; %s", x, cmd);
	return system(full);
}

static int group_setup(void **s)
{
	(void)s;
	if (geteuid() != 0 || system("runc --version >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0) {
		skip_reason = "needs root, runc and busybox-static";
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/ctr-ckpt-XXXXXX");
	assert_non_null(mkdtemp(base));
	char root[192], state[192], tree[192];
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(tree, sizeof(tree), "%s/tree", base);
	ctr_opt *o[] = {ctr_with_root(root), ctr_with_state(state)};
	assert_int_equal(ctr_client_new(&cl, (const ctr_opt *const *)o, 2, NULL), 0);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	/* A busybox image, unpacked. */
	assert_int_equal(sh_x(tree, "mkdir -p $X/bin $X/tmp && cp /bin/busybox $X/bin/ && ln -s busybox $X/bin/sh"), 0);
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	int r = ctr_image_import_rootfs(&img, cl, tree, IMAGE, NULL, 0, &err);
	if (r == 0)
		r = ctr_image_unpack(img, "overlayfs", NULL, 0, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	ctr_image_free(img);
	return 0;
}

#include "client-sweep.h"

/* A container on a new snapshot of the image, spec from containerd's
 * default with args. */
static ctr_container *new_container(const char *id, bool with_snapshot)
{
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, IMAGE, NULL, 0, NULL), 0);
	static const char *const args[] = {"/bin/busybox", "sleep", "30", NULL};
	ctr_opt *so[] = {ctr_with_process_args(args)};
	ctr_opt *co[] = {ctr_with_new_spec((const ctr_opt *const *)so, 1), ctr_with_image(img),
			 ctr_with_new_snapshot(id, img)};
	ctr_container *k = NULL;
	ctr_error *err = NULL;
	int r = ctr_container_new(&k, cl, id, (const ctr_opt *const *)co, with_snapshot ? 3 : 2, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(co[i]);
	ctr_opt_free(so[0]);
	ctr_image_free(img);
	return k;
}

/* Mounts key's snapshot on base/mnt-<key> and runs cmd with $X the mount
 * point, then unmounts. */
static int in_snapshot(const char *key, const char *cmd)
{
	char mnt[256];
	snprintf(mnt, sizeof(mnt), "%s/mnt-%s", base, key);
	mkdir(mnt, 0755);
	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_mounts(&ml, cl, "overlayfs", key, NULL, 0, NULL), 0);
	assert_int_equal(ctr_mount_list_mount(ml, mnt, NULL), 0);
	ctr_mount_list_free(ml);
	int rc = sh_x(mnt, cmd);
	assert_int_equal(ctr_mount_unmount(mnt, CTR_UNMOUNT_ALL, NULL), 0);
	rmdir(mnt);
	return rc;
}

/* Checks the code and message, frees the error and clears *errp. */
static void assert_error(int r, ctr_error **errp, int code, const char *needle)
{
	ctr_error *err = *errp;
	*errp = NULL;
	if (r != code || !err || !strstr(ctr_error_message(err), needle))
		print_message("got %d: %s (want %d, \"%s\")\n", r, err ? ctr_error_message(err) : "(no error)", code,
			      needle);
	assert_int_equal(r, code);
	assert_non_null(err);
	assert_non_null(strstr(ctr_error_message(err), needle));
	ctr_error_free(err);
}

static int checkpoint(ctr_image **out, ctr_container *k, const char *ref, ctr_opt *o1, ctr_opt *o2,
		      ctr_error **err)
{
	ctr_opt *o[] = {o1, o2};
	int r = ctr_container_checkpoint(out, k, ref, (const ctr_opt *const *)o, o2 ? 2 : 1, err);
	ctr_opt_free(o1);
	ctr_opt_free(o2);
	return r;
}

static int restore_all(ctr_container **out, const char *id, const ctr_image *ck, ctr_error **err)
{
	ctr_opt *o[] = {ctr_with_restore_image(), ctr_with_restore_spec(), ctr_with_restore_runtime(),
			ctr_with_restore_rw()};
	int r = ctr_container_restore(out, cl, id, ck, (const ctr_opt *const *)o, 4, err);
	for (size_t i = 0; i < 4; i++)
		ctr_opt_free(o[i]);
	return r;
}

static void test_roundtrip(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_container *k = new_container("src", true);
	assert_int_equal(in_snapshot("src", "echo from-src > $X/tmp/kept && rm $X/bin/sh"), 0);
	ctr_image *ck = NULL;
	ctr_error *err = NULL;
	int r = checkpoint(&ck, k, "lctr.test/ckpt:1", ctr_with_checkpoint_image(), ctr_with_checkpoint_rw(), &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_string_equal(ctr_image_target_media_type(ck), "application/vnd.oci.image.index.v1+json");
	/* GetIndexByMediaType */
	char *d = NULL;
	assert_int_equal(ctr_image_index_descriptor(&d, ck, CTR_MT_CHECKPOINT_CONFIG, NULL), 0);
	json_t *j = json_loads(d, 0, NULL);
	struct ctr_platform host;
	ctr_platform_host(&host);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "platform"), "os")), host.os);
	json_decref(j);
	ctr_free(d);
	assert_int_equal(ctr_image_index_descriptor(&d, ck, CTR_MT_CHECKPOINT_RW, NULL), 0);
	ctr_free(d);
	d = NULL;
	r = ctr_image_index_descriptor(&d, ck, CTR_MT_CHECKPOINT_CRIU, &err);
	assert_error(r, &err, CTR_ENOTFOUND, "media type not found");
	assert_null(d);

	ctr_container *k2 = NULL;
	r = restore_all(&k2, "dst", ck, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_string_equal(ctr_container_spec(k2), ctr_container_spec(k));
	assert_string_equal(ctr_container_image_name(k2), IMAGE);
	assert_string_equal(ctr_container_snapshot_key(k2), "dst");
	assert_string_equal(ctr_container_snapshotter(k2), "overlayfs");
	assert_string_equal(ctr_container_runtime(k2), CTR_DEFAULT_RUNTIME);
	/* The new file is there and the removed one is gone (a whiteout). */
	assert_int_equal(in_snapshot("dst", "grep -qx from-src $X/tmp/kept && test ! -e $X/bin/sh"), 0);
	/* Restoring again under the same id: EEXISTS. */
	r = restore_all(NULL, "dst", ck, &err);
	assert_error(r, &err, CTR_EEXISTS, "already exists");
	ctr_container_free(k2);
	ctr_container_free(k);
	ctr_image_free(ck);
}

static size_t n_blobs(void)
{
	ctr_content_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_content_list(&v, &n, cl, NULL, 0, NULL, 0, NULL), 0);
	ctr_content_info_list_free(v, n);
	return n;
}

static void test_checkpoint_errors(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	ctr_error *err = NULL;
	ctr_image *ck = NULL;
	/* no snapshot: read-write is not supported */
	ctr_container *k = new_container("nosnap", false);
	size_t blobs = n_blobs();
	int r = checkpoint(&ck, k, "lctr.test/ckpt-nosnap:1", ctr_with_checkpoint_rw(), NULL, &err);
	assert_error(r, &err, CTR_ENOTSUP, "rw checkpoint is not supported");
	assert_int_equal(ctr_image_get(&ck, cl, "lctr.test/ckpt-nosnap:1", NULL, 0, NULL), CTR_ENOTFOUND);
	assert_int_equal(n_blobs(), blobs); /* the spec blob it wrote first is gone again */
	ctr_container_free(k);
	/* a bad ref, a ref in use */
	k = new_container("errs", true);
	r = checkpoint(&ck, k, "Bad Ref!", ctr_with_checkpoint_image(), NULL, &err);
	assert_error(r, &err, CTR_EINVAL, "Bad Ref!");
	r = checkpoint(&ck, k, IMAGE, ctr_with_checkpoint_image(), NULL, &err);
	assert_error(r, &err, CTR_EEXISTS, "already exists");
	assert_int_equal(ctr_image_get(&ck, cl, IMAGE, NULL, 0, NULL), 0);
	assert_string_equal(ctr_image_target_media_type(ck), "application/vnd.oci.image.manifest.v1+json");
	ctr_image_free(ck);
	ck = NULL;
	/* the task option: no task */
	r = checkpoint(&ck, k, "lctr.test/ckpt-task:1", ctr_with_checkpoint_task(), NULL, &err);
	assert_error(r, &err, CTR_ENOTFOUND, "task");
	/* options of the other call, a relative image path */
	r = checkpoint(&ck, k, "lctr.test/ckpt-task:1", ctr_with_checkpoint_name("x"), NULL, &err);
	assert_error(r, &err, CTR_EINVAL, "ctr_with_checkpoint_name is an option of ctr_task_checkpoint");
	r = checkpoint(&ck, k, "lctr.test/ckpt-task:1", ctr_with_checkpoint_image_path("rel/dir"), NULL, &err);
	assert_error(r, &err, CTR_EINVAL, "not absolute");
	/* a running task: criu decides */
	ctr_task *t = NULL;
	r = ctr_container_new_task(&t, k, NULL, 0, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_int_equal(ctr_task_start(t, NULL), 0);
	r = checkpoint(&ck, k, "lctr.test/ckpt-task:1", ctr_with_checkpoint_task(), ctr_with_checkpoint_rw(), &err);
	if (system("criu check >/dev/null 2>&1") != 0) {
		/* criu's own first words, as `criu check` prints them */
		char line[256] = "";
		FILE *p = popen("criu check 2>&1 | head -1", "r");
		if (p && fgets(line, sizeof(line), p))
			line[strcspn(line, "\n")] = 0;
		if (p)
			pclose(p);
		assert_true(line[0] != 0);
		assert_error(r, &err, CTR_ENOTSUP, line);
		assert_int_equal(ctr_image_get(&ck, cl, "lctr.test/ckpt-task:1", NULL, 0, NULL), CTR_ENOTFOUND);
		/* Task.Checkpoint, to an image and to a directory */
		ctr_opt *name = ctr_with_checkpoint_name("lctr.test/ckpt-task:2");
		r = ctr_task_checkpoint(&ck, t, CTR_OPTS(name), &err);
		ctr_opt_free(name);
		assert_error(r, &err, CTR_ENOTSUP, line);
		assert_int_equal(ctr_image_get(&ck, cl, "lctr.test/ckpt-task:2", NULL, 0, NULL), CTR_ENOTFOUND);
		char dir[256];
		snprintf(dir, sizeof(dir), "%s/criu-image", base);
		ctr_opt *path = ctr_with_checkpoint_image_path(dir);
		r = ctr_task_checkpoint(&ck, t, CTR_OPTS(path), &err);
		ctr_opt_free(path);
		assert_error(r, &err, CTR_ENOTSUP, line);
		assert_int_equal(access(dir, F_OK), -1);
		print_message("skip: the CRIU checkpoint itself: `criu check` fails here (%s)\n", line);
	} else {
		if (r)
			print_message("%s\n", ctr_error_message(err));
		assert_int_equal(r, 0);
		char *d = NULL;
		assert_int_equal(ctr_image_index_descriptor(&d, ck, CTR_MT_CHECKPOINT_CRIU, NULL), 0);
		ctr_free(d);
		assert_int_equal(ctr_image_index_descriptor(&d, ck, CTR_MT_CHECKPOINT_OPTIONS, NULL), 0);
		ctr_free(d);
		ctr_image_free(ck);
	}
	/* the task's namespace is its own: another one is an error, not ignored */
	ctr_opt *other = ctr_with_call_namespace("other");
	ctr_opt *nm = ctr_with_checkpoint_name("lctr.test/ckpt-task:3");
	r = ctr_task_checkpoint(&ck, t, CTR_OPTS(other, nm), &err);
	ctr_opt_free(other);
	ctr_opt_free(nm);
	assert_error(r, &err, CTR_EINVAL, "task is in namespace");
	assert_int_equal(ctr_image_get(&ck, cl, "lctr.test/ckpt-task:3", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_opt *rw = ctr_with_checkpoint_rw();
	r = ctr_task_checkpoint(&ck, t, CTR_OPTS(rw), &err);
	ctr_opt_free(rw);
	assert_error(r, &err, CTR_EINVAL, "options of ctr_container_checkpoint");
	ctr_opt *pk = ctr_with_process_kill();
	assert_int_equal(ctr_task_delete(NULL, t, CTR_OPTS(pk), NULL), 0);
	ctr_opt_free(pk);
	ctr_task_free(t);
	ctr_container_free(k);
}

/* ---- hand-made checkpoints ---- */

static void put(const void *data, size_t len, char *digest)
{
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, data, len, digest, NULL), 0);
	ctr_content_writer *w = NULL;
	assert_int_equal(ctr_content_writer_open(&w, cl, digest, NULL, 0, NULL), 0);
	assert_int_equal(ctr_content_writer_write(w, data, len, NULL), 0);
	int r = ctr_content_writer_commit(w, (int64_t)len, digest, NULL, CTR_NO_OPTS, NULL);
	assert_true(r == 0 || r == CTR_EEXISTS);
	ctr_content_writer_free(w);
}

/* A protobuf Any {type, value}. */
static size_t any(unsigned char *out, const char *type, const char *value)
{
	size_t n = 0, tl = strlen(type), vl = strlen(value);
	out[n++] = 0x0a;
	out[n++] = (unsigned char)tl; /* < 128 */
	memcpy(out + n, type, tl);
	n += tl;
	out[n++] = 0x12;
	out[n++] = (unsigned char)(0x80 | (vl & 0x7f));
	out[n++] = (unsigned char)(vl >> 7);
	memcpy(out + n, value, vl);
	return n + vl;
}

#define SPEC_TYPE "types.containerd.io/opencontainers/runtime-spec/1/Spec"

struct entry {
	const char *mt;
	char digest[CTR_DIGEST_MAX];
	size_t size;
};

/* An index image `name` with the entries and annotations (a JSON object
 * text). */
static ctr_image *index_image(const char *name, const struct entry *e, size_t n, const char *annotations)
{
	json_t *m = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(m, json_pack("{s:s,s:s,s:I,s:{s:s,s:s}}", "mediaType", e[i].mt, "digest",
						   e[i].digest, "size", (json_int_t)e[i].size, "platform", "os",
						   "linux", "architecture", "amd64"));
	json_t *idx = json_pack("{s:i,s:s,s:o,s:o}", "schemaVersion", 2, "mediaType",
				"application/vnd.oci.image.index.v1+json", "manifests", m, "annotations",
				json_loads(annotations, 0, NULL));
	char *s = json_dumps(idx, JSON_COMPACT);
	json_decref(idx);
	char d[CTR_DIGEST_MAX];
	put(s, strlen(s), d);
	ctr_image *img = NULL;
	ctr_image_delete(cl, name, NULL, 0, NULL);
	assert_int_equal(ctr_image_create(&img, cl, name, "application/vnd.oci.image.index.v1+json", d,
					  (int64_t)strlen(s), NULL, NULL, 0, NULL), 0);
	free(s);
	return img;
}

static void spec_entry(struct entry *e, const char *type, const char *json)
{
	unsigned char buf[4096];
	e->mt = CTR_MT_CHECKPOINT_CONFIG;
	e->size = any(buf, type, json);
	put(buf, e->size, e->digest);
}

/* A gzip layer made by python's tarfile (names we choose, however bad). */
static void layer_entry(struct entry *e, const char *py_adds)
{
	char path[256], cmd[2048];
	snprintf(path, sizeof(path), "%s/layer.tgz", base);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import io,tarfile\nt=tarfile.open(\"%s\",\"w:gz\")\n"
		 "def f(n,d=b\"x\"):\n i=tarfile.TarInfo(n); i.size=len(d); t.addfile(i,io.BytesIO(d))\n"
		 "def l(n,to):\n i=tarfile.TarInfo(n); i.type=tarfile.SYMTYPE; i.linkname=to; t.addfile(i)\n"
		 "%s\nt.close()'",
		 path, py_adds);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char data[1 << 16];
	size_t n = fread(data, 1, sizeof(data), f);
	fclose(f);
	e->mt = CTR_MT_CHECKPOINT_RW;
	e->size = n;
	put(data, n, e->digest);
}

static void assert_nothing_restored(void)
{
	ctr_container *k = NULL;
	assert_int_equal(ctr_container_load(&k, cl, "hostile", NULL, 0, NULL), CTR_ENOTFOUND);
	ctr_snapshot_info *i = NULL;
	assert_int_equal(ctr_snapshot_stat(&i, cl, "overlayfs", "hostile", NULL, 0, NULL), CTR_ENOTFOUND);
}

static void expect_restore(const struct entry *e, size_t n, const char *ann, int code, const char *needle)
{
	ctr_image *ck = index_image("lctr.test/hostile:1", e, n, ann);
	ctr_error *err = NULL;
	int r = restore_all(NULL, "hostile", ck, &err);
	assert_error(r, &err, code, needle);
	assert_nothing_restored();
	ctr_image_free(ck);
}

#define GOOD_ANN                                                                          \
	"{\"org.opencontainers.image.ref.name\":\"" IMAGE "\",\"io.containerd.checkpoint.runtime\":" \
	"\"io.containerd.runc.v2\",\"io.containerd.checkpoint.snapshotter\":\"overlayfs\"}"

static void test_restore_hostile(void **s)
{
	(void)s;
	SKIP_UNLESS_READY();
	struct entry e[2];
	spec_entry(&e[0], SPEC_TYPE, "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"]}}");
	layer_entry(&e[1], "f(\"tmp/ok\")");
	/* the annotations */
	expect_restore(e, 2, "{\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\","
			     "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\"}",
		       CTR_ENOTFOUND, "image name not found in index");
	expect_restore(e, 2, "{\"org.opencontainers.image.ref.name\":\"" IMAGE "\","
			     "\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\"}",
		       CTR_ENOTFOUND, "snapshotter not found in index");
	expect_restore(e, 2, "{\"org.opencontainers.image.ref.name\":\"" IMAGE "\","
			     "\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\","
			     "\"io.containerd.checkpoint.snapshotter\":\"../overlayfs\"}",
		       CTR_EINVAL, "snapshotter");
	expect_restore(e, 2, "{\"org.opencontainers.image.ref.name\":\"no.such/image:1\","
			     "\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\","
			     "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\"}",
		       CTR_ENOTFOUND, "no.such/image:1");
	expect_restore(e, 2, "{\"org.opencontainers.image.ref.name\":\"" IMAGE "\","
			     "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\"}",
		       CTR_ENOTFOUND, "runtime not found in index");
	expect_restore(e, 2, "{\"org.opencontainers.image.ref.name\":\"" IMAGE "\","
			     "\"io.containerd.checkpoint.runtime\":\"evil-runtime\","
			     "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\"}",
		       CTR_EINVAL, "evil-runtime");
	/* the entries */
	expect_restore(&e[1], 1, GOOD_ANN, CTR_ENOTFOUND, "media type not found");
	expect_restore(&e[0], 1, GOOD_ANN, CTR_ENOTFOUND, "media type not found");
	struct entry bad[2] = {e[0], e[1]};
	spec_entry(&bad[0], "types.example.com/Other", "{}");
	expect_restore(bad, 2, GOOD_ANN, CTR_EINVAL, "types.example.com/Other");
	spec_entry(&bad[0], SPEC_TYPE, "[\"not\",\"an\",\"object\"]");
	expect_restore(bad, 2, GOOD_ANN, CTR_EINVAL, "not a JSON object");
	spec_entry(&bad[0], SPEC_TYPE, "{\"ociVersion\":");
	expect_restore(bad, 2, GOOD_ANN, CTR_EINVAL, "spec");
	{
		unsigned char trunc[] = {0x0a, 0x40, 't', 'y'}; /* a length past the end */
		bad[0].size = sizeof(trunc);
		put(trunc, sizeof(trunc), bad[0].digest);
		expect_restore(bad, 2, GOOD_ANN, CTR_EINVAL, "not a protobuf Any");
	}
	/* a target that is not an index */
	ctr_image *img = NULL;
	assert_int_equal(ctr_image_get(&img, cl, IMAGE, NULL, 0, NULL), 0);
	ctr_error *err = NULL;
	int r = restore_all(NULL, "hostile", img, &err);
	assert_error(r, &err, CTR_EINVAL, "not an index");
	assert_nothing_restored();
	ctr_image_free(img);

	/* A layer that climbs out, writes through an absolute symlink and
	 * through a symlink that climbs: everything lands inside. */
	char outside[192];
	snprintf(outside, sizeof(outside), "%s/outside", base);
	assert_int_equal(mkdir(outside, 0755), 0);
	char py[1024];
	snprintf(py, sizeof(py),
		 "f(\"../../../../../../..%s/dotdot\")\nf(\"%s/absolute\")\nl(\"abs\",\"%s\")\nf(\"abs/via-abs\")\n"
		 "l(\"up\",\"../../../../../../..%s\")\nf(\"up/via-up\")",
		 outside, outside, outside, outside);
	layer_entry(&e[1], py);
	ctr_image *ck = index_image("lctr.test/hostile:1", e, 2, GOOD_ANN);
	ctr_container *k = NULL;
	r = restore_all(&k, "hostile", ck, &err);
	if (r)
		print_message("%s\n", ctr_error_message(err));
	assert_int_equal(r, 0);
	assert_int_equal(sh_x(outside, "test -z \"$(ls -A $X)\" || { ls -la $X; exit 1; }"), 0);
	char check[512];
	snprintf(check, sizeof(check),
		 "for f in dotdot absolute via-abs via-up; do test -f $X%s/$f || { echo no $f; exit 1; }; done", outside);
	assert_int_equal(in_snapshot("hostile", check), 0);
	assert_string_equal(ctr_container_spec(k), "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"]}}");
	ctr_container_free(k);
	ctr_image_free(ck);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_roundtrip, teardown),
		cmocka_unit_test_teardown(test_checkpoint_errors, teardown),
		cmocka_unit_test_teardown(test_restore_hostile, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
