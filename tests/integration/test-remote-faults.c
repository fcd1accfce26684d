/* remotes/ against tests/integration/fake-registry.py: the Bearer token
 * flow with Basic credentials from a callback, a blob redirect to another
 * origin that must not see any credential, retry after 503/429, resume of
 * a cut transfer with Range, reset when Range is ignored, digest mismatch,
 * bounded retries, and wrong credentials mapped to CTR_EPERM with the
 * server's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "remotes.h"
#include "digest.h"
#include "fs.h"
#include "macro.h"

static pid_t srv_pid = -1;
static char dir[64];
static char host[64];

struct blob {
	char *data;
	size_t len;
	struct ctr_remote_desc desc;
	char hex[80];
};

enum { B_FLAKY, B_CUT, B_CUT_NORANGE, B_REDIRECT, B_429, B_CORRUPT, B_DOWN, B_STALL, B_HIDDEN, NB };
static const char *const fault_names[NB] = {"flaky503", "cut",       "cut\", \"norange", "redirect", "flaky429",
					    "corrupt",  "always503", "stall",            "hidden"};
static struct blob blobs[NB];
static char man_hex[CTR_DIGEST_MAX];

static void stop_server(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
		srv_pid = -1;
	}
	if (dir[0]) {
		ctr_rm_rf_at(AT_FDCWD, dir, NULL);
		dir[0] = 0;
	}
}

static void write_in_dir(const char *name, const void *data, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, data, len, 0644, NULL), 0);
}

static int setup(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	strcpy(dir, "/tmp/test-faults.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	atexit(stop_server);
	/* Blobs of different sizes with pseudo-random bytes. */
	char *faults = strdup("{");
	uint32_t x = 12345;
	for (int i = 0; i < NB; i++) {
		struct blob *b = &blobs[i];
		b->len = 20000 + (size_t)i * 7919;
		b->data = malloc(b->len);
		for (size_t k = 0; k < b->len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b->data[k] = (char)x;
		}
		b->desc.digest = malloc(CTR_DIGEST_MAX);
		ctr_digest_buf(CTR_DIGEST_SHA256, b->data, b->len, b->desc.digest, NULL);
		b->desc.size = b->len;
		b->desc.media_type = strdup("application/octet-stream");
		snprintf(b->hex, sizeof(b->hex), "%s", b->desc.digest + 7);
		write_in_dir(b->hex, b->data, b->len);
		char *n = NULL;
		if (asprintf(&n, "%s%s\"%s\": [\"%s\"]", faults, i ? ", " : "", b->hex, fault_names[i]) < 0)
			return -1;
		free(faults);
		faults = n;
	}
	char *n = NULL;
	if (asprintf(&n, "%s}", faults) < 0)
		return -1;
	free(faults);
	write_in_dir("faults.json", n, strlen(n));
	free(n);
	const char *man = "{\"schemaVersion\":2}";
	write_in_dir("manifest.json", man, strlen(man));
	char mdg[CTR_DIGEST_MAX];
	ctr_digest_buf(CTR_DIGEST_SHA256, man, strlen(man), mdg, NULL);
	snprintf(man_hex, sizeof(man_hex), "%s", mdg + 7);
	write_in_dir(man_hex, man, strlen(man));

	char script[512], portfile[128];
	snprintf(script, sizeof(script), "%s/tests/integration/fake-registry.py", getenv("MESON_SOURCE_ROOT"));
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	pid_t parent = getpid();
	srv_pid = fork();
	if (srv_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execlp("python3", "python3", script, dir, portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		char *port = NULL;
		size_t len;
		if (ctr_read_file(AT_FDCWD, portfile, 16, &port, &len, NULL) == 0) {
			snprintf(host, sizeof(host), "127.0.0.1:%d", atoi(port));
			free(port);
			return 0;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "fake registry did not start\n");
	return -1;
}

static int teardown(void **state)
{
	(void)state;
	stop_server();
	for (int i = 0; i < NB; i++) {
		free(blobs[i].data);
		ctr_remote_desc_clear(&blobs[i].desc);
	}
	curl_global_cleanup();
	return 0;
}

struct creds {
	const char *user, *pass;
	int calls;
};

static int creds_cb(const char *h, char **user, char **secret, void *ud)
{
	struct creds *c = ud;
	c->calls++;
	assert_string_equal(h, host);
	*user = strdup(c->user);
	*secret = strdup(c->pass);
	return 0;
}

struct active {
	int now, max;
};

static int progress_cb(const struct ctr_remote_desc *d, uint64_t done, uint64_t total, enum ctr_remote_state st,
		       void *ud)
{
	struct active *a = ud;
	if (st == CTR_REMOTE_WAITING)
		return 0;
	if (st == CTR_REMOTE_DONE || st == CTR_REMOTE_FAILED) {
		a->now--;
	} else if (st == CTR_REMOTE_DOWNLOADING && done == 0) {
		a->now++;
		if (a->now > a->max)
			a->max = a->now;
	}
	return 0;
}

static struct ctr_remote *open_remote_opts(struct creds *c, int max_retries, const char *tag,
					   struct ctr_remote_opts *extra)
{
	char ref[384];
	snprintf(ref, sizeof(ref), "%s/team/app:%s", host, tag);
	struct ctr_remote_opts o = {
		.plain_http = true,
		.creds = creds_cb,
		.creds_ud = c,
		.retry_base_ms = 20,
		.max_retries = max_retries,
		.max_concurrency = 3,
	};
	if (extra) {
		o.hosts_dir = extra->hosts_dir;
		o.progress = extra->progress;
		o.progress_ud = extra->progress_ud;
		o.low_speed_time = extra->low_speed_time;
	}
	struct ctr_remote *r = NULL;
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	return r;
}

static struct ctr_remote *open_remote(struct creds *c, int max_retries)
{
	return open_remote_opts(c, max_retries, "v1", NULL);
}

struct memsink {
	char *buf;
	size_t len;
	int resets;
};

static int ms_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	struct memsink *m = ud;
	m->buf = realloc(m->buf, m->len + len);
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static int ms_reset(void *ud, ctr_error **err)
{
	struct memsink *m = ud;
	m->len = 0;
	m->resets++;
	return 0;
}

static json_t *server_log(void)
{
	char url[128];
	snprintf(url, sizeof(url), "http://%s/_log", host);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "python3 -c 'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(\"%s\").read().decode())'", url);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	json_error_t je;
	json_t *j = json_loadf(f, 0, &je);
	pclose(f);
	assert_non_null(j);
	return j;
}

