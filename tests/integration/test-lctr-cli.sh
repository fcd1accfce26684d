#!/usr/bin/env bash
# lctr's command line is safe: every flag and argument count is checked
# before a command acts (an unknown flag anywhere exits 2, one line, and
# changes nothing), global flags after the command are used, never dropped
# (nothing appears outside the given root), every command and group
# answers --help and -h with every flag it knows, exit codes follow
# lctr(1), and errors carry their hints. The command list comes from lctr's
# own help and the flag list from its sources, so neither can drift.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
unset LCTR_ROOT LCTR_STATE CONTAINERD_NAMESPACE
tmp=$(mktemp -d /tmp/lctr-cli-XXXXXX)
L() { "$LCTR" --root "$tmp/root" --state "$tmp/state" "$@"; }
http_pid=
cleanup() {
	set +e
	[ -n "$http_pid" ] && kill "$http_pid"
	for id in $(L c ls -q 2>/dev/null); do
		L t rm -f "$id" >/dev/null 2>&1
		L c rm "$id" >/dev/null 2>&1
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# The default root and state must not appear when they were not there.
defaults_before=$(ls -d /var/lib/libctr /run/libctr 2>/dev/null || true)
defaults_same() {
	[ "$(ls -d /var/lib/libctr /run/libctr 2>/dev/null || true)" = "$defaults_before" ] ||
		fail "$*: created $(ls -d /var/lib/libctr /run/libctr 2>/dev/null)"
}
# The whole of a directory: names, sizes and modification times.
tree() { [ -e "$1" ] && find "$1" -printf '%p %s %T@ %m\n' | sort || echo "(none)"; }

# expect RC MESSAGE CMD...: exit status RC, exactly MESSAGE on stderr (one
# line), and nothing created at the default paths; for a usage error (2),
# nothing changed under $tmp either (a failure, 1, has opened the store).
expect() {
	local want_rc=$1 want=$2 rc before after
	shift 2
	before=$(tree "$tmp")
	set +e
	"$@" >"$tmp.out" 2>"$tmp.err"
	rc=$?
	set -e
	after=$(tree "$tmp")
	[ "$rc" = "$want_rc" ] || fail "$*: exit $rc, want $want_rc ($(cat "$tmp.err"))"
	[ "$(cat "$tmp.err")" = "$want" ] || fail "$*: stderr '$(cat "$tmp.err")', want '$want'"
	[ "$want_rc" != 2 ] || [ "$before" = "$after" ] || fail "$*: changed the disk: $(diff <(echo "$before") <(echo "$after"))"
	defaults_same "$*"
}
trap 'rm -f "$tmp.out" "$tmp.err"; cleanup' EXIT

# ---- global flags after the command are used, never dropped ----
for cmd in info version; do
	G=$tmp/g-$cmd
	out=$("$LCTR" $cmd --root "$G/root" --state "$G/state")
	defaults_same "lctr $cmd --root --state"
	[ "$cmd" = version ] || [[ "$out" == *"\"root\": \"$G/root\""*"\"state\": \"$G/state\""* ]] ||
		fail "info ignored --root/--state: $out"
done
"$LCTR" images ls --root "$tmp/g/root" --state "$tmp/g/state" -n other -q >/dev/null
[ -d "$tmp/g/root" ] || fail "images ls --root after the command was not used"
L -n first info --namespace second | grep '"namespace": "second"' >/dev/null || fail "-n after the command"
"$LCTR" snapshots --root "$tmp/g/root" --state "$tmp/g/state" ls >/dev/null || fail "a global flag between group and command"
defaults_same "global flags"
rm -rf "$tmp/g" "$tmp"/g-*
# ctr's -a/--address has no meaning here: refused, not dropped.
expect 2 'lctr: --address: lctr has no daemon to connect to; drop the flag' "$LCTR" --address /x info
expect 2 'lctr: images ls: --address: lctr has no daemon to connect to; drop the flag' L images ls --address=/x
expect 2 'lctr: info: --root needs a value' "$LCTR" info --root

# ---- a flag after the arguments: refused before anything happens ----
R=$tmp/rootfs
mkdir -p "$R"/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$R/bin/"
ln -s busybox "$R/bin/sh"
L images import --from-rootfs "$R" test/img:1 >/dev/null
L images ls -q | grep -x test/img:1 >/dev/null || fail "import"
expect 2 'lctr: images rm: unknown flag --dry (see lctr images rm --help)' L images rm test/img:1 --dry
expect 2 'lctr: images rm: unknown flag --dry (see lctr images rm --help)' L images rm --dry test/img:1
expect 2 'lctr: images rm: unknown flag -x (see lctr images rm --help)' L images rm test/img:1 -x
expect 2 'lctr: images tag: unknown flag -x (see lctr images tag --help)' L images tag -fx test/img:1 test/img:2
expect 2 'lctr: images tag: --force takes no value' L images tag --force=yes test/img:1 test/img:2
expect 2 'lctr: images pull: --platform needs a value' L images pull test/img:1 --platform
L images ls -q | grep -x test/img:1 >/dev/null || fail "the image went away"
expect 2 'lctr: run: unknown flag --nope (see lctr run --help)' L run --rm test/img:1 --nope c1 true
# after IMAGE ID comes the container's command line, flags and all
out=$(L run --rm --rootfs "$R" c1 sh -c 'echo "$@"' sh --nope -x) || fail "run: $out"
[ "$out" = "--nope -x" ] || fail "run passed on '$out'"

# ---- every command and group: --help and -h, every flag, exit 0, nothing created ----
H=$tmp/help
mkdir "$H"
export LCTR_ROOT=$H/root LCTR_STATE=$H/state
cmds() { sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" {print $1}'; }
paths=()
for c in $("$LCTR" --help | cmds); do
	"$LCTR" "$c" --help >"$H/out" || fail "$c --help exited $?"
	if grep -q '^commands:' "$H/out"; then
		paths+=("$c")
		for s in $(cmds <"$H/out"); do paths+=("$c $s"); done
	else
		paths+=("$c")
	fi
done
[ "${#paths[@]}" -gt 50 ] || fail "only ${#paths[@]} commands found in lctr's help"
: >"$H/all"
for p in "${paths[@]}"; do
	for h in --help -h; do
		# shellcheck disable=SC2086
		"$LCTR" $p $h >"$H/out" 2>"$H/err" || fail "lctr $p $h exited $?"
		[ -s "$H/err" ] && fail "lctr $p $h wrote to stderr: $(cat "$H/err")"
		head -1 "$H/out" | grep -q "^usage: lctr " || fail "lctr $p $h: $(head -1 "$H/out")"
		cat "$H/out" >>"$H/all"
	done
	# every flag line has a description
	if grep -E '^  (-[a-z], |    )--[a-z-]+( [^ ]+)? *$' "$H/out"; then fail "lctr $p: a flag without help"; fi
done
[ ! -e "$H/root" ] && [ ! -e "$H/state" ] || fail "--help created $(ls "$H")"
defaults_same "--help"
# every flag in the sources' tables is in some help
flags=$(grep -ohE "\{('.'|0), \"[a-z-]+\", (no|required)_argument" "$MESON_SOURCE_ROOT"/examples/lctr/*.c |
	sed -E 's/.*"([a-z-]+)".*/\1/' | sort -u)
[ "$(wc -w <<<"$flags")" -gt 50 ] || fail "only $(wc -w <<<"$flags") flags found in the sources"
for f in $flags; do
	grep -qE -- "--$f( |$)" "$H/all" || fail "--$f is in no help"
done
for f in root state namespace debug; do grep -q -- "--$f" "$H/all" || fail "global --$f not in the help"; done

# ---- bad input on every command: exit 2, one line, nothing created ----
for p in "${paths[@]}"; do
	# shellcheck disable=SC2086
	expect 2 "lctr: $p: unknown flag --no-such-flag (see lctr $p --help)" "$LCTR" $p --no-such-flag
	case $p in
	"tasks exec" | completion | "completion "*) ;; # the argument starts a command line / is a shell
	*)
		usage=$("$LCTR" $p --help | head -1)
		grep -q COMMAND <<<"$usage" && [ "$p" != run ] && [ "$p" != "containers create" ] && continue
		# shellcheck disable=SC2086
		expect 2 "lctr: $p: unknown flag --no-such-flag (see lctr $p --help)" "$LCTR" $p x --no-such-flag
		;;
	esac
done
[ ! -e "$H/root" ] && [ ! -e "$H/state" ] || fail "bad flags created $(ls "$H")"
unset LCTR_ROOT LCTR_STATE

# ---- exit codes ----
expect 2 'lctr: run: missing arguments (usage: lctr run [flags] IMAGE|ROOTFS ID [COMMAND [ARG...]])' L run
expect 2 'lctr: completion: missing argument (usage: lctr completion bash|zsh)' L completion
expect 2 'lctr: gc: unexpected argument "now" (usage: lctr gc)' L gc now
expect 2 'lctr: tasks kill: missing argument (usage: lctr tasks kill [flags] ID)' L tasks kill
expect 2 'lctr: images: unknown command "nope" (see lctr images --help)' L images nope
expect 2 'lctr: unknown flag --nope (see lctr --help)' "$LCTR" --nope
"$LCTR" >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" = 2 ] || fail "lctr alone: exit $rc"
"$LCTR" gc --help >/dev/null || fail "gc --help"
expect 1 'lctr: images rm: delete image: image "no/such:1": not found' L images rm no/such:1
expect 1 'lctr: tasks rm nosuch: task "nosuch": not found' L tasks rm nosuch
L run --rm --rootfs "$R" c2 sh -c 'exit 7' && rc=0 || rc=$?
[ "$rc" = 7 ] || fail "run: exit $rc, want the container's 7"
L run -d --rootfs "$R" c3 sh -c 'sleep 0.2; exit 5'
L tasks wait c3 && rc=0 || rc=$?
[ "$rc" = 5 ] || fail "tasks wait: exit $rc, want the container's 5"
L tasks rm c3 && L c rm c3

# ---- hints ----
expect 1 'lctr: run c4: image "no/such:1": not found (pull it first: lctr images pull no/such:1)' \
	L run no/such:1 c4 true
L run -d --rootfs "$R" c5 sh -c 'sleep 100'
expect 1 'lctr: tasks rm c5: task c5 is running (kill it first or --force)' L tasks rm c5
L tasks rm -f c5 && L c rm c5
# a plain-HTTP server taken for a registry over HTTPS
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/rootfs" >/dev/null 2>&1 &
http_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
L images pull "127.0.0.1:$port/x:1" >/dev/null 2>"$tmp.err" && rc=0 || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l <"$tmp.err")" = 1 ] || fail "pull from plain HTTP: rc=$rc $(cat "$tmp.err")"
grep -q "^lctr: pull: .*127.0.0.1:$port/x HEAD: TLS/certificate error: .*(if the registry talks plain HTTP, add --plain-http)$" \
	"$tmp.err" || fail "no --plain-http hint: $(cat "$tmp.err")"
