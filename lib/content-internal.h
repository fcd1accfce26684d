/* Internal additions to the public content writer, for pull. */
#ifndef CTR_LIB_CONTENT_INTERNAL_H
#define CTR_LIB_CONTENT_INTERNAL_H

#include <ctr/content.h>

/* Truncates the writer's ingest to 0 bytes (a server ignored Range). */
int ctr_content_writer_reset(ctr_content_writer *w, ctr_error **err);

/* Reads bytes the writer already holds (below its offset). */
int64_t ctr_content_writer_pread(ctr_content_writer *w, void *buf, size_t len, int64_t off, ctr_error **err);

#endif
