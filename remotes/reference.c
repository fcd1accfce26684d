#include "reference.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "digest.h"
#include "macro.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
#define REF_MAX_LEN 4096

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
static bool is_word(char c) { return is_alnum(c) || c == '_'; }

int ctr_ref_tag_ok(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > TAG_MAX_LEN || !is_word(tag[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
			return 0;
	return 1;
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool component_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		/* separator */
		size_t start = i;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == start || i == n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

int ctr_ref_path_ok(const char *path, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || path[i] == '/') {
			if (!component_ok(path + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

static bool port_ok(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* host [":" port]; host is DNS labels (any case) or "[" IPv6 "]". */
static bool domain_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
			      *p == ':' || *p == '.'))
				return false;
		if (!memchr(s + 1, ':', (size_t)(close - s - 1)))
			return false;
		i = (size_t)(close - s) + 1;
	} else {
		for (;;) {
			size_t start = i;
			while (i < n && (is_alnum(s[i]) || s[i] == '-'))
				i++;
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return true;
	if (s[i] != ':')
		return false;
	return port_ok(s + i + 1, n - i - 1);
}

static bool all_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

void ctr_ref_clear(struct ctr_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int ctr_ref_parse(const char *s, struct ctr_ref *out, ctr_error **err)
{
	if (!s || !*s)
		return ctr_err(err, CTR_EINVAL, 0, "invalid reference: empty");
	size_t slen = strlen(s);
	if (slen > REF_MAX_LEN)
		return ctr_err(err, CTR_EINVAL, 0, "invalid reference: longer than %d characters", REF_MAX_LEN);
	if (all_hex64(s))
		return ctr_err(err, CTR_EINVAL, 0,
			       "invalid reference \"%s\": cannot specify 64-byte hexadecimal strings", s);
	for (size_t i = 0; i < slen; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return ctr_err(err, CTR_EINVAL, 0, "invalid reference \"%.200s\": invalid character", s);

	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return ctr_err_nomem(err);

	char *digest = NULL;
	char *at = strchr(copy, '@');
	if (at) {
		*at = 0;
		digest = at + 1;
		if (strchr(digest, '@'))
			return ctr_err(err, CTR_EINVAL, 0, "invalid reference \"%.200s\": more than one '@'", s);
		ctr_error *derr = NULL;
		int r = ctr_digest_parse(digest, NULL, NULL, &derr);
		if (r < 0) {
			r = ctr_err(err, r, 0, "invalid reference \"%.200s\": %s", s, ctr_error_message(derr));
			ctr_error_free(derr);
			return r;
		}
	}

	char *tag = NULL;
	char *colon = strrchr(copy, ':');
	char *slash = strrchr(copy, '/');
	if (colon && (!slash || colon > slash)) {
		*colon = 0;
		tag = colon + 1;
		if (!ctr_ref_tag_ok(tag))
			return ctr_err(err, CTR_EINVAL, 0,
				       "invalid reference \"%.200s\": invalid tag \"%.200s\" (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})",
				       s, tag);
	}
	if (!*copy)
		return ctr_err(err, CTR_EINVAL, 0, "invalid reference \"%.200s\": empty name", s);

	/* Split the domain off the way docker's splitDockerDomain does. */
	const char *domain = "docker.io";
	size_t dlen = strlen(domain);
	const char *rest = copy;
	char *first = strchr(copy, '/');
	if (first) {
		size_t flen = (size_t)(first - copy);
		bool looks_domain = memchr(copy, '.', flen) || memchr(copy, ':', flen) ||
				    (flen == 9 && !memcmp(copy, "localhost", 9)) || has_upper(copy, flen);
		if (looks_domain) {
			if (!domain_ok(copy, flen))
				return ctr_err(err, CTR_EINVAL, 0, "invalid reference \"%.200s\": invalid domain \"%.*s\"",
					       s, (int)flen, copy);
			domain = copy;
			dlen = flen;
			rest = first + 1;
		}
	}
	if (dlen == 15 && !memcmp(domain, "index.docker.io", 15)) {
		domain = "docker.io";
		dlen = 9;
	}
	if (has_upper(rest, strlen(rest)))
		return ctr_err(err, CTR_EINVAL, 0,
			       "invalid reference \"%.200s\": repository name must be lowercase", s);
	if (!*rest || !ctr_ref_path_ok(rest, strlen(rest)))
		return ctr_err(err, CTR_EINVAL, 0,
			       "invalid reference \"%.200s\": invalid repository path \"%.200s\"", s, rest);
	bool library = dlen == 9 && !memcmp(domain, "docker.io", 9) && !strchr(rest, '/');
	size_t plen = strlen(rest) + (library ? 8 : 0);
	if (dlen + 1 + plen > NAME_MAX_LEN)
		return ctr_err(err, CTR_EINVAL, 0, "invalid reference \"%.200s\": repository name longer than %d characters",
			       s, NAME_MAX_LEN);

	struct ctr_ref r = {0};
	r.domain = strndup(domain, dlen);
	if (library) {
		if (asprintf(&r.path, "library/%s", rest) < 0)
			r.path = NULL;
	} else {
		r.path = strdup(rest);
	}
	if (tag)
		r.tag = strdup(tag);
	else if (!digest)
		r.tag = strdup("latest");
	if (digest)
		r.digest = strdup(digest);
	if (!r.domain || !r.path || (!r.tag && (tag || !digest)) || (digest && !r.digest)) {
		ctr_ref_clear(&r);
		return ctr_err_nomem(err);
	}
	*out = r;
	return 0;
}

char *ctr_ref_name(const struct ctr_ref *r)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", r->domain, r->path) < 0)
		return NULL;
	return s;
}

char *ctr_ref_string(const struct ctr_ref *r)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
		     r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
		return NULL;
	return s;
}

const char *ctr_ref_object(const struct ctr_ref *r) { return r->digest ? r->digest : r->tag; }
