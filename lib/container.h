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

/* CTR_EINVAL unless rt is CTR_DEFAULT_RUNTIME or an absolute path; what
 * names it in the message (lib/container-runtime.c). */
int ctr_runtime_name_validate(const char *rt, const char *what, ctr_error **err);
/* The runtime of a new container in ns that names none: the client's
 * default, else the namespace's CTR_DEFAULT_RUNTIME_NS_LABEL (checked as
 * above), else CTR_DEFAULT_RUNTIME. Caller frees. */
int ctr_container_default_runtime(char **out, ctr_client *c, const char *ns, ctr_error **err);

#endif
