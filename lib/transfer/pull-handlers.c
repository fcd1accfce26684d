/* The caller's image handlers during a pull (containerd's
 * RemoteContext.BaseHandlers and HandlerWrapper): the descriptor view they
 * see, their options, and how their answers steer the fetch walk. */
#include "pull-handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "opts.h"
#include "remote-opts.h"
#include "walk.h"

void ctr_descriptor_init(struct ctr_descriptor *v, const struct ctr_desc *d)
{
	v->d = d;
	v->platform[0] = 0;
	if (d->has_platform)
		ctr_platform_format(&d->platform, v->platform, sizeof(v->platform));
}

CTR_EXPORT const char *ctr_descriptor_media_type(const ctr_descriptor *d)
{
	return d ? d->d->media_type : NULL;
}

CTR_EXPORT const char *ctr_descriptor_digest(const ctr_descriptor *d)
{
	return d ? d->d->digest : NULL;
}

CTR_EXPORT int64_t ctr_descriptor_size(const ctr_descriptor *d)
{
	return d ? d->d->size : -1;
}

CTR_EXPORT const char *ctr_descriptor_annotation(const ctr_descriptor *d, const char *key)
{
	if (!d || !key || !d->d->annotations)
		return NULL;
	return json_string_value(json_object_get(d->d->annotations, key));
}

CTR_EXPORT const char *ctr_descriptor_annotation_key(const ctr_descriptor *d, size_t i)
{
	if (!d || !json_is_object(d->d->annotations))
		return NULL;
	void *it = json_object_iter(d->d->annotations);
	for (; it && i > 0; i--)
		it = json_object_iter_next(d->d->annotations, it);
	return it ? json_object_iter_key(it) : NULL;
}

CTR_EXPORT const char *ctr_descriptor_platform(const ctr_descriptor *d)
{
	return d && d->platform[0] ? d->platform : NULL;
}

/* A callback's answer, as the walk takes it. */
static int answer(int r, ctr_error *cerr, const char *who, const struct ctr_desc *d, ctr_error **err)
{
	const char *kind = ctr_media_kind_name(d->media_type);
	int ret;
	if (r == 0 || r == CTR_IMAGE_HANDLER_SKIP || r == CTR_IMAGE_HANDLER_STOP)
		ret = r == 0 ? 0 : CTR_WALK_SKIP;
	else if (r > 0 || r < CTR_ENOMEM)
		ret = ctr_err(err, CTR_EINVAL, 0, "%s: %s %s: returned %d, not 0, a CTR_E* code or CTR_IMAGE_HANDLER_*",
			      who, kind, d->digest, r);
	else
		ret = ctr_err(err, r, cerr ? cerr->sys_errno : 0, "%s: %s %s: %s", who, kind, d->digest,
			      cerr && cerr->message ? cerr->message : ctr_strerror(r));
	ctr_err_drop(&cerr);
	return ret;
}

int ctr_pull_handlers_run(const struct ctr_pull_handler *h, size_t n, const struct ctr_desc *d, ctr_error **err)
{
	struct ctr_descriptor v;
	ctr_descriptor_init(&v, d);
	for (size_t i = 0; i < n; i++) {
		ctr_error *cerr = NULL;
		int r = h[i].fn(&v, h[i].ud, &cerr);
		r = answer(r, cerr, "image handler", d, err);
		if (r != 0)
			return r;
	}
	return 0;
}

int ctr_pull_wrapper_run(ctr_image_handler_wrapper_fn fn, void *ud, const struct ctr_desc *d,
			 const struct ctr_desc *const *children, size_t n, bool *keep, ctr_error **err)
{
	struct ctr_descriptor v;
	ctr_descriptor_init(&v, d);
	_cleanup_free_ struct ctr_descriptor *cv = calloc(n ? n : 1, sizeof(*cv));
	_cleanup_free_ const ctr_descriptor **cp = calloc(n ? n : 1, sizeof(*cp));
	if (!cv || !cp)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		ctr_descriptor_init(&cv[i], children[i]);
		cp[i] = &cv[i];
		keep[i] = true;
	}
	ctr_error *cerr = NULL;
	int r = fn(keep, &v, cp, n, ud, &cerr);
	return answer(r, cerr, "image handler wrapper", d, err);
}

/* ---- options ---- */

struct handler_opt {
	void *fn;
	void *ud;
};

static int apply_handler(void *t, void *ud, ctr_error **err)
{
	struct ctr_pull_cfg *p = t;
	struct handler_opt *h = ud;
	if (p->n_handlers >= CTR_MAX_IMAGE_HANDLERS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d image handlers", CTR_MAX_IMAGE_HANDLERS);
	struct ctr_pull_handler *v = realloc(p->handlers, (p->n_handlers + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	p->handlers = v;
	v[p->n_handlers++] = (struct ctr_pull_handler){.fn = (ctr_image_handler_fn)h->fn, .ud = h->ud};
	return 0;
}

static int apply_wrapper(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct ctr_pull_cfg *p = t;
	struct handler_opt *h = ud;
	p->wrapper = (ctr_image_handler_wrapper_fn)h->fn;
	p->wrapper_ud = h->ud;
	return 0;
}

static ctr_opt *handler_opt(const char *name, ctr_opt_apply_fn apply, void *fn, void *ud)
{
	if (!fn)
		return NULL;
	struct handler_opt *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	*h = (struct handler_opt){.fn = fn, .ud = ud};
	return ctr_opt_make(CTR_OPT_PULL, name, apply, h, free);
}

CTR_EXPORT ctr_opt *ctr_with_image_handler(ctr_image_handler_fn fn, void *userdata)
{
	return handler_opt("ctr_with_image_handler", apply_handler, (void *)fn, userdata);
}

CTR_EXPORT ctr_opt *ctr_with_image_handler_wrapper(ctr_image_handler_wrapper_fn fn, void *userdata)
{
	return handler_opt("ctr_with_image_handler_wrapper", apply_wrapper, (void *)fn, userdata);
}
