#!/usr/bin/env bash
# examples/demo.sh [--plain-http] [REFERENCE]
#
# libctr from a fresh clone on a Debian machine, as root:
#   1. installs the Debian packages that are missing (apt-get update, then
#      apt-get install -y), and nothing when none is;
#   2. builds libctr, its shim and lctr (meson, ninja) in $BUILDDIR (default
#      build; an existing build directory is reused);
#   3. makes an image: with no REFERENCE, busybox-static's /bin/busybox turned
#      into a one-layer image by `lctr images import --from-rootfs` (no
#      network); with one, `lctr images pull REFERENCE` (--plain-http for a
#      registry without TLS); the image needs an `echo`;
#   4. runs `lctr run --rm IMAGE ID echo hello from libctr` and prints how
#      long the start took.
# All libctr state goes in a fresh temporary root and state directory,
# removed at the end: nothing is read from or left in /var/lib/libctr or
# /run/libctr.
set -euo pipefail
usage() { echo "usage: examples/demo.sh [--plain-http] [REFERENCE]" >&2; exit 2; }
plain=()
ref=
while [ $# -gt 0 ]; do
	case $1 in
	--plain-http) plain=(--plain-http) ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "demo.sh: unknown flag $1" >&2; usage ;;
	*) [ -z "$ref" ] || usage; ref=$1 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "demo.sh: run it as root: it installs packages, mounts the image and runs a container" >&2; exit 1; }
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*"; }

say "Debian packages"
pkgs=(meson ninja-build pkg-config gcc libc6-dev
      libcurl4-openssl-dev libjansson-dev libarchive-dev libzstd-dev zlib1g-dev
      libssl-dev libseccomp-dev libsqlite3-dev runc busybox-static)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "all installed"
fi

builddir=${BUILDDIR:-build}
say "build ($builddir)"
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dtests=disabled -Ddocs=disabled >/dev/null
ninja -C "$builddir" >/dev/null
lctr=$(cd "$builddir" && pwd)/examples/lctr/lctr
"$lctr" version

tmp=$(mktemp -d /tmp/lctr-demo.XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
id=demo-$$
cleanup() {
	"$lctr" tasks rm -f "$id" >/dev/null 2>&1 || true
	"$lctr" containers rm "$id" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$ref" ]; then
	say "make an image from busybox-static (lctr images import --from-rootfs)"
	if ldd /bin/busybox >/dev/null 2>&1; then
		echo "demo.sh: /bin/busybox is linked dynamically: install busybox-static" >&2
		exit 1
	fi
	rootfs=$tmp/rootfs
	mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
	cp /bin/busybox "$rootfs/bin/busybox"
	for a in sh echo cat ls id uname hostname sleep env; do ln -s busybox "$rootfs/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
	echo 'root:x:0:' >"$rootfs/etc/group"
	image=demo/busybox:latest
	"$lctr" images import --from-rootfs "$rootfs" "$image"
else
	say "pull $ref"
	"$lctr" images pull "${plain[@]}" "$ref"
	image=$ref
fi
"$lctr" images ls

say "lctr run --rm $image $id echo hello from libctr"
first=$tmp/first-output
t0=$(date +%s%N)
"$lctr" run --rm "$image" "$id" echo hello from libctr | while IFS= read -r line; do
	[ -s "$first" ] || date +%s%N >"$first"
	printf '%s\n' "$line"
done
t2=$(date +%s%N)
[ -s "$first" ] || { echo "demo.sh: the container printed nothing" >&2; exit 1; }
t1=$(cat "$first")
ms() { echo $((($1 - t0) / 1000000)); }
echo "start took $(ms "$t1") ms (from lctr run to the container's first output); $(ms "$t2") ms with the delete"
left=$("$lctr" containers ls -q)
echo "containers left: ${left:-none}"
say "done"
