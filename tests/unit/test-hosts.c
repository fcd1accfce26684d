/* remotes/hosts + remotes/toml: the hosts.toml subset and host lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "hosts.h"
#include "remotes.h"
#include "toml.h"
#include "fs.h"
#include "macro.h"

static const char full[] =
	"# containerd style\n"
	"server = \"https://registry-1.docker.io\"  # upstream\n"
	"capabilities = [\"pull\", \"resolve\", \"push\"]\n"
	"\n"
	"[host.\"https://mirror.example.com\"]\n"
	"  capabilities = [\"pull\", \"resolve\"]\n"
	"  ca = \"certs/ca.crt\"\n"
	"  client = [[\"/abs/c.cert\", \"c.key\"], \"both.pem\"]\n"
	"  skip_verify = false\n"
	"  [host.\"https://mirror.example.com\".header]\n"
	"    x-custom-1 = \"v1\"\n"
	"    X-Multi = [\"a\", 'lit\\eral']\n"
	"\n"
	"[host.\"http://plain:5000/custom/path\"]\n"
	"  override_path = true\n"
	"  capabilities = [\n"
	"     \"pull\", # trailing comma and comments in arrays\n"
	"  ]\n"
	"  ca = [\"/a.pem\", \"b.pem\"]\n"
	"  skip_verify = true\n"
	"  header = { \"Authorization-Extra\" = \"t\\\"q\\u00e9\" }\n"
	"\n"
	"[host.'mirror2.io/sub']\n"
	"  client = \"/only.pem\"\n";

static void test_parse_full(void **state)
{
	(void)state;
	struct ctr_hosts hs;
	ctr_error *err = NULL;
	int r = ctr_hosts_parse(full, strlen(full), "/etc/h/docker.io", "hosts.toml", &hs, &err);
	if (r)
		fail_msg("%s", ctr_error_message(err));
	assert_int_equal(hs.n, 4);
	struct ctr_registry_host *m = &hs.v[0];
	assert_string_equal(m->scheme, "https");
	assert_string_equal(m->host, "mirror.example.com");
	assert_string_equal(m->path, "/v2");
	assert_int_equal(m->caps, CTR_HOST_CAP_PULL | CTR_HOST_CAP_RESOLVE);
	assert_string_equal(m->ca[0], "/etc/h/docker.io/certs/ca.crt");
	assert_null(m->ca[1]);
	assert_int_equal(m->n_client, 2);
	assert_string_equal(m->client_cert[0], "/abs/c.cert");
	assert_string_equal(m->client_key[0], "/etc/h/docker.io/c.key");
	assert_string_equal(m->client_cert[1], "/etc/h/docker.io/both.pem");
	assert_null(m->client_key[1]);
	assert_int_equal(m->skip_verify, 0);
	assert_int_equal(m->n_headers, 2);
	assert_string_equal(m->headers[0].name, "x-custom-1");
	assert_string_equal(m->headers[0].values[0], "v1");
	assert_null(m->headers[0].values[1]);
	assert_string_equal(m->headers[1].values[0], "a");
	assert_string_equal(m->headers[1].values[1], "lit\\eral"); /* literal string: no escapes */

	struct ctr_registry_host *p = &hs.v[1];
	assert_string_equal(p->scheme, "http");
	assert_string_equal(p->host, "plain:5000");
	assert_string_equal(p->path, "/custom/path");
	assert_int_equal(p->caps, CTR_HOST_CAP_PULL);
	assert_string_equal(p->ca[0], "/a.pem");
	assert_string_equal(p->ca[1], "/etc/h/docker.io/b.pem");
	assert_int_equal(p->skip_verify, 1);
	assert_string_equal(p->headers[0].name, "Authorization-Extra");
	assert_string_equal(p->headers[0].values[0], "t\"q\xc3\xa9");

	struct ctr_registry_host *m2 = &hs.v[2];
	assert_string_equal(m2->scheme, "https");
	assert_string_equal(m2->host, "mirror2.io");
	assert_string_equal(m2->path, "/sub/v2");
	assert_int_equal(m2->caps, CTR_HOST_CAP_ALL);
	assert_int_equal(m2->skip_verify, -1);
	assert_string_equal(m2->client_cert[0], "/only.pem");

	struct ctr_registry_host *s = &hs.v[3];
	assert_string_equal(s->host, "registry-1.docker.io");
	assert_string_equal(s->path, "/v2");
	assert_int_equal(s->caps, CTR_HOST_CAP_ALL);
	ctr_hosts_clear(&hs);
}

