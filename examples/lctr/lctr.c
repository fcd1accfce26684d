/* lctr: containerd's ctr without a daemon, built on libctr's public API. */
#include "lctr.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ctr_client *lctr_client(struct lctr *g)
{
	if (g->client)
		return g->client;
	struct lctr_opts o = {0};
	if (g->root)
		lctr_opts_add(&o, ctr_with_root(g->root));
	if (g->state)
		lctr_opts_add(&o, ctr_with_state(g->state));
	if (g->ns)
		lctr_opts_add(&o, ctr_with_namespace(g->ns));
	ctr_error *err = NULL;
	int r = ctr_client_new(&g->client, LCTR_OPTS(&o), &err);
	lctr_opts_free(&o);
	if (r < 0) {
		lctr_fail("open client", err);
		return NULL;
	}
	return g->client;
}

int lctr_fail(const char *what, ctr_error *err)
{
	fprintf(stderr, "lctr: %s: %s\n", what, err ? ctr_error_message(err) : "failed");
	ctr_error_free(err);
	return 1;
}

int lctr_failf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("lctr: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

int lctr_ls_flags(int argc, char **argv, bool *quiet)
{
	static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'}, {0}};
	int ch;
	*quiet = false;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		if (ch != 'q')
			return -1;
		*quiet = true;
	}
	return optind;
}

void lctr_opts_add(struct lctr_opts *o, ctr_opt *opt)
{
	if (o->n < sizeof(o->v) / sizeof(o->v[0]))
		o->v[o->n++] = opt; /* a NULL entry makes the call fail with a message */
	else
		ctr_opt_free(opt);
}

void lctr_opts_free(struct lctr_opts *o)
{
	for (size_t i = 0; i < o->n; i++)
		ctr_opt_free(o->v[i]);
	o->n = 0;
}

static bool name_matches(const struct lctr_cmd *c, const char *name)
{
	if (!strcmp(c->name, name))
		return true;
	if (!c->aliases)
		return false;
	size_t n = strlen(name);
	for (const char *a = c->aliases; *a;) {
		const char *sp = strchr(a, ' ');
		size_t len = sp ? (size_t)(sp - a) : strlen(a);
		if (len == n && !strncmp(a, name, n))
			return true;
		a += len;
		while (*a == ' ')
			a++;
	}
	return false;
}

static void print_cmds(FILE *f, const char *group, const struct lctr_cmd *cmds, size_t n)
{
	fprintf(f, "usage: lctr [global flags] %s%sCOMMAND [ARGS...]\n\ncommands:\n", group ? group : "",
		group ? " " : "");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s%s%s%s\n", cmds[i].name, cmds[i].help,
			cmds[i].aliases ? " (aliases: " : "", cmds[i].aliases ? cmds[i].aliases : "",
			cmds[i].aliases ? ")" : "");
}

int lctr_dispatch(struct lctr *g, const char *group, const struct lctr_cmd *cmds, size_t n,
		  int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_cmds(argc < 2 ? stderr : stdout, group, cmds, n);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (name_matches(&cmds[i], argv[1]))
			return cmds[i].fn(g, argc - 1, argv + 1);
	lctr_failf("%s%sunknown command \"%s\"", group ? group : "", group ? ": " : "", argv[1]);
	return 2;
}

static const struct lctr_cmd top_cmds[] = {
	{"version", NULL, lctr_cmd_version, "print the library version"},
	{"info", NULL, lctr_cmd_info, "print runtime, snapshotters, root and state"},
	{"namespaces", "namespace ns", lctr_cmd_namespaces, "manage namespaces"},
	{"leases", "lease", lctr_cmd_leases, "manage leases"},
	{"content", NULL, lctr_cmd_content, "manage content"},
	{"images", "image i", lctr_cmd_images, "manage images: pull, push, ls, rm, tag, check, usage, mount, unmount, import, export"},
	{"snapshots", "snapshot", lctr_cmd_snapshots, "manage snapshots"},
	{"gc", NULL, lctr_cmd_gc, "collect garbage and print what was removed"},
	{"events", NULL, lctr_cmd_events, "stream events from every process using the same state"},
	{"run", NULL, lctr_cmd_run, "run a container"},
	{"containers", "container c", lctr_cmd_containers, "manage containers"},
	{"tasks", "task t", lctr_cmd_tasks, "manage tasks"},
	{"completion", NULL, lctr_cmd_completion, "print a shell completion script: bash or zsh"},
};

static void usage_globals(FILE *f)
{
	fputs("global flags:\n"
	      "  --root DIR          root directory (env LCTR_ROOT)\n"
	      "  --state DIR         state directory (env LCTR_STATE)\n"
	      "  -n, --namespace NS  namespace (env CONTAINERD_NAMESPACE, default \"default\")\n"
	      "  --debug             debug output\n",
	      f);
}

int main(int argc, char **argv)
{
	struct lctr g = {0};
	g.root = getenv("LCTR_ROOT");
	g.state = getenv("LCTR_STATE");
	g.ns = getenv("CONTAINERD_NAMESPACE");
	if (g.root && !*g.root)
		g.root = NULL;
	if (g.state && !*g.state)
		g.state = NULL;
	if (g.ns && !*g.ns)
		g.ns = NULL;

	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'R'},
		{"state", required_argument, NULL, 'S'},
		{"namespace", required_argument, NULL, 'n'},
		{"debug", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{0},
	};
	int c;
	/* "+" stops at the first non-option: the command's flags are its own. */
	while ((c = getopt_long(argc, argv, "+n:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'R': g.root = optarg; break;
		case 'S': g.state = optarg; break;
		case 'n': g.ns = optarg; break;
		case 'D': g.debug = true; break;
		case 'v': return lctr_cmd_version(&g, 1, argv);
		case 'h':
			print_cmds(stdout, NULL, top_cmds, sizeof(top_cmds) / sizeof(top_cmds[0]));
			usage_globals(stdout);
			return 0;
		default:
			usage_globals(stderr);
			return 2;
		}
	}
	int rc = lctr_dispatch(&g, NULL, top_cmds, sizeof(top_cmds) / sizeof(top_cmds[0]),
			       argc - optind + 1, argv + optind - 1);
	ctr_client_free(g.client);
	return rc;
}
