/* lctr plugins|plugin ls [-q] [-d]: ctr plugins ls, from ctr_plugin_list. */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct lctr_flag ls_flags[] = {
	{'q', "quiet", no_argument, 'q', NULL, "print only the plugin ids"},
	{'d', "detailed", no_argument, 'd', NULL, "print detailed information about each plugin"},
	{0},
};

static void platforms_of(const ctr_plugin *p, char *buf, size_t len)
{
	const char *const *v = ctr_plugin_platforms(p);
	buf[0] = 0;
	for (size_t i = 0; v && v[i]; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", v[i]);
}

static int plugins_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet = false, detailed = false;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'q')
			quiet = true;
		else if (ch == 'd')
			detailed = true;
		else
			return 2;
	}
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_plugin **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_plugin_list(&v, &n, cl, NULL, 0, &err) < 0)
		return lctr_fail("plugins ls", err);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(ctr_plugin_id(v[i]));
		ctr_plugin_list_free(v, n);
		return 0;
	}
	char *text = NULL;
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	if (!m) {
		ctr_plugin_list_free(v, n);
		return lctr_failf("plugins ls: out of memory");
	}
	char plat[256];
	for (size_t i = 0; i < n; i++) {
		const ctr_plugin *p = v[i];
		platforms_of(p, plat, sizeof(plat));
		bool ok = ctr_plugin_status(p) == CTR_PLUGIN_OK;
		if (!detailed) {
			if (i == 0)
				fputs("TYPE\tID\tPLATFORMS\tSTATUS\t\n", m);
			fprintf(m, "%s\t%s\t%s\t%s\t\n", ctr_plugin_type(p), ctr_plugin_id(p), *plat ? plat : "-",
				ok ? "ok" : "skip");
			continue;
		}
		/* ctr's Fprintln: operands joined by spaces */
		if (i)
			fputs("\t\t\t\n", m);
		fprintf(m, "Type:\t %s\n", ctr_plugin_type(p));
		fprintf(m, "ID:\t %s\n", ctr_plugin_id(p));
		if (*plat)
			fprintf(m, "Platforms:\t %s\n", plat);
		if (ctr_plugin_version(p))
			fprintf(m, "Exports:\t\n\t version \t %s\n", ctr_plugin_version(p));
		if (!ok)
			fprintf(m, "Error:\t\n\t Code:\t Unknown\n\t Message:\t %s: skip plugin\n", ctr_plugin_reason(p));
	}
	fclose(m);
	lctr_tabwrite(stdout, text ? text : "", 4, 4);
	free(text);
	ctr_plugin_list_free(v, n);
	return 0;
}

static const struct lctr_cmd plugins_cmds[] = {
	{"ls", "list", plugins_ls, "list the plugins: snapshotters, runtimes, differs, criu", "", ls_flags},
};

const struct lctr_group lctr_plugins_group = {plugins_cmds, sizeof(plugins_cmds) / sizeof(plugins_cmds[0]), NULL};

int lctr_cmd_plugins(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "plugins", plugins_cmds, lctr_plugins_group.n, argc, argv);
}
