/* Internal pieces of ctr_image_import, shared by import.c (the stream
 * and the walk), import-opts.c (options) and import-docker.c (docker save
 * archives turned into an index). */
#ifndef CTR_IMAGES_IMPORT_H
#define CTR_IMAGES_IMPORT_H

#include <archive.h>
#include <ctr/remote.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive-util.h"
#include "manifest.h"

#define IMPORT_JSON_MAX CTR_MAX_MANIFEST /* index.json, manifest.json, oci-layout */
#define IMPORT_MAX_PLATFORMS 16
#define IMPORT_MAX_PATH 4096
#define IMPORT_BUF (128 * 1024)

struct imp_cfg {
	struct ctr_platform plats[IMPORT_MAX_PLATFORMS];
	size_t n_plats;
	bool all;
	char *index_name;
	char *prefix;
	bool filter_prefix;
	char *digest_prefix;
	char **labels;
	bool unpack;
	char *snapshotter; /* with unpack; NULL: default */
	ctr_progress_fn progress; /* ctr_with_import_progress, or NULL */
	void *progress_ud;
};

/* ---- state ---- */

struct file_ent {
	char *name; /* cleaned path */
	char digest[CTR_DIGEST_MAX];
	int64_t size;
	unsigned char head[8];
	size_t n_head;
};

struct link_ent {
	char *name, *target; /* cleaned; target NULL when it leaves the archive */
};

struct img_ent {
	char *name;
	struct ctr_desc desc;
};

struct imp {
	ctr_client *c;
	struct imp_cfg cfg;
	struct ctr_arc arc;
	struct archive *ar;
	char *buf; /* IMPORT_BUF bytes */
	struct file_ent *files;
	size_t n_files, cap_files;
	struct link_ent *links;
	size_t n_links, cap_links;
	char *layout, *index, *dmanifest;
	size_t layout_len, index_len, dmanifest_len;
	struct ctr_platform_matcher m;
	char **visited;
	size_t n_visited, cap_visited;
	struct img_ent *imgs;
	size_t n_imgs, cap_imgs;
};

void ctr_import_cfg_clear(struct imp_cfg *c);
/* Cleans an untrusted archive path: no absolute path, no "..", "." and
 * empty components dropped. *out may be "" (the root). CTR_EINVAL. */
int ctr_import_clean_path(const char *in, char **out, ctr_error **err);
/* Builds and stores the index for a docker save archive (manifest.json), as
 * containerd's ImportIndex does; out gets its descriptor. */
int ctr_import_docker_index(struct imp *im, struct ctr_desc *out, ctr_error **err);

#endif
