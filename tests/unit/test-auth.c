/* remotes/auth and remotes/http: challenge, token, docker config parsing,
 * header collection and error mapping (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "auth.h"
#include "http.h"
#include "macro.h"

static void test_challenges(void **state)
{
	(void)state;
	struct ctr_auth_challenge *c = NULL;
	size_t n = 0;
	const char *h = "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
			"scope=\"repository:a/b:pull,push repository:c:pull\"";
	assert_int_equal(ctr_auth_parse_challenges(h, &c, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].scheme, "bearer");
	assert_int_equal(c[0].n_params, 3);
	assert_string_equal(ctr_auth_param_get(&c[0], "realm"), "https://auth.example.com/token");
	assert_string_equal(ctr_auth_param_get(&c[0], "service"), "registry.example.com");
	assert_string_equal(ctr_auth_param_get(&c[0], "scope"), "repository:a/b:pull,push repository:c:pull");
	assert_null(ctr_auth_param_get(&c[0], "error"));
	ctr_auth_challenges_free(c, n);

	/* Several challenges, case-insensitive names, spaces, escapes, tokens. */
	h = "Basic realm=\"Registry \\\"Realm\\\"\" , BEARER Realm = https://x/t , Service=svc, error=\"insufficient_scope\"";
	assert_int_equal(ctr_auth_parse_challenges(h, &c, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].scheme, "basic");
	assert_string_equal(ctr_auth_param_get(&c[0], "realm"), "Registry \"Realm\"");
	assert_string_equal(c[1].scheme, "bearer");
	assert_string_equal(ctr_auth_param_get(&c[1], "realm"), "https://x/t");
	assert_string_equal(ctr_auth_param_get(&c[1], "service"), "svc");
	assert_string_equal(ctr_auth_param_get(&c[1], "error"), "insufficient_scope");
	ctr_auth_challenges_free(c, n);

	/* A scheme with no params, and a token68 credential. */
	assert_int_equal(ctr_auth_parse_challenges("Negotiate, Basic", &c, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].n_params, 0);
	assert_string_equal(c[1].scheme, "basic");
	ctr_auth_challenges_free(c, n);
	assert_int_equal(ctr_auth_parse_challenges("Negotiate abc+/de==, Basic realm=r", &c, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ctr_auth_param_get(&c[1], "realm"), "r");
	ctr_auth_challenges_free(c, n);

	const char *bad[] = {"", "   ", "realm=\"x\"", "Bearer realm=\"unterminated", "Bearer realm=\"a\"x",
			     "Bearer \x01", NULL};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		ctr_error *err = NULL;
		c = (void *)0x1;
		n = 42;
		assert_int_equal(ctr_auth_parse_challenges(bad[i], &c, &n, &err), CTR_EINVAL);
		assert_non_null(err);
		assert_ptr_equal(c, (void *)0x1);
		assert_int_equal(n, 42);
		ctr_error_free(err);
	}
}

static void test_token(void **state)
{
	(void)state;
	struct ctr_auth_token t;
	const char *j1 = "{\"token\":\"abc.def\",\"expires_in\":300,\"issued_at\":\"2024-01-01T00:00:00Z\"}";
	assert_int_equal(ctr_auth_parse_token(j1, strlen(j1), &t, NULL), 0);
	assert_string_equal(t.token, "abc.def");
	assert_int_equal(t.expires_in, 300);
	assert_null(t.refresh_token);
	ctr_auth_token_clear(&t);
	const char *j2 = "{\"access_token\":\"xyz\",\"refresh_token\":\"r1\"}";
	assert_int_equal(ctr_auth_parse_token(j2, strlen(j2), &t, NULL), 0);
	assert_string_equal(t.token, "xyz");
	assert_string_equal(t.refresh_token, "r1");
	assert_int_equal(t.expires_in, 60);
	ctr_auth_token_clear(&t);
	const char *j3 = "{\"token\":\"\",\"access_token\":\"fallback\",\"expires_in\":-5}";
	assert_int_equal(ctr_auth_parse_token(j3, strlen(j3), &t, NULL), 0);
	assert_string_equal(t.token, "fallback");
	assert_int_equal(t.expires_in, 60);
	ctr_auth_token_clear(&t);
	const char *bad[] = {"{}", "[]", "{\"token\":5}", "not json", "{\"token\":\"a b\"}",
			     "{\"token\":\"a\\r\\nX-Evil: 1\"}", ""};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(bad); i++) {
		t.token = (char *)"keep";
		assert_int_equal(ctr_auth_parse_token(bad[i], strlen(bad[i]), &t, NULL), CTR_EINVAL);
		assert_string_equal(t.token, "keep");
	}
}

