#!/usr/bin/env bash
# Usage: tests/hostile/hostile-env.sh CMD [ARGS...]
#
# Runs CMD with a hostile fake registry and a recorder standing for another
# origin, both on 127.0.0.1 (free ports, stopped by PID), and exits with
# CMD's status:
#   OCIPUSH_TEST_HOSTILE       hostile.py: an in-memory registry whose
#                              repositories hostile/<MODES>/... misbehave (see
#                              hostile.py and modes/)
#   OCIPUSH_TEST_HOSTILE_LOG   its log, one JSON line per request (empty at start)
#   OCIPUSH_TEST_RECORDER      recorder.py (tests/auth): logs every request with
#                              all its headers, answers 401
#   OCIPUSH_TEST_RECORDER_LOG  its log, one JSON line per request (empty at start)
#   OCIPUSH_TEST_HOSTILE_TLS   the same registry over https (a process of its
#                              own, memory apart), whose "other origin" is the
#                              plain hostile registry: modes can name an http
#                              host there
#   OCIPUSH_TEST_HOSTILE_TLS_LOG  its log
#   OCIPUSH_TEST_HOSTILE_CA    its self-signed certificate (for 127.0.0.1), to
#                              trust with --ca-file / curl --cacert
#   OCIPUSH_TEST_DEAD          a port where nothing listens
#   OCIPUSH_TEST_TMP           scratch dir; removed on exit unless OCIPUSH_TEST_KEEP=1
set -euo pipefail

die() { echo "hostile-env: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python on purpose: a pyenv python may come first on PATH.
PY=/usr/bin/python3
command -v curl >/dev/null || die "curl not found; install the Debian package 'curl'"
command -v ss >/dev/null || die "ss not found; install the Debian package 'iproute2'"
[[ -x $PY ]] || die "$PY not found; install the Debian package 'python3'"
command -v openssl >/dev/null || die "openssl not found; install the Debian package 'openssl'"
[[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]"

# shellcheck source=../servers.sh
source "$HERE/../servers.sh"
servers_begin hostile-env ocipush-hostile
WAIT_CURL_OPTS=()

REC_LOG=$TMP/recorder.log
WAIT_ANY_STATUS=1 start_server recorder "$TMP/recorder.out" : "http://127.0.0.1:@PORT@/" \
    "$PY" "$HERE/../auth/recorder.py" @PORT@ "$REC_LOG"
REC_PORT=$PORT

LOG=$TMP/hostile.log
start_server hostile "$TMP/hostile.out" : "http://127.0.0.1:@PORT@/v2/" \
    "$PY" "$HERE/hostile.py" @PORT@ "127.0.0.1:$REC_PORT" "$LOG"
HOSTILE_PORT=$PORT

# A throw-away self-signed certificate (EC P-256, one day) for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout "$TMP/hostile-tls.key" -out "$TMP/hostile-tls.crt" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 >"$TMP/openssl.log" 2>&1 ||
    { cat "$TMP/openssl.log" >&2; die "openssl req failed"; }
TLS_LOG=$TMP/hostile-tls.log
WAIT_CURL_OPTS=(--cacert "$TMP/hostile-tls.crt")
start_server hostile-tls "$TMP/hostile-tls.out" : "https://127.0.0.1:@PORT@/v2/" \
    "$PY" "$HERE/hostile.py" @PORT@ "127.0.0.1:$HOSTILE_PORT" "$TLS_LOG" \
    "$TMP/hostile-tls.crt:$TMP/hostile-tls.key"
TLS_PORT=$PORT
WAIT_CURL_OPTS=()

# Forget the readiness probes (the servers append, so this is safe).
: >"$LOG"
: >"$REC_LOG"
: >"$TLS_LOG"

export OCIPUSH_TEST_HOSTILE=127.0.0.1:$HOSTILE_PORT
export OCIPUSH_TEST_HOSTILE_LOG=$LOG
export OCIPUSH_TEST_RECORDER=127.0.0.1:$REC_PORT
export OCIPUSH_TEST_RECORDER_LOG=$REC_LOG
export OCIPUSH_TEST_HOSTILE_TLS=127.0.0.1:$TLS_PORT
export OCIPUSH_TEST_HOSTILE_TLS_LOG=$TLS_LOG
export OCIPUSH_TEST_HOSTILE_CA=$TMP/hostile-tls.crt
export OCIPUSH_TEST_DEAD=127.0.0.1:$(pick_port)
export OCIPUSH_TEST_TMP=$TMP

rc=0
"$@" || rc=$?
exit "$rc"
