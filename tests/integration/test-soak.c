/* Concurrency soak: 4 processes with 2 worker threads each (one client per
 * process, shared by its threads), for SECONDS (argv[1], default 20) on one
 * root and state directory. The workers pull from a real docker-registry
 * (with unpack), run containers to completion, run detached ones and exec
 * into them, kill and delete them, delete their image and collect.
 *
 * Fails on:
 * - any operation taking more than 60 s (each process's watchdog, and the
 *   parent's for the whole run);
 * - any error reaching a caller, CTR_EBUSY and SQLite's busy/locked above
 *   all (named apart in the message);
 * - a lost container: at the end the listed containers are exactly those
 *   created and not deleted;
 * - a lost or misordered event: every subscriber (one per process, and the
 *   parent's) sees /tasks/create, /tasks/start, /tasks/exit, /tasks/delete,
 *   in that order and once each, for every task a worker ran;
 * - an inconsistent store: a blob that does not re-hash, an image whose
 *   content is missing, and after cleanup (every image deleted, a last GC)
 *   a snapshot, a blob, a shim, a mount or a cgroup left behind.
 * The seed is printed; SOAK_SEED=N repeats a run's choices. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "soak-lib.h"

#define N_PROCS 4
#define N_THREADS 2
#define OP_LIMIT 60.0
#define MAX_EVENTS 200000

static const char *src;
static char top[64], root[128], state[128], addr[256], prefix[32];
static double deadline;
static unsigned seed;

/* ---- events, as one subscriber saw them ---- */

struct seen {
	char (*cid)[48];
	char *topic; /* c s e d */
	size_t n;
	int fails;
	char msg[256];
	int stop; /* atomic */
	ctr_subscription *sub;
};

static char topic_code(const char *t)
{
	if (!strcmp(t, "/tasks/create"))
		return 'c';
	if (!strcmp(t, "/tasks/start"))
		return 's';
	if (!strcmp(t, "/tasks/exit"))
		return 'e';
	if (!strcmp(t, "/tasks/delete"))
		return 'd';
	return 0;
}

/* Follows the subscription until told to stop and then 2 s of silence. */
static void *subscriber(void *ud)
{
	struct seen *s = ud;
	int idle = 0;
	for (;;) {
		ctr_event *e = NULL;
		ctr_error *err = NULL;
		int r = ctr_subscription_next(&e, s->sub, 500, &err);
		if (r == CTR_ETIMEOUT) {
			if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) && ++idle >= 4)
				break;
			continue;
		}
		if (r < 0) {
			if (!s->fails++)
				snprintf(s->msg, sizeof(s->msg), "subscription next: %d %s", r,
					 err ? ctr_error_message(err) : "");
			ctr_error_free(err);
			break;
		}
		idle = 0;
		char code = topic_code(ctr_event_topic(e));
		json_t *p = json_loads(ctr_event_payload(e), 0, NULL);
		const char *cid = json_string_value(json_object_get(p, "container_id"));
		const char *id = json_string_value(json_object_get(p, "id"));
		/* An exec'd process's exit names its exec id: not the task's. */
		if (code && cid && !strncmp(cid, prefix, strlen(prefix)) && (!id || !strcmp(id, cid)) &&
		    strlen(cid) < sizeof(s->cid[0]) && s->n < MAX_EVENTS) {
			snprintf(s->cid[s->n], sizeof(s->cid[0]), "%s", cid);
			s->topic[s->n++] = code;
		}
		json_decref(p);
		ctr_event_free(e);
	}
	return NULL;
}

static int seen_init(struct seen *s, ctr_client *c)
{
	memset(s, 0, sizeof(*s));
	s->cid = calloc(MAX_EVENTS, sizeof(*s->cid));
	s->topic = calloc(MAX_EVENTS, 1);
	const char *f[] = {"topic~=\"^/tasks/\""};
	ctr_error *err = NULL;
	int r = ctr_event_subscribe(&s->sub, c, f, 1, NULL, 0, &err);
	if (r < 0) {
		fprintf(stderr, "subscribe: %s\n", ctr_error_message(err));
		ctr_error_free(err);
	}
	return r;
}

