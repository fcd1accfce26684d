/* Running a helper program and collecting its output (lib/util/run.c). */
#ifndef CTR_UTIL_RUN_H
#define CTR_UTIL_RUN_H

#include <spawn.h>

#include <ctr/common.h>

/* Initializes at for a child that starts clean, whatever the host program
 * did to its own signals: no signal blocked, every one at its default.
 * The caller destroys it. */
void ctr_spawnattr_clean(posix_spawnattr_t *at);

/* Runs argv (argv[0] looked up on PATH) with stdin on stdin_path (NULL:
 * /dev/null) and collects stdout and stderr (bounded; both allocated,
 * caller frees) and its exit status (128 + signal when killed).
 * CTR_EUNAVAILABLE when the program is not found. */
int ctr_run_tool(const char *const *argv, const char *stdin_path, char **out, char **errout, int *exit_status,
		 ctr_error **err);

#endif
