#include "client.h"
#include "client-hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "ident.h"
#include "macro.h"

struct client_cfg {
	char *root;
	char *state;
	char *ns;
};

static int set_str(char **dst, const char *v, ctr_error **err)
{
	char *c = strdup(v);
	if (!c)
		return ctr_err_nomem(err);
	free(*dst);
	*dst = c;
	return 0;
}

static int apply_root(void *t, void *ud, ctr_error **err) { return set_str(&((struct client_cfg *)t)->root, ud, err); }
static int apply_state(void *t, void *ud, ctr_error **err) { return set_str(&((struct client_cfg *)t)->state, ud, err); }
static int apply_ns(void *t, void *ud, ctr_error **err)
{
	int r = ctr_ident_validate(ud, "namespace", err);
	return r < 0 ? r : set_str(&((struct client_cfg *)t)->ns, ud, err);
}

CTR_EXPORT ctr_opt *ctr_with_root(const char *dir)
{
	return dir ? ctr_opt_make_str(CTR_OPT_CLIENT, "ctr_with_root", apply_root, dir) : NULL;
}
CTR_EXPORT ctr_opt *ctr_with_state(const char *dir)
{
	return dir ? ctr_opt_make_str(CTR_OPT_CLIENT, "ctr_with_state", apply_state, dir) : NULL;
}
CTR_EXPORT ctr_opt *ctr_with_namespace(const char *ns)
{
	return ns ? ctr_opt_make_str(CTR_OPT_CLIENT, "ctr_with_namespace", apply_ns, ns) : NULL;
}

/* Default directories: /var/lib/libctr and /run/libctr for root, the XDG
 * directories otherwise (ARCHITECTURE.md, "State on disk"). */
static int default_dir(char **out, bool state, ctr_error **err)
{
	const char *env, *sub;
	if (geteuid() == 0)
		return set_str(out, state ? "/run/libctr" : "/var/lib/libctr", err);
	env = getenv(state ? "XDG_RUNTIME_DIR" : "XDG_DATA_HOME");
	if (env && *env == '/')
		sub = "";
	else {
		env = getenv("HOME");
		if (!env || *env != '/')
			return ctr_err(err, CTR_EINVAL, 0, "no %s directory: set it with an option",
				       state ? "state" : "root");
		sub = state ? "/.cache" : "/.local/share";
	}
	if (asprintf(out, "%s%s/libctr", env, sub) < 0)
		return ctr_err_nomem(err);
	return 0;
}

static int open_dir(const char *path, char **abs_out, int *fd_out, ctr_error **err)
{
	int r = ctr_mkdir_p(path, 0700, err);
	if (r < 0)
		return r;
	char *abs = realpath(path, NULL);
	if (!abs)
		return ctr_err_errno(err, errno, "resolve %s", path);
	/* A read-only root or state fails here, once, rather than at the
	 * first write of whichever call comes first (EROFS even for root). */
	if (access(abs, W_OK) < 0) {
		int e = errno;
		free(abs);
		return ctr_err_errno(err, e, "%s is not writable", path);
	}
	int fd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(abs);
		return ctr_err_errno(err, e, "open %s", path);
	}
	*abs_out = abs;
	*fd_out = fd;
	return 0;
}

static void client_destroy(ctr_client *c)
{
	ctr_client_hooks_close(c);
	if (c->root_fd >= 0)
		close(c->root_fd);
	if (c->state_fd >= 0)
		close(c->state_fd);
	free(c->root);
	free(c->state);
	free(c->ns);
	pthread_mutex_destroy(&c->snaps_mu);
	pthread_mutex_destroy(&c->events_mu);
	pthread_mutex_destroy(&c->unpack_mu);
	free(c);
}

CTR_EXPORT int ctr_client_new(ctr_client **out, const ctr_opt *const *opts, size_t n_opts,
			      ctr_error **err)
{
	if (!out)
		return ctr_err(err, CTR_EINVAL, 0, "client: out is NULL");
	struct client_cfg cfg = {0};
	int r = ctr_opts_apply(CTR_OPT_CLIENT, &cfg, NULL, opts, n_opts, "client", err);
	if (r == 0 && !cfg.root)
		r = default_dir(&cfg.root, false, err);
	if (r == 0 && !cfg.state)
		r = default_dir(&cfg.state, true, err);
	if (r == 0 && !cfg.ns)
		r = set_str(&cfg.ns, "default", err);
	ctr_client *c = NULL;
	if (r == 0 && !(c = calloc(1, sizeof(*c))))
		r = ctr_err_nomem(err);
	if (r < 0) {
		free(cfg.root);
		free(cfg.state);
		free(cfg.ns);
		return r;
	}
	c->refs = 1;
	c->destroy = client_destroy;
	c->root_fd = c->state_fd = -1;
	pthread_mutex_init(&c->snaps_mu, NULL);
	pthread_mutex_init(&c->events_mu, NULL);
	pthread_mutex_init(&c->unpack_mu, NULL);
	c->ns = cfg.ns;
	r = open_dir(cfg.root, &c->root, &c->root_fd, err);
	if (r == 0)
		r = open_dir(cfg.state, &c->state, &c->state_fd, err);
	free(cfg.root);
	free(cfg.state);
	if (r == 0)
		r = ctr_client_hooks_open(c, err);
	if (r < 0) {
		client_destroy(c);
		return ctr_err_prefix(err, r, "client");
	}
	*out = c;
	return 0;
}

CTR_EXPORT ctr_client *ctr_client_ref(ctr_client *c)
{
	return ctr_client_hold(c);
}

CTR_EXPORT void ctr_client_free(ctr_client *c)
{
	ctr_client_release(c);
}

CTR_EXPORT const char *ctr_client_root(const ctr_client *c) { return c ? c->root : NULL; }
CTR_EXPORT const char *ctr_client_state(const ctr_client *c) { return c ? c->state : NULL; }
CTR_EXPORT const char *ctr_client_namespace(const ctr_client *c) { return c ? c->ns : NULL; }

CTR_EXPORT int ctr_client_set_namespace(ctr_client *c, const char *ns, ctr_error **err)
{
	int r = ctr_ident_validate(ns, "namespace", err);
	if (r < 0)
		return r;
	return set_str(&c->ns, ns, err);
}
