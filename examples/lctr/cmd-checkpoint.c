/* lctr containers checkpoint|restore and tasks checkpoint, with ctr's
 * flags and behaviour: a running task is paused while its container is
 * checkpointed, and a restored container's task runs in the foreground. */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ctr containers checkpoint [--rw] [--image] [--task] CONTAINER REF:
 * WithCheckpointRuntime always, the others as asked. */
int lctr_containers_checkpoint(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	lctr_opts_add(&o, ctr_with_checkpoint_runtime());
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		if (c == 'r')
			lctr_opts_add(&o, ctr_with_checkpoint_rw());
		else if (c == 'i')
			lctr_opts_add(&o, ctr_with_checkpoint_image());
		else if (c == 't')
			lctr_opts_add(&o, ctr_with_checkpoint_task());
	}
	const char *id = argv[optind], *ref = argv[optind + 1];
	char what[300];
	snprintf(what, sizeof(what), "containers checkpoint %.100s %.150s", id, ref);
	ctr_client *cl = lctr_client(g);
	if (!cl) {
		lctr_opts_free(&o);
		return 1;
	}
	ctr_error *err = NULL;
	ctr_container *k = NULL;
	if (ctr_container_load(&k, cl, id, NULL, 0, &err) < 0) {
		lctr_opts_free(&o);
		return lctr_fail(what, err);
	}
	/* ctr pauses a running task so the read-write layer holds still. */
	ctr_task *t = NULL;
	ctr_status st = CTR_TASK_UNKNOWN;
	bool paused = false;
	int rc = 0;
	if (ctr_container_task(&t, k, NULL) == 0 && ctr_task_status(&st, NULL, t, NULL) == 0 &&
	    st == CTR_TASK_RUNNING) {
		if (ctr_task_pause(t, &err) < 0)
			rc = lctr_fail(what, err);
		else
			paused = true;
	}
	ctr_image *img = NULL;
	if (!rc && ctr_container_checkpoint(&img, k, ref, LCTR_OPTS(&o), &err) < 0)
		rc = lctr_fail(what, err);
	if (paused && ctr_task_resume(t, &err) < 0 && !rc)
		rc = lctr_fail(what, err);
	if (!rc)
		printf("%s\n", ctr_image_name(img));
	ctr_image_free(img);
	ctr_task_free(t);
	ctr_container_free(k);
	lctr_opts_free(&o);
	return rc;
}

/* ctr containers restore [--rw] CONTAINER REF: the container with the
 * checkpoint's image, spec and runtime (and read-write layer), then its
 * task in the foreground; exits with the task's status. The checkpoint
 * must be in this root (lctr content fetch, or lctr images pull
 * --all-platforms). */
int lctr_containers_restore(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	lctr_opts_add(&o, ctr_with_restore_image());
	lctr_opts_add(&o, ctr_with_restore_spec());
	lctr_opts_add(&o, ctr_with_restore_runtime());
	optind = 0;
	while (lctr_getopt(argc, argv) == 'r')
		lctr_opts_add(&o, ctr_with_restore_rw());
	const char *id = argv[optind], *ref = argv[optind + 1];
	char what[300];
	snprintf(what, sizeof(what), "containers restore %.100s %.150s", id, ref);
	ctr_client *cl = lctr_client(g);
	if (!cl) {
		lctr_opts_free(&o);
		return 1;
	}
	ctr_error *err = NULL;
	ctr_image *ck = NULL;
	if (ctr_image_get(&ck, cl, ref, NULL, 0, &err) < 0) {
		lctr_opts_free(&o);
		return lctr_fail_hint(what, err, "fetch it first: lctr content fetch REF");
	}
	ctr_container *k = NULL;
	int r = ctr_container_restore(&k, cl, id, ck, LCTR_OPTS(&o), &err);
	ctr_image_free(ck);
	lctr_opts_free(&o);
	if (r < 0)
		return lctr_fail(what, err);
	struct lctr_cflags f = {0};
	int rc = lctr_task_run(k, g, &f, false, what);
	ctr_container_free(k);
	return rc;
}

/* ctr tasks checkpoint [--exit] [--image-path DIR] [--work-path DIR] ID:
 * prints the checkpoint image's name (nothing with --image-path). */
int lctr_tasks_checkpoint(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		if (c == 'x')
			lctr_opts_add(&o, ctr_with_checkpoint_task_exit());
		else if (c == 'i')
			lctr_opts_add(&o, ctr_with_checkpoint_image_path(optarg));
		else if (c == 'w')
			lctr_opts_add(&o, ctr_with_checkpoint_work_path(optarg));
	}
	const char *id = argv[optind];
	char what[160];
	snprintf(what, sizeof(what), "tasks checkpoint %.100s", id);
	ctr_client *cl = lctr_client(g);
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	int rc = 0;
	if (!cl)
		rc = 1;
	else if (ctr_task_load(&t, cl, id, NULL, 0, &err) < 0)
		rc = lctr_fail(what, err);
	ctr_image *img = NULL;
	if (!rc && ctr_task_checkpoint(&img, t, LCTR_OPTS(&o), &err) < 0)
		rc = lctr_fail(what, err);
	if (!rc && img)
		printf("%s\n", ctr_image_name(img));
	ctr_image_free(img);
	ctr_task_free(t);
	lctr_opts_free(&o);
	return rc;
}

const struct lctr_flag lctr_containers_checkpoint_flags[] = {
	{0, "rw", no_argument, 'r', NULL, "include the read-write layer"},
	{0, "image", no_argument, 'i', NULL, "include the image"},
	{0, "task", no_argument, 't', NULL, "include the running task (needs CRIU)"},
	{0},
};

const struct lctr_flag lctr_containers_restore_flags[] = {
	{0, "rw", no_argument, 'r', NULL, "restore the read-write layer"},
	{0},
};

const struct lctr_flag lctr_tasks_checkpoint_flags[] = {
	{0, "exit", no_argument, 'x', NULL, "stop the task after the checkpoint"},
	{0, "image-path", required_argument, 'i', "DIR", "leave CRIU's files in DIR (no image)"},
	{0, "work-path", required_argument, 'w', "DIR", "CRIU's work directory (its logs)"},
	{0},
};
