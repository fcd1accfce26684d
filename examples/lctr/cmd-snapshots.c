/* lctr snapshots [--snapshotter S] ls|info|usage|rm|prepare|view|commit|mounts|tree|label|diff|unpack */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *snapshotter; /* --snapshotter, NULL: default */

static const char *kind_name(ctr_snapshot_kind k)
{
	switch (k) {
	case CTR_SNAPSHOT_VIEW: return "View";
	case CTR_SNAPSHOT_ACTIVE: return "Active";
	case CTR_SNAPSHOT_COMMITTED: return "Committed";
	default: return "Unknown";
	}
}

static int list(ctr_client *c, ctr_snapshot_info ***v, size_t *n, const char *const *f, size_t nf)
{
	ctr_error *err = NULL;
	if (ctr_snapshot_list(v, n, c, snapshotter, f, nf, NULL, 0, &err) < 0)
		return lctr_fail("snapshots", err);
	return 0;
}

static int snap_ls(struct lctr *g, int argc, char **argv)
{
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	if (list(c, &v, &n, (const char *const *)argv + 1, (size_t)(argc - 1)))
		return 1;
	struct lctr_table t;
	lctr_table_init(&t, 3);
	lctr_table_add(&t, "KEY");
	lctr_table_add(&t, "PARENT");
	lctr_table_add(&t, "KIND");
	for (size_t i = 0; i < n; i++) {
		lctr_table_add(&t, ctr_snapshot_info_name(v[i]));
		lctr_table_add(&t, ctr_snapshot_info_parent(v[i]) ? ctr_snapshot_info_parent(v[i]) : "");
		lctr_table_add(&t, kind_name(ctr_snapshot_info_kind(v[i])));
	}
	lctr_table_print(&t, stdout);
	ctr_snapshot_info_list_free(v, n);
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void rfc3339(int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&s, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("\"%s.%09lldZ\"", buf, (long long)(ns % 1000000000LL));
}

static int snap_info(struct lctr *g, int argc, char **argv)
{
	if (argc != 2)
		return lctr_failf("snapshots info: usage: lctr snapshots info KEY");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_snapshot_info *i = NULL;
	ctr_error *err = NULL;
	if (ctr_snapshot_stat(&i, c, snapshotter, argv[1], NULL, 0, &err) < 0)
		return lctr_fail("snapshots info", err);
	/* ctr prints snapshots.Info with Go's field names. */
	printf("{\n    \"Kind\": \"%s\",\n    \"Name\": ", kind_name(ctr_snapshot_info_kind(i)));
	json_str(ctr_snapshot_info_name(i));
	if (ctr_snapshot_info_parent(i)) {
		printf(",\n    \"Parent\": ");
		json_str(ctr_snapshot_info_parent(i));
	}
	const char *const *l = ctr_snapshot_info_labels(i);
	if (l && l[0]) {
		printf(",\n    \"Labels\": {");
		for (size_t k = 0; l[k]; k++) {
			const char *eq = strchr(l[k], '=');
			char *key = strndup(l[k], (size_t)(eq - l[k]));
			printf("%s\n        ", k ? "," : "");
			json_str(key);
			printf(": ");
			json_str(eq + 1);
			free(key);
		}
		printf("\n    }");
	}
	printf(",\n    \"Created\": ");
	rfc3339(ctr_snapshot_info_created_at(i));
	printf(",\n    \"Updated\": ");
	rfc3339(ctr_snapshot_info_updated_at(i));
	printf("\n}\n");
	ctr_snapshot_info_free(i);
	return 0;
}

static int snap_usage(struct lctr *g, int argc, char **argv)
{
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	struct lctr_table t;
	lctr_table_init(&t, 3);
	lctr_table_add(&t, "KEY");
	lctr_table_add(&t, "SIZE");
	lctr_table_add(&t, "INODES");
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	if (argc < 2 && list(c, &v, &n, NULL, 0))
		return 1;
	size_t count = argc < 2 ? n : (size_t)(argc - 1);
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		const char *key = argc < 2 ? ctr_snapshot_info_name(v[i]) : argv[i + 1];
		int64_t size = 0, inodes = 0;
		ctr_error *err = NULL;
		if (ctr_snapshot_usage(&size, &inodes, c, snapshotter, key, NULL, 0, &err) < 0) {
			rc = lctr_fail("snapshots usage", err);
			continue;
		}
		char sz[32], in[32];
		snprintf(in, sizeof(in), "%lld", (long long)inodes);
		lctr_table_add(&t, key);
		lctr_table_add(&t, lctr_human_size((double)size, sz, sizeof(sz)));
		lctr_table_add(&t, in);
	}
	lctr_table_print(&t, stdout);
	ctr_snapshot_info_list_free(v, n);
	return rc;
}