static int seen_write(const struct seen *s, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s %c\n", s->cid[i], s->topic[i]);
	return fclose(f);
}

/* ---- one process's workers ---- */

struct worker {
	ctr_client *c;
	int proc, thread;
	unsigned rnd;
	char ref[320];
	FILE *log; /* "<cid> created|deleted|task" lines */
	int fails;
	char msg[768];
	unsigned long ops, runs, detached, execs, gcs, pulls;
	double op_start; /* atomic through __atomic on its bits: see op() */
	const char *op_name;
	pthread_mutex_t mu;
};

static void op(struct worker *w, const char *name)
{
	pthread_mutex_lock(&w->mu);
	w->op_name = name;
	w->op_start = name ? sk_now() : 0;
	pthread_mutex_unlock(&w->mu);
	if (name)
		w->ops++;
}

/* Records the first failure; a busy error is named as such. */
static int failed(struct worker *w, int r, ctr_error **err, const char *what)
{
	const char *m = *err ? ctr_error_message(*err) : "";
	bool busy = r == CTR_EBUSY || strstr(m, "locked") || strstr(m, "busy") || strstr(m, "BUSY");
	if (!w->fails++)
		snprintf(w->msg, sizeof(w->msg), "p%d t%d: %s%s: %d %s", w->proc, w->thread,
			 busy ? "BUSY reached the caller in " : "", what, r, m);
	ctr_error_free(*err);
	*err = NULL;
	op(w, NULL);
	return r;
}

/* Ends an operation: its failure, or 0. */
static int finish(struct worker *w, int r, ctr_error **err, const char *what)
{
	if (r < 0)
		return failed(w, r, err, what);
	op(w, NULL);
	return 0;
}

static void logline(struct worker *w, const char *cid, const char *what)
{
	fprintf(w->log, "%s %s\n", cid, what);
	fflush(w->log);
}

static int pull(struct worker *w, ctr_image **img)
{
	ctr_error *err = NULL;
	ctr_opt *ph = ctr_with_plain_http(), *un = ctr_with_pull_unpack();
	op(w, "pull");
	int r = ctr_image_pull(img, w->c, w->ref, CTR_OPTS(ph, un), &err);
	ctr_opt_free(ph);
	ctr_opt_free(un);
	if (r < 0)
		return failed(w, r, &err, "pull");
	w->pulls++;
	op(w, NULL);
	return 0;
}

static int container_new(struct worker *w, ctr_container **k, ctr_image *img, const char *id,
			 const char *const *args)
{
	ctr_error *err = NULL;
	char *cfg = NULL;
	op(w, "image config");
	int r = ctr_image_config(&cfg, img, &err);
	if (r < 0)
		return failed(w, r, &err, "image config");
	ctr_opt *so = ctr_with_image_config_args(cfg, args);
	ctr_opt *co[] = {ctr_with_image(img), ctr_with_new_snapshot(id, img), ctr_with_new_spec(CTR_OPTS(so))};
	op(w, "container new");
	r = ctr_container_new(k, w->c, id, (const ctr_opt *const *)co, 3, &err);
	for (size_t j = 0; j < 3; j++)
		ctr_opt_free(co[j]);
	ctr_opt_free(so);
	ctr_free(cfg);
	if (r == 0)
		logline(w, id, "created");
	return finish(w, r, &err, "container new");
}

static int container_delete(struct worker *w, ctr_container *k, const char *id)
{
	ctr_error *err = NULL;
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	op(w, "container delete");
	int r = ctr_container_delete(k, CTR_OPTS(cleanup), &err);
	ctr_opt_free(cleanup);
	ctr_container_free(k);
	if (r == 0)
		logline(w, id, "deleted");
	return finish(w, r, &err, "container delete");
}

static int task_delete(struct worker *w, ctr_task *t, bool kill)
{
	ctr_error *err = NULL;
	ctr_opt *o = kill ? ctr_with_process_kill() : NULL;
	op(w, "task delete");
	int r = o ? ctr_task_delete(NULL, t, CTR_OPTS(o), &err) : ctr_task_delete(NULL, t, NULL, 0, &err);
	ctr_opt_free(o);
	ctr_task_free(t);
	return finish(w, r, &err, "task delete");
}

