# shellcheck shell=bash
# Helpers for test scripts: `source tests/readback.sh`. They run test cases
# and read back what a push left in a registry, using curl (and skopeo) only.

passed=0
failed=0

# run_case NAME FUNCTION: runs FUNCTION in a subshell with errexit, so a failing
# command or `fail` ends only that case, and counts it. A function
# `before_case`, when the script defines one, runs first.
run_case() {
    local rc
    # A statement of its own: errexit is ignored inside an `if` or a `||`
    # list, subshell or not, and each case relies on it.
    (
        set -e
        if declare -F before_case >/dev/null; then before_case; fi
        "$2"
    )
    rc=$?
    if [[ $rc == 0 ]]; then
        echo "ok - $1"
        passed=$((passed + 1))
    else
        echo "not ok - $1"
        failed=$((failed + 1))
    fi
}

# finish: the closing line, and the script's exit status.
finish() {
    echo "$passed passed, $failed failed"
    [[ $failed == 0 ]]
}

# Every manifest media type we may push; the registry only serves a manifest
# whose type is listed in Accept (else it may convert or 404 it).
REGISTRY_MANIFEST_ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
    [[ $2 == "$3" ]] || fail "$1: expected '$2', got '$3'"
}

# registry_blob_sha256 HOSTPORT REPO DIGEST: print sha256:<hex> of the blob as served.
registry_blob_sha256() {
    local - sum # "local -": the pipefail below is undone on return
    set -o pipefail
    sum=$(curl -fsSL "http://$1/v2/$2/blobs/$3" | sha256sum) || return 1
    echo "sha256:${sum%% *}"
}

# registry_manifest_get HOSTPORT REPO REF OUTFILE
registry_manifest_get() {
    curl -fsS -H "Accept: $REGISTRY_MANIFEST_ACCEPT" -o "$4" "http://$1/v2/$2/manifests/$3"
}

# blob_absent HOSTPORT REPO DIGEST: the registry does not serve that blob.
blob_absent() {
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' -I "http://$1/v2/$2/blobs/$3")
    [[ $code == 404 ]] || fail "blob $3 in $2 answered $code, expected 404"
}

# registry_tag_exists HOSTPORT REPO TAG: 0 if the tag answers 200, 1 if 404, else 2.
registry_tag_exists() {
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' -I -H "Accept: $REGISTRY_MANIFEST_ACCEPT" \
        "http://$1/v2/$2/manifests/$3") || true
    case $code in
    200) return 0 ;;
    404) return 1 ;;
    *) echo "registry_tag_exists: HEAD $2:$3 answered '$code'" >&2; return 2 ;;
    esac
}

# skopeo_verify HOSTPORT REPO:TAG DIGEST DIR: skopeo (an independent client)
# copies the artifact into an OCI layout at DIR; every blob it fetched must
# hash to its name, and the manifest must be the one with DIGEST.
skopeo_verify() {
    local name hex
    rm -rf "$4"
    skopeo copy --quiet --src-tls-verify=false "docker://$1/$2" "oci:$4:x" >/dev/null 2>"$4.err" ||
        { echo "skopeo copy of $2 failed: $(cat "$4.err")" >&2; return 1; }
    for name in "$4"/blobs/sha256/*; do
        hex=$(sha256sum "$name" | cut -d' ' -f1)
        [[ $hex == "$(basename "$name")" ]] || { echo "skopeo got a blob that is not its digest: $name" >&2; return 1; }
    done
    [[ -f $4/blobs/sha256/${3#sha256:} ]] || { echo "skopeo has no manifest $3" >&2; return 1; }
    [[ $(jq -r '.manifests[0].digest' "$4/index.json") == "$3" ]] ||
        { echo "skopeo's index names $(jq -r '.manifests[0].digest' "$4/index.json"), not $3" >&2; return 1; }
}
