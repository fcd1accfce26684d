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
check_binding_run python
export LCTR_ROOT=$root LCTR_STATE=$state
[ "$("$LCTR" images ls -q)" = "$REF" ] || fail "images: $("$LCTR" images ls -q)"
cat "$tmp/out"
echo "example python: ok"
