#!/usr/bin/env bash
# Usage: tests/auth/auth-env.sh tests/auth/selftest.sh
# Checks, with curl only, that the servers auth-env.sh starts behave as
# documented there. Prints one line per check and "N passed, N failed";
# exits 1 if any check failed.
set -uo pipefail

pass=0 fail=0
check() { # DESC CMD...: the check passes when CMD succeeds
    if "${@:2}"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi
}
jqt() { jq -e "$@" >/dev/null; } # jq -e without printing the result
eq() { [[ $1 == "$2" ]] || { echo "     got '$1', want '$2'" >&2; return 1; }; }

TS=$OCIPUSH_TEST_TOKEN_SERVER
H=$OCIPUSH_TEST_TMP/headers # last response's headers (curl -D)
status() { curl -s -o /dev/null -D "$H" -w '%{http_code}' "$@"; }
header() { sed -n "s/^$1: *//Ip" "$H" | tr -d '\r' | head -n 1; }
BLOB="ocipush auth test blob $$"
DIGEST=sha256:$(printf %s "$BLOB" | sha256sum | cut -d' ' -f1)
# push BASEURL REPO CURL_ARGS...: monolithic blob push (POST, then PUT
# ?digest= with Content-Length); prints the PUT's status, or the POST's if not 202.
push() {
    local base=$1 repo=$2 code loc
    shift 2
    code=$(status -X POST "$@" "$base/v2/$repo/blobs/uploads/")
    [[ $code == 202 ]] || { echo "$code"; return; }
    loc=$(header Location)
    # (without this Content-Type curl says x-www-form-urlencoded and the
    # registry eats the body as a form: DIGEST_INVALID for large blobs)
    status -X PUT "$@" -H 'Content-Type: application/octet-stream' --data-binary "$BLOB" "$loc&digest=$DIGEST"
}
# readback BASEURL REPO CURL_ARGS...: the blob's sha256 digest as read back
readback() {
    local base=$1 repo=$2
    shift 2
    echo "sha256:$(curl -sf "$@" "$base/v2/$repo/blobs/$DIGEST" | sha256sum | cut -d' ' -f1)"
}
token() { curl -s "$@" | jq -r .token; }

echo "== (a) token registry $OCIPUSH_TEST_TOKEN_REGISTRY, token server $TS"
T=http://$OCIPUSH_TEST_TOKEN_REGISTRY
check "POST without auth: 401" eq "$(status -X POST "$T/v2/t/repo/blobs/uploads/")" 401
# distribution lists the scope's actions in random order (a Go map).
CHALLENGE=$(header WWW-Authenticate)
check "  with a Bearer challenge" eq "${CHALLENGE/push,pull/pull,push}" \
    "Bearer realm=\"http://$TS/token\",service=\"ocipush-test\",scope=\"repository:t/repo:pull,push\""
SCOPE='service=ocipush-test&scope=repository:t/repo:pull,push'
RESP=$(curl -s -u testuser:testpass "http://$TS/token?$SCOPE")
check "token answer has token=access_token, expires_in=300, issued_at" \
    jqt '.token == .access_token and .expires_in == 300 and (.issued_at | test("Z$"))' <<<"$RESP"
TOK=$(jq -r .token <<<"$RESP")
check "push with testuser's Bearer token: 201" eq "$(push "$T" t/repo -H "Authorization: Bearer $TOK")" 201
check "  read back, sha256 matches" eq "$(readback "$T" t/repo -H "Authorization: Bearer $TOK")" "$DIGEST"
ANON=$(token "http://$TS/token?$SCOPE")
check "anonymous token: push refused (401)" eq "$(push "$T" t/repo -H "Authorization: Bearer $ANON")" 401
check "  but it can pull" eq "$(readback "$T" t/repo -H "Authorization: Bearer $ANON")" "$DIGEST"
check "wrong password: 401 from the token server" \
    eq "$(status -u testuser:nope "http://$TS/token?$SCOPE")" 401
RESP=$(curl -s -d grant_type=refresh_token -d refresh_token=refresh-testuser -d service=ocipush-test \
    -d scope=repository:t/refreshed:pull,push -d client_id=selftest "http://$TS/token")
check "refresh-token POST: token + refresh_token" jqt '.token and .refresh_token == "refresh-testuser"' <<<"$RESP"
check "  and its token pushes" eq "$(push "$T" t/refreshed -H "Authorization: Bearer $(jq -r .token <<<"$RESP")")" 201
check "password POST: 200" eq "$(status -d grant_type=password -d username=testuser -d password=testpass \
    -d service=ocipush-test -d scope=repository:t/repo:pull -d client_id=selftest "http://$TS/token")" 200
check "bad refresh token: 401" eq "$(status -d grant_type=refresh_token -d refresh_token=bogus \
    -d service=ocipush-test -d client_id=selftest "http://$TS/token")" 401
check "token-requests.log has one line per request" eq "$(cat "$OCIPUSH_TEST_TMP/token-requests.log")" \
"GET user=testuser scopes=repository:t/repo:pull,push
GET user=anonymous scopes=repository:t/repo:pull,push
GET user=testuser scopes=repository:t/repo:pull,push
POST user=refresh scopes=repository:t/refreshed:pull,push
POST user=testuser scopes=repository:t/repo:pull
POST user=refresh scopes="

