/* libctr: pulling from and pushing to registries (containerd's client
 * Fetch, Pull and Push).
 *
 * ctr_image_fetch and ctr_image_pull take CTR_OPT_REMOTE, CTR_OPT_PULL and
 * CTR_OPT_CALL options (namespace, lease); ctr_image_push takes
 * CTR_OPT_REMOTE, CTR_OPT_PUSH and CTR_OPT_CALL options.
 *
 * Errors: CTR_EPERM (401/403, with the registry's message), CTR_ENOTFOUND,
 * CTR_EUNAVAILABLE (TLS or connection failures, 5xx after retries),
 * CTR_ETIMEOUT, CTR_EDIGEST (content does not match its digest), CTR_EINVAL
 * (bad reference, bad or oversized manifest), CTR_ENOTSUP (schema 1),
 * CTR_ECANCELED (the progress callback asked to stop). */
#ifndef CTR_REMOTE_H
#define CTR_REMOTE_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/image.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Credentials being asked for; filled with ctr_credentials_set. */
typedef struct ctr_credentials ctr_credentials;
/* Copies user and secret (secret may be an identity token with user "").
 * CTR_EINVAL for NULL arguments, CTR_ENOMEM. */
CTR_EXPORT int ctr_credentials_set(ctr_credentials *cred, const char *user, const char *secret,
				   ctr_error **err);
/* Asked once per registry host that wants credentials. Return 0 (after
 * ctr_credentials_set, or without it for anonymous access) or a negative
 * CTR_E* code, which fails the call. */
typedef int (*ctr_credentials_fn)(const char *host, ctr_credentials *cred, void *userdata);

typedef enum ctr_progress_state {
	CTR_PROGRESS_WAITING = 0,
	CTR_PROGRESS_DOWNLOADING = 1,
	CTR_PROGRESS_UPLOADING = 2,
	CTR_PROGRESS_VERIFYING = 3,
	CTR_PROGRESS_DONE = 4,
	CTR_PROGRESS_FAILED = 5,
	CTR_PROGRESS_UNPACKING = 6 /* a layer is being applied into its snapshot (pull with unpack) */
} ctr_progress_state;
/* Called from the calling thread as blobs move; total is -1 when unknown.
 * A non-zero return cancels the call (CTR_ECANCELED); what was fetched
 * stays as resumable ingests. */
typedef int (*ctr_progress_fn)(const char *digest, const char *media_type, int64_t done, int64_t total,
			       ctr_progress_state state, void *userdata);

/* Remote options (kind CTR_OPT_REMOTE). */
/* Talk plain HTTP to the registry (when hosts.toml does not say otherwise). */
CTR_EXPORT ctr_opt *ctr_with_plain_http(void);
/* containerd's hosts directory (DIR/<host>/hosts.toml). */
CTR_EXPORT ctr_opt *ctr_with_hosts_dir(const char *dir);
/* Do not verify the registry's TLS certificate. */
CTR_EXPORT ctr_opt *ctr_with_skip_verify(void);
/* A CA certificate file trusted (with the system roots) for hosts whose
 * hosts.toml names none. */
CTR_EXPORT ctr_opt *ctr_with_tls_ca(const char *file);
/* A client certificate and key (key NULL: in the cert file). */
CTR_EXPORT ctr_opt *ctr_with_tls_client_cert(const char *cert, const char *key);
CTR_EXPORT ctr_opt *ctr_with_credentials(ctr_credentials_fn fn, void *userdata);
/* Credentials from a docker config.json (auths only; helpers are not run). */
CTR_EXPORT ctr_opt *ctr_with_docker_config(const char *path);
/* Blobs transferred at once (default 3); 1 <= n <= 1024, else NULL. */
CTR_EXPORT ctr_opt *ctr_with_max_concurrent_downloads(size_t n);
CTR_EXPORT ctr_opt *ctr_with_max_concurrent_uploads(size_t n);
CTR_EXPORT ctr_opt *ctr_with_progress(ctr_progress_fn fn, void *userdata);
/* Platforms to keep from an index, in order of preference (repeatable).
 * Default: the host platform and what it can run. */
