/* lctr images mount|unmount|check|usage (ctr images ...). The images group
 * itself lives in cmd-images.c. */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct lctr_flag lctr_images_mount_flags[] = {
	{0, "rw", no_argument, 'w', NULL, "mount read-write (an active snapshot)"},
	{0, "platform", required_argument, 'p', "P", "the platform to unpack and mount (default: the host's)"},
	{0, "snapshotter", required_argument, 's', "S", "snapshotter: overlayfs, native, btrfs or erofs"},
	{0},
};

const struct lctr_flag lctr_images_unmount_flags[] = {
	{0, "rm", no_argument, 'r', NULL, "remove the snapshot too"},
	{0, "snapshotter", required_argument, 's', "S", "snapshotter: overlayfs, native, btrfs or erofs"},
	{0},
};

const struct lctr_flag lctr_images_usage_flags[] = {
	{0, "snapshotter", required_argument, 's', "S", "snapshotter: overlayfs, native, btrfs or erofs"},
	{0},
};

/* mount [--platform P] [--rw] [--snapshotter S] REF TARGET: unpacks when
 * needed, then a snapshot keyed by TARGET (a view, or active with --rw) is
 * mounted there, as ctr does. */
int lctr_images_mount(struct lctr *g, int argc, char **argv)
{
	bool rw = false;
	const char *sn = NULL;
	struct lctr_opts o = {0};
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'w')
			rw = true;
		else if (ch == 's')
			sn = optarg;
		else if (ch == 'p')
			lctr_opts_add(&o, ctr_with_image_platform(optarg));
		else {
			lctr_opts_free(&o);
			return 2;
		}
	}
	const char *ref = argv[optind], *target = argv[optind + 1];
	ctr_client *c = o.failed ? NULL : lctr_client(g);
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	int r = c ? ctr_image_get(&img, c, ref, LCTR_OPTS(&o), &err) : -1;
	lctr_opts_free(&o);
	if (!c)
		return 1;
	if (r < 0)
		return lctr_fail("images mount", err);
	bool unpacked = false;
	if (ctr_image_is_unpacked(&unpacked, img, sn, &err) < 0 ||
	    (!unpacked && ctr_image_unpack(img, sn, NULL, 0, &err) < 0)) {
		ctr_image_free(img);
		return lctr_fail("images mount", err);
	}
	char *chain = NULL;
	ctr_mount_list *m = NULL;
	r = ctr_image_chain_id(&chain, img, &err);
	if (r == 0)
		r = (rw ? ctr_snapshot_prepare : ctr_snapshot_view)(&m, c, sn, target, chain, NULL, NULL, 0, &err);
	if (r == 0 && (r = ctr_mount_list_mount(m, target, &err)) < 0) {
		ctr_error *e2 = NULL;
		ctr_snapshot_remove(c, sn, target, NULL, 0, &e2);
		ctr_error_free(e2);
	}
	free(chain);
	ctr_mount_list_free(m);
	ctr_image_free(img);
	if (r < 0)
		return lctr_fail("images mount", err);
	printf("%s\n", target);
	return 0;
}

/* unmount [--rm] [--snapshotter S] TARGET */
int lctr_images_unmount(struct lctr *g, int argc, char **argv)
{
	bool rm = false;
	const char *sn = NULL;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'r')
			rm = true;
		else if (ch == 's')
			sn = optarg;
		else
			return 2;
	}
	if (argc - optind != 1)
		return lctr_failf("images unmount: usage: lctr images unmount [--rm] TARGET");
	const char *target = argv[optind];
	ctr_error *err = NULL;
	if (ctr_mount_unmount(target, CTR_UNMOUNT_ALL, &err) < 0)
		return lctr_fail("images unmount", err);
	if (rm) {
		ctr_client *c = lctr_client(g);
		if (!c)
			return 1;
		if (ctr_snapshot_remove(c, sn, target, NULL, 0, &err) < 0)
			return lctr_fail("images unmount", err);
	}
	printf("%s\n", target);
	return 0;
}

const struct lctr_flag lctr_images_check_flags[] = {
	{'a', "all", no_argument, 'a', NULL, "check the whole store (every blob, ingest, record and snapshot)"},
	{0, "repair", no_argument, 'R', NULL, "with --all: repair what can be repaired"},
	{0},
};

/* check --all [--repair]: KIND SUBJECT STATUS DETAIL, one line a finding;
 * exits 1 while a finding is left unrepaired. */
