/* lctr images: pull, push, ls, rm, tag (ctr images ...), and the shared
 * code of lctr content fetch. */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- remote flags ---- */

struct remote_flags {
	char *user, *pass;
	struct lctr_opts o;
	bool plain_http, skip_unpack, print_chainid;
	const char *snapshotter;
};

static int creds_cb(const char *host, ctr_credentials *cred, void *ud)
{
	(void)host;
	struct remote_flags *f = ud;
	return ctr_credentials_set(cred, f->user, f->pass, NULL);
}

enum {
	OPT_PLAIN = 256, OPT_PLATFORM, OPT_ALLPLAT, OPT_ALLMETA, OPT_USER, OPT_HOSTS, OPT_CA, OPT_CERT, OPT_KEY,
	OPT_LABEL, OPT_MAXDL, OPT_SKIPUNPACK, OPT_SNAP, OPT_CHAINID,
};

/* pull's and push's flags (ctr's RegistryFlags), then pull's own. */
const struct lctr_flag lctr_remote_flags[] = {
	{0, "plain-http", no_argument, OPT_PLAIN, NULL, "talk HTTP, not HTTPS, to the registry"},
	{0, "platform", required_argument, OPT_PLATFORM, "P", "this platform only, e.g. linux/arm64 (repeatable)"},
	{0, "all-platforms", no_argument, OPT_ALLPLAT, NULL, "every platform of the index"},
	{0, "user", required_argument, OPT_USER, "USER[:PASS]",
	 "registry credentials (without :PASS, $LCTR_PASSWORD)"},
	{0, "hosts-dir", required_argument, OPT_HOSTS, "DIR", "containerd hosts.toml directory (mirrors, TLS)"},
	{0, "tlscacert", required_argument, OPT_CA, "F", "trust this CA certificate file"},
	{0, "tlscert", required_argument, OPT_CERT, "F", "client certificate file"},
	{0, "tlskey", required_argument, OPT_KEY, "F", "client key file (with --tlscert)"},
	{'k', "skip-verify", no_argument, 'k', NULL, "do not verify the registry's certificate"},
	{0, "max-concurrent-downloads", required_argument, OPT_MAXDL, "N", "blobs transferred at once"},
	{0},
};

const struct lctr_flag lctr_pull_flags[] = {
	{0, "all-metadata", no_argument, OPT_ALLMETA, NULL, "fetch the manifests and configs of every platform"},
	{0, "label", required_argument, OPT_LABEL, "K=V", "label the image record (repeatable)"},
	{0, "skip-unpack", no_argument, OPT_SKIPUNPACK, NULL, "do not unpack into a snapshotter"},
	{0, "snapshotter", required_argument, OPT_SNAP, "S", "unpack with this snapshotter (overlayfs, native, btrfs, erofs)"},
	{0, "print-chainid", no_argument, OPT_CHAINID, NULL, "print the image's chain ID after unpack"},
	{0},
};

/* Parses pull/push/fetch flags into options. Returns 0, or the exit status. */
static int parse_remote_flags(const char *what, bool pull, int argc, char **argv, struct remote_flags *f)
{
	const char *cert = NULL, *key = NULL;
	const char *labels[64];
	size_t n_labels = 0;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_PLAIN:
			f->plain_http = true;
			lctr_opts_add(&f->o, ctr_with_plain_http());
			break;
		case OPT_PLATFORM: lctr_opts_add(&f->o, ctr_with_platform(optarg)); break;
		case OPT_ALLPLAT: lctr_opts_add(&f->o, ctr_with_all_platforms()); break;
		case OPT_HOSTS: lctr_opts_add(&f->o, ctr_with_hosts_dir(optarg)); break;
		case OPT_CA: lctr_opts_add(&f->o, ctr_with_tls_ca(optarg)); break;
		case OPT_CERT: cert = optarg; break;
		case OPT_KEY: key = optarg; break;
		case 'k': lctr_opts_add(&f->o, ctr_with_skip_verify()); break;
		case OPT_USER: {
			free(f->user);
			f->user = strdup(optarg);
			char *colon = f->user ? strchr(f->user, ':') : NULL;
			if (colon) {
				*colon = 0;
				f->pass = colon + 1;
			} else if (getenv("LCTR_PASSWORD")) {
				f->pass = getenv("LCTR_PASSWORD");
			} else {
				lctr_failf("%s: --user %s: give USER:PASS or set LCTR_PASSWORD", what, optarg);
				return 2;
			}
			break;
		}
		case OPT_ALLMETA:
		case OPT_LABEL:
		case OPT_MAXDL:
		case OPT_SKIPUNPACK:
		case OPT_SNAP:
		case OPT_CHAINID:
			if (!pull && ch != OPT_MAXDL) {
				lctr_failf("%s: flag %s is for pull", what, argv[optind - 1]);
				return 2;
			}
			if (ch == OPT_ALLMETA)
				lctr_opts_add(&f->o, ctr_with_all_metadata());
			else if (ch == OPT_LABEL && n_labels < 63)
				labels[n_labels++] = optarg;
			else if (ch == OPT_MAXDL)
				/* a negative count wraps above the limit: refused */
				lctr_opts_add(&f->o, pull ? ctr_with_max_concurrent_downloads((size_t)atoi(optarg))
							  : ctr_with_max_concurrent_uploads((size_t)atoi(optarg)));
			else if (ch == OPT_SKIPUNPACK)
				f->skip_unpack = true;
			else if (ch == OPT_SNAP)
				f->snapshotter = optarg;
			else if (ch == OPT_CHAINID)
				f->print_chainid = true;
			break;
		default:
			return 2;
		}
	}
	if (key && !cert) {
		lctr_failf("%s: --tlskey needs --tlscert", what);
		return 2;
	}
	if (cert)
		lctr_opts_add(&f->o, ctr_with_tls_client_cert(cert, key));
	if (f->user)
		lctr_opts_add(&f->o, ctr_with_credentials(creds_cb, f));
	if (n_labels) {
		labels[n_labels] = NULL;
		lctr_opts_add(&f->o, ctr_with_pull_labels(labels));
	}
	return 0;
}