static int count_log(json_t *log, const char *path_part, const char *field, const char *value_part)
{
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(log, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		if (!p || !strstr(p, path_part))
			continue;
		if (!field) {
			n++;
			continue;
		}
		const char *v = json_string_value(json_object_get(e, field));
		if (value_part ? (v && strstr(v, value_part)) : v == NULL)
			n++;
	}
	return n;
}

static void test_resolve_with_token(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	struct ctr_remote *r = open_remote(&c, 0);
	struct ctr_remote_desc d;
	ctr_error *err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve: %s", ctr_error_message(err));
	assert_string_equal(d.media_type, CTR_MEDIA_OCI_MANIFEST);
	assert_int_equal(d.size, strlen("{\"schemaVersion\":2}"));
	ctr_remote_desc_clear(&d);
	assert_int_equal(c.calls, 1);
	/* A second resolve reuses the cached token. */
	json_t *log = server_log();
	int tokens = count_log(log, "/token", NULL, NULL);
	json_decref(log);
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), 0);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);
	log = server_log();
	assert_int_equal(count_log(log, "/token", NULL, NULL), tokens);
	/* The token endpoint got Basic credentials with service and scope. */
	assert_int_equal(count_log(log, "/token?service=fake&scope=repository%3Ateam%2Fapp%3Apull", "auth", "Basic "),
			 tokens);
	json_decref(log);

	/* An identity token (no user name) goes as an OAuth refresh_token
	 * POST, never as Basic. */
	struct creds idt = {"", "refresh-xyz", 0};
	r = open_remote(&idt, 0);
	err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve with identity token: %s", ctr_error_message(err));
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);
	log = server_log();
	size_t i;
	json_t *e;
	int posts = 0;
	json_array_foreach(log, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "method")), "POST")) {
			posts++;
			assert_null(json_string_value(json_object_get(e, "auth")));
		}
	}
	assert_int_equal(posts, 1);
	json_decref(log);
}