static int snap_rm(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("snapshots rm: usage: lctr snapshots rm KEY...");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		ctr_error *err = NULL;
		if (ctr_snapshot_remove(c, snapshotter, argv[i], NULL, 0, &err) < 0) {
			char what[300];
			snprintf(what, sizeof(what), "snapshots rm %s", argv[i]);
			rc = lctr_fail(what, err);
		}
	}
	return rc;
}

static void print_mounts(const ctr_mount_list *m, const char *target)
{
	for (size_t i = 0; i < ctr_mount_list_len(m); i++) {
		printf("mount -t %s %s %s", ctr_mount_list_type(m, i), ctr_mount_list_source(m, i), target);
		const char *const *o = ctr_mount_list_options(m, i);
		for (size_t k = 0; o && o[k]; k++)
			printf("%s%s", k ? "," : " -o ", o[k]);
		printf("\n");
	}
}

/* prepare|view [--target DIR] [--mounts] KEY [PARENT] */
static int snap_create(struct lctr *g, int argc, char **argv, bool view)
{
	const char *target = NULL;
	bool show = false;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 't')
			target = optarg;
		else if (ch == 'm')
			show = true;
		else
			return 2;
	}
	int left = argc - optind;
	if (left < 1 || left > 2 || (view && left != 2))
		return lctr_failf("snapshots %s: usage: lctr snapshots %s KEY %s", view ? "view" : "prepare",
				  view ? "view" : "prepare", view ? "PARENT" : "[PARENT]");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_mount_list *m = NULL;
	ctr_error *err = NULL;
	const char *key = argv[optind], *parent = left == 2 ? argv[optind + 1] : NULL;
	int r = (view ? ctr_snapshot_view : ctr_snapshot_prepare)(&m, c, snapshotter, key, parent, NULL, NULL, 0, &err);
	if (r < 0)
		return lctr_fail(view ? "snapshots view" : "snapshots prepare", err);
	if (target && ctr_mount_list_mount(m, target, &err) < 0) {
		ctr_mount_list_free(m);
		return lctr_fail("snapshots mount", err);
	}
	if (show)
		print_mounts(m, target ? target : "/tmp/mnt");
	ctr_mount_list_free(m);
	return 0;
}

static int snap_prepare(struct lctr *g, int argc, char **argv) { return snap_create(g, argc, argv, false); }
static int snap_view(struct lctr *g, int argc, char **argv) { return snap_create(g, argc, argv, true); }

static int snap_commit(struct lctr *g, int argc, char **argv)
{
	if (argc != 3)
		return lctr_failf("snapshots commit: usage: lctr snapshots commit NAME KEY");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_error *err = NULL;
	if (ctr_snapshot_commit(c, snapshotter, argv[1], argv[2], NULL, NULL, 0, &err) < 0)
		return lctr_fail("snapshots commit", err);
	return 0;
}

static int snap_mounts(struct lctr *g, int argc, char **argv)
{
	if (argc != 3)
		return lctr_failf("snapshots mounts: usage: lctr snapshots mounts TARGET KEY");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_mount_list *m = NULL;
	ctr_error *err = NULL;
	if (ctr_snapshot_mounts(&m, c, snapshotter, argv[2], NULL, 0, &err) < 0)
		return lctr_fail("snapshots mounts", err);
	print_mounts(m, argv[1]);
	ctr_mount_list_free(m);
	return 0;
}

