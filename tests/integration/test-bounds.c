/* Resource bounds, against a real docker-registry and runc:
 *
 * 1. Pulling (with unpack) an image whose one layer is BIG bytes (argv[1],
 *    default 2 GiB; tests/fixtures/push-big-layer.py streams it to the
 *    registry) keeps the pulling process's peak RSS under 64 MiB. The pull
 *    runs in a child and its peak comes from wait4()'s rusage; the same
 *    child pulling the small busybox image is the baseline, printed as a
 *    ratio.
 * 2. In one process, as a long-lived host would: CYCLES (argv[2], default
 *    1000) cycles of the cheap parts (pull of the cached image, container
 *    create and delete with its snapshot, GC) and RUNS (argv[3], default
 *    100) cycles that also run the container through runc (1,000 runs take
 *    too long for CI). After a warm-up, the open fds (/proc/self/fd) must
 *    not change and the RSS must grow by less than 4 MiB.
 * 3. The shim holds only what it needs: /proc/<shim>/fd of a detached task
 *    and of an exec'd process lists only /dev/null, pipes, sockets,
 *    anonymous inodes, a pty and files of the task's state directory, and
 *    never a descriptor the host left open without O_CLOEXEC. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>

#include "soak-lib.h"

#define RSS_LIMIT_KIB (64 * 1024)
#define RSS_GROWTH_KIB (4 * 1024)

static const char *src;
static char top[64], addr[256], bb_ref[320], big_ref[320];
static int problems;

#define FAILF(...)                                    \
	do {                                          \
		fprintf(stderr, "FAIL: " __VA_ARGS__); \
		fputc('\n', stderr);                  \
		problems++;                           \
	} while (0)

static ctr_client *client(const char *name)
{
	char root[300], state[300];
	snprintf(root, sizeof(root), "%s/%s-root", top, name);
	snprintf(state, sizeof(state), "%s/%s-state", top, name);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	ctr_client *c = NULL;
	ctr_error *err = NULL;
	if (ctr_client_new(&c, CTR_OPTS(a, b), &err) < 0) {
		FAILF("client new: %s", ctr_error_message(err));
		ctr_error_free(err);
	}
	ctr_opt_free(a);
	ctr_opt_free(b);
	return c;
}

static int pull(ctr_image **img, ctr_client *c, const char *ref)
{
	ctr_error *err = NULL;
	ctr_opt *ph = ctr_with_plain_http(), *un = ctr_with_pull_unpack();
	int r = ctr_image_pull(img, c, ref, CTR_OPTS(ph, un), &err);
	ctr_opt_free(ph);
	ctr_opt_free(un);
	if (r < 0) {
		FAILF("pull %s: %d %s", ref, r, ctr_error_message(err));
		ctr_error_free(err);
	}
	return r;
}

/* Peak RSS (KiB) of a child that pulls ref into a fresh root `name`. */
static long pull_peak_kib(const char *name, const char *ref, double *secs)
{
	fflush(NULL);
	double t0 = sk_now();
	pid_t pid = fork();
	if (pid == 0) {
		ctr_client *c = client(name);
		ctr_image *img = NULL;
		int r = c ? pull(&img, c, ref) : -1;
		ctr_image_free(img);
		ctr_client_free(c);
		_exit(r < 0 ? 1 : 0);
	}
	int st = 0;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		FAILF("pull of %s in a child failed (status 0x%x)", ref, st);
		return -1;
	}
	*secs = sk_now() - t0;
	return ru.ru_maxrss;
}

