#!/usr/bin/env bash
# Authentication, credentials and TLS against real registries (distribution
# with htpasswd, with token auth and a token server, behind TLS and mutual
# TLS), a proxy that points uploads elsewhere and a listener that records
# what it is sent. Run through tests/auth/auth-env.sh.
#
# usage: auth-env.sh bash tests/test_auth.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"

WORK=$OCIPUSH_TEST_TMP/authtest
mkdir -p "$WORK"
USER_=$OCIPUSH_TEST_USER
PASS=$OCIPUSH_TEST_PASSWORD
TOKENS=$OCIPUSH_TEST_TMP/token-requests.log
RECORDED=$OCIPUSH_TEST_TMP/recorder.log
# No credential store of the machine's user may leak into these tests.
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
unset HELM_REGISTRY_CONFIG
mkdir -p "$HOME"


# Each case starts with no credentials stored.
before_case() { rm -rf "$DOCKER_CONFIG"; }

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
make_file() { head -c "$2" /dev/urandom >"$WORK/$1" && echo "$WORK/$1"; }

# The registries need credentials to read too.
blob_sha_auth() { # HOSTPORT REPO DIGEST [curl options...]
    local host=$1 repo=$2 digest=$3 sum
    shift 3
    sum=$(curl -fsSL "$@" "$host/v2/$repo/blobs/$digest" | sha256sum) || return 1
    echo "sha256:${sum%% *}"
}
basic_blob_sha() { blob_sha_auth "http://$OCIPUSH_TEST_BASIC_REGISTRY" "$1" "$2" -u "$USER_:$PASS"; }
blob_code() { # URL [curl options...]: the status of a HEAD
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' -I "$@" "$url"
}
token_for() { # SCOPE: a token from the token server, for reading back
    curl -fsS -u "$USER_:$PASS" \
        "http://$OCIPUSH_TEST_TOKEN_SERVER/token?service=ocipush-test&scope=$1" | jq -r .token
}
token_blob_sha() { # REPO DIGEST
    local t
    t=$(token_for "repository:$1:pull")
    blob_sha_auth "http://$OCIPUSH_TEST_TOKEN_REGISTRY" "$1" "$2" -H "Authorization: Bearer $t"
}

expect_failure() { # STATUS PATTERN COMMAND...
    local want=$1 pattern=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status of $*" "$want" "$rc"
    grep -q -- "$pattern" "$WORK/stderr" || fail "stderr lacks '$pattern': $(cat "$WORK/stderr")"
}

# No password, Basic header or token in anything ocipush printed.
no_secrets_in() {
    if grep -q -e "$PASS" -e "Basic " -e "Bearer " -e "eyJ" -e "$OCIPUSH_TEST_REFRESH_TOKEN" "$@"; then
        fail "a secret was printed: $(grep -h -e "$PASS" -e "Basic " -e "Bearer " -e eyJ "$@")"
    fi
}

# --- Basic (htpasswd) ---------------------------------------------------------

