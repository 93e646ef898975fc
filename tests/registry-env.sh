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

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=servers.sh
source "$HERE/servers.sh"
servers_begin registry-env ocipush-test
WAIT_CURL_OPTS=()

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

start_server docker-registry "$TMP/registry.log" registry_conf "http://127.0.0.1:@PORT@/v2/" \
    docker-registry serve "$TMP/registry.yml"
REG_PORT=$PORT

mkdir -p "$TMP/nginx-tmp"
start_server nginx "$TMP/nginx-error.log" nginx_conf "http://127.0.0.1:@PORT@/v2/" \
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
