#!/usr/bin/env bash
# Responses that lie or never end (tests/hostile/modes/responses.py): bodies
# cut short are failures, bodies past their cap end the request, every call
# has a deadline, and what a registry says reaches stderr sanitized. Run
# through tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_responses.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# No line of stderr starts with a forged "ocipush:" line, and it has no ESC,
# no CR, no C1 control (raw or UTF-8 encoded), no bidirectional override.
check_stderr_clean() {
    local err=$WORK/err
    ! grep -q '^ocipush: forged' "$err" || fail "a forged line on stderr: $(cat -v "$err")"
    ! LC_ALL=C grep -q $'\x1b' "$err" || fail "ESC on stderr: $(cat -v "$err")"
    ! LC_ALL=C grep -q $'\r' "$err" || fail "CR on stderr: $(cat -v "$err")"
    ! LC_ALL=C grep -q $'\x9b' "$err" || fail "a C1 CSI byte on stderr: $(cat -v "$err")"
    ! LC_ALL=C grep -q $'\xe2\x80\xae' "$err" || fail "U+202E on stderr: $(cat -v "$err")"
}

# A referrer whose subject's manifest GET is cut after 40 of 1000 bytes:
# the push fails and no manifest (with a subject or not) is put.
case_manifest_cut() {
    local f rc
    f=$(make_file cut.bin 300)
    run_ocipush rc --plain-http --retries 1 push --subject v1 "$H/hostile/manifestcut/app:ref" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "manifest GETs of the subject (one retry)" 2 "$(hostile_count GET '/manifests/v1$')"
    check_eq "manifest PUTs" 0 "$(hostile_count PUT '/manifests/')"
    grep -q "cut short" "$WORK/err" || fail "no 'cut short' in: $(cat "$WORK/err")"
    if hostile_tag_exists hostile/manifestcut/app ref; then fail "the referrer was tagged"; fi
}

