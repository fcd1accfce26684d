/* libctr: image records (containerd's images.Store): a name pointing at a
 * target descriptor (a manifest or an index) in the content store, with
 * labels. Calls run in the client's namespace or ctr_with_call_namespace's. */
#ifndef CTR_IMAGE_H
#define CTR_IMAGE_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An image record. Keeps a reference on its client. */
typedef struct ctr_image ctr_image;

CTR_EXPORT const char *ctr_image_name(const ctr_image *i);
CTR_EXPORT const char *ctr_image_target_media_type(const ctr_image *i);
CTR_EXPORT const char *ctr_image_target_digest(const ctr_image *i);
CTR_EXPORT int64_t ctr_image_target_size(const ctr_image *i);
/* NULL-terminated "key=value", sorted; borrowed. */
CTR_EXPORT const char *const *ctr_image_labels(const ctr_image *i);
CTR_EXPORT int64_t ctr_image_created_at(const ctr_image *i);
CTR_EXPORT int64_t ctr_image_updated_at(const ctr_image *i);
/* The namespace the record lives in; borrowed. */
CTR_EXPORT const char *ctr_image_namespace(const ctr_image *i);
CTR_EXPORT ctr_client *ctr_image_client(const ctr_image *i);
CTR_EXPORT void ctr_image_free(ctr_image *i);
CTR_EXPORT void ctr_image_list_free(ctr_image **v, size_t n);

/* CTR_ENOTFOUND, CTR_EINVAL (bad name). */
CTR_EXPORT int ctr_client_get_image(ctr_image **out, ctr_client *c, const char *name,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Filters over name and labels.<key>. */
CTR_EXPORT int ctr_client_list_images(ctr_image ***out, size_t *n_out, ctr_client *c,
				      const char *const *filters, size_t n_filters,
				      const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Creates a record for content already in the store (the target must be in
 * the namespace's content: CTR_ENOTFOUND otherwise). CTR_EEXISTS when the
 * name is taken. Publishes /images/create. */
CTR_EXPORT int ctr_client_image_create(ctr_image **out, ctr_client *c, const char *name,
				       const char *media_type, const char *digest, int64_t size,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);
/* ctr images tag: dst gets src's target and labels. With force, an
 * existing dst is replaced; otherwise CTR_EEXISTS. */
CTR_EXPORT int ctr_client_image_tag(ctr_image **out, ctr_client *c, const char *src, const char *dst,
				    int force, const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Label updates: "k=v" sets, "k=" removes. out may be NULL. */
CTR_EXPORT int ctr_client_image_update(ctr_image **out, ctr_client *c, const char *name,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);
/* Removes the record (its content goes at the next GC). CTR_ENOTFOUND.
 * Publishes /images/delete. */
CTR_EXPORT int ctr_client_image_delete(ctr_client *c, const char *name, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);

/* Bytes of the image for one platform (NULL: the host's, strictly): the
 * target, the matching manifest, its config and layers, counted from their
 * descriptors (blobs need not be present; a missing manifest counts alone),
 * as ctr images ls shows. */
CTR_EXPORT int ctr_image_size(int64_t *out, const ctr_image *i, const char *platform, ctr_error **err);
/* The platforms ("os/arch[/variant]") the image provides: an index's
 * entries, or a manifest's config. Sorted, unique, NULL-terminated; free
 * with ctr_strv_free. */
CTR_EXPORT int ctr_image_platforms(char ***out, const ctr_image *i, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
