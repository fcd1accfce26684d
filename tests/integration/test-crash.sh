#!/usr/bin/env bash
# Crash consistency (issue 12, item 3): lctr is killed with SIGKILL at a
# random point, 50 times, during pull (a three-layer image: mid-download,
# mid-unpack, mid-commit), GC, container create and delete, task start and
# delete. After each kill the store check finds nothing but what is
# cleanable (stale ingests, stale extract snapshots, orphan snapshot
# directories), a repair leaves it clean, and the same operation then
# succeeds. The seed is printed; CRASH_SEED=N replays a run.
set -euo pipefail
F=$MESON_SOURCE_ROOT/tests/fixtures
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null; then
	echo "SKIP: needs root (overlay mounts) and runc"
	exit 77
fi
tmp=$(mktemp -d /tmp/lctr-crash-XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
reg=
L() { "$LCTR" "$@"; }
cleanup() {
	set +e
	for id in $(L c ls -q 2>/dev/null); do
		L t rm -f "$id" >/dev/null 2>&1
		L c rm "$id" >/dev/null 2>&1
	done
	for f in "$LCTR_STATE"/tasks/*/*/init/shim.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	for d in "$LCTR_STATE"/tasks/*/*/runc; do
		[ -d "$d" ] && for c in $(ls "$d"); do runc --root "$d" delete --force "$c" >/dev/null 2>&1; done
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL (seed $seed, kill $kills, $op): $*" >&2; exit 1; }
seed=${CRASH_SEED:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$seed
echo "crash test seed: $seed (CRASH_SEED=$seed replays it)"
kills=0 op=setup

python3 "$F/mkimage.py" tree "$tmp/tree" >/dev/null
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
eval "$("$F/registry.sh" start plain --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/tree:latest" test/tree:latest >/dev/null 2>&1
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/bb:latest >/dev/null 2>&1
TREE=$REGISTRY_ADDR/test/tree:latest BB=$REGISTRY_ADDR/test/bb:latest
L images pull --plain-http "$BB" >/dev/null

# The store check after a kill: only cleanable findings; then (every other
# time, so resumes are exercised too) a repair, after which it is clean.
allowed='^(ingest-stale|extract-stale|snapshot-orphan) '
check_after_kill() {
	local out rc
	set +e
	out=$(L images check --all 2>&1); rc=$?
	set -e
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "check failed ($rc): $out"
	local bad
	bad=$(tail -n +2 <<<"$out" | grep -Ev "$allowed" || true)
	[ -z "$bad" ] || fail "inconsistent store after the kill:
$out"
	if (( RANDOM % 2 )); then
		L images check --all --repair >"$tmp/repair" || fail "repair left findings: $(cat "$tmp/repair")"
		out=$(L images check --all) || fail "not clean after repair: $out"
	fi
}

# Runs "$@" in the background and SIGKILLs it after a random delay within
# max_ms (most of the operation's length, so every phase can be hit).
kill_during() {
	local max_ms=$1
	shift
	local ms=$(( RANDOM % max_ms ))
	[ "$1" = L ] && shift
	# lctr itself, not a subshell around it: $! must be the process killed.
	"$LCTR" "$@" >"$tmp/killed.out" 2>&1 &
	local pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	kills=$((kills + 1))
	echo "kill $kills: $op after ${ms} ms"
}

# The length of one run of an operation, in ms (at least 50, below 1000).
span() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	local ms=$(( (t1 - t0) / 1000000 ))
	(( ms < 50 )) && ms=50
	(( ms > 999 )) && ms=999
	echo "$ms"
}

fresh_tree() { # no image, no content of it: the next pull starts from scratch or resumes
	L images rm "$TREE" >/dev/null 2>&1 || true
	L gc >/dev/null
}

# ---- pull: 16 kills ----
op=pull
fresh_tree
pull_ms=$(span L images pull --plain-http "$TREE")
fresh_tree
for _ in $(seq 1 16); do
	kill_during "$pull_ms" L images pull --plain-http "$TREE"
	check_after_kill
	L images pull --plain-http "$TREE" >"$tmp/pull.out" 2>&1 || fail "pull after kill: $(cat "$tmp/pull.out")"
	L images check | grep -q "$TREE .*complete " || fail "image incomplete after pull: $(L images check)"
	[ "$(L snapshots ls | grep -c ' Committed$')" -ge 3 ] || fail "layers: $(L snapshots ls)"
	fresh_tree
done

# ---- gc: 8 kills ----
op=gc
L images pull --plain-http "$TREE" >/dev/null
L images rm "$TREE" >/dev/null
gc_ms=$(span L gc)
for _ in $(seq 1 8); do
	L images pull --plain-http "$TREE" >/dev/null || fail "pull before gc"
	L images rm "$TREE" >/dev/null
	kill_during "$gc_ms" L gc
	check_after_kill
	L gc >/dev/null || fail "gc after kill"
	out=$(L images check --all) || true
	bad=$(tail -n +2 <<<"$out" | grep -Ev "$allowed" || true)
	[ -z "$bad" ] || fail "after gc: $out"
done

# ---- container create and delete: 7 + 7 kills ----
op="container create"
create_ms=$(span L c create "$BB" probe true)
L c rm probe >/dev/null || fail "rm probe"
for i in $(seq 1 7); do
	kill_during "$create_ms" L c create "$BB" "c$i" true
	check_after_kill
	L c rm "c$i" >/dev/null 2>&1 || true
	L c create "$BB" "c$i" true >/dev/null || fail "create after kill"
done
op="container delete"
L c create "$BB" probe true >/dev/null
del_ms=$(span L c rm probe)
for i in $(seq 1 7); do
	kill_during "$del_ms" L c rm "c$i"
	check_after_kill
	if L c ls -q | grep -qx "c$i"; then
		L c rm "c$i" >/dev/null || fail "delete after kill"
	fi
	! L c ls -q | grep -qx "c$i" || fail "c$i still listed"
done

# ---- task start and delete: 6 + 6 kills ----
op="task start"
L c create "$BB" probe sleep 1000 >/dev/null
start_ms=$(span L t start -d probe)
L t rm -f probe >/dev/null
for i in $(seq 1 6); do
	L c create "$BB" "t$i" sleep 1000 >/dev/null
	kill_during "$start_ms" L t start -d "t$i"
	check_after_kill
	L t rm -f "t$i" >/dev/null 2>&1 || true
	L t start -d "t$i" >/dev/null || fail "start after kill: $(L t ls)"
	L t ls | grep -Eq "^t$i +[0-9]+ +RUNNING$" || fail "not running: $(L t ls)"
done
op="task delete"
L t kill -s KILL probe >/dev/null 2>&1 || true
L t rm -f probe >/dev/null 2>&1 || true
L t start -d probe >/dev/null
tdel_ms=$(span L t rm -f probe)
for i in $(seq 1 6); do
	kill_during "$tdel_ms" L t rm -f "t$i"
	check_after_kill
	if L t ls | grep -Eq "^t$i "; then
		L t rm -f "t$i" >/dev/null || fail "task delete after kill: $(L t ls)"
	fi
	! L t ls | grep -Eq "^t$i " || fail "t$i still listed: $(L t ls)"
	L c rm "t$i" >/dev/null || fail "container rm after task delete"
done
L c rm probe >/dev/null

op=end
[ "$kills" -ge 50 ] || fail "only $kills kills"
L images check --all --repair >/dev/null || fail "final repair"
out=$(L images check --all) || fail "final check: $out"
echo "crash: $kills kills, store consistent after each (seed $seed)"
