#!/usr/bin/env bash
# Usage: tests/registry-env.sh CMD [ARGS...]
#
# Runs CMD with its own throw-away servers, all on 127.0.0.1:
#   OCIPUSH_TEST_REGISTRY  docker-registry (distribution 2.8), filesystem storage
#   OCIPUSH_TEST_PROXY     nginx in front of it that answers 400 to any request
#                          carrying Transfer-Encoding (no chunked bodies allowed)
#   OCIPUSH_TEST_DEAD      a port where nothing listens
#   OCIPUSH_TEST_TMP       scratch dir (it also holds the servers' files and logs);
#                          removed on exit unless OCIPUSH_TEST_KEEP=1
# Exits with CMD's exit status.

# SC2317: cleanup and the *_conf functions are only called via trap / by name.
# shellcheck disable=SC2317
set -euo pipefail

die() { echo "registry-env: $*" >&2; exit 1; }

command -v docker-registry >/dev/null || die "docker-registry not found; install the Debian package 'docker-registry'"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "nginx not found; install the Debian package 'nginx-light' (or 'nginx')"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v curl >/dev/null || die "curl not found; install the Debian package 'curl'"
command -v ss >/dev/null || die "ss not found; install the Debian package 'iproute2'"
[[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocipush-test.XXXXXX")
PIDS='' # servers we started and have not reaped yet, newest first

cleanup() {
    local pid
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${OCIPUSH_TEST_KEEP:-} == 1 ]]; then
        echo "registry-env: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap does the cleanup. (While
# CMD runs in the foreground, bash runs these traps only once CMD has exited;
# a process-group signal such as Ctrl-C or meson's timeout reaches CMD too.)
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# A port nobody listens on (any address) and that we have not handed out yet.
# 20000-32767 stays below Linux's default ephemeral range (32768-60999).
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
# socket listening on PORT belongs to PID. The ownership check matters when
# parallel runs race for one port: our server dies on bind, but curl could
# briefly succeed against the other run's server.
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

# start_server NAME LOG CONF_FUNC CMD...: picks a port, writes the config via
# CONF_FUNC PORT, starts CMD in the background, waits; up to 5 tries.
# Sets PORT and PID.
start_server() {
    local name=$1 log=$2 conf=$3 try
    shift 3
    for try in 1 2 3 4 5; do
        PORT=$(pick_port)
        "$conf" "$PORT"
        "$@" </dev/null >>"$log" 2>&1 &
        PID=$!
        PIDS="$PID $PIDS"
        wait_ready "$PID" "$PORT" "http://127.0.0.1:$PORT/v2/" && return 0
        echo "registry-env: $name on port $PORT failed to start (try $try)" >&2
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PIDS=${PIDS#"$PID "}
    done
    echo "registry-env: giving up on $name; tail of $log:" >&2
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

# Every path nginx may write is under $TMP, so /var/lib/nginx and
# /var/log/nginx are never touched. master_process off: one process, our PID.
nginx_conf() {
    cat >"$TMP/nginx.conf" <<EOF
daemon off;
master_process off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $TMP/nginx-access.log;
    client_body_temp_path $TMP/nginx-tmp/body;
    proxy_temp_path $TMP/nginx-tmp/proxy;
    fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
    scgi_temp_path $TMP/nginx-tmp/scgi;
    server {
        listen 127.0.0.1:$1;
        # The point of this proxy: refuse chunked (Transfer-Encoding) request
        # bodies before they reach the registry.
        if (\$http_transfer_encoding) { return 400; }
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        # The registry builds absolute Location URLs from Host; passing the
        # client's Host (with port) makes them point back at the proxy.
        proxy_set_header Host \$http_host;
        location / { proxy_pass http://127.0.0.1:$REG_PORT; }
    }
}
EOF
}

start_server docker-registry "$TMP/registry.log" registry_conf \
    docker-registry serve "$TMP/registry.yml"
REG_PORT=$PORT

mkdir -p "$TMP/nginx-tmp"
start_server nginx "$TMP/nginx-error.log" nginx_conf \
    "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/nginx-error.log"
NGX_PORT=$PORT

DEAD_PORT=$(pick_port)

export OCIPUSH_TEST_REGISTRY=127.0.0.1:$REG_PORT
export OCIPUSH_TEST_PROXY=127.0.0.1:$NGX_PORT
export OCIPUSH_TEST_DEAD=127.0.0.1:$DEAD_PORT
export OCIPUSH_TEST_TMP=$TMP

rc=0
"$@" || rc=$?
exit "$rc"