# A token whose body is cut short is not used.
case_token_cut() {
    local f rc
    f=$(make_file tok.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/tokencut/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "token requests" 1 "$(hostile_count GET '^/responses/token-cut')"
    check_eq "requests with the fragment's token" 0 \
        "$(hostile_header Authorization | grep -c 'fragment-token' || true)"
    grep -q "cut short" "$WORK/err" || fail "no 'cut short' in: $(cat "$WORK/err")"
    # Any Bearer token gets past the mode.
    check_eq "the tag, as served" 404 "$(curl -sS -o /dev/null -w '%{http_code}' -I \
        -H 'Authorization: Bearer probe' "http://$H/v2/hostile/tokencut/app/manifests/v1")"
}

# An error body cut short: the error code in the fragment is not reported.
case_error_cut() {
    local f rc
    f=$(make_file err.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/errorcut/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    ! grep -q "DENIED\|fragment" "$WORK/err" || fail "the fragment was trusted: $(cat "$WORK/err")"
    grep -q "cut short" "$WORK/err" || fail "no 'cut short' in: $(cat "$WORK/err")"
}

# A 500 whose body trickles for ever ends at the deadline. That this case
# ends at all (under meson's timeout) is the check; its time is not asserted.
case_trickle_deadline() {
    local f rc
    f=$(make_file trickle.bin 300)
    run_ocipush rc --plain-http --timeout 3s --retries 1 push "$H/hostile/trickle500/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "deadline (3000 ms) passed" "$WORK/err" || fail "no deadline in: $(cat "$WORK/err")"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/err")"
}

# Parallel workers share the call's deadline: two layers, both uploads
# stuck in a trickling 500, and the push still ends.
case_trickle_parallel() {
    local f1 f2 seed rc
    seed=$(make_file seed.bin 10)
    # The empty config {} goes into the registry first (blobs are shared by
    # all its repositories), so only the layers' uploads trickle.
    run_ocipush rc --plain-http push "$H/plain/seed:v1" "$seed"
    check_eq "seeding exit status" 0 "$rc"
    f1=$(make_file par1.bin 3000)
    f2=$(make_file par2.bin 4000)
    run_ocipush rc --plain-http --timeout 3s --concurrency 2 push "$H/hostile/trickle500/par:v1" \
        "$f1" "$f2"
    check_eq "exit status" 1 "$rc"
    grep -q "deadline (3000 ms) passed" "$WORK/err" || fail "no deadline in: $(cat "$WORK/err")"
}

# A wait before a retry that would outlast the deadline is not waited.
case_wait_past_deadline() {
    local f rc
    f=$(make_file wait.bin 300)
    run_ocipush rc --plain-http --timeout 2s --retries 3 --retry-delay 60000 \
        --retry-max-delay 60000 push "$H/hostile/fail500/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "no retry: the call's deadline (2000 ms) would pass" "$WORK/err" ||
        fail "no deadline in: $(cat "$WORK/err")"
    # The first request (the blob's HEAD) was not tried again.
    check_eq "requests" 1 "$(wc -l <"$OCIPUSH_TEST_HOSTILE_LOG")"
}

# The same in the middle of an upload (a PATCH answered 503 with
# Retry-After: 600, modes/cli.py): the deadline's failure, not "aborted".
case_upload_wait_past_deadline() {
    local f rc
    f=$(make_file upwait.bin 5000000)
    run_ocipush rc --plain-http --timeout 3s --retry-max-delay 600000 \
        push "$H/hostile/patch503/upwait:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "no retry: the call's deadline (3000 ms) would pass" "$WORK/err" ||
        fail "no deadline in: $(cat "$WORK/err")"
    grep -q "aborted" "$WORK/err" && fail "reported as an abort: $(cat "$WORK/err")"
    check_eq "manifest PUTs" 0 "$(hostile_count PUT '/manifests/')"
}

# A 500 with a body that never ends fails on the error-body cap, without a
# deadline given, and is not retried.
case_endless_body_cap() {
    local f rc
    f=$(make_file endless.bin 300)
    run_ocipush rc --plain-http push "$H/hostile/endless500/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "HTTP 500 with a body of more than 65536 bytes" "$WORK/err" ||
        fail "no cap in: $(cat "$WORK/err")"
    check_eq "upload starts" 1 "$(hostile_count POST '/blobs/uploads/$')"
}

# A body that stops moving ends on the idle timeout (a guard: old code ended
# it too, taking the fragment as the answer).
case_stalled_body() {
    local f rc
    f=$(make_file stall.bin 300)
    run_ocipush rc --plain-http --idle-timeout 1000 --retries 0 push "$H/hostile/stall500/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
}

# --timeout takes seconds, or s, m, h; anything else is a usage error.
case_timeout_option() {
    local f rc v
    f=$(make_file opt.bin 200)
    for v in 90 90s 5m 1h 0; do
        run_ocipush rc --plain-http --timeout "$v" blob push "$H/plain/opt" "$f"
        check_eq "exit status for --timeout $v" 0 "$rc"
        check_eq "digest for --timeout $v" "$(sha_of "$f")" "$(tail -n 1 "$WORK/out")"
    done
    check_eq "blob as served" "$(sha_of "$f")" "$(registry_blob_sha256 "$H" plain/opt "$(sha_of "$f")")"
    for v in '' abc 5x -1 1.5m 10d 3sm 99999999999; do
        run_ocipush rc --plain-http --timeout "$v" blob push "$H/plain/opt" "$f"
        check_eq "exit status for --timeout '$v'" 2 "$rc"
        grep -q -- "--timeout" "$WORK/err" || fail "no --timeout in: $(cat "$WORK/err")"
    done
}

# A registry message with LF, CR, a forged line and colours: one line.
case_forged_message() {
    local f rc
    f=$(make_file forged.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/forged/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/err")"
    check_eq "lines naming the error" 1 "$(grep -c 'DENIED' "$WORK/err")"
    check_stderr_clean
    grep -qF 'DENIED: x\x0a\x0docipush: forged \x1b[31mred\xc2\x9b31m\xe2\x80\xaeevil' "$WORK/err" ||
        fail "not escaped as expected: $(cat -v "$WORK/err")"
}

# --format json: the forged message and the plain-text body reach stdout
# as one JSON error object, every string escaped (no raw control byte, C1,
# or bidi override), the registry's code and status as fields.
case_forged_message_json() {
    local f rc mode
    f=$(make_file forgedjson.bin 300)
    for mode in forged plainctl; do
        run_ocipush rc --plain-http --retries 0 --format json push "$H/hostile/$mode/app:v1" "$f"
        check_eq "exit status ($mode)" 1 "$rc"
        check_stderr_clean
        check_eq "stdout lines ($mode)" 1 "$(wc -l <"$WORK/out")"
        ! LC_ALL=C grep -q $'[\x01-\x1f\x7f]' "$WORK/out" || fail "a raw control byte on stdout: $(cat -v "$WORK/out")"
        ! LC_ALL=C grep -q $'\x9b\|\xc2\x9b\|\xe2\x80\xae' "$WORK/out" || fail "a raw C1 or bidi on stdout: $(cat -v "$WORK/out")"
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1], encoding="utf-8"))["error"]
assert d["name"] == "OCIPUSH_E_HTTP" and d["code"] == -5, d
assert d["httpStatus"] == 400, d
if sys.argv[2] == "forged":
    assert d["registryCode"] == "DENIED", d
    want = r"DENIED: x\x0a\x0docipush: forged \x1b[31mred\xc2\x9b31m\xe2\x80\xaeevil"
