/* Internal additions to the public content writer, for pull. */
#ifndef CTR_LIB_CONTENT_INTERNAL_H
#define CTR_LIB_CONTENT_INTERNAL_H

#include <ctr/content.h>

/* Truncates the writer's ingest to 0 bytes (a server ignored Range). */
int ctr_content_writer_reset(ctr_content_writer *w, ctr_error **err);

#endif
