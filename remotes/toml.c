#include "toml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"

#define TOML_MAX_DEPTH 32

struct parser {
	const char *p, *end;
	int line;
	const char *what;
	ctr_error **err;
	int depth;
};

static int perr(struct parser *ps, const char *msg)
{
	return ctr_err(ps->err, CTR_EINVAL, 0, "%s: line %d: %s", ps->what, ps->line, msg);
}

static struct ctr_toml *node_new(enum ctr_toml_type t, int line)
{
	struct ctr_toml *n = calloc(1, sizeof(*n));
	if (n) {
		n->type = t;
		n->line = line;
	}
	return n;
}

void ctr_toml_free(struct ctr_toml *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		ctr_toml_free(t->items[i]);
		if (t->keys)
			free(t->keys[i]);
	}
	free(t->items);
	free(t->keys);
	free(t->str);
	free(t);
}

const struct ctr_toml *ctr_toml_get(const struct ctr_toml *t, const char *key)
{
	if (!t || t->type != CTR_TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->keys[i], key))
			return t->items[i];
	return NULL;
}

static int push_item(struct ctr_toml *t, char *key, struct ctr_toml *v)
{
	struct ctr_toml **items = realloc(t->items, (t->n + 1) * sizeof(*items));
	if (!items)
		return -1;
	t->items = items;
	if (t->type == CTR_TOML_TABLE) {
		char **keys = realloc(t->keys, (t->n + 1) * sizeof(*keys));
		if (!keys)
			return -1;
		t->keys = keys;
		keys[t->n] = key;
	}
	items[t->n++] = v;
	return 0;
}

/* Spaces and tabs; with nl also newlines and comments (inside arrays). */
static void skip_ws(struct parser *ps, bool nl)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
		} else if (nl && c == '\n') {
			ps->line++;
			ps->p++;
		} else if (nl && c == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		} else {
			break;
		}
	}
}

/* After a statement: optional comment then newline or EOF. */
static int end_of_line(struct parser *ps)
{
	skip_ws(ps, false);
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
	if (ps->p == ps->end)
		return 0;
	if (*ps->p != '\n')
		return perr(ps, "expected end of line");
	return 0;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
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

/* A "basic" or 'literal' single-line string at ps->p. */
static int parse_string(struct parser *ps, char **out)
{
	char q = *ps->p;
	if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
		return perr(ps, "multi-line strings are not supported");
	ps->p++;
	size_t cap = (size_t)(ps->end - ps->p) + 1;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return ctr_err_nomem(ps->err);
	size_t o = 0;
	for (;;) {
		if (ps->p >= ps->end || *ps->p == '\n')
			return perr(ps, "unterminated string");
		char c = *ps->p++;
		if (c == q)
			break;
		if ((unsigned char)c < 0x20 && c != '\t')
			return perr(ps, "control character in string");
		if (c == 0x7f)
			return perr(ps, "control character in string");
		if (c != '\\' || q == '\'') {
			buf[o++] = c;
			continue;
		}
		if (ps->p >= ps->end)
			return perr(ps, "unterminated string");
		char e = *ps->p++;
		switch (e) {
		case 'b': buf[o++] = '\b'; break;
		case 't': buf[o++] = '\t'; break;
		case 'n': buf[o++] = '\n'; break;
		case 'f': buf[o++] = '\f'; break;
		case 'r': buf[o++] = '\r'; break;
		case 'e': buf[o++] = 0x1b; break;
		case '"': buf[o++] = '"'; break;
		case '\\': buf[o++] = '\\'; break;
		case 'u':
		case 'U': {
			int nd = e == 'u' ? 4 : 8;
			if (ps->end - ps->p < nd)
				return perr(ps, "short unicode escape");
			uint32_t cp = 0;
			for (int i = 0; i < nd; i++) {
				int h = ctr_hex_digit(ps->p[i]);
				if (h < 0)
					return perr(ps, "bad unicode escape");
				cp = cp * 16 + (uint32_t)h;
			}
			ps->p += nd;
			if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return perr(ps, "invalid unicode scalar in escape");
			/* 4 bytes out for at most 6 or 10 consumed: fits in cap. */
			o += utf8_put(buf + o, cp);
			break;
		}
		default:
			return perr(ps, "invalid escape in string");
		}
	}
	buf[o] = 0;
	*out = TAKE_PTR(buf);
	return 0;
}

static bool bare_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* key ( "." key )*, each bare or quoted. Returns a NULL-terminated strv. */
static int parse_key(struct parser *ps, char ***out)
{
	_cleanup_strv_ char **parts = NULL;
	size_t n = 0;
	for (;;) {
		skip_ws(ps, false);
		char *k = NULL;
		if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
			int r = parse_string(ps, &k);
			if (r < 0)
				return r;
		} else {
			const char *s = ps->p;
			while (ps->p < ps->end && bare_key_char(*ps->p))
				ps->p++;
			if (ps->p == s)
				return perr(ps, "expected a key");
			k = strndup(s, (size_t)(ps->p - s));
			if (!k)
				return ctr_err_nomem(ps->err);
		}
		char **np = realloc(parts, (n + 2) * sizeof(*np));
		if (!np) {
			free(k);
			return ctr_err_nomem(ps->err);
		}
		parts = np;
		parts[n++] = k;
		parts[n] = NULL;
		skip_ws(ps, false);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		break;
	}
	*out = TAKE_PTR(parts);
	return 0;
}

