#!/usr/bin/env bash
# The benchmark suite: libctr beside Debian's containerd (ctr, runc) and
# podman on this machine, in the same run, and the machine's floor where
# there is one. Prints one markdown table (issue 13's Targets). Not a test:
# `tests/run.sh --bench` runs it, plain tests/run.sh does not.
#
#   tests/bench/run.sh            (root; BUILDDIR=build by default)
#
# It installs what it needs, builds the fixture images itself (a debootstrap
# --variant=minbase Debian root, cached as a tarball under the build dir;
# the same plus a layer of 20,000 small files; busybox-static; generated
# images for the growth rows), pushes them to a docker-registry on
# loopback and runs containerd on its own socket, root and state.
# Each timing is the median of alternating runs (libctr, containerd,
# podman, floor, then the next round in another order): on a shared
# machine the numbers are noisy and only the ratios mean something.
# Knobs: BENCH_RUNS (pulls, default 3), BENCH_RUN_RUNS (run --rm, 7),
# BENCH_BATCH_RUNS (100 containers, 3), BENCH_N (memory, 50).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)
builddir=${BUILDDIR:-build}
runs=${BENCH_RUNS:-3}
run_runs=${BENCH_RUN_RUNS:-7}
batch_runs=${BENCH_BATCH_RUNS:-3}
nmem=${BENCH_N:-50}
F=$src/tests/fixtures

if [ "$(id -u)" != 0 ]; then
	echo "tests/bench/run.sh: needs root (mounts, runc, containerd)" >&2
	exit 1
fi

pkgs=(containerd podman runc debootstrap docker-registry skopeo umoci busybox-static
      isal pigz curl jq bc python3 util-linux procps musl-tools linux-perf)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -x "$builddir/examples/lctr/lctr" ] || [ ! -x "$builddir/tests/bench-gc" ]; then
	[ -d "$builddir" ] || meson setup "$builddir" >&2
	ninja -C "$builddir" -j2 >&2
fi
lctr=$src/$builddir/examples/lctr/lctr
cache=$src/$builddir/bench-cache
mkdir -p "$cache"
# The work dir is on the disk (as /var/lib is), the state dirs on tmpfs (as
# /run is) for all three.
tmp=$(mktemp -d /var/tmp/libctr-bench.XXXXXX)
run=$(mktemp -d /run/libctr-bench.XXXXXX)
reg= cpid=
log() { echo "== $*" >&2; }

