#!/usr/bin/env bash
# lctr images check --all [--repair]: the store check's findings, its exit
# status, and that repair fixes exactly what it reported.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
fail() { echo "FAIL: $*" >&2; exit 1; }
d=sha256:$(printf hello | sha256sum | cut -d' ' -f1)
k=sha256:$(printf keep | sha256sum | cut -d' ' -f1)
printf hello | "$LCTR" content ingest --expected-digest "$d" ref1
printf keep | "$LCTR" content ingest --expected-digest "$k" ref2
out=$("$LCTR" images check --all) || fail "clean store: $out"
[[ "$out" =~ ^KIND\ +SUBJECT\ +STATUS\ +DETAIL$ ]] || fail "header: $out"
[ "$(wc -l <<<"$out")" = 1 ] || fail "clean store has findings: $out"
# A blob with other bytes: found, left alone, exit 1.
blob=$tmp/root/content/blobs/sha256/${d#sha256:}
printf evil >"$blob"
set +e
out=$("$LCTR" images check --all); rc=$?
set -e
[ "$rc" = 1 ] || fail "findings exit $rc"
grep -qE "^blob-corrupt +$d +found " <<<"$out" || fail "no blob-corrupt line: $out"
[ "$(wc -l <<<"$out")" = 2 ] || fail "want one finding: $out"
[ "$(cat "$blob")" = evil ] || fail "check without --repair changed the blob"
# --repair needs --all, and --all takes no filters: usage errors.
set +e
e1=$("$LCTR" images check --repair 2>&1); rc1=$?
e2=$("$LCTR" images check --all name==x 2>&1); rc2=$?
set -e
[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || fail "usage errors exit $rc1 $rc2"
[[ "$e1" == "lctr: images check: usage: "* && "$e2" == "lctr: images check: usage: "* ]] || fail "usage: $e1 / $e2"
[ "$(cat "$blob")" = evil ]
out=$("$LCTR" images check --all --repair) || fail "repair left findings: $out"
grep -qE "^blob-corrupt +$d +repaired " <<<"$out" || fail "blob not repaired: $out"
grep -qE "^content-missing +default/$d +repaired " <<<"$out" || fail "record not repaired: $out"
[ "$(wc -l <<<"$out")" = 3 ] || fail "want two findings: $out"
[ ! -e "$blob" ] || fail "corrupt blob still there"
[ "$("$LCTR" content ls -q)" = "$k" ] || fail "repair touched another blob"
out=$("$LCTR" images check --all) || fail "after repair: $out"
[ "$(wc -l <<<"$out")" = 1 ] || fail "after repair: $out"
# The per-image form still works.
"$LCTR" images check | head -1 | grep -q '^REF *TYPE *DIGEST *STATUS *SIZE *UNPACKED$'
echo "lctr images check: ok"
