#include "platforms.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "error.h"

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Copies at most 31 bytes: platform components are short. */
static void set(char *dst, const char *src)
{
	size_t n = strnlen(src, 31);
	memmove(dst, src, n);
	dst[n] = 0;
}

static void normalize_arch(char *arch, char *variant)
{
	lower(arch);
	lower(variant);
	if (!strcmp(arch, "i386")) {
		set(arch, "386");
		variant[0] = 0;
	} else if (!strcmp(arch, "x86_64") || !strcmp(arch, "x86-64") || !strcmp(arch, "amd64")) {
		set(arch, "amd64");
		if (!strcmp(variant, "v1"))
			variant[0] = 0;
	} else if (!strcmp(arch, "aarch64") || !strcmp(arch, "arm64")) {
		set(arch, "arm64");
		/* v8 is arm64's default: arm64 == arm64/v8 */
		if (!strcmp(variant, "8") || !strcmp(variant, "v8") || !strcmp(variant, "v8.0"))
			variant[0] = 0;
		else if (!strcmp(variant, "9") || !strcmp(variant, "9.0") || !strcmp(variant, "v9.0"))
			set(variant, "v9");
	} else if (!strcmp(arch, "armhf")) {
		set(arch, "arm");
		set(variant, "v7");
	} else if (!strcmp(arch, "armel")) {
		set(arch, "arm");
		set(variant, "v6");
	} else if (!strcmp(arch, "arm")) {
		if (!variant[0] || !strcmp(variant, "7"))
			set(variant, "v7");
		else if (!strcmp(variant, "5") || !strcmp(variant, "6") || !strcmp(variant, "8")) {
			variant[2] = 0;
			variant[1] = variant[0];
			variant[0] = 'v';
		}
	}
}

void ctr_platform_normalize(struct ctr_platform *p)
{
	if (!p->os[0])
		set(p->os, "linux");
	lower(p->os);
	if (!strcmp(p->os, "macos"))
		set(p->os, "darwin");
	normalize_arch(p->arch, p->variant);
}

void ctr_platform_host(struct ctr_platform *out)
{
	struct utsname u;
	memset(out, 0, sizeof(*out));
	set(out->os, "linux");
	if (uname(&u) == 0)
		set(out->arch, u.machine);
	else
		set(out->arch, "amd64");
	/* 32-bit arm reports armv7l / armv6l */
	if (!strncmp(out->arch, "armv", 4)) {
		char v[32];
		snprintf(v, sizeof(v), "v%c", out->arch[4]);
		set(out->arch, "arm");
		set(out->variant, v);
	}
	ctr_platform_normalize(out);
}

