/* Shared by the benchmark programs that use the public API. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H

#include <ctr/ctr.h>

#include <stdio.h>

/* Prints "PROG: WHAT: message", frees err, returns 1 (the exit status). */
static inline int bench_fail(const char *prog, const char *what, ctr_error *err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, err ? ctr_error_message(err) : "failed");
	ctr_error_free(err);
	return 1;
}

/* A client on root and state. */
static inline int bench_client(ctr_client **c, const char *root, const char *state, ctr_error **err)
{
	ctr_opt *o_root = ctr_with_root(root), *o_state = ctr_with_state(state);
	int r = ctr_client_new(c, CTR_OPTS(o_root, o_state), err);
	ctr_opt_free(o_root);
	ctr_opt_free(o_state);
	return r;
}

/* Deletes the container with its snapshot and frees it. */
static inline int bench_container_delete(ctr_container *k, ctr_error **err)
{
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	int r = ctr_container_delete(k, CTR_OPTS(cleanup), err);
	ctr_opt_free(cleanup);
	ctr_container_free(k);
	return r;
}

#endif
