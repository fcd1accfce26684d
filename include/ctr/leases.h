/* libctr: leases (containerd's leases service).
 *
 * A lease keeps what it holds (content, ingests, snapshots) from the garbage
 * collector until it is deleted or expires. Calls that create things take
 * ctr_with_lease(id) (see opts.h) to put what they create on a lease.
 * Lease calls run in the client's namespace unless given
 * ctr_with_call_namespace(). */
#ifndef CTR_LEASES_H
#define CTR_LEASES_H

#include <ctr/common.h>
#include <ctr/client.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A lease record: plain data, independent of the client. */
typedef struct ctr_lease ctr_lease;

/* Lease options (kind CTR_OPT_LEASE). */
/* The lease's id (an identifier); default: a random one. */
CTR_EXPORT ctr_opt *ctr_with_lease_id(const char *id);
/* Expire `seconds` from now (> 0). Also recorded as the label
 * containerd.io/gc.expire, as containerd's WithExpiration does. */
CTR_EXPORT ctr_opt *ctr_with_lease_expiration(int64_t seconds);
/* Labels, NULL-terminated "key=value" (added to earlier ones). A label
 * containerd.io/gc.expire=<RFC 3339 time> sets the expiry too;
 * containerd.io/gc.flat keeps the collector from following references
 * out of the lease's resources. */
CTR_EXPORT ctr_opt *ctr_with_lease_labels(const char *const *labels);

/* Creates a lease. Takes CTR_OPT_LEASE and CTR_OPT_CALL options. *out (may
 * be NULL) gets the record; free with ctr_lease_free.
 * Errors: CTR_EINVAL (bad id, label or option), CTR_EEXISTS. */
CTR_EXPORT int ctr_lease_create(ctr_lease **out, ctr_client *c, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err);

/* Borrowed getters. Times are unix nanoseconds. */
CTR_EXPORT const char *ctr_lease_id(const ctr_lease *l);
CTR_EXPORT const char *ctr_lease_namespace(const ctr_lease *l);
CTR_EXPORT int64_t ctr_lease_created_at(const ctr_lease *l);
/* 0 when the lease never expires. */
CTR_EXPORT int64_t ctr_lease_expires_at(const ctr_lease *l);
/* Sorted "key=value", NULL-terminated; never NULL for a valid lease. */
CTR_EXPORT const char *const *ctr_lease_labels(const ctr_lease *l);
CTR_EXPORT void ctr_lease_free(ctr_lease *l);

/* Leases matching any of the filters (fields: id, labels.<key>), oldest
 * first. *out is NULL-terminated with *n entries (n may be NULL); free with
 * ctr_lease_list_free. Takes CTR_OPT_CALL options. Expired leases are
 * listed until the collector removes them. */
CTR_EXPORT int ctr_lease_list(ctr_lease ***out, size_t *n, ctr_client *c,
			      const char *const *filters, size_t n_filters,
			      const ctr_opt *const *opts, size_t n_opts, ctr_error **err);
/* n: the count ctr_lease_list gave. */
CTR_EXPORT void ctr_lease_list_free(ctr_lease **v, size_t n);

/* Deletes a lease; what it held is left to the collector.
 * Errors: CTR_EINVAL, CTR_ENOTFOUND. */
CTR_EXPORT int ctr_lease_delete(ctr_client *c, const char *id, const ctr_opt *const *opts,
				size_t n_opts, ctr_error **err);

/* Resources: type "content" (id a digest), "ingests" (id an ingest ref) or
 * "snapshots/<snapshotter>" (id a snapshot key).
 * Adding twice is fine. Errors: CTR_EINVAL, CTR_ENOTFOUND (no such lease,
 * or it has expired). */
CTR_EXPORT int ctr_lease_add_resource(ctr_client *c, const char *id, const char *type,
				      const char *resource_id, const ctr_opt *const *opts,
				      size_t n_opts, ctr_error **err);
/* Errors: CTR_EINVAL, CTR_ENOTFOUND (no such lease or resource). */
CTR_EXPORT int ctr_lease_delete_resource(ctr_client *c, const char *id, const char *type,
					 const char *resource_id, const ctr_opt *const *opts,
					 size_t n_opts, ctr_error **err);
/* The lease's resources as two parallel NULL-terminated arrays, sorted by
 * type then id. Free both with ctr_strv_free. Errors: CTR_ENOTFOUND. */
CTR_EXPORT int ctr_lease_list_resources(char ***types, char ***ids, ctr_client *c, const char *id,
				   const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
