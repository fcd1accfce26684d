#!/usr/bin/env bash
# lctr images pull/push/ls/tag/rm and content fetch against a real
# docker-registry (htpasswd auth): the progress output's shape (plain lines
# when stdout is not a terminal, "done: <seconds>s" last), ctr's ls columns,
# --user with LCTR_PASSWORD, and error lines.
set -euo pipefail
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d)
reg=
cleanup() { [ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
python3 "$F/mkimage.py" multiarch "$tmp/multi" >/dev/null
eval "$("$F/registry.sh" start htpasswd --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/bb:latest >/dev/null 2>&1
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/multi:latest" test/multi:latest --all >/dev/null 2>&1
ref=$REGISTRY_ADDR/test/bb:latest
digest=$(jq -r .digest "$tmp/bb/summary.json")

# wrong password: one error line, nothing stored
set +e
out=$("$LCTR" images pull --plain-http --user "$REGISTRY_USER:nope" "$ref" 2>&1 >/dev/null); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: pull: "*"401"* ]] || fail "wrong password: $rc $out"
[ -z "$("$LCTR" images ls -q)" ] && [ -z "$("$LCTR" content ls -q)" ] || fail "stored after a 401"
# --user without a password and no LCTR_PASSWORD
set +e
out=$(env -u LCTR_PASSWORD "$LCTR" images pull --plain-http --user "$REGISTRY_USER" "$ref" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && [[ "$out" == *"LCTR_PASSWORD"* ]] || fail "--user without password: $rc $out"

# pull: plain progress lines, the last one "done: Ns"
LCTR_PASSWORD=$REGISTRY_PASS "$LCTR" images pull --plain-http --user "$REGISTRY_USER" --skip-unpack \
	--label team=a "$ref" >"$tmp/out" 2>"$tmp/err"
tail -1 "$tmp/out" | grep -Eq '^done: [0-9]+(\.[0-9]+)?s$' || fail "last line: $(tail -1 "$tmp/out")"
grep -Eq "^$digest (downloading|done) " "$tmp/out" || fail "no line for the manifest: $(cat "$tmp/out")"
layer=$(jq -r '.layers[0].digest' "$tmp/bb/summary.json")
grep -Eq "^$layer downloading .*/1\.0[0-9]* MB( [0-9.]+ [kMG]?B/s)?$" "$tmp/out" || fail "no downloading line: $(cat "$tmp/out")"
grep -Eq "^$layer done 1\.0[0-9]* MB/1\.0[0-9]* MB [0-9.]+ [kMG]?B/s$" "$tmp/out" || fail "no done line with a rate: $(cat "$tmp/out")"
[ "$(grep -c "^$layer done " "$tmp/out")" = 1 ] || fail "state lines repeat: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr with --skip-unpack: $(cat "$tmp/err")"
# on a terminal (script gives a pty): one line per blob with bytes, state
# and rate, and a total, redrawn in place with cursor-up and erase-line.
command -v script >/dev/null || fail "script (util-linux) missing"
LCTR_ROOT=$tmp/ptyroot LCTR_STATE=$tmp/ptystate script -qec \
	"'$LCTR' images pull --plain-http --user '$REGISTRY_USER:$REGISTRY_PASS' --skip-unpack '$ref'" /dev/null \
	| tr -d '\r' >"$tmp/pty"
grep -q $'\033\[K' "$tmp/pty" || fail "no erase-line on a terminal: $(cat -v "$tmp/pty")"
grep -Eq $'\033\[[0-9]+A' "$tmp/pty" || fail "no redraw (cursor up) on a terminal: $(cat -v "$tmp/pty")"
sed 's/\x1b\[[0-9]*[AK]//g' "$tmp/pty" >"$tmp/pty.txt"
grep -Eq "^$layer done 1\.0[0-9]* MB/1\.0[0-9]* MB [0-9.]+ [kMG]?B/s$" "$tmp/pty.txt" || fail "pty blob line: $(cat "$tmp/pty.txt")"
grep -Eq '^total: 1\.0[0-9]* MB/1\.0[0-9]* MB [0-9.]+ [kMG]?B/s \([0-9.]+s\)$' "$tmp/pty.txt" || fail "pty total: $(cat "$tmp/pty.txt")"
tail -1 "$tmp/pty.txt" | grep -Eq '^done: [0-9.]+s$' || fail "pty last line: $(tail -1 "$tmp/pty.txt")"
# piped output has no escapes
! grep -q $'\033' "$tmp/out" || fail "escapes in piped output: $(cat -v "$tmp/out")"
# without --skip-unpack the image is unpacked too, then "done:"
# (a pull replaces the record, labels included, as containerd's does)
"$LCTR" images pull --plain-http --user "$REGISTRY_USER:$REGISTRY_PASS" --label team=a --print-chainid "$ref" \
	>"$tmp/out" 2>"$tmp/err" || fail "pull with unpack: $(cat "$tmp/err")"
grep -q "^unpacking linux/[a-z0-9]* $digest" "$tmp/out" || fail "no unpacking line: $(cat "$tmp/out")"
grep -Eq "^image chain ID: sha256:[0-9a-f]{64}$" "$tmp/out" || fail "no chain id: $(cat "$tmp/out")"
tail -1 "$tmp/out" | grep -Eq '^done: [0-9.]+s$' || fail "last line after unpack"
"$LCTR" images check | grep "^$ref " | grep -q "complete.*true" || fail "check: $("$LCTR" images check)"

# ls: ctr's columns
"$LCTR" images ls | head -1 | grep -Eq '^REF +TYPE +DIGEST +SIZE +PLATFORMS +LABELS$' || fail "ls header"
line=$("$LCTR" images ls | grep "^$ref ")
[[ "$line" == *"application/vnd.oci.image.manifest.v1+json $digest "* ]] || fail "ls line: $line"
[[ "$line" == *"linux/"*" team=a" ]] || fail "ls platforms/labels: $line"
[ "$("$LCTR" images ls -q)" = "$ref" ] || fail "ls -q"

# tag, tag over an existing name (needs --force), rm
"$LCTR" images tag "$ref" local/bb:1 local/bb:2 >/dev/null
set +e
out=$("$LCTR" images tag "$ref" local/bb:1 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: images tag: "*"exists"* ]] || fail "tag over: $rc $out"
"$LCTR" images tag --force "$ref" local/bb:1 >/dev/null
[ "$("$LCTR" images ls -q | wc -l)" = 3 ] || fail "after tag: $("$LCTR" images ls -q)"
"$LCTR" image rm local/bb:2 >/dev/null
[ "$("$LCTR" i ls -q | wc -l)" = 2 ] || fail "after rm"
set +e
out=$("$LCTR" images rm local/none 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: images rm: "*"not found"* ]] || fail "rm missing: $rc $out"

# push the tag elsewhere; skopeo sees the same digest
"$LCTR" images push --plain-http --user "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY_ADDR/pushed/bb:v1" local/bb:1 \
	>"$tmp/out"
tail -1 "$tmp/out" | grep -Eq '^done: [0-9.]+s$' || fail "push last line"
grep -q " pushed " "$tmp/out" || fail "push lines: $(cat "$tmp/out")"
got=$("$F/registry.sh" skopeo "$REGISTRY_DIR" inspect --raw "docker://$REGISTRY_ADDR/pushed/bb:v1" | sha256sum | cut -d' ' -f1)
[ "sha256:$got" = "$digest" ] || fail "pushed digest $got"

# content fetch: every platform with --all-platforms, record created
"$LCTR" content fetch --plain-http --user "$REGISTRY_USER:$REGISTRY_PASS" --all-platforms \
	"$REGISTRY_ADDR/test/multi:latest" >"$tmp/out"
tail -1 "$tmp/out" | grep -Eq '^done: [0-9.]+s$' || fail "fetch last line"
"$LCTR" images ls | grep "^$REGISTRY_ADDR/test/multi:latest " | grep -q "linux/amd64,linux/arm64" || fail "multi ls"
for d in $(jq -r '.manifests[].layers[].digest' "$tmp/multi/summary.json"); do
	"$LCTR" content get "$d" | cmp - "$tmp/multi/blobs/sha256/${d#sha256:}" || fail "blob $d"
done
[ -z "$("$LCTR" leases ls -q 2>/dev/null || true)" ] || fail "lease left"
echo "lctr images: ok"
