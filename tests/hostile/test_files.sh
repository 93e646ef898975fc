#!/usr/bin/env bash
# The file layer from the CLI: an OCI layout's index.json that is large, or
# cannot be read, and docker-credential helpers that misbehave during a push
# to the hostile registry (tests/unit/test_files.c has what the CLI cannot
# show: hangs, signal dispositions, secrets in freed memory). Run through
# tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_files.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PY=/usr/bin/python3
BIN=$WORK/bin

# A push that hangs must fail its case, not the whole run: the bound is a
# guard, never what a case asserts.
# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
# BOUND (seconds) may set another bound; -k: a push stuck where SIGTERM
# does not reach is killed too.
bounded_ocipush() {
    local -n _brc=$1
    shift
    _brc=0
    timeout -k 10 "${BOUND:-120}" ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" "$@" >"$WORK/out" 2>"$WORK/err" || _brc=$?
}

# index_of_tags FILE N: an index.json with N tagged entries t0..t(N-1).
index_of_tags() {
    "$PY" - "$1" "$2" <<'EOF'
import hashlib, json, sys
path, n = sys.argv[1], int(sys.argv[2])
entries = [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + hashlib.sha256(b"%d" % i).hexdigest(), "size": 1000 + i,
            "annotations": {"org.opencontainers.image.ref.name": "t%d" % i}} for i in range(n)]
with open(path, "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": entries}, f)
EOF
}

# same_but TAG DIGEST OLD NEW: NEW is OLD with TAG naming DIGEST (added, or
# moved), every other entry as it was, in its order. Prints the entry count.
same_but() {
    "$PY" - "$@" <<'EOF'
import json, sys
tag, digest, old, new = sys.argv[1:]
ref = "org.opencontainers.image.ref.name"
before = json.load(open(old))["manifests"]
after = json.load(open(new))["manifests"]
named = lambda e: e.get("annotations", {}).get(ref)
rest = [e for e in after if named(e) != tag]
mine = [e for e in after if named(e) == tag]
assert rest == [e for e in before if named(e) != tag], "other entries changed"
assert len(mine) == 1 and mine[0]["digest"] == digest, f"the tag names {mine}"
print(len(after))
EOF
}

