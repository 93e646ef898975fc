#!/usr/bin/env bash
# Usage: tests/faults/fault-env.sh bash tests/faults/selftest.sh
# Checks, with curl only, that faultproxy.py forwards faithfully and that each
# fault gives exactly its documented answer. Prints one line per check and
# "N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

pass=0 fail=0
check() { # DESC CMD...: the check passes when CMD succeeds
    if "${@:2}"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi
}
eq() { [[ $1 == "$2" ]] || { echo "     got '$1', want '$2'" >&2; return 1; }; }

P=http://$OCIPUSH_TEST_FAULTS
T=$OCIPUSH_TEST_TMP
LOG=$OCIPUSH_TEST_FAULT_LOG
H=$T/headers B=$T/body # the last answer's headers and body
OCTET=(-H 'Content-Type: application/octet-stream')
CHUNKED=(-H 'Transfer-Encoding: chunked')

# req CURL_ARGS...: one request. Sets CODE (000: no answer), RC (curl's exit
# status) and SECS (time taken); curl's messages go to $T/curl.err.
req() {
    local out
    RC=0
    out=$(curl -sS -o "$B" -D "$H" -w '%{http_code} %{time_total}' "$@" 2>"$T/curl.err") || RC=$?
    CODE=${out% *} SECS=${out#* }
}
header() { sed -n "s/^$1: *//Ip" "$H" | tr -d '\r' | head -n 1; }
body() { cat "$B"; }
# start REPO: POST an upload through the proxy; sets LOC (its Location) and UPATH (its path).
start() {
    req -X POST "$P/v2/$1/blobs/uploads/"
    LOC=$(header Location) UPATH=/${LOC#http://*/}
    UPATH=${UPATH%%\?*}
}
# patch FILE [CURL_ARGS...]: PATCH FILE to LOC; follows the new Location.
patch() {
    req -X PATCH "${OCTET[@]}" --data-binary "@$1" "${@:2}" "$LOC"
    [[ -z $(header Location) ]] || LOC=$(header Location)
}
digest() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }
lastlog() { tail -n 1 "$LOG"; }
logline() { # METHOD PATH STATUS FAULT BYTES_IN CONTENT_RANGE: a log line as expected
    echo "$1 $2 status=$3 fault=$4 bytes_in=$5 content_range=$6"
}
# updata UUID: size of the upload's data in the registry's storage (-1 if none)
updata() {
    local f
    f=$(find "$T/storage" -path "*/_uploads/$1/data" 2>/dev/null | head -n 1)
    if [[ -n $f ]]; then stat -c %s "$f"; else echo -1; fi
}
json() { printf '{"errors":[{"code":"%s","message":"%s"}]}' "$1" "$2"; }

head -c 1000 /dev/urandom >"$T/f1000"
head -c 1001 /dev/urandom >"$T/f1001"
head -c 500 /dev/urandom >"$T/f500"
head -c 200 /dev/urandom >"$T/f200"
head -c 5000 /dev/urandom >"$T/f5000"
head -c 300000 /dev/urandom >"$T/f300k"
head -c 64M /dev/urandom >"$T/f64m"

echo "== untouched repository through the proxy $OCIPUSH_TEST_FAULTS"
start plain/app
check "POST: 202" eq "$CODE" 202
check "  Location points back at the proxy" eq "${LOC%%/v2/*}" "$P"
patch "$T/f1000" -H 'Content-Range: 0-999'
check "PATCH 1000 bytes, Content-Length + Content-Range: 202" eq "$CODE" 202
check "  Range 0-999" eq "$(header Range)" 0-999
check "  logged" eq "$(lastlog)" "$(logline PATCH "$UPATH" 202 none 1000 0-999)"
patch "$T/f300k" "${CHUNKED[@]}" -H 'Content-Range: 1000-300999'
check "chunked PATCH of 300000 bytes streams through: 202" eq "$CODE" 202
check "  Range 0-300999" eq "$(header Range)" 0-300999
check "  logged" eq "$(lastlog)" "$(logline PATCH "$UPATH" 202 none 300000 1000-300999)"
cat "$T/f1000" "$T/f300k" >"$T/blob1"
D1=$(digest "$T/blob1")
req -X PUT "$LOC&digest=$D1"
check "PUT ?digest=: 201" eq "$CODE" 201
check "  Docker-Content-Digest" eq "$(header Docker-Content-Digest)" "$D1"
req "$P/v2/plain/app/blobs/$D1"
check "read back through the proxy: same sha256" eq "$(digest "$B")" "$D1"
req -I "$P/v2/plain/app/blobs/$D1"
check "HEAD: 200 with the blob's Content-Length" eq "$CODE $(header Content-Length)" "200 301000"
start plain/mono
D2=$(digest "$T/f5000")
req -X PUT "${OCTET[@]}" -H 'Expect: 100-continue' --data-binary "@$T/f5000" "$LOC&digest=$D2"
check "monolithic PUT with Expect: 100-continue: 201" eq "$CODE" 201
check "  the proxy sent the 100" grep -q '^HTTP/1.1 100' "$H"
check "keep-alive: 2nd request on the same connection" \
    eq "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$P/v2/" "$P/v2/")" "1 0 "
