/* ctr_image_push / ctr_image_fetch / ctr_image_pull against a real
 * docker-registry (tests/fixtures/registry.sh), through the fault proxy
 * (faultproxy.py) and a server of hand-made manifests
 * (manifest-server.py): round trip with skopeo checking the digest, basic
 * and token auth, TLS with a CA from hosts.toml, resumed and retried
 * downloads, corrupt bytes, two processes pulling at once, bad manifests.
 * Every failure case checks that nothing was left in the store. All
 * servers are stopped at teardown and watch this process besides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctr/ctr.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "digest.h"
#include "fs.h"
#include "store-empty.h"

static char top[64];      /* temp dir of the whole run */
static const char *src;   /* source root */
static char bb_ref[128];  /* busybox layout tag */
static int n_root;        /* counter for fresh roots */

/* ---- helpers ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			buf = realloc(buf, cap + 1);
		}
		size_t got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* A value from a fixture's KEY=VALUE env file (static buffer per call site). */
static void env_get(const char *dir, const char *key, char *out, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/env", dir);
	char *t = slurp(p, NULL);
	out[0] = 0;
	assert_non_null(t);
	size_t kl = strlen(key);
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			const char *v = line + kl + 1;
			size_t vl = strlen(v);
			if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') /* shell quoting */
				snprintf(out, len, "%.*s", (int)(vl - 2), v + 1);
			else
				snprintf(out, len, "%s", v);
		}
	free(t);
}

struct reg {
	char dir[128];
	char addr[64];
};

static void reg_start(struct reg *r, const char *mode)
{
	static int n;
	snprintf(r->dir, sizeof(r->dir), "%s/reg%d", top, n++);
	assert_int_equal(mkdir(r->dir, 0700), 0);
	assert_int_equal(sh("%s/tests/fixtures/registry.sh start %s --dir %s --owner-pid %d --ttl 600 >/dev/null", src,
			    mode, r->dir, (int)getpid()),
			 0);
	env_get(r->dir, "REGISTRY_ADDR", r->addr, sizeof(r->addr));
	assert_true(r->addr[0]);
}

static void reg_stop(struct reg *r)
{
	if (r->dir[0])
		sh("%s/tests/fixtures/registry.sh stop %s >/dev/null 2>&1", src, r->dir);
	r->dir[0] = 0;
}

/* Pushes an OCI layout tag with skopeo into the registry. */
static void reg_push(struct reg *r, const char *layout, const char *repo_tag, const char *extra)
{
	assert_int_equal(sh("%s/tests/fixtures/registry.sh push %s oci:%s:latest %s %s >/dev/null 2>&1", src, r->dir,
			    layout, repo_tag, extra ? extra : ""),
			 0);
}

struct proxy {
	char addr[64];
	char log[192];
	pid_t pid;
};

static void proxy_start(struct proxy *p, const char *upstream)
{
	static int n;
	snprintf(p->log, sizeof(p->log), "%s/proxy%d.log", top, n);
	char pidf[192], cmd[1024];
	snprintf(pidf, sizeof(pidf), "%s/proxy%d.pid", top, n++);
	snprintf(cmd, sizeof(cmd),
		 "python3 %s/tests/fixtures/faultproxy.py serve --upstream %s --log %s --pidfile %s --owner-pid %d --ttl 600 "
		 "--daemon",
		 src, upstream, p->log, pidf, (int)getpid());
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(p->addr, sizeof(p->addr), f));
	pclose(f);
	p->addr[strcspn(p->addr, "\n")] = 0;
	char *pid = slurp(pidf, NULL);
	assert_non_null(pid);
	p->pid = atoi(pid);
	free(pid);
}

static void proxy_rule(struct proxy *p, const char *json)
{
	assert_int_equal(sh("python3 %s/tests/fixtures/faultproxy.py add %s '%s' >/dev/null", src, p->addr, json), 0);
}

static void proxy_stop(struct proxy *p)
{
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	p->pid = 0;
}