/* Deletes the task (killing it after a failure r) and the container;
 * counts a success. */
static int teardown(struct worker *w, ctr_task *t, ctr_container *k, const char *id, int r,
		    unsigned long *count)
{
	op(w, NULL);
	int q = task_delete(w, t, r < 0);
	q = q < 0 ? q : container_delete(w, k, id);
	if (r == 0 && q == 0)
		(*count)++;
	return r < 0 ? r : q;
}

/* A container run to completion: create, start, wait (exit 0), delete. */
static int run_once(struct worker *w, ctr_image *img, const char *id)
{
	const char *args[] = {"/bin/sh", "-c", "echo soak >/tmp/x && test -s /tmp/x", NULL};
	ctr_container *k = NULL;
	int r = container_new(w, &k, img, id, args);
	if (r < 0)
		return r;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	uint32_t st = 99;
	op(w, "new task");
	if ((r = ctr_container_new_task(&t, k, NULL, 0, &err)) < 0) {
		failed(w, r, &err, "new task");
		container_delete(w, k, id);
		return r;
	}
	logline(w, id, "task");
	op(w, "task start");
	if ((r = ctr_task_start(t, &err)) < 0)
		failed(w, r, &err, "task start");
	else if (op(w, "task wait"), (r = ctr_task_wait(&st, NULL, t, 30000, &err)) < 0)
		failed(w, r, &err, "task wait");
	else if (st != 0)
		failed(w, r = -1, &err, "task exit status not 0");
	return teardown(w, t, k, id, r, &w->runs);
}

/* A detached container: start `sleep`, exec into it (exit 7 expected),
 * kill it, wait for it and delete it. */
static int detached_once(struct worker *w, ctr_image *img, const char *id)
{
	const char *args[] = {"/bin/sleep", "120", NULL};
	ctr_container *k = NULL;
	int r = container_new(w, &k, img, id, args);
	if (r < 0)
		return r;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	op(w, "new task (detached)");
	ctr_opt *nul = ctr_with_stdio_null();
	r = ctr_container_new_task(&t, k, CTR_OPTS(nul), &err);
	ctr_opt_free(nul);
	if (r < 0) {
		failed(w, r, &err, "new task (detached)");
		container_delete(w, k, id);
		return r;
	}
	logline(w, id, "task");
	ctr_process *p = NULL;
	uint32_t st = 99;
	op(w, "task start (detached)");
	if ((r = ctr_task_start(t, &err)) < 0) {
		failed(w, r, &err, "task start (detached)");
	} else if (op(w, "exec"), (r = ctr_task_exec(&p, t, "x1",
						       "{\"args\":[\"sh\",\"-c\",\"test -d /proc/1 && exit 7\"],"
						       "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
						       NULL, 0, &err)) < 0) {
		failed(w, r, &err, "exec");
	} else if (op(w, "exec start"), (r = ctr_process_start(p, &err)) < 0) {
		failed(w, r, &err, "exec start");
	} else if (op(w, "exec wait"), (r = ctr_process_wait(&st, NULL, p, 30000, &err)) < 0) {
		failed(w, r, &err, "exec wait");
	} else if (st != 7) {
		failed(w, r = -1, &err, "exec exit status not 7");
	} else if (op(w, "exec delete"), (r = ctr_process_delete(NULL, p, NULL, 0, &err)) < 0) {
		failed(w, r, &err, "exec delete");
	} else {
		w->execs++;
	}
	ctr_process_free(p);
	if (r == 0) {
		op(w, "task kill");
		if ((r = ctr_task_kill(t, SIGKILL, NULL, 0, &err)) < 0)
			failed(w, r, &err, "task kill");
		else if (op(w, "task wait (killed)"), (r = ctr_task_wait(&st, NULL, t, 30000, &err)) < 0)
			failed(w, r, &err, "task wait (killed)");
		else if (st != 128 + SIGKILL)
			failed(w, r = -1, &err, "killed task's status not 137");
	}
	return teardown(w, t, k, id, r, &w->detached);
}

