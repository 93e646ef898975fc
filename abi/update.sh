#!/usr/bin/env bash
# abi/update.sh BUILDDIR: make abi/libocipush.abi the ABI of BUILDDIR's
# library (a debug build: abidw reads its DWARF). Run it when the ABI
# changes on purpose, and say what changed in NEWS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: abi/update.sh BUILDDIR}
abidw --headers-dir "$root/include" --no-corpus-path --out-file "$root/abi/libocipush.abi" \
    "$build/lib/libocipush.so"
echo "abi/libocipush.abi: $(grep -c "<elf-symbol name='ocipush_" "$root/abi/libocipush.abi") public functions"
