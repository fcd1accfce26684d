/* remotes/ against a real docker-registry: push a generated image with our
 * push (monolithic and chunked uploads, manifest then index), check that
 * skopeo sees the same digests, resolve, fetch every blob back
 * byte-identical (memory and file sinks, resumed with Range), mount across
 * repositories, and the error paths (not found, size mismatch, cancel).
 * The registry is started on a free loopback port and killed at the end,
 * even when a test fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "remotes.h"
#include "digest.h"
#include "fs.h"
#include "macro.h"

struct reg {
	pid_t pid;
	bool tls;
	bool mtls; /* clients must present a certificate */
	char dir[64];
	char host[64];
};
static struct reg plain = {.pid = -1}, tlsreg = {.pid = -1, .tls = true},
		  mtlsreg = {.pid = -1, .tls = true, .mtls = true};

/* ---- registry processes ---- */

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(s, (struct sockaddr *)&a, &l) < 0)
		return -1;
	close(s);
	return ntohs(a.sin_port);
}

static void stop_one(struct reg *g)
{
	if (getenv("KEEP_REGISTRY_LOG") && g->dir[0]) {
		char c[300];
		snprintf(c, sizeof(c), "cp %s/registry.log /tmp/registry-last%s.log", g->dir, g->tls ? "-tls" : "");
		if (system(c)) {
		}
	}
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->pid = -1;
	}
	if (g->dir[0]) {
		ctr_rm_rf_at(AT_FDCWD, g->dir, NULL);
		g->dir[0] = 0;
	}
}

static void stop_registry(void)
{
	stop_one(&plain);
	stop_one(&tlsreg);
	stop_one(&mtlsreg);
}

static void on_signal(int sig)
{
	if (plain.pid > 0)
		kill(plain.pid, SIGKILL);
	if (tlsreg.pid > 0)
		kill(tlsreg.pid, SIGKILL);
	if (mtlsreg.pid > 0)
		kill(mtlsreg.pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool v2_answers(struct reg *g)
{
	CURL *c = curl_easy_init();
	char url[128], ca[128];
	snprintf(url, sizeof(url), "%s://%s/v2/", g->tls ? "https" : "http", g->host);
	snprintf(ca, sizeof(ca), "%s/cert.pem", g->dir);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
	if (g->tls)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	char cc[128], ck[128];
	snprintf(cc, sizeof(cc), "%s/client.crt", g->dir);
	snprintf(ck, sizeof(ck), "%s/client.key", g->dir);
	if (g->mtls) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cc);
		curl_easy_setopt(c, CURLOPT_SSLKEY, ck);
	}
	CURLcode rc = curl_easy_perform(c);
	long st = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	return rc == CURLE_OK && st == 200;
}

static int start_one(struct reg *g)
{
	strcpy(g->dir, "/tmp/test-registry.XXXXXX");
	if (!mkdtemp(g->dir))
		return -1;
	char tlsyaml[512] = "";
	if (g->tls) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem -days 2 "
			 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
			 g->dir, g->dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "openssl req failed\n");
			return -1;
		}
		snprintf(tlsyaml, sizeof(tlsyaml), "  tls:\n    certificate: %s/cert.pem\n    key: %s/key.pem\n", g->dir,
			 g->dir);
	}
	if (g->mtls) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/client.key -out %s/client.crt -days 2 "
			 "-subj /CN=client -addext extendedKeyUsage=clientAuth >/dev/null 2>&1",
			 g->dir, g->dir);
		if (system(cmd) != 0)
			return -1;
		size_t l = strlen(tlsyaml);
		snprintf(tlsyaml + l, sizeof(tlsyaml) - l, "    clientcas:\n      - %s/client.crt\n", g->dir);
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		int port = free_port();
		snprintf(g->host, sizeof(g->host), "127.0.0.1:%d", port);
		char cfg[256], cfgtext[2048], logp[256];
		snprintf(cfg, sizeof(cfg), "%s/config.yml", g->dir);
		snprintf(logp, sizeof(logp), "%s/registry.log", g->dir);
		snprintf(cfgtext, sizeof(cfgtext),
			 "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n"
			 "    rootdirectory: %s/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n%s",
			 g->dir, port, tlsyaml);
		if (ctr_write_atomic(AT_FDCWD, cfg, cfgtext, strlen(cfgtext), 0644, NULL) < 0)
			return -1;
		pid_t parent = getpid();
		g->pid = fork();
		if (g->pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg, (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 100; i++) {
			if (v2_answers(g))
				return 0;
			if (waitpid(g->pid, NULL, WNOHANG) == g->pid) {
				g->pid = -1;
				break;
			}
			usleep(100 * 1000);
		}
		if (g->pid > 0) {
			kill(g->pid, SIGKILL);
			waitpid(g->pid, NULL, 0);
			g->pid = -1;
		}
	}
	fprintf(stderr, "docker-registry did not come up\n");
	return -1;
}

