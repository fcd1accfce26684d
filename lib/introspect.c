/* Introspection: the root's UUID and the list of plugins (containerd's
 * introspection service). The UUID is created once per root: written to a
 * private file and linked to <root>/uuid, which fails with EEXIST for every
 * process but the first, so racing processes all read the winner's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ctr/introspect.h>

#include "client.h"
#include "error.h"
#include "fs.h"
#include "macro.h"
#include "opts.h"
#include "platforms.h"
#include "runtime.h"
#include "snapshots.h"

#define UUID_LEN 36

struct ctr_server_info {
	char uuid[UUID_LEN + 1];
};

struct ctr_plugin {
	char *type, *id, *reason, *version;
	char *platforms[2];
	ctr_plugin_state status;
};

/* Parses what <root>/uuid holds: a lower-case UUID and an optional newline. */
static bool uuid_valid(const char *s, size_t len)
{
	if (len == UUID_LEN + 1 && s[UUID_LEN] == '\n')
		len--;
	if (len != UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int uuid_make(char out[UUID_LEN + 2], ctr_error **err)
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t k = getrandom(b + got, sizeof(b) - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ctr_err_errno(err, errno, "server info: getrandom");
		got += (size_t)k;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, UUID_LEN + 2,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* Links a new UUID to <root>/uuid unless one is there. */
static int uuid_create(int root_fd, ctr_error **err)
{
	char text[UUID_LEN + 2];
	int r = uuid_make(text, err);
	if (r < 0)
		return r;
	char tmp[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), "uuid.new-%d-%ld", (int)getpid(), ts.tv_nsec);
	_cleanup_close_ int fd = openat(root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ctr_err_errno(err, errno, "server info: create %s", tmp);
	if (write(fd, text, UUID_LEN + 1) != UUID_LEN + 1 || fsync(fd) < 0)
		r = ctr_err_errno(err, errno ? errno : EIO, "server info: write %s", tmp);
	if (r == 0 && linkat(root_fd, tmp, root_fd, "uuid", 0) < 0 && errno != EEXIST)
		r = ctr_err_errno(err, errno, "server info: link uuid");
	unlinkat(root_fd, tmp, 0);
	return r;
}

static int uuid_read(int root_fd, char out[UUID_LEN + 1], ctr_error **err)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	int r = ctr_read_file(root_fd, "uuid", UUID_LEN + 1, &s, &len, err);
	if (r < 0)
		return r;
	if (!uuid_valid(s, len))
		return ctr_err(err, CTR_EIO, 0, "server info: <root>/uuid does not hold a UUID");
	memcpy(out, s, UUID_LEN);
	out[UUID_LEN] = 0;
	return 0;
}

CTR_EXPORT int ctr_server_info_get(ctr_server_info **out, ctr_client *c, const ctr_opt *const *opts,
				   size_t n_opts, ctr_error **err)
{
	if (!out || !c)
		return ctr_err(err, CTR_EINVAL, 0, "server info: out and client are required");
	int r = ctr_opts_apply(CTR_OPT_INTROSPECT, NULL, NULL, opts, n_opts, "server info", err);
	if (r < 0)
		return r;
	/* root_fd is O_PATH: files are made through a real directory fd. */
	_cleanup_close_ int dfd = openat(c->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "server info: open %s", c->root);
	struct stat sb;
	if (fstatat(dfd, "uuid", &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return ctr_err_errno(err, errno, "server info: stat uuid");
		if ((r = uuid_create(dfd, err)) < 0)
			return r;
	}
	ctr_server_info *i = calloc(1, sizeof(*i));
	if (!i)
		return ctr_err_nomem(err);
	if ((r = uuid_read(dfd, i->uuid, err)) < 0) {
		free(i);
		return r;
	}
	*out = i;
	return 0;
}

CTR_EXPORT const char *ctr_server_info_uuid(const ctr_server_info *i)
{
	return i ? i->uuid : NULL;
}

CTR_EXPORT void ctr_server_info_free(ctr_server_info *i)
{
	free(i);
}

/* ---- plugins ---- */

struct plugins {
	ctr_plugin **v;
	size_t n;
	char host[64];
};

static int add(struct plugins *l, const char *type, const char *id, bool platform, bool ok, const char *reason,
	       const char *version, ctr_error **err)
{
	ctr_plugin **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return ctr_err_nomem(err);
	l->v = nv;
	ctr_plugin *p = calloc(1, sizeof(*p));
	if (!p)
		return ctr_err_nomem(err);
	p->type = strdup(type);
	p->id = strdup(id);
	p->status = ok ? CTR_PLUGIN_OK : CTR_PLUGIN_SKIP;
	p->reason = !ok ? strdup(reason ? reason : "unavailable") : NULL;
	p->version = version ? strdup(version) : NULL;
	p->platforms[0] = platform ? strdup(l->host) : NULL;
	if (!p->type || !p->id || (!ok && !p->reason) || (version && !p->version) ||
	    (platform && !p->platforms[0])) {
		ctr_plugin_free(p);
		return ctr_err_nomem(err);
	}
	l->v[l->n++] = p;
	return 0;
}

static int add_tool(struct plugins *l, const char *type, const char *id, bool platform,
		    int (*probe)(struct ctr_rt_probe *, const char *, ctr_error **), ctr_error **err)
{
	struct ctr_rt_probe p;
	int r = probe(&p, id, err);
	if (r == 0)
		r = add(l, type, id, platform, p.ok, p.reason, p.version, err);
	ctr_rt_probe_clear(&p);
	return r;
}

static int probe_criu(struct ctr_rt_probe *p, const char *id, ctr_error **err)
{
	(void)id;
	return ctr_rt_probe_criu(p, err);
}

/* The runtimes the library can run, in the order it prefers them. */
static const char *const runtimes[] = {"runc", "crun"};

CTR_EXPORT int ctr_plugin_list(ctr_plugin ***out, size_t *n_out, ctr_client *c, const ctr_opt *const *opts,
			       size_t n_opts, ctr_error **err)
{
	if (!out || !n_out || !c)
		return ctr_err(err, CTR_EINVAL, 0, "list plugins: out, n_out and client are required");
	int r = ctr_opts_apply(CTR_OPT_INTROSPECT, NULL, NULL, opts, n_opts, "list plugins", err);
	if (r < 0)
		return r;
	struct plugins l = {0};
	struct ctr_platform host;
	ctr_platform_host(&host);
	ctr_platform_format(&host, l.host, sizeof(l.host));
	struct ctr_snapshotter_state *sv = NULL;
	size_t sn = 0;
	r = ctr_snapshotters_states(&sv, &sn, c, err);
	for (size_t i = 0; r == 0 && i < sn; i++)
		r = add(&l, "io.containerd.snapshotter.v1", sv[i].name, true, sv[i].ok, sv[i].reason, NULL, err);
	ctr_snapshotter_states_free(sv, sn);
	for (size_t i = 0; r == 0 && i < CTR_ARRAY_SIZE(runtimes); i++)
		r = add_tool(&l, "io.containerd.runtime.v2", runtimes[i], true, ctr_rt_probe_runtime, err);
	/* The one differ: lib/archive's walking diff, containerd's "walking". */
	if (r == 0)
		r = add(&l, "io.containerd.differ.v1", "walking", true, true, NULL, NULL, err);
	if (r == 0)
		r = add_tool(&l, "io.containerd.checkpoint.v1", "criu", false, probe_criu, err);
	if (r < 0) {
		ctr_plugin_list_free(l.v, l.n);
		return r;
	}
	*out = l.v;
	*n_out = l.n;
	return 0;
}

CTR_EXPORT const char *ctr_plugin_type(const ctr_plugin *p)
{
	return p ? p->type : NULL;
}

CTR_EXPORT const char *ctr_plugin_id(const ctr_plugin *p)
{
	return p ? p->id : NULL;
}

CTR_EXPORT const char *const *ctr_plugin_platforms(const ctr_plugin *p)
{
	return p ? (const char *const *)p->platforms : NULL;
}

CTR_EXPORT ctr_plugin_state ctr_plugin_status(const ctr_plugin *p)
{
	return p ? p->status : CTR_PLUGIN_SKIP;
}

CTR_EXPORT const char *ctr_plugin_reason(const ctr_plugin *p)
{
	return p ? p->reason : NULL;
}

CTR_EXPORT const char *ctr_plugin_version(const ctr_plugin *p)
{
	return p ? p->version : NULL;
}

CTR_EXPORT void ctr_plugin_free(ctr_plugin *p)
{
	if (!p)
		return;
	free(p->type);
	free(p->id);
	free(p->reason);
	free(p->version);
	free(p->platforms[0]);
	free(p);
}

CTR_EXPORT void ctr_plugin_list_free(ctr_plugin **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctr_plugin_free(v[i]);
	free(v);
}
