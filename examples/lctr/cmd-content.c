/* lctr content: ls, get, rm, label, active (ctr content ...). */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int content_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_content_info **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_content_list(&v, &n, c, (const char *const *)argv + optind, (size_t)(argc - optind),
			     NULL, 0, &err) < 0)
		return lctr_fail("content ls", err);
	struct lctr_table t;
	lctr_table_init(&t, 4);
	if (!quiet) {
		lctr_table_add(&t, "DIGEST");
		lctr_table_add(&t, "SIZE");
		lctr_table_add(&t, "AGE");
		lctr_table_add(&t, "LABELS");
	}
	for (size_t i = 0; i < n; i++) {
		if (quiet) {
			printf("%s\n", ctr_content_info_digest(v[i]));
			continue;
		}
		char sz[32], age[64];
		lctr_table_add(&t, ctr_content_info_digest(v[i]));
		lctr_table_add(&t, lctr_human_size((double)ctr_content_info_size(v[i]), sz, sizeof(sz)));
		lctr_table_add(&t, lctr_human_age(ctr_content_info_created_at(v[i]), age, sizeof(age)));
		char *lbuf = NULL;
		size_t lsz = 0;
		FILE *mf = open_memstream(&lbuf, &lsz);
		if (mf) {
			lctr_print_labels(mf, ctr_content_info_labels(v[i]));
			fclose(mf);
		}
		lctr_table_add(&t, lbuf ? lbuf : "-");
		free(lbuf);
	}
	lctr_table_print(&t, stdout);
	ctr_content_info_list_free(v, n);
	return 0;
}

int lctr_content_copy(ctr_client *c, const char *digest, FILE *out, const char *what)
{
	ctr_content_reader *r = NULL;
	ctr_error *err = NULL;
	if (ctr_content_reader_open(&r, c, digest, NULL, 0, &err) < 0)
		return lctr_fail(what, err);
	char buf[1 << 16];
	int64_t off = 0;
	for (;;) {
		size_t n = 0;
		if (ctr_content_reader_pread(&n, r, buf, sizeof(buf), off, &err) < 0) {
			ctr_content_reader_free(r);
			return lctr_fail(what, err);
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, n, out) != n) {
			ctr_content_reader_free(r);
			return lctr_failf("%s: write: short write", what);
		}
		off += (int64_t)n;
	}
	ctr_content_reader_free(r);
	return fflush(out) == 0 ? 0 : lctr_failf("%s: write: failed", what);
}

static int content_get(struct lctr *g, int argc, char **argv)
{
	if (argc != 2)
		return lctr_failf("content get: usage: lctr content get DIGEST");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	return lctr_content_copy(c, argv[1], stdout, "content get");
}

static int content_rm(struct lctr *g, int argc, char **argv)
{
	if (argc < 2)
		return lctr_failf("content rm: usage: lctr content rm DIGEST...");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		ctr_error *err = NULL;
		if (ctr_content_delete(c, argv[i], NULL, 0, &err) < 0) {
			char what[300];
			snprintf(what, sizeof(what), "content rm %s", argv[i]);
			rc = lctr_fail(what, err);
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return rc;
}

static int content_label(struct lctr *g, int argc, char **argv)
{
	if (argc < 3)
		return lctr_failf("content label: usage: lctr content label DIGEST K=V...");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_error *err = NULL;
	/* ctr accepts "k" (no "=") to remove a label */
	char **labels = lctr_label_args(argv + 2, argc - 2);
	if (!labels)
		return lctr_failf("content label: out of memory");
	int r = ctr_content_update(c, argv[1], (const char *const *)labels, NULL, 0, &err);
	lctr_strv_free(labels);
	if (r < 0)
		return lctr_fail("content label", err);
	printf("updated %s\n", argv[1]);
	return 0;
}

static int content_active(struct lctr *g, int argc, char **argv)
{
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_content_status **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_content_status_list(&v, &n, c, (const char *const *)argv + 1, (size_t)(argc - 1), NULL,
				    0, &err) < 0)
		return lctr_fail("content active", err);
	struct lctr_table t;
	lctr_table_init(&t, 3);
	lctr_table_add(&t, "REF");
	lctr_table_add(&t, "SIZE");
	lctr_table_add(&t, "AGE");
	for (size_t i = 0; i < n; i++) {
		char sz[64], age[64], tot[32], off[32];
		lctr_human_size((double)ctr_content_status_offset(v[i]), off, sizeof(off));
		lctr_human_size((double)ctr_content_status_total(v[i]), tot, sizeof(tot));
		snprintf(sz, sizeof(sz), "%s/%s", off, tot);
		lctr_table_add(&t, ctr_content_status_ref(v[i]));
		lctr_table_add(&t, sz);
		lctr_table_add(&t, lctr_human_age(ctr_content_status_started_at(v[i]), age, sizeof(age)));
	}
	lctr_table_print(&t, stdout);
	ctr_content_status_list_free(v, n);
	return 0;
}