static int start_registry(void **state)
{
	(void)state;
	if (access("/usr/bin/docker-registry", X_OK) != 0) {
		fprintf(stderr, "docker-registry not installed\n");
		return -1;
	}
	atexit(stop_registry);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (start_one(&plain) < 0 || start_one(&tlsreg) < 0 || start_one(&mtlsreg) < 0)
		return -1;
	return 0;
}

static int teardown_registry(void **state)
{
	(void)state;
	stop_registry();
	return 0;
}

/* ---- a generated image ---- */

struct blob {
	char *data;
	size_t len;
	struct ctr_remote_desc desc;
	struct ctr_remote_membuf mb;
};

static void blob_set(struct blob *b, char *data, size_t len, const char *mt)
{
	b->data = data;
	b->len = len;
	b->desc.media_type = strdup(mt);
	b->desc.digest = malloc(CTR_DIGEST_MAX);
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, data, len, b->desc.digest, NULL), 0);
	b->desc.size = len;
	b->mb.buf = data;
	b->mb.len = len;
}

static void blob_clear(struct blob *b)
{
	free(b->data);
	ctr_remote_desc_clear(&b->desc);
}

static void tar_add(char **tar, size_t *len, const char *name, const char *data, size_t n)
{
	size_t padded = (n + 511) / 512 * 512;
	*tar = realloc(*tar, *len + 512 + padded);
	char *h = *tar + *len;
	memset(h, 0, 512 + padded);
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", n);
	snprintf(h + 136, 12, "%011o", 1700000000);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	memcpy(h + 512, data, n);
	*len += 512 + padded;
}

static void tar_end(char **tar, size_t *len)
{
	*tar = realloc(*tar, *len + 1024);
	memset(*tar + *len, 0, 1024);
	*len += 1024;
}

static char *gzip(const char *in, size_t n, size_t *out_len)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&z, n) + 64;
	char *out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static char *make_layer(unsigned seed, size_t filesize, int nfiles, char diff_id[CTR_DIGEST_MAX], size_t *len)
{
	char *tar = NULL;
	size_t tl = 0;
	uint32_t x = seed * 2654435761u + 1;
	for (int f = 0; f < nfiles; f++) {
		char *d = malloc(filesize);
		for (size_t i = 0; i < filesize; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			d[i] = (char)(x & 0xff);
		}
		char name[64];
		snprintf(name, sizeof(name), "dir%u/file-%d.bin", seed, f);
		tar_add(&tar, &tl, name, d, filesize);
		free(d);
	}
	tar_end(&tar, &tl);
	assert_int_equal(ctr_digest_buf(CTR_DIGEST_SHA256, tar, tl, diff_id, NULL), 0);
	char *gz = gzip(tar, tl, len);
	free(tar);
	return gz;
}

struct image {
	struct blob layer1, layer2, config, manifest, index;
};

