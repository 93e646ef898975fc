# shellcheck shell=bash
# The plumbing the *-env.sh scripts share: a temp dir, servers on free ports of
# 127.0.0.1 that are waited for by bounded polling and stopped by PID on exit.
#
#   servers_begin NAME PREFIX   messages say NAME; TMP=$(mktemp -d .../PREFIX.XXXXXX)
#   pick_port                   a free port not handed out yet
#   start_server NAME LOG CONF URL CMD...
#                               picks a port, runs CONF PORT (':' for none),
#                               starts CMD (@PORT@ replaced) in the background,
#                               waits until URL (@PORT@ replaced) answers; up to
#                               5 tries. Sets PORT and PID. URL '-': the
#                               listening socket is enough; WAIT_ANY_STATUS=1:
#                               any HTTP answer counts (servers that answer
#                               401); WAIT_CURL_OPTS: extra curl options (TLS).
# SC2317: cleanup is only called through the trap.
# shellcheck disable=SC2317

servers_begin() {
    ENV_NAME=$1
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
    PIDS='' # servers started and not reaped yet, newest first
    USED=' '
    trap servers_cleanup EXIT
    # Turn signals into a normal exit so the EXIT trap does the cleanup. (While
    # CMD runs in the foreground, bash runs these traps only once CMD has
    # exited; a process-group signal such as Ctrl-C or meson's timeout reaches
    # CMD too.)
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

servers_cleanup() {
    local pid
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${OCIPUSH_TEST_KEEP:-} == 1 ]]; then
        echo "$ENV_NAME: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# 20000-32767 stays below Linux's default ephemeral range (32768-60999).
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

# wait_ready PID PORT URL: bounded (~15 s) poll until the socket listening on
# PORT belongs to PID and URL answers. The ownership check matters when
# parallel runs race for one port: our server dies on bind, but curl could
# briefly reach the other run's server.
wait_ready() {
    local pid=$1 port=$2 url=$3 deadline=$(($(now_us) + 15000000)) code
    while (($(now_us) < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1 # died (e.g. port taken)
        if [[ $(ss -Hltnp "sport = :$port") == *"pid=$pid,"* ]]; then
            [[ $url == - ]] && return 0
            code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "${WAIT_CURL_OPTS[@]}" \
                "$url" 2>/dev/null || true)
            [[ $code == 2?? || (${WAIT_ANY_STATUS:-0} == 1 && $code != 000) ]] && return 0
        fi
        sleep 0.05
    done
    return 1
}

start_server() {
    local name=$1 log=$2 conf=$3 url=$4 try
    shift 4
    for try in 1 2 3 4 5; do
        PORT=$(pick_port)
        $conf "$PORT"
        "${@//@PORT@/$PORT}" </dev/null >>"$log" 2>&1 &
        PID=$!
        PIDS="$PID $PIDS"
        wait_ready "$PID" "$PORT" "${url//@PORT@/$PORT}" && return 0
        echo "$ENV_NAME: $name on port $PORT failed to start (try $try)" >&2
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PIDS=${PIDS#"$PID "}
    done
    echo "$ENV_NAME: giving up on $name; tail of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
}
