#!/usr/bin/env bash
# All of tlsgen's benchmarks in one run, side by side (ratios), as markdown tables; the figures also
# go to build/bench/results.json and a chart to build/bench/footprint.svg.
#   bench/run.sh
# Builds: build/bench-host (Release, host) and build/arm (MinSizeRel, Cortex-M4).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
tarball="$(scripts/deps.sh)"
host=build/bench-host
arm=build/arm
out=build/bench
mkdir -p "$out"
cmake -S . -B "$host" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DTLSGEN_MBEDTLS_SOURCE=$tarball" >/dev/null
cmake -S . -B "$arm" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-arm-none-eabi.cmake" \
  "-DTLSGEN_MBEDTLS_SOURCE=$tarball" >/dev/null
cmake --build "$host" -j"$(nproc)" >/dev/null
cmake --build "$arm" -j"$(nproc)" >/dev/null
# (the stock-config builds are not in `all`: bench/footprint/run.py and bench/handshake/run.py build them by name)

echo "## Flash and static RAM of a minimal Cortex-M4 client (arm-none-eabi-gcc -Os, newlib-nano)"
python3 bench/footprint/run.py "$arm"
echo
echo "## DTLS PSK-CCM-8 client's flash over the TLS one's: as built, with -flto, and the most a DTLS-only mbedTLS saves"
python3 bench/footprint/dtls_delta.py "$arm"
echo
echo "## Formatter: instructions per call on mbedTLS's format strings"
python3 bench/format/run.py "$host" "$arm"
echo
echo "## Allocator: arena needed / peak live bytes, instructions per call (alloc traces)"
python3 bench/alloc/run.py "$host" "$arm"
echo
echo "## Handshake cost in QEMU (-icount shift=0; modem waiting excluded): Cortex-M4 ours vs stock, then every core"
python3 bench/handshake/run.py "$arm" "$out"
echo
echo "## Heap: measured peak vs generated heap (real sessions against openssl s_server, host and QEMU)"
python3 bench/heap/calibrate.py --build "$host" --json "$out/heap.json" \
  --qemu-json $(ls "$out"/handshake-m4-*.json 2>/dev/null || true)
python3 bench/report.py "$host" "$arm" "$out"