static void make_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	char d1[CTR_DIGEST_MAX], d2[CTR_DIGEST_MAX];
	size_t l1, l2;
	char *g1 = make_layer(1, 1000, 5, d1, &l1);
	char *g2 = make_layer(2, 100 * 1024, 3, d2, &l2); /* ~300 KiB, chunked */
	blob_set(&im->layer1, g1, l1, "application/vnd.oci.image.layer.v1.tar+gzip");
	blob_set(&im->layer2, g2, l2, "application/vnd.oci.image.layer.v1.tar+gzip");
	char *cfg = NULL;
	assert_true(asprintf(&cfg,
			     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
			     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
			     d1, d2) > 0);
	blob_set(&im->config, cfg, strlen(cfg), "application/vnd.oci.image.config.v1+json");
	char *man = NULL;
	assert_true(asprintf(&man,
			     "{\"schemaVersion\":2,\"mediaType\":\"%s\","
			     "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
			     "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
			     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			     CTR_MEDIA_OCI_MANIFEST, im->config.desc.media_type, im->config.desc.digest, im->config.len,
			     im->layer1.desc.media_type, im->layer1.desc.digest, im->layer1.len,
			     im->layer2.desc.media_type, im->layer2.desc.digest, im->layer2.len) > 0);
	blob_set(&im->manifest, man, strlen(man), CTR_MEDIA_OCI_MANIFEST);
	char *idx = NULL;
	assert_true(asprintf(&idx,
			     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\","
			     "\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
			     CTR_MEDIA_OCI_INDEX, CTR_MEDIA_OCI_MANIFEST, im->manifest.desc.digest, im->manifest.len) > 0);
	blob_set(&im->index, idx, strlen(idx), CTR_MEDIA_OCI_INDEX);
}

static void free_image(struct image *im)
{
	blob_clear(&im->layer1);
	blob_clear(&im->layer2);
	blob_clear(&im->config);
	blob_clear(&im->manifest);
	blob_clear(&im->index);
}

/* ---- helpers ---- */

struct progress_log {
	int done, failed, downloading, cancel_after;
	int calls;
};

static int progress_cb(const struct ctr_remote_desc *d, uint64_t done, uint64_t total, enum ctr_remote_state st,
		       void *ud)
{
	struct progress_log *p = ud;
	assert_true(done <= total || st == CTR_REMOTE_WAITING);
	p->calls++;
	if (st == CTR_REMOTE_DONE)
		p->done++;
	if (st == CTR_REMOTE_FAILED)
		p->failed++;
	if (st == CTR_REMOTE_DOWNLOADING)
		p->downloading++;
	return p->cancel_after && p->calls >= p->cancel_after;
}

static struct ctr_remote *open_remote(const char *repo_tag, struct progress_log *p)
{
	char ref[256];
	snprintf(ref, sizeof(ref), "%s/%s", plain.host, repo_tag);
	struct ctr_remote_opts o = {
		.plain_http = true,
		.chunk_threshold = 64 * 1024,
		.chunk_size = 48 * 1024,
		.max_concurrency = 2,
		.retry_base_ms = 50,
		.progress = p ? progress_cb : NULL,
		.progress_ud = p,
	};
	struct ctr_remote *r = NULL;
	ctr_error *err = NULL;
	int rc = ctr_remote_open(&r, ref, &o, &err);
	if (rc)
		fail_msg("open %s: %s", ref, ctr_error_message(err));
	return r;
}

static void push_items(struct ctr_remote *r, struct blob **bs, size_t n, const char *mount_from)
{
	struct ctr_remote_push_item items[8] = {{0}};
	for (size_t i = 0; i < n; i++) {
		items[i].desc = &bs[i]->desc;
		ctr_remote_source_mem(&items[i].src, &bs[i]->mb);
		items[i].mount_from = mount_from;
	}
	ctr_error *err = NULL;
	int rc = ctr_remote_push(r, items, n, &err);
	if (rc)
		fail_msg("push: %s", ctr_error_message(err));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].result, 0);
}

static char *run_capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char *out = NULL;
	size_t len = 0, cap = 0;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	int st = pclose(f);
	if (!out)
		out = calloc(1, 1);
	out[len] = 0;
	if (st != 0)
		fail_msg("%s failed (%d): %s", cmd, st, out);
	return out;
}

/* Counts lines of the registry's log that contain every needle. */
static int log_count(const char *a, const char *b)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/registry.log", plain.dir);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/* ---- tests ---- */

static struct image img;

