#!/usr/bin/env bash
# The main job, end to end, with nothing but this machine:
#   1. build libctr and lctr;
#   2. make an image: a busybox root filesystem turned into a one-layer OCI
#      image (lctr images import --from-rootfs);
#   3. push it to a real docker-registry on loopback and pull it back into a
#      fresh root (when docker-registry is installed);
#   4. run a container from it through runc (needs root), and show what is
#      left afterwards: nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
builddir=${BUILDDIR:-build}
[ -d "$builddir" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" >/dev/null
lctr=$src/$builddir/examples/lctr/lctr
tmp=$(mktemp -d /tmp/lctr-demo.XXXXXX)
regdir=$tmp/registry
cleanup() {
	"$lctr" tasks rm -f demo >/dev/null 2>&1 || true
	"$lctr" containers rm demo >/dev/null 2>&1 || true
	[ -d "$regdir" ] && "$src/tests/fixtures/registry.sh" stop "$regdir" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
say() { printf '\n== %s\n' "$*"; }

say "lctr version"
"$lctr" version

say "make a busybox root filesystem and import it as an image"
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh echo cat ls id uname hostname sleep tty env; do ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
"$lctr" images import --from-rootfs "$rootfs" demo/busybox:latest
"$lctr" images ls

if command -v docker-registry >/dev/null; then
	say "push to a real docker-registry on loopback, pull into a fresh root"
	"$src/tests/fixtures/registry.sh" start plain --dir "$regdir" --ttl 600 >/dev/null
	addr=$(cat "$regdir/addr")
	"$lctr" images tag demo/busybox:latest "$addr/demo/busybox:latest"
	"$lctr" images push --plain-http "$addr/demo/busybox:latest"
	export LCTR_ROOT=$tmp/root2
	"$lctr" images pull --plain-http "$addr/demo/busybox:latest"
	"$lctr" images tag "$addr/demo/busybox:latest" demo/busybox:latest
fi

if [ "$(id -u)" = 0 ] && command -v runc >/dev/null; then
	say "run a container from it"
	"$lctr" run --rm demo/busybox:latest demo sh -c 'echo "hello from $(hostname), uid $(id -u)"; ls /'
	say "exit status is the container's"
	set +e
	"$lctr" run --rm demo/busybox:latest demo sh -c 'exit 7'
	echo "exit status: $?"
	set -e
	say "nothing left behind"
	"$lctr" containers ls
	"$lctr" tasks ls
else
	say "skip run: needs root and runc"
fi
say "done"
