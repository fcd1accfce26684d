/* readonly-views: ten containers on read-only views of one image, as
 * containerd's WithNewSnapshotView does for many short-lived readers.
 *
 *   readonly-views [--plain-http] ROOT STATE REF
 *
 * Pulls and unpacks REF once, then creates ten containers, each on its own
 * view of the image's top layer (no copy, no writable layer), and runs them
 * all at once. Each one lists /bin/busybox from the image and tries to
 * create a file in /, which must fail with EROFS ("Read-only file system").
 * Each container's output goes to STATE/<id>.log; the program prints one
 * line per container and deletes them all. Exits 0 when all ten saw the
 * image and could not write, 1 otherwise. */
#include <ctr/ctr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 10

static const char *const script[] = {
	"/bin/sh", "-c", "ls /bin/busybox && touch /written", NULL,
};

/* runc cannot create a mount point on a read-only rootfs: drop the default
 * spec's tmpfs on /run, which small images such as busybox lack. */
static const char *const no_run[] = {"/run", NULL};

static void report(const char *what, ctr_error *err)
{
	fprintf(stderr, "readonly-views: %s: %s\n", what, err ? ctr_error_message(err) : "out of memory");
	ctr_error_free(err);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = calloc(1, 4096);
	if (s)
		(void)!fread(s, 1, 4095, f);
	fclose(f);
	return s;
}

/* Creates container `id` on a new read-only view of image. */
static ctr_container *new_view_container(ctr_client *client, ctr_image *image, const char *config,
					 const char *id)
{
	ctr_error *err = NULL;
	ctr_container *k = NULL;
	char key[64];
	snprintf(key, sizeof(key), "%s-view", id);
	ctr_opt *spec_opts[] = {ctr_with_image_config_args(config, script), ctr_with_mounts_removed(no_run)};
	ctr_opt *opts[] = {ctr_with_image(image), ctr_with_new_snapshot_view(key, image),
			   ctr_with_new_spec((const ctr_opt *const *)spec_opts, 2)};
	if (ctr_container_new(&k, client, id, (const ctr_opt *const *)opts, 3, &err) < 0)
		report(id, err);
	for (size_t i = 0; i < 3; i++)
		ctr_opt_free(opts[i]);
	ctr_opt_free(spec_opts[0]);
	ctr_opt_free(spec_opts[1]);
	return k;
}

int main(int argc, char **argv)
{
	int a = 1;
	int plain_http = argc > 1 && !strcmp(argv[1], "--plain-http");
	a += plain_http;
	if (argc - a != 3) {
		fprintf(stderr, "usage: readonly-views [--plain-http] ROOT STATE REF\n");
		return 2;
	}
	const char *root = argv[a], *state = argv[a + 1], *ref = argv[a + 2];
	ctr_error *err = NULL;

	ctr_client *client = NULL;
	ctr_opt *o_root = ctr_with_root(root), *o_state = ctr_with_state(state);
	int r = ctr_client_new(&client, CTR_OPTS(o_root, o_state), &err);
	ctr_opt_free(o_root);
	ctr_opt_free(o_state);
	if (r < 0) {
		report("client", err);
		return 1;
	}

	ctr_image *image = NULL;
	char *config = NULL;
	ctr_opt *pull_opts[] = {ctr_with_pull_unpack(), plain_http ? ctr_with_plain_http() : NULL};
	r = ctr_image_pull(&image, client, ref, (const ctr_opt *const *)pull_opts, plain_http ? 2 : 1, &err);
	ctr_opt_free(pull_opts[0]);
	ctr_opt_free(pull_opts[1]);
	if (r < 0 || ctr_image_config(&config, image, &err) < 0) {
		report(r < 0 ? "pull" : "image config", err);
		ctr_image_free(image);
		ctr_client_free(client);
		return 1;
	}

	/* Create and start all ten before waiting for any: the views are used
	 * at the same time. */
	ctr_container *k[N] = {0};
	ctr_task *t[N] = {0};
	char logs[N][4096];
	int failed = 0;
	for (int i = 0; i < N; i++) {
		char id[32];
		snprintf(id, sizeof(id), "view%d", i);
		snprintf(logs[i], sizeof(logs[i]), "%s/%s.log", state, id);
		char uri[4200];
		snprintf(uri, sizeof(uri), "file://%s", logs[i]);
		if (!(k[i] = new_view_container(client, image, config, id))) {
			failed = 1;
			break;
		}
		ctr_opt *io = ctr_with_log_uri(uri);
		r = ctr_container_new_task(&t[i], k[i], CTR_OPTS(io), &err);
		ctr_opt_free(io);
		if (r < 0 || ctr_task_start(t[i], &err) < 0) {
			report(id, err);
			err = NULL;
			failed = 1;
			break;
		}
	}

	for (int i = 0; i < N && k[i]; i++) {
		uint32_t status = 0;
		if (t[i] && !failed && ctr_task_wait(&status, NULL, t[i], 30000, &err) == 0) {
			char *out = read_file(logs[i]);
			int saw = out && strstr(out, "/bin/busybox") != NULL;
			int erofs = out && strstr(out, "Read-only file system") != NULL;
			printf("%s: exit status %u, sees the image: %s, write: %s\n", ctr_container_id(k[i]),
			       status, saw ? "yes" : "no", erofs ? "EROFS" : "not refused");
			if (!saw || !erofs || status == 0)
				failed = 1;
			free(out);
		} else if (t[i] && !failed) {
			report("wait", err);
			err = NULL;
			failed = 1;
		}
		if (t[i]) {
			ctr_opt *kill = ctr_with_process_kill();
			if (ctr_task_delete(NULL, t[i], CTR_OPTS(kill), &err) < 0) {
				report("task delete", err);
				err = NULL;
				failed = 1;
			}
			ctr_opt_free(kill);
			ctr_task_free(t[i]);
		}
		ctr_opt *cleanup = ctr_with_snapshot_cleanup();
		if (ctr_container_delete(k[i], CTR_OPTS(cleanup), &err) < 0) {
			report("container delete", err);
			err = NULL;
			failed = 1;
		}
		ctr_opt_free(cleanup);
		ctr_container_free(k[i]);
		remove(logs[i]);
	}
	printf("%s\n", failed ? "FAILED" : "all 10 views are read-only");
	ctr_free(config);
	ctr_image_free(image);
	ctr_client_free(client);
	return failed;
}
