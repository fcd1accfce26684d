/* Platforms as containerd's platforms package handles them: specifier
 * parsing (`<os>|<arch>|<os>/<arch>[/<variant>]`), normalisation (x86_64 ->
 * amd64, aarch64 -> arm64, arm64/v8 == arm64, armhf -> arm/v7, ...), and
 * ordered matchers ("only" a platform and what it can run, or a list). */
#ifndef CTR_IMAGES_PLATFORMS_H
#define CTR_IMAGES_PLATFORMS_H

#include <ctr/client.h>
#include <ctr/common.h>
#include <jansson.h>
#include <stdbool.h>

struct ctr_platform {
	char os[32];
	char arch[32];
	char variant[32];
};

/* Parses a specifier; the missing part comes from the host. CTR_EINVAL. */
int ctr_platform_parse(const char *spec, struct ctr_platform *out, ctr_error **err);
/* Reads {"os","architecture","variant"} from a descriptor's platform object
 * or an image config; CTR_EINVAL when os or architecture is missing. */
int ctr_platform_from_json(const json_t *obj, struct ctr_platform *out, ctr_error **err);
void ctr_platform_normalize(struct ctr_platform *p);
/* The host platform, normalised. */
void ctr_platform_host(struct ctr_platform *out);
/* "os/arch[/variant]" into buf of at least 100 bytes; returns buf. */
char *ctr_platform_format(const struct ctr_platform *p, char *buf, size_t len);
bool ctr_platform_equal(const struct ctr_platform *a, const struct ctr_platform *b);

/* An ordered matcher: a platform matches when it equals one entry of the
 * vector; a lower index is a better match. */
struct ctr_platform_matcher {
	bool all; /* matches every platform, no preference */
	bool any; /* matches the vector's platforms, no preference among them */
	size_t n;
	struct ctr_platform vec[48];
};

/* containerd's Only(): p, then what p can run (amd64/vN -> lower vN and 386,
 * arm/vN -> lower arm variants down to v5, arm64 -> arm/v8..v5). */
void ctr_platform_matcher_only(struct ctr_platform_matcher *m, const struct ctr_platform *p);
/* containerd's OnlyStrict(): p alone. */
void ctr_platform_matcher_strict(struct ctr_platform_matcher *m, const struct ctr_platform *p);
/* Ordered(): any of ps, in that order of preference. */
void ctr_platform_matcher_ordered(struct ctr_platform_matcher *m, const struct ctr_platform *ps, size_t n);
void ctr_platform_matcher_all(struct ctr_platform_matcher *m);
/* The host default: Only(host). */
void ctr_platform_matcher_default(struct ctr_platform_matcher *m);
/* A public matcher (ctr_with_default_platform, ctr_with_platform_matcher):
 * how is a ctr_platform_match_kind, platforms NULL-terminated. CTR_EINVAL for
 * an unknown how, a bad specifier, none (but for ALL, which takes none)
 * or more than CTR_PLATFORM_MATCH_MAX. */
int ctr_platform_matcher_make(struct ctr_platform_matcher *m, int how, const char *const *platforms,
			      ctr_error **err);
/* The option object behind ctr_with_default_platform and
 * ctr_with_platform_matcher: how and a copy of platforms, parsed by
 * ctr_platform_matcher_opt_parse when apply runs (so a bad list is an
 * error with its reason). NULL without memory. */
struct ctr_opt;
struct ctr_opt *ctr_platform_matcher_opt(int kind, const char *name, int (*apply)(void *, void *, ctr_error **),
					 int how, const char *const *platforms);
int ctr_platform_matcher_opt_parse(struct ctr_platform_matcher *m, const void *userdata, ctr_error **err);
/* The client's default (ctr_with_default_platform), else the host's. */
void ctr_platform_matcher_client(struct ctr_platform_matcher *m, const ctr_client *c);
/* The matcher of an image handle, as the pull that made it chose
 * (containerd's NewImageWithPlatform): the handle's own matcher when it
 * has one (ctr_with_platform_matcher), else its platforms (one is Only(p),
 * more are Ordered), else the client's default. CTR_EINVAL. */
int ctr_platform_matcher_for(struct ctr_platform_matcher *m, const ctr_client *c,
			     const struct ctr_platform_matcher *own, const char *const *platforms,
			     ctr_error **err);

bool ctr_platform_match(const struct ctr_platform_matcher *m, const struct ctr_platform *p);
/* Rank of p: 0 is best; m->n (or 0 for an "all" matcher) when it doesn't
 * match. Selection picks the lowest rank, and the first of equal ranks,
 * which is what containerd's stable sort by Less then first gives. */
size_t ctr_platform_rank(const struct ctr_platform_matcher *m, const struct ctr_platform *p);

#endif
