/* libctr: the client, entry point to a root and state directory. */
#ifndef CTR_CLIENT_H
#define CTR_CLIENT_H

#include <ctr/common.h>
#include <ctr/opts.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A client owns the connection to the metadata database of one root and the
 * state directory. It is reference counted (atomically): every image,
 * container or task handle keeps a reference, so handles may be freed in any
 * order and from any thread.
 *
 * Threads (libctr(3), THREAD SAFETY): one client may be used from several
 * threads at once; calls on it serialise internally only where they share
 * state (a metadata transaction, a snapshotter's records, the event
 * journal), and two clients never wait on each other inside the process.
 * Not safe: ctr_client_set_namespace while another thread uses the client
 * (give calls their namespace as an option instead), and ctr_client_free of
 * the last reference while a call on it runs. Other handles (image,
 * container, process, subscription, content reader/writer, spec) have one
 * owner: a thread may use or free one handle while other threads use
 * others, but one handle is not for two threads at once. ctr_task is
 * reference counted (atomically) like the client. */
typedef struct ctr_client ctr_client;

/* Client options (kind CTR_OPT_CLIENT). */
CTR_EXPORT ctr_opt *ctr_with_root(const char *dir);
CTR_EXPORT ctr_opt *ctr_with_state(const char *dir);
/* Default namespace for calls (default "default", or $CONTAINERD_NAMESPACE
 * is NOT read: the library never reads the environment for namespaces). */
CTR_EXPORT ctr_opt *ctr_with_namespace(const char *ns);

/* The runtime of a container created without ctr_with_runtime
 * (containerd's WithDefaultRuntime): CTR_DEFAULT_RUNTIME or the absolute
 * path of an OCI runtime binary, checked when the client is made
 * (CTR_EINVAL). Order for a new container: ctr_with_runtime, then this,
 * then the label CTR_DEFAULT_RUNTIME_NS_LABEL of the container's
 * namespace (containerd reads it only when the client has no default
 * runtime), then CTR_DEFAULT_RUNTIME. */
CTR_EXPORT ctr_opt *ctr_with_default_runtime(const char *runtime);

/* How a list of platforms ("os/arch[/variant]", containerd's specifiers)
 * matches the platforms of an index, after containerd's platforms
 * package. Lower in the list is a better match, except for ANY. */
typedef enum ctr_platform_match_kind {
	/* platforms.Only: each platform and what it can run (amd64/v3 also
	 * takes v2, v1 and 386; arm64 takes arm/v8..v5), the list in order. */
	CTR_PLATFORM_MATCH_ONLY = 1,
	/* platforms.OnlyStrict (one) or Ordered (several): exactly those, in order. */
	CTR_PLATFORM_MATCH_ORDERED = 2,
	/* platforms.Any: exactly those, with no preference among them (the
	 * first match in the index wins). */
	CTR_PLATFORM_MATCH_ANY = 3,
	/* platforms.All: every platform (the list must be empty). */
	CTR_PLATFORM_MATCH_ALL = 4
} ctr_platform_match_kind;
/* At most this many platforms in one matcher. */
#define CTR_PLATFORM_MATCH_MAX 8

/* The client's default platform matcher (containerd's WithDefaultPlatform):
 * what a pull or fetch without platform options keeps, and what an image
 * handle without platforms resolves its manifest for (config, rootfs,
 * chain ID, unpack, mounts, size, usage, install, new snapshots). Default:
 * the host's platform, CTR_PLATFORM_MATCH_ONLY. platforms is
 * NULL-terminated (NULL for CTR_PLATFORM_MATCH_ALL) and copied; a bad
 * specifier, an unknown how, none or more than CTR_PLATFORM_MATCH_MAX
 * platforms are CTR_EINVAL from ctr_client_new. */
CTR_EXPORT ctr_opt *ctr_with_default_platform(ctr_platform_match_kind how, const char *const *platforms);

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
/* Changes the default namespace. CTR_EINVAL on a bad identifier. Not to be
 * called while another thread uses c. */
CTR_EXPORT int ctr_client_set_namespace(ctr_client *c, const char *ns, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
