/* The client's snapshotters as the plugin list shows them: every built-in,
 * checked at its directory (a refusal says why), then the application's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "snapshots.h"

static int add(struct ctr_snapshotter_state **v, size_t *n, const char *name, bool builtin, int r,
	       ctr_error *why, ctr_error **err)
{
	struct ctr_snapshotter_state *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return ctr_err_nomem(err);
	*v = nv;
	struct ctr_snapshotter_state *s = &nv[*n];
	memset(s, 0, sizeof(*s));
	s->builtin = builtin;
	s->ok = r == 0;
	s->name = strdup(name);
	if (!s->ok)
		s->reason = strdup(why ? ctr_error_message(why) : "unavailable");
	if (!s->name || (!s->ok && !s->reason)) {
		free(s->name);
		free(s->reason);
		return ctr_err_nomem(err);
	}
	(*n)++;
	return 0;
}

int ctr_snapshotters_states(struct ctr_snapshotter_state **out, size_t *n_out, ctr_client *c, ctr_error **err)
{
	struct ctr_snapshotter_state *v = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < ctr_n_snapshotter_builtins; i++) {
		const struct ctr_snapshotter_builtin *b = &ctr_snapshotter_builtins[i];
		char *dir = ctr_client_snapshotter_dir(c, b->name);
		if (!dir) {
			r = ctr_err_nomem(err);
			break;
		}
		ctr_error *why = NULL;
		int q = b->check ? b->check(dir, &why) : 0;
		if (q == 0 && !strcmp(b->name, "erofs") && !ctr_snapshots_erofs_supported(dir, NULL))
			q = ctr_err(&why, CTR_ENOTSUP, 0, "erofs: this kernel mounts no EROFS image here");
		free(dir);
		r = add(&v, &n, b->name, true, q, why, err);
		ctr_error_free(why);
	}
	pthread_mutex_lock(&c->snaps_mu);
	for (size_t i = 0; r == 0 && i < c->n_snaps; i++)
		if (!ctr_snapshotter_builtin_find(c->snaps[i]->name))
			r = add(&v, &n, c->snaps[i]->name, false, 0, NULL, err);
	pthread_mutex_unlock(&c->snaps_mu);
	if (r < 0) {
		ctr_snapshotter_states_free(v, n);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}

void ctr_snapshotter_states_free(struct ctr_snapshotter_state *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].reason);
	}
	free(v);
}
