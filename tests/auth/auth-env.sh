#!/usr/bin/env bash
# Usage: tests/auth/auth-env.sh CMD [ARGS...]
#
# Runs CMD with throw-away authenticating servers, all on 127.0.0.1 (each with
# its own storage under OCIPUSH_TEST_TMP), and exits with CMD's status:
#   OCIPUSH_TEST_TOKEN_SERVER    host:port of tokenserver.py (realm http://HOST:PORT/token)
#   OCIPUSH_TEST_TOKEN_REGISTRY  http registry, auth.token (service ocipush-test,
#                                issuer ocipush-test-issuer)
#   OCIPUSH_TEST_BASIC_REGISTRY  http registry, htpasswd (testuser/testpass)
#   OCIPUSH_TEST_TLS_REGISTRY    https registry (cert by OCIPUSH_TEST_CA), htpasswd
#   OCIPUSH_TEST_MTLS_REGISTRY   https registry requiring a client cert signed by
#                                the CA (OCIPUSH_TEST_CLIENT_CERT/_KEY); no other auth
#   OCIPUSH_TEST_RECORDER        recorder.py: logs each request to recorder.log, answers 401
#   OCIPUSH_TEST_EVIL_PROXY      evilproxy.py in front of the BASIC registry
#   OCIPUSH_TEST_EXPIRE_PROXY    evilproxy.py in front of the TOKEN registry, whose
#                                evil/expire/* repositories get a 401 on their 2nd PATCH
#   OCIPUSH_TEST_DEAD            a port where nothing listens
#   OCIPUSH_TEST_USER / _PASSWORD / _REFRESH_TOKEN   testuser / testpass / refresh-testuser
#   OCIPUSH_TEST_TMP             scratch dir: certs, configs, token-requests.log,
#                                recorder.log, servers' output in logs/; removed on
#                                exit unless OCIPUSH_TEST_KEEP=1
# OCIPUSH_TEST_TOKEN_LIFETIME (seconds, default 300) sets the tokens' lifetime;
# note the registry accepts a token up to 60 s past its exp (distribution's leeway).
# Debian packages needed besides docker-registry, curl, iproute2: tests/auth/packages.txt.

# SC2317: cleanup and the *_conf functions are only called via trap / by name.
# shellcheck disable=SC2317
set -euo pipefail

