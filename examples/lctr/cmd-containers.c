/* lctr containers|container|c: create, ls, rm, info, label (ctr's shapes);
 * checkpoint and restore are in cmd-checkpoint.c. */
#include "lctr.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int containers_create(struct lctr *g, int argc, char **argv)
{
	struct lctr_cflags f = {0};
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		int k = lctr_cflags_opt(&f, c, optarg);
		if (k < 0) {
			lctr_cflags_free(&f);
			return k == -2 ? 2 : 1;
		}
	}
	/* with --config, ID is the only argument (the alt usage) */
	const char *ref = f.config ? NULL : argv[optind], *id = argv[optind + (f.config ? 0 : 1)];
	char what[160];
	snprintf(what, sizeof(what), "containers create %.100s", id);
	if (lctr_cflags_check(&f, what)) {
		lctr_cflags_free(&f);
		return 2;
	}
	ctr_container *k = NULL;
	int rc = lctr_container_create(&k, g, &f, ref, id, f.config ? NULL : argv + optind + 2, what);
	ctr_container_free(k);
	lctr_cflags_free(&f);
	return rc;
}

static int containers_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	ctr_container **v = NULL;
	size_t n = 0;
	if (ctr_container_list(&v, &n, cl, (const char *const *)(argv + optind), (size_t)(argc - optind),
				       NULL, 0, &err) < 0)
		return lctr_fail("containers ls", err);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(ctr_container_id(v[i]));
		ctr_container_list_free(v, n);
		return 0;
	}
	struct lctr_table t;
	lctr_table_init(&t, 3);
	lctr_table_add(&t, "CONTAINER");
	lctr_table_add(&t, "IMAGE");
	lctr_table_add(&t, "RUNTIME");
	for (size_t i = 0; i < n; i++) {
		const char *img = ctr_container_image_name(v[i]);
		lctr_table_add(&t, ctr_container_id(v[i]));
		lctr_table_add(&t, img && *img ? img : "-");
		lctr_table_add(&t, ctr_container_runtime(v[i]));
	}
	lctr_table_print(&t, stdout);
	ctr_container_list_free(v, n);
	return 0;
}

static int load(ctr_container **k, struct lctr *g, const char *id, const char *what)
{
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	if (ctr_container_load(k, cl, id, NULL, 0, &err) < 0)
		return lctr_fail(what, err);
	return 0;
}

static const char *status_name(ctr_status s)
{
	switch (s) {
	case CTR_TASK_CREATED: return "created";
	case CTR_TASK_RUNNING: return "running";
	case CTR_TASK_PAUSED: return "paused";
	case CTR_TASK_PAUSING: return "pausing";
	case CTR_TASK_STOPPED: return "stopped";
	default: return "unknown";
	}
}

/* ctr's deleteContainer: a stopped or created task goes first; a running
 * one is an error. */
static int delete_one(struct lctr *g, const char *id, bool keep_snapshot)
{
	char what[160];
	snprintf(what, sizeof(what), "containers rm %.100s", id);
	ctr_container *k = NULL;
	if (load(&k, g, id, what))
		return 1;
	ctr_error *err = NULL;
	ctr_task *t = NULL;
	int rc = 0;
	if (ctr_container_task(&t, k, NULL) == 0) {
		ctr_status st = CTR_TASK_UNKNOWN;
		if (ctr_task_status(&st, NULL, t, &err) < 0)
			rc = lctr_fail(what, err);
		else if (st != CTR_TASK_STOPPED && st != CTR_TASK_CREATED)
			rc = lctr_failf("%s: cannot delete a non stopped container: %s (kill it first, or lctr tasks rm "
					"--force)",
					what, status_name(st));
		else {
			/* A created task never ran: deleting it needs the kill. */
			ctr_opt *pk = st == CTR_TASK_CREATED ? ctr_with_process_kill() : NULL;
			const ctr_opt *o[1] = {pk};
			if (ctr_task_delete(NULL, t, o, st == CTR_TASK_CREATED ? 1 : 0, &err) < 0)
				rc = lctr_fail(what, err);
			else
				lctr_io_dir_remove(lctr_client(g), id);
			ctr_opt_free(pk);
		}
		ctr_task_free(t);
	}
	if (!rc) {
		ctr_opt *o = keep_snapshot ? NULL : ctr_with_snapshot_cleanup();
		if (ctr_container_delete(k, (const ctr_opt *const *)&o, o ? 1 : 0, &err) < 0)
			rc = lctr_fail(what, err);
		ctr_opt_free(o);
	}
	ctr_container_free(k);
	return rc;
}

