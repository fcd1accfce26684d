/* A process's stdio as the runtime wires it: the checked copy a process
 * keeps until its shim starts, the fifos made for in-process streams, the
 * shim's stdio arguments, and the IO config recorded for any process to
 * read (containerd's Process.IO().Config()). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "runtime-priv.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

static const char *const stream_names[3] = {"io.stdin", "io.stdout", "io.stderr"};

void ctr_rt_io_close_streams(ctr_rt_proc *p)
{
	for (int i = 0; i < 3; i++) {
		if (p->stream_fd[i] >= 0)
			close(p->stream_fd[i]);
		p->stream_fd[i] = -1;
	}
}

void ctr_rt_io_clear(ctr_rt_proc *p)
{
	for (int i = 0; i < 5; i++) {
		free(p->io_strs[i]);
		p->io_strs[i] = NULL;
	}
	if (p->io_argv)
		for (size_t i = 0; p->io_argv[i]; i++)
			free(p->io_argv[i]);
	free(p->io_argv);
	p->io_argv = NULL;
	ctr_rt_io_close_streams(p);
}

static int dup_str(char **slot, const char **dst, const char *src, ctr_error **err)
{
	if (!(*slot = strdup(src)))
		return ctr_err_nomem(err);
	*dst = *slot;
	return 0;
}

/* The logging binary must be there before a shim is started for it. */
static int check_logger(const char *path, ctr_error **err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? ctr_err(err, CTR_ENOTFOUND, ENOENT, "logging binary %s: not found", path)
				       : ctr_err_errno(err, errno, "logging binary %s", path);
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return ctr_err(err, CTR_EINVAL, 0, "logging binary %s is not an executable file", path);
	return 0;
}

/* io.json: cio.Config's fields, as containerd's Process.IO() reports them. */
static int write_config(ctr_rt_proc *p, ctr_error **err)
{
	const struct ctr_rt_io *io = &p->io;
	const char *s[3] = {"", "", ""};
	if (io->kind == CTR_RT_IO_FIFO || io->kind == CTR_RT_IO_STREAMS) {
		s[0] = io->stdin_path ? io->stdin_path : "";
		s[1] = io->stdout_path ? io->stdout_path : "";
		s[2] = io->stderr_path ? io->stderr_path : "";
	} else if (io->kind == CTR_RT_IO_FILE || io->kind == CTR_RT_IO_BINARY) {
		s[1] = s[2] = io->log_uri;
	}
	json_t *j = json_pack("{s:b,s:s,s:s,s:s}", "terminal", io->terminal, "stdin", s[0], "stdout", s[1],
			      "stderr", s[2]);
	_cleanup_free_ char *text = j ? ctr_json_dump(j) : NULL;
	json_decref(j);
	if (!text)
		return ctr_err_nomem(err);
	return ctr_write_atomic(p->dir_fd, CTR_SHIM_IO_CONFIG, text, strlen(text), 0600, err);
}

int ctr_rt_io_copy(ctr_rt_proc *p, const struct ctr_rt_io *io, ctr_error **err)
{
	static const struct ctr_rt_io none = {.kind = CTR_RT_IO_NULL};
	if (!io)
		io = &none;
	if (io->kind > CTR_RT_IO_STREAMS)
		return ctr_err(err, CTR_EINVAL, 0, "unknown io kind %d", (int)io->kind);
	p->io = (struct ctr_rt_io){.kind = io->kind, .terminal = io->terminal,
				   .log_ready_byte = io->log_ready_byte};
	const char *src[3] = {io->stdin_path, io->stdout_path, io->stderr_path};
	const char **dst[3] = {&p->io.stdin_path, &p->io.stdout_path, &p->io.stderr_path};
	int r = 0;
	if (io->kind == CTR_RT_IO_FIFO) {
		for (int i = 0; i < 3 && r == 0; i++) {
			if (!src[i])
				continue;
			if (src[i][0] != '/')
				return ctr_err(err, CTR_EINVAL, 0, "stdio path %s is not absolute", src[i]);
			r = dup_str(&p->io_strs[i], dst[i], src[i], err);
		}
		/* cio.NewFIFOSet makes its fifos; do the same for missing ones,
		 * and refuse anything else at those paths: the shim writes to
		 * them. */
		for (int i = 0; i < 3 && r == 0; i++) {
			if (!*dst[i])
				continue;
			if (mkfifo(*dst[i], 0600) < 0 && errno != EEXIST)
				return ctr_err_errno(err, errno, "mkfifo %s", *dst[i]);
			struct stat st;
			if (lstat(*dst[i], &st) < 0)
				return ctr_err_errno(err, errno, "stat %s", *dst[i]);
			if (!S_ISFIFO(st.st_mode))
				return ctr_err(err, CTR_EINVAL, 0, "stdio path %s is not a fifo", *dst[i]);
		}
	} else if (io->kind == CTR_RT_IO_STREAMS) {
		/* Only the streams the caller copies get a fifo; a terminal
		 * has no stderr of its own (cio's copyIO skips it too). */
		unsigned want = io->streams & (io->terminal ? ~CTR_RT_STREAM_STDERR : ~0u);
		for (int i = 0; i < 3 && r == 0; i++) {
			if (!(want & (1u << i)))
				continue;
			if (mkfifoat(p->dir_fd, stream_names[i], 0600) < 0)
				return ctr_err_errno(err, errno, "mkfifo %s/%s", p->path, stream_names[i]);
			if (asprintf(&p->io_strs[i], "%s/%s", p->path, stream_names[i]) < 0) {
				p->io_strs[i] = NULL;
				return ctr_err_nomem(err);
			}
			*dst[i] = p->io_strs[i];
		}
		p->io.streams = want;
	} else if (io->kind == CTR_RT_IO_FILE) {
		if (!io->log_path || io->log_path[0] != '/')
			return ctr_err(err, CTR_EINVAL, 0, "log file io without an absolute path");
		_cleanup_free_ char *uri = NULL;
		if (!io->log_uri && asprintf(&uri, "file://%s", io->log_path) < 0)
			return ctr_err_nomem((uri = NULL, err));
		r = dup_str(&p->io_strs[3], &p->io.log_path, io->log_path, err);
		if (r == 0)
			r = dup_str(&p->io_strs[4], &p->io.log_uri, io->log_uri ? io->log_uri : uri, err);
	} else if (io->kind == CTR_RT_IO_BINARY) {
		if (!io->log_argv || !io->log_argv[0] || io->log_argv[0][0] != '/' || !io->log_uri)
			return ctr_err(err, CTR_EINVAL, 0, "logging binary io without an absolute path");
		size_t n = 0;
		while (io->log_argv[n])
			n++;
		if (n > 1 + 2 * CTR_RT_LOG_MAX_ARGS)
			return ctr_err(err, CTR_EINVAL, 0, "logging binary: more than %d arguments",
				       2 * CTR_RT_LOG_MAX_ARGS);
		if (!(p->io_argv = calloc(n + 1, sizeof(char *))))
			return ctr_err_nomem(err);
		for (size_t i = 0; i < n; i++)
			if (!(p->io_argv[i] = strdup(io->log_argv[i])))
				return ctr_err_nomem(err);
		p->io.log_argv = (const char *const *)p->io_argv;
		r = dup_str(&p->io_strs[4], &p->io.log_uri, io->log_uri, err);
		if (r == 0)
			r = check_logger(p->io_argv[0], err);
	}
	if (r == 0)
		r = write_config(p, err);
	return r;
}

