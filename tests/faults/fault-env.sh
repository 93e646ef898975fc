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

# shellcheck source=../servers.sh
source "$HERE/../servers.sh"
servers_begin fault-env ocipush-faults
WAIT_CURL_OPTS=()

registry_conf() {
    cat >"$TMP/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $TMP/storage}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: 127.0.0.1:$1}
EOF
}

start_server registry "$TMP/registry.log" registry_conf "http://127.0.0.1:@PORT@/v2/" \
    docker-registry serve "$TMP/registry.yml"
REG_PORT=$PORT

LOG=$TMP/faults.log
start_server faultproxy "$TMP/faultproxy.log" : "http://127.0.0.1:@PORT@/v2/" \
    "$PY" "$HERE/faultproxy.py" @PORT@ "127.0.0.1:$REG_PORT" "$LOG"
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