die() { echo "auth-env: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python on purpose: a pyenv python may come first on PATH.
PY=/usr/bin/python3
command -v docker-registry >/dev/null || die "docker-registry not found; install the Debian package 'docker-registry'"
command -v curl >/dev/null || die "curl not found; install the Debian package 'curl'"
command -v ss >/dev/null || die "ss not found; install the Debian package 'iproute2'"
command -v openssl >/dev/null || die "openssl not found; install the Debian package 'openssl'"
command -v htpasswd >/dev/null || die "htpasswd not found; install the Debian package 'apache2-utils'"
[[ -x $PY ]] || die "$PY not found; install the Debian package 'python3'"
$PY -c 'import jwt, cryptography' 2>/dev/null ||
    die "$PY cannot import jwt/cryptography; install the Debian packages 'python3-jwt' 'python3-cryptography'"
[[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]"

# shellcheck source=../servers.sh
source "$HERE/../servers.sh"
servers_begin auth-env ocipush-auth
# Most of these servers answer 401 to an anonymous probe, and some are TLS.
WAIT_ANY_STATUS=1
WAIT_CURL_OPTS=(--cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key")

# --- certificates (EC P-256, valid 7 days) ---------------------------------
ssl() { openssl "$@" >>"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; die "openssl $1 failed"; }; }
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
# issue NAME CN EXTENSIONS: NAME.key + NAME.crt signed by the CA.
issue() {
    ssl req -new "${newkey[@]}" -keyout "$TMP/$1.key" -out "$TMP/$1.csr" -subj "/CN=$2"
    printf '%s\n' "$3" >"$TMP/$1.ext"
    ssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
        -CAserial "$TMP/ca.srl" -days 7 -out "$TMP/$1.crt" -extfile "$TMP/$1.ext"
}
ssl req -x509 "${newkey[@]}" -keyout "$TMP/ca.key" -out "$TMP/ca.crt" -days 7 \
    -subj /CN=ocipush-test-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
issue server 127.0.0.1 "basicConstraints=CA:FALSE
subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
issue client ocipush-test-client "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"
# Token signing: self-signed, and it alone is the registry's rootcertbundle, so
# no other cert (e.g. the server's) can sign tokens.
ssl req -x509 "${newkey[@]}" -keyout "$TMP/token.key" -out "$TMP/token.crt" -days 7 \
    -subj /CN=ocipush-test-token-signer
htpasswd -Bbn testuser testpass >"$TMP/htpasswd" 2>/dev/null
mkdir "$TMP/logs"

# --- servers ----------------------------------------------------------------
# registry_conf PORT: writes $TMP/$R_NAME.yml; R_AUTH and R_TLS are YAML flow
# maps or empty.
registry_conf() {
    cat >"$TMP/$R_NAME.yml" <<EOF
version: 0.1
log: {level: info, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $TMP/$R_NAME-storage}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: 127.0.0.1:$1${R_TLS:+, tls: $R_TLS}}
${R_AUTH:+auth: $R_AUTH}
EOF
}
# start_registry NAME SCHEME AUTH TLS
start_registry() {
    R_NAME=$1 R_AUTH=$3 R_TLS=$4
    start_server "$1" "$TMP/logs/$1.log" registry_conf "$2://127.0.0.1:@PORT@/v2/" \
        docker-registry serve "$TMP/$1.yml"
}

start_server tokenserver "$TMP/logs/tokenserver.log" : "http://127.0.0.1:@PORT@/healthz" \
    "$PY" "$HERE/tokenserver.py" --port @PORT@ --key "$TMP/token.key" --cert "$TMP/token.crt" \
    --log "$TMP/token-requests.log" --issuer ocipush-test-issuer --service ocipush-test
TOKEN_PORT=$PORT

HTPASSWD="{htpasswd: {realm: ocipush-test, path: $TMP/htpasswd}}"
TLS="certificate: $TMP/server.crt, key: $TMP/server.key"
start_registry token-registry http \
    "{token: {realm: 'http://127.0.0.1:$TOKEN_PORT/token', service: ocipush-test,
        issuer: ocipush-test-issuer, rootcertbundle: $TMP/token.crt}}" ''
TOKEN_REG_PORT=$PORT
# distribution 2.8 accepts htpasswd auth over plain http (only Docker's own
# client insists on TLS for it).
start_registry basic-registry http "$HTPASSWD" ''
BASIC_REG_PORT=$PORT
start_registry tls-registry https "$HTPASSWD" "{$TLS}"
TLS_REG_PORT=$PORT
# clientcas makes Go require and verify a client cert at the handshake.
start_registry mtls-registry https '' "{$TLS, clientcas: [$TMP/ca.crt]}"
MTLS_REG_PORT=$PORT

start_server recorder "$TMP/logs/recorder.log" : - "$PY" "$HERE/recorder.py" @PORT@ "$TMP/recorder.log"
RECORDER_PORT=$PORT
start_server evilproxy "$TMP/logs/evilproxy.log" : "http://127.0.0.1:@PORT@/v2/" \
    "$PY" "$HERE/evilproxy.py" @PORT@ "127.0.0.1:$BASIC_REG_PORT" "127.0.0.1:$RECORDER_PORT"
EVIL_PORT=$PORT
start_server expireproxy "$TMP/logs/expireproxy.log" : "http://127.0.0.1:@PORT@/v2/" \
    "$PY" "$HERE/evilproxy.py" @PORT@ "127.0.0.1:$TOKEN_REG_PORT" "127.0.0.1:$RECORDER_PORT" \
    "http://127.0.0.1:$TOKEN_PORT/token"
EXPIRE_PORT=$PORT

DEAD_PORT=$(pick_port)

export OCIPUSH_TEST_TOKEN_SERVER=127.0.0.1:$TOKEN_PORT
export OCIPUSH_TEST_EXPIRE_PROXY=127.0.0.1:$EXPIRE_PORT
export OCIPUSH_TEST_TOKEN_REGISTRY=127.0.0.1:$TOKEN_REG_PORT
export OCIPUSH_TEST_BASIC_REGISTRY=127.0.0.1:$BASIC_REG_PORT
export OCIPUSH_TEST_TLS_REGISTRY=127.0.0.1:$TLS_REG_PORT
export OCIPUSH_TEST_MTLS_REGISTRY=127.0.0.1:$MTLS_REG_PORT
export OCIPUSH_TEST_RECORDER=127.0.0.1:$RECORDER_PORT
export OCIPUSH_TEST_EVIL_PROXY=127.0.0.1:$EVIL_PORT
export OCIPUSH_TEST_DEAD=127.0.0.1:$DEAD_PORT
export OCIPUSH_TEST_CA=$TMP/ca.crt
export OCIPUSH_TEST_CLIENT_CERT=$TMP/client.crt
export OCIPUSH_TEST_CLIENT_KEY=$TMP/client.key
export OCIPUSH_TEST_USER=testuser
export OCIPUSH_TEST_PASSWORD=testpass
export OCIPUSH_TEST_REFRESH_TOKEN=refresh-testuser
export OCIPUSH_TEST_TMP=$TMP

rc=0
"$@" || rc=$?
exit "$rc"
