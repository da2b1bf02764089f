# The pinned mbedTLS source, one place for every script and for CMake (cmake/mbedtls.cmake reads it too).
MBEDTLS_VERSION=3.6.6
MBEDTLS_DEBIAN_SUITE=trixie
MBEDTLS_DEBIAN_VERSION=3.6.6-0.1~deb13u1
MBEDTLS_DEBIAN_TARBALL=mbedtls_3.6.6.orig.tar.bz2
MBEDTLS_DEBIAN_SHA256=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
TLSGEN_DEPS_DIR="${TLSGEN_DEPS_DIR:-$here/.deps}"