static void test_push_and_inspect(void **state)
{
	(void)state;
	struct progress_log p = {0};
	struct ctr_remote *r = open_remote("test/app:v1", &p);
	struct blob *bs[] = {&img.layer1, &img.layer2, &img.config, &img.manifest};
	push_items(r, bs, 4, NULL);
	assert_int_equal(p.done, 4);
	assert_int_equal(p.failed, 0);
	assert_true(p.downloading >= 4);
	ctr_remote_free(r);
	/* layer2 (~300 KiB) went in 48 KiB PATCH chunks; the rest in one PUT. */
	assert_int_equal(log_count("\"PATCH /v2/test/app/blobs/uploads/", "\" 202 "),
			 (int)((img.layer2.len + 48 * 1024 - 1) / (48 * 1024)));
	assert_true(log_count("\"PUT /v2/test/app/blobs/uploads/", NULL) == 3);

	char cmd[512];
	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://%s/test/app:v1", plain.host);
	char *out = run_capture(cmd);
	out[strcspn(out, "\n")] = 0;
	assert_string_equal(out, img.manifest.desc.digest);
	free(out);

	/* The raw manifest skopeo gets is byte-identical. */
	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --raw docker://%s/test/app:v1", plain.host);
	out = run_capture(cmd);
	assert_string_equal(out, img.manifest.data);
	free(out);

	/* Pushing again skips every blob (HEAD says it is there). */
	memset(&p, 0, sizeof(p));
	r = open_remote("test/app:v1", &p);
	push_items(r, bs, 4, NULL);
	assert_int_equal(p.done, 4);
	ctr_remote_free(r);
}

static void test_push_index(void **state)
{
	(void)state;
	/* Manifest first, then the index under the tag. */
	struct ctr_remote *r = open_remote("test/multi:v2", NULL);
	struct blob *bs[] = {&img.layer1, &img.layer2, &img.config, &img.manifest, &img.index};
	push_items(r, bs, 5, "test/app");
	ctr_remote_free(r);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --raw docker://%s/test/multi:v2", plain.host);
	char *out = run_capture(cmd);
	assert_string_equal(out, img.index.data);
	free(out);
	/* The manifest is there by digest too. */
	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --raw docker://%s/test/multi@%s", plain.host,
		 img.manifest.desc.digest);
	out = run_capture(cmd);
	assert_string_equal(out, img.manifest.data);
	free(out);
}

static void test_resolve(void **state)
{
	(void)state;
	struct ctr_remote *r = open_remote("test/app:v1", NULL);
	struct ctr_remote_desc d = {0};
	ctr_error *err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve: %s", ctr_error_message(err));
	assert_string_equal(d.digest, img.manifest.desc.digest);
	assert_string_equal(d.media_type, CTR_MEDIA_OCI_MANIFEST);
	assert_int_equal(d.size, img.manifest.len);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	r = open_remote("test/multi:v2", NULL);
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), 0);
	assert_string_equal(d.digest, img.index.desc.digest);
	assert_string_equal(d.media_type, CTR_MEDIA_OCI_INDEX);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	/* By digest. */
	char ref[256];
	snprintf(ref, sizeof(ref), "test/app@%s", img.manifest.desc.digest);
	r = open_remote(ref, NULL);
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), 0);
	assert_string_equal(d.digest, img.manifest.desc.digest);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	/* Unknown tag and unknown repository: not found, output untouched. */
	r = open_remote("test/app:nope", NULL);
	d.size = 4242;
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_ENOTFOUND);
	assert_int_equal(d.size, 4242);
	ctr_error_free(err);
	ctr_remote_free(r);
	r = open_remote("no/such:v1", NULL);
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), CTR_ENOTFOUND);
	ctr_remote_free(r);
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

static int fd_write(void *ud, const void *buf, size_t len, ctr_error **err)
{
	return ctr_write_all(*(int *)ud, buf, len) < 0 ? ctr_err_errno(err, errno, "write") : 0;
}

static int file_resets;

static int fd_reset(void *ud, ctr_error **err)
{
	int fd = *(int *)ud;
	file_resets++;
	return ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ? ctr_err_errno(err, errno, "reset") : 0;
}