# layout_pushed LAYOUT TAG FILE: the manifest TAG names hashes to its name
# and its one layer is FILE's bytes.
layout_pushed() {
    local digest layer
    digest=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
    check_eq "manifest blob" "$digest" "$(sha_of "$1/blobs/sha256/${digest#sha256:}")"
    layer=$(jq -r '.layers[0].digest' "$1/blobs/sha256/${digest#sha256:}")
    check_eq "layer" "$(sha_of "$3")" "$layer"
    check_eq "layer blob" "$layer" "$(sha_of "$1/blobs/sha256/${layer#sha256:}")"
}

# A real layout with many tags: 60,000 (13 MB of index) take one more, and
# the old ones stay; a tag among them moves.
case_sixty_thousand_tags() {
    local lay=$WORK/many f rc n digest
    f=$(make_file many.bin 3000)
    run_ocipush rc --oci-layout "$lay" push app:first "$f"
    check_eq "exit status (first)" 0 "$rc"
    index_of_tags "$lay/index.json" 60000
    cp "$lay/index.json" "$WORK/many-before.json"
    run_ocipush rc --oci-layout "$lay" push app:new "$f"
    check_eq "exit status" 0 "$rc"
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    n=$(same_but new "$digest" "$WORK/many-before.json" "$lay/index.json") || fail "index.json lost or changed entries"
    check_eq "entries" 60001 "$n"
    layout_pushed "$lay" new "$f"
    cp "$lay/index.json" "$WORK/many-before.json"
    f=$(make_file many2.bin 3001)
    run_ocipush rc --oci-layout "$lay" push app:t17 "$f"
    check_eq "exit status (a tag that moves)" 0 "$rc"
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    n=$(same_but t17 "$digest" "$WORK/many-before.json" "$lay/index.json") || fail "index.json lost or changed entries"
    check_eq "entries after the move" 60001 "$n"
    layout_pushed "$lay" t17 "$f"
}

# stat_of FILE: what would move if the file were replaced or written.
stat_of() { stat -c '%i %s %Y %F' "$1"; }

# An index.json too large to read (a sparse 300 MB file, past the cap),
# and one that is a directory: the push fails, saying why, and the index is
# as it was.
case_unreadable_index() {
    local lay=$WORK/unreadable f rc before
    f=$(make_file unreadable.bin 2000)
    run_ocipush rc --oci-layout "$lay" push app:v1 "$f"
    check_eq "exit status (first)" 0 "$rc"
    head -c 4096 "$lay/index.json" >"$WORK/head.bin"
    truncate -s 300M "$lay/index.json"
    before=$(stat_of "$lay/index.json")
    run_ocipush rc --oci-layout "$lay" push app:v2 "$f"
    check_eq "exit status (too large)" 1 "$rc"
    grep -q "cannot read $lay/index.json: it has 314572800 bytes, more than" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    check_eq "index.json (too large)" "$before" "$(stat_of "$lay/index.json")"
    cmp -s -n "$(stat -c %s "$WORK/head.bin")" "$WORK/head.bin" "$lay/index.json" || fail "index.json was rewritten"
    rm "$lay/index.json"
    mkdir "$lay/index.json"
    before=$(stat_of "$lay/index.json")
    run_ocipush rc --oci-layout "$lay" push app:v2 "$f"
    check_eq "exit status (a directory)" 1 "$rc"
    grep -q "cannot read $lay/index.json: not a regular file" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
    check_eq "index.json (a directory)" "$before" "$(stat_of "$lay/index.json")"
    if compgen -G "$lay/.ocipush-*" >/dev/null; then fail "temporary files left in $lay"; fi
}

# An index.json that is a FIFO (no writer will ever come): the push fails
# at once, naming it, rather than wait in open() past every deadline; the
# FIFO stays. (timeout 60 stops the old behaviour, a hang, from holding up
# the run: a bound, not a timing check.)
case_fifo_index() {
    local lay=$WORK/fifo-layout f rc
    f=$(make_file fifo-index.bin 2000)
    run_ocipush rc --oci-layout "$lay" push app:v1 "$f"
    check_eq "exit status (first)" 0 "$rc"
    rm "$lay/index.json"
    mkfifo "$lay/index.json"
    BOUND=60 bounded_ocipush rc --oci-layout "$lay" push app:v2 "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "cannot read $lay/index.json: not a regular file" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
    [[ -p $lay/index.json ]] || fail "index.json is no longer the FIFO: $(stat_of "$lay/index.json")"
    if compgen -G "$lay/.ocipush-*" >/dev/null; then fail "temporary files left in $lay"; fi
}

# A docker config.json that is a FIFO: the push fails, naming it, before it
# sends anything, as for any config that is there and cannot be read (only
# one that is not there means no credentials: taking an unreadable one for
# none would push anonymously, or with helm's credentials, unasked).
case_fifo_docker_config() {
    local f rc
    f=$(make_file fifo-config.bin 1000)
    mkdir -p "$DOCKER_CONFIG"
    mkfifo "$DOCKER_CONFIG/config.json"
    BOUND=60 bounded_ocipush rc --plain-http push "$H/files/fifoconfig:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "cannot read $DOCKER_CONFIG/config.json: not a regular file" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    check_eq "requests sent" 0 "$(wc -l <"$OCIPUSH_TEST_HOSTILE_LOG")"
}

# helper NAME BODY: docker-credential-NAME on PATH, named for the hostile
# registry in the docker config.
helper() {
    mkdir -p "$BIN" "$DOCKER_CONFIG"
    printf '#!/bin/sh\n%s\n' "$2" >"$BIN/docker-credential-$1"
    chmod +x "$BIN/docker-credential-$1"
    printf '{"credHelpers":{"%s":"%s"}}' "$H" "$1" >"$DOCKER_CONFIG/config.json"
}

# A helper that prints without end: the push fails, naming it, and sends
# nothing; ocipush does not wait on it or buffer what it prints.
case_helper_that_floods() {
    local f rc
    f=$(make_file flood.bin 1000)
    helper flood "exec yes '{\"Username\":\"u\",\"Secret\":\"s\"}'"
    PATH="$BIN:$PATH" bounded_ocipush rc --plain-http push "$H/files/flood:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "docker-credential-flood printed more than 65536 bytes" "$WORK/err" ||
        fail "unclear: $(cat "$WORK/err")"
    check_eq "requests sent" 0 "$(wc -l <"$OCIPUSH_TEST_HOSTILE_LOG")"
}

# A helper that answers without reading its standard input (the write to it
# may meet a closed pipe): the push goes on and lands.
case_helper_that_does_not_read() {
    local f rc digest
    f=$(make_file noread.bin 1500)
    helper noread "exec 0<&-
printf '{\"Username\":\"u\",\"Secret\":\"s\"}'"
    PATH="$BIN:$PATH" bounded_ocipush rc --plain-http push "$H/files/noread:v1" "$f"
    check_eq "exit status" 0 "$rc"
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    registry_manifest_get "$H" files/noread v1 "$WORK/m.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/m.json")"
    check_eq "layer as served" "$(sha_of "$f")" \
        "$(registry_blob_sha256 "$H" files/noread "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
}

# fd_numbers FILE: the descriptor numbers of the helper's listing.
fd_numbers() { cut -d' ' -f1 "$1" | sort; }

# The helper holds its standard streams and no descriptor of ocipush (the
# layer files are open by then). What this script's own children inherit
# anyway (from the test harness) is taken from the same helper run directly.
case_helper_inherits_nothing() {
    local f g rc extra
    f=$(make_file fds1.bin 1000)
    g=$(make_file fds2.bin 1001)
    mkdir -p "$BIN" "$DOCKER_CONFIG"
    # python3: it holds no descriptor of its own once it runs the script.
    cat >"$BIN/docker-credential-fds" <<EOF
#!$PY
import os, sys
fds = []
for name in os.listdir("/proc/self/fd"):
    try:
        fds.append(name + " " + os.readlink("/proc/self/fd/" + name))
    except OSError:
        pass  # the directory listdir had open
open(os.environ["FDS_OUT"], "w").write("".join(f + "\n" for f in fds))
sys.stdin.read()
print('{"Username":"u","Secret":"s"}')
EOF
    chmod +x "$BIN/docker-credential-fds"
    printf '{"credHelpers":{"%s":"fds"}}' "$H" >"$DOCKER_CONFIG/config.json"
    FDS_OUT=$WORK/fds-base.txt "$BIN/docker-credential-fds" </dev/null >/dev/null
    FDS_OUT=$WORK/fds.txt PATH="$BIN:$PATH" bounded_ocipush rc --plain-http push "$H/files/fds:v1" "$f" "$g"
    check_eq "exit status" 0 "$rc"
    grep -q '^1 pipe:' "$WORK/fds.txt" || fail "no listing from the helper: $(cat "$WORK/fds.txt")"
    extra=$(comm -23 <(fd_numbers "$WORK/fds.txt") <( (printf '0\n1\n2\n'; fd_numbers "$WORK/fds-base.txt") | sort -u))
    [[ -z $extra ]] || fail "the helper inherited descriptor(s) $extra: $(cat "$WORK/fds.txt")"
}

run_case "a layout with 60,000 tags takes one more and keeps them" case_sixty_thousand_tags
run_case "an index.json that cannot be read fails the push and stays" case_unreadable_index
run_case "an index.json that is a FIFO fails the push without waiting on it" case_fifo_index
run_case "a docker config.json that is a FIFO fails the push without waiting on it" case_fifo_docker_config
run_case "a credential helper that prints without end" case_helper_that_floods
run_case "a credential helper that does not read its input" case_helper_that_does_not_read
run_case "a credential helper inherits no descriptor of ocipush" case_helper_inherits_nothing
finish
