#!/usr/bin/env bash
# examples/readonly-views against a real registry: ten containers on views
# of one image each see it and get EROFS on a write; nothing is left.
# usage: test-example-readonly-views.sh READONLY-VIEWS
EX=${1:?usage: test-example-readonly-views.sh READONLY-VIEWS}
. "$(dirname "$0")/examples-lib.sh"

"$EX" --plain-http "$root" "$state" "$REF" >"$tmp/out" 2>"$tmp/err" || fail "$(cat "$tmp/out" "$tmp/err")"
for i in 0 1 2 3 4 5 6 7 8 9; do
	grep -qx "view$i: exit status 1, sees the image: yes, write: EROFS" "$tmp/out" || fail "view$i: $(cat "$tmp/out")"
done
[ "$(wc -l <"$tmp/out")" = 11 ] && [ "$(tail -1 "$tmp/out")" = "all 10 views are read-only" ] || fail "$(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
assert_clean
# Only the image's own snapshot remains: the views went with their containers.
export LCTR_ROOT=$root LCTR_STATE=$state
[ -z "$("$LCTR" containers ls -q)" ] || fail "containers left"
[ "$("$LCTR" snapshots ls | tail -n +2 | wc -l)" = 1 ] || fail "snapshots: $("$LCTR" snapshots ls)"
echo "example readonly-views: ok"
