/* Pieces shared by import, export and rootfs import: blobs written and read
 * through one namespace under one lease, and the reference spellings
 * containerd's archive package uses. */
#ifndef CTR_IMAGES_ARCHIVE_UTIL_H
#define CTR_IMAGES_ARCHIVE_UTIL_H

#include <ctr/content.h>
#include <ctr/remote.h>
#include <stdbool.h>
#include <stddef.h>

#include "opts.h"
#include "digest.h"

#define CTR_ANN_IMAGE_NAME "io.containerd.image.name"
#define CTR_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define CTR_ANN_MANIFEST_SUBJECT "io.containerd.manifest.subject"

/* One import's view of the content store: namespace, lease, and the digests
 * it newly recorded (removed again when it fails). */
struct ctr_arc {
	ctr_client *c;
	const char *ns;
	char lease[80];
	bool own_lease;
	struct ctr_call scope; /* ns and lease, for the content calls */
	unsigned seq;
	char **added;
	size_t n_added, cap_added;
};

/* Uses call->lease when given, else creates a temporary lease (expiring in
 * a day, should the process die before ctr_arc_end). */
int ctr_arc_begin(struct ctr_arc *a, ctr_client *c, const struct ctr_call *call, ctr_error **err);
/* Deletes the temporary lease; when failed, also deletes the blobs this
 * import added to the namespace (records, the caller's lease's hold on
 * them, and the bytes when no other namespace has them). */
void ctr_arc_end(struct ctr_arc *a, bool failed);

/* True when the namespace records digest (size in *size, may be NULL). */
bool ctr_arc_has(struct ctr_arc *a, const char *digest, uint64_t *size);
/* Opens a writer with a fresh ref; expected (may be NULL) and size (< 0:
 * unknown). CTR_EEXISTS when the namespace now has the blob (nothing to
 * write). */
int ctr_arc_writer(struct ctr_arc *a, const char *expected, int64_t size, ctr_content_writer **w,
		   char **ref, ctr_error **err);
/* Commits w (digest checked against `digest`), remembering a new record;
 * on failure the ingest is aborted. Frees w and ref either way. */
int ctr_arc_commit(struct ctr_arc *a, ctr_content_writer *w, char *ref, int64_t size,
		   const char *digest, ctr_error **err);
/* Stores buf (sha256); digest_out gets its digest. */
int ctr_arc_put(struct ctr_arc *a, const void *buf, size_t len, char *digest_out, ctr_error **err);
/* Reads a whole blob of at most max bytes. CTR_ENOTFOUND when the namespace
 * lacks it, CTR_EINVAL when larger than max. *buf is NUL-terminated. */
int ctr_arc_read(ctr_client *c, const char *ns, const char *digest, size_t max, char **buf,
		 size_t *len, ctr_error **err);

/* distribution's ParseDockerRef: "alpine" -> "docker.io/library/alpine:latest",
 * a digest drops the tag. CTR_EINVAL. */
int ctr_arc_normalize_ref(const char *ref, char **out, ctr_error **err);
/* containerd's ociReferenceName: the tag (object) of a full reference, or
 * the name itself. */
char *ctr_arc_oci_ref_name(const char *name);
/* distribution's FamiliarString(TagNameOnly(ParseNormalizedNamed())):
 * "docker.io/library/alpine:latest" -> "alpine:latest". CTR_EINVAL. */
int ctr_arc_familiar_ref(const char *ref, char **out, ctr_error **err);

/* import-opts.c: an option (kind, name, apply) carrying a progress
 * callback and its userdata (NULL fn: NULL), and apply's view of it. */
ctr_opt *ctr_transfer_progress_opt(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply, ctr_progress_fn fn,
				   void *userdata);
void ctr_transfer_progress_get(const void *ud, ctr_progress_fn *fn, void **userdata);

#endif