/* Requests in the proxy log matching method and a path suffix. */
static size_t proxy_count(struct proxy *p, const char *method, const char *suffix, json_t **last)
{
	usleep(200 * 1000); /* the log line is written when the response is done */
	char *t = slurp(p->log, NULL);
	size_t n = 0;
	for (char *line = t ? strtok(t, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		const char *m = json_string_value(json_object_get(o, "method"));
		const char *path = json_string_value(json_object_get(o, "path"));
		if (m && path && !strcmp(m, method) && strlen(path) >= strlen(suffix) &&
		    !strcmp(path + strlen(path) - strlen(suffix), suffix)) {
			n++;
			if (last) {
				json_decref(*last);
				*last = json_incref(o);
			}
		}
		json_decref(o);
	}
	free(t);
	return n;
}

static ctr_client *new_client(void)
{
	char root[128], state[128];
	snprintf(root, sizeof(root), "%s/root%d", top, n_root);
	snprintf(state, sizeof(state), "%s/state%d", top, n_root++);
	ctr_client *c = NULL;
	ctr_error *err = NULL;
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(state);
	int r = ctr_client_new(&c, CTR_OPTS(ro, so), &err);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	if (r < 0)
		fail_msg("client: %s", ctr_error_message(err));
	return c;
}

static ctr_client *client_at(const char *root, const char *state)
{
	ctr_client *c = NULL;
	ctr_opt *ro = ctr_with_root(root), *so = ctr_with_state(state);
	assert_int_equal(ctr_client_new(&c, CTR_OPTS(ro, so), NULL), 0);
	ctr_opt_free(ro);
	ctr_opt_free(so);
	return c;
}

static bool has_blob(ctr_client *c, const char *digest)
{
	ctr_content_info *i = NULL;
	int r = ctr_content_get(&i, c, digest, NULL, 0, NULL);
	ctr_content_info_free(i);
	return r == 0;
}

/* The blob's bytes equal the layout's file. */
static void assert_blob_equals_layout(ctr_client *c, const char *layout, const char *digest)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, digest + 7);
	size_t len = 0;
	char *want = slurp(p, &len);
	assert_non_null(want);
	ctr_content_reader *rd = NULL;
	ctr_error *err = NULL;
	if (ctr_content_reader_open(&rd, c, digest, NULL, 0, &err) < 0)
		fail_msg("open %s: %s", digest, ctr_error_message(err));
	assert_int_equal(ctr_content_reader_size(rd), (int64_t)len);
	char *got = malloc(len + 1);
	size_t nr = 0;
	assert_int_equal(ctr_content_reader_pread(&nr, rd, got, len, 0, NULL), 0);
	assert_int_equal(nr, len);
	assert_memory_equal(got, want, len);
	free(got);
	free(want);
	ctr_content_reader_free(rd);
}

/* Every blob the layout holds (for a single-image layout: manifest, config
 * and layers) is in c, byte-identical. Returns how many. */
static size_t assert_layout_blobs(ctr_client *c, const char *layout)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls %s/blobs/sha256", layout);
	FILE *f = popen(cmd, "r");
	char line[128];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char dg[CTR_DIGEST_MAX];
		snprintf(dg, sizeof(dg), "sha256:%s", line);
		assert_blob_equals_layout(c, layout, dg);
		n++;
	}
	pclose(f);
	return n;
}

/* The layout's root descriptor (index.json's first manifest). */
static json_t *layout_root(const char *layout)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/index.json", layout);
	json_t *idx = json_load_file(p, 0, NULL);
	assert_non_null(idx);
	json_t *d = json_incref(json_array_get(json_object_get(idx, "manifests"), 0));
	json_decref(idx);
	assert_non_null(d);
	return d;
}

/* Imports a layout into c through the public content API and makes an
 * image record called name. */
static void import_layout(ctr_client *c, const char *layout, const char *name)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls %s/blobs/sha256", layout);
	FILE *f = popen(cmd, "r");
	char line[128];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char p[512], dg[CTR_DIGEST_MAX];
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, line);
		snprintf(dg, sizeof(dg), "sha256:%s", line);
		size_t len;
		char *data = slurp(p, &len);
		ctr_content_writer *w = NULL;
		ctr_opt *exp = ctr_with_content_expected(dg, (int64_t)len);
		assert_int_equal(ctr_content_writer_open(&w, c, dg, CTR_OPTS(exp), NULL), 0);
		ctr_opt_free(exp);
		assert_int_equal(ctr_content_writer_write(w, data, len, NULL), 0);
		assert_int_equal(ctr_content_writer_commit(w, (int64_t)len, dg, NULL, CTR_NO_OPTS, NULL), 0);
		ctr_content_writer_free(w);
		free(data);
	}
	pclose(f);
	json_t *d = layout_root(layout);
	assert_int_equal(ctr_image_create(NULL, c, name, json_string_value(json_object_get(d, "mediaType")),
						 json_string_value(json_object_get(d, "digest")),
						 json_integer_value(json_object_get(d, "size")), NULL, NULL, 0, NULL),
			 0);
	json_decref(d);
}

static char layout_bb[128], layout_tree[128], layout_multi[128];

static const char *root_digest(const char *layout, char *buf)
{
	json_t *d = layout_root(layout);
	snprintf(buf, CTR_DIGEST_MAX, "%s", json_string_value(json_object_get(d, "digest")));
	json_decref(d);
	return buf;
}