static void tree(ctr_snapshot_info **v, size_t n, const char *parent, int depth)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = ctr_snapshot_info_parent(v[i]);
		if ((parent == NULL) != (p == NULL) || (parent && strcmp(parent, p)))
			continue;
		printf("%*s%s%s\n", depth * 2, "", depth ? "\\_ " : "", ctr_snapshot_info_name(v[i]));
		tree(v, n, ctr_snapshot_info_name(v[i]), depth + 1);
	}
}

static int snap_tree(struct lctr *g, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	if (list(c, &v, &n, NULL, 0))
		return 1;
	tree(v, n, NULL, 0);
	ctr_snapshot_info_list_free(v, n);
	return 0;
}

static int snap_label(struct lctr *g, int argc, char **argv)
{
	if (argc < 3)
		return lctr_failf("snapshots label: usage: lctr snapshots label KEY K=V...");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_error *err = NULL;
	if (ctr_snapshot_update(c, snapshotter, argv[1], (const char *const *)argv + 2, NULL, 0, &err) < 0)
		return lctr_fail("snapshots label", err);
	return 0;
}

/* diff [flags] KEY: the changes of the active snapshot KEY against its
 * parent, stored as a layer blob and written to stdout (ctr snapshots
 * diff). ctr's second snapshot (a diff against another than the parent) is
 * refused: the library compares with the parent only. */
static const struct lctr_flag diff_flags[] = {
	{0, "media-type", required_argument, 'm', "TYPE",
	 "layer media type: ...layer.v1.tar+gzip (default), +zstd or ...layer.v1.tar"},
	{0, "keep", no_argument, 'k', NULL, "keep the blob (a containerd.io/gc.root label); else the next gc removes it"},
	{0, "label", required_argument, 'l', "K=V", "label the blob (repeatable)"},
	{0},
};

static int snap_diff(struct lctr *g, int argc, char **argv)
{
	static const struct {
		const char *media_type, *compression;
	} types[] = {{"application/vnd.oci.image.layer.v1.tar+gzip", "gzip"},
		     {"application/vnd.oci.image.layer.v1.tar+zstd", "zstd"},
		     {"application/vnd.oci.image.layer.v1.tar", "none"},
		     {"application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"}};
	const char *compression = "gzip";
	char **labels = calloc((size_t)argc + 2, sizeof(char *));
	size_t n_labels = 0;
	bool keep = false;
	int ch, rc = 0;
	if (!labels)
		return lctr_failf("snapshots diff: out of memory");
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'k') {
			keep = true;
		} else if (ch == 'l') {
			if (!strchr(optarg, '=') || *optarg == '=') {
				lctr_failf("snapshots diff: invalid label \"%s\": want KEY=VALUE", optarg);
				rc = 2;
				goto out;
			}
			labels[n_labels++] = strdup(optarg);
		} else if (ch == 'm') {
			compression = NULL;
			for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
				if (!strcmp(optarg, types[i].media_type))
					compression = types[i].compression;
			if (!compression) {
				lctr_failf("snapshots diff: unsupported media type \"%s\"", optarg);
				rc = 2;
				goto out;
			}
		}
	}
	if (argc - optind > 1) {
		rc = lctr_failf("snapshots diff: a diff against %s: not supported (only against the parent of %s)",
				argv[optind + 1], argv[optind]);
		goto out;
	}
	ctr_client *c = lctr_client(g);
	if (!c) {
		rc = 1;
		goto out;
	}
	char *digest = NULL;
	ctr_error *err = NULL;
	if (ctr_snapshot_diff(&digest, NULL, NULL, c, snapshotter, argv[optind], compression, NULL, 0, &err) < 0) {
		rc = lctr_fail("snapshots diff", err);
		goto out;
	}
	char now[64] = "containerd.io/gc.root=";
	if (keep) {
		time_t t = time(NULL);
		struct tm tm;
		strftime(now + strlen(now), sizeof(now) - strlen(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
		labels[n_labels++] = strdup(now);
	}
	for (size_t i = 0; i < n_labels; i++)
		if (!labels[i]) {
			rc = lctr_failf("snapshots diff: out of memory");
			break;
		}
	if (!rc && n_labels && ctr_content_update(c, digest, (const char *const *)labels, NULL, 0, &err) < 0)
		rc = lctr_fail("snapshots diff: label the blob", err);
	if (!rc)
		rc = lctr_content_copy(c, digest, stdout, "snapshots diff");
	ctr_free(digest);
out:
	for (size_t i = 0; i < n_labels; i++)
		free(labels[i]);
	free(labels);
	return rc;
}

/* unpack DIGEST: unpacks the image whose target is the manifest (or index)
 * DIGEST into the snapshotter, as ctr snapshots unpack does. */
static int snap_unpack(struct lctr *g, int argc, char **argv)
{
	(void)argc;
	const char *d = argv[1];
	if (!lctr_is_sha256_digest(d)) {
		lctr_failf("snapshots unpack: invalid digest \"%s\" (want sha256:<64 hex>)", d);
		return 2;
	}
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_image **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_image_list(&v, &n, c, NULL, 0, NULL, 0, &err) < 0)
		return lctr_fail("snapshots unpack", err);
	int rc = -1;
	for (size_t i = 0; i < n && rc < 0; i++) {
		if (strcmp(ctr_image_target_digest(v[i]), d))
			continue;
		printf("unpacking %s (%s)...", d, ctr_image_target_media_type(v[i]));
		fflush(stdout);
		if (ctr_image_unpack(v[i], snapshotter, NULL, 0, &err) < 0) {
			putchar('\n');
			fflush(stdout);
			rc = lctr_fail("snapshots unpack", err);
		} else {
			puts("done");
			rc = 0;
		}
	}
	ctr_image_list_free(v, n);
	if (rc < 0)
		rc = lctr_failf("snapshots unpack: manifest %s: not found (no image has it as its target)", d);
	return rc;
}

