/* Ingest of one blob of a fetch or pull: opening its writer (or finding the
 * namespace has it), committing it, and holding it in the fetch's lease with
 * its labels. */
#include "fetch-ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "content-ns.h"
#include "error.h"
#include "manifest.h"
#include "metadata.h"
#include "macro.h"

/* The namespace has the blob (possibly just adopted): make sure the lease
 * holds it and it carries the labels. */
static int have_blob(struct fetch *f, const char *digest, char **labels, ctr_error **err)
{
	int r = ctr_md_lease_add_resource(f->c->db, f->ns, f->lease, "content", digest, err);
	if (r < 0 || !labels || !labels[0])
		return r;
	/* The source label lists every repository the blob came from
	 * (containerd appends): merge ours into the existing value. */
	_cleanup_free_ char *merged = NULL;
	const char *eq = strrchr(f->src_label, '=');
	size_t klen = (size_t)(eq - f->src_label) + 1, n = 0;
	ctr_content_info *info = NULL;
	if (ctr_contents_info_get(&info, f->c, digest, &f->scope, NULL) == 0) {
		const char *const *l = ctr_content_info_labels(info);
		for (size_t i = 0; l && l[i] && !merged; i++) {
			if (strncmp(l[i], f->src_label, klen))
				continue;
			const char *v = l[i] + klen, *repo = eq + 1;
			bool has = false;
			for (const char *p = v; *p;) {
				size_t len = strcspn(p, ",");
				if (len == strlen(repo) && !strncmp(p, repo, len))
					has = true;
				p += len + (p[len] == ',');
			}
			if (asprintf(&merged, "%s,%s", l[i], repo) < 0 || has) {
				free(merged);
				merged = strdup(l[i]);
			}
		}
		ctr_content_info_free(info);
	}
	size_t cnt = 0;
	while (labels[cnt])
		cnt++;
	_cleanup_free_ const char **v = calloc(cnt + 1, sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; labels[i]; i++)
		v[n++] = merged && !strcmp(labels[i], f->src_label) ? merged : labels[i];
	return ctr_contents_update_labels(f->c, digest, v, &f->scope, err);
}

/* Opens the ingest of desc (kind-digest, as containerd's MakeRefKey).
 * Returns 1 when the namespace has the blob, 0 when *w is open, or a code
 * (CTR_EBUSY: another process writes it and wait_ms was 0). */
int ctr_fetch_open_ingest(struct fetch *f, const struct ctr_desc *d, int wait_ms, char **labels,
		       ctr_content_writer **w, ctr_error **err)
{
	ctr_content_info *info = NULL;
	if (ctr_contents_info_get(&info, f->c, d->digest, &f->scope, NULL) == 0) {
		ctr_content_info_free(info);
		int r = have_blob(f, d->digest, labels, err);
		if (r < 0)
			return r;
		/* A collection (another thread or process) may have taken the
		 * record before the lease held it: once leased, a record still
		 * there stays; otherwise fetch it again. */
		if (ctr_contents_info_get(&info, f->c, d->digest, &f->scope, NULL) == 0) {
			ctr_content_info_free(info);
			return 1;
		}
	}
	char ref[CTR_DIGEST_MAX + 16];
	snprintf(ref, sizeof(ref), "%s-%s", ctr_media_kind_name(d->media_type), d->digest);
	int r = ctr_contents_writer_open(w, f->c, ref, d->digest, d->size, wait_ms, &f->scope, err);
	if (r == CTR_EEXISTS) {
		ctr_err_drop(err);
		r = have_blob(f, d->digest, labels, err);
		return r < 0 ? r : 1;
	}
	return r;
}

int ctr_fetch_commit_blob(struct fetch *f, ctr_content_writer *w, const struct ctr_desc *d, char **labels,
		       ctr_error **err)
{
	int r = ctr_contents_writer_commit(w, d->size, d->digest, (const char *const *)labels, err);
	if (r == CTR_EEXISTS) {
		ctr_err_drop(err);
		return have_blob(f, d->digest, labels, err);
	}
	return r;
}
