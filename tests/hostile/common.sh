# shellcheck shell=bash
# What the hostile-registry test scripts share: `source tests/hostile/common.sh`
# after setting OCIPUSH (the CLI under test). Run under hostile-env.sh.
HOSTILE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../readback.sh
source "$HOSTILE_HERE/../readback.sh"

H=$OCIPUSH_TEST_HOSTILE
WORK=$OCIPUSH_TEST_TMP/work
mkdir -p "$WORK"
# No credential store of the machine's user may leak into these tests.
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
unset HELM_REGISTRY_CONFIG
mkdir -p "$HOME"

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
make_file() { head -c "$2" /dev/urandom >"$WORK/$1" && echo "$WORK/$1"; }

# Each case starts with empty logs and no stored credentials.
before_case() {
    : >"$OCIPUSH_TEST_HOSTILE_LOG"
    : >"$OCIPUSH_TEST_RECORDER_LOG"
    rm -rf "$DOCKER_CONFIG"
}

# run_ocipush OUTVAR: runs ocipush with the remaining arguments, stdout to
# $WORK/out, stderr to $WORK/err, and puts the exit status into OUTVAR.
run_ocipush() {
    local -n _rc=$1
    shift
    _rc=0
    ocipush "$@" >"$WORK/out" 2>"$WORK/err" || _rc=$?
}

# recorder_requests: how many requests reached the other origin.
recorder_requests() { wc -l <"$OCIPUSH_TEST_RECORDER_LOG"; }

# recorder_header NAME: every value of header NAME the other origin received.
recorder_header() {
    jq -r --arg n "$1" '.headers | to_entries[] | select(.key | ascii_downcase == ($n | ascii_downcase)) | .value' \
        "$OCIPUSH_TEST_RECORDER_LOG"
}

# hostile_header NAME: every value of header NAME the hostile registry received.
hostile_header() {
    jq -r --arg n "$1" '.headers[] | select(.[0] | ascii_downcase == ($n | ascii_downcase)) | .[1]' \
        "$OCIPUSH_TEST_HOSTILE_LOG"
}

# hostile_count METHOD PATH_REGEX: requests of METHOD whose path matches.
hostile_count() {
    jq -r --arg m "$1" --arg p "$2" 'select(.method == $m and (.path | test($p))) | .path' \
        "$OCIPUSH_TEST_HOSTILE_LOG" | wc -l
}

# hostile_tag_exists REPO TAG: 0 if the hostile registry serves the tag.
hostile_tag_exists() { registry_tag_exists "$H" "$1" "$2"; }
