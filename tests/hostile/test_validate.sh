#!/usr/bin/env bash
# Nothing unchecked reaches a request line or header: media types (a manifest
# file's own, --artifact-type, FILE:MEDIATYPE, --config), annotation keys, a
# token from the token server, and a Docker-Content-Digest or Location from
# the registry. The hostile registry logs every header it receives, so a
# forged one would show there. Run through tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_validate.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CRLF=$'\r\n'
ESC=$'\e'

# no_injected: no request reached the hostile registry with a forged header.
no_injected() {
    check_eq "X-Injected headers received" "" "$(hostile_header X-Injected)"
}

# no_requests: the hostile registry saw nothing at all.
no_requests() {
    check_eq "requests to the registry" 0 "$(wc -l <"$OCIPUSH_TEST_HOSTILE_LOG")"
}

no_manifest_put() {
    check_eq "manifest PUTs" 0 "$(hostile_count PUT '/manifests/')"
}

no_escape_on_stderr() {
    if grep -q "$ESC" "$WORK/err"; then fail "an escape byte on stderr: $(cat -v "$WORK/err")"; fi
}

stderr_says() {
    grep -qF -- "$1" "$WORK/err" || fail "stderr does not say '$1': $(cat -v "$WORK/err")"
}

case_manifest_file_media_type_crlf() {
    local rc
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json\\r\\nX-Injected: 1","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}' \
        >"$WORK/evil.json"
    run_ocipush rc --plain-http manifest push "$H/val/mf:v1" "$WORK/evil.json"
    check_eq "exit status" 1 "$rc"
    stderr_says "the manifest's mediaType"
    no_injected
    no_manifest_put
    if hostile_tag_exists val/mf v1; then fail "the tag landed"; fi
}

case_artifact_type_crlf() {
    local f rc
    f=$(make_file at.bin 100)
    run_ocipush rc --plain-http --artifact-type "application/x${CRLF}X-Injected: 1" \
        push "$H/val/at:v1" "$f"
    check_eq "exit status (usage)" 2 "$rc"
    stderr_says "--artifact-type takes a media type"
    no_requests
}

case_artifact_type_not_a_media_type() {
    local f rc
    f=$(make_file at2.bin 100)
    run_ocipush rc --plain-http --artifact-type "just-a-word" push "$H/val/at2:v1" "$f"
    check_eq "exit status (usage)" 2 "$rc"
    no_requests
}

case_layer_media_type_crlf() {
    local f rc
    f=$(make_file lt.bin 100)
    run_ocipush rc --plain-http push "$H/val/lt:v1" "$f" "$f:application/x${CRLF}X-Injected=1"
    check_eq "exit status (usage)" 2 "$rc"
    stderr_says "layer 2's media type is not a media type"
    no_escape_on_stderr
    no_requests
}

case_config_media_type_crlf() {
    local f cfg rc
    f=$(make_file ct.bin 100)
    cfg=$(make_file ct.json 10)
    run_ocipush rc --plain-http --config "$cfg:application/x${CRLF}X-Injected=1" \
        push "$H/val/ct:v1" "$f"
    check_eq "exit status (usage)" 2 "$rc"
    stderr_says "--config's media type is not a media type"
    no_requests
}

case_annotation_key_crlf() {
    local f rc
    f=$(make_file ak.bin 100)
    run_ocipush rc --plain-http --annotation "k${CRLF}X-Injected: 1=v" push "$H/val/ak:v1" "$f"
    check_eq "exit status (usage)" 2 "$rc"
    stderr_says "--annotation takes KEY=VALUE"
    no_requests
}

# Not everything is refused: parameters, suffixes, and values with control
# characters in annotation values (JSON-escaped) push and read back.
case_valid_types_push() {
    local f rc digest
    f=$(make_file ok.bin 3000)
    run_ocipush rc --plain-http --artifact-type "application/vnd.example.thing.v1+json" \
        --annotation "org.example.note=line1${CRLF}line2" \
        push "$H/val/ok:v1" "$f:application/vnd.example.layer.v1+tar; charset=\"x y\""
    check_eq "exit status" 0 "$rc"
    no_injected
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    registry_manifest_get "$H" val/ok v1 "$WORK/m.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/m.json")"
    check_eq "layer media type" 'application/vnd.example.layer.v1+tar; charset="x y"' \
        "$(jq -r '.layers[0].mediaType' "$WORK/m.json")"
    check_eq "annotation value" "line1${CRLF}line2" \
        "$(jq -r '.annotations["org.example.note"]' "$WORK/m.json")"
    check_eq "layer as served" "$(sha_of "$f")" \
        "$(registry_blob_sha256 "$H" val/ok "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
}

