#!/usr/bin/env bash
# End-to-end tests of the ocipush command-line tool against a real registry
# (OCIPUSH_TEST_REGISTRY) and an nginx in front of it that answers 400 to any
# chunked request body (OCIPUSH_TEST_PROXY). Run through tests/registry-env.sh.
# Every push is read back from the registry and re-hashed.
#
# usage: registry-env.sh bash tests/test_cli.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"

REG=$OCIPUSH_TEST_REGISTRY
PROXY=$OCIPUSH_TEST_PROXY
DEAD=$OCIPUSH_TEST_DEAD
WORK=$OCIPUSH_TEST_TMP/cli
mkdir -p "$WORK"
command -v jq >/dev/null || { echo "jq not found; install the Debian package 'jq'" >&2; exit 1; }


# OCIPUSH_TEST_WRAPPER (valgrind, say) runs each ocipush under a checker.
# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http "$@"; }

sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# make_file NAME SIZE: random content, so no two test blobs collide.
make_file() {
    head -c "$2" /dev/urandom >"$WORK/$1"
    echo "$WORK/$1"
}

# push_and_verify HOSTPORT REPO FILE [OCIPUSH OPTIONS...]: push FILE as a
# blob, check the printed digest, read it back and re-hash it.
push_and_verify() {
    local host=$1 repo=$2 file=$3 out want
    shift 3
    out=$(ocipush "$@" blob push "$host/$repo" "$file" 2>"$WORK/stderr") ||
        fail "blob push $file $*: $(cat "$WORK/stderr")"
    want=$(sha_of "$file")
    check_eq "printed digest ($*)" "$want" "$(tail -n 1 <<<"$out")"
    check_eq "digest served ($*)" "$want" "$(registry_blob_sha256 "$REG" "$repo" "$want")"
}

# The large size is 64 MiB and more; under valgrind (OCIPUSH_TEST_QUICK=1) a
# size still above the 1 MiB memory spool, so the file spool is exercised.
if [[ ${OCIPUSH_TEST_QUICK:-} == 1 ]]; then BIG=5000011; else BIG=$((64 * 1024 * 1024 + 7)); fi
SIZES=(0 1 4097 1000003 "$BIG")

# --- every strategy, every size, straight to the registry --------------------

case_strategies_sizes() {
    local strategy size f
    for size in "${SIZES[@]}"; do
        f=$(make_file "s$size" "$size")
        for strategy in auto monolithic stream chunked; do
            push_and_verify "$REG" "sizes/$strategy" "$f" --strategy "$strategy"
        done
        # Several chunks with a short last one.
        push_and_verify "$REG" "sizes/chunked-small" "$f" --strategy chunked --chunk-size 262144
    done
}

case_streams_from_pipe() {
    local f out size
    for size in 0 1000003 "$BIG"; do
        f=$(make_file "p$size" "$size")
        out=$(ocipush blob push "$REG/pipe/direct" - <"$f" 2>"$WORK/stderr") ||
            fail "pipe push: $(cat "$WORK/stderr")"
        check_eq "pipe digest" "$(sha_of "$f")" "$out"
        check_eq "pipe served" "$(sha_of "$f")" "$(registry_blob_sha256 "$REG" pipe/direct "$out")"
        # Direct to the registry the stream is accepted: no fallback.
        if grep -q "rejected" "$WORK/stderr"; then fail "unexpected fallback: $(cat "$WORK/stderr")"; fi
    done
}

# --- the fallback through the chunk-rejecting proxy --------------------------

# fallback_pipe SIZE SPOOL_WORD: stream SIZE bytes from a pipe through the
# proxy; the warning must name where the bytes were replayed from.
fallback_pipe() {
    local f out want
    f=$(make_file "fb$1" "$1")
    want=$(sha_of "$f")
    # cat | makes standard input a pipe: a stream that cannot be rewound.
    out=$(cat "$f" | ocipush -v blob push "$PROXY/fallback/pipe" - 2>"$WORK/stderr") ||
        fail "fallback push: $(cat "$WORK/stderr")"
    check_eq "fallback digest" "$want" "$(tail -n 1 <<<"$out")"
    grep -q "rejected (HTTP 400); sending it again with Content-Length" "$WORK/stderr" ||
        fail "no fallback warning: $(cat "$WORK/stderr")"
    grep -q "$2" "$WORK/stderr" || fail "expected '$2' in: $(cat "$WORK/stderr")"
    check_eq "fallback served" "$want" "$(registry_blob_sha256 "$REG" fallback/pipe "$want")"
}

# The default spool keeps 1 MiB in memory: 1000003 bytes stay there, 64 MiB spill.
case_fallback_memory_spool() {
    fallback_pipe 1000003 "sent the 1000003-byte stream with Content-Length in chunks through the spool (in memory)"
}
case_fallback_file_spool() {
    fallback_pipe "$BIG" "sent the $BIG-byte stream with Content-Length in chunks through the spool (spilled to a temporary file)"
}

case_fallback_rewindable_file() {
    local f
    f=$(make_file fbfile 3000001)
    push_and_verify "$PROXY" fallback/file "$f" --strategy stream
    grep -q "rejected (HTTP 400)" "$WORK/stderr" || fail "no fallback warning"
}

case_fallback_chunked_after() {
    # After the fallback, a chunk size makes the retry use Content-Range PATCHes.
    local f out
    f=$(make_file fbchunk 2500000)
    out=$(cat "$f" | ocipush -vv --chunk-size 1000000 blob push "$PROXY/fallback/chunks" - 2>"$WORK/stderr") ||
        fail "push: $(cat "$WORK/stderr")"
    check_eq digest "$(sha_of "$f")" "$out"
    [[ $(grep -c '> PATCH' "$WORK/stderr") == 4 ]] ||
        fail "expected 1 streamed + 3 chunk PATCHes: $(grep '> ' "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(registry_blob_sha256 "$REG" fallback/chunks "$out")"
}

