/* libctr: introspection (containerd's introspection service): what this
 * root is and which plugins work here. */
#ifndef CTR_INTROSPECT_H
#define CTR_INTROSPECT_H

#include <ctr/client.h>
#include <ctr/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* containerd's Introspection.Server. */
typedef struct ctr_server_info ctr_server_info;

/* The root's identity. Its UUID is made by the first call on a root and
 * kept in <root>/uuid; every later call, from any process, gets the same
 * one, and two processes racing on a new root agree. No options are
 * defined yet. CTR_EIO when the stored UUID is not one. */
CTR_EXPORT int ctr_server_info_get(ctr_server_info **out, ctr_client *c, const ctr_opt *const *opts,
				   size_t n_opts, ctr_error **err);
/* Borrowed: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case. */
CTR_EXPORT const char *ctr_server_info_uuid(const ctr_server_info *i);
CTR_EXPORT void ctr_server_info_free(ctr_server_info *i);

/* One plugin, as containerd's Introspection.Plugins lists it. */
typedef struct ctr_plugin ctr_plugin;

typedef enum ctr_plugin_state {
	CTR_PLUGIN_OK = 0,   /* usable */
	CTR_PLUGIN_SKIP = 1, /* not usable on this machine or root; ctr_plugin_reason says why */
} ctr_plugin_state;

/* Every plugin of the client, in a stable order: the snapshotters
 * (io.containerd.snapshotter.v1: the built-ins, each checked on this root,
 * then those registered with ctr_snapshotter_register), the runtimes
 * (io.containerd.runtime.v2: runc, crun, each asked for its version), the
 * differ (io.containerd.differ.v1) and criu (io.containerd.checkpoint.v1,
 * from `criu check`). Each probe of a tool starts a process. No options
 * are defined yet. */
CTR_EXPORT int ctr_plugin_list(ctr_plugin ***out, size_t *n_out, ctr_client *c, const ctr_opt *const *opts,
			       size_t n_opts, ctr_error **err);
/* Borrowed from p. */
CTR_EXPORT const char *ctr_plugin_type(const ctr_plugin *p);
CTR_EXPORT const char *ctr_plugin_id(const ctr_plugin *p);
/* NULL-terminated, e.g. {"linux/amd64", NULL}; empty when it has none. */
CTR_EXPORT const char *const *ctr_plugin_platforms(const ctr_plugin *p);
CTR_EXPORT ctr_plugin_state ctr_plugin_status(const ctr_plugin *p);
/* Why it is skipped (NULL when ok): e.g. "/var/lib/libctr/snapshots/btrfs
 * is not on btrfs (filesystem type 0xef53)", or criu's own message. */
CTR_EXPORT const char *ctr_plugin_reason(const ctr_plugin *p);
/* The tool's version when it reports one ("1.1.5"), else NULL. */
CTR_EXPORT const char *ctr_plugin_version(const ctr_plugin *p);
CTR_EXPORT void ctr_plugin_free(ctr_plugin *p);
CTR_EXPORT void ctr_plugin_list_free(ctr_plugin **v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
