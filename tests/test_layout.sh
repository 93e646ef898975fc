#!/usr/bin/env bash
# Pushing into an OCI image layout instead of a registry: the same bytes (the
# same digests) as a push to the real registry, a layout skopeo (an
# independent reader) takes as it is, tags that move. Run through
# tests/registry-env.sh.
#
# usage: registry-env.sh bash tests/test_layout.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # the cases run in other directories
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

# A layout whose parents are missing: they are made, as mkdir -p makes them
# (0777 less the umask); a file among them is an error that says so.
case_nested_layout() {
    local lay=$WORK/nested/deeper/lay f out want
    f=$WORK/nested.bin
    head -c 40001 /dev/urandom >"$f"
    out=$(ocipush --oci-layout "$lay" push app:v1 "$f" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "pushed line" "Pushed: $lay:v1" "$(head -n 1 <<<"$out")"
    layout_sound "$lay"
    cmp -s "$f" "$lay/blobs/sha256/$(sha256sum "$f" | cut -d' ' -f1)" || fail "the layer file differs"
    want=$(printf '%o' $((0777 & ~$(umask))))
    check_eq "mode of a parent made" "$want" "$(stat -c %a "$WORK/nested/deeper")"
    skopeo inspect --raw "oci:$lay:v1" >"$WORK/nested.json" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq "skopeo inspect" "${out##*Digest: }" "$(sha_of "$WORK/nested.json")"
    # Trailing and doubled slashes change nothing.
    out=$(ocipush --oci-layout "$WORK/nested2//a/lay/" push app:v1 "$f" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    layout_sound "$WORK/nested2/a/lay"
    echo x >"$WORK/nested-file"
    local rc=0
    ocipush --oci-layout "$WORK/nested-file/sub/lay" push app:v1 "$f" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status (a file as a parent)" 1 "$rc"
    grep -q "cannot use '$WORK/nested-file/sub/lay' as an OCI layout: Not a directory" "$WORK/stderr" ||
        fail "unclear: $(cat "$WORK/stderr")"
}

# No registry named: the push goes into ./oci-layout, says so, and writes the
# bytes a registry push gets; a reference with a host still goes out.
case_no_registry_means_a_layout() {
    local dir=$WORK/cwd f out d_reg
    mkdir -p "$dir"
    f=$WORK/n.bin
    head -c 70001 /dev/urandom >"$f"
    out=$(cd "$dir" && ocipush push team/app:v2 "$f" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    grep -q "'team/app:v2' names no registry .*pushing into the OCI layout 'oci-layout'" "$WORK/stderr" ||
        fail "no word of the layout: $(cat "$WORK/stderr")"
    check_eq "pushed line" "Pushed: oci-layout:v2" "$(head -n 1 <<<"$out")"
    layout_sound "$dir/oci-layout"
    d_reg=$(ocipush push "$REG/layout/app:v2" "$f" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "same manifest digest as the registry's" "${d_reg##*Digest: }" "${out##*Digest: }"
    skopeo inspect --raw "oci:$dir/oci-layout:v2" >"$WORK/raw2.json" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq "skopeo inspect" "${out##*Digest: }" "$(sha_of "$WORK/raw2.json")"
    # A blob with no host lands in the same layout.
    out=$(cd "$dir" && ocipush blob push app "$f" 2>/dev/null) || fail "blob push into the default layout"
    cmp -s "$f" "$dir/oci-layout/blobs/sha256/${out#sha256:}" || fail "the blob file differs"
}

# A chart with no oci:// destination goes into ./oci-layout, tagged with its
# version, as `ocipush chart push CHART oci://...` would push it.
case_chart_without_destination() {
    local dir=$WORK/chartcwd out d_reg lay=$WORK/chartlay
    mkdir -p "$dir/c/mini"
    printf 'apiVersion: v2\nname: mini\nversion: 1.2.3+build.7\n' >"$dir/c/mini/Chart.yaml"
    tar -C "$dir/c" -czf "$dir/mini-1.2.3.tgz" mini
    out=$(cd "$dir" && ocipush chart push mini-1.2.3.tgz 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    grep -q "no oci:// destination: pushing the chart into the OCI layout 'oci-layout'" "$WORK/stderr" ||
        fail "no word of the layout: $(cat "$WORK/stderr")"
    check_eq "pushed line" "Pushed: oci-layout:1.2.3_build.7" "$(head -n 1 <<<"$out")"
    layout_sound "$dir/oci-layout"
    skopeo inspect --raw "oci:$dir/oci-layout:1.2.3_build.7" >"$WORK/chart.json" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    check_eq "skopeo inspect" "${out##*Digest: }" "$(sha_of "$WORK/chart.json")"
    check_eq "config name" mini "$(jq -r .name "$dir/oci-layout/blobs/sha256/$(jq -r .config.digest "$WORK/chart.json" | cut -d: -f2)")"
    # --oci-layout DIR with a bare path: the chart lands in DIR.
    out=$(SOURCE_DATE_EPOCH=1700000000 ocipush --oci-layout "$lay" chart push "$dir/mini-1.2.3.tgz" charts 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    check_eq "pushed line (--oci-layout)" "Pushed: $lay:1.2.3_build.7" "$(head -n 1 <<<"$out")"
    layout_sound "$lay"
    d_reg=$(SOURCE_DATE_EPOCH=1700000000 ocipush chart push "$dir/mini-1.2.3.tgz" "oci://$REG/charts" 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    check_eq "same manifest as the registry's" "$(tail -n 1 <<<"$d_reg")" "$(tail -n 1 <<<"$out")"
}

command -v skopeo >/dev/null || { echo "skopeo not found; install the Debian package 'skopeo'" >&2; exit 1; }
run_case "the same bytes as a registry; skopeo reads the layout" case_same_bytes_as_a_registry
run_case "a pipe into a layout; a tag that moves" case_pipe_and_tags_that_move
run_case "a layout that is not a directory" case_not_a_directory
run_case "a layout whose parents are missing" case_nested_layout
run_case "no registry in the reference: ./oci-layout" case_no_registry_means_a_layout
run_case "a chart with no destination: ./oci-layout" case_chart_without_destination
finish
