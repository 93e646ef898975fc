#!/usr/bin/env bash
# The hostile registry's own check, and the push path through it when it
# behaves. Run through tests/hostile/hostile-env.sh.
#
# usage: hostile-env.sh bash tests/hostile/test_basic.sh PATH/TO/ocipush
set -uo pipefail
OCIPUSH=$1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case_plain_push() {
    local f rc digest
    f=$(make_file plain.bin 5000)
    run_ocipush rc --plain-http push "$H/plain/app:v1" "$f"
    check_eq "exit status" 0 "$rc"
    digest=$(tail -n 1 "$WORK/out" | sed 's/^Digest: //')
    registry_manifest_get "$H" plain/app v1 "$WORK/m.json"
    check_eq "manifest digest" "$digest" "$(sha_of "$WORK/m.json")"
    check_eq "layer as served" "$(sha_of "$f")" \
        "$(registry_blob_sha256 "$H" plain/app "$(jq -r '.layers[0].digest' "$WORK/m.json")")"
}

case_fail500_fails() {
    local f rc
    f=$(make_file f500.bin 100)
    run_ocipush rc --plain-http --retries 1 push "$H/hostile/fail500/app:v1" "$f"
    check_eq "exit status" 1 "$rc"
    grep -q "500" "$WORK/err" || fail "no 500 in: $(cat "$WORK/err")"
}

run_case "a push through the hostile registry without a mode lands" case_plain_push
run_case "a mode that answers 500 fails the push" case_fail500_fails
finish
