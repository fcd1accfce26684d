/* libctr-shim: its files (shim.pid, exit), reaping, and the /tasks/exit
 * event appended to the shared journal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

int write_atomic(const char *name, const char *data)
{
	char tmp[SHIM_NAME_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	/* No fsync: the state directory does not outlive a reboot by design
	 * (ctr_write_atomic_nosync); the rename keeps readers from half files. */
	int r = n == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (r == 0 && rename(tmp, name) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

char *proc_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", o.proc, name);
	return buf;
}

/* The status is noted at once but written once the output has drained (or
 * DRAIN_MS later, when something else holds the pipes): a waiter then finds
 * a log file or fifo complete. */
#define DRAIN_MS 1000
static int exit_code;
static unsigned long long exit_at;
static struct timespec exit_mono;
bool exit_written;

void record_exit(int status)
{
	exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	exit_at = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &exit_mono);
	exited = true;
}

/* The generation a journal file name carries ("journal.<N>", no leading
 * zero), or 0. Mirrors lib/events/journal.c. */
static unsigned long long journal_gen(const char *name)
{
	if (strncmp(name, "journal.", 8))
		return 0;
	const char *d = name + 8;
	size_t n = strlen(d);
	if (n == 0 || n > 19 || d[0] == '0' || strspn(d, "0123456789") != n)
		return 0;
	return strtoull(d, NULL, 10);
}

/* Appends /tasks/exit to the event journal (<state>/events/) the way the
 * library does: under the shared flock, one O_APPEND write to the newest
 * generation. Best effort; rotation is left to the library's publishers. */
static void publish_exit(void)
{
	if (!o.state || !o.ns)
		return;
	char p[PATH_MAX];
	/* After the start event: wait (30 s at most) while a starter holds
	 * the start lock (CTR_SHIM_START_LOCK). */
	int sl = open(proc_path(p, sizeof(p), CTR_SHIM_START_LOCK), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	for (int i = 0; sl >= 0 && i < 3000 && flock(sl, LOCK_SH | LOCK_NB) < 0; i++)
		usleep(10000);
	if (sl >= 0)
		close(sl);
	snprintf(p, sizeof(p), "%s/events", o.state);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return;
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return;
	int lk = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int locked = -1;
	for (int i = 0; lk >= 0 && i < 200 && (locked = flock(lk, LOCK_SH | LOCK_NB)) < 0; i++)
		usleep(10000);
	if (locked == 0) {
		unsigned long long gen = 0;
		int sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
		if (d) {
			struct dirent *e;
			while ((e = readdir(d)))
				if (journal_gen(e->d_name) > gen)
					gen = journal_gen(e->d_name);
			closedir(d);
		} else if (sfd >= 0) {
			close(sfd);
		}
		char name[64];
		snprintf(name, sizeof(name), "journal.%llu", gen ? gen : 1);
		int jfd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
				 0600);
		struct stat st;
		if (jfd >= 0 && fstat(jfd, &st) == 0 && S_ISREG(st.st_mode)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			char line[1024];
			/* ns, id and exec id are identifiers: no escaping needed */
			int n = snprintf(line, sizeof(line),
					 "{\"timestamp\":%llu,\"namespace\":\"%s\",\"topic\":\"/tasks/exit\","
					 "\"payload\":{\"container_id\":\"%s\",\"exit_status\":%d,"
					 "\"exited_at\":%llu,\"id\":\"%s\",\"pid\":%d}}\n",
					 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
					 o.ns, o.id, exit_code, exit_at, o.exec_id ? o.exec_id : o.id, (int)proc_pid);
			if (n > 0 && n < (int)sizeof(line) && write(jfd, line, (size_t)n) < 0) {
			}
		}
		if (jfd >= 0)
			close(jfd);
		flock(lk, LOCK_UN);
	}
	if (lk >= 0)
		close(lk);
	close(dfd);
}

void write_exit(void)
{
	if (!exited || exit_written)
		return;
	char b[64], p[SHIM_NAME_MAX];
	snprintf(b, sizeof(b), "%d %llu\n", exit_code, exit_at);
	write_atomic(proc_path(p, sizeof(p), CTR_SHIM_EXIT_FILE), b);
	exit_written = true;
	publish_exit();
}

int drain_left_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (now.tv_sec - exit_mono.tv_sec) * 1000LL + (now.tv_nsec - exit_mono.tv_nsec) / 1000000;
	return ms >= DRAIN_MS ? 0 : (int)(DRAIN_MS - ms);
}

void reap(void)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p <= 0)
			return;
		logger_reaped(p);
		if (wait_pid > 0 && p == wait_pid && !exited)
			record_exit(status);
		else if (wait_pid <= 0 && n_early < 16) {
			early[n_early].pid = p;
			early[n_early].status = status;
			n_early++;
		}
	}
}