static int fetch_ref(ctr_client *c, ctr_image **out, const char *ref, ctr_error **err, const ctr_opt *extra)
{
	ctr_opt *ph = ctr_with_plain_http();
	const ctr_opt *o[] = {ph, extra};
	int r = ctr_image_fetch(out, c, ref, o, extra ? 2 : 1, err);
	ctr_opt_free(ph);
	return r;
}

/* ---- tests ---- */

static const char *child_map(const char *parent_mt, const char *child_mt, const char *digest, const char *key,
			     void *ud)
{
	(void)parent_mt, (void)digest, (void)ud;
	if (strstr(child_mt, "layer"))
		return NULL;
	if (!strcmp(key, "containerd.io/gc.ref.content.config"))
		return "containerd.io/gc.ref.content.cfg";
	return key;
}

struct prog_rec {
	int done, downloading, blob_downloads, bad_state;
};

static int prog_cb(const char *digest, const char *media_type, int64_t done, int64_t total, ctr_progress_state s,
		   void *ud)
{
	struct prog_rec *p = ud;
	if (!digest || !media_type || done < 0 || (total >= 0 && done > total))
		p->bad_state++;
	if (s == CTR_PROGRESS_DONE)
		p->done++;
	if (s == CTR_PROGRESS_DOWNLOADING) {
		p->downloading++;
		if (!strstr(media_type, "manifest") && !strstr(media_type, "index"))
			p->blob_downloads++;
	}
	return 0;
}

