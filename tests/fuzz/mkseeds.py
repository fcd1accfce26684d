#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (run once; the files are
committed). Small, valid and nearly-valid inputs for each target."""
import hashlib, io, json, os, sys, tarfile

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

# reference
for i, r in enumerate(["busybox", "docker.io/library/busybox:latest", "localhost:5000/a/b:v1",
                       "[::1]:5000/x@sha256:" + "a" * 64, "Upper/case", "a/b:c@sha256:" + "0" * 64,
                       "example.com:99999/x", "x" * 300, "ghcr.io/o/r:" + "t" * 129]):
    put("reference", "seed-%02d" % i, r)

# platform: spec line, then a JSON platform object
for i, (s, j) in enumerate([("linux/amd64", {"os": "linux", "architecture": "amd64"}),
                            ("linux/arm/v7", {"os": "linux", "architecture": "arm", "variant": "v7"}),
                            ("arm64", {"os": "linux", "architecture": "aarch64"}),
                            ("windows/amd64", {"os": "windows", "architecture": "x86_64", "os.version": "10"}),
                            ("linux/amd64/v3", {"os": "Linux", "architecture": "386"}),
                            ("darwin", {"architecture": 5})]):
    put("platform", "seed-%02d" % i, s + "\n" + json.dumps(j))

# filter
for i, f in enumerate(['name==docker.io/library/busybox:latest', 'labels."a.b"==c,name~=busy',
                       'topic~="^/tasks/"\nname!=x', 'labels.a.b', 'name~=(', 'x=="unterminated',
                       'a==b,,c==d', 'labels."quoted\\"key"~=^c$']):
    put("filter", "seed-%02d" % i, f)

# manifest: first byte picks the claimed media type
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [sha(b"a"), sha(b"b")]},
                  "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(b"l"), "size": 1}]}).encode()
idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                  "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
                                 "platform": {"os": "linux", "architecture": "amd64"}},
                                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(b"x"), "size": 3,
                                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}).encode()
put("manifest", "seed-config", b"\x00" + cfg)
put("manifest", "seed-manifest", b"\x01" + man)
put("manifest", "seed-index", b"\x02" + idx)
put("manifest", "seed-docker", b"\x03" + man.replace(b"application/vnd.oci.image.manifest.v1+json", b"application/vnd.docker.distribution.manifest.v2+json"))
put("manifest", "seed-both", b"\x00" + json.dumps({"schemaVersion": 2, "layers": [], "manifests": []}).encode())
put("manifest", "seed-schema1", b"\x05" + json.dumps({"schemaVersion": 1, "fsLayers": []}).encode())
put("manifest", "seed-deep", b"\x00" + b"[" * 200 + b"]" * 200)

# www-auth
for i, h in enumerate(['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
                       'Basic realm="x"', 'Basic realm="a", Bearer realm="b\\"c", error="invalid_token"',
                       'Bearer realm=', 'Negotiate', '{"token":"abc","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"}',
                       '{"access_token":"x"}']):
    put("www-auth", "seed-%02d" % i, h)

# hosts.toml
put("hosts", "seed-00", 'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n  ca = "ca.crt"\n  client = [["c.crt", "c.key"]]\n  [host."https://mirror.example.com".header]\n    x-custom = ["a", "b"]\n')
put("hosts", "seed-01", '[host."http://localhost:5000"]\ncapabilities = ["pull", "resolve", "push"]\noverride_path = true\n')
put("hosts", "seed-02", 'server = 5\n')
put("hosts", "seed-03", '[host."x"]\ncapabilities = ["fly"]\n')
put("hosts", "seed-04", "# comment\nserver = 'literal'\nca = [\"a\", 'b',]\n[host.\"h\"\nx=1")

# docker config.json
import base64
put("docker-config", "seed-00", json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"u:p").decode()}}}))
put("docker-config", "seed-01", json.dumps({"auths": {"example.com": {"username": "a", "password": "b"}, "localhost:5000": {"identitytoken": "t"}}}))
put("docker-config", "seed-02", json.dumps({"auths": {"example.com": {"auth": "!!!"}}}))
put("docker-config", "seed-03", json.dumps({"auths": {"[::1]:5000": {"auth": base64.b64encode(b"nocolon").decode()}}}))
put("docker-config", "seed-04", '{"auths": []}')

# tar apply: first byte = mode bits
def tar(entries, fmt=tarfile.PAX_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for e in entries:
            kind, name = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1
            data = None
            if kind == "f":
                data = e[2].encode(); ti.size = len(data); ti.mode = 0o644
            elif kind == "d":
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755
            elif kind == "l":
                ti.type = tarfile.SYMTYPE; ti.linkname = e[2]
            elif kind == "h":
                ti.type = tarfile.LNKTYPE; ti.linkname = e[2]
            elif kind == "c":
                ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3
            elif kind == "x":
                ti.size = len(e[2]); data = e[2].encode(); ti.pax_headers = e[3]
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return b.getvalue()

cases = {
    "basic": [("d", "bin"), ("f", "bin/sh", "#!x"), ("l", "bin/ln", "sh"), ("h", "bin/hard", "bin/sh")],
    "dotdot": [("f", "../victim/secret", "pwned"), ("f", "../../victim/new", "x"), ("f", "/victim/abs", "x")],
    "symlink-escape": [("l", "esc", "../victim"), ("f", "esc/secret", "pwned"), ("d", "esc/newdir")],
    "symlink-abs": [("l", "abs", "/"), ("f", "abs/victim/secret", "x"), ("l", "etc", "/etc"), ("f", "etc/passwd", "x")],
    "hardlink-escape": [("h", "h1", "../victim/secret"), ("l", "s", "../victim"), ("h", "h2", "s/secret")],
    "whiteouts": [("d", "a"), ("f", "a/x", "1"), ("f", "a/.wh.x", ""), ("f", "a/.wh..wh..opq", ""), ("f", ".wh...", ""), ("f", ".wh.", "")],
    "whiteout-escape": [("l", "w", "../victim"), ("f", "w/.wh.secret", ""), ("f", "w/.wh..wh..opq", "")],
    "device": [("c", "null"), ("c", "../victim/dev")],
    "pax": [("x", "p", "data", {"path": "../victim/paxed", "linkpath": "x"}), ("x", "q", "d", {"SCHILY.xattr.user.a": "b", "SCHILY.xattr.trusted.overlay.opaque": "y"})],
    "dir-over-link": [("l", "d", "../victim"), ("d", "d"), ("f", "d/f", "x")],
    "root-entries": [("d", "."), ("d", "/"), ("f", ".", "x")],
    "long": [("f", "a/" * 200 + "f", "x")],
}
for i, (n, ents) in enumerate(sorted(cases.items())):
    data = tar(ents)
    put("tar-apply", "seed-%s" % n, bytes([i % 4]) + data)
put("tar-apply", "seed-gnu", b"\x00" + tar([("f", "n" * 200, "x"), ("l", "s" * 150, "t" * 150)], tarfile.GNU_FORMAT))
put("tar-apply", "seed-truncated", b"\x02" + tar(cases["basic"])[:700])

# import: an OCI layout tar and a docker save tar of one tiny image
layer = tar([("f", "hello", "world")])
lcfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha(layer)]}}).encode()
lman = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(lcfg), "size": len(lcfg)},
                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer), "size": len(layer)}]}).encode()
lidx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(lman), "size": len(lman),
                   "annotations": {"org.opencontainers.image.ref.name": "docker.io/library/x:1"}, "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
def blobs(d):
    return [("f", "blobs/sha256/" + hashlib.sha256(b).hexdigest(), b.decode("latin1")) for b in d]
def rawtar(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
put("import", "seed-oci", rawtar([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", lidx)] +
                              [("blobs/sha256/" + hashlib.sha256(b).hexdigest(), b) for b in (layer, lcfg, lman)]))
put("import", "seed-docker", rawtar([("manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": ["l/layer.tar"]}]).encode()),
                                 ("cfg.json", lcfg), ("l/layer.tar", layer)]))
put("import", "seed-oci-escape", rawtar([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", lidx),
                                     ("../blobs/sha256/" + hashlib.sha256(layer).hexdigest(), layer)]))
put("import", "seed-docker-bad", rawtar([("manifest.json", b'[{"Config": "../../etc/passwd", "RepoTags": ["x:1"], "Layers": []}]')]))

# user: "USER\nPASSWD\0GROUP"
pw = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/u:/bin/sh\nbad:x:abc:0::/:/x\nbig:x:2147483648:1::/:/x\n"
gr = "root:x:0:\nwheel:x:10:user,root\nuser:x:1000:\nodd:x::user\n"
for i, u in enumerate(["root", "user", "1000", "1000:10", "user:wheel", "bad", "big", "nobody", "0:nogroup", ":", "user:", "4294967296"]):
    put("user", "seed-%02d" % i, u + "\n" + pw + "\0" + gr)

# events: first byte = filtered; journals split at form feeds
def ev(topic, ns="default", payload=None, ts=1):
    return json.dumps({"timestamp": ts, "namespace": ns, "topic": topic, "payload": payload or {}})
j1 = "\n".join([ev("/tasks/create", payload={"id": "c1"}), ev("/tasks/start", payload={"id": "c1", "pid": 7}), "garbage", ev("bad topic"), ev("/x", ns="Bad NS")]) + "\n"
j2 = ev("/tasks/exit", payload={"id": "c1", "exit_status": 0}) + "\n" + ev("/tasks/delete", payload={"id": "c1"})
put("events", "seed-00", "\x00" + j1)
put("events", "seed-01", "\x01" + j1 + "\f" + j2)
put("events", "seed-02", "\x00" + '{"timestamp":"x","namespace":1}\n' + "{" * 100 + "\n" + ev("/a") + "\n")
