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

# On a terminal (script gives a pty), import and export show pull's live
# display: a line per blob with state, bytes and rate, and a total, redrawn
# with cursor-up and erase-line; then the images and "done: <seconds>s".
# Piped (above), their output stays the plain image lines.
layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$tmp/bb/summary.json")
pty() { script -qec "$1" /dev/null | tr -d '\r' | sed 's/\x1b\[[0-9]*[AK]//g'; }
LCTR_ROOT=$tmp/ptyroot script -qec "'$LCTR' images import --no-unpack --base-name example.com/pty '$tmp/bb.tar'" /dev/null |
	tr -d '\r' >"$tmp/pty-raw"
grep -q $'\033\[K' "$tmp/pty-raw" && grep -Eq $'\033\[[0-9]+A' "$tmp/pty-raw" ||
	{ echo "import on a terminal: no redraw: $(cat -v "$tmp/pty-raw")"; exit 1; }
sed 's/\x1b\[[0-9]*[AK]//g' "$tmp/pty-raw" >"$tmp/pty"
grep -Eq "^$layer stored 1\.0[0-9]* MB/1\.0[0-9]* MB( [0-9.]+ [kMG]?B/s)?$" "$tmp/pty" ||
	{ echo "import on a terminal: no layer line: $(cat "$tmp/pty")"; exit 1; }
grep -Eq '^total: [0-9.]+ [kM]?B/[0-9.]+ [kM]?B( [0-9.]+ [kMG]?B/s)? \([0-9.]+s\)$' "$tmp/pty" ||
	{ echo "import on a terminal: no total: $(cat "$tmp/pty")"; exit 1; }
grep -qx "example.com/pty:latest $top" "$tmp/pty" || { echo "import on a terminal: no image line: $(cat "$tmp/pty")"; exit 1; }
tail -1 "$tmp/pty" | grep -Eq '^done: [0-9.]+s$' || { echo "import on a terminal: last line $(tail -1 "$tmp/pty")"; exit 1; }
pty "'$LCTR' images export '$tmp/pty.tar' docker.io/library/bb:latest" >"$tmp/pty"
grep -Eq "^$layer written 1\.0[0-9]* MB/1\.0[0-9]* MB( [0-9.]+ [kMG]?B/s)?$" "$tmp/pty" ||
	{ echo "export on a terminal: no layer line: $(cat "$tmp/pty")"; exit 1; }
tail -1 "$tmp/pty" | grep -Eq '^done: [0-9.]+s$' || { echo "export on a terminal: last line $(tail -1 "$tmp/pty")"; exit 1; }
cmp "$tmp/pty.tar" "$tmp/out.tar" || { echo "export on a terminal wrote another tar"; exit 1; }
# the tar itself on the terminal: no display mixed into it
script -qec "'$LCTR' images export - docker.io/library/bb:latest" /dev/null >"$tmp/pty-raw"
grep -aq "blobs/sha256/${layer#sha256:}" "$tmp/pty-raw" || { echo "export - on a terminal wrote no tar"; exit 1; }
! grep -aEq "done: [0-9.]+s|$layer written" "$tmp/pty-raw" || { echo "export - on a terminal: a display in the tar"; exit 1; }

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
