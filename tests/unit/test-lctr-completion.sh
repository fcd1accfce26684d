#!/usr/bin/env bash
# lctr completion (lctr(1)): the bash script, driven through COMP_WORDS and
# COMP_CWORD as bash does, offers commands, aliases, sub-commands and flags
# from lctr's own tables, and image, container, task and snapshot names
# read from the root; the zsh script parses and offers the same through
# compadd. Completing never creates a root.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
unset CONTAINERD_NAMESPACE
export LC_ALL=C
PATH=$(dirname "$LCTR"):$PATH
fail() { echo "FAIL: $*" >&2; exit 1; }
"$LCTR" completion bash >"$tmp/c.bash"
bash -n "$tmp/c.bash"
# comp WORD...: the candidates bash gets for the last word, sorted, one line.
comp() {
	bash -c 'source "$1"; shift; COMP_WORDS=(lctr "$@"); COMP_CWORD=$#; _lctr; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$tmp/c.bash" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
# Nothing read from a root that is not there, and none made.
[ "$(comp images ls '')" = "" ] || fail "names without a root"
[ "$(comp containers rm '')" = "" ] || fail "names without a root"
[ ! -e "$tmp/root" ] && [ ! -e "$tmp/state" ] || fail "completion created the root"

[ "$(comp ima)" = "images" ] || fail "command: $(comp ima)"
[ "$(comp i)" = "images info install" ] || fail "i: $(comp i)"
[ "$(comp c)" = "completion containers content" ] || fail "c: $(comp c)"
[ "$(comp lease)" = "leases" ] || fail "an alias that a name covers: $(comp lease)"
[ "$(comp i de)" = "del delete" ] || fail "aliases: $(comp i de)"
[ "$(comp t li)" = "list" ] || fail "alias list: $(comp t li)"
[ "$(comp -n x tasks pa)" = "pause" ] || fail "after a global flag: $(comp -n x tasks pa)"
[ "$(comp i p)" = "pull push" ] || fail "sub-command of an alias: $(comp i p)"
[ "$(comp --root /x i l)" = "label ls" ] || fail "sub-command aliases: $(comp --root /x i l)"
[ "$(comp i pull --pl)" = "--plain-http --platform" ] || fail "pull flags: $(comp i pull --pl)"
[ "$(comp leases create -)" = "--debug --expires --help --id --label --namespace --root --state -n -x" ] \
	|| fail "leases create flags: $(comp leases create -)"
[ "$(comp snapshots --sn)" = "--snapshotter" ] || fail "group flag: $(comp snapshots --sn)"
[ "$(comp __comp)" = "" ] || fail "the hidden helper is offered"
# every sub-command of every group, as its --help lists them
for g in namespaces leases content images snapshots oci containers tasks; do
	want=$("$LCTR" "$g" --help | sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" {print $1}' | sort)
	got=$(comp "$g" '' | tr ' ' '\n')
	for s in $want; do grep -qx "$s" <<<"$got" || fail "$g: $s not offered ($got)"; done
done
# every flag of run, as its --help lists them
runflags=$(comp run -- | tr ' ' '\n')
for f in $("$LCTR" run --help | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qx -- "$f" <<<"$runflags" || fail "run: $f not offered"
done
# a flag's value and the container's command line are the shell's (files)
[ "$(comp images pull --platform '')" = "" ] || fail "flag value"
[ "$(comp run img id '')" = "" ] || fail "command line"

# Names from the root (a test image, snapshots, a container record).
python3 "$MESON_SOURCE_ROOT/tests/fixtures/mkimage.py" busybox "$tmp/bb" >/dev/null
tar -C "$tmp/bb" -cf "$tmp/bb.tar" oci-layout index.json blobs
"$LCTR" images import --no-unpack --base-name example.com/bb "$tmp/bb.tar" >/dev/null
"$LCTR" images tag example.com/bb:latest example.com/other:1 >/dev/null
"$LCTR" snapshots --snapshotter native prepare snap-a >/dev/null
"$LCTR" snapshots --snapshotter native prepare snap-b >/dev/null
[ "$(comp images rm '')" = "example.com/bb:latest example.com/other:1" ] || fail "image names: $(comp images rm '')"
[ "$(comp i label example.com/o)" = "example.com/other:1" ] || fail "image prefix: $(comp i label example.com/o)"
[ "$(comp run '')" = "example.com/bb:latest example.com/other:1" ] || fail "run's image: $(comp run '')"
[ "$(comp snapshots --snapshotter native rm snap)" = "snap-a snap-b" ] || fail "snapshots: $(comp snapshots --snapshotter native rm snap)"
[ "$(comp snapshots --snapshotter=native info '')" = "snap-a snap-b" ] || fail "snapshots --snapshotter=: $(comp snapshots --snapshotter=native info '')"
[ "$(comp snapshots rm '')" = "" ] || fail "overlayfs has none: $(comp snapshots rm '')"
[ "$(comp -n other images rm '')" = "" ] || fail "another namespace: $(comp -n other images rm '')"
"$LCTR" containers create --rootfs "$tmp/bb" ctr-one true >/dev/null
[ "$(comp containers rm '')" = "ctr-one" ] || fail "container ids: $(comp containers rm '')"
[ "$(comp c info ct)" = "ctr-one" ] || fail "container prefix: $(comp c info ct)"
[ "$(comp tasks start '')" = "ctr-one" ] || fail "tasks start offers containers: $(comp tasks start '')"
[ "$(comp tasks kill '')" = "" ] || fail "no task runs: $(comp tasks kill '')"

# zsh: the script parses, and offers the same through compadd.
if command -v zsh >/dev/null; then
	"$LCTR" completion zsh >"$tmp/_lctr"
	head -1 "$tmp/_lctr" | grep -qx '#compdef lctr'
	zsh -n "$tmp/_lctr"
	zcomp() {
		zsh -f -c 'compdef() { :; }; compadd() { [[ $1 == -Q ]] && shift; [[ $1 == -- ]] && shift; print -l -- "$@"; }
			_files() { print _files; }
			source "$1"; shift; words=(lctr "$@"); CURRENT=$(( $# + 1 )); _lctr' _ "$tmp/_lctr" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
	}
	[ "$(zcomp i p)" = "pull push" ] || fail "zsh sub-commands: $(zcomp i p)"
	[ "$(zcomp images rm example.com/b)" = "example.com/bb:latest" ] || fail "zsh names: $(zcomp images rm example.com/b)"
	[ "$(zcomp run img id '')" = "_files" ] || fail "zsh falls back to files: $(zcomp run img id '')"
else
	echo "zsh not installed (tests/run.sh installs it): the zsh script is not checked"
fi
"$LCTR" containers rm ctr-one >/dev/null
echo "lctr completion: ok"
