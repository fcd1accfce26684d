#!/usr/bin/env bash
# The btrfs snapshotter through lctr, on btrfs made on a loop file, and the
# introspection calls (issue 10, items 3 and 7):
#  - lctr info and lctr plugins ls show btrfs ok on the btrfs root, and
#    skipped with the reason on an ext4/tmpfs root;
#  - pull --snapshotter btrfs from a real registry, the mounted image equals
#    the expected tree, run and containers create on btrfs;
#  - --snapshotter btrfs on a root that is not on btrfs fails with the
#    reason and creates nothing;
#  - the root's UUID is the same in two processes and after eight racing
#    processes asked for it on a fresh root.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
if ! command -v mkfs.btrfs >/dev/null; then
	echo "skip: mkfs.btrfs is not installed (btrfs-progs)"
	exit 77
fi
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d /tmp/lctr-btrfs-XXXXXX)
reg=
export LCTR_STATE=$tmp/state
cleanup() {
	set +e
	for root in "$tmp"/btrfs/root "$tmp"/plain; do
		for id in $(LCTR_ROOT=$root "$LCTR" c ls -q 2>/dev/null); do
			LCTR_ROOT=$root "$LCTR" t rm -f "$id" >/dev/null 2>&1
			LCTR_ROOT=$root "$LCTR" c rm "$id" >/dev/null 2>&1
		done
	done
	for f in "$LCTR_STATE"/tasks/*/*/init/shim.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	# the loop mount last: unmounting it detaches the loop device (autoclear)
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
has() { grep -E "$@" >/dev/null; }

truncate -s 512M "$tmp/btrfs.img"
mkfs.btrfs -q "$tmp/btrfs.img" >/dev/null
mkdir "$tmp/btrfs"
if ! mount -o loop -t btrfs "$tmp/btrfs.img" "$tmp/btrfs"; then
	echo "skip: cannot loop-mount btrfs (no loop devices or no btrfs in the kernel)"
	exit 77
fi
broot=$tmp/btrfs/root
proot=$tmp/plain
B() { LCTR_ROOT=$broot "$LCTR" "$@"; }
P() { LCTR_ROOT=$proot "$LCTR" "$@"; }
plugin() { jq -r --arg id "$2" '.plugins[] | select(.type == "io.containerd.snapshotter.v1" and .id == $id) | '"$3" <<<"$1"; }

# info: btrfs ok on btrfs, skipped with the reason elsewhere.
info=$(B info)
[ "$(plugin "$info" btrfs .status)" = ok ] || fail "btrfs not ok on a btrfs root: $info"
jq -e '.snapshotters | index("btrfs")' <<<"$info" >/dev/null || fail "info snapshotters: $info"
[ "$(plugin "$info" native .status)" = ok ] || fail "native: $info"
info=$(P info)
[ "$(plugin "$info" btrfs .status)" = skip ] || fail "btrfs not skipped on $(stat -f -c %T "$tmp"): $info"
plugin "$info" btrfs .reason | has "^$proot/snapshots/btrfs is not on btrfs \(filesystem type 0x[0-9a-f]+\)$" ||
	fail "reason: $(plugin "$info" btrfs .reason)"
jq -e '.snapshotters | index("btrfs") | not' <<<"$info" >/dev/null || fail "btrfs listed as usable: $info"
# plugins ls: ctr's columns
B plugins ls | head -1 | has '^TYPE +ID +PLATFORMS +STATUS +$' || fail "plugins ls header: $(B plugins ls | head -1)"
B plugins ls | has '^io\.containerd\.snapshotter\.v1 +btrfs +linux/[a-z0-9]+ +ok +$' || fail "plugins ls on btrfs: $(B plugins ls)"
P plugins ls | has '^io\.containerd\.snapshotter\.v1 +btrfs +linux/[a-z0-9]+ +skip +$' || fail "plugins ls elsewhere: $(P plugins ls)"
P plugins ls -d | has "Message: +$proot/snapshots/btrfs is not on btrfs .*: skip plugin$" || fail "plugins ls -d: $(P plugins ls -d)"
[ "$(P plugins ls -q | grep -c .)" = "$(P plugins ls | tail -n +2 | grep -c .)" ] || fail "plugins ls -q"

# UUID: stable across processes, and one UUID after a race on a new root.
u1=$(B info | jq -r .uuid)
u2=$(B info | jq -r .uuid)
[ "$u1" = "$u2" ] || fail "uuid changed between processes: $u1 $u2"
has '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$u1" || fail "uuid shape: $u1"
mkdir "$tmp/race"
for i in 1 2 3 4 5 6 7 8; do
	LCTR_ROOT=$tmp/race/root "$LCTR" info >"$tmp/race/$i" &
done
wait
[ "$(cat "$tmp"/race/[1-8] | jq -r .uuid | sort -u | wc -l)" = 1 ] || fail "racing processes got several uuids: $(cat "$tmp"/race/[1-8] | jq -r .uuid)"
[ "$(LCTR_ROOT=$tmp/race/root "$LCTR" info | jq -r .uuid)" = "$(jq -r .uuid "$tmp/race/1")" ] || fail "uuid after race"
[ -z "$(ls "$tmp/race/root" | grep uuid.new)" ] || fail "temporary uuid files left: $(ls "$tmp/race/root")"
[ "$(P info | jq -r .uuid)" != "$u1" ] || fail "two roots share a uuid"

# Images on btrfs, from a real registry.
python3 "$F/mkimage.py" tree "$tmp/tree" >/dev/null
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
eval "$("$F/registry.sh" start plain --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/tree:latest" test/tree:latest >/dev/null 2>&1
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/busybox:1 >/dev/null 2>&1
TREE=$REGISTRY_ADDR/test/tree:latest
BB=$REGISTRY_ADDR/test/busybox:1

# Not on btrfs: refused with the reason, nothing made for btrfs.
if P images pull --plain-http --snapshotter btrfs "$BB" >"$tmp/out" 2>"$tmp/err"; then
	fail "pull --snapshotter btrfs succeeded on a root not on btrfs"
fi
has "is not on btrfs" <"$tmp/err" || fail "pull on plain root: $(cat "$tmp/err")"
[ ! -e "$proot/snapshots/btrfs" ] || fail "a refused btrfs snapshotter left $proot/snapshots/btrfs"

B images pull --plain-http --snapshotter btrfs "$TREE" >"$tmp/out"
tail -1 "$tmp/out" | has '^done: ' || fail "pull tree: $(tail -1 "$tmp/out")"
[ "$(B snapshots --snapshotter btrfs ls | grep -c ' Committed$')" = 3 ] || fail "layers: $(B snapshots --snapshotter btrfs ls)"
# each committed layer is a read-only subvolume
for d in "$broot"/snapshots/btrfs/snapshots/*; do
	[ "$(stat -c %i "$d")" = 256 ] || fail "$d is not a subvolume"
	btrfs property get -ts "$d" ro | has '^ro=true$' || fail "$d is not read-only"
done
mkdir "$tmp/mnt"
B images mount --snapshotter btrfs "$TREE" "$tmp/mnt" >/dev/null
python3 "$F/mkimage.py" check-tree "$tmp/mnt" "$tmp/tree/expected.json" || fail "btrfs tree differs from the image"
B images unmount --snapshotter btrfs --rm "$tmp/mnt" >/dev/null
B images usage --snapshotter btrfs "$TREE" >"$tmp/out" || fail "usage: $(cat "$tmp/out")"

B images pull --plain-http --snapshotter btrfs "$BB" >/dev/null
out=$(B run --rm --snapshotter btrfs "$BB" r1 sh -c 'echo written >/f; cat /f; id -u')
[ "$out" = "$(printf 'written\n0')" ] || fail "run on btrfs: $out"
B containers create --snapshotter btrfs "$BB" c1 >/dev/null
B snapshots --snapshotter btrfs ls | has '^c1 .* Active$' || fail "container snapshot: $(B snapshots --snapshotter btrfs ls)"
B snapshots --snapshotter btrfs usage c1 | has 'c1' || fail "snapshot usage: $(B snapshots --snapshotter btrfs usage c1)"
B containers rm c1
B snapshots --snapshotter btrfs ls | has '^c1 ' && fail "container snapshot left after rm"
B images rm "$TREE" "$BB" >/dev/null
B gc >/dev/null
[ -z "$(ls "$broot/snapshots/btrfs/snapshots")" ] || fail "gc left subvolumes: $(ls "$broot/snapshots/btrfs/snapshots")"
echo "lctr btrfs: ok"
