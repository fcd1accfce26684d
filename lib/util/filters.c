/* containerd's filter syntax, parsed by hand. Grammar (containerd/filters,
 * with '|' added as OR between selector groups, as the foundation issue asks):
 *
 *   filter    := selectors ('|' selectors)*
 *   selectors := selector (',' selector)*
 *   selector  := fieldpath (operator value)?
 *   fieldpath := field ('.' field)*
 *   field     := quoted | [A-Za-z0-9_-]+
 *   operator  := "==" | "!=" | "~="
 *   value     := quoted | [^\s,|]+
 *   quoted    := "..." (C/Go escapes) | /.../ | |...| (regex friendly: only
 *                the delimiter is unescaped)
 *
 * Regexes are POSIX extended (regcomp), not RE2: the common subset matches.
 * Semantics follow containerd: "==" needs the field present, "!=" is true
 * when absent, "~=" matches against "" when absent. */
#include "filters.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"

enum op { OP_PRESENT, OP_EQ, OP_NE, OP_MATCH };

struct selector {
	char **path;
	size_t n_path;
	enum op op;
	char *value;
	regex_t re;
	bool has_re;
};

struct conj {
	struct selector *sel;
	size_t n;
};

struct ctr_filter {
	struct conj *alts; /* OR of ANDs */
	size_t n;
};

struct parser {
	const char *in;
	size_t pos;
	const char *whole;
	ctr_error **err;
};

static int perr(struct parser *p, const char *msg)
{
	return ctr_err(p->err, CTR_EINVAL, 0, "filter \"%.200s\": parse error at %zu: %s", p->whole,
		       p->pos, msg);
}

static void skip_space(struct parser *p)
{
	while (p->in[p->pos] == ' ' || p->in[p->pos] == '\t' || p->in[p->pos] == '\n' ||
	       p->in[p->pos] == '\r')
		p->pos++;
}

static bool field_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Reads a quoted token starting at the delimiter; *out is the unquoted text. */
static int parse_quoted(struct parser *p, char **out)
{
	char q = p->in[p->pos++];
	size_t cap = strlen(p->in + p->pos) * 4 + 1;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return ctr_err_nomem(p->err);
	size_t n = 0;
	for (;;) {
		char c = p->in[p->pos];
		if (!c || c == '\n')
			return perr(p, "quoted literal not terminated");
		p->pos++;
		if (c == q)
			break;
		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		char e = p->in[p->pos];
		if (q != '"') {
			/* Regex quoting: only the delimiter is an escape. */
			if (e == q) {
				buf[n++] = q;
				p->pos++;
			} else {
				buf[n++] = '\\';
			}
			continue;
		}
		p->pos++;
		switch (e) {
		case 'a': buf[n++] = '\a'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		case 'v': buf[n++] = '\v'; break;
		case '\\': buf[n++] = '\\'; break;
		case '"': buf[n++] = '"'; break;
		case 'x': case 'u': case 'U': {
			int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
			unsigned long cp = 0;
			for (int i = 0; i < digits; i++) {
				int v = ctr_hex_digit(p->in[p->pos]);
				if (v < 0)
					return perr(p, "illegal numeric escape sequence");
				cp = cp * 16 + (unsigned long)v;
				p->pos++;
			}
			if (e == 'x')
				buf[n++] = (char)cp;
			else if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return perr(p, "illegal unicode escape");
			else
				n += put_utf8(buf + n, cp);
			break;
		}
		default:
			if (e >= '0' && e <= '7') {
				unsigned v = (unsigned)(e - '0');
				for (int i = 0; i < 2; i++) {
					char d = p->in[p->pos];
					if (d < '0' || d > '7')
						return perr(p, "illegal octal escape sequence");
					v = v * 8 + (unsigned)(d - '0');
					p->pos++;
				}
				if (v > 255)
					return perr(p, "octal escape out of range");
				buf[n++] = (char)v;
				break;
			}
			return perr(p, "illegal escape sequence");
		}
	}
	buf[n] = 0;
	if (memchr(buf, 0, n))
		return perr(p, "NUL in quoted literal");
	*out = TAKE_PTR(buf);
	return 0;
}

