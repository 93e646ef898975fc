#!/usr/bin/env bash
# Resilience against a real registry behind a fault-injecting proxy
# (tests/faults/faultproxy.py): retries, resume, and the quirks of real
# registries and proxies. Faults are chosen by repository name
# (faults/<spec>/...). Every push that must land is read back and re-hashed;
# every one that must fail leaves no blob and no tag. Run through
# tests/faults/fault-env.sh.
#
# usage: fault-env.sh bash tests/test_faults.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"

REG=$OCIPUSH_TEST_REGISTRY
FAULTS=$OCIPUSH_TEST_FAULTS
LOG=$OCIPUSH_TEST_FAULT_LOG
WORK=$OCIPUSH_TEST_TMP/faulttest
mkdir -p "$WORK"


# Short waits between tries: the policy is what is tested, not the clock.
# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http --retry-delay 10 --retry-max-delay 50 "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
make_file() { head -c "$2" /dev/urandom >"$WORK/$1" && echo "$WORK/$1"; }

# push_ok REPO FILE|- [OPTIONS...]: push (a file, or the file in $PIPE_FROM
# through a pipe), check the digest, read it back through the registry.
push_ok() {
    local repo=$1 file=$2 out want
    shift 2
    if [[ $file == - ]]; then
        want=$(sha_of "$PIPE_FROM")
        out=$(cat "$PIPE_FROM" | ocipush -v "$@" blob push "$FAULTS/$repo" - 2>"$WORK/stderr") ||
            fail "push to $repo: $(cat "$WORK/stderr")"
    else
        want=$(sha_of "$file")
        out=$(ocipush -v "$@" blob push "$FAULTS/$repo" "$file" 2>"$WORK/stderr") ||
            fail "push to $repo: $(cat "$WORK/stderr")"
    fi
    check_eq "digest of $repo" "$want" "$(tail -n 1 <<<"$out")"
    check_eq "served $repo" "$want" "$(registry_blob_sha256 "$REG" "$repo" "$want")"
}

# requests METHOD REPO: how many requests of METHOD the proxy saw for REPO.
requests() { grep -c "^$1 /v2/$2/" "$LOG" || true; }
said() { grep -q -- "$1" "$WORK/stderr" || fail "stderr lacks '$1': $(cat "$WORK/stderr")"; }

# --- retries ----------------------------------------------------------------------

case_503_on_start_retry_after() {
    local f repo=faults/status-503-post-2.retryafter-0/a
    f=$(make_file a 100001)
    push_ok "$repo" "$f"
    check_eq "POSTs" 3 "$(requests POST "$repo")"
    said "POST answered HTTP 503; retry 1 of 3"
    said "retry 2 of 3"
}

case_429_on_patch_with_date() {
    local f repo=faults/status-429-patch-1.retrydate-1/b
    f=$(make_file b 300001)
    # A maximum delay above the second asked for: Retry-After is capped by it.
    push_ok "$repo" "$f" --strategy chunked --chunk-size 100000 --retry-max-delay 5000
    check_eq "PATCHes" 5 "$(requests PATCH "$repo")"
    # Retry-After, a date a second ahead, sets the wait, not the 10 ms
    # policy: the log says so. (How long, the unit test of the date checks
    # with a fixed clock: here the second may be gone by the time it is read.)
    said "a chunk failed; retry 1 of 3 in [0-9]* ms, as its Retry-After asks"
}

case_503_on_commit() {
    local f repo=faults/status-503-put-2/c
    f=$(make_file c 5000)
    push_ok "$repo" "$f"
    check_eq "PUTs" 3 "$(requests PUT "$repo")"
}

case_blob_upload_invalid_on_patch() {
    local f repo=faults/code-blob_upload_invalid-patch-1/d
    f=$(make_file d 250001)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 100000
}

case_gives_up_cleanly() {
    local f rc=0 repo=faults/status-503-any-99/e
    f=$(make_file e 1000)
    ocipush --retries 2 push "$FAULTS/$repo:v1" "$f" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    [[ $(wc -l <"$WORK/stderr") == 1 ]] || fail "want one line: $(cat "$WORK/stderr")"
    said "HTTP 503"
    # The first request (is the config there?) fails: three tries, nothing after.
    check_eq "tries" 3 "$(requests HEAD "$repo")"
    check_eq "uploads" 0 "$(requests POST "$repo")"
    registry_tag_exists "$REG" "$repo" v1 && fail "a tag after a failed push" || [[ $? == 1 ]]
}

