/* The registry layer's internal API: resolve a reference, fetch blobs into
 * caller sinks, push blobs and manifests from caller sources. remotes/
 * knows nothing of the content store or metadata: lib/ connects a sink to
 * a content-store ingest writer (write -> ctr_cs_writer_write, reset ->
 * ctr_cs_writer_reset, offset = ctr_cs_writer_offset) and a source to a
 * blob fd (ctr_remote_source_fd).
 *
 * One libcurl multi handle drives all transfers of one call, at most
 * max_concurrency blobs at once. Transient failures (connection errors,
 * timeouts, 429, 5xx) are retried with exponential backoff (Retry-After
 * honoured), a bounded number of times. Redirects are followed by hand:
 * credentials, tokens and configured headers go only to the registry
 * host itself, never to another host a redirect or a descriptor's `urls`
 * lead to.
 *
 * Error codes: CTR_EPERM (401/403, with the registry's message),
 * CTR_ENOTFOUND (404), CTR_EUNAVAILABLE (TLS/connection failures, 5xx
 * after retries), CTR_ETIMEOUT, CTR_EDIGEST (content does not match its
 * digest or size), CTR_EINVAL (bad reference, oversized manifest),
 * CTR_ECANCELED (the progress callback asked to stop).
 *
 * A ctr_remote is used by one thread at a time (it holds the token cache);
 * open one per thread for parallel calls. Docker config credential
 * helpers (credsStore, credHelpers) are not run: use the callback. */
#ifndef CTR_REMOTES_REMOTES_H
#define CTR_REMOTES_REMOTES_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "reference.h"

#define CTR_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define CTR_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define CTR_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CTR_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define CTR_MANIFEST_MAX (4 * 1024 * 1024)

struct ctr_remote_desc {
	char *media_type;
	char *digest;
	uint64_t size;
	char **urls; /* foreign locations, NULL-terminated, or NULL */
};
void ctr_remote_desc_clear(struct ctr_remote_desc *d);
/* True for the four manifest/index media types. */
bool ctr_remote_is_manifest(const char *media_type);

/* Where fetched bytes go. `offset` is how many bytes the sink already
 * holds (a resumed ingest); the fetch asks for the rest with Range. When a
 * server ignores Range, reset() is called and the body is written from 0:
 * bytes are never spliced. write() sees bytes as they arrive. Errors from
 * write/reset fail the item with their code. When offset is 0 the fetch
 * verifies size and digest itself; otherwise it verifies the size and the
 * sink (e.g. a content-store commit) must verify the digest. */
struct ctr_remote_sink {
	int (*write)(void *ud, const void *buf, size_t len, ctr_error **err);
	int (*reset)(void *ud, ctr_error **err);
	uint64_t offset;
	void *ud;
};

/* Where pushed bytes come from: read up to len bytes at off; returns the
 * count (> 0) or a negative CTR_E* code. */
struct ctr_remote_source {
	ssize_t (*read_at)(void *ud, void *buf, size_t len, uint64_t off, ctr_error **err);
	void *ud;
};
/* A source reading fd with pread (fd borrowed, must outlive the push). */
void ctr_remote_source_fd(struct ctr_remote_source *s, int fd);
/* A source over a memory buffer (borrowed). */
struct ctr_remote_membuf {
	const void *buf;
	size_t len;
};
void ctr_remote_source_mem(struct ctr_remote_source *s, struct ctr_remote_membuf *m);

enum ctr_remote_state {
	CTR_REMOTE_WAITING = 0,
	CTR_REMOTE_DOWNLOADING = 1, /* also "uploading" for push */
	CTR_REMOTE_VERIFYING = 2,
	CTR_REMOTE_DONE = 3,
	CTR_REMOTE_FAILED = 4,
};
/* Progress: a non-zero return cancels the whole call (CTR_ECANCELED). */
typedef int (*ctr_remote_progress_fn)(const struct ctr_remote_desc *d, uint64_t done, uint64_t total,
				      enum ctr_remote_state state, void *userdata);

struct ctr_remote_opts {
	const char *hosts_dir;     /* containerd hosts directory, or NULL */
	bool plain_http;           /* default endpoint uses http */
	bool skip_verify;          /* for hosts that do not set skip_verify */
	ctr_remote_creds_fn creds; /* may be NULL */
	void *creds_ud;
	const char *docker_config; /* path of a docker config.json, or NULL */
	unsigned max_concurrency;  /* blobs at once; 0: 3 */
	int max_retries;           /* per request; < 0: 0 retries; 0: default 4 */
	unsigned retry_base_ms;    /* first backoff; 0: 250 */
	uint64_t chunk_threshold;  /* push: blobs larger go in PATCH chunks; 0: 32 MiB */
	uint64_t chunk_size;       /* push chunk size; 0: 8 MiB */
	long low_speed_time;       /* seconds under 1 KiB/s before a timeout; 0: 60 */
	const char *user_agent;
	/* For hosts whose hosts.toml names none (ctr's --tlscacert, --tlscert,
	 * --tlskey): a CA file added to the system roots, a client
	 * certificate and its key (NULL: in the cert file). */
	const char *ca_file;
	const char *client_cert;
	const char *client_key;
	ctr_remote_progress_fn progress;
	void *progress_ud;
};

struct ctr_remote;
/* Parses ref and loads its host configuration. o may be NULL. */
int ctr_remote_open(struct ctr_remote **out, const char *ref, const struct ctr_remote_opts *o, ctr_error **err);
void ctr_remote_free(struct ctr_remote *r);
const struct ctr_ref *ctr_remote_ref(const struct ctr_remote *r);

/* Resolves the reference to the descriptor of its manifest or index:
 * HEAD /manifests/<tag|digest>, GET when HEAD gives no digest; for a
 * digest reference /blobs/<digest> is tried after a 404. */
int ctr_remote_resolve(struct ctr_remote *r, struct ctr_remote_desc *out, ctr_error **err);

/* Fetches blobs (manifests through /manifests/, others through /blobs/)
 * into their sinks. results[i] (may be NULL) gets each item's code. */
struct ctr_remote_fetch_item {
	const struct ctr_remote_desc *desc;
	struct ctr_remote_sink *sink;
	int result;
};
int ctr_remote_fetch(struct ctr_remote *r, struct ctr_remote_fetch_item *items, size_t n, ctr_error **err);
/* Fetches one blob of at most max bytes into memory, verified. */
int ctr_remote_fetch_buf(struct ctr_remote *r, const struct ctr_remote_desc *d, size_t max, char **buf,
			 size_t *len, ctr_error **err);

/* Pushes items: blobs (non-manifest media types) first, concurrently,
 * skipping those the registry has and mounting from mount_from (a
 * repository path on the same registry) when given; then manifests in the
 * order given, each by digest, except the last manifest which is pushed
 * under the reference's tag (or digest) - so list the manifests before the
 * index that names them. */
struct ctr_remote_push_item {
	const struct ctr_remote_desc *desc;
	struct ctr_remote_source src;
	const char *mount_from;
	int result;
};
int ctr_remote_push(struct ctr_remote *r, struct ctr_remote_push_item *items, size_t n, ctr_error **err);

#endif
