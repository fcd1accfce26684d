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
};

/* Filled by CTR_OPT_PULL options. labels is malloc'd (the strings are
 * borrowed); free with ctr_pull_cfg_clear. */
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
};
void ctr_pull_cfg_clear(struct ctr_pull_cfg *p);

/* Filled by CTR_OPT_PUSH options (none yet). */
struct ctr_push_cfg {
	int unused;
};

/* remotes/ options for cfg; push selects the upload concurrency and
 * progress state names. cfg must outlive the remote. */
void ctr_remote_cfg_to_opts(const struct ctr_remote_cfg *cfg, bool push, struct ctr_remote_opts *o);
/* The platform matcher the options ask for: all, the ordered list given,
 * or the host default. *explicit_ says whether platforms were named. */
void ctr_remote_cfg_matcher(const struct ctr_remote_cfg *cfg, struct ctr_platform_matcher *m, bool *explicit_);
/* Reports to the caller's progress callback (no-op without one). */
int ctr_remote_cfg_progress(const struct ctr_remote_cfg *cfg, const char *digest, const char *media_type,
			    int64_t done, int64_t total, ctr_progress_state state);

#endif
