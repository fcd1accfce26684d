/* lctr run, and what `containers create` and `tasks start` share with it:
 * ctr's container flags (cmd/ctr/commands/run/run_unix.go) turned into
 * container and spec options, and running a task in the foreground with
 * its stdio, a terminal, forwarded signals and its exit status. */
#include "lctr.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void lctr_cflags_free(struct lctr_cflags *f)
{
	free(f->env);
	free(f->labels);
	free(f->mounts);
	free(f->caps_add);
	free(f->caps_drop);
	free(f->devices);
	free(f->with_ns);
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* One of the container flags; 1 when c was one, 0 when not, -1 on error
 * (printed). */
int lctr_cflags_opt(struct lctr_cflags *f, int c, const char *arg)
{
	char *end;
	switch (c) {
	case LCTR_O_ENV:
		return push(&f->env, &f->n_env, arg) < 0 ? -1 : 1;
	case LCTR_O_LABEL:
		return push(&f->labels, &f->n_labels, arg) < 0 ? -1 : 1;
	case LCTR_O_MOUNT:
		return push(&f->mounts, &f->n_mounts, arg) < 0 ? -1 : 1;
	case LCTR_O_CAP_ADD:
		return push(&f->caps_add, &f->n_caps_add, arg) < 0 ? -1 : 1;
	case LCTR_O_CAP_DROP:
		return push(&f->caps_drop, &f->n_caps_drop, arg) < 0 ? -1 : 1;
	case LCTR_O_WITH_NS: {
		/* ctr: "TYPE:PATH", one of the namespaces runc can join */
		static const char *const types[] = {"pid", "network", "mount", "uts", "ipc", "user", "cgroup"};
		const char *colon = strchr(arg, ':');
		bool ok = false;
		for (size_t i = 0; colon && i < sizeof(types) / sizeof(types[0]); i++)
			ok |= strlen(types[i]) == (size_t)(colon - arg) && !strncmp(types[i], arg, (size_t)(colon - arg));
		if (!colon || strchr(colon + 1, ':')) {
			lctr_failf("--with-ns \"%s\": want TYPE:PATH", arg);
			return -2;
		}
		if (!ok) {
			lctr_failf("--with-ns \"%s\": unknown namespace type \"%.*s\" (pid, network, mount, uts, ipc, "
				   "user, cgroup)", arg, (int)(colon - arg), arg);
			return -2;
		}
		if (colon[1] != '/') {
			lctr_failf("--with-ns \"%s\": the path must be absolute", arg);
			return -2;
		}
		return push(&f->with_ns, &f->n_with_ns, arg) < 0 ? -1 : 1;
	}
	case LCTR_O_PLATFORM: {
		/* os[/arch[/variant]] of lower-case letters, digits, _ and - */
		size_t parts = 1, len = strlen(arg);
		bool ok = len > 0 && arg[0] != '/' && arg[len - 1] != '/' && !strstr(arg, "//");
		for (const char *p = arg; ok && *p; p++) {
			if (*p == '/')
				parts++;
			else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
				ok = false;
		}
		if (!ok || parts > 3) {
			lctr_failf("--platform \"%s\": want os[/arch[/variant]], e.g. linux/amd64", arg);
			return -2;
		}
		f->platform = arg;
		return 1;
	}
	case LCTR_O_NET_HOST: f->net_host = true; return 1;
	case LCTR_O_USER: f->user = arg; return 1;
	case LCTR_O_CWD: f->cwd = arg; return 1;
	case LCTR_O_READ_ONLY: f->read_only = true; return 1;
	case LCTR_O_PRIVILEGED: f->privileged = true; return 1;
	case LCTR_O_SNAPSHOTTER: f->snapshotter = arg; return 1;
	case LCTR_O_RUNTIME:
	case LCTR_O_RUNC_BINARY: f->runtime = arg; return 1;
	case LCTR_O_ENV_FILE: f->env_file = arg; return 1;
	case LCTR_O_CGROUP: f->cgroup = arg; return 1;
	case LCTR_O_NEW_PRIVS: f->new_privs = true; return 1;
	case LCTR_O_CPU_QUOTA:
	case LCTR_O_CPU_PERIOD: {
		if (!f->has_cfs)
			f->cpu_quota = -1;
		f->has_cfs = true;
		errno = 0;
		long long v = strtoll(arg, &end, 10);
		bool quota = c == LCTR_O_CPU_QUOTA;
		if (!*arg || *end || errno || v < (quota ? -1 : 0)) {
			lctr_failf("invalid --cpu-%s \"%s\": a number of microseconds", quota ? "quota" : "period", arg);
			return -1;
		}
		if (quota)
			f->cpu_quota = v;
		else
			f->cpu_period = (uint64_t)v;
		return 1;
	}
	case LCTR_O_SECCOMP: f->seccomp = true; return 1;
	case LCTR_O_DEVICE:
		return push(&f->devices, &f->n_devices, arg) < 0 ? -1 : 1;
	case LCTR_O_SECCOMP_PROFILE: f->seccomp_profile = arg; return 1;
	case LCTR_O_APPARMOR_PROFILE: f->apparmor_profile = arg; return 1;
	case LCTR_O_ROOTFS: f->rootfs = true; return 1;
	case LCTR_O_HOSTNAME: f->hostname = arg; return 1;
	case LCTR_O_TTY: f->tty = true; return 1;
	case LCTR_O_LOG_URI: f->log_uri = arg; return 1;
	case LCTR_O_NULL_IO: f->null_io = true; return 1;
	case LCTR_O_PID_FILE: f->pid_file = arg; return 1;
	case LCTR_O_MEMORY:
		errno = 0;
		f->memory_limit = strtoull(arg, &end, 10);
		if (!*arg || *end || errno || arg[0] == '-') {
			lctr_failf("invalid --memory-limit \"%s\": a number of bytes", arg);
			return -1;
		}
		return 1;
	case LCTR_O_CPUS:
		errno = 0;
		f->cpus = strtod(arg, &end);
		if (!*arg || *end || errno || !(f->cpus > 0)) {
			lctr_failf("invalid --cpus \"%s\": a number above 0", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* --env-file: one K=V a line; empty lines and # comments skipped (ctr).
 * NULL-terminated, each entry and the array free()d. Prints errors. */
static char **read_env_file(const char *path, const char *what)
{
	FILE *fp = fopen(path, "re");
	if (!fp) {
		lctr_failf("%s: --env-file %s: %s", what, path, strerror(errno));
		return NULL;
	}
	char **v = calloc(1, sizeof(char *)), *line = NULL;
	size_t n = 0, cap = 0;
	ssize_t len;
	while (v && (len = getline(&line, &cap, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len || line[0] == '#')
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv || !(nv[n] = strdup(line))) {
			v = nv ? nv : v;
			v[n] = NULL;
			strv_free(v);
			v = NULL;
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	free(line);
	fclose(fp);
	if (!v)
		lctr_failf("%s: --env-file %s: out of memory", what, path);
	return v;
}

/* "type=bind,src=S,dst=D,options=rbind:ro" (ctr's parseMountFlag). */
static ctr_opt *mount_opt(const char *spec, const char *what)
{
	char *s = strdup(spec);
	if (!s)
		return NULL;
	const char *type = NULL, *src = NULL, *dst = NULL;
	const char *opts[33] = {0};
	size_t n_opts = 0;
	ctr_opt *o = NULL;
	char *save = NULL;
	for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			lctr_failf("%s: mount option \"%s\" must be key=value", what, kv);
			goto out;
		}
		*eq++ = 0;
		if (!strcmp(kv, "type"))
			type = eq;
		else if (!strcmp(kv, "source") || !strcmp(kv, "src"))
			src = eq;
		else if (!strcmp(kv, "destination") || !strcmp(kv, "dst"))
			dst = eq;
		else if (!strcmp(kv, "options")) {
			char *s2 = NULL;
			for (char *p = strtok_r(eq, ":", &s2); p; p = strtok_r(NULL, ":", &s2)) {
				if (n_opts == 32) {
					lctr_failf("%s: too many mount options", what);
					goto out;
				}
				opts[n_opts++] = p;
			}
		} else {
			lctr_failf("%s: mount option \"%s\" not supported", what, kv);
			goto out;
		}
	}
	if (!dst) {
		lctr_failf("%s: mount \"%s\" has no destination", what, spec);
		goto out;
	}
	o = ctr_with_mount(type ? type : "", src ? src : "", dst, opts);
	if (!o)
		lctr_failf("%s: mount \"%s\": out of memory", what, spec);
out:
	free(s);
	return o;
}

/* --platform P: the library unpacks and runs the manifest it picks for
 * this host; P must be that one ("linux" or "linux/amd64" match
 * "linux/amd64/v2"... by their leading parts). Prints the refusal. */
static int check_platform(const ctr_image *img, const char *want, const char *what)
{
	char *host = NULL, **all = NULL;
	ctr_error *err = NULL;
	size_t n = strlen(want);
	bool offered = false;
	if (ctr_image_platforms(&all, img, NULL) == 0)
		for (size_t i = 0; all[i]; i++)
			offered |= !strncmp(all[i], want, n) && (!all[i][n] || all[i][n] == '/');
	if (ctr_image_platform(&host, img, &err) < 0) {
		ctr_strv_free(all);
		if (!offered)
			return lctr_fail(what, err);
		/* Only another platform's manifest was pulled (pull --platform). */
		ctr_error_free(err);
		return lctr_failf("%s: --platform %s: not supported: libctr runs this host's platform only "
				  "(unpack and mount work for any: lctr images mount --platform %s)", what, want, want);
	}
	int rc = 0;
	if (strncmp(host, want, n) || (host[n] && host[n] != '/')) {
		if (offered)
			rc = lctr_failf("%s: --platform %s: not supported: libctr runs the image's %s manifest (this "
					"host's) only", what, want, host);
		else
			rc = lctr_failf("%s: --platform %s: the image has no such platform (it has %s for this host)",
					what, want, host);
	}
	ctr_strv_free(all);
	ctr_free(host);
	return rc;
}

static char *abs_path(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	char *out = NULL;
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

int lctr_container_create(ctr_container **out, struct lctr *g, const struct lctr_cflags *f,
			  const char *ref, const char *id, char **args, const char *what)
{
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	struct lctr_opts so = {0}, co = {0};
	ctr_image *img = NULL;
	char *config = NULL, *root = NULL, **file_env = NULL;
	ctr_error *err = NULL;
	int rc = 1;
	if (f->has_cfs && f->cpus > 0)
		return lctr_failf("%s: --cpus and --cpu-quota/--cpu-period cannot be used together", what);
	if (f->seccomp_profile && !f->seccomp)
		return lctr_failf("%s: --seccomp must be set to use --seccomp-profile", what);
	/* the file first, then --env (ctr) */
	if (f->env_file) {
		if (!(file_env = read_env_file(f->env_file, what)))
			goto out;
		lctr_opts_add(&so, ctr_with_env((const char *const *)file_env));
	}
	lctr_opts_add(&so, ctr_with_env(f->env));
	for (size_t i = 0; i < f->n_mounts; i++) {
		ctr_opt *m = mount_opt(f->mounts[i], what);
		if (!m)
			goto out;
		lctr_opts_add(&so, m);
	}
	if (f->labels)
		lctr_opts_add(&co, ctr_with_container_labels(f->labels));
	lctr_opts_add(&co, ctr_with_runtime(f->runtime ? f->runtime : CTR_DEFAULT_RUNTIME));
	if (f->rootfs) {
		if (!(root = abs_path(ref))) {
			lctr_failf("%s: rootfs %s: %s", what, ref, strerror(errno));
			goto out;
		}
		lctr_opts_add(&so, ctr_with_rootfs_path(root));
		lctr_opts_add(&so, ctr_with_default_path_env());
	} else {
		/* As ctr run: an image that is not unpacked yet is unpacked now. */
		bool unpacked = false;
		if (ctr_image_get(&img, cl, ref, NULL, 0, &err) == CTR_ENOTFOUND) {
			char hint[300];
			snprintf(hint, sizeof(hint), "pull it first: lctr images pull %.200s", ref);
			rc = lctr_fail_hint(what, err, hint);
			goto out;
		}
		if (img && f->platform && check_platform(img, f->platform, what))
			goto out;
		if (!img || ctr_image_config(&config, img, &err) < 0 ||
		    ctr_image_is_unpacked(&unpacked, img, f->snapshotter, &err) < 0 ||
		    (!unpacked && ctr_image_unpack(img, f->snapshotter, NULL, 0, &err) < 0)) {
			rc = lctr_fail(what, err);
			goto out;
		}
		lctr_opts_add(&so, ctr_with_image_config(config));
		lctr_opts_add(&co, ctr_with_image(img));
		if (f->snapshotter)
			lctr_opts_add(&co, ctr_with_snapshotter(f->snapshotter));
		/* Writable even with --read-only: the runtime remounts it
		 * read-only after making mount points (containerd #1495). */
		lctr_opts_add(&co, ctr_with_new_snapshot(id, img));
	}
	if (f->read_only)
		lctr_opts_add(&so, ctr_with_rootfs_readonly());
	if (args && args[0])
		lctr_opts_add(&so, ctr_with_process_args((const char *const *)args));
	if (f->cwd)
		lctr_opts_add(&so, ctr_with_cwd(f->cwd));
	if (f->user)
		lctr_opts_add(&so, ctr_with_user(f->user));
	if (f->tty)
		lctr_opts_add(&so, ctr_with_tty());
	if (f->privileged) {
		lctr_opts_add(&so, ctr_with_privileged());
		lctr_opts_add(&so, ctr_with_all_devices_allowed());
		lctr_opts_add(&so, ctr_with_host_devices());
	}
	if (f->net_host)
		lctr_opts_add(&so, ctr_with_host_network());
	if (f->hostname)
		lctr_opts_add(&so, ctr_with_hostname(f->hostname));
	if (f->caps_add)
		lctr_opts_add(&so, ctr_with_added_capabilities(f->caps_add));
	if (f->caps_drop)
		lctr_opts_add(&so, ctr_with_dropped_capabilities(f->caps_drop));
	if (f->seccomp)
		lctr_opts_add(&so, f->seccomp_profile ? ctr_with_seccomp_profile(f->seccomp_profile)
						      : ctr_with_seccomp_default());
	if (f->apparmor_profile)
		lctr_opts_add(&so, ctr_with_apparmor_profile(f->apparmor_profile));
	/* ctr: each --device is WithDevices(path, "", "rwm") */
	for (size_t i = 0; i < f->n_devices; i++)
		lctr_opts_add(&so, ctr_with_devices(f->devices[i], NULL, "rwm"));
	if (f->cpus > 0)
		lctr_opts_add(&so, ctr_with_cpus(f->cpus));
	if (f->has_cfs)
		lctr_opts_add(&so, ctr_with_cpu_cfs(f->cpu_quota, f->cpu_period));
	if (f->memory_limit)
		lctr_opts_add(&so, ctr_with_memory_limit(f->memory_limit));
	if (f->cgroup)
		lctr_opts_add(&so, ctr_with_cgroup(f->cgroup));
	if (f->new_privs)
		lctr_opts_add(&so, ctr_with_new_privileges());
	for (size_t i = 0; i < f->n_with_ns; i++) {
		char type[16];
		const char *colon = strchr(f->with_ns[i], ':');
		snprintf(type, sizeof(type), "%.*s", (int)(colon - f->with_ns[i]), f->with_ns[i]);
		lctr_opts_add(&so, ctr_with_linux_namespace(type, colon + 1));
	}
	lctr_opts_add(&co, ctr_with_new_spec(LCTR_OPTS(&so)));
	if (ctr_container_new(out, cl, id, LCTR_OPTS(&co), &err) < 0) {
		rc = lctr_fail(what, err);
		goto out;
	}
	rc = 0;
out:
	lctr_opts_free(&co); /* before the spec options it borrows */
	lctr_opts_free(&so);
	strv_free(file_env);
	ctr_image_free(img);
	ctr_free(config);
	free(root);
	return rc;
}

/* ---- the foreground: terminal, signals, exit status ---- */

struct fwd {
	ctr_task *task;       /* a handle of its own: kill runs beside wait */
	ctr_process *proc;    /* exec: signals and resizes go to it */
	sigset_t set;
	bool tty;
};

static void resize(struct fwd *w)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row)
		return;
	if (w->proc)
		ctr_process_resize(w->proc, ws.ws_col, ws.ws_row, NULL);
	else
		ctr_task_resize(w->task, ws.ws_col, ws.ws_row, NULL);
}

static void *fwd_thread(void *ud)
{
	struct fwd *w = ud;
	for (;;) {
		int sig;
		if (sigwait(&w->set, &sig) != 0)
			continue;
		if (sig == SIGWINCH && w->tty) {
			resize(w);
			continue;
		}
		/* ctr's ForwardAllSignals: errors are only logged. */
		if (w->proc)
			ctr_process_kill(w->proc, sig, CTR_NO_OPTS, NULL);
		else
			ctr_task_kill(w->task, sig, CTR_NO_OPTS, NULL);
	}
	return NULL;
}

/* Blocks what forward_start forwards: every catchable signal but SIGCHLD,
 * SIGPIPE and SIGURG without a terminal (--sig-proxy), SIGWINCH (a
 * resize) with one. Blocked before the process starts, a signal that
 * arrives early waits for the forwarder instead of killing lctr. */
static int forward_block(struct fwd *w)
{
	sigemptyset(&w->set);
	if (w->tty) {
		sigaddset(&w->set, SIGWINCH);
	} else {
		for (int s = 1; s < SIGRTMIN; s++)
			if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGPIPE && s != SIGURG &&
			    s != SIGWINCH && s != SIGSEGV && s != SIGBUS && s != SIGFPE && s != SIGILL &&
			    s != SIGTRAP && s != SIGABRT)
				sigaddset(&w->set, s);
	}
	return pthread_sigmask(SIG_BLOCK, &w->set, NULL) != 0 ? -1 : 0;
}

static int forward_start(struct fwd *w)
{
	pthread_t th;
	if (pthread_create(&th, NULL, fwd_thread, w) != 0)
		return -1;
	pthread_detach(th);
	return 0;
}

int lctr_forward(ctr_container *k, bool tty)
{
	struct fwd *w = calloc(1, sizeof(*w));
	ctr_opt *nso = ctr_with_call_namespace(ctr_container_namespace(k));
	int r = -1;
	if (w && nso && ctr_task_load(&w->task, ctr_container_client(k), ctr_container_id(k), CTR_OPTS(nso), NULL) == 0) {
		w->tty = tty;
		if (tty)
			resize(w);
		if (forward_block(w) == 0 && forward_start(w) == 0)
			r = 0; /* w belongs to the thread now */
	}
	ctr_opt_free(nso);
	if (r < 0 && w) {
		ctr_task_free(w->task);
		free(w);
	}
	return r;
}

static struct termios saved_tio;
static bool tio_saved;

int lctr_tty_raw(void)
{
	if (!isatty(STDIN_FILENO))
		return lctr_failf("-t: stdin is not a terminal");
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return lctr_failf("-t: terminal: %s", strerror(errno));
	struct termios raw = saved_tio;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return lctr_failf("-t: terminal: %s", strerror(errno));
	tio_saved = true;
	return 0;
}

void lctr_tty_reset(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

/* The task options for a process's stdio, as ctr's tasks.NewTask picks
 * them: a terminal, --null-io, --log-uri, or the caller's stdio. Detached
 * without a log, the fifos in fifo_dir (for tasks attach; output with no
 * reader is discarded), or nothing when fifo_dir is NULL. */
void lctr_io_opts(struct lctr_opts *o, bool tty, bool null_io, const char *log_uri, bool detach,
		  const char *fifo_dir)
{
	if (tty)
		lctr_opts_add(o, ctr_with_terminal());
	if (log_uri) {
		lctr_opts_add(o, ctr_with_log_uri(log_uri));
	} else if (detach && !null_io && fifo_dir) {
		char in[PATH_MAX], out[PATH_MAX], er[PATH_MAX];
		snprintf(in, sizeof(in), "%s/stdin", fifo_dir);
		snprintf(out, sizeof(out), "%s/stdout", fifo_dir);
		snprintf(er, sizeof(er), "%s/stderr", fifo_dir);
		lctr_opts_add(o, ctr_with_stdio_fifos(in, out, tty ? NULL : er));
	} else if (null_io || detach) {
		lctr_opts_add(o, ctr_with_stdio_null());
	} else {
		lctr_opts_add(o, ctr_with_stdio_inherit());
	}
}

bool lctr_spec_has_terminal(const char *spec)
{
	return spec && (strstr(spec, "\"terminal\":true") || strstr(spec, "\"terminal\": true"));
}

/* ctr's run/start after the container exists: new task, start, wait in
 * the foreground unless detached, delete the task. Returns the exit
 * status (the container's when it ran). */
int lctr_task_run(ctr_container *k, struct lctr *g, const struct lctr_cflags *f, bool detach,
		  const char *what)
{
	ctr_error *err = NULL;
	struct lctr_opts to = {0};
	bool tty = f->tty || lctr_spec_has_terminal(ctr_container_spec(k));
	if (tty && f->null_io)
		return lctr_failf("%s: tty and null-io cannot be used together", what);
	if (tty && !detach && lctr_tty_raw())
		return 1;
	char *fifos = NULL;
	if (detach && !f->null_io && !f->log_uri &&
	    lctr_io_dir_make(&fifos, ctr_container_client(k), ctr_container_id(k), what))
		return 1;
	lctr_io_opts(&to, tty, f->null_io, f->log_uri, detach, fifos);
	free(fifos);
	/* Nothing of a --rm container's rootfs outlives it, so its writes
	 * need no sync (and its unmount then syncs no disk). */
	if (f->throwaway && !detach)
		lctr_opts_add(&to, ctr_with_task_volatile_rootfs());
	ctr_task *t = NULL;
	int r = ctr_container_new_task(&t, k, LCTR_OPTS(&to), &err);
	lctr_opts_free(&to);
	if (r < 0) {
		lctr_tty_reset();
		lctr_io_dir_remove(ctr_container_client(k), ctr_container_id(k));
		return lctr_fail(what, err);
	}
	int rc = 0;
	struct fwd *w = NULL;
	if (f->pid_file) {
		FILE *pf = fopen(f->pid_file, "we");
		if (!pf || fprintf(pf, "%u", ctr_task_pid(t)) < 0 || fclose(pf) != 0) {
			rc = lctr_failf("%s: pid file %s: %s", what, f->pid_file, strerror(errno));
			goto fail;
		}
	}
	if (tty && !detach) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row)
			ctr_task_resize(t, ws.ws_col, ws.ws_row, NULL);
	}
	if (!detach) {
		/* Owned by the forwarding thread until the process exits. */
		w = calloc(1, sizeof(*w));
		ctr_opt *nso = ctr_with_call_namespace(ctr_container_namespace(k));
		if (w && nso &&
		    ctr_task_load(&w->task, ctr_container_client(k), ctr_container_id(k), CTR_OPTS(nso), NULL) == 0) {
			w->tty = tty;
			forward_block(w);
		} else {
			free(w);
			w = NULL;
		}
		ctr_opt_free(nso);
	}
	if (ctr_task_start(t, &err) < 0) {
		if (w)
			pthread_sigmask(SIG_UNBLOCK, &w->set, NULL);
		rc = lctr_fail(what, err);
		goto fail;
	}
	if (detach) {
		ctr_task_free(t);
		return 0;
	}
	if (w) {
		if (tty)
			resize(w);
		forward_start(w); /* best effort, as in ctr */
	}
	uint32_t status = 0;
	if (ctr_task_wait(&status, NULL, t, -1, &err) < 0) {
		lctr_tty_reset();
		rc = lctr_fail(what, err);
		ctr_task_free(t);
		return rc;
	}
	lctr_tty_reset();
	if (ctr_task_delete(NULL, t, CTR_NO_OPTS, &err) < 0)
		rc = lctr_fail(what, err);
	else
		rc = (int)(status & 0xff);
	ctr_task_free(t);
	return rc;
fail:
	if (w) {
		ctr_task_free(w->task);
		free(w);
	}
	lctr_tty_reset();
	ctr_opt *pk = ctr_with_process_kill();
	ctr_task_delete(NULL, t, CTR_OPTS(pk), NULL);
	ctr_opt_free(pk);
	ctr_task_free(t);
	lctr_io_dir_remove(ctr_container_client(k), ctr_container_id(k));
	return rc;
}

/* ctr's exec after the process is recorded: start, wait in the foreground
 * unless detached, delete. Returns the exit status. */
int lctr_process_run(ctr_process *p, bool tty, bool detach, const char *what)
{
	ctr_error *err = NULL;
	if (tty && !detach && lctr_tty_raw())
		return 1;
	if (tty && !detach) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row)
			ctr_process_resize(p, ws.ws_col, ws.ws_row, NULL);
	}
	if (ctr_process_start(p, &err) < 0) {
		lctr_tty_reset();
		ctr_process_delete(NULL, p, CTR_NO_OPTS, NULL);
		return lctr_fail(what, err);
	}
	if (detach)
		return 0;
	static struct fwd w;
	w.proc = p;
	w.tty = tty;
	if (forward_block(&w) == 0)
		forward_start(&w);
	uint32_t status = 0;
	int r = ctr_process_wait(&status, NULL, p, -1, &err);
	lctr_tty_reset();
	if (r < 0)
		return lctr_fail(what, err);
	if (ctr_process_delete(NULL, p, CTR_NO_OPTS, &err) < 0)
		return lctr_fail(what, err);
	return (int)(status & 0xff);
}

