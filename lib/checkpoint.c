/* Checkpoint images (containerd's Container.Checkpoint and its
 * CheckpointOpts): an OCI index of the container's spec, image, read-write
 * layer and, with CRIU, its task, stored under a lease and named by an image
 * record. Restore is lib/restore.c; the shared pieces are checkpoint.h. */
#include <ctr/checkpoint.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive-util.h"
#include "checkpoint.h"
#include "client.h"
#include "container.h"
#include "content-ns.h"
#include "diff.h"
#include "error.h"
#include "fs.h"
#include "gc-labels.h"
#include "image-ns.h"
#include "manifest.h"
#include "metadata.h"
#include "platforms.h"
#include "snapshots.h"
#include "task.h"
#include "walk.h"
#include "macro.h"

struct ckpt_cfg {
	bool image, rw, runtime, task, task_exit;
	char *name, *image_path, *work_path; /* ctr_task_checkpoint */
};

static int apply_name(void *t, void *ud, ctr_error **err)
{
	struct ckpt_cfg *c = t;
	free(c->name);
	return (c->name = strdup(ud)) ? 0 : ctr_err_nomem(err);
}

static int set_abs(char **dst, const char *what, const char *path, ctr_error **err)
{
	if (path[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "checkpoint %s \"%.200s\": not absolute", what, path);
	free(*dst);
	return (*dst = strdup(path)) ? 0 : ctr_err_nomem(err);
}

static int apply_image_path(void *t, void *ud, ctr_error **err)
{
	return set_abs(&((struct ckpt_cfg *)t)->image_path, "image path", ud, err);
}

static int apply_work_path(void *t, void *ud, ctr_error **err)
{
	return set_abs(&((struct ckpt_cfg *)t)->work_path, "work path", ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_checkpoint_name(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_CHECKPOINT, "ctr_with_checkpoint_name", apply_name, name) : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_checkpoint_image_path(const char *path)
{
	return path ? ctr_opt_make_str(CTR_OPT_CHECKPOINT, "ctr_with_checkpoint_image_path", apply_image_path, path)
		    : NULL;
}

CTR_EXPORT ctr_opt *ctr_with_checkpoint_work_path(const char *path)
{
	return path ? ctr_opt_make_str(CTR_OPT_CHECKPOINT, "ctr_with_checkpoint_work_path", apply_work_path, path)
		    : NULL;
}

#define FLAG_OPT(fn, field)                                                          \
	CTR_EXPORT ctr_opt *fn(void)                                                 \
	{                                                                            \
		return ctr_opt_make_flag(CTR_OPT_CHECKPOINT, #fn, offsetof(struct ckpt_cfg, field)); \
	}
FLAG_OPT(ctr_with_checkpoint_image, image)
FLAG_OPT(ctr_with_checkpoint_rw, rw)
FLAG_OPT(ctr_with_checkpoint_runtime, runtime)
FLAG_OPT(ctr_with_checkpoint_task, task)
FLAG_OPT(ctr_with_checkpoint_task_exit, task_exit)

/* ---- protobuf Any: containerd stores the spec (and options) as one ---- */

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	do {
		p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

int ctr_ckpt_any_encode(char **out, size_t *len, const char *type_url, const void *value, size_t vlen,
			ctr_error **err)
{
	size_t tlen = strlen(type_url);
	unsigned char *b = malloc(tlen + vlen + 24);
	if (!b)
		return ctr_err_nomem(err);
	size_t n = 0;
	b[n++] = 0x0a; /* field 1 (type_url), length-delimited */
	n += put_varint(b + n, tlen);
	memcpy(b + n, type_url, tlen);
	n += tlen;
	b[n++] = 0x12; /* field 2 (value), length-delimited */
	n += put_varint(b + n, vlen);
	memcpy(b + n, value, vlen);
	n += vlen;
	*out = (char *)b;
	*len = n;
	return 0;
}

static int get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		unsigned char c = p[(*pos)++];
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

int ctr_ckpt_any_decode(const char *buf, size_t len, const char *want_type, const char **value,
			size_t *vlen, ctr_error **err)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t pos = 0;
	const char *type = NULL, *val = "";
	size_t tl = 0, vl = 0;
	while (pos < len) {
		uint64_t key, l;
		if (get_varint(p, len, &pos, &key) < 0 || (key & 7) != 2 || get_varint(p, len, &pos, &l) < 0 ||
		    l > len - pos)
			return ctr_err(err, CTR_EINVAL, 0, "checkpoint %s: not a protobuf Any", want_type);
		if (key >> 3 == 1) {
			type = buf + pos;
			tl = (size_t)l;
		} else if (key >> 3 == 2) {
			val = buf + pos;
			vl = (size_t)l;
		} else {
			return ctr_err(err, CTR_EINVAL, 0, "checkpoint %s: not a protobuf Any", want_type);
		}
		pos += (size_t)l;
	}
	if (!type || tl != strlen(want_type) || memcmp(type, want_type, tl) != 0)
		return ctr_err(err, CTR_EINVAL, 0, "checkpoint: type \"%.*s\", want %s", (int)(tl > 100 ? 100 : tl),
			       type ? type : "", want_type);
	*value = val;
	*vlen = vl;
	return 0;
}

/* ---- the index under construction ---- */

struct ckpt {
	ctr_container *k;
	struct ctr_arc arc;
	json_t *manifests;
	json_t *annotations;
};

static json_t *host_platform(void)
{
	struct ctr_platform host;
	ctr_platform_host(&host);
	return json_pack("{s:s,s:s}", "architecture", host.arch, "os", host.os);
}

static int add_entry(struct ckpt *x, const char *mt, const char *digest, int64_t size, bool platform,
		     ctr_error **err)
{
	json_t *d = json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)size);
	if (d && platform)
		json_object_set_new(d, "platform", host_platform());
	if (!d || json_array_append_new(x->manifests, d) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static int add_blob(struct ckpt *x, const char *mt, const void *buf, size_t len, ctr_error **err)
{
	char digest[CTR_DIGEST_MAX];
	int r = ctr_arc_put(&x->arc, buf, len, digest, err);
	return r < 0 ? r : add_entry(x, mt, digest, (int64_t)len, true, err);
}

static int add_spec(struct ckpt *x, ctr_error **err)
{
	const char *spec = x->k->md.spec ? x->k->md.spec : "{}";
	_cleanup_free_ char *any = NULL;
	size_t len = 0;
	int r = ctr_ckpt_any_encode(&any, &len, CTR_CKPT_SPEC_TYPE, spec, strlen(spec), err);
	if (r == 0)
		r = add_blob(x, CTR_MT_CHECKPOINT_CONFIG, any, len, err);
	return r < 0 ? ctr_err_prefix(err, r, "spec") : 0;
}

static int add_image(struct ckpt *x, ctr_error **err)
{
	if (!x->k->md.image)
		return ctr_err(err, CTR_ENOTFOUND, 0, "image: container %s has no image", x->k->md.id);
	ctr_image *img = NULL;
	int r = ctr_images_get(&img, x->k->c, x->k->ns, x->k->md.image, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "image");
	r = add_entry(x, img->md.media_type, img->md.digest, (int64_t)img->md.size, false, err);
	ctr_image_free(img);
	return r;
}

static int add_rw(struct ckpt *x, ctr_error **err)
{
	const ctr_container *k = x->k;
	if (!k->md.snapshot_key)
		return ctr_err(err, CTR_ENOTSUP, 0, "rw checkpoint is not supported: container %s has no snapshot",
			       k->md.id);
	_cleanup_free_ char *digest = NULL;
	int64_t size = 0;
	int r = ctr_snapshots_diff(&digest, NULL, &size, k->c, k->md.snapshotter, k->md.snapshot_key, "gzip",
				   &x->arc.scope, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "rw layer");
	return add_entry(x, CTR_MT_CHECKPOINT_RW, digest, size, true, err);
}

static int to_writer(void *ud, const void *buf, size_t len, ctr_error **err)
{
	return ctr_content_writer_write(ud, buf, len, err);
}

/* The CRIU image: `runc checkpoint` into a directory of the task's own
 * state, then that directory as an uncompressed tar blob. With image_path,
 * CRIU's files go there and stay there, and nothing is added. */
static int add_task(struct ckpt *x, bool task_exit, const char *image_path, const char *work_path,
		    ctr_error **err)
{
	ctr_task *t = NULL;
	int r = ctr_tasks_load(&t, x->k->c, x->k->ns, x->k->md.id, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "task");
	if (image_path) {
		r = ctr_rt_checkpoint(t->rt, image_path, work_path ? work_path : image_path, !task_exit, err);
		ctr_task_free(t);
		return r < 0 ? ctr_err_prefix(err, r, "task") : 0;
	}
	_cleanup_free_ char *img_dir = NULL, *work_dir = NULL;
	if (asprintf(&img_dir, "%s/checkpoint", ctr_rt_task_dir(t->rt)) < 0 ||
	    (work_path ? !(work_dir = strdup(work_path))
		       : asprintf(&work_dir, "%s/checkpoint-work", ctr_rt_task_dir(t->rt)) < 0)) {
		ctr_task_free(t);
		return ctr_err_nomem(err);
	}
	ctr_rm_rf_at(AT_FDCWD, img_dir, NULL);
	if (!work_path)
		ctr_rm_rf_at(AT_FDCWD, work_dir, NULL);
	r = ctr_rt_checkpoint(t->rt, img_dir, work_dir, !task_exit, err);
	ctr_task_free(t);
	_cleanup_close_ int dfd = -1;
	if (r == 0 && (dfd = open(img_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = ctr_err_errno(err, errno, "open %s", img_dir);
	ctr_content_writer *w = NULL;
	char *ref = NULL;
	if (r == 0)
		r = ctr_arc_writer(&x->arc, NULL, -1, &w, &ref, err);
	struct ctr_diff_result res;
	if (r == 0) {
		const struct ctr_diff_opts dopts = {.source = CTR_DIFF_COMPARE, .compression = CTR_DIFF_NONE};
		r = ctr_diff_write(-1, dfd, &dopts, to_writer, w, &res, err);
		if (r < 0) {
			ctr_content_writer_free(w);
			ctr_contents_abort(x->k->c, ref, &x->arc.scope, NULL);
			free(ref);
		} else {
			r = ctr_arc_commit(&x->arc, w, ref, (int64_t)res.size, res.digest, err);
		}
	}
	ctr_rm_rf_at(AT_FDCWD, img_dir, NULL);
	if (!work_path) /* the caller's work path keeps CRIU's logs */
		ctr_rm_rf_at(AT_FDCWD, work_dir, NULL);
	if (r == 0)
		r = add_entry(x, CTR_MT_CHECKPOINT_CRIU, res.digest, (int64_t)res.size, true, err);
	if (r == 0) {
		/* containerd.runc.v1.CheckpointOptions: exit (1), file_locks (5) */
		unsigned char opts[4] = {0x08, task_exit ? 1 : 0, 0x28, 1};
		_cleanup_free_ char *any = NULL;
		size_t len = 0;
		r = ctr_ckpt_any_encode(&any, &len, CTR_CKPT_OPTIONS_TYPE, opts, sizeof(opts), err);
		if (r == 0)
			r = add_blob(x, CTR_MT_CHECKPOINT_OPTIONS, any, len, err);
	}
	return r < 0 ? ctr_err_prefix(err, r, "task") : 0;
}

/* The index blob, with a gc.ref label per entry so the image record keeps
 * every entry alive, then the image record. */
static int finish(struct ckpt *x, const char *ref, char **labels_img, ctr_image **out, ctr_error **err)
{
	json_t *idx = json_pack("{s:i,s:s,s:O,s:O}", "schemaVersion", 2, "mediaType", CTR_MT_OCI_INDEX,
				"manifests", x->manifests, "annotations", x->annotations);
	_cleanup_free_ char *s = idx ? json_dumps(idx, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(idx);
	if (!s)
		return ctr_err_nomem(err);
	char digest[CTR_DIGEST_MAX];
	int r = ctr_arc_put(&x->arc, s, strlen(s), digest, err);
	if (r < 0)
		return r;
	size_t n = json_array_size(x->manifests), n_labels = 0;
	_cleanup_free_ struct ctr_desc *kids = calloc(n + 1, sizeof(*kids));
	_cleanup_free_ const struct ctr_desc **kp = calloc(n + 1, sizeof(*kp));
	if (!kids || !kp)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(x->manifests, i);
		kids[i].media_type = (char *)json_string_value(json_object_get(d, "mediaType"));
		snprintf(kids[i].digest, sizeof(kids[i].digest), "%s", json_string_value(json_object_get(d, "digest")));
		kp[i] = &kids[i];
	}
	_cleanup_strv_ char **labels = NULL;
	if ((r = ctr_gc_child_labels(&labels, &n_labels, kp, n, NULL, NULL, err)) < 0)
		return r;
	r = ctr_md_content_update_labels(NULL, x->k->c->db, x->k->ns, digest, (const char *const *)labels, false,
					 err);
	if (r < 0)
		return r;
	struct ctr_md_image md = {.name = (char *)ref, .media_type = CTR_MT_OCI_INDEX, .digest = digest,
				  .size = (uint64_t)strlen(s), .labels = labels_img};
	return ctr_image_put(out, x->k->c, x->k->ns, &md, false, err);
}

CTR_EXPORT int ctr_container_checkpoint(ctr_image **out, ctr_container *k, const char *ref,
					const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!k || !ref)
		return ctr_err(err, CTR_EINVAL, 0, "checkpoint: container and ref are required");
	struct ckpt_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CHECKPOINT, &cfg, &call, opts, n_opts, "checkpoint", err);
	if (r == 0 && (cfg.name || cfg.image_path || cfg.work_path))
		r = ctr_err(err, CTR_EINVAL, 0, "%s is an option of ctr_task_checkpoint",
			    cfg.name ? "ctr_with_checkpoint_name"
			    : cfg.image_path ? "ctr_with_checkpoint_image_path" : "ctr_with_checkpoint_work_path");
	free(cfg.name);
	free(cfg.image_path);
	free(cfg.work_path);
	if (r == 0)
		r = ctr_md_image_name_validate(ref, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "checkpoint %s", k->md.id);
	if (call.ns && strcmp(call.ns, k->ns) != 0)
		return ctr_err(err, CTR_EINVAL, 0, "checkpoint %s: container is in namespace %s, not %s", k->md.id,
			       k->ns, call.ns);
	ctr_image *have = NULL;
	if (ctr_images_get(&have, k->c, k->ns, ref, NULL) == 0) {
		ctr_image_free(have);
		return ctr_err(err, CTR_EEXISTS, 0, "checkpoint %s: image \"%s\" already exists", k->md.id, ref);
	}
	call.ns = k->ns;
	struct ckpt x = {.k = k, .manifests = json_array(), .annotations = json_object()};
	if (!x.manifests || !x.annotations) {
		json_decref(x.manifests);
		json_decref(x.annotations);
		return ctr_err_nomem(err);
	}
	if (k->md.image)
		json_object_set_new(x.annotations, CTR_CKPT_ANN_IMAGE, json_string(k->md.image));
	json_object_set_new(x.annotations, CTR_CKPT_ANN_RUNTIME, json_string(k->md.runtime));
	if (k->md.snapshotter)
		json_object_set_new(x.annotations, CTR_CKPT_ANN_SNAPSHOTTER, json_string(k->md.snapshotter));
	if ((r = ctr_arc_begin(&x.arc, k->c, &call, err)) < 0) {
		json_decref(x.manifests);
		json_decref(x.annotations);
		return ctr_err_prefix(err, r, "checkpoint %s", k->md.id);
	}
	/* containerd's order: the task first (it may stop the container),
	 * then what the container record names. */
	if (cfg.task)
		r = add_task(&x, cfg.task_exit, NULL, NULL, err);
	if (r == 0)
		r = add_spec(&x, err);
	if (r == 0 && cfg.image)
		r = add_image(&x, err);
	if (r == 0 && cfg.rw)
		r = add_rw(&x, err);
	/* cfg.runtime: libctr's runtime is a name only, in the annotations;
	 * with no options record there is no entry to add (containerd adds
	 * one only when the runtime has options). */
	ctr_image *img = NULL;
	if (r == 0)
		r = finish(&x, ref, NULL, out ? &img : NULL, err);
	ctr_arc_end(&x.arc, r < 0);
	json_decref(x.manifests);
	json_decref(x.annotations);
	if (r < 0)
		return ctr_err_prefix(err, r, "checkpoint %s", k->md.id);
	if (out)
		*out = img;
	return 0;
}

/* Task.Checkpoint: the CRIU image, the spec, the runtime's name, the
 * image and the read-write layer, named cfg.name or
 * "containerd.io/checkpoint/<id>:<date>", labelled containerd.io/checkpoint. */
static int task_checkpoint(ctr_image **out, ctr_container *k, const struct ckpt_cfg *cfg, const struct ctr_call *call,
			   ctr_error **err)
{
	_cleanup_free_ char *name = NULL;
	if (cfg->name) {
		name = strdup(cfg->name);
	} else {
		char date[40];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%m-%d-%Y-%H-%M-%S", &tm);
		if (asprintf(&name, "containerd.io/checkpoint/%s:%s", k->md.id, date) < 0)
			name = NULL;
	}
	if (!name)
		return ctr_err_nomem(err);
	int r = ctr_md_image_name_validate(name, err);
	if (r < 0)
		return r;
	ctr_image *have = NULL;
	if (ctr_images_get(&have, k->c, k->ns, name, NULL) == 0) {
		ctr_image_free(have);
		return ctr_err(err, CTR_EEXISTS, 0, "image \"%s\" already exists", name);
	}
	struct ckpt x = {.k = k, .manifests = json_array(), .annotations = json_object()};
	if (!x.manifests || !x.annotations)
		r = ctr_err_nomem(err);
	if (r == 0)
		r = ctr_arc_begin(&x.arc, k->c, call, err);
	if (r < 0) {
		json_decref(x.manifests);
		json_decref(x.annotations);
		return r;
	}
	r = add_task(&x, cfg->task_exit, NULL, cfg->work_path, err);
	if (r == 0)
		r = add_blob(&x, CTR_MT_CHECKPOINT_RUNTIME_NAME, k->md.runtime, strlen(k->md.runtime), err);
	if (r == 0)
		r = add_spec(&x, err);
	if (r == 0 && k->md.image) {
		json_object_set_new(x.annotations, "image.name", json_string(k->md.image));
		r = add_image(&x, err);
	}
	if (r == 0 && k->md.snapshot_key)
		r = add_rw(&x, err);
	char *labels[] = {"containerd.io/checkpoint=true", NULL};
	if (r == 0)
		r = finish(&x, name, labels, out, err);
	ctr_arc_end(&x.arc, r < 0);
	json_decref(x.manifests);
	json_decref(x.annotations);
	return r;
}

CTR_EXPORT int ctr_task_checkpoint(ctr_image **out, ctr_task *t, const ctr_opt *const *opts, size_t n_opts,
				   ctr_error **err)
{
	if (!t)
		return ctr_err(err, CTR_EINVAL, 0, "task checkpoint: task is NULL");
	const char *ns = ctr_rt_task_ns(t->rt), *id = ctr_rt_task_id(t->rt);
	struct ckpt_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = ctr_opts_apply(CTR_OPT_CHECKPOINT, &cfg, &call, opts, n_opts, "task checkpoint", err);
	if (r == 0 && (cfg.image || cfg.rw || cfg.runtime || cfg.task))
		r = ctr_err(err, CTR_EINVAL, 0, "ctr_with_checkpoint_image, _rw, _runtime and _task are options of "
			    "ctr_container_checkpoint");
	if (r == 0 && call.ns && strcmp(call.ns, ns) != 0)
		r = ctr_err(err, CTR_EINVAL, 0, "task is in namespace %s, not %s", ns, call.ns);
	struct ctr_md_container md = {0};
	ctr_container *k = NULL;
	if (r == 0)
		r = ctr_md_container_get(&md, t->client->db, ns, id, err);
	if (r == 0)
		r = ctr_container_wrap(&k, t->client, ns, &md, err);
	call.ns = ns;
	ctr_image *img = NULL;
	if (r == 0 && cfg.image_path) {
		/* CRIU's files stay in image_path; there is no image. */
		struct ckpt x = {.k = k};
		r = add_task(&x, cfg.task_exit, cfg.image_path, cfg.work_path, err);
	} else if (r == 0) {
		r = task_checkpoint(out ? &img : NULL, k, &cfg, &call, err);
	}
	ctr_container_free(k);
	free(cfg.name);
	free(cfg.image_path);
	free(cfg.work_path);
	if (r < 0)
		return ctr_err_prefix(err, r, "task checkpoint %s", id);
	if (out)
		*out = img;
	return 0;
}

int ctr_ckpt_index_read(struct ctr_manifest *out, const ctr_image *img, ctr_error **err)
{
	if (ctr_media_kind(img->md.media_type) != CTR_MT_INDEX)
		return ctr_err(err, CTR_EINVAL, 0, "image %s: target is %s, not an index", img->md.name,
			       img->md.media_type);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ctr_arc_read(img->c, img->ns, img->md.digest, CTR_MAX_MANIFEST, &buf, &len, err);
	if (r == 0)
		r = ctr_manifest_parse(buf, len, img->md.media_type, out, err);
	return r < 0 ? ctr_err_prefix(err, r, "image %s", img->md.name) : 0;
}

const struct ctr_desc *ctr_ckpt_index_find(const struct ctr_manifest *idx, const char *mt)
{
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (!strcmp(idx->manifests[i].media_type, mt))
			return &idx->manifests[i];
	return NULL;
}

CTR_EXPORT int ctr_image_index_descriptor(char **json_out, const ctr_image *img, const char *mt,
					  ctr_error **err)
{
	if (!json_out || !img || !mt)
		return ctr_err(err, CTR_EINVAL, 0, "index descriptor: NULL argument");
	struct ctr_manifest idx = {0};
	int r = ctr_ckpt_index_read(&idx, img, err);
	if (r < 0)
		return r;
	const struct ctr_desc *d = ctr_ckpt_index_find(&idx, mt);
	char *s = NULL;
	if (!d) {
		r = ctr_err(err, CTR_ENOTFOUND, 0, "image %s: media type not found: %.200s", img->md.name, mt);
	} else {
		json_t *j = ctr_desc_to_json(d);
		s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		if (!s)
			r = ctr_err_nomem(err);
	}
	ctr_manifest_clear(&idx);
	if (r == 0)
		*json_out = s;
	return r;
}
