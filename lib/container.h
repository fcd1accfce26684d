/* Internal view of container handles, for tasks. */
#ifndef CTR_LIB_CONTAINER_H
#define CTR_LIB_CONTAINER_H

#include <ctr/container.h>

#include "metadata.h"

struct ctr_container {
	ctr_client *c;
	char *ns;
	struct ctr_md_container md;
};

/* A handle over md (its contents taken, cleared either way) holding a
 * reference on c. */
int ctr_container_wrap(ctr_container **out, ctr_client *c, const char *ns, struct ctr_md_container *md,
		       ctr_error **err);

/* CTR_EPRECONDITION when the container has a task that is not deleted
 * (lib/task-check.c; the runtime decides). */
int ctr_container_task_check(const ctr_container *k, ctr_error **err);

#endif
