#!/usr/bin/env bash
# examples/python (ctypes over the array-of-options API) against a real
# registry: pull, run, the exit status, a CtrError with code and message
# for a missing tag, every object freed, nothing left behind.
# usage: test-example-python.sh LIBCTR.SO
export PYTHONDONTWRITEBYTECODE=1
export LIBCTR_LIBRARY=${1:?usage: test-example-python.sh LIBCTR.SO}
. "$(dirname "$0")/examples-lib.sh"
py=$MESON_SOURCE_ROOT/examples/python/pull_run.py

python3 "$py" --plain-http "$root" "$state" "$REF" "$MISSING_REF" >"$tmp/out" 2>"$tmp/err" ||
	fail "pull_run.py: $(cat "$tmp/out" "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
grep -qx "libctr [0-9]*\.[0-9]*\.[0-9]*" "$tmp/out" || fail "version: $(cat "$tmp/out")"
grep -qx "pulled $REF (sha256:[0-9a-f]\{64\})" "$tmp/out" || fail "pulled: $(cat "$tmp/out")"
grep -qx "hello from python" "$tmp/out" || fail "container output: $(cat "$tmp/out")"
grep -qx "exit status: 3" "$tmp/out" || fail "exit status: $(cat "$tmp/out")"
grep -Eqx "error code -1 \(not found\): .*no-such-tag.*not found.*" "$tmp/out" || fail "error: $(cat "$tmp/out")"
grep -qx "objects not freed: 0" "$tmp/out" || fail "leak: $(cat "$tmp/out")"
assert_clean
export LCTR_ROOT=$root LCTR_STATE=$state
[ -z "$("$LCTR" containers ls -q)" ] || fail "container left"
[ "$("$LCTR" images ls -q)" = "$REF" ] || fail "images: $("$LCTR" images ls -q)"
cat "$tmp/out"
echo "example python: ok"