static int gc(struct worker *w)
{
	ctr_error *err = NULL;
	char **removed = NULL;
	op(w, "gc");
	int r = ctr_client_gc(&removed, w->c, NULL, 0, &err);
	if (r < 0)
		return failed(w, r, &err, "gc");
	ctr_strv_free(removed);
	w->gcs++;
	op(w, NULL);
	return 0;
}

static void *work(void *ud)
{
	struct worker *w = ud;
	for (unsigned i = 0; sk_now() < deadline && !w->fails; i++) {
		ctr_image *img = NULL;
		if (pull(w, &img) < 0)
			break;
		char id[48];
		snprintf(id, sizeof(id), "%sp%dt%di%u", prefix, w->proc, w->thread, i);
		unsigned k = (unsigned)rand_r(&w->rnd) % 10;
		int r = k < 4 ? run_once(w, img, id) : k < 8 ? detached_once(w, img, id) : 0;
		ctr_image_free(img);
		if (r < 0)
			break;
		if (k >= 8) {
			/* The image goes, and the collector may take its
			 * content and snapshots while the other workers use
			 * the same blobs under their own names. */
			ctr_error *err = NULL;
			op(w, "image delete");
			if ((r = ctr_image_delete(w->c, w->ref, NULL, 0, &err)) < 0) {
				failed(w, r, &err, "image delete");
				break;
			}
			op(w, NULL);
		}
		if ((k >= 8 || rand_r(&w->rnd) % 3 == 0) && gc(w) < 0)
			break;
	}
	op(w, NULL);
	return NULL;
}

struct watch {
	struct worker *ws;
	int n;
	int stop; /* atomic */
};

/* Fails the process when an operation runs for more than OP_LIMIT s. */
static void *watchdog(void *ud)
{
	struct watch *wd = ud;
	while (!__atomic_load_n(&wd->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < wd->n; i++) {
			struct worker *w = &wd->ws[i];
			pthread_mutex_lock(&w->mu);
			double t0 = w->op_start;
			const char *name = w->op_name;
			pthread_mutex_unlock(&w->mu);
			if (name && t0 > 0 && sk_now() - t0 > OP_LIMIT) {
				fprintf(stderr, "DEADLOCK? p%d t%d: %s has run for %.0f s\n", w->proc, w->thread,
					name, sk_now() - t0);
				test_sh("ps -ef --forest >&2");
				_exit(3);
			}
		}
		usleep(250000);
	}
	return NULL;
}

static int child(int proc, int ready_w, int start_r, int go_r)
{
	ctr_client *c = NULL;
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	ctr_error *err = NULL;
	int r = ctr_client_new(&c, CTR_OPTS(a, b), &err);
	ctr_opt_free(a);
	ctr_opt_free(b);
	if (r < 0) {
		fprintf(stderr, "p%d: client new: %s\n", proc, ctr_error_message(err));
		return 1;
	}
	static struct seen s;
	if (seen_init(&s, c) < 0)
		return 1;
	pthread_t st, wt[N_THREADS], dt;
	pthread_create(&st, NULL, subscriber, &s);
	static struct worker ws[N_THREADS];
	for (int i = 0; i < N_THREADS; i++) {
		struct worker *w = &ws[i];
		w->c = c;
		w->proc = proc;
		w->thread = i;
		w->rnd = seed * 31u + (unsigned)(proc * N_THREADS + i);
		snprintf(w->ref, sizeof(w->ref), "%s/soak/bb:p%dt%d", addr, proc, i);
		pthread_mutex_init(&w->mu, NULL);
		char p[300];
		snprintf(p, sizeof(p), "%s/log.p%dt%d", top, proc, i);
		if (!(w->log = fopen(p, "we")))
			return 1;
	}
	/* Every subscriber exists before any worker starts. */
	char ch = 'r';
	if (write(ready_w, &ch, 1) != 1 || read(start_r, &ch, 1) < 0)
		return 1;
	static struct watch wd;
	wd.ws = ws;
	wd.n = N_THREADS;
	pthread_create(&dt, NULL, watchdog, &wd);
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&wt[i], NULL, work, &ws[i]);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(wt[i], NULL);
	__atomic_store_n(&wd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(dt, NULL);
	ch = 'd';
	if (write(ready_w, &ch, 1) != 1)
		return 1;
	/* Every process's workers are done: drain the journal. */
	while (read(go_r, &ch, 1) > 0)
		;
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(st, NULL);
	char p[300];
	snprintf(p, sizeof(p), "%s/ev.p%d", top, proc);
	seen_write(&s, p);
	int bad = s.fails ? 1 : 0;
	if (s.fails)
		fprintf(stderr, "p%d subscriber: %s\n", proc, s.msg);
	for (int i = 0; i < N_THREADS; i++) {
		struct worker *w = &ws[i];
		fclose(w->log);
		printf("p%d t%d: %lu ops: %lu pulls, %lu runs, %lu detached, %lu execs, %lu gc\n", proc, i, w->ops,
		       w->pulls, w->runs, w->detached, w->execs, w->gcs);
		if (w->fails) {
			fprintf(stderr, "FAIL %s\n", w->msg);
			bad = 1;
		}
	}
	fflush(stdout);
	ctr_subscription_free(s.sub);
	ctr_client_free(c);
	return bad;
}