# ---- run's spec flags: --env-file, --cpu-quota/--cpu-period, --cgroup, --allow-new-privs, --runc-binary ----
printf '# a comment\nA=1\n\nB=from-file\n' >"$tmp/envf"
out=$(L run --rm --rootfs --env-file "$tmp/envf" --env B=3 --cpu-quota 50000 --cpu-period 100000 "$R" e1 \
	sh -c 'echo "$A:$B"') || fail "run --env-file: $out"
[ "$out" = "1:3" ] || fail "--env-file then --env gave '$out'"
L containers create --rootfs --env-file "$tmp/envf" --cpu-quota 20000 --cpu-period 50000 --cgroup /lctr-cli/c6 \
	--allow-new-privs --runc-binary "$(command -v runc)" "$R" c6 sh
L c info --spec c6 >"$tmp/spec"
python3 - "$tmp/spec" <<'PY' || fail "spec of c6: $(cat "$tmp/spec")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["process"]["env"][:2] == ["A=1", "B=from-file"], s["process"]["env"]
assert s["linux"]["resources"]["cpu"] == {"quota": 20000, "period": 50000}, s["linux"]["resources"]
assert s["linux"]["cgroupsPath"] == "/lctr-cli/c6"
assert "noNewPrivileges" not in s["process"]
PY
L c info c6 | grep "\"Name\": \"$(command -v runc)\"" >/dev/null || fail "--runc-binary: $(L c info c6)"
L containers create --rootfs "$R" c7 sh
L c info --spec c7 | grep '"noNewPrivileges": true' >/dev/null || fail "without --allow-new-privs"
L c rm c6 c7
expect 1 'lctr: run e2: --cpus and --cpu-quota/--cpu-period cannot be used together' \
	L run --rm --rootfs --cpus 1 --cpu-quota 5 "$R" e2 true