# ---- cleanup: everything this run started, found by its own paths -------
pids_matching() { # pids whose command line contains $1
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
	done
	return 0
}
stop_containerd() {
	if [ -n "$cpid" ]; then
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		cpid=
	fi
	# Its shims (-address our socket) and their containers.
	local p
	for p in $(pids_matching "$run/c.sock"); do kill -KILL "$p" 2>/dev/null || true; done
}
kill_runc_root() { # runc root dir: kill and delete its containers
	local id
	[ -d "$1" ] || return 0
	for id in $(runc --root "$1" list -q 2>/dev/null); do
		runc --root "$1" kill "$id" KILL 2>/dev/null || true
		runc --root "$1" delete -f "$id" 2>/dev/null || true
	done
}
cleanup() {
	set +e
	trap - EXIT INT TERM
	log "cleaning up"
	local d p m
	for d in "$run"/lstate*; do
		[ -d "$d/tasks" ] || continue
		for p in $(pids_matching "$d/"); do kill -KILL "$p" 2>/dev/null; done
		for m in "$d"/tasks/*/*/runc; do kill_runc_root "$m"; done
	done
	stop_containerd
	for d in "$run"/crun/runc/*; do kill_runc_root "$d"; done
	kill_runc_root "$run/runc"
	for d in "$tmp"/proot*; do
		[ -d "$d" ] && podman_at "$d" rm -f -a -t 0 >/dev/null 2>&1
	done
	for p in $(pids_matching "$run/prun"); do kill -KILL "$p" 2>/dev/null; done
	[ -n "$reg" ] && "$F/registry.sh" stop "$reg" >/dev/null 2>&1
	for m in $(awk -v t="$tmp" -v r="$run" '$2 ~ "^"t || $2 ~ "^"r {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$tmp" "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print ""; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { # file cmd...: append the wall time of cmd to file
	local f=$1 t0 t1
	shift
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$f"
}

# ---- fixtures ------------------------------------------------------------
mirror() {
	local u
	u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -v security | grep -m1 debian || true)
	[ -n "$u" ] || u=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | grep -m1 debian || true)
	echo "${u:-http://deb.debian.org/debian}"
}
if [ ! -s "$cache/debian-minbase.tar" ]; then
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	log "debootstrap --variant=minbase $suite ($(mirror)), cached in $cache"
	debootstrap --variant=minbase "$suite" "$tmp/deb" "$(mirror)" >&2
	tar --numeric-owner -C "$tmp/deb" -cf "$cache/debian-minbase.tar.new" .
	mv "$cache/debian-minbase.tar.new" "$cache/debian-minbase.tar"
	rm -rf "$tmp/deb"
fi
# OCI layouts, cached: debian, debian + 20k small files, the growth images.
log "image layouts"
python3 "$src/tests/bench/mklayouts.py" "$cache" "$cache/debian-minbase.tar" >&2
[ -d "$cache/busybox" ] || python3 "$F/mkimage.py" busybox "$cache/busybox" >/dev/null
grow_images="files1k files10k files100k layers1 layers8 layers32"

eval "$("$F/registry.sh" start plain --dir "$tmp/registry" --ttl 3600)"
reg=$REGISTRY_DIR
addr=$REGISTRY_ADDR
log "pushing to $addr"
for img in debian debsmall busybox $grow_images; do
	"$F/registry.sh" push "$REGISTRY_DIR" "oci:$cache/$img:latest" "bench/$img:latest" >/dev/null 2>&1
done
ref() { echo "$addr/bench/$1:latest"; }
layer_digest() { jq -r '.layers[0].digest' "$cache/$1/summary.json"; }

# ---- the three systems -----------------------------------------------------
L() { # root-suffix cmd...
	local r=$1
	shift
	LCTR_ROOT=$tmp/lroot$r LCTR_STATE=$run/lstate$r "$lctr" "$@"
}
start_containerd() { # root dir
	stop_containerd
	cat >"$run/c.toml" <<EOT
version = 2
root = "$1"
state = "$run/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$run/c.sock"
[ttrpc]
  address = "$run/c.sock.ttrpc"
[debug]
  address = "$run/c.debug.sock"
[plugins."io.containerd.runtime.v2.task"]
  platforms = ["linux/amd64"]
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "$run/crun"
EOT
	containerd --config "$run/c.toml" >>"$tmp/containerd.log" 2>&1 &
	cpid=$!
	for _ in $(seq 1 200); do
		ctr --address "$run/c.sock" version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "containerd did not start:" >&2
	tail -20 "$tmp/containerd.log" >&2
	exit 1
}
C() { ctr --address "$run/c.sock" -n bench "$@"; }
podman_at() { # root cmd...
	local r=$1
	shift
	mkdir -p "$run/prun${r##*/proot}/tmp"
	podman --root "$r" --runroot "$run/prun${r##*/proot}" --tmpdir "$run/prun${r##*/proot}/tmp" \
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
P() { # root-suffix cmd...
	local r=$1
	shift
	podman_at "$tmp/proot$r" "$@"
}
has_erofs() { L probe info 2>/dev/null | jq -e '.snapshotters | index("erofs")' >/dev/null; }

# Table rows: figure, libctr, containerd, podman, floor, target.
rows=()
fmt() { [ -n "$1" ] && printf '%.3f s' "$1" || printf -- '-'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && printf '%.2f×' "$(echo "$1 / $2" | bc -l)" || printf -- '-'; }
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"); }
time_row() { # figure l c p f target
	row "$1" "$(fmt "$2")" "$(fmt "$3")" "$(fmt "$4")" "$(fmt "$5")" "$(ratio "$2" "$3")" "$(ratio "$2" "$5")" "$6"
}