static void test_manifest_limits(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	struct ctr_remote_desc d = {.size = 7};
	ctr_error *err = NULL;
	/* HEAD announces more than 4 MiB: refused without fetching. */
	struct ctr_remote *r = open_remote_opts(&c, 0, "huge", NULL);
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "larger than"));
	ctr_error_free(err);
	ctr_remote_free(r);
	/* A body without a length is counted as it arrives. */
	r = open_remote_opts(&c, 0, "nolen", NULL);
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "larger than"));
	ctr_error_free(err);
	assert_int_equal(d.size, 7);
	ctr_remote_free(r);
}

static void test_hosts_mirror_and_urls(void **state)
{
	(void)state;
	/* hosts.toml: a mirror (override_path) tried first, then the server;
	 * configured headers go to both, never to a redirect target. */
	char hd[] = "/tmp/test-faults-hosts.XXXXXX";
	assert_non_null(mkdtemp(hd));
	char p[512], toml[1024];
	snprintf(p, sizeof(p), "%s/%s", hd, host);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(toml, sizeof(toml),
		 "server = \"http://%s\"\n[header]\nX-Test = \"server\"\n"
		 "[host.\"http://%s/mirror\"]\noverride_path = true\ncapabilities = [\"pull\", \"resolve\"]\n"
		 "header = { \"X-Test\" = \"mirror\" }\n",
		 host, host);
	strcat(p, "/hosts.toml");
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, toml, strlen(toml), 0644, NULL), 0);
	struct creds c = {"alice", "s3cret", 0};
	struct ctr_remote_opts extra = {.hosts_dir = hd};
	struct ctr_remote *r = open_remote_opts(&c, 0, "v1", &extra);
	struct ctr_remote_desc d;
	ctr_error *err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve via hosts.toml: %s", ctr_error_message(err));
	ctr_remote_desc_clear(&d);

	struct memsink ms = {0};
	struct ctr_remote_sink sink = {.write = ms_write, .reset = ms_reset, .ud = &ms};
	struct ctr_remote_fetch_item it = {.desc = &blobs[B_REDIRECT].desc, .sink = &sink};
	assert_int_equal(ctr_remote_fetch(r, &it, 1, NULL), 0);
	assert_memory_equal(ms.buf, blobs[B_REDIRECT].data, blobs[B_REDIRECT].len);
	ms.len = 0;

	/* A blob the registry does not have but its descriptor's URLs do:
	 * fetched from there without credentials; non-http URLs skipped. */
	struct ctr_remote_desc hidden = blobs[B_HIDDEN].desc;
	char u[256];
	snprintf(u, sizeof(u), "http://localhost:%s/storage/%s", strchr(host, ':') + 1, blobs[B_HIDDEN].hex);
	char *urls[] = {(char *)"file:///etc/passwd", u, NULL};
	hidden.urls = urls;
	it.desc = &hidden;
	err = NULL;
	if (ctr_remote_fetch(r, &it, 1, &err))
		fail_msg("fetch from urls: %s", ctr_error_message(err));
	assert_int_equal(ms.len, blobs[B_HIDDEN].len);
	assert_memory_equal(ms.buf, blobs[B_HIDDEN].data, ms.len);
	free(ms.buf);
	ctr_remote_free(r);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, hd, NULL), 0);

	json_t *log = server_log();
	assert_true(count_log(log, "/mirror/team/app/manifests/v1", "xtest", "mirror") >= 1);
	assert_true(count_log(log, "/v2/team/app/manifests/v1", "xtest", "server") >= 1);
	assert_int_equal(count_log(log, "/v2/team/app/manifests/v1", "xtest", "mirror"), 0);
	snprintf(p, sizeof(p), "/storage/%s", blobs[B_HIDDEN].hex);
	assert_int_equal(count_log(log, p, NULL, NULL), 1);
	assert_int_equal(count_log(log, "/storage/", "auth", "Bearer"), 0);
	assert_int_equal(count_log(log, "/storage/", "xtest", "s"), 0);
	assert_int_equal(count_log(log, "/storage/", "xtest", "m"), 0);
	json_decref(log);
}

