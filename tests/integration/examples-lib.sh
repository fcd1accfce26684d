# Sourced by the tests of examples/ (C, Python, Go): a scratch directory
# $tmp with $root and $state, a real docker-registry (plain HTTP) holding
# a busybox image at $REF, teardown that runs even when the test fails, and
# assert_clean: no mounts under $tmp, no shim or runc process of $tmp.
# shellcheck shell=bash
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
F=$MESON_SOURCE_ROOT/tests/fixtures
tmp=$(mktemp -d /tmp/libctr-example-XXXXXX)
root=$tmp/root
state=$tmp/state
reg=

fail() { echo "FAIL: $*" >&2; exit 1; }

# Processes started from this test's state: shims (their -d names a task
# directory under $state) and runc.
leftover_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		{ tr "\\0" " " <"$p/cmdline"; } 2>/dev/null | grep -F -- "$tmp/" >/dev/null && echo "${p#/proc/}"
	done
	return 0
}

leftover_mounts() { grep -o " $tmp[^ ]*" /proc/mounts | sort -r || true; }

assert_clean() {
	local m p
	m=$(leftover_mounts)
	[ -z "$m" ] || fail "mounts left under $tmp:$m"
	p=$(leftover_pids)
	[ -z "$p" ] || fail "processes left: $(for i in $p; do tr '\0' ' ' <"/proc/$i/cmdline"; echo; done)"
}

# The output contract of the bindings' pull-run programs (examples/python,
# examples/go): $1 is the word in "hello from <word>", $tmp/out and
# $tmp/err what the program wrote. Then nothing may be left.
check_binding_run() {
	[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
	grep -qx "libctr [0-9]*\.[0-9]*\.[0-9]*" "$tmp/out" || fail "version: $(cat "$tmp/out")"
	grep -qx "pulled $REF (sha256:[0-9a-f]\{64\})" "$tmp/out" || fail "pulled: $(cat "$tmp/out")"
	grep -qx "hello from $1" "$tmp/out" || fail "container output: $(cat "$tmp/out")"
	grep -qx "exit status: 3" "$tmp/out" || fail "exit status: $(cat "$tmp/out")"
	grep -Eqx "error code -1 \(not found\): .*no-such-tag.*not found.*" "$tmp/out" || fail "error: $(cat "$tmp/out")"
	grep -qx "objects not freed: 0" "$tmp/out" || fail "leak: $(cat "$tmp/out")"
	assert_clean
	[ -z "$(LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" containers ls -q)" ] || fail "container left"
}

examples_cleanup() {
	set +e
	local pid d c
	for pid in $(leftover_pids); do kill -9 "$pid" 2>/dev/null; done
	for d in "$state"/tasks/*/*/runc; do
		[ -d "$d" ] && for c in $(ls "$d"); do runc --root "$d" delete --force "$c" >/dev/null 2>&1; done
	done
	leftover_mounts | while read -r m; do umount -l "$m"; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap examples_cleanup EXIT

# A one-layer busybox image, pushed to a fresh plain-HTTP registry.
python3 "$F/mkimage.py" busybox "$tmp/bb" >/dev/null
eval "$("$F/registry.sh" start plain --owner-pid $$ --ttl 300)"
reg=$REGISTRY_DIR
"$F/registry.sh" push "$REGISTRY_DIR" "oci:$tmp/bb:latest" test/busybox:1 >/dev/null 2>&1
REF=$REGISTRY_ADDR/test/busybox:1
MISSING_REF=$REGISTRY_ADDR/test/busybox:no-such-tag
