#!/usr/bin/env bash
# Installs what tlsgen's build, tests and demos need, idempotently:
#   - Debian packages (toolchains, QEMU, peers, GoogleTest, clang for sanitizers/fuzzing)
#   - the Python package in editable mode with its test extras
#   - the pinned mbedTLS 3.6 source tarball (Debian source package, SHA-256 checked)
# Usage: scripts/deps.sh [--no-apt] ; prints the path of the verified mbedTLS tarball last.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/mbedtls-pin.sh
. "$here/scripts/mbedtls-pin.sh"

APT_PACKAGES=(cmake ninja-build g++ libgtest-dev openssl gnutls-bin valgrind
              gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib libstdc++-arm-none-eabi-dev qemu-system-arm
              clang-14 libclang-rt-14-dev bzip2 python3-pip python3-cryptography)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf '[deps] %s\n' "$*" >&2; }

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

# A deb-src entry for the suite that carries mbedTLS 3.6, derived from the machine's own
# Debian sources (same mirror, same keyring); no host name is written by this script.
SRC_LIST=/etc/apt/sources.list.d/tlsgen-mbedtls-src.sources
ensure_deb_src() {
  [ -f "$SRC_LIST" ] && return 0
  local src uri keyring
  for src in /etc/apt/sources.list.d/debian.sources; do [ -f "$src" ] || continue
    uri=$(awk '/^URIs:/{print $2; exit}' "$src")
    keyring=$(awk '/^Signed-By:/{print $2; exit}' "$src")
  done
  if [ -z "${uri:-}" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "${uri:-}" ] || { log "no Debian apt source found to derive a deb-src entry from"; return 1; }
  log "adding deb-src entry for suite $MBEDTLS_DEBIAN_SUITE (derived from the existing apt sources)"
  {
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: $MBEDTLS_DEBIAN_SUITE"
    echo "Components: main"
    [ -n "${keyring:-}" ] && echo "Signed-By: $keyring"
  } | sudo_ tee "$SRC_LIST" >/dev/null
  APT_UPDATED=0
}

APT_UPDATED=0
apt_update_once() { [ "$APT_UPDATED" = 1 ] || { sudo_ apt-get update -qq >&2 || true; APT_UPDATED=1; }; }

install_apt() {
  local miss
  miss=$(missing_packages)
  if [ -n "$miss" ]; then
    log "installing: $(echo $miss)"
    apt_update_once
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends $miss >&2
  fi
}

fetch_mbedtls() {
  local dest="$TLSGEN_DEPS_DIR/$MBEDTLS_DEBIAN_TARBALL"
  mkdir -p "$TLSGEN_DEPS_DIR"
  if [ -f "$dest" ] && echo "$MBEDTLS_DEBIAN_SHA256  $dest" | sha256sum -c --status; then
    echo "$dest"; return 0
  fi
  ensure_deb_src
  apt_update_once
  local tmp; tmp=$(mktemp -d)
  log "downloading mbedTLS $MBEDTLS_VERSION source (Debian source package)"
  (cd "$tmp" && apt-get source --download-only -qq "mbedtls=$MBEDTLS_DEBIAN_VERSION" >&2 \
     || apt-get source --download-only -qq mbedtls >&2)
  local got="$tmp/$MBEDTLS_DEBIAN_TARBALL"
  [ -f "$got" ] || { log "apt-get source did not produce $MBEDTLS_DEBIAN_TARBALL (found: $(ls "$tmp"))"; rm -rf "$tmp"; return 1; }
  if ! echo "$MBEDTLS_DEBIAN_SHA256  $got" | sha256sum -c --status; then
    log "SHA-256 mismatch for $MBEDTLS_DEBIAN_TARBALL: got $(sha256sum "$got" | cut -d' ' -f1), pinned $MBEDTLS_DEBIAN_SHA256"
    rm -rf "$tmp"; return 1
  fi
  mv "$got" "$dest"; rm -rf "$tmp"
  echo "$dest"
}

install_python() {
  if ! python3 -c 'import tlsgen, pytest, pydantic, jinja2, yaml' 2>/dev/null \
     || [ "$here/pyproject.toml" -nt "$TLSGEN_DEPS_DIR/.pip-stamp" ]; then
    log "pip install -e .[test]"
    python3 -m pip install -q --disable-pip-version-check -e "$here[test]" >&2
    mkdir -p "$TLSGEN_DEPS_DIR"; touch "$TLSGEN_DEPS_DIR/.pip-stamp"
  fi
}

main() {
  local no_apt=0
  [ "${1:-}" = "--no-apt" ] && no_apt=1
  [ "$no_apt" = 1 ] || install_apt
  install_python
  fetch_mbedtls
}
main "$@"