static int check_store(struct lctr *g, bool repair)
{
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_opt *o = repair ? ctr_with_check_repair() : NULL;
	ctr_check_report *rep = NULL;
	ctr_error *err = NULL;
	int r = ctr_client_check(&rep, c, (const ctr_opt *const *)&o, o ? 1 : 0, &err);
	ctr_opt_free(o);
	if (r < 0)
		return lctr_fail("images check", err);
	struct lctr_table t;
	lctr_table_init(&t, 4);
	const char *hdr[] = {"KIND", "SUBJECT", "STATUS", "DETAIL"};
	for (int i = 0; i < 4; i++)
		lctr_table_add(&t, hdr[i]);
	int rc = 0;
	for (size_t i = 0; i < ctr_check_report_count(rep); i++) {
		bool fixed = ctr_check_report_repaired(rep, i);
		lctr_table_add(&t, ctr_check_report_kind_name(rep, i));
		lctr_table_add(&t, ctr_check_report_subject(rep, i));
		lctr_table_add(&t, fixed ? "repaired" : "found");
		lctr_table_add(&t, ctr_check_report_detail(rep, i));
		if (!fixed)
			rc = 1;
	}
	lctr_table_print(&t, stdout);
	ctr_check_report_free(rep);
	return rc;
}

/* check [FILTER...]: REF TYPE DIGEST STATUS SIZE UNPACKED, as ctr images
 * check; check --all [--repair]: the store check. */
int lctr_images_check(struct lctr *g, int argc, char **argv)
{
	bool all = false, repair = false;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'a')
			all = true;
		else if (ch == 'R')
			repair = true;
		else
			return 2;
	}
	if ((repair && !all) || (all && optind < argc))
		return lctr_failf("images check: usage: lctr images check [FILTER...] | --all [--repair]");
	if (all)
		return check_store(g, repair);
	argc -= optind - 1;
	argv += optind - 1;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_image **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_image_list(&v, &n, c, (const char *const *)argv + 1, (size_t)(argc - 1), NULL, 0, &err) < 0)
		return lctr_fail("images check", err);
	struct lctr_table t;
	lctr_table_init(&t, 6);
	const char *hdr[] = {"REF", "TYPE", "DIGEST", "STATUS", "SIZE", "UNPACKED"};
	for (int i = 0; i < 6; i++)
		lctr_table_add(&t, hdr[i]);
	for (size_t i = 0; i < n; i++) {
		int64_t present = 0, required = 0, size = 0;
		ctr_image_check(&present, &required, v[i], NULL);
		ctr_image_size(&size, v[i], NULL);
		bool unpacked = false;
		ctr_image_is_unpacked(&unpacked, v[i], NULL, NULL);
		char status[64], sz[32], szt[32], szs[80];
		snprintf(status, sizeof(status), "%s (%lld/%lld)", present == required ? "complete" : "incomplete",
			 (long long)present, (long long)required);
		int64_t content = 0;
		ctr_image_usage(&content, NULL, v[i], NULL, CTR_NO_OPTS, NULL);
		snprintf(szs, sizeof(szs), "%s/%s", lctr_human_size((double)content, sz, sizeof(sz)),
			 lctr_human_size((double)size, szt, sizeof(szt)));
		lctr_table_add(&t, ctr_image_name(v[i]));
		lctr_table_add(&t, ctr_image_target_media_type(v[i]));
		lctr_table_add(&t, ctr_image_target_digest(v[i]));
		lctr_table_add(&t, status);
		lctr_table_add(&t, szs);
		lctr_table_add(&t, unpacked ? "true" : "false");
	}
	lctr_table_print(&t, stdout);
	ctr_image_list_free(v, n);
	return 0;
}

/* usage [--snapshotter S] REF: the image's layer snapshots and their size. */
int lctr_images_usage(struct lctr *g, int argc, char **argv)
{
	const char *sn = NULL;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 's')
			sn = optarg;
		else
			return 2;
	}
	if (argc - optind != 1)
		return lctr_failf("images usage: usage: lctr images usage [--snapshotter S] REF");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	if (ctr_image_get(&img, c, argv[optind], NULL, 0, &err) < 0)
		return lctr_fail("images usage", err);
	int64_t content = 0, snaps = 0;
	if (ctr_image_usage(&content, &snaps, img, sn, CTR_NO_OPTS, &err) < 0) {
		ctr_image_free(img);
		return lctr_fail("images usage", err);
	}
	char a[32], b[32];
	printf("CONTENT SNAPSHOTS\n%s %s\n", lctr_human_size((double)content, a, sizeof(a)),
	       lctr_human_size((double)snaps, b, sizeof(b)));
	ctr_image_free(img);
	return 0;
}

