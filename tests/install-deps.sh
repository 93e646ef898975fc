#!/usr/bin/env bash
# Installs the Debian 12 packages ocipush builds and tests with, only those
# missing (so a machine that has them all needs no network and no root).
set -euo pipefail

PACKAGES=(
    gcc g++ pkg-config meson ninja-build     # build
    libcurl4-openssl-dev libcjson-dev libmbedtls-dev zlib1g-dev  # the library's dependencies
    libzstd-dev                                       # zstd layers on the fly (optional)
    libarchive-dev libyaml-dev libssl-dev             # Helm charts; the optional OpenSSL digest
    docker-registry nginx-light curl jq iproute2 bc      # the test registry, proxy and readers
    openssl apache2-utils python3 python3-jwt python3-cryptography  # auth tests: CA, htpasswd, token server
    valgrind skopeo                           # the memcheck run; an independent reader
    abigail-tools binutils                    # the ABI against its baseline (abidiff), nm
    scdoc groff-base                          # the man page, and its check
    python3-venv python3-setuptools python3-wheel  # pip install of bindings/python, offline
    zstd                                      # a zstd OCI archive for the copy test
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
