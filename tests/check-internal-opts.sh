#!/usr/bin/env bash
# Inside the library no object builds a public option: each layer reaches
# another through its internal function, with plain arguments, instead of
# constructing a ctr_with_* / ctr_oci_with_* option only to have it parsed
# again (and its allocation error lost). Read from the objects of the
# non-installed static library the shared library is built from: an object
# may refer to a public option constructor only if it defines it itself.
set -euo pipefail
archive=$1
listing=$(nm -A "$archive")
bad=0
while read -r obj sym; do
	[ -z "$obj" ] && continue
	if ! grep -qE "^[^ ]*:${obj//./\\.}: *[0-9a-f]+ T ${sym}\$" <<<"$listing"; then
		echo "${obj##*/}: refers to public option constructor $sym" >&2
		bad=1
	fi
done < <(awk '$2 == "U" && $3 ~ /^ctr_(oci_)?with_/ {
		n = split($1, p, ":"); print p[n - 1], $3 }' <<<"$listing" | sort -u)
n=$(awk -F: '{ print $(NF - 1) }' <<<"$listing" | sort -u | wc -l)
[ "$bad" = 0 ] && echo "$n objects: none refers to a public option constructor it does not define"
exit $bad
