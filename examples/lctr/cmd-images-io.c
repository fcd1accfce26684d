/* lctr images import / export (ctr's shapes), and import --from-rootfs
 * (docker import's); registered in the images group (cmd-images.c). */
#include "lctr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const struct lctr_flag lctr_images_import_flags[] = {
	{0, "platform", required_argument, 'p', "P", "import this platform only"},
	{0, "all-platforms", no_argument, 'a', NULL, "import every platform"},
	{0, "index-name", required_argument, 'i', "NAME", "name the archive's index too"},
	{0, "base-name", required_argument, 'b', "N", "name unnamed images N:<tag>"},
	{0, "digests", no_argument, 'd', NULL, "name images by digest as well"},
	{0, "label", required_argument, 'l', "K=V", "label the image records (repeatable)"},
	{0, "from-rootfs", required_argument, 'r', "DIR", "make an image NAME from a host directory"},
	{0, "no-unpack", no_argument, 'N', NULL, "do not unpack"},
	{0, "snapshotter", required_argument, 'S', "S", "unpack with this snapshotter"},
	{0},
};

const struct lctr_flag lctr_images_export_flags[] = {
	{0, "platform", required_argument, 'p', "P", "export this platform (repeatable)"},
	{0, "all-platforms", no_argument, 'a', NULL, "export every platform"},
	{0, "skip-manifest-json", no_argument, 'm', NULL, "write no docker manifest.json"},
	{0, "skip-non-distributable", no_argument, 'n', NULL, "leave out non-distributable layers"},
	{0},
};

int lctr_images_import(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	const char *base = NULL, *rootfs = NULL, *snapshotter = NULL;
	bool digests = false, no_unpack = false;
	char *labels[33] = {0};
	size_t n_labels = 0;
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'p': lctr_opts_add(&o, ctr_with_import_platform(optarg)); break;
		case 'a': lctr_opts_add(&o, ctr_with_import_all_platforms()); break;
		case 'i': lctr_opts_add(&o, ctr_with_import_index_name(optarg)); break;
		case 'b': base = optarg; break;
		case 'd': digests = true; break;
		case 'r': rootfs = optarg; break;
		case 'N': no_unpack = true; break;
		case 'S': snapshotter = optarg; break;
		case 'l':
			if (n_labels == 32) {
				lctr_opts_free(&o);
				return lctr_failf("images import: too many labels");
			}
			labels[n_labels++] = optarg;
			break;
		default:
			lctr_opts_free(&o);
			return 2;
		}
	}
	if (argc - optind != 1) {
		lctr_opts_free(&o);
		fprintf(stderr, "usage: lctr images import [--platform P] [--all-platforms] [--index-name NAME] "
				"[--base-name N] [--digests] [--label K=V] [--no-unpack] [--snapshotter S] FILE|-\n"
				"       lctr images import --from-rootfs DIR NAME\n");
		return 2;
	}
	ctr_client *cl = lctr_client(g);
	if (!cl) {
		lctr_opts_free(&o);
		return 1;
	}
	ctr_error *err = NULL;
	if (rootfs) {
		lctr_opts_free(&o);
		ctr_image *img = NULL;
		if (ctr_image_import_rootfs(&img, cl, rootfs, argv[optind], NULL, 0, &err) < 0)
			return lctr_fail("images import", err);
		printf("%s %s\n", ctr_image_name(img), ctr_image_target_digest(img));
		ctr_image_free(img);
		return 0;
	}
	/* ctr's default names: "import-<date>" prefixes bare tags. */
	char prefix[64];
	if (!base) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(prefix, sizeof(prefix), "import-%Y-%m-%d", &tm);
		lctr_opts_add(&o, ctr_with_import_ref_prefix(prefix));
	} else {
		lctr_opts_add(&o, ctr_with_import_base_name(base));
	}
	if (digests)
		lctr_opts_add(&o, ctr_with_import_digest_refs(base ? base : prefix));
	if (n_labels)
		lctr_opts_add(&o, ctr_with_import_labels((const char *const *)labels));
	/* ctr images import unpacks unless --no-unpack. */
	if (!no_unpack)
		lctr_opts_add(&o, ctr_with_import_unpack(snapshotter));
	if (o.failed) {
		lctr_opts_free(&o);
		return lctr_failf("images import: invalid option");
	}
	const char *in = argv[optind];
	int fd = strcmp(in, "-") ? open(in, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		lctr_opts_free(&o);
		return lctr_failf("images import: open %s: %s", in, strerror(errno));
	}
	/* On a terminal, pull's live display; piped, only the images. */
	struct lctr_progress p = {0};
	bool show = isatty(STDOUT_FILENO);
	if (show) {
		lctr_progress_start(&p, LCTR_PROGRESS_IMPORT);
		lctr_opts_add(&o, ctr_with_import_progress(lctr_on_progress, &p));
	}
	ctr_image **imgs = NULL;
	size_t n = 0;
	int r = ctr_image_import(&imgs, &n, cl, fd, LCTR_OPTS(&o), &err);
	if (fd > 0)
		close(fd);
	lctr_opts_free(&o);
	if (show && p.n)
		lctr_progress_redraw(&p, true);
	p.tty = false; /* the display is complete: the images and the done line follow */
	if (r < 0) {
		free(p.v);
		return lctr_fail("images import", err);
	}
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", ctr_image_name(imgs[i]), ctr_image_target_digest(imgs[i]));
	ctr_image_list_free(imgs, n);
	if (show)
		lctr_progress_end(&p);
	return 0;
}