case_basic_push() {
    local f out
    f=$(make_file basic.bin 300001)
    out=$(ocipush --plain-http -vv -u "$USER_" -p "$PASS" push "$OCIPUSH_TEST_BASIC_REGISTRY/basic/app:v1" "$f" 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    [[ $(tail -n 1 <<<"$out") == "Digest: sha256:"* ]] || fail "no digest line"
    check_eq served "$(sha_of "$f")" "$(basic_blob_sha basic/app "$(sha_of "$f")")"
    no_secrets_in "$WORK/stderr"
}

case_basic_wrong_password() {
    local f
    f=$(make_file wrong.bin 1000)
    expect_failure 1 "authentication failed" ocipush --plain-http -u "$USER_" -p wrong push "$OCIPUSH_TEST_BASIC_REGISTRY/basic/wrong:v1" "$f"
    [[ $(wc -l <"$WORK/stderr") == 1 ]] || fail "want one line: $(cat "$WORK/stderr")"
    grep -q "rejected the credentials of $USER_" "$WORK/stderr" || fail "unclear: $(cat "$WORK/stderr")"
    no_secrets_in "$WORK/stderr"
    check_eq "tag after a refused push" 404 "$(blob_code "http://$OCIPUSH_TEST_BASIC_REGISTRY/v2/basic/wrong/manifests/v1" -u "$USER_:$PASS")"
    check_eq "blob after a refused push" 404 "$(blob_code "http://$OCIPUSH_TEST_BASIC_REGISTRY/v2/basic/wrong/blobs/$(sha_of "$f")" -u "$USER_:$PASS")"
}

case_basic_no_credentials() {
    local f
    f=$(make_file nocred.bin 10)
    expect_failure 1 "requires credentials" ocipush --plain-http blob push "$OCIPUSH_TEST_BASIC_REGISTRY/basic/nocred" "$f"
}

# --- Bearer tokens ------------------------------------------------------------

case_token_push() {
    local a b c out
    a=$(make_file t1 100000) b=$(make_file t2 2000) c=$(make_file t3 1)
    : >"$TOKENS"
    out=$(ocipush --plain-http -vv -u "$USER_" -p "$PASS" push "$OCIPUSH_TEST_TOKEN_REGISTRY/tok/app:v1" "$a" "$b" "$c" 2>"$WORK/stderr") ||
        fail "$(cat "$WORK/stderr")"
    for f in "$a" "$b" "$c"; do
        check_eq "served $f" "$(sha_of "$f")" "$(token_blob_sha tok/app "$(sha_of "$f")")"
    done
    # One token for the whole push (cached), asked for push first, as testuser.
    check_eq "token requests" 1 "$(grep -c "scopes=repository:tok/app:push,pull" "$TOKENS")"
    grep -q "GET user=$USER_ scopes=repository:tok/app:push,pull" "$TOKENS" || fail "token log: $(cat "$TOKENS")"
    no_secrets_in "$WORK/stderr"
}

case_token_anonymous_refused() {
    local f
    f=$(make_file anon 100)
    : >"$TOKENS"
    expect_failure 1 "authentication failed" ocipush --plain-http blob push "$OCIPUSH_TEST_TOKEN_REGISTRY/tok/anon" "$f"
    grep -q "user=anonymous" "$TOKENS" || fail "no anonymous token asked: $(cat "$TOKENS")"
}

case_token_wrong_password() {
    local f
    f=$(make_file tw 100)
    expect_failure 1 "refused the credentials of $USER_" ocipush --plain-http -u "$USER_" -p nope push "$OCIPUSH_TEST_TOKEN_REGISTRY/tok/wrong:v1" "$f"
    [[ $(wc -l <"$WORK/stderr") == 1 ]] || fail "want one line: $(cat "$WORK/stderr")"
    no_secrets_in "$WORK/stderr"
}

case_identity_token_from_docker_config() {
    local f
    f=$(make_file idt 5000)
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"%s":{"identitytoken":"%s"}}}' "$OCIPUSH_TEST_TOKEN_REGISTRY" "$OCIPUSH_TEST_REFRESH_TOKEN" >"$DOCKER_CONFIG/config.json"
    : >"$TOKENS"
    ocipush --plain-http -vv blob push "$OCIPUSH_TEST_TOKEN_REGISTRY/tok/idt" "$f" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    grep -q "^POST " "$TOKENS" || fail "no refresh-token POST: $(cat "$TOKENS")"
    check_eq served "$(sha_of "$f")" "$(token_blob_sha tok/idt "$(sha_of "$f")")"
    no_secrets_in "$WORK/stderr"
}

# expired_mid_upload NAME SOURCE_KIND: a chunked upload whose 2nd PATCH is
# answered 401 (the token ran out); the push must get a new token, send that
# chunk again and complete.
expired_mid_upload() {
    local f out repo=evil/expire/$1
    f=$(make_file "exp$1" 350001)
    : >"$TOKENS"
    if [[ $2 == pipe ]]; then
        out=$(cat "$f" | ocipush --plain-http -u "$USER_" -p "$PASS" --strategy chunked --chunk-size 100000 \
            blob push "$OCIPUSH_TEST_EXPIRE_PROXY/$repo" - 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    else
        out=$(ocipush --plain-http -u "$USER_" -p "$PASS" --strategy chunked --chunk-size 100000 \
            blob push "$OCIPUSH_TEST_EXPIRE_PROXY/$repo" "$f" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    fi
    check_eq digest "$(sha_of "$f")" "$out"
    check_eq "token fetches" 2 "$(grep -c "scopes=repository:$repo:push,pull" "$TOKENS")"
    check_eq served "$(sha_of "$f")" "$(token_blob_sha "$repo" "$(sha_of "$f")")"
}
case_token_expires_mid_upload_file() { expired_mid_upload file file; }
case_token_expires_mid_upload_pipe() { expired_mid_upload pipe pipe; }

# --- credential stores ----------------------------------------------------------

case_docker_config_auth() {
    local f
    f=$(make_file dc 777)
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"http://%s/v1/":{"auth":"%s"}}}' "$OCIPUSH_TEST_BASIC_REGISTRY" "$(printf '%s:%s' "$USER_" "$PASS" | base64)" >"$DOCKER_CONFIG/config.json"
    ocipush --plain-http -v blob push "$OCIPUSH_TEST_BASIC_REGISTRY/store/dc" "$f" >"$WORK/out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    grep -q "using credentials for $OCIPUSH_TEST_BASIC_REGISTRY from $DOCKER_CONFIG/config.json" "$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(basic_blob_sha store/dc "$(sha_of "$f")")"
}

