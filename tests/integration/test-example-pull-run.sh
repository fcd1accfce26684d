#!/usr/bin/env bash
# examples/pull-run against a real registry: the container's output and
# exit status, a command given on the command line, and nothing left
# behind (container, snapshot, mounts, shims).
# usage: test-example-pull-run.sh PULL-RUN
EX=${1:?usage: test-example-pull-run.sh PULL-RUN}
. "$(dirname "$0")/examples-lib.sh"

# The image's own cmd is /bin/sh: with stdin at EOF it exits 0.
"$EX" --plain-http "$root" "$state" "$REF" </dev/null >"$tmp/out" 2>"$tmp/err" || fail "default cmd: $(cat "$tmp/err")"
grep -q "^pulled $REF (sha256:[0-9a-f]*)$" "$tmp/out" || fail "no pulled line: $(cat "$tmp/out")"
[ "$(tail -1 "$tmp/out")" = "exit status: 0" ] || fail "default cmd: $(cat "$tmp/out")"
assert_clean

# A command: its output reaches our stdout, its status is printed.
"$EX" --plain-http "$root" "$state" "$REF" /bin/sh -c 'echo hello from busybox; exit 7' \
	>"$tmp/out" 2>"$tmp/err" || fail "command: $(cat "$tmp/err")"
grep -qx "hello from busybox" "$tmp/out" || fail "no output: $(cat "$tmp/out")"
[ "$(tail -1 "$tmp/out")" = "exit status: 7" ] || fail "status: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
assert_clean
# The container and its snapshot are gone; the image and its layer stay.
[ -z "$(LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" containers ls -q)" ] || fail "container left"
snaps=$(LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" snapshots ls | tail -n +2 | wc -l)
[ "$snaps" = 1 ] || fail "snapshots: $(LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" snapshots ls)"

# Errors: without --plain-http the TLS handshake fails, exit 1, one line.
set +e
"$EX" "$root" "$state" "$REF" true >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "^pull-run: pull: " "$tmp/err" || fail "https to a plain registry: $rc $(cat "$tmp/err")"
set +e
"$EX" "$root" "$state" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^usage: pull-run" "$tmp/err" || fail "usage: $rc"
assert_clean
echo "example pull-run: ok"
