/* Copies between a process's fifos and a caller's callbacks
 * (ctr_with_stdio_streams) on two threads of its own: one for stdout and
 * stderr, one for stdin, whose callback may block. */
#ifndef CTR_LIB_IO_COPIER_H
#define CTR_LIB_IO_COPIER_H

#include <ctr/task.h>

/* ctr_with_stdio_streams: the caller's callbacks (any may be NULL). */
struct ctr_io_streams {
	ctr_stream_read_fn in;
	ctr_stream_write_fn out, err;
	void *userdata;
};

struct ctr_io_copier;
/* Takes fds (stdin's write end, stdout's and stderr's read ends, -1 for
 * none; closed on failure too) and starts copying. */
int ctr_io_copier_start(struct ctr_io_copier **out, int fds[3], const struct ctr_io_streams *s,
			ctr_error **err);
/* Stops copying: the output still readable goes to the callbacks, a stdin
 * callback under way is waited for; the threads are joined and the fds
 * closed. Accepts NULL. */
void ctr_io_copier_stop(struct ctr_io_copier *c);

#endif