/* The flags run and containers create share (ctr's ContainerFlags and the
 * snapshotter flag). */
const struct lctr_flag lctr_cflags_flags[] = {
	{0, "env", required_argument, LCTR_O_ENV, "K=V", "set an environment variable (repeatable)"},
	{0, "label", required_argument, LCTR_O_LABEL, "K=V", "set a container label (repeatable)"},
	{0, "mount", required_argument, LCTR_O_MOUNT, "SPEC",
	 "add a mount: type=bind,src=S,dst=D,options=rbind:ro (repeatable)"},
	{0, "net-host", no_argument, LCTR_O_NET_HOST, NULL, "use the host's network namespace"},
	{0, "user", required_argument, LCTR_O_USER, "U[:G]", "run as this user (and group)"},
	{0, "cwd", required_argument, LCTR_O_CWD, "DIR", "working directory of the process"},
	{0, "read-only", no_argument, LCTR_O_READ_ONLY, NULL, "mount the rootfs read-only"},
	{0, "privileged", no_argument, LCTR_O_PRIVILEGED, NULL, "all capabilities, all devices, no seccomp"},
	{0, "memory-limit", required_argument, LCTR_O_MEMORY, "BYTES", "memory limit in bytes"},
	{0, "cpus", required_argument, LCTR_O_CPUS, "N", "CPU limit, in CPUs (1.5: one and a half)"},
	{0, "snapshotter", required_argument, LCTR_O_SNAPSHOTTER, "S", "snapshotter: overlayfs, native, btrfs or erofs"},
	{0, "runtime", required_argument, LCTR_O_RUNTIME, "NAME", "the OCI runtime binary (default runc)"},
	{0, "seccomp", no_argument, LCTR_O_SECCOMP, NULL, "apply the default seccomp profile"},
	{0, "rootfs", no_argument, LCTR_O_ROOTFS, NULL, "the first argument is a host directory, not an image"},
	{0, "hostname", required_argument, LCTR_O_HOSTNAME, "H", "the container's host name"},
	{0, "cap-add", required_argument, LCTR_O_CAP_ADD, "CAP", "add a capability (repeatable)"},
	{0, "cap-drop", required_argument, LCTR_O_CAP_DROP, "CAP", "drop a capability (repeatable)"},
	{'t', "tty", no_argument, LCTR_O_TTY, NULL, "give the process a terminal"},
	{0, "env-file", required_argument, LCTR_O_ENV_FILE, "F", "read K=V lines from F (before --env)"},
	{0, "cpu-quota", required_argument, LCTR_O_CPU_QUOTA, "US", "CFS quota in microseconds (-1: none)"},
	{0, "cpu-period", required_argument, LCTR_O_CPU_PERIOD, "US", "CFS period in microseconds"},
	{0, "cgroup", required_argument, LCTR_O_CGROUP, "PATH", "the container's cgroup path"},
	{0, "runc-binary", required_argument, LCTR_O_RUNC_BINARY, "PATH", "the runc binary (as --runtime)"},
	{0, "allow-new-privs", no_argument, LCTR_O_NEW_PRIVS, NULL, "let the process gain privileges (setuid)"},
	{0, "device", required_argument, LCTR_O_DEVICE, "PATH",
	 "add a device node, or every node of a directory tree (repeatable)"},
	{0, "seccomp-profile", required_argument, LCTR_O_SECCOMP_PROFILE, "F",
	 "with --seccomp: the seccomp profile in F instead of the default"},
	{0, "apparmor-profile", required_argument, LCTR_O_APPARMOR_PROFILE, "NAME",
	 "run under this loaded AppArmor profile"},
	{0, "with-ns", required_argument, LCTR_O_WITH_NS, "TYPE:PATH", "join the namespace at PATH (repeatable)"},
	{0, "platform", required_argument, LCTR_O_PLATFORM, "P", "the image's platform (only the host's runs)"},
	{0},
};

