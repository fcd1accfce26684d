/* Test-only writers of the image and container records that the collector
 * reads (tests/unit/md-records.c). */
#ifndef CTR_TESTS_MD_RECORDS_H
#define CTR_TESTS_MD_RECORDS_H

#include "metadata.h"

int ctr_md_image_put(struct ctr_db *db, const char *ns, const char *name, const char *media_type,
		     const char *digest, uint64_t size, const char *const *labels, ctr_error **err);
int ctr_md_image_delete(struct ctr_db *db, const char *ns, const char *name, ctr_error **err);
int ctr_md_container_put(struct ctr_db *db, const char *ns, const char *id, const char *image,
			 const char *snapshotter, const char *snapshot_key,
			 const char *const *labels, ctr_error **err);
int ctr_md_container_delete(struct ctr_db *db, const char *ns, const char *id, ctr_error **err);

#endif
