#!/usr/bin/env bash
# ocipush copy from OCI layouts it did not make (written by tests/make-layout.py
# with python's standard library, and by skopeo) into the real registry and
# into a layout: the same digests, every manifest and blob read back and
# re-hashed, the tags last; bad input refused with the file named and nothing
# tagged. Run through tests/registry-env.sh.
#
# usage: registry-env.sh bash tests/test_copy.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"
REG=$OCIPUSH_TEST_REGISTRY
PROXY=$OCIPUSH_TEST_PROXY
WORK=$OCIPUSH_TEST_TMP/copytest
mkdir -p "$WORK"

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http "$@"; }
said() { grep -q -- "$1" "$WORK/stderr" || fail "stderr lacks '$1': $(cat "$WORK/stderr")"; }

# served_sound HOSTPORT REPO DIGEST: the registry serves the manifest DIGEST
# as bytes that hash to it, and every blob and child manifest it names too.
served_sound() {
    local m=$WORK/served.json d
    registry_manifest_get "$1" "$2" "$3" "$m" || fail "GET manifest $2@$3"
    check_eq "manifest $3 re-hashed" "$3" "sha256:$(sha256sum "$m" | cut -d' ' -f1)"
    for d in $(jq -r '.manifests[]?.digest' "$m"); do
        served_sound "$1" "$2" "$d"
    done
    registry_manifest_get "$1" "$2" "$3" "$m"
    for d in $(jq -r '(.config.digest // empty), (.layers[]?.digest)' "$m"); do
        check_eq "blob $d re-hashed" "$d" "$(registry_blob_sha256 "$1" "$2" "$d")"
    done
}

# tag_is HOSTPORT REPO TAG DIGEST: skopeo, an independent reader, sees the tag
# name the manifest DIGEST.
tag_is() {
    local raw
    raw=$(skopeo inspect --raw --tls-verify=false "docker://$1/$2:$3" | sha256sum | cut -d' ' -f1) ||
        fail "skopeo inspect $2:$3"
    check_eq "skopeo: $2:$3" "$4" "sha256:$raw"
}

case_image_layout() {
    local lay=$WORK/img top out
    top=$(python3 "$HERE/make-layout.py" "$lay" image)
    out=$(ocipush copy "oci:$lay:v1" "$REG/copy/img:v2" 2>"$WORK/stderr") || fail "copy: $(cat "$WORK/stderr")"
    check_eq "printed digest" "Digest: $top" "$(tail -n 1 <<<"$out")"
    served_sound "$REG" copy/img "$top"
    tag_is "$REG" copy/img v2 "$top"
    # Again: every blob is there, so none is sent (HEADs only), and the tag
    # defaults to the source's.
    ocipush -v copy "oci:$lay" "$REG/copy/img" >/dev/null 2>"$WORK/stderr" || fail "copy again: $(cat "$WORK/stderr")"
    said "already has"
    grep -q "> PATCH\|> POST" "$WORK/stderr" && fail "a blob was uploaded again: $(cat "$WORK/stderr")"
    tag_is "$REG" copy/img v1 "$top"
}

case_index_with_referrer() {
    local lay=$WORK/multi top ref refs
    top=$(python3 "$HERE/make-layout.py" "$lay" multi)
    ocipush -v copy "oci:$lay:multi" "$REG/copy/multi" >/dev/null 2>"$WORK/stderr" ||
        fail "copy: $(cat "$WORK/stderr")"
    served_sound "$REG" copy/multi "$top"
    tag_is "$REG" copy/multi multi "$top"
    # The referrer came along: by digest, and listed in the referrers tag
    # index of its subject (distribution 2.8 has no referrers API).
    ref=$(jq -r '.manifests[1].digest' "$lay/index.json")
    served_sound "$REG" copy/multi "$ref"
    registry_manifest_get "$REG" copy/multi "sha256-${top#sha256:}" "$WORK/refs.json" ||
        fail "no referrers tag index for $top"
    refs=$(jq -r '[.manifests[] | .digest + " " + .artifactType + " " + .annotations["org.example.kind"]] | join(",")' "$WORK/refs.json")
    check_eq "referrers index" "$ref application/vnd.example.sbom sbom" "$refs"
    # Another image of the layout that cannot be read does not fail the copy.
    local extra=$WORK/multi-extra
    cp -r "$lay" "$extra"
    jq '.manifests += [{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$(printf '%064d' 0)"'","size":3}]' \
        "$lay/index.json" >"$extra/index.json"
    ocipush copy "oci:$extra:multi" "$REG/copy/multi3" >/dev/null 2>"$WORK/stderr" ||
        fail "an unreadable other image failed the copy: $(cat "$WORK/stderr")"
    tag_is "$REG" copy/multi3 multi "$top"
    # --no-referrers leaves it behind.
    ocipush copy --no-referrers "oci:$lay:multi" "$REG/copy/multi2" >/dev/null 2>"$WORK/stderr" ||
        fail "copy --no-referrers: $(cat "$WORK/stderr")"
    registry_tag_exists "$REG" copy/multi2 "sha256-${top#sha256:}" && fail "referrers copied anyway" || [[ $? == 1 ]]
}