# ---- cold pull + unpack ------------------------------------------------------
# A new root every run for each system; nothing is deleted until the end
# (creating inodes right after deleting thousands is slow on this ext4 and
# would tax whichever system ran next).
n_pull=0
pull_l() { n_pull=$((n_pull + 1)); timed "$1" L "p$n_pull" images pull --plain-http ${2:+--snapshotter "$2"} "$(ref "$img")"; }
pull_c() {
	n_pull=$((n_pull + 1))
	start_containerd "$tmp/croot$n_pull"
	timed "$1" C images pull --plain-http "$(ref "$img")"
	stop_containerd
}
pull_p() { n_pull=$((n_pull + 1)); timed "$1" P "$n_pull" pull -q --tls-verify=false "$(ref "$img")"; }
floor_sha() { curl -sf "http://$addr/v2/bench/$img/blobs/$(layer_digest "$img")" | igzip -d | sha256sum; }
floor_tar() {
	n_pull=$((n_pull + 1))
	mkdir "$tmp/floor$n_pull"
	curl -sf "http://$addr/v2/bench/$img/blobs/$(layer_digest "$img")" | igzip -d | tar -x -C "$tmp/floor$n_pull"
	# libctr syncs the layer once at commit: so does the floor.
	sync -f "$tmp/floor$n_pull"
}
floor_all() { # the whole image's layers, for the multi-layer image
	local d
	for d in $(jq -r '.layers[].digest' "$cache/$img/summary.json"); do
		curl -sf "http://$addr/v2/bench/$img/blobs/$d" | igzip -d | sha256sum
	done
}
pull_rows() { # img label
	img=$1
	local o=$tmp/pull-$img e=
	: >"$o.l" ; : >"$o.c"; : >"$o.p"; : >"$o.f"; : >"$o.t"; : >"$o.e"
	has_erofs && e=1
	log "cold pull + unpack: $img ($runs rounds)"
	for i in $(seq 1 "$runs"); do
		if [ $((i % 2)) = 1 ]; then
			pull_l "$o.l"; pull_c "$o.c"; pull_p "$o.p"
			[ -n "$e" ] && pull_l "$o.e" erofs
			timed "$o.f" floor_all; timed "$o.t" floor_tar
		else
			timed "$o.t" floor_tar; timed "$o.f" floor_all
			[ -n "$e" ] && pull_l "$o.e" erofs
			pull_p "$o.p"; pull_c "$o.c"; pull_l "$o.l"
		fi
	done
	local l c p f t
	l=$(median <"$o.l") c=$(median <"$o.c") p=$(median <"$o.p") f=$(median <"$o.f") t=$(median <"$o.t")
	local files
	files=$(jq -r '.files' "$cache/$img/summary.json")
	if [ "$img" = debian ]; then
		time_row "cold pull + unpack, $2 ($files entries), overlayfs; floor: curl \\| igzip -d \\| tar -x" \
			"$l" "$c" "$p" "$t" "≤ 0.5× containerd"
	else
		time_row "cold pull + unpack, $2 ($files entries), overlayfs; floor: curl \\| igzip -d \\| tar -x" \
			"$l" "$c" "$p" "$t" "≤ 0.4× containerd"
	fi
	local et="≤ 0.25× containerd, ≤ 1.3× floor"
	[ "$img" = debian ] || et="≤ 0.15× containerd"
	if [ -n "$e" ]; then
		time_row "same, erofs; floor: curl \\| igzip -d with sha256" "$(median <"$o.e")" "$c" "" "$f" "$et"
	else
		row "same, erofs; floor: curl \\| igzip -d with sha256" "n/a: no erofs snapshotter" "$(fmt "$c")" \
			"-" "$(fmt "$f")" "-" "-" "$et"
	fi
}

