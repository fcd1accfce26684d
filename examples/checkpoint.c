/* checkpoint: containerd's checkpoint and restore across two roots, in C.
 *
 *   checkpoint [--plain-http] ROOT1 STATE1 ROOT2 STATE2 REF CHECKPOINT_REF
 *
 * In ROOT1: pulls REF, runs a container whose command writes /ckpt-file
 * into its rootfs (when the file is not there yet) and checkpoints it
 * (container.Checkpoint with WithCheckpointImage, WithCheckpointRW,
 * WithCheckpointRuntime) as CHECKPOINT_REF, then pushes that. In ROOT2, a
 * fresh root: pulls REF, fetches CHECKPOINT_REF and restores the container
 * (client.Restore with WithRestoreImage, WithRestoreSpec, WithRestoreRuntime,
 * WithRestoreRW). It prints whether the spec is the same, then runs the
 * restored container: its command finds /ckpt-file and prints it. Then
 * everything it made is deleted. Exits 0 when every call succeeded. */
#include <ctr/ctr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRC "ckpt-src"
#define DST "ckpt-dst"

static int fail(const char *what, ctr_error *err)
{
	fprintf(stderr, "checkpoint: %s: %s\n", what, err ? ctr_error_message(err) : "out of memory");
	ctr_error_free(err);
	return 1;
}

static int open_client(ctr_client **out, const char *root, const char *state, ctr_error **err)
{
	ctr_opt *o_root = ctr_with_root(root), *o_state = ctr_with_state(state);
	int r = ctr_client_new(out, CTR_OPTS(o_root, o_state), err);
	ctr_opt_free(o_root);
	ctr_opt_free(o_state);
	return r;
}

/* client.Pull(ctx, ref, WithPullUnpack) */
static int pull(ctr_client *c, const char *ref, int plain_http, ctr_error **err)
{
	ctr_opt *o[] = {ctr_with_pull_unpack(), plain_http ? ctr_with_plain_http() : NULL};
	ctr_image *img = NULL;
	int r = ctr_image_pull(&img, c, ref, (const ctr_opt *const *)o, plain_http ? 2 : 1, err);
	ctr_opt_free(o[0]);
	ctr_opt_free(o[1]);
	ctr_image_free(img);
	return r;
}

/* task := container.NewTask(cio.WithStdio); Start; Wait; Delete */
static int run(ctr_container *k, uint32_t *status, ctr_error **err)
{
	ctr_task *t = NULL;
	ctr_opt *stdio = ctr_with_stdio_inherit();
	int r = ctr_container_new_task(&t, k, CTR_OPTS(stdio), err);
	ctr_opt_free(stdio);
	if (r < 0)
		return r;
	if ((r = ctr_task_start(t, err)) == 0)
		r = ctr_task_wait(status, NULL, t, -1, err);
	fflush(stdout);
	ctr_opt *kill = ctr_with_process_kill();
	int rd = ctr_task_delete(NULL, t, CTR_OPTS(kill), r < 0 ? NULL : err);
	ctr_opt_free(kill);
	ctr_task_free(t);
	return r < 0 ? r : rd;
}

static void delete_container(ctr_container *k)
{
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	ctr_container_delete(k, CTR_OPTS(cleanup), NULL);
	ctr_opt_free(cleanup);
	ctr_container_free(k);
}

/* The source side: a container that writes into its rootfs, its
 * checkpoint, the push. *spec gets its spec (free). */
