/* libctr: image archives (containerd's images/archive and client Import /
 * Export): OCI image-layout tars and `docker save` tars in, OCI image-layout
 * tars (with docker's manifest.json) out. */
#ifndef CTR_ARCHIVE_H
#define CTR_ARCHIVE_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/image.h>
#include <ctr/opts.h>
#include <ctr/remote.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Import options (kind CTR_OPT_IMPORT). */
/* Keep only manifests of this platform (containerd's OnlyStrict, as `ctr
 * images import --platform`); given several times, any of them in order.
 * Default: the client's default platform (ctr_with_default_platform), which
 * is the host platform and what it runs unless set (containerd's Import
 * uses the client's platform too). */
CTR_EXPORT ctr_opt *ctr_with_import_platform(const char *spec);
/* Keep every platform's content. */
CTR_EXPORT ctr_opt *ctr_with_import_all_platforms(void);
/* Unpack each imported image into snapshotter (NULL: the default) for the
 * import's platform (the host's by default), as ctr images import does
 * unless --no-unpack. The images stay imported when unpacking fails; the
 * call then returns the unpack's error. */
CTR_EXPORT ctr_opt *ctr_with_import_unpack(const char *snapshotter);
/* Also create an image record NAME for the whole index (--index-name). */
CTR_EXPORT ctr_opt *ctr_with_import_index_name(const char *name);
/* containerd's FilterRefPrefix (ctr's --base-name): an OCI ref name that is
 * a bare tag becomes NAME:tag; a full reference is kept only when it starts
 * with NAME. */
CTR_EXPORT ctr_opt *ctr_with_import_base_name(const char *name);
/* containerd's AddRefPrefix (ctr's default "import-<date>"): a bare tag
 * becomes NAME:tag; a full reference is kept as is. */
CTR_EXPORT ctr_opt *ctr_with_import_ref_prefix(const char *name);
/* Also name every top-level manifest PREFIX@<digest> (--digests). */
CTR_EXPORT ctr_opt *ctr_with_import_digest_refs(const char *prefix);
/* Labels for the image records ("key=value", NULL-terminated). */
CTR_EXPORT ctr_opt *ctr_with_import_labels(const char *const *labels);
/* Reports each file as it is stored (<ctr/remote.h>'s ctr_progress_fn,
 * from the calling thread): a blob by its digest, another file (a docker
 * save layer) by its path in the archive; CTR_PROGRESS_DOWNLOADING with
 * the bytes read so far and the entry's size, then CTR_PROGRESS_DONE
 * (also for a blob the namespace already has). media_type is NULL. A
 * non-zero return cancels the import (CTR_ECANCELED). NULL fn: NULL. */
CTR_EXPORT ctr_opt *ctr_with_import_progress(ctr_progress_fn fn, void *userdata);

/* Reads a tar stream from fd (a file or a pipe; read once, from its current
 * offset, never seeked; not closed): an OCI image layout (oci-layout,
 * index.json, blobs/<alg>/<hex>) or a `docker save` archive (manifest.json),
 * possibly gzip or zstd compressed. Every blob is verified as it is stored;
 * everything is held by a temporary lease (or the call's ctr_with_lease)
 * until the image records exist. Records are named from the index entries'
 * io.containerd.image.name / org.opencontainers.image.ref.name annotations
 * (or RepoTags, normalised to docker.io/library/...), and replace existing
 * records of the same names. *out gets the records (free with
 * ctr_image_list_free); n_out their number.
 * Errors: CTR_EINVAL (bad path, JSON, name, unknown format), CTR_EDIGEST (a
 * blob does not match its name), CTR_ENOTFOUND (a referenced blob is
 * missing), CTR_ENOTSUP (layout version, digest algorithm, schema 1).
 * On failure no image record is written and blobs the call added to the
 * namespace are removed again. Takes CTR_OPT_IMPORT and CTR_OPT_CALL. */
CTR_EXPORT int ctr_image_import(ctr_image ***out, size_t *n_out, ctr_client *c, int fd,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Makes a one-layer image from the directory dir, as `docker import` does:
 * a gzip layer of the whole tree, an OCI config (host os/architecture,
 * created now, rootfs.diff_ids) and an OCI manifest, stored through the
 * content API; the record `name` points at the manifest (replacing one of
 * the same name). *out may be NULL. Takes CTR_OPT_CALL options. */
CTR_EXPORT int ctr_image_import_rootfs(ctr_image **out, ctr_client *c, const char *dir,
					const char *name, const ctr_opt *const *opts,
					size_t n_opts, ctr_error **err);

/* Export options (kind CTR_OPT_EXPORT). */
/* Platforms to export from indexes, in order of preference (ctr's
 * --platform). Default: the host platform only (DefaultStrict). */
CTR_EXPORT ctr_opt *ctr_with_export_platform(const char *spec);
/* Export every platform of an index (manifest.json still names the best
 * match). */
CTR_EXPORT ctr_opt *ctr_with_export_all_platforms(void);
/* Leave out docker's manifest.json (--skip-manifest-json). */
CTR_EXPORT ctr_opt *ctr_with_export_skip_docker_manifest(void);
/* Leave out non-distributable layers (--skip-non-distributable). */
CTR_EXPORT ctr_opt *ctr_with_export_skip_non_distributable(void);
/* Reports each blob as it is written (ctr_progress_fn, from the calling
 * thread): CTR_PROGRESS_UPLOADING with the bytes written and its size,
 * CTR_PROGRESS_DONE once all of it is. media_type is NULL. A non-zero
 * return cancels the export (CTR_ECANCELED; the tar is left unfinished).
 * NULL fn: NULL. */
CTR_EXPORT ctr_opt *ctr_with_export_progress(ctr_progress_fn fn, void *userdata);

/* Writes the named images as an OCI image-layout tar to fd (a file or a
 * pipe; not closed): oci-layout, index.json listing each image's target
 * annotated with io.containerd.image.name and org.opencontainers.image.ref.name,
 * blobs/<alg>/<hex>, and docker's manifest.json. Everything is checked
 * before the first byte is written. Errors: CTR_ENOTFOUND (an image or a
 * blob), CTR_EINVAL (a target that is not a manifest or index), CTR_EIO.
 * Takes CTR_OPT_EXPORT and CTR_OPT_CALL. */
CTR_EXPORT int ctr_image_export(ctr_client *c, int fd, const char *const *names, size_t n_names,
				 const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