case_no_spool_fails_cleanly() {
    local f rc=0
    f=$(make_file nospool 1000003)
    cat "$f" | ocipush --no-spool blob push "$PROXY/fallback/nospool" - >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    [[ $(wc -l <"$WORK/stderr") == 1 ]] || fail "want one line on stderr, got: $(cat "$WORK/stderr")"
    grep -q "cannot be sent again" "$WORK/stderr" || fail "unclear error: $(cat "$WORK/stderr")"
    [[ ! -s $WORK/out ]] || fail "printed a digest on failure"
    blob_absent "$REG" fallback/nospool "$(sha_of "$f")"
}

# --- manifests and indexes ----------------------------------------------------

case_manifest_and_index_roundtrip() {
    local cfg layer m idx out md id
    cfg=$(make_file cfg.json 0) && echo -n '{"architecture":"amd64","os":"linux"}' >"$cfg"
    layer=$(make_file layer.bin 12345)
    push_and_verify "$REG" mani/app "$cfg"
    push_and_verify "$REG" mani/app "$layer"
    m=$WORK/manifest.json
    # Pretty-printed on purpose: the registry must keep the exact bytes.
    cat >"$m" <<EOF
{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "$(sha_of "$cfg")", "size": $(stat -c %s "$cfg")},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "$(sha_of "$layer")", "size": 12345}]
}
EOF
    out=$(ocipush manifest push "$REG/mani/app:v1" "$m" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    md=$(sha_of "$m")
    check_eq "manifest digest line" "Digest: $md" "$(tail -n 1 <<<"$out")"
    registry_manifest_get "$REG" mani/app v1 "$WORK/back.json"
    cmp -s "$m" "$WORK/back.json" || fail "manifest not byte-identical"
    registry_manifest_get "$REG" mani/app "$md" "$WORK/back2.json"
    cmp -s "$m" "$WORK/back2.json" || fail "manifest by digest not byte-identical"

    idx=$WORK/index.json
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
        "$md" "$(stat -c %s "$m")" >"$idx"
    out=$(ocipush manifest push "$PROXY/mani/app:multi" "$idx" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    id=$(sha_of "$idx")
    check_eq "index digest line" "Digest: $id" "$(tail -n 1 <<<"$out")"
    registry_manifest_get "$REG" mani/app multi "$WORK/iback.json"
    cmp -s "$idx" "$WORK/iback.json" || fail "index not byte-identical"
    # By digest, without a tag.
    out=$(ocipush manifest push "$REG/mani/app@$id" "$idx" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "index by digest" "Digest: $id" "$(tail -n 1 <<<"$out")"
}

case_manifest_missing_blob_leaves_no_tag() {
    local m rc=0
    m=$WORK/dangling.json
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:%064d","size":2},"layers":[]}' 0 >"$m"
    ocipush manifest push "$REG/mani/dangling:v1" "$m" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    grep -q "MANIFEST_BLOB_UNKNOWN\|BLOB_UNKNOWN" "$WORK/stderr" || fail "unclear: $(cat "$WORK/stderr")"
    registry_tag_exists "$REG" mani/dangling v1 && fail "tag exists" || [[ $? == 1 ]]
}

# image_manifest CONFIG LAYER: an image manifest of those two files.
image_manifest() {
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
        "$(sha_of "$1")" "$(stat -c %s "$1")" "$(sha_of "$2")" "$(stat -c %s "$2")"
}

# manifest push REG/REPO:TAG@DIGEST: the digest is checked before anything is
# sent; a mismatch pushes nothing and moves no tag.
case_manifest_tag_at_digest() {
    local cfg l1 l2 m1=$WORK/tad1.json m2=$WORK/tad2.json d1 d2 out rc f
    cfg=$WORK/tad-cfg.json && echo -n '{"architecture":"amd64","os":"linux"}' >"$cfg"
    l1=$(make_file tad-l1.bin 1111) l2=$(make_file tad-l2.bin 2222)
    for f in "$cfg" "$l1" "$l2"; do push_and_verify "$REG" tad/app "$f"; done
    image_manifest "$cfg" "$l1" >"$m1"
    image_manifest "$cfg" "$l2" >"$m2"
    d1=$(sha_of "$m1") d2=$(sha_of "$m2")
    out=$(ocipush manifest push "$REG/tad/app:t" "$m1" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "first manifest" "Digest: $d1" "$(tail -n 1 <<<"$out")"
    # The other manifest under t, with the first one's digest: refused.
    expect_failure 1 "digest is $d2, not $d1" ocipush manifest push "$REG/tad/app:t@$d1" "$m2"
    [[ ! -s $WORK/out ]] || fail "printed a result on failure: $(cat "$WORK/out")"
    registry_manifest_get "$REG" tad/app t "$WORK/tad-back.json"
    check_eq "t after the mismatch" "$d1" "$(sha_of "$WORK/tad-back.json")"
    rc=0 && registry_tag_exists "$REG" tad/app "$d2" || rc=$?
    check_eq "the other manifest by its digest (1: absent)" 1 "$rc"
    # By digest alone, the same.
    expect_failure 1 "digest is $d2, not $d1" ocipush manifest push "$REG/tad/app@$d1" "$m2"
    rc=0 && registry_tag_exists "$REG" tad/app "$d2" || rc=$?
    check_eq "the other manifest by its digest, after @DIGEST (1: absent)" 1 "$rc"
    # The right digest pushes and tags.
    out=$(ocipush manifest push "$REG/tad/app:t@$d2" "$m2" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "right digest" "Digest: $d2" "$(tail -n 1 <<<"$out")"
    registry_manifest_get "$REG" tad/app t "$WORK/tad-back.json"
    cmp -s "$m2" "$WORK/tad-back.json" || fail "t does not serve the second manifest's bytes"
    registry_manifest_get "$REG" tad/app "$d2" "$WORK/tad-back2.json"
    cmp -s "$m2" "$WORK/tad-back2.json" || fail "the second manifest by digest differs"
}

# --- whole artifacts ------------------------------------------------------------

case_push_artifact() {
    local a b out digest cfgd
    a=$(make_file chart.tgz 20000)
    b=$(make_file notes.txt 333)
    out=$(ocipush push --artifact-type application/vnd.example+type --annotation org.example.k=v \
        "$PROXY/art/demo:1.0" "$a:application/vnd.example.chart" "$b" 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    digest=$(tail -n 1 <<<"$out")
    [[ $digest == "Digest: sha256:"* ]] || fail "last line: $digest"
    digest=${digest#Digest: }
    registry_manifest_get "$REG" art/demo 1.0 "$WORK/art.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/art.json")"
    check_eq artifactType application/vnd.example+type "$(jq -r .artifactType "$WORK/art.json")"
    check_eq annotation v "$(jq -r '.annotations["org.example.k"]' "$WORK/art.json")"
    check_eq "config type" application/vnd.oci.empty.v1+json "$(jq -r .config.mediaType "$WORK/art.json")"
    cfgd=$(jq -r .config.digest "$WORK/art.json")
    check_eq "config digest" "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" "$cfgd"
    check_eq "config served" "$cfgd" "$(registry_blob_sha256 "$REG" art/demo "$cfgd")"
    check_eq "layer 0 type" application/vnd.example.chart "$(jq -r '.layers[0].mediaType' "$WORK/art.json")"
    check_eq "layer 1 type" application/vnd.oci.image.layer.v1.tar "$(jq -r '.layers[1].mediaType' "$WORK/art.json")"
    check_eq "layer 0 title" chart.tgz "$(jq -r '.layers[0].annotations["org.opencontainers.image.title"]' "$WORK/art.json")"
    check_eq "layer 1 title" notes.txt "$(jq -r '.layers[1].annotations["org.opencontainers.image.title"]' "$WORK/art.json")"
    check_eq "layer 0 size" 20000 "$(jq -r '.layers[0].size' "$WORK/art.json")"
    check_eq "layer 0 served" "$(sha_of "$a")" "$(registry_blob_sha256 "$REG" art/demo "$(jq -r '.layers[0].digest' "$WORK/art.json")")"
    check_eq "layer 1 served" "$(sha_of "$b")" "$(registry_blob_sha256 "$REG" art/demo "$(jq -r '.layers[1].digest' "$WORK/art.json")")"
    # skopeo, an independent client, reads the same artifact whole.
    skopeo_verify "$REG" art/demo:1.0 "$digest" "$WORK/skopeo-art"
}

# Pushed again, an artifact of small files sends no blob: each is hashed
# first and found (HEAD) in the registry; only the manifest goes.
case_second_push_skips_blobs() {
    local a b out
    a=$(make_file skip1.bin 300000)
    b=$(make_file skip2.txt 42)
    ocipush push "$REG/skip/app:1" "$a" "$b" >/dev/null 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    out=$(ocipush -vv push "$REG/skip/app:2" "$a" "$b" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "uploads in the second push" 0 "$(grep -c -e '> POST' -e '> PATCH' "$WORK/stderr")"
    check_eq "blobs found there" 3 "$(grep -c 'skip/app already has' "$WORK/stderr")"
    registry_manifest_get "$REG" skip/app 2 "$WORK/skip.json"
    check_eq "manifest digest" "${out##*Digest: }" "$(sha_of "$WORK/skip.json")"
    check_eq "layer 0 served" "$(sha_of "$a")" \
        "$(registry_blob_sha256 "$REG" skip/app "$(jq -r '.layers[0].digest' "$WORK/skip.json")")"
    check_eq "layer 1 served" "$(sha_of "$b")" \
        "$(registry_blob_sha256 "$REG" skip/app "$(jq -r '.layers[1].digest' "$WORK/skip.json")")"
}

case_push_config_and_stdin_layer() {
    local cfg l out
    cfg=$WORK/config.json && echo -n '{"k":1}' >"$cfg"
    l=$(make_file stdinlayer 777777)
    out=$(cat "$l" | ocipush push --config "$cfg:application/vnd.example.config+json" "$PROXY/art/stdin:v2" - 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    registry_manifest_get "$REG" art/stdin v2 "$WORK/s.json"
    check_eq "config type" application/vnd.example.config+json "$(jq -r .config.mediaType "$WORK/s.json")"
    check_eq "config digest" "$(sha_of "$cfg")" "$(jq -r .config.digest "$WORK/s.json")"
    check_eq "config served" "$(sha_of "$cfg")" "$(registry_blob_sha256 "$REG" art/stdin "$(sha_of "$cfg")")"
    check_eq "stdin layer" "$(sha_of "$l")" "$(jq -r '.layers[0].digest' "$WORK/s.json")"
    check_eq "stdin layer served" "$(sha_of "$l")" "$(registry_blob_sha256 "$REG" art/stdin "$(sha_of "$l")")"
    check_eq "manifest" "Digest: $(sha_of "$WORK/s.json")" "$(tail -n 1 <<<"$out")"
}

case_referrers_tag_schema() {
    local img sig sbom out subject sigd sbomd idx=$WORK/referrers.json
    img=$(make_file image.bin 4321) sig=$(make_file sig.bin 99) sbom=$(make_file sbom.json 555)
    out=$(ocipush push "$REG/ref/app:v1" "$img" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    subject=${out##*Digest: }
    for i in 1 2; do # the second push of the same signature must not duplicate it
        out=$(ocipush push --subject v1 --artifact-type application/vnd.example.sig \
            --annotation org.example.signer=ann "$REG/ref/app" "$sig" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
        sigd=${out##*Digest: }
    done
    out=$(ocipush push --subject "$subject" "$REG/ref/app" "$sbom:application/spdx+json" 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    sbomd=${out##*Digest: }
    registry_manifest_get "$REG" ref/app "$sigd" "$WORK/sig.json"
    check_eq "subject digest" "$subject" "$(jq -r .subject.digest "$WORK/sig.json")"
    check_eq "subject type" application/vnd.oci.image.manifest.v1+json "$(jq -r .subject.mediaType "$WORK/sig.json")"
    registry_manifest_get "$REG" ref/app v1 "$WORK/v1.json"
    check_eq "subject size" "$(stat -c %s "$WORK/v1.json")" "$(jq -r .subject.size "$WORK/sig.json")"
    registry_manifest_get "$REG" ref/app "sha256-${subject#sha256:}" "$idx"
    check_eq "index type" application/vnd.oci.image.index.v1+json "$(jq -r .mediaType "$idx")"
    check_eq "referrers" 2 "$(jq '.manifests | length' "$idx")"
    check_eq "signature listed" application/vnd.example.sig "$(jq -r --arg d "$sigd" '.manifests[] | select(.digest == $d) | .artifactType' "$idx")"
    check_eq "its annotations" ann "$(jq -r --arg d "$sigd" '.manifests[] | select(.digest == $d) | .annotations["org.example.signer"]' "$idx")"
    # No artifactType: the config's media type stands in.
    check_eq "sbom listed" application/vnd.oci.empty.v1+json "$(jq -r --arg d "$sbomd" '.manifests[] | select(.digest == $d) | .artifactType' "$idx")"
    check_eq "sbom size" "$(curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$REG/v2/ref/app/manifests/$sbomd" | wc -c)" \
        "$(jq -r --arg d "$sbomd" '.manifests[] | select(.digest == $d) | .size' "$idx")"
    expect_failure 1 "subject nope is not in ref/app" ocipush push --subject nope "$REG/ref/app" "$sig"
}

case_fifty_layers_in_parallel() {
    local files=() i out m=$WORK/fifty.json
    mkdir -p "$WORK/fifty"
    for i in $(seq -w 1 50); do
        head -c 102400 /dev/urandom >"$WORK/fifty/layer$i.bin"
        files+=("$WORK/fifty/layer$i.bin")
    done
    out=$(ocipush --concurrency 4 push "$REG/many/layers:v1" "${files[@]}" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    registry_manifest_get "$REG" many/layers v1 "$m"
    check_eq "manifest digest" "${out##*Digest: }" "$(sha_of "$m")"
    check_eq "layers" 50 "$(jq '.layers | length' "$m")"
    skopeo_verify "$REG" many/layers:v1 "${out##*Digest: }" "$WORK/skopeo-fifty"
    for i in $(seq 0 49); do # in the order given, each read back and re-hashed
        local f=${files[$i]} d
        d=$(jq -r ".layers[$i].digest" "$m")
        check_eq "layer $i title" "$(basename "$f")" "$(jq -r ".layers[$i].annotations[\"org.opencontainers.image.title\"]" "$m")"
        check_eq "layer $i digest" "$(sha_of "$f")" "$d"
        check_eq "layer $i served" "$d" "$(registry_blob_sha256 "$REG" many/layers "$d")"
    done
    expect_failure 2 "concurrency takes 1 to 64" ocipush --concurrency 0 push "$REG/many/layers:v2" "${files[0]}"
}

# Layer files are opened as they are uploaded, not all at once: a hundred
# of them push with 64 descriptors.
case_hundred_layers_ulimit() {
    local files=() i out m=$WORK/hundred.json
    mkdir -p "$WORK/hundred"
    for i in $(seq -w 1 100); do
        head -c 1000 /dev/urandom >"$WORK/hundred/layer$i.bin"
        files+=("$WORK/hundred/layer$i.bin")
    done
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    out=$(bash -c 'ulimit -n 64; exec "$@"' ulimit ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http \
        push "$REG/ulimit/app:v1" "${files[@]}" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    registry_manifest_get "$REG" ulimit/app v1 "$m"
    check_eq "manifest digest" "${out##*Digest: }" "$(sha_of "$m")"
    check_eq "layers" 100 "$(jq '.layers | length' "$m")"
    for i in $(seq 0 99); do
        local f=${files[$i]} d
        d=$(jq -r ".layers[$i].digest" "$m")
        check_eq "layer $i digest" "$(sha_of "$f")" "$d"
        check_eq "layer $i served" "$d" "$(registry_blob_sha256 "$REG" ulimit/app "$d")"
    done
    # A second push finds every blob there (each file read, hashed, closed).
    out=$(bash -c 'ulimit -n 64; exec "$@"' ulimit ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http \
        push "$REG/ulimit/app:v2" "${files[@]}" 2>"$WORK/stderr") || fail "again: $(cat "$WORK/stderr")"
    registry_manifest_get "$REG" ulimit/app v2 "$WORK/hundred2.json"
    check_eq "same manifest again" "$(sha_of "$m")" "$(sha_of "$WORK/hundred2.json")"
}

case_progress_on_a_terminal_only() {
    local f out
    f=$(make_file progress.bin 5242880)
    # script(1) gives ocipush a terminal for its standard error.
    out=$(script -qec "$OCIPUSH --plain-http push $REG/prog/app:v1 $f" /dev/null | tr '\r' '\n')
    grep -q "layer 1 of 1: 5.0 MiB / 5.0 MiB" <<<"$out" || fail "no progress line: $out"
    grep -q "MiB/s" <<<"$out" || fail "no rate: $out"
    # Not a terminal: nothing but the result.
    out=$(ocipush push "$REG/prog/app:v2" "$f" 2>"$WORK/stderr")
    [[ ! -s $WORK/stderr ]] || fail "progress without a terminal: $(cat "$WORK/stderr")"
}

# Eight pushers of the same blobs into one repository at once, with different
# tags, a few rounds of new blobs: distribution may answer a manifest PUT
# MANIFEST_BLOB_UNKNOWN for a blob another pusher is committing at that moment
# (3 of 64 pushes failed so in the issue's trial). Every push must land, and
# every tag read back. Whether the race shows up is not asserted: it is
# counted on stdout.
case_parallel_pushers_same_blobs() {
    local rounds=8 n=8 round i rc failed retried m d layer all_failed=0 all_retried=0
    [[ ${OCIPUSH_TEST_QUICK:-} == 1 ]] && rounds=2
    mkdir -p "$WORK/par"
    for round in $(seq 1 "$rounds"); do
        local a b
        a=$(make_file "par/a$round.bin" 5000) b=$(make_file "par/b$round.bin" 300000)
        for i in $(seq 1 "$n"); do
            (
                rc=0
                ocipush push "$REG/par/app:r$round-p$i" "$a" "$b" >"$WORK/par/out$i" 2>"$WORK/par/err$i" || rc=$?
                echo "$rc" >"$WORK/par/rc$i"
            ) &
        done
        wait
        failed=0 retried=0
        for i in $(seq 1 "$n"); do
            [[ $(cat "$WORK/par/rc$i") == 0 ]] || { failed=$((failed + 1)); cat "$WORK/par/err$i" >&2; }
            grep -q MANIFEST_BLOB_UNKNOWN "$WORK/par/err$i" && retried=$((retried + 1))
        done
        echo "# parallel pushers, round $round: $failed of $n failed, $retried met MANIFEST_BLOB_UNKNOWN"
        all_failed=$((all_failed + failed)) all_retried=$((all_retried + retried))
        for i in $(seq 1 "$n"); do
            [[ $(cat "$WORK/par/rc$i") == 0 ]] || continue
            m=$WORK/par/m$i.json
            registry_manifest_get "$REG" par/app "r$round-p$i" "$m" || fail "no tag r$round-p$i"
            d=$(tail -n 1 "$WORK/par/out$i")
            check_eq "tag r$round-p$i" "${d#Digest: }" "$(sha_of "$m")"
            check_eq "layer 0 of r$round-p$i" "$(sha_of "$a")" "$(jq -r '.layers[0].digest' "$m")"
            check_eq "layer 1 of r$round-p$i" "$(sha_of "$b")" "$(jq -r '.layers[1].digest' "$m")"
        done
        for layer in "$a" "$b"; do
            check_eq "served $(basename "$layer")" "$(sha_of "$layer")" \
                "$(registry_blob_sha256 "$REG" par/app "$(sha_of "$layer")")"
        done
    done
    echo "# parallel pushers: $all_failed of $((rounds * n)) failed, $all_retried met MANIFEST_BLOB_UNKNOWN"
    check_eq "failed pushes" 0 "$all_failed"
}

# --- --format json ---------------------------------------------------------------

# json_out FILE: FILE holds exactly one line, one JSON object (python3's
# strict parser, not jq: what a script would use); prints nothing.
json_out() {
    python3 -c 'import json,sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert len(lines) == 2 and lines[1] == "", "want one line, got %r" % lines
assert isinstance(json.loads(lines[0]), dict)' "$1" || fail "not one JSON object on one line: $(cat -v "$1")"
}

# json_get FILE EXPR: EXPR, a Python expression of d (the object in FILE),
# printed (lists and objects as JSON).
json_get() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (list, dict)) or v is None else v)' "$1" "$2"
}

case_json_blob_push() {
    local f want out=$WORK/json-blob.out
    f=$(make_file json-blob.bin 4097)
    want=$(sha_of "$f")
    ocipush --format json blob push "$REG/json/blob" "$f" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "digest" "$want" "$(json_get "$out" 'd["digest"]')"
    check_eq "digest served" "$want" "$(registry_blob_sha256 "$REG" json/blob "$(json_get "$out" 'd["digest"]')")"
    check_eq "size" 4097 "$(json_get "$out" 'd["size"]')"
    check_eq "status" pushed "$(json_get "$out" 'd["status"]')"
    check_eq "keys" '["digest", "size", "status"]' "$(json_get "$out" 'sorted(d)')"
    # Again: hashed first, found by HEAD, not sent.
    ocipush --format json blob push "$REG/json/blob" "$f" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "status again" skipped "$(json_get "$out" 'd["status"]')"
    check_eq "digest again" "$want" "$(json_get "$out" 'd["digest"]')"
    # A stream (no prehash) from a pipe: pushed, its digest learned as sent.
    cat "$f" | ocipush --format json blob push "$REG/json/blob2" - >"$out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "stream status" pushed "$(json_get "$out" 'd["status"]')"
    check_eq "stream served" "$want" "$(registry_blob_sha256 "$REG" json/blob2 "$(json_get "$out" 'd["digest"]')")"
    # --format text is the default's output.
    check_eq "text" "$want" "$(ocipush --format text blob push "$REG/json/blob" "$f" 2>"$WORK/stderr")"
}

case_json_manifest_push() {
    local cfg layer m=$WORK/json-manifest.json out=$WORK/json-manifest.out md
    cfg=$WORK/json-cfg.json && echo -n '{"architecture":"arm64","os":"linux"}' >"$cfg"
    layer=$(make_file json-layer.bin 2345)
    push_and_verify "$REG" json/mani "$cfg"
    push_and_verify "$REG" json/mani "$layer"
    image_manifest "$cfg" "$layer" >"$m"
    md=$(sha_of "$m")
    ocipush --format json manifest push "$REG/json/mani:v1" "$m" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "digest" "$md" "$(json_get "$out" 'd["digest"]')"
    registry_manifest_get "$REG" json/mani v1 "$WORK/json-mback.json"
    check_eq "digest served" "$md" "$(sha_of "$WORK/json-mback.json")"
    check_eq "size" "$(stat -c %s "$m")" "$(json_get "$out" 'd["size"]')"
    check_eq "mediaType" application/vnd.oci.image.manifest.v1+json "$(json_get "$out" 'd["mediaType"]')"
    check_eq "tags" '["v1"]' "$(json_get "$out" 'd["tags"]')"
    check_eq "reference" "$REG/json/mani:v1" "$(json_get "$out" 'd["reference"]')"
    check_eq "repository" json/mani "$(json_get "$out" 'd["repository"]')"
    # By digest: no tag; the media type an index declares.
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s}]}' \
        "$md" "$(stat -c %s "$m")" >"$WORK/json-index.json"
    ocipush --format json manifest push "$REG/json/mani@$(sha_of "$WORK/json-index.json")" "$WORK/json-index.json" \
        >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "index tags" '[]' "$(json_get "$out" 'd["tags"]')"
    check_eq "index mediaType" application/vnd.oci.image.index.v1+json "$(json_get "$out" 'd["mediaType"]')"
    check_eq "index reference" "$REG/json/mani@$(sha_of "$WORK/json-index.json")" "$(json_get "$out" 'd["reference"]')"
}

case_json_push() {
    local a b cfg out=$WORK/json-push.out m=$WORK/json-push.json i d
    a=$(make_file json-a.bin 300000) b=$(make_file json-b.txt 42)
    cfg=$WORK/json-pcfg.json && echo -n '{"json":true}' >"$cfg"
    ocipush --format json --config "$cfg:application/vnd.example.config+json" \
        push "$REG/json/app:v1" "$a" "$b:text/plain" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    registry_manifest_get "$REG" json/app v1 "$m"
    check_eq "digest" "$(sha_of "$m")" "$(json_get "$out" 'd["digest"]')"
    check_eq "size" "$(stat -c %s "$m")" "$(json_get "$out" 'd["size"]')"
    check_eq "mediaType" application/vnd.oci.image.manifest.v1+json "$(json_get "$out" 'd["mediaType"]')"
    check_eq "reference" "$REG/json/app:v1" "$(json_get "$out" 'd["reference"]')"
    check_eq "repository" json/app "$(json_get "$out" 'd["repository"]')"
    check_eq "tags" '["v1"]' "$(json_get "$out" 'd["tags"]')"
    check_eq "blobs" 3 "$(json_get "$out" 'len(d["blobs"])')"
    check_eq "blob keys" '["digest", "mediaType", "size", "status"]' "$(json_get "$out" 'sorted(d["blobs"][0])')"
    check_eq "config digest" "$(sha_of "$cfg")" "$(json_get "$out" 'd["blobs"][0]["digest"]')"
    check_eq "config type" application/vnd.example.config+json "$(json_get "$out" 'd["blobs"][0]["mediaType"]')"
    check_eq "layer 0 digest" "$(sha_of "$a")" "$(json_get "$out" 'd["blobs"][1]["digest"]')"
    check_eq "layer 0 size" 300000 "$(json_get "$out" 'd["blobs"][1]["size"]')"
    check_eq "layer 0 type" application/vnd.oci.image.layer.v1.tar "$(json_get "$out" 'd["blobs"][1]["mediaType"]')"
    check_eq "layer 1 type" text/plain "$(json_get "$out" 'd["blobs"][2]["mediaType"]')"
    for i in 0 1 2; do
        d=$(json_get "$out" "d[\"blobs\"][$i][\"digest\"]")
        check_eq "blob $i status" pushed "$(json_get "$out" "d[\"blobs\"][$i][\"status\"]")"
        check_eq "blob $i served" "$d" "$(registry_blob_sha256 "$REG" json/app "$d")"
        check_eq "blob $i in the manifest" "$d" \
            "$(jq -r "if $i == 0 then .config.digest else .layers[$i - 1].digest end" "$m")"
    done
    # Again under another tag: every blob is there, skipped.
    ocipush --format json --config "$cfg:application/vnd.example.config+json" \
        push "$REG/json/app:v2" "$a" "$b:text/plain" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "statuses again" '["skipped", "skipped", "skipped"]' "$(json_get "$out" '[b["status"] for b in d["blobs"]]')"
    check_eq "same manifest" "$(sha_of "$m")" "$(json_get "$out" 'd["digest"]')"
    # No tag: the reference names the digest.
    ocipush --format json push "$REG/json/app" "$b" >"$out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "untagged" '[]' "$(json_get "$out" 'd["tags"]')"
    check_eq "untagged reference" "$REG/json/app@$(json_get "$out" 'd["digest"]')" "$(json_get "$out" 'd["reference"]')"
    # The empty config, new to the repository, and the layer there already.
    check_eq "empty config" application/vnd.oci.empty.v1+json "$(json_get "$out" 'd["blobs"][0]["mediaType"]')"
    check_eq "statuses, untagged" '["pushed", "skipped"]' "$(json_get "$out" '[b["status"] for b in d["blobs"]]')"
}

case_json_chart_push() {
    local dir=$WORK/json-chart chart out=$WORK/json-chart.out m=$WORK/json-chart.json i d
    # shellcheck disable=SC2086 # the wrapper is a command line
    if ! ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --version | grep -q '^features:.* helm'; then
        echo "# chart push: built without Helm support, skipped"
        return 0
    fi
    mkdir -p "$dir/jsonchart/templates"
    printf 'apiVersion: v2\nname: jsonchart\nversion: 0.3.0\n' >"$dir/jsonchart/Chart.yaml"
    head -c 5000 /dev/urandom | base64 >"$dir/jsonchart/templates/data.txt"
    tar -C "$dir" -czf "$dir/jsonchart-0.3.0.tgz" jsonchart
    chart=$dir/jsonchart-0.3.0.tgz
    ocipush --format json chart push "$chart" "oci://$REG/json/charts" >"$out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "reference" "$REG/json/charts/jsonchart:0.3.0" "$(json_get "$out" 'd["reference"]')"
    check_eq "tags" '["0.3.0"]' "$(json_get "$out" 'd["tags"]')"
    registry_manifest_get "$REG" json/charts/jsonchart 0.3.0 "$m"
    check_eq "digest" "$(sha_of "$m")" "$(json_get "$out" 'd["digest"]')"
    check_eq "blobs" 2 "$(json_get "$out" 'len(d["blobs"])')"
    check_eq "config type" application/vnd.cncf.helm.config.v1+json "$(json_get "$out" 'd["blobs"][0]["mediaType"]')"
    check_eq "chart type" application/vnd.cncf.helm.chart.content.v1.tar+gzip "$(json_get "$out" 'd["blobs"][1]["mediaType"]')"
    check_eq "chart digest" "$(sha_of "$chart")" "$(json_get "$out" 'd["blobs"][1]["digest"]')"
    check_eq "chart size" "$(stat -c %s "$chart")" "$(json_get "$out" 'd["blobs"][1]["size"]')"
    for i in 0 1; do
        d=$(json_get "$out" "d[\"blobs\"][$i][\"digest\"]")
        check_eq "blob $i status" pushed "$(json_get "$out" "d[\"blobs\"][$i][\"status\"]")"
        check_eq "blob $i served" "$d" "$(registry_blob_sha256 "$REG" json/charts/jsonchart "$d")"
    done
    ocipush --format json chart push "$chart" "oci://$REG/json/charts" >"$out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    json_out "$out"
    check_eq "statuses again" '["skipped", "skipped"]' "$(json_get "$out" '[b["status"] for b in d["blobs"]]')"
}

# A failure: the stderr line as before, and one error object on stdout; a
# usage error prints nothing there.
case_json_errors() {
    local m=$WORK/json-dangling.json out=$WORK/json-err.out rc f
    f=$(make_file json-err.bin 100)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:%064d","size":2},"layers":[]}' 0 >"$m"
    rc=0 && ocipush --format json manifest push "$REG/json/dangling:v1" "$m" >"$out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/stderr")"
    json_out "$out"
    check_eq "code" -5 "$(json_get "$out" 'd["error"]["code"]')"
    check_eq "name" OCIPUSH_E_HTTP "$(json_get "$out" 'd["error"]["name"]')"
    check_eq "httpStatus" 400 "$(json_get "$out" 'd["error"]["httpStatus"]')"
    check_eq "registryCode" MANIFEST_BLOB_UNKNOWN "$(json_get "$out" 'd["error"]["registryCode"]')"
    json_get "$out" 'd["error"]["message"]' | grep -q "MANIFEST_BLOB_UNKNOWN" || fail "message: $(cat "$out")"
    check_eq "keys" '["error"]' "$(json_get "$out" 'sorted(d)')"
    # No answer behind it: null status and code.
    rc=0 && ocipush --format json --retries 0 blob push "$DEAD/json/r" "$f" >"$out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status (dead)" 1 "$rc"
    json_out "$out"
    check_eq "name (dead)" OCIPUSH_E_NETWORK "$(json_get "$out" 'd["error"]["name"]')"
    check_eq "nulls (dead)" '[null, null]' "$(json_get "$out" '[d["error"]["httpStatus"], d["error"]["registryCode"]]')"
    # A file that cannot be read.
    rc=0 && ocipush --format json push "$REG/json/missing:v1" "$WORK/missing" >"$out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status (missing)" 1 "$rc"
    json_out "$out"
    check_eq "name (missing)" OCIPUSH_E_IO "$(json_get "$out" 'd["error"]["name"]')"
    # Usage errors: exit 2, nothing on stdout.
    expect_failure 2 "--format takes text or json: 'yaml'" ocipush --format yaml push "$DEAD/u/r:v1" "$f"
    [[ ! -s $WORK/out ]] || fail "printed on a usage error: $(cat "$WORK/out")"
    expect_failure 2 "invalid reference" ocipush --format json blob push "$REG/UPPER/case" "$f"
    [[ ! -s $WORK/out ]] || fail "printed on a usage error: $(cat "$WORK/out")"
    # login stays text.
    expect_failure 1 "network error" ocipush --format json --retries 0 login "$DEAD" -u u -p p
    [[ ! -s $WORK/out ]] || fail "login printed JSON: $(cat "$WORK/out")"
}

# The JSON writer against strings the CLI cannot get from a test registry:
# a layout reference with quotes, backslashes and control characters in its
# directory name (a path may hold any byte but NUL and /), and bytes that are
# not UTF-8. (tests/hostile/test_responses.sh checks a registry's message.)
case_json_escapes_paths() {
    local f dir out=$WORK/json-esc.out
    f=$(make_file json-esc.bin 10)
    dir=$WORK/$'lay"out\\\x01\x1b[31m\t\xc3\x28\xe2\x80\xae'
    ocipush --format json --oci-layout "$dir" push app:v1 "$f" >"$out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    json_out "$out"
    ! LC_ALL=C grep -q $'[\x01-\x1f\x7f]' "$out" || fail "a raw control byte on stdout: $(cat -v "$out")"
    ! LC_ALL=C grep -q $'\xe2\x80\xae' "$out" || fail "a raw bidi override on stdout: $(cat -v "$out")"
    grep -qF 'lay\"out\\\u0001\u001b[31m\u0009\ufffd(\u202e:v1"' "$out" || fail "not escaped as expected: $(cat -v "$out")"
}

# --- bad input: a clear error, nothing half-pushed ---------------------------

# expect_failure STATUS PATTERN COMMAND...: exit STATUS, one stderr line matching PATTERN.
expect_failure() {
    local want=$1 pattern=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status of $*" "$want" "$rc"
    grep -q -- "$pattern" "$WORK/stderr" || fail "stderr of $* lacks '$pattern': $(cat "$WORK/stderr")"
}

case_bad_input() {
    local f
    f=$(make_file bad 100)
    expect_failure 2 "invalid reference" ocipush blob push "$REG/UPPER/case" "$f"
    expect_failure 2 "invalid repository name" ocipush push "Upper/app:tag" "$f"
    expect_failure 2 "invalid tag" ocipush push "$REG/r:-bad" "$f"
    expect_failure 2 "invalid digest" ocipush manifest push "$REG/r@sha256:abc" "$f"
    expect_failure 2 "takes no tag" ocipush blob push "$REG/r:tag" "$f"
    expect_failure 2 "unknown option" ocipush --bogus blob push "$REG/r" "$f"
    expect_failure 2 "--strategy takes" ocipush --strategy sideways blob push "$REG/r" "$f"
    expect_failure 2 "no command" ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH"
    expect_failure 1 "cannot read '$WORK/missing'" ocipush blob push "$REG/bad/r" "$WORK/missing"
    expect_failure 1 "cannot read '$WORK/missing'" ocipush push "$REG/bad/half:v1" "$f" "$WORK/missing"
    registry_tag_exists "$REG" bad/half v1 && fail "tag after a failed push" || [[ $? == 1 ]]
    expect_failure 1 "network error" ocipush --retries 0 blob push "$DEAD/bad/r" "$f"
    expect_failure 1 "network error" ocipush -v --retries 1 --retry-delay 1 push "$DEAD/bad/r:v1" "$f"
    grep -q "retry 1 of 1" "$WORK/stderr" || fail "connection refused was not retried"
    expect_failure 1 "not a JSON object" ocipush manifest push "$REG/bad/r:v1" "$f"
    registry_tag_exists "$REG" bad/r v1 && fail "tag after a failed manifest push" || [[ $? == 1 ]]
}

# Usage errors exit 2, before anything is read or sent (the destination is a
# port where nothing listens: a request would make it exit 1).
case_usage_errors() {
    local f
    f=$(make_file usage 100)
    expect_failure 2 "unknown option: '--bogus'" ocipush --bogus push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "unknown option: '-x'" ocipush -x push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "option needs a value: '--chunk-size'" ocipush push "$DEAD/u/r:v1" "$f" --chunk-size
    expect_failure 2 "option needs a value: '-u'" ocipush push "$DEAD/u/r:v1" "$f" -u
    expect_failure 2 "take a number: 'many'" ocipush --retries many push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "take a number: '-1'" ocipush --idle-timeout -1 blob push "$DEAD/u/r" "$f"
    expect_failure 2 "at least 64K.*'1K'" ocipush --chunk-size 1K --strategy chunked blob push "$DEAD/u/r" "$f"
    expect_failure 2 "at least 64K.*'65535'" ocipush --chunk-size 65535 push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "at least 64K.*'0'" ocipush --chunk-size 0 push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "at least 64K.*'12Q'" ocipush --chunk-size 12Q push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "concurrency takes 1 to 64: '65'" ocipush --concurrency 65 push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "--annotation takes KEY=VALUE" ocipush --annotation novalue push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "--annotation takes KEY=VALUE" ocipush --annotation =v push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "invalid --subject" ocipush --subject 'not a tag' push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "retry-max-delay must not be below" ocipush --retry-delay 900 --retry-max-delay 10 \
        push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "standard input can be used only once" ocipush push "$DEAD/u/r:v1" - - </dev/null
    expect_failure 2 "standard input can be used only once" ocipush --config - push "$DEAD/u/r:v1" - </dev/null
    expect_failure 2 "invalid registry 'bad host'" ocipush login 'bad host' -u user -p pass
    expect_failure 2 "invalid TLS or credential" ocipush -u 'us:er' -p pass push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "invalid TLS or credential" ocipush --ca-file '' push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "not an oci:// reference" ocipush chart push "$f" "$DEAD/u"
    expect_failure 2 "invalid registry ''" ocipush chart push "$f" oci:///u
    expect_failure 2 "cannot use '' as an OCI layout" ocipush --oci-layout '' push u/r:v1 "$f"
    expect_failure 2 "invalid TLS or credential" ocipush --cert-file '' push "$DEAD/u/r:v1" "$f"
    expect_failure 2 "unknown command" ocipush blob push "$DEAD/u/r"
    expect_failure 2 "unknown command" ocipush frobnicate
}

# The result is what a command is for: when it cannot be written, exit 1
# (the push itself landed: it is read back).
case_stdout_write_fails() {
    local f digest
    f=$(make_file full.bin 3000)
    expect_failure 1 "cannot write the result to standard output" \
        bash -c 'exec "$@" >/dev/full' full ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http \
        blob push "$REG/full/r" "$f"
    digest=$(sha_of "$f")
    check_eq "blob served" "$digest" "$(registry_blob_sha256 "$REG" full/r "$digest")"
    expect_failure 1 "cannot write the result to standard output" \
        bash -c 'exec "$@" >/dev/full' full ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http \
        push "$REG/full/app:v1" "$f"
    registry_tag_exists "$REG" full/app v1 || fail "the push did not land"
    expect_failure 1 "cannot write the result to standard output" \
        bash -c 'exec "$@" >/dev/full' full ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --help
}

# --version: ocipush's version (the library's), libcurl's, the digest
# backend and the features, four lines, exit 0, nothing sent.
case_version() {
    local out
    # shellcheck disable=SC2086 # the wrapper is a command line
    out=$(${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --version) || fail "--version exited $?"
    check_eq "lines" 4 "$(printf '%s\n' "$out" | wc -l)"
    printf '%s\n' "$out" | sed -n 1p | grep -qE '^ocipush [0-9]+\.[0-9]+\.[0-9]+$' ||
        fail "no version line: $out"
    printf '%s\n' "$out" | sed -n 2p | grep -qE '^libcurl [0-9]+\.[0-9]+' || fail "no libcurl: $out"
    printf '%s\n' "$out" | sed -n 3p | grep -qE '^digest: (mbedtls|openssl)$' || fail "no digest: $out"
    printf '%s\n' "$out" | sed -n 4p | grep -qE '^features: ' || fail "no features: $out"
    "$OCIPUSH" --help | grep -q -- '--version' || fail "--help does not list --version"
}

run_case "every strategy and size, direct" case_strategies_sizes
run_case "streams from a pipe, direct" case_streams_from_pipe
run_case "fallback: pipe through the proxy, memory spool" case_fallback_memory_spool
run_case "fallback: pipe through the proxy, file spool" case_fallback_file_spool
run_case "fallback: rewindable file through the proxy" case_fallback_rewindable_file
run_case "fallback: chunked retry" case_fallback_chunked_after
run_case "fallback: --no-spool fails cleanly" case_no_spool_fails_cleanly
run_case "manifest and index round trip" case_manifest_and_index_roundtrip
run_case "manifest with a missing blob leaves no tag" case_manifest_missing_blob_leaves_no_tag
run_case "manifest push TAG@DIGEST: a mismatch sends nothing" case_manifest_tag_at_digest
run_case "push an artifact through the proxy" case_push_artifact
run_case "push with a config and a stdin layer" case_push_config_and_stdin_layer
run_case "a second push of small files sends no blob" case_second_push_skips_blobs
run_case "referrers: subject and the tag schema index" case_referrers_tag_schema
run_case "fifty layers in parallel" case_fifty_layers_in_parallel
run_case "a progress line on a terminal, none without" case_progress_on_a_terminal_only
run_case "eight parallel pushers of the same blobs" case_parallel_pushers_same_blobs
run_case "bad input" case_bad_input
run_case "a hundred layers under ulimit -n 64" case_hundred_layers_ulimit
run_case "usage errors exit 2 before anything is sent" case_usage_errors
run_case "a result that cannot be written exits 1" case_stdout_write_fails
run_case "--version says the versions, the digest backend and the features" case_version
run_case "--format json: blob push, then skipped" case_json_blob_push
run_case "--format json: manifest push, by tag and by digest" case_json_manifest_push
run_case "--format json: push, each blob read back, then skipped" case_json_push
run_case "--format json: chart push, then skipped" case_json_chart_push
run_case "--format json: an error object on failure, nothing on a usage error" case_json_errors
run_case "--format json: quotes, backslashes, controls, bad UTF-8 escaped" case_json_escapes_paths

finish
