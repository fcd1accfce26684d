#include "archive-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "store.h"
#include "error.h"
#include "metadata.h"
#include "reference.h"
#include "macro.h"
#include "content-ns.h"
#include "array.h"

int ctr_arc_begin(struct ctr_arc *a, ctr_client *c, const struct ctr_call *call, ctr_error **err)
{
	*a = (struct ctr_arc){.c = c, .ns = ctr_call_ns(c, call)};
	if (call->lease) {
		snprintf(a->lease, sizeof(a->lease), "%s", call->lease);
	} else {
		struct ctr_lease l = {0};
		const char *labels[] = {"containerd.io/lease.import=1", NULL};
		int r = ctr_md_lease_create(&l, c->db, a->ns, NULL, labels,
					    ctr_db_now() + 24 * 3600 * 1000000000LL, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "temporary lease");
		snprintf(a->lease, sizeof(a->lease), "%s", l.id);
		ctr_md_lease_clear(&l);
		a->own_lease = true;
	}
	a->scope = (struct ctr_call){.ns = a->ns, .lease = a->lease};
	return 0;
}

void ctr_arc_end(struct ctr_arc *a, bool failed)
{
	if (a->own_lease)
		ctr_md_lease_delete(a->c->db, a->ns, a->lease, NULL);
	for (size_t i = 0; i < a->n_added; i++) {
		if (failed) {
			/* Drops the record, and the bytes when no namespace has
			 * them (under the GC lock, as a delete does). */
			if (!a->own_lease)
				ctr_md_lease_delete_resource(a->c->db, a->ns, a->lease, "content", a->added[i], NULL);
			ctr_contents_delete(a->c, a->added[i], &(struct ctr_call){.ns = a->ns}, NULL);
		}
		free(a->added[i]);
	}
	free(a->added);
	*a = (struct ctr_arc){0};
}

bool ctr_arc_has(struct ctr_arc *a, const char *digest, uint64_t *size)
{
	struct ctr_md_content md = {0};
	int r = ctr_md_content_get(&md, a->c->db, a->ns, digest, NULL);
	if (r == 0 && size)
		*size = md.size;
	ctr_md_content_clear(&md);
	return r == 0;
}

static int remember(struct ctr_arc *a, const char *digest, ctr_error **err)
{
	int r = ctr_array_grow((void **)&a->added, &a->cap_added, a->n_added, sizeof(*a->added), err);
	if (r < 0)
		return r;
	if (!(a->added[a->n_added] = strdup(digest)))
		return ctr_err_nomem(err);
	a->n_added++;
	return 0;
}

int ctr_arc_writer(struct ctr_arc *a, const char *expected, int64_t size, ctr_content_writer **w,
		   char **ref, ctr_error **err)
{
	bool had = expected && ctr_arc_has(a, expected, NULL);
	if (had)
		return CTR_EEXISTS;
	char *rf = NULL;
	if (asprintf(&rf, "import-%s-%u", a->lease, a->seq++) < 0)
		return ctr_err_nomem(err);
	int r = ctr_contents_writer_open(w, a->c, rf, expected, size, 0, &a->scope, err);
	if (r == CTR_EEXISTS && expected) {
		/* The bytes were there: the open recorded them in the namespace. */
		free(rf);
		ctr_err_drop(err);
		int r2 = remember(a, expected, err);
		return r2 < 0 ? r2 : CTR_EEXISTS;
	}
	if (r < 0) {
		free(rf);
		return r;
	}
	*ref = rf;
	return 0;
}

int ctr_arc_commit(struct ctr_arc *a, ctr_content_writer *w, char *ref, int64_t size,
		   const char *digest, ctr_error **err)
{
	bool had = ctr_arc_has(a, digest, NULL);
	int r = ctr_contents_writer_commit(w, size, digest, NULL, err);
	ctr_content_writer_free(w);
	if (r == CTR_EEXISTS) {
		ctr_err_drop(err);
		r = 0;
	}
	if (r < 0) {
		ctr_contents_abort(a->c, ref, &a->scope, NULL);
		free(ref);
		return r;
	}
	free(ref);
	return had ? 0 : remember(a, digest, err);
}