static void test_fetch(void **state)
{
	(void)state;
	struct progress_log p = {0};
	struct ctr_remote *r = open_remote("test/app:v1", &p);
	struct blob *bs[] = {&img.layer1, &img.layer2, &img.config, &img.manifest};
	struct memsink ms[4] = {{0}};
	struct ctr_remote_sink sinks[4];
	struct ctr_remote_fetch_item items[4];
	for (int i = 0; i < 4; i++) {
		sinks[i] = (struct ctr_remote_sink){.write = ms_write, .reset = ms_reset, .ud = &ms[i]};
		items[i] = (struct ctr_remote_fetch_item){.desc = &bs[i]->desc, .sink = &sinks[i]};
	}
	ctr_error *err = NULL;
	if (ctr_remote_fetch(r, items, 4, &err))
		fail_msg("fetch: %s", ctr_error_message(err));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(items[i].result, 0);
		assert_int_equal(ms[i].len, bs[i]->len);
		assert_memory_equal(ms[i].buf, bs[i]->data, bs[i]->len);
		free(ms[i].buf);
	}
	assert_int_equal(p.done, 4);

	/* fetch_buf of the manifest (through /manifests/). */
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ctr_remote_fetch_buf(r, &img.manifest.desc, CTR_MANIFEST_MAX, &buf, &len, NULL), 0);
	assert_int_equal(len, img.manifest.len);
	assert_memory_equal(buf, img.manifest.data, len);
	free(buf);
	/* Too large for the caller's bound: refused before any request. */
	assert_int_equal(ctr_remote_fetch_buf(r, &img.layer2.desc, 1024, &buf, &len, NULL), CTR_EINVAL);

	/* A file sink that already holds the first half: resumed with Range. */
	char path[] = "/tmp/test-registry-blob.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	size_t half = img.layer2.len / 2;
	assert_int_equal(ctr_write_all(fd, img.layer2.data, half), 0);
	struct ctr_remote_sink fs = {.write = fd_write, .reset = fd_reset, .ud = &fd, .offset = half};
	struct ctr_remote_fetch_item fi = {.desc = &img.layer2.desc, .sink = &fs};
	err = NULL;
	if (ctr_remote_fetch(r, &fi, 1, &err))
		fail_msg("resume: %s", ctr_error_message(err));
	char dg[CTR_DIGEST_MAX];
	uint64_t size = 0;
	assert_int_equal(ctr_digest_fd(CTR_DIGEST_SHA256, fd, dg, &size, NULL), 0);
	assert_int_equal(size, img.layer2.len);
	assert_string_equal(dg, img.layer2.desc.digest);
	assert_int_equal(file_resets, 0); /* the registry honoured Range */
	close(fd);
	unlink(path);
	ctr_remote_free(r);
}

static void test_fetch_errors(void **state)
{
	(void)state;
	struct ctr_remote *r = open_remote("test/app:v1", NULL);
	struct memsink ms = {0};
	struct ctr_remote_sink sink = {.write = ms_write, .reset = ms_reset, .ud = &ms};

	/* A descriptor whose size disagrees with the registry. */
	struct ctr_remote_desc d = img.layer1.desc;
	d.size = img.layer1.len + 10;
	struct ctr_remote_fetch_item it = {.desc = &d, .sink = &sink};
	ctr_error *err = NULL;
	assert_int_equal(ctr_remote_fetch(r, &it, 1, &err), CTR_EDIGEST);
	assert_int_equal(it.result, CTR_EDIGEST);
	ctr_error_free(err);
	ms.len = 0;

	/* Unknown digest: not found. */
	d = img.layer1.desc;
	d.digest = (char *)"sha256:0000000000000000000000000000000000000000000000000000000000000000";
	err = NULL;
	assert_int_equal(ctr_remote_fetch(r, &it, 1, &err), CTR_ENOTFOUND);
	ctr_error_free(err);
	assert_int_equal(ms.len, 0);

	/* A malformed digest never reaches the network. */
	d.digest = (char *)"sha256:../../etc/passwd";
	assert_int_equal(ctr_remote_fetch(r, &it, 1, NULL), CTR_EINVAL);
	free(ms.buf);
	ctr_remote_free(r);

	/* Cancel from the progress callback. */
	struct progress_log p = {.cancel_after = 3};
	r = open_remote("test/app:v1", &p);
	struct memsink m2 = {0};
	struct ctr_remote_sink s2 = {.write = ms_write, .reset = ms_reset, .ud = &m2};
	struct ctr_remote_fetch_item it2 = {.desc = &img.layer2.desc, .sink = &s2};
	assert_int_equal(ctr_remote_fetch(r, &it2, 1, NULL), CTR_ECANCELED);
	assert_int_equal(it2.result, CTR_ECANCELED);
	free(m2.buf);
	ctr_remote_free(r);

	/* Nothing listens: unavailable, after bounded retries. */
	char ref[128];
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/x:1", free_port());
	struct ctr_remote_opts o = {.plain_http = true, .max_retries = 1, .retry_base_ms = 10};
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	struct ctr_remote_desc out;
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &out, &err), CTR_EUNAVAILABLE);
	ctr_error_free(err);
	ctr_remote_free(r);
	/* https against a plain-http registry: a TLS error. */
	snprintf(ref, sizeof(ref), "%s/test/app:v1", plain.host);
	o.plain_http = false;
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	err = NULL;
	assert_int_equal(ctr_remote_resolve(r, &out, &err), CTR_EUNAVAILABLE);
	ctr_error_free(err);
	ctr_remote_free(r);
}

