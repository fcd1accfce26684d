#!/usr/bin/env python3
"""A small registry stand-in for the remotes/ tests: Bearer auth with a
token endpoint that takes Basic credentials, blob redirects to another
origin ("localhost" vs "127.0.0.1"), and per-blob faults.

usage: fake-registry.py DIR PORTFILE
DIR holds blobs named by hex digest, faults.json ({hex: [fault, ...]}) and
manifest.json (served for every tag). Listens on 127.0.0.1, an ephemeral
port written to PORTFILE. GET /_log returns every request seen."""
import base64, hashlib, json, os, sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

DIR, PORTFILE = sys.argv[1], sys.argv[2]
USER, PASS, TOKEN = "alice", "s3cret", "good-token"
REFRESH = "refresh-xyz"
import time, urllib.parse
LOG, COUNT, LOCK = [], {}, threading.Lock()


def faults():
    try:
        with open(os.path.join(DIR, "faults.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def err(self, code, msg, headers=()):
        body = json.dumps({"errors": [{"code": "X", "message": msg}]}).encode()
        self.send(code, body, [("Content-Type", "application/json")] + list(headers))

    def record(self):
        with LOCK:
            LOG.append({"method": self.command, "path": self.path,
                        "host": self.headers.get("Host"),
                        "auth": self.headers.get("Authorization"),
                        "range": self.headers.get("Range"),
                        "xtest": self.headers.get("X-Test")})

    def serve_blob(self, hexd, allow_range=True):
        p = os.path.join(DIR, hexd)
        if not all(c in "0123456789abcdef" for c in hexd) or not os.path.exists(p):
            return self.err(404, "blob unknown")
        data = open(p, "rb").read()
        f = faults().get(hexd, [])
        with LOCK:
            n = COUNT[hexd] = COUNT.get(hexd, 0) + 1
        if "always503" in f:
            return self.err(503, "down")
        if "flaky503" in f and n == 1:
            return self.err(503, "try later", [("Retry-After", "0")])
        if "flaky429" in f and n == 1:
            return self.err(429, "slow down", [("Retry-After", "0")])
        rng = self.headers.get("Range")
        start = 0
        if rng and allow_range and "norange" not in f and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
        if "stall" in f:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:100])
            self.wfile.flush()
            time.sleep(4)
            self.close_connection = True
            return
        if "hidden" in f and self.path.startswith("/v2/"):
            return self.err(404, "blob unknown")
        if "cut" in f and n == 1:
            # full length announced, half sent, connection dropped
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if "corrupt" in f:
            data = bytes([data[0] ^ 1]) + data[1:]
        body = data[start:]
        if start:
            self.send(206, body, [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        else:
            self.send(200, body, [("Docker-Content-Digest", "sha256:" + hexd)])

    def authed(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        repo = self.path.split("/")[2] if self.path.count("/") > 2 else ""
        port = self.server.server_address[1]
        self.err(401, "authentication required", [("WWW-Authenticate",
                 'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:%s:pull"' % (port, repo))])
        return False

    def do_POST(self):
        self.record()
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path.split("?")[0] != "/token":
            return self.err(404, "no")
        if form.get("grant_type") == ["refresh_token"] and form.get("refresh_token") == [REFRESH] \
                and form.get("service") == ["fake"] and form.get("scope"):
            return self.send(200, json.dumps({"access_token": TOKEN, "expires_in": 300}).encode())
        return self.err(401, "bad refresh token")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        path = self.path.split("?")[0]
        if path == "/_log":
            return self.send(200, json.dumps(LOG).encode())
        if path == "/token":
            want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASS)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.err(401, "invalid username or password")
            return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        if path.startswith("/storage/"):
            return self.serve_blob(path[len("/storage/"):])
        if not path.startswith("/v2/"):
            return self.err(404, "no")
        if not self.authed():
            return
        parts = path.split("/")
        if len(parts) >= 5 and parts[-2] == "manifests" and parts[-1].startswith("sha256:"):
            # digests are not served here: only /blobs/ has them
            if "always503" in faults().get(parts[-1][7:], []):
                return self.err(503, "down")
            return self.err(404, "manifest unknown")
        if len(parts) >= 5 and parts[-2] == "manifests" and parts[-1] == "huge":
            # 5 MiB announced by HEAD; GET streams it without a length
            size = 5 * 1024 * 1024
            if self.command == "HEAD":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(size // 65536):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            self.close_connection = True
            return
        if len(parts) >= 5 and parts[-2] == "manifests" and parts[-1] == "nolen":
            # HEAD without a digest forces a GET, which has no length
            if self.command == "HEAD":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(80):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            self.close_connection = True
            return
        if len(parts) >= 5 and parts[-2] == "manifests":
            m = open(os.path.join(DIR, "manifest.json"), "rb").read()
            return self.send(200, m, [("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                                      ("Docker-Content-Digest", "sha256:" + hashlib.sha256(m).hexdigest())])
        if len(parts) >= 5 and parts[-2] == "blobs":
            hexd = parts[-1].split(":")[-1]
            if "redirect" in faults().get(hexd, []):
                port = self.server.server_address[1]
                return self.send(307, b"", [("Location", "http://localhost:%d/storage/%s" % (port, hexd))])
            return self.serve_blob(hexd)
        self.err(404, "unknown")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
tmp = PORTFILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, PORTFILE)
srv.serve_forever()
