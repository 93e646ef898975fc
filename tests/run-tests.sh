#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian 12 machine:
#   1. installs missing Debian packages,
#   2. builds with warnings as errors and runs every test (unit, integration
#      against a real registry and a chunk-rejecting nginx, and the pkg-config
#      (shared and static) and subproject consumers),
#   3. makes the release tarball (meson dist) and builds it and runs its unit
#      tests in a directory of its own,
#   4. runs unit and integration tests again under ASan+UBSan, hashing
#      with mbedTLS (the other builds: OpenSSL's libcrypto, libcurl's own),
#   5. once more with every ocipush program under valgrind memcheck,
#   6. and two threads pushing with separate sessions under TSan.
# Ends with "N passed, N failed" and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tests/install-deps.sh

passed=0
failed=0

# run_suite LABEL BUILDDIR [meson test options...]
run_suite() {
    local label=$1 dir=$2 log status=0
    shift 2
    echo "=== $label"
    log=$(mktemp)
    meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || status=$?
    local ok fail timeout
    ok=$(awk '/^Ok:/ {print $2}' "$log")
    fail=$(awk '/^Fail:/ {print $2}' "$log")
    timeout=$(awk '/^Timeout:/ {print $2}' "$log")
    rm -f "$log"
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${fail:-0} + ${timeout:-0}))
    # A run that failed without counting a failed test (a build error) counts as one.
    if [[ $status -ne 0 && ${fail:-0} -eq 0 && ${timeout:-0} -eq 0 ]]; then
        failed=$((failed + 1))
    fi
}

setup() { # setup DIR [options...]
    local dir=$1
    shift
    if [[ -d $dir ]]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
    meson compile -C "$dir"
}

# dist_check: the tarball `meson dist` makes from what git has committed
# (--allow-dirty: local changes are not in it, and not tested here) must
# configure, build and pass the unit suite alone, away from the checkout. No
# network: the system has every dependency, and no wrap may be fetched.
dist_check() {
    local tmp
    echo "=== meson dist"
    tmp=$(mktemp -d)
    rm -rf build-test/meson-dist
    if meson dist -C build-test --no-tests --formats xztar --allow-dirty &&
        mkdir "$tmp/src" && tar -xJf build-test/meson-dist/*.tar.xz -C "$tmp/src" --strip-components=1 &&
        { meson setup "$tmp/build" "$tmp/src" --wrap-mode=nodownload >"$tmp/setup.log" ||
            { cat "$tmp/setup.log"; false; }; } &&
        meson compile -C "$tmp/build"; then
        run_suite "unit tests of the dist tarball" "$tmp/build" --suite unit
    else
        echo "meson dist: no tarball, or it did not build"
        failed=$((failed + 1))
    fi
    rm -rf "$tmp"
}

setup build-test -Dwerror=true
run_suite "tests" build-test
dist_check

# This build hashes with mbedTLS (the others with the default, libcurl's own
# libcrypto), so both digest backends run the suite.
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Ddigest_backend=mbedtls
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite "tests under ASan+UBSan" build-asan --no-suite consumers --no-suite selftest --no-suite python

run_suite "tests under valgrind" build-test --setup valgrind --no-suite consumers --no-suite selftest --no-suite python

# Threads: two sessions pushing at once, under ThreadSanitizer.
setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false
TSAN_OPTIONS=halt_on_error=1 run_suite "threads under TSan" build-tsan threads test_hasher

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
