/* libctr: option objects, the C form of Go's functional options.
 *
 * A call takes `(const ctr_opt *const *opts, size_t n_opts)`. It borrows the
 * options; the caller frees them with ctr_opt_free(). Each option has a kind,
 * and a call rejects an option of another kind (or a NULL entry, which is what
 * a failed constructor returns) with CTR_EINVAL and a message naming it. */
#ifndef CTR_OPTS_H
#define CTR_OPTS_H

#include <ctr/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctr_opt ctr_opt;

/* What an option applies to. The `target` an apply callback receives is
 * opaque and depends on the kind; each kind's header names its setters. */
typedef enum ctr_opt_kind {
	CTR_OPT_CLIENT = 1,    /* ctr_client_new */
	CTR_OPT_LEASE = 2,     /* ctr_lease_create */
	CTR_OPT_CONTENT = 3,   /* content writers, fetch */
	CTR_OPT_GC = 4,        /* ctr_client_gc */
	CTR_OPT_SUBSCRIBE = 5, /* ctr_event_subscribe */
	CTR_OPT_CALL = 6,      /* per-call options accepted by many calls (lease, namespace) */
	CTR_OPT_PULL = 7,
	CTR_OPT_PUSH = 8,
	CTR_OPT_CONTAINER = 9,
	CTR_OPT_SPEC = 10,
	CTR_OPT_TASK = 11,
	CTR_OPT_SNAPSHOT = 12,
	CTR_OPT_REMOTE = 13,   /* registry access: pull, fetch, push */
	CTR_OPT_IMPORT = 14,   /* ctr_image_import */
	CTR_OPT_EXPORT = 15,   /* ctr_image_export */
	CTR_OPT_KILL = 16,     /* ctr_task_kill, ctr_process_kill */
	CTR_OPT_PROCESS_DELETE = 17, /* ctr_task_delete, ctr_process_delete */
	CTR_OPT_TASK_UPDATE = 18,    /* ctr_task_update */
	CTR_OPT_CLOSE_IO = 19, /* ctr_task_close_io, ctr_process_close_io */
	CTR_OPT_IMAGE = 20,    /* image record calls (ctr_image_tag) */
	CTR_OPT_NAMESPACE = 21, /* namespace calls (none defined yet) */
	CTR_OPT_CONTENT_COMMIT = 22, /* ctr_content_writer_commit (none defined yet) */
	CTR_OPT_INTROSPECT = 23, /* ctr_server_info_get, ctr_plugin_list (none defined yet) */
	CTR_OPT_CHECKPOINT = 24, /* ctr_container_checkpoint */
	CTR_OPT_RESTORE = 25,   /* ctr_container_restore */
	CTR_OPT_INSTALL = 26,   /* ctr_image_install */
	CTR_OPT_CHECK = 27,     /* ctr_client_check */
	CTR_OPT_UNPACK = 32     /* ctr_image_unpack, and ctr_image_pull with ctr_with_pull_unpack */
} ctr_opt_kind;

/* Applies an option to `target`. Returns 0 or a CTR_E* code; may fill err. */
typedef int (*ctr_opt_apply_fn)(void *target, void *userdata, ctr_error **err);

/* Makes an option-callback of `kind`. free_fn (may be NULL) is called on
 * userdata by ctr_opt_free(). Returns NULL on allocation failure. */
CTR_EXPORT ctr_opt *ctr_opt_new(ctr_opt_kind kind, ctr_opt_apply_fn apply,
				void *userdata, void (*free_fn)(void *userdata));
CTR_EXPORT ctr_opt_kind ctr_opt_kind_of(const ctr_opt *o);
/* The option's name, e.g. "ctr_with_root"; "option-callback" for ctr_opt_new. */
CTR_EXPORT const char *ctr_opt_name(const ctr_opt *o);
CTR_EXPORT void ctr_opt_free(ctr_opt *o);

/* Options that several kinds of call accept (kind CTR_OPT_CALL). */
/* Run the call in namespace ns instead of the client's default. */
CTR_EXPORT ctr_opt *ctr_with_call_namespace(const char *ns);
/* Hold what the call creates with lease `id` (containerd's WithLease). */
CTR_EXPORT ctr_opt *ctr_with_lease(const char *id);

/* Sugar for C callers: CTR_OPTS(a, b) expands to the array and its count. */
#define CTR_OPTS(...)                                                       \
	((const ctr_opt *const[]){__VA_ARGS__}),                            \
	(sizeof((const ctr_opt *const[]){__VA_ARGS__}) / sizeof(const ctr_opt *))
#define CTR_NO_OPTS NULL, 0

#ifdef __cplusplus
}
#endif
#endif