static int containers_rm(struct lctr *g, int argc, char **argv)
{
	bool keep = false;
	optind = 0;
	while (lctr_getopt(argc, argv) == 'k')
		keep = true;
	int rc = 0;
	for (int i = optind; i < argc; i++)
		if (delete_one(g, argv[i], keep))
			rc = 1;
	return rc;
}

static void print_json(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	char *s = j ? json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
	puts(s ? s : text);
	free(s);
	json_decref(j);
}

static int containers_info(struct lctr *g, int argc, char **argv)
{
	bool spec = false;
	optind = 0;
	while (lctr_getopt(argc, argv) == 's')
		spec = true;
	char what[160];
	snprintf(what, sizeof(what), "containers info %.100s", argv[optind]);
	ctr_container *k = NULL;
	if (load(&k, g, argv[optind], what))
		return 1;
	int rc = 0;
	if (spec) {
		print_json(ctr_container_spec(k));
	} else {
		char *j = NULL;
		ctr_error *err = NULL;
		if (ctr_container_info(&j, k, &err) < 0)
			rc = lctr_fail(what, err);
		else
			print_json(j);
		ctr_free(j);
	}
	ctr_container_free(k);
	return rc;
}

static int containers_label(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("containers label: usage: label ID [K=V]...");
	char what[160];
	snprintf(what, sizeof(what), "containers label %.100s", argv[1]);
	ctr_container *k = NULL;
	if (load(&k, g, argv[1], what))
		return 1;
	int rc = 0;
	if (argc > 2) {
		ctr_error *err = NULL;
		char **labels = lctr_label_args(argv + 2, argc - 2);
		if (!labels)
			rc = lctr_failf("%s: out of memory", what);
		else if (ctr_container_set_labels(k, (const char *const *)labels, &err) < 0)
			rc = lctr_fail(what, err);
		lctr_strv_free(labels);
	}
	if (!rc) {
		lctr_print_labels(stdout, ctr_container_labels(k));
		putchar('\n');
	}
	ctr_container_free(k);
	return rc;
}

static const struct lctr_flag rm_flags[] = {
	{0, "keep-snapshot", no_argument, 'k', NULL, "keep the container's snapshot"},
	{0},
};

static const struct lctr_flag info_flags[] = {
	{0, "spec", no_argument, 's', NULL, "print only the OCI spec"},
	{0},
};

static const struct lctr_cmd containers_cmds[] = {
	{"create", NULL, containers_create, "create a container (run's flags, minus --rm -d)",
	 "IMAGE|ROOTFS ID [COMMAND [ARG...]]", lctr_cflags_flags, NULL, 2, .alt_flag = LCTR_O_CONFIG,
	 .alt_usage = "ID"},
	{"ls", "list", containers_ls, "list containers", "[FILTER...]", lctr_ls_flagdefs},
	{"rm", "delete del remove", containers_rm, "delete containers", "ID...", rm_flags},
	{"info", NULL, containers_info, "print a container as JSON", "ID", info_flags},
	{"label", NULL, containers_label, "set and print labels", "ID [K=V]..."},
	{"checkpoint", NULL, lctr_containers_checkpoint, "checkpoint a container as an image", "ID REF",
	 lctr_containers_checkpoint_flags},
	{"restore", NULL, lctr_containers_restore, "restore a container from a checkpoint and run it", "ID REF",
	 lctr_containers_restore_flags},
};

const struct lctr_group lctr_containers_group = {containers_cmds, sizeof(containers_cmds) / sizeof(containers_cmds[0]), NULL};

int lctr_cmd_containers(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "containers", containers_cmds, lctr_containers_group.n, argc, argv);
}
