/* libctr: the store check (containerd's `ctr content/images check`, over a
 * whole root).
 *
 * ctr_client_check walks the root's blobs, ingests, records and snapshots
 * and reports what a crash (or a hand in the store) can leave behind. With
 * ctr_with_check_repair() it also fixes what can be fixed: each finding says
 * whether it was. */
#ifndef CTR_CHECK_H
#define CTR_CHECK_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <ctr/opts.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctr_check_report ctr_check_report;

/* What a finding is, and what repair does with it. */
typedef enum ctr_check_kind {
	/* content/blobs/<alg>/<hex> whose bytes do not hash to its name.
	 * Repair removes the blob and every namespace's record of it. */
	CTR_CHECK_BLOB_CORRUPT = 1,
	/* A namespace's content record whose blob is gone. Repair removes the
	 * record. */
	CTR_CHECK_CONTENT_MISSING = 2,
	/* An image record whose target blob is gone. Reported only: pull the
	 * image again. */
	CTR_CHECK_IMAGE_TARGET_MISSING = 3,
	/* A namespace's snapshot record the snapshotter has no entry for.
	 * Repair removes the record. */
	CTR_CHECK_SNAPSHOT_MISSING = 4,
	/* A committed snapshot whose directory is missing or incomplete.
	 * Repair removes the snapshot (record and entry). */
	CTR_CHECK_SNAPSHOT_INCOMPLETE = 5,
	/* An entry of <root>/snapshots/<snapshotter>/snapshots that no
	 * snapshot names. Repair removes it. */
	CTR_CHECK_SNAPSHOT_ORPHAN_DIR = 6,
	/* An ingest no writer holds: resumable by the next write of its ref.
	 * Repair removes it. */
	CTR_CHECK_INGEST_STALE = 7,
	/* An unpack's extract snapshot whose unpacker is gone (no process
	 * holds its layer's lock). Repair removes it. */
	CTR_CHECK_EXTRACT_STALE = 8
} ctr_check_kind;

/* Checks the client's root. Takes CTR_OPT_CHECK options. *out gets the
 * report (free with ctr_check_report_free), also when it has no findings.
 * Errors: CTR_EINVAL, CTR_EIO, CTR_EBUSY (the database stayed locked). */
CTR_EXPORT int ctr_client_check(ctr_check_report **out, ctr_client *c, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err);
/* Repair what can be repaired (see ctr_check_kind). */
CTR_EXPORT ctr_opt *ctr_with_check_repair(void);

/* Findings, in the order found. Index i < ctr_check_report_count(). */
CTR_EXPORT size_t ctr_check_report_count(const ctr_check_report *r);
CTR_EXPORT ctr_check_kind ctr_check_report_kind(const ctr_check_report *r, size_t i);
/* The kind's name: "blob-corrupt", "content-missing", "image-target-missing",
 * "snapshot-missing", "snapshot-incomplete", "snapshot-orphan",
 * "ingest-stale", "extract-stale" (as lctr images check prints them). */
CTR_EXPORT const char *ctr_check_report_kind_name(const ctr_check_report *r, size_t i);
/* What the finding is about: "sha256:<hex>", "<ns>/<digest>",
 * "<ns>/<image>", "<snapshotter>/<ns>/<key>", "<snapshotter>/<entry>",
 * "<ref>". Borrowed from r. */
CTR_EXPORT const char *ctr_check_report_subject(const ctr_check_report *r, size_t i);
/* A sentence about it. Borrowed from r. */
CTR_EXPORT const char *ctr_check_report_detail(const ctr_check_report *r, size_t i);
/* Whether repair fixed it. */
CTR_EXPORT bool ctr_check_report_repaired(const ctr_check_report *r, size_t i);
CTR_EXPORT void ctr_check_report_free(ctr_check_report *r);

#ifdef __cplusplus
}
#endif
#endif