/* Finds or creates the sub-table key of t. */
static int descend(struct parser *ps, struct ctr_toml *t, const char *key, struct ctr_toml **out)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->keys[i], key))
			continue;
		if (t->items[i]->type != CTR_TOML_TABLE)
			return perr(ps, "key already defined as a value");
		*out = t->items[i];
		return 0;
	}
	struct ctr_toml *n = node_new(CTR_TOML_TABLE, ps->line);
	char *k = strdup(key);
	if (!n || !k || push_item(t, k, n) < 0) {
		free(n);
		free(k);
		return ctr_err_nomem(ps->err);
	}
	*out = n;
	return 0;
}

static int parse_value(struct parser *ps, struct ctr_toml **out);

static int set_keyval(struct parser *ps, struct ctr_toml *t, char **key, struct ctr_toml *v)
{
	size_t n = 0;
	while (key[n])
		n++;
	for (size_t i = 0; i + 1 < n; i++) {
		int r = descend(ps, t, key[i], &t);
		if (r < 0)
			return r;
	}
	if (ctr_toml_get(t, key[n - 1]))
		return perr(ps, "duplicate key");
	char *k = strdup(key[n - 1]);
	if (!k || push_item(t, k, v) < 0) {
		free(k);
		return ctr_err_nomem(ps->err);
	}
	return 0;
}

static int parse_keyval(struct parser *ps, struct ctr_toml *t)
{
	_cleanup_strv_ char **key = NULL;
	int r = parse_key(ps, &key);
	if (r < 0)
		return r;
	skip_ws(ps, false);
	if (ps->p >= ps->end || *ps->p != '=')
		return perr(ps, "expected '=' after key");
	ps->p++;
	skip_ws(ps, false);
	struct ctr_toml *v = NULL;
	r = parse_value(ps, &v);
	if (r < 0)
		return r;
	r = set_keyval(ps, t, key, v);
	if (r < 0)
		ctr_toml_free(v);
	return r;
}