# ---- run --rm IMAGE echo hi -------------------------------------------------
run_rows() {
	img=busybox
	local o=$tmp/run
	: >"$o.l"; : >"$o.c"; : >"$o.p"; : >"$o.r"
	log "run --rm busybox echo hi ($run_runs rounds)"
	L run images pull --plain-http "$(ref busybox)" >/dev/null
	start_containerd "$tmp/croot-run"
	C images pull --plain-http "$(ref busybox)" >/dev/null
	P run pull -q --tls-verify=false "$(ref busybox)" >/dev/null
	# Bare runc on a prepared bundle: the busybox layer, runc's own spec.
	mkdir -p "$tmp/bundle/rootfs"
	tar -C "$tmp/bundle/rootfs" -xzf "$cache/busybox/blobs/sha256/$(layer_digest busybox | cut -d: -f2)"
	(cd "$tmp/bundle" && runc spec)
	jq '.process.terminal = false | .process.args = ["echo", "hi"]' "$tmp/bundle/config.json" >"$tmp/bundle/c.json"
	mv "$tmp/bundle/c.json" "$tmp/bundle/config.json"
	local b=(--ulimit nofile=20000:20000 --ulimit nproc=1000:1000 --network none)
	for i in $(seq 1 "$run_runs"); do
		local steps=(l c p r)
		[ $((i % 2)) = 0 ] && steps=(r p c l)
		for s in "${steps[@]}"; do
			case $s in
			l) timed "$o.l" L run run --rm "$(ref busybox)" "r$i" echo hi ;;
			c) timed "$o.c" C run --rm "$(ref busybox)" "r$i" echo hi ;;
			p) timed "$o.p" P run run --rm "${b[@]}" "$(ref busybox)" echo hi ;;
			r) timed "$o.r" runc --root "$run/runc" run --bundle "$tmp/bundle" "r$i" ;;
			esac
		done
	done
	local l c p r
	l=$(median <"$o.l") c=$(median <"$o.c") p=$(median <"$o.p") r=$(median <"$o.r")
	time_row "\`run --rm busybox echo hi\`; floor: bare \`runc run\` on a prepared bundle" \
		"$l" "$c" "$p" "$r" "≤ 0.4× containerd, ≤ 1.5× runc"
}

# ---- 100 containers, 4 at a time -------------------------------------------
batch_l() { seq 1 100 | xargs -P4 -I{} env LCTR_ROOT="$tmp/lrootrun" LCTR_STATE="$run/lstaterun" "$lctr" run --rm --null-io "$(ref busybox)" "b$1-{}" true; }
batch_c() { seq 1 100 | xargs -P4 -I{} ctr --address "$run/c.sock" -n bench run --rm "$(ref busybox)" "b$1-{}" true; }
batch_rows() {
	local o=$tmp/batch
	: >"$o.l"; : >"$o.c"
	log "100 containers, 4 at a time ($batch_runs rounds)"
	for i in $(seq 1 "$batch_runs"); do
		if [ $((i % 2)) = 1 ]; then timed "$o.l" batch_l "$i"; timed "$o.c" batch_c "$i"
		else timed "$o.c" batch_c "$i"; timed "$o.l" batch_l "$i"; fi
	done
	time_row "100 containers (busybox \`true\`) created, started, waited, deleted, 4 at a time" \
		"$(median <"$o.l")" "$(median <"$o.c")" "" "" "≤ 0.4× containerd"
}

