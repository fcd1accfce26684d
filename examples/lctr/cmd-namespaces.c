/* lctr namespaces|namespace|ns: ls, create, rm, label (ctr's shapes). */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "k=v,k2=v2" as ctr prints labels (empty when none); caller frees. */
static char *join_labels(const char *const *labels)
{
	size_t n = 1;
	for (size_t i = 0; labels && labels[i]; i++)
		n += strlen(labels[i]) + 1;
	char *s = calloc(1, n);
	for (size_t i = 0; s && labels && labels[i]; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, labels[i]);
	}
	return s;
}

static int ns_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	char **names = NULL;
	if (ctr_namespace_list(&names, cl, (const char *const *)(argv + optind), (size_t)(argc - optind), CTR_NO_OPTS, &err) < 0)
		return lctr_fail("namespaces ls", err);
	if (quiet) {
		for (size_t i = 0; names[i]; i++)
			puts(names[i]);
		ctr_strv_free(names);
		return 0;
	}
	struct lctr_table t;
	lctr_table_init(&t, 2);
	lctr_table_add(&t, "NAME");
	lctr_table_add(&t, "LABELS");
	for (size_t i = 0; names[i]; i++) {
		char **labels = NULL;
		if (ctr_namespace_labels(&labels, cl, names[i], &err) < 0) {
			/* Deleted since it was listed: skip it. */
			ctr_error_free(err);
			err = NULL;
			continue;
		}
		char *joined = join_labels((const char *const *)labels);
		lctr_table_add(&t, names[i]);
		lctr_table_add(&t, joined);
		free(joined);
		ctr_strv_free(labels);
	}
	lctr_table_print(&t, stdout);
	ctr_strv_free(names);
	return 0;
}

static int ns_create(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("namespaces create: usage: create NAME [KEY=VALUE...]");
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	if (ctr_namespace_create(cl, argv[1], (const char *const *)(argv + 2), CTR_NO_OPTS, &err) < 0)
		return lctr_fail("namespaces create", err);
	return 0;
}

static int ns_rm(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("namespaces rm: usage: rm NAME...");
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		ctr_error *err = NULL;
		if (ctr_namespace_delete(cl, argv[i], CTR_NO_OPTS, &err) < 0) {
			char what[128];
			snprintf(what, sizeof(what), "namespaces rm %.80s", argv[i]);
			rc = lctr_fail(what, err);
			continue;
		}
		puts(argv[i]);
	}
	return rc;
}

static int ns_label(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("namespaces label: usage: label NAME [KEY=VALUE...]");
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	if (ctr_namespace_set_labels(cl, argv[1], (const char *const *)(argv + 2), &err) < 0)
		return lctr_fail("namespaces label", err);
	return 0;
}

static const struct lctr_cmd namespaces_cmds[] = {
	{"ls", "list", ns_ls, "list namespaces", "[FILTER...]", lctr_ls_flagdefs},
	{"create", "c", ns_create, "create a namespace", "NAME [KEY=VALUE...]"},
	{"rm", "remove", ns_rm, "remove empty namespaces", "NAME..."},
	{"label", NULL, ns_label, "set (KEY=VALUE) or clear (KEY=) labels", "NAME [KEY=VALUE...]"},
};

const struct lctr_group lctr_namespaces_group = {namespaces_cmds, sizeof(namespaces_cmds) / sizeof(namespaces_cmds[0]), NULL};

int lctr_cmd_namespaces(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "namespaces", namespaces_cmds, lctr_namespaces_group.n, argc, argv);
}
