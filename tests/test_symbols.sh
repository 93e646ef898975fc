#!/usr/bin/env bash
# The ABI is what the header declares: the functions include/ocipush.h marks
# OCIPUSH_API, the names lib/ocipush.map lists, and the symbols the built
# library exports (nm -D) must be the same set, each exported in the map's
# version node. Usage: test_symbols.sh HEADER MAP LIBRARY
set -euo pipefail
header=$1 map=$2 lib=$3
command -v nm >/dev/null || { echo "1..0 # SKIP nm not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# Declarations span lines: join the header into one, then take the name
# before the '(' of every OCIPUSH_API declaration.
tr '\n' ' ' <"$header" | grep -o 'OCIPUSH_API[^;(]*(' | sed 's/[[:space:]]*($//; s/.*[[:space:]*]//' | grep '^ocipush_' |
    sort -u >"$work/header"
sed -n '/global:/,/local:/p' "$map" | grep -o 'ocipush_[A-Za-z0-9_]*' | sort -u >"$work/map"
node=$(grep -o '^[A-Z0-9_]* {' "$map" | head -n 1 | cut -d' ' -f1)
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' |
    sort -u >"$work/dynsym"
sed 's/@.*//' "$work/dynsym" | sort -u >"$work/exported"

check_same() { # NAME-A FILE-A NAME-B FILE-B
    if ! diff -u "$2" "$4" >"$work/diff"; then
        echo "not ok - $1 and $3 differ:"
        sed 's/^/#   /' "$work/diff"
        fail=1
    else
        echo "ok - $1 and $3 agree ($(wc -l <"$2") symbols)"
    fi
}
check_same "the header's OCIPUSH_API functions" "$work/header" "the map" "$work/map"
check_same "the map" "$work/map" "the library's exports" "$work/exported"
if grep -v "@@$node\$" "$work/dynsym" >"$work/unversioned"; then
    echo "not ok - exported outside the version node $node:"
    sed 's/^/#   /' "$work/unversioned"
    fail=1
else
    echo "ok - every export is in the version node $node"
fi
[ -s "$work/header" ] || { echo "not ok - no declaration found in $header"; fail=1; }
exit $fail
