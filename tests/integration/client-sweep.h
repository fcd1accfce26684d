/* Cleanup shared by the integration tests that run containers through
 * the public API on a client of their own (test-container.c,
 * test-checkpoint.c, test-defaults.c): each defines `base` (its scratch
 * directory, "" when skipped), `cl` (its client) and `skip_reason` before
 * including this. */
#ifndef CTR_TEST_CLIENT_SWEEP_H
#define CTR_TEST_CLIENT_SWEEP_H

#include <stdio.h>
#include <stdlib.h>

#include <ctr/ctr.h>

/* Skips a test, saying why, when group_setup set skip_reason (each test
 * file defines `static const char *skip_reason`). */
#define SKIP_UNLESS_READY()                                                   \
	do {                                                                  \
		if (skip_reason) {                                            \
			print_message("skip: %s\n", skip_reason);            \
			skip();                                               \
		}                                                             \
	} while (0)

/* Removes whatever a failed test left: tasks (forced), containers with
 * their snapshots, mounts under base. */
static void sweep(void)
{
	ctr_container **v = NULL;
	size_t n = 0;
	if (cl && ctr_container_list(&v, &n, cl, NULL, 0, NULL, 0, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			ctr_task *t = NULL;
			if (ctr_container_task(&t, v[i], NULL) == 0) {
				ctr_opt *pk = ctr_with_process_kill();
				ctr_task_delete(NULL, t, CTR_OPTS(pk), NULL);
				ctr_opt_free(pk);
			}
			ctr_task_free(t);
			ctr_opt *o = ctr_with_snapshot_cleanup();
			ctr_container_delete(v[i], (const ctr_opt *const *)&o, 1, NULL);
			ctr_opt_free(o);
		}
		ctr_container_list_free(v, n);
	}
}

static int group_teardown(void **s)
{
	(void)s;
	if (!base[0])
		return 0;
	sweep();
	ctr_client_free(cl);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "grep -o ' %s[^ ]*' /proc/mounts | sort -r | while read -r m; do umount -l \"$m\"; done; rm -rf %s",
		 base, base);
	if (system(cmd) != 0) {
	}
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	sweep();
	return 0;
}

#endif
