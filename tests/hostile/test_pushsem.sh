#!/usr/bin/env bash
# What a push commits to, against registries that say the wrong thing: a blob
# HEAD whose size is not the blob's, and manifest PUTs refused with
# MANIFEST_BLOB_UNKNOWN for blobs just pushed. Every push that lands is read
# back and re-hashed. Run through tests/hostile/hostile-env.sh;
# OCIPUSH_TEST_PUSHSEM_API is tests/hostile/pushsem_api.c built, for the
# library paths the CLI has no flag for.
#
# usage: hostile-env.sh bash tests/hostile/test_pushsem.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
API=${OCIPUSH_TEST_PUSHSEM_API:?set OCIPUSH_TEST_PUSHSEM_API to the built pushsem_api}
EMPTY_CONFIG=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
run_api() {
    local -n _rc=$1
    shift
    _rc=0
    ${OCIPUSH_TEST_WRAPPER:-} "$API" "$@" >"$WORK/out" 2>"$WORK/err" || _rc=$?
}

# landed REPO TAG FILE SIZE: the tag's manifest is the printed digest, its one
# layer says SIZE and is FILE as served, and its config is there as named.
landed() {
    local m=$WORK/m.json cfg
    registry_manifest_get "$H" "$1" "$2" "$m" || fail "no manifest $1:$2"
    check_eq "manifest digest" "$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')" "$(sha_of "$m")"
    check_eq "layer size in the manifest" "$4" "$(jq -r '.layers[0].size' "$m")"
    check_eq "layer digest" "$(sha_of "$3")" "$(jq -r '.layers[0].digest' "$m")"
    check_eq "layer as served" "$(sha_of "$3")" "$(registry_blob_sha256 "$H" "$1" "$(sha_of "$3")")"
    cfg=$(jq -r '.config.digest' "$m")
    check_eq "config size in the manifest" 2 "$(jq -r '.config.size' "$m")"
    check_eq "config as served" "$cfg" "$(registry_blob_sha256 "$H" "$1" "$cfg")"
}

# manifest_puts REPO: the manifest PUTs of REPO the registry received.
manifest_puts() { hostile_count PUT "^/v2/$1/manifests/"; }

# --- a HEAD that lies about the size -----------------------------------------

# A 5000-byte file is hashed first and HEAD-checked; the HEAD answers 200 with
# Content-Length: 0. The layer must be sent and described with 5000 bytes.
case_head_size0_small_layer() {
    local f rc repo=hostile/headsize0/small
    f=$(make_file small.bin 5000)
    run_ocipush rc --plain-http push "$H/$repo:v1" "$f"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    landed "$repo" v1 "$f" 5000
    [[ $(hostile_count PUT "^/v2/$repo/blobs/uploads/") -ge 2 ]] ||
        fail "the layer and the config were not both uploaded"
    grep -q "not trusted" "$WORK/err" || fail "no warning: $(cat "$WORK/err")"
}

# A layer of known digest above the 4 MiB that are hashed first: the same.
case_head_size0_known_digest_layer() {
    local f rc repo=hostile/headsize0/known size=$((5 * 1024 * 1024 + 3))
    f=$(make_file known.bin "$size")
    run_api rc layer "$H" "$repo" v1 "$f" "$(sha_of "$f")"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    landed "$repo" v1 "$f" "$size"
}

# A mount of a blob the HEAD says is there with 0 bytes: uploaded from the
# source, its size the source's; with no source, nothing to trust: a failure.
case_head_size0_mount() {
    local f rc repo=hostile/headsize0/mount
    f=$(make_file mount.bin 7001)
    run_api rc mount "$H" "$repo" other/repo "$f" "$(sha_of "$f")"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    check_eq "mount outcome" "size 7001 mounted 0" "$(cat "$WORK/out")"
    check_eq "blob as served" "$(sha_of "$f")" "$(registry_blob_sha256 "$H" "$repo" "$(sha_of "$f")")"
    f=$(make_file mount2.bin 7002)
    run_api rc mount "$H" "$repo" other/repo - "$(sha_of "$f")"
    check_eq "exit status without a source" 1 "$rc"
    grep -q "a size to trust" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
    check_eq "mount requests" 0 "$(hostile_count POST "^/v2/$repo/blobs/uploads/\\?mount=.*$(sha_of "$f")")"
}

# --- MANIFEST_BLOB_UNKNOWN right after the blobs were committed ---------------