expect 1 "lctr: run e3: --env-file $tmp/nope: No such file or directory" L run --rm --rootfs --env-file "$tmp/nope" "$R" e3 true
expect 1 'lctr: invalid --cpu-quota "x": a number of microseconds' L run --rm --rootfs --cpu-quota x "$R" e4 true
# ---- ctr's --device, --seccomp-profile (with --seccomp), --apparmor-profile ----
mkdir "$tmp/devtree"
mknod "$tmp/devtree/full" c 1 7
L containers create --rootfs --device "$tmp/devtree" --device /dev/zero --apparmor-profile my-prof "$R" c8 sh
L c info --spec c8 >"$tmp/spec8"
python3 - "$tmp/spec8" "$tmp/devtree/full" <<'PY' || fail "spec of c8: $(cat "$tmp/spec8")"
import json, sys
s = json.load(open(sys.argv[1]))
devs = [(d["path"], d["type"], d["major"], d["minor"]) for d in s["linux"]["devices"]]
assert devs == [(sys.argv[2], "c", 1, 7), ("/dev/zero", "c", 1, 5)], devs
rules = [(r["major"], r["minor"], r["access"]) for r in s["linux"]["resources"]["devices"] if r.get("allow")]
assert (1, 7, "rwm") in rules and (1, 5, "rwm") in rules, rules
assert s["process"]["apparmorProfile"] == "my-prof"
PY
L c rm c8
printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}' \
	>"$tmp/seccomp.json"
