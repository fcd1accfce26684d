#!/usr/bin/env python3
"""The benchmark's image layouts (tests/bench/run.sh), each made once into CACHE:

  mklayouts.py CACHE DEBIAN_TAR

  debian     one gzip layer: DEBIAN_TAR (a debootstrap minbase root)
  debsmall   the debian layer plus one of 20,000 small files (100 dirs)
  files1k, files10k, files100k   one layer of N files of 1 KiB
  layers1, layers8, layers32     N layers of 1,000 files each

Each is an OCI image layout tagged "latest" with a summary.json:
{"layers": [{"digest", "size", "diff_id"}], "files": entries in all layers}.
Deterministic: fixed mtimes, gzip without a name or time (pigz -n)."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

cache, debian_tar = sys.argv[1], sys.argv[2]


def small_tar(path, n, tag, size=1024, per_dir=200):
    if os.path.exists(path):
        return
    with tarfile.open(path + '.new', 'w', format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for i in range(n):
            d = '%s/d%04d' % (tag, i // per_dir)
            for p in (tag, d):
                if p not in dirs:
                    dirs.add(p)
                    ti = tarfile.TarInfo(p)
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    t.addfile(ti)
            data = (('%s %d ' % (tag, i)) * (size // 8 + 1)).encode()[:size]
            ti = tarfile.TarInfo('%s/f%06d' % (d, i))
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
    os.rename(path + '.new', path)


def entries(path):
    with tarfile.open(path) as t:
        return sum(1 for _ in t)


def layer(blobs, raw_path):
    """gzip raw_path into blobs; returns (descriptor, diff_id)."""
    h = hashlib.sha256()
    with open(raw_path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    tmp = os.path.join(blobs, 'tmp.gz')
    with open(raw_path, 'rb') as i, open(tmp, 'wb') as o:
        subprocess.run(['pigz', '-n', '-6', '-c'], stdin=i, stdout=o, check=True)
    g = hashlib.sha256()
    with open(tmp, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            g.update(b)
    os.rename(tmp, os.path.join(blobs, g.hexdigest()))
    return ({'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip',
             'digest': 'sha256:' + g.hexdigest(), 'size': os.path.getsize(os.path.join(blobs, g.hexdigest()))},
            'sha256:' + h.hexdigest())


def put(blobs, obj):
    b = json.dumps(obj, sort_keys=True).encode()
    d = hashlib.sha256(b).hexdigest()
    with open(os.path.join(blobs, d), 'wb') as f:
        f.write(b)
    return 'sha256:' + d, len(b)


def layout(name, raws):
    out = os.path.join(cache, name)
    if os.path.exists(os.path.join(out, 'summary.json')):
        return
    blobs = os.path.join(out, 'blobs', 'sha256')
    os.makedirs(blobs, exist_ok=True)
    descs, diff_ids, files = [], [], 0
    for r in raws:
        d, i = layer(blobs, r)
        descs.append(d)
        diff_ids.append(i)
        files += entries(r)
    cfg = {'architecture': 'amd64', 'os': 'linux',
           'config': {'Cmd': ['/bin/sh'], 'Env': ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']},
           'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}
    cd, cs = put(blobs, cfg)
    man = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
           'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cd, 'size': cs},
           'layers': descs}
    md, ms = put(blobs, man)
    with open(os.path.join(out, 'oci-layout'), 'w') as f:
        json.dump({'imageLayoutVersion': '1.0.0'}, f)
    with open(os.path.join(out, 'index.json'), 'w') as f:
        json.dump({'schemaVersion': 2, 'manifests': [
            {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': md, 'size': ms,
             'annotations': {'org.opencontainers.image.ref.name': 'latest'}}]}, f)
    with open(os.path.join(out, 'summary.json'), 'w') as f:
        json.dump({'layers': [dict(d, diff_id=i) for d, i in zip(descs, diff_ids)], 'files': files}, f)
    print('made', name, files, 'entries', file=sys.stderr)


raw = os.path.join(cache, 'raw')
os.makedirs(raw, exist_ok=True)
small_tar(os.path.join(raw, 'small20k.tar'), 20000, 'small', size=512, per_dir=100)
layout('debian', [debian_tar])
layout('debsmall', [debian_tar, os.path.join(raw, 'small20k.tar')])
for n, tag in ((1000, 'files1k'), (10000, 'files10k'), (100000, 'files100k')):
    small_tar(os.path.join(raw, tag + '.tar'), n, tag)
    layout(tag, [os.path.join(raw, tag + '.tar')])
for n in (1, 8, 32):
    parts = []
    for i in range(n):
        p = os.path.join(raw, 'layer%02d.tar' % i)
        small_tar(p, 1000, 'layer%02d' % i)
        parts.append(p)
    layout('layers%d' % n, parts)
