#!/usr/bin/env bash
# The one command that installs what is missing, builds and runs every suite:
#   1. Debian packages (apt-get) when any is missing;
#   2. a -Dwerror=true build and all its suites (unit, then integration);
#   3. an ASan+UBSan build running the unit suite, a ThreadSanitizer build
#      running the two-thread test, and a clang -Werror build;
#   4. an install into a scratch prefix and a program outside the tree built
#      with `pkg-config --cflags --libs libctr`.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

pkgs=(meson ninja-build pkg-config gcc libc6-dev
      libcurl4-openssl-dev libjansson-dev libarchive-dev libzstd-dev zlib1g-dev
      libssl-dev libseccomp-dev libsqlite3-dev libcmocka-dev libisal-dev
      runc docker-registry skopeo umoci busybox-static apache2-utils openssl
      python3 binutils util-linux curl jq zstd clang golang-go mandoc)
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
builddir=${BUILDDIR:-build-ci}
asandir=${ASANDIR:-build-ci-asan}

echo "== build ($builddir, -Dwerror=true)"
if [ -d "$builddir" ]; then meson setup --reconfigure "$builddir" -Dwerror=true >/dev/null
else meson setup "$builddir" -Dwerror=true >/dev/null; fi
ninja -C "$builddir" -j "$jobs"

echo "== unit suite"
meson test -C "$builddir" --suite unit --print-errorlogs --num-processes "$jobs"

if meson test -C "$builddir" --list 2>/dev/null | grep -q ':integration /'; then
	echo "== integration suite"
	if [ "$(id -u)" = 0 ]; then
		meson test -C "$builddir" --suite integration --print-errorlogs --num-processes 1
	else
		echo "SKIP integration suite: needs root (mounts, runc)"
	fi
fi

echo "== ASan+UBSan build ($asandir) and unit suite"
if [ -d "$asandir" ]; then meson setup --reconfigure "$asandir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
else meson setup "$asandir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null; fi
ninja -C "$asandir" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C "$asandir" --suite unit --print-errorlogs --num-processes "$jobs"

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