# ---- memory per running container ------------------------------------------
rss_kib() { # pids...: the sum of their VmRSS
	local s=0 p k
	for p in "$@"; do
		k=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		s=$((s + ${k:-0}))
	done
	echo "$s"
}
kib() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {if (k >= 1024) printf "%.1f MiB", k / 1024; else printf "%d KiB", k}' || printf -- '-'; }
mem_rows() {
	local n=$nmem i l c p
	log "memory: $n sleep containers each"
	for i in $(seq 1 "$n"); do L run run -d --null-io "$(ref busybox)" "m$i" sleep 1000 >/dev/null; done
	# shims only: the containers' processes are not counted
	l=$(( $(rss_kib $(for q in $(pids_matching "$run/lstaterun/"); do
		[ "$(cat /proc/$q/comm 2>/dev/null)" = libctr-shim ] && echo "$q"; done)) / n ))
	for i in $(seq 1 "$n"); do
		L run tasks kill -s KILL "m$i" >/dev/null 2>&1 || true
		L run tasks rm -f "m$i" >/dev/null 2>&1 || true
		L run containers rm "m$i" >/dev/null 2>&1 || true
	done
	for i in $(seq 1 "$n"); do C run -d --null-io "$(ref busybox)" "m$i" sleep 1000 >/dev/null; done
	c=$(( $(rss_kib "$cpid" $(for q in $(pids_matching "$run/c.sock"); do
		[ "$(cat /proc/$q/comm 2>/dev/null)" = containerd-shim ] && echo "$q"; done)) / n ))
	for i in $(seq 1 "$n"); do
		C tasks kill -s SIGKILL "m$i" >/dev/null 2>&1 || true
	done
	sleep 1
	for i in $(seq 1 "$n"); do
		C tasks rm -f "m$i" >/dev/null 2>&1 || true
		C containers rm "m$i" >/dev/null 2>&1 || true
	done
	for i in $(seq 1 "$n"); do
		P run run -d --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 --network none \
			--name "m$i" "$(ref busybox)" sleep 1000 >/dev/null
	done
	p=$(( $(rss_kib $(for q in $(pids_matching "$run/prunrun"); do
		[ "$(cat /proc/$q/comm 2>/dev/null)" = conmon ] && echo "$q"; done)) / n ))
	P run rm -f -a -t 0 >/dev/null 2>&1 || true
	row "memory per running container: RSS of all non-container processes ÷ $n \`sleep\` containers" \
		"$(kib "$l")" "$(kib "$c")" "$(kib "$p")" "-" "$(ratio "$l" "$c")" "-" "≤ 512 KiB"
}

# ---- the host process, GC ---------------------------------------------------
host_rows() {
	log "host process memory, gc"
	local h
	h=$("$src/$builddir/tests/bench-host" "$tmp/hroot" "$run/hstate" "$(ref busybox)" | awk '{print $2}')
	row "memory of the host process: a program that pulled and ran a container, idle" \
		"$(kib "$h")" "$(kib "$(rss_kib "$cpid")") (containerd)" "-" "-" "-" "-" "≤ 8 MiB"
	# On tmpfs: filling the store through the API costs one commit per
	# object, minutes on a busy disk; the collection itself is what counts.
	local g
	g=$("$src/$builddir/tests/bench-gc" "/dev/shm/${run##*/}-gc/root" "/dev/shm/${run##*/}-gc/state" 10000 2000)
	rm -rf "/dev/shm/${run##*/}-gc"
	row "GC: 10,000 blobs and 2,000 snapshots, half unreferenced (store on tmpfs)" \
		"$(fmt "$(echo "$g" | awk '{print $4}')")" "-" "-" "-" "-" "-" "< 1 s"
}

# ---- how cost grows ----------------------------------------------------------
grow_rows() {
	log "growth: pull + unpack against files per layer and layers per image"
	local img o t n per
	for img in $grow_images; do
		o=$tmp/grow-$img
		: >"$o"
		for i in $(seq 1 "$runs"); do
			n_pull=$((n_pull + 1))
			timed "$o" L "g$n_pull" images pull --plain-http "$(ref "$img")"
		done
		t=$(median <"$o")
		n=$(jq -r '.files' "$cache/$img/summary.json")
		per=$(echo "$t * 1000000 / $n" | bc -l)
		row "growth: $(jq -r '.layers | length' "$cache/$img/summary.json") layer(s), $n files ($(printf '%.0f' "$per") µs per file)" \
			"$(fmt "$t")" "-" "-" "-" "-" "-" "linear, with no step"
	done
}

start=$(now)
pull_rows debian "debian"
pull_rows debsmall "debian + 20k small files"
run_rows
batch_rows
mem_rows
host_rows
stop_containerd
grow_rows

echo
echo "libctr $(git -C "$src" describe --always --dirty 2>/dev/null || echo '?'), $(containerd --version | awk '{print "containerd", $3}'), $(podman --version), $(runc --version | head -1), $(nproc) cores, $(uname -r); medians of alternating runs (pulls $runs, run $run_runs, batch $batch_runs); total $(printf '%.0f' "$(echo "$(now) - $start" | bc)") s"
echo
echo "| figure | libctr | containerd | podman | floor | libctr ÷ containerd | libctr ÷ floor | target |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