/* A TLS failure without --plain-http may be a plain-HTTP registry. */
static int remote_fail(const char *what, ctr_error *err, bool plain_http)
{
	if (!plain_http && err && strstr(ctr_error_message(err), "TLS/certificate error"))
		return lctr_fail_hint(what, err, "if the registry talks plain HTTP, add --plain-http");
	return lctr_fail(what, err);
}

static void remote_flags_free(struct remote_flags *f)
{
	lctr_opts_free(&f->o);
	free(f->user);
}

/* pull (fetch = false) and content fetch (fetch = true). */
static int do_pull(struct lctr *g, int argc, char **argv, bool fetch)
{
	const char *what = fetch ? "content fetch" : "pull";
	struct remote_flags f = {0};
	int rc = parse_remote_flags(what, true, argc, argv, &f);
	if (rc) {
		remote_flags_free(&f);
		return rc;
	}
	const char *ref = argv[optind];
	ctr_client *c = lctr_client(g);
	if (!c) {
		remote_flags_free(&f);
		return 1;
	}
	struct lctr_progress p;
	lctr_progress_start(&p, LCTR_PROGRESS_PULL);
	lctr_opts_add(&f.o, ctr_with_progress(lctr_on_progress, &p));
	/* ctr images pull unpacks unless told not to (content fetch never
	 * does): here in the same pass as the download. */
	bool unpack = !fetch && !f.skip_unpack;
	if (unpack) {
		lctr_opts_add(&f.o, ctr_with_pull_unpack());
		if (f.snapshotter)
			lctr_opts_add(&f.o, ctr_with_pull_snapshotter(f.snapshotter));
	}
	ctr_error *err = NULL;
	ctr_image *img = NULL;
	int r = fetch ? ctr_image_fetch(&img, c, ref, LCTR_OPTS(&f.o), &err)
		      : ctr_image_pull(&img, c, ref, LCTR_OPTS(&f.o), &err);
	bool plain_http = f.plain_http;
	remote_flags_free(&f);
	if (r < 0) {
		if (p.tty && p.n)
			lctr_progress_redraw(&p, true);
		free(p.v);
		return remote_fail(what, err, plain_http);
	}
	if (unpack) {
		if (p.tty && p.n)
			lctr_progress_redraw(&p, true);
		p.drawn = 0;
		char *plat = NULL;
		ctr_image_platform(&plat, img, NULL);
		printf("unpacking %s %s...\n", plat ? plat : "-", ctr_image_target_digest(img));
		fflush(stdout);
		ctr_free(plat);
		/* Already unpacked by the pull; this only catches up after an
		 * earlier pull that skipped it. */
		bool unpacked = true;
		ctr_error *e2 = NULL;
		/* (The host's platform may not be among those pulled.) */
		if (ctr_image_is_unpacked(&unpacked, img, f.snapshotter, &e2) < 0)
			unpacked = 1;
		ctr_error_free(e2);
		if (!unpacked && ctr_image_unpack(img, f.snapshotter, NULL, 0, &err) < 0) {
			ctr_image_free(img);
			free(p.v);
			return lctr_fail("unpack", err);
		}
		if (f.print_chainid) {
			char *chain = NULL;
			if (ctr_image_chain_id(&chain, img, &err) < 0) {
				ctr_image_free(img);
				free(p.v);
				return lctr_fail("chain id", err);
			}
			printf("image chain ID: %s\n", chain);
			ctr_free(chain);
		}
		p.tty = false; /* the display is complete: only the done line follows */
	}
	lctr_progress_end(&p);
	ctr_image_free(img);
	return 0;
}

