/* Shared fixture of the metadata tests: a client on a fresh temporary root. */
#ifndef CTR_TEST_MD_FIXTURE_H
#define CTR_TEST_MD_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctr/ctr.h>

#include "client.h"
#include "db.h"
#include "metadata.h"
#include "fs.h"

struct fx {
	char dir[64];
	char root[96];
	char state[96];
	ctr_client *c;
};

static inline ctr_client *fx_client(struct fx *f, const char *ns)
{
	ctr_client *c = NULL;
	ctr_opt *o[] = {ctr_with_root(f->root), ctr_with_state(f->state),
			ctr_with_namespace(ns ? ns : "default")};
	ctr_error *err = NULL;
	int r = ctr_client_new(&c, (const ctr_opt *const *)o, 3, &err);
	for (int i = 0; i < 3; i++)
		ctr_opt_free(o[i]);
	if (r < 0)
		fprintf(stderr, "client: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	return r == 0 ? c : NULL;
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ctr-md-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	f->c = fx_client(f, NULL);
	if (!f->c)
		return -1;
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	ctr_client_free(f->c);
	ctr_rm_rf_at(AT_FDCWD, f->dir, NULL);
	free(f);
	return 0;
}

/* One integer from a query on the client's database (-1 on error). */
static inline long long fx_count(ctr_client *c, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(c->db->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Sorted, space-joined names in dir (for "nothing new on disk" checks). */
static inline void fx_ls(const char *dir, char *out, size_t len)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		strncat(out, ents[i]->d_name, len - strlen(out) - 1);
		strncat(out, " ", len - strlen(out) - 1);
		free(ents[i]);
	}
	free(ents);
}

static inline size_t fx_strv_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static inline bool fx_strv_has(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define D5 "sha256:5555555555555555555555555555555555555555555555555555555555555555"

#endif
