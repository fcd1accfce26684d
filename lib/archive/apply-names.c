/* Name handling for ctr_archive_apply: lexical cleaning against the layer
 * root and a small string set. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "apply-internal.h"
#include "fs.h"
#include "macro.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

bool ap_strset_has(const struct strset *s, const char *k)
{
	if (!s->cap)
		return false;
	for (size_t i = hash_str(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i])
			return false;
		if (!strcmp(s->slots[i], k))
			return true;
	}
}

int ap_strset_add(struct strset *s, const char *k)
{
	if (ap_strset_has(s, k))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		char **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i])
				continue;
			size_t j = hash_str(s->slots[i]) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	char *c = strdup(k);
	if (!c)
		return -ENOMEM;
	size_t i = hash_str(k) & (s->cap - 1);
	while (s->slots[i])
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = c;
	s->n++;
	return 0;
}

void ap_strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		free(s->slots[i]);
		s->slots[i] = NULL;
	}
	s->n = 0;
}

void ap_strset_free(struct strset *s)
{
	ap_strset_clear(s);
	free(s->slots);
	s->slots = NULL;
	s->cap = 0;
}

const char *ap_next_component(const char **p, size_t *len)
{
	for (;;) {
		while (**p == '/')
			(*p)++;
		if (!**p)
			return NULL;
		const char *s = *p;
		while (**p && **p != '/')
			(*p)++;
		*len = (size_t)(*p - s);
		if (!(*len == 1 && s[0] == '.'))
			return s;
	}
}

/* Lexical clean of a tar name against "/": drops empty and "." components,
 * ".." pops (never above the root). The result has no leading or trailing
 * "/" and is "" for the root itself. */
char *ap_clean_name(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	const char *p = in, *s;
	size_t len;
	while ((s = ap_next_component(&p, &len))) {
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash */
			continue;
		}
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = 0;
	return out;
}

void ap_split_name(char *clean, const char **parent, const char **base)
{
	char *slash = strrchr(clean, '/');
	if (slash) {
		*slash = 0;
		*parent = clean;
		*base = slash + 1;
	} else {
		*parent = "";
		*base = clean;
	}
}
