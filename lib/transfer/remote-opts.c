/* Remote, pull and push options (ctr_with_plain_http, ctr_with_platform,
 * ...) and the adapters from the public, FFI-friendly callbacks to the
 * ones remotes/ calls. */
#include "remote-opts.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"
#include "metadata.h"
#include "macro.h"
#include "strv.h"

struct ctr_credentials {
	char *user;
	char *secret;
};

CTR_EXPORT int ctr_credentials_set(ctr_credentials *cred, const char *user, const char *secret,
				   ctr_error **err)
{
	if (!cred || !user || !secret)
		return ctr_err(err, CTR_EINVAL, 0, "ctr_credentials_set: NULL argument");
	char *u = strdup(user), *s = strdup(secret);
	if (!u || !s) {
		free(u);
		free(s);
		return ctr_err_nomem(err);
	}
	free(cred->user);
	free(cred->secret);
	cred->user = u;
	cred->secret = s;
	return 0;
}

static int creds_adapter(const char *host, char **user, char **secret, void *ud)
{
	const struct ctr_remote_cfg *cfg = ud;
	ctr_credentials cred = {0};
	int r = cfg->creds(host, &cred, cfg->creds_ud);
	if (r < 0 || !cred.user) {
		free(cred.user);
		free(cred.secret);
		return r < 0 ? r : 0;
	}
	*user = cred.user;
	*secret = cred.secret;
	return 0;
}

static int progress_adapter(const struct ctr_remote_desc *d, uint64_t done, uint64_t total,
			    enum ctr_remote_state state, const struct ctr_remote_cfg *cfg, bool push)
{
	ctr_progress_state s;
	switch (state) {
	case CTR_REMOTE_WAITING: s = CTR_PROGRESS_WAITING; break;
	case CTR_REMOTE_DOWNLOADING: s = push ? CTR_PROGRESS_UPLOADING : CTR_PROGRESS_DOWNLOADING; break;
	case CTR_REMOTE_VERIFYING: s = CTR_PROGRESS_VERIFYING; break;
	case CTR_REMOTE_DONE: s = CTR_PROGRESS_DONE; break;
	default: s = CTR_PROGRESS_FAILED; break;
	}
	return cfg->progress(d->digest, d->media_type, (int64_t)done, total ? (int64_t)total : -1, s,
			     cfg->progress_ud);
}

static int progress_fetch(const struct ctr_remote_desc *d, uint64_t done, uint64_t total,
			  enum ctr_remote_state state, void *ud)
{
	return progress_adapter(d, done, total, state, ud, false);
}

static int progress_push(const struct ctr_remote_desc *d, uint64_t done, uint64_t total,
			 enum ctr_remote_state state, void *ud)
{
	return progress_adapter(d, done, total, state, ud, true);
}

void ctr_remote_cfg_to_opts(const struct ctr_remote_cfg *cfg, bool push, struct ctr_remote_opts *o)
{
	*o = (struct ctr_remote_opts){
		.hosts_dir = cfg->hosts_dir,
		.plain_http = cfg->plain_http,
		.skip_verify = cfg->skip_verify,
		.docker_config = cfg->docker_config,
		.ca_file = cfg->ca_file,
		.client_cert = cfg->client_cert,
		.client_key = cfg->client_key,
		.max_concurrency = push ? cfg->uploads : cfg->downloads,
	};
	if (!o->max_concurrency)
		o->max_concurrency = push ? cfg->downloads : cfg->uploads;
	if (cfg->creds) {
		o->creds = creds_adapter;
		o->creds_ud = (void *)cfg;
	}
	if (cfg->progress) {
		o->progress = push ? progress_push : progress_fetch;
		o->progress_ud = (void *)cfg;
	}
}

void ctr_remote_cfg_matcher(const struct ctr_remote_cfg *cfg, struct ctr_platform_matcher *m, bool *explicit_)
{
	*explicit_ = cfg->all_platforms || cfg->n_platforms > 0;
	if (cfg->all_platforms)
		ctr_platform_matcher_all(m);
	else if (cfg->n_platforms == 1)
		ctr_platform_matcher_only(m, &cfg->platforms[0]);
	else if (cfg->n_platforms)
		ctr_platform_matcher_ordered(m, cfg->platforms, cfg->n_platforms);
	else
		ctr_platform_matcher_default(m);
}

int ctr_remote_cfg_progress(const struct ctr_remote_cfg *cfg, const char *digest, const char *media_type,
			    int64_t done, int64_t total, ctr_progress_state state)
{
	if (!cfg->progress)
		return 0;
	return cfg->progress(digest, media_type, done, total, state, cfg->progress_ud) ? CTR_ECANCELED : 0;
}

void ctr_pull_cfg_clear(struct ctr_pull_cfg *p)
{
	free(p->snapshotter);
	p->snapshotter = NULL;
	free(p->labels);
	p->labels = NULL;
	p->n_labels = 0;
}