static void test_mount(void **state)
{
	(void)state;
	/* Another repository on the same host: blobs come by mount. */
	struct ctr_remote *r = open_remote("test/mounted:v1", NULL);
	struct blob *bs[] = {&img.layer1, &img.layer2, &img.config, &img.manifest};
	push_items(r, bs, 4, "test/app");
	ctr_remote_free(r);
	assert_int_equal(log_count("\"POST /v2/test/mounted/blobs/uploads/?mount=", "\" 201 "), 3);
	assert_int_equal(log_count("\"PUT /v2/test/mounted/blobs/uploads/", NULL), 0);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://%s/test/mounted:v1",
		 plain.host);
	char *out = run_capture(cmd);
	out[strcspn(out, "\n")] = 0;
	assert_string_equal(out, img.manifest.desc.digest);
	free(out);
	/* And the layers can be fetched from it. */
	r = open_remote("test/mounted:v1", NULL);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ctr_remote_fetch_buf(r, &img.layer2.desc, 1 << 20, &buf, &len, NULL), 0);
	assert_memory_equal(buf, img.layer2.data, len);
	free(buf);
	ctr_remote_free(r);
}

static void test_push_bad_source(void **state)
{
	(void)state;
	/* A manifest whose bytes do not match its digest is never sent. */
	struct ctr_remote *r = open_remote("test/bad:v1", NULL);
	struct ctr_remote_desc d = img.manifest.desc;
	struct ctr_remote_membuf mb = {.buf = img.index.data, .len = img.manifest.len < img.index.len ? img.manifest.len : img.index.len};
	d.size = mb.len;
	struct ctr_remote_push_item it = {.desc = &d};
	ctr_remote_source_mem(&it.src, &mb);
	ctr_error *err = NULL;
	assert_int_equal(ctr_remote_push(r, &it, 1, &err), CTR_EDIGEST);
	ctr_error_free(err);
	ctr_remote_free(r);
	struct ctr_remote_desc out;
	r = open_remote("test/bad:v1", NULL);
	assert_int_equal(ctr_remote_resolve(r, &out, NULL), CTR_ENOTFOUND);
	ctr_remote_free(r);
}

static void test_tls(void **state)
{
	(void)state;
	char ref[256];
	snprintf(ref, sizeof(ref), "%s/test/tls:v1", tlsreg.host);
	struct ctr_remote *r = NULL;
	struct ctr_remote_desc d;
	ctr_error *err = NULL;

	/* A self-signed registry without its CA: TLS error, unavailable. */
	struct ctr_remote_opts o = {.max_retries = -1};
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	assert_int_equal(ctr_remote_resolve(r, &d, &err), CTR_EUNAVAILABLE);
	assert_non_null(strstr(ctr_error_message(err), "TLS"));
	ctr_error_free(err);
	ctr_remote_free(r);

	/* The CA from hosts.toml (relative to the host directory) adds to the
	 * system roots: push and resolve work. */
	char hd[] = "/tmp/test-hosts-dir.XXXXXX";
	assert_non_null(mkdtemp(hd));
	char p[512], cmd[1024];
	snprintf(p, sizeof(p), "%s/%s", hd, tlsreg.host);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/cert.pem %s/ca.crt", tlsreg.dir, p);
	assert_int_equal(system(cmd), 0);
	const char *toml = "# test\nca = \"ca.crt\"\n[header]\n  X-Test = \"abc\"\n";
	strcat(p, "/hosts.toml");
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, toml, strlen(toml), 0644, NULL), 0);
	o.hosts_dir = hd;
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	struct blob *all[] = {&img.layer1, &img.layer2, &img.config, &img.manifest};
	struct ctr_remote_push_item it[4] = {{0}};
	for (int i = 0; i < 4; i++) {
		it[i].desc = &all[i]->desc;
		ctr_remote_source_mem(&it[i].src, &all[i]->mb);
	}
	err = NULL;
	if (ctr_remote_push(r, it, 4, &err))
		fail_msg("push over TLS: %s", ctr_error_message(err));
	err = NULL;
	if (ctr_remote_resolve(r, &d, &err))
		fail_msg("resolve over TLS: %s", ctr_error_message(err));
	assert_string_equal(d.digest, img.manifest.desc.digest);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	/* A CA file that does not exist fails at open. */
	const char *bad = "ca = \"missing.crt\"\n";
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, bad, strlen(bad), 0644, NULL), 0);
	err = NULL;
	r = NULL;
	assert_int_equal(ctr_remote_open(&r, ref, &o, &err), CTR_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(ctr_error_message(err), "missing.crt"));
	ctr_error_free(err);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, hd, NULL), 0);

	/* skip_verify without any CA. */
	struct ctr_remote_opts o2 = {.skip_verify = true};
	assert_int_equal(ctr_remote_open(&r, ref, &o2, NULL), 0);
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), 0);
	assert_string_equal(d.digest, img.manifest.desc.digest);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);

	snprintf(cmd, sizeof(cmd), "skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://%s/test/tls:v1",
		 tlsreg.host);
	char *out = run_capture(cmd);
	out[strcspn(out, "\n")] = 0;
	assert_string_equal(out, img.manifest.desc.digest);
	free(out);
}

