#!/usr/bin/env bash
# Fuzz each target for SECONDS, one after the other, then merge what it found
# into corpus/<target>/, minimized (hand-named seeds and crash-* files kept):
#     tests/fuzz/run.sh SECONDS [TARGET...]
# Builds (once) a clang build directory, $FUZZ_BUILD or build-fuzz at the top
# of the project, with -Dfuzzing=true; needs clang and libFuzzer (Debian:
# clang, libclang-rt-14-dev). Logs and crash inputs go to <build>/fuzz-logs/.
# A target stops at its first crash, leak, timeout or out-of-memory, which is
# saved as corpus/<target>/crash-*, and the next target runs. With
# FUZZ_KEEP_GOING=1 (libFuzzer's fork mode) a target goes on past crashes,
# which are left in <build>/fuzz-logs/<target>.crashes/ to triage.
# The exit status is 1 when anything crashed.
set -euo pipefail
seconds=${1:?usage: $0 SECONDS [TARGET...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
    targets=(reference url challenge registry_errors token manifest docker_config retry_after sanitize validate chart index
        layout_entries docker_manifest)

[ -d "$build" ] || (cd "$src" && CC=clang meson setup "$build" -Dfuzzing=true -Dtests=true)
ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}"
logs=$build/fuzz-logs
mkdir -p "$logs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for t in "${targets[@]}"; do
    exe=$build/tests/fuzz/fuzz_$t corpus=$here/corpus/$t log=$logs/$t.log found=$logs/$t.crashes
    rm -rf "$found"
    mkdir -p "$corpus" "$found" "$work/$t/seed" "$work/$t/new"
    # Known crashes stay out of the run: libFuzzer would stop on them at start.
    find "$corpus" -maxdepth 1 -type f ! -name 'crash-*' -exec cp -t "$work/$t/seed" {} +
    opts=(-max_total_time="$seconds" -timeout=25 -print_final_stats=1 -artifact_prefix="$found/")
    case $t in registry_errors | token | manifest | docker_config | layout_entries | docker_manifest) opts+=(-dict="$here/json.dict") ;; esac
    [ "${FUZZ_KEEP_GOING:-0}" = 0 ] ||
        opts+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    rc=0
    "$exe" "${opts[@]}" "$work/$t/new" "$work/$t/seed" >"$log" 2>&1 || rc=$?

    # Executions, rate and coverage: libFuzzer's final stats, or in fork mode
    # its last status line.
    final() { sed -n "s/^stat::$1: *//p" "$log"; }
    execs=$(final number_of_executed_units) rate=$(final average_exec_per_sec)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
    if [ -z "$rate" ]; then
        secs=$(grep -o ' time: [0-9]*s' "$log" | tail -n 1 | tr -dc 0-9 || true)
        rate=$((${execs:-0} / (${secs:-0} > 0 ? secs : 1)))
    fi
    cov=$(grep -o 'cov: [0-9]*' "$log" | sed -n '1p;$p' | grep -o '[0-9]*' | paste -sd' ' || true)
    crashes=$(find "$found" -type f ! -name 'slow-unit-*' | wc -l)
    [ "$rc" = 0 ] && [ "$crashes" = 0 ] || status=1
    if [ "${FUZZ_KEEP_GOING:-0}" = 0 ]; then
        for f in "$found"/*; do
            case ${f##*/} in slow-unit-* | \*) ;; crash-*) cp "$f" "$corpus/" ;;
            *) cp "$f" "$corpus/crash-${f##*/}" ;; esac
        done
    fi
    printf '%s: %s execs (%s/s), cov %s -> %s, %s crash inputs, exit %s\n' "$t" "${execs:-?}" \
        "${rate:-?}" "${cov%% *}" "${cov##* }" "$crashes" "$rc"

    # Minimize seeds + new inputs; the result replaces the hash-named files.
    # Over $FUZZ_CORPUS_CAP (200) inputs, keep those that cover the edges
    # (ignoring libFuzzer's hit-count buckets), then the smallest of the rest.
    merge() {
        mkdir "$1"
        "$exe" -merge=1 "${@:2}" "$1" "$work/$t/seed" "$work/$t/new" >>"$logs/$t.merge.log" 2>&1
    }
    cap=${FUZZ_CORPUS_CAP:-200} min=$work/$t/min
    rm -f "$logs/$t.merge.log"
    merge "$min"
    if [ "$(find "$min" -type f | wc -l)" -gt "$cap" ]; then
        edges=$work/$t/edges
        merge "$edges" -use_counters=0
        room=$((cap - $(find "$edges" -type f | wc -l)))
        for f in $(find "$min" -type f -printf '%s %f\n' | sort -n | cut -d' ' -f2); do
            [ "$room" -gt 0 ] || break
            [ -e "$edges/$f" ] || { cp "$min/$f" "$edges/" && room=$((room - 1)); }
        done
        min=$edges
    fi
    find "$corpus" -maxdepth 1 -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -delete
    # libFuzzer names inputs by their SHA-1: a seed kept under its own name
    # is not copied again under its hash.
    kept=$(find "$corpus" -maxdepth 1 -type f -exec sha1sum {} + | cut -d' ' -f1)
    for f in "$min"/*; do
        [ -e "$f" ] && ! grep -qx "${f##*/}" <<<"$kept" && cp "$f" "$corpus/"
    done
    echo "$t: corpus $(find "$corpus" -maxdepth 1 -type f | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"
done
exit "$status"