PROXY_PID=$(ss -Hltnp "sport = :${OCIPUSH_TEST_FAULTS##*:}" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p')
# Upstream keep-alive: 3 requests on one client connection (bash's /dev/tcp)
# open no upstream connection after the first one's.
upstream_ports() { # local ports of the proxy's connections to the registry
    ss -Htnp state established "( dport = :${OCIPUSH_TEST_REGISTRY##*:} )" |
        awk -v p="pid=$PROXY_PID," 'index($0, p) { n = split($3, a, ":"); print a[n] }' | sort
}
get_v2() { # GET /v2/ on fd 3; prints the status line (the answer's body is "{}")
    local line status
    printf 'GET /v2/ HTTP/1.1\r\nHost: %s\r\n\r\n' "$OCIPUSH_TEST_FAULTS" >&3
    IFS= read -r -t 5 status <&3
    while IFS= read -r -t 5 line <&3 && [[ $line != $'\r' ]]; do :; done
    read -r -t 5 -N 2 line <&3
    echo "${status%$'\r'}"
}
exec 3<>"/dev/tcp/127.0.0.1/${OCIPUSH_TEST_FAULTS##*:}"
S1=$(get_v2)
PORTS1=$(upstream_ports)
S2=$(get_v2) S3=$(get_v2)
check "3 requests on one client connection: all 200" eq "$S1|$S2|$S3" \
    "HTTP/1.1 200 OK|HTTP/1.1 200 OK|HTTP/1.1 200 OK"
PORTS3=$(upstream_ports)
check "  over one upstream connection (still open, no new one)" \
    test -n "$PORTS3" -a -z "$(comm -13 <(echo "$PORTS1") <(echo "$PORTS3"))"
exec 3>&-

echo "== 64 MiB blob"
rss() { sed -n "s/^$1:[[:space:]]*\\([0-9]*\\) kB/\\1/p" "/proc/$PROXY_PID/status"; }
echo "     proxy (pid $PROXY_PID) RSS before: $(($(rss VmRSS) / 1024)) MiB"
start plain/big
req -X PATCH "${OCTET[@]}" -T "$T/f64m" "$LOC"
LOC=$(header Location)
check "PATCH 64 MiB (-T, Expect: 100-continue): 202" eq "$CODE $(header Range)" "202 0-67108863"
echo "     took $SECS s"
D3=$(digest "$T/f64m")
req -X PUT "$LOC&digest=$D3"
check "  PUT ?digest=: 201" eq "$CODE" 201
req "$P/v2/plain/big/blobs/$D3"
check "  read back: same sha256" eq "$(digest "$B")" "$D3"
echo "     took $SECS s"
HWM=$(rss VmHWM)
echo "     proxy's peak RSS: $((HWM / 1024)) MiB"
check "  the proxy's peak RSS stayed under 40 MiB" test "$HWM" -lt 40960

echo "== reset-patch-N / reset-put-N"
start faults/reset-patch-1000/app
patch "$T/f5000"
check "1st PATCH of 5000 bytes: connection reset (curl exit 56), no answer" eq "$RC $CODE" "56 000"
check "  by a RST" grep -q 'reset by peer' "$T/curl.err"
check "  logged" eq "$(lastlog)" "$(logline PATCH "$UPATH" 0 reset-patch-1000 5000 none)"
check "  upstream got exactly 1000 bytes" eq "$(updata "${UPATH##*/}")" 1000
start faults/reset-patch-1000/app
patch "$T/f5000"
check "  2nd PATCH: forwarded, 202" eq "$CODE $(header Range)" "202 0-4999"
start faults/reset-patch-100/app
patch "$T/f5000" "${CHUNKED[@]}"
check "chunked PATCH: reset too" eq "$RC $CODE" "56 000"
check "  upstream got exactly 100 bytes" eq "$(updata "${UPATH##*/}")" 100
start faults/reset-put-2000/app
req -X PATCH "$LOC" # a PATCH without a body does not count
LOC=$(header Location)
req -X PUT "${OCTET[@]}" --data-binary "@$T/f5000" "$LOC&digest=$D2"
check "1st PUT with a body: reset" eq "$RC $CODE" "56 000"
check "  upstream got exactly 2000 bytes" eq "$(updata "${UPATH##*/}")" 2000
start faults/reset-put-2000/app
req -X PUT "${OCTET[@]}" --data-binary "@$T/f5000" "$LOC&digest=$D2"
check "  2nd PUT: 201" eq "$CODE" 201

echo "== status-S-M-K, retryafter-T, retrydate-T"
for s in 408 429 500 502 503 504; do
    req "$P/v2/faults/status-$s-get-1/app/tags/list"
    check "status-$s-get-1: GET answered $s" eq "$CODE $(body)" "$s $(json UNAVAILABLE injected)"
done
req "$P/v2/faults/status-504-get-1/app/tags/list"
check "  2nd GET forwarded (404 NAME_UNKNOWN upstream)" eq "$CODE" 404
start faults/status-503-patch-2.retryafter-7/app
check "status-503-patch-2.retryafter-7: POST untouched" eq "$CODE" 202
patch "$T/f1000" -H 'Content-Range: 0-999'
check "  1st PATCH: 503 + JSON" eq "$CODE $(body)" "503 $(json UNAVAILABLE injected)"
check "  Retry-After: 7, JSON content type" eq "$(header Retry-After) $(header Content-Type)" "7 application/json"
check "  logged, body read" \
    eq "$(lastlog)" "$(logline PATCH "$UPATH" 503 status-503-patch-2,retryafter-7 1000 0-999)"
check "  2nd PATCH: 503, and the connection is kept for the next request" eq "$(curl -s -o /dev/null \
    -w '%{http_code} %{num_connects} ' -X PATCH "${OCTET[@]}" --data-binary "@$T/f1000" "$LOC" \
    --next -s -o /dev/null -w '%{http_code} %{num_connects}' "$P/v2/")" "503 1 200 0"
patch "$T/f1000" -H 'Content-Range: 0-999'
check "  3rd PATCH: forwarded, 202" eq "$CODE" 202
start faults/status-503-patch-1/app
patch "$T/f5000" -H 'Expect: 100-continue'
check "with Expect: 100-continue: 503 without a 100, connection closed" \
    eq "$CODE $(header Connection) $(grep -c '^HTTP/1.1 100' "$H")" "503 close 0"
check "  body not read" eq "$(lastlog)" "$(logline PATCH "$UPATH" 503 status-503-patch-1 0 none)"
start faults/status-429-any-1.retrydate-30/app
check "status-429-any-1.retrydate-30: POST 429" eq "$CODE" 429
when=$(date -d "$(header Retry-After)" +%s 2>/dev/null || echo 0)
check "  Retry-After is an HTTP date ~30 s ahead" test $((when - $(date +%s))) -ge 25 -a $((when - $(date +%s))) -le 31
check "  in IMF-fixdate form" grep -Eq '^Retry-After: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT' "$H"
check "status-500-head-1: HEAD 500 (no body: the next request on the connection works)" \
    eq "$(curl -s -o /dev/null -w '%{http_code} %{num_connects} ' -I "$P/v2/faults/status-500-head-1/app/blobs/$D1" \
        --next -s -o /dev/null -w '%{http_code} %{num_connects}' "$P/v2/")" "500 1 200 0"

echo "== code-CODE-M-K"
start faults/code-blob_upload_invalid-patch-1/app
patch "$T/f1000"
check "1st PATCH: 400 BLOB_UPLOAD_INVALID" eq "$CODE $(body)" "400 $(json BLOB_UPLOAD_INVALID injected)"
patch "$T/f1000"
check "  2nd PATCH: 202" eq "$CODE" 202
start faults/status-503-patch-1.code-digest_invalid-patch-1/app
patch "$T/f1000"
A=$CODE
patch "$T/f1000"
B2="$CODE $(body)"
patch "$T/f1000"
check "faults act in SPEC order: 503, then 400 DIGEST_INVALID, then 202" \
    eq "$A $B2 $CODE" "503 400 $(json DIGEST_INVALID injected) 202"

echo "== stall-M-S"
req --max-time 10 "$P/v2/faults/stall-get-1/app/tags/list"
check "stall-get-1: no answer, connection closed after 1 s (curl exit 52)" eq "$RC $CODE" "52 000"
check "  after >= 1 s (took $SECS s)" awk "BEGIN { exit !($SECS >= 1) }"
check "  logged" eq "$(lastlog)" "$(logline GET /v2/faults/stall-get-1/app/tags/list 0 stall-get-1 0 none)"
req --max-time 10 "$P/v2/faults/stall-get-1/app/tags/list"
check "  2nd GET: forwarded" eq "$CODE" 404
start faults/stall-patch-5/app
patch "$T/f1000" --max-time 0.5
check "stall-patch-5: a client with a 0.5 s timeout gives up (curl exit 28)" eq "$RC $CODE" "28 000"
patch "$T/f1000"
check "  2nd PATCH: 202" eq "$CODE" 202

echo "== patch201, rangestuck, rangebytes, statusquay"
start faults/patch201.rangestuck/app
check "patch201.rangestuck: POST untouched (202, Range 0-0)" eq "$CODE $(header Range)" "202 0-0"
patch "$T/f1000" -H 'Content-Range: 0-999'
check "  PATCH 0-999: 201, Range 0-999" eq "$CODE $(header Range)" "201 0-999"
check "  logged" eq "$(lastlog)" "$(logline PATCH "$UPATH" 201 patch201,rangestuck 1000 0-999)"
patch "$T/f1000" -H 'Content-Range: 1000-1999'
check "  PATCH 1000-1999: 201, Range still 0-999" eq "$CODE $(header Range)" "201 0-999"
req "${LOC/$OCIPUSH_TEST_FAULTS/$OCIPUSH_TEST_REGISTRY}"
check "  (the registry itself says 0-1999)" eq "$(header Range)" 0-1999
cat "$T/f1000" "$T/f1000" >"$T/blob2"
req -X PUT "$LOC&digest=$(digest "$T/blob2")"
check "  PUT: 201" eq "$CODE" 201
start faults/rangebytes/app
check "rangebytes: POST Range bytes=0-0" eq "$(header Range)" bytes=0-0
patch "$T/f1000"
check "  PATCH Range bytes=0-999" eq "$(header Range)" bytes=0-999
start faults/statusquay/app
check "statusquay: POST 202 with Range 0--1" eq "$CODE $(header Range)" "202 0--1"
patch "$T/f1000"
check "  PATCH untouched: Range 0-999" eq "$(header Range)" 0-999

echo "== chunkcap-N, chunkcap413-N, bodycap-N, monocap-N"
TOOBIG=$(json SIZE_INVALID 'request body is too large (over 1000 bytes)')
start faults/chunkcap-1000/app
patch "$T/f1001"
check "chunkcap-1000: PATCH of 1001 bytes: 416 SIZE_INVALID" eq "$CODE $(body)" "416 $TOOBIG"
patch "$T/f1001" "${CHUNKED[@]}"
check "  chunked: 416 too" eq "$CODE $(body)" "416 $TOOBIG"
check "  logged, body read" eq "$(lastlog)" "$(logline PATCH "$UPATH" 416 chunkcap-1000 1001 none)"
patch "$T/f5000" -H 'Expect: 100-continue'
check "  with Expect: 416 without a 100, closed" eq "$CODE $(header Connection) $(grep -c '^HTTP/1.1 100' "$H")" \
    "416 close 0"
patch "$T/f1000" "${CHUNKED[@]}"
check "  chunked PATCH of 1000 bytes: forwarded, 202" eq "$CODE $(header Range)" "202 0-999"
start faults/chunkcap413-1000/app
patch "$T/f1001"
check "chunkcap413-1000: 413" eq "$CODE $(body)" "413 $TOOBIG"
start faults/bodycap-1000/app
req -X POST "${OCTET[@]}" --data-binary "@$T/f1001" "$P/v2/faults/bodycap-1000/app/blobs/uploads/"
check "bodycap-1000: POST with 1001 bytes: 413, HTML" eq "$CODE $(header Content-Type)" "413 text/html"
req -X PUT "${OCTET[@]}" --data-binary "@$T/f5000" "$LOC&digest=$D2"
check "  PUT with 5000 bytes: 413" eq "$CODE" 413
patch "$T/f1000"
check "  PATCH of 1000 bytes: 202" eq "$CODE" 202
start faults/monocap-1000/app
req -X PUT "${OCTET[@]}" --data-binary "@$T/f1001" "$LOC&digest=$(digest "$T/f1001")"
check "monocap-1000: PUT of 1001 bytes: 400 BLOB_UPLOAD_INVALID" \
    eq "$CODE $(body)" "400 $(json BLOB_UPLOAD_INVALID 'too large')"
patch "$T/f5000"
check "  PATCH of 5000 bytes: 202" eq "$CODE" 202
start faults/monocap-1000/app
req -X PUT "${OCTET[@]}" --data-binary "@$T/f1000" "$LOC&digest=$(digest "$T/f1000")"
check "  PUT of 1000 bytes: 201" eq "$CODE" 201

echo "== nocontentrange, nochunked"
start faults/nocontentrange/app
patch "$T/f1000" -H 'Content-Range: 0-999'
check "nocontentrange: PATCH with Content-Range: 400 UNSUPPORTED" \
    eq "$CODE $(body)" "400 $(json UNSUPPORTED 'chunked upload not supported')"
patch "$T/f1000"
check "  without: 202" eq "$CODE" 202
start faults/nochunked/app
patch "$T/f1000" "${CHUNKED[@]}"
check "nochunked: chunked PATCH: 411" eq "$CODE" 411
patch "$T/f1000"
check "  Content-Length PATCH: 202" eq "$CODE" 202

echo "== chunkmin-N"
start faults/chunkmin-1000/app
check "chunkmin-1000: POST has OCI-Chunk-Min-Length: 1000" eq "$(header OCI-Chunk-Min-Length)" 1000
patch "$T/f500" -H 'Content-Range: 0-499'
patch "$T/f1000" -H 'Content-Range: 500-1499'
patch "$T/f200" -H 'Content-Range: 1500-1699'
cat "$T/f500" "$T/f1000" "$T/f200" >"$T/blob3"
req -X PUT "$LOC&digest=$(digest "$T/blob3")"
check "  PATCHes 500, 1000, 200 bytes + PUT: 201" eq "$CODE" 201
check "  one violation logged: the short chunk that was not the last" \
    eq "$(grep '^chunkmin-violation' "$LOG")" "chunkmin-violation $UPATH content_range=0-499 bytes_in=500 min=1000"

echo "== unknown fault"
req -X POST "$P/v2/faults/nosuchfault/app/blobs/uploads/"
check "faults/nosuchfault: 400 UNSUPPORTED" \
    eq "$CODE $(body)" "400 $(json UNSUPPORTED 'faultproxy: unknown fault nosuchfault')"

echo "$pass passed, $fail failed"
((fail == 0))