case_skopeo_layout_through_the_proxy() {
    # A layout skopeo wrote, of an image skopeo copied from the registry;
    # copied back through the chunk-rejecting proxy.
    local src=$WORK/src.bin lay=$WORK/sk top
    head -c 2000003 /dev/urandom >"$src"
    ocipush push "$REG/copy/origin:1" "$src" >/dev/null 2>"$WORK/stderr" || fail "seed push: $(cat "$WORK/stderr")"
    skopeo copy --quiet --src-tls-verify=false "docker://$REG/copy/origin:1" "oci:$lay:one" 2>"$WORK/stderr" ||
        fail "skopeo copy: $(cat "$WORK/stderr")"
    top=$(jq -r '.manifests[0].digest' "$lay/index.json")
    ocipush copy "oci:$lay:one" "$PROXY/copy/sk:one" >/dev/null 2>"$WORK/stderr" || fail "copy: $(cat "$WORK/stderr")"
    served_sound "$REG" copy/sk "$top"
    tag_is "$REG" copy/sk one "$top"
}

# A layer whose bytes are another manifest of the index: the registry keeps
# blobs and manifests apart, so that digest goes as both (once it went as
# the blob only, and the index was pushed naming a manifest the registry
# lacked).
case_blob_and_manifest_twins() {
    local lay=$WORK/twin top
    top=$(python3 "$HERE/make-layout.py" "$lay" twin)
    ocipush copy "oci:$lay:twin" "$REG/copy/twin" >/dev/null 2>"$WORK/stderr" || fail "copy: $(cat "$WORK/stderr")"
    served_sound "$REG" copy/twin "$top"
    tag_is "$REG" copy/twin twin "$top"
}