static int parse_field(struct parser *p, char **out)
{
	skip_space(p);
	char c = p->in[p->pos];
	if (c == '"' || c == '/' || c == '|')
		return parse_quoted(p, out);
	size_t start = p->pos;
	while (field_char(p->in[p->pos]))
		p->pos++;
	if (p->pos == start)
		return perr(p, "expected field or quoted");
	*out = strndup(p->in + start, p->pos - start);
	return *out ? 0 : ctr_err_nomem(p->err);
}

static int parse_value(struct parser *p, char **out)
{
	skip_space(p);
	char c = p->in[p->pos];
	if (c == '"' || c == '/' || c == '|')
		return parse_quoted(p, out);
	size_t start = p->pos;
	while (p->in[p->pos] && p->in[p->pos] != ',' && p->in[p->pos] != '|' &&
	       p->in[p->pos] != ' ' && p->in[p->pos] != '\t' && p->in[p->pos] != '\n')
		p->pos++;
	if (p->pos == start)
		return perr(p, "expected value or quoted");
	*out = strndup(p->in + start, p->pos - start);
	return *out ? 0 : ctr_err_nomem(p->err);
}

static void selector_clear(struct selector *s)
{
	for (size_t i = 0; i < s->n_path; i++)
		free(s->path[i]);
	free(s->path);
	free(s->value);
	if (s->has_re)
		regfree(&s->re);
}

/* Longest regex accepted, and the bound on repetition counts: Go's
 * regexp (containerd's filters) refuses counts over 1000 and nested
 * repetition operators. glibc's regcomp copies a repeated subexpression
 * once per count, so nested counts multiply: "u++++...}}}" made it
 * allocate gigabytes (fuzz-filter). NULL when the pattern may compile. */
#define FILTER_REGEX_MAX 1024
#define FILTER_REPEAT_MAX 1000
#define FILTER_REPEAT_PRODUCT_MAX 100000

static const char *regex_too_costly(const char *re)
{
	if (strlen(re) > FILTER_REGEX_MAX)
		return "longer than 1024 bytes";
	unsigned long long product = 1;
	bool after_repeat = false, escaped = false;
	for (const char *c = re; *c; c++) {
		if (escaped) {
			escaped = false;
			after_repeat = false;
			continue;
		}
		if (*c == '\\') {
			escaped = true;
			continue;
		}
		if (*c == '[') { /* a bracket expression holds no operator */
			const char *e = c + 1;
			if (*e == '^')
				e++;
			if (*e == ']')
				e++;
			while (*e && *e != ']')
				e++;
			if (!*e)
				return NULL; /* regcomp reports it */
			c = e;
			after_repeat = false;
			continue;
		}
		if (*c == '*' || *c == '+' || *c == '?' || *c == '{') {
			if (after_repeat)
				return "nested repetition operator";
			after_repeat = true;
			if (*c != '{')
				continue;
			char *end;
			unsigned long lo = strtoul(c + 1, &end, 10), hi = lo;
			if (*end == ',')
				hi = isdigit((unsigned char)end[1]) ? strtoul(end + 1, &end, 10) : lo;
			while (*end && *end != '}')
				end++;
			if (lo > FILTER_REPEAT_MAX || hi > FILTER_REPEAT_MAX)
				return "repetition count over 1000";
			product *= hi ? hi : 1;
			if (product > FILTER_REPEAT_PRODUCT_MAX)
				return "repetition counts multiply past 100000";
			if (!*end)
				return NULL;
			c = end;
			continue;
		}
		after_repeat = false;
	}
	return NULL;
}