static void test_push_pull_roundtrip(void **state)
{
	(void)state;
	struct reg r = {0};
	reg_start(&r, "plain");
	ctr_client *a = new_client();
	import_layout(a, layout_bb, "local/busybox:1");
	char ref[256], dg[CTR_DIGEST_MAX];
	snprintf(ref, sizeof(ref), "%s/test/roundtrip:v1", r.addr);
	ctr_error *err = NULL;
	ctr_opt *ph = ctr_with_plain_http();
	struct prog_rec pr = {0};
	ctr_opt *pg = ctr_with_progress(prog_cb, &pr);
	if (ctr_image_push(a, ref, "local/busybox:1", CTR_OPTS(ph, pg), &err) < 0)
		fail_msg("push: %s", ctr_error_message(err));
	assert_true(pr.done >= 3);
	assert_int_equal(pr.bad_state, 0);

	/* skopeo sees our manifest digest */
	char out[256];
	snprintf(out, sizeof(out), "%s/inspect.txt", top);
	assert_int_equal(sh("%s/tests/fixtures/registry.sh skopeo %s inspect --raw docker://%s | sha256sum > %s", src,
			    r.dir, ref, out),
			 0);
	char *sum = slurp(out, NULL);
	assert_non_null(sum);
	assert_memory_equal(sum, root_digest(layout_bb, dg) + 7, 64);
	free(sum);

	/* a fresh root pulls it back byte for byte */
	ctr_client *b = new_client();
	ctr_image *img = NULL;
	pr = (struct prog_rec){0};
	if (ctr_image_pull(&img, b, ref, CTR_OPTS(ph, pg), &err) < 0)
		fail_msg("pull: %s", ctr_error_message(err));
	assert_string_equal(ctr_image_name(img), ref);
	assert_string_equal(ctr_image_target_digest(img), dg);
	assert_true(pr.downloading >= 2);
	assert_int_equal(pr.bad_state, 0);
	ctr_image_free(img);
	assert_int_equal(assert_layout_blobs(b, layout_bb), 3);

	/* gc.ref labels on the manifest, source label on the layer, no lease left */
	ctr_content_info *ci = NULL;
	assert_int_equal(ctr_content_get(&ci, b, dg, NULL, 0, NULL), 0);
	bool cfg = false, l0 = false, srcl = false;
	for (const char *const *l = ctr_content_info_labels(ci); l && *l; l++) {
		cfg |= !strncmp(*l, "containerd.io/gc.ref.content.config=sha256:", 43);
		l0 |= !strncmp(*l, "containerd.io/gc.ref.content.l.0=sha256:", 40);
		char want[200];
		snprintf(want, sizeof(want), "containerd.io/distribution.source.%s=test/roundtrip", r.addr);
		srcl |= !strcmp(*l, want);
	}
	assert_true(cfg && l0 && srcl);
	ctr_content_info_free(ci);

	/* Child label maps: layers filtered, or keys chosen by the caller. */
	for (int mode = 0; mode < 2; mode++) {
		ctr_client *cm = new_client();
		ctr_opt *map = mode == 0 ? ctr_with_child_labels_filter_layers()
					 : ctr_with_child_label_map(child_map, NULL);
		ctr_opt *ph2 = ctr_with_plain_http();
		ctr_image *im = NULL;
		if (ctr_image_pull(&im, cm, ref, CTR_OPTS(ph2, map), &err) < 0)
			fail_msg("pull with a child label map: %s", ctr_error_message(err));
		ctr_image_free(im);
		assert_int_equal(ctr_content_get(&ci, cm, dg, NULL, 0, NULL), 0);
		bool c1 = false, c2 = false, lay = false;
		for (const char *const *l = ctr_content_info_labels(ci); l && *l; l++) {
			c1 |= !strncmp(*l, "containerd.io/gc.ref.content.config=", 36);
			c2 |= !strncmp(*l, "containerd.io/gc.ref.content.cfg=", 33);
			lay |= !strncmp(*l, "containerd.io/gc.ref.content.l.", 31);
		}
		assert_false(lay);
		assert_true(mode == 0 ? c1 && !c2 : c2 && !c1);
		ctr_content_info_free(ci);
		ctr_opt_free(map);
		ctr_opt_free(ph2);
		ctr_client_free(cm);
	}
	ctr_lease **ls = NULL;
	size_t n = 9;
	assert_int_equal(ctr_lease_list(&ls, &n, b, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_lease_list_free(ls, n);

	/* with the caller's lease: everything is held by it and it stays */
	ctr_client *lc = new_client();
	ctr_opt *lid = ctr_with_lease_id("mine");
	assert_int_equal(ctr_lease_create(NULL, lc, CTR_OPTS(lid), NULL), 0);
	ctr_opt *lo = ctr_with_lease("mine");
	if (ctr_image_fetch(NULL, lc, ref, CTR_OPTS(ph, lo), &err) < 0)
		fail_msg("fetch with lease: %s", ctr_error_message(err));
	char **types = NULL, **ids = NULL;
	assert_int_equal(ctr_lease_list_resources(&types, &ids, lc, "mine", NULL, 0, NULL), 0);
	size_t held = 0;
	for (size_t i = 0; types[i]; i++)
		held += !strcmp(types[i], "content");
	assert_int_equal(held, 3);
	ctr_strv_free(types);
	ctr_strv_free(ids);
	assert_int_equal(ctr_lease_list(&ls, &n, lc, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 1);
	ctr_lease_list_free(ls, n);
	ctr_opt_free(lid);
	ctr_opt_free(lo);
	ctr_client_free(lc);

	/* a second pull downloads nothing */
	pr = (struct prog_rec){0};
	assert_int_equal(ctr_image_pull(NULL, b, ref, CTR_OPTS(ph, pg), NULL), 0);
	assert_int_equal(pr.blob_downloads, 0); /* only the root manifest is read again */

	/* push of the pulled image to another repository mounts the blobs */
	char ref2[256];
	snprintf(ref2, sizeof(ref2), "%s/test/mounted:v2", r.addr);
	if (ctr_image_push(b, ref2, ref, CTR_OPTS(ph), &err) < 0)
		fail_msg("push 2: %s", ctr_error_message(err));
	char logp[256];
	env_get(r.dir, "REGISTRY_LOG", logp, sizeof(logp));
	assert_int_equal(sh("grep -q 'POST /v2/test/mounted/blobs/uploads/?mount=sha256' %s", logp), 0);

	/* pull with labels sets them on the record */
	ctr_opt *lab = ctr_with_pull_labels((const char *const[]){"team=a", NULL});
	assert_int_equal(ctr_image_pull(&img, b, ref2, CTR_OPTS(ph, lab), NULL), 0);
	assert_string_equal(ctr_image_labels(img)[0], "team=a");
	ctr_image_free(img);
	ctr_opt_free(lab);

	ctr_opt_free(ph);
	ctr_opt_free(pg);
	ctr_client_free(a);
	ctr_client_free(b);
	reg_stop(&r);
}

static int cancel_cb(const char *digest, const char *media_type, int64_t done, int64_t total, ctr_progress_state s,
		     void *ud)
{
	(void)digest, (void)media_type, (void)done, (void)total, (void)ud;
	return s == CTR_PROGRESS_DOWNLOADING && strstr(media_type, "layer") ? 1 : 0;
}

static void test_cancel_and_platforms(void **state)
{
	(void)state;
	struct reg r = {0};
	reg_start(&r, "plain");
	reg_push(&r, layout_bb, "test/bb:latest", NULL);
	reg_push(&r, layout_multi, "test/multi:latest", "--all");
	char ref[256];
	snprintf(ref, sizeof(ref), "%s/test/bb:latest", r.addr);
	ctr_client *c = new_client();
	ctr_error *err = NULL;
	ctr_opt *cb = ctr_with_progress(cancel_cb, NULL);
	assert_int_equal(fetch_ref(c, NULL, ref, &err, cb), CTR_ECANCELED);
	ctr_error_free(err);
	err = NULL;
	ctr_opt_free(cb);
	ctr_image **im = NULL;
	size_t n = 9;
	assert_int_equal(ctr_image_list(&im, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_image_list_free(im, n);

	/* multiarch: default keeps the host platform; arm64 only the other */
	snprintf(ref, sizeof(ref), "%s/test/multi:latest", r.addr);
	ctr_image *img = NULL;
	if (fetch_ref(c, &img, ref, &err, NULL) < 0)
		fail_msg("fetch multi: %s", ctr_error_message(err));
	char **plats = NULL;
	assert_int_equal(ctr_image_platforms(&plats, img, NULL), 0);
	assert_string_equal(plats[0], "linux/amd64");
	assert_string_equal(plats[1], "linux/arm64");
	ctr_strv_free(plats);
	ctr_image_free(img);
	size_t n_host = 0;
	ctr_content_info **ci = NULL;
	assert_int_equal(ctr_content_list(&ci, &n_host, c, NULL, 0, NULL, 0, NULL), 0);
	ctr_content_info_list_free(ci, n_host);
	/* index + host manifest + its config + the layer (shared with bb,
	 * whose ingest the cancel left); nothing of the other platform */
	assert_int_equal(n_host, 4);

	ctr_client *d = new_client();
	ctr_opt *all = ctr_with_all_platforms();
	assert_int_equal(fetch_ref(d, NULL, ref, NULL, all), 0);
	assert_int_equal(ctr_content_list(&ci, &n, d, NULL, 0, NULL, 0, NULL), 0);
	ctr_content_info_list_free(ci, n);
	assert_int_equal(n, 1 + 2 * 3);
	ctr_opt_free(all);

	/* --all-metadata: every manifest and config, layers of the host only */
	ctr_client *e = new_client();
	ctr_opt *meta = ctr_with_all_metadata();
	assert_int_equal(fetch_ref(e, NULL, ref, NULL, meta), 0);
	assert_int_equal(ctr_content_list(&ci, &n, e, NULL, 0, NULL, 0, NULL), 0);
	ctr_content_info_list_free(ci, n);
	assert_int_equal(n, 1 + 2 * 2 + 1);
	ctr_opt_free(meta);
	ctr_client_free(c);
	ctr_client_free(d);
	ctr_client_free(e);
	reg_stop(&r);
}

struct creds {
	const char *user, *pass;
	int calls;
};

static int creds_cb(const char *host, ctr_credentials *cred, void *ud)
{
	(void)host;
	struct creds *c = ud;
	c->calls++;
	return ctr_credentials_set(cred, c->user, c->pass, NULL);
}

static void auth_case(const char *mode)
{
	struct reg r = {0};
	reg_start(&r, mode);
	reg_push(&r, layout_bb, "test/bb:latest", NULL);
	char ref[256], user[64], pass[64];
	snprintf(ref, sizeof(ref), "%s/test/bb:latest", r.addr);
	env_get(r.dir, "REGISTRY_USER", user, sizeof(user));
	env_get(r.dir, "REGISTRY_PASS", pass, sizeof(pass));

	ctr_client *bad = new_client();
	struct creds wrong = {user, "not-the-password", 0};
	ctr_opt *co = ctr_with_credentials(creds_cb, &wrong);
	ctr_error *err = NULL;
	assert_int_equal(fetch_ref(bad, NULL, ref, &err, co), CTR_EPERM);
	assert_true(wrong.calls >= 1);
	assert_non_null(strstr(ctr_error_message(err), "401"));
	ctr_error_free(err);
	err = NULL;
	ctr_opt_free(co);
	assert_empty(bad);
	/* no credentials at all */
	assert_int_equal(fetch_ref(bad, NULL, ref, NULL, NULL), CTR_EPERM);
	assert_empty(bad);

	ctr_client *good = new_client();
	struct creds right = {user, pass, 0};
	co = ctr_with_credentials(creds_cb, &right);
	if (fetch_ref(good, NULL, ref, &err, co) < 0)
		fail_msg("%s fetch: %s", mode, ctr_error_message(err));
	assert_int_equal(assert_layout_blobs(good, layout_bb), 3);
	/* and push back under another name */
	char ref2[256];
	snprintf(ref2, sizeof(ref2), "%s/test/again:v1", r.addr);
	ctr_opt *ph = ctr_with_plain_http();
	if (ctr_image_push(good, ref2, ref, CTR_OPTS(ph, co), &err) < 0)
		fail_msg("%s push: %s", mode, ctr_error_message(err));
	ctr_opt_free(ph);
	ctr_opt_free(co);
	ctr_client_free(bad);
	ctr_client_free(good);
	reg_stop(&r);
}

static void test_basic_auth(void **state)
{
	(void)state;
	auth_case("htpasswd");
}

static void test_token_auth(void **state)
{
	(void)state;
	auth_case("token");
}

static void test_tls(void **state)
{
	(void)state;
	struct reg r = {0};
	reg_start(&r, "tls");
	reg_push(&r, layout_bb, "test/bb:latest", NULL);
	char ref[256], hosts[256], ca[256];
	snprintf(ref, sizeof(ref), "%s/test/bb:latest", r.addr);
	env_get(r.dir, "REGISTRY_HOSTS_DIR", hosts, sizeof(hosts));
	env_get(r.dir, "REGISTRY_CA", ca, sizeof(ca));

	ctr_client *c = new_client();
	ctr_error *err = NULL;
	assert_int_equal(ctr_image_fetch(NULL, c, ref, NULL, 0, &err), CTR_EUNAVAILABLE);
	assert_non_null(strcasestr(ctr_error_message(err), "certificate"));
	ctr_error_free(err);
	err = NULL;
	assert_empty(c);

	ctr_opt *hd = ctr_with_hosts_dir(hosts);
	if (ctr_image_fetch(NULL, c, ref, CTR_OPTS(hd), &err) < 0)
		fail_msg("hosts.toml CA: %s", ctr_error_message(err));
	ctr_opt_free(hd);
	assert_int_equal(assert_layout_blobs(c, layout_bb), 3);

	ctr_client *d = new_client();
	ctr_opt *cao = ctr_with_tls_ca(ca);
	if (ctr_image_fetch(NULL, d, ref, CTR_OPTS(cao), &err) < 0)
		fail_msg("--tlscacert: %s", ctr_error_message(err));
	ctr_opt_free(cao);
	ctr_client *e = new_client();
	ctr_opt *sk = ctr_with_skip_verify();
	assert_int_equal(ctr_image_fetch(NULL, e, ref, CTR_OPTS(sk), NULL), 0);
	ctr_opt_free(sk);
	ctr_client_free(c);
	ctr_client_free(d);
	ctr_client_free(e);
	reg_stop(&r);
}

/* The tree image's first layer (~257 KB), the one the fault rules aim at. */
static void tree_big_layer(char *dg)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/summary.json", layout_tree);
	json_t *s = json_load_file(p, 0, NULL);
	snprintf(dg, CTR_DIGEST_MAX, "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(s, "layers"), 0), "digest")));
	json_decref(s);
}

static void test_faults(void **state)
{
	(void)state;
	struct reg r = {0};
	reg_start(&r, "plain");
	reg_push(&r, layout_tree, "test/tree:latest", NULL);
	struct proxy p = {0};
	proxy_start(&p, r.addr);
	char ref[256], big[CTR_DIGEST_MAX], rule[512];
	snprintf(ref, sizeof(ref), "%s/test/tree:latest", p.addr);
	tree_big_layer(big);

	/* dropped after 100000 bytes: resumed with Range */
	snprintf(rule, sizeof(rule), "{\"action\":\"drop\",\"method\":\"GET\",\"path\":\"%s\",\"after_bytes\":100000}", big);
	proxy_rule(&p, rule);
	ctr_client *c = new_client();
	ctr_error *err = NULL;
	if (fetch_ref(c, NULL, ref, &err, NULL) < 0)
		fail_msg("drop: %s", ctr_error_message(err));
	json_t *last = NULL;
	assert_int_equal(proxy_count(&p, "GET", big, &last), 2);
	assert_string_equal(json_string_value(json_object_get(last, "range")), "bytes=100000-");
	json_decref(last);
	last = NULL;
	assert_int_equal(assert_layout_blobs(c, layout_tree), 5);
	ctr_client_free(c);

	/* 500 twice, then 429 with Retry-After: retried, succeeds */
	snprintf(rule, sizeof(rule), "{\"action\":\"status\",\"status\":500,\"method\":\"GET\",\"path\":\"%s\",\"count\":2}",
		 big);
	proxy_rule(&p, rule);
	snprintf(rule, sizeof(rule), "{\"action\":\"429\",\"retry_after\":\"1\",\"method\":\"GET\",\"path\":\"%s\"}", big);
	proxy_rule(&p, rule);
	c = new_client();
	if (fetch_ref(c, NULL, ref, &err, NULL) < 0)
		fail_msg("500/429: %s", ctr_error_message(err));
	assert_int_equal(proxy_count(&p, "GET", big, NULL), 2 + 4);
	assert_int_equal(assert_layout_blobs(c, layout_tree), 5);
	ctr_client_free(c);

	/* wrong bytes: CTR_EDIGEST, no blob and no ingest by that digest */
	snprintf(rule, sizeof(rule), "{\"action\":\"corrupt\",\"method\":\"GET\",\"path\":\"%s\",\"count\":-1}", big);
	proxy_rule(&p, rule);
	c = new_client();
	assert_int_equal(fetch_ref(c, NULL, ref, &err, NULL), CTR_EDIGEST);
	assert_non_null(strstr(ctr_error_message(err), big));
	ctr_error_free(err);
	err = NULL;
	assert_false(has_blob(c, big));
	ctr_content_status **st = NULL;
	size_t n = 9;
	assert_int_equal(ctr_content_status_list(&st, &n, c, NULL, 0, NULL, 0, NULL), 0);
	for (size_t i = 0; i < n; i++) /* others may stay, resumable; not the wrong one */
		assert_null(strstr(ctr_content_status_ref(st[i]), big));
	ctr_content_status_list_free(st, n);
	ctr_image **im = NULL;
	assert_int_equal(ctr_image_list(&im, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_image_list_free(im, n);
	ctr_client_free(c);
	proxy_stop(&p);
	reg_stop(&r);
}

static void test_two_processes(void **state)
{
	(void)state;
	struct reg r = {0};
	reg_start(&r, "plain");
	reg_push(&r, layout_tree, "test/tree:latest", NULL);
	struct proxy p = {0};
	proxy_start(&p, r.addr);
	/* slow blob responses so the two pulls overlap */
	proxy_rule(&p, "{\"action\":\"delay\",\"seconds\":0.5,\"method\":\"GET\",\"path\":\"/blobs/\",\"count\":-1}");
	char ref[256], root[128], st[128];
	snprintf(ref, sizeof(ref), "%s/test/tree:latest", p.addr);
	snprintf(root, sizeof(root), "%s/shared-root", top);
	snprintf(st, sizeof(st), "%s/shared-state", top);
	ctr_client_free(client_at(root, st)); /* create it once */
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			ctr_client *c = client_at(root, st);
			ctr_error *err = NULL;
			int rc = fetch_ref(c, NULL, ref, &err, NULL);
			if (rc < 0)
				fprintf(stderr, "child %d: %s\n", i, ctr_error_message(err));
			_exit(rc < 0 ? 1 : 0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int status = 0;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* each blob downloaded at most once per process */
	char p2[256];
	snprintf(p2, sizeof(p2), "%s/summary.json", layout_tree);
	json_t *s = json_load_file(p2, 0, NULL);
	json_t *layers = json_object_get(s, "layers"), *l;
	size_t i;
	json_array_foreach(layers, i, l) {
		size_t n = proxy_count(&p, "GET", json_string_value(json_object_get(l, "digest")), NULL);
		assert_true(n >= 1 && n <= 2);
	}
	json_decref(s);
	ctr_client *c = client_at(root, st);
	assert_int_equal(assert_layout_blobs(c, layout_tree), 5);
	ctr_content_status **sv = NULL;
	size_t n = 9;
	assert_int_equal(ctr_content_status_list(&sv, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_content_status_list_free(sv, n);
	ctr_client_free(c);
	proxy_stop(&p);
	reg_stop(&r);
}

/* ---- bad manifests ---- */

static void put_manifest(const char *dir, const char *tag, const char *mt, const char *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/manifests/%s", dir, tag);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, data, len, 0644, NULL), 0);
	snprintf(p, sizeof(p), "%s/manifests/%s.type", dir, tag);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, mt, strlen(mt), 0644, NULL), 0);
}

static void sha(const char *data, size_t len, char *out)
{
	ctr_digest_buf(CTR_DIGEST_SHA256, data, len, out, NULL);
}

static void test_bad_manifests(void **state)
{
	(void)state;
	char dir[128], addrf[160];
	snprintf(dir, sizeof(dir), "%s/msrv", top);
	assert_int_equal(sh("mkdir -p %s/manifests %s/blobs", dir, dir), 0);
	const char *OM = "application/vnd.oci.image.manifest.v1+json", *OI = "application/vnd.oci.image.index.v1+json";
	/* a valid config and layer for the manifests to name */
	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char cdg[CTR_DIGEST_MAX], p[512];
	sha(cfg, strlen(cfg), cdg);
	snprintf(p, sizeof(p), "%s/blobs/%s", dir, cdg + 7);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, cfg, strlen(cfg), 0644, NULL), 0);
	char good[1024];
	int gl = snprintf(good, sizeof(good),
			  "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
			  "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[]}",
			  OM, cdg, strlen(cfg));
	put_manifest(dir, "good", OM, good, (size_t)gl);
	put_manifest(dir, "truncated", OM, good, (size_t)gl / 2);
	put_manifest(dir, "invalid", OM, "{not json", 9);
	/* a manifest that also carries "manifests" (CVE-2021-41190) */
	char amb[1200];
	int al = snprintf(amb, sizeof(amb), "%.*s,\"manifests\":[]}", gl - 1, good);
	put_manifest(dir, "ambiguous", OM, amb, (size_t)al);
	/* deeply nested JSON */
	size_t depth = 5000, dl = 0;
	char *deep = malloc(depth * 2 + 200);
	dl += (size_t)sprintf(deep, "{\"schemaVersion\":2,\"x\":");
	for (size_t i = 0; i < depth; i++)
		deep[dl++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[dl++] = ']';
	deep[dl++] = '}';
	put_manifest(dir, "deep", OM, deep, dl);
	free(deep);
	/* 5 MiB: over the 4 MiB limit */
	size_t bl = 5u << 20;
	char *big = malloc(bl);
	memset(big, ' ', bl);
	memcpy(big, good, (size_t)gl);
	put_manifest(dir, "oversized", OM, big, bl);
	free(big);
	/* an index whose (only) manifest is invalid: the index must not be stored either */
	char bad_dg[CTR_DIGEST_MAX], idx[512];
	sha("{not json", 9, bad_dg);
	int il = snprintf(idx, sizeof(idx),
			  "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
			  "\"size\":9,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			  OI, OM, bad_dg);
	put_manifest(dir, "badchild", OI, idx, (size_t)il);
	char idx_dg[CTR_DIGEST_MAX];
	sha(idx, (size_t)il, idx_dg);

	snprintf(addrf, sizeof(addrf), "%s/addr", dir);
	assert_int_equal(sh("python3 %s/tests/integration/manifest-server.py %s %s %d >/dev/null 2>&1 & echo $! > %s/pid", src,
			    dir, addrf, (int)getpid(), dir),
			 0);
	char *addr = NULL;
	for (int i = 0; i < 100 && !(addr = slurp(addrf, NULL)); i++)
		usleep(50 * 1000);
	assert_non_null(addr);
	addr[strcspn(addr, "\n")] = 0;

	ctr_client *c = new_client();
	char ref[256];
	snprintf(ref, sizeof(ref), "%s/x/y:good", addr);
	ctr_error *err = NULL;
	if (fetch_ref(c, NULL, ref, &err, NULL) < 0)
		fail_msg("good: %s", ctr_error_message(err));
	ctr_client_free(c);

	static const struct {
		const char *tag, *msg;
	} cases[] = {
		{"truncated", "JSON"}, {"invalid", "JSON"}, {"ambiguous", "manifests"},
		{"deep", "nest"},      {"oversized", "bytes"}, {"badchild", "JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = new_client();
		snprintf(ref, sizeof(ref), "%s/x/y:%s", addr, cases[i].tag);
		int r = fetch_ref(c, NULL, ref, &err, NULL);
		if (r != CTR_EINVAL || !strcasestr(ctr_error_message(err), cases[i].msg))
			fail_msg("%s: %d %s", cases[i].tag, r, err ? ctr_error_message(err) : "");
		ctr_error_free(err);
		err = NULL;
		assert_empty(c);
		ctr_client_free(c);
	}
	snprintf(p, sizeof(p), "%s/pid", dir);
	char *pid = slurp(p, NULL);
	if (pid)
		kill(atoi(pid), SIGKILL);
	free(pid);
	free(addr);
	(void)idx_dg;
}

/* ---- setup ---- */

static int group_setup(void **state)
{
	(void)state;
	src = getenv("MESON_SOURCE_ROOT");
	if (!src || access("/usr/bin/docker-registry", X_OK) || access("/usr/bin/skopeo", X_OK)) {
		fprintf(stderr, "skipped: needs MESON_SOURCE_ROOT, docker-registry and skopeo\n");
		return -1;
	}
	strcpy(top, "/tmp/test-pull.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(layout_bb, sizeof(layout_bb), "%s/bb", top);
	snprintf(layout_tree, sizeof(layout_tree), "%s/tree", top);
	snprintf(layout_multi, sizeof(layout_multi), "%s/multi", top);
	snprintf(bb_ref, sizeof(bb_ref), "latest");
	if (sh("python3 %s/tests/fixtures/mkimage.py busybox %s >/dev/null", src, layout_bb) ||
	    sh("python3 %s/tests/fixtures/mkimage.py tree %s >/dev/null", src, layout_tree) ||
	    sh("python3 %s/tests/fixtures/mkimage.py multiarch %s >/dev/null", src, layout_multi))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (top[0]) {
		/* registries and proxies still running from a failed test */
		sh("for d in %s/reg*; do [ -d \"$d\" ] && %s/tests/fixtures/registry.sh stop \"$d\"; done >/dev/null 2>&1",
		   top, src);
		sh("for f in %s/proxy*.pid %s/msrv/pid; do [ -f \"$f\" ] && kill -9 $(cat \"$f\"); done >/dev/null 2>&1",
		   top, top);
		ctr_rm_rf_at(AT_FDCWD, top, NULL);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_pull_roundtrip),
		cmocka_unit_test(test_cancel_and_platforms),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_token_auth),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_bad_manifests),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