case_401_403_404_not_retried() {
    local f rc=0 repo=faults/code-name_unknown-post-9/f
    f=$(make_file f 10)
    # A 400 with an error code that is not a passing one: no retry.
    ocipush blob push "$FAULTS/$repo" "$f" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    check_eq "tries" 1 "$(requests POST "$repo")"
}

case_stall_past_timeout() {
    local f repo=faults/stall-patch-3/g
    f=$(make_file g 200001)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 100000 --idle-timeout 1000
}

# --- one retry budget --------------------------------------------------------------

# sum_bytes METHOD REPO: the request body bytes of METHOD the proxy saw for REPO.
sum_bytes() {
    grep "^$1 /v2/$2/" "$LOG" | sed 's/.*bytes_in=\([0-9]*\).*/\1/' | paste -sd+ | bc
}
# failed_tries REPO: requests for REPO that failed (no answer, or a 5xx/429).
failed_tries() { grep -cE "^[A-Z]+ /v2/$1/.* status=(0|429|5[0-9][0-9]) " "$LOG" || true; }
not_tagged() {
    registry_tag_exists "$REG" "$1" "$2" && fail "a tag after a failed push" || [[ $? == 1 ]]
}

# --retries 2 is 3 tries in all for the blob push: a commit that keeps failing
# is sent 3 times, as a commit, and the body that went by PATCH is not sent
# again (before: 9 commit PUTs, the body 3 times).
case_commit_503_budget() {
    local f rc=0 repo=faults/status-503-put-99/bu
    f=$(make_file bu 250001)
    # The config goes first, in chunks: its commit fails, nothing after it.
    ocipush --retries 2 --strategy chunked --chunk-size 100000 --config "$f" \
        push "$FAULTS/$repo:v1" "$f" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status ($(cat "$WORK/stderr"))" 1 "$rc"
    check_eq "commit PUTs" 3 "$(requests PUT "$repo")"
    check_eq "upload sessions" 1 "$(requests POST "$repo")"
    check_eq "body bytes sent" 250001 "$(sum_bytes PATCH "$repo")"
    not_tagged "$repo" v1
}

# A server asking for 999999 s waits no longer than --retry-max-delay.
case_retry_after_capped() {
    local rc=0 repo=faults/status-429-post-99.retryafter-999999/rc f waits
    f=$(make_file rc 1000)
    ocipush -v --retries 2 --retry-max-delay 1000 blob push "$FAULTS/$repo" "$f" \
        >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    check_eq "POSTs" 3 "$(requests POST "$repo")"
    waits=$(sed -n 's/.*; retry [0-9]* of 2 in \([0-9]*\) ms, as its Retry-After asks$/\1/p' "$WORK/stderr")
    check_eq "waits logged" 2 "$(grep -c . <<<"$waits")"
    for w in $waits; do
        ((w <= 1000)) || fail "a wait of $w ms, over --retry-max-delay 1000: $(cat "$WORK/stderr")"
    done
    said "HTTP 429"
}

# A chunk cut mid-body, then commits that fail: the chunk's retry and the
# commit's come from one budget, 3 tries in all with --retries 2 (before: the
# reset, then 6 commit PUTs in 2 more sessions).
case_budget_shared_by_levels() {
    local f rc=0 repo=faults/reset-patch-50000.status-503-put-99/bs
    f=$(make_file bs 250001)
    ocipush -v --retries 2 --strategy chunked --chunk-size 100000 blob push "$FAULTS/$repo" "$f" \
        >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "a chunk failed; retry 1 of 2"
    said "PUT answered HTTP 503; retry 2 of 2"
    check_eq "failed tries in all" 3 "$(failed_tries "$repo")"
    check_eq "retries in all" 2 "$(grep -c "; retry [0-9]* of 2 in" "$WORK/stderr")"
    check_eq "commit PUTs" 2 "$(requests PUT "$repo")"
}

