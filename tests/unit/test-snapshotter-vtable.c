/* An application's snapshotter registered through the public vtable: every
 * snapshot call reaches it with "<ns>/<key>", and records stay namespaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>

#include <ctr/ctr.h>
#include <ctr/sys/alloc.h>
#include <ctr/sys/error.h>
#include <ctr/sys/snapshotter.h>

#include "fs.h"

struct rec {
	char key[300];
	char parent[300];
	ctr_snapshot_kind kind;
};

struct mem {
	struct rec r[32];
	int n;
	char calls[4096];
};

static struct rec *find(struct mem *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->r[i].key, key))
			return &m->r[i];
	return NULL;
}

static void log_call(struct mem *m, const char *what, const char *key)
{
	size_t l = strlen(m->calls);
	snprintf(m->calls + l, sizeof(m->calls) - l, "%s %s\n", what, key);
}

static int mk(ctr_mount_list **out, void *self, const char *key, const char *parent, ctr_snapshot_kind kind,
	      ctr_error **err)
{
	struct mem *m = self;
	(void)err;
	if (find(m, key))
		return CTR_EEXISTS;
	struct rec *r = &m->r[m->n++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->parent, sizeof(r->parent), "%s", parent ? parent : "");
	r->kind = kind;
	log_call(m, kind == CTR_SNAPSHOT_VIEW ? "view" : "prepare", key);
	if (out) {
		ctr_mount_list_new(out, NULL);
		const char *o[] = {"rbind", NULL};
		ctr_mount_list_add(*out, "bind", "/tmp/memsnap", o, NULL);
	}
	return 0;
}

static int m_prepare(ctr_mount_list **o, void *s, const char *k, const char *p, const char *const *l, ctr_error **e)
{
	(void)l;
	return mk(o, s, k, p, CTR_SNAPSHOT_ACTIVE, e);
}
static int m_view(ctr_mount_list **o, void *s, const char *k, const char *p, const char *const *l, ctr_error **e)
{
	(void)l;
	return mk(o, s, k, p, CTR_SNAPSHOT_VIEW, e);
}
static int m_mounts(ctr_mount_list **o, void *s, const char *k, ctr_error **e)
{
	if (!find(s, k))
		return ctr_error_set(e, CTR_ENOTFOUND, 0, "memsnap: no such key");
	ctr_mount_list_new(o, NULL);
	ctr_mount_list_add(*o, "bind", "/tmp/memsnap", NULL, NULL);
	return 0;
}
static int m_commit(void *s, const char *name, const char *k, const char *const *l, ctr_error **e)
{
	(void)l;
	(void)e;
	struct rec *r = find(s, k);
	if (!r)
		return CTR_ENOTFOUND;
	snprintf(r->key, sizeof(r->key), "%s", name);
	r->kind = CTR_SNAPSHOT_COMMITTED;
	log_call(s, "commit", name);
	return 0;
}
static int m_remove(void *s, const char *k, ctr_error **e)
{
	(void)e;
	struct mem *m = s;
	struct rec *r = find(m, k);
	if (!r)
		return CTR_ENOTFOUND;
	*r = m->r[--m->n];
	log_call(m, "remove", k);
	return 0;
}
static int m_stat(ctr_snapshot_info **o, void *s, const char *k, ctr_error **e)
{
	struct rec *r = find(s, k);
	if (!r)
		return CTR_ENOTFOUND;
	return ctr_snapshot_info_new(o, r->key, r->parent[0] ? r->parent : NULL, r->kind, NULL, 1, 2, e);
}
static int m_walk(void *s, int (*fn)(const ctr_snapshot_info *, void *), void *ud, ctr_error **e)
{
	struct mem *m = s;
	for (int i = 0; i < m->n; i++) {
		ctr_snapshot_info *info = NULL;
		ctr_snapshot_info_new(&info, m->r[i].key, NULL, m->r[i].kind, NULL, 1, 2, e);
		int r = fn(info, ud);
		ctr_snapshot_info_free(info);
		if (r)
			return r;
	}
	return 0;
}

/* The directory is the library's to free (with ctr_free). */
static int m_apply_dir(char **path, void *s, const char *k, ctr_error **e)
{
	if (!find(s, k))
		return ctr_error_set(e, CTR_ENOTFOUND, 0, "memsnap: no such key");
	*path = ctr_strdup("/nonexistent/memsnap-apply");
	return *path ? 0 : ctr_error_set(e, CTR_ENOMEM, 0, "out of memory");
}

static int closed;
static void m_close(void *s)
{
	(void)s;
	closed++;
}

