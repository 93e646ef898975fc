#!/usr/bin/env bash
# Pushing into an OCI image layout instead of a registry: the same bytes (the
# same digests) as a push to the real registry, a layout skopeo (an
# independent reader) takes as it is, tags that move. Run through
# tests/registry-env.sh.
#
# usage: registry-env.sh bash tests/test_layout.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"
REG=$OCIPUSH_TEST_REGISTRY
WORK=$OCIPUSH_TEST_TMP/layouttest
mkdir -p "$WORK"

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# Every blob of the layout hashes to its name.
layout_sound() {
    local f
    [[ $(jq -r .imageLayoutVersion "$1/oci-layout") == 1.0.0 ]] || fail "no oci-layout file in $1"
    for f in "$1"/blobs/sha256/*; do
        [[ "sha256:$(basename "$f")" == "$(sha_of "$f")" ]] || fail "$f does not hash to its name"
    done
    if compgen -G "$1/blobs/sha256/.ocipush-*" >/dev/null; then fail "temporary files left in $1"; fi
}

case_same_bytes_as_a_registry() {
    local a b cfg lay=$WORK/lay1 d_layout d_reg
    a=$WORK/a.bin b=$WORK/b.txt cfg=$WORK/cfg.json
    head -c 300001 /dev/urandom >"$a"
    echo "notes" >"$b"
    echo -n '{"k":"v"}' >"$cfg"
    local args=(--artifact-type application/vnd.example --annotation k=v --config "$cfg:application/vnd.example.config+json")
    d_layout=$(ocipush --oci-layout "$lay" push "${args[@]}" app:v1 "$a" "$b" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "pushed line" "Pushed: $lay:v1" "$(head -n 1 <<<"$d_layout")"
    d_reg=$(ocipush push "${args[@]}" "$REG/layout/app:v1" "$a" "$b" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "same manifest digest" "${d_reg##*Digest: }" "${d_layout##*Digest: }"
    layout_sound "$lay"
    check_eq "index entry" "${d_layout##*Digest: }" \
        "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' "$lay/index.json")"
    check_eq "layer file" "$(sha_of "$a")" "$(sha_of "$lay/blobs/sha256/$(sha256sum "$a" | cut -d' ' -f1)")"
    # skopeo reads the layout and pushes it to the registry: the same manifest.
    skopeo copy --quiet --dest-tls-verify=false "oci:$lay:v1" "docker://$REG/layout/copied:v1" 2>"$WORK/stderr" ||
        fail "skopeo cannot read the layout: $(cat "$WORK/stderr")"
    registry_manifest_get "$REG" layout/copied v1 "$WORK/copied.json"
    check_eq "skopeo's copy" "${d_layout##*Digest: }" "$(sha_of "$WORK/copied.json")"
}

case_pipe_and_tags_that_move() {
    local lay=$WORK/lay2 f out first
    f=$WORK/p.bin
    head -c 2500000 /dev/urandom >"$f"
    out=$(cat "$f" | ocipush --oci-layout "$lay" blob push app - 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "blob digest" "$(sha_of "$f")" "$out"
    cmp -s "$f" "$lay/blobs/sha256/${out#sha256:}" || fail "the blob file differs"
    first=$(ocipush --oci-layout "$lay" push app:latest "$f" | tail -n 1)
    echo changed >"$WORK/q.txt"
    out=$(ocipush --oci-layout "$lay" push app:latest "$WORK/q.txt" | tail -n 1)
    [[ $first != "$out" ]] || fail "two different pushes, one digest"
    check_eq "one entry for the tag" 1 "$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest")] | length' "$lay/index.json")"
    check_eq "the tag moved" "${out#Digest: }" "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' "$lay/index.json")"
    layout_sound "$lay"
    skopeo inspect --raw "oci:$lay:latest" >"$WORK/raw.json" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq "skopeo inspect" "${out#Digest: }" "$(sha_of "$WORK/raw.json")"
}

case_not_a_directory() {
    local rc=0
    echo x >"$WORK/afile"
    ocipush --oci-layout "$WORK/afile" push app:v1 "$WORK/afile" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    grep -q "cannot use '$WORK/afile' as an OCI layout" "$WORK/stderr" || fail "unclear: $(cat "$WORK/stderr")"
}

command -v skopeo >/dev/null || { echo "skopeo not found; install the Debian package 'skopeo'" >&2; exit 1; }
run_case "the same bytes as a registry; skopeo reads the layout" case_same_bytes_as_a_registry
run_case "a pipe into a layout; a tag that moves" case_pipe_and_tags_that_move
run_case "a layout that is not a directory" case_not_a_directory
finish