/* ---- remote options ---- */

static int apply_plain_http(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_remote_cfg *)t)->plain_http = true;
	return 0;
}

static int apply_skip_verify(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_remote_cfg *)t)->skip_verify = true;
	return 0;
}

static int apply_all_platforms(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_remote_cfg *)t)->all_platforms = true;
	return 0;
}

static int apply_hosts_dir(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_remote_cfg *)t)->hosts_dir = ud;
	return 0;
}

static int apply_docker_config(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_remote_cfg *)t)->docker_config = ud;
	return 0;
}

static int apply_tls_ca(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_remote_cfg *)t)->ca_file = ud;
	return 0;
}

struct two_str {
	char *a, *b;
};

static void two_str_free(void *p)
{
	struct two_str *s = p;
	if (!s)
		return;
	free(s->a);
	free(s->b);
	free(s);
}

static int apply_client_cert(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct ctr_remote_cfg *cfg = t;
	struct two_str *s = ud;
	cfg->client_cert = s->a;
	cfg->client_key = s->b;
	return 0;
}

struct cb {
	void *fn;
	void *ud;
};

static int apply_creds(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct cb *cb = ud;
	struct ctr_remote_cfg *cfg = t;
	cfg->creds = (ctr_credentials_fn)cb->fn;
	cfg->creds_ud = cb->ud;
	return 0;
}

static int apply_progress(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct cb *cb = ud;
	struct ctr_remote_cfg *cfg = t;
	cfg->progress = (ctr_progress_fn)cb->fn;
	cfg->progress_ud = cb->ud;
	return 0;
}

static int apply_downloads(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_remote_cfg *)t)->downloads = *(unsigned *)ud;
	return 0;
}

static int apply_uploads(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_remote_cfg *)t)->uploads = *(unsigned *)ud;
	return 0;
}

static int apply_platform(void *t, void *ud, ctr_error **err)
{
	struct ctr_remote_cfg *cfg = t;
	if (cfg->n_platforms >= CTR_MAX_PLATFORM_OPTS)
		return ctr_err(err, CTR_EINVAL, 0, "more than %d platforms", CTR_MAX_PLATFORM_OPTS);
	struct ctr_platform p;
	int r = ctr_platform_parse(ud, &p, err);
	if (r < 0)
		return r;
	cfg->platforms[cfg->n_platforms++] = p;
	return 0;
}

static ctr_opt *flag_opt(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn fn)
{
	return ctr_opt_make(kind, name, fn, NULL, NULL);
}

static ctr_opt *cb_opt(const char *name, ctr_opt_apply_fn apply, void *fn, void *ud)
{
	if (!fn)
		return NULL;
	struct cb *cb = malloc(sizeof(*cb));
	if (!cb)
		return NULL;
	cb->fn = fn;
	cb->ud = ud;
	return ctr_opt_make(CTR_OPT_REMOTE, name, apply, cb, free);
}

static ctr_opt *count_opt(const char *name, ctr_opt_apply_fn apply, size_t n)
{
	if (n == 0 || n > 1024)
		return NULL;
	unsigned *v = malloc(sizeof(*v));
	if (!v)
		return NULL;
	*v = (unsigned)n;
	return ctr_opt_make(CTR_OPT_REMOTE, name, apply, v, free);
}

CTR_EXPORT ctr_opt *ctr_with_plain_http(void)
{
	return flag_opt(CTR_OPT_REMOTE, "ctr_with_plain_http", apply_plain_http);
}

CTR_EXPORT ctr_opt *ctr_with_skip_verify(void)
{
	return flag_opt(CTR_OPT_REMOTE, "ctr_with_skip_verify", apply_skip_verify);
}

CTR_EXPORT ctr_opt *ctr_with_all_platforms(void)
{
	return flag_opt(CTR_OPT_REMOTE, "ctr_with_all_platforms", apply_all_platforms);
}

CTR_EXPORT ctr_opt *ctr_with_hosts_dir(const char *dir)
{
	if (!dir || !*dir)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_REMOTE, "ctr_with_hosts_dir", apply_hosts_dir, dir);
}

CTR_EXPORT ctr_opt *ctr_with_docker_config(const char *path)
{
	if (!path || !*path)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_REMOTE, "ctr_with_docker_config", apply_docker_config, path);
}

CTR_EXPORT ctr_opt *ctr_with_tls_ca(const char *file)
{
	if (!file || !*file)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_REMOTE, "ctr_with_tls_ca", apply_tls_ca, file);
}

CTR_EXPORT ctr_opt *ctr_with_tls_client_cert(const char *cert, const char *key)
{
	if (!cert || !*cert)
		return NULL;
	struct two_str *s = calloc(1, sizeof(*s));
	if (!s || !(s->a = strdup(cert)) || (key && !(s->b = strdup(key)))) {
		two_str_free(s);
		return NULL;
	}
	return ctr_opt_make(CTR_OPT_REMOTE, "ctr_with_tls_client_cert", apply_client_cert, s, two_str_free);
}

