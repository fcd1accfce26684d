/* The snapshot half of the store check: each built-in snapshotter's own
 * check (incomplete committed snapshots, entries no record names), the
 * snapshots stacked on an incomplete one, and namespace records whose
 * snapshotter entry is gone. Repair removes each, children first. */
#include <ctr/check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "metadata.h"
#include "snapshots.h"

struct bad {
	char *name; /* the backing key, <ns>/<key> */
	char *detail;
	bool fixed;
};

struct check_walk {
	ctr_client *c;
	struct ctr_snapshotter *sn;
	int (*fn)(void *ud, int kind, const char *subject, const char *detail, bool repaired);
	void *ud;
	struct bad *v;
	size_t n, cap;
	int r;
};

static bool is_bad(const struct check_walk *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].name, name))
			return true;
	return false;
}

static int add_bad(struct check_walk *w, const char *name, const char *detail)
{
	if (is_bad(w, name))
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 8;
		struct bad *nv = realloc(w->v, nc * sizeof(*nv));
		if (!nv)
			return CTR_ENOMEM;
		w->v = nv;
		w->cap = nc;
	}
	struct bad *b = &w->v[w->n];
	b->name = strdup(name);
	b->detail = strdup(detail);
	b->fixed = false;
	if (!b->name || !b->detail) {
		free(b->name);
		free(b->detail);
		return CTR_ENOMEM;
	}
	w->n++;
	return 0;
}

static int on_finding(void *ud, int kind, const char *name, const char *detail, bool repaired)
{
	struct check_walk *w = ud;
	if (kind == CTR_CHECK_SNAPSHOT_INCOMPLETE)
		return (w->r = add_bad(w, name, detail)) != 0;
	char subject[4400];
	snprintf(subject, sizeof(subject), "%s/%s", w->sn->name, name);
	return w->fn(w->ud, kind, subject, detail, repaired);
}

/* Snapshots on an incomplete parent are incomplete too. */
static int add_child(const struct ctr_snap_info *i, void *ud)
{
	struct check_walk *w = ud;
	if (!i->parent || !is_bad(w, i->parent) || is_bad(w, i->name))
		return 0;
	char detail[600];
	snprintf(detail, sizeof(detail), "its parent %.500s is incomplete", i->parent);
	if ((w->r = add_bad(w, i->name, detail)) != 0)
		return 1;
	w->r = 1; /* one more pass */
	return 0;
}

/* Removes a backing entry and its namespace record. */
static int remove_entry(ctr_client *c, struct ctr_snapshotter *sn, const char *bkey)
{
	const char *slash = strchr(bkey, '/');
	if (slash) {
		_cleanup_free_ char *ns = strndup(bkey, (size_t)(slash - bkey));
		if (!ns)
			return CTR_ENOMEM;
		struct ctr_call call = {.ns = ns};
		int r = ctr_snapshots_remove(c, sn->name, slash + 1, &call, NULL);
		if (r != CTR_ENOTFOUND)
			return r;
	}
	int r = sn->ops->remove(sn->self, bkey, NULL);
	return r == CTR_ENOTFOUND ? 0 : r;
}

static int check_incomplete(struct check_walk *w, bool repair, ctr_error **err)
{
	int r = w->sn->ops->check(w->sn->self, repair, on_finding, w, err);
	if (w->r == CTR_ENOMEM || r == CTR_ENOMEM)
		return ctr_err_nomem(err);
	if (r < 0 || w->r)
		return r;
	do {
		w->r = 0;
		if (w->n && (r = w->sn->ops->walk(w->sn->self, add_child, w, err)) < 0)
			return r;
		if (w->r == CTR_ENOMEM)
			return ctr_err_nomem(err);
	} while (w->r == 1);
	/* Children first: remove while something goes. */
	for (bool progress = repair; progress;) {
		progress = false;
		for (size_t i = 0; i < w->n; i++)
			if (!w->v[i].fixed && remove_entry(w->c, w->sn, w->v[i].name) == 0)
				progress = w->v[i].fixed = true;
	}
	for (size_t i = 0; i < w->n; i++) {
		char subject[4400];
		snprintf(subject, sizeof(subject), "%s/%s", w->sn->name, w->v[i].name);
		if (w->fn(w->ud, CTR_CHECK_SNAPSHOT_INCOMPLETE, subject, w->v[i].detail, w->v[i].fixed))
			return 1;
	}
	return 0;
}

