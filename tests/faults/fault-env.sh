#!/usr/bin/env bash
# Usage: tests/faults/fault-env.sh CMD [ARGS...]
#
# Runs CMD with its own throw-away servers, all on 127.0.0.1, and exits with
# CMD's status:
#   OCIPUSH_TEST_REGISTRY   docker-registry (distribution 2.8), filesystem storage
#   OCIPUSH_TEST_FAULTS     faultproxy.py in front of it: repositories named
#                           faults/<SPEC>/... get the faults in SPEC (see there)
#   OCIPUSH_TEST_FAULT_LOG  the proxy's log, one line per request (empty at start)
#   OCIPUSH_TEST_DEAD       a port where nothing listens
#   OCIPUSH_TEST_TMP        scratch dir (it also holds the servers' files and logs);
#                           removed on exit unless OCIPUSH_TEST_KEEP=1

# SC2317: cleanup and the *_conf functions are only called via trap / by name.
# shellcheck disable=SC2317
set -euo pipefail

die() { echo "fault-env: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python on purpose: a pyenv python may come first on PATH.
PY=/usr/bin/python3
command -v docker-registry >/dev/null || die "docker-registry not found; install the Debian package 'docker-registry'"
command -v curl >/dev/null || die "curl not found; install the Debian package 'curl'"
command -v ss >/dev/null || die "ss not found; install the Debian package 'iproute2'"
[[ -x $PY ]] || die "$PY not found; install the Debian package 'python3'"
[[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocipush-faults.XXXXXX")
PIDS='' # servers we started and have not reaped yet, newest first

cleanup() {
    local pid
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${OCIPUSH_TEST_KEEP:-} == 1 ]]; then
        echo "fault-env: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
# Signals become a normal exit so the EXIT trap cleans up (see registry-env.sh).
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# A port nobody listens on and that we have not handed out yet (below the
# default ephemeral range 32768-60999).
USED=' '
pick_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12768))
        [[ $USED == *" $p "* ]] && continue
        [[ -z $(ss -Hltn "sport = :$p") ]] || continue
        USED+="$p "
        echo "$p"
        return
    done
}

# wait_ready PID PORT URL: bounded (~15 s) poll until URL answers 2xx AND the
# socket listening on PORT belongs to PID (not a parallel run's server).
wait_ready() {
    local pid=$1 port=$2 url=$3 deadline=$(($(now_us) + 15000000))
    while (($(now_us) < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1 # died (e.g. port taken)
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null &&
            [[ $(ss -Hltnp "sport = :$port") == *"pid=$pid,"* ]]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# start_server NAME CONF CMD...: picks a port, runs "CONF PORT" (word-split, may
# be ':'), starts CMD with each @PORT@ in it replaced, waits until
# http://127.0.0.1:PORT/v2/ answers; up to 5 tries. Its output goes to
# $TMP/NAME.log. Sets PORT and PID.
start_server() {
    local name=$1 conf=$2 try log=$TMP/$1.log
    shift 2
    for try in 1 2 3 4 5; do
        PORT=$(pick_port)
        $conf "$PORT"
        "${@//@PORT@/$PORT}" </dev/null >>"$log" 2>&1 &
        PID=$!
        PIDS="$PID $PIDS"
        wait_ready "$PID" "$PORT" "http://127.0.0.1:$PORT/v2/" && return 0
        echo "fault-env: $name on port $PORT failed to start (try $try)" >&2
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PIDS=${PIDS#"$PID "}
    done
    echo "fault-env: giving up on $name; tail of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
}

registry_conf() {
    cat >"$TMP/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $TMP/storage}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: 127.0.0.1:$1}
EOF
}

start_server registry registry_conf docker-registry serve "$TMP/registry.yml"
REG_PORT=$PORT

LOG=$TMP/faults.log
start_server faultproxy : "$PY" "$HERE/faultproxy.py" @PORT@ "127.0.0.1:$REG_PORT" "$LOG"
FAULT_PORT=$PORT
: >"$LOG" # forget the readiness probes (the proxy appends, so this is safe)

DEAD_PORT=$(pick_port)

export OCIPUSH_TEST_REGISTRY=127.0.0.1:$REG_PORT
export OCIPUSH_TEST_FAULTS=127.0.0.1:$FAULT_PORT
export OCIPUSH_TEST_FAULT_LOG=$LOG
export OCIPUSH_TEST_DEAD=127.0.0.1:$DEAD_PORT
export OCIPUSH_TEST_TMP=$TMP

rc=0
"$@" || rc=$?
exit "$rc"
