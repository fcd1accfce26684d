#!/usr/bin/env bash
# compile-probe.sh pass|fail HEADER CC FILE CFLAGS...: compiles FILE with a
# layer's exact include arguments. "pass": must compile. "fail": must fail,
# and fail because HEADER is not on the layer's include path.
set -uo pipefail
want=$1 header=$2 cc=$3 file=$4
shift 4
out=$("$cc" -fsyntax-only -D_GNU_SOURCE "$@" "$file" 2>&1)
rc=$?
echo "$out"
if [ "$want" = pass ]; then
	[ $rc = 0 ] && { echo "ok: $file compiles"; exit 0; }
	echo "FAIL: $file should compile with these include arguments" >&2
	exit 1
fi
if [ $rc = 0 ]; then
	echo "FAIL: $file compiled, so the layer sees $header, a higher layer's header" >&2
	exit 1
fi
if ! grep -q "$header.*No such file" <<<"$out"; then
	echo "FAIL: $file failed for another reason than $header missing" >&2
	exit 1
fi
echo "ok: $file does not compile: $header is above the layer"
