#!/usr/bin/env bash
# lctr's command-line contract (CLI.md): version, info, error line shape.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
"$LCTR" version | grep -q "Version:"
"$LCTR" --version | grep -q "Version:"
"$LCTR" info | grep -q "\"root\": \"$tmp/root\""
# An unknown command: exit 2 and one "lctr: ..." line.
set +e
out=$("$LCTR" nosuchcmd 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || { echo "unknown command exit $rc"; exit 1; }
[[ "$out" == "lctr: unknown command \"nosuchcmd\"" ]] || { echo "bad error line: $out"; exit 1; }
# A bad namespace: exit 1, "lctr: <what>: <why>".
set +e
out=$("$LCTR" -n ../x info 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || { echo "bad ns exit $rc"; exit 1; }
[[ "$out" == "lctr: open client: "*"invalid namespace"* ]] || { echo "bad error line: $out"; exit 1; }
echo "lctr cli: ok"