static int parse_selector(struct parser *p, struct selector *s)
{
	int r;
	for (;;) {
		char *f = NULL;
		if ((r = parse_field(p, &f)) < 0)
			return r;
		char **np = realloc(s->path, (s->n_path + 1) * sizeof(char *));
		if (!np) {
			free(f);
			return ctr_err_nomem(p->err);
		}
		s->path = np;
		s->path[s->n_path++] = f;
		skip_space(p);
		if (p->in[p->pos] != '.')
			break;
		p->pos++;
	}
	skip_space(p);
	char c = p->in[p->pos];
	if (!c || c == ',' || c == '|') {
		s->op = OP_PRESENT;
		return 0;
	}
	if (c == '=' && p->in[p->pos + 1] == '=')
		s->op = OP_EQ;
	else if (c == '!' && p->in[p->pos + 1] == '=')
		s->op = OP_NE;
	else if (c == '~' && p->in[p->pos + 1] == '=')
		s->op = OP_MATCH;
	else
		return perr(p, "expected an operator (\"==\"|\"!=\"|\"~=\")");
	p->pos += 2;
	if (p->in[p->pos] == '=' || p->in[p->pos] == '!' || p->in[p->pos] == '~')
		return perr(p, "unsupported operator");
	if ((r = parse_value(p, &s->value)) < 0)
		return r;
	if (s->op == OP_MATCH) {
		const char *why = regex_too_costly(s->value);
		if (why)
			return ctr_err(p->err, CTR_EINVAL, 0, "filter \"%.200s\": bad regex \"%.200s\": %s",
				       p->whole, s->value, why);
		int rc = regcomp(&s->re, s->value, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[128];
			regerror(rc, &s->re, msg, sizeof(msg));
			return ctr_err(p->err, CTR_EINVAL, 0, "filter \"%.200s\": bad regex \"%s\": %s",
				       p->whole, s->value, msg);
		}
		s->has_re = true;
	}
	return 0;
}

static void conj_clear(struct conj *c)
{
	for (size_t i = 0; i < c->n; i++)
		selector_clear(&c->sel[i]);
	free(c->sel);
}

void ctr_filter_free(ctr_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		conj_clear(&f->alts[i]);
	free(f->alts);
	free(f);
}

static int add_alt(ctr_filter *f, ctr_error **err)
{
	struct conj *na = realloc(f->alts, (f->n + 1) * sizeof(*na));
	if (!na)
		return ctr_err_nomem(err);
	f->alts = na;
	f->alts[f->n++] = (struct conj){0};
	return 0;
}

static int parse_one(ctr_filter *f, const char *s, ctr_error **err)
{
	struct parser p = {.in = s, .pos = 0, .whole = s, .err = err};
	int r;
	skip_space(&p);
	if (!s[p.pos]) /* "" matches everything, as in containerd */
		return add_alt(f, err);
	if ((r = add_alt(f, err)) < 0)
		return r;
	for (;;) {
		struct conj *c = &f->alts[f->n - 1];
		struct selector *ns = realloc(c->sel, (c->n + 1) * sizeof(*ns));
		if (!ns)
			return ctr_err_nomem(err);
		c->sel = ns;
		c->sel[c->n] = (struct selector){0};
		r = parse_selector(&p, &c->sel[c->n]);
		c->n++;
		if (r < 0)
			return r;
		skip_space(&p);
		char ch = s[p.pos];
		if (!ch)
			return 0;
		p.pos++;
		if (ch == '|') {
			if ((r = add_alt(f, err)) < 0)
				return r;
		} else if (ch != ',') {
			p.pos--;
			return perr(&p, "unexpected input");
		}
	}
}

int ctr_filter_parse(ctr_filter **out, const char *const *filters, size_t n,
				  ctr_error **err)
{
	ctr_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return ctr_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		int r = filters[i] ? parse_one(f, filters[i], err)
				   : ctr_err(err, CTR_EINVAL, 0, "filter %zu is NULL", i);
		if (r < 0) {
			ctr_filter_free(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

static bool sel_match(const struct selector *s, ctr_filter_field_fn field, void *obj)
{
	const char *v = field(obj, (const char *const *)s->path, s->n_path);
	switch (s->op) {
	case OP_PRESENT: return v != NULL;
	case OP_EQ: return v && !strcmp(v, s->value);
	case OP_NE: return !v || strcmp(v, s->value) != 0;
	case OP_MATCH: return regexec(&s->re, v ? v : "", 0, NULL, 0) == 0;
	}
	return false;
}

bool ctr_filter_match(const ctr_filter *f, ctr_filter_field_fn field, void *obj)
{
	if (!f || f->n == 0)
		return true;
	for (size_t i = 0; i < f->n; i++) {
		bool all = true;
		for (size_t j = 0; j < f->alts[i].n && all; j++)
			all = sel_match(&f->alts[i].sel[j], field, obj);
		if (all)
			return true;
	}
	return false;
}