case_credential_helper() {
    local f bin=$WORK/bin
    f=$(make_file helper 999)
    mkdir -p "$DOCKER_CONFIG" "$bin"
    # A helper as docker runs them: "get", the registry on stdin, JSON out.
    cat >"$bin/docker-credential-ocitest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
echo "\$server" >>"$WORK/helper-calls"
[ "\$server" = "$OCIPUSH_TEST_BASIC_REGISTRY" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$USER_" "$PASS"
EOF
    chmod +x "$bin/docker-credential-ocitest"
    printf '{"credHelpers":{"%s":"ocitest"}}' "$OCIPUSH_TEST_BASIC_REGISTRY" >"$DOCKER_CONFIG/config.json"
    PATH="$bin:$PATH" ocipush --plain-http blob push "$OCIPUSH_TEST_BASIC_REGISTRY/store/helper" "$f" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    check_eq "helper asked for" "$OCIPUSH_TEST_BASIC_REGISTRY" "$(cat "$WORK/helper-calls")"
    check_eq served "$(sha_of "$f")" "$(basic_blob_sha store/helper "$(sha_of "$f")")"
}

case_helm_registry_config() {
    local f
    f=$(make_file helm.bin 321)
    mkdir -p "$WORK/helm"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$OCIPUSH_TEST_BASIC_REGISTRY" "$(printf '%s:%s' "$USER_" "$PASS" | base64)" >"$WORK/helm/registry.json"
    HELM_REGISTRY_CONFIG=$WORK/helm/registry.json ocipush --plain-http blob push "$OCIPUSH_TEST_BASIC_REGISTRY/store/helm" "$f" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(basic_blob_sha store/helm "$(sha_of "$f")")"
}

case_login_logout() {
    local f mode
    f=$(make_file login 4321)
    expect_failure 1 "rejected the credentials" sh -c "echo wrong | $OCIPUSH --plain-http login $OCIPUSH_TEST_BASIC_REGISTRY -u $USER_ --password-stdin"
    if [[ -e $DOCKER_CONFIG/config.json ]] && grep -q "$OCIPUSH_TEST_BASIC_REGISTRY" "$DOCKER_CONFIG/config.json"; then
        fail "a refused login was saved"
    fi
    echo "$PASS" | ocipush --plain-http login "$OCIPUSH_TEST_BASIC_REGISTRY" -u "$USER_" --password-stdin >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    check_eq "login output" "Login Succeeded" "$(cat "$WORK/out")"
    mode=$(stat -c %a "$DOCKER_CONFIG/config.json")
    check_eq "config mode" 600 "$mode"
    check_eq "saved auth" "$(printf '%s:%s' "$USER_" "$PASS" | base64)" \
        "$(jq -r --arg h "$OCIPUSH_TEST_BASIC_REGISTRY" '.auths[$h].auth' "$DOCKER_CONFIG/config.json")"
    ocipush --plain-http blob push "$OCIPUSH_TEST_BASIC_REGISTRY/store/login" "$f" >"$WORK/out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(basic_blob_sha store/login "$(sha_of "$f")")"
    check_eq logout "Removing login credentials for $OCIPUSH_TEST_BASIC_REGISTRY" "$(ocipush logout "$OCIPUSH_TEST_BASIC_REGISTRY")"
    check_eq "logout again" "Not logged in to $OCIPUSH_TEST_BASIC_REGISTRY" "$(ocipush logout "$OCIPUSH_TEST_BASIC_REGISTRY")"
    expect_failure 1 "requires credentials" ocipush --plain-http blob push "$OCIPUSH_TEST_BASIC_REGISTRY/store/login" "$f"
}

# --- TLS --------------------------------------------------------------------------

case_tls_ca_file() {
    local f
    f=$(make_file tls 65537)
    ocipush --ca-file "$OCIPUSH_TEST_CA" -u "$USER_" -p "$PASS" blob push "$OCIPUSH_TEST_TLS_REGISTRY/tls/app" "$f" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(blob_sha_auth "https://$OCIPUSH_TEST_TLS_REGISTRY" tls/app "$(sha_of "$f")" --cacert "$OCIPUSH_TEST_CA" -u "$USER_:$PASS")"
    expect_failure 1 "network error" ocipush -u "$USER_" -p "$PASS" blob push "$OCIPUSH_TEST_TLS_REGISTRY/tls/app" "$f"
    grep -qi "certificate" "$WORK/stderr" || fail "no certificate in: $(cat "$WORK/stderr")"
    ocipush --insecure -u "$USER_" -p "$PASS" blob push "$OCIPUSH_TEST_TLS_REGISTRY/tls/insecure" "$f" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "$(cat "$WORK/stderr")"
    grep -q "TLS certificate verification is off" "$WORK/stderr" || fail "no warning for --insecure"
}

case_mutual_tls() {
    local f
    f=$(make_file mtls 4096)
    ocipush --ca-file "$OCIPUSH_TEST_CA" --cert-file "$OCIPUSH_TEST_CLIENT_CERT" --key-file "$OCIPUSH_TEST_CLIENT_KEY" \
        blob push "$OCIPUSH_TEST_MTLS_REGISTRY/mtls/app" "$f" >"$WORK/out" 2>"$WORK/stderr" || fail "$(cat "$WORK/stderr")"
    check_eq served "$(sha_of "$f")" "$(blob_sha_auth "https://$OCIPUSH_TEST_MTLS_REGISTRY" mtls/app "$(sha_of "$f")" --cacert "$OCIPUSH_TEST_CA" --cert "$OCIPUSH_TEST_CLIENT_CERT" --key "$OCIPUSH_TEST_CLIENT_KEY")"
    # (A refused handshake looks like a reset connection, which is retried.)
    expect_failure 1 "network error" ocipush --retries 0 --ca-file "$OCIPUSH_TEST_CA" blob push "$OCIPUSH_TEST_MTLS_REGISTRY/mtls/app" "$f"
}

# --- credentials never leave the registry's origin ----------------------------

case_location_elsewhere_gets_no_credentials() {
    local f
    f=$(make_file evil1 5000)
    : >"$RECORDED"
    ocipush --plain-http -u "$USER_" -p "$PASS" blob push "$OCIPUSH_TEST_EVIL_PROXY/evil/location/app" "$f" >"$WORK/out" 2>"$WORK/stderr" &&
        fail "the push to a stolen Location succeeded"
    [[ -s $RECORDED ]] || fail "the recorder got nothing"
    if jq -e 'select(.headers | keys | map(ascii_downcase) | index("authorization"))' "$RECORDED" >/dev/null; then
        fail "credentials reached the other host: $(cat "$RECORDED")"
    fi
    no_secrets_in "$WORK/stderr"
}

case_redirect_elsewhere_gets_no_credentials() {
    local f
    f=$(make_file evil2 5000)
    : >"$RECORDED"
    ocipush --plain-http -u "$USER_" -p "$PASS" blob push "$OCIPUSH_TEST_EVIL_PROXY/evil/redirect/app" "$f" >"$WORK/out" 2>"$WORK/stderr" &&
        fail "the push through a redirect to another host succeeded"
    jq -e 'select(.path == "/redirected")' "$RECORDED" >/dev/null || fail "the 307 was not followed: $(cat "$RECORDED")"
    if jq -e 'select(.headers | keys | map(ascii_downcase) | index("authorization"))' "$RECORDED" >/dev/null; then
        fail "credentials reached the redirect target: $(cat "$RECORDED")"
    fi
}

case_302_not_followed_for_patch() {
    local f
    f=$(make_file evil3 5000)
    : >"$RECORDED"
    expect_failure 1 "refusing to follow a 302 redirect for PATCH" \
        ocipush --plain-http -u "$USER_" -p "$PASS" --strategy chunked blob push "$OCIPUSH_TEST_EVIL_PROXY/evil/found/app" "$f"
    [[ ! -s $RECORDED ]] || fail "the 302 was followed: $(cat "$RECORDED")"
}

run_case "basic: push" case_basic_push
run_case "basic: wrong password pushes nothing" case_basic_wrong_password
run_case "basic: no credentials" case_basic_no_credentials
run_case "token: push, one cached token, push scope first" case_token_push
run_case "token: anonymous push refused" case_token_anonymous_refused
run_case "token: wrong password" case_token_wrong_password
run_case "token: identity token from DOCKER_CONFIG" case_identity_token_from_docker_config
run_case "token: expires mid-upload, file source" case_token_expires_mid_upload_file
run_case "token: expires mid-upload, pipe replayed from the spool" case_token_expires_mid_upload_pipe
run_case "store: docker config auth" case_docker_config_auth
run_case "store: docker-credential helper" case_credential_helper
run_case "store: helm registry config" case_helm_registry_config
run_case "login and logout" case_login_logout
run_case "tls: --ca-file, verification, --insecure" case_tls_ca_file
run_case "tls: mutual TLS" case_mutual_tls
run_case "no credentials to another host's Location" case_location_elsewhere_gets_no_credentials
run_case "no credentials through a redirect to another host" case_redirect_elsewhere_gets_no_credentials
run_case "a 302 is not followed for a PATCH" case_302_not_followed_for_patch

finish
