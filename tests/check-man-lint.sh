#!/usr/bin/env bash
# Every page in man/ (lctr.1 included) renders with no warnings: groff -ww as
# `MANWIDTH=80 man --warnings -l` runs it (-Tutf8, 80 columns; one groff for
# all pages, as man -l takes seconds a page on a loaded machine; on a warning
# each page is run alone to name it), and, when mandoc is installed
# (tests/run.sh installs it), mandoc -Tlint at warning level.
set -euo pipefail
dir=${1:?usage: check-man-lint.sh MAN_DIR}
pages=("$dir"/*.[0-9])
[ -e "${pages[0]}" ] || { echo "FAIL: no pages in $dir" >&2; exit 1; }
render() { groff -man -Tutf8 -rLL=80n -ww -z "$@" 2>&1; }
fail=0
if [ -n "$(render "${pages[@]}")" ]; then
	for page in "${pages[@]}"; do
		out=$(render "$page")
		[ -z "$out" ] || { printf 'FAIL: %s:\n%s\n' "$(basename "$page")" "$out" >&2; fail=1; }
	done
	[ "$fail" = 1 ] || { echo "FAIL: warnings from the pages together: $(render "${pages[@]}")" >&2; fail=1; }
fi
if command -v mandoc >/dev/null; then
	out=$(mandoc -Tlint -Wwarning "${pages[@]}" 2>&1) || true
	[ -z "$out" ] || { printf 'FAIL: mandoc -Tlint:\n%s\n' "$out" >&2; fail=1; }
else
	echo "mandoc not installed: checked with groff -ww only"
fi
[ "$fail" = 0 ] && echo "${#pages[@]} pages render with no warnings"
exit $fail
