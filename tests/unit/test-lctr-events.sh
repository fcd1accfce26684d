#!/usr/bin/env bash
# lctr events (lctr(1)): events published by other processes stream out one
# line each, in ctr's format, and filters select them.
#   usage: test-lctr-events.sh EVENTS_PUB   ($LCTR names the lctr binary)
set -euo pipefail
pub=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state

"$LCTR" events >"$tmp/all" 2>"$tmp/all.err" & pids+=($!)
"$LCTR" events 'topic~="^/images/"' >"$tmp/img" 2>"$tmp/img.err" & pids+=($!)
"$LCTR" -n ignored events 'namespace==other' 'topic=="/images/delete"' >"$tmp/or" 2>&1 & pids+=($!)

# The subscribers start in the background: ping until all of them listen.
ready=
for _ in $(seq 100); do
	"$pub" other /images/ping '{}'
	if grep -q /images/ping "$tmp/all" && grep -q /images/ping "$tmp/img" && grep -q /images/ping "$tmp/or"; then
		ready=1; break
	fi
	sleep 0.1
done
[ -n "$ready" ] || { echo "subscribers never saw a ping"; cat "$tmp"/*.err; exit 1; }

"$pub" default /images/create '{"name":"docker.io/library/busybox:latest","labels":{}}'
"$pub" other /tasks/exit '{"id":"c1","exit_status":3}'
"$pub" default /images/delete '{"name":"x"}'
for _ in $(seq 100); do
	grep -q /images/delete "$tmp/all" && grep -q /images/delete "$tmp/img" && grep -q /images/delete "$tmp/or" && break
	sleep 0.1
done

ts='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])? \+0000 UTC'
check() { # file, expected lines (regexes), after dropping the pings
	local f=$1; shift
	grep -v ' /images/ping ' "$f" >"$f.ev" || true
	local n; n=$(wc -l <"$f.ev")
	[ "$n" = $# ] || { echo "$f: $n events, want $#:"; cat "$f"; exit 1; }
	local i=1
	for want in "$@"; do
		line=$(sed -n "${i}p" "$f.ev")
		[[ "$line" =~ ^$ts\ $want$ ]] || { echo "$f line $i: '$line' does not match '$want'"; exit 1; }
		i=$((i + 1))
	done
}
create='default /images/create \{"labels":\{\},"name":"docker\.io/library/busybox:latest"\}'
exit_ev='other /tasks/exit \{"exit_status":3,"id":"c1"\}'
delete='default /images/delete \{"name":"x"\}'
check "$tmp/all" "$create" "$exit_ev" "$delete"
check "$tmp/img" "$create" "$delete"
check "$tmp/or" "$exit_ev" "$delete"

# A bad filter: exit 1 and one "lctr: subscribe: ..." line.
set +e
out=$("$LCTR" events 'topic~="(' 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || { echo "bad filter exit $rc"; exit 1; }
[[ "$out" == "lctr: subscribe: "*"filter"* ]] || { echo "bad error line: $out"; exit 1; }
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || { echo "more than one line: $out"; exit 1; }
echo "lctr events: ok"
