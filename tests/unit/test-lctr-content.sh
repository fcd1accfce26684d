#!/usr/bin/env bash
# lctr content: ingest, ls, get, label, rm, active; errors keep the one-line shape.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
d=sha256:$(printf hello | sha256sum | cut -d' ' -f1)
printf hello | "$LCTR" content ingest --expected-digest "$d" ref1
[ "$("$LCTR" content get "$d")" = hello ]
"$LCTR" content ls | head -1 | grep -q '^DIGEST *SIZE *AGE *LABELS$'
"$LCTR" content ls | grep -q "^$d *5 B "
[ "$("$LCTR" content ls -q)" = "$d" ]
"$LCTR" content label "$d" team=a >/dev/null
"$LCTR" content ls | grep "^$d" | grep -q 'team=a'
[ "$("$LCTR" content ls -q labels.team==b)" = "" ]
[ "$("$LCTR" content ls -q labels.team==a)" = "$d" ]
# Another namespace does not see it.
[ "$("$LCTR" -n other content ls -q)" = "" ]
set +e
out=$("$LCTR" -n other content get "$d" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: content get: "*"not found"* ]] || { echo "get in other ns: $rc $out"; exit 1; }
# A wrong digest stores nothing.
bad=sha256:$(printf other | sha256sum | cut -d' ' -f1)
set +e
out=$(printf wrong | "$LCTR" content ingest --expected-digest "$bad" ref3 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "lctr: content ingest: "*"digest"* ]] || { echo "bad digest: $rc $out"; exit 1; }
[ ! -e "$tmp/root/content/blobs/sha256/${bad#sha256:}" ]
"$LCTR" content active | head -1 | grep -q '^REF *SIZE *AGE$'
"$LCTR" content rm "$d" >/dev/null
[ "$("$LCTR" content ls -q)" = "" ]
[ ! -e "$tmp/root/content/blobs/sha256/${d#sha256:}" ]
echo "lctr content: ok"