/* ctr content ingest [--expected-size N] [--expected-digest D] REF < data */
static int content_ingest(struct lctr *g, int argc, char **argv)
{
	long long size = -1;
	const char *digest = NULL;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 's')
			size = atoll(optarg);
		else if (ch == 'd')
			digest = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc)
		return lctr_failf("content ingest: usage: lctr content ingest [--expected-size N] [--expected-digest D] REF");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	struct lctr_opts o = {0};
	if (digest || size >= 0)
		lctr_opts_add(&o, ctr_with_content_expected(digest, size));
	ctr_content_writer *w = NULL;
	ctr_error *err = NULL;
	int r = ctr_content_writer_open(&w, c, argv[optind], LCTR_OPTS(&o), &err);
	lctr_opts_free(&o);
	if (r == CTR_EEXISTS) {
		ctr_error_free(err);
		return 0;
	}
	if (r < 0)
		return lctr_fail("content ingest", err);
	char buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		if (ctr_content_writer_write(w, buf, n, &err) < 0) {
			ctr_content_writer_free(w);
			return lctr_fail("content ingest", err);
		}
	}
	r = ctr_content_writer_commit(w, size, digest, NULL, CTR_NO_OPTS, &err);
	ctr_content_writer_free(w);
	if (r < 0 && r != CTR_EEXISTS)
		return lctr_fail("content ingest", err);
	ctr_error_free(err);
	return 0;
}

static const struct lctr_flag ingest_flags[] = {
	{0, "expected-size", required_argument, 's', "N", "fail unless the data has N bytes"},
	{0, "expected-digest", required_argument, 'd', "D", "fail unless the data has digest D"},
	{0},
};

static const struct lctr_cmd content_cmds[] = {
	{"fetch", NULL, lctr_content_fetch, "fetch REF's content and image record (pull's flags)", "REF",
	 lctr_remote_flags, lctr_pull_flags},
	{"fetch-object", NULL, lctr_content_fetch_object,
	 "write REF's manifest or index, or the object DIGEST of REF's repository, to stdout", "REF [DIGEST]",
	 lctr_remote_flags},
	{"push-object", NULL, lctr_content_push_object, "push the blob DIGEST to REF's repository as TYPE",
	 "REF DIGEST TYPE", lctr_remote_flags},
	{"ingest", NULL, content_ingest, "write stdin into the store under REF", "REF", ingest_flags},
	{"ls", "list", content_ls, "list all blobs in the store", "[FILTER...]", lctr_ls_flagdefs},
	{"get", NULL, content_get, "write the blob DIGEST to stdout", "DIGEST"},
	{"rm", "remove delete del", content_rm, "remove blobs from the namespace", "DIGEST..."},
	{"label", NULL, content_label, "add, update (K=V) or remove (K) labels", "DIGEST K[=V]..."},
	{"active", NULL, content_active, "list active ingests", "[FILTER...]"},
	{"edit", NULL, lctr_content_edit, "edit a blob with $EDITOR and print the new blob's digest", "DIGEST",
	 lctr_content_edit_flags},
};

const struct lctr_group lctr_content_group = {content_cmds, sizeof(content_cmds) / sizeof(content_cmds[0]),
					       NULL};

int lctr_cmd_content(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "content", content_cmds, lctr_content_group.n, argc, argv);
}
