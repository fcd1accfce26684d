#!/usr/bin/env bash
# lctr snapshots: prepare, commit, view, ls, tree, info, usage, label, rm, and
# namespaces owning their keys. No mounts (those are in the integration suite).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
for sn in overlayfs native; do
	L() { "$LCTR" snapshots --snapshotter "$sn" "$@"; }
	L prepare base-active
	L commit base base-active
	L prepare "extract-1 sha256:abc" base
	L commit layer2 "extract-1 sha256:abc"
	L prepare ctr1 layer2
	L view v1 layer2
	out=$(L ls)
	echo "$out" | head -1 | grep -q '^KEY *PARENT *KIND$'
	echo "$out" | grep -q '^base  *Committed$'
	echo "$out" | grep -q '^layer2 *base *Committed$'
	echo "$out" | grep -q '^ctr1 *layer2 *Active$'
	echo "$out" | grep -q '^v1 *layer2 *View$'
	[ "$(L tree)" = "$(printf 'base\n  \\_ layer2\n    \\_ ctr1\n    \\_ v1')" ]
	L info layer2 | grep -q '"Parent": "base"'
	L label ctr1 team=a
	L info ctr1 | grep -q '"team": "a"'
	L ls labels.team==a | grep -q '^ctr1'
	L usage ctr1 | grep -q '^ctr1 '
	L mounts /mnt ctr1 | grep -q "^mount -t "
	# Errors: exact shape, nothing changed.
	set +e
	out=$(L rm layer2 2>&1); rc=$?
	set -e
	[ "$rc" = 1 ] && [[ "$out" == "lctr: snapshots rm layer2: "*"depends on it"* ]] || { echo "rm parent: $rc $out"; exit 1; }
	set +e
	out=$(L prepare ctr1 layer2 2>&1); rc=$?
	set -e
	[ "$rc" = 1 ] && [[ "$out" == *"already exists"* ]] || { echo "dup: $rc $out"; exit 1; }
	set +e
	out=$(L prepare "$(printf 'bad\nkey')" 2>&1); rc=$?
	set -e
	[ "$rc" = 1 ] && [[ "$out" == *"invalid snapshot key"* ]] || { echo "bad key: $rc $out"; exit 1; }
	# Another namespace sees none of it and cannot use our parent.
	[ "$("$LCTR" -n other snapshots --snapshotter "$sn" ls | wc -l)" = 1 ]
	set +e
	out=$("$LCTR" -n other snapshots --snapshotter "$sn" prepare x layer2 2>&1); rc=$?
	set -e
	[ "$rc" = 1 ] && [[ "$out" == *"not found"* ]] || { echo "cross-ns parent: $rc $out"; exit 1; }
	L rm v1 ctr1
	L rm layer2 base
	[ "$(L ls | wc -l)" = 1 ]
done
echo "lctr snapshots: ok"
