#!/usr/bin/env python3
"""Serves hand-made manifests as a registry would, for the bad-manifest
tests of test-pull.c (a real registry refuses to store most of them).

usage: manifest-server.py DIR ADDRFILE OWNER_PID
DIR/manifests/<tag> is served for /v2/<any repo>/manifests/<tag> and, by
digest, for /manifests/sha256:<hex>; DIR/manifests/<tag>.type holds its
media type. DIR/blobs/<hex> for /blobs/sha256:<hex>. Listens on 127.0.0.1
(port written to ADDRFILE) and exits when OWNER_PID is gone or after 600 s."""
import hashlib, os, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

DIR, ADDRFILE, OWNER = sys.argv[1], sys.argv[2], int(sys.argv[3])


def load_manifests():
    out = {}
    mdir = os.path.join(DIR, "manifests")
    for name in os.listdir(mdir):
        if name.endswith(".type"):
            continue
        data = open(os.path.join(mdir, name), "rb").read()
        mt = open(os.path.join(mdir, name + ".type")).read().strip()
        dg = "sha256:" + hashlib.sha256(data).hexdigest()
        out[name] = out[dg] = (data, mt, dg)
    return out


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

    def do_GET(self):
        p = self.path.split("?")[0]
        if p in ("/v2/", "/v2"):
            return self.send(200, b"{}", [("Content-Type", "application/json")])
        if "/manifests/" in p:
            m = load_manifests().get(p.rsplit("/manifests/", 1)[1])
            if not m:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')
            return self.send(200, m[0], [("Content-Type", m[1]), ("Docker-Content-Digest", m[2])])
        if "/blobs/sha256:" in p:
            f = os.path.join(DIR, "blobs", p.rsplit(":", 1)[1])
            if os.path.isfile(f):
                return self.send(200, open(f, "rb").read(), [("Content-Type", "application/octet-stream")])
        return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}')

    do_HEAD = do_GET


def watchdog():
    start = time.time()
    while time.time() - start < 600:
        try:
            os.kill(OWNER, 0)
        except OSError:
            break
        time.sleep(0.5)
    os._exit(0)


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(ADDRFILE + ".tmp", "w") as f:
    f.write("127.0.0.1:%d\n" % srv.server_address[1])
os.rename(ADDRFILE + ".tmp", ADDRFILE)
threading.Thread(target=watchdog, daemon=True).start()
srv.serve_forever()
