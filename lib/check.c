/* The store check: ctr_client_check walks the blob store (lib/content), the
 * records of meta.db, the unpackers' extract snapshots and the snapshotters
 * (lib/snapshots, snapshot/) and reports, and with repair fixes, what a
 * crash can leave behind. */
#include <ctr/check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "macro.h"
#include "metadata.h"
#include "opts.h"
#include "snapshots.h"
#include "store.h"
#include "unpack.h"

struct finding {
	ctr_check_kind kind;
	char *subject;
	char *detail;
	bool repaired;
};

struct ctr_check_report {
	struct finding *v;
	size_t n, cap;
	bool nomem;
};

struct check_cfg {
	bool repair;
};

static int add_finding(void *ud, int kind, const char *subject, const char *detail, bool repaired)
{
	struct ctr_check_report *r = ud;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct finding *nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return r->nomem = true;
		r->v = nv;
		r->cap = nc;
	}
	struct finding *f = &r->v[r->n];
	f->kind = (ctr_check_kind)kind;
	f->subject = strdup(subject);
	f->detail = strdup(detail ? detail : "");
	f->repaired = repaired;
	if (!f->subject || !f->detail) {
		free(f->subject);
		free(f->detail);
		return r->nomem = true;
	}
	r->n++;
	return 0;
}