# --- resume -----------------------------------------------------------------------

# distribution forgets an upload that was cut mid-body (its status is 404):
# the push goes on in a new session.
case_reset_mid_chunk_new_session() {
    local f repo=faults/reset-patch-150000/h
    f=$(make_file h 1000003)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 400000
    check_eq "status asked" 1 "$(requests GET "$repo")"
    check_eq "sessions" 2 "$(requests POST "$repo")"
}

# A chunk the registry took whose answer was lost: the status says so, and
# the upload resumes after it without sending it again (on a registry whose
# status works: distribution 2.8's answers 404, see the case above).
case_lost_answer_resumes() {
    local f repo=faults/lose-patch-2.goodstatus/h2 sent
    f=$(make_file h2 1000003)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 300000
    said "resuming the upload at byte 600000"
    check_eq "sessions" 1 "$(requests POST "$repo")"
    sent=$(grep "^PATCH /v2/$repo/" "$LOG" | sed 's/.*bytes_in=\([0-9]*\).*/\1/' | paste -sd+ | bc)
    check_eq "bytes sent" 1000003 "$sent"
}

case_reset_mid_chunk_pipe() {
    local repo=faults/reset-patch-70000/i
    PIPE_FROM=$(make_file i 600001)
    push_ok "$repo" - --strategy chunked --chunk-size 200000
}

case_reset_mid_stream_new_session() {
    local repo=faults/reset-patch-100000/j
    PIPE_FROM=$(make_file j 700001)
    push_ok "$repo" -
    check_eq "sessions" 2 "$(requests POST "$repo")"
}

case_reset_mid_monolithic_put() {
    local f repo=faults/reset-put-50000/k
    f=$(make_file k 300001)
    push_ok "$repo" "$f" --strategy monolithic
    said "starting a new upload session"
}

# --- a spool with bounded disk -----------------------------------------------------
# A temporary directory smaller than the stream: a 16 MiB tmpfs where this test
# may mount one (root), else a 16 MiB file-size limit on ocipush (EFBIG instead
# of ENOSPC). Streams are 40 MiB.
SMALL_TMP=$WORK/small-tmp
SMALL_MB=16
mkdir -p "$SMALL_TMP"
if [[ $(id -u) == 0 ]] && mount -t tmpfs -o size=${SMALL_MB}m tmpfs "$SMALL_TMP" 2>/dev/null; then
    SMALL_KIND=tmpfs
    trap 'umount "$SMALL_TMP" 2>/dev/null' EXIT
else
    SMALL_KIND=fsize
fi
STREAM=$((40 << 20))

# small_tmp_push REPO [OPTIONS...]: push a 40 MiB pipe under the small TMPDIR.
small_tmp_push() {
    local repo=$1
    shift
    PIPE_FROM=$(make_file small 41943040)
    if [[ $SMALL_KIND == tmpfs ]]; then
        TMPDIR=$SMALL_TMP push_ok "$repo" - "$@"
    else
        (trap '' XFSZ && ulimit -f $((SMALL_MB * 1024)) && TMPDIR=$SMALL_TMP push_ok "$repo" - "$@")
    fi
}

# The spool's own high-water mark (-v) is at most the small directory.
disk_peak_bounded() {
    local peak
    peak=$(sed -n 's/.*the spool held at most \([0-9]*\) bytes on disk.*/\1/p' "$WORK/stderr" | tail -n 1)
    [[ -n $peak ]] || fail "no spool high-water mark in: $(cat "$WORK/stderr")"
    ((peak <= SMALL_MB << 20)) || fail "the spool held $peak bytes on disk, over ${SMALL_MB} MiB"
}

case_small_tmp_straight() {
    small_tmp_push bounded/s1
    said "the spool cannot write its temporary file in $SMALL_TMP"
    said "it keeps no more, and the push goes on"
    disk_peak_bounded
    check_eq "sessions" 1 "$(requests POST bounded/s1)"
}