static const struct lctr_flag create_flags[] = {
	{0, "target", required_argument, 't', "DIR", "mount the snapshot there"},
	{0, "mounts", no_argument, 'm', NULL, "print the mount commands"},
	{0},
};

static const struct lctr_cmd snap_cmds[] = {
	{"ls", "list", snap_ls, "list snapshots", "[FILTER...]"},
	{"info", NULL, snap_info, "show a snapshot as JSON", "KEY"},
	{"usage", NULL, snap_usage, "disk usage of snapshots", "[KEY...]"},
	{"rm", "remove delete del", snap_rm, "remove snapshots", "KEY..."},
	{"prepare", NULL, snap_prepare, "create an active snapshot", "KEY [PARENT]", create_flags},
	{"view", NULL, snap_view, "create a read-only view", "KEY PARENT", create_flags},
	{"commit", NULL, snap_commit, "commit an active snapshot", "NAME KEY"},
	{"mounts", "m mount", snap_mounts, "print the mount commands", "TARGET KEY"},
	{"tree", NULL, snap_tree, "show the snapshots as a tree", ""},
	{"label", NULL, snap_label, "set (K=V) or remove (K=) labels", "KEY K=V..."},
	{"diff", NULL, snap_diff, "write the changes of an active snapshot against its parent as a layer to stdout",
	 "KEY [OTHER]", diff_flags},
	{"unpack", NULL, snap_unpack, "unpack the image whose manifest is DIGEST into the snapshotter", "DIGEST"},
};

static const struct lctr_flag group_flags[] = {
	{0, "snapshotter", required_argument, 's', "S", "the snapshotter: overlayfs (default), native, btrfs or erofs"},
	{0},
};

static int group_flag(int val, const char *arg)
{
	if (val == 's')
		snapshotter = arg;
	return 0;
}

const struct lctr_group lctr_snapshots_group = {snap_cmds, sizeof(snap_cmds) / sizeof(snap_cmds[0]), group_flags};

int lctr_cmd_snapshots(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch_flags(g, "snapshots", group_flags, group_flag, snap_cmds, lctr_snapshots_group.n, argc,
				   argv);
}