static void test_big_layer(long long big)
{
	printf("== a %lld-byte layer\n", big);
	fflush(stdout);
	double t0 = sk_now();
	if (test_sh("python3 %s/tests/fixtures/push-big-layer.py %s bounds/big:1 %lld >/dev/null", src, addr, big)) {
		FAILF("push of the big layer failed");
		return;
	}
	printf("pushed in %.1f s\n", sk_now() - t0);
	double tb = 0, tg = 0;
	long base = pull_peak_kib("base", bb_ref, &tb);
	long peak = pull_peak_kib("big", big_ref, &tg);
	if (base < 0 || peak < 0)
		return;
	printf("peak RSS: busybox pull %ld KiB (%.1f s), big pull %ld KiB (%.1f s): ratio %.2f, limit %d KiB\n", base,
	       tb, peak, tg, (double)peak / (double)base, RSS_LIMIT_KIB);
	if (peak >= RSS_LIMIT_KIB)
		FAILF("pulling a %lld-byte layer peaked at %ld KiB of RSS (limit %d)", big, peak, RSS_LIMIT_KIB);
	/* The layer really arrived: its file is in the committed snapshot. */
	if (test_sh("find %s/big-root/snapshots -maxdepth 5 -name big -size %lldc | grep -q .", top, big))
		FAILF("the unpacked layer has no %lld-byte file", big);
	test_sh("awk '$2 ~ \"^%s/big-\" {print $2}' /proc/mounts | sort -r | xargs -r umount -l; rm -rf %s/big-root "
		"%s/big-state %s/base-root %s/base-state",
		top, top, top, top, top);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n - 1; /* the directory's own */
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void list_fds(const char *pfx)
{
	test_sh("ls -l /proc/%d/fd | sed 's/^/%s /' >&2", (int)getpid(), pfx);
}

/* One cycle: pull (cached), container on a new snapshot, maybe run it,
 * delete, collect. */
static int cycle(ctr_client *c, int i, bool run)
{
	ctr_image *img = NULL;
	if (pull(&img, c, bb_ref) < 0)
		return -1;
	ctr_error *err = NULL;
	char *cfg = NULL;
	int r = ctr_image_config(&cfg, img, &err);
	char id[32];
	snprintf(id, sizeof(id), "cy%d", i);
	const char *args[] = {"/bin/true", NULL};
	ctr_opt *so = r < 0 ? NULL : ctr_with_image_config_args(cfg, args);
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot(id, img), ctr_with_new_spec(CTR_OPTS(so))};
	ctr_container *k = NULL;
	if (r == 0)
		r = ctr_container_new(&k, c, id, (const ctr_opt *const *)co, 3, &err);
	for (size_t j = 0; j < 3; j++)
		ctr_opt_free(co[j]);
	ctr_opt_free(so);
	ctr_free(cfg);
	ctr_image_free(img);
	if (r == 0 && run) {
		ctr_task *t = NULL;
		uint32_t st = 99;
		if ((r = ctr_container_new_task(&t, k, NULL, 0, &err)) == 0) {
			if ((r = ctr_task_start(t, &err)) == 0 && (r = ctr_task_wait(&st, NULL, t, 30000, &err)) == 0 &&
			    st != 0)
				r = -1;
			ctr_opt *kill = ctr_with_process_kill();
			int q = ctr_task_delete(NULL, t, CTR_OPTS(kill), r < 0 ? NULL : &err);
			ctr_opt_free(kill);
			r = r < 0 ? r : q;
			ctr_task_free(t);
		}
	}
	if (k) {
		ctr_opt *cl = ctr_with_snapshot_cleanup();
		int q = ctr_container_delete(k, CTR_OPTS(cl), r < 0 ? NULL : &err);
		ctr_opt_free(cl);
		ctr_container_free(k);
		r = r < 0 ? r : q;
	}
	char **removed = NULL;
	int q = ctr_client_gc(&removed, c, NULL, 0, r < 0 ? NULL : &err);
	ctr_strv_free(removed);
	r = r < 0 ? r : q;
	if (r < 0) {
		FAILF("cycle %d%s: %d %s", i, run ? " (run)" : "", r, err ? ctr_error_message(err) : "");
		ctr_error_free(err);
	}
	return r;
}

