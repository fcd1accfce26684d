/* ctr_container_restore (containerd's Client.Restore with its RestoreOpts):
 * a container record made again from a checkpoint image's index. Every
 * name and blob in the index is untrusted: names are validated like a
 * caller's, the spec must be a JSON object, the layer goes through the one
 * layer apply. */
#include <ctr/checkpoint.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "archive-util.h"
#include "checkpoint.h"
#include "client.h"
#include "container.h"
#include "error.h"
#include "events.h"
#include "ident.h"
#include "json.h"
#include "metadata.h"
#include "snapshots.h"
#include "spec-internal.h"
#include "macro.h"

struct restore_cfg {
	bool image, spec, runtime, rw;
};

#define FLAG_OPT(fn, field)                                                          \
	CTR_EXPORT ctr_opt *fn(void)                                                 \
	{                                                                            \
		return ctr_opt_make_flag(CTR_OPT_RESTORE, #fn, offsetof(struct restore_cfg, field)); \
	}
FLAG_OPT(ctr_with_restore_image, image)
FLAG_OPT(ctr_with_restore_spec, spec)
FLAG_OPT(ctr_with_restore_runtime, runtime)
FLAG_OPT(ctr_with_restore_rw, rw)

static const char *annotation(const struct ctr_manifest *idx, const char *key)
{
	const char *v = json_string_value(json_object_get(idx->annotations, key));
	return v && *v ? v : NULL;
}

/* The spec entry: a protobuf Any of containerd's spec type around a JSON
 * object. *out is the JSON text. */
static int read_spec(char **out, const ctr_image *ck, const struct ctr_manifest *idx, ctr_error **err)
{
	const struct ctr_desc *d = ctr_ckpt_index_find(idx, CTR_MT_CHECKPOINT_CONFIG);
	if (!d)
		return ctr_err(err, CTR_ENOTFOUND, 0, "spec: media type not found: %s", CTR_MT_CHECKPOINT_CONFIG);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ctr_arc_read(ck->c, ck->ns, d->digest, CTR_CKPT_SPEC_MAX, &buf, &len, err);
	const char *v = NULL;
	size_t vl = 0;
	if (r == 0)
		r = ctr_ckpt_any_decode(buf, len, CTR_CKPT_SPEC_TYPE, &v, &vl, err);
	json_t *j = NULL;
	if (r == 0 && memchr(v, 0, vl))
		r = ctr_err(err, CTR_EINVAL, 0, "a NUL byte in the JSON text");
	if (r == 0)
		r = ctr_json_parse(v, vl, CTR_CKPT_SPEC_MAX, CTR_JSON_MAX_DEPTH, "spec", &j, err);
	if (r == 0 && !json_is_object(j))
		r = ctr_err(err, CTR_EINVAL, 0, "not a JSON object");
	json_decref(j);
	/* The text as the checkpoint holds it, so the spec is byte for byte
	 * the checkpointed container's. */
	if (r == 0 && !(*out = strndup(v, vl)))
		r = ctr_err_nomem(err);
	return r < 0 ? ctr_err_prefix(err, r, "spec") : 0;
}

static int default_spec(char **out, const char *ns, const char *id, ctr_error **err)
{
	ctr_spec *s = NULL;
	int r = ctr_spec_new_at(&s, ns, id, -1, NULL, 0, err);
	if (r == 0)
		r = ctr_spec_to_json(out, s, 0, err);
	ctr_spec_free(s);
	return r;
}

struct restored {
	char *image, *snapshotter, *runtime, *spec;
	bool made_snapshot;
};

static int restore_image(struct restored *o, ctr_client *c, const char *id, const struct ctr_manifest *idx,
			 const struct ctr_call *call, ctr_error **err)
{
	const char *name = annotation(idx, CTR_CKPT_ANN_IMAGE);
	if (!name)
		return ctr_err(err, CTR_ENOTFOUND, 0, "image name not found in index");
	const char *sn = annotation(idx, CTR_CKPT_ANN_SNAPSHOTTER);
	if (!sn)
		return ctr_err(err, CTR_ENOTFOUND, 0, "snapshotter not found in index");
	int r = ctr_ident_validate(sn, "snapshotter", err);
	ctr_image *img = NULL;
	if (r == 0)
		r = ctr_images_get(&img, c, call->ns, name, err);
	_cleanup_free_ char *chain = NULL;
	if (r == 0)
		r = ctr_image_chain_id(&chain, img, err);
	ctr_image_free(img);
	if (r == 0) {
		r = ctr_snapshots_prepare(NULL, c, sn, id, chain, NULL, false, call, err);
		if (r == CTR_ENOTFOUND)
			ctr_err_prefix(err, r, "image %s is not unpacked in %s", name, sn);
	}
	if (r < 0)
		return ctr_err_prefix(err, r, "image");
	o->made_snapshot = true;
	if (!(o->image = strdup(name)) || !(o->snapshotter = strdup(sn)))
		return ctr_err_nomem(err);
	return 0;
}

static int restore_runtime(struct restored *o, const struct ctr_manifest *idx, ctr_error **err)
{
	const char *rt = annotation(idx, CTR_CKPT_ANN_RUNTIME);
	if (!rt)
		return ctr_err(err, CTR_ENOTFOUND, 0, "runtime not found in index");
	int r = ctr_runtime_name_validate(rt, "runtime", err);
	if (r < 0)
		return r;
	return (o->runtime = strdup(rt)) ? 0 : ctr_err_nomem(err);
}

static int write_record(ctr_client *c, const char *ns, const char *id, const struct restored *o, ctr_error **err)
{
	struct ctr_md_container md = {
		.id = (char *)id,
		.image = o->image,
		.runtime = o->runtime ? o->runtime : (char *)CTR_DEFAULT_RUNTIME,
		.spec = o->spec,
		.snapshotter = o->made_snapshot ? o->snapshotter : NULL,
		.snapshot_key = o->made_snapshot ? (char *)id : NULL,
	};
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, c->db, true, err);
	if (r == 0)
		r = ctr_md_container_write_tx(c->db, ns, &md, true, err);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, err);
	return r;
}

