/* Platforms as containerd's platforms package handles them: specifier
 * parsing (`<os>|<arch>|<os>/<arch>[/<variant>]`), normalisation (x86_64 ->
 * amd64, aarch64 -> arm64, arm64/v8 == arm64, armhf -> arm/v7, ...), and
 * ordered matchers ("only" a platform and what it can run, or a list). */
#ifndef CTR_IMAGES_PLATFORMS_H
#define CTR_IMAGES_PLATFORMS_H

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
	size_t n;
	struct ctr_platform vec[24];
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
/* The matcher of an image handle's platforms, as the pull that made it
 * chose (containerd's NewImageWithPlatform): none (NULL or empty) is the
 * host default, one is Only(p), more are Ordered. CTR_EINVAL. */
int ctr_platform_matcher_for(struct ctr_platform_matcher *m, const char *const *platforms, ctr_error **err);

bool ctr_platform_match(const struct ctr_platform_matcher *m, const struct ctr_platform *p);
/* Rank of p: 0 is best; m->n (or 0 for an "all" matcher) when it doesn't
 * match. Selection picks the lowest rank, and the first of equal ranks,
 * which is what containerd's stable sort by Less then first gives. */
size_t ctr_platform_rank(const struct ctr_platform_matcher *m, const struct ctr_platform *p);

#endif
