#!/usr/bin/env bash
# Pull with unpack from a real docker-registry (issue "Images" Done means):
#  - the tree image (whiteouts, opaque dir, hardlinks, symlinks) pulled and
#    mounted with `lctr images mount` equals `umoci unpack` of the same image,
#    for overlayfs and native;
#  - a zstd-compressed image (skopeo --dest-compress-format zstd) gives the
#    same tree;
#  - a multi-platform index pulls the host's manifest by default and arm64
#    with --platform linux/arm64;
#  - a pull killed with SIGKILL in the middle of a layer leaves no committed
#    partial snapshot, and the next pull succeeds.
set -euo pipefail
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d)
reg=
proxy_pid=
cleanup() {
	for m in "$tmp"/mnt*; do umount -l "$m" 2>/dev/null || true; done
	# erofs layers stay mounted at <id>/lower while their layer exists
	findmnt -rn -o TARGET | grep "^$tmp/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (overlay mounts)"; exit 77; fi
export LCTR_STATE=$tmp/state

python3 "$F/mkimage.py" tree "$tmp/tree" >/dev/null
python3 "$F/mkimage.py" multiarch "$tmp/multi" >/dev/null
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
umoci unpack --image "$tmp/tree:latest" "$tmp/umoci" >/dev/null 2>&1
eval "$("$F/registry.sh" start plain --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/tree:latest" test/tree:latest >/dev/null 2>&1
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/multi:latest" test/multi:latest --all >/dev/null 2>&1
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/bb:latest >/dev/null 2>&1
# zstd: skopeo recompresses into a local layout (a registry copy would
# reuse the gzip blobs the registry already has), which is then pushed as is.
skopeo copy -q --dest-compress --dest-compress-format zstd "oci:$tmp/tree:latest" "oci:$tmp/treezst:latest" >/dev/null
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/treezst:latest" test/treezst:latest >/dev/null 2>&1
skopeo inspect --tls-verify=false --raw "docker://$REGISTRY_ADDR/test/treezst:latest" | grep -q 'tar+zstd' ||
	fail "skopeo did not push zstd layers"

for sn in overlayfs native erofs; do
	export LCTR_ROOT=$tmp/root-$sn
	for img in tree treezst; do
		ref=$REGISTRY_ADDR/test/$img:latest
		"$LCTR" images pull --plain-http --snapshotter "$sn" "$ref" >"$tmp/out"
		tail -1 "$tmp/out" | grep -Eq '^done: ' || fail "pull $img: $(tail -1 "$tmp/out")"
		"$LCTR" images check | grep -q "$ref .*complete " || fail "check $img: $("$LCTR" images check)"
		# Unpacked by the pull itself: its three layers are committed.
		[ "$("$LCTR" snapshots --snapshotter "$sn" ls | grep -c ' Committed$')" = 3 ] ||
			fail "$sn $img: $("$LCTR" snapshots --snapshotter "$sn" ls)"
		# The config keeps the top layer alive for GC in this snapshotter.
		"$LCTR" content ls | grep -q "containerd.io/gc.ref.snapshot.$sn=sha256:" ||
			fail "$sn $img: no gc.ref.snapshot.$sn label: $("$LCTR" content ls)"
		mkdir -p "$tmp/mnt-$sn-$img"
		"$LCTR" images mount --snapshotter "$sn" "$ref" "$tmp/mnt-$sn-$img" >/dev/null
		python3 "$F/treecmp.py" "$tmp/umoci/rootfs" "$tmp/mnt-$sn-$img" >"$tmp/cmp" ||
			fail "$sn $img differs from umoci: $(cat "$tmp/cmp")"
		"$LCTR" images unmount --rm --snapshotter "$sn" "$tmp/mnt-$sn-$img" >/dev/null
		# No extract snapshot is left behind.
		! "$LCTR" snapshots --snapshotter "$sn" ls | grep -q extract- || fail "extract snapshot left"
	done
done

# erofs: the layers are images that fsck.erofs accepts, and a container
# runs on them under runc, its writes going to the upper dir only.
for f in "$tmp"/root-erofs/snapshots/erofs/snapshots/*/layer.erofs; do
	fsck.erofs "$f" >/dev/null || fail "fsck.erofs refused $f"
done
export LCTR_ROOT=$tmp/root-erofs LCTR_STATE=$tmp/state-erofs
"$LCTR" images pull --plain-http --snapshotter erofs "$REGISTRY_ADDR/test/bb:latest" >/dev/null
out=$("$LCTR" run --rm --snapshotter erofs "$REGISTRY_ADDR/test/bb:latest" erofs-run \
	sh -c 'echo hi >/new && cat /new && grep -c " / overlay " /proc/mounts') || fail "run on erofs: $out"
[ "$out" = "$(printf 'hi\n1')" ] || fail "run on erofs: $out"
[ -z "$("$LCTR" c ls -q)" ] || fail "run --rm on erofs left a container"
unset LCTR_STATE

# Platforms: the host's manifest by default, arm64 when asked.
export LCTR_ROOT=$tmp/root-plat
host=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
ref=$REGISTRY_ADDR/test/multi:latest
"$LCTR" images pull --plain-http "$ref" >/dev/null
mkdir -p "$tmp/mnt-plat"
"$LCTR" images mount "$ref" "$tmp/mnt-plat" >/dev/null
if [ "$host" = amd64 ]; then
	[ -x "$tmp/mnt-plat/bin/busybox" ] || fail "default pull is not the amd64 (busybox) manifest"
fi
"$LCTR" images unmount --rm "$tmp/mnt-plat" >/dev/null
export LCTR_ROOT=$tmp/root-arm
"$LCTR" images pull --plain-http --platform linux/arm64 "$ref" >/dev/null
"$LCTR" images ls | grep -q "linux/arm64" || fail "arm64 pull: $("$LCTR" images ls)"
# The pull unpacked arm64 (not the host's manifest), and mount finds it there.
[ "$("$LCTR" snapshots ls | grep -c ' Committed$')" = 1 ] || fail "arm64 pull unpacked: $("$LCTR" snapshots ls)"
"$LCTR" images mount --platform linux/arm64 "$ref" "$tmp/mnt-plat" >/dev/null
[ "$(cat "$tmp/mnt-plat/platform.txt")" = linux/arm64 ] || fail "arm64 mount: $(ls -A "$tmp/mnt-plat")"
if [ "$host" = amd64 ]; then
	[ ! -e "$tmp/mnt-plat/bin/busybox" ] || fail "arm64 mount has the amd64 tree"
fi
[ "$("$LCTR" snapshots ls | grep -c ' Committed$')" = 1 ] || fail "mount unpacked again: $("$LCTR" snapshots ls)"
"$LCTR" images unmount --rm "$tmp/mnt-plat" >/dev/null
# Running it stays refused, with a clear error, and creates nothing.
if [ "$host" = amd64 ]; then
	set +e
	out=$("$LCTR" run --platform linux/arm64 "$ref" arm-ctr /platform.txt 2>&1); rc=$?
	set -e
	[ "$rc" = 1 ] && [[ "$out" == *"--platform linux/arm64: not supported: libctr runs this host's platform only"* ]] ||
		fail "arm64 run: $rc $out"
	[ -z "$("$LCTR" containers ls -q)" ] || fail "arm64 run left a container"
fi
# Pulled without unpacking, mount --platform unpacks arm64 itself.
export LCTR_ROOT=$tmp/root-arm2
"$LCTR" images pull --plain-http --skip-unpack --platform linux/arm64 "$ref" >/dev/null
[ -z "$("$LCTR" snapshots ls -q)" ] || fail "--skip-unpack unpacked"
"$LCTR" images mount --platform linux/arm64 "$ref" "$tmp/mnt-plat" >/dev/null
[ "$(cat "$tmp/mnt-plat/platform.txt")" = linux/arm64 ] || fail "arm64 mount after --skip-unpack"
"$LCTR" images unmount --rm "$tmp/mnt-plat" >/dev/null
# A platform the image does not have is an error, not the host's tree.
set +e
out=$("$LCTR" images mount --platform linux/s390x "$ref" "$tmp/mnt-plat" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: images mount: "* ]] || fail "s390x mount: $rc $out"
! grep -q " $tmp/mnt-plat " /proc/mounts || fail "s390x mount mounted"
export LCTR_ROOT=$tmp/root-arm
arm_layer=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .layers[0].digest' "$tmp/multi/summary.json")
"$LCTR" content get "$arm_layer" | tar -xzO platform.txt | grep -q "linux/arm64" ||
	fail "arm64 layer content"

# SIGKILL in the middle of a layer: the proxy sends 100 kB of the big layer
# and stalls; lctr is killed meanwhile.
export LCTR_ROOT=$tmp/root-kill
proxy=$(python3 "$F/faultproxy.py" serve --upstream "$REGISTRY_ADDR" --daemon --ttl 300 --owner-pid $$ \
	--pidfile "$tmp/proxy.pid" --log "$tmp/proxy.log")
proxy_pid=$(cat "$tmp/proxy.pid")
big=$(jq -r '.layers | max_by(.size) | .digest' "$tmp/tree/summary.json")
python3 "$F/faultproxy.py" add "$proxy" "{\"action\":\"drop\",\"path\":\"$big\",\"method\":\"GET\",\"after_bytes\":100000,\"stall\":30}" >/dev/null
"$LCTR" images pull --plain-http "$proxy/test/tree:latest" >"$tmp/kill.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	grep -q "\"path\": *\"[^\"]*$big" "$tmp/proxy.log" 2>/dev/null && break
	python3 -c "import json,sys,urllib.request;r=json.load(urllib.request.urlopen('http://$proxy/__fault'));sys.exit(0 if any(x.get('applied',0)>0 for x in r['rules']) else 1)" && break
	sleep 0.1
done
sleep 1
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
! grep -q '^done:' "$tmp/kill.out" || fail "the pull finished before it was killed"
grep -q "^$big downloading" "$tmp/kill.out" || fail "the big layer had not started: $(cat "$tmp/kill.out")"
if "$LCTR" snapshots ls | grep -q Committed; then
	# Layers that arrived whole may be committed; the interrupted one must not be.
	big_diff=$(jq -r ".layers[] | select(.digest==\"$big\") | .diff_id" "$tmp/tree/summary.json")
	"$LCTR" snapshots ls | grep -q "^$big_diff " && fail "the interrupted layer is committed"
fi
python3 "$F/faultproxy.py" clear "$proxy" >/dev/null
"$LCTR" images pull --plain-http "$proxy/test/tree:latest" >/dev/null || fail "pull after the kill"
# It resumed the interrupted layer with Range (the part already ingested was
# replayed to the unpacker), not from byte 0.
range=$(jq -rs "[.[] | select(.method==\"GET\" and (.path|endswith(\"$big\")))] | last | .range // \"\"" "$tmp/proxy.log")
[[ "$range" == bytes=[1-9]*- ]] || fail "the second pull did not resume the layer: range '$range'"
mkdir -p "$tmp/mnt-kill"
"$LCTR" images mount "$proxy/test/tree:latest" "$tmp/mnt-kill" >/dev/null
python3 "$F/treecmp.py" "$tmp/umoci/rootfs" "$tmp/mnt-kill" >"$tmp/cmp" || fail "after kill: $(cat "$tmp/cmp")"
"$LCTR" images unmount --rm "$tmp/mnt-kill" >/dev/null
echo "lctr pull+unpack: ok"