static void test_digest_ref_fallback(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	char tag[256];
	/* /manifests/<digest> says 404: /blobs/<digest> has it. The body has
	 * no mediaType and the response no Content-Type: OCI manifest. */
	snprintf(tag, sizeof(tag), "v1@sha256:%s", man_hex);
	struct ctr_remote *r = open_remote_opts(&c, 0, tag, NULL);
	struct ctr_remote_desc d;
	ctr_error *err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve by digest: %s", ctr_error_message(err));
	assert_string_equal(d.digest + 7, man_hex);
	assert_string_equal(d.media_type, CTR_MEDIA_OCI_MANIFEST);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	/* A transient failure is never answered by trying /blobs/. */
	json_t *log = server_log();
	char p[200];
	snprintf(p, sizeof(p), "/blobs/sha256:%s", blobs[B_DOWN].hex);
	int before = count_log(log, p, NULL, NULL);
	json_decref(log);
	snprintf(tag, sizeof(tag), "v1@sha256:%s", blobs[B_DOWN].hex);
	r = open_remote_opts(&c, 1, tag, NULL);
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_EUNAVAILABLE);
	ctr_error_free(err);
	ctr_remote_free(r);
	log = server_log();
	assert_int_equal(count_log(log, p, NULL, NULL), before);
	/* One try and one retry (plus the unauthenticated first request). */
	snprintf(p, sizeof(p), "/manifests/sha256:%s", blobs[B_DOWN].hex);
	assert_int_equal(count_log(log, p, "auth", "Bearer good-token"), 2);
	json_decref(log);
}

static void test_stall_timeout(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	struct ctr_remote_opts extra = {.low_speed_time = 1};
	struct ctr_remote *r = open_remote_opts(&c, -1, "v1", &extra);
	struct memsink ms = {0};
	struct ctr_remote_sink sink = {.write = ms_write, .reset = ms_reset, .ud = &ms};
	struct ctr_remote_fetch_item it = {.desc = &blobs[B_STALL].desc, .sink = &sink};
	ctr_error *err = NULL;
	assert_int_equal(ctr_remote_fetch(r, &it, 1, &err), CTR_ETIMEOUT);
	ctr_error_free(err);
	free(ms.buf);
	ctr_remote_free(r);
}