else:
    assert d["registryCode"] is None, d
    want = r"denied \x9b31m \xc3( \xc2\x9b1m \x1b[31mred"
assert want in d["message"], d["message"]
assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in d["message"]), d["message"]' \
            "$WORK/out" "$mode" || fail "the error object ($mode): $(cat -v "$WORK/out")"
    done
}

# A plain-text error body with control bytes and bytes that are not UTF-8.
case_plain_body() {
    local f rc
    f=$(make_file plain.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/plainctl/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/err")"
    check_stderr_clean
    grep -qF 'denied \x9b31m \xc3( \xc2\x9b1m \x1b[31mred' "$WORK/err" ||
        fail "not escaped as expected: $(cat -v "$WORK/err")"
}

# A message of 20,000 bytes is cut, and says so.
case_long_message() {
    local f rc
    f=$(make_file long.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/longmsg/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/err")"
    (($(wc -c <"$WORK/err") < 700)) || fail "stderr of $(wc -c <"$WORK/err") bytes"
    grep -q 'DENIED: AAAA*\.\.\.' "$WORK/err" || fail "no cut message in: $(cat "$WORK/err")"
    ! grep -q 'END' "$WORK/err" || fail "the message's end got through"
}

# A realm with control bytes is refused before anything quotes it (url.c's
# op_url_is_http), and what is printed stays one clean line.
case_realm_escaped() {
    local f rc
    f=$(make_file realm.bin 300)
    run_ocipush rc --plain-http --retries 0 push "$H/hostile/realmesc/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    check_eq "stderr lines" 1 "$(wc -l <"$WORK/err")"
    check_stderr_clean
    grep -q 'token realm that is not an http or https URL' "$WORK/err" ||
        fail "the realm not refused as expected: $(cat -v "$WORK/err")"
}

run_case "a manifest GET cut short fails a --subject push, and no referrer is put" case_manifest_cut
run_case "a token body cut short is not used" case_token_cut
run_case "an error body cut short is not trusted" case_error_cut
run_case "a 500 body that trickles for ever ends at --timeout" case_trickle_deadline
run_case "parallel workers share the call's deadline" case_trickle_parallel
run_case "a retry wait past the deadline fails at once" case_wait_past_deadline
run_case "an upload's retry wait past the deadline is a deadline failure, not an abort" case_upload_wait_past_deadline
run_case "a 500 body that never ends fails on the cap" case_endless_body_cap
run_case "a body that stalls ends on the idle timeout" case_stalled_body
run_case "--timeout takes 90, 90s, 5m, 1h, 0 and refuses the rest" case_timeout_option
run_case "a registry message with LF, CR and ESC prints one clean line" case_forged_message
run_case "a plain-text error body with control bytes is escaped" case_plain_body
run_case "--format json: a registry's forged message is escaped in the error object" case_forged_message_json
run_case "a very long registry message is cut" case_long_message
run_case "a realm with ESC in it is refused in one clean line" case_realm_escaped
finish