static void bad(const char *text, const char *needle)
{
	struct ctr_hosts hs = {.n = 77};
	ctr_error *err = NULL;
	assert_int_equal(ctr_hosts_parse(text, strlen(text), "/b", "f.toml", &hs, &err), CTR_EINVAL);
	assert_non_null(err);
	if (!strstr(ctr_error_message(err), needle))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, ctr_error_message(err), needle);
	assert_int_equal(hs.n, 77);
	ctr_error_free(err);
}

static void test_parse_bad(void **state)
{
	(void)state;
	bad("server = 5\n", "line 1: unsupported value");
	bad("\n\nx = 1.5\n", "line 3:");
	bad("x = 1979-05-27\n", "line 1:");
	bad("s = \"\"\"multi\"\"\"\n", "multi-line");
	bad("s = \"unterminated\n", "line 1: unterminated string");
	bad("s = \"bad \\q escape\"\n", "invalid escape");
	bad("s = \"\\uD800\"\n", "invalid unicode");
	bad("s = \"\\u12\"\n", "unicode escape");
	bad("[[host]]\n", "arrays of tables");
	bad("[a]\nx=\"1\"\n[a]\n", "line 3: table defined twice");
	bad("x = \"1\"\nx = \"2\"\n", "line 2: duplicate key");
	bad("x = \"1\" y = \"2\"\n", "expected end of line");
	bad("x \"1\"\n", "expected '='");
	bad("= \"1\"\n", "expected a key");
	bad("x = [\"a\" \"b\"]\n", "expected ',' or ']'");
	bad("x = {a = \"1\"\n", "expected ',' or '}'");
	bad("[host\n", "expected ']'");
	bad("x = tru\n", "unsupported value");
	bad("x = \"a\"\ny = \"b\x01\"\n", "line 2: control character");
	bad("server = true\n", "line 1: \"server\" must be a string");
	bad("\nskip_verify = \"yes\"\n", "line 2: \"skip_verify\" must be a boolean");
	bad("capabilities = \"pull\"\n", "\"capabilities\" must be an array");
	bad("capabilities = [\"pull\", \"fly\"]\n", "unknown capability \"fly\"");
	bad("capabilities = [true]\n", "must be an array of strings");
	bad("ca = true\n", "\"ca\" must be");
	bad("ca = [\"a\", false]\n", "\"ca\" must be");
	bad("client = [[\"a\"]]\n", "cert, key");
	bad("client = [[\"a\", \"b\", \"c\"]]\n", "cert, key");
	bad("client = true\n", "\"client\" must be");
	bad("header = \"x\"\n", "\"header\" must be a table");
	bad("[header]\n\"bad name\" = \"x\"\n", "invalid header name");
	bad("[header]\nx = \"a\\nb\"\n", "newline in header");
	bad("[header]\nx = true\n", "must be a string or an array");
	bad("host = \"x\"\n", "\"host\" must be a table");
	bad("[host]\nmirror = \"x\"\n", "\"mirror\" must be a table");
	bad("server = \"ftp://x\"\n", "unsupported scheme");
	bad("server = \"https:///v2\"\n", "no host");
	bad("server = \"https://a/../b\"\n", "\"..\" in server path");
	bad("server = \"https://a b\"\n", "invalid host");
	bad("override_path = \"yes\"\n", "override_path");
	bad("dial_timeout = true\n", "dial_timeout");
	bad("x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"a\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", "too deeply");
	struct ctr_toml *t = NULL;
	assert_int_equal(ctr_toml_parse("a = \"x\"\0b", 9, "t", &t, NULL), CTR_EINVAL);
	assert_null(t);
}

static void test_toml_misc(void **state)
{
	(void)state;
	struct ctr_toml *t = NULL;
	const char *txt = "a.b.c = true\r\n[t.\"q.k\"]\nv = []\ne = {}\n# end";
	assert_int_equal(ctr_toml_parse(txt, strlen(txt), "t", &t, NULL), 0);
	const struct ctr_toml *c = ctr_toml_get(ctr_toml_get(ctr_toml_get(t, "a"), "b"), "c");
	assert_non_null(c);
	assert_true(c->b);
	const struct ctr_toml *q = ctr_toml_get(ctr_toml_get(t, "t"), "q.k");
	assert_non_null(q);
	assert_int_equal(ctr_toml_get(q, "v")->type, CTR_TOML_ARRAY);
	assert_int_equal(ctr_toml_get(q, "v")->n, 0);
	assert_int_equal(ctr_toml_get(q, "e")->type, CTR_TOML_TABLE);
	assert_null(ctr_toml_get(t, "missing"));
	ctr_toml_free(t);
	/* fuzz-hosts: a header with an empty list of values was read through
	 * NULL; it parses to an empty list. */
	{
		const char *h = "[host.\"https://m.example\".header]\n  x-empty = []\n";
		struct ctr_hosts e;
		assert_int_equal(ctr_hosts_parse(h, strlen(h), "/b", "hosts.toml", &e, NULL), 0);
		assert_int_equal(e.v[0].n_headers, 1);
		assert_string_equal(e.v[0].headers[0].name, "x-empty");
		assert_non_null(e.v[0].headers[0].values);
		assert_null(e.v[0].headers[0].values[0]);
		ctr_hosts_clear(&e);
	}
	/* Empty and comment-only files parse; unknown keys are ignored as in
	 * containerd. */
	struct ctr_hosts hs;
	assert_int_equal(ctr_hosts_parse("# nothing\nunknown_key = \"x\"\n", 28, NULL, NULL, &hs, NULL), 0);
	assert_int_equal(hs.n, 1);
	assert_null(hs.v[0].host);
	ctr_hosts_clear(&hs);
}

static char *mkroot(void)
{
	char tmpl[] = "/tmp/test-hosts.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static void write_file(const char *root, const char *dir, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, strcat(p, "/hosts.toml"), text, strlen(text), 0644, NULL), 0);
}

static void test_load(void **state)
{
	(void)state;
	_cleanup_free_ char *root = mkroot();
	struct ctr_hosts hs;

	/* No directory: defaults. */
	assert_int_equal(ctr_hosts_load(root, "docker.io", false, &hs, NULL), 0);
	assert_int_equal(hs.n, 1);
	assert_string_equal(hs.v[0].host, "registry-1.docker.io");
	assert_string_equal(hs.v[0].scheme, "https");
	assert_string_equal(hs.v[0].path, "/v2");
	ctr_hosts_clear(&hs);
	assert_int_equal(ctr_hosts_load(NULL, "127.0.0.1:5000", true, &hs, NULL), 0);
	assert_string_equal(hs.v[0].host, "127.0.0.1:5000");
	assert_string_equal(hs.v[0].scheme, "http");
	ctr_hosts_clear(&hs);

	/* Literal host:port directory name. */
	write_file(root, "reg.local:5000", "[host.\"http://mirror:1\"]\ncapabilities=[\"pull\"]\n");
	assert_int_equal(ctr_hosts_load(root, "reg.local:5000", false, &hs, NULL), 0);
	assert_int_equal(hs.n, 2);
	assert_string_equal(hs.v[0].host, "mirror:1");
	assert_string_equal(hs.v[1].host, "reg.local:5000");
	assert_string_equal(hs.v[1].scheme, "https");
	ctr_hosts_clear(&hs);

	/* containerd's escaped "host_port_" name wins over the literal one. */
	write_file(root, "reg.local_5000_", "server = \"http://escaped:2\"\n");
	assert_int_equal(ctr_hosts_load(root, "reg.local:5000", false, &hs, NULL), 0);
	assert_int_equal(hs.n, 1);
	assert_string_equal(hs.v[0].host, "escaped:2");
	assert_string_equal(hs.v[0].scheme, "http");
	ctr_hosts_clear(&hs);

	/* _default applies to hosts without their own directory. */
	write_file(root, "_default", "[host.\"https://all-mirror\"]\n");
	assert_int_equal(ctr_hosts_load(root, "other.io", false, &hs, NULL), 0);
	assert_int_equal(hs.n, 2);
	assert_string_equal(hs.v[0].host, "all-mirror");
	assert_string_equal(hs.v[1].host, "other.io");
	ctr_hosts_clear(&hs);

	/* A directory without hosts.toml is fine; a broken one is an error. */
	char p[512];
	snprintf(p, sizeof(p), "%s/empty.io", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ctr_hosts_load(root, "empty.io", false, &hs, NULL), 0);
	assert_string_equal(hs.v[0].host, "empty.io");
	ctr_hosts_clear(&hs);
	write_file(root, "broken.io", "server = [\n");
	ctr_error *err = NULL;
	hs.n = 99;
	assert_int_equal(ctr_hosts_load(root, "broken.io", false, &hs, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "broken.io/hosts.toml: line"));
	assert_int_equal(hs.n, 99);
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_hosts_load(root, "../etc", false, &hs, &err), CTR_EINVAL);
	ctr_error_free(err);
	assert_int_equal(ctr_hosts_load(root, "", false, &hs, NULL), CTR_EINVAL);

	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

/* ctr_remote_open and the capability checks, all before any network. */
static void test_remote_open(void **state)
{
	(void)state;
	struct ctr_remote *r = (struct ctr_remote *)0x1;
	ctr_error *err = NULL;
	assert_int_equal(ctr_remote_open(&r, "Bad/Ref", NULL, &err), CTR_EINVAL);
	assert_ptr_equal(r, (struct ctr_remote *)0x1);
	ctr_error_free(err);

	_cleanup_free_ char *root = mkroot();
	write_file(root, "reg.local:5000", "server = \"http://127.0.0.1:9\"\ncapabilities = [\"pull\"]\n");
	struct ctr_remote_opts o = {.hosts_dir = root, .max_retries = -1};
	r = NULL;
	assert_int_equal(ctr_remote_open(&r, "reg.local:5000/a/b:1", &o, NULL), 0);
	const struct ctr_ref *ref = ctr_remote_ref(r);
	assert_string_equal(ref->domain, "reg.local:5000");
	struct ctr_remote_desc d = {0};
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_ENOTFOUND);
	assert_non_null(strstr(ctr_error_message(err), "resolve capability"));
	ctr_error_free(err);
	struct ctr_remote_membuf mb = {.buf = "x", .len = 1};
	struct ctr_remote_desc bd = {.media_type = (char *)"application/octet-stream",
				     .digest = (char *)"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
				     .size = 1};
	struct ctr_remote_push_item pi = {.desc = &bd};
	ctr_remote_source_mem(&pi.src, &mb);
	err = NULL;
	assert_int_equal(ctr_remote_push(r, &pi, 1, &err), CTR_ENOTSUP);
	assert_non_null(strstr(ctr_error_message(err), "push capability"));
	ctr_error_free(err);
	/* A hostile digest or a manifest over 4 MiB never reaches the wire
	 * (the server above is a closed port: a request would say so). */
	struct ctr_remote_sink sink = {.write = NULL};
	struct ctr_remote_fetch_item fi = {.desc = &bd, .sink = &sink};
	assert_int_equal(ctr_remote_fetch(r, &fi, 1, NULL), CTR_EINVAL); /* no write callback */
	bd.digest = (char *)"sha256:../../x";
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ctr_remote_fetch_buf(r, &bd, 10, &buf, &len, NULL), CTR_EINVAL);
	bd.digest = (char *)"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
	bd.media_type = (char *)CTR_MEDIA_OCI_MANIFEST;
	bd.size = CTR_MANIFEST_MAX + 1;
	err = NULL;
	assert_int_equal(ctr_remote_fetch_buf(r, &bd, (size_t)-1, &buf, &len, &err), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(err), "larger than"));
	ctr_error_free(err);
	assert_null(buf);
	/* A bad mount source is refused up front. */
	write_file(root, "push.local", "server = \"http://127.0.0.1:9\"\n");
	ctr_remote_free(r);
	assert_int_equal(ctr_remote_open(&r, "push.local/a:1", &o, NULL), 0);
	bd.media_type = (char *)"application/octet-stream";
	bd.size = 1;
	pi.mount_from = "../evil";
	assert_int_equal(ctr_remote_push(r, &pi, 1, NULL), CTR_EINVAL);
	ctr_remote_free(r);
	/* A missing hosts.toml CA file fails at open. */
	write_file(root, "ca.local", "ca = \"nope.pem\"\n");
	r = (struct ctr_remote *)0x1;
	assert_int_equal(ctr_remote_open(&r, "ca.local/a:1", &o, NULL), CTR_ENOTFOUND);
	assert_ptr_equal(r, (struct ctr_remote *)0x1);
	/* curl presents one client certificate: two pairs are refused. */
	write_file(root, "two.local", "client = [\"a.pem\", \"b.pem\"]\n");
	assert_int_equal(ctr_remote_open(&r, "two.local/a:1", &o, NULL), CTR_ENOTSUP);
	assert_ptr_equal(r, (struct ctr_remote *)0x1);
	/* The call's CA (--tlscacert) is loaded at open for hosts that name
	 * none: a missing file fails like a hosts.toml one... */
	struct ctr_remote_opts oc = o;
	oc.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(ctr_remote_open(&r, "plain.local/a:1", &oc, NULL), CTR_ENOTFOUND);
	assert_ptr_equal(r, (struct ctr_remote *)0x1);
	/* ...but a host whose hosts.toml names its own CA keeps it. */
	char ca[512];
	snprintf(ca, sizeof(ca), "%s/own.pem", root);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, ca, "x\n", 2, 0644, NULL), 0);
	write_file(root, "own.local", "ca = \"../own.pem\"\n");
	r = NULL;
	assert_int_equal(ctr_remote_open(&r, "own.local/a:1", &oc, NULL), 0);
	ctr_remote_free(r);
	/* A client certificate from the call counts as the host's one pair. */
	r = (struct ctr_remote *)0x1;
	oc.ca_file = NULL;
	oc.client_cert = "c.pem";
	assert_int_equal(ctr_remote_open(&r, "two.local/a:1", &oc, NULL), CTR_ENOTSUP);
	r = NULL;
	assert_int_equal(ctr_remote_open(&r, "plain.local/a:1", &oc, NULL), 0);
	ctr_remote_free(r);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_toml_misc),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_remote_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
