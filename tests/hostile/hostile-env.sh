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
# Forget the readiness probes (both servers append, so this is safe).
: >"$LOG"
: >"$REC_LOG"

export OCIPUSH_TEST_HOSTILE=127.0.0.1:$HOSTILE_PORT
export OCIPUSH_TEST_HOSTILE_LOG=$LOG
export OCIPUSH_TEST_RECORDER=127.0.0.1:$REC_PORT
export OCIPUSH_TEST_RECORDER_LOG=$REC_LOG
export OCIPUSH_TEST_DEAD=127.0.0.1:$(pick_port)
export OCIPUSH_TEST_TMP=$TMP

rc=0
"$@" || rc=$?
exit "$rc"
