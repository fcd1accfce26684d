/* libctr: the client, entry point to a root and state directory. */
#ifndef CTR_CLIENT_H
#define CTR_CLIENT_H

#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A client owns the connection to the metadata database of one root and the
 * state directory. It is reference counted: every image, container or task
 * handle keeps a reference, so handles may be freed in any order. A client
 * may be used from several threads only if the caller serialises calls. */
typedef struct ctr_client ctr_client;

/* Client options (kind CTR_OPT_CLIENT). */
CTR_EXPORT ctr_opt *ctr_with_root(const char *dir);
CTR_EXPORT ctr_opt *ctr_with_state(const char *dir);
/* Default namespace for calls (default "default", or $CONTAINERD_NAMESPACE
 * is NOT read: the library never reads the environment for namespaces). */
CTR_EXPORT ctr_opt *ctr_with_namespace(const char *ns);

/* Opens (creating when missing) the root and state directories.
 * Errors: CTR_EINVAL (bad option or namespace), CTR_EIO, CTR_EPERM. */
CTR_EXPORT int ctr_client_new(ctr_client **out, const ctr_opt *const *opts,
			      size_t n_opts, ctr_error **err);
CTR_EXPORT ctr_client *ctr_client_ref(ctr_client *c);
/* Drops a reference; accepts NULL. */
CTR_EXPORT void ctr_client_free(ctr_client *c);

/* Borrowed getters. */
CTR_EXPORT const char *ctr_client_root(const ctr_client *c);
CTR_EXPORT const char *ctr_client_state(const ctr_client *c);
CTR_EXPORT const char *ctr_client_namespace(const ctr_client *c);
/* Changes the default namespace. CTR_EINVAL on a bad identifier. */
CTR_EXPORT int ctr_client_set_namespace(ctr_client *c, const char *ns, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