static void test_cycles(int cycles, int runs)
{
	printf("== %d cycles (pull cached, create, delete, gc) and %d with a run, in one process\n", cycles, runs);
	fflush(stdout);
	ctr_client *c = client("cy");
	if (!c)
		return;
	const int warm = 20;
	int i = 0, fd0 = 0, fd_mid = 0;
	long rss0 = 0, rss_mid = 0;
	double t0 = 0;
	for (; i < warm + cycles + runs && !problems; i++) {
		if (i == warm) {
			fd0 = count_fds();
			rss0 = rss_kib();
			t0 = sk_now();
		}
		if (i == warm + (cycles + runs) / 2) {
			fd_mid = count_fds();
			rss_mid = rss_kib();
		}
		/* The runs are spread over the whole stretch. */
		bool run = i < warm ? i % 4 == 0 : (i - warm) % ((cycles + runs) / (runs ? runs : 1)) == 0;
		if (cycle(c, i, run && runs) < 0)
			break;
	}
	int fd1 = count_fds();
	long rss1 = rss_kib();
	printf("after warm-up: %d fds, %ld KiB RSS; half-way: %d fds, %ld KiB; end: %d fds, %ld KiB "
	       "(RSS ratio end/warm-up %.3f); %.1f ms a cycle\n",
	       fd0, rss0, fd_mid, rss_mid, fd1, rss1, (double)rss1 / (double)rss0,
	       (sk_now() - t0) * 1000 / (i - warm > 0 ? i - warm : 1));
	if (!problems && fd1 != fd0) {
		FAILF("open fds went from %d to %d over the cycles", fd0, fd1);
		list_fds("fd");
	}
	if (!problems && rss1 - rss0 >= RSS_GROWTH_KIB)
		FAILF("RSS grew by %ld KiB over the cycles (limit %d)", rss1 - rss0, RSS_GROWTH_KIB);
	ctr_client_free(c);
}

/* Whether every fd of pid is one a shim may hold; prints them. */
static int check_shim_fds(pid_t pid, const char *state, const char *marker, const char *what)
{
	char p[128];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(p);
	if (!d) {
		FAILF("%s: no %s", what, p);
		return 1;
	}
	int bad = 0, n = 0;
	struct dirent *e;
	printf("%s (pid %d) fds:", what, (int)pid);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char fp[512], l[1024];
		snprintf(fp, sizeof(fp), "%s/%s", p, e->d_name);
		ssize_t m = readlink(fp, l, sizeof(l) - 1);
		if (m < 0)
			continue;
		l[m] = 0;
		n++;
		printf(" %s=%s", e->d_name, l);
		bool ok = !strcmp(l, "/dev/null") || !strncmp(l, "pipe:", 5) || !strncmp(l, "socket:", 7) ||
			  !strncmp(l, "anon_inode:", 11) || !strncmp(l, "/dev/pts/", 9) || !strcmp(l, "/dev/ptmx") ||
			  (!strncmp(l, state, strlen(state)) && l[strlen(state)] == '/');
		if (!ok || !strcmp(l, marker)) {
			fprintf(stderr, "\nFAIL: %s holds fd %s -> %s\n", what, e->d_name, l);
			bad++;
		}
	}
	printf(" (%d)\n", n);
	closedir(d);
	problems += bad;
	return bad;
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return (pid_t)v;
}

