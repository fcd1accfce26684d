#!/usr/bin/env bash
# Benchmarks against containerd 1.6 on this machine, in the same run:
#   pull: cold pull + unpack of a generated image from a docker-registry on
#         loopback (fresh root every run: `lctr images pull` against a
#         containerd started on a fresh root, `ctr images pull`);
#   run:  `lctr run --rm IMAGE id true` against `ctr run --rm`.
# Runs alternate (lctr, containerd, lctr, ...); the report is the median of
# each and their ratio. Not a test: numbers on this machine are noisy.
# Usage (root): tests/bench/bench-vs-containerd.sh [RUNS] [LAYERS] [FILES_PER_LAYER]
# With BENCH_ROOTFS=DIR (e.g. a debootstrap tree) the image is that
# directory as one gzip layer instead of the generated layers.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)
runs=${1:-5} layers=${2:-4} files=${3:-2000}
builddir=${BUILDDIR:-build}
lctr=$src/$builddir/examples/lctr/lctr
F=$src/tests/fixtures
tmp=$(mktemp -d /tmp/lctr-bench.XXXXXX)
cpid=
reg=
stop_containerd() {
	if [ -n "$cpid" ]; then
		ctr --address "$tmp/c.sock" -n bench tasks kill -s 9 b 2>/dev/null || true
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		cpid=
	fi
	umount -R "$tmp"/croot* 2>/dev/null || true
}
cleanup() {
	stop_containerd
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1 || true
	for m in $(awk -v t="$tmp" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The image: LAYERS gzip layers of FILES small files each, plus busybox.
if [ -z "${BENCH_ROOTFS:-}" ]; then
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
python3 - "$tmp" "$layers" "$files" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
tmp, nl, nf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bb = tmp + '/bb'
idx = json.load(open(bb + '/index.json'))
blob = lambda d: bb + '/blobs/sha256/' + d.split(':')[1]
man = json.load(open(blob(idx['manifests'][0]['digest'])))
cfg = json.load(open(blob(man['config']['digest'])))
for l in range(nl):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as t:
        for i in range(nf):
            data = (('layer %d file %d ' % (l, i)) * 64).encode()
            ti = tarfile.TarInfo('data%d/d%02d/f%05d' % (l, i % 50, i))
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            t.addfile(ti, io.BytesIO(data))
    rawb = raw.getvalue()
    gz = gzip.compress(rawb, mtime=0)
    d = 'sha256:' + hashlib.sha256(gz).hexdigest()
    open(blob(d), 'wb').write(gz)
    man['layers'].append({'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': d, 'size': len(gz)})
    cfg['rootfs']['diff_ids'].append('sha256:' + hashlib.sha256(rawb).hexdigest())
cb = json.dumps(cfg).encode(); cd = 'sha256:' + hashlib.sha256(cb).hexdigest(); open(blob(cd), 'wb').write(cb)
man['config'] = {'mediaType': man['config']['mediaType'], 'digest': cd, 'size': len(cb)}
mb = json.dumps(man).encode(); md = 'sha256:' + hashlib.sha256(mb).hexdigest(); open(blob(md), 'wb').write(mb)
idx['manifests'][0].update({'digest': md, 'size': len(mb)})
json.dump(idx, open(bb + '/index.json', 'w'))
PY
fi
if [ -n "${BENCH_ROOTFS:-}" ]; then
	# One layer from a real tree, made and exported by lctr itself.
	LCTR_ROOT=$tmp/mk LCTR_STATE=$tmp/mkstate "$lctr" images import --from-rootfs "$BENCH_ROOTFS" bench/img:latest >/dev/null
	LCTR_ROOT=$tmp/mk LCTR_STATE=$tmp/mkstate "$lctr" images export "$tmp/img.tar" bench/img:latest
	rm -rf "$tmp/mk" && mkdir -p "$tmp/bb" && tar -C "$tmp/bb" -xf "$tmp/img.tar"
	python3 - "$tmp/bb/index.json" <<'PY'
import json, sys
p = sys.argv[1]; i = json.load(open(p))
for m in i['manifests']:
    m.setdefault('annotations', {})['org.opencontainers.image.ref.name'] = 'latest'
json.dump(i, open(p, 'w'))
PY
	layers=1 files=$(find "$BENCH_ROOTFS" | wc -l)
fi
eval "$("$F/registry.sh" start plain --ttl 3600)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" bench/img:latest >/dev/null 2>&1
ref=$REGISTRY_ADDR/bench/img:latest

start_containerd() { # $1: root dir
	cat >"$tmp/c.toml" <<EOT
version = 2
root = "$1"
state = "$tmp/cstate"
[grpc]
  address = "$tmp/c.sock"
EOT
	containerd --config "$tmp/c.toml" >"$tmp/containerd.log" 2>&1 &
	cpid=$!
	for _ in $(seq 1 100); do ctr --address "$tmp/c.sock" version >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "containerd did not start" >&2; cat "$tmp/containerd.log" >&2; exit 1
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: >"$tmp/pull.lctr"; : >"$tmp/pull.ctr"
# Every run unpacks into a new directory and nothing is deleted until the
# end: creating inodes right after deleting thousands is slow on this
# kind of ext4 (no journal), which would tax whichever side ran next. The
# order alternates too.
pull_lctr() {
	export LCTR_ROOT=$tmp/lroot$1 LCTR_STATE=$tmp/lstate
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	t0=$(now); "$lctr" images pull --plain-http "$ref" >/dev/null; t1=$(now)
	echo "$t1 - $t0" | bc >>"$tmp/pull.lctr"
}
pull_ctr() {
	stop_containerd
	start_containerd "$tmp/croot$1"
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	t0=$(now); ctr --address "$tmp/c.sock" -n bench images pull --plain-http "$ref" >/dev/null; t1=$(now)
	echo "$t1 - $t0" | bc >>"$tmp/pull.ctr"
}
for i in $(seq 1 "$runs"); do
	if [ $((i % 2)) = 1 ]; then pull_lctr "$i"; pull_ctr "$i"; else pull_ctr "$i"; pull_lctr "$i"; fi
done

# Container start, same image, warm: containerd still runs on the last root.
: >"$tmp/run.lctr"; : >"$tmp/run.ctr"
for i in $(seq 1 "$runs"); do
	t0=$(now); "$lctr" run --rm "$ref" "b$i" true; t1=$(now)
	echo "$t1 - $t0" | bc >>"$tmp/run.lctr"
	t0=$(now); ctr --address "$tmp/c.sock" -n bench run --rm "$ref" "b$i" true; t1=$(now)
	echo "$t1 - $t0" | bc >>"$tmp/run.ctr"
done

pl=$(median <"$tmp/pull.lctr") pc=$(median <"$tmp/pull.ctr")
rl=$(median <"$tmp/run.lctr") rc=$(median <"$tmp/run.ctr")
if [ -n "${BENCH_ROOTFS:-}" ]; then
	printf 'image: %s as one layer (%s entries), %s runs each, medians\n' "$BENCH_ROOTFS" "$files" "$runs"
else
	printf 'image: %s layers x %s files + busybox, %s runs each, medians\n' "$layers" "$files" "$runs"
fi
printf 'cold pull+unpack: lctr %.3fs  containerd %.3fs  ratio lctr/containerd %.2f\n' "$pl" "$pc" "$(echo "$pl / $pc" | bc -l)"
printf 'run --rm true:    lctr %.3fs  containerd %.3fs  ratio lctr/containerd %.2f\n' "$rl" "$rc" "$(echo "$rl / $rc" | bc -l)"
