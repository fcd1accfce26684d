#!/usr/bin/env bash
# Self-test of tests/fixtures: every registry mode, the token server, the
# fault proxy and the test images, checked with real tools (skopeo, curl,
# umoci). The registry tests trust these fixtures, so they must be able to fail.
set -euo pipefail

src=${MESON_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=$src/tests/fixtures
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (umoci unpack and chroot into the busybox image)"
	exit 77
fi
for t in skopeo umoci curl jq openssl htpasswd python3 /usr/bin/docker-registry; do
	command -v "$t" >/dev/null || { echo "FAIL: $t not installed (tests/run.sh installs it)"; exit 1; }
done

T0=$(date +%s)
export FIXTURE_TTL=150  # nothing we start may outlive the test by much
work=$(mktemp -d /tmp/libctr-test-fixtures.XXXXXX)
regs=()
procs=()
cleanup() {
	local rc=$? d p
	for d in "${regs[@]}"; do "$F/registry.sh" stop "$d" & done
	for p in "${procs[@]}"; do kill "$p" 2>/dev/null || true; done
	wait
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

step() { echo "== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; fail "command failed: $*"; }; }
ko() { if "$@" >"$work/out" 2>&1; then cat "$work/out" >&2; fail "command should have failed: $*"; fi; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
# Digest of the manifest bytes skopeo reads from the registry in $R.
rawdigest() {
	"$F/registry.sh" skopeo "$R" inspect --raw "$1" >"$work/raw" 2>"$work/raw.err" || { cat "$work/raw.err" >&2; fail "inspect $1"; }
	echo "sha256:$(sha256sum <"$work/raw" | cut -d' ' -f1)"
}

# start MODE -> sets R (the registry dir) and sources its env file.
start() {
	local name=$1; shift
	mkdir -p "$work/$name"
	"$F/registry.sh" start "$@" --dir "$work/$name" --owner-pid $$ >"$work/$name.start"
	regs+=("$work/$name")
	R=$work/$name
	# shellcheck disable=SC1091
	. "$R/env"
	[ "$(cat "$R/addr")" = "$REGISTRY_ADDR" ] || fail "addr file and env disagree"
}


# ---------------------------------------------------------------------------
step "images: build, validate with umoci and skopeo, run busybox"
img=$work/img
ok python3 "$F/mkimage.py" busybox "$img/busybox"
ok python3 "$F/mkimage.py" tree "$img/tree"
ok python3 "$F/mkimage.py" multiarch "$img/multiarch"
ok python3 "$F/mkimage.py" tree "$img/tree2"
eq "$(jq -r .digest "$img/tree2/summary.json")" "$(jq -r .digest "$img/tree/summary.json")" "tree image is deterministic"
bb_digest=$(jq -r .digest "$img/busybox/summary.json")
tree_digest=$(jq -r .digest "$img/tree/summary.json")
ma_digest=$(jq -r .digest "$img/multiarch/summary.json")
# Every blob's file name is its digest.
for b in "$img"/*/blobs/sha256/*; do
	eq "$(sha256sum "$b" | cut -d' ' -f1)" "$(basename "$b")" "blob digest of $b"
done
# diff_ids in the config are the digests of the uncompressed layers.
cfg=$img/tree/blobs/sha256/$(jq -r .config "$img/tree/summary.json" | cut -d: -f2)
i=0
for l in $(jq -r '.layers[].digest' "$img/tree/summary.json"); do
	eq "sha256:$(gzip -dc "$img/tree/blobs/sha256/${l#sha256:}" | sha256sum | cut -d' ' -f1)" \
		"$(jq -r ".rootfs.diff_ids[$i]" "$cfg")" "diff_id $i"
	i=$((i + 1))
done
eq "$i" 3 "tree layer count"
ok skopeo inspect "oci:$img/busybox:latest"
eq "$(skopeo inspect --raw "oci:$img/multiarch:latest" | jq -r '[.manifests[].platform.architecture] | join(",")')" \
	"amd64,arm64" "multiarch platforms"
ok umoci unpack --image "$img/tree:latest" "$work/tree-bundle"
ok python3 "$F/mkimage.py" check-tree "$work/tree-bundle/rootfs" "$img/tree/expected.json"
# The checker must notice a wrong tree.
rm "$work/tree-bundle/rootfs/hl/link2"
ko python3 "$F/mkimage.py" check-tree "$work/tree-bundle/rootfs" "$img/tree/expected.json"
grep -q 'hl/link2: missing' "$work/out" || fail "check-tree did not report the missing file"
ok umoci unpack --image "$img/busybox:latest" "$work/bb-bundle"
eq "$(chroot "$work/bb-bundle/rootfs" /bin/sh -c 'echo $(id -u) $(cat /etc/hostname)')" "0 busybox" "busybox runs"

# ---------------------------------------------------------------------------
step "plain HTTP registry: push (single, multi-arch, tree), inspect, zstd"
start plain plain
eq "$REGISTRY_URL" "http://$REGISTRY_ADDR" "plain URL"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/")" 200 "GET /v2/"
# zstd: skopeo 1.9.3 recompresses only with --dest-compress AND --dest-compress-format zstd,
# and only while this registry holds no gzip copy of the layer (it reuses or mounts
# one if it can): so this push comes first.
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox-zstd:latest --dest-compress --dest-compress-format zstd
eq "$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/busybox-zstd/manifests/latest" \
	| jq -r '.layers[0].mediaType')" "application/vnd.oci.image.layer.v1.tar+zstd" "zstd layer media type"
zl=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/busybox-zstd/manifests/latest" | jq -r '.layers[0].digest')
curl -sf "$REGISTRY_URL/v2/test/busybox-zstd/blobs/$zl" | zstd -dc | tar -t >"$work/zlist"
grep -qx bin/busybox "$work/zlist" || fail "zstd layer content"
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok "$F/registry.sh" push "$R" "oci:$img/tree:latest" test/tree:latest
ok "$F/registry.sh" push "$R" "oci:$img/multiarch:latest" test/multiarch:latest --all
eq "$(rawdigest "docker://$REGISTRY_ADDR/test/busybox:latest")" "$bb_digest" "pushed busybox manifest digest"
eq "$(rawdigest "docker://$REGISTRY_ADDR/test/multiarch:latest")" "$ma_digest" "pushed index digest"
eq "$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' -o /dev/null -w '%header{docker-content-digest}' \
	"$REGISTRY_URL/v2/test/tree/manifests/latest")" "$tree_digest" "tree manifest digest from the registry"
# An image made with --compress zstd is pushed as is.
ok python3 "$F/mkimage.py" busybox "$img/busybox-zstd" --compress zstd
ok "$F/registry.sh" push "$R" "oci:$img/busybox-zstd:latest" test/zstd-made:latest
eq "$(rawdigest "docker://$REGISTRY_ADDR/test/zstd-made:latest")" "$(jq -r .digest "$img/busybox-zstd/summary.json")" "zstd image kept its digest"
ko "$F/registry.sh" skopeo "$R" inspect "docker://$REGISTRY_ADDR/test/nonexistent:latest"
plain=$R plain_addr=$REGISTRY_ADDR

# ---------------------------------------------------------------------------
step "htpasswd registry"
start htpasswd htpasswd
eq "$(curl -s -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/")" 401 "anonymous GET /v2/"
eq "$(curl -s -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY_URL/v2/")" 200 "GET /v2/ with creds"
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"
ok skopeo inspect --tls-verify=false --creds "$REGISTRY_READER:$REGISTRY_READER_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --tls-verify=false --no-creds "docker://$REGISTRY_ADDR/test/busybox:latest"

# ---------------------------------------------------------------------------
step "token registry (kid-signed JWTs from tokenserver.py)"
start token token
www=$(curl -s -o /dev/null -w '%header{www-authenticate}' "$REGISTRY_URL/v2/")
eq "$www" "Bearer realm=\"$TOKEN_URL\",service=\"$TOKEN_SERVICE\"" "challenge"
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"
ok skopeo inspect --tls-verify=false --creds "$REGISTRY_READER:$REGISTRY_READER_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --tls-verify=false --no-creds "docker://$REGISTRY_ADDR/test/busybox:latest"
# The reader only gets pull: pushing must fail.
ko skopeo copy --retry-times 0 --dest-tls-verify=false --dest-creds "$REGISTRY_READER:$REGISTRY_READER_PASS" \
	"oci:$img/tree:latest" "docker://$REGISTRY_ADDR/test/tree:latest"
# (jq 1.6's -e looks only at the last input, so slurp.)
jq -s -e 'any(.[]; .status == 401 and .user == "testuser")' "$TOKEN_LOG" >/dev/null || fail "token log lacks the 401"
jq -s -e 'any(.[] | select(.status == 200 and .user == "reader"
		and (.scopes | index("repository:test/tree:pull,push"))) | .granted[];
	.name == "test/tree" and .actions == ["pull"])' "$TOKEN_LOG" >/dev/null || fail "reader was not denied push in the token log"
# GET flow by hand.
tok=$(curl -sf -u "$REGISTRY_USER:$REGISTRY_PASS" "$TOKEN_URL?service=$TOKEN_SERVICE&scope=repository:test/busybox:pull" | jq -r .token)
eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/busybox/manifests/latest")" 200 "GET manifest with token"
eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
	"$REGISTRY_URL/v2/test/other/manifests/latest")" 401 "token scoped to another repo"
# Change one signature character well inside the string (the last one may carry only padding bits).
sig=${tok##*.}
c=${sig:20:1}; [ "$c" = A ] && c=B || c=A
bad=${tok%.*}.${sig:0:20}$c${sig:21}
eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bad" \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/busybox/manifests/latest")" 401 "tampered token"
# OAuth POST: password grant, then refresh_token grant.
resp=$(curl -sf -d grant_type=password -d "username=$REGISTRY_USER" -d "password=$REGISTRY_PASS" \
	-d "service=$TOKEN_SERVICE" -d scope=repository:test/busybox:pull -d client_id=libctr-test "$TOKEN_URL")
rt=$(jq -r .refresh_token <<<"$resp")
[ -n "$rt" ] && [ "$rt" != null ] || fail "no refresh_token from the password grant"
tok2=$(curl -sf -d grant_type=refresh_token -d "refresh_token=$rt" -d "service=$TOKEN_SERVICE" \
	-d scope=repository:test/busybox:pull "$TOKEN_URL" | jq -r .access_token)
eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok2" \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/busybox/manifests/latest")" 200 "GET manifest with refreshed token"
eq "$(curl -s -o /dev/null -w '%{http_code}' -d grant_type=refresh_token -d refresh_token=bogus "$TOKEN_URL")" 401 "bogus refresh token"
eq "$(curl -s -o /dev/null -w '%{http_code}' -d grant_type=password -d "username=$REGISTRY_USER" -d password=wrong "$TOKEN_URL")" 401 "POST with a wrong password"

token_addr=$REGISTRY_ADDR

step "token registry with x5c-signed JWTs"
start tokenx5c token --token-sign x5c
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok skopeo inspect --tls-verify=false --creds "$REGISTRY_READER:$REGISTRY_READER_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"

# ---------------------------------------------------------------------------
step "TLS registry with a self-signed CA, and TLS + token"
start tls tls
eq "$REGISTRY_URL" "https://$REGISTRY_ADDR" "TLS URL"
grep -qx "server = \"https://$REGISTRY_ADDR\"" "$REGISTRY_HOSTS_DIR/$REGISTRY_ADDR/hosts.toml" || fail "hosts.toml server"
grep -q "ca = \"$REGISTRY_CA\"" "$REGISTRY_HOSTS_DIR/$REGISTRY_ADDR/hosts.toml" || fail "hosts.toml ca"
grep -q '"pull", "resolve", "push"' "$REGISTRY_HOSTS_DIR/$REGISTRY_ADDR/hosts.toml" || fail "hosts.toml capabilities"
ok openssl verify -CAfile "$REGISTRY_CA" "$REGISTRY_CERT"
eq "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/")" 200 "curl with the CA"
ko curl -sf "$REGISTRY_URL/v2/"
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok skopeo inspect --cert-dir "$REGISTRY_CERTS_DIR" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --cert-dir "$work/img" "docker://$REGISTRY_ADDR/test/busybox:latest"
grep -q 'certificate' "$work/out" || fail "TLS failure was not about the certificate"
start tlstoken tls-token
ok "$F/registry.sh" push "$R" "oci:$img/busybox:latest" test/busybox:latest
ok skopeo inspect --cert-dir "$REGISTRY_CERTS_DIR" --creds "$REGISTRY_USER:$REGISTRY_PASS" "docker://$REGISTRY_ADDR/test/busybox:latest"
ko skopeo inspect --cert-dir "$REGISTRY_CERTS_DIR" --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY_ADDR/test/busybox:latest"
case $TOKEN_URL in https://*) ;; *) fail "token server is not HTTPS in tls-token mode" ;; esac

# ---------------------------------------------------------------------------
step "fault proxy"
plog=$work/proxy.jsonl
P=$(python3 "$F/faultproxy.py" serve --upstream "$plain_addr" --daemon --log "$plog" \
	--pidfile "$work/proxy.pid" --stderr "$work/proxy.err" --owner-pid $$)
procs+=("$(cat "$work/proxy.pid")")
PU=http://$P
FP() { python3 "$F/faultproxy.py" "$@" >/dev/null; }
logq() { jq -s -c "$1" "$plog"; }
layer=$(jq -r '.layers[0].digest' "$img/tree/summary.json")
lsize=$(jq -r '.layers[0].size' "$img/tree/summary.json")
blob=$PU/v2/test/tree/blobs/$layer
[ "$lsize" -gt 200000 ] || fail "tree layer too small for the range tests ($lsize)"

# Faithful forwarding: HEAD size, Range, keep-alive.
eq "$(curl -sI -o /dev/null -w '%header{content-length}' "$blob")" "$lsize" "HEAD Content-Length"
eq "$(curl -s -r 100-199 "$blob" | wc -c)" 100 "Range 100-199"
eq "$(curl -s -r 100-199 -o /dev/null -w '%{http_code}' "$blob")" 206 "Range status"
eq "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$blob" "$blob")" "1 0 " "keep-alive reuses the connection"

# (a) drop after N bytes, then resume with Range.
FP add "$P" '{"action":"drop","method":"GET","path":"/blobs/sha256:","after_bytes":100000}'
rc=0; curl -s -o "$work/part" "$blob" || rc=$?
eq "$rc" 18 "curl exit status on a dropped body (partial file)"
eq "$(stat -c %s "$work/part")" 100000 "bytes before the drop"
curl -sf -r 100000- -o "$work/rest" "$blob"
eq "sha256:$(cat "$work/part" "$work/rest" | sha256sum | cut -d' ' -f1)" "$layer" "resumed blob digest"
eq "$(logq "[.[] | select(.path | endswith(\"$layer\")) | select(.method == \"GET\")][-2:] | map([.fault, .range, .status, .bytes])")" \
	"[[\"drop\",null,200,100000],[null,\"bytes=100000-\",206,$((lsize - 100000))]]" "log of the drop and the resume"

# Close with no response at all.
FP add "$P" '{"action":"drop","path":"/v2/$","after_bytes":-1}'
rc=0; curl -s -o /dev/null "$PU/v2/" || rc=$?
eq "$rc" 52 "curl exit status on an empty reply"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$PU/v2/")" 200 "passes after the empty reply"

# (b) 500 for the first 2 manifest GETs, then pass.
FP add "$P" '{"action":"status","status":500,"method":"GET","path":"/manifests/","count":2}'
codes=""
for _ in 1 2 3; do codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$PU/v2/test/tree/manifests/latest"); done
eq "$codes" "500 500 200 " "500 twice then pass"
# A HEAD does not match a GET rule.
FP add "$P" '{"action":"status","status":503,"method":"GET","path":"/manifests/","count":1}'
eq "$(curl -sI -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$PU/v2/test/tree/manifests/latest")" 200 "HEAD not matched by a GET rule"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$PU/v2/test/tree/manifests/latest")" 503 "custom status"

# (c) 429 with Retry-After, skip the first match.
FP add "$P" '{"action":"429","path":"/tags/list","skip":1,"count":1}'
eq "$(curl -s -o /dev/null -w '%{http_code}' "$PU/v2/test/tree/tags/list")" 200 "skip lets the first through"
eq "$(curl -s -o /dev/null -w '%{http_code} %header{retry-after}' "$PU/v2/test/tree/tags/list")" "429 1" "429 with Retry-After"
eq "$(curl -s "$PU/v2/test/tree/tags/list" | jq -c .tags)" '["latest"]' "passes after the 429"

# (d) corrupt: same length, wrong bytes, once.
FP add "$P" "{\"action\":\"corrupt\",\"path\":\"$layer\"}"
curl -sf -o "$work/bad" "$blob"
eq "$(stat -c %s "$work/bad")" "$lsize" "corrupt keeps the length"
[ "sha256:$(sha256sum <"$work/bad" | cut -d' ' -f1)" != "$layer" ] || fail "corrupt did not change the bytes"
eq "sha256:$(curl -sf "$blob" | sha256sum | cut -d' ' -f1)" "$layer" "good bytes after the corrupt rule"

# (e) ignore Range.
FP add "$P" '{"action":"norange","path":"/blobs/"}'
eq "$(curl -s -r 1000- -o "$work/full" -w '%{http_code}' "$blob")" 200 "norange status"
eq "$(stat -c %s "$work/full")" "$lsize" "norange sends the whole blob"
eq "$(logq '.[-1] | [.range, .status, .fault]')" '["bytes=1000-",200,"norange"]' "norange log"

# (f) delay.
FP add "$P" '{"action":"delay","seconds":0.5,"path":"/v2/$"}'
t=$(curl -s -o /dev/null -w '%{time_total}' "$PU/v2/")
awk -v t="$t" 'BEGIN { exit !(t >= 0.45) }' || fail "delay: request took ${t}s"

# Control endpoint: counters and clearing.
python3 "$F/faultproxy.py" rules "$P" >"$work/rules"
eq "$(jq -c '[.rules[] | [.action, .applied]]' "$work/rules")" \
	'[["drop",1],["drop",1],["status",2],["status",1],["429",1],["corrupt",1],["norange",1],["delay",1]]' "rule counters"
eq "$(curl -s -o /dev/null -w '%{http_code}' -d '{"action":"nope"}' "$PU/__fault")" 400 "bad rule rejected"
FP clear "$P"
eq "$(python3 "$F/faultproxy.py" rules "$P" | jq '.rules | length')" 0 "rules cleared"

# Chunked PATCH upload through the proxy; Location points at the proxy.
loc=$(curl -s -X POST -o /dev/null -w '%header{location}' "$PU/v2/test/up/blobs/uploads/")
case $loc in "$PU"/v2/test/up/blobs/uploads/*) ;; *) fail "upload Location not through the proxy: $loc" ;; esac
head -c 300000 /dev/urandom >"$work/upload"
updigest=sha256:$(sha256sum <"$work/upload" | cut -d' ' -f1)
loc2=$(curl -s -X PATCH -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
	--data-binary "@$work/upload" -o /dev/null -w '%header{location}' "$loc")
case $loc2 in "$PU"/*) ;; *) fail "PATCH Location not through the proxy: $loc2" ;; esac
sep='?'; case $loc2 in *\?*) sep='&' ;; esac
eq "$(curl -s -X PUT -o /dev/null -w '%{http_code}' "$loc2${sep}digest=$updigest")" 201 "PUT completes the upload"
eq "sha256:$(curl -sf "$PU/v2/test/up/blobs/$updigest" | sha256sum | cut -d' ' -f1)" "$updigest" "uploaded blob reads back"
eq "$(logq '[.[] | select(.method == "PATCH")][-1] | [.chunked, .req_bytes, .status]')" "[true,300000,202]" "chunked PATCH log"

# skopeo through the proxy: push and pull keep digests; each blob fetched once.
ok skopeo copy --retry-times 0 --dest-tls-verify=false "oci:$img/tree:latest" "docker://$P/test/viaproxy:latest"
logq '[.[] | select(.method == "PATCH" or .method == "PUT")] | length' | grep -qv '^0$' || fail "no uploads in the proxy log"
: >"$plog"
ok skopeo copy --retry-times 0 --src-tls-verify=false "docker://$P/test/viaproxy:latest" "oci:$work/pulled:latest"
eq "$(jq -r '.manifests[0].digest' "$work/pulled/index.json")" "$tree_digest" "pull through the proxy keeps the digest"
eq "$(logq '[.[] | select(.method == "GET" and (.path | test("/blobs/")))] | group_by(.path) | map(length) | max')" 1 \
	"each blob downloaded once"
eq "$(logq '[.[] | select(.method == "GET" and (.path | test("/blobs/")))] | length')" 4 "config + 3 layers downloaded"

# A proxy in front of the token registry: credentials and Bearer tokens pass through.
P2=$(python3 "$F/faultproxy.py" serve --upstream "$token_addr" --daemon --log "$work/proxy2.jsonl" \
	--pidfile "$work/proxy2.pid" --owner-pid $$)
procs+=("$(cat "$work/proxy2.pid")")
ok skopeo inspect --tls-verify=false --creds testuser:testpass "docker://$P2/test/busybox:latest"
ko skopeo inspect --tls-verify=false --creds testuser:wrong "docker://$P2/test/busybox:latest"
jq -s -e 'any(.[]; .status == 200 and (.path | test("/manifests/")))' "$work/proxy2.jsonl" >/dev/null \
	|| fail "no authorized manifest request through the proxy"

# ---------------------------------------------------------------------------
step "bounded lifetime: ttl and owner pid"
start ttl plain --ttl 2
ttl_pid=$REGISTRY_PID
sleep 30 & owner=$!
procs+=("$owner")
mkdir -p "$work/own"
"$F/registry.sh" start plain --dir "$work/own" --owner-pid "$owner" >/dev/null
regs+=("$work/own")
own_pid=$(cat "$work/own/registry.pid")
python3 "$F/faultproxy.py" serve --upstream "$plain_addr" --daemon --ttl 1 --pidfile "$work/p2.pid" >/dev/null
p2=$(cat "$work/p2.pid")
kill -0 "$own_pid" || fail "owned registry died early"
kill "$owner"
wait "$owner" 2>/dev/null || true
for _ in $(seq 50); do
	kill -0 "$ttl_pid" 2>/dev/null || kill -0 "$own_pid" 2>/dev/null || kill -0 "$p2" 2>/dev/null || break
	sleep 0.1
done
! kill -0 "$ttl_pid" 2>/dev/null || fail "registry outlived its ttl"
! kill -0 "$own_pid" 2>/dev/null || fail "registry outlived its owner"
! kill -0 "$p2" 2>/dev/null || fail "fault proxy outlived its ttl"

# stop removes a directory that start created, and kills its processes.
out=$("$F/registry.sh" start plain)
d=$(sed -n 's/^REGISTRY_DIR=//p' <<<"$out")
pid=$(cat "$d/registry.pid")
"$F/registry.sh" stop "$d"
! kill -0 "$pid" 2>/dev/null || fail "stop left the registry running"
[ ! -e "$d" ] || fail "stop left $d behind"
# ...and the watchdog removes it when the ttl runs out.
d=$("$F/registry.sh" start plain --ttl 1 | sed -n 's/^REGISTRY_DIR=//p')
pid=$(cat "$d/registry.pid")
for _ in $(seq 60); do [ -e "$d" ] || break; sleep 0.1; done
[ ! -e "$d" ] || { "$F/registry.sh" stop "$d"; fail "watchdog left $d behind"; }
! kill -0 "$pid" 2>/dev/null || fail "watchdog left the registry running"

echo "all fixture checks passed in $(( $(date +%s) - T0 ))s"