out=$(L run --rm --rootfs --seccomp --seccomp-profile "$tmp/seccomp.json" "$R" e5 sh -c 'busybox mkdir /tmp/sx 2>&1; echo rc=$?') ||
	fail "run --seccomp-profile: $out"
case $out in *"Operation not permitted"*"rc=1"*) ;; *) fail "--seccomp-profile did not refuse mkdir: $out" ;; esac
expect 1 'lctr: run e6: --seccomp must be set to use --seccomp-profile' \
	L run --rm --rootfs --seccomp-profile "$tmp/seccomp.json" "$R" e6 true
expect 1 "lctr: run e7: new container e7: spec: spec: option ctr_with_devices: device path $tmp/nodev: No such file or directory" L run --rm --rootfs --device "$tmp/nodev" "$R" e7 true
[ -z "$(L c ls -q)" ] || fail "failed runs left containers: $(L c ls -q)"
# ---- run's runtime flags: --config, --fifo-dir, --no-pivot, --runc-systemd-cgroup, --runc-binary ----
L oci spec >"$tmp/spec-base.json"
python3 - "$tmp/spec-base.json" "$R" "$tmp" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["root"] = {"path": sys.argv[2]}
s["process"]["args"] = ["/bin/sh", "-c", "echo from-config $X"]
s["linux"].pop("cgroupsPath", None)
json.dump(s, open(sys.argv[3] + "/spec-abs.json", "w"))
s["root"] = {"path": "rootfs"}
json.dump(s, open(sys.argv[3] + "/spec-rel.json", "w"))
PY
echo '{"root": ' >"$tmp/spec-bad.json"
# the spec is the file's, --env applies on top of it; ID is the only argument
out=$(L run --rm --env X=on-top --config "$tmp/spec-abs.json" cfg1) || fail "run --config: $out"
[ "$out" = "from-config on-top" ] || fail "run --config printed '$out'"
L containers create --config "$tmp/spec-abs.json" --label k=v cfg2
L c info --spec cfg2 | grep "\"path\": \"$R\"" >/dev/null || fail "containers create --config: $(L c info --spec cfg2)"
L c rm cfg2
expect 2 'lctr: run: unexpected argument "cfg3" (usage: lctr run [flags] ID)' \
	L run --rm --config "$tmp/spec-abs.json" test/img:1 cfg3
