#!/usr/bin/env bash
# ctr's commands that lctr adds for parity (lctr(1)): images label, oci spec,
# snapshots diff and unpack; their output and exit status, and bad input
# refused with the exact error, exit 2 and nothing changed in the root.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
unset CONTAINERD_NAMESPACE
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_fail RC ARGS...: the error line lands in $err.
expect_fail() {
	local want=$1; shift
	set +e
	err=$("$LCTR" "$@" 2>&1 >/dev/null); local rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "lctr $* exited $rc, want $want ($err)"
}
# Every file of the root with its content: equal before and after a refusal.
tree() { (cd "$LCTR_ROOT" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }

python3 "$MESON_SOURCE_ROOT/tests/fixtures/mkimage.py" busybox "$tmp/bb" >/dev/null
tar -C "$tmp/bb" -cf "$tmp/bb.tar" oci-layout index.json blobs
"$LCTR" images import --no-unpack --base-name example.com/bb "$tmp/bb.tar" >/dev/null
img=example.com/bb:latest
top=$("$LCTR" images ls | awk -v i=$img '$1 == i {print $3}')
[[ "$top" == sha256:* ]] || fail "no target digest: $("$LCTR" images ls)"

# images label: set, K alone and K= remove, -r replaces all, no labels prints -.
[ "$("$LCTR" images label $img a=1 b=2 c=3)" = "a=1,b=2,c=3" ] || fail "label set"
[ "$("$LCTR" images label $img b c=)" = "a=1" ] || fail "label remove"
[ "$("$LCTR" images label --replace-all $img z=9 y=8)" = "y=8,z=9" ] || fail "label -r"
[ "$("$LCTR" images label $img)" = "y=8,z=9" ] || fail "label print"
"$LCTR" images ls labels.z==9 | grep -q "^$img " || fail "ls by the new label"
[ "$("$LCTR" images label -r $img)" = "-" ] || fail "label -r with none"
before=$(tree)
expect_fail 2 images label $img =v
[ "$err" = 'lctr: images label: invalid label "=v": want KEY=VALUE' ] || fail "label =v: $err"
expect_fail 2 images label --bogus $img a=1
[ "$err" = 'lctr: images label: unknown flag --bogus (see lctr images label --help)' ] || fail "label flag: $err"
expect_fail 2 images label
[[ "$err" == 'lctr: images label: missing argument (usage: '* ]] || fail "label no ref: $err"
expect_fail 1 images label nosuch:1 a=1
[ "$err" = 'lctr: images label nosuch:1: image "nosuch:1": not found' ] || fail "label missing: $err"
[ "$(tree)" = "$before" ] || fail "a refused images label changed the root"

# oci spec: containerd's default spec, indented by 4, cgroupsPath /<ns>;
# it opens no root.
rm -rf "$tmp/noroot"
spec=$(LCTR_ROOT=$tmp/noroot LCTR_STATE=$tmp/nostate "$LCTR" -n other oci spec)
python3 - "$spec" <<'PY' || fail "oci spec: $spec"
import json, sys
text = sys.argv[1]
s = json.loads(text)
assert text.startswith('{\n    "ociVersion": "1.'), text[:40]
assert not s["process"].get("args"), s["process"]
assert s["root"]["path"] == "rootfs", s["root"]
assert s["linux"]["cgroupsPath"] == "/other", s["linux"]["cgroupsPath"]
assert [m["destination"] for m in s["mounts"]][:3] == ["/proc", "/dev", "/dev/pts"], s["mounts"]
assert {n["type"] for n in s["linux"]["namespaces"]} == {"pid", "ipc", "uts", "mount", "network"}
assert "CAP_NET_RAW" in s["process"]["capabilities"]["bounding"]
PY
[ ! -e "$tmp/noroot" ] && [ ! -e "$tmp/nostate" ] || fail "oci spec created the root"
expect_fail 2 oci spec extra
[ "$err" = 'lctr: oci spec: unexpected argument "extra" (usage: lctr oci spec)' ] || fail "oci spec arg: $err"
expect_fail 2 oci nosuch
[ "$err" = 'lctr: oci: unknown command "nosuch" (see lctr oci --help)' ] || fail "oci cmd: $err"

# snapshots unpack DIGEST: the image whose target is DIGEST, in the given
# snapshotter; then diff of an active snapshot on it (native: no mounts).
S() { "$LCTR" snapshots --snapshotter native "$@"; }
before=$(tree)
expect_fail 2 snapshots unpack sha256:xyz
[ "$err" = 'lctr: snapshots unpack: invalid digest "sha256:xyz" (want sha256:<64 hex>)' ] || fail "unpack bad: $err"
expect_fail 2 snapshots unpack ../../etc
[ "$err" = 'lctr: snapshots unpack: invalid digest "../../etc" (want sha256:<64 hex>)' ] || fail "unpack path: $err"
[ "$(tree)" = "$before" ] || fail "a refused unpack changed the root"
zero=sha256:$(printf '0%.0s' $(seq 64))
expect_fail 1 snapshots unpack "$zero"
[ "$err" = "lctr: snapshots unpack: manifest $zero: not found (no image has it as its target)" ] || fail "unpack missing: $err"
out=$(S unpack "$top")
[ "$out" = "unpacking $top (application/vnd.oci.image.manifest.v1+json)...done" ] || fail "unpack printed: $out"
chain=$(S ls | awk '$NF == "Committed" {print $1}')
[[ "$chain" == sha256:* ]] || fail "unpack made no committed snapshot: $(S ls)"
[ "$("$LCTR" snapshots ls | wc -l)" = 1 ] || fail "unpack into native touched overlayfs"

S prepare work "$chain"
dir=$(S mounts /x work | awk '{print $4}')
[ -d "$dir/bin" ] || fail "native snapshot dir $dir"
echo hello >"$dir/newfile"
rm "$dir/bin/sh"
S diff work >"$tmp/layer.tgz"
tar -tzf "$tmp/layer.tgz" | sort >"$tmp/list"
grep -qx newfile "$tmp/list" || fail "diff lacks newfile: $(cat "$tmp/list")"
grep -qx bin/.wh.sh "$tmp/list" || fail "diff lacks the whiteout: $(cat "$tmp/list")"
[ "$(tar -xzOf "$tmp/layer.tgz" newfile)" = hello ] || fail "diff content"
blob=sha256:$(sha256sum "$tmp/layer.tgz" | cut -d' ' -f1)
"$LCTR" content ls | grep -q "^$blob .*containerd.io/uncompressed=sha256:" || fail "diff blob not stored: $("$LCTR" content ls)"
# --keep labels it gc.root, --label adds one; uncompressed is ...layer.v1.tar
S diff --keep --label team=a work >/dev/null
"$LCTR" content ls | grep -Eq "^$blob .*containerd.io/gc.root=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z.*team=a" \
	|| fail "diff --keep/--label: $("$LCTR" content ls | grep "$blob")"
S diff --media-type application/vnd.oci.image.layer.v1.tar work >"$tmp/layer.tar"
tar -tf "$tmp/layer.tar" | grep -qx newfile || fail "uncompressed diff"
before=$(tree)
expect_fail 2 snapshots --snapshotter native diff --media-type text/plain work
[ "$err" = 'lctr: snapshots diff: unsupported media type "text/plain"' ] || fail "diff media type: $err"
expect_fail 2 snapshots --snapshotter native diff --label nokey work
[ "$err" = 'lctr: snapshots diff: invalid label "nokey": want KEY=VALUE' ] || fail "diff label: $err"
expect_fail 1 snapshots --snapshotter native diff work "$chain"
[ "$err" = "lctr: snapshots diff: a diff against $chain: not supported (only against the parent of work)" ] \
	|| fail "diff two: $err"
[ "$(tree)" = "$before" ] || fail "a refused diff changed the root"
expect_fail 1 snapshots --snapshotter native diff "$chain"
[[ "$err" == "lctr: snapshots diff: "* ]] || fail "diff of a committed snapshot: $err"

# content edit: the blob goes through $EDITOR (a script here) into a new
# blob; the old one stays; --editor overrides $EDITOR and may carry words.
cfg=$("$LCTR" content get "$top" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
cat >"$tmp/ed.sh" <<'ED'
#!/bin/sh
# the file is the last argument; a first one (if any) is the word to write
w=edited
[ $# = 2 ] && { w=$1; shift; }
sed -i "s/\"architecture\"/\"$w\"/" "$1"
ED
chmod +x "$tmp/ed.sh"
new=$(EDITOR=$tmp/ed.sh "$LCTR" content edit "$cfg")
[[ "$new" =~ ^sha256:[0-9a-f]{64}$ ]] && [ "$new" != "$cfg" ] || fail "content edit printed $new"
"$LCTR" content get "$new" | grep -q '"edited"' || fail "edited blob: $("$LCTR" content get "$new")"
[ "sha256:$("$LCTR" content get "$new" | sha256sum | cut -d' ' -f1)" = "$new" ] || fail "edited digest"
"$LCTR" content get "$cfg" | grep -q '"architecture"' || fail "the old blob changed"
new2=$(EDITOR=false "$LCTR" content edit --editor "$tmp/ed.sh word" "$cfg")
"$LCTR" content get "$new2" | grep -q '"word"' || fail "--editor with a word"
[ -z "$("$LCTR" content active -q 2>/dev/null || "$LCTR" content active | tail -n +2)" ] || fail "edit left an ingest"
before=$(tree)
EDITOR=$tmp/ed.sh expect_fail 2 content edit ../x
[ "$err" = 'lctr: content edit: invalid digest "../x" (want sha256:<64 hex>)' ] || fail "edit bad digest: $err"
EDITOR= expect_fail 2 content edit "$cfg"
[ "$err" = 'lctr: content edit: an editor is required (--editor or $EDITOR)' ] || fail "edit no editor: $err"
expect_fail 2 content edit --validate json "$cfg"
[ "$err" = 'lctr: content edit: --validate: validating the edit result is not supported' ] || fail "validate: $err"
EDITOR=false expect_fail 1 content edit "$cfg"
[ "$err" = 'lctr: content edit: editor "false" failed (exit status 1): nothing stored' ] || fail "editor fails: $err"
[ "$(tree)" = "$before" ] || fail "a refused content edit changed the root"
EDITOR=$tmp/ed.sh expect_fail 1 content edit "$zero"
[[ "$err" == "lctr: content edit: "*"not found"* ]] || fail "edit missing: $err"
echo "lctr images label, oci spec, snapshots diff/unpack, content edit: ok"
