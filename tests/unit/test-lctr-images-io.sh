#!/usr/bin/env bash
# lctr images import/export: file and stdin, platforms, names, export to a file and to
# stdout, --from-rootfs; errors keep the one-line shape and write nothing.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
L() { "$LCTR" images "$@"; }
mk=$MESON_SOURCE_ROOT/tests/fixtures/mkimage.py
python3 "$mk" busybox "$tmp/bb" >/dev/null
python3 "$mk" multiarch "$tmp/ma" >/dev/null
tar -C "$tmp/bb" -cf "$tmp/bb.tar" oci-layout index.json blobs
tar -C "$tmp/ma" -cf "$tmp/ma.tar" oci-layout index.json blobs
top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$tmp/bb/index.json")

# --no-unpack imports without snapshots; the default unpacks (as ctr).
L import --no-unpack --base-name example.com/nounpack "$tmp/bb.tar" >/dev/null
[ "$("$LCTR" snapshots ls | wc -l)" = 1 ] || { echo "--no-unpack made snapshots"; exit 1; }
# ctr's default prefix for bare tags: import-<date>.
out=$(L import "$tmp/bb.tar")
[ "$out" = "import-$(date +%Y-%m-%d):latest $top" ] || { echo "default name: $out"; exit 1; }
"$LCTR" snapshots ls | grep -q ' Committed$' || { echo "import did not unpack"; exit 1; }
L check | grep -q "^import-$(date +%Y-%m-%d):latest .* true$" || { echo "check: $(L check)"; exit 1; }
# From stdin, with --base-name, --digests and --index-name.
out=$(L import --base-name docker.io/library/bb --digests --index-name bb-index - < "$tmp/bb.tar")
grep -qx "docker.io/library/bb:latest $top" <<<"$out"
grep -qx "docker.io/library/bb@$top $top" <<<"$out"
grep -q "^bb-index sha256:" <<<"$out"
# Platforms.
[[ "$(L import --base-name docker.io/library/ma --platform linux/arm64 "$tmp/ma.tar")" == "docker.io/library/ma:latest sha256:"* ]]
L import --base-name docker.io/library/ma --all-platforms "$tmp/ma.tar" >/dev/null

# Export to a file and to stdout: an OCI layout with docker's manifest.json.
L export "$tmp/out.tar" docker.io/library/bb:latest
tar -tf "$tmp/out.tar" | sort > "$tmp/list"
grep -qx 'oci-layout' "$tmp/list"
grep -qx 'index.json' "$tmp/list"
grep -qx 'manifest.json' "$tmp/list"
grep -qx "blobs/sha256/${top#sha256:}" "$tmp/list"
L export - docker.io/library/bb:latest > "$tmp/stdout.tar"
cmp "$tmp/stdout.tar" "$tmp/out.tar"
tar -xOf "$tmp/out.tar" index.json | grep '"io.containerd.image.name":"docker.io/library/bb:latest"' >/dev/null
L export --skip-manifest-json - docker.io/library/bb:latest > "$tmp/nm.tar"
[ "$(tar -tf "$tmp/nm.tar" | grep -cx manifest.json)" = 0 ]
L export --platform linux/arm64 - docker.io/library/ma:latest > "$tmp/ma-out.tar"
[ "$(tar -tf "$tmp/ma-out.tar" | grep -cx manifest.json)" = 1 ]
# And back in: io.containerd.image.name is taken as it is (containerd's
# imageName), whatever the base name.
out=$(L import --base-name docker.io/library/again "$tmp/out.tar")
[ "$out" = "docker.io/library/bb:latest $top" ] || { echo "reimport: $out"; exit 1; }
# A bare OCI ref name goes under the base name.
[ "$(L import --base-name example.com/x "$tmp/bb.tar")" = "example.com/x:latest $top" ]

# Errors: one line, exit 1, no file left behind.
set +e
out=$(L export "$tmp/none.tar" docker.io/library/nope:1 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: images export: "*"not found"* ]] || { echo "export missing: $rc $out"; exit 1; }
[ ! -e "$tmp/none.tar" ]
set +e
out=$(printf 'not a tar' | L import - 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: images import: "* ]] && [ "$(wc -l <<<"$out")" = 1 ] || { echo "bad tar: $rc $out"; exit 1; }

# --from-rootfs: a one-layer image of a directory.
mkdir -p "$tmp/rootfs/etc" && echo hi > "$tmp/rootfs/etc/hi" && ln -s etc/hi "$tmp/rootfs/link"
out=$(L import --from-rootfs "$tmp/rootfs" docker.io/library/mine:1)
[[ "$out" == "docker.io/library/mine:1 sha256:"* ]] || { echo "rootfs: $out"; exit 1; }
L export - docker.io/library/mine:1 > "$tmp/mine.tar"
[ "$(tar -tf "$tmp/mine.tar" | grep -cx manifest.json)" = 1 ]
echo "lctr images import/export: ok"
