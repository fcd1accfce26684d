/* Internal: the state of one fetch or pull (lib/transfer/transfer-fetch.c), shared with the
 * streaming unpack of pull (lib/transfer/pull-unpack.c) and the blob ingest
 * (lib/transfer/fetch-ingest.c). */
#ifndef CTR_LIB_FETCH_INTERNAL_H
#define CTR_LIB_FETCH_INTERNAL_H

#include <ctr/content.h>

#include "client.h"
#include "manifest.h"
#include "remote-opts.h"
#include "remotes.h"
#include "unpack.h"

struct ctr_layer_unpack;
struct ctr_fetch_unpack;

#define MAX_MANIFESTS 512
#define MAX_BLOBS 4096
/* How long a deferred blob waits for another process's ingest. */
#define WAIT_OTHER_MS (10 * 60 * 1000)

struct fman {
	struct ctr_desc desc;
	char *buf;
	size_t len;
	struct ctr_manifest m;
	char **labels; /* gc.ref children + distribution source */
	size_t n_labels;
	bool skip; /* the caller's handler wrapper skipped it: not stored */
};

struct fblob {
	struct ctr_desc *desc; /* owned copy */
	ctr_content_writer *w;
	struct ctr_remote_desc rd;
	struct ctr_remote_sink sink;
	bool deferred;
	bool done;                 /* stored before the rounds (a config read early) */
	struct ctr_layer_unpack *u; /* pull with unpack: the layer's unpacker (borrowed) */
	bool streamed;             /* bytes went through u during this call */
};

struct fetch {
	ctr_client *c;
	const char *ref;
	struct ctr_remote *r;
	struct ctr_remote_cfg cfg;
	struct ctr_pull_cfg pull;
	struct ctr_unpack_cfg unpack; /* CTR_OPT_UNPACK options (pull only) */
	struct ctr_call call;
	const char *ns;
	char *lease;
	bool own_lease;
	struct ctr_call scope; /* f.ns and f.lease, for the content calls */
	char *src_label; /* "containerd.io/distribution.source.<host>=<repo>" */
	struct ctr_platform_matcher matcher;
	size_t limit; /* manifests kept per index; 0: all matching */
	struct fman *mans;
	size_t n_mans;
	struct fblob *blobs;
	size_t n_blobs;
	struct ctr_fetch_unpack *up; /* pull with unpack (lib/transfer/pull-unpack.c) */
};

/* pull-unpack.c: before the blobs are fetched, reads the config, starts one
 * streaming unpacker per layer of the manifest chosen for this host and
 * attaches each to its blob; after, feeds what did not stream, finishes and
 * commits the layers in order and labels the config. */
int ctr_fetch_unpack_begin(struct fetch *f, ctr_error **err);
int ctr_fetch_unpack_end(struct fetch *f, bool ok, ctr_error **err);
void ctr_fetch_unpack_free(struct ctr_fetch_unpack *up);

#endif
