/* The temporary lease of a container create, and the snapshot one left
 * behind: a create killed between its snapshot prepare and its record
 * leaves a snapshot under its key that nothing but that lease holds, and
 * the retry of the same create (containerd's user would run the same
 * command again) would fail with "already exists" for a day. The lease
 * names its creator (boot, pid namespace, pid, start time), so the retry
 * removes the snapshot only when that creator is surely dead: a create in
 * progress in another thread or process keeps its snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "container-cfg.h"
#include "error.h"
#include "macro.h"
#include "metadata.h"
#include "proc.h"
#include "snapshots.h"
#include "strv.h"

#define LEASE_TTL_NS (24LL * 3600 * 1000000000LL)

int ctr_container_lease_create(char **id, ctr_client *c, const char *ns, const char *snapshotter,
			       const char *key, ctr_error **err)
{
	char who[CTR_PROC_CREATOR_MAX];
	_cleanup_free_ char *creator = NULL, *snap = NULL;
	/* Without /proc the lease is made without a creator: it is then
	 * never reclaimed, as before. */
	if (ctr_proc_creator(who, sizeof(who)) == 0 &&
	    asprintf(&creator, CTR_LABEL_LEASE_CREATOR "=%s", who) < 0)
		return ctr_err_nomem(err);
	if (asprintf(&snap, CTR_LABEL_LEASE_SNAPSHOT "=%s/%s", snapshotter, key) < 0)
		return ctr_err_nomem(err);
	const char *labels[] = {snap, creator, NULL};
	struct ctr_lease l = {0};
	int r = ctr_md_lease_create(&l, c->db, ns, NULL, labels, ctr_db_now() + LEASE_TTL_NS, err);
	if (r < 0)
		return r;
	*id = TAKE_PTR(l.id);
	ctr_md_lease_clear(&l);
	return 0;
}

static const char *label(const struct ctr_lease *l, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; l->labels && l->labels[i]; i++)
		if (!strncmp(l->labels[i], key, n) && l->labels[i][n] == '=')
			return l->labels[i] + n + 1;
	return NULL;
}

int ctr_container_lease_reclaim(ctr_client *c, const char *ns, const char *snapshotter, const char *key,
				const char *own)
{
	_cleanup_free_ char *want = NULL;
	if (asprintf(&want, "%s/%s", snapshotter, key) < 0)
		return 0;
	struct ctr_lease *v = NULL;
	size_t n = 0;
	if (ctr_md_lease_list(&v, &n, c->db, ns, NULL, 0, NULL) < 0)
		return 0;
	_cleanup_strv_ char **dead = NULL;
	size_t n_dead = 0;
	bool live = false;
	for (size_t i = 0; i < n && !live; i++) {
		const char *s = label(&v[i], CTR_LABEL_LEASE_SNAPSHOT);
		if (!s || strcmp(s, want) || (own && !strcmp(v[i].id, own)))
			continue;
		const char *who = label(&v[i], CTR_LABEL_LEASE_CREATOR);
		if (!who || !ctr_proc_creator_gone(who)) {
			live = true;
			break;
		}
		char **nd = realloc(dead, (n_dead + 2) * sizeof(*nd));
		if (!nd || !(nd[n_dead] = strdup(v[i].id))) {
			dead = nd ? nd : dead;
			live = true; /* out of memory: keep everything */
			break;
		}
		dead = nd;
		dead[++n_dead] = NULL;
	}
	ctr_md_lease_list_free(v, n);
	if (live || !n_dead)
		return 0;
	/* The record side checks again, in its transaction, that nothing
	 * else took the snapshot meanwhile. */
	const struct ctr_call call = {.ns = ns};
	return ctr_snapshots_reclaim(c, snapshotter, key, (const char *const *)dead, n_dead, &call, NULL) == 0;
}