# The first manifest PUT is refused; the blobs are checked again (HEAD), then
# the manifest goes once more and lands.
case_blob_unknown_once_retried() {
    local f rc repo=hostile/blobunknown1/app order
    f=$(make_file once.bin 5000)
    run_ocipush rc --plain-http push "$H/$repo:v1" "$f"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    landed "$repo" v1 "$f" 5000
    check_eq "manifest PUTs" 2 "$(manifest_puts "$repo")"
    # In order: the refused PUT, a HEAD of each blob (config, layer), the PUT.
    order=$(jq -r --arg r "/v2/$repo/" 'select(.path | startswith($r)) |
        select((.method == "PUT" and (.path | contains("/manifests/"))) or
               (.method == "HEAD" and (.path | contains("/blobs/")))) |
        .method + " " + (.path | sub(".*/(?<k>manifests|blobs)/"; "\(.k) "))' "$OCIPUSH_TEST_HOSTILE_LOG" |
        tail -n 4)
    check_eq "requests after the refusal" "PUT manifests v1
HEAD blobs $EMPTY_CONFIG
HEAD blobs $(sha_of "$f")
PUT manifests v1" "$order"
    grep -q "MANIFEST_BLOB_UNKNOWN" "$WORK/err" || fail "no warning: $(cat "$WORK/err")"
}

# The wait before that second PUT is a retry's wait: a deadline it would
# outlast fails the push at once (no wait, no second PUT), nothing tagged.
case_blob_unknown_wait_deadline() {
    local f rc repo=hostile/blobunknown1/deadline
    f=$(make_file deadline.bin 5000)
    run_ocipush rc --plain-http --timeout 2s --retry-delay 60000 --retry-max-delay 60000 \
        push "$H/$repo:v1" "$f"
    check_eq "exit status ($(cat "$WORK/err"))" 1 "$rc"
    grep -q "no retry: the call's deadline (2000 ms) would pass" "$WORK/err" ||
        fail "no deadline in: $(cat "$WORK/err")"
    check_eq "manifest PUTs" 1 "$(manifest_puts "$repo")"
    hostile_tag_exists "$repo" v1 && fail "tagged" || [[ $? == 1 ]]
}

# Refused every time: the push fails after exactly one retry, nothing tagged.
case_blob_unknown_always_fails() {
    local f rc repo=hostile/blobunknown/app
    f=$(make_file always.bin 5000)
    run_ocipush rc --plain-http push "$H/$repo:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "manifest PUTs" 2 "$(manifest_puts "$repo")"
    grep -q "MANIFEST_BLOB_UNKNOWN" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
    hostile_tag_exists "$repo" v1 && fail "tagged after a failed push" || [[ $? == 1 ]]
}

# A blob the HEAD then finds missing: the push fails naming it, without
# another manifest PUT, nothing tagged.
case_blob_lost_fails_clearly() {
    local f rc repo=hostile/bloblost/app
    f=$(make_file lost.bin 5000)
    run_ocipush rc --plain-http push "$H/$repo:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "manifest PUTs" 1 "$(manifest_puts "$repo")"
    grep -q "failed: .*$EMPTY_CONFIG, pushed moments ago, is not in $repo" "$WORK/err" ||
        fail "the missing blob is not named: $(cat "$WORK/err")"
    hostile_tag_exists "$repo" v1 && fail "tagged after a failed push" || [[ $? == 1 ]]
}

# --- a tag refused after the manifest landed --------------------------------

# Tags "v1" then "refused"; the registry takes the manifest under v1 and
# refuses the second tag (403 DENIED). The run fails, and says what is
# there: the manifest's digest, one tag in place.
case_tag_refused_partial() {
    local f rc repo=hostile/tagrefused/app m=$WORK/m.json
    f=$(make_file tagged.bin 3000)
    run_api rc tags "$H" "$repo" "$f" v1 refused
    check_eq "exit status" 1 "$rc"
    grep -q DENIED "$WORK/err" || fail "the refusal is not reported: $(cat "$WORK/err")"
    registry_manifest_get "$H" "$repo" v1 "$m" || fail "no manifest $repo:v1"
    check_eq "what landed" "landed $(sha_of "$m") tagged 1" "$(cat "$WORK/out")"
    check_eq "layer as served" "$(sha_of "$f")" "$(registry_blob_sha256 "$H" "$repo" "$(sha_of "$f")")"
}

run_case "a HEAD of size 0 for a small layer: sent, described with its size" case_head_size0_small_layer
run_case "a HEAD of size 0 for a layer of known digest: the same" case_head_size0_known_digest_layer
run_case "a HEAD of size 0 before a mount: uploaded, or no size to trust" case_head_size0_mount
run_case "MANIFEST_BLOB_UNKNOWN once: blobs checked, manifest sent again" case_blob_unknown_once_retried
run_case "MANIFEST_BLOB_UNKNOWN: the wait before the retry keeps the deadline" case_blob_unknown_wait_deadline
run_case "MANIFEST_BLOB_UNKNOWN always: one retry, then a failure" case_blob_unknown_always_fails
run_case "MANIFEST_BLOB_UNKNOWN and a blob gone: a failure naming it" case_blob_lost_fails_clearly
run_case "a tag refused after the manifest landed: the digest and the tags in place told" case_tag_refused_partial
finish