/* ---- the parent's checks ---- */

struct idset {
	char (*v)[48];
	size_t n, cap;
};

static void ids_add(struct idset *s, const char *id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	snprintf(s->v[s->n++], sizeof(s->v[0]), "%s", id);
}

static bool ids_has(const struct idset *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], id))
			return true;
	return false;
}

/* The order one subscriber saw for every task. */
static int check_events(const char *who, const struct seen *s, const struct idset *tasks)
{
	int bad = 0;
	for (size_t i = 0; i < tasks->n; i++) {
		char got[16];
		size_t n = 0;
		for (size_t j = 0; j < s->n && n < sizeof(got) - 1; j++)
			if (!strcmp(s->cid[j], tasks->v[i]))
				got[n++] = s->topic[j];
		got[n] = 0;
		if (strcmp(got, "csed")) {
			if (bad++ < 5)
				fprintf(stderr, "%s: task %s: events \"%s\", want \"csed\" (create start exit delete)\n",
					who, tasks->v[i], got);
		}
	}
	return bad;
}

static int read_events(struct seen *s, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	s->cid = calloc(MAX_EVENTS, sizeof(*s->cid));
	s->topic = calloc(MAX_EVENTS, 1);
	char id[48], t;
	while (s->n < MAX_EVENTS && fscanf(f, "%47s %c", id, &t) == 2) {
		snprintf(s->cid[s->n], sizeof(s->cid[0]), "%s", id);
		s->topic[s->n++] = t;
	}
	fclose(f);
	return 0;
}

