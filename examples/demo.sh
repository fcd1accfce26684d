#!/usr/bin/env bash
# The main job: build libctr and lctr, then show what works today.
# (Pull and run arrive with the registry, images and tasks issues; until
# then the demo builds and drives the parts that exist.)
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${BUILDDIR:-build}
[ -d "$builddir" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" >/dev/null
lctr=$builddir/examples/lctr/lctr
tmp=$(mktemp -d /tmp/lctr-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
set -x
"$lctr" version
"$lctr" info