case_into_a_layout() {
    local lay=$WORK/img out=$WORK/out-layout top got
    top=$(jq -r '.manifests[0].digest' "$lay/index.json")
    ocipush copy "oci:$lay:v1" "oci:$out:w" >/dev/null 2>"$WORK/stderr" || fail "copy: $(cat "$WORK/stderr")"
    got=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "w") | .digest' "$out/index.json")
    check_eq "layout tag w" "$top" "$got"
    local f
    for f in "$out"/blobs/sha256/*; do
        cmp -s "$f" "$lay/blobs/sha256/$(basename "$f")" || fail "$f differs from the source's"
    done
    skopeo inspect --raw "oci:$out:w" | sha256sum | grep -q "^${top#sha256:} " || fail "skopeo reads another manifest"
}

case_all_tags() {
    # A layout with two tagged images (the two above in one): both copied,
    # each under its tag; a tag given with --all-tags is refused.
    local two=$WORK/two rc=0
    cp -r "$WORK/img" "$two"
    cp "$WORK/multi"/blobs/sha256/* "$two/blobs/sha256/"
    jq --slurpfile m "$WORK/multi/index.json" '.manifests += [$m[0].manifests[0]]' \
        "$WORK/img/index.json" >"$two/index.json"
    ocipush copy --all-tags "oci:$two" "$REG/copy/all" >/dev/null 2>"$WORK/stderr" ||
        fail "copy --all-tags: $(cat "$WORK/stderr")"
    tag_is "$REG" copy/all v1 "$(jq -r '.manifests[0].digest' "$two/index.json")"
    tag_is "$REG" copy/all multi "$(jq -r '.manifests[1].digest' "$two/index.json")"
    served_sound "$REG" copy/all "$(jq -r '.manifests[1].digest' "$two/index.json")"
    ocipush copy --all-tags "oci:$two:v1" "$REG/copy/all2" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "no tag goes with them"
}

case_mount_from() {
    # The image copied before is in copy/img: copied into another repository
    # with --mount-from, every blob is mounted, none uploaded.
    local lay=$WORK/img top rc=0
    top=$(jq -r '.manifests[0].digest' "$lay/index.json")
    ocipush -v --mount-from copy/img copy "oci:$lay:v1" "$REG/copy/mounted:v1" >/dev/null 2>"$WORK/stderr" ||
        fail "copy --mount-from: $(cat "$WORK/stderr")"
    said "mounted sha256:.* into copy/mounted from copy/img"
    grep -q "> PATCH" "$WORK/stderr" && fail "a blob was uploaded: $(grep '> PATCH' "$WORK/stderr")"
    served_sound "$REG" copy/mounted "$top"
    tag_is "$REG" copy/mounted v1 "$top"
    # From a repository that lacks them: uploaded all the same.
    ocipush -v --mount-from copy/nothing-here copy "oci:$lay:v1" "$REG/copy/mounted2:v1" >/dev/null 2>"$WORK/stderr" ||
        fail "copy --mount-from an empty repository: $(cat "$WORK/stderr")"
    served_sound "$REG" copy/mounted2 "$top"
    ocipush --mount-from Bad/Repo copy "oci:$lay:v1" "$REG/copy/mounted3:v1" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "an invalid --mount-from" 2 "$rc"
}

# tar_layout DIR FILE MODE DOT: the layout DIR as a tar (python's tarfile:
# MODE w, w:gz), member paths with "./" when DOT is 1.
tar_layout() {
    python3 - "$@" <<'PY'
import os, sys, tarfile
src, out, mode, dot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
with tarfile.open(out, mode) as t:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            t.add(path, arcname=("./" + rel) if dot else rel)
PY
}

case_archives() {
    # The layouts above as tars ocipush did not make, plain and gzip'd, paths
    # with and without "./"; read as streams with TMPDIR on a 1 MiB tmpfs
    # (where this test may mount one), smaller than any of them.
    local lay=$WORK/multi top small=$WORK/tiny-tmp kind
    top=$(jq -r '.manifests[0].digest' "$lay/index.json")
    mkdir -p "$small"
    mount -t tmpfs -o size=1m tmpfs "$small" 2>/dev/null && kind=tmpfs || kind=dir
    tar_layout "$lay" "$WORK/multi.tar" w 0
    tar_layout "$lay" "$WORK/multi.tgz" w:gz 1
    zstd -q -f -o "$WORK/multi.tar.zst" "$WORK/multi.tar" || fail "zstd"
    local f n=0
    for f in "$WORK/multi.tar" "$WORK/multi.tgz" "$WORK/multi.tar.zst"; do
        n=$((n + 1))
        TMPDIR=$small ocipush copy "oci-archive:$f:multi" "$REG/copy/arch$n" >/dev/null 2>"$WORK/stderr" ||
            fail "copy $f: $(cat "$WORK/stderr")"
        served_sound "$REG" copy/arch$n "$top"
        tag_is "$REG" copy/arch$n multi "$top"
        registry_manifest_get "$REG" copy/arch$n "sha256-${top#sha256:}" "$WORK/refs.json" ||
            fail "no referrers index from $f"
    done
    [[ $kind == tmpfs ]] && umount "$small"
    # An archive skopeo wrote (oci-archive:), through the chunk-rejecting proxy.
    skopeo copy --quiet --src-tls-verify=false "docker://$REG/copy/origin:1" \
        "oci-archive:$WORK/sk.tar:one" 2>"$WORK/stderr" || fail "skopeo copy: $(cat "$WORK/stderr")"
    top=$(tar -xOf "$WORK/sk.tar" index.json | jq -r '.manifests[0].digest')
    ocipush copy "oci-archive:$WORK/sk.tar" "$PROXY/copy/skarch:one" >/dev/null 2>"$WORK/stderr" ||
        fail "copy sk.tar: $(cat "$WORK/stderr")"
    served_sound "$REG" copy/skarch "$top"
    tag_is "$REG" copy/skarch one "$top"
}

case_bad_archives() {
    local size
    # Cut short: refused when opened, before anything is pushed.
    size=$(stat -c %s "$WORK/multi.tgz")
    head -c $((size / 2)) "$WORK/multi.tgz" >"$WORK/cut.tgz"
    copy_refused copy/badarch1 "$WORK/cut.tgz: reading the member .* failed: truncated" \
        "oci-archive:$WORK/cut.tgz:multi"
    # Nothing was sent: not even the config, which comes first.
    local config
    config=$(jq -r '.config.digest' "$WORK/multi/blobs/sha256/$(jq -r '.manifests[0].digest' \
        "$WORK/multi/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/multi/index.json" | cut -c8-)" | cut -c8-)")
    blob_absent "$REG" copy/badarch1 "$config"
    # A tar without a layout in it.
    tar -cf "$WORK/other.tar" -C "$WORK" other
    copy_refused copy/badarch2 "$WORK/other.tar is not an OCI archive: it has no oci-layout" \
        "oci-archive:$WORK/other.tar"
    copy_refused copy/badarch3 "cannot read $WORK/absent.tar" "oci-archive:$WORK/absent.tar"
}

# copy_refused REPO WANT_TEXT ARGS...: exit 1, the message, no tag.
copy_refused() {
    local repo=$1 want=$2 rc=0
    shift 2
    ocipush copy "$@" "$REG/$repo:t" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "$want"
    registry_tag_exists "$REG" "$repo" t && fail "a tag after a failed copy" || [[ $? == 1 ]]
}

case_bad_input() {
    local lay=$WORK/bad top layer
    mkdir -p "$WORK/empty"
    copy_refused copy/bad1 "$WORK/empty is not an OCI layout: it has no oci-layout" "oci:$WORK/empty"
    top=$(python3 "$HERE/make-layout.py" "$lay" image)
    copy_refused copy/bad2 "the OCI layout $lay has no tag nope (its tags: v1)" "oci:$lay:nope"
    layer=$(jq -r '.layers[1].digest' "$lay/blobs/sha256/${top#sha256:}")
    # Same size, other bytes: refused before the commit.
    head -c "$(stat -c %s "$lay/blobs/sha256/${layer#sha256:}")" /dev/urandom >"$WORK/other"
    cp "$WORK/other" "$lay/blobs/sha256/${layer#sha256:}"
    copy_refused copy/bad3 "the blob $layer does not hash to its name" "oci:$lay:v1"
    blob_absent "$REG" copy/bad3 "$layer"
    # Missing.
    rm "$lay/blobs/sha256/${layer#sha256:}"
    copy_refused copy/bad4 "lacks the blob $layer: there is no $lay/blobs/sha256/${layer#sha256:}" "oci:$lay:v1"
    # A FIFO, or a link to a file of the host's, where a blob should be:
    # refused, without waiting on the FIFO.
    mkfifo "$lay/blobs/sha256/${layer#sha256:}"
    copy_refused copy/bad7 "cannot open the blob $layer at $lay/blobs/sha256/${layer#sha256:}: not a regular file" "oci:$lay:v1"
    rm "$lay/blobs/sha256/${layer#sha256:}"
    cp "$WORK/other" "$WORK/host-file"
    ln -s "$WORK/host-file" "$lay/blobs/sha256/${layer#sha256:}"
    copy_refused copy/bad8 "cannot open the blob $layer at $lay/blobs/sha256/${layer#sha256:}: a symbolic link" "oci:$lay:v1"
    rm "$lay/blobs/sha256/${layer#sha256:}"
    # A manifest whose bytes are not its name (its size unchanged).
    sed -i 's/layer.v1.tar"/layer.v1.taR"/' "$lay/blobs/sha256/${top#sha256:}"
    copy_refused copy/bad5 "$lay/blobs/sha256/${top#sha256:} hash to sha256:" "oci:$lay:v1"
    # Shorter than its descriptor says.
    echo '{}' >"$lay/blobs/sha256/${top#sha256:}"
    copy_refused copy/bad6 "is 3 bytes, but its descriptor says" "oci:$lay:v1"
}

run_case "an image layout: digests kept, blobs skipped the second time" case_image_layout
run_case "a two-platform index with a referrer" case_index_with_referrer
run_case "a layout skopeo made, through the chunk-rejecting proxy" case_skopeo_layout_through_the_proxy
run_case "a digest that is a blob and a manifest both" case_blob_and_manifest_twins
run_case "into an OCI layout" case_into_a_layout
run_case "--mount-from: blobs mounted from another repository, not uploaded" case_mount_from
run_case "--all-tags: every tagged image under its tag" case_all_tags
run_case "bad input: file named, nothing tagged" case_bad_input
run_case "OCI archives: tar, tar.gz, tar.zst, ./ paths, skopeo's; a tiny TMPDIR" case_archives
run_case "bad archives: cut short, no layout, absent" case_bad_archives
finish
