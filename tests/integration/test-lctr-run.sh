#!/usr/bin/env bash
# lctr run, containers and tasks against real runc, on a busybox rootfs
# directory (--rootfs): exit status, 10 MiB stdout/stderr, signals (tasks
# kill, kill --all, the signal proxy), a real terminal, --log-uri, exec,
# pause/resume, metrics, nothing leaked into the container, error shape,
# and nothing left behind (shims, mounts, state).
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "skip: needs root, runc and busybox-static"
	exit 77
fi
tmp=$(mktemp -d /tmp/lctr-run-XXXXXX)
export LCTR_ROOT=$tmp/root LCTR_STATE=$tmp/state
L() { "$LCTR" "$@"; }
cleanup() {
	set +e
	for id in $(L c ls -q 2>/dev/null); do
		L t rm -f "$id" >/dev/null 2>&1
		L c rm "$id" >/dev/null 2>&1
	done
	# whatever a failed test left: shims of this state dir, runc state
	for f in "$LCTR_STATE"/tasks/*/*/init/shim.pid "$LCTR_STATE"/tasks/*/*/exec/*/shim.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	for d in "$LCTR_STATE"/tasks/*/*/runc; do
		[ -d "$d" ] && for c in $(ls "$d"); do runc --root "$d" delete --force "$c" >/dev/null 2>&1; done
	done
	grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# grep that reads all its input: grep -q would close the pipe early and,
# with pipefail, fail the pipeline when lctr gets SIGPIPE.
has() { grep -E "$@" >/dev/null; }

# Runs a command under a new pty, types $1 and Enter after 0.3 s, prints
# its output (CRs dropped) and "rc=N".
pty_run() {
	python3 - "$@" <<'EOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
time.sleep(0.3)
os.write(fd, sys.argv[1].encode() + b"\r")
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", "") + "rc=%d\n" % os.waitstatus_to_exitcode(st))
EOF
}

R=$tmp/rootfs
mkdir -p "$R"/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$R/bin/"
for a in sh echo cat sleep tty id ls kill head seq dd true false wc sha256sum stty pwd; do
	ln -s busybox "$R/bin/$a"
done

# Exit status is the container's; --rm leaves nothing.
set +e
L run --rm --rootfs "$R" ex sh -c 'exit 7'; rc=$?
set -e
[ "$rc" = 7 ] || fail "exit status $rc, want 7"
[ -z "$(L c ls -q)" ] || fail "--rm left a container"

# 10 MiB each on stdout and stderr, intact (sha256).
head -c $((10 << 20)) /dev/urandom >"$R/out.bin"
head -c $((10 << 20)) /dev/urandom >"$R/err.bin"
L run --rm --rootfs "$R" big sh -c 'cat /out.bin; cat /err.bin >&2' >"$tmp/out" 2>"$tmp/err"
[ "$(sha256sum <"$tmp/out")" = "$(sha256sum <"$R/out.bin")" ] || fail "stdout differs"
[ "$(sha256sum <"$tmp/err")" = "$(sha256sum <"$R/err.bin")" ] || fail "stderr differs"
rm -f "$R/out.bin" "$R/err.bin" "$tmp/out" "$tmp/err"

wait_for() { # file text
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	fail "timeout waiting for $2 in $1"
}

# SIGTERM through `tasks kill` reaches the process, and run exits with
# its status; the run process itself forwards SIGTERM (--sig-proxy).
L run --rootfs "$R" sig sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done' \
	>"$tmp/sig.out" &
pid=$!
wait_for "$tmp/sig.out" ready
# (the shim records RUNNING once runc start has returned, which may be a
# moment after the process printed)
for _ in $(seq 50); do L t ls | has '^sig +[0-9]+ +RUNNING$' && break; sleep 0.02; done
L t ls | has '^sig +[0-9]+ +RUNNING$' || fail "tasks ls: $(L t ls)"
L tasks kill sig
set +e
wait $pid; rc=$?
set -e
[ "$rc" = 42 ] || fail "tasks kill: run exited $rc, want 42"
grep -q got-term "$tmp/sig.out" || fail "trap did not run"
L c rm sig
"$LCTR" run --rm --rootfs "$R" proxy sh -c 'trap "exit 43" TERM; echo ready; while :; do sleep 0.05; done' \
	>"$tmp/proxy.out" &
pid=$!
wait_for "$tmp/proxy.out" ready
kill -TERM $pid
set +e
wait $pid; rc=$?
set -e
[ "$rc" = 43 ] || fail "signal proxy: run exited $rc, want 43"

# lctr run dies (SIGKILL, nothing forwarded): the task runs on and another
# lctr gets its real status.
"$LCTR" run --rootfs "$R" hd sh -c 'echo ready; sleep 0.3; exit 11' >"$tmp/hd.out" &
pid=$!
wait_for "$tmp/hd.out" ready
kill -KILL $pid
wait $pid || true
set +e
L t wait hd; rc=$?
set -e
[ "$rc" = 11 ] || fail "wait after lctr run died: $rc, want 11"
L t rm hd
L c rm hd

# kill --all: every process of the task, -d returns once it runs.
L run -d --rootfs "$R" all sh -c 'sleep 100 & sleep 100 & wait'
for _ in $(seq 100); do [ "$(L t ps all | tail -n +2 | wc -l)" -ge 3 ] && break; sleep 0.05; done
pids=$(L t ps all | tail -n +2 | awk '{print $1}')
[ "$(echo "$pids" | wc -l)" = 3 ] || fail "tasks ps: $pids"
L t ps all | sed -n 1p | has '^PID +INFO$' || fail "tasks ps header"
L t kill --all -s SIGKILL all
set +e
L t wait all; rc=$?
set -e
[ "$rc" = 137 ] || fail "kill --all: wait $rc, want 137"
for p in $pids; do
	for _ in $(seq 50); do [ -e /proc/$p ] || break; sleep 0.02; done
	[ ! -e /proc/$p ] || fail "pid $p survived kill --all"
done
L t ls | has '^all +[0-9]+ +STOPPED$' || fail "tasks ls after kill: $(L t ls)"
L t rm all
L c rm all

# A real terminal: lctr run -t under a pty, size and input pass through.
out=$(python3 - "$LCTR" "$R" <<'EOF'
import os, pty, sys, struct, fcntl, termios, time
lctr, rootfs = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    os.execv(lctr, ["lctr", "run", "--rm", "-t", "--rootfs", rootfs, "tty",
                    "sh", "-c", "tty; stty size; read x; echo got-$x; exit 5"])
out = b""
sent = False
deadline = time.time() + 20
while time.time() < deadline:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
    if not sent and b"33 101" in out:
        os.write(fd, b"hello\r")
        sent = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", "") + "rc=%d\n" % os.waitstatus_to_exitcode(st))
EOF
)
echo "$out" | grep -qx /dev/pts/0 || fail "tty: $out"
echo "$out" | grep -qx '33 101' || fail "terminal size: $out"
echo "$out" | grep -qx got-hello || fail "terminal input: $out"
echo "$out" | grep -qx rc=5 || fail "terminal exit: $out"
set +e
out=$(L run --rm -t --rootfs "$R" notty true </dev/null 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && [[ "$out" == "lctr: "* ]] || fail "-t without a terminal: $rc $out"

# tasks attach to a detached task: stdin in, stdout and stderr out, the
# task's status; with a terminal too.
L run -d --rootfs "$R" att sh -c 'read x; echo got-$x; echo to-err >&2; exit 6'
set +e
out=$(echo hello | L t attach att 2>"$tmp/att.err"); rc=$?
set -e
[ "$rc" = 6 ] && [ "$out" = got-hello ] && [ "$(cat "$tmp/att.err")" = to-err ] || fail "attach: $rc $out"
L t rm att
L c rm att
[ ! -e "$LCTR_STATE/lctr-io/default/att" ] || fail "attach fifos left"
L run -d -t --rootfs "$R" attt sh -c 'read x; tty; echo got-$x; exit 8'
out=$(pty_run hello "$LCTR" tasks attach attt)
echo "$out" | grep -qx /dev/pts/0 && echo "$out" | grep -qx got-hello && echo "$out" | grep -qx rc=8 ||
	fail "attach -t: $out"
L c rm attt
# exec -t: its own terminal, input and status
L run -d --rootfs "$R" exect sleep 30
out=$(pty_run yo "$LCTR" tasks exec --exec-id x1 -t exect sh -c 'read a; tty; echo got-$a; exit 4')
echo "$out" | grep -qx '/dev/pts/[0-9]*' && echo "$out" | grep -qx got-yo && echo "$out" | grep -qx rc=4 ||
	fail "exec -t: $out"
L t rm -f exect
L c rm exect
[ ! -e "$LCTR_STATE/lctr-io" ] || fail "lctr-io left: $(ls -R "$LCTR_STATE/lctr-io")"

# --log-uri gets stdout and stderr.
L run --rm --log-uri "file://$tmp/log" --rootfs "$R" log sh -c 'echo to-out; echo to-err >&2' >"$tmp/log.tty"
grep -qx to-out "$tmp/log" && grep -qx to-err "$tmp/log" || fail "log: $(cat "$tmp/log")"
[ ! -s "$tmp/log.tty" ] || fail "--log-uri output also went to stdout"

# containers create + tasks start -d, exec with its own status, pause and
# resume in tasks ls, metrics, update, containers info/label/ls.
L c create --label team=a --rootfs "$R" svc sh -c 'while :; do sleep 0.05; done'
L c ls | sed -n 1p | has '^CONTAINER +IMAGE +RUNTIME$' || fail "c ls header"
L c ls | has '^svc +- +io.containerd.runc.v2$' || fail "c ls: $(L c ls)"
L c info svc | has '"team": "a"' || fail "c info: $(L c info svc)"
[ "$(L c label svc tier=b)" = "team=a,tier=b" ] || fail "c label"
L t start -d svc
set +e
L t exec --exec-id e1 svc sh -c 'exit 9'; rc=$?
set -e
[ "$rc" = 9 ] || fail "exec status $rc, want 9"
[ "$(L t exec --exec-id e2 --cwd /tmp --env FOO=bar svc sh -c 'echo $FOO $(pwd)')" = "bar /tmp" ] ||
	fail "exec --cwd --env"
L t pause svc
L t ls | has '^svc +[0-9]+ +PAUSED$' || fail "pause: $(L t ls)"
L t resume svc
L t ls | has '^svc +[0-9]+ +RUNNING$' || fail "resume: $(L t ls)"
mem=$(L t metrics --format json svc | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory"]["usage"])')
[ "$mem" -gt 0 ] || fail "metrics memory $mem"
L t metrics svc | has '^memory\.usage(_in_bytes)? +[1-9][0-9]*$' || fail "metrics table: $(L t metrics svc)"
L t update --memory-limit 67108864 svc
L t metrics --format json svc | has '"limit":67108864' || fail "update: $(L t metrics --format json svc)"

# Error shape: one line "lctr: <what>: <why>", exit 1.
expect_err() { # pattern command...
	local pat=$1 out rc
	shift
	set +e
	out=$("$@" 2>&1 >/dev/null); rc=$?
	set -e
	[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && [[ "$out" == $pat ]] || fail "$*: rc=$rc: $out"
}
expect_err 'lctr: containers rm svc: cannot delete a non stopped container: running (kill it first, or lctr tasks rm --force)' L c rm svc
expect_err 'lctr: tasks rm svc: task svc is running (kill it first or --force)' L t rm svc
expect_err 'lctr: run x1: image "example.com/missing:1": not found (pull it first: lctr images pull example.com/missing:1)' L run example.com/missing:1 x1 true
expect_err 'lctr: run svc: *already exists*' L run --rootfs "$R" svc true
expect_err 'lctr: tasks kill svc: unknown signal "NOPE"' L t kill -s NOPE svc
expect_err 'lctr: tasks wait nope: task "nope": not found' L t wait nope
L c ls -q | has -x svc || fail "a failed command changed the containers"

# After tasks rm + containers rm: no shim, no mount, no state.
L t kill -s KILL svc
L t wait svc || true
L t rm svc
L c rm svc
[ -z "$(L c ls -q)" ] || fail "containers left: $(L c ls -q)"
! pgrep -f -- "-S $LCTR_STATE " >/dev/null || fail "shim left: $(pgrep -af -- "-S $LCTR_STATE ")"
! grep -q " $tmp" /proc/mounts || fail "mount left: $(grep " $tmp" /proc/mounts)"
[ -z "$(ls -A "$LCTR_STATE/tasks/default" 2>/dev/null)" ] || fail "state left: $(ls "$LCTR_STATE/tasks/default")"

# Nothing leaks into the container: only 0, 1, 2 and the directory ls
# reads; a working directory through an fd does not start.
fds=$(L run --rm --rootfs "$R" fds ls /proc/self/fd | tr '\n' ' ')
[ "$fds" = "0 1 2 3 " ] || fail "fds in the container: $fds"
set +e
out=$(L run --rm --cwd /proc/self/fd/7 --rootfs "$R" fdcwd pwd 2>&1); rc=$?
set -e
[ "$rc" != 0 ] && [[ "$out" == *"lctr: run fdcwd: "* ]] || fail "cwd /proc/self/fd/7 started: $rc $out"
[ -z "$(L c ls -q)" ] || fail "failed run --rm left a container"
echo ok
