/* Processes by pid: start times and creator names (proc.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

static ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

unsigned long long ctr_proc_starttime(pid_t pid)
{
	char p[64], b[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_text(p, b, sizeof(b)) <= 0)
		return 0;
	/* The name (field 2) may hold spaces and ')': the fields after it
	 * start after its last ')'. */
	char *s = strrchr(b, ')');
	if (!s)
		return 0;
	s += 2;
	for (int f = 3; f < 22 && s; f++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return s ? strtoull(s, NULL, 10) : 0;
}

/* The boot id without its dashes (36 characters with them), so that the
 * creator's fields split at ':'. */
static int boot_id(char out[40])
{
	char b[64];
	if (read_text("/proc/sys/kernel/random/boot_id", b, sizeof(b)) <= 0)
		return -1;
	size_t n = 0;
	for (const char *s = b; *s && *s != '\n' && n < 39; s++)
		if (*s != '-')
			out[n++] = *s;
	out[n] = 0;
	return n ? 0 : -1;
}

static int pidns(unsigned long long *ino)
{
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) < 0)
		return -1;
	*ino = (unsigned long long)st.st_ino;
	return 0;
}

int ctr_proc_creator(char *buf, size_t len)
{
	char boot[40];
	unsigned long long ns = 0, start = ctr_proc_starttime(getpid());
	if (boot_id(boot) < 0 || pidns(&ns) < 0 || !start)
		return -1;
	int n = snprintf(buf, len, "%s:%llu:%d:%llu", boot, ns, (int)getpid(), start);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

bool ctr_proc_creator_gone(const char *s)
{
	char boot[40], want[40];
	unsigned long long ns = 0, here = 0, start = 0;
	int pid = 0, used = 0;
	if (!s || strlen(s) >= CTR_PROC_CREATOR_MAX ||
	    sscanf(s, "%39[0-9a-f]:%llu:%d:%llu%n", boot, &ns, &pid, &start, &used) != 4 || s[used] || pid <= 0)
		return false;
	if (boot_id(want) < 0 || pidns(&here) < 0)
		return false;
	if (strcmp(boot, want) != 0)
		return true;
	if (ns != here)
		return false;
	return ctr_proc_starttime(pid) != start;
}
