#!/usr/bin/env bash
# ocipush copy docker-archive: from `docker save` tars ocipush did not make
# (written by tests/make-docker-archive.py with python's standard library, and
# by skopeo) into the real registry: the config byte for byte, each layer
# compressed on the fly (gzip, zstd, or as it is) and, read back, re-hashed
# against its digest and decompressed to its diff_id; Docker 25 archives read
# as OCI archives; gzip'd archives under a TMPDIR smaller than them, through
# the chunk-rejecting proxy; bad archives refused with the file named and
# nothing tagged. Run through tests/registry-env.sh.
#
# usage: registry-env.sh bash tests/test_docker_archive.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"
REG=$OCIPUSH_TEST_REGISTRY
PROXY=$OCIPUSH_TEST_PROXY
WORK=$OCIPUSH_TEST_TMP/dockertest
mkdir -p "$WORK"

if ! "$OCIPUSH" --version | grep -q "^features:.* docker-archive"; then
    echo "1..0 # SKIP built without libarchive: no docker archives"
    exit 77
fi

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http "$@"; }
said() { grep -q -- "$1" "$WORK/stderr" || fail "stderr lacks '$1': $(cat "$WORK/stderr")"; }
make_archive() { python3 "$HERE/make-docker-archive.py" "$@"; }

# tag_is HOSTPORT REPO TAG DIGEST: skopeo, an independent reader, sees the
# tag name the manifest DIGEST.
tag_is() {
    local raw
    raw=$(skopeo inspect --raw --tls-verify=false "docker://$1/$2:$3" | sha256sum | cut -d' ' -f1) ||
        fail "skopeo inspect $2:$3"
    check_eq "skopeo: $2:$3" "$4" "sha256:$raw"
}

# image_sound REPO TAG INFO NAME TYPE DECOMPRESS: the image REPO:TAG as the
# registry serves it: an OCI manifest (re-hashed, as skopeo sees it under
# TAG) whose config is the archive's (its digest from INFO's image NAME) and
# whose layers have media type TYPE, each re-hashed and, through DECOMPRESS
# (a command reading stdin: gzip -dc, zstd -dc, cat), hashing to its diff_id.
image_sound() {
    local repo=$1 tag=$2 info=$3 name=$4 type=$5 decompress=$6 m=$WORK/m.json digest i n d
    registry_manifest_get "$REG" "$repo" "$tag" "$m" || fail "GET manifest $repo:$tag"
    digest=sha256:$(sha256sum "$m" | cut -d' ' -f1)
    tag_is "$REG" "$repo" "$tag" "$digest"
    check_eq "manifest media type" application/vnd.oci.image.manifest.v1+json "$(jq -r .mediaType "$m")"
    check_eq "config media type" application/vnd.oci.image.config.v1+json "$(jq -r .config.mediaType "$m")"
    check_eq "config: the archive's" "$(jq -r --arg n "$name" '.[$n].config' <<<"$info")" "$(jq -r .config.digest "$m")"
    check_eq "config re-hashed" "$(jq -r .config.digest "$m")" \
        "$(registry_blob_sha256 "$REG" "$repo" "$(jq -r .config.digest "$m")")"
    n=$(jq '.layers | length' "$m")
    check_eq "layers" "$(jq --arg n "$name" '.[$n].diff_ids | length' <<<"$info")" "$n"
    for ((i = 0; i < n; i++)); do
        d=$(jq -r ".layers[$i].digest" "$m")
        check_eq "layer $i media type" "$type" "$(jq -r ".layers[$i].mediaType" "$m")"
        curl -fsS -o "$WORK/layer" "http://$REG/v2/$repo/blobs/$d" || fail "GET layer $d"
        check_eq "layer $i re-hashed" "$d" "sha256:$(sha256sum "$WORK/layer" | cut -d' ' -f1)"
        check_eq "layer $i size" "$(jq -r ".layers[$i].size" "$m")" "$(stat -c %s "$WORK/layer")"
        check_eq "layer $i diff_id" "$(jq -r --arg n "$name" ".[\$n].diff_ids[$i]" <<<"$info")" \
            "sha256:$($decompress <"$WORK/layer" | sha256sum | cut -d' ' -f1)"
    done
    echo "$digest"
}

