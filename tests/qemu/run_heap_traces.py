#!/usr/bin/env python3
"""The recorded mbedTLS sessions on the Cortex-M layout: each trace of tests/data/alloc-traces replayed by
heap_traces.cpp's firmware in QEMU, tlsgen::Heap side by side with the single best-fit list it had before its
size-class bins. Fails unless every call of every trace placed its block where the single list did.

    run_heap_traces.py --qemu QEMU --firmware ELF [--traces DIR]
"""
import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The packed trace format has one writer: the allocator bench's packed() (bench/alloc/run.py).
_spec = importlib.util.spec_from_file_location("alloc_bench_run", ROOT / "bench" / "alloc" / "run.py")
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--firmware", required=True)
    ap.add_argument("--traces", default=str(ROOT / "tests" / "data" / "alloc-traces"))
    args = ap.parse_args()
    traces = sorted(Path(args.traces).glob("*.csv"))
    if not traces:
        print(f"no traces in {args.traces}")
        return 1
    passed = failed = 0
    for trace in traces:
        with tempfile.TemporaryDirectory() as tmp:
            rows = _bench.packed(trace, Path(tmp) / "trace.bin")
            out = subprocess.run([args.qemu, "-M", "mps2-an386", "-display", "none", "-monitor", "none", "-serial",
                                  "null", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,sleep=off",
                                  "-kernel", str(Path(args.firmware).resolve()), "-append", "trace=trace.bin"],
                                 cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300).stdout
        m = re.search(r"HEAP TRACE calls=(\d+) mismatches=(\d+) first=(\d+) high_water=(\d+) check=(\d)", out)
        ok = m is not None and int(m[1]) == rows and m[2] == "0" and m[5] == "1"
        print(f"{'ok  ' if ok else 'FAIL'} {trace.name}: " + (m[0] if m else out.strip()[-300:]))
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
