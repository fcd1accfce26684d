#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "error.h"
#include "metadata.h"
#include "macro.h"

int ctr_content_read_all(ctr_client *c, const char *ns, const char *digest, size_t max, char **buf,
			 size_t *len, ctr_error **err)
{
	struct ctr_md_content md = {0};
	int r = ctr_md_content_get(&md, c->db, ns, digest, err);
	ctr_md_content_clear(&md);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = ctr_cs_blob_open(c->cs, digest, err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ctr_err_errno(err, errno, "stat %s", digest);
	if ((uint64_t)st.st_size > max)
		return ctr_err(err, CTR_EINVAL, 0, "blob %s: %lld bytes is over the limit of %zu", digest,
			       (long long)st.st_size, max);
	char *b = malloc((size_t)st.st_size + 1);
	if (!b)
		return ctr_err_nomem(err);
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, b + off, (size_t)st.st_size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(b);
			return ctr_err(err, CTR_EIO, n < 0 ? errno : 0, "read %s", digest);
		}
		off += (size_t)n;
	}
	b[off] = 0;
	*buf = b;
	if (len)
		*len = off;
	return 0;
}

int ctr_image_resolve(ctr_client *c, const char *ns, const char *media_type, const char *digest,
		      const struct ctr_platform_matcher *m, struct ctr_manifest *manifest,
		      char manifest_digest[CTR_DIGEST_MAX], struct ctr_image_config *config, ctr_error **err)
{
	char cur_digest[CTR_DIGEST_MAX];
	_cleanup_free_ char *cur_mt = strdup(media_type ? media_type : "");
	if (!cur_mt)
		return ctr_err_nomem(err);
	snprintf(cur_digest, sizeof(cur_digest), "%s", digest);
	for (int depth = 0; depth <= CTR_IMAGE_MAX_DEPTH; depth++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r = ctr_content_read_all(c, ns, cur_digest, CTR_MAX_MANIFEST, &buf, &len, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "image %s", cur_digest);
		struct ctr_manifest doc = {0};
		r = ctr_manifest_parse(buf, len, *cur_mt ? cur_mt : NULL, &doc, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "image %s", cur_digest);
		if (doc.kind == CTR_MT_INDEX) {
			ssize_t i = ctr_index_select(&doc, m);
			if (i < 0) {
				ctr_manifest_clear(&doc);
				return ctr_err(err, CTR_ENOTFOUND, 0, "image %s: no manifest matches the platform", digest);
			}
			free(cur_mt);
			cur_mt = strdup(doc.manifests[i].media_type);
			snprintf(cur_digest, sizeof(cur_digest), "%s", doc.manifests[i].digest);
			ctr_manifest_clear(&doc);
			if (!cur_mt)
				return ctr_err_nomem(err);
			continue;
		}
		_cleanup_free_ char *cbuf = NULL;
		size_t clen = 0;
		r = ctr_content_read_all(c, ns, doc.config.digest, CTR_MAX_CONFIG, &cbuf, &clen, err);
		struct ctr_image_config cfg = {0};
		if (r == 0)
			r = ctr_image_config_parse(cbuf, clen, &cfg, err);
		if (r == 0 && cfg.n_diff_ids != doc.n_layers)
			r = ctr_err(err, CTR_EINVAL, 0, "image %s: config has %zu diff_ids for %zu layers", cur_digest,
				    cfg.n_diff_ids, doc.n_layers);
		if (r == 0 && cfg.platform.os[0] && !m->all && !ctr_platform_match(m, &cfg.platform)) {
			char pb[100];
			r = ctr_err(err, CTR_ENOTFOUND, 0, "image %s is for %s, which does not match the platform",
				    cur_digest, ctr_platform_format(&cfg.platform, pb, sizeof(pb)));
		}
		if (r < 0) {
			ctr_image_config_clear(&cfg);
			ctr_manifest_clear(&doc);
			return ctr_err_prefix(err, r, "image config");
		}
		*manifest = doc;
		*config = cfg;
		if (manifest_digest)
			snprintf(manifest_digest, CTR_DIGEST_MAX, "%s", cur_digest);
		return 0;
	}
	return ctr_err(err, CTR_EINVAL, 0, "image %s: indexes nested deeper than %d", digest, CTR_IMAGE_MAX_DEPTH);
}