case_small_tmp_rejected_stream() {
    local repo=faults/nochunked/s2
    small_tmp_push "$repo"
    said "rejected (HTTP 411); sending it again with Content-Length"
    said "sent the $STREAM-byte stream with Content-Length in chunks through the spool"
    disk_peak_bounded
    # One refused stream, then chunks of what the window held: several.
    (($(grep -c "^PATCH /v2/$repo/.*content_range=[0-9]" "$LOG") >= 3)) ||
        fail "want 3 or more chunks: $(grep "/v2/$repo/" "$LOG")"
}

case_small_tmp_partway_400() {
    local repo=faults/chunked400-8388608/s3
    small_tmp_push "$repo"
    said "rejected (HTTP 400); sending it again with Content-Length"
    disk_peak_bounded
    # The proxy swallowed 8 MiB before it refused: those were replayed.
    grep -q "^PATCH /v2/$repo/.* status=400 fault=chunked400-8388608 bytes_in=[0-9]\{7,\}" "$LOG" ||
        fail "no part-way refusal: $(grep "/v2/$repo/" "$LOG")"
    said "bytes of it read before the rejection"
}

case_small_tmp_lost_chunk_answer() {
    # The answer to a chunk is lost after the registry stored it all, while
    # the spool is full (ENOSPC): the upload goes on after that chunk.
    local repo=faults/nochunked.lose-patch-2.goodstatus/s7
    small_tmp_push "$repo"
    said "sent the $STREAM-byte stream with Content-Length in chunks through the spool"
    disk_peak_bounded
}

case_memory_only_window() {
    # --spool-max 512K: a window with no disk. A refused 3 MB stream goes in
    # chunks of half of it (256 KiB), one after the other: about 12.
    local repo=faults/nochunked/s8 n
    PIPE_FROM=$(make_file s8 3000000)
    push_ok "$repo" - --spool-max 512K
    n=$(grep -c "^PATCH /v2/$repo/.*content_range=[0-9]" "$LOG")
    ((n >= 11 && n <= 13)) || fail "want 12 chunks of 256 KiB, the proxy saw $n"
}

case_reset_past_the_window() {
    # The stream is cut after 10 MB, past a 4 MiB window: the replay cannot
    # be made; the error says why and how to raise it, and nothing is tagged.
    local rc=0 repo=faults/reset-patch-10000000/s4
    PIPE_FROM=$(make_file s4 20000000)
    cat "$PIPE_FROM" | ocipush --spool-max 4M push "$FAULTS/$repo:v1" - >"$WORK/out" \
        2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "the upload must be sent again from byte 0 but the stream cannot rewind"
    said "the spool's window of 4194304 bytes (raise it with --spool-max"
    registry_tag_exists "$REG" "$repo" v1 && fail "a tag after a failed push" || [[ $? == 1 ]]
}

case_spool_max_0_is_no_spool() {
    local rc=0 repo=faults/nochunked/s5
    PIPE_FROM=$(make_file s5 300001)
    cat "$PIPE_FROM" | ocipush --spool-max 0 blob push "$FAULTS/$repo" - >"$WORK/out" \
        2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "cannot rewind and the spool is off"
    check_eq "chunk PATCHes" 0 "$(grep -c "^PATCH /v2/$repo/.*content_range=[0-9]" "$LOG")"
}

# --- registry quirks ------------------------------------------------------------

case_patch_201() {
    local f
    f=$(make_file l 350001)
    push_ok faults/patch201/l "$f" --strategy chunked --chunk-size 100000
}

case_range_stuck() {
    local f
    f=$(make_file m 450001)
    push_ok faults/rangestuck/m "$f" --strategy chunked --chunk-size 100000
}

case_range_bytes_and_quay() {
    local f
    f=$(make_file n 250001)
    push_ok faults/rangebytes.statusquay/n "$f" --strategy chunked --chunk-size 100000
}

case_chunk_cap_416() {
    local f repo=faults/chunkcap-300000/o
    f=$(make_file o 2000001)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 1000000
    said "refused a chunk of 1000000 bytes (HTTP 416)"
}

case_chunk_cap_413() {
    local f
    f=$(make_file p 900001)
    push_ok faults/chunkcap413-200000/p "$f" --strategy chunked --chunk-size 500000
    said "(HTTP 413)"
}