CTR_EXPORT int ctr_container_restore(ctr_container **out, ctr_client *c, const char *id,
				     const ctr_image *checkpoint, const ctr_opt *const *opts, size_t n_opts,
				     ctr_error **err)
{
	if (!c || !checkpoint)
		return ctr_err(err, CTR_EINVAL, 0, "restore: client and checkpoint are required");
	struct restore_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = ctr_ident_validate(id, "container id", err);
	if (r == 0)
		r = ctr_opts_apply(CTR_OPT_RESTORE, &cfg, &call, opts, n_opts, "restore", err);
	if (r == 0 && cfg.rw && !cfg.image)
		r = ctr_err(err, CTR_EINVAL, 0, "ctr_with_restore_rw needs ctr_with_restore_image (the snapshot to apply onto)");
	if (r < 0)
		return ctr_err_prefix(err, r, "restore %s", id ? id : "(null)");
	/* The checkpoint's namespace is where its blobs are. */
	const char *ns = checkpoint->ns;
	if (call.ns && strcmp(call.ns, ns) != 0)
		return ctr_err(err, CTR_EINVAL, 0, "restore %s: checkpoint is in namespace %s, not %s", id, ns, call.ns);
	if (ctr_md_container_get(NULL, c->db, ns, id, NULL) == 0)
		return ctr_err(err, CTR_EEXISTS, 0, "restore %s: container \"%s\": already exists", id, id);
	struct ctr_manifest idx = {0};
	if ((r = ctr_ckpt_index_read(&idx, checkpoint, err)) < 0)
		return ctr_err_prefix(err, r, "restore %s", id);
	/* A lease of our own (unless the caller gave one) holds the new
	 * snapshot until the record names it. */
	_cleanup_free_ char *tmp_lease = NULL;
	if (!call.lease) {
		struct ctr_lease l = {0};
		r = ctr_md_lease_create(&l, c->db, ns, NULL, NULL, ctr_db_now() + 24LL * 3600 * 1000000000LL, err);
		tmp_lease = TAKE_PTR(l.id);
		ctr_md_lease_clear(&l);
	}
	const struct ctr_call scope = {.ns = ns, .lease = call.lease ? call.lease : tmp_lease};
	struct restored o = {0};
	if (r == 0 && cfg.image)
		r = restore_image(&o, c, id, &idx, &scope, err);
	if (r == 0 && cfg.rw) {
		const struct ctr_desc *d = ctr_ckpt_index_find(&idx, CTR_MT_CHECKPOINT_RW);
		r = d ? ctr_snapshots_apply(c, o.snapshotter, id, d->digest, NULL, &scope, err)
		      : ctr_err(err, CTR_ENOTFOUND, 0, "media type not found: %s", CTR_MT_CHECKPOINT_RW);
		if (r < 0)
			ctr_err_prefix(err, r, "rw layer");
	}
	if (r == 0)
		r = cfg.spec ? read_spec(&o.spec, checkpoint, &idx, err) : default_spec(&o.spec, ns, id, err);
	if (r == 0 && cfg.runtime)
		r = restore_runtime(&o, &idx, err);
	if (r == 0)
		r = write_record(c, ns, id, &o, err);
	bool written = r == 0;
	if (r == 0) {
		ctr_events_publish(c, ns, "/containers/create",
				   json_pack("{s:s,s:s,s:{s:s}}", "id", id, "image", o.image ? o.image : "", "runtime",
					     "name", o.runtime ? o.runtime : CTR_DEFAULT_RUNTIME));
		struct ctr_md_container got = {0};
		if (out && (r = ctr_md_container_get(&got, c->db, ns, id, err)) == 0)
			r = ctr_container_wrap(out, c, ns, &got, err);
	}
	if (r < 0 && o.made_snapshot && !written)
		ctr_snapshots_remove(c, o.snapshotter, id, &(struct ctr_call){.ns = ns}, NULL);
	if (tmp_lease)
		ctr_md_lease_delete(c->db, ns, tmp_lease, NULL);
	ctr_manifest_clear(&idx);
	free(o.image);
	free(o.snapshotter);
	free(o.runtime);
	free(o.spec);
	return r < 0 ? ctr_err_prefix(err, r, "restore %s", id) : 0;
}
