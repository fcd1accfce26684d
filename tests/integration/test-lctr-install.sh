#!/usr/bin/env bash
# lctr install (ctr_image_install, containerd's Client.Install) of an image
# made here: bin/ files land with their modes and contents, lib/ only with
# --libs, entries outside bin/ and lib/ (or deeper, or not regular files) never
# do; a conflict without --replace is one exact error and the target is
# unchanged; --replace overwrites; a symlinked bin/ in the target is refused.
set -euo pipefail
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
L() { "$LCTR" "$@"; }
python3 "$F/mkimage.py" install "$tmp/img" >/dev/null
tar -C "$tmp/img" -cf "$tmp/img.tar" oci-layout index.json blobs
L images import --no-unpack --base-name example.com/inst "$tmp/img.tar" >/dev/null
img=example.com/inst:latest
# Every entry under a directory: path, type, mode, size and content digest.
state() {
	(cd "$1" && find . -printf '%p %y %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
# The installed files are exactly expected.json's (lib/ only when $2 = libs).
check() {
	python3 - "$1" "$tmp/img/expected.json" "$2" <<'PY' || fail "installed tree differs"
import hashlib, json, os, stat, sys
root, exp, libs = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3] == 'libs'
want = {k: v for k, v in exp.items() if libs or not k.startswith('lib/')}
errs = []
for rel, w in want.items():
    st = os.lstat(os.path.join(root, rel))
    if not stat.S_ISREG(st.st_mode):
        errs.append(rel + ': not a regular file')
    if '%04o' % stat.S_IMODE(st.st_mode) != w['mode']:
        errs.append('%s: mode %04o, want %s' % (rel, stat.S_IMODE(st.st_mode), w['mode']))
    if hashlib.sha256(open(os.path.join(root, rel), 'rb').read()).hexdigest() != w['sha256']:
        errs.append(rel + ': content differs')
for dp, dns, fns in os.walk(root):
    for n in dns + fns:
        rel = os.path.relpath(os.path.join(dp, n), root)
        if rel not in want and rel not in ('bin', 'lib' if libs else 'bin'):
            errs.append(rel + ': should not be installed')
for e in errs:
    print('install: ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}

# bin/ only, into a target that does not exist yet
L install --path "$tmp/t1" "$img"
check "$tmp/t1" bin
[ ! -e "$tmp/t1/lib" ] || fail "lib/ installed without --libs"
[ "$(stat -c %u "$tmp/t1/bin/tool1")" = "$(id -u)" ] || fail "owner is not the caller"

# --libs too (short flag)
L install -l --path "$tmp/t2" "$img"
check "$tmp/t2" libs

# A conflict without --replace: the exact error, and nothing written at all,
# even files that do not conflict (tool2 is missing from the target).
mkdir -p "$tmp/t3/bin" "$tmp/t3/lib"
echo mine >"$tmp/t3/bin/tool1"
chmod 0644 "$tmp/t3/bin/tool1"
before=$(state "$tmp/t3")
set +e
out=$(L install --libs --path "$tmp/t3" "$img" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "conflict: exit $rc: $out"
[ "$out" = "lctr: install: install $img: cannot replace bin/tool1 in $tmp/t3" ] || fail "conflict: $out"
[ "$(state "$tmp/t3")" = "$before" ] || fail "the target changed after a conflict: $(state "$tmp/t3")"
# a conflict in lib/ is checked too
rm "$tmp/t3/bin/tool1"
echo mine >"$tmp/t3/lib/libfoo.so.1"
before=$(state "$tmp/t3")
set +e
out=$(L install --libs --path "$tmp/t3" "$img" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "lctr: install: install $img: cannot replace lib/libfoo.so.1 in $tmp/t3" ] ||
	fail "lib conflict: $rc $out"
[ "$(state "$tmp/t3")" = "$before" ] || fail "the target changed after a lib conflict"
# without --libs lib/ is not looked at: bin/ installs
L install --path "$tmp/t3" "$img"
[ "$(cat "$tmp/t3/lib/libfoo.so.1")" = mine ] || fail "lib/ touched without --libs"
# --replace overwrites, modes and contents from the image
echo mine >"$tmp/t3/bin/tool1"
chmod 0600 "$tmp/t3/bin/tool1"
L install -r -l --path "$tmp/t3" "$img"
check "$tmp/t3" libs
# replacing a directory is refused even with --replace, and nothing changes
rm "$tmp/t3/bin/tool2"
mkdir "$tmp/t3/bin/tool2"
before=$(state "$tmp/t3")
set +e
out=$(L install --replace --path "$tmp/t3" "$img" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "lctr: install: install $img: cannot replace bin/tool2 in $tmp/t3: a directory" ] ||
	fail "directory: $rc $out"
[ "$(state "$tmp/t3")" = "$before" ] || fail "the target changed after the directory refusal"

# A target whose bin is a symlink is refused; nothing lands where it points.
mkdir -p "$tmp/t4" "$tmp/elsewhere"
ln -s "$tmp/elsewhere" "$tmp/t4/bin"
set +e
out=$(L install --replace --path "$tmp/t4" "$img" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "lctr: install: install $img: $tmp/t4/bin is a symlink" ] || fail "symlink bin: $rc $out"
[ -z "$(ls -A "$tmp/elsewhere")" ] || fail "wrote through the symlink: $(ls -A "$tmp/elsewhere")"
# A file in the target that is a symlink is replaced, not followed.
mkdir -p "$tmp/t5/bin"
echo keep >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/t5/bin/tool1"
L install --replace --path "$tmp/t5" "$img"
[ "$(cat "$tmp/victim")" = keep ] || fail "wrote through a symlinked file"
[ ! -L "$tmp/t5/bin/tool1" ] && check "$tmp/t5" bin

# A relative path is refused before anything is read.
set +e
out=$(L install --path rel/dir "$img" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = 'lctr: install: install: option ctr_with_install_path: install path "rel/dir": not absolute' ] || fail "relative: $rc $out"
[ ! -e rel ] || fail "relative path created"
# No leftover temporary files anywhere.
! find "$tmp"/t* -name '.ctr-install.*' | grep -q . || fail "temporary files left"
echo "lctr install: ok"
