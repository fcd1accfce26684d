/* Registry host configuration: containerd's hosts directory layout
 * (<dir>/<host>/hosts.toml) and the defaults that apply without one.
 *
 * For a registry host H the directory tried first is "<dir>/<H with
 * ':port' written as '_port_'>" (containerd's escaping), then the literal
 * "<dir>/H" (so "localhost:5000" works as a directory name), then
 * "<dir>/_default". The hosts in a hosts.toml are tried in file order,
 * followed by `server` (or the registry itself when `server` is absent). */
#ifndef CTR_REMOTES_HOSTS_H
#define CTR_REMOTES_HOSTS_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	CTR_HOST_CAP_PULL = 1 << 0,
	CTR_HOST_CAP_RESOLVE = 1 << 1,
	CTR_HOST_CAP_PUSH = 1 << 2,
	CTR_HOST_CAP_ALL = 7,
};

struct ctr_host_header {
	char *name;
	char **values; /* NULL-terminated */
};

struct ctr_registry_host {
	char *scheme;      /* "https" or "http" */
	char *host;        /* "registry-1.docker.io", "127.0.0.1:5000" */
	char *path;        /* API root, "/v2" unless override_path */
	unsigned caps;     /* CTR_HOST_CAP_* */
	char **ca;         /* CA files (absolute), NULL-terminated or NULL */
	char **client_cert; /* client cert files; client_key[i] may be NULL */
	char **client_key;  /* (key in the cert file) */
	size_t n_client;
	int skip_verify;   /* -1 unset, 0, 1 */
	char *ca_pem;      /* system bundle + every "ca" file, once loaded */
	size_t ca_pem_len;
	struct ctr_host_header *headers;
	size_t n_headers;
};

struct ctr_hosts {
	struct ctr_registry_host *v;
	size_t n;
};

/* Parses a hosts.toml text. Relative file names resolve against basedir.
 * The last entry is the `server` one; its host is NULL when `server` is
 * absent (ctr_hosts_load fills it in). CTR_EINVAL naming the line for bad
 * syntax or a value of the wrong type, or an unknown capability. */
int ctr_hosts_parse(const char *text, size_t len, const char *basedir, const char *what,
		    struct ctr_hosts *out, ctr_error **err);

/* The hosts for registry `host`: from hosts_dir (may be NULL) when it has a
 * directory for it, else the default (docker.io -> registry-1.docker.io;
 * https, or http when plain_http). A missing directory or hosts.toml is not
 * an error. */
int ctr_hosts_load(const char *hosts_dir, const char *host, bool plain_http, struct ctr_hosts *out,
		   ctr_error **err);
void ctr_hosts_clear(struct ctr_hosts *h);

#endif