case_legacy() {
    local a=$WORK/legacy.tar info d1 d2 rc=0
    info=$(make_archive "$a" legacy) || fail "make the archive"
    # REPO:TAG picks the image; its tag is the default destination tag.
    ocipush copy "docker-archive:$a:example/app:v1" "$REG/docker/app" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "copy: $(cat "$WORK/stderr")"
    d1=$(image_sound docker/app v1 "$info" example/app:v1 application/vnd.oci.image.layer.v1.tar+gzip "gzip -dc")
    check_eq "printed digest" "Digest: $d1" "$(tail -n 1 "$WORK/out")"
    # The config is the archive's, byte for byte.
    curl -fsS "http://$REG/v2/docker/app/blobs/$(jq -r '."example/app:v1".config' <<<"$info")" >"$WORK/config" ||
        fail "GET config"
    tar -xOf "$a" "$(jq -r '."example/app:v1".config[7:]' <<<"$info").json" | cmp -s - "$WORK/config" ||
        fail "the config served differs from the archive's"
    # The repeated layer (a symbolic link in the archive) went once: the
    # manifest lists the same blob twice.
    check_eq "layer 3 is layer 1" "$(jq -r '.layers[0].digest' "$WORK/m.json")" "$(jq -r '.layers[2].digest' "$WORK/m.json")"
    # The same image again: the same layers (gzip is deterministic), the
    # same manifest, under the destination tag given.
    ocipush copy "docker-archive:$a:docker.io/example/app:latest" "$REG/docker/app:again" >/dev/null 2>"$WORK/stderr" ||
        fail "copy again: $(cat "$WORK/stderr")"
    d2=$(image_sound docker/app again "$info" example/app:v1 application/vnd.oci.image.layer.v1.tar+gzip "gzip -dc")
    check_eq "the same manifest twice" "$d1" "$d2"
    # "@1": the second image, by its place (skopeo's syntax).
    ocipush copy "docker-archive:$a:@1" "$REG/docker/other" >/dev/null 2>"$WORK/stderr" ||
        fail "copy @1: $(cat "$WORK/stderr")"
    image_sound docker/other v2 "$info" example/other:v2 application/vnd.oci.image.layer.v1.tar+gzip "gzip -dc" >/dev/null
    # Two images and none named: refused, listing them.
    ocipush copy "docker-archive:$a" "$REG/docker/none:t" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "holds 2 images: name one as docker-archive:FILE:REPO:TAG or :@N (its RepoTags: example/app:v1, example/app:latest, example/other:v2)"
}

case_compression() {
    local a=$WORK/legacy.tar info rc=0
    info=$(make_archive "$a" legacy) || fail "make the archive"
    if "$OCIPUSH" --version | grep -q "^features:.* zstd"; then
        ocipush --compress zstd --compress-level 5 copy "docker-archive:$a:example/app:v1" "$REG/docker/zst:v1" \
            >/dev/null 2>"$WORK/stderr" || fail "copy --compress zstd: $(cat "$WORK/stderr")"
        image_sound docker/zst v1 "$info" example/app:v1 application/vnd.oci.image.layer.v1.tar+zstd "zstd -dc" >/dev/null
    else
        echo "# built without libzstd: --compress zstd skipped"
    fi
    # As they are: the layers' digests are their diff_ids; a second copy
    # finds every blob there and sends none.
    ocipush --compress none copy "docker-archive:$a:example/app:v1" "$REG/docker/raw:v1" \
        >/dev/null 2>"$WORK/stderr" || fail "copy --compress none: $(cat "$WORK/stderr")"
    image_sound docker/raw v1 "$info" example/app:v1 application/vnd.oci.image.layer.v1.tar cat >/dev/null
    check_eq "layer digests are the diff_ids" "$(jq -c '."example/app:v1".diff_ids' <<<"$info")" \
        "$(jq -c '[.layers[].digest]' "$WORK/m.json")"
    ocipush -v --compress none copy "docker-archive:$a:example/app:v1" "$REG/docker/raw:v2" \
        >/dev/null 2>"$WORK/stderr" || fail "copy again: $(cat "$WORK/stderr")"
    said "already has"
    grep -q "> PATCH\|> POST" "$WORK/stderr" && fail "a blob was uploaded again: $(cat "$WORK/stderr")"
    ocipush --compress zstd --compress-level 20 copy "docker-archive:$a:example/app:v1" "$REG/docker/zst:v2" \
        >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "--compress-level 20" 2 "$rc"
}

