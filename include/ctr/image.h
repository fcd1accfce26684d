/* libctr: image records (containerd's images.Store): a name pointing at a
 * target descriptor (a manifest or an index) in the content store, with
 * labels. Calls run in the client's namespace or ctr_with_call_namespace's. */
#ifndef CTR_IMAGE_H
#define CTR_IMAGE_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/opts.h>
#include <stdbool.h>

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

/* The OCI image config (JSON text) of the image's manifest for this host's
 * platform, e.g. for ctr_with_image_config. Free with ctr_free.
 * CTR_ENOTFOUND when no manifest matches or content is missing. */
CTR_EXPORT int ctr_image_config(char **json_out, const ctr_image *i, ctr_error **err);
/* The layers' uncompressed digests (rootfs.diff_ids), NULL-terminated; free
 * with ctr_strv_free. */
CTR_EXPORT int ctr_image_rootfs(char ***diff_ids, const ctr_image *i, ctr_error **err);
/* The chain ID of the top layer (the snapshot name of the unpacked image). */
CTR_EXPORT int ctr_image_chain_id(char **out, const ctr_image *i, ctr_error **err);

/* Unpacks the image's layers for this host's platform into snapshotter
 * (NULL: "overlayfs"), each committed under its chain ID and checked
 * against the config's diff_ids (containerd's Image.Unpack). Layers
 * already unpacked are skipped; concurrent unpacks of the same chain ID
 * wait for each other. Takes call options (namespace, lease). */
CTR_EXPORT int ctr_image_unpack(ctr_image *i, const char *snapshotter, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err);
/* *out = true when the top layer's snapshot exists, committed, in
 * snapshotter (NULL: the default). A snapshotter that cannot be opened (an
 * unknown name) is an error, not false. */
CTR_EXPORT int ctr_image_is_unpacked(bool *out, const ctr_image *i, const char *snapshotter, ctr_error **err);

/* Install options (kind CTR_OPT_INSTALL). */
/* The target directory (absolute; default /opt/libctr). */
CTR_EXPORT ctr_opt *ctr_with_install_path(const char *path);
/* Replace files the target already has (containerd's WithInstallReplace). */
CTR_EXPORT ctr_opt *ctr_with_install_replace(void);
/* Also install the files of lib/ (containerd's WithInstallLibs). */
CTR_EXPORT ctr_opt *ctr_with_install_libs(void);
/* containerd's Client.Install: copies the regular files directly under bin/
 * (and lib/ with ctr_with_install_libs) of the image's layers for this
 * host's platform into PATH/bin (PATH/lib), keeping their permission bits
 * (setuid, setgid and sticky dropped), owned by the caller. A later layer's
 * file or whiteout wins over an earlier one's. Other entries are ignored.
 * A file the target already has is CTR_EEXISTS ("cannot replace bin/x in
 * PATH") unless replaced, and then nothing is written: every conflict is
 * checked before the first write, files are written under temporary names
 * and renamed into place. A symlink in the target's bin/ or lib/ component
 * is refused (CTR_EINVAL). Takes CTR_OPT_INSTALL and call options. */
CTR_EXPORT int ctr_image_install(ctr_image *i, const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Bytes of the content the image needs on this host's platform: the
 * target (and index), manifest, config and layers (containerd's
 * image.Size). */
CTR_EXPORT int ctr_image_size(int64_t *out, const ctr_image *i, ctr_error **err);
/* "os/arch[/variant]" of the manifest chosen for this host. Free with ctr_free. */
CTR_EXPORT int ctr_image_platform(char **out, const ctr_image *i, ctr_error **err);
/* Every platform the target offers ("os/arch[/variant]", an index's
 * entries or the config's one), NULL-terminated; free with ctr_strv_free. */
CTR_EXPORT int ctr_image_platforms(char ***out, const ctr_image *i, ctr_error **err);
/* containerd's images.Check for this host's platform: how many of the
 * blobs the image needs the namespace has (*present of *required). */
CTR_EXPORT int ctr_image_check(int64_t *present, int64_t *required, const ctr_image *i, ctr_error **err);
/* Disk usage: content bytes the namespace holds for the image, and bytes
 * of its unpacked snapshots in snapshotter (0 when not unpacked). */
CTR_EXPORT int ctr_image_usage(int64_t *content, int64_t *snapshots, const ctr_image *i,
			       const char *snapshotter, ctr_error **err);

/* The handle resolves its manifest for platform ("os/arch[/variant]") instead
 * of this host's: config, rootfs, chain ID, unpack, size, check, usage,
 * install and new snapshots (containerd's NewImageWithPlatform). Repeated,
 * the platforms are tried in order. Kind CTR_OPT_IMAGE, for ctr_image_get. */
CTR_EXPORT ctr_opt *ctr_with_image_platform(const char *platform);
/* CTR_ENOTFOUND, CTR_EINVAL (bad name). Takes ctr_with_image_platform and
 * call options. */
CTR_EXPORT int ctr_image_get(ctr_image **out, ctr_client *c, const char *name,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Filters over name and labels.<key>. */
CTR_EXPORT int ctr_image_list(ctr_image ***out, size_t *n_out, ctr_client *c,
				      const char *const *filters, size_t n_filters,
				      const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Creates a record for content already in the store (the target must be in
 * the namespace's content: CTR_ENOTFOUND otherwise). CTR_EEXISTS when the
 * name is taken. Publishes /images/create. */
CTR_EXPORT int ctr_image_create(ctr_image **out, ctr_client *c, const char *name,
				       const char *media_type, const char *digest, int64_t size,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);
/* Tag options (kind CTR_OPT_IMAGE). */
/* Replace an existing destination (ctr images tag --force). */
CTR_EXPORT ctr_opt *ctr_with_tag_force(void);
/* ctr images tag: dst gets src's target and labels. With
 * ctr_with_tag_force, an existing dst is replaced; otherwise CTR_EEXISTS.
 * Takes CTR_OPT_IMAGE and CTR_OPT_CALL options. */
CTR_EXPORT int ctr_image_tag(ctr_image **out, ctr_client *c, const char *src, const char *dst,
			     const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Label updates: "k=v" sets, "k=" removes. out may be NULL. */
CTR_EXPORT int ctr_image_update(ctr_image **out, ctr_client *c, const char *name,
				       const char *const *labels, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);
/* Removes the record (its content goes at the next GC). CTR_ENOTFOUND.
 * Publishes /images/delete. */
CTR_EXPORT int ctr_image_delete(ctr_client *c, const char *name, const ctr_opt *const *opts,
				       size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
