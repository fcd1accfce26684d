/* Shared between store.c (blobs, GC lock) and ingest.c (writers, status). */
#ifndef CTR_CONTENT_STORE_PRIV_H
#define CTR_CONTENT_STORE_PRIV_H

#include "store.h"

struct ctr_cs {
	int content_fd; /* O_RDONLY|O_DIRECTORY on content/ */
	int blobs_fd;   /* content/blobs */
	int alg_fd[3];  /* content/blobs/<alg>, indexed by ctr_digest_alg */
	int ingest_fd;  /* content/ingest */
};

/* Validates digest and returns the fd of its algorithm's blob directory,
 * with *hex pointing into digest. CTR_EINVAL, CTR_ENOTSUP. */
int ctr_cs_blob_dir(struct ctr_cs *cs, const char *digest, const char **hex, ctr_digest_alg *alg,
		    ctr_error **err);

/* An ingest being removed is first renamed to ingest/.trash-*; the store
 * sweeps leftovers of interrupted removals when it opens. */
#define TRASH_PREFIX ".trash-"

#endif