static bool known_os(const char *s)
{
	static const char *const v[] = {"aix", "android", "darwin", "dragonfly", "freebsd", "illumos",
					"ios", "js", "linux", "netbsd", "openbsd", "plan9",
					"solaris", "windows", "zos"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

static bool known_arch(const char *s)
{
	static const char *const v[] = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
					"ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64",
					"mips64le", "mips64p32", "mips64p32le", "ppc", "riscv",
					"riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

int ctr_platform_parse(const char *spec, struct ctr_platform *out, ctr_error **err)
{
	if (!spec || !*spec)
		return ctr_err(err, CTR_EINVAL, 0, "platform: empty specifier");
	if (strchr(spec, '*'))
		return ctr_err(err, CTR_EINVAL, 0, "platform \"%.100s\": wildcards not supported", spec);
	char parts[3][32];
	size_t n = 0;
	const char *p = spec;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 3)
			return ctr_err(err, CTR_EINVAL, 0, "platform \"%.100s\": cannot parse specifier", spec);
		if (len == 0 || len >= 32)
			return ctr_err(err, CTR_EINVAL, 0, "platform \"%.100s\": bad component", spec);
		for (size_t i = 0; i < len; i++) {
			char c = p[i];
			if (!(isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.'))
				return ctr_err(err, CTR_EINVAL, 0,
					       "platform \"%.100s\": component must match [A-Za-z0-9_.-]+", spec);
		}
		memcpy(parts[n], p, len);
		parts[n][len] = 0;
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	struct ctr_platform r = {0};
	if (n == 1) {
		char os[32];
		set(os, parts[0]);
		lower(os);
		if (!strcmp(os, "macos"))
			set(os, "darwin");
		if (known_os(os)) {
			struct ctr_platform host;
			ctr_platform_host(&host);
			set(r.os, os);
			set(r.arch, host.arch);
			set(r.variant, host.variant);
		} else {
			set(r.arch, parts[0]);
			ctr_platform_normalize(&r);
			if (!known_arch(r.arch))
				return ctr_err(err, CTR_EINVAL, 0,
					       "platform \"%.100s\": unknown operating system or architecture", spec);
			set(r.os, "linux");
		}
	} else {
		set(r.os, parts[0]);
		set(r.arch, parts[1]);
		if (n == 3)
			set(r.variant, parts[2]);
	}
	ctr_platform_normalize(&r);
	*out = r;
	return 0;
}

int ctr_platform_from_json(const json_t *obj, struct ctr_platform *out, ctr_error **err)
{
	const char *os = json_string_value(json_object_get(obj, "os"));
	const char *arch = json_string_value(json_object_get(obj, "architecture"));
	const char *var = json_string_value(json_object_get(obj, "variant"));
	if (!os || !arch || strlen(os) >= 32 || strlen(arch) >= 32 || (var && strlen(var) >= 32))
		return ctr_err(err, CTR_EINVAL, 0, "platform: missing or overlong os/architecture");
	struct ctr_platform r = {0};
	set(r.os, os);
	set(r.arch, arch);
	if (var)
		set(r.variant, var);
	ctr_platform_normalize(&r);
	*out = r;
	return 0;
}

char *ctr_platform_format(const struct ctr_platform *p, char *buf, size_t len)
{
	if (!p->os[0])
		snprintf(buf, len, "unknown");
	else if (p->variant[0])
		snprintf(buf, len, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(buf, len, "%s/%s", p->os, p->arch);
	return buf;
}

bool ctr_platform_equal(const struct ctr_platform *a, const struct ctr_platform *b)
{
	return !strcmp(a->os, b->os) && !strcmp(a->arch, b->arch) && !strcmp(a->variant, b->variant);
}

static bool full(const struct ctr_platform_matcher *m)
{
	return m->n >= sizeof(m->vec) / sizeof(m->vec[0]);
}

static void push(struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	if (!full(m))
		m->vec[m->n++] = *p;
}

static int variant_num(const char *v)
{
	if (v[0] != 'v' || !v[1])
		return -1;
	char *end;
	errno = 0;
	long n = strtol(v + 1, &end, 10);
	return *end || errno || n < 0 || n > INT_MAX ? -1 : (int)n;
}

static void vector(struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	push(m, p);
	struct ctr_platform q = *p;
	if (!strcmp(p->arch, "amd64")) {
		int v = variant_num(p->variant);
		/* The walk down stops once the vector is full: a variant such
		 * as v2000000004 (fuzz-platform) took two billion steps. */
		for (v--; v >= 1 && !full(m); v--) {
			/* amd64/v1 normalises to plain amd64 */
			if (v == 1)
				q.variant[0] = 0;
			else
				snprintf(q.variant, sizeof(q.variant), "v%d", v);
			push(m, &q);
		}
		set(q.arch, "386");
		q.variant[0] = 0;
		push(m, &q);
	} else if (!strcmp(p->arch, "arm")) {
		int v = variant_num(p->variant);
		for (v--; v >= 5 && !full(m); v--) {
			snprintf(q.variant, sizeof(q.variant), "v%d", v);
			push(m, &q);
		}
	} else if (!strcmp(p->arch, "arm64")) {
		set(q.arch, "arm");
		set(q.variant, p->variant[0] ? p->variant : "v8");
		/* arm64/v9 can run arm/v8 and below, as can arm64(v8) */
		if (!strcmp(q.variant, "v9"))
			set(q.variant, "v8");
		vector(m, &q);
	}
}

void ctr_platform_matcher_only(struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	memset(m, 0, sizeof(*m));
	struct ctr_platform q = *p;
	ctr_platform_normalize(&q);
	vector(m, &q);
}

void ctr_platform_matcher_strict(struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	memset(m, 0, sizeof(*m));
	struct ctr_platform q = *p;
	ctr_platform_normalize(&q);
	push(m, &q);
}

void ctr_platform_matcher_ordered(struct ctr_platform_matcher *m, const struct ctr_platform *ps, size_t n)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		struct ctr_platform q = ps[i];
		ctr_platform_normalize(&q);
		push(m, &q);
	}
}

void ctr_platform_matcher_all(struct ctr_platform_matcher *m)
{
	memset(m, 0, sizeof(*m));
	m->all = true;
}

void ctr_platform_matcher_default(struct ctr_platform_matcher *m)
{
	struct ctr_platform host;
	ctr_platform_host(&host);
	ctr_platform_matcher_only(m, &host);
}

size_t ctr_platform_rank(const struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	if (m->all)
		return 0;
	struct ctr_platform q = *p;
	ctr_platform_normalize(&q);
	for (size_t i = 0; i < m->n; i++)
		if (ctr_platform_equal(&m->vec[i], &q))
			return i;
	return m->n;
}

bool ctr_platform_match(const struct ctr_platform_matcher *m, const struct ctr_platform *p)
{
	return m->all || ctr_platform_rank(m, p) < m->n;
}

int ctr_platform_matcher_for(struct ctr_platform_matcher *m, const char *const *platforms, ctr_error **err)
{
	struct ctr_platform ps[sizeof(m->vec) / sizeof(m->vec[0])];
	size_t n = 0;
	for (; platforms && platforms[n]; n++) {
		if (n == sizeof(ps) / sizeof(ps[0]))
			return ctr_err(err, CTR_EINVAL, 0, "more than %zu platforms", n);
		int r = ctr_platform_parse(platforms[n], &ps[n], err);
		if (r < 0)
			return r;
	}
	if (n == 0)
		ctr_platform_matcher_default(m);
	else if (n == 1)
		ctr_platform_matcher_only(m, &ps[0]);
	else
		ctr_platform_matcher_ordered(m, ps, n);
	return 0;
}