static int delete_record(ctr_client *c, const char *ns, const char *sn, const char *key)
{
	_cleanup_(ctr_db_txp) struct ctr_db *tx = NULL;
	int r = ctr_db_tx(&tx, c->db, true, NULL);
	if (r == 0)
		r = ctr_md_snapshot_delete_tx(c->db, ns, sn, key, NULL);
	if (r == 0)
		r = ctr_db_tx_commit(&tx, NULL);
	return r;
}

/* Namespace records whose snapshotter entry is gone. */
static int check_records(struct check_walk *w, bool repair, ctr_error **err)
{
	char **nss = NULL;
	int r = ctr_md_ns_list(&nss, w->c->db, NULL, 0, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && nss[i]; i++) {
		struct ctr_md_snapshot *v = NULL;
		size_t n = 0;
		if ((r = ctr_md_snapshot_list(&v, &n, w->c->db, nss[i], w->sn->name, NULL, 0, err)) < 0)
			break;
		bool *gone = calloc(n + 1, sizeof(bool)), *fixed = calloc(n + 1, sizeof(bool));
		if (!gone || !fixed)
			r = ctr_err_nomem(err);
		for (size_t k = 0; r == 0 && k < n; k++) {
			_cleanup_free_ char *bkey = ctr_snapshot_backing_key(nss[i], v[k].key);
			if (!bkey) {
				r = ctr_err_nomem(err);
				break;
			}
			struct ctr_snap_info info = {0};
			int q = w->sn->ops->stat(w->sn->self, bkey, &info, NULL);
			ctr_snap_info_clear(&info);
			gone[k] = q == CTR_ENOTFOUND;
		}
		for (bool progress = repair && r == 0; progress;) {
			progress = false;
			for (size_t k = 0; k < n; k++)
				if (gone[k] && !fixed[k] && delete_record(w->c, nss[i], w->sn->name, v[k].key) == 0)
					progress = fixed[k] = true;
		}
		for (size_t k = 0; r == 0 && k < n; k++) {
			if (!gone[k])
				continue;
			char subject[4400];
			snprintf(subject, sizeof(subject), "%s/%s/%.4000s", w->sn->name, nss[i], v[k].key);
			if (w->fn(w->ud, CTR_CHECK_SNAPSHOT_MISSING, subject, "the snapshotter has no such snapshot", fixed[k]))
				r = 1;
		}
		free(gone);
		free(fixed);
		ctr_md_snapshot_list_free(v, n);
	}
	ctr_strv_free(nss);
	return r;
}

int ctr_snapshots_check(ctr_client *c, bool repair,
			int (*fn)(void *ud, int kind, const char *subject, const char *detail, bool repaired),
			void *ud, ctr_error **err)
{
	int r = 0;
	for (size_t b = 0; r == 0 && b < ctr_n_snapshotter_builtins; b++) {
		/* Only snapshotters that exist on disk: the check creates nothing. */
		struct ctr_snapshotter *sn = ctr_snapshots_builtin_on_disk(c, b);
		if (!sn || !sn->ops->check)
			continue;
		struct check_walk w = {.c = c, .sn = sn, .fn = fn, .ud = ud};
		r = check_incomplete(&w, repair, err);
		for (size_t i = 0; i < w.n; i++) {
			free(w.v[i].name);
			free(w.v[i].detail);
		}
		free(w.v);
		if (r == 0)
			r = check_records(&w, repair, err);
	}
	return r < 0 ? r : 0;
}
