/* One object to or from a registry, outside any image tree: containerd's
 * resolver Fetcher and Pusher as `ctr content fetch-object` and
 * `push-object` use them. Fetch streams the resolved object to a file
 * descriptor; push sends one blob of the namespace's content store. */
#include <ctr/content.h>
#include <ctr/remote.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "content-ns.h"
#include "digest.h"
#include "error.h"
#include "remote-opts.h"

/* RFC 6838 restricted names, type/subtype with no parameters: the media
 * type goes into a Content-Type header as it is. */
static bool media_type_ok(const char *mt)
{
	const char *slash = strchr(mt, '/');
	if (!slash || slash == mt || !slash[1] || strchr(slash + 1, '/') || strlen(mt) > 255)
		return false;
	for (const char *p = mt; *p; p++) {
		if (p == slash)
			continue;
		bool first = p == mt || p == slash + 1;
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
		if (!alnum && (first || !strchr("!#$&^_.+-", *p)))
			return false;
	}
	return true;
}

struct fd_sink {
	int fd;
	uint64_t written;
};

static int fd_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	struct fd_sink *s = ud;
	const char *p = buf;
	while (len) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctr_err(err, CTR_EIO, errno, "write");
		p += n;
		len -= (size_t)n;
		s->written += (uint64_t)n;
	}
	return 0;
}

static int fd_reset(void *ud, ctr_error **err)
{
	struct fd_sink *s = ud;
	if (s->written)
		return ctr_err(err, CTR_EIO, 0, "the registry restarted the body after %llu bytes were written",
			       (unsigned long long)s->written);
	return 0;
}

static int remote_opts(struct ctr_remote_cfg *cfg, struct ctr_call *call, const ctr_opt *const *opts,
		       size_t n_opts, const char *what, ctr_error **err)
{
	struct ctr_opt_target t[] = {{CTR_OPT_REMOTE, cfg}};
	return ctr_opts_apply_multi(t, 1, call, opts, n_opts, what, err);
}

static int do_fetch(ctr_client *c, const char *ref, const char *digest, int fd, const ctr_opt *const *opts,
		    size_t n_opts, ctr_error **err)
{
	struct ctr_remote_cfg cfg = {0};
	struct ctr_call call = {0};
	struct ctr_remote *rem = NULL;
	struct ctr_remote_desc d = {0};
	char *by_digest = NULL;
	int r = remote_opts(&cfg, &call, opts, n_opts, "fetch object", err);
	if (r < 0)
		return r;
	if (digest && !ctr_digest_valid(digest))
		return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%s\"", digest);
	if (fd < 0)
		return ctr_err(err, CTR_EINVAL, 0, "bad file descriptor %d", fd);
	if (digest) {
		/* the object named by digest in ref's repository */
		struct ctr_ref pr;
		if ((r = ctr_ref_parse(ref, &pr, err)) < 0)
			return r;
		char *name = ctr_ref_name(&pr);
		ctr_ref_clear(&pr);
		if (!name || asprintf(&by_digest, "%s@%s", name, digest) < 0) {
			free(name);
			return ctr_err_nomem(err);
		}
		free(name);
		ref = by_digest;
	}
	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&cfg, false, &ro);
	/* A digest of a blob gets an error from /manifests/ before /blobs/
	 * is asked: resolved without retries, fetched with them. */
	struct ctr_remote_opts once = ro;
	once.max_retries = digest ? -1 : ro.max_retries;
	if ((r = ctr_remote_open(&rem, ref, &once, err)) == 0 && (r = ctr_remote_resolve(rem, &d, err)) == 0 &&
	    digest) {
		ctr_remote_free(rem);
		rem = NULL;
		r = ctr_remote_open(&rem, ref, &ro, err);
	}
	if (r == 0) {
		struct fd_sink s = {.fd = fd};
		struct ctr_remote_sink sink = {.write = fd_write, .reset = fd_reset, .ud = &s};
		struct ctr_remote_fetch_item it = {.desc = &d, .sink = &sink};
		r = ctr_remote_fetch(rem, &it, 1, err);
	}
	ctr_remote_desc_clear(&d);
	ctr_remote_free(rem);
	free(by_digest);
	return r;
}

CTR_EXPORT int ctr_content_fetch(ctr_client *c, const char *ref, const char *digest, int fd,
				const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || !ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "fetch object: %s", !c ? "client is NULL" : "empty reference");
	int r = do_fetch(c, ref, digest, fd, opts, n_opts, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "fetch object %s%s%s", ref, digest ? " " : "", digest ? digest : "");
	return 0;
}

static int do_push(ctr_client *c, const char *ref, const char *digest, const char *media_type,
		   const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	struct ctr_remote_cfg cfg = {0};
	struct ctr_call call = {0};
	int r = remote_opts(&cfg, &call, opts, n_opts, "push object", err);
	if (r < 0)
		return r;
	if (!digest || !ctr_digest_valid(digest))
		return ctr_err(err, CTR_EINVAL, 0, "invalid digest \"%s\"", digest ? digest : "");
	if (!media_type || !media_type_ok(media_type))
		return ctr_err(err, CTR_EINVAL, 0, "invalid media type \"%s\": want type/subtype",
			       media_type ? media_type : "");
	struct ctr_call scope = {.ns = ctr_call_ns(c, &call)};
	ctr_content_reader *rd = NULL;
	struct ctr_remote *rem = NULL;
	if ((r = ctr_contents_reader_open(&rd, c, digest, &scope, err)) < 0)
		return r;
	struct ctr_remote_opts ro;
	ctr_remote_cfg_to_opts(&cfg, true, &ro);
	if ((r = ctr_remote_open(&rem, ref, &ro, err)) == 0) {
		struct ctr_remote_desc d = {.media_type = (char *)media_type,
					    .digest = (char *)digest,
					    .size = (uint64_t)ctr_content_reader_size(rd)};
		struct ctr_remote_push_item it = {.desc = &d,
						  .src = {.read_at = ctr_remote_content_read_at, .ud = rd}};
		r = ctr_remote_push(rem, &it, 1, err);
	}
	ctr_remote_free(rem);
	ctr_content_reader_free(rd);
	return r;
}

CTR_EXPORT int ctr_content_push(ctr_client *c, const char *ref, const char *digest, const char *media_type,
			       const ctr_opt *const *opts, size_t n_opts, ctr_error **err)
{
	if (!c || !ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "push object: %s", !c ? "client is NULL" : "empty reference");
	int r = do_push(c, ref, digest, media_type, opts, n_opts, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "push object %s %s", ref, digest ? digest : "");
	return 0;
}