/* Content records whose blob is gone, and images whose target is. */
static int check_records(ctr_client *c, const char *ns, bool repair, struct ctr_check_report *rep, ctr_error **err)
{
	struct ctr_md_content *cv = NULL;
	size_t n = 0;
	int r = ctr_md_content_list(&cv, &n, c->db, ns, NULL, 0, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		uint64_t size;
		if (ctr_cs_blob_stat(c->cs, cv[i].digest, &size, NULL) != CTR_ENOTFOUND)
			continue;
		bool fixed = repair && ctr_md_content_delete(c->db, ns, cv[i].digest, NULL) == 0;
		_cleanup_free_ char *subject = NULL;
		if (asprintf(&subject, "%s/%s", ns, cv[i].digest) < 0)
			r = ctr_err_nomem(err);
		else if (add_finding(rep, CTR_CHECK_CONTENT_MISSING, subject, "the record's blob is missing", fixed))
			r = ctr_err_nomem(err);
	}
	ctr_md_content_list_free(cv, n);
	if (r < 0)
		return r;
	struct ctr_md_image *iv = NULL;
	if ((r = ctr_md_image_list(&iv, &n, c->db, ns, NULL, 0, err)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		uint64_t size;
		if (ctr_cs_blob_stat(c->cs, iv[i].digest, &size, NULL) != CTR_ENOTFOUND)
			continue;
		_cleanup_free_ char *subject = NULL, *detail = NULL;
		if (asprintf(&subject, "%s/%s", ns, iv[i].name) < 0 ||
		    asprintf(&detail, "its target %s is missing; pull it again", iv[i].digest) < 0)
			r = ctr_err_nomem(err);
		else if (add_finding(rep, CTR_CHECK_IMAGE_TARGET_MISSING, subject, detail, false))
			r = ctr_err_nomem(err);
	}
	ctr_md_image_list_free(iv, n);
	return r;
}

/* Extract snapshots ("extract-<time>-<pid> <chain>") whose layer lock nobody
 * holds: their unpacker is gone. */
static int check_extracts(ctr_client *c, const char *ns, bool repair, struct ctr_check_report *rep,
			  ctr_error **err)
{
	int r = 0;
	for (size_t b = 0; r == 0 && b < ctr_n_snapshotter_builtins; b++) {
		const char *sn = ctr_snapshotter_builtins[b].name;
		struct ctr_md_snapshot *v = NULL;
		size_t n = 0;
		if ((r = ctr_md_snapshot_list(&v, &n, c->db, ns, sn, NULL, 0, err)) < 0)
			break;
		for (size_t i = 0; r == 0 && i < n; i++) {
			const char *chain = strchr(v[i].key, ' ');
			if (strncmp(v[i].key, "extract-", 8) || !chain || strcmp(v[i].kind, "active"))
				continue;
			int fd = ctr_unpack_chain_trylock(c, ns, sn, chain + 1, NULL);
			if (fd < 0)
				continue; /* an unpacker is writing it */
			bool fixed = false;
			if (repair) {
				struct ctr_call call = {.ns = ns};
				fixed = ctr_snapshots_remove(c, sn, v[i].key, &call, NULL) == 0;
			}
			close(fd);
			_cleanup_free_ char *subject = NULL;
			if (asprintf(&subject, "%s/%s/%s", sn, ns, v[i].key) < 0)
				r = ctr_err_nomem(err);
			else if (add_finding(rep, CTR_CHECK_EXTRACT_STALE, subject,
					     "no unpacker holds its layer; the layer unpacks again on the next pull", fixed))
				r = ctr_err_nomem(err);
		}
		ctr_md_snapshot_list_free(v, n);
	}
	return r;
}

static int run_check(ctr_client *c, bool repair, struct ctr_check_report *rep, ctr_error **err)
{
	int r = 0;
	if (c->cs && (r = ctr_cs_check(c->cs, repair, add_finding, rep, err)) < 0)
		return r;
	if (rep->nomem)
		return ctr_err_nomem(err);
	char **nss = NULL;
	if ((r = ctr_md_ns_list(&nss, c->db, NULL, 0, err)) < 0)
		return r;
	{
		/* Shared, as committers hold it: the collector's sweep (records
		 * gone before their bytes) is never seen half-done. */
		_cleanup_close_ int lock = c->cs ? ctr_cs_gc_lock(c->cs, false, err) : -1;
		if (c->cs && lock < 0)
			r = lock;
		for (size_t i = 0; r == 0 && c->cs && nss[i]; i++)
			r = check_records(c, nss[i], repair, rep, err);
	}
	for (size_t i = 0; r == 0 && nss[i]; i++)
		r = check_extracts(c, nss[i], repair, rep, err);
	ctr_strv_free(nss);
	if (r == 0)
		r = ctr_snapshots_check(c, repair, add_finding, rep, err);
	if (r == 0 && rep->nomem)
		r = ctr_err_nomem(err);
	return r;
}

static int apply_repair(void *target, void *userdata, ctr_error **err)
{
	(void)userdata;
	(void)err;
	((struct check_cfg *)target)->repair = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_check_repair(void)
{
	return ctr_opt_make(CTR_OPT_CHECK, "ctr_with_check_repair", apply_repair, NULL, NULL);
}

CTR_EXPORT int ctr_client_check(ctr_check_report **out, ctr_client *c, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err)
{
	if (!out || !c)
		return ctr_err(err, CTR_EINVAL, 0, "check: %s is NULL", out ? "client" : "out");
	*out = NULL;
	struct check_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_CHECK, &cfg, NULL, opts, n_opts, "check", err);
	if (r < 0)
		return r;
	struct ctr_check_report *rep = calloc(1, sizeof(*rep));
	if (!rep)
		return ctr_err_nomem(err);
	if ((r = run_check(c, cfg.repair, rep, err)) < 0) {
		ctr_check_report_free(rep);
		return ctr_err_prefix(err, r, "check");
	}
	*out = rep;
	return 0;
}

CTR_EXPORT size_t ctr_check_report_count(const ctr_check_report *r)
{
	return r ? r->n : 0;
}

CTR_EXPORT ctr_check_kind ctr_check_report_kind(const ctr_check_report *r, size_t i)
{
	return r && i < r->n ? r->v[i].kind : (ctr_check_kind)0;
}

CTR_EXPORT const char *ctr_check_report_subject(const ctr_check_report *r, size_t i)
{
	return r && i < r->n ? r->v[i].subject : NULL;
}

CTR_EXPORT const char *ctr_check_report_detail(const ctr_check_report *r, size_t i)
{
	return r && i < r->n ? r->v[i].detail : NULL;
}

CTR_EXPORT bool ctr_check_report_repaired(const ctr_check_report *r, size_t i)
{
	return r && i < r->n && r->v[i].repaired;
}

CTR_EXPORT const char *ctr_check_report_kind_name(const ctr_check_report *r, size_t i)
{
	switch (ctr_check_report_kind(r, i)) {
	case CTR_CHECK_BLOB_CORRUPT: return "blob-corrupt";
	case CTR_CHECK_CONTENT_MISSING: return "content-missing";
	case CTR_CHECK_IMAGE_TARGET_MISSING: return "image-target-missing";
	case CTR_CHECK_SNAPSHOT_MISSING: return "snapshot-missing";
	case CTR_CHECK_SNAPSHOT_INCOMPLETE: return "snapshot-incomplete";
	case CTR_CHECK_SNAPSHOT_ORPHAN_DIR: return "snapshot-orphan";
	case CTR_CHECK_INGEST_STALE: return "ingest-stale";
	case CTR_CHECK_EXTRACT_STALE: return "extract-stale";
	}
	return "unknown";
}

CTR_EXPORT void ctr_check_report_free(ctr_check_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].subject);
		free(r->v[i].detail);
	}
	free(r->v);
	free(r);
}
