/* lctr: the progress display of pull, push, import and export: one line
 * per blob with its state, bytes and rate, and a total, redrawn in place
 * on a terminal; plain lines, one per change of state, otherwise. */
#include "lctr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static const char *state_name(ctr_progress_state s, enum lctr_progress_kind kind)
{
	switch (s) {
	case CTR_PROGRESS_WAITING: return "waiting";
	case CTR_PROGRESS_DOWNLOADING: return kind == LCTR_PROGRESS_IMPORT ? "reading" : "downloading";
	case CTR_PROGRESS_UPLOADING: return kind == LCTR_PROGRESS_EXPORT ? "writing" : "uploading";
	case CTR_PROGRESS_VERIFYING: return "verifying";
	case CTR_PROGRESS_DONE:
		return kind == LCTR_PROGRESS_PUSH ? "pushed" : kind == LCTR_PROGRESS_IMPORT ? "stored"
			: kind == LCTR_PROGRESS_EXPORT ? "written" : "done";
	case CTR_PROGRESS_FAILED: return "failed";
	case CTR_PROGRESS_UNPACKING: return "unpacking";
	}
	return "?";
}

static double since(const struct timespec *a)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

/* "1.2 MB/s": bytes over the seconds since start (nothing when too soon). */
static void print_rate(int64_t bytes, const struct timespec *start)
{
	double secs = since(start);
	char r[32];
	if (secs >= 0.01 && bytes > 0)
		printf(" %s/s", lctr_human_size((double)bytes / secs, r, sizeof(r)));
}

/* "<digest> <state> <done>/<total> [<rate>/s]" */
static void item_line(const struct lctr_prog_item *it, enum lctr_progress_kind kind)
{
	char d[32], t[32];
	lctr_human_size((double)it->done, d, sizeof(d));
	if (it->total >= 0)
		lctr_human_size((double)it->total, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "?");
	printf("%s %s %s/%s", it->digest, state_name(it->state, kind), d, t);
	print_rate(it->done, &it->first);
}

void lctr_progress_redraw(struct lctr_progress *p, bool final)
{
	if (!final && since(&p->last) < 0.1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	if (p->drawn)
		printf("\033[%dA", p->drawn);
	int64_t done = 0, total = 0;
	for (size_t i = 0; i < p->n; i++) {
		printf("\033[K");
		item_line(&p->v[i], p->kind);
		putchar('\n');
		done += p->v[i].done;
		total += p->v[i].total > 0 ? p->v[i].total : 0;
	}
	char d[32], t[32];
	printf("\033[Ktotal: %s/%s", lctr_human_size((double)done, d, sizeof(d)),
	       lctr_human_size((double)total, t, sizeof(t)));
	print_rate(done, &p->start);
	printf(" (%.1fs)\n", since(&p->start));
	p->drawn = (int)p->n + 1;
	fflush(stdout);
}

int lctr_on_progress(const char *digest, const char *media_type, int64_t done, int64_t total,
		       ctr_progress_state state, void *ud)
{
	(void)media_type;
	struct lctr_progress *p = ud;
	struct lctr_prog_item *it = NULL;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].digest, digest))
			it = &p->v[i];
	if (!it) {
		struct lctr_prog_item *v = realloc(p->v, (p->n + 1) * sizeof(*v));
		if (!v)
			return 0;
		p->v = v;
		it = &v[p->n++];
		*it = (struct lctr_prog_item){.state = (ctr_progress_state)-1};
		clock_gettime(CLOCK_MONOTONIC, &it->first);
		snprintf(it->digest, sizeof(it->digest), "%s", digest);
	}
	bool changed = it->state != state;
	it->done = done;
	it->total = total;
	it->state = state;
	if (p->tty) {
		lctr_progress_redraw(p, false);
	} else if (changed) {
		item_line(it, p->kind);
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}

void lctr_progress_start(struct lctr_progress *p, enum lctr_progress_kind kind)
{
	*p = (struct lctr_progress){.tty = isatty(STDOUT_FILENO), .kind = kind};
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void lctr_progress_end(struct lctr_progress *p)
{
	if (p->tty && p->n)
		lctr_progress_redraw(p, true);
	printf("done: %.1fs\n", since(&p->start));
	fflush(stdout);
	free(p->v);
}