static void test_fetch_faults(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	struct active act = {0};
	struct ctr_remote_opts extra = {.progress = progress_cb, .progress_ud = &act};
	struct ctr_remote *r = open_remote_opts(&c, 0, "v1", &extra);
	int ids[] = {B_FLAKY, B_CUT, B_CUT_NORANGE, B_REDIRECT, B_429};
	enum { N = 5 };
	struct memsink ms[N] = {{0}};
	struct ctr_remote_sink sinks[N];
	struct ctr_remote_fetch_item items[N];
	for (int i = 0; i < N; i++) {
		sinks[i] = (struct ctr_remote_sink){.write = ms_write, .reset = ms_reset, .ud = &ms[i]};
		items[i] = (struct ctr_remote_fetch_item){.desc = &blobs[ids[i]].desc, .sink = &sinks[i]};
	}
	ctr_error *err = NULL;
	if (ctr_remote_fetch(r, items, N, &err))
		fail_msg("fetch: %s", ctr_error_message(err));
	for (int i = 0; i < N; i++) {
		struct blob *b = &blobs[ids[i]];
		assert_int_equal(items[i].result, 0);
		assert_int_equal(ms[i].len, b->len);
		assert_memory_equal(ms[i].buf, b->data, b->len);
		free(ms[i].buf);
	}
	/* A cut transfer resumed with Range; one that ignored Range reset. */
	assert_int_equal(ms[1].resets, 0);
	assert_int_equal(ms[2].resets, 1);
	/* Never more than max_concurrency (3) blobs in flight at once. */
	assert_int_equal(act.max, 3);
	assert_int_equal(act.now, 0);
	ctr_remote_free(r);

	json_t *log = server_log();
	char p[200];
	snprintf(p, sizeof(p), "/blobs/sha256:%s", blobs[B_CUT].hex);
	assert_int_equal(count_log(log, p, "range", "bytes="), 1);
	assert_int_equal(count_log(log, p, "auth", "Bearer good-token"), 2);
	snprintf(p, sizeof(p), "/blobs/sha256:%s", blobs[B_FLAKY].hex);
	assert_true(count_log(log, p, NULL, NULL) >= 2);
	/* The storage origin never saw a credential. */
	snprintf(p, sizeof(p), "/storage/%s", blobs[B_REDIRECT].hex);
	assert_int_equal(count_log(log, p, NULL, NULL), 1);
	assert_int_equal(count_log(log, p, "auth", NULL), 1);
	assert_int_equal(count_log(log, "/storage/", "auth", "Bearer"), 0);
	assert_int_equal(count_log(log, "/storage/", "auth", "Basic"), 0);
	json_decref(log);
}

static void test_fetch_failures(void **state)
{
	(void)state;
	struct creds c = {"alice", "s3cret", 0};
	struct ctr_remote *r = open_remote(&c, 2);
	struct memsink ms = {0};
	struct ctr_remote_sink sink = {.write = ms_write, .reset = ms_reset, .ud = &ms};
	struct ctr_remote_fetch_item it = {.desc = &blobs[B_CORRUPT].desc, .sink = &sink};
	ctr_error *err = NULL;
	assert_int_equal(ctr_remote_fetch(r, &it, 1, &err), CTR_EDIGEST);
	ctr_error_free(err);
	/* Always 503: bounded retries, then unavailable. */
	it.desc = &blobs[B_DOWN].desc;
	err = NULL;
	assert_int_equal(ctr_remote_fetch(r, &it, 1, &err), CTR_EUNAVAILABLE);
	assert_non_null(strstr(ctr_error_message(err), "503"));
	ctr_error_free(err);
	ctr_remote_free(r);
	json_t *log = server_log();
	char p[200];
	snprintf(p, sizeof(p), "/blobs/sha256:%s", blobs[B_DOWN].hex);
	assert_int_equal(count_log(log, p, NULL, NULL), 3);
	json_decref(log);
	free(ms.buf);

	/* Wrong password: CTR_EPERM with the token server's message, and the
	 * secret nowhere in it. */
	struct creds bad = {"alice", "wrong-pass", 0};
	r = open_remote(&bad, 0);
	struct ctr_remote_desc d;
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_EPERM);
	assert_non_null(strstr(ctr_error_message(err), "invalid username or password"));
	assert_null(strstr(ctr_error_message(err), "wrong-pass"));
	ctr_error_free(err);
	ctr_remote_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_with_token),
		cmocka_unit_test(test_fetch_faults),
		cmocka_unit_test(test_fetch_failures),
		cmocka_unit_test(test_manifest_limits),
		cmocka_unit_test(test_hosts_mirror_and_urls),
		cmocka_unit_test(test_digest_ref_fallback),
		cmocka_unit_test(test_stall_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
