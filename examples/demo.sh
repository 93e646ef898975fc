#!/usr/bin/env bash
# The main job, end to end on one machine: build ocipush, start a local
# registry behind an nginx that rejects chunked request bodies (as the
# vSphere/NodePort network in go-containerregistry#2005 did), and push a
# sample chart through it from a pipe. The streamed upload is rejected with
# 400; ocipush replays it with a Content-Length and the push lands. What the
# registry then serves is read back and re-hashed. Then the same chart is
# pushed with no registry given: it goes into an OCI image layout.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z ${OCIPUSH_TEST_PROXY:-} ]]; then
    cd "$ROOT"
    tests/install-deps.sh
    [[ -d build-demo ]] || meson setup build-demo >/dev/null
    meson compile -C build-demo >/dev/null
    exec tests/registry-env.sh bash "$ROOT/examples/demo.sh" "$ROOT/build-demo/examples/ocipush"
fi

OCIPUSH=$1
# shellcheck source=../tests/readback.sh
source "$ROOT/tests/readback.sh"
WORK=$OCIPUSH_TEST_TMP/demo
mkdir -p "$WORK/mychart/templates"
printf 'apiVersion: v2\nname: mychart\nversion: 0.1.0\n' >"$WORK/mychart/Chart.yaml"
head -c 200000 /dev/urandom | base64 >"$WORK/mychart/templates/data.txt"
tar -C "$WORK" -czf "$WORK/mychart-0.1.0.tgz" mychart
want="sha256:$(sha256sum "$WORK/mychart-0.1.0.tgz" | cut -d' ' -f1)"

echo "registry: $OCIPUSH_TEST_REGISTRY   proxy rejecting chunked bodies: $OCIPUSH_TEST_PROXY"
echo
echo "\$ curl -X PATCH -H 'Transfer-Encoding: chunked' (through the proxy)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Transfer-Encoding: chunked' \
    --data-binary @"$WORK/mychart-0.1.0.tgz" "http://$OCIPUSH_TEST_PROXY/v2/demo/blobs/uploads/x")
echo "HTTP $code"
echo
# A named pipe: a stream ocipush cannot seek or read twice, as a chart piped
# out of a build step would be.
mkdir -p "$WORK/pipe"
mkfifo "$WORK/pipe/mychart-0.1.0.tgz"
cat "$WORK/mychart-0.1.0.tgz" >"$WORK/pipe/mychart-0.1.0.tgz" &
writer=$!
trap 'kill "$writer" 2>/dev/null || true' EXIT
echo "\$ ocipush -v --plain-http push $OCIPUSH_TEST_PROXY/demo/mychart:0.1.0 pipe/mychart-0.1.0.tgz:application/vnd.cncf.helm.chart.content.v1.tar+gzip"
out=$("$OCIPUSH" -v --plain-http push "$OCIPUSH_TEST_PROXY/demo/mychart:0.1.0" \
    "$WORK/pipe/mychart-0.1.0.tgz:application/vnd.cncf.helm.chart.content.v1.tar+gzip")
wait "$writer"
echo "$out"
echo
registry_manifest_get "$OCIPUSH_TEST_REGISTRY" demo/mychart 0.1.0 "$WORK/manifest.json"
echo "manifest served: sha256:$(sha256sum "$WORK/manifest.json" | cut -d' ' -f1)"
layer=$(jq -r '.layers[0].digest' "$WORK/manifest.json")
served=$(registry_blob_sha256 "$OCIPUSH_TEST_REGISTRY" demo/mychart "$layer")
echo "chart layer:     $want (local file)"
echo "chart served:    $served (read back from the registry)"
check_eq "chart layer" "$want" "$served"
check_eq "manifest digest" "$(tail -n 1 <<<"$out")" "Digest: sha256:$(sha256sum "$WORK/manifest.json" | cut -d' ' -f1)"
echo "OK: the streamed push was rejected by the proxy, replayed with Content-Length, and landed intact"
echo
# No registry given: the same chart goes into an OCI image layout in the
# working directory, offline, with the bytes a registry would get.
echo "\$ cd $WORK && ocipush chart push mychart-0.1.0.tgz    # no registry given"
out=$(cd "$WORK" && "$OCIPUSH" chart push mychart-0.1.0.tgz)
echo "$out"
manifest="$WORK/oci-layout/blobs/sha256/$(tail -n 1 <<<"$out" | sed 's/^Digest: sha256://')"
stored="$WORK/oci-layout/blobs/sha256/$(jq -r '.layers[0].digest' "$manifest" | cut -d: -f2)"
echo "chart in layout: sha256:$(sha256sum "$stored" | cut -d' ' -f1) ($stored)"
check_eq "chart layer in the layout" "$want" "sha256:$(sha256sum "$stored" | cut -d' ' -f1)"
check_eq "tag in the layout" "$(tail -n 1 <<<"$out" | sed 's/^Digest: //')" \
    "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "0.1.0") | .digest' "$WORK/oci-layout/index.json")"
echo "OK: with no registry given, the chart went into the OCI layout $WORK/oci-layout"