case_body_cap_splits() {
    local f
    f=$(make_file q 1500001)
    push_ok faults/bodycap-400000/q "$f" --strategy monolithic
    said "refused the blob in one PUT (HTTP 413)"
}

case_no_content_range() {
    local f
    f=$(make_file r 300001)
    push_ok faults/nocontentrange/r "$f" --strategy chunked --chunk-size 100000
    said "does not take chunked uploads"
}

case_411_for_chunked() {
    local repo=faults/nochunked/s
    PIPE_FROM=$(make_file s 400001)
    push_ok "$repo" -
    said "rejected (HTTP 411)"
}

case_large_put_refused() {
    local f
    f=$(make_file t 800001)
    push_ok faults/monocap-500000/t "$f" --strategy monolithic
    said "refused the blob in one PUT (HTTP 400)"
}

case_chunk_min_length() {
    local f repo=faults/chunkmin-300000/u
    f=$(make_file u 1000001)
    push_ok "$repo" "$f" --strategy chunked --chunk-size 100000
    if grep -q "chunkmin-violation /v2/$repo/" "$LOG"; then
        fail "a chunk below OCI-Chunk-Min-Length: $(grep chunkmin-violation "$LOG")"
    fi
    check_eq "PATCHes of 300000" 4 "$(requests PATCH "$repo")"
}

command -v bc >/dev/null || { echo "bc not found; install the Debian package 'bc'" >&2; exit 1; }

run_case "503 on upload start, Retry-After" case_503_on_start_retry_after
run_case "429 on a chunk, Retry-After as a date" case_429_on_patch_with_date
run_case "503 on the commit" case_503_on_commit
run_case "BLOB_UPLOAD_INVALID on a chunk" case_blob_upload_invalid_on_patch
run_case "gives up after the retries, no tag" case_gives_up_cleanly
run_case "a non-passing error is not retried" case_401_403_404_not_retried
run_case "a stall past the idle timeout" case_stall_past_timeout
run_case "--retries 2: 3 commit PUTs, the body once, no tag" case_commit_503_budget
run_case "Retry-After: 999999 waits at most --retry-max-delay" case_retry_after_capped
run_case "a chunk's retry and the commit's share one budget" case_budget_shared_by_levels
run_case "reset mid-chunk: a new session" case_reset_mid_chunk_new_session
run_case "a lost answer: resume at the registry's offset" case_lost_answer_resumes
run_case "reset mid-chunk, pipe replayed from the spool" case_reset_mid_chunk_pipe
run_case "reset mid-stream starts a new session" case_reset_mid_stream_new_session
run_case "reset mid one-PUT starts a new session" case_reset_mid_monolithic_put
run_case "40 MiB pipe, 16 MiB TMPDIR: straight" case_small_tmp_straight
run_case "40 MiB pipe, 16 MiB TMPDIR: stream refused (411)" case_small_tmp_rejected_stream
run_case "40 MiB pipe, 16 MiB TMPDIR: 400 after 8 MiB" case_small_tmp_partway_400
run_case "40 MiB pipe, 16 MiB TMPDIR: a chunk's answer lost" case_small_tmp_lost_chunk_answer
run_case "--spool-max 512K: a window in memory only, chunks of half of it" case_memory_only_window
run_case "a reset past the spool's window: a clear error, no tag" case_reset_past_the_window
run_case "--spool-max 0 is --no-spool" case_spool_max_0_is_no_spool
run_case "ECR: PATCH answered 201" case_patch_201
run_case "ECR: Range stops advancing" case_range_stuck
run_case "Range as bytes=0-N, Quay's 0--1" case_range_bytes_and_quay
run_case "GHCR: chunks over a cap get 416, shrink" case_chunk_cap_416
run_case "chunks over a cap get 413, shrink" case_chunk_cap_413
run_case "Cloudflare: body cap splits a one-PUT upload" case_body_cap_splits
run_case "GAR: no Content-Range, one PUT instead" case_no_content_range
run_case "Apache: 411 to a chunked body" case_411_for_chunked
run_case "Docker Hub: large one-PUT refused, chunks instead" case_large_put_refused
run_case "OCI-Chunk-Min-Length honoured" case_chunk_min_length

finish
