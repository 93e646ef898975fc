#!/usr/bin/env bash
# Helm charts pushed as helm push does, read back from the real registry and
# by skopeo as an independent reader; bad charts push nothing.
# Run through tests/registry-env.sh.
#
# usage: registry-env.sh bash tests/test_chart.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"
REG=$OCIPUSH_TEST_REGISTRY
WORK=$OCIPUSH_TEST_TMP/charttest
mkdir -p "$WORK"


# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# make_chart DIR NAME CHART_YAML: DIR/NAME-chart.tgz with NAME/Chart.yaml.
make_chart() {
    mkdir -p "$1/$2/templates"
    printf '%s\n' "$3" >"$1/$2/Chart.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' >"$1/$2/templates/cm.yaml"
    head -c 20000 /dev/urandom | base64 >"$1/$2/templates/data.txt"
    tar -C "$1" -czf "$1/$2-chart.tgz" "$2"
    echo "$1/$2-chart.tgz"
}

catalog() { curl -fsS "http://$REG/v2/_catalog" | jq -r '.repositories[]?'; }

case_chart_push() {
    local chart out digest m=$WORK/m.json
    chart=$(make_chart "$WORK/c1" webapp 'apiVersion: v2
name: webapp
description: A web application
version: 1.2.3+build.7
appVersion: "2.0"
home: https://example.org/webapp
maintainers:
  - name: Ann
    email: ann@example.org
annotations:
  org.opencontainers.image.version: overridden')
    printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nprovenance\n' >"$chart.prov"
    out=$(ocipush chart push "$chart" "oci://$REG/charts/stable" 2>"$WORK/stderr") || fail "$(cat "$WORK/stderr")"
    check_eq "pushed line" "Pushed: $REG/charts/stable/webapp:1.2.3_build.7" "$(head -n 1 <<<"$out")"
    digest=$(tail -n 1 <<<"$out")
    [[ $digest == "Digest: sha256:"* ]] || fail "last line: $digest"
    digest=${digest#Digest: }
    registry_manifest_get "$REG" charts/stable/webapp 1.2.3_build.7 "$m"
    check_eq "manifest digest" "$digest" "$(sha_of "$m")"
    check_eq "config type" application/vnd.cncf.helm.config.v1+json "$(jq -r .config.mediaType "$m")"
    check_eq "chart layer type" application/vnd.cncf.helm.chart.content.v1.tar+gzip "$(jq -r '.layers[0].mediaType' "$m")"
    check_eq "chart layer" "$(sha_of "$chart")" "$(jq -r '.layers[0].digest' "$m")"
    check_eq "prov layer type" application/vnd.cncf.helm.chart.provenance.v1.prov "$(jq -r '.layers[1].mediaType' "$m")"
    check_eq "prov layer" "$(sha_of "$chart.prov")" "$(jq -r '.layers[1].digest' "$m")"
    check_eq title webapp "$(jq -r '.annotations["org.opencontainers.image.title"]' "$m")"
    check_eq "version (not the chart's override)" 1.2.3+build.7 "$(jq -r '.annotations["org.opencontainers.image.version"]' "$m")"
    check_eq description "A web application" "$(jq -r '.annotations["org.opencontainers.image.description"]' "$m")"
    check_eq url https://example.org/webapp "$(jq -r '.annotations["org.opencontainers.image.url"]' "$m")"
    check_eq authors "Ann (ann@example.org)" "$(jq -r '.annotations["org.opencontainers.image.authors"]' "$m")"
    [[ $(jq -r '.annotations["org.opencontainers.image.created"]' "$m") =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T..:..:..Z$ ]] || fail "created"
    local config=$WORK/config.json
    curl -fsS "http://$REG/v2/charts/stable/webapp/blobs/$(jq -r .config.digest "$m")" -o "$config"
    check_eq "config digest" "$(jq -r .config.digest "$m")" "$(sha_of "$config")"
    check_eq "config name" webapp "$(jq -r .name "$config")"
    check_eq "config version" 1.2.3+build.7 "$(jq -r .version "$config")"
    check_eq "config appVersion" 2.0 "$(jq -r .appVersion "$config")"
    check_eq "config key order (helm's)" "name,home,version,description,maintainers,apiVersion,appVersion,annotations" "$(jq -r 'keys_unsorted | join(",")' "$config")"
    for i in 0 1; do
        local d
        d=$(jq -r ".layers[$i].digest" "$m")
        check_eq "layer $i served" "$d" "$(registry_blob_sha256 "$REG" charts/stable/webapp "$d")"
    done
    skopeo_verify "$REG" charts/stable/webapp:1.2.3_build.7 "$digest" "$WORK/skopeo1"
}

case_reproducible_with_source_date_epoch() {
    local chart a b
    chart=$(make_chart "$WORK/c2" repro 'apiVersion: v2
name: repro
version: 0.0.1')
    a=$(SOURCE_DATE_EPOCH=1700000000 ocipush chart push "$chart" "oci://$REG" | tail -n 1)
    b=$(SOURCE_DATE_EPOCH=1700000000 ocipush chart push "$chart" "oci://$REG" | tail -n 1)
    check_eq "same digest twice" "$a" "$b"
    registry_manifest_get "$REG" repro 0.0.1 "$WORK/r.json"
    check_eq created 2023-11-14T22:13:20Z "$(jq -r '.annotations["org.opencontainers.image.created"]' "$WORK/r.json")"
}

# bad_chart WHAT PATTERN FILE: exit 1, one line naming the problem, nothing pushed.
bad_chart() {
    local rc=0 before
    before=$(catalog | wc -l)
    ocipush chart push "$3" "oci://$REG/bad" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status ($1)" 1 "$rc"
    [[ $(wc -l <"$WORK/stderr") == 1 ]] || fail "$1: want one line: $(cat "$WORK/stderr")"
    grep -q -- "$2" "$WORK/stderr" || fail "$1: stderr lacks '$2': $(cat "$WORK/stderr")"
    check_eq "repositories after a bad chart ($1)" "$before" "$(catalog | wc -l)"
}

case_bad_charts() {
    local d=$WORK/bad
    mkdir -p "$d"
    echo "not a chart at all" >"$d/text.tgz"
    bad_chart "not gzip" "invalid argument: $d/text.tgz is not a chart" "$d/text.tgz"
    echo "plain text, gzip'd" | gzip >"$d/notar.tgz"
    bad_chart "not tar" "invalid argument: $d/notar.tgz is not a chart" "$d/notar.tgz"
    head -c 30 "$(make_chart "$d" cut 'apiVersion: v2
name: cut
version: 1.0.0')" >"$d/truncated.tgz"
    bad_chart "truncated" "invalid argument: $d/truncated.tgz is not a chart" "$d/truncated.tgz"
    # A tar that is not gzip'd: helm refuses it, so does ocipush.
    mkdir -p "$d/plain" && printf 'apiVersion: v2\nname: plain\nversion: 1.0.0\n' >"$d/plain/Chart.yaml"
    tar -C "$d" -cf "$d/plain.tgz" plain
    bad_chart "a tar not gzip'd" "$d/plain.tgz is not a chart (a gzip'd tar archive): it is not gzip-compressed" \
        "$d/plain.tgz"
    # Cut short after its Chart.yaml: the rest of the archive is read too.
    mkdir -p "$d/cutlate/templates" && printf 'apiVersion: v2\nname: cutlate\nversion: 1.0.0\n' >"$d/cutlate/Chart.yaml"
    head -c 300000 /dev/urandom >"$d/cutlate/templates/blob.bin"
    tar -C "$d" -czf "$d/cutlate-full.tgz" cutlate/Chart.yaml cutlate/templates/blob.bin
    head -c 200000 "$d/cutlate-full.tgz" >"$d/cutlate.tgz"
    bad_chart "cut short after Chart.yaml" "$d/cutlate.tgz is damaged or cut short" "$d/cutlate.tgz"
    mkdir -p "$d/nochart/templates" && echo x >"$d/nochart/templates/a.yaml"
    tar -C "$d" -czf "$d/nochart.tgz" nochart
    bad_chart "no Chart.yaml" "has no Chart.yaml" "$d/nochart.tgz"
    bad_chart "no name" "has no name" "$(make_chart "$d" noname 'apiVersion: v2
version: 1.0.0')"
    bad_chart "no version" "has no version" "$(make_chart "$d" nover 'apiVersion: v2
name: nover')"
    bad_chart "not semver" "is not a semantic version" "$(make_chart "$d" badver 'apiVersion: v2
name: badver
version: 1.0.0.0-x')"
    bad_chart "not YAML" "Chart.yaml" "$(make_chart "$d" broken 'name: [unclosed')"
    # A file that cannot be read is an I/O error with the system's reason,
    # not taken for one that is not a chart.
    bad_chart "missing file" "local I/O error: cannot read $d/does-not-exist.tgz: No such file or directory" \
        "$d/does-not-exist.tgz"
    bad_chart "a directory" "local I/O error: cannot read $d: Is a directory" "$d"
    if [[ $(id -u) != 0 ]]; then # root reads it anyway
        cp "$d/text.tgz" "$d/unreadable.tgz" && chmod 000 "$d/unreadable.tgz"
        bad_chart "unreadable" "local I/O error: cannot read $d/unreadable.tgz: Permission denied" \
            "$d/unreadable.tgz"
    fi
    catalog | grep -q "^bad/" && fail "a bad chart left a repository" || true
}

command -v skopeo >/dev/null || { echo "skopeo not found; install the Debian package 'skopeo'" >&2; exit 1; }
run_case "chart push as helm does, read back and by skopeo" case_chart_push
run_case "SOURCE_DATE_EPOCH makes the push reproducible" case_reproducible_with_source_date_epoch
run_case "bad charts: a clear error, nothing pushed" case_bad_charts

finish
