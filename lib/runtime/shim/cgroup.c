/* The shim joins the cgroup its caller named (containerd's ShimCgroup),
 * before it runs the runtime: on every mounted hierarchy (cgroup v1
 * controllers, the v2 unified tree) where that cgroup exists. The cgroup is
 * not created: a path that exists on none is an error, as containerd's
 * load of a missing cgroup is. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* Fields 5 (mount point) and, after " - ", the filesystem type of one
 * /proc/self/mountinfo line. Mount points with escapes (\040) are skipped:
 * cgroup hierarchies never have them. */
static int cgroup_mountpoint(char *line, char **mnt)
{
	char *f[5];
	char *s = line;
	for (int i = 0; i < 5; i++) {
		f[i] = s;
		s = strchr(s, ' ');
		if (!s)
			return 0;
		*s++ = 0;
	}
	char *sep = strstr(s, " - ");
	if (!sep)
		return 0;
	char *type = sep + 3;
	size_t tl = strcspn(type, " ");
	if (!((tl == 6 && strncmp(type, "cgroup", 6) == 0) || (tl == 7 && strncmp(type, "cgroup2", 7) == 0)))
		return 0;
	if (strchr(f[4], '\\'))
		return 0;
	*mnt = f[4];
	return 1;
}

void join_cgroup(const char *path)
{
	FILE *m = fopen("/proc/self/mountinfo", "re");
	if (!m)
		fail(errno, CTR_SHIM_ERR_CGROUP ": open mountinfo");
	char line[4096], procs[PATH_MAX + 64], pid[32];
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	int joined = 0;
	while (fgets(line, sizeof(line), m)) {
		char *mnt;
		if (!cgroup_mountpoint(line, &mnt))
			continue;
		if (snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", mnt, path) >= (int)sizeof(procs))
			continue;
		int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			int e = errno;
			fclose(m);
			fail(e, CTR_SHIM_ERR_CGROUP ": open cgroup.procs");
		}
		ssize_t w = write(fd, pid, strlen(pid));
		int e = errno;
		close(fd);
		if (w < 0) {
			fclose(m);
			fail(e, CTR_SHIM_ERR_CGROUP ": join");
		}
		joined++;
	}
	fclose(m);
	if (!joined)
		fail(ENOENT, CTR_SHIM_ERR_CGROUP ": no such cgroup");
}
