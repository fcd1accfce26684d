/* The collector's blob sweeper over the content store. */
#include "store.h"
#include "error.h"
#include "gc.h"
#include "snapshots.h"

static int remove_blob(void *ud, const char *digest, ctr_error **err)
{
	return ctr_cs_blob_delete(((ctr_client *)ud)->cs, digest, err);
}

static int remove_ingest(void *ud, const char *ref, ctr_error **err)
{
	return ctr_cs_abort(((ctr_client *)ud)->cs, ref, err);
}

static int remove_snapshot(void *ud, const char *ns, const char *snapshotter, const char *key,
			   ctr_error **err)
{
	return ctr_snapshots_gc_remove(ud, ns, snapshotter, key, err);
}

struct walk {
	int (*fn)(const char *digest, void *ud);
	void *ud;
};

static int walk_one(const char *digest, uint64_t size, void *ud)
{
	struct walk *w = ud;
	(void)size;
	return w->fn(digest, w->ud);
}

static int walk_blobs(void *ud, int (*fn)(const char *digest, void *fn_ud), void *fn_ud,
		      ctr_error **err)
{
	struct walk w = {fn, fn_ud};
	return ctr_cs_blob_walk(((ctr_client *)ud)->cs, walk_one, &w, err);
}

int ctr_gc_content_sweeper(ctr_client *c, struct ctr_gc_sweeper *sw, int *lock_fd, ctr_error **err)
{
	*lock_fd = -1;
	if (!c->cs)
		return 0;
	int fd = ctr_cs_gc_lock(c->cs, true, err);
	if (fd < 0)
		return fd;
	sw->remove_blob = remove_blob;
	sw->walk_blobs = walk_blobs;
	sw->remove_ingest = remove_ingest;
	sw->remove_snapshot = remove_snapshot;
	sw->ud = c;
	*lock_fd = fd;
	return 0;
}