case_token_crlf() {
    local f rc
    f=$(make_file tk.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/crlftoken/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    stderr_says "malformed token"
    no_injected
    check_eq "Bearer headers received" "" "$(hostile_header Authorization)"
    no_manifest_put
    if hostile_tag_exists hostile/crlftoken/app v1; then fail "the tag landed"; fi
    no_injected # not even on the read-back
}

case_token_space() {
    local f rc
    f=$(make_file tks.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/spacetoken/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    stderr_says "malformed token"
    check_eq "Bearer headers received" "" "$(hostile_header Authorization)"
    no_manifest_put
}

case_token_good() {
    local f rc digest
    f=$(make_file tkg.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/goodtoken/app:v1" "$f"
    check_eq "exit status" 0 "$rc"
    check_eq "the Authorization sent" "Bearer eyJhbGciOi.J9-_~+/aZ09==" \
        "$(hostile_header Authorization | sort -u)"
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    registry_manifest_get "$H" hostile/goodtoken/app v1 "$WORK/m.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/m.json")"
    check_eq "layer as served" "$(sha_of "$f")" "$(registry_blob_sha256 "$H" hostile/goodtoken/app \
        "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
}

case_blob_digest_header_escape() {
    local f rc
    f=$(make_file de.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/digestesc/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    stderr_says "malformed Docker-Content-Digest"
    no_escape_on_stderr
    no_manifest_put
}

case_manifest_digest_header_escape() {
    local f rc
    f=$(make_file mde.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/manifestdigestesc/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    stderr_says "malformed Docker-Content-Digest"
    no_escape_on_stderr
}

# Already refused before this change (op_url_resolve): kept as a guard.
case_location_escape() {
    local f rc
    f=$(make_file le.bin 100)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/locationesc/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    stderr_says "unusable upload Location"
    no_escape_on_stderr
    check_eq "requests to the upload Location" 0 \
        "$(jq -r 'select(.path | test("/blobs/uploads/a")) | .path' "$OCIPUSH_TEST_HOSTILE_LOG" | wc -l)"
    no_manifest_put
}

case_subject_content_type_escape() {
    local f rc
    f=$(make_file cte.bin 100)
    run_ocipush rc --plain-http --retries 0 --subject v0 push "$H/hostile/contenttypeesc/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    no_manifest_put
    stderr_says "Content-Type that is not a media type"
    no_escape_on_stderr
}

run_case "a manifest file whose mediaType holds CR LF is refused, nothing sent" case_manifest_file_media_type_crlf
run_case "--artifact-type with CR LF is a usage error, nothing sent" case_artifact_type_crlf
run_case "--artifact-type that is not a media type is a usage error" case_artifact_type_not_a_media_type
run_case "a layer media type with CR LF is a usage error, nothing sent" case_layer_media_type_crlf
run_case "a --config media type with CR LF is a usage error, nothing sent" case_config_media_type_crlf
run_case "an annotation key with CR LF is a usage error, nothing sent" case_annotation_key_crlf
run_case "valid media types with parameters and suffixes push and read back" case_valid_types_push
run_case "a token with CR LF from the token server is refused, no header forged" case_token_crlf
run_case "a token with a space from the token server is refused" case_token_space
run_case "a token of every b64token character is sent as it is" case_token_good
run_case "a blob commit's Docker-Content-Digest with escapes is refused, not printed" case_blob_digest_header_escape
run_case "a manifest PUT's Docker-Content-Digest with escapes is refused, not printed" case_manifest_digest_header_escape
run_case "a subject served with a Content-Type holding an escape is refused" case_subject_content_type_escape
run_case "an upload Location with a space and escapes is refused (guard)" case_location_escape
finish