int lctr_content_fetch(struct lctr *g, int argc, char **argv) { return do_pull(g, argc, argv, true); }

/* fetch-object's and push-object's flags, then DIGEST (the argument after
 * REF; *digest NULL when there is none), then the client: 0, or the exit
 * status. */
static int object_begin(ctr_client **c, const char **digest, struct lctr *g, const char *what, bool pull,
			int argc, char **argv, struct remote_flags *f)
{
	int rc = parse_remote_flags(what, pull, argc, argv, f);
	*digest = !rc && argc - optind >= 2 ? argv[optind + 1] : NULL;
	if (*digest && !lctr_is_sha256_digest(*digest)) {
		lctr_failf("%s: invalid digest \"%s\": want sha256:<64 hex digits>", what, *digest);
		rc = 2;
	}
	if (!rc && !(*c = lctr_client(g)))
		rc = 1;
	if (rc)
		remote_flags_free(f);
	return rc;
}

/* ctr content fetch-object: REF's object (or DIGEST in REF's repository)
 * to stdout, nothing stored. */
int lctr_content_fetch_object(struct lctr *g, int argc, char **argv)
{
	const char *what = "content fetch-object", *digest;
	struct remote_flags f = {0};
	ctr_client *c = NULL;
	int rc = object_begin(&c, &digest, g, what, true, argc, argv, &f);
	if (rc)
		return rc;
	ctr_error *err = NULL;
	if (ctr_content_fetch(c, argv[optind], digest, STDOUT_FILENO, LCTR_OPTS(&f.o), &err) < 0)
		rc = remote_fail(what, err, f.plain_http);
	remote_flags_free(&f);
	return rc;
}

/* ctr content push-object: a blob of the store to REF's repository. */
int lctr_content_push_object(struct lctr *g, int argc, char **argv)
{
	const char *what = "content push-object", *media_type = argv[argc - 1];
	/* the library checks the characters; here only the shape */
	if (!strchr(media_type, '/') || strpbrk(media_type, " \t\r\n;")) {
		lctr_failf("%s: invalid media type \"%s\": want type/subtype", what, media_type);
		return 2;
	}
	struct remote_flags f = {0};
	ctr_client *c = NULL;
	const char *digest;
	int rc = object_begin(&c, &digest, g, what, false, argc, argv, &f);
	if (rc)
		return rc;
	ctr_error *err = NULL;
	if (ctr_content_push(c, argv[optind], digest, media_type, LCTR_OPTS(&f.o), &err) < 0)
		rc = remote_fail(what, err, f.plain_http);
	else
		printf("Pushed %s %s\n", digest, media_type);
	remote_flags_free(&f);
	return rc;
}

static int images_pull(struct lctr *g, int argc, char **argv) { return do_pull(g, argc, argv, false); }

static int images_push(struct lctr *g, int argc, char **argv)
{
	struct remote_flags f = {0};
	int rc = parse_remote_flags("push", false, argc, argv, &f);
	if (rc) {
		remote_flags_free(&f);
		return rc;
	}
	const char *ref = argv[optind], *local = argc - optind == 2 ? argv[optind + 1] : NULL;
	ctr_client *c = lctr_client(g);
	if (!c) {
		remote_flags_free(&f);
		return 1;
	}
	struct lctr_progress p;
	lctr_progress_start(&p, LCTR_PROGRESS_PUSH);
	lctr_opts_add(&f.o, ctr_with_progress(lctr_on_progress, &p));
	ctr_error *err = NULL;
	int r = ctr_image_push(c, ref, local, LCTR_OPTS(&f.o), &err);
	bool plain_http = f.plain_http;
	remote_flags_free(&f);
	if (r < 0) {
		free(p.v);
		return remote_fail("push", err, plain_http);
	}
	lctr_progress_end(&p);
	return 0;
}

static const char *image_type(const char *mt)
{
	if (!strcmp(mt, "application/vnd.oci.image.index.v1+json"))
		return "application/vnd.oci.image.index.v1+json";
	return mt;
}

