#!/usr/bin/env bash
# The CLI cancelled by SIGINT or SIGTERM in the middle of a push: the open
# upload sessions are deleted, nothing is committed or tagged, and the exit
# status is 128 + the signal. Run through tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_cli.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What the modes of modes/cli.py write once an upload is under way.
STARTED=$OCIPUSH_TEST_HOSTILE_LOG.cli-started
before_case() {
    : >"$OCIPUSH_TEST_HOSTILE_LOG"
    : >"$OCIPUSH_TEST_RECORDER_LOG"
    : >"$STARTED"
    rm -rf "$DOCKER_CONFIG"
}

# start_ocipush ARGS...: ocipush in the background (its PID in BG), stdout
# and stderr to $WORK/out and $WORK/err. A script's background job starts
# with SIGINT ignored, and ocipush keeps an ignored signal ignored: env
# gives it the default disposition, as an interactive shell would.
start_ocipush() {
    # shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
    env --default-signal=INT ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" "$@" >"$WORK/out" 2>"$WORK/err" &
    BG=$!
}

# wait_lines FILE PATTERN N: bounded polling until FILE has N lines matching
# PATTERN; fails if ocipush ends first or after 120 s.
wait_lines() {
    local i n
    for ((i = 0; i < 1200; i++)); do
        n=$(grep -c -- "$2" "$1" 2>/dev/null) || true
        [[ ${n:-0} -ge $3 ]] && return 0
        kill -0 "$BG" 2>/dev/null || fail "ocipush ended before '$2' x$3 in $1: $(cat "$WORK/err")"
        sleep 0.1
    done
    fail "no '$2' x$3 in $1 after 120 s"
}

# wait_log_count METHOD PATH_REGEX N: bounded polling until the hostile log
# has N such requests (it logs a request after answering it).
wait_log_count() {
    local i
    for ((i = 0; i < 300; i++)); do
        [[ $(hostile_count "$1" "$2") -ge $3 ]] && return 0
        sleep 0.1
    done
    fail "the registry saw $(hostile_count "$1" "$2") $1 $2, not $3"
}

# signal_and_wait SIGNAL STATUS: send SIGNAL, wait for ocipush, check STATUS.
signal_and_wait() {
    local rc=0
    kill -s "$1" "$BG"
    wait "$BG" || rc=$?
    check_eq "exit status after SIG$1 ($(cat "$WORK/err"))" "$2" "$rc"
}

# upload_gone PATH: the registry no longer knows the upload session at PATH.
upload_gone() {
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$H${1%%\?*}")
    check_eq "upload session ${1%%\?*} after the cancel" 404 "$code"
}

# check_cancelled REPO FILE...: every upload that was under way was deleted,
# none of the files' blobs landed, no manifest was pushed, no tag.
check_cancelled() {
    local repo=$1 path f
    shift
    wait_log_count DELETE "^/v2/$repo/blobs/uploads/." "$(wc -l <"$STARTED")"
    while read -r _ _ path; do
        [[ $(hostile_count DELETE "^${path%%\?*}\$") == 1 ]] ||
            fail "no DELETE of the upload session ${path%%\?*}"
        upload_gone "$path"
    done <"$STARTED"
    check_eq "manifest PUTs" 0 "$(hostile_count PUT '/manifests/')"
    hostile_tag_exists "$repo" v1 && fail "tagged after the cancel" || [[ $? == 1 ]]
    for f in "$@"; do
        check_eq "blob of $(basename "$f") after the cancel" 404 \
            "$(curl -sS -o /dev/null -w '%{http_code}' -I "http://$H/v2/$repo/blobs/$(sha_of "$f")")"
    done
}

case_sigint_during_upload() {
    local f
    f=$(make_file int.bin 5000000) # above 4 MiB: one PATCH with the whole blob
    start_ocipush --plain-http push "$H/hostile/stallbody/int:v1" "$f"
    wait_lines "$STARTED" stalled 1
    signal_and_wait INT 130
    check_cancelled hostile/stallbody/int "$f"
    grep -q "cancelled by SIGINT" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
}

