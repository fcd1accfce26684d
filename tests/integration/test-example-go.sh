#!/usr/bin/env bash
# examples/go (cgo, no variadic function) built with `go build` against
# the build tree's headers and libctr.so, run against a real registry:
# pull, run, the exit status, an error's code and message, everything
# freed, nothing left behind.
# usage: test-example-go.sh LIBCTR.SO
lib=${1:?usage: test-example-go.sh LIBCTR.SO}
if ! command -v go >/dev/null; then
	echo "FAIL: go is missing: install Debian's Go with 'apt-get install golang-go' (tests/run.sh does)" >&2
	exit 1
fi
. "$(dirname "$0")/examples-lib.sh"
libdir=$(cd "$(dirname "$lib")" && pwd)
gobuild=$MESON_BUILD_ROOT/examples/go

before=$(ls -A "$MESON_SOURCE_ROOT/examples/go")
# No network and no module beyond the standard library; caches in the build tree.
( cd "$MESON_SOURCE_ROOT/examples/go" &&
  GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on GOTOOLCHAIN=local \
  GOCACHE=$gobuild/cache GOPATH=$gobuild/path CGO_ENABLED=1 \
  CGO_CFLAGS="-I$MESON_SOURCE_ROOT/include" CGO_LDFLAGS="-L$libdir -Wl,-rpath,$libdir" \
  go build -o "$gobuild/pullrun" . ) >"$tmp/build" 2>&1 || fail "go build: $(cat "$tmp/build")"
[ "$(ls -A "$MESON_SOURCE_ROOT/examples/go")" = "$before" ] ||
	fail "go build wrote into the source tree: $(ls -A "$MESON_SOURCE_ROOT/examples/go")"

"$gobuild/pullrun" -plain-http "$root" "$state" "$REF" "$MISSING_REF" >"$tmp/out" 2>"$tmp/err" ||
	fail "pullrun: $(cat "$tmp/out" "$tmp/err")"
check_binding_run go
# The binary links the build tree's library.
ldd "$gobuild/pullrun" | grep "libctr.so.0 => $libdir/" >/dev/null || fail "links: $(ldd "$gobuild/pullrun")"
cat "$tmp/out"
echo "example go: ok"
