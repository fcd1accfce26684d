/* pull-run: containerd's client "getting started" in C.
 *
 *   pull-run [--plain-http] ROOT STATE REF [COMMAND [ARG...]]
 *
 * Pulls REF and unpacks it, creates a container on a new snapshot of the
 * image with a spec built from the image's config (COMMAND replaces the
 * image's cmd), runs its task on this program's stdio, waits, prints
 * "exit status: N" and deletes the task, the container and its snapshot.
 * Exits 0 when every call succeeded, 1 otherwise. */
#include <ctr/ctr.h>

#include <stdio.h>
#include <string.h>

#define ID "pull-run"

static int fail(const char *what, ctr_error *err)
{
	fprintf(stderr, "pull-run: %s: %s\n", what, err ? ctr_error_message(err) : "out of memory");
	ctr_error_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	int a = 1;
	int plain_http = argc > 1 && !strcmp(argv[1], "--plain-http");
	a += plain_http;
	if (argc - a < 3) {
		fprintf(stderr, "usage: pull-run [--plain-http] ROOT STATE REF [COMMAND [ARG...]]\n");
		return 2;
	}
	const char *root = argv[a], *state = argv[a + 1], *ref = argv[a + 2];
	/* argv is NULL-terminated, so argv + a + 3 is a NULL-terminated array. */
	const char *const *args = (const char *const *)argv + a + 3;
	ctr_error *err = NULL;

	/* client, err := containerd.New(...) */
	ctr_client *client = NULL;
	ctr_opt *o_root = ctr_with_root(root), *o_state = ctr_with_state(state);
	int r = ctr_client_new(&client, CTR_OPTS(o_root, o_state), &err);
	ctr_opt_free(o_root);
	ctr_opt_free(o_state);
	if (r < 0)
		return fail("client", err);

	/* image, err := client.Pull(ctx, ref, containerd.WithPullUnpack) */
	ctr_image *image = NULL;
	ctr_opt *pull_opts[] = {ctr_with_pull_unpack(), plain_http ? ctr_with_plain_http() : NULL};
	r = ctr_image_pull(&image, client, ref, (const ctr_opt *const *)pull_opts, plain_http ? 2 : 1, &err);
	ctr_opt_free(pull_opts[0]);
	ctr_opt_free(pull_opts[1]);
	if (r < 0) {
		ctr_client_free(client);
		return fail("pull", err);
	}
	printf("pulled %s (%s)\n", ctr_image_name(image), ctr_image_target_digest(image));

	/* container, err := client.NewContainer(ctx, id,
	 *	containerd.WithImage(image),
	 *	containerd.WithNewSnapshot(id+"-snapshot", image),
	 *	containerd.WithNewSpec(oci.WithImageConfigArgs(image, args))) */
	char *config = NULL;
	ctr_container *container = NULL;
	r = ctr_image_config(&config, image, &err);
	if (r == 0) {
		ctr_opt *spec_opts[] = {ctr_with_image_config_args(config, args)};
		ctr_opt *opts[] = {ctr_with_image(image), ctr_with_new_snapshot(ID "-snapshot", image),
				   ctr_with_new_spec((const ctr_opt *const *)spec_opts, 1)};
		r = ctr_container_new(&container, client, ID, (const ctr_opt *const *)opts, 3, &err);
		/* The container option borrows the spec options: free it first. */
		for (size_t i = 0; i < 3; i++)
			ctr_opt_free(opts[i]);
		ctr_opt_free(spec_opts[0]);
		ctr_free(config);
	}
	ctr_image_free(image);
	if (r < 0) {
		ctr_client_free(client);
		return fail("new container", err);
	}

	/* task, err := container.NewTask(ctx, cio.NewCreator(cio.WithStdio)) */
	int failed = 0;
	ctr_task *task = NULL;
	ctr_opt *stdio = ctr_with_stdio_inherit();
	r = ctr_container_new_task(&task, container, CTR_OPTS(stdio), &err);
	ctr_opt_free(stdio);
	if (r < 0) {
		failed = fail("new task", err);
	} else {
		/* task.Start(ctx); status := <-task.Wait(ctx) */
		uint32_t status = 0;
		if ((r = ctr_task_start(task, &err)) < 0)
			failed = fail("start", err);
		else if ((r = ctr_task_wait(&status, NULL, task, -1, &err)) < 0)
			failed = fail("wait", err);
		else
			printf("exit status: %u\n", status);
		fflush(stdout);
		/* task.Delete(ctx, containerd.WithProcessKill): also when start
		 * or wait failed, so nothing keeps running. */
		ctr_opt *kill = ctr_with_process_kill();
		if (ctr_task_delete(NULL, task, CTR_OPTS(kill), &err) < 0)
			failed = fail("task delete", err);
		ctr_opt_free(kill);
		ctr_task_free(task);
	}

	/* container.Delete(ctx, containerd.WithSnapshotCleanup) */
	ctr_opt *cleanup = ctr_with_snapshot_cleanup();
	if (ctr_container_delete(container, CTR_OPTS(cleanup), &err) < 0)
		failed = fail("container delete", err);
	ctr_opt_free(cleanup);
	ctr_container_free(container);
	ctr_client_free(client);
	return failed;
}
