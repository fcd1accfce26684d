/* Public garbage collection entry point. */
#include <ctr/gc.h>

#include <unistd.h>

#include "error.h"
#include "gc.h"
#include "util/macro.h"

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
	return ctr_md_gc(removed, c->db, &sw, err);
}
