/* The built-in snapshotters' half of the store check: committed snapshots
 * whose directory is missing or lacks what a committed layer must hold, and
 * entries of <dir>/snapshots that no record names. */
#include <ctr/check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "macro.h"
#include "storage.h"

struct names {
	char **v;
	size_t n, cap;
};

static int collect_committed(const struct ctr_snap_info *i, void *ud)
{
	struct names *w = ud;
	if (i->kind != CTR_SNAP_COMMITTED)
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		char **nv = realloc(w->v, nc * sizeof(*nv));
		if (!nv)
			return CTR_ENOMEM;
		w->v = nv;
		w->cap = nc;
	}
	if (!(w->v[w->n] = strdup(i->name)))
		return CTR_ENOMEM;
	w->n++;
	return 0;
}

/* What is wrong with id's directory, or NULL. */
static const char *dir_problem(struct ctr_snap_store *st, int64_t id, const char *const *need)
{
	char name[32];
	snprintf(name, sizeof(name), "%lld", (long long)id);
	_cleanup_close_ int fd = openat(st->snapshots_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return "its directory is missing";
	if (!need || !need[0])
		return NULL;
	struct stat sb;
	for (size_t k = 0; need[k]; k++)
		if (fstatat(fd, need[k], &sb, AT_SYMLINK_NOFOLLOW) == 0)
			return NULL;
	return "its directory holds no layer";
}

struct orphan_report {
	bool repair;
	ctr_snap_check_fn fn;
	void *ud;
	ctr_snap_destroy_fn destroy;
	void *destroy_ud;
};

static int report_orphan(void *ud, const char *name, ctr_error **err)
{
	struct orphan_report *o = ud;
	bool fixed = false;
	if (o->repair) {
		int r = o->destroy(o->destroy_ud, name, err);
		if (r < 0)
			return r;
		fixed = true;
	}
	return o->fn(o->ud, CTR_CHECK_SNAPSHOT_ORPHAN_DIR, name, "no snapshot names this entry", fixed) ? 1 : 0;
}

int ctr_snap_store_check(struct ctr_snap_store *st, const char *const *need, bool repair,
			 ctr_snap_destroy_fn destroy, void *destroy_ud, ctr_snap_check_fn fn, void *ud,
			 ctr_error **err)
{
	struct names w = {0};
	int r = ctr_snap_store_walk(st, collect_committed, &w, err);
	if (r == CTR_ENOMEM)
		r = ctr_err_nomem(err);
	for (size_t i = 0; r == 0 && i < w.n; i++) {
		int64_t id;
		if (ctr_snap_store_get(st, w.v[i], &id, NULL, NULL, NULL, NULL) < 0)
			continue; /* removed meanwhile */
		const char *why = dir_problem(st, id, need);
		if (why && fn(ud, CTR_CHECK_SNAPSHOT_INCOMPLETE, w.v[i], why, false))
			r = 1;
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	if (r != 0)
		return r < 0 ? r : 0;
	struct orphan_report o = {.repair = repair, .fn = fn, .ud = ud, .destroy = destroy, .destroy_ud = destroy_ud};
	r = ctr_snap_store_cleanup(st, report_orphan, &o, err);
	return r < 0 ? r : 0;
}