CTR_EXPORT ctr_opt *ctr_with_platform(const char *spec);
/* Every platform of an index. */
CTR_EXPORT ctr_opt *ctr_with_all_platforms(void);

/* Pull options (kind CTR_OPT_PULL). */
/* Fetch every manifest and config of an index, layers only for the
 * selected platforms (ctr images pull --all-metadata). */
CTR_EXPORT ctr_opt *ctr_with_all_metadata(void);
/* Labels ("key=value", NULL-terminated) for the image record. */
CTR_EXPORT ctr_opt *ctr_with_pull_labels(const char *const *labels);
/* Unpack while pulling: each layer is hashed, stored and unpacked into its
 * snapshot in one pass as it arrives, layers in parallel, committed in
 * order under their chain IDs (containerd's WithPullUnpack). */
CTR_EXPORT ctr_opt *ctr_with_pull_unpack(void);
/* The snapshotter to unpack into (default "overlayfs"). */
CTR_EXPORT ctr_opt *ctr_with_pull_snapshotter(const char *name);
/* With ctr_with_pull_unpack: a layer whose uncompressed stream exceeds
 * bytes fails the pull with CTR_EINVAL ("exceeds N bytes"), besides the
 * ratio guard every layer has. Default 64 GiB; 0 gives NULL. */
CTR_EXPORT ctr_opt *ctr_with_pull_max_layer_size(uint64_t bytes);
/* Chooses the label a parent (index or manifest) gets for each child so the
 * collector keeps it (containerd's WithChildLabelMap). default_key is
 * containerd's ("containerd.io/gc.ref.content.m.0", ".config", ".l.2"...).
 * Return the key to use (default_key, or a string the library copies at
 * once), or NULL for no label: the child is then kept only by the pull's
 * lease while the pull runs. */
typedef const char *(*ctr_child_label_fn)(const char *parent_media_type, const char *child_media_type,
					   const char *child_digest, const char *default_key, void *userdata);
CTR_EXPORT ctr_opt *ctr_with_child_label_map(ctr_child_label_fn fn, void *userdata);
/* No labels for layers (containerd's ChildGCLabelsFilterLayers), for
 * snapshotters that fetch layers themselves. */
CTR_EXPORT ctr_opt *ctr_with_child_labels_filter_layers(void);

/* Fetches ref's manifest tree into the namespace's content store and
 * creates (or updates) the image record named ref. Each blob streams
 * through a verified ingest, resuming a partial one with Range; blobs the
 * namespace has are not downloaded. Parents carry containerd's gc.ref
 * labels and blobs a containerd.io/distribution.source.<host> label. All
 * of it is written under ctr_with_lease's lease, or a temporary lease
 * dropped once the record exists. Every platform matching the platform
 * options is kept (ctr content fetch). *out may be NULL. */
CTR_EXPORT int ctr_image_fetch(ctr_image **out, ctr_client *c, const char *ref,
				const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* containerd's Pull: as fetch, but keeps only the best-matching platform
 * of an index (unless ctr_with_all_platforms), and with
 * ctr_with_pull_unpack unpacks the host platform's layers as they stream
 * in. A layer whose diff_id does not match fails the pull and leaves no
 * committed snapshot. */
CTR_EXPORT int ctr_image_pull(ctr_image **out, ctr_client *c, const char *ref,
			      const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* Pushes the image record local_name (NULL: ref) as ref: layers and
 * configs (mounted from another repository of the same registry when a
 * distribution.source label names one), then manifests, then the index.
 * With platform options only matching manifests of an index are pushed
 * (and the index as stored). CTR_ENOTFOUND when the record or a blob of the
 * selected tree is missing. */
CTR_EXPORT int ctr_image_push(ctr_client *c, const char *ref, const char *local_name,
			       const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
