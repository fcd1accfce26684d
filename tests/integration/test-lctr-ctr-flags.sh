#!/usr/bin/env bash
# lctr run's ctr flags against images pulled from a real docker-registry
# and real runc: --with-ns joins a namespace by path, --platform runs the
# host's manifest and refuses another clearly, --uidmap/--gidmap (with or
# without --remap-labels) run in a user namespace on a remapped snapshot;
# bad values are usage errors
# (exit 2) that create nothing. Cleans up its containers, shims and mounts.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d /tmp/lctr-flags-XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
unset CONTAINERD_NAMESPACE
reg=
L() { "$LCTR" "$@"; }
cleanup() {
	set +e
	for id in $(L c ls -q 2>/dev/null); do
		L t rm -f "$id" >/dev/null 2>&1
		L c rm "$id" >/dev/null 2>&1
	done
	for f in "$LCTR_STATE"/tasks/*/*/init/shim.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect RC 'ERROR LINE' ARGS...
expect() {
	local want=$1 line=$2; shift 2
	set +e
	err=$(L "$@" 2>&1 >/dev/null); local rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "lctr $* exited $rc, want $want ($err)"
	[ "$err" = "$line" ] || fail "lctr $*: $err, want $line"
}
state() { (cd "$tmp" && find root state -printf '%p %y %s\n' 2>/dev/null | sort); }

python3 "$F/mkimage.py" multiarch "$tmp/multi" >/dev/null
eval "$("$F/registry.sh" start --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/multi:latest" test/multi:latest --all >/dev/null 2>&1
ref=$REGISTRY_ADDR/test/multi:latest
L images pull --plain-http --all-platforms "$ref" >/dev/null
host=$(python3 -c 'import platform; m = platform.machine(); print({"x86_64": "amd64", "aarch64": "arm64"}.get(m, m))')
other=$(jq -r '.manifests[].platform.architecture' "$tmp/multi/blobs/sha256/$(jq -r '.manifests[0].digest' "$tmp/multi/index.json" | cut -d: -f2)" | grep -vx "$host" | head -1)
[ -n "$other" ] || fail "the fixture has no second architecture"

# --with-ns: joining the host's ipc namespace by path puts the process in
# it; without the flag it has one of its own.
hostns=$(readlink /proc/$$/ns/ipc)
out=$(L run --rm --with-ns "ipc:/proc/$$/ns/ipc" "$ref" withns readlink /proc/self/ns/ipc)
[ "$out" = "$hostns" ] || fail "--with-ns ipc: $out, want $hostns"
out=$(L run --rm "$ref" nons readlink /proc/self/ns/ipc)
[[ "$out" == ipc:* ]] && [ "$out" != "$hostns" ] || fail "without --with-ns: $out"
# ... and it is in the spec the container records.
L containers create --with-ns "ipc:/proc/1/ns/ipc" "$ref" specns true
L containers info --spec specns | jq -e '.linux.namespaces[] | select(.type == "ipc") | .path == "/proc/1/ns/ipc"' >/dev/null \
	|| fail "containers create --with-ns: $(L containers info --spec specns | jq -c .linux.namespaces)"
L containers rm specns

# --platform: the host's runs, another is refused before anything is made.
[ "$(L run --rm --platform "linux/$host" "$ref" plat echo hi)" = hi ] || fail "--platform linux/$host"
[ "$(L run --rm --platform linux "$ref" plat2 echo hi)" = hi ] || fail "--platform linux"
snaps=$(L snapshots ls)
expect 1 "lctr: run plat3: --platform linux/$other: not supported: libctr runs the image's linux/$host manifest (this host's) only" \
	run --rm --platform "linux/$other" "$ref" plat3 echo hi
expect 1 "lctr: run plat4: --platform linux/mips9: the image has no such platform (it has linux/$host for this host)" \
	run --platform linux/mips9 "$ref" plat4 echo hi
[ "$(L snapshots ls)" = "$snaps" ] && [ -z "$(L c ls -q)" ] || fail "a refused --platform made a snapshot or container"
# bad values: usage errors, refused before the root is opened
before=$(state)
expect 2 'lctr: --platform "linux//x": want os[/arch[/variant]], e.g. linux/amd64' run --platform linux//x "$ref" p5 true
expect 2 'lctr: --platform "Linux/AMD64": want os[/arch[/variant]], e.g. linux/amd64' run --platform Linux/AMD64 "$ref" p6 true
expect 2 'lctr: --with-ns "uts": want TYPE:PATH' run --with-ns uts "$ref" n1 true
expect 2 'lctr: --with-ns "time:/proc/1/ns/time": unknown namespace type "time" (pid, network, mount, uts, ipc, user, cgroup)' \
	run --with-ns time:/proc/1/ns/time "$ref" n2 true
expect 2 'lctr: --with-ns "net:/x": unknown namespace type "net" (pid, network, mount, uts, ipc, user, cgroup)' \
	containers create --with-ns net:/x "$ref" n3 true
expect 2 'lctr: --with-ns "uts:proc/1/ns/uts": the path must be absolute' run --with-ns uts:proc/1/ns/uts "$ref" n4 true
expect 2 'lctr: --uidmap "0:100000": want container-id:host-id:length (decimal)' \
	run --uidmap 0:100000 --gidmap 0:100000:65536 "$ref" u1 true
expect 2 'lctr: --gidmap "0:-1:5": want container-id:host-id:length (decimal)' \
	run --uidmap 0:100000:65536 --gidmap 0:-1:5 "$ref" u2 true
expect 2 'lctr: --uidmap "0:100000:65536:1": want container-id:host-id:length (decimal)' \
	containers create --uidmap 0:100000:65536:1 --gidmap 0:100000:65536 "$ref" u3 true
expect 2 'lctr: --uidmap "0:100000:0": the length must be above 0' run --uidmap 0:100000:0 "$ref" u4 true
expect 2 'lctr: --gidmap "0:4294967295:2": the range goes past 4294967295' run --gidmap 0:4294967295:2 "$ref" u5 true
expect 2 'lctr: --uidmap "0:4294967296:1": want container-id:host-id:length (decimal)' \
	run --uidmap 0:4294967296:1 "$ref" u6 true
expect 2 'lctr: run u7: --uidmap and --gidmap go together' run --uidmap 0:100000:65536 "$ref" u7 true
expect 2 'lctr: containers create u8: --remap-labels needs --uidmap and --gidmap' \
	containers create --remap-labels "$ref" u8 true
expect 2 'lctr: run u9: --uidmap and --gidmap remap an image'"'"'s snapshot, not a --rootfs directory' \
	run --rootfs --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$tmp" u9 true
[ "$(state)" = "$before" ] || fail "a refused run changed the root or state"
[ -z "$(L c ls -q)" ] || fail "containers left: $(L c ls -q)"
! grep -q " $tmp" /proc/mounts || fail "mount left: $(grep " $tmp" /proc/mounts)"
# --uidmap/--gidmap: the container's root is host uid 100000 and its
# image's files are root's inside (a remapped snapshot); --remap-labels
# gives the same through the snapshot's labels. The remapped root walks to
# its bundle through $tmp, which mktemp made 0700.
chmod 711 "$tmp"
want=$'0 0:0\n0 100000 65536'
script='echo "$(stat -c %u /bin/busybox) $(stat -c %u:%g /etc/passwd)"; tr -s " " </proc/self/uid_map | sed "s/^ //"'
out=$(L run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$ref" um1 sh -c "$script")
[ "$out" = "$want" ] || fail "--uidmap: $out, want $want"
out=$(L run --rm --remap-labels --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$ref" um2 sh -c "$script")
[ "$out" = "$want" ] || fail "--remap-labels: $out, want $want"
[ -z "$(L c ls -q)" ] || fail "containers left: $(L c ls -q)"
echo "lctr run --with-ns, --platform, --uidmap, --gidmap, --remap-labels: ok"