static void test_vtable(void **state)
{
	(void)state;
	char tmp[] = "/tmp/ctr-vt-XXXXXX", root[300], st[300];
	assert_non_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(st, sizeof(st), "%s/state", tmp);
	ctr_opt *a = ctr_with_root(root), *b = ctr_with_state(st);
	ctr_client *c = NULL;
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(a, b), NULL), 0);
	struct mem mem = {0};
	struct ctr_snapshotter_vtable vt = {
		.version = CTR_SNAPSHOTTER_VTABLE_VERSION,
		.prepare = m_prepare, .view = m_view, .mounts = m_mounts, .commit = m_commit,
		.remove = m_remove, .stat = m_stat, .walk = m_walk, .apply_dir = m_apply_dir, .close = m_close,
	};
	ctr_error *err = NULL;
	assert_int_equal(ctr_snapshotter_register(c, "memsnap", &vt, &mem, NULL), 0);
	assert_int_equal(ctr_snapshotter_register(c, "memsnap", &vt, &mem, &err), CTR_EEXISTS);
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_snapshotter_register(c, "overlayfs", &vt, &mem, NULL), CTR_EEXISTS);
	assert_int_equal(ctr_snapshotter_register(c, "../x", &vt, &mem, NULL), CTR_EINVAL);
	struct ctr_snapshotter_vtable bad = vt;
	/* A table of a layout this library does not know is refused. */
	bad.version = CTR_SNAPSHOTTER_VTABLE_VERSION + 1;
	assert_int_equal(ctr_snapshotter_register(c, "other", &bad, &mem, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "version"));
	ctr_error_free(err);
	err = NULL;
	bad.version = 0;
	assert_int_equal(ctr_snapshotter_register(c, "other", &bad, &mem, NULL), CTR_EINVAL);
	bad = vt;
	bad.commit = NULL;
	assert_int_equal(ctr_snapshotter_register(c, "other", &bad, &mem, NULL), CTR_EINVAL);

	ctr_mount_list *ml = NULL;
	assert_int_equal(ctr_snapshot_prepare(&ml, c, "memsnap", "k1", NULL, NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_mount_list_len(ml), 1);
	assert_string_equal(ctr_mount_list_type(ml, 0), "bind");
	assert_string_equal(ctr_mount_list_options(ml, 0)[0], "rbind");
	ctr_mount_list_free(ml);
	assert_int_equal(ctr_snapshot_commit(c, "memsnap", "base", "k1", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ctr_snapshot_view(&ml, c, "memsnap", "v1", "base", NULL, NULL, 0, NULL), 0);
	ctr_mount_list_free(ml);
	/* Records are namespaced: another namespace sees nothing. */
	ctr_opt *ns = ctr_with_call_namespace("other");
	ctr_snapshot_info **v = NULL;
	size_t n = 0;
	assert_int_equal(ctr_snapshot_list(&v, &n, c, "memsnap", NULL, 0, CTR_OPTS(ns), NULL), 0);
	assert_int_equal(n, 0);
	ctr_snapshot_info_list_free(v, n);
	assert_int_equal(ctr_snapshot_list(&v, &n, c, "memsnap", NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 2);
	ctr_snapshot_info_list_free(v, n);
	assert_int_equal(ctr_snapshot_remove(c, "memsnap", "v1", NULL, 0, NULL), 0);
	assert_string_equal(mem.calls, "prepare default/k1\ncommit default/base\nview default/v1\nremove default/v1\n");
	ctr_opt_free(ns);
	ctr_opt_free(a);
	ctr_opt_free(b);
	ctr_client_free(c);
	assert_int_equal(closed, 1);
	ctr_rm_rf_at(AT_FDCWD, tmp, NULL);
}

/* ctr/sys/error.h: what a callback or vtable uses to report a failure. */
static void test_error_set(void **state)
{
	(void)state;
	assert_int_equal(ctr_error_set(NULL, CTR_ENOTFOUND, 0, "x"), CTR_ENOTFOUND);
	ctr_error *e = NULL;
	assert_int_equal(ctr_error_set(&e, CTR_EIO, 5, "disk on fire"), CTR_EIO);
	assert_non_null(e);
	assert_int_equal(ctr_error_code_of(e), CTR_EIO);
	assert_int_equal(ctr_error_errno(e), 5);
	assert_non_null(strstr(ctr_error_message(e), "disk on fire"));
	/* The first error is kept. */
	assert_int_equal(ctr_error_set(&e, CTR_EBUSY, 0, "second"), CTR_EBUSY);
	assert_int_equal(ctr_error_code_of(e), CTR_EIO);
	ctr_error_free(e);
	e = NULL;
	/* Not a CTR_E* error code: CTR_EINVAL. */
	assert_int_equal(ctr_error_set(&e, 7, 0, "odd"), CTR_EINVAL);
	assert_int_equal(ctr_error_code_of(e), CTR_EINVAL);
	ctr_error_free(e);
	e = NULL;
	assert_int_equal(ctr_error_set(&e, CTR_ENOMEM, 0, NULL), CTR_ENOMEM);
	assert_string_equal(ctr_error_message(e), "out of memory");
	ctr_error_free(e);
	/* ctr/sys/alloc.h: freed with ctr_free. */
	char *d = ctr_strdup("abc");
	assert_string_equal(d, "abc");
	ctr_free(d);
	assert_null(ctr_strdup(NULL));
	void *m = ctr_malloc(16);
	assert_non_null(m);
	ctr_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_vtable), cmocka_unit_test(test_error_set)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
