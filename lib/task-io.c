/* A task's and a process's IO (containerd's cio): the stdio options, the
 * in-process streams and the threads that copy them, re-attaching to a
 * loaded task's fifos, and the IO config a process was created with. */
#include "task.h"
#include "io-copier.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "macro.h"
#include "opts.h"

/* ---- options ---- */

enum { SET_NULL, SET_INHERIT, SET_TERMINAL };

static int apply_stdio_simple(void *target, void *userdata, ctr_error **err)
{
	(void)err;
	struct ctr_task_opts *o = target;
	switch ((int)(intptr_t)userdata) {
	case SET_NULL:
		o->io.kind = CTR_RT_IO_NULL;
		break;
	case SET_INHERIT:
		o->io.kind = CTR_RT_IO_INHERIT;
		break;
	case SET_TERMINAL:
		o->io.terminal = true;
		break;
	}
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_stdio_null(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_null", apply_stdio_simple,
			    (void *)(intptr_t)SET_NULL, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_stdio_inherit(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_inherit", apply_stdio_simple,
			    (void *)(intptr_t)SET_INHERIT, NULL);
}

CTR_EXPORT ctr_opt *ctr_with_terminal(void)
{
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_terminal", apply_stdio_simple,
			    (void *)(intptr_t)SET_TERMINAL, NULL);
}

static void set_path(struct ctr_task_opts *o, int i, const char *s)
{
	free(o->paths[i]);
	o->paths[i] = s ? strdup(s) : NULL;
}

struct fifos {
	char *p[3];
};

static void fifos_free(void *ud)
{
	struct fifos *f = ud;
	if (!f)
		return;
	for (int i = 0; i < 3; i++)
		free(f->p[i]);
	free(f);
}

