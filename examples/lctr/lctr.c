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

int lctr_fail_hint(const char *what, ctr_error *err, const char *hint)
{
	fprintf(stderr, "lctr: %s: %s (%s)\n", what, err ? ctr_error_message(err) : "failed", hint);
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

const struct lctr_flag lctr_ls_flagdefs[] = {
	{'q', "quiet", no_argument, 'q', NULL, "print only the IDs or names"},
	{0},
};

int lctr_ls_flags(int argc, char **argv, bool *quiet)
{
	int ch;
	*quiet = false;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1)
		if (ch == 'q')
			*quiet = true;
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

bool lctr_cmd_matches(const struct lctr_cmd *c, const char *name)
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

/* ---- flags ---- */

/* The command lctr_getopt reads the flags of, and its getopt tables. */
static struct option cur_long[128];
static char cur_short[128];
static const struct lctr_cmd *cur_cmd;

static const struct lctr_flag *flag_tables(const struct lctr_cmd *c, size_t i)
{
	return i == 0 ? c->flags : i == 1 ? c->more_flags : NULL;
}

static void set_current(const struct lctr_cmd *c)
{
	size_t nl = 0, ns = 0;
	cur_short[ns++] = '+';
	for (size_t t = 0; t < 2; t++)
		for (const struct lctr_flag *f = flag_tables(c, t); f && f->name; f++) {
			if (nl + 1 < sizeof(cur_long) / sizeof(cur_long[0]))
				cur_long[nl++] = (struct option){f->name, f->has_arg, NULL, f->val};
			if (f->shortc && ns + 3 < sizeof(cur_short)) {
				cur_short[ns++] = f->shortc;
				if (f->has_arg == required_argument)
					cur_short[ns++] = ':';
			}
		}
	cur_long[nl] = (struct option){0};
	cur_short[ns] = 0;
	cur_cmd = c;
}

int lctr_getopt(int argc, char **argv)
{
	if (!cur_cmd)
		return -1;
	opterr = 0;
	int c = getopt_long(argc, argv, cur_short, cur_long, NULL);
	if (c == -1 || c == '?' || c == ':')
		return -1;
	/* a short flag: its table's val (a long one returns val itself; the
	 * tables give no flag a val that is another flag's letter) */
	if (c > 0 && c < 256)
		for (size_t t = 0; t < 2; t++)
			for (const struct lctr_flag *f = flag_tables(cur_cmd, t); f && f->name; f++)
				if (f->shortc && f->shortc == c)
					return f->val;
	return c;
}

static const struct lctr_flag *find_flag(const struct lctr_flag *const *tabs, size_t nt, const char *name,
					 size_t len, char shortc)
{
	for (size_t t = 0; t < nt; t++)
		for (const struct lctr_flag *f = tabs[t]; f && f->name; f++)
			if (shortc ? f->shortc == shortc : (strlen(f->name) == len && !strncmp(f->name, name, len)))
				return f;
	return NULL;
}

static void print_flag(FILE *f, const struct lctr_flag *fl)
{
	char left[80];
	snprintf(left, sizeof(left), "%c%c%s--%s%s%s", fl->shortc ? '-' : ' ', fl->shortc ? fl->shortc : ' ',
		 fl->shortc ? ", " : "  ", fl->name, fl->arg ? " " : "", fl->arg ? fl->arg : "");
	fprintf(f, "  %-34s %s\n", left, fl->help);
}

static void usage_globals(FILE *f)
{
	fputs("global flags (before or after the command):\n"
	      "  --root DIR                         root directory (env LCTR_ROOT; default /var/lib/libctr\n"
	      "                                     as root, else $XDG_DATA_HOME/libctr)\n"
	      "  --state DIR                        state directory (env LCTR_STATE; default /run/libctr\n"
	      "                                     as root, else $XDG_RUNTIME_DIR/libctr)\n"
	      "  -n, --namespace NS                 namespace (env CONTAINERD_NAMESPACE, default \"default\")\n"
	      "  --debug                            debug output\n"
	      "  -h, --help                         print this help\n",
	      f);
}

static void usage_env(FILE *f)
{
	fputs("environment:\n"
	      "  LCTR_ROOT, LCTR_STATE, CONTAINERD_NAMESPACE  defaults of --root, --state, --namespace\n"
	      "  LCTR_PASSWORD                      the password of --user USER without :PASS\n"
	      "  EDITOR                             the editor of content edit\n"
	      "  LIBCTR_SHIM                        the shim to run instead of the one found beside the library\n",
	      f);
}

/* "images rm", "run". */
static void cmd_path(char *buf, size_t len, const char *group, const char *name)
{
	snprintf(buf, len, "%s%s%s", group ? group : "", group ? " " : "", name);
}

static void print_cmd_help(FILE *f, const char *path, const struct lctr_cmd *c, const struct lctr_flag *gflags)
{
	bool any = c->flags || c->more_flags;
	fprintf(f, "usage: lctr %s%s%s%s\n%s", path, any ? " [flags]" : "", *c->usage ? " " : "", c->usage,
		c->help);
	if (c->aliases)
		fprintf(f, " (aliases: %s)", c->aliases);
	fputs("\n\n", f);
	if (any)
		fputs("flags:\n", f);
	for (const struct lctr_flag *fl = gflags; fl && fl->name; fl++)
		print_flag(f, fl);
	for (size_t t = 0; t < 2; t++)
		for (const struct lctr_flag *fl = flag_tables(c, t); fl && fl->name; fl++)
			print_flag(f, fl);
	if (c->stop)
		fprintf(f, "  (flags end at the %s argument: what follows is the command line)\n",
			c->stop == 1 ? "first" : "second");
	usage_globals(f);
}

static void print_cmds(FILE *f, const char *group, const struct lctr_cmd *cmds, size_t n,
		       const struct lctr_flag *gflags)
{
	fprintf(f, "usage: lctr [global flags] %s%s%sCOMMAND [FLAGS] [ARGS...]\n\ncommands:\n", group ? group : "",
		group ? " " : "", gflags ? "[flags] " : "");
	for (size_t i = 0; i < n; i++)
		if (strncmp(cmds[i].name, "__", 2)) /* hidden */
			fprintf(f, "  %-12s %s%s%s%s\n", cmds[i].name, cmds[i].help,
				cmds[i].aliases ? " (aliases: " : "", cmds[i].aliases ? cmds[i].aliases : "",
				cmds[i].aliases ? ")" : "");
	if (gflags) {
		fputs("\nflags:\n", f);
		for (const struct lctr_flag *fl = gflags; fl->name; fl++)
			print_flag(f, fl);
	}
	fprintf(f, "\n'lctr %s%sCOMMAND --help' prints a command's usage and flags.\n", group ? group : "",
		group ? " " : "");
}

static bool is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

int lctr_take_global(struct lctr *g, const char *what, int argc, char **argv, int i)
{
	static const struct {
		const char *name;
		int which;
	} globals[] = {{"root", 'R'}, {"state", 'S'}, {"namespace", 'n'}, {"debug", 'D'}, {"address", 'a'}};
	const char *a = argv[i], *val = NULL;
	int which = 0;
	if (a[0] == '-' && a[1] == 'n') {
		which = 'n';
		val = a[2] ? a + 2 : NULL;
	} else if (a[0] == '-' && a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		for (size_t k = 0; k < sizeof(globals) / sizeof(globals[0]); k++)
			if (strlen(globals[k].name) == len && !strncmp(a + 2, globals[k].name, len))
				which = globals[k].which;
		val = eq ? eq + 1 : NULL;
	}
	if (!which)
		return 0;
	const char *w = what ? what : "", *sep = what ? ": " : "";
	if (which == 'a') {
		lctr_failf("%s%s--address: lctr has no daemon to connect to; drop the flag", what ? what : "",
			   what ? ": " : "");
		return -1;
	}
	if (which == 'D') {
		if (val) {
			lctr_failf("%s%s--debug takes no value", w, sep);
			return -1;
		}
		g->debug = true;
		return 1;
	}
	int used = 1;
	if (!val) {
		if (i + 1 >= argc) {
			lctr_failf("%s%s%s needs a value", w, sep, a);
			return -1;
		}
		val = argv[i + 1];
		used = 2;
	}
	if (!*val) {
		lctr_failf("%s%s%s needs a value", w, sep, a);
		return -1;
	}
	if (which == 'R')
		g->root = val;
	else if (which == 'S')
		g->state = val;
	else
		g->ns = val;
	return used;
}

/* How many positional arguments a usage line allows: "ID [K=V]..." is one
 * or more, "REF [LOCAL]" one or two; max -1 is no limit. */
static void usage_counts(const char *u, int *min, int *max)
{
	*min = *max = 0;
	int depth = 0;
	bool opt_many = false;
	while (*u) {
		while (*u == ' ')
			u++;
		if (!*u)
			break;
		const char *e = u;
		bool open_here = false;
		while (*e && (*e != ' ' || depth)) {
			if (*e == '[') {
				if (depth == 0 && e == u)
					open_here = true;
				depth++;
			} else if (*e == ']') {
				depth--;
			} else if (!strncmp(e, "...", 3)) {
				opt_many = true;
			}
			if (*e == ' ' && depth == 0)
				break;
			e++;
		}
		if (open_here) {
			if (*max >= 0)
				*max = opt_many ? -1 : *max + 1;
		} else {
			(*min)++;
			if (*max >= 0)
				*max = opt_many ? -1 : *max + 1;
		}
		opt_many = false;
		u = e;
	}
}

struct parsed {
	char **argv;
	int argc;
};

/* Checks argv (argv[0] the command) against c's flags and arguments, takes
 * the global flags out, and puts the command's flags first, then "--" and
 * the positional arguments. Returns -1 to go on, else the exit status. */
static int check_args(struct lctr *g, const char *path, const struct lctr_cmd *c, int argc, char **argv,
		      struct parsed *out)
{
	const struct lctr_flag *tabs[2] = {c->flags, c->more_flags};
	bool has_flags = c->flags || c->more_flags;
	char **flags = calloc((size_t)argc + 1, sizeof(char *));
	char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int nf = 0, np = 0, rc = -1;
	if (!flags || !pos) {
		rc = lctr_failf("%s: out of memory", path);
		goto done;
	}
	for (int i = 1; i < argc;) {
		char *a = argv[i];
		if (c->stop && np >= c->stop) {
			while (i < argc)
				pos[np++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--")) {
			for (i++; i < argc;)
				pos[np++] = argv[i++];
			break;
		}
		if (a[0] != '-' || !a[1]) {
			pos[np++] = a;
			i++;
			continue;
		}
		if (is_help(a)) {
			print_cmd_help(stdout, path, c, NULL);
			rc = 0;
			goto done;
		}
		int k = lctr_take_global(g, path, argc, argv, i);
		if (k < 0) {
			rc = 2;
			goto done;
		}
		if (k) {
			i += k;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			const struct lctr_flag *f = find_flag(tabs, 2, a + 2, len, 0);
			if (!f) {
				rc = 2;
				lctr_failf("%s: unknown flag --%.*s (see lctr %s --help)", path, (int)len, a + 2, path);
				goto done;
			}
			if (f->has_arg == no_argument && eq) {
				rc = 2;
				lctr_failf("%s: --%s takes no value", path, f->name);
				goto done;
			}
			flags[nf++] = a;
			if (f->has_arg == required_argument && !eq) {
				if (i + 1 >= argc) {
					rc = 2;
					lctr_failf("%s: --%s needs a value", path, f->name);
					goto done;
				}
				flags[nf++] = argv[++i];
			}
			i++;
			continue;
		}
		/* -abc: each letter a flag; one with a value takes the rest or the next word */
		bool value_next = false;
		for (const char *p = a + 1; *p; p++) {
			const struct lctr_flag *f = find_flag(tabs, 2, NULL, 0, *p);
			if (!f) {
				rc = 2;
				if (*p == 'h' || *p == 'n')
					lctr_failf("%s: give -%c on its own", path, *p);
				else
					lctr_failf("%s: unknown flag -%c (see lctr %s --help)", path, *p, path);
				goto done;
			}
			if (f->has_arg == required_argument) {
				value_next = !p[1];
				break;
			}
		}
		flags[nf++] = a;
		if (value_next) {
			if (i + 1 >= argc) {
				rc = 2;
				lctr_failf("%s: %s needs a value", path, a);
				goto done;
			}
			flags[nf++] = argv[++i];
		}
		i++;
	}
	int min, max;
	usage_counts(c->usage, &min, &max);
	if (np < min) {
		rc = 2;
		lctr_failf("%s: missing argument%s (usage: lctr %s%s %s)", path, min - np > 1 ? "s" : "", path,
			   has_flags ? " [flags]" : "", c->usage);
		goto done;
	}
	if (max >= 0 && np > max) {
		rc = 2;
		lctr_failf("%s: unexpected argument \"%s\" (usage: lctr %s%s%s%s)", path, pos[max], path,
			   has_flags ? " [flags]" : "", *c->usage ? " " : "", c->usage);
		goto done;
	}
	out->argv = calloc((size_t)(nf + np) + 3, sizeof(char *));
	if (!out->argv) {
		rc = lctr_failf("%s: out of memory", path);
		goto done;
	}
	out->argc = 0;
	out->argv[out->argc++] = argv[0];
	for (int i = 0; i < nf; i++)
		out->argv[out->argc++] = flags[i];
	if (has_flags)
		out->argv[out->argc++] = (char *)"--";
	for (int i = 0; i < np; i++)
		out->argv[out->argc++] = pos[i];
	out->argv[out->argc] = NULL;
done:
	free(flags);
	free(pos);
	return rc;
}

int lctr_dispatch_flags(struct lctr *g, const char *group, const struct lctr_flag *gflags,
			int (*on_flag)(int val, const char *arg), const struct lctr_cmd *cmds, size_t n,
			int argc, char **argv)
{
	int i = 1;
	/* global flags and the group's own, up to the command */
	while (i < argc && argv[i][0] == '-' && !is_help(argv[i])) {
		int k = lctr_take_global(g, group, argc, argv, i);
		if (k < 0)
			return 2;
		if (k) {
			i += k;
			continue;
		}
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a) - 2;
		const struct lctr_flag *f = a[1] == '-' ? find_flag(&gflags, 1, a + 2, len, 0) : NULL;
		if (!f) {
			lctr_failf("%s: unknown flag %.*s (see lctr %s%s--help)", group ? group : "lctr",
				   (int)(eq ? (size_t)(eq - a) : strlen(a)), a, group ? group : "", group ? " " : "");
			return 2;
		}
		const char *val = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			lctr_failf("%s: --%s needs a value", group, f->name);
			return 2;
		}
		int r = on_flag(f->val, val);
		if (r)
			return r;
		i += eq ? 1 : 2;
	}
	if (i >= argc || is_help(argv[i]) || !strcmp(argv[i], "help")) {
		print_cmds(i >= argc ? stderr : stdout, group, cmds, n, gflags);
		if (!group)
			usage_globals(i >= argc ? stderr : stdout), usage_env(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	for (size_t k = 0; k < n; k++) {
		const struct lctr_cmd *c = &cmds[k];
		if (!lctr_cmd_matches(c, argv[i]))
			continue;
		if (!c->usage)
			return c->fn(g, argc - i, argv + i);
		char path[96];
		cmd_path(path, sizeof(path), group, c->name);
		struct parsed p = {0};
		int rc = check_args(g, path, c, argc - i, argv + i, &p);
		if (rc >= 0)
			return rc;
		set_current(c);
		optind = 0;
		rc = c->fn(g, p.argc, p.argv);
		cur_cmd = NULL;
		free(p.argv);
		return rc;
	}
	lctr_failf("%s%sunknown command \"%s\" (see lctr %s%s--help)", group ? group : "", group ? ": " : "",
		   argv[i], group ? group : "", group ? " " : "");
	return 2;
}

int lctr_dispatch(struct lctr *g, const char *group, const struct lctr_cmd *cmds, size_t n,
		  int argc, char **argv)
{
	return lctr_dispatch_flags(g, group, NULL, NULL, cmds, n, argc, argv);
}

const struct lctr_cmd lctr_top_cmds[] = {
	{"version", NULL, lctr_cmd_version, "print the library version", ""},
	{"info", NULL, lctr_cmd_info, "print the root's UUID, its plugins and their status, root and state", ""},
	{"plugins", "plugin", lctr_cmd_plugins, "provides information about plugins", .group = &lctr_plugins_group},
	{"namespaces", "namespace ns", lctr_cmd_namespaces, "manage namespaces", .group = &lctr_namespaces_group},
	{"leases", "lease", lctr_cmd_leases, "manage leases", .group = &lctr_leases_group},
	{"content", NULL, lctr_cmd_content, "manage content", .group = &lctr_content_group},
	{"images", "image i", lctr_cmd_images, "manage images: pull, push, ls, rm, tag, label, check, usage, mount, unmount, import, export", .group = &lctr_images_group},
	{"snapshots", "snapshot", lctr_cmd_snapshots, "manage snapshots", .group = &lctr_snapshots_group},
	{"oci", NULL, lctr_cmd_oci, "OCI tools: spec", .group = &lctr_oci_group},
	{"install", NULL, lctr_cmd_install, "install a new package", "IMAGE", lctr_install_flags},
	{"gc", NULL, lctr_cmd_gc, "collect garbage and print what was removed", ""},
	{"events", NULL, lctr_cmd_events, "stream events from every process using the same state", "[FILTER...]"},
	{"run", NULL, lctr_cmd_run, "run a container", "IMAGE|ROOTFS ID [COMMAND [ARG...]]", lctr_cflags_flags, lctr_run_flags, 2},
	{"containers", "container c", lctr_cmd_containers, "manage containers", .group = &lctr_containers_group},
	{"tasks", "task t", lctr_cmd_tasks, "manage tasks", .group = &lctr_tasks_group},
	{"completion", NULL, lctr_cmd_completion, "print a shell completion script: bash or zsh", "bash|zsh"},
	/* hidden (help skips it): what the completion scripts call */
	{"__complete", NULL, lctr_cmd_complete, "", NULL},
};
const size_t lctr_n_top_cmds = sizeof(lctr_top_cmds) / sizeof(lctr_top_cmds[0]);

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

	/* --version and -v before the command, as ctr's. */
	int i = 1;
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--version") && strcmp(argv[i], "-v") &&
	       !is_help(argv[i])) {
		int k = lctr_take_global(&g, NULL, argc, argv, i);
		if (k < 0)
			return 2;
		if (!k) {
			lctr_failf("unknown flag %s (see lctr --help)", argv[i]);
			return 2;
		}
		i += k;
	}
	if (i < argc && (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")))
		return lctr_cmd_version(&g, 1, argv);
	/* the commands take the global flags that are left */
	argv[i - 1] = argv[0];
	argc -= i - 1;
	argv += i - 1;
	int rc = lctr_dispatch(&g, NULL, lctr_top_cmds, lctr_n_top_cmds, argc, argv);
	ctr_client_free(g.client);
	return rc;
}
