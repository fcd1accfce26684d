/* Public garbage collection entry point. */
#include <ctr/gc.h>

#include <unistd.h>

#include "error.h"
#include "gc.h"
#include "snapshots.h"
#include "macro.h"

CTR_EXPORT int ctr_client_gc(char ***removed, ctr_client *c, const ctr_opt *const *opts,
			     size_t n_opts, ctr_error **err)
{
	if (!c)
		return ctr_err(err, CTR_EINVAL, 0, "gc: client is NULL");
	struct { int reserved; } cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_GC, &cfg, NULL, opts, n_opts, "gc", err);
	if (r < 0)
		return r;
	struct ctr_gc_sweeper sw = {0};
	_cleanup_close_ int lock_fd = -1;
	r = ctr_gc_content_sweeper(c, &sw, &lock_fd, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "gc");
	char **md_removed = NULL;
	if ((r = ctr_md_gc(&md_removed, c->db, &sw, err)) < 0)
		return r;
	/* Snapshotter entries that no namespace record names: a crash between
	 * a snapshotter's write and its record. Five minutes of grace so a
	 * prepare in flight in another process is never taken. */
	char **orphans = NULL;
	if ((r = ctr_snapshots_gc_orphans(c, 300LL * 1000000000LL, &orphans, err)) < 0) {
		ctr_strv_free(md_removed);
		return ctr_err_prefix(err, r, "gc: snapshots");
	}
	struct ctr_strv_buf all = {0};
	for (size_t i = 0; r == 0 && md_removed[i]; i++)
		r = ctr_strv_buf_take(&all, TAKE_PTR(md_removed[i]), err);
	for (size_t i = 0; r == 0 && orphans[i]; i++)
		r = ctr_strv_buf_take(&all, TAKE_PTR(orphans[i]), err);
	ctr_strv_free(md_removed);
	ctr_strv_free(orphans);
	if (r < 0) {
		ctr_strv_buf_clear(&all);
		return r;
	}
	char **v = ctr_strv_buf_steal(&all, err);
	if (!v)
		return CTR_ENOMEM;
	if (removed)
		*removed = v;
	else
		ctr_strv_free(v);
	return 0;
}
