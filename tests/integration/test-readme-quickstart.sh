#!/usr/bin/env bash
# README.md's C quick start, as a newcomer would use it: the program is cut
# out of the README, built against a `meson install --destdir` tree with
# pkg-config (no build-tree paths, no $LIBCTR_SHIM: the installed library
# finds its installed shim), and run against a real registry. Its root under
# /tmp is moved into this test's scratch directory.
set -euo pipefail
# shellcheck source=examples-lib.sh
. "$(dirname "$0")/examples-lib.sh"
readme=$MESON_SOURCE_ROOT/README.md
qs=/tmp/libctr-quickstart
awk '/^## Quick start in C/ {s = 1} s && /^```c$/ {c = 1; next} c && /^```$/ {exit} c' "$readme" >"$tmp/quickstart.c"
[ -s "$tmp/quickstart.c" ] || fail "no \`\`\`c block under '## Quick start in C' in README.md"
grep -q "int main(" "$tmp/quickstart.c" || fail "the quick start has no main"
grep -qF "\"$qs\"" "$tmp/quickstart.c" || fail "the quick start does not use its own root $qs"
sed -i "s#\"$qs\"#\"$tmp/qs\"#" "$tmp/quickstart.c"
# The README's compile line is the one used here.
grep -qF 'cc quickstart.c $(pkg-config --cflags --libs libctr) -o quickstart' "$readme" ||
	fail "README.md lost the quick start's compile line"

meson install -C "$MESON_BUILD_ROOT" --no-rebuild --quiet --destdir "$tmp/inst" >/dev/null
pcdir=$(dirname "$(find "$tmp/inst" -name libctr.pc | head -1)")
libdir=$(dirname "$(find "$tmp/inst" -name 'libctr.so.0' | head -1)")
(cd "$tmp" && PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$tmp/inst \
	cc -std=c99 -Wall -Wextra -Werror quickstart.c \
	$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$tmp/inst pkg-config --cflags --libs libctr) -o quickstart)
if LD_LIBRARY_PATH=$libdir ldd "$tmp/quickstart" | grep -F "$MESON_BUILD_ROOT" >/dev/null; then fail "linked against the build tree"; fi

set +e
env -u LIBCTR_SHIM LD_LIBRARY_PATH="$libdir" "$tmp/quickstart" "$REF" --plain-http >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "quickstart exited $rc: $(cat "$tmp/out" "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
grep -qx "hello from libctr" "$tmp/out" || fail "no container output: $(cat "$tmp/out")"
grep -qx "exit status 0" "$tmp/out" || fail "no exit status: $(cat "$tmp/out")"
[ -d "$tmp/qs/root" ] && [ -d "$tmp/qs/state" ] || fail "the root and state are not where the program put them"
assert_clean
[ -z "$(LCTR_ROOT=$tmp/qs/root LCTR_STATE=$tmp/qs/state "$LCTR" containers ls -q)" ] || fail "container left"
echo "README quick start: ok"
