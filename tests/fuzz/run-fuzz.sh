#!/usr/bin/env bash
# Runs fuzz targets of a -Dfuzz=enabled build for SECONDS each, one after
# the other, each from its seed corpus (tests/fuzz/corpus/NAME/, read only:
# what libFuzzer finds goes to a scratch copy). A crash, leak, timeout or
# sanitizer report fails the run; the input that caused it is kept in
# $FUZZ_OUT (default: a fresh directory under /tmp) and printed, ready to go
# into the corpus as a regression test.
#   tests/fuzz/run-fuzz.sh BUILDDIR SECONDS [NAME...]   (all targets without NAME)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run-fuzz.sh BUILDDIR SECONDS [NAME...]}
secs=${2:?usage: run-fuzz.sh BUILDDIR SECONDS [NAME...]}
shift 2
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for d in "$here"/corpus/*/; do names+=("$(basename "$d")"); done
fi
out=${FUZZ_OUT:-$(mktemp -d /tmp/libctr-fuzz-out.XXXXXX)}
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for n in "${names[@]}"; do
	bin=$build/tests/fuzz/fuzz-$n
	if [ ! -x "$bin" ]; then
		echo "run-fuzz: $bin missing (build with -Dfuzz=enabled)" >&2
		failed+=("$n")
		continue
	fi
	work=$(mktemp -d /tmp/libctr-fuzz-corpus.XXXXXX)
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -max_len=65536 -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$n-" "$work" "$here/corpus/$n" \
		>"$out/$n.log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$n.log" | tail -1)
	echo "fuzz $n: ${execs:-?} runs in $((end - start)) s, rc $rc, $(find "$work" -type f | wc -l) new inputs"
	rm -rf "$work"
	if [ $rc -ne 0 ]; then
		failed+=("$n")
		grep -E "ERROR|SUMMARY|runtime error|abort" "$out/$n.log" | head -5
		ls "$out/$n-"* 2>/dev/null | sed 's/^/  input: /'
		echo "  log: $out/$n.log (copy the input to tests/fuzz/corpus/$n/ to replay it in the unit suite)"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: ${#names[@]} targets, $secs s each, no finding"
