#!/usr/bin/env bash
# The main job, end to end on one machine: build ocipush, start a local
# registry behind an nginx that rejects chunked request bodies (as the
# vSphere/NodePort network in go-containerregistry#2005 did), and push a
# sample chart through it from a pipe. The streamed upload is rejected with
# 400; ocipush replays it with a Content-Length and the push lands. What the
# registry then serves is read back and re-hashed.
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
