#!/usr/bin/env bash
# Credentials across origins and schemes (modes in modes/creds.py): a token
# realm that redirects to another origin gets neither the Basic credentials
# nor the refresh token, one that redirects within its origin still does;
# only http and https URLs are requested (upload Location, redirect); an
# https registry's credentials are withheld from a plain-http realm, and the
# message says so. The recorder stands for the other origin: what it logged
# is what would have leaked. Run through tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_creds.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What modes/creds.py accepts.
USER_=creduser PASS=credpass-S3cret REFRESH=creds-refresh-S3cret TOKEN=creds-token-S3cret
BASIC_B64=$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)
T=$OCIPUSH_TEST_HOSTILE_TLS
TLS_LOG=$OCIPUSH_TEST_HOSTILE_TLS_LOG
CA=$OCIPUSH_TEST_HOSTILE_CA

before_case() {
    : >"$OCIPUSH_TEST_HOSTILE_LOG"
    : >"$OCIPUSH_TEST_RECORDER_LOG"
    : >"$TLS_LOG"
    rm -rf "$DOCKER_CONFIG"
}

# No password, refresh token, token or Authorization value in what ocipush
# printed (stdout and stderr).
no_secrets() {
    if grep -q -e "$PASS" -e "$REFRESH" -e "$TOKEN" -e "$BASIC_B64" -e "Basic " -e "Bearer " \
        "$WORK/out" "$WORK/err"; then
        fail "a secret was printed: $(cat "$WORK/err")"
    fi
}

# identity_token HOSTPORT: docker's config holds a refresh token for it.
identity_token() {
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"%s":{"identitytoken":"%s"}}}' "$1" "$REFRESH" >"$DOCKER_CONFIG/config.json"
}

# The other origin received nothing carrying a secret: no Authorization, no
# body (the recorder logs each body's length).
recorder_got_no_secret() {
    check_eq "Authorization at the other origin" "" "$(recorder_header Authorization)"
    check_eq "bodies at the other origin" "" \
        "$(jq -r 'select(.body_len > 0) | .path' "$OCIPUSH_TEST_RECORDER_LOG")"
}

# log_requests LOG PATH_REGEX: "METHOD body_len Authorization" of each matching request.
log_requests() {
    jq -r --arg p "$2" 'select(.path | test($p)) |
        "\(.method) \(.body_len) \([.headers[] | select(.[0] | ascii_downcase == "authorization") | .[1]] | join(","))"' "$1"
}

# pushed_and_served REPO TAG FILE: the tag's manifest on the plain hostile
# registry names FILE as its layer, and the blob served hashes to it.
pushed_and_served() {
    local digest
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    registry_manifest_get "$H" "$1" "$2" "$WORK/m.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/m.json")"
    check_eq "layer as served" "$(sha_of "$3")" \
        "$(registry_blob_sha256 "$H" "$1" "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
}

