/* Image references, parsed and normalised the way containerd and docker do
 * ("busybox" -> "docker.io/library/busybox:latest").
 *
 * Grammar (distribution/reference):
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]   host: DNS labels, IPv4, or "[" IPv6 "]"
 *   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * The first component is a domain when it contains "." or ":", is
 * "localhost", or has an upper-case letter; otherwise docker.io is implied
 * and a single-component path gains "library/". A name (domain/path) is at
 * most 255 characters. */
#ifndef CTR_REMOTES_REFERENCE_H
#define CTR_REMOTES_REFERENCE_H

#include <ctr/common.h>

struct ctr_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/busybox" */
	char *tag;    /* NULL when only a digest was given */
	char *digest; /* NULL when absent; validated with ctr_digest_parse */
};

/* Parses and normalises s. When neither tag nor digest is given, the tag is
 * "latest". Errors: CTR_EINVAL with the reason; CTR_ENOTSUP for a digest of an
 * unsupported algorithm. *out is written only on success. */
int ctr_ref_parse(const char *s, struct ctr_ref *out, ctr_error **err);
void ctr_ref_clear(struct ctr_ref *r);

/* "domain/path[:tag][@digest]"; NULL on OOM. Caller frees. */
char *ctr_ref_string(const struct ctr_ref *r);
/* "domain/path"; NULL on OOM. Caller frees. */
char *ctr_ref_name(const struct ctr_ref *r);
/* What to ask the registry for: the digest when present, else the tag. */
const char *ctr_ref_object(const struct ctr_ref *r);

/* True when the tag matches the tag grammar. */
int ctr_ref_tag_ok(const char *tag);
/* True when path is one or more valid path components. */
int ctr_ref_path_ok(const char *path, size_t len);

#endif
