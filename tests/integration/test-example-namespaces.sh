#!/usr/bin/env bash
# examples/namespaces against a real registry: the same image in two
# namespaces is stored once, containers stay apart, and the bytes go only
# when neither namespace records them. Nothing is left in the root.
# usage: test-example-namespaces.sh NAMESPACES
EX=${1:?usage: test-example-namespaces.sh NAMESPACES}
. "$(dirname "$0")/examples-lib.sh"

"$EX" --plain-http "$root" "$state" "$REF" >"$tmp/out" 2>"$tmp/err" || fail "$(cat "$tmp/out" "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
! grep -q FAILED "$tmp/out" || fail "$(cat "$tmp/out")"
# busybox: index-less manifest, config and one layer.
grep -qx "blobs recorded: team-a 3, team-b 3; blob files on disk: 3" "$tmp/out" || fail "$(cat "$tmp/out")"
for what in "content is shared: each blob stored once" "team-b cannot load team-a's container" \
	"team-b lists no containers" 'team-b creates its own container "app"' \
	"team-b still holds the bytes" "nobody holds them: bytes freed"; do
	grep -Eq "^$what +ok$" "$tmp/out" || fail "no '$what ok': $(cat "$tmp/out")"
done
grep -q "^  team-b: .*not found" "$tmp/out" || fail "load message: $(cat "$tmp/out")"
# The registry served each blob once: team-b's pull downloaded nothing.
layer=$(jq -r '.layers[0].digest' "$tmp/bb/summary.json")
[ "$(grep -c "GET /v2/test/busybox/blobs/$layer" "$REGISTRY_LOG")" = 1 ] || fail "layer fetched $(grep -c "GET /v2/test/busybox/blobs/$layer" "$REGISTRY_LOG") times"
export LCTR_ROOT=$root LCTR_STATE=$state
[ -z "$("$LCTR" namespaces ls -q 2>/dev/null | grep team)" ] || fail "namespaces left: $("$LCTR" namespaces ls)"
[ -z "$(ls "$root/content/blobs/sha256")" ] || fail "blobs left"
assert_clean
echo "example namespaces: ok"
