/* lctr: shared declarations for the command groups. */
#ifndef LCTR_H
#define LCTR_H

#include <ctr/ctr.h>
#include <stdbool.h>

struct lctr {
	const char *root;  /* NULL: library default */
	const char *state; /* NULL: library default */
	const char *ns;
	bool debug;
	ctr_client *client; /* opened on first use */
};

/* A command: argv[0] is the command's own name. Returns the exit status. */
typedef int (*lctr_cmd_fn)(struct lctr *g, int argc, char **argv);

struct lctr_cmd {
	const char *name;
	const char *aliases; /* space separated, may be NULL */
	lctr_cmd_fn fn;
	const char *help;
};

/* Opens the client from the global flags; prints the error and returns NULL. */
ctr_client *lctr_client(struct lctr *g);

/* Prints "lctr: <what>: <why>" on stderr and returns 1. Frees err. */
int lctr_fail(const char *what, ctr_error *err);
/* Prints "lctr: <msg>" and returns 1 (for usage errors: 2 is for flags). */
int lctr_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs the sub-command of a group: argv[1] names it. */
int lctr_dispatch(struct lctr *g, const char *group, const struct lctr_cmd *cmds, size_t n,
		  int argc, char **argv);

/* Builds a NULL-terminated option array that frees itself; add NULL-safe. */
struct lctr_opts {
	ctr_opt *v[64];
	size_t n;
	bool failed;
};
void lctr_opts_add(struct lctr_opts *o, ctr_opt *opt);
void lctr_opts_free(struct lctr_opts *o);
#define LCTR_OPTS(o) ((const ctr_opt *const *)(o)->v), (o)->n

/* format.c */
#include <stdint.h>
#include <stdio.h>
const char *lctr_human_size(double size, char *buf, size_t len);
const char *lctr_human_age(int64_t since_ns, char *buf, size_t len);
/* "k=v,k=v" or "-" when there are none. */
void lctr_print_labels(FILE *f, const char *const *labels);

struct lctr_table {
	size_t cols, n, cap;
	char **cells;
};
void lctr_table_init(struct lctr_table *t, size_t cols);
void lctr_table_add(struct lctr_table *t, const char *cell);
/* Prints and frees the table. */
void lctr_table_print(struct lctr_table *t, FILE *f);

/* images sub-commands in cmd-images-extra.c */
int lctr_images_mount(struct lctr *g, int argc, char **argv);
int lctr_images_unmount(struct lctr *g, int argc, char **argv);
int lctr_images_check(struct lctr *g, int argc, char **argv);
int lctr_images_usage(struct lctr *g, int argc, char **argv);

/* Command groups (cmd-*.c). */
int lctr_cmd_version(struct lctr *g, int argc, char **argv);
int lctr_cmd_info(struct lctr *g, int argc, char **argv);
int lctr_cmd_content(struct lctr *g, int argc, char **argv);
int lctr_cmd_snapshots(struct lctr *g, int argc, char **argv);
int lctr_cmd_namespaces(struct lctr *g, int argc, char **argv);
int lctr_cmd_leases(struct lctr *g, int argc, char **argv);
int lctr_cmd_gc(struct lctr *g, int argc, char **argv);
int lctr_cmd_events(struct lctr *g, int argc, char **argv);
int lctr_cmd_images(struct lctr *g, int argc, char **argv);
/* lctr content fetch: pull's flags, no image unpack (cmd-images.c). */
int lctr_content_fetch(struct lctr *g, int argc, char **argv);

#endif
