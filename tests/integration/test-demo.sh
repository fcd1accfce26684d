#!/usr/bin/env bash
# examples/demo.sh as a newcomer runs it, with no libctr state and no
# LCTR_ROOT, LCTR_STATE or LIBCTR_SHIM: it is given this build directory (a
# fresh build takes minutes; ninja finds nothing to do), installs nothing (every
# package is there); with no argument it makes an image from busybox-static
# and runs it, all inside a
# network namespace of its own, so any network use would fail; then it pulls
# a reference from a real registry and runs that. Each run prints the
# container's line and how long the start took, leaves no container, and
# creates nothing in /var/lib/libctr or /run/libctr.
set -euo pipefail
# shellcheck source=examples-lib.sh
. "$(dirname "$0")/examples-lib.sh"
command -v unshare >/dev/null || { echo "skip: needs unshare (util-linux)"; exit 77; }
before=$(ls -d /var/lib/libctr /run/libctr 2>/dev/null || true)
check_run() {
	local out=$1
	grep -qx "hello from libctr" "$out" || fail "no container output: $(cat "$out")"
	grep -Eqx "start took [0-9]+ ms \(from lctr run to the container's first output\); [0-9]+ ms with the delete" "$out" ||
		fail "no start time: $(cat "$out")"
	grep -qx "containers left: none" "$out" || fail "containers left: $(cat "$out")"
	grep -qx "all installed" "$out" || fail "it installed packages: $(cat "$out")"
	[ -z "$(ls /tmp/lctr-demo.* -d 2>/dev/null | grep -v -F -f "$tmp/demo-dirs-before" || true)" ] ||
		fail "scratch directory left: $(ls -d /tmp/lctr-demo.*)"
	[ "$(ls -d /var/lib/libctr /run/libctr 2>/dev/null || true)" = "$before" ] || fail "default root or state created"
	assert_clean
}
ls -d /tmp/lctr-demo.* 2>/dev/null >"$tmp/demo-dirs-before" || true
echo "$tmp/none" >>"$tmp/demo-dirs-before"

set +e
env -u LIBCTR_SHIM -u LCTR_ROOT -u LCTR_STATE BUILDDIR="$MESON_BUILD_ROOT" \
	unshare --net "$MESON_SOURCE_ROOT/examples/demo.sh" >"$tmp/out1" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || fail "demo.sh (no network) exited $rc: $(cat "$tmp/out1")"
grep -q "import --from-rootfs" "$tmp/out1" || fail "no import: $(cat "$tmp/out1")"
check_run "$tmp/out1"

set +e
env -u LIBCTR_SHIM -u LCTR_ROOT -u LCTR_STATE BUILDDIR="$MESON_BUILD_ROOT" \
	"$MESON_SOURCE_ROOT/examples/demo.sh" --plain-http "$REF" >"$tmp/out2" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || fail "demo.sh $REF exited $rc: $(cat "$tmp/out2")"
grep -qx "== pull $REF" "$tmp/out2" || fail "no pull: $(cat "$tmp/out2")"
check_run "$tmp/out2"

set +e
"$MESON_SOURCE_ROOT/examples/demo.sh" --bogus >"$tmp/out3" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "demo.sh --bogus exited $rc, not 2"
echo "demo: ok"
