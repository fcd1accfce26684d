/* Processes by pid: their start time, and a name for "this process" that
 * still tells, after it died, whether it is gone. Plain libc: the shim
 * builds this file too. */
#ifndef CTR_UTIL_PROC_H
#define CTR_UTIL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Field 22 of /proc/<pid>/stat (clock ticks after boot), which tells a
 * process from a later one with the same pid. 0 when unknown. */
unsigned long long ctr_proc_starttime(pid_t pid);

/* "<boot id>:<pid namespace inode>:<pid>:<start time>" of the calling
 * process, for a record that only lives as long as its maker (the
 * temporary lease of a container create). buf holds CTR_PROC_CREATOR_MAX.
 * -1 when /proc cannot tell. */
#define CTR_PROC_CREATOR_MAX 128
int ctr_proc_creator(char *buf, size_t len);

/* Whether the creator s (from ctr_proc_creator) is surely dead: it ran
 * in an earlier boot, or in this boot and pid namespace with no process
 * of that pid and start time left. A creator in another pid namespace
 * (it cannot be looked up from here) or a value that does not parse
 * counts as alive. */
bool ctr_proc_creator_gone(const char *s);

#endif
