#!/usr/bin/env bash
# Inside the library no layer reaches another through the public option
# machinery: an object refers neither to a public option constructor
# (ctr_with_*, ctr_oci_with_*) nor to a public entry point that parses
# options (a CTR_EXPORT function of include/ctr/ taking `const ctr_opt *const
# *opts`), unless it defines that function itself. Each layer's internal
# call takes plain arguments instead, so nothing is built on the heap only to
# be parsed again. Handle methods without options (free, getters, a writer's
# write) are the object model and stay allowed.
# Read from the objects of the non-installed static library the shared
# library is built from.
set -euo pipefail
archive=$1 include=$2
listing=$(nm -A "$archive")
# Exported functions taking options, read from the public headers: comments
# dropped, one declaration per record.
entry=$(cat "$include"/ctr/*.h $(find "$include/ctr" -mindepth 2 -name '*.h' 2>/dev/null) |
	sed -e ':a' -e 's#/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/##g' -e '/\/\*/{N;ba' -e '}' |
	tr '\n' ' ' | tr ';' '\n' |
	awk '/CTR_EXPORT/ && /ctr_opt \*const \*/ {
		sub(/\(.*/, ""); n = split($0, w, /[ \t*]+/); print w[n] }' | sort -u)
[ -n "$entry" ] || { echo "no option-taking entry point found in $include/ctr" >&2; exit 1; }
bad=0
# Undefined references to either kind, as "object symbol kind".
refs=$(awk -v entry="$entry" '
	BEGIN { n = split(entry, e, "\n"); for (i = 1; i <= n; i++) ep[e[i]] = 1 }
	$2 == "U" {
		k = split($1, p, ":"); obj = p[k - 1]
		if ($3 ~ /^ctr_(oci_)?with_/) print obj, $3, "option-constructor"
		else if ($3 in ep) print obj, $3, "entry-point"
	}' <<<"$listing" | sort -u)
while read -r obj sym kind; do
	[ -z "$obj" ] && continue
	if ! grep -qE "^[^ ]*:${obj//./\\.}: *[0-9a-f]+ T ${sym}\$" <<<"$listing"; then
		echo "${obj##*/}: refers to public ${kind/-/ } $sym" >&2
		bad=1
	fi
done <<<"$refs"
n=$(awk -F: '{ print $(NF - 1) }' <<<"$listing" | sort -u | wc -l)
[ "$bad" = 0 ] && echo "$n objects: none refers to a public option constructor or option-taking entry point" \
	"($(wc -l <<<"$entry") of them) it does not define"
exit $bad
