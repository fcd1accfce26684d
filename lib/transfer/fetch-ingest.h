/* Ingest of one blob of a fetch or pull (lib/transfer/fetch-ingest.c): what
 * lib/transfer/transfer-fetch.c and lib/transfer/pull-unpack.c both build on. */
#ifndef CTR_LIB_FETCH_INGEST_H
#define CTR_LIB_FETCH_INGEST_H

#include <ctr/content.h>

#include "fetch-internal.h"
#include "walk.h"

/* 1 when the namespace has the blob already (labels applied), 0
 * with *w open for writing, or a negative code. */
int ctr_fetch_open_ingest(struct fetch *f, const struct ctr_desc *d, int wait_ms, char **labels,
			  ctr_content_writer **w, ctr_error **err);
int ctr_fetch_commit_blob(struct fetch *f, ctr_content_writer *w, const struct ctr_desc *d, char **labels,
			  ctr_error **err);

#endif