static void test_docker_config(void **state)
{
	(void)state;
	/* "user:pa:ss" in base64 */
	const char *cfg = "{\"auths\":{"
			  "\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
			  "\"reg.local:5000\":{\"username\":\"u2\",\"password\":\"p2\"},"
			  "\"http://Other.IO/v2/\":{\"identitytoken\":\"idtok\"},"
			  "\"bad.io\":{\"auth\":\"!!!\"},"
			  "\"nocolon.io\":{\"auth\":\"bm9jb2xvbg==\"},"
			  "\"empty.io\":{}"
			  "}}";
	size_t len = strlen(cfg);
	char *u = NULL, *s = NULL;
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "docker.io", &u, &s, NULL), 0);
	assert_string_equal(u, "user");
	assert_string_equal(s, "pa:ss");
	free(u);
	free(s);
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "reg.local:5000", &u, &s, NULL), 0);
	assert_string_equal(u, "u2");
	assert_string_equal(s, "p2");
	free(u);
	free(s);
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "other.io", &u, &s, NULL), 0);
	assert_string_equal(u, "");
	assert_string_equal(s, "idtok");
	free(u);
	free(s);
	u = s = NULL;
	ctr_error *err = NULL;
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "reg.local", &u, &s, &err), CTR_ENOTFOUND);
	assert_null(u);
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "bad.io", &u, &s, &err), CTR_EINVAL);
	/* The message never carries the secret material. */
	assert_null(strstr(ctr_error_message(err), "!!!"));
	ctr_error_free(err);
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "nocolon.io", &u, &s, NULL), CTR_EINVAL);
	assert_int_equal(ctr_auth_docker_config_parse(cfg, len, "empty.io", &u, &s, NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_auth_docker_config_parse("{", 1, "x", &u, &s, NULL), CTR_EINVAL);
	assert_int_equal(ctr_auth_docker_config_parse("{}", 2, "x", &u, &s, NULL), CTR_ENOTFOUND);
	assert_null(u);
	assert_null(s);

	char *b = ctr_auth_basic("Aladdin", "open sesame");
	assert_string_equal(b, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	free(b);
	b = ctr_auth_basic("a", "");
	assert_string_equal(b, "Basic YTo=");
	free(b);
}

static void feed(struct ctr_http_resp *r, const char *line) { ctr_http_resp_header(r, line, strlen(line)); }

static void test_http_headers(void **state)
{
	(void)state;
	struct ctr_http_resp r;
	memset(&r, 0, sizeof(r));
	ctr_http_resp_clear(&r);
	feed(&r, "HTTP/1.1 100 Continue\r\n");
	feed(&r, "\r\n");
	assert_false(r.headers_done);
	feed(&r, "HTTP/1.1 401 Unauthorized\r\n");
	feed(&r, "Content-Length: 123\r\n");
	feed(&r, "WWW-Authenticate: Basic realm=\"a\"\r\n");
	feed(&r, "www-authenticate:   Bearer realm=\"b\"  \r\n");
	feed(&r, "Docker-Content-Digest: sha256:x\r\n");
	feed(&r, "Retry-After: 99999\r\n");
	feed(&r, "Location: /v2/x\r\n");
	feed(&r, "\r\n");
	assert_true(r.headers_done);
	assert_int_equal(r.status, 401);
	assert_int_equal(r.content_length, 123);
	assert_string_equal(r.www_auth, "Basic realm=\"a\", Bearer realm=\"b\"");
	assert_string_equal(r.docker_digest, "sha256:x");
	assert_int_equal(r.retry_after, 60);
	assert_string_equal(r.location, "/v2/x");
	feed(&r, "HTTP/2 200\r\n");
	assert_int_equal(r.status, 200);
	assert_null(r.location);
	assert_int_equal(r.content_length, -1);
	feed(&r, "Content-Length: -5\r\n");
	assert_int_equal(r.content_length, -1);
	ctr_http_resp_clear(&r);

	char *o = ctr_http_origin("https://Reg.IO/v2/x?y");
	assert_string_equal(o, "https://reg.io:443");
	free(o);
	o = ctr_http_origin("http://127.0.0.1:5000/v2/");
	assert_string_equal(o, "http://127.0.0.1:5000");
	free(o);
	assert_null(ctr_http_origin("/relative"));
	o = ctr_http_resolve_url("http://a:1/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/123?state=s");
	assert_string_equal(o, "http://a:1/v2/x/blobs/uploads/123?state=s");
	free(o);
	o = ctr_http_resolve_url("http://a:1/v2/x", "https://b/other");
	assert_string_equal(o, "https://b/other");
	free(o);
}

static void test_status_errors(void **state)
{
	(void)state;
	const char *body = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"},"
			   "{\"code\":\"UNAUTHORIZED\"}]}";
	ctr_error *err = NULL;
	assert_int_equal(ctr_http_status_error(401, body, strlen(body), "pull x", &err), CTR_EPERM);
	assert_non_null(strstr(ctr_error_message(err), "401 unauthorized: requested access to the resource is denied; UNAUTHORIZED"));
	ctr_error_free(err);
	err = NULL;
	assert_int_equal(ctr_http_status_error(403, "garbage", 7, "w", &err), CTR_EPERM);
	assert_string_equal(ctr_error_message(err), "w: 403 forbidden");
	ctr_error_free(err);
	assert_int_equal(ctr_http_status_error(404, NULL, 0, "w", NULL), CTR_ENOTFOUND);
	assert_int_equal(ctr_http_status_error(429, NULL, 0, "w", NULL), CTR_EUNAVAILABLE);
	assert_int_equal(ctr_http_status_error(503, NULL, 0, "w", NULL), CTR_EUNAVAILABLE);
	assert_int_equal(ctr_http_status_error(400, NULL, 0, "w", NULL), CTR_EIO);
	/* Control characters from the server are neutralised. */
	const char *evil = "{\"errors\":[{\"message\":\"a\\nb\\u001b[31m\"}]}";
	err = NULL;
	ctr_http_status_error(500, evil, strlen(evil), "w", &err);
	assert_non_null(strstr(ctr_error_message(err), "a?b?[31m"));
	ctr_error_free(err);

	err = NULL;
	assert_int_equal(ctr_http_curl_error(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem: self-signed", "GET", &err),
			 CTR_EUNAVAILABLE);
	assert_non_null(strstr(ctr_error_message(err), "TLS/certificate"));
	ctr_error_free(err);
	assert_int_equal(ctr_http_curl_error(CURLE_OPERATION_TIMEDOUT, "", "GET", NULL), CTR_ETIMEOUT);
	assert_int_equal(ctr_http_curl_error(CURLE_COULDNT_CONNECT, "", "GET", NULL), CTR_EUNAVAILABLE);
	assert_true(ctr_http_curl_transient(CURLE_COULDNT_CONNECT));
	assert_false(ctr_http_curl_transient(CURLE_PEER_FAILED_VERIFICATION));
}

static void test_authorizer_basic(void **state)
{
	(void)state;
	/* Basic: no header before the challenge, then credentials from the
	 * callback; a second challenge means they were rejected. */
	struct ctr_auth *a = NULL;
	int calls = 0;
	assert_int_equal(ctr_auth_new(&a, NULL, NULL, NULL, NULL), 0);
	char *hdr = (char *)"x";
	assert_int_equal(ctr_auth_header(a, "h:1", "repository:a:pull", &hdr, NULL), 0);
	assert_null(hdr);
	ctr_error *err = NULL;
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Basic realm=x", NULL, NULL, &err), CTR_EPERM);
	assert_non_null(strstr(ctr_error_message(err), "no credentials"));
	ctr_error_free(err);
	ctr_auth_free(a);

	(void)calls;
}

static int creds_cb(const char *host, char **user, char **secret, void *ud)
{
	int *calls = ud;
	(*calls)++;
	if (!strcmp(host, "h:1")) {
		*user = strdup("me");
		*secret = strdup("pw");
	}
	return 0;
}

static void test_authorizer_creds(void **state)
{
	(void)state;
	struct ctr_auth *a = NULL;
	int calls = 0;
	assert_int_equal(ctr_auth_new(&a, creds_cb, &calls, NULL, NULL), 0);
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Basic realm=x", NULL, NULL, NULL), 0);
	char *hdr = NULL;
	assert_int_equal(ctr_auth_header(a, "h:1", "s", &hdr, NULL), 0);
	assert_string_equal(hdr, "Authorization: Basic bWU6cHc=");
	free(hdr);
	/* Another host gets nothing. */
	assert_int_equal(ctr_auth_header(a, "other:1", "s", &hdr, NULL), 0);
	assert_null(hdr);
	ctr_error *err = NULL;
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Basic realm=x", NULL, NULL, &err), CTR_EPERM);
	assert_non_null(strstr(ctr_error_message(err), "credentials rejected"));
	assert_null(strstr(ctr_error_message(err), "pw"));
	ctr_error_free(err);
	assert_int_equal(calls, 1);
	/* Bearer realm must be http(s), and https for an https registry. */
	struct ctr_registry_host reg = {.scheme = (char *)"https", .host = (char *)"h:1", .skip_verify = -1};
	err = NULL;
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Bearer realm=\"http://evil/token\"", &reg, NULL, &err),
			 CTR_EPERM);
	assert_non_null(strstr(ctr_error_message(err), "plain-http"));
	ctr_error_free(err);
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Bearer realm=\"file:///etc/passwd\"", &reg, NULL, NULL),
			 CTR_EPERM);
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Bearer service=x", &reg, NULL, NULL), CTR_EPERM);
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "Digest realm=x", &reg, NULL, NULL), CTR_EPERM);
	assert_int_equal(ctr_auth_challenge(a, "h:1", "s", "", &reg, NULL, NULL), CTR_EPERM);
	ctr_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenges),   cmocka_unit_test(test_token),
		cmocka_unit_test(test_docker_config), cmocka_unit_test(test_http_headers),
		cmocka_unit_test(test_status_errors), cmocka_unit_test(test_authorizer_basic),
		cmocka_unit_test(test_authorizer_creds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
