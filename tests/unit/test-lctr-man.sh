#!/usr/bin/env bash
# lctr(1) documents every command (as lctr's own help lists them), every
# flag of the sources' tables, the global flags and the environment, and
# renders with no warnings.
set -euo pipefail
page=$MESON_SOURCE_ROOT/man/lctr.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
fail() { echo "FAIL: $*" >&2; exit 1; }
# roff: "\-" is "-"; "\fB" and friends go
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' "$page")
cmds() { sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" {print $1}'; }
n=0
for c in $("$LCTR" --help | cmds); do
	grep -qE "^\.SS $c( |$)" <<<"$text" || fail "lctr(1) has no section for $c"
	for s in $("$LCTR" "$c" --help | cmds); do
		grep -qE "^\.B $c $s( |$)" <<<"$text" || fail "lctr(1) does not document $c $s"
		n=$((n + 1))
	done
done
[ "$n" -gt 40 ] || fail "only $n sub-commands found in lctr's help"
flags=$(grep -ohE "\{('.'|0), \"[a-z-]+\", (no|required)_argument" "$MESON_SOURCE_ROOT"/examples/lctr/*.c |
	sed -E 's/.*"([a-z-]+)".*/\1/' | sort -u)
[ "$(wc -w <<<"$flags")" -gt 50 ] || fail "only $(wc -w <<<"$flags") flags found in the sources"
for f in $flags root state namespace debug help; do
	grep -qE -- "--$f( |$|,)" <<<"$text" || fail "lctr(1) does not document --$f"
done
for v in LCTR_ROOT LCTR_STATE CONTAINERD_NAMESPACE LCTR_PASSWORD LIBCTR_SHIM /var/lib/libctr /run/libctr; do
	grep -q -- "$v" <<<"$text" || fail "lctr(1) does not mention $v"
done
[ ! -e "$tmp/root" ] && [ ! -e "$tmp/state" ] || fail "help created the root"
if command -v man >/dev/null; then
	warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man -l warns: $warn"
fi
echo "lctr(1): ok"