echo "== (b) basic registry $OCIPUSH_TEST_BASIC_REGISTRY"
B=http://$OCIPUSH_TEST_BASIC_REGISTRY
check "push with -u testuser:testpass: 201" eq "$(push "$B" b/repo -u testuser:testpass)" 201
check "  read back" eq "$(readback "$B" b/repo -u testuser:testpass)" "$DIGEST"
check "wrong password: 401" eq "$(status -u testuser:nope "$B/v2/")" 401
check "  with a Basic challenge" eq "$(header WWW-Authenticate)" 'Basic realm="ocipush-test"'

echo "== (c) TLS registry $OCIPUSH_TEST_TLS_REGISTRY"
S=https://$OCIPUSH_TEST_TLS_REGISTRY
check "push with --cacert and -u: 201" eq "$(push "$S" s/repo --cacert "$OCIPUSH_TEST_CA" -u testuser:testpass)" 201
check "without --cacert: verification fails (curl exit 60)" \
    eq "$(curl -s -o /dev/null -u testuser:testpass "$S/v2/"; echo $?)" 60
check "https://localhost matches the cert too" \
    eq "$(status --cacert "$OCIPUSH_TEST_CA" -u testuser:testpass "https://localhost:${S##*:}/v2/")" 200

echo "== (d) mTLS registry $OCIPUSH_TEST_MTLS_REGISTRY"
M=https://$OCIPUSH_TEST_MTLS_REGISTRY
MC=(--cacert "$OCIPUSH_TEST_CA" --cert "$OCIPUSH_TEST_CLIENT_CERT" --key "$OCIPUSH_TEST_CLIENT_KEY")
check "push with the client cert: 201" eq "$(push "$M" m/repo "${MC[@]}")" 201
check "without it: refused at the handshake (no HTTP status)" \
    eq "$(status --cacert "$OCIPUSH_TEST_CA" "$M/v2/")" 000

echo "== (e) recorder $OCIPUSH_TEST_RECORDER"
R=http://$OCIPUSH_TEST_RECORDER
check "PUT: 401" eq "$(status -X PUT -u who:secret -H 'X-Probe: 1' --data-binary hello "$R/some/path?q=1")" 401
check "  with Basic realm=recorder" eq "$(header WWW-Authenticate)" 'Basic realm="recorder"'
status -H 'Transfer-Encoding: chunked' --data-binary 'chunked!' "$R/chunked" >/dev/null
check "recorder.log: method, path, all headers, body length" jqt -s '
    .[0].method == "PUT" and .[0].path == "/some/path?q=1" and .[0].headers["X-Probe"] == "1"
    and .[0].headers.Authorization == "Basic d2hvOnNlY3JldA==" and .[0].body_len == 5
    and .[1].method == "POST" and .[1].body_len == 8 and length == 2' "$OCIPUSH_TEST_TMP/recorder.log"

echo "== (f) evil proxy $OCIPUSH_TEST_EVIL_PROXY (upstream: the basic registry)"
E=http://$OCIPUSH_TEST_EVIL_PROXY
check "POST evil/location/x: 202" eq "$(status -X POST -u testuser:testpass "$E/v2/evil/location/x/blobs/uploads/")" 202
check "  Location rewritten to the recorder" eq "$(header Location)" "http://$OCIPUSH_TEST_RECORDER/upload/stolen?x=1"
check "PUT evil/redirect/x: 307" eq "$(status -X PUT -u testuser:testpass --data-binary "$BLOB" \
    "$E/v2/evil/redirect/x/blobs/uploads/u?digest=$DIGEST")" 307
check "  to the recorder" eq "$(header Location)" "http://$OCIPUSH_TEST_RECORDER/redirected"
check "  also when asked for 100-continue (no body sent)" eq "$(status -X PUT -H 'Expect: 100-continue' \
    --data-binary "$BLOB" "$E/v2/evil/redirect/x/blobs/uploads/u")" 307
check "PATCH evil/redirect/x: 307" eq "$(status -X PATCH -u testuser:testpass "$E/v2/evil/redirect/x/blobs/uploads/u")" 307
check "normal repo through the proxy: POST 202" eq "$(status -X POST -u testuser:testpass "$E/v2/p/repo/blobs/uploads/")" 202
check "  its Location points back at the proxy" eq "$(header Location | cut -d/ -f1-3)" "$E"
check "  full push: 201" eq "$(push "$E" p/repo -u testuser:testpass)" 201
check "  read back" eq "$(readback "$E" p/repo -u testuser:testpass)" "$DIGEST"
check "  HEAD keeps Content-Length" eq "$(status -I -u testuser:testpass "$E/v2/p/repo/blobs/$DIGEST"; header Content-Length)" "200${#BLOB}"
check "  no credentials: 401" eq "$(status "$E/v2/")" 401
check "chunked request body: 411" eq "$(status -H 'Transfer-Encoding: chunked' --data-binary x -u testuser:testpass "$E/v2/")" 411

echo "$pass passed, $fail failed"
((fail == 0))