static int check_all(ctr_client *c, struct seen *mine)
{
	int bad = 0;
	struct idset created = {0}, deleted = {0}, tasks = {0};
	for (int p = 0; p < N_PROCS; p++)
		for (int t = 0; t < N_THREADS; t++) {
			char path[300], id[48], what[16];
			snprintf(path, sizeof(path), "%s/log.p%dt%d", top, p, t);
			FILE *f = fopen(path, "re");
			if (!f) {
				fprintf(stderr, "no log %s\n", path);
				bad++;
				continue;
			}
			while (fscanf(f, "%47s %15s", id, what) == 2)
				ids_add(!strcmp(what, "created") ? &created : !strcmp(what, "deleted") ? &deleted : &tasks,
					id);
			fclose(f);
		}
	/* No lost container: listed == created - deleted. */
	ctr_container **ks = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_container_list(&ks, &n, c, NULL, 0, NULL, 0, &err) < 0) {
		fprintf(stderr, "container list: %s\n", ctr_error_message(err));
		ctr_error_free(err);
		return bad + 1;
	}
	struct idset listed = {0};
	for (size_t i = 0; i < n; i++)
		ids_add(&listed, ctr_container_id(ks[i]));
	ctr_container_list_free(ks, n);
	for (size_t i = 0; i < created.n; i++) {
		bool live = !ids_has(&deleted, created.v[i]);
		if (live != ids_has(&listed, created.v[i])) {
			fprintf(stderr, "container %s: %s but %s\n", created.v[i], live ? "not deleted" : "deleted",
				live ? "not listed" : "still listed");
			bad++;
		}
	}
	for (size_t i = 0; i < listed.n; i++)
		if (!ids_has(&created, listed.v[i])) {
			fprintf(stderr, "container %s listed, never created\n", listed.v[i]);
			bad++;
		}
	printf("%zu containers created, %zu deleted, %zu listed, %zu tasks\n", created.n, deleted.n, listed.n,
	       tasks.n);
	if (!tasks.n) {
		fprintf(stderr, "no task ran\n");
		bad++;
	}
	/* No lost event, in any subscriber. */
	bad += check_events("parent's subscriber", mine, &tasks);
	for (int p = 0; p < N_PROCS; p++) {
		char path[300], who[32];
		snprintf(path, sizeof(path), "%s/ev.p%d", top, p);
		snprintf(who, sizeof(who), "p%d's subscriber", p);
		struct seen s = {0};
		if (read_events(&s, path) < 0) {
			fprintf(stderr, "no events file %s\n", path);
			bad++;
			continue;
		}
		bad += check_events(who, &s, &tasks);
		free(s.cid);
		free(s.topic);
	}
	/* The store: blobs re-hash, images have their content. */
	size_t nb = 0, ni = 0;
	bad += sk_check_blobs(root, &nb);
	bad += sk_check_images(c, root, &ni);
	printf("store: %zu blobs re-hash, %zu images complete\n", nb, ni);
	/* Cleanup: what is left goes, then nothing of the run may remain. */
	for (size_t i = 0; i < listed.n; i++) {
		ctr_task *t = NULL;
		if (ctr_task_load(&t, c, listed.v[i], NULL, 0, NULL) == 0) {
			ctr_opt *k = ctr_with_process_kill();
			ctr_task_delete(NULL, t, CTR_OPTS(k), NULL);
			ctr_opt_free(k);
			ctr_task_free(t);
		}
		ctr_container *k = NULL;
		if (ctr_container_load(&k, c, listed.v[i], NULL, 0, NULL) == 0) {
			ctr_opt *cl = ctr_with_snapshot_cleanup();
			ctr_container_delete(k, CTR_OPTS(cl), NULL);
			ctr_opt_free(cl);
			ctr_container_free(k);
		}
	}
	for (int p = 0; p < N_PROCS; p++)
		for (int t = 0; t < N_THREADS; t++) {
			char ref[400];
			snprintf(ref, sizeof(ref), "%s/soak/bb:p%dt%d", addr, p, t);
			ctr_image_delete(c, ref, NULL, 0, NULL);
		}
	char **removed = NULL;
	if (ctr_client_gc(&removed, c, NULL, 0, &err) < 0) {
		fprintf(stderr, "last gc: %s\n", ctr_error_message(err));
		ctr_error_free(err);
		bad++;
	}
	ctr_strv_free(removed);
	ctr_snapshot_info **ss = NULL;
	if (ctr_snapshot_list(&ss, &n, c, "overlayfs", NULL, 0, NULL, 0, NULL) == 0) {
		if (n) {
			fprintf(stderr, "%zu snapshots left after the last gc\n", n);
			bad++;
		}
		ctr_snapshot_info_list_free(ss, n);
	}
	ctr_content_info **cs = NULL;
	if (ctr_content_list(&cs, &n, c, NULL, 0, NULL, 0, NULL) == 0) {
		if (n) {
			fprintf(stderr, "%zu content records left after the last gc\n", n);
			bad++;
		}
		ctr_content_info_list_free(cs, n);
	}
	sk_check_blobs(root, &nb);
	if (nb) {
		fprintf(stderr, "%zu blobs left after the last gc\n", nb);
		bad++;
	}
	bad += sk_check_leftovers(top, prefix);
	free(created.v);
	free(deleted.v);
	free(tasks.v);
	free(listed.v);
	return bad;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 20;
	if (secs <= 0 || secs > 3600) {
		fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
		return 2;
	}
	if (!sk_can_run(&src))
		return 77;
	const char *es = getenv("SOAK_SEED");
	seed = es ? (unsigned)strtoul(es, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("soak: %d processes x %d threads for %d s, seed %u (SOAK_SEED=%u repeats it)\n", N_PROCS, N_THREADS,
	       secs, seed, seed);
	fflush(stdout);
	strcpy(top, "/tmp/test-soak.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(state, sizeof(state), "%s/state", top);
	snprintf(prefix, sizeof(prefix), "sk%d", (int)getpid());
	int rc = 1;
	if (sk_registry_start(src, top, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "registry start failed\n");
		goto out;
	}
	for (int p = 0; p < N_PROCS; p++)
		for (int t = 0; t < N_THREADS; t++) {
			char rt[64];
			snprintf(rt, sizeof(rt), "soak/bb:p%dt%d", p, t);
			if (sk_push_busybox(src, top, rt)) {
				fprintf(stderr, "push %s failed\n", rt);
				goto out;
			}
		}
	int ready[2], start[2], go[2];
	if (pipe2(ready, O_CLOEXEC) || pipe2(start, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		goto out;
	deadline = sk_now() + secs;
	pid_t kids[N_PROCS];
	fflush(stdout);
	for (int p = 0; p < N_PROCS; p++) {
		if ((kids[p] = fork()) == 0) {
			close(ready[0]);
			close(start[1]);
			close(go[1]);
			_exit(child(p, ready[1], start[0], go[0]));
		}
	}
	close(ready[1]);
	close(start[0]);
	close(go[0]);
	ctr_client *c = NULL;
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(state);
	int r = ctr_client_new(&c, CTR_OPTS(a, b), NULL);
	ctr_opt_free(a);
	ctr_opt_free(b);
	static struct seen mine;
	if (r < 0 || seen_init(&mine, c) < 0) {
		for (int p = 0; p < N_PROCS; p++)
			kill(kids[p], SIGKILL);
		goto reap;
	}
	pthread_t st;
	pthread_create(&st, NULL, subscriber, &mine);
	/* Start when all are subscribed, then wait for every worker, with
	 * the whole run's watchdog. */
	int got_r = 0, got_d = 0;
	double limit = sk_now() + secs + OP_LIMIT + 60;
	while (got_d < N_PROCS && sk_now() < limit) {
		struct pollfd pf = {.fd = ready[0], .events = POLLIN};
		if (poll(&pf, 1, 1000) <= 0)
			continue;
		char ch;
		if (read(ready[0], &ch, 1) != 1)
			break; /* every child gone */
		if (ch == 'r' && ++got_r == N_PROCS) {
			close(start[1]);
			start[1] = -1;
		}
		if (ch == 'd')
			got_d++;
	}
	if (got_d < N_PROCS) {
		fprintf(stderr, "DEADLOCK? only %d of %d processes finished within %.0f s\n", got_d, N_PROCS,
			secs + OP_LIMIT + 60);
		test_sh("ps -ef --forest >&2");
		for (int p = 0; p < N_PROCS; p++)
			kill(kids[p], SIGKILL);
	}
	if (start[1] >= 0)
		close(start[1]);
	close(go[1]);
	__atomic_store_n(&mine.stop, 1, __ATOMIC_RELEASE);
reap:;
	int bad = 0;
	for (int p = 0; p < N_PROCS; p++) {
		int ws = 0;
		waitpid(kids[p], &ws, 0);
		if (!WIFEXITED(ws) || WEXITSTATUS(ws)) {
			fprintf(stderr, "process p%d failed (status 0x%x)\n", p, ws);
			bad++;
		}
	}
	if (c) {
		pthread_join(st, NULL);
		if (mine.fails) {
			fprintf(stderr, "parent's subscriber: %s\n", mine.msg);
			bad++;
		}
		bad += check_all(c, &mine);
		ctr_subscription_free(mine.sub);
		ctr_client_free(c);
	}
	rc = bad ? 1 : 0;
	printf("soak: %s (%d problems), seed %u\n", bad ? "FAIL" : "ok", bad, seed);
out:
	sk_registry_stop(src, top);
	if (rc == 0 || !getenv("SOAK_KEEP"))
		sk_remove_top(top);
	else
		fprintf(stderr, "kept %s\n", top);
	return rc;
}