static int parse_value(struct parser *ps, struct ctr_toml **out)
{
	if (ps->p >= ps->end)
		return perr(ps, "expected a value");
	if (++ps->depth > TOML_MAX_DEPTH)
		return perr(ps, "values nested too deeply");
	int r = 0;
	struct ctr_toml *v = NULL;
	char c = *ps->p;
	if (c == '"' || c == '\'') {
		v = node_new(CTR_TOML_STRING, ps->line);
		if (!v)
			return ctr_err_nomem(ps->err);
		r = parse_string(ps, &v->str);
	} else if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4) &&
		   (ps->end - ps->p == 4 || !bare_key_char(ps->p[4]))) {
		v = node_new(CTR_TOML_BOOL, ps->line);
		if (!v)
			return ctr_err_nomem(ps->err);
		v->b = true;
		ps->p += 4;
	} else if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5) &&
		   (ps->end - ps->p == 5 || !bare_key_char(ps->p[5]))) {
		v = node_new(CTR_TOML_BOOL, ps->line);
		if (!v)
			return ctr_err_nomem(ps->err);
		ps->p += 5;
	} else if (c == '[') {
		v = node_new(CTR_TOML_ARRAY, ps->line);
		if (!v)
			return ctr_err_nomem(ps->err);
		ps->p++;
		for (;;) {
			skip_ws(ps, true);
			if (ps->p < ps->end && *ps->p == ']') {
				ps->p++;
				break;
			}
			struct ctr_toml *item = NULL;
			r = parse_value(ps, &item);
			if (r < 0)
				break;
			if (push_item(v, NULL, item) < 0) {
				ctr_toml_free(item);
				r = ctr_err_nomem(ps->err);
				break;
			}
			skip_ws(ps, true);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == ']') {
				ps->p++;
				break;
			}
			r = perr(ps, "expected ',' or ']' in array");
			break;
		}
	} else if (c == '{') {
		v = node_new(CTR_TOML_TABLE, ps->line);
		if (!v)
			return ctr_err_nomem(ps->err);
		v->defined = true;
		ps->p++;
		skip_ws(ps, false);
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
		} else {
			for (;;) {
				r = parse_keyval(ps, v);
				if (r < 0)
					break;
				skip_ws(ps, false);
				if (ps->p < ps->end && *ps->p == ',') {
					ps->p++;
					continue;
				}
				if (ps->p < ps->end && *ps->p == '}') {
					ps->p++;
					break;
				}
				r = perr(ps, "expected ',' or '}' in inline table");
				break;
			}
		}
	} else {
		return perr(ps, "unsupported value (hosts.toml takes strings, booleans, arrays and tables)");
	}
	ps->depth--;
	if (r < 0) {
		ctr_toml_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int ctr_toml_parse(const char *text, size_t len, const char *what, struct ctr_toml **out, ctr_error **err)
{
	struct parser ps = {.p = text, .end = text + len, .line = 1, .what = what ? what : "toml", .err = err};
	if (memchr(text, 0, len))
		return ctr_err(err, CTR_EINVAL, 0, "%s: NUL byte in file", ps.what);
	struct ctr_toml *root = node_new(CTR_TOML_TABLE, 1);
	if (!root)
		return ctr_err_nomem(err);
	root->defined = true;
	struct ctr_toml *cur = root;
	int r = 0;
	while (ps.p < ps.end) {
		skip_ws(&ps, false);
		if (ps.p >= ps.end)
			break;
		char c = *ps.p;
		if (c == '\n') {
			ps.p++;
			ps.line++;
			continue;
		}
		if (c == '#') {
			r = end_of_line(&ps);
		} else if (c == '[') {
			ps.p++;
			if (ps.p < ps.end && *ps.p == '[') {
				r = perr(&ps, "arrays of tables are not supported");
				break;
			}
			_cleanup_strv_ char **key = NULL;
			r = parse_key(&ps, &key);
			if (r < 0)
				break;
			if (ps.p >= ps.end || *ps.p != ']') {
				r = perr(&ps, "expected ']' after table name");
				break;
			}
			ps.p++;
			cur = root;
			for (size_t i = 0; key[i] && r == 0; i++)
				r = descend(&ps, cur, key[i], &cur);
			if (r < 0)
				break;
			if (cur->defined) {
				r = perr(&ps, "table defined twice");
				break;
			}
			cur->defined = true;
			cur->line = ps.line;
			r = end_of_line(&ps);
		} else {
			r = parse_keyval(&ps, cur);
			if (r == 0)
				r = end_of_line(&ps);
		}
		if (r < 0)
			break;
	}
	if (r < 0) {
		ctr_toml_free(root);
		return r;
	}
	*out = root;
	return 0;
}
