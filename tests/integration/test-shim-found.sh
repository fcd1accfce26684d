#!/usr/bin/env bash
# The shim is found with no $LIBCTR_SHIM: a build-tree lctr runs a
# container with the shim built beside the library, and lctr built outside
# the tree against a `meson install --destdir` tree (pkg-config) runs one
# with the destdir's shim. Without it, the error names every path tried.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
unset LIBCTR_SHIM
tmp=$(mktemp -d /tmp/lctr-shim-XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
cleanup() {
	set +e
	for f in "$LCTR_STATE"/tasks/*/*/init/shim.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

R=$tmp/rootfs
mkdir -p "$R"/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$R/bin/"
ln -s busybox "$R/bin/sh"

# The build tree's lctr.
out=$("$LCTR" run --rm --rootfs "$R" build-tree sh -c 'echo from-build-tree; exit 3') && rc=0 || rc=$?
[ "$rc" = 3 ] && [ "$out" = from-build-tree ] || fail "build-tree lctr: rc=$rc out=$out"

# lctr's sources built against a --destdir install, the way a user's
# program is: headers and library from the install, found by pkg-config.
dest=$tmp/dest
meson install -C "$MESON_BUILD_ROOT" --destdir "$dest" --no-rebuild --quiet >/dev/null
pc=$(find "$dest" -name libctr.pc | head -1)
lib=$(dirname "$(find "$dest" -name 'libctr.so.0' | head -1)")
shim=$(find "$dest" -name libctr-shim -type f | head -1)
[ -n "$pc" ] && [ -n "$lib" ] && [ -n "$shim" ] || fail "install: pc=$pc lib=$lib shim=$shim"
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
# shellcheck disable=SC2046
cc -std=gnu11 -D_GNU_SOURCE -o "$tmp/lctr" "$MESON_SOURCE_ROOT"/examples/lctr/*.c \
	$(pkg-config --cflags --libs libctr) $(pkg-config --cflags --libs jansson libcrypto) -pthread -lm
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
ext() { LD_LIBRARY_PATH=$lib "$tmp/lctr" "$@"; }
# it is the installed library that it loads
LD_LIBRARY_PATH=$lib ldd "$tmp/lctr" | grep "libctr.so.0 => $lib/libctr.so.0" >/dev/null || fail "ldd: $(LD_LIBRARY_PATH=$lib ldd "$tmp/lctr")"
out=$(ext run --rm --rootfs "$R" destdir sh -c 'echo from-destdir; exit 4') && rc=0 || rc=$?
[ "$rc" = 4 ] && [ "$out" = from-destdir ] || fail "destdir lctr: rc=$rc out=$out"

# Without the destdir's shim: one line naming every path tried, the
# destdir's and the configured one, and nothing left behind.
mv "$shim" "$shim.away"
err=$(ext run --rm --rootfs "$R" noshim true 2>&1) && rc=0 || rc=$?
mv "$shim.away" "$shim"
[ "$rc" = 1 ] || fail "missing shim: rc=$rc: $err"
[ "$(wc -l <<<"$err")" = 1 ] || fail "missing shim: not one line: $err"
real=$(realpath "$lib")
[[ "$err" == "lctr: run noshim: "*"libctr-shim not found (tried $real/"*"libexec/libctr-shim, "*"/libctr-shim;"* ]] ||
	fail "missing shim: $err"
[ -z "$(ext c ls -q)" ] || fail "missing shim left a container: $(ext c ls -q)"
echo "shim found: ok"