expect 2 'lctr: run cfg3: --config and --rootfs cannot be used together (the spec names the root)' \
	L run --rm --rootfs --config "$tmp/spec-abs.json" cfg3
expect 2 'lctr: --config needs a value' L run --rm --config= cfg3
expect 1 "lctr: run cfg3: --config $tmp/spec-rel.json: root.path must be an absolute path (the spec's rootfs: there is no image)" \
	L run --rm --config "$tmp/spec-rel.json" cfg3
expect 1 "lctr: run cfg3: --config $tmp/spec-bad.json: unexpected token near end of file" \
	L run --rm --config "$tmp/spec-bad.json" cfg3
[ -z "$(L c ls -q)" ] || fail "refused --config runs left containers: $(L c ls -q)"
# --fifo-dir: a detached task's fifos in DIR/ID-XXXXXX, found by attach through
# the state's link, gone with the task; --no-pivot reaches runc (the shim's argv)
L run -d --fifo-dir "$tmp/fifos" --no-pivot --rootfs "$R" f1 sh -c 'read x; echo "got $x"'
fd=$(ls -d "$tmp"/fifos/f1-*) || fail "--fifo-dir made no directory: $(ls -R "$tmp/fifos")"
[ -p "$fd/stdin" ] && [ -p "$fd/stdout" ] && [ -p "$fd/stderr" ] || fail "--fifo-dir: no fifos in $fd"
[ "$(readlink "$tmp/state/lctr-io/default/f1")" = "$fd" ] || fail "no attach link to $fd"
shim_args=$(for p in $(pgrep -f libctr-shim); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo; done |
	grep -- "-d $tmp/state/tasks/default/f1 " || true)
grep -q -- ' -P ' <<<"$shim_args" || fail "--no-pivot: f1's shim has no -P (runc --no-pivot): $shim_args"
out=$(echo hello | timeout 20 "$LCTR" --root "$tmp/root" --state "$tmp/state" tasks attach f1) ||
	fail "attach through --fifo-dir: $out"
[ "$out" = "got hello" ] || fail "attach through --fifo-dir printed '$out'"
L tasks rm f1 && L c rm f1
[ ! -e "$fd" ] && [ ! -e "$tmp/state/lctr-io/default/f1" ] || fail "--fifo-dir's fifos outlived the task"
out=$(L run --rm --fifo-dir "$tmp/fifos" --rootfs "$R" f2 sh -c 'echo fg') && [ "$out" = fg ] ||
	fail "--fifo-dir in the foreground: $out"
expect 2 'lctr: run f3: --runc-systemd-cgroup needs --cgroup, e.g. "machine.slice:foo:deadbeef"' \
	L run --rm --runc-systemd-cgroup --rootfs "$R" f3 true
expect 2 'lctr: run f3: --runc-systemd-cgroup: --cgroup "/lctr/f3" is not slice:prefix:name' \
	L run --rm --runc-systemd-cgroup --cgroup /lctr/f3 --rootfs "$R" f3 true
expect 2 'lctr: run f3: --runc-binary is for the runc runtime (io.containerd.runc.v2), not --runtime /usr/bin/crun' \
	L run --rm --runtime /usr/bin/crun --runc-binary runc --rootfs "$R" f3 true
expect 2 'lctr: containers create f3: --runc-binary is for the runc runtime (io.containerd.runc.v2), not --runtime /usr/bin/crun' \
	L containers create --runtime /usr/bin/crun --runc-binary runc --rootfs "$R" f3 true
expect 2 'lctr: --runc-binary needs a value' L run --rm --runc-binary= --rootfs "$R" f3 true
[ -z "$(L c ls -q)" ] || fail "refused runs left containers: $(L c ls -q)"
echo "lctr cli: ok"
