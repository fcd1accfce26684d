/* A read-only pass over a layer tar: which hardlink targets the layer does
 * not create itself (they come from a parent layer and must be copied up
 * before the layer can be applied on its own, lib/unpack/unpack-stream.c). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "apply-internal.h"
#include "layer-archive.h"
#include "macro.h"

struct scan {
	ctr_archive_read_fn read;
	void *ud;
	ctr_error *read_err;
	int read_failed;
	char buf[1 << 16];
};

static la_ssize_t scan_read(struct archive *ar, void *ud, const void **buf)
{
	struct scan *s = ud;
	ssize_t n = s->read(s->ud, s->buf, sizeof(s->buf), &s->read_err);
	if (n < 0) {
		s->read_failed = (int)n;
		archive_set_error(ar, EIO, "layer source failed");
		return -1;
	}
	*buf = s->buf;
	return n;
}

static int strv_add(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -1;
	*v = nv;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}

int ctr_archive_missing_link_targets(char ***out, size_t *n_out, ctr_archive_read_fn read, void *ud,
				     ctr_error **err)
{
	_cleanup_free_ struct scan *s = calloc(1, sizeof(*s));
	struct archive *ar = archive_read_new();
	struct strset *seen = calloc(1, sizeof(struct strset));
	char **v = NULL;
	size_t n = 0;
	int r = 0;
	if (!s || !ar || !seen) {
		r = ctr_err_nomem(err);
		goto out;
	}
	s->read = read;
	s->ud = ud;
	archive_read_support_format_tar(ar);
	archive_read_support_format_empty(ar);
	if (archive_read_open(ar, s, NULL, scan_read, NULL) != ARCHIVE_OK) {
		r = ctr_err(err, CTR_EINVAL, 0, "scan layer: %s", archive_error_string(ar));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int q = archive_read_next_header(ar, &e);
		if (q == ARCHIVE_EOF)
			break;
		if (q < ARCHIVE_WARN) {
			if (s->read_failed) {
				r = s->read_failed;
				if (err && !*err) {
					*err = s->read_err;
					s->read_err = NULL;
				}
			} else {
				r = ctr_err(err, CTR_EINVAL, 0, "scan layer: %s", archive_error_string(ar));
			}
			goto out;
		}
		const char *name = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
		_cleanup_free_ char *cn = ap_clean_name(name ? name : "");
		_cleanup_free_ char *ct = link ? ap_clean_name(link) : NULL;
		if (!cn || (link && !ct)) {
			r = ctr_err_nomem(err);
			goto out;
		}
		if (ct && *ct && !ap_strset_has(seen, ct)) {
			bool dup = false;
			for (size_t i = 0; i < n && !dup; i++)
				dup = !strcmp(v[i], ct);
			if (!dup) {
				if (strv_add(&v, &n, ct) < 0) {
					r = ctr_err_nomem(err);
					goto out;
				}
				ct = NULL;
			}
		}
		if (ap_strset_add(seen, cn) < 0) {
			r = ctr_err_nomem(err);
			goto out;
		}
	}
out:
	if (s)
		ctr_error_free(s->read_err);
	if (ar)
		archive_read_free(ar);
	if (seen)
		ap_strset_free(seen);
	free(seen);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}