# not_tagged HOSTPORT REPO TAG [curl options]: the tag answers 404.
not_tagged() {
    local host=$1 repo=$2 tag=$3 code scheme=http
    shift 3
    [[ $# -gt 0 ]] && scheme=https
    code=$(curl -sS -o /dev/null -w '%{http_code}' -I "$@" -H "Accept: $REGISTRY_MANIFEST_ACCEPT" \
        "$scheme://$host/v2/$repo/manifests/$tag") || true
    check_eq "tag $repo:$tag" 404 "$code"
}

# --- 1. a token realm that redirects -------------------------------------------

case_realm_same_origin_basic() {
    local f rc
    f=$(make_file same.bin 3000)
    run_ocipush rc --plain-http -vv -u "$USER_" -p "$PASS" push "$H/hostile/realm-same/app:v1" "$f"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    # The realm's redirect within its origin was followed with the credentials.
    check_eq "token request after the redirect" "GET 0 Basic $BASIC_B64" \
        "$(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/token' | sort -u)"
    check_eq "requests at the other origin" 0 "$(recorder_requests)"
    pushed_and_served hostile/realm-same/app v1 "$f"
    no_secrets
}

case_realm_same_origin_identity_token() {
    local f rc
    f=$(make_file same-idt.bin 3000)
    identity_token "$H"
    run_ocipush rc --plain-http -vv push "$H/hostile/realm-same/idt:v1" "$f"
    check_eq "exit status ($(cat "$WORK/err"))" 0 "$rc"
    [[ $(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/token' | sort -u) == "POST "[1-9]*" " ]] ||
        fail "want the refresh-token POST, with its body, after the redirect: $(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/')"
    check_eq "requests at the other origin" 0 "$(recorder_requests)"
    pushed_and_served hostile/realm-same/idt v1 "$f"
    no_secrets
}

case_realm_other_origin_basic() {
    local f rc
    f=$(make_file other.bin 3000)
    run_ocipush rc --plain-http -vv -u "$USER_" -p "$PASS" push "$H/hostile/realm-other/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    # The redirect is followed, as curl follows it: without the credentials.
    [[ $(recorder_requests) -ge 1 ]] || fail "the realm's redirect was not followed: $(cat "$WORK/err")"
    recorder_got_no_secret
    grep -q "redirected to another origin.*the credentials of $USER_ were withheld from it" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    not_tagged "$H" hostile/realm-other/app v1
    no_secrets
}

case_realm_other_origin_identity_token() {
    local f rc
    f=$(make_file other-idt.bin 3000)
    identity_token "$H"
    run_ocipush rc --plain-http -vv push "$H/hostile/realm-other/idt:v1" "$f"
    check_eq "exit status" 1 "$rc"
    # The refresh-token POST was sent to the realm, and not carried over.
    [[ $(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/realm-other') == "POST "* ]] ||
        fail "no refresh-token POST: $(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/')"
    check_eq "requests at the other origin" 0 "$(recorder_requests)"
    recorder_got_no_secret
    grep -q "registry protocol violation: refusing a 307 redirect of POST to another origin: its body holds a secret" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    not_tagged "$H" hostile/realm-other/idt v1
    no_secrets
}

# Guards: the registry's own credentials go to its origin only.
case_upload_location_other_origin() {
    local f rc
    f=$(make_file loc-other.bin 3000)
    run_ocipush rc --plain-http -vv -u "$USER_" -p "$PASS" push "$H/hostile/loc-other/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "the registry's POST carried its credentials" "POST 0 Basic $BASIC_B64" \
        "$(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '/blobs/uploads/$' | sort -u)"
    [[ $(recorder_requests) -ge 1 ]] || fail "the upload Location was not used: $(cat "$WORK/err")"
    check_eq "Authorization at the other origin" "" "$(recorder_header Authorization)"
    not_tagged "$H" hostile/loc-other/app v1
    no_secrets
}

case_manifest_redirect_other_origin() {
    local f rc
    f=$(make_file put-other.bin 3000)
    run_ocipush rc --plain-http -vv -u "$USER_" -p "$PASS" push "$H/hostile/put-redir-other/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "PUTs at the other origin" 1 "$(jq -r 'select(.method == "PUT") | .path' "$OCIPUSH_TEST_RECORDER_LOG" | wc -l)"
    check_eq "Authorization at the other origin" "" "$(recorder_header Authorization)"
    not_tagged "$H" hostile/put-redir-other/app v1
    no_secrets
}

# --- 2. only http and https ------------------------------------------------------

# scheme_refused MODE KEY WHY: a push whose upload Location or redirect has
# another scheme fails with OCIPUSH_E_PROTOCOL, saying WHY (a grep pattern);
# nothing reaches the host it names (the recorder's port), nothing is tagged.
scheme_refused() {
    local mode=$1 key=$2 why=$3 f rc
    f=$(make_file "$mode-$key.bin" 3000)
    run_ocipush rc --plain-http --retries 1 -vv -u "$USER_" -p "$PASS" push "$H/hostile/$mode/$key/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "registry protocol violation: $why" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
    # Refused before a request: -vv shows none was started (no "> PUT ftp:...").
    if grep -q '^ocipush: debug: > [A-Z]* [a-z]*:' "$WORK/err" &&
        grep '^ocipush: debug: > [A-Z]* [a-z]*:' "$WORK/err" | grep -qv '> [A-Z]* https\?:'; then
        fail "a request to another scheme was started: $(cat "$WORK/err")"
    fi
    check_eq "requests at the other origin" 0 "$(recorder_requests)"
    not_tagged "$H" "hostile/$mode/$key/app" v1
    no_secrets
}

NOT_HTTP="to a URL that is not http or https"
# No authority: not even a URL to resolve against (refused that way already).
case_upload_location_file() { scheme_refused loc-scheme file "the registry sent an unusable upload Location"; }
case_upload_location_file_host() { scheme_refused loc-scheme filehost "refusing \(PATCH\|PUT\) $NOT_HTTP (file:)"; }
case_upload_location_ftp() { scheme_refused loc-scheme ftp "refusing \(PATCH\|PUT\) $NOT_HTTP (ftp:)"; }
case_upload_location_gopher() { scheme_refused loc-scheme gopher "refusing \(PATCH\|PUT\) $NOT_HTTP (gopher:)"; }
case_upload_location_dict() { scheme_refused loc-scheme dict "refusing \(PATCH\|PUT\) $NOT_HTTP (dict:)"; }
case_redirect_ftp() { scheme_refused redir-scheme ftp "refusing a 307 redirect of [A-Z]* $NOT_HTTP (ftp:)"; }
case_redirect_file() { scheme_refused redir-scheme filehost "refusing a 307 redirect of [A-Z]* $NOT_HTTP (file:)"; }
case_redirect_gopher() { scheme_refused redir-scheme gopher "refusing a 307 redirect of [A-Z]* $NOT_HTTP (gopher:)"; }

# --- 3. an https registry, a plain-http realm -------------------------------------

# plain_realm_refused REPO OCIPUSH_ARGS...: exit 1, nothing tagged, and the
# plain realm got only an anonymous GET (no Authorization, no body).
plain_realm_refused() {
    local repo=$1 f rc
    shift
    f=$(make_file plain-realm.bin 3000)
    run_ocipush rc --ca-file "$CA" -vv "$@" push "$T/$repo:v1" "$f"
    check_eq "exit status" 1 "$rc"
    # The https registry challenged (so the realm was named to ocipush)...
    [[ $(jq -r 'select(.method == "POST") | .path' "$TLS_LOG" | wc -l) -ge 1 ]] ||
        fail "no upload POST on the https registry: $(cat "$WORK/err")"
    # ...and the realm (the plain hostile server) got only anonymous requests.
    check_eq "requests at the plain realm" "GET 0 " \
        "$(log_requests "$OCIPUSH_TEST_HOSTILE_LOG" '^/creds/token' | sort -u)"
    not_tagged "$T" "$repo" v1 --cacert "$CA"
    no_secrets
}

case_plain_realm_basic() {
    plain_realm_refused hostile/realm-plain/app -u "$USER_" -p "$PASS"
    grep -q "the token server http://$H/creds/token refused an anonymous token (HTTP 401): the credentials of $USER_ were withheld from it, as that realm is plain http" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    if grep -q "refused the credentials" "$WORK/err"; then fail "blames credentials never sent: $(cat "$WORK/err")"; fi
}

case_plain_realm_identity_token() {
    identity_token "$T"
    plain_realm_refused hostile/realm-plain/idt
    grep -q "the token server http://$H/creds/token refused an anonymous token (HTTP 401): the identity token was withheld from it, as that realm is plain http" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
}

run_case "a realm redirecting within its origin still gets the Basic credentials" case_realm_same_origin_basic
run_case "a realm redirecting within its origin still gets the refresh token" case_realm_same_origin_identity_token
run_case "a realm redirecting to another origin: Basic credentials dropped" case_realm_other_origin_basic
run_case "a realm redirecting to another origin: the refresh-token POST is not followed" case_realm_other_origin_identity_token
run_case "an upload Location on another origin gets no credentials (guard)" case_upload_location_other_origin
run_case "a manifest PUT redirected to another origin gets no credentials (guard)" case_manifest_redirect_other_origin
run_case "upload Location file:///etc/passwd refused" case_upload_location_file
run_case "upload Location file://localhost/etc/passwd refused" case_upload_location_file_host
run_case "upload Location ftp:// refused" case_upload_location_ftp
run_case "upload Location gopher:// refused" case_upload_location_gopher
run_case "upload Location dict:// refused" case_upload_location_dict
run_case "a 307 to ftp:// refused" case_redirect_ftp
run_case "a 307 to file:// refused" case_redirect_file
run_case "a 307 to gopher:// refused" case_redirect_gopher
run_case "https registry, plain-http realm: Basic credentials withheld, and said so" case_plain_realm_basic
run_case "https registry, plain-http realm: the identity token withheld, and said so" case_plain_realm_identity_token
finish
