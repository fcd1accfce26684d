/* The content half of the store check: blobs that do not hash to their name
 * and ingests that no writer holds. */
#include <ctr/check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "store.h"

struct blob_walk {
	struct ctr_cs *cs;
	bool repair;
	ctr_cs_check_fn fn;
	void *ud;
	int r;
	ctr_error **err;
};

static int check_blob(const char *digest, uint64_t size, void *ud)
{
	struct blob_walk *w = ud;
	ctr_digest_alg alg;
	const char *hex;
	if (ctr_digest_parse(digest, &alg, &hex, NULL) < 0)
		return 0;
	_cleanup_close_ int fd = ctr_cs_blob_open(w->cs, digest, NULL);
	if (fd < 0)
		return 0; /* removed since the walk listed it */
	char got[CTR_DIGEST_MAX];
	uint64_t n = 0;
	int r = ctr_digest_fd(alg, fd, got, &n, w->err);
	if (r < 0) {
		w->r = ctr_err_prefix(w->err, r, "check blob %s", digest);
		return 1;
	}
	if (!strcmp(got, digest))
		return 0;
	char detail[256];
	snprintf(detail, sizeof(detail), "its %llu bytes hash to %s", (unsigned long long)n, got);
	(void)size;
	bool fixed = w->repair && ctr_cs_blob_delete(w->cs, digest, NULL) == 0;
	return w->fn(w->ud, CTR_CHECK_BLOB_CORRUPT, digest, detail, fixed);
}

int ctr_cs_check(struct ctr_cs *cs, bool repair, ctr_cs_check_fn fn, void *ud, ctr_error **err)
{
	struct blob_walk w = {.cs = cs, .repair = repair, .fn = fn, .ud = ud, .err = err};
	int r = ctr_cs_blob_walk(cs, check_blob, &w, err);
	if (w.r < 0)
		return w.r;
	if (r < 0)
		return r;
	if (r > 0)
		return 0;
	struct ctr_cs_status *st = NULL;
	size_t n = 0;
	if ((r = ctr_cs_status_list(cs, &st, &n, err)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		int held = ctr_cs_ingest_held(cs, st[i].ref, err);
		if (held < 0) {
			r = held;
			break;
		}
		if (held)
			continue; /* a live writer's */
		char detail[256], total[40] = "an unknown total";
		if (st[i].total)
			snprintf(total, sizeof(total), "%llu", (unsigned long long)st[i].total);
		snprintf(detail, sizeof(detail), "no writer holds it; %llu bytes of %s written, resumable",
			 (unsigned long long)st[i].offset, total);
		bool fixed = repair && ctr_cs_abort(cs, st[i].ref, NULL) == 0;
		r = fn(ud, CTR_CHECK_INGEST_STALE, st[i].ref, detail, fixed) ? 1 : 0;
	}
	ctr_cs_status_list_free(st, n);
	return r < 0 ? r : 0;
}
