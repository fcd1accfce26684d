/* Internal view of the remote, pull and push options, and the adapters
 * from the public callbacks to remotes/. */
#ifndef CTR_LIB_REMOTE_OPTS_H
#define CTR_LIB_REMOTE_OPTS_H

#include <ctr/remote.h>
#include <stdbool.h>

#include "platforms.h"
#include "opts.h"
#include "remotes.h"

#define CTR_MAX_PLATFORM_OPTS 16
#define CTR_MAX_IMAGE_HANDLERS 64

struct ctr_pull_handler;

/* Filled by CTR_OPT_REMOTE options. Strings are borrowed from the options. */
struct ctr_remote_cfg {
	bool plain_http, skip_verify;
	const char *hosts_dir, *docker_config, *ca_file, *client_cert, *client_key;
	unsigned downloads, uploads;
	ctr_credentials_fn creds;
	void *creds_ud;
	ctr_progress_fn progress;
	void *progress_ud;
	struct ctr_platform platforms[CTR_MAX_PLATFORM_OPTS];
	size_t n_platforms;
	bool all_platforms;
	/* ctr_with_platform_matcher: beats the two above */
	bool has_matcher;
	struct ctr_platform_matcher matcher;
};

/* Filled by CTR_OPT_PULL options. labels and handlers are malloc'd (the
 * strings are borrowed); free with ctr_pull_cfg_clear. */
struct ctr_pull_cfg {
	bool all_metadata;
	bool unpack;
	char *snapshotter; /* NULL: default */
	ctr_child_label_fn child_fn;
	void *child_ud;
	bool filter_layers;
	const char **labels;
	size_t n_labels;
	uint64_t max_layer_size; /* uncompressed bytes per layer; 0: the default */
	struct ctr_pull_handler *handlers; /* ctr_with_image_handler, in order (malloc'd) */
	size_t n_handlers;
	ctr_image_handler_wrapper_fn wrapper; /* ctr_with_image_handler_wrapper */
	void *wrapper_ud;
};
void ctr_pull_cfg_clear(struct ctr_pull_cfg *p);

/* Filled by CTR_OPT_PUSH options (none yet). */
struct ctr_push_cfg {
	int unused;
};

/* remotes/ options for cfg; push selects the upload concurrency and
 * progress state names. cfg must outlive the remote. */
void ctr_remote_cfg_to_opts(const struct ctr_remote_cfg *cfg, bool push, struct ctr_remote_opts *o);
/* The platform matcher the options ask for: ctr_with_platform_matcher's,
 * all, the ordered list given, or c's default (ctr_with_default_platform,
 * else the host's). *explicit_ says whether the options named any. */
void ctr_remote_cfg_matcher(const struct ctr_remote_cfg *cfg, const ctr_client *c, struct ctr_platform_matcher *m,
			    bool *explicit_);
/* Reports to the caller's progress callback (no-op without one). */
int ctr_remote_cfg_progress(const struct ctr_remote_cfg *cfg, const char *digest, const char *media_type,
			    int64_t done, int64_t total, ctr_progress_state state);

/* A push source (struct ctr_remote_source's read_at) over a
 * ctr_content_reader passed as ud; a blob that ends early is CTR_EIO. */
ssize_t ctr_remote_content_read_at(void *ud, void *buf, size_t len, uint64_t off, ctr_error **err);

#endif