case_sigterm_parallel_push() {
    local a b c
    a=$(make_file term-a.bin 1000000) b=$(make_file term-b.bin 1000001) c=$(make_file term-c.bin 1000002)
    start_ocipush --plain-http --concurrency 3 push "$H/hostile/stallbody/term:v1" "$a" "$b" "$c"
    wait_lines "$STARTED" stalled 3 # one upload on each worker thread
    signal_and_wait TERM 143
    check_cancelled hostile/stallbody/term "$a" "$b" "$c"
    grep -q "cancelled by SIGTERM" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
}

case_sigint_during_retry_wait() {
    local f
    f=$(make_file wait.bin 5000000)
    # The 503 asks for ten minutes (Retry-After: 600) with the session open.
    start_ocipush --plain-http -v push "$H/hostile/patch503/wait:v1" "$f"
    wait_lines "$WORK/err" "a chunk failed; retry 1 of" 1
    signal_and_wait INT 130
    check_cancelled hostile/patch503/wait "$f"
}

# A signal while a docker-credential helper runs (the session being made):
# ocipush does not end under the running helper, it cancels the session,
# waits for the helper, and the push that follows stops before it commits
# anything. The helper holds on a FIFO the test opens only after the
# signal, so the order is fixed: the signal comes while the helper runs.
case_sigterm_during_credential_helper() {
    local f hold=$WORK/hold rc=0
    f=$(make_file helper.bin 5000000)
    rm -rf "$hold" && mkdir -p "$hold" "$WORK/bin" "$DOCKER_CONFIG" && mkfifo "$hold/fifo"
    printf '#!/bin/sh\necho started >"%s/started"\nread -r go <"%s/fifo"\necho done >"%s/done"\nexit 1\n' \
        "$hold" "$hold" "$hold" >"$WORK/bin/docker-credential-hold"
    chmod +x "$WORK/bin/docker-credential-hold"
    printf '{"credHelpers":{"%s":"hold"}}' "$H" >"$DOCKER_CONFIG/config.json"
    PATH="$WORK/bin:$PATH" start_ocipush --plain-http push "$H/hostile/stallbody/helper:v1" "$f"
    wait_lines "$hold/started" started 1
    kill -s TERM "$BG"
    echo go >"$hold/fifo" # the helper goes on, and ends
    wait "$BG" || rc=$?
    check_eq "exit status after SIGTERM ($(cat "$WORK/err"))" 143 "$rc"
    grep -q "push cancelled by SIGTERM" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
    [[ -e $hold/done ]] || fail "ocipush ended before its credential helper"
    check_cancelled hostile/stallbody/helper "$f"
}

case_deadline_during_upload() {
    local f rc=0
    f=$(make_file deadline.bin 5000000)
    # The PATCH is never answered: the call's deadline ends it, and the
    # cleanup that follows is not refused for the deadline having passed.
    ocipush --plain-http --timeout 2s push "$H/hostile/stallbody/dl:v1" "$f" >"$WORK/out" 2>"$WORK/err" || rc=$?
    check_eq "exit status ($(cat "$WORK/err"))" 1 "$rc"
    grep -q "deadline" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
    check_cancelled hostile/stallbody/dl "$f"
}

run_case "SIGINT during an upload: the session is deleted, exit 130, no tag" case_sigint_during_upload
run_case "SIGTERM during a parallel push: every session is deleted, exit 143" case_sigterm_parallel_push
run_case "SIGINT during a retry wait ends it: the session is deleted, exit 130" case_sigint_during_retry_wait
run_case "SIGTERM while a credential helper runs: it is waited for, exit 143, no tag" case_sigterm_during_credential_helper
run_case "the deadline passing during an upload still deletes the session, no tag" case_deadline_during_upload
finish