static void test_client_cert(void **state)
{
	(void)state;
	char ref[256], hd[] = "/tmp/test-hosts-dir.XXXXXX", p[512], toml[1024];
	snprintf(ref, sizeof(ref), "%s/test/mtls:v1", mtlsreg.host);
	assert_non_null(mkdtemp(hd));
	snprintf(p, sizeof(p), "%s/%s", hd, mtlsreg.host);
	assert_int_equal(mkdir(p, 0755), 0);
	strcat(p, "/hosts.toml");
	struct ctr_remote_opts o = {.hosts_dir = hd, .max_retries = -1};
	struct ctr_remote *r = NULL;
	struct ctr_remote_desc d;
	ctr_error *err = NULL;

	/* The CA but no client certificate: the handshake fails. */
	snprintf(toml, sizeof(toml), "ca = \"%s/cert.pem\"\n", mtlsreg.dir);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, toml, strlen(toml), 0644, NULL), 0);
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	int rc = ctr_remote_resolve(r, &d, &err);
	assert_true(rc == CTR_EUNAVAILABLE || rc == CTR_EPERM);
	ctr_error_free(err);
	ctr_remote_free(r);

	/* With a [cert, key] pair from hosts.toml: push and resolve work. */
	snprintf(toml, sizeof(toml), "ca = [\"%s/cert.pem\"]\nclient = [[\"%s/client.crt\", \"%s/client.key\"]]\n",
		 mtlsreg.dir, mtlsreg.dir, mtlsreg.dir);
	assert_int_equal(ctr_write_atomic(AT_FDCWD, p, toml, strlen(toml), 0644, NULL), 0);
	assert_int_equal(ctr_remote_open(&r, ref, &o, NULL), 0);
	struct blob *all[] = {&img.layer1, &img.layer2, &img.config, &img.manifest};
	struct ctr_remote_push_item it[4] = {{0}};
	for (int i = 0; i < 4; i++) {
		it[i].desc = &all[i]->desc;
		ctr_remote_source_mem(&it[i].src, &all[i]->mb);
	}
	err = NULL;
	if (ctr_remote_push(r, it, 4, &err))
		fail_msg("push with a client certificate: %s", ctr_error_message(err));
	assert_int_equal(ctr_remote_resolve(r, &d, NULL), 0);
	assert_string_equal(d.digest, img.manifest.desc.digest);
	ctr_remote_desc_clear(&d);
	ctr_remote_free(r);
	assert_int_equal(ctr_rm_rf_at(AT_FDCWD, hd, NULL), 0);
}

static int group_setup(void **state)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	make_image(&img);
	return start_registry(state);
}

static int group_teardown(void **state)
{
	free_image(&img);
	teardown_registry(state);
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_and_inspect), cmocka_unit_test(test_push_index),
		cmocka_unit_test(test_resolve),          cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_fetch_errors),     cmocka_unit_test(test_mount),
		cmocka_unit_test(test_push_bad_source),  cmocka_unit_test(test_tls),
		cmocka_unit_test(test_client_cert),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
