#!/usr/bin/env bash
# The built library's ABI against the baseline kept in abi/libocipush.abi
# (abidw of the public types and functions, the header's only: abigail-tools).
# Any difference fails, an added function included: the ABI changes on
# purpose, with abi/update.sh and a NEWS.md entry, never by accident.
# Usage: test_abi.sh BASELINE LIBRARY HEADERS_DIR
set -euo pipefail
baseline=$1 lib=$2 headers=$3
if ! command -v abidiff >/dev/null || ! command -v abidw >/dev/null; then
    echo "1..0 # SKIP abigail-tools (abidiff, abidw) not installed"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
abidw --headers-dir "$headers" --no-corpus-path --out-file "$work/current.abi" "$lib"
rc=0
abidiff --headers-dir1 "$headers" --headers-dir2 "$headers" "$baseline" "$work/current.abi" \
    >"$work/report" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "not ok - the library's ABI differs from $baseline (abidiff exit $rc):"
    sed 's/^/#   /' "$work/report"
    echo "# if the change is meant: abi/update.sh BUILDDIR, and say so in NEWS.md"
    exit 1
fi
echo "ok - the ABI is the baseline's ($(grep -c "<elf-symbol name='ocipush_" "$baseline") public functions)"
