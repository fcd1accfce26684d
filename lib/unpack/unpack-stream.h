/* Internal: the streaming layer unpacker (lib/unpack/unpack-stream.c). The pull
 * path feeds a layer's compressed bytes as they come off the network; a
 * thread of the unpacker decompresses and applies them into the layer's
 * extract snapshot at the same time.
 *
 * Life of one layer:
 *   start   takes the chain ID's flock (held until commit or free) and
 *           prepares the extract snapshot; a no-op unpacker ("skipped")
 *           when chain_id is already committed in ns
 *   write   * bytes of the blob, in order (blocks while the 4 MiB ring is
 *           full); reset restarts from byte 0 (a server that ignored Range)
 *   finish  end of the stream: the diff_id and the blob digest and size are
 *           checked; on !ok or an error the extract snapshot is removed
 *   commit  the layer gets chain_id, with parent_chain as its parent
 *   free    any time; removes whatever was not committed
 *
 * Modes. overlayfs (a snapshotter with commit_rebase): the extract snapshot
 * has no parent, so every layer of an image streams at once; the parent is
 * given at commit. A layer with a hardlink to a file of a lower layer
 * (CTR_ENOTFOUND from apply) is redone at commit from the content store:
 * the missing targets are copied up from the parent chain first. Other
 * snapshotters apply on the committed parent: streamed when the parent is
 * already committed at start, otherwise deferred to commit (the bytes are
 * then ignored by write and read back from the content store).
 *
 * Threads: write/reset/finish may run in one thread (the fetch's) and
 * start/commit/free in another; the snapshot and metadata calls of one
 * client's unpackers are serialised by the client's unpack mutex
 * (ctr_unpack_md_lock). The databases guard themselves (lib/metadata/db.h,
 * snapshot/storage.h), so other threads of the client need not take it. Start the layers of an
 * image in layer order from one thread: chain locks are then taken in the
 * same order by every process, so two pulls cannot deadlock (start blocks
 * while another process holds that chain ID). Commits are the
 * caller's to order: commit of a layer whose parent_chain is not committed
 * yet fails with CTR_EPRECONDITION (or CTR_ENOTFOUND) and leaves the
 * unpacker as it was, so the caller can commit it later. Deferred and redone
 * layers need the blob in the content store by commit. */
#ifndef CTR_LIB_UNPACK_STREAM_H
#define CTR_LIB_UNPACK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "manifest.h"
#include "opts.h"

struct ctr_layer_unpack;

#define CTR_UNPACK_RING_SIZE (4u << 20)

/* snapshotter NULL: the default. call may be NULL (no lease: the caller
 * holds the snapshots otherwise). parent_chain NULL for the first layer.
 * max_size: limit on the layer's uncompressed bytes (0: the
 * decompressor's default, 64 GiB); over it the apply fails with
 * CTR_EINVAL "exceeds N bytes".
 * Errors: CTR_EINVAL (bad digests), CTR_ENOTSUP (layer media type, a
 * snapshotter that cannot unpack), the snapshotter's. */
int ctr_layer_unpack_start(struct ctr_layer_unpack **out, ctr_client *c, const char *ns,
			   const char *snapshotter, const struct ctr_desc *layer, const char *diff_id,
			   const char *chain_id, const char *parent_chain, const struct ctr_call *call,
			   uint64_t max_size, ctr_error **err);
/* True when chain_id was already committed at start: every call is a no-op. */
bool ctr_layer_unpack_skipped(const struct ctr_layer_unpack *u);
/* True when the layer is (to be) applied at commit from the content store. */
bool ctr_layer_unpack_deferred(const struct ctr_layer_unpack *u);

/* Copies len bytes into the ring; blocks while it is full. Apply errors do
 * not show here (the bytes are drained): finish reports them. CTR_EINVAL
 * after finish. */
int ctr_layer_unpack_write(struct ctr_layer_unpack *u, const void *buf, size_t len, ctr_error **err);
/* The stream restarts at byte 0: the current apply is abandoned and the
 * extract snapshot replaced by an empty one. */
int ctr_layer_unpack_reset(struct ctr_layer_unpack *u, ctr_error **err);
/* End of the stream (ok: every byte was written). Errors: CTR_EDIGEST
 * (diff_id, blob digest or size), the apply's (CTR_EINVAL for a corrupt
 * stream...). After !ok or an error the unpacker is dead: its snapshot is
 * gone and its lock released; free it. */
int ctr_layer_unpack_finish(struct ctr_layer_unpack *u, bool ok, ctr_error **err);
/* Commits under chain_id on parent_chain, and labels the blob with its
 * diff_id (containerd.io/uncompressed). CTR_EPRECONDITION before finish or
 * while the parent is not committed (nothing changed), CTR_EDIGEST for a
 * deferred layer; another error kills the unpacker as finish does. */
int ctr_layer_unpack_commit(struct ctr_layer_unpack *u, ctr_error **err);
void ctr_layer_unpack_free(struct ctr_layer_unpack *u);

/* The mutex around the snapshot and metadata calls of c's unpackers. */
void ctr_unpack_md_lock(ctr_client *c);
void ctr_unpack_md_unlock(ctr_client *c);

#endif
