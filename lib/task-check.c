/* Whether a container still has a task: the runtime layer keeps a task's
 * state directory (ctr_rt_container_dir) from its creation until the task is
 * deleted, so its presence is the answer, from any process. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "client.h"
#include "container.h"
#include "error.h"
#include "runtime.h"
#include "macro.h"

int ctr_container_task_check(const ctr_container *k, ctr_error **err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ctr_rt_container_dir(&dir, k->c->state, k->ns, k->md.id, err);
	if (r < 0)
		return r;
	struct stat st;
	if (lstat(dir, &st) == 0)
		return ctr_err(err, CTR_EPRECONDITION, 0, "container %s has a task: delete the task first", k->md.id);
	return 0;
}