static int images_ls(struct lctr *g, int argc, char **argv)
{
	bool quiet;
	if (lctr_ls_flags(argc, argv, &quiet) < 0)
		return 2;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_image **v = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_image_list(&v, &n, c, (const char *const *)argv + optind, (size_t)(argc - optind), NULL, 0,
				   &err) < 0)
		return lctr_fail("images ls", err);
	struct lctr_table t;
	lctr_table_init(&t, 6);
	if (!quiet) {
		const char *h[] = {"REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"};
		for (size_t i = 0; i < 6; i++)
			lctr_table_add(&t, h[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (quiet) {
			printf("%s\n", ctr_image_name(v[i]));
			continue;
		}
		lctr_table_add(&t, ctr_image_name(v[i]));
		lctr_table_add(&t, image_type(ctr_image_target_media_type(v[i])));
		lctr_table_add(&t, ctr_image_target_digest(v[i]));
		char sz[32];
		int64_t size = 0;
		char **plats = NULL;
		if (ctr_image_size(&size, v[i], NULL) < 0)
			size = ctr_image_target_size(v[i]);
		lctr_table_add(&t, lctr_human_size((double)size, sz, sizeof(sz)));
		char *pbuf = NULL;
		size_t psz = 0;
		FILE *mf = open_memstream(&pbuf, &psz);
		if (mf) {
			if (ctr_image_platforms(&plats, v[i], NULL) == 0 && plats && plats[0])
				for (size_t k = 0; plats[k]; k++)
					fprintf(mf, "%s%s", k ? "," : "", plats[k]);
			else
				fputs("-", mf);
			fclose(mf);
		}
		ctr_strv_free(plats);
		lctr_table_add(&t, pbuf ? pbuf : "-");
		free(pbuf);
		char *lbuf = NULL;
		size_t lsz = 0;
		mf = open_memstream(&lbuf, &lsz);
		if (mf) {
			lctr_print_labels(mf, ctr_image_labels(v[i]));
			fclose(mf);
		}
		lctr_table_add(&t, lbuf ? lbuf : "-");
		free(lbuf);
	}
	lctr_table_print(&t, stdout);
	ctr_image_list_free(v, n);
	return 0;
}

static int images_rm(struct lctr *g, int argc, char **argv)
{
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		ctr_error *err = NULL;
		if (ctr_image_delete(c, argv[i], NULL, 0, &err) < 0)
			rc = lctr_fail("images rm", err);
		else
			printf("%s\n", argv[i]);
	}
	return rc;
}

static int images_tag(struct lctr *g, int argc, char **argv)
{
	bool force = false;
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'f')
			force = true;
		else
			return 2;
	}
	if (argc - optind < 2)
		return lctr_failf("images tag: usage: lctr images tag [--force] SRC DST...");
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_opt *fo = force ? ctr_with_tag_force() : NULL;
	const ctr_opt *o[1] = {fo};
	int rc = 0;
	for (int i = optind + 1; i < argc && !rc; i++) {
		ctr_error *err = NULL;
		if (ctr_image_tag(NULL, c, argv[optind], argv[i], o, force ? 1 : 0, &err) < 0)
			rc = lctr_fail("images tag", err);
		else
			printf("%s\n", argv[i]);
	}
	ctr_opt_free(fo);
	return rc;
}

static const struct lctr_flag tag_flags[] = {
	{'f', "force", no_argument, 'f', NULL, "move DST when it names another image"},
	{0},
};

static const struct lctr_cmd images_cmds[] = {
	{"pull", NULL, images_pull, "fetch an image from a registry and unpack it", "REF", lctr_remote_flags,
	 lctr_pull_flags},
	{"push", NULL, images_push, "push an image to a registry", "REF [LOCAL]", lctr_remote_flags},
	{"ls", "list", images_ls, "list images", "[FILTER...]", lctr_ls_flagdefs},
	{"rm", "remove delete del", images_rm, "remove image records", "REF..."},
	{"tag", NULL, images_tag, "tag an image", "SRC DST...", tag_flags},
	{"label", NULL, lctr_images_label, "set (K=V) and remove (K= or K) labels, print the image's labels",
	 "REF [K=V]...", lctr_images_label_flags},
	{"check", NULL, lctr_images_check, "check that images' content is present, or (--all) the whole store",
	 "[FILTER...]", lctr_images_check_flags},
	{"usage", NULL, lctr_images_usage, "disk usage of an image", "REF", lctr_images_usage_flags},
	{"mount", NULL, lctr_images_mount, "mount an image's rootfs", "REF TARGET", lctr_images_mount_flags},
	{"unmount", "umount", lctr_images_unmount, "unmount a mounted image", "TARGET",
	 lctr_images_unmount_flags},
	{"import", NULL, lctr_images_import, "import images from a tar (OCI layout or docker save) or --from-rootfs DIR",
	 "[FILE|-]", lctr_images_import_flags},
	{"export", NULL, lctr_images_export, "export images as an OCI layout tar", "FILE|- REF...",
	 lctr_images_export_flags},
};

const struct lctr_group lctr_images_group = {images_cmds, sizeof(images_cmds) / sizeof(images_cmds[0]), NULL};

int lctr_cmd_images(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "images", images_cmds, lctr_images_group.n, argc, argv);
}