/* run's own, besides the container flags. */
const struct lctr_flag lctr_run_flags[] = {
	{0, "rm", no_argument, LCTR_O_RM, NULL, "delete the container and its snapshot when it exits"},
	{'d', "detach", no_argument, LCTR_O_DETACH, NULL, "return once the task runs"},
	{0, "log-uri", required_argument, LCTR_O_LOG_URI, "file:///PATH", "send stdout and stderr to a file"},
	{0, "null-io", no_argument, LCTR_O_NULL_IO, NULL, "send the process's output to /dev/null"},
	{0, "pid-file", required_argument, LCTR_O_PID_FILE, "F", "write the task's pid to F"},
	{0},
};

int lctr_cmd_run(struct lctr *g, int argc, char **argv)
{
	struct lctr_cflags f = {0};
	bool rm = false, detach = false;
	int c;
	optind = 0;
	/* the command's own flags follow the id, as ctr's SkipArgReorder (stop) */
	while ((c = lctr_getopt(argc, argv)) != -1) {
		int k = lctr_cflags_opt(&f, c, optarg);
		if (k < 0) {
			lctr_cflags_free(&f);
			return k == -2 ? 2 : 1;
		}
		if (c == LCTR_O_RM)
			rm = true;
		else if (c == LCTR_O_DETACH)
			detach = true;
	}
	const char *ref = argv[optind], *id = argv[optind + 1];
	char what[160];
	snprintf(what, sizeof(what), "run %.120s", id);
	ctr_container *k = NULL;
	int rc = lctr_container_create(&k, g, &f, ref, id, argv + optind + 2, what);
	if (rc) {
		lctr_cflags_free(&f);
		return rc;
	}
	f.throwaway = rm && !detach;
	rc = lctr_task_run(k, g, &f, detach, what);
	if (rm && !detach) {
		ctr_error *err = NULL;
		/* A task left by a failure is gone by now; the record and
		 * its snapshot go too (ctr's defer container.Delete). */
		ctr_opt *o = ctr_with_snapshot_cleanup();
		if (ctr_container_delete(k, (const ctr_opt *const *)&o, 1, &err) < 0) {
			int r2 = lctr_fail(what, err);
			if (!rc)
				rc = r2;
		}
		ctr_opt_free(o);
	}
	ctr_container_free(k);
	lctr_cflags_free(&f);
	return rc;
}