CTR_EXPORT ctr_opt *ctr_with_credentials(ctr_credentials_fn fn, void *userdata)
{
	return cb_opt("ctr_with_credentials", apply_creds, (void *)fn, userdata);
}

CTR_EXPORT ctr_opt *ctr_with_progress(ctr_progress_fn fn, void *userdata)
{
	return cb_opt("ctr_with_progress", apply_progress, (void *)fn, userdata);
}

CTR_EXPORT ctr_opt *ctr_with_max_concurrent_downloads(size_t n)
{
	return count_opt("ctr_with_max_concurrent_downloads", apply_downloads, n);
}

CTR_EXPORT ctr_opt *ctr_with_max_concurrent_uploads(size_t n)
{
	return count_opt("ctr_with_max_concurrent_uploads", apply_uploads, n);
}

CTR_EXPORT ctr_opt *ctr_with_platform(const char *spec)
{
	if (!spec || !*spec)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_REMOTE, "ctr_with_platform", apply_platform, spec);
}

/* ---- pull options ---- */

static int apply_all_metadata(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_pull_cfg *)t)->all_metadata = true;
	return 0;
}

static int apply_pull_labels(void *t, void *ud, ctr_error **err)
{
	struct ctr_pull_cfg *p = t;
	char **labels = ud;
	int r = ctr_md_labels_validate((const char *const *)labels, err);
	if (r < 0)
		return r;
	size_t n = 0;
	while (labels[n])
		n++;
	const char **v = realloc(p->labels, (p->n_labels + n + 1) * sizeof(*v));
	if (!v)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++)
		v[p->n_labels++] = labels[i];
	v[p->n_labels] = NULL;
	p->labels = v;
	return 0;
}

static void strv_free(void *p)
{
	char **v = p;
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int apply_pull_unpack(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_pull_cfg *)t)->unpack = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_pull_unpack(void)
{
	return flag_opt(CTR_OPT_PULL, "ctr_with_pull_unpack", apply_pull_unpack);
}

static int apply_pull_snapshotter(void *t, void *ud, ctr_error **err)
{
	struct ctr_pull_cfg *p = t;
	int r = ctr_ident_validate(ud, "snapshotter", err);
	if (r < 0)
		return r;
	char *s = strdup(ud);
	if (!s)
		return ctr_err_nomem(err);
	free(p->snapshotter);
	p->snapshotter = s;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_pull_snapshotter(const char *name)
{
	return name ? ctr_opt_make_str(CTR_OPT_PULL, "ctr_with_pull_snapshotter", apply_pull_snapshotter, name) : NULL;
}

struct child_map {
	ctr_child_label_fn fn;
	void *ud;
};

static int apply_child_map(void *t, void *ud, ctr_error **err)
{
	(void)err;
	struct ctr_pull_cfg *p = t;
	struct child_map *m = ud;
	p->child_fn = m->fn;
	p->child_ud = m->ud;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_child_label_map(ctr_child_label_fn fn, void *userdata)
{
	if (!fn)
		return NULL;
	struct child_map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->fn = fn;
	m->ud = userdata;
	return ctr_opt_make(CTR_OPT_PULL, "ctr_with_child_label_map", apply_child_map, m, free);
}

static int apply_filter_layers(void *t, void *ud, ctr_error **err)
{
	(void)ud, (void)err;
	((struct ctr_pull_cfg *)t)->filter_layers = true;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_child_labels_filter_layers(void)
{
	return flag_opt(CTR_OPT_PULL, "ctr_with_child_labels_filter_layers", apply_filter_layers);
}

static int apply_max_layer_size(void *t, void *ud, ctr_error **err)
{
	(void)err;
	((struct ctr_pull_cfg *)t)->max_layer_size = *(uint64_t *)ud;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_pull_max_layer_size(uint64_t bytes)
{
	if (bytes == 0)
		return NULL;
	uint64_t *v = malloc(sizeof(*v));
	if (!v)
		return NULL;
	*v = bytes;
	return ctr_opt_make(CTR_OPT_PULL, "ctr_with_pull_max_layer_size", apply_max_layer_size, v, free);
}

CTR_EXPORT ctr_opt *ctr_with_all_metadata(void)
{
	return flag_opt(CTR_OPT_PULL, "ctr_with_all_metadata", apply_all_metadata);
}

CTR_EXPORT ctr_opt *ctr_with_pull_labels(const char *const *labels)
{
	char **v = labels ? ctr_strv_dup(labels) : NULL;
	if (!v)
		return NULL;
	return ctr_opt_make(CTR_OPT_PULL, "ctr_with_pull_labels", apply_pull_labels, v, strv_free);
}
