#!/usr/bin/env bash
# lctr's command-line contract (lctr(1)): version, info, error line shape.
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
[[ "$out" == "lctr: unknown command \"nosuchcmd\" (see lctr --help)" ]] || { echo "bad error line: $out"; exit 1; }
# A bad namespace: exit 1, "lctr: <what>: <why>".
set +e
out=$("$LCTR" -n ../x info 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || { echo "bad ns exit $rc"; exit 1; }
[[ "$out" == "lctr: open client: "*"invalid namespace"* ]] || { echo "bad error line: $out"; exit 1; }
# Completion scripts: valid bash that completes commands and sub-commands
# (test-lctr-completion.sh has the rest); the script runs lctr from PATH.
PATH=$(dirname "$LCTR"):$PATH
"$LCTR" completion bash >"$tmp/c.bash"
bash -n "$tmp/c.bash"
got=$(bash -c 'source "$1"; COMP_WORDS=(lctr ima); COMP_CWORD=1; _lctr; echo "${COMPREPLY[*]}"' _ "$tmp/c.bash")
[ "$got" = "images" ] || { echo "bash completion: $got"; exit 1; }
got=$(bash -c 'source "$1"; COMP_WORDS=(lctr -n x tasks pa); COMP_CWORD=4; _lctr; echo "${COMPREPLY[*]}"' _ "$tmp/c.bash")
[ "$got" = "pause" ] || { echo "bash sub-command completion: $got"; exit 1; }
"$LCTR" completion zsh | head -1 | grep -qx '#compdef lctr'
set +e
"$LCTR" completion fish >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || { echo "completion fish: $rc"; exit 1; }
echo "lctr cli: ok"