int ctr_arc_put(struct ctr_arc *a, const void *buf, size_t len, char *digest_out, ctr_error **err)
{
	char d[CTR_DIGEST_MAX];
	int r = ctr_digest_buf(CTR_DIGEST_SHA256, buf, len, d, err);
	if (r < 0)
		return r;
	ctr_content_writer *w = NULL;
	char *ref = NULL;
	r = ctr_arc_writer(a, d, (int64_t)len, &w, &ref, err);
	if (r == CTR_EEXISTS) {
		memcpy(digest_out, d, sizeof(d));
		return 0;
	}
	if (r < 0)
		return r;
	r = ctr_content_writer_write(w, buf, len, err);
	if (r < 0) {
		ctr_content_writer_free(w);
		ctr_contents_abort(a->c, ref, &a->scope, NULL);
		free(ref);
		return r;
	}
	r = ctr_arc_commit(a, w, ref, (int64_t)len, d, err);
	if (r == 0)
		memcpy(digest_out, d, sizeof(d));
	return r;
}

int ctr_arc_read(ctr_client *c, const char *ns, const char *digest, size_t max, char **buf,
		 size_t *len, ctr_error **err)
{
	struct ctr_md_content md = {0};
	int r = ctr_md_content_get(&md, c->db, ns, digest, NULL);
	ctr_md_content_clear(&md);
	if (r < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "blob %s: not found", digest);
	_cleanup_close_ int fd = ctr_cs_blob_open(c->cs, digest, err);
	if (fd < 0)
		return fd;
	char *b = malloc(max + 1);
	if (!b)
		return ctr_err_nomem(err);
	size_t n = 0;
	for (;;) {
		ssize_t k = pread(fd, b + n, max + 1 - n, (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(b);
			return ctr_err_errno(err, errno, "read blob %s", digest);
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			free(b);
			return ctr_err(err, CTR_EINVAL, 0, "blob %s: larger than %zu bytes", digest, max);
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int ctr_arc_normalize_ref(const char *ref, char **out, ctr_error **err)
{
	struct ctr_ref r;
	int rc = ctr_ref_parse(ref, &r, err);
	if (rc < 0)
		return ctr_err(err, CTR_EINVAL, 0, "normalize image ref \"%.200s\"", ref);
	if (r.digest && r.tag) {
		free(r.tag);
		r.tag = NULL;
	}
	char *s = ctr_ref_string(&r);
	ctr_ref_clear(&r);
	if (!s)
		return ctr_err_nomem(err);
	*out = s;
	return 0;
}

char *ctr_arc_oci_ref_name(const char *name)
{
	/* containerd's reference.Parse: the host, then the object starts at
	 * the first ':' or '@' of the path. */
	const char *slash = strchr(name, '/');
	if (slash && !strstr(name, "://")) {
		const char *p = slash + strcspn(slash, ":@");
		if (*p == ':' && p[1])
			return strdup(p + 1);
	}
	return strdup(name);
}

int ctr_arc_familiar_ref(const char *ref, char **out, ctr_error **err)
{
	struct ctr_ref r;
	int rc = ctr_ref_parse(ref, &r, err);
	if (rc < 0)
		return ctr_err(err, CTR_EINVAL, 0, "familiarize image ref \"%.200s\"", ref);
	const char *path = r.path;
	bool hub = strcmp(r.domain, "docker.io") == 0;
	if (hub && strncmp(path, "library/", 8) == 0 && !strchr(path + 8, '/'))
		path += 8;
	char *s = NULL;
	int k = asprintf(&s, "%s%s%s%s%s%s%s", hub ? "" : r.domain, hub ? "" : "/", path,
			 r.tag ? ":" : "", r.tag ? r.tag : "", r.digest ? "@" : "", r.digest ? r.digest : "");
	ctr_ref_clear(&r);
	if (k < 0)
		return ctr_err_nomem(err);
	*out = s;
	return 0;
}
