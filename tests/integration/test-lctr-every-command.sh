#!/usr/bin/env bash
# lctr(1), every command of it, run as a user would against a real
# docker-registry: each one's output and exit status. The command list is
# read from the page (a `.B` item of a COMMANDS section), so a command
# added to lctr(1) without a case here fails the test; lctr-man checks that
# the page lists every command lctr's help does. Also the two dangerous
# cases of issue 9: global flags after a sub-command are used (nothing is
# created at the default root and state), and a mistyped flag after the
# arguments of `images rm` exits 2 with the image and the disk unchanged.
# (lctr-cli-safe checks --help, every flag and the usage errors of every
# command; this test runs them.)
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
F=$MESON_SOURCE_ROOT/tests/fixtures
PAGE=$MESON_SOURCE_ROOT/man/lctr.1
unset CONTAINERD_NAMESPACE LCTR_PASSWORD
tmp=$(mktemp -d /tmp/lctr-every-XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
reg= ev_pid=
cleanup() {
	set +e
	[ -n "$ev_pid" ] && kill "$ev_pid" 2>/dev/null
	for ns in default ck; do
		for id in $("$LCTR" -n $ns c ls -q 2>/dev/null); do
			"$LCTR" -n $ns t rm -f "$id" >/dev/null 2>&1
			"$LCTR" -n $ns c rm "$id" >/dev/null 2>&1
		done
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
defaults=(/var/lib/libctr /run/libctr "$HOME/.local/share/libctr")
defaults_before=$(ls -d "${defaults[@]}" 2>/dev/null || true)
defaults_same() {
	[ "$(ls -d "${defaults[@]}" 2>/dev/null || true)" = "$defaults_before" ] ||
		fail "$*: created $(ls -d "${defaults[@]}" 2>/dev/null)"
}
tree() { find "$@" -printf '%p %s %T@ %m\n' 2>/dev/null | sort; }

# ---- the commands of lctr(1) ----
cmds=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PAGE" |
	awk '/^\.SH COMMANDS/ {on = 1; next} /^\.SH/ {on = 0} !on {next}
	     /^\.SS / {sec = $2; next} prev == ".TP" && /^\.B / && $2 == sec {print $2, $3} {prev = $0}' |
	while read -r a b; do
		if "$LCTR" "$a" --help 2>/dev/null | grep '^commands:' >/dev/null; then echo "$a $b"; else echo "$a"; fi
	done | sort -u)
[ "$(wc -l <<<"$cmds")" -gt 60 ] || fail "only $(wc -l <<<"$cmds") commands read from lctr(1)"
declare -A ran=()
# ok NAME CMD...: CMD exits 0 and writes nothing on stderr; its output is
# in $tmp/out. NAME is the lctr(1) command it covers.
ok() {
	local name=$1
	shift
	ran[$name]=1
	"$@" >"$tmp/out" 2>"$tmp/err" || fail "$name: $* exited $?: $(cat "$tmp/err")"
	[ ! -s "$tmp/err" ] || fail "$name: $* wrote on stderr: $(cat "$tmp/err")"
}
# has REGEX: a line of the last output matches (extended regex).
has() { grep -Eq -- "$1" "$tmp/out" || fail "no line '$1' in: $(head -c 2000 "$tmp/out")"; }
# rc NAME WANT CMD...: CMD exits WANT; stderr is in $tmp/err.
rc() {
	local name=$1 want=$2 got
	shift 2
	ran[$name]=1
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || fail "$name: $* exited $got, want $want: $(cat "$tmp/err")"
}

# ---- a registry with a busybox image ----
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
eval "$("$F/registry.sh" start plain --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/bb:latest >/dev/null 2>&1
REF=$REGISTRY_ADDR/test/bb:latest
MDIG=$(jq -r .digest "$tmp/bb/summary.json")
LDIG=$(jq -r '.layers[0].digest' "$tmp/bb/summary.json")

# ---- the two dangerous cases ----
G=$tmp/g
"$LCTR" info --root "$G/root" --state "$G/state" >"$tmp/out"
has "\"root\": \"$G/root\""
"$LCTR" version --root "$G/root" --state "$G/state" >/dev/null
defaults_same "global flags after info and version"
mkdir "$tmp/small"
echo small >"$tmp/small/file"
ok "images import" "$LCTR" images import --from-rootfs "$tmp/small" test/keep:1
has "^test/keep:1 sha256:"
before=$(tree "$tmp/root" "$tmp/state")
rc "images rm" 2 "$LCTR" images rm test/keep:1 --dry
[ "$(cat "$tmp/err")" = 'lctr: images rm: unknown flag --dry (see lctr images rm --help)' ] ||
	fail "images rm IMG --dry: $(cat "$tmp/err")"
[ "$before" = "$(tree "$tmp/root" "$tmp/state")" ] || fail "images rm IMG --dry changed the disk"
"$LCTR" images ls -q | grep -x test/keep:1 >/dev/null || fail "images rm IMG --dry removed the image"
defaults_same "images rm --dry"

# ---- version, info, plugins ----
ok version "$LCTR" version
has '^  Version: +[0-9]+\.[0-9]+\.[0-9]+$'
ok info "$LCTR" info
has "\"state\": \"$tmp/state\""
ok "plugins ls" "$LCTR" plugins ls
has '^TYPE +ID +PLATFORMS +STATUS *$'
has 'overlayfs'

# ---- events: a subscriber in another process sees what follows ----
"$LCTR" events >"$tmp/events" 2>&1 &
ev_pid=$!
ran[events]=1
sleep 0.3

# ---- namespaces, leases ----
ok "namespaces create" "$LCTR" namespaces create ns2 team=a
ok "namespaces label" "$LCTR" namespaces label ns2 team=b
ok "namespaces ls" "$LCTR" namespaces ls
has '^ns2 +team=b *$'
ok "namespaces rm" "$LCTR" namespaces rm ns2
"$LCTR" namespaces ls -q | grep -x ns2 >/dev/null && fail "namespaces rm left ns2"
ok "leases create" "$LCTR" leases create --id l1 --expires 1h purpose=test
[ "$(cat "$tmp/out")" = l1 ] || fail "leases create printed $(cat "$tmp/out")"
ok "leases ls" "$LCTR" leases ls
has '^l1 .*purpose=test'
ok "leases rm" "$LCTR" leases rm l1
[ -z "$("$LCTR" leases ls -q)" ] || fail "leases rm left $("$LCTR" leases ls -q)"

# ---- images ----
ok "images pull" "$LCTR" images pull --plain-http --print-chainid "$REF"
has "^$LDIG (downloading|done) "
has '^image chain ID: sha256:[0-9a-f]{64}$'
tail -1 "$tmp/out" | grep -E '^done: [0-9.]+s$' >/dev/null || fail "pull's last line: $(tail -1 "$tmp/out")"
CHAIN=$(sed -n 's/^image chain ID: //p' "$tmp/out")
ok "images ls" "$LCTR" images ls
has "^$REF +application/vnd.oci.image.manifest.v1\+json +$MDIG "
ok "images tag" "$LCTR" images tag "$REF" test/bb:2
[ "$(cat "$tmp/out")" = test/bb:2 ] || fail "images tag printed $(cat "$tmp/out")"
ok "images label" "$LCTR" images label test/bb:2 team=x
has 'team=x'
ok "images check" "$LCTR" images check
has "^$REF +application/vnd.oci.image.manifest.v1\+json +$MDIG +complete "
ok "images usage" "$LCTR" images usage "$REF"
has '^CONTENT +SNAPSHOTS *$'
has '^1\.0[0-9]* MB +[0-9.]+ [kMG]?B *$'
ok "images push" "$LCTR" images push --plain-http "$REGISTRY_ADDR/test/pushed:1" test/bb:2
tail -1 "$tmp/out" | grep -E '^done: [0-9.]+s$' >/dev/null || fail "push's last line: $(tail -1 "$tmp/out")"
mkdir "$tmp/mnt"
ok "images mount" "$LCTR" images mount "$REF" "$tmp/mnt"
[ -x "$tmp/mnt/bin/busybox" ] || fail "images mount: no /bin/busybox under $tmp/mnt"
ok "images unmount" "$LCTR" images unmount --rm "$tmp/mnt"
! grep -q " $tmp/mnt " /proc/mounts || fail "images unmount left the mount"
ok "images export" "$LCTR" images export "$tmp/bb.tar" "$REF"
tar -tf "$tmp/bb.tar" | grep -x "blobs/sha256/${LDIG#sha256:}" >/dev/null || fail "the export has no layer"
ok "images import" "$LCTR" -n imp images import "$tmp/bb.tar"
has "^$REF $MDIG$"
ok "images rm" "$LCTR" images rm test/bb:2 test/keep:1
[ "$("$LCTR" images ls -q)" = "$REF" ] || fail "images rm left $("$LCTR" images ls -q)"

# ---- content ----
ok "content fetch" "$LCTR" -n fetched content fetch --plain-http "$REGISTRY_ADDR/test/pushed:1"
tail -1 "$tmp/out" | grep -E '^done: [0-9.]+s$' >/dev/null || fail "content fetch's last line: $(tail -1 "$tmp/out")"
ok "content ls" "$LCTR" -n fetched content ls
has "^$LDIG +"
ok "content get" "$LCTR" content get "$MDIG"
[ "sha256:$(sha256sum <"$tmp/out" | cut -d' ' -f1)" = "$MDIG" ] || fail "content get: another blob"
ok "content fetch-object" "$LCTR" content fetch-object --plain-http "$REF"
[ "sha256:$(sha256sum <"$tmp/out" | cut -d' ' -f1)" = "$MDIG" ] || fail "fetch-object REF: not the manifest"
ok "content fetch-object" "$LCTR" content fetch-object --plain-http "$REF" "$LDIG"
[ "sha256:$(sha256sum <"$tmp/out" | cut -d' ' -f1)" = "$LDIG" ] || fail "fetch-object REF DIGEST: not the layer"
printf 'an object of its own\n' >"$tmp/obj"
ODIG=sha256:$(sha256sum <"$tmp/obj" | cut -d' ' -f1)
ok "content ingest" "$LCTR" content ingest --expected-digest "$ODIG" obj-ref <"$tmp/obj"
ok "content push-object" "$LCTR" content push-object --plain-http "$REGISTRY_ADDR/test/obj:1" "$ODIG" \
	application/octet-stream
[ "$(cat "$tmp/out")" = "Pushed $ODIG application/octet-stream" ] || fail "push-object printed $(cat "$tmp/out")"
"$LCTR" content fetch-object --plain-http "$REGISTRY_ADDR/test/obj:1" "$ODIG" | cmp - "$tmp/obj" ||
	fail "the pushed object did not come back"
ok "content label" "$LCTR" content label "$ODIG" team=c
has "^updated $ODIG$"
"$LCTR" content ls | grep "^$ODIG .*team=c" >/dev/null || fail "content label: $("$LCTR" content ls)"
ok "content active" "$LCTR" content active
has '^REF +SIZE +AGE *$'
printf '#!/bin/sh\necho edited >>"$1"\n' >"$tmp/editor"
chmod +x "$tmp/editor"
ok "content edit" "$LCTR" content edit --editor "$tmp/editor" "$ODIG"
EDIG=sha256:$( (cat "$tmp/obj"; echo edited) | sha256sum | cut -d' ' -f1)
[ "$(cat "$tmp/out")" = "$EDIG" ] || fail "content edit printed $(cat "$tmp/out"), want $EDIG"
ok "content rm" "$LCTR" content rm "$ODIG" "$EDIG"
"$LCTR" content ls -q | grep -x "$ODIG" >/dev/null && fail "content rm left $ODIG"

# ---- snapshots ----
ok "snapshots prepare" "$LCTR" snapshots prepare s1 "$CHAIN"
ok "snapshots mounts" "$LCTR" snapshots mounts "$tmp/smnt" s1
has "^mount -t overlay overlay $tmp/smnt -o .*lowerdir="
ok "snapshots commit" "$LCTR" snapshots commit s1-done s1
ok "snapshots view" "$LCTR" snapshots view v1 s1-done
ok "snapshots info" "$LCTR" snapshots info v1
has '"Kind": "View"'
ok "snapshots label" "$LCTR" snapshots label v1 team=s
"$LCTR" snapshots info v1 | grep '"team": "s"' >/dev/null || fail "snapshots label: $("$LCTR" snapshots info v1)"
ok "snapshots ls" "$LCTR" snapshots ls
has "^v1 +s1-done +View *$"
ok "snapshots usage" "$LCTR" snapshots usage s1-done
has '^KEY +SIZE +INODES *$'
ok "snapshots tree" "$LCTR" snapshots tree
has '^s1-done *$|\\_ s1-done *$'
"$LCTR" snapshots prepare s2 "$CHAIN" >/dev/null
mkdir -p "$tmp/s2"
eval "$("$LCTR" snapshots mounts "$tmp/s2" s2)"
echo changed >"$tmp/s2/new-file"
umount "$tmp/s2"
ok "snapshots diff" "$LCTR" snapshots diff s2
tar -tzf "$tmp/out" | grep -x new-file >/dev/null || fail "snapshots diff: no new-file in $(tar -tzf "$tmp/out")"
ok "snapshots rm" "$LCTR" snapshots rm v1 s2 s1-done
ok "snapshots unpack" "$LCTR" -n imp snapshots unpack "$MDIG"

# ---- run, containers, tasks ----
ok run "$LCTR" run --rm "$REF" r1 echo hello from lctr
[ "$(cat "$tmp/out")" = "hello from lctr" ] || fail "run printed $(cat "$tmp/out")"
ok "containers create" "$LCTR" containers create --label k=v "$REF" c1 sh -c 'read x; echo "in: $x"'
ok "containers ls" "$LCTR" containers ls
has "^c1 +$REF +io.containerd.runc.v2 *$"
ok "containers info" "$LCTR" containers info c1
has '"Image": "'"$REF"'"'
ok "containers label" "$LCTR" containers label c1 team=t
has 'team=t'
ok "tasks start" "$LCTR" tasks start -d c1
ok "tasks ls" "$LCTR" tasks ls
has '^c1 +[0-9]+ +RUNNING *$'
ok "tasks ps" "$LCTR" tasks ps c1
has '^PID'
ok "tasks pause" "$LCTR" tasks pause c1
"$LCTR" tasks ls | grep -E '^c1 +[0-9]+ +PAUSED$' >/dev/null || fail "tasks pause: $("$LCTR" tasks ls)"
ok "tasks resume" "$LCTR" tasks resume c1
ok "tasks update" "$LCTR" tasks update --memory-limit 67108864 c1
ok "tasks metrics" "$LCTR" tasks metrics --format json c1
jq -e '.memory' "$tmp/out" >/dev/null || fail "tasks metrics: $(cat "$tmp/out")"
ok "tasks exec" "$LCTR" tasks exec --exec-id e1 c1 sh -c 'echo from exec'
[ "$(cat "$tmp/out")" = "from exec" ] || fail "tasks exec printed $(cat "$tmp/out")"
# attach: the line typed reaches the task, its answer comes back, and
# attach exits with the task's status when it ends
ran["tasks attach"]=1
out=$(echo typed | timeout 20 "$LCTR" tasks attach c1) || fail "tasks attach: exit $?: $out"
[ "$out" = "in: typed" ] || fail "tasks attach printed '$out'"
rc "tasks wait" 0 "$LCTR" tasks wait c1
ok "tasks rm" "$LCTR" tasks rm c1
"$LCTR" tasks start -d c1
ok "tasks kill" "$LCTR" tasks kill -s SIGKILL -a c1
rc "tasks wait" 137 "$LCTR" tasks wait c1
ok "tasks rm" "$LCTR" tasks rm c1
ok "containers rm" "$LCTR" containers rm c1
# checkpoint and restore in a namespace of their own
"$LCTR" -n ck images pull --plain-http "$REF" >/dev/null
"$LCTR" -n ck run -d "$REF" ck1 sleep 60
if criu check >/dev/null 2>&1; then
	ok "tasks checkpoint" "$LCTR" -n ck tasks checkpoint ck1
	has '^containerd.io/checkpoint/ck1:'
else
	why=$(criu check 2>&1 | head -1 || true)
	echo "note: criu check fails here ($why): tasks checkpoint must say so"
	rc "tasks checkpoint" 1 "$LCTR" -n ck tasks checkpoint ck1
	grep -q "criu check: exit status" "$tmp/err" || fail "tasks checkpoint without CRIU: $(cat "$tmp/err")"
fi
"$LCTR" -n ck tasks rm -f ck1 >/dev/null
ok "containers checkpoint" "$LCTR" -n ck containers checkpoint --rw --image ck1 "$REGISTRY_ADDR/test/ck:1"
[ "$(cat "$tmp/out")" = "$REGISTRY_ADDR/test/ck:1" ] || fail "containers checkpoint printed $(cat "$tmp/out")"
"$LCTR" -n ck containers rm ck1
ok "containers restore" "$LCTR" -n ck containers restore --rw ck2 "$REGISTRY_ADDR/test/ck:1"
"$LCTR" -n ck containers ls -q | grep -x ck2 >/dev/null || fail "containers restore made no ck2"
"$LCTR" -n ck tasks rm -f ck2 >/dev/null 2>&1 || true
"$LCTR" -n ck containers rm ck2

# ---- oci spec: containerd's default spec, as JSON ----
ok "oci spec" "$LCTR" oci spec
jq -e '.ociVersion and (.linux.namespaces | map(.type) | index("mount")) and .process.capabilities.bounding' \
	"$tmp/out" >/dev/null || fail "oci spec: $(head -c 500 "$tmp/out")"

# ---- install, gc, completion ----
ok install "$LCTR" install --path "$tmp/inst" "$REF"
[ -x "$tmp/inst/bin/busybox" ] || fail "install: no $tmp/inst/bin/busybox"
"$LCTR" images rm "$REF" >/dev/null
ok gc "$LCTR" gc
has "$LDIG|$MDIG"
ok completion "$LCTR" completion bash
has '^complete .*_lctr'
ok completion "$LCTR" completion zsh
has '^#compdef lctr'

# ---- events saw the namespace and the task ----
sleep 0.3
kill "$ev_pid" 2>/dev/null || true
wait "$ev_pid" 2>/dev/null || true
ev_pid=
grep -q '/images/create' "$tmp/events" || fail "events: no /images/create in $(head -c 300 "$tmp/events")"
grep -q '/tasks/exit' "$tmp/events" || fail "events: no /tasks/exit in $(head -c 300 "$tmp/events")"

# ---- every command of lctr(1) has a case ----
missing=
while read -r c; do [ -n "${ran[$c]:-}" ] || missing="$missing, $c"; done <<<"$cmds"
[ -z "$missing" ] || fail "lctr(1) commands with no case here: ${missing#, }"
for c in "${!ran[@]}"; do grep -qxF "$c" <<<"$cmds" || fail "a case for \"$c\", which lctr(1) does not document"; done
defaults_same "every command"
echo "lctr every command: ok ($(wc -l <<<"$cmds") commands)"
