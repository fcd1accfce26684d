#!/usr/bin/env bash
# examples/checkpoint against a real registry: a container that wrote to
# its rootfs is checkpointed (read-write layer, image, runtime), pushed,
# fetched into a fresh root and restored there: the spec is the same and
# the restored container finds the file. Nothing is left behind in either
# root.
# usage: test-example-checkpoint.sh CHECKPOINT
EX=${1:?usage: test-example-checkpoint.sh CHECKPOINT}
. "$(dirname "$0")/examples-lib.sh"

root2=$tmp/root2
state2=$tmp/state2
CKPT=$REGISTRY_ADDR/test/checkpoint:1
"$EX" --plain-http "$root" "$state" "$root2" "$state2" "$REF" "$CKPT" >"$tmp/out" 2>"$tmp/err" ||
	fail "checkpoint: $(cat "$tmp/err") $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
grep -qx "source container wrote /ckpt-file" "$tmp/out" || fail "source: $(cat "$tmp/out")"
grep -qx "checkpoint $CKPT (sha256:[0-9a-f]\{64\})" "$tmp/out" || fail "checkpoint: $(cat "$tmp/out")"
grep -qx "pushed $CKPT" "$tmp/out" || fail "push: $(cat "$tmp/out")"
grep -qx "restored ckpt-dst: spec same" "$tmp/out" || fail "spec: $(cat "$tmp/out")"
# The restored container ran the same command, which printed the file
# the source container wrote before its checkpoint.
grep -qx "written-before-checkpoint" "$tmp/out" || fail "file not restored: $(cat "$tmp/out")"
[ "$(tail -1 "$tmp/out")" = "exit status: 0" ] || fail "status: $(cat "$tmp/out")"
assert_clean

# The checkpoint in the registry is containerd's: an OCI index with the
# spec, the image and the read-write layer under their media types, and
# the image, runtime and snapshotter in its annotations.
idx=$(curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$REGISTRY_ADDR/v2/test/checkpoint/manifests/1")
jq -e '.mediaType == "application/vnd.oci.image.index.v1+json"' <<<"$idx" >/dev/null || fail "index: $idx"
jq -e --arg ref "$REF" '.annotations["org.opencontainers.image.ref.name"] == $ref' <<<"$idx" >/dev/null ||
	fail "image annotation: $idx"
jq -e '.annotations["io.containerd.checkpoint.runtime"] == "io.containerd.runc.v2"' <<<"$idx" >/dev/null ||
	fail "runtime annotation: $idx"
jq -e '.annotations["io.containerd.checkpoint.snapshotter"] == "overlayfs"' <<<"$idx" >/dev/null ||
	fail "snapshotter annotation: $idx"
for mt in application/vnd.containerd.container.checkpoint.config.v1+proto \
	application/vnd.oci.image.layer.v1.tar+gzip; do
	jq -e --arg mt "$mt" '[.manifests[] | select(.mediaType == $mt and .platform.os == "linux")] | length == 1' \
		<<<"$idx" >/dev/null || fail "no $mt entry: $idx"
done
# The read-write layer holds the file and nothing of the image's.
rw=$(jq -r '.manifests[] | select(.mediaType == "application/vnd.oci.image.layer.v1.tar+gzip") | .digest' <<<"$idx")
curl -fsS "http://$REGISTRY_ADDR/v2/test/checkpoint/blobs/$rw" | tar -tzf - >"$tmp/rw.list"
grep -qx "ckpt-file" "$tmp/rw.list" || fail "rw layer: $(cat "$tmp/rw.list")"
! grep -q "^bin/" "$tmp/rw.list" || fail "rw layer has the image's files: $(cat "$tmp/rw.list")"

# Both roots are empty of containers; root 2 has the checkpoint image.
[ -z "$(LCTR_ROOT=$root LCTR_STATE=$state "$LCTR" containers ls -q)" ] || fail "container left in root 1"
[ -z "$(LCTR_ROOT=$root2 LCTR_STATE=$state2 "$LCTR" containers ls -q)" ] || fail "container left in root 2"
LCTR_ROOT=$root2 LCTR_STATE=$state2 "$LCTR" images ls -q | grep -qx "$CKPT" || fail "no checkpoint image in root 2"

# Usage errors.
set +e
"$EX" "$root" "$state" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^usage: checkpoint" "$tmp/err" || fail "usage: $rc"
echo "example checkpoint: ok"
