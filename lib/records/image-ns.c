/* Image records of one namespace (lib/metadata/images.c) as handles: what
 * the public image API (lib/image.c), transfer and unpack build on. */
#include "image-ns.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "events.h"
#include "metadata.h"
#include "macro.h"

int ctr_image_wrap(ctr_image **out, ctr_client *c, const char *ns, struct ctr_md_image *md, ctr_error **err)
{
	ctr_image *i = calloc(1, sizeof(*i));
	if (!i || !(i->ns = strdup(ns))) {
		free(i);
		ctr_md_image_clear(md);
		return ctr_err_nomem(err);
	}
	i->md = *md;
	memset(md, 0, sizeof(*md));
	i->c = ctr_client_hold(c);
	*out = i;
	return 0;
}

static int load(ctr_image **out, ctr_client *c, const char *ns, const char *name, ctr_error **err)
{
	struct ctr_md_image md = {0};
	int r = ctr_md_image_get(&md, c->db, ns, name, err);
	if (r < 0)
		return r;
	return ctr_image_wrap(out, c, ns, &md, err);
}

int ctr_images_get(ctr_image **out, ctr_client *c, const char *ns, const char *name, ctr_error **err)
{
	int r = ctr_md_image_name_validate(name, err);
	return r < 0 ? r : load(out, c, ns, name, err);
}

/* Creates (or with replace, overwrites) a record; the target must be in the
 * namespace's content. */
int ctr_image_put(ctr_image **out, ctr_client *c, const char *ns, const struct ctr_md_image *img, bool replace,
		  ctr_error **err)
{
	struct ctr_md_content cc = {0};
	int r = ctr_md_content_get(&cc, c->db, ns, img->digest, err);
	ctr_md_content_clear(&cc);
	if (r < 0)
		return ctr_err_prefix(err, r, "image %s: target", img->name);
	bool existed = ctr_md_image_get(NULL, c->db, ns, img->name, NULL) == 0;
	{
		_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
		r = ctr_db_tx(&tx, c->db, true, err);
		if (r == 0)
			r = ctr_md_image_create_tx(c->db, ns, img, replace, err);
		if (r == 0)
			r = ctr_db_tx_commit(&tx, err);
	}
	if (r < 0)
		return r;
	ctr_events_publish(c, ns, existed ? "/images/update" : "/images/create",
			   json_pack("{s:s}", "name", img->name));
	return out ? load(out, c, ns, img->name, err) : 0;
}

CTR_EXPORT const char *ctr_image_name(const ctr_image *i) { return i ? i->md.name : NULL; }

CTR_EXPORT const char *ctr_image_target_media_type(const ctr_image *i) { return i ? i->md.media_type : NULL; }

CTR_EXPORT const char *ctr_image_target_digest(const ctr_image *i) { return i ? i->md.digest : NULL; }

CTR_EXPORT int64_t ctr_image_target_size(const ctr_image *i) { return i ? (int64_t)i->md.size : 0; }

CTR_EXPORT const char *const *ctr_image_labels(const ctr_image *i) { return i ? (const char *const *)i->md.labels : NULL; }

CTR_EXPORT int64_t ctr_image_created_at(const ctr_image *i) { return i ? i->md.created_at : 0; }

CTR_EXPORT int64_t ctr_image_updated_at(const ctr_image *i) { return i ? i->md.updated_at : 0; }

CTR_EXPORT const char *ctr_image_namespace(const ctr_image *i) { return i ? i->ns : NULL; }

CTR_EXPORT ctr_client *ctr_image_client(const ctr_image *i) { return i ? i->c : NULL; }

CTR_EXPORT void ctr_image_free(ctr_image *i)
{
	if (!i)
		return;
	ctr_md_image_clear(&i->md);
	ctr_strv_free(i->platforms);
	free(i->ns);
	ctr_client_release(i->c);
	free(i);
}

CTR_EXPORT void ctr_image_list_free(ctr_image **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		ctr_image_free(v[i]);
	free(v);
}