static int source(const char *root, const char *state, const char *ref, const char *ckpt_ref, int plain_http,
		  char **spec)
{
	ctr_error *err = NULL;
	ctr_client *c = NULL;
	if (open_client(&c, root, state, &err) < 0)
		return fail("client 1", err);
	if (pull(c, ref, plain_http, &err) < 0) {
		ctr_client_free(c);
		return fail("pull into root 1", err);
	}
	printf("pulled %s into root 1\n", ref);
	ctr_image *img = NULL;
	char *config = NULL;
	ctr_container *k = NULL;
	int r = ctr_image_get(&img, c, ref, NULL, 0, &err);
	if (r == 0)
		r = ctr_image_config(&config, img, &err);
	if (r == 0) {
		static const char *const args[] = {
			"sh", "-c", "if [ -f /ckpt-file ]; then cat /ckpt-file; else echo written-before-checkpoint > /ckpt-file; fi",
			NULL};
		ctr_opt *spec_opts[] = {ctr_with_image_config_args(config, args)};
		ctr_opt *opts[] = {ctr_with_image(img), ctr_with_new_snapshot(SRC "-snapshot", img),
				   ctr_with_new_spec((const ctr_opt *const *)spec_opts, 1)};
		r = ctr_container_new(&k, c, SRC, (const ctr_opt *const *)opts, 3, &err);
		for (size_t i = 0; i < 3; i++)
			ctr_opt_free(opts[i]);
		ctr_opt_free(spec_opts[0]);
	}
	ctr_free(config);
	ctr_image_free(img);
	if (r < 0) {
		ctr_client_free(c);
		return fail("new container", err);
	}
	uint32_t status = 99;
	int failed = 0;
	if ((r = run(k, &status, &err)) < 0 || status != 0) {
		failed = r < 0 ? fail("run source", err) : (fprintf(stderr, "checkpoint: source exited %u\n", status), 1);
	} else {
		printf("source container wrote /ckpt-file\n");
		/* checkpoint, err := container.Checkpoint(ctx, ref, WithCheckpointImage,
		 *	WithCheckpointRW, WithCheckpointRuntime) */
		ctr_opt *co[] = {ctr_with_checkpoint_image(), ctr_with_checkpoint_rw(), ctr_with_checkpoint_runtime()};
		ctr_image *ck = NULL;
		r = ctr_container_checkpoint(&ck, k, ckpt_ref, (const ctr_opt *const *)co, 3, &err);
		for (size_t i = 0; i < 3; i++)
			ctr_opt_free(co[i]);
		if (r < 0) {
			failed = fail("checkpoint", err);
		} else {
			printf("checkpoint %s (%s)\n", ctr_image_name(ck), ctr_image_target_digest(ck));
			ctr_image_free(ck);
			ctr_opt *po = plain_http ? ctr_with_plain_http() : NULL;
			r = ctr_image_push(c, ckpt_ref, NULL, (const ctr_opt *const *)&po, po ? 1 : 0, &err);
			ctr_opt_free(po);
			if (r < 0)
				failed = fail("push", err);
			else
				printf("pushed %s\n", ckpt_ref);
		}
	}
	if (!failed && !(*spec = strdup(ctr_container_spec(k))))
		failed = fail("spec", NULL);
	delete_container(k);
	ctr_client_free(c);
	return failed;
}

/* The other side: a fresh root gets the image and the checkpoint, and
 * restores the container. */
static int restore(const char *root, const char *state, const char *ref, const char *ckpt_ref, int plain_http,
		   const char *spec)
{
	ctr_error *err = NULL;
	ctr_client *c = NULL;
	if (open_client(&c, root, state, &err) < 0)
		return fail("client 2", err);
	if (pull(c, ref, plain_http, &err) < 0) {
		ctr_client_free(c);
		return fail("pull into root 2", err);
	}
	/* A pull keeps one entry of an index (containerd's too): fetch the
	 * checkpoint, which keeps every entry for this platform. */
	ctr_image *ck = NULL;
	ctr_opt *fo = plain_http ? ctr_with_plain_http() : NULL;
	int r = ctr_image_fetch(&ck, c, ckpt_ref, (const ctr_opt *const *)&fo, fo ? 1 : 0, &err);
	ctr_opt_free(fo);
	if (r < 0) {
		ctr_client_free(c);
		return fail("fetch checkpoint", err);
	}
	printf("fetched %s into root 2\n", ckpt_ref);
	/* container, err := client.Restore(ctx, id, checkpoint, WithRestoreImage,
	 *	WithRestoreSpec, WithRestoreRuntime, WithRestoreRW) */
	ctr_opt *ro[] = {ctr_with_restore_image(), ctr_with_restore_spec(), ctr_with_restore_runtime(),
			 ctr_with_restore_rw()};
	ctr_container *k = NULL;
	r = ctr_container_restore(&k, c, DST, ck, (const ctr_opt *const *)ro, 4, &err);
	for (size_t i = 0; i < 4; i++)
		ctr_opt_free(ro[i]);
	ctr_image_free(ck);
	if (r < 0) {
		ctr_client_free(c);
		return fail("restore", err);
	}
	printf("restored %s: spec %s\n", DST, strcmp(ctr_container_spec(k), spec) ? "differs" : "same");
	uint32_t status = 99;
	int failed = 0;
	if ((r = run(k, &status, &err)) < 0)
		failed = fail("run restored", err);
	else
		printf("exit status: %u\n", status);
	delete_container(k);
	ctr_client_free(c);
	return failed;
}

int main(int argc, char **argv)
{
	int a = 1;
	int plain_http = argc > 1 && !strcmp(argv[1], "--plain-http");
	a += plain_http;
	if (argc - a != 6) {
		fprintf(stderr, "usage: checkpoint [--plain-http] ROOT1 STATE1 ROOT2 STATE2 REF CHECKPOINT_REF\n");
		return 2;
	}
	char *spec = NULL;
	int failed = source(argv[a], argv[a + 1], argv[a + 4], argv[a + 5], plain_http, &spec);
	if (!failed)
		failed = restore(argv[a + 2], argv[a + 3], argv[a + 4], argv[a + 5], plain_http, spec);
	free(spec);
	return failed;
}
