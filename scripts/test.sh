#!/usr/bin/env bash
# The whole tlsgen test suite, from a fresh clone: installs what it needs (idempotent), then runs
#   1. pytest: the generator (validation, resolution, determinism, golden files) and host-side tools
#      (the ESP8266 emulator, the integration driver's checks)
#   2. host build (Ninja) + ctest: every shipped profile's config compiled into mbedTLS and probed,
#      the runtime's GoogleTest suite, real TLS handshakes against openssl s_server
#   3. ASan+UBSan build (clang-14) of the runtime's tests + ctest
#   4. Cortex-M build (arm-none-eabi-gcc, -Werror; one tree, every core of the schema) + ctest: firmware
#      under QEMU where present, each core on its board (boards/boards.cmake)
# mbedTLS builds are cached per profile in build/ (Ninja only rebuilds what changed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
jobs="${TLSGEN_JOBS:-$(nproc)}"
start=$(date +%s)
step() { printf '\n==== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "dependencies"
tarball="$(scripts/deps.sh)"
# Fuzz targets run 30 s each here (TLSGEN_FUZZ_SECONDS, 60 by default): longer runs are on demand (tests/fuzz/README.md).
cmake_common=(-G Ninja "-DTLSGEN_MBEDTLS_SOURCE=$tarball" -DTLSGEN_FUZZ_SECONDS=30)

step "pytest"
python3 -m pytest -q tests/generator tests/integration bench/stack $( [ -d tests/esp8266_emu ] && echo tests/esp8266_emu )

step "host build"
cmake -S . -B build/host "${cmake_common[@]}" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/host -j "$jobs"
step "host ctest"
ctest --test-dir build/host --output-on-failure -j "$jobs" --timeout 300

step "sanitizer build (ASan+UBSan, clang-14)"
cmake -S . -B build/asan "${cmake_common[@]}" -DCMAKE_BUILD_TYPE=Debug -DTLSGEN_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DTLSGEN_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/asan -j "$jobs"
step "sanitizer ctest"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j "$jobs" --timeout 300

step "Cortex-M build (arm-none-eabi)"
cmake -S . -B build/arm "${cmake_common[@]}" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-arm-none-eabi.cmake" >/dev/null
cmake --build build/arm -j "$jobs"
if [ -n "$(ctest --test-dir build/arm -N | sed -n 's/^Total Tests: *//p' | grep -v '^0$')" ]; then
  step "Cortex-M ctest (QEMU)"
  ctest --test-dir build/arm --output-on-failure -j "$jobs" --timeout 600
fi

step "done in $(( $(date +%s) - start ))s"
