#!/usr/bin/env bash
# The Python binding as its users install it: `pip install bindings/python`
# into a fresh venv, offline (no index, no build isolation: setuptools and
# wheel come from Debian's python3-setuptools and python3-wheel through
# --system-site-packages). Then, from outside the source tree, the installed
# module is the one imported, it finds the library, and its versions agree
# with meson's.
#
# usage: test_python_package.sh SOURCE_ROOT LIBRARY VERSION
set -euo pipefail
SRC=$1 LIB=$2 VERSION=$3
PY=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "not ok - $*"; exit 1; }

# A library built with a sanitizer cannot be loaded by python: skip.
if nm -D "$LIB" 2>/dev/null | grep -q "__asan_init\|__tsan_init"; then
    echo "SKIP: the library is built with a sanitizer"
    exit 77
fi

# pip builds in the directory it is given: build a copy, so the source tree
# gets no build/ or *.egg-info.
cp -r "$SRC/bindings/python" "$WORK/src"
"$PY" -m venv --system-site-packages "$WORK/venv"
PIP_CONFIG_FILE=/dev/null "$WORK/venv/bin/pip" install --quiet --no-index --no-build-isolation \
    --disable-pip-version-check "$WORK/src" >"$WORK/pip.log" 2>&1 || {
    cat "$WORK/pip.log"
    fail "pip install bindings/python"
}
echo "ok - pip install bindings/python into a venv, offline"

# Imported from the venv, not from a copy beside the test.
cd "$WORK"
got=$(OCIPUSH_LIBRARY=$LIB "$WORK/venv/bin/python" -c '
import importlib.metadata, ocipush
print(ocipush.__file__)
print(ocipush.__version__)
print(ocipush.version())
print(ocipush.E_NOT_MOUNTED, ocipush.strerror(ocipush.E_NOT_MOUNTED))
print(importlib.metadata.version("ocipush"))
') || fail "import the installed ocipush"
mapfile -t lines <<<"$got"
[[ ${lines[0]} == "$WORK/venv/lib/"*"/site-packages/ocipush.py" ]] ||
    fail "imported ${lines[0]}, not the venv's"
echo "ok - the installed module is imported: ${lines[0]#"$WORK"/}"
[[ ${lines[1]} == "$VERSION" ]] || fail "ocipush.__version__ is ${lines[1]}, meson says $VERSION"
[[ ${lines[2]} == "$VERSION" ]] || fail "ocipush.version() is ${lines[2]}, meson says $VERSION"
[[ ${lines[4]} == "$VERSION" ]] || fail "the package (pyproject.toml) is ${lines[4]}, meson says $VERSION"
echo "ok - the package, ocipush.__version__ and ocipush.version() are $VERSION"
[[ ${lines[3]} == "-13 "* && ${lines[3]} != *"unknown"* ]] || fail "E_NOT_MOUNTED: ${lines[3]}"
echo "ok - E_NOT_MOUNTED is public: ${lines[3]}"

# Only the module is installed: not the tests or their runner.
site=$(dirname "${lines[0]}")
[[ ! -e $site/test_ocipush.py && ! -e $site/run-tests.sh ]] || fail "the tests were installed"
"$WORK/venv/bin/pip" uninstall --quiet --yes ocipush >/dev/null
[[ ! -e ${lines[0]} ]] || fail "pip uninstall left ${lines[0]}"
echo "ok - only ocipush.py is installed, and pip uninstall removes it"
echo "4 passed, 0 failed"
