/* A task's checkpoint through the runtime: criu is checked first (probe.c),
 * so a machine without a working CRIU gets criu's reason, not runc's. */
#include <stdbool.h>

#include "error.h"
#include "runtime-priv.h"

int ctr_rt_checkpoint(ctr_rt_task *t, const char *image_dir, const char *work_dir, bool leave_running,
		      ctr_error **err)
{
	/* the CRIU that runc will run (--criu), else the one on PATH. --file-locks:
	 * the checkpoint records file_locks=true, as containerd's Container.Checkpoint
	 * asks, so the dump must take them. */
	int r = ctr_rt_criu_check_bin(t->criu ? t->criu : "criu", err);
	if (r < 0)
		return r;
	const char *args[] = {"checkpoint", "--file-locks", "--image-path", image_dir, "--work-path", work_dir,
			      leave_running ? "--leave-running" : t->id, leave_running ? t->id : NULL, NULL};
	return ctr_rt_runc(t, args, NULL, err);
}