int lctr_images_export(struct lctr *g, int argc, char **argv)
{
	struct lctr_opts o = {0};
	int c;
	optind = 0;
	while ((c = lctr_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'p': lctr_opts_add(&o, ctr_with_export_platform(optarg)); break;
		case 'a': lctr_opts_add(&o, ctr_with_export_all_platforms()); break;
		case 'm': lctr_opts_add(&o, ctr_with_export_skip_docker_manifest()); break;
		case 'n': lctr_opts_add(&o, ctr_with_export_skip_non_distributable()); break;
		default:
			lctr_opts_free(&o);
			return 2;
		}
	}
	if (argc - optind < 2) {
		lctr_opts_free(&o);
		fprintf(stderr, "usage: lctr images export [--platform P]... [--all-platforms] "
				"[--skip-manifest-json] [--skip-non-distributable] FILE|- REF...\n");
		return 2;
	}
	if (o.failed) {
		lctr_opts_free(&o);
		return lctr_failf("images export: invalid option");
	}
	ctr_client *cl = lctr_client(g);
	if (!cl) {
		lctr_opts_free(&o);
		return 1;
	}
	const char *outp = argv[optind];
	bool to_stdout = !strcmp(outp, "-");
	int fd = to_stdout ? 1 : open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		lctr_opts_free(&o);
		return lctr_failf("images export: open %s: %s", outp, strerror(errno));
	}
	/* On a terminal (and not writing the tar there), the live display. */
	struct lctr_progress p = {0};
	bool show = !to_stdout && isatty(STDOUT_FILENO);
	if (show) {
		lctr_progress_start(&p, LCTR_PROGRESS_EXPORT);
		lctr_opts_add(&o, ctr_with_export_progress(lctr_on_progress, &p));
	}
	ctr_error *err = NULL;
	int r = ctr_image_export(cl, fd, (const char *const *)(argv + optind + 1), (size_t)(argc - optind - 1),
				  LCTR_OPTS(&o), &err);
	lctr_opts_free(&o);
	if (show && r == 0)
		lctr_progress_end(&p);
	else
		free(p.v);
	if (!to_stdout) {
		if (close(fd) < 0 && r == 0) {
			unlink(outp);
			return lctr_failf("images export: close %s: %s", outp, strerror(errno));
		}
		if (r < 0)
			unlink(outp);
	}
	return r < 0 ? lctr_fail("images export", err) : 0;
}
