/* Read-only passes over a layer tar: ctr_archive_each visits every entry
 * with its cleaned name (install reads bin/ and lib/ through it), and the
 * hardlink targets the layer does not create itself (they come from a
 * parent layer and must be copied up before the layer can be applied on its
 * own, lib/unpack/unpack-stream.c). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

struct ctr_archive_data {
	struct archive *ar;
	struct scan *s;
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

/* The error of a failed libarchive call: the source's own, else a corrupt tar. */
static int scan_fail(struct scan *s, struct archive *ar, ctr_error **err)
{
	if (!s->read_failed)
		return ctr_err(err, CTR_EINVAL, 0, "read layer: %s", archive_error_string(ar));
	if (err && !*err) {
		*err = s->read_err;
		s->read_err = NULL;
	}
	return s->read_failed;
}

ssize_t ctr_archive_data_read(ctr_archive_data *d, void *buf, size_t len, ctr_error **err)
{
	la_ssize_t n = archive_read_data(d->ar, buf, len);
	return n < 0 ? scan_fail(d->s, d->ar, err) : (ssize_t)n;
}

int ctr_archive_each(ctr_archive_read_fn read, void *ud, ctr_archive_entry_fn fn, void *fn_ud,
		     ctr_error **err)
{
	_cleanup_free_ struct scan *s = calloc(1, sizeof(*s));
	struct archive *ar = archive_read_new();
	int r = 0;
	if (!s || !ar) {
		r = ctr_err_nomem(err);
		goto out;
	}
	s->read = read;
	s->ud = ud;
	archive_read_support_format_tar(ar);
	archive_read_support_format_empty(ar);
	if (archive_read_open(ar, s, NULL, scan_read, NULL) != ARCHIVE_OK) {
		r = scan_fail(s, ar, err);
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int q = archive_read_next_header(ar, &e);
		if (q == ARCHIVE_EOF)
			break;
		if (q < ARCHIVE_WARN) {
			r = scan_fail(s, ar, err);
			goto out;
		}
		const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
		_cleanup_free_ char *cn = ap_clean_name(name ? name : "");
		_cleanup_free_ char *ct = hl ? ap_clean_name(hl) : NULL;
		if (!cn || (hl && !ct)) {
			r = ctr_err_nomem(err);
			goto out;
		}
		mode_t type = archive_entry_filetype(e);
		const struct ctr_archive_entry ent = {
			.name = cn,
			.type = hl ? S_IFREG : type,
			.hardlink = hl != NULL,
			.link = hl ? ct : type == AE_IFLNK ? archive_entry_symlink(e) : NULL,
			.perm = archive_entry_perm(e) & 07777,
			.size = archive_entry_size(e),
			.mtime = archive_entry_mtime(e),
		};
		ctr_archive_data d = {.ar = ar, .s = s};
		if ((r = fn(fn_ud, &ent, &d, err)) < 0)
			goto out;
	}
out:
	if (s)
		ctr_error_free(s->read_err);
	if (ar)
		archive_read_free(ar);
	return r;
}

struct missing {
	struct strset seen;
	char **v;
	size_t n;
};

static int missing_entry(void *ud, const struct ctr_archive_entry *e, ctr_archive_data *d, ctr_error **err)
{
	(void)d;
	struct missing *m = ud;
	if (e->hardlink && *e->link && !ap_strset_has(&m->seen, e->link)) {
		bool dup = false;
		for (size_t i = 0; i < m->n && !dup; i++)
			dup = !strcmp(m->v[i], e->link);
		if (!dup) {
			char **nv = realloc(m->v, (m->n + 2) * sizeof(char *));
			if (!nv)
				return ctr_err_nomem(err);
			m->v = nv;
			if (!(nv[m->n] = strdup(e->link)))
				return ctr_err_nomem(err);
			nv[++m->n] = NULL;
		}
	}
	return ap_strset_add(&m->seen, e->name) < 0 ? ctr_err_nomem(err) : 0;
}

int ctr_archive_missing_link_targets(char ***out, size_t *n_out, ctr_archive_read_fn read, void *ud,
				     ctr_error **err)
{
	struct missing m = {0};
	int r = ctr_archive_each(read, ud, missing_entry, &m, err);
	ap_strset_free(&m.seen);
	if (r < 0) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i]);
		free(m.v);
		return r;
	}
	*out = m.v;
	*n_out = m.n;
	return 0;
}