case_gzipped_small_tmpdir_through_the_proxy() {
    # A gzip'd archive (the whole tar compressed, as `docker save | gzip`
    # makes it), with TMPDIR on a 1 MiB tmpfs (where this test may mount
    # one), smaller than the archive and any layer, through the proxy that
    # refuses chunked bodies: each layer is compressed again for its
    # length-delimited replay, reading the archive again.
    local a=$WORK/legacy.tgz info small=$WORK/tiny-tmp kind
    info=$(make_archive "$a" legacy w:gz) || fail "make the archive"
    mkdir -p "$small"
    mount -t tmpfs -o size=1m tmpfs "$small" 2>/dev/null && kind=tmpfs || kind=dir
    TMPDIR=$small ocipush -v --spool-max 0 copy "docker-archive:$a:example/app:v1" "$PROXY/docker/proxied:v1" \
        >/dev/null 2>"$WORK/stderr" || fail "copy: $(cat "$WORK/stderr")"
    said "sending it again with Content-Length"
    [[ $kind == tmpfs ]] && umount "$small"
    image_sound docker/proxied v1 "$info" example/app:v1 application/vnd.oci.image.layer.v1.tar+gzip "gzip -dc" >/dev/null
}

case_docker25() {
    # oci-layout and index.json beside manifest.json: read as the OCI
    # archive it is, byte for byte, REPO:TAG matched against
    # io.containerd.image.name; the tag is the entry's ref.name.
    local a=$WORK/d25.tar info want rc=0
    info=$(make_archive "$a" oci) || fail "make the archive"
    want=$(jq -r '."example/other:v2".manifest' <<<"$info")
    ocipush copy "docker-archive:$a:example/other:v2" "$REG/docker/d25" >/dev/null 2>"$WORK/stderr" ||
        fail "copy: $(cat "$WORK/stderr")"
    tag_is "$REG" docker/d25 v2 "$want"
    registry_manifest_get "$REG" docker/d25 v2 "$WORK/m.json" || fail "GET manifest"
    check_eq "layer as it is" application/vnd.oci.image.layer.v1.tar "$(jq -r '.layers[0].mediaType' "$WORK/m.json")"
    check_eq "layer re-hashed" "$(jq -r '.layers[0].digest' "$WORK/m.json")" \
        "$(registry_blob_sha256 "$REG" docker/d25 "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
    ocipush copy "docker-archive:$a:@0" "$REG/docker/d25:first" >/dev/null 2>"$WORK/stderr" ||
        fail "copy @0: $(cat "$WORK/stderr")"
    tag_is "$REG" docker/d25 first "$(jq -r '."example/app:v1".manifest' <<<"$info")"
    ocipush copy "docker-archive:$a:example/nope:v1" "$REG/docker/d25:t" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "has no image example/nope:v1 (its images: docker.io/example/app:v1, docker.io/example/other:v2)"
}

case_skopeo_archive() {
    # An archive skopeo wrote (docker-archive:, legacy form, uncompressed
    # layers) of the image copied above: copied back, its diff_ids hold.
    local a=$WORK/sk.tar info
    skopeo copy --quiet --src-tls-verify=false "docker://$REG/docker/app:v1" \
        "docker-archive:$a:example/sk:v9" 2>"$WORK/stderr" || fail "skopeo copy: $(cat "$WORK/stderr")"
    tar -tf "$a" | grep -qx index.json && fail "skopeo wrote a Docker 25 archive: not the legacy form"
    info=$(python3 - "$a" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))[0]
config = json.load(t.extractfile(m["Config"]))
print(json.dumps({"example/sk:v9": {"config": "sha256:" + m["Config"].split("/")[-1].removesuffix(".json"),
                                    "diff_ids": config["rootfs"]["diff_ids"]}}))
PY
    ) || fail "read skopeo's archive"
    ocipush copy "docker-archive:$a" "$REG/docker/sk" >/dev/null 2>"$WORK/stderr" || fail "copy: $(cat "$WORK/stderr")"
    image_sound docker/sk v9 "$info" example/sk:v9 application/vnd.oci.image.layer.v1.tar+gzip "gzip -dc" >/dev/null
}

