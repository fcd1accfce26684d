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
# fetch-object and push-object: bad values are usage errors (exit 2, one
# line) that change nothing on disk; a blob the namespace lacks fails (1)
# before any registry is asked.
tree() { find "$tmp/root" "$tmp/state" -printf '%p %s %T@\n' 2>/dev/null | sort; }
expect() {
	local want_rc=$1 want=$2 before rc
	shift 2
	before=$(tree)
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" = "$want_rc" ] && [ "$(cat "$tmp/err")" = "$want" ] ||
		{ echo "$*: exit $rc, stderr '$(cat "$tmp/err")', want $want_rc '$want'"; exit 1; }
	[ "$want_rc" != 2 ] || [ "$before" = "$(tree)" ] || { echo "$*: changed the disk"; exit 1; }
	[ ! -s "$tmp/out" ] || { echo "$*: wrote '$(cat "$tmp/out")'"; exit 1; }
}
expect 2 'lctr: content fetch-object: invalid digest "sha256:abc": want sha256:<64 hex digits>' \
	"$LCTR" content fetch-object --plain-http 127.0.0.1:1/x:1 sha256:abc
expect 2 'lctr: content fetch-object: unexpected argument "b" (usage: lctr content fetch-object [flags] REF [DIGEST])' \
	"$LCTR" content fetch-object 127.0.0.1:1/x:1 "$d" b
expect 2 "lctr: content push-object: invalid digest \"../../x\": want sha256:<64 hex digits>" \
	"$LCTR" content push-object 127.0.0.1:1/x:1 ../../x application/octet-stream
for mt in nothing 'a/b; x=y' $'a/b\r\nX-Evil: 1' ''; do
	expect 2 "lctr: content push-object: invalid media type \"$mt\": want type/subtype" \
		"$LCTR" content push-object 127.0.0.1:1/x:1 "$d" "$mt"
done
expect 2 'lctr: content push-object: missing argument (usage: lctr content push-object [flags] REF DIGEST TYPE)' \
	"$LCTR" content push-object 127.0.0.1:1/x:1 "$d"
# what the library refuses that lctr lets through: characters outside RFC 6838
expect 1 "lctr: content push-object: push object 127.0.0.1:1/x:1 $d: invalid media type \"a/b(c)\": want type/subtype" \
	"$LCTR" content push-object --plain-http 127.0.0.1:1/x:1 "$d" 'a/b(c)'
expect 1 "lctr: content push-object: push object 127.0.0.1:1/x:1 $d: content read $d: content $d not found in namespace default" \
	"$LCTR" content push-object --plain-http 127.0.0.1:1/x:1 "$d" application/octet-stream
echo "lctr content: ok"
