#!/usr/bin/env bash
# lctr run's ctr flags against images pulled from a real docker-registry
# and real runc: --with-ns joins a namespace by path, --platform runs the
# host's manifest and refuses another clearly; bad values are usage errors
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
[ "$(state)" = "$before" ] || fail "a refused run changed the root or state"
[ -z "$(L c ls -q)" ] || fail "containers left: $(L c ls -q)"
! grep -q " $tmp" /proc/mounts || fail "mount left: $(grep " $tmp" /proc/mounts)"
echo "lctr run --with-ns, --platform: ok"
