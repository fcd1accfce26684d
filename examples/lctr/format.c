/* Output and argument helpers shared by lctr's commands: sizes and ages as ctr prints
 * them (docker's go-units HumanSize and HumanDuration). */
#include "lctr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *lctr_human_size(double size, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	size_t i = 0;
	while (size >= 1000 && i + 1 < sizeof(units) / sizeof(units[0])) {
		size /= 1000;
		i++;
	}
	/* go-units uses %.4g */
	snprintf(buf, len, "%.4g %s", size, units[i]);
	return buf;
}

const char *lctr_human_age(int64_t since_ns, char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	double s = (double)(now - since_ns) / 1e9;
	if (s < 1)
		snprintf(buf, len, "Less than a second");
	else if (s < 2)
		snprintf(buf, len, "1 second");
	else if (s < 60)
		snprintf(buf, len, "%d seconds", (int)s);
	else if (s / 60 < 2)
		snprintf(buf, len, "About a minute");
	else if (s / 60 < 60)
		snprintf(buf, len, "%d minutes", (int)(s / 60));
	else if (s / 3600 < 2)
		snprintf(buf, len, "About an hour");
	else if (s / 3600 < 48)
		snprintf(buf, len, "%d hours", (int)(s / 3600));
	else if (s / 86400 < 14)
		snprintf(buf, len, "%d days", (int)(s / 86400));
	else if (s / 86400 < 60)
		snprintf(buf, len, "%d weeks", (int)(s / 86400 / 7));
	else if (s / 86400 < 730)
		snprintf(buf, len, "%d months", (int)(s / 86400 / 30));
	else
		snprintf(buf, len, "%d years", (int)(s / 86400 / 365));
	return buf;
}

void lctr_print_labels(FILE *f, const char *const *labels)
{
	if (!labels || !labels[0]) {
		fputs("-", f);
		return;
	}
	for (size_t i = 0; labels[i]; i++)
		fprintf(f, "%s%s", i ? "," : "", labels[i]);
}

char **lctr_label_args(char *const *args, int n)
{
	char **v = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof(char *));
	for (int i = 0; v && i < n; i++) {
		size_t len = strlen(args[i]);
		bool eq = strchr(args[i], '=') != NULL;
		v[i] = malloc(len + 2);
		if (!v[i]) {
			lctr_strv_free(v);
			return NULL;
		}
		memcpy(v[i], args[i], len);
		memcpy(v[i] + len, eq ? "" : "=", eq ? 1 : 2);
	}
	return v;
}

void lctr_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A table printed like ctr's tabwriter (padding 1, spaces): cells are
 * collected, then each column is padded to its widest cell. */
#include <stdlib.h>

void lctr_table_init(struct lctr_table *t, size_t cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
}

void lctr_table_add(struct lctr_table *t, const char *cell)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		char **nv = realloc(t->cells, nc * sizeof(char *));
		if (!nv)
			return;
		t->cells = nv;
		t->cap = nc;
	}
	t->cells[t->n++] = strdup(cell ? cell : "");
}

void lctr_table_print(struct lctr_table *t, FILE *f)
{
	size_t *w = calloc(t->cols, sizeof(size_t));
	if (!w)
		return;
	for (size_t i = 0; i < t->n; i++) {
		size_t l = t->cells[i] ? strlen(t->cells[i]) : 0;
		if (l > w[i % t->cols])
			w[i % t->cols] = l;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t c = i % t->cols;
		const char *s = t->cells[i] ? t->cells[i] : "";
		if (c + 1 == t->cols)
			fprintf(f, "%s\n", s);
		else
			fprintf(f, "%-*s ", (int)w[c], s);
	}
	free(w);
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Go's text/tabwriter as ctr uses it (minwidth, padding, ' ', no flags):
 * every tab ends a cell; a column's width is set per block of consecutive
 * lines that have a cell in it, as the widest cell plus padding. */
struct tw_line {
	char **cells;
	size_t n; /* the last cell is the line's tail, never padded */
};

static void tw_write(FILE *f, struct tw_line *l, size_t from, size_t to, const size_t *w, size_t nw)
{
	for (size_t i = from; i < to; i++) {
		for (size_t j = 0; j < l[i].n; j++) {
			const char *c = l[i].cells[j];
			if (j < nw && j + 1 < l[i].n)
				fprintf(f, "%-*s", (int)w[j], c);
			else
				fputs(c, f);
		}
		fputc('\n', f);
	}
}

static void tw_format(FILE *f, struct tw_line *l, size_t line0, size_t line1, size_t *w, size_t nw,
		      size_t minwidth, size_t padding)
{
	size_t column = nw, printed = line0;
	for (size_t t = line0; t < line1; t++) {
		if (column + 1 >= l[t].n)
			continue;
		tw_write(f, l, printed, t, w, nw);
		size_t start = t, width = minwidth;
		for (; t < line1 && column + 1 < l[t].n; t++)
			if (strlen(l[t].cells[column]) + padding > width)
				width = strlen(l[t].cells[column]) + padding;
		w[nw] = width;
		tw_format(f, l, start, t, w, nw + 1, minwidth, padding);
		printed = t;
		t--;
	}
	tw_write(f, l, printed, line1, w, nw);
}

void lctr_tabwrite(FILE *f, const char *text, size_t minwidth, size_t padding)
{
	struct tw_line *l = NULL;
	size_t n = 0, maxcells = 1;
	char *dup = strdup(text), *save = NULL;
	if (!dup)
		return;
	for (char *line = dup; line && *line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		struct tw_line *nv = realloc(l, (n + 1) * sizeof(*l));
		if (!nv)
			break;
		l = nv;
		l[n].n = 1;
		for (const char *p = line; *p; p++)
			l[n].n += *p == '\t';
		l[n].cells = calloc(l[n].n, sizeof(char *));
		if (!l[n].cells)
			break;
		size_t k = 0;
		for (char *c = line;; k++) {
			char *tab = strchr(c, '\t');
			l[n].cells[k] = c;
			if (!tab)
				break;
			*tab = 0;
			c = tab + 1;
		}
		if (l[n].n > maxcells)
			maxcells = l[n].n;
		n++;
	}
	size_t *w = calloc(maxcells, sizeof(size_t));
	if (w)
		tw_format(f, l, 0, n, w, 0, minwidth, padding);
	free(w);
	for (size_t i = 0; i < n; i++)
		free(l[i].cells);
	free(l);
	free(dup);
}

bool lctr_is_sha256_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0)
		return false;
	size_t n = 0;
	for (const char *h = d + 7; h[n]; n++)
		if (!((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f')))
			return false;
	return n == 64;
}