const struct lctr_flag lctr_images_label_flags[] = {
	{'r', "replace-all", no_argument, 'r', NULL, "replace all labels (those not given are removed)"},
	{0},
};

/* label [-r] REF [K=V]...: sets K=V, removes K= (or K alone), and prints the
 * labels the image has then, as ctr images label does. */
int lctr_images_label(struct lctr *g, int argc, char **argv)
{
	bool replace = false;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'r')
			replace = true;
		else
			return 2;
	}
	const char *ref = argv[optind];
	int n_args = argc - optind - 1;
	for (int i = optind + 1; i < argc; i++)
		if (!*argv[i] || *argv[i] == '=') {
			lctr_failf("images label: invalid label \"%s\": want KEY=VALUE", argv[i]);
			return 2;
		}
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	char what[160];
	snprintf(what, sizeof(what), "images label %.100s", ref);
	if (ctr_image_get(&img, c, ref, NULL, 0, &err) < 0)
		return lctr_fail(what, err);
	char **set = lctr_label_args(argv + optind + 1, n_args);
	size_t n_old = 0;
	for (const char *const *l = ctr_image_labels(img); l && *l; l++)
		n_old++;
	/* the labels given, then (with -r) a removal of each other one */
	char **all = set ? calloc((size_t)n_args + n_old + 1, sizeof(char *)) : NULL;
	size_t n = 0;
	int rc = 0;
	if (!all) {
		rc = lctr_failf("%s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; set[i]; i++)
		all[n++] = set[i];
	for (const char *const *l = ctr_image_labels(img); replace && l && *l; l++) {
		size_t klen = strcspn(*l, "=");
		bool given = false;
		for (size_t i = 0; set[i]; i++)
			given |= strcspn(set[i], "=") == klen && !strncmp(set[i], *l, klen);
		if (given)
			continue;
		char *rm = strndup(*l, klen + 1); /* "k=" */
		if (!rm) {
			rc = lctr_failf("%s: out of memory", what);
			goto out;
		}
		all[n++] = rm;
	}
	ctr_image *up = NULL;
	if (ctr_image_update(&up, c, ref, (const char *const *)all, NULL, 0, &err) < 0) {
		rc = lctr_fail(what, err);
		goto out;
	}
	lctr_print_labels(stdout, ctr_image_labels(up));
	putchar('\n');
	ctr_image_free(up);
out:
	for (size_t i = n_args > 0 ? (size_t)n_args : 0; all && i < n; i++)
		free(all[i]);
	free(all);
	lctr_strv_free(set);
	ctr_image_free(img);
	return rc;
}

const struct lctr_flag lctr_install_flags[] = {
	{'l', "libs", no_argument, 'l', NULL, "install lib files as well as bin files"},
	{'r', "replace", no_argument, 'r', NULL, "replace any binaries or libs in the target"},
	{0, "path", required_argument, 'p', "P", "the target directory (default /opt/libctr)"},
	{0},
};

/* install [--libs] [--replace] [--path P] IMAGE (ctr install): the image's
 * bin/ (and lib/) files into P/bin (P/lib). */
int lctr_cmd_install(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'l')
			lctr_opts_add(&o, ctr_with_install_libs());
		else if (ch == 'r')
			lctr_opts_add(&o, ctr_with_install_replace());
		else if (ch == 'p')
			lctr_opts_add(&o, ctr_with_install_path(optarg));
		else {
			lctr_opts_free(&o);
			return 2;
		}
	}
	if (o.failed) {
		lctr_opts_free(&o);
		return lctr_failf("install: out of memory");
	}
	ctr_client *c = lctr_client(g);
	if (!c) {
		lctr_opts_free(&o);
		return 1;
	}
	ctr_image *img = NULL;
	ctr_error *err = NULL;
	int r = ctr_image_get(&img, c, argv[optind], NULL, 0, &err);
	if (r == 0)
		r = ctr_image_install(img, LCTR_OPTS(&o), &err);
	ctr_image_free(img);
	lctr_opts_free(&o);
	return r < 0 ? lctr_fail("install", err) : 0;
}