static void test_shim_fds(void)
{
	printf("== the shim's fds\n");
	ctr_client *c = client("fd");
	if (!c)
		return;
	char state[300], marker[300];
	snprintf(state, sizeof(state), "%s/fd-state", top);
	snprintf(marker, sizeof(marker), "%s/host-secret", top);
	/* A descriptor the host left open, without O_CLOEXEC. */
	int leak = open(marker, O_RDWR | O_CREAT, 0600);
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	char *cfg = NULL;
	ctr_container *k = NULL;
	ctr_task *t = NULL;
	ctr_process *p = NULL;
	const char *args[] = {"/bin/sleep", "60", NULL};
	int r = pull(&img, c, bb_ref);
	if (r == 0)
		r = ctr_image_config(&cfg, img, &err);
	if (r == 0) {
		ctr_opt *so = ctr_with_image_config_args(cfg, args);
		ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot("fds", img),
				 ctr_with_new_spec(CTR_OPTS(so))};
		r = ctr_container_new(&k, c, "fds", (const ctr_opt *const *)co, 3, &err);
		for (size_t j = 0; j < 3; j++)
			ctr_opt_free(co[j]);
		ctr_opt_free(so);
	}
	ctr_opt *nul = ctr_with_stdio_null();
	if (r == 0 && (r = ctr_container_new_task(&t, k, CTR_OPTS(nul), &err)) == 0 &&
	    (r = ctr_task_start(t, &err)) == 0)
		r = ctr_task_exec(&p, t, "e1", "{\"args\":[\"sleep\",\"60\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
				  CTR_OPTS(nul), &err);
	if (r == 0)
		r = ctr_process_start(p, &err);
	ctr_opt_free(nul);
	if (r < 0) {
		FAILF("detached task with an exec: %d %s", r, err ? ctr_error_message(err) : "");
		ctr_error_free(err);
		err = NULL;
	} else {
		char pp[600];
		snprintf(pp, sizeof(pp), "%s/tasks/%s/fds/init/shim.pid", state, ctr_task_namespace(t));
		pid_t init_shim = read_pid(pp);
		snprintf(pp, sizeof(pp), "%s/tasks/%s/fds/exec/e1/shim.pid", state, ctr_task_namespace(t));
		pid_t exec_shim = read_pid(pp);
		if (init_shim <= 0 || exec_shim <= 0)
			FAILF("no shim pid files (init %d, exec %d)", (int)init_shim, (int)exec_shim);
		else {
			check_shim_fds(init_shim, state, marker, "init shim");
			check_shim_fds(exec_shim, state, marker, "exec shim");
		}
	}
	if (p) {
		ctr_opt *kill = ctr_with_process_kill();
		ctr_process_delete(NULL, p, CTR_OPTS(kill), NULL);
		ctr_opt_free(kill);
		ctr_process_free(p);
	}
	if (t) {
		ctr_opt *kill = ctr_with_process_kill();
		ctr_task_delete(NULL, t, CTR_OPTS(kill), NULL);
		ctr_opt_free(kill);
		ctr_task_free(t);
	}
	if (k) {
		ctr_opt *cl = ctr_with_snapshot_cleanup();
		ctr_container_delete(k, CTR_OPTS(cl), NULL);
		ctr_opt_free(cl);
		ctr_container_free(k);
	}
	ctr_free(cfg);
	ctr_image_free(img);
	ctr_client_free(c);
	if (leak >= 0)
		close(leak);
}

int main(int argc, char **argv)
{
	long long big = argc > 1 ? atoll(argv[1]) : 2LL << 30;
	int cycles = argc > 2 ? atoi(argv[2]) : 1000, runs = argc > 3 ? atoi(argv[3]) : 100;
	if (big < 0 || cycles < 0 || runs < 0) {
		fprintf(stderr, "usage: %s [BIG_LAYER_BYTES [CYCLES [RUNS]]]\n", argv[0]);
		return 2;
	}
	if (!sk_can_run(&src))
		return 77;
	strcpy(top, "/tmp/test-bounds.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	if (sk_registry_start(src, top, addr, sizeof(addr)) < 0 || sk_push_busybox(src, top, "bounds/bb:1")) {
		fprintf(stderr, "registry start or busybox push failed\n");
		problems++;
		goto out;
	}
	snprintf(bb_ref, sizeof(bb_ref), "%s/bounds/bb:1", addr);
	snprintf(big_ref, sizeof(big_ref), "%s/bounds/big:1", addr);
	test_shim_fds();
	if (cycles + runs)
		test_cycles(cycles, runs);
	if (big)
		test_big_layer(big);
	problems += sk_check_leftovers(top, "cy");
out:
	sk_registry_stop(src, top);
	sk_remove_top(top);
	printf("bounds: %s (%d problems)\n", problems ? "FAIL" : "ok", problems);
	return problems ? 1 : 0;
}