# copy_refused REPO WANT_TEXT SOURCE: exit 1, the message, no tag (-v:
# the requests are in $WORK/stderr).
copy_refused() {
    local repo=$1 want=$2 rc=0
    ocipush -v copy "$3" "$REG/$repo:t" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "$want"
    registry_tag_exists "$REG" "$repo" t && fail "a tag after a failed copy" || [[ $? == 1 ]]
}

# nothing_sent: the -v log in $WORK/stderr shows no upload begun.
nothing_sent() {
    grep -q "> POST\|> PATCH\|> PUT" "$WORK/stderr" && fail "an upload began: $(grep '> P' "$WORK/stderr")"
    return 0
}

case_bad_archives() {
    local info size rc
    # A layer whose bytes are not its diff_id: found once it has streamed;
    # the blob may be there, the tag is not.
    info=$(make_archive "$WORK/badid.tar" badid) || fail "make the archive"
    copy_refused docker/bad1 "the layer .*/layer.tar hashes to $(jq -r '."example/app:v1".diff_ids[1]' <<<"$info") uncompressed, but the config's rootfs.diff_ids\[1\] says" \
        "docker-archive:$WORK/badid.tar:example/app:v1"
    rc=0
    ocipush --compress none copy "docker-archive:$WORK/badid.tar:example/app:v1" "$REG/docker/bad1n:t" \
        >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "does not hash to rootfs.diff_ids\[1\]"
    registry_tag_exists "$REG" docker/bad1n t && fail "a tag after a failed copy" || [[ $? == 1 ]]
    # A config without rootfs, or with another count of diff_ids: refused
    # before anything is sent.
    info=$(make_archive "$WORK/norootfs.tar" norootfs) || fail "make the archive"
    copy_refused docker/bad2 "has no rootfs: not an image config" "docker-archive:$WORK/norootfs.tar:example/app:v1"
    nothing_sent
    make_archive "$WORK/count.tar" count >/dev/null || fail "make the archive"
    copy_refused docker/bad3 "lists 2 rootfs.diff_ids, but manifest.json gives the image 3 layers" \
        "docker-archive:$WORK/count.tar:example/app:v1"
    nothing_sent
    # A layer member that is not there (the first is): refused before the
    # first is sent.
    make_archive "$WORK/missing.tar" missing >/dev/null || fail "make the archive"
    copy_refused docker/bad4 "lacks the layer .*/layer.tar (Layers\[1\] of manifest.json)" \
        "docker-archive:$WORK/missing.tar:example/app:v1"
    nothing_sent
    # Cut short: refused when opened.
    make_archive "$WORK/whole.tgz" legacy w:gz >/dev/null
    size=$(stat -c %s "$WORK/whole.tgz")
    head -c $((size / 2)) "$WORK/whole.tgz" >"$WORK/cut.tgz"
    copy_refused docker/bad5 "$WORK/cut.tgz: reading the member .* failed: truncated" "docker-archive:$WORK/cut.tgz:@0"
    # Not a docker archive; no such image; no such file.
    mkdir -p "$WORK/other" && echo x >"$WORK/other/x"
    tar -cf "$WORK/other.tar" -C "$WORK" other
    copy_refused docker/bad6 "$WORK/other.tar is not a docker archive: it has no manifest.json" "docker-archive:$WORK/other.tar"
    copy_refused docker/bad7 "has no image example/app:v7 (its RepoTags: example/app:v1" \
        "docker-archive:$WORK/legacy.tar:example/app:v7"
    copy_refused docker/bad8 "cannot read $WORK/absent.tar" "docker-archive:$WORK/absent.tar"
}

run_case "a legacy archive: REPO:TAG, @N, the config byte for byte, a linked layer once, gzip" case_legacy
run_case "--compress zstd and none: diff_ids hold, a raw layer skipped the second time" case_compression
run_case "gzip'd, a tiny TMPDIR, through the chunk-rejecting proxy" case_gzipped_small_tmpdir_through_the_proxy
run_case "a Docker 25 archive: read as an OCI archive, picked by image name" case_docker25
run_case "an archive skopeo wrote" case_skopeo_archive
run_case "bad archives: diff_id, rootfs, counts, missing layer, cut short, not one, absent" case_bad_archives
finish
