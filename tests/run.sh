#!/usr/bin/env bash
# The one command that installs what is missing, builds and runs every suite:
#   1. Debian packages (apt-get) when any is missing;
#   2. a -Dwerror=true build and all its suites (unit, then integration);
#   3. an ASan+UBSan build running the unit and the integration suites with
#      leak detection, a ThreadSanitizer build running the two-thread test,
#      and a clang -Werror build;
#   4. a clang libFuzzer build (ASan+UBSan) running every fuzz target of
#      tests/fuzz for $FUZZ_SECONDS (default 30) s;
#   5. an install into a scratch prefix and a program outside the tree built
#      with `pkg-config --cflags --libs libctr`.
# `tests/run.sh --fuzz SECONDS` only builds the fuzz tree and runs every
# target for SECONDS.
# `tests/run.sh --soak` builds the first tree and runs the concurrency soak
# (tests/integration/test-soak.c) for its full 120 s, and nothing else; the
# integration suite runs its 20 s form.
# `tests/run.sh --bench` instead builds and runs the benchmark suite
# (tests/bench/run.sh: libctr beside containerd and podman), and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

usage="usage: tests/run.sh [--fuzz SECONDS | --bench | --soak]"
fuzz_only=
if [ "${1:-}" = --fuzz ]; then
	fuzz_only=${2:?$usage}
	case $fuzz_only in *[!0-9]* | '') echo "tests/run.sh: --fuzz wants seconds, got $fuzz_only" >&2; exit 2;; esac
