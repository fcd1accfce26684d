/* lctr leases|lease: ls, create, rm (ctr's shapes). */
#include "lctr.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Go's time.ParseDuration subset: [0-9.]+ units (ns us ms s m h), repeated,
 * e.g. "24h", "1h30m", "90s". Returns seconds, rounded up; -1 on error. */
static double parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double secs;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
		     {"s", 1}, {"m", 60}, {"h", 3600}};
	if (!s || !*s)
		return -1;
	if (!strcmp(s, "0"))
		return 0;
	double total = 0;
	while (*s) {
		char *end;
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		double v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (!strncmp(s, units[i].unit, n) && n > best_len)
				best = i, best_len = n;
		}
		if (!best_len)
			return -1;
		total += v * units[best].secs;
		s += best_len;
	}
	return total;
}

static void format_time(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char off[8];
	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) ||
	    !strftime(off, sizeof(off), "%z", &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	/* RFC 3339 as Go prints it: Z for UTC, else +hh:mm. */
	if (!strcmp(off, "+0000"))
		strncat(buf, "Z", len - strlen(buf) - 1);
	else {
		char o[8] = {off[0], off[1], off[2], ':', off[3], off[4], 0};
		strncat(buf, o, len - strlen(buf) - 1);
	}
}

static int leases_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	ctr_lease **ls = NULL;
	size_t n_ls = 0;
	if (ctr_lease_list(&ls, &n_ls, cl, (const char *const *)(argv + optind), (size_t)(argc - optind),
			   NULL, 0, &err) < 0)
		return lctr_fail("leases ls", err);
	if (quiet) {
		for (size_t i = 0; ls[i]; i++)
			puts(ctr_lease_id(ls[i]));
		ctr_lease_list_free(ls, n_ls);
		return 0;
	}
	struct lctr_table t;
	lctr_table_init(&t, 3);
	lctr_table_add(&t, "ID");
	lctr_table_add(&t, "CREATED AT");
	lctr_table_add(&t, "LABELS");
	for (size_t i = 0; ls[i]; i++) {
		char when[64];
		format_time(ctr_lease_created_at(ls[i]), when, sizeof(when));
		const char *const *labels = ctr_lease_labels(ls[i]);
		size_t n = 1;
		for (size_t j = 0; labels && labels[j]; j++)
			n += strlen(labels[j]) + 1;
		char *joined = calloc(1, n);
		for (size_t j = 0; joined && labels && labels[j]; j++) {
			if (j)
				strcat(joined, ",");
			strcat(joined, labels[j]);
		}
		lctr_table_add(&t, ctr_lease_id(ls[i]));
		lctr_table_add(&t, when);
		lctr_table_add(&t, joined);
		free(joined);
	}
	lctr_table_print(&t, stdout);
	ctr_lease_list_free(ls, n_ls);
	return 0;
}

/* ctr leases create: the arguments are labels ("k=v", or "k" for an empty
 * value), --id names the lease (generated when absent). */
static int leases_create(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	char **labels = NULL;
	const char *id = NULL;
	double expires = 24 * 3600; /* ctr's default */
	int c, rc = 0;
	size_t n_labels = 0;
	optind = 0;
	labels = calloc((size_t)argc + 1, sizeof(char *));
	if (!labels)
		return lctr_failf("leases create: out of memory");
	while ((c = lctr_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'x':
			expires = parse_duration(optarg);
			if (expires < 0) {
				lctr_failf("leases create: invalid duration \"%s\" (e.g. 24h, 30m)", optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'i':
			id = optarg;
			break;
		case 'l':
			labels[n_labels] = strdup(optarg);
			if (!labels[n_labels++]) {
				rc = lctr_failf("leases create: out of memory");
				goto out;
			}
			break;
		default:
			rc = 2;
			goto out;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!*argv[i] || *argv[i] == '=') {
			lctr_failf("leases create: invalid label \"%s\": want KEY=VALUE", argv[i]);
			rc = 2;
			goto out;
		}
	}
	/* ctr: a label without '=' has an empty value */
	char **args = lctr_label_args(argv + optind, argc - optind);
	for (size_t i = 0; args && args[i]; i++)
		labels[n_labels++] = args[i];
	free(args);
	if (!args) {
		rc = lctr_failf("leases create: out of memory");
		goto out;
	}
	ctr_client *cl = lctr_client(g);
	if (!cl) {
		rc = 1;
		goto out;
	}
	if (id)
		lctr_opts_add(&o, ctr_with_lease_id(id));
	if (expires > 0)
		lctr_opts_add(&o, ctr_with_lease_expiration((int64_t)ceil(expires)));
	if (n_labels)
		lctr_opts_add(&o, ctr_with_lease_labels((const char *const *)labels));
	ctr_error *err = NULL;
	ctr_lease *l = NULL;
	if (ctr_lease_create(&l, cl, LCTR_OPTS(&o), &err) < 0)
		rc = lctr_fail("leases create", err);
	else
		puts(ctr_lease_id(l));
	ctr_lease_free(l);
	lctr_opts_free(&o);
out:
	for (size_t i = 0; i < n_labels; i++)
		free(labels[i]);
	free(labels);
	return rc;
}

static int leases_rm(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("leases rm: usage: rm ID...");
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		ctr_error *err = NULL;
		if (ctr_lease_delete(cl, argv[i], NULL, 0, &err) < 0) {
			char what[128];
			snprintf(what, sizeof(what), "leases rm %.80s", argv[i]);
			rc = lctr_fail(what, err);
		}
	}
	return rc;
}

static const struct lctr_flag create_flags[] = {
	{0, "id", required_argument, 'i', "ID", "the lease's id (default: generated)"},
	{'x', "expires", required_argument, 'x', "DURATION", "expire after this long (24h, 30m; 0: never; default 24h)"},
	{0, "label", required_argument, 'l', "K=V", "label the lease (repeatable)"},
	{0},
};

static const struct lctr_cmd leases_cmds[] = {
	{"ls", "list", leases_ls, "list leases", "[FILTER...]", lctr_ls_flagdefs},
	{"create", NULL, leases_create, "create a lease and print its id", "[KEY=VALUE...]", create_flags},
	{"rm", "delete del remove", leases_rm, "delete leases", "ID..."},
};

const struct lctr_group lctr_leases_group = {leases_cmds, sizeof(leases_cmds) / sizeof(leases_cmds[0]), NULL};

int lctr_cmd_leases(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "leases", leases_cmds, lctr_leases_group.n, argc, argv);
}
