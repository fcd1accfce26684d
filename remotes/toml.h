/* A TOML reader for the subset hosts.toml uses: basic strings with escapes,
 * literal strings, booleans, arrays, inline tables, [tables] with bare or
 * quoted dotted keys, and comments. Anything else (numbers, dates,
 * multi-line strings, arrays of tables) is refused with CTR_EINVAL naming
 * the line. Keys keep file order. */
#ifndef CTR_REMOTES_TOML_H
#define CTR_REMOTES_TOML_H

#include <ctr/common.h>
#include <stdbool.h>
#include <stddef.h>

enum ctr_toml_type { CTR_TOML_STRING, CTR_TOML_BOOL, CTR_TOML_ARRAY, CTR_TOML_TABLE };

struct ctr_toml {
	enum ctr_toml_type type;
	int line;       /* where the value (or table) was defined */
	char *str;      /* STRING */
	bool b;         /* BOOL */
	size_t n;       /* ARRAY, TABLE: number of items */
	struct ctr_toml **items;
	char **keys;    /* TABLE: keys[i] names items[i] */
	bool defined;   /* TABLE: opened by a [header] or inline; not just implied */
};

/* Parses text[0..len). *out is the root table; free with ctr_toml_free.
 * `what` (e.g. the file name) prefixes errors. */
int ctr_toml_parse(const char *text, size_t len, const char *what, struct ctr_toml **out, ctr_error **err);
void ctr_toml_free(struct ctr_toml *t);
/* Borrowed child of a table, or NULL. */
const struct ctr_toml *ctr_toml_get(const struct ctr_toml *table, const char *key);

#endif
