#!/usr/bin/env bash
# Runs the Python binding's tests with Debian's python3 (standard library
# only), or with $PYTHON. Run it through the test servers:
#
#   OCIPUSH_LIBRARY=$PWD/build/lib/libocipush.so.0 \
#       tests/registry-env.sh bash bindings/python/run-tests.sh [TEST...]
#
# Exits with the tests' status: 0, 1 on a failure, 77 (skipped) for a library
# built with a sanitizer, which python cannot load.
set -euo pipefail
exec "${PYTHON:-/usr/bin/python3}" "$(dirname "${BASH_SOURCE[0]}")/test_ocipush.py" "$@"