elif { [ "${1:-}" = --bench ] || [ "${1:-}" = --soak ]; } && [ $# -eq 1 ]; then
	:
elif [ $# -gt 0 ]; then
	echo "$usage" >&2
	exit 2
fi

pkgs=(meson ninja-build pkg-config gcc libc6-dev
      libcurl4-openssl-dev libjansson-dev libarchive-dev libzstd-dev zlib1g-dev
      libssl-dev libseccomp-dev libsqlite3-dev libcmocka-dev libisal-dev
      runc docker-registry skopeo umoci busybox-static apache2-utils openssl
      python3 binutils util-linux curl jq zstd clang golang-go
      btrfs-progs erofs-utils criu zsh mandoc)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "tests/run.sh: packages missing and not root: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)

# The libFuzzer targets (tests/fuzz/meson.build): clang, ASan+UBSan, only
# the fuzz programs (the clang sanitizer runtime is not linked into
# libctr.so, which -Wl,--no-undefined refuses).
fuzz_tree() {
	local fuzzdir=${FUZZDIR:-build-ci-fuzz} secs=$1
	echo "== libFuzzer build ($fuzzdir) and every target for $secs s"
	local setup=(-Dwerror=true -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false
		     -Dintegration=false -Dtests=disabled)
	if [ -d "$fuzzdir" ]; then CC=clang meson setup --reconfigure "$fuzzdir" "${setup[@]}" >/dev/null
	else CC=clang meson setup "$fuzzdir" "${setup[@]}" >/dev/null; fi
	local targets=()
	for d in tests/fuzz/corpus/*/; do targets+=("tests/fuzz/fuzz-$(basename "$d")"); done
	ninja -C "$fuzzdir" -j "$jobs" "${targets[@]}"
	tests/fuzz/run-fuzz.sh "$fuzzdir" "$secs"
}
if [ -n "$fuzz_only" ]; then
	fuzz_tree "$fuzz_only"
	exit 0
fi

builddir=${BUILDDIR:-build-ci}
asandir=${ASANDIR:-build-ci-asan}

echo "== build ($builddir, -Dwerror=true)"
if [ -d "$builddir" ]; then meson setup --reconfigure "$builddir" -Dwerror=true >/dev/null
else meson setup "$builddir" -Dwerror=true >/dev/null; fi
ninja -C "$builddir" -j "$jobs"

if [ "${1:-}" = --bench ]; then
	echo "== benchmark suite"
	BUILDDIR=$builddir exec tests/bench/run.sh
fi
if [ "${1:-}" = --soak ]; then
	echo "== concurrency soak, 120 s"
	[ "$(id -u)" = 0 ] || { echo "tests/run.sh --soak: needs root (mounts, runc)" >&2; exit 1; }
	ninja -C "$builddir" -j "$jobs" tests/itest-soak
	MESON_SOURCE_ROOT=$src exec "$builddir/tests/itest-soak" 120
fi

echo "== unit suite"
meson test -C "$builddir" --suite unit --print-errorlogs --num-processes "$jobs"

# The test lists are read whole before grep: `cmd | grep -q` under pipefail
# fails when grep exits first and cmd dies of SIGPIPE, and a suite would be
# skipped without a word.
tests_list=$(meson test -C "$builddir" --list 2>/dev/null)
if grep -q ':integration /' <<<"$tests_list"; then
	echo "== integration suite"
	if [ "$(id -u)" = 0 ]; then
		meson test -C "$builddir" --suite integration --print-errorlogs --num-processes 1
	else
		echo "SKIP integration suite: needs root (mounts, runc)"
	fi
else
	echo "SKIP integration suite: not built (meson option integration=false)"
fi

echo "== ASan+UBSan build ($asandir): unit and integration suites, leaks detected"
if [ -d "$asandir" ]; then meson setup --reconfigure "$asandir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
else meson setup "$asandir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null; fi
ninja -C "$asandir" -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C "$asandir" --suite unit --print-errorlogs --num-processes "$jobs"
# The shim of this build is sanitized too (dynamic: see meson.build). Not
# here: the tests that load the sanitized libctr.so into a program built
# without ASan (python, go, an lctr installed by its own link, the README's
# quick start built with pkg-config), which ASan refuses ("runtime does not
# come first"), and `bounds`, whose RSS limits ASan's shadow memory would
# break; the first build runs them.
asan_list=$(meson test -C "$asandir" --list 2>/dev/null)
if grep -q ':integration /' <<<"$asan_list"; then
	if [ "$(id -u)" = 0 ]; then
		mapfile -t asan_itests < <(sed -n 's|^libctr:integration / ||p' <<<"$asan_list" |
			grep -vxE 'example-go|example-python|shim-found|readme-quickstart|bounds')
		meson test -C "$asandir" --print-errorlogs --num-processes 1 "${asan_itests[@]}"
	else
		echo "SKIP ASan integration suite: needs root (mounts, runc)"
	fi
else
	echo "SKIP ASan integration suite: not built (meson option integration=false)"
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== ThreadSanitizer build: two threads on one client"
# Only what the two-thread test needs: the test and the shim (not static
# under a sanitizer, see meson.build). Any report fails (halt_on_error).
tsandir=${TSANDIR:-build-ci-tsan}
if [ -d "$tsandir" ]; then meson setup --reconfigure "$tsandir" -Dwerror=true -Db_sanitize=thread -Db_lundef=false >/dev/null
else meson setup "$tsandir" -Dwerror=true -Db_sanitize=thread -Db_lundef=false >/dev/null; fi
ninja -C "$tsandir" -j "$jobs" tests/itest-threads libctr-shim
if [ "$(id -u)" = 0 ]; then
	TSAN_OPTIONS=halt_on_error=1 meson test -C "$tsandir" --no-rebuild --print-errorlogs threads
else
	echo "SKIP ThreadSanitizer test: needs root (mounts, runc)"
fi

echo "== clang build (-Dwerror=true)"
clangdir=${CLANGDIR:-build-ci-clang}
if [ -d "$clangdir" ]; then CC=clang meson setup --reconfigure "$clangdir" -Dwerror=true >/dev/null
else CC=clang meson setup "$clangdir" -Dwerror=true >/dev/null; fi
ninja -C "$clangdir" -j "$jobs"

fuzz_tree "${FUZZ_SECONDS:-30}"

echo "== install and build a program outside the tree with pkg-config"
prefix=$(mktemp -d /tmp/libctr-prefix.XXXXXX)
ext=$(mktemp -d /tmp/libctr-ext.XXXXXX)
trap 'rm -rf "$prefix" "$ext"' EXIT
meson install -C "$builddir" --destdir "$prefix" >/dev/null
inst=$prefix/usr/local
pcdir=$(dirname "$(find "$inst" -name libctr.pc | head -1)")
cp tests/external/hello.c "$ext/"
( cd "$ext" && PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$prefix \
	cc -std=c99 -Wall -Wextra -Werror -o hello hello.c $(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$prefix pkg-config --cflags --libs libctr) )
LD_LIBRARY_PATH=$(dirname "$(find "$inst" -name 'libctr.so.0' | head -1)") "$ext/hello" "$ext/root" "$ext/state"
echo "all suites passed"
