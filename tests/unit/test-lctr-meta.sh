#!/usr/bin/env bash
# lctr namespaces, leases and gc (lctr(1)): output shapes, exit codes, errors.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
unset CONTAINERD_NAMESPACE
fail() { echo "FAIL: $*" >&2; exit 1; }
# Runs lctr expecting failure with exit code $1; the error line lands in $err.
expect_fail() {
	local want=$1; shift
	set +e
	err=$("$LCTR" "$@" 2>&1 >/dev/null); local rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "lctr $* exited $rc, want $want ($err)"
	[[ "$err" == "lctr: "* ]] || fail "lctr $*: bad error line: $err"
}

# namespaces: create, ls with header, -q, aliases, label set/clear.
"$LCTR" namespaces create alpha team=a tier=1
"$LCTR" ns create beta
out=$("$LCTR" namespace ls)
[ "$(head -1 <<<"$out" | tr -s ' ')" = "NAME LABELS" ] || fail "ns ls header: $out"
grep -Eq '^alpha +team=a,tier=1$' <<<"$out" || fail "ns ls row: $out"
grep -Eq '^beta *$' <<<"$out" || fail "ns ls row beta: $out"
[ "$("$LCTR" ns ls -q)" = $'alpha\nbeta' ] || fail "ns ls -q"
[ "$("$LCTR" ns ls -q labels.team==a)" = alpha ] || fail "ns ls with a filter"
"$LCTR" ns label alpha tier= new=x
grep -Eq '^alpha +new=x,team=a$' <<<"$("$LCTR" ns ls)" || fail "ns label"
expect_fail 1 ns create alpha
[[ "$err" == *"already exists"* ]] || fail "exists message: $err"
for bad in ../x a/b a--b ''; do
	expect_fail 1 ns create "$bad"
	[[ "$err" == *"invalid namespace"* ]] || fail "bad name message: $err"
done
[ "$("$LCTR" ns ls -q)" = $'alpha\nbeta' ] || fail "bad names wrote something"

# leases: create with and without id, ls shape, -q, per-namespace, rm.
id=$("$LCTR" leases create --expires 30m --id build1 x=y)
[ "$id" = build1 ] || fail "lease create printed $id"
rid=$("$LCTR" lease create)
[[ "$rid" =~ ^[0-9]+-[0-9a-f]+$ ]] || fail "random lease id $rid"
"$LCTR" -n alpha leases create --expires 0 --id keep >/dev/null
out=$("$LCTR" leases ls)
[ "$(head -1 <<<"$out" | tr -s ' ')" = "ID CREATED AT LABELS" ] || fail "leases ls header: $out"
grep -Eq '^build1 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|[+-][0-9]{2}:[0-9]{2}) +containerd.io/gc.expire=[0-9T:Z-]+,x=y$' <<<"$out" \
	|| fail "leases ls row: $out"
[ "$("$LCTR" leases ls -q | sort)" = "$(printf '%s\n' build1 "$rid" | sort)" ] || fail "leases ls -q"
[ "$("$LCTR" -n alpha leases ls -q)" = keep ] || fail "lease in alpha"
expect_fail 1 leases create --id build1
[[ "$err" == *"already exists"* ]] || fail "lease exists message: $err"
# ctr's shape: positional arguments are labels, KEY alone an empty value,
# --label still adds one.
lid=$("$LCTR" leases create --expires 0 team=a solo --label z=1)
[[ "$lid" =~ ^[0-9]+-[0-9a-f]+$ ]] || fail "labelled lease id $lid"
grep -Eq "^$lid +[0-9T:Z+-]+ +solo=,team=a,z=1$" <<<"$("$LCTR" leases ls)" || fail "labels of $lid: $("$LCTR" leases ls)"
"$LCTR" leases rm "$lid"
# bad input: usage errors (exit 2) that create nothing
before=$("$LCTR" leases ls -q | sort)
expect_fail 2 leases create --expires soon --id x2
[ "$err" = 'lctr: leases create: invalid duration "soon" (e.g. 24h, 30m)' ] || fail "duration message: $err"
expect_fail 2 leases create --id x3 =v
[ "$err" = 'lctr: leases create: invalid label "=v": want KEY=VALUE' ] || fail "label message: $err"
expect_fail 2 leases create --id
[ "$err" = 'lctr: leases create: --id needs a value' ] || fail "--id message: $err"
expect_fail 1 leases create --id ../x
[[ "$err" == *"invalid"* ]] || fail "bad id message: $err"
[ "$("$LCTR" leases ls -q | sort)" = "$before" ] || fail "a refused lease create wrote a lease"
"$LCTR" leases rm "$rid"
expect_fail 1 leases rm "$rid"
[[ "$err" == *"not found"* ]] || fail "rm missing: $err"

# A namespace with a lease in it cannot go; an empty one can.
expect_fail 1 ns rm alpha
[[ "$err" == *"must be empty"*"1 leases"* ]] || fail "ns rm non-empty: $err"
[ "$("$LCTR" ns rm beta)" = beta ] || fail "ns rm prints the name"
"$LCTR" -n alpha leases rm keep
"$LCTR" ns rm alpha >/dev/null
[ -z "$("$LCTR" ns ls -q | grep -v '^default$' || true)" ] || fail "namespaces left: $("$LCTR" ns ls -q)"

# gc: an expired lease is removed and named; a live one stays.
"$LCTR" leases create --expires 1s --id short >/dev/null
sleep 1.2
out=$("$LCTR" gc)
[ "$out" = "lease default/short" ] || fail "gc printed: $out"
[ -z "$("$LCTR" gc)" ] || fail "second gc removed something"
[ "$("$LCTR" leases ls -q)" = build1 ] || fail "live lease after gc"
expect_fail 2 gc extra
echo "lctr namespaces/leases/gc: ok"
