#!/usr/bin/env bash
# lctr containers checkpoint|restore and tasks checkpoint against a real
# registry: a container that wrote to its rootfs is checkpointed with
# --rw --image, pushed, fetched into a fresh root and restored there; its
# task runs with the same spec and finds the file. Errors: a checkpoint
# that is not in the root, --task on a container with no task, and the
# CRIU parts, which fail with criu's message where `criu check` does.
set -euo pipefail
. "$(dirname "$0")/examples-lib.sh"

root2=$tmp/root2
state2=$tmp/state2
L1() { LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" "$@"; }
L2() { LCTR_ROOT=$root2 LCTR_STATE=$state2 "$LCTR" "$@"; }
CKPT=$REGISTRY_ADDR/test/lctr-checkpoint:1
CMD='cat /data 2>/dev/null || echo lctr-checkpointed > /data'

L1 images pull --plain-http "$REF" >/dev/null
L1 run "$REF" src sh -c "$CMD" >"$tmp/out" 2>"$tmp/err" || fail "run: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "the source found a file: $(cat "$tmp/out")"
[ "$(L1 containers checkpoint --rw --image src "$CKPT")" = "$CKPT" ] || fail "checkpoint did not print $CKPT"
L1 images push --plain-http "$CKPT" >/dev/null 2>"$tmp/err" || fail "push: $(cat "$tmp/err")"

L2 images pull --plain-http "$REF" >/dev/null
# Not in this root yet: an error that says how to get it.
set +e
L2 containers restore --rw dst "$CKPT" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "lctr content fetch" "$tmp/err" || fail "restore before fetch: $rc $(cat "$tmp/err")"
L2 content fetch --plain-http "$CKPT" >/dev/null 2>"$tmp/err" || fail "fetch: $(cat "$tmp/err")"
L2 containers restore --rw dst "$CKPT" >"$tmp/out" 2>"$tmp/err" || fail "restore: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = "lctr-checkpointed" ] || fail "restored task: $(cat "$tmp/out") $(cat "$tmp/err")"
[ "$(L1 containers info --spec src)" = "$(L2 containers info --spec dst)" ] || fail "the spec differs"
L2 containers info dst | jq -e --arg ref "$REF" '.Image == $ref and .Snapshotter == "overlayfs" and
	.SnapshotKey == "dst" and .Runtime.Name == "io.containerd.runc.v2"' >/dev/null || fail "info: $(L2 containers info dst)"

# --task without a task.
set +e
L1 containers checkpoint --task src "$CKPT-task" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "task" "$tmp/err" || fail "--task without a task: $rc $(cat "$tmp/err")"
# A running task: CRIU decides.
L1 run -d "$REF" sleeper sleep 60 >/dev/null
if criu check >/dev/null 2>&1; then
	L1 containers checkpoint --task sleeper "$CKPT-task" >/dev/null || fail "checkpoint --task"
	L1 tasks checkpoint sleeper | grep -q "^containerd.io/checkpoint/sleeper:" || fail "tasks checkpoint"
else
	why=$(criu check 2>&1 | head -1 || true)
	echo "skip: the CRIU checkpoints themselves: criu check fails here ($why)"
	for c in "containers checkpoint --task sleeper $CKPT-task" "tasks checkpoint sleeper"; do
		set +e
		# shellcheck disable=SC2086
		L1 $c >/dev/null 2>"$tmp/err"; rc=$?
		set -e
		[ "$rc" = 1 ] && grep -q "criu check: exit status" "$tmp/err" && grep -qF "$why" "$tmp/err" || fail "$c: $rc $(cat "$tmp/err")"
	done
	! L1 images ls -q | grep -qe "-task$" -e "^containerd.io/checkpoint/" || fail "an image was left: $(L1 images ls -q)"
fi
# The paused task was resumed.
L1 tasks ls | grep -E "^sleeper +[0-9]+ +RUNNING" >/dev/null || fail "sleeper: $(L1 tasks ls)"
L1 tasks kill -s SIGKILL sleeper
L1 tasks wait sleeper >/dev/null || true
L1 containers rm sleeper src
L2 containers rm dst
assert_clean
echo "lctr checkpoint: ok"
