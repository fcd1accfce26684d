/* libctr: namespaces (containerd's namespaces service).
 *
 * Every record lives in a namespace. Names are identifiers: letters, digits
 * and ._- between them, at most 76 characters. A namespace is created
 * explicitly or implicitly by the first write into it, as in containerd.
 * Labels cross the API as NULL-terminated arrays of "key=value" strings. */
#ifndef CTR_NAMESPACES_H
#define CTR_NAMESPACES_H

#include <ctr/common.h>
#include <ctr/client.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Namespace labels that pick a default for calls in that namespace, as
 * containerd's (defaults.DefaultRuntimeNSLabel, DefaultSnapshotterNSLabel).
 * The runtime label is used by ctr_container_new when neither
 * ctr_with_runtime nor the client's ctr_with_default_runtime gives one;
 * the snapshotter label wherever a call names no snapshotter. */
#define CTR_DEFAULT_RUNTIME_NS_LABEL "containerd.io/defaults/runtime"
#define CTR_DEFAULT_SNAPSHOTTER_NS_LABEL "containerd.io/defaults/snapshotter"

/* Create, list and delete take CTR_OPT_NAMESPACE options (none defined
 * yet; an option-callback of that kind receives a NULL target). */

/* Creates namespace `name` with labels (may be NULL).
 * Errors: CTR_EINVAL (bad name or label), CTR_EEXISTS. */
CTR_EXPORT int ctr_namespace_create(ctr_client *c, const char *name, const char *const *labels,
				    const ctr_opt *const *opts, size_t n_opts, ctr_error **err);

/* Names of the namespaces that match any of the containerd filter strings
 * (fields: name, labels.<key>; n_filters 0: all), sorted. Free *names with
 * ctr_strv_free. Errors: CTR_EINVAL (bad filter). */
CTR_EXPORT int ctr_namespace_list(char ***names, ctr_client *c, const char *const *filters,
				  size_t n_filters, const ctr_opt *const *opts, size_t n_opts,
				  ctr_error **err);

/* The namespace's labels, sorted "key=value". Free with ctr_strv_free.
 * Errors: CTR_EINVAL, CTR_ENOTFOUND. */
CTR_EXPORT int ctr_namespace_labels(char ***labels, ctr_client *c, const char *name,
				    ctr_error **err);

/* Sets labels: "k=v" sets k, "k=" removes it; others stay. Creates the
 * namespace when missing (as containerd's SetLabel). Errors: CTR_EINVAL. */
CTR_EXPORT int ctr_namespace_set_labels(ctr_client *c, const char *name,
					const char *const *labels, ctr_error **err);

/* Deletes an empty namespace. Errors: CTR_EINVAL, CTR_ENOTFOUND,
 * CTR_EPRECONDITION when images, containers, content, ingests, leases or
 * snapshots are left in it (the message names them). */
CTR_EXPORT int ctr_namespace_delete(ctr_client *c, const char *name, const ctr_opt *const *opts,
				    size_t n_opts, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
