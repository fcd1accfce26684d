/* Internal: the caller's image handlers and handler wrapper of a pull
 * (ctr_with_image_handler, ctr_with_image_handler_wrapper), run by the
 * fetch walk (lib/transfer/transfer-fetch.c). */
#ifndef CTR_LIB_PULL_HANDLERS_H
#define CTR_LIB_PULL_HANDLERS_H

#include <ctr/remote.h>
#include <stdbool.h>

#include "manifest.h"

struct ctr_pull_handler {
	ctr_image_handler_fn fn;
	void *ud;
};

/* The view the callbacks get of one struct ctr_desc. */
struct ctr_descriptor {
	const struct ctr_desc *d;
	char platform[128];
};
void ctr_descriptor_init(struct ctr_descriptor *v, const struct ctr_desc *d);

/* Runs the handlers in order on d: 0 to go on, 1 (CTR_WALK_SKIP) when one
 * of them skipped or stopped at d, or the error a handler gave (prefixed
 * "image handler: <kind> <digest>"); a positive answer other than the two
 * constants is CTR_EINVAL. */
int ctr_pull_handlers_run(const struct ctr_pull_handler *h, size_t n, const struct ctr_desc *d, ctr_error **err);

/* Runs the wrapper on d and its chosen children; keep (n entries) starts
 * all true and comes back with the children to follow. Same answers as
 * ctr_pull_handlers_run. */
int ctr_pull_wrapper_run(ctr_image_handler_wrapper_fn fn, void *ud, const struct ctr_desc *d,
			 const struct ctr_desc *const *children, size_t n, bool *keep, ctr_error **err);

#endif
