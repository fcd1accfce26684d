/* Glue between the collector (lib/metadata/md-gc.c) and the stores whose bytes
 * it frees. */
#ifndef CTR_LIB_GC_H
#define CTR_LIB_GC_H

#include "client.h"
#include "metadata.h"

/* Fills the blob part of the sweeper from the client's blob store and takes
 * the store's GC lock exclusively (so no blob is renamed in without its
 * record while the collector runs). *lock_fd is -1 when there is no store.
 * Defined in gc-content.c. */
int ctr_gc_content_sweeper(ctr_client *c, struct ctr_gc_sweeper *sw, int *lock_fd, ctr_error **err);

#endif
