#!/usr/bin/env bash
# Every public header, the implementer's ctr/sys/ ones included, compiles on
# its own as strict C99 (ARCHITECTURE.md, "Conventions").
set -euo pipefail
cc=$1 inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for h in "$inc"/ctr/*.h "$inc"/ctr/sys/*.h; do
	name=${h#"$inc"/}
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$name" "$name" >"$tmp/t.c"
	if ! "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL: $name does not compile alone as C99" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "all public headers compile as C99"
exit $fail