static int apply_fifos(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	struct fifos *f = userdata;
	for (int i = 0; i < 3; i++) {
		if (f->p[i] && f->p[i][0] != '/')
			return ctr_err(err, CTR_EINVAL, 0, "ctr_with_stdio_fifos: %s is not an absolute path",
				       f->p[i]);
		set_path(o, i, f->p[i]);
		if (f->p[i] && !o->paths[i])
			return ctr_err_nomem(err);
	}
	o->io.kind = CTR_RT_IO_FIFO;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_stdio_fifos(const char *stdin_path, const char *stdout_path,
					 const char *stderr_path)
{
	struct fifos *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	const char *in[3] = {stdin_path, stdout_path, stderr_path};
	for (int i = 0; i < 3; i++) {
		if (in[i] && !(f->p[i] = strdup(in[i]))) {
			fifos_free(f);
			return NULL;
		}
	}
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_fifos", apply_fifos, f, fifos_free);
}

static int apply_log_uri(void *target, void *userdata, ctr_error **err)
{
	struct ctr_task_opts *o = target;
	struct ctr_rt_log_uri u;
	int r = ctr_rt_log_uri_parse(&u, userdata, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "ctr_with_log_uri");
	set_path(o, 3, userdata);
	if (!o->paths[3]) {
		ctr_rt_log_uri_clear(&u);
		return ctr_err_nomem(err);
	}
	ctr_rt_log_uri_clear(&o->log);
	o->log = u;
	o->io.kind = u.kind;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_log_uri(const char *uri)
{
	return ctr_opt_make_str(CTR_OPT_TASK, "ctr_with_log_uri", apply_log_uri, uri);
}

static int apply_streams(void *target, void *userdata, ctr_error **err)
{
	(void)err;
	struct ctr_task_opts *o = target;
	const struct ctr_io_streams *s = userdata;
	o->streams = *s;
	o->io.kind = CTR_RT_IO_STREAMS;
	o->io.streams = (s->in ? CTR_RT_STREAM_STDIN : 0) | (s->out ? CTR_RT_STREAM_STDOUT : 0) |
			(s->err ? CTR_RT_STREAM_STDERR : 0);
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_stdio_streams(ctr_stream_read_fn stdin_read, ctr_stream_write_fn stdout_write,
					   ctr_stream_write_fn stderr_write, void *userdata)
{
	struct ctr_io_streams *s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	*s = (struct ctr_io_streams){.in = stdin_read, .out = stdout_write, .err = stderr_write,
				     .userdata = userdata};
	return ctr_opt_make(CTR_OPT_TASK, "ctr_with_stdio_streams", apply_streams, s, free);
}

/* Points io's borrowed fields at what the options own. */
void ctr_task_opts_io(struct ctr_task_opts *o)
{
	if (o->io.kind == CTR_RT_IO_FIFO) {
		o->io.stdin_path = o->paths[0];
		o->io.stdout_path = o->paths[1];
		o->io.stderr_path = o->paths[2];
	} else if (o->io.kind == CTR_RT_IO_FILE) {
		o->io.log_path = o->log.path;
		o->io.log_uri = o->paths[3];
	} else if (o->io.kind == CTR_RT_IO_BINARY) {
		o->io.log_argv = (const char *const *)o->log.argv;
		o->io.log_uri = o->paths[3];
		o->io.log_ready_byte = o->log.ready_byte;
	}
}

/* ---- parsing ---- */

int ctr_task_opts_parse(struct ctr_task_opts *o, struct ctr_call *call, const ctr_opt *const *opts,
			size_t n_opts, const char *what, ctr_error **err)
{
	memset(o, 0, sizeof(*o));
	int r = ctr_opts_apply(CTR_OPT_TASK, o, call, opts, n_opts, what, err);
	if (r < 0) {
		ctr_task_opts_clear(o);
		return r;
	}
	ctr_task_opts_io(o);
	return 0;
}

void ctr_task_opts_clear(struct ctr_task_opts *o)
{
	for (int i = 0; i < 4; i++)
		free(o->paths[i]);
	ctr_rt_log_uri_clear(&o->log);
	free(o->runtime);
	free(o->runc_root);
	free(o->criu);
	free(o->shim_cgroup);
	memset(o, 0, sizeof(*o));
}

/* ---- attaching, the IO config ---- */

/* The streams of an attach: ctr_with_stdio_streams and nothing else. */
static int attach_opts(struct ctr_io_streams *s, const ctr_opt *const *opts, size_t n_opts, const char *what,
		       ctr_error **err)
{
	struct ctr_task_opts o;
	int r = ctr_task_opts_parse(&o, NULL, opts, n_opts, what, err);
	if (r < 0)
		return r;
	bool only = o.io.kind == CTR_RT_IO_STREAMS && !o.io.terminal && !o.runtime && !o.volatile_rootfs &&
		    !o.runc_root && !o.criu && !o.shim_cgroup && !o.systemd_cgroup && !o.no_pivot &&
		    !o.no_new_keyring;
	*s = o.streams;
	ctr_task_opts_clear(&o);
	if (!only)
		return ctr_err(err, CTR_EINVAL, 0, "%s: takes ctr_with_stdio_streams and no other option", what);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Opens the fifo at path (from the process's IO record) for an attach. */
static int open_fifo(int *fd, const char *path, int flags, const char *what, ctr_error **err)
{
	*fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 && errno == ENXIO)
		return ctr_err(err, CTR_EPRECONDITION, ENXIO, "%s: stdin %s is closed", what, path);
	if (*fd < 0)
		return ctr_err_errno(err, errno, "%s: open %s", what, path);
	struct stat st;
	if (fstat(*fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close_fd(fd);
		return ctr_err(err, CTR_EPRECONDITION, 0, "%s: %s is not a fifo", what, path);
	}
	return 0;
}

static int attach(struct ctr_io_copier **slot, pthread_mutex_t *mu, ctr_rt_proc *rp,
		  const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err)
{
	struct ctr_io_streams s;
	int r = attach_opts(&s, opts, n_opts, what, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *text = NULL;
	if ((r = ctr_rt_proc_io_config(rp, &text, err)) < 0)
		return ctr_err_prefix(err, r, "%s", what);
	json_t *cfg = NULL;
	if ((r = ctr_json_parse(text, strlen(text), 64u << 10, 4, "io config", &cfg, err)) < 0)
		return r;
	static const char *const keys[3] = {"stdin", "stdout", "stderr"};
	const void *cbs[3] = {(const void *)s.in, (const void *)s.out, (const void *)s.err};
	int fds[3] = {-1, -1, -1};
	bool any = false;
	for (int i = 0; i < 3 && r == 0; i++) {
		const char *path = json_string_value(json_object_get(cfg, keys[i]));
		if (!path || !*path)
			continue;
		if (path[0] != '/') {
			r = ctr_err(err, CTR_EPRECONDITION, 0, "%s: the process's IO is not fifos (%s %s)", what,
				    keys[i], path);
			break;
		}
		any = true;
		if (cbs[i])
			r = open_fifo(&fds[i], path, i == 0 ? O_WRONLY : O_RDONLY, what, err);
	}
	json_decref(cfg);
	if (r == 0 && !any)
		r = ctr_err(err, CTR_EPRECONDITION, 0, "%s: the process has no fifos to attach to", what);
	if (r == 0) {
		pthread_mutex_lock(mu);
		if (*slot)
			r = ctr_err(err, CTR_EBUSY, 0, "%s: this handle copies its streams already", what);
		else
			r = ctr_io_copier_start(slot, fds, &s, err);
		pthread_mutex_unlock(mu);
		if (r == CTR_EBUSY)
			for (int i = 0; i < 3; i++)
				close_fd(&fds[i]);
		return r;
	}
	for (int i = 0; i < 3; i++)
		close_fd(&fds[i]);
	return r;
}

#define NEED(x)                                                                            \
	do {                                                                               \
		if (!(x))                                                                  \
			return ctr_err(err, CTR_EINVAL, 0, "%s: NULL argument", __func__); \
	} while (0)

CTR_EXPORT int ctr_task_attach(ctr_task *t, const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	NEED(t);
	return attach(&t->io, &t->io_mu, ctr_rt_task_init(t->rt), opts, n_opts, "ctr_task_attach", err);
}

CTR_EXPORT int ctr_process_attach(ctr_process *p, const ctr_opt *const *opts, size_t n_opts,
				  ctr_error **err)
{
	NEED(p);
	return attach(&p->io, &p->task->io_mu, p->rt, opts, n_opts, "ctr_process_attach", err);
}

CTR_EXPORT int ctr_task_io(char **json, ctr_task *t, ctr_error **err)
{
	NEED(json && t);
	return ctr_rt_proc_io_config(ctr_rt_task_init(t->rt), json, err);
}

CTR_EXPORT int ctr_process_io(char **json, ctr_process *p, ctr_error **err)
{
	NEED(json && p);
	return ctr_rt_proc_io_config(p->rt, json, err);
}