size_t ctr_rt_io_shim_args(const struct ctr_rt_io *io, const char **argv)
{
	size_t n = 0;
	if (io->terminal)
		argv[n++] = "-t";
	switch (io->kind) {
	case CTR_RT_IO_INHERIT:
		argv[n++] = "-n";
		break;
	case CTR_RT_IO_FILE:
		argv[n++] = "-L";
		argv[n++] = io->log_path;
		break;
	case CTR_RT_IO_BINARY:
		argv[n++] = "-B";
		argv[n++] = io->log_argv[0];
		for (size_t i = 1; io->log_argv[i]; i++) {
			argv[n++] = "-a";
			argv[n++] = io->log_argv[i];
		}
		if (io->log_ready_byte)
			argv[n++] = "-V";
		break;
	case CTR_RT_IO_FIFO:
	case CTR_RT_IO_STREAMS:
		if (io->stdin_path) {
			argv[n++] = "-I";
			argv[n++] = io->stdin_path;
		}
		if (io->stdout_path) {
			argv[n++] = "-O";
			argv[n++] = io->stdout_path;
		}
		if (io->stderr_path) {
			argv[n++] = "-E";
			argv[n++] = io->stderr_path;
		}
		break;
	case CTR_RT_IO_NULL:
		break;
	}
	return n;
}

int ctr_rt_io_open_readers(ctr_rt_proc *p, ctr_error **err)
{
	if (p->io.kind != CTR_RT_IO_STREAMS)
		return 0;
	for (int i = 1; i < 3; i++) {
		if (!(p->io.streams & (1u << i)) || p->stream_fd[i] >= 0)
			continue;
		p->stream_fd[i] = openat(p->dir_fd, stream_names[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
		if (p->stream_fd[i] < 0)
			return ctr_err_errno(err, errno, "open %s/%s", p->path, stream_names[i]);
	}
	return 0;
}

int ctr_rt_io_open_stdin(ctr_rt_proc *p, ctr_error **err)
{
	if (p->io.kind != CTR_RT_IO_STREAMS || !(p->io.streams & CTR_RT_STREAM_STDIN) || p->stream_fd[0] >= 0)
		return 0;
	/* The shim opened its read end before it reported ready. */
	p->stream_fd[0] = openat(p->dir_fd, stream_names[0], O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (p->stream_fd[0] < 0)
		return ctr_err_errno(err, errno, "open %s/%s", p->path, stream_names[0]);
	return 0;
}

void ctr_rt_proc_take_streams(ctr_rt_proc *p, int fds[3])
{
	for (int i = 0; i < 3; i++) {
		fds[i] = p->stream_fd[i];
		p->stream_fd[i] = -1;
	}
}

int ctr_rt_proc_io_config(ctr_rt_proc *p, char **json, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = ctr_read_file(p->dir_fd, CTR_SHIM_IO_CONFIG, 64u << 10, &text, &len, err);
	if (r == CTR_ENOTFOUND)
		return ctr_err_prefix(err, r, "process %s of %s: no IO config recorded", p->name, p->task->id);
	if (r < 0)
		return r;
	json_t *j = NULL;
	r = ctr_json_parse(text, len, 64u << 10, 4, "io config", &j, err);
	if (r < 0)
		return r;
	bool ok = json_is_object(j) && json_is_boolean(json_object_get(j, "terminal"));
	const char *keys[3] = {"stdin", "stdout", "stderr"};
	for (int i = 0; i < 3; i++)
		ok = ok && json_is_string(json_object_get(j, keys[i]));
	json_decref(j);
	if (!ok)
		return ctr_err(err, CTR_EIO, 0, "process %s of %s: bad %s", p->name, p->task->id,
			       CTR_SHIM_IO_CONFIG);
	*json = TAKE_PTR(text);
	return 0;
}
