/* Whether a container still has a task. Until the runtime layer lands, a
 * task is known by its state directory <state>/<ns>/<id>, which the runtime
 * creates with the task and removes when the task is deleted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "client.h"
#include "container.h"
#include "error.h"

int ctr_container_task_check(const ctr_container *k, ctr_error **err)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tasks/%s/%s", k->ns, k->md.id);
	struct stat st;
	if (fstatat(k->c->state_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ctr_err(err, CTR_EPRECONDITION, 0, "container %s has a task: delete the task first", k->md.id);
	return 0;
}
