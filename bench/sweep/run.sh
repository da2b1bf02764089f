#!/usr/bin/env bash
# The profile sweep on demand: N fresh sampled profiles (any seed), built and run against openssl s_server
# and gnutls-serv, then the counts, the heap-ratio distribution and every failure with its profile.
#
#   bench/sweep/run.sh [--seed S] [--count N] [--target host|cortex-m] [--jobs J]
#
# Defaults: a seed from the clock (printed, so the run can be repeated), 200 profiles, host. The profiles,
# the build tree and a JSON report land in build/sweep-<target>-<seed>/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
seed="" count=200 target=host jobs="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "usage: $0 [--seed S] [--count N] [--target host|cortex-m] [--jobs J]" >&2; exit 2 ;;
  esac
done
[ -n "$seed" ] || seed="$(date +%s)"
tarball="$(scripts/deps.sh)"
out="build/sweep-$target-$seed"
echo "sweep: seed $seed, $count profiles, target $target -> $out"
exec python3 tools/sweep/runner.py sweep --seed "$seed" --count "$count" --target "$target" --jobs "$jobs" \
  --build "$out" --mbedtls "$tarball" --json "$out/report.json"
