#!/usr/bin/env bash
# Exported symbols == the version script (libinput's symbols-leak test):
# nothing exported that is not listed, nothing listed that is not exported,
# and every name starts with ctr_.
set -euo pipefail
lib=$1 script=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | grep -v '^LIBCTR_' | sort -u)
listed=$(sed 's#/\*.*\*/##' "$script" | grep -E '^\s*ctr_[A-Za-z0-9_]+;' | tr -d ' \t;' | sort -u)
bad=0
while read -r s; do
	[ -z "$s" ] && continue
	case $s in ctr_*) ;; *) echo "exported symbol without ctr_ prefix: $s" >&2; bad=1 ;; esac
done <<<"$exported"
extra=$(comm -23 <(echo "$exported") <(echo "$listed"))
missing=$(comm -13 <(echo "$exported") <(echo "$listed"))
if [ -n "$extra" ]; then echo "exported but not in $script:" >&2; echo "$extra" >&2; bad=1; fi
if [ -n "$missing" ]; then echo "in $script but not exported:" >&2; echo "$missing" >&2; bad=1; fi
[ "$bad" = 0 ] && echo "$(echo "$exported" | wc -l) exported symbols match the version script"
exit $bad
