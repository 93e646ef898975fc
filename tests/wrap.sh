#!/usr/bin/env bash
# Runs a test program under $OCIPUSH_TEST_WRAPPER (valgrind, say) when set.
# Tests go through here, not through meson's exe_wrapper, because the
# integration tests' own executable is a shell script that starts servers:
# only the ocipush programs themselves are worth running under a checker.
# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
exec ${OCIPUSH_TEST_WRAPPER:-} "$@"
