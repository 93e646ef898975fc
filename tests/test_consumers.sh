#!/usr/bin/env bash
# ocipush as its users get it: (1) installed, found through pkg-config,
# (2) installed, linked statically against libocipush.a with
# `pkg-config --static`, and (3) as a meson subproject of another project.
# Each consumer builds the C example from README.md and pushes standard input
# through the chunk-rejecting proxy with it; the blob is read back and
# re-hashed.
#
# usage: registry-env.sh bash tests/test_consumers.sh SOURCE_ROOT
set -euo pipefail
SRC=$1
# shellcheck source=readback.sh
source "$SRC/tests/readback.sh"
WORK=$OCIPUSH_TEST_TMP/consumers
mkdir -p "$WORK/app"

# The README's example, exactly as printed there.
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' "$SRC/README.md" >"$WORK/app/app.c"
grep -q ocipush_blob_push "$WORK/app/app.c" || fail "no C example found in README.md"

head -c 300007 /dev/urandom >"$WORK/blob"
want="sha256:$(sha256sum "$WORK/blob" | cut -d' ' -f1)"

# run_example BINARY REPO: push through the proxy, check digest and readback.
run_example() {
    local out
    out=$("$1" <"$WORK/blob") ||
        fail "$1 failed"
    check_eq "$1 digest" "$want" "$out"
    check_eq "$1 served" "$want" "$(registry_blob_sha256 "$OCIPUSH_TEST_REGISTRY" "$2" "$want")"
}
# The example pushes to localhost:5000/library/app: point it at the proxy.
sed -i "s|\"localhost:5000\"|\"$OCIPUSH_TEST_PROXY\"|" "$WORK/app/app.c"

# needs_libocipush BINARY: whether BINARY has libocipush.so.* as a NEEDED entry.
needs_libocipush() {
    [[ $(readelf -d "$1") == *"Shared library: [libocipush.so."* ]]
}

echo "--- pkg-config"
# Both libraries, as a distribution installs them: the .so and libocipush.a.
meson setup "$WORK/build" "$SRC" --prefix "$WORK/prefix" -Ddefault_library=both \
    -Dtests=false -Dexamples=false >/dev/null
meson install -C "$WORK/build" >/dev/null
pc_dir=$(dirname "$(find "$WORK/prefix" -name ocipush.pc | head -n 1)")
[[ -f $pc_dir/ocipush.pc ]] || fail "no ocipush.pc installed"
libdir=$(dirname "$pc_dir")
[[ -f $libdir/libocipush.a ]] || fail "no libocipush.a installed beside the .so"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc -std=c11 -Wall -Wextra -Werror -o "$WORK/app-pc" "$WORK/app/app.c" \
    $(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs ocipush)
needs_libocipush "$WORK/app-pc" || fail "app-pc does not need libocipush.so"
LD_LIBRARY_PATH=$libdir run_example "$WORK/app-pc" library/app
echo "ok - pkg-config consumer"

echo "--- pkg-config --static"
# libocipush.a with what its .pc lists for static linking and nothing more:
# its Libs and Libs.private (--maximum-traverse-depth=2: ocipush alone), and
# the Requires.private modules, linked shared as Debian ships them. A library
# missing from either field is an undefined reference here. (The whole
# `pkg-config --static` line also takes libcurl's own Libs.private, whose -dev
# packages libcurl4-openssl-dev does not pull in: -lnghttp2, -lrtmp, ...)
export PKG_CONFIG_PATH=$pc_dir
own=" $(pkg-config --static --cflags --libs --maximum-traverse-depth=2 ocipush) "
[[ $own == *" -locipush "* ]] || fail "no -locipush in:$own"
own=${own/ -locipush / -Wl,-Bstatic -locipush -Wl,-Bdynamic }
mapfile -t requires < <(pkg-config --print-requires-private ocipush)
[[ ${#requires[@]} -gt 0 ]] || fail "ocipush.pc has no Requires.private"
deps=$(pkg-config --cflags --libs "${requires[@]}")
unset PKG_CONFIG_PATH
# shellcheck disable=SC2086 # lists of flags
cc -std=c11 -Wall -Wextra -Werror -o "$WORK/app-static" "$WORK/app/app.c" $own $deps
! needs_libocipush "$WORK/app-static" || fail "app-static needs libocipush.so"
nm --defined-only "$WORK/app-static" | awk '$3 == "ocipush_blob_push" {t = 1} END {exit !t}' ||
    fail "app-static has no ocipush_blob_push of its own"
run_example "$WORK/app-static" library/app
echo "ok - static consumer"

echo "--- meson subproject"
mkdir -p "$WORK/app/subprojects"
ln -s "$SRC" "$WORK/app/subprojects/ocipush"
cat >"$WORK/app/meson.build" <<'MESON'
project('consumer', 'c', default_options: ['c_std=c11', 'werror=true', 'warning_level=2'])
ocipush_dep = dependency('ocipush', fallback: ['ocipush', 'ocipush_dep'])
executable('app', 'app.c', dependencies: ocipush_dep)
MESON
meson setup "$WORK/app/build" "$WORK/app" >/dev/null
meson compile -C "$WORK/app/build" >/dev/null
# Built as a subproject, ocipush must not build its tests or the CLI.
[[ ! -e $WORK/app/build/subprojects/ocipush/tests ]] || fail "subproject built its tests"
[[ ! -e $WORK/app/build/subprojects/ocipush/examples ]] || fail "subproject built its examples"
run_example "$WORK/app/build/app" library/app
echo "ok - meson subproject consumer"
echo "3 passed, 0 failed"
