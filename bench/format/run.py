#!/usr/bin/env python3
"""Formatter bench: instructions per call on mbedTLS's format strings (bench/format/corpus.hpp).

    bench/format/run.py [HOST_BUILD] [ARM_BUILD]     (defaults build/host build/arm)

Host: valgrind --tool=callgrind counts the instructions of format_bench for `none` (the loop and
call overhead), `tlsgen` and `libc`; per call = (mode - none) / calls. Cortex-M4: format_bench_m4 in
QEMU with -icount shift=0 counts with TIMER0, the same subtraction. Prints a table; writes JSON.
"""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROUNDS, CALLS = 2000, 16


def callgrind(exe: Path, mode: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(exe), mode, str(ROUNDS)],
                       check=True, capture_output=True, timeout=600)
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1))


def main() -> int:
    host = Path(sys.argv[1] if len(sys.argv) > 1 else "build/host")
    arm = Path(sys.argv[2] if len(sys.argv) > 2 else "build/arm")
    rows = {}
    exe = host / "bench" / "format" / "format_bench"
    subprocess.run(["cmake", "--build", str(host), "--target", "format_bench"], check=True, capture_output=True)
    counts = {m: callgrind(exe, m) for m in ("none", "tlsgen", "libc")}
    rows["host"] = {m: (counts[m] - counts["none"]) / (ROUNDS * CALLS) for m in ("tlsgen", "libc")}
    fw = arm / "bench" / "format" / "format_bench_m4"
    if (arm / "build.ninja").exists():
        subprocess.run(["cmake", "--build", str(arm), "--target", "format_bench_m4"], check=True, capture_output=True)
        out = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                              "-serial", "null", "-semihosting-config", "enable=on,target=native",
                              "-icount", "shift=0,sleep=off", "-kernel", str(fw)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600).stdout
        m = dict(re.findall(r"(\w+)=(\d+)", re.search(r"TLSGEN_FORMAT (.*)", out).group(1)))
        base = int(m["baseline"])
        rows["cortex-m4"] = {"tlsgen": (int(m["tlsgen"]) - base) / CALLS, "newlib-nano": (int(m["newlib_nano"]) - base) / CALLS}
    print("| target | tlsgen::vsnprintf | reference | reference | tlsgen / reference |")
    print("| --- | ---: | --- | ---: | ---: |")
    for target, r in rows.items():
        ref = "libc" if target == "host" else "newlib-nano"
        print(f"| {target} | {r['tlsgen']:.0f} instr/call | {'glibc' if ref == 'libc' else ref} | "
              f"{r[ref]:.0f} instr/call | {r['tlsgen'] / r[ref]:.2f} |")
    out = host / "bench" / "format.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n({CALLS} format strings from mbedTLS's library/, {ROUNDS} rounds; JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
