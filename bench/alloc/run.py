#!/usr/bin/env python3
"""Allocator bench: arena needed / peak live bytes, and instructions per call, per trace and allocator.

    bench/alloc/run.py [HOST_BUILD] [ARM_BUILD]   (defaults build/bench-host build/arm; Release host
                                                   builds give fair counts; no ARM build: host only)

Host (x86-64): alloc_bench's binary search for the smallest region that completes each trace;
instructions by valgrind --tool=callgrind over one replay per allocator, minus a replay with no
allocator ("none"), divided by the calls. Cortex-M4: alloc_bench_m4 in QEMU (-icount shift=0) does the
same on the target's layouts (tlsgen::Heap with its 8-byte header and 8-byte alignment), counting with
TIMER0. The traces are x86-64 sessions, so both replay the same request sizes.

"Bound" is what any allocator with an 8-byte header and 8-byte alignment needs at the trace's peak
(every live request rounded up to 8, plus 8): no header-prefixed allocator can do better.
Prints markdown tables; writes BUILD/bench/alloc.json.
"""
import csv
import json
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "tests" / "data" / "alloc-traces"
ALLOCATORS = ("tlsgen", "mba", "firstfit")
NAMES = {"tlsgen": "tlsgen::Heap", "mba": "memory_buffer_alloc", "firstfit": "seed first-fit"}


def rows_of(trace: Path) -> list[tuple[bool, int, int]]:
    with open(trace) as f:
        return [(r["op"] == "a", int(r["size"]), int(r["id"])) for r in csv.DictReader(f)]


def peak_live(trace: Path) -> tuple[int, int]:
    """(peak live bytes, the 8-byte-header bound at that peak)."""
    live: dict[int, int] = {}
    cur = peak = bound = 0
    for alloc, size, ident in rows_of(trace):
        if alloc:
            live[ident] = size
            cur += size
        else:
            cur -= live.pop(ident)
        if cur > peak:
            peak = cur
            bound = sum(8 + -(-s // 8) * 8 for s in live.values())
    return peak, bound


def packed(trace: Path, dest: Path) -> int:
    """The trace as the Cortex-M programs read it (alloc_bench_m4, tests/qemu/heap_traces): little-endian u32
    rows (bench::Op, trace_op.hpp). Returns the number of rows."""
    words = []
    for alloc, size, ident in rows_of(trace):
        if size > 0xFFFF or ident > 0x7FFF:
            raise SystemExit(f"{trace}: row too large for the packed format ({size}, {ident})")
        words.append((0x80000000 if alloc else 0) | size << 15 | ident)
    dest.write_bytes(struct.pack(f"<{len(words)}I", *words))
    return len(words)


def qemu_rows(arm: Path, trace: Path) -> dict:
    fw = arm / "bench" / "alloc" / "alloc_bench_m4"
    with tempfile.TemporaryDirectory() as tmp:
        packed(trace, Path(tmp) / "trace.bin")
        out = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                              "-serial", "null", "-semihosting-config", "enable=on,target=native",
                              "-icount", "shift=0,sleep=off", "-kernel", str(fw.resolve()), "-append", "trace=trace.bin"],
                             cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900).stdout
    got = {}
    for line in re.findall(r"^TLSGEN_ALLOC (.*)$", out, re.M):
        f = dict(x.split("=") for x in line.split())
        got[f["allocator"]] = {"arena": int(f["arena"]), "instructions_per_call": int(f["instructions"]) / int(f["calls"])}
    if set(got) != set(ALLOCATORS) or any(v["arena"] == 0 for v in got.values()):
        raise SystemExit(f"alloc_bench_m4 on {trace.name} failed:\n{out}")
    return got


def instructions(exe: Path, kind: str, trace: Path) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(exe), "replay", kind,
                            str(trace), "1"], capture_output=True, text=True, check=True, timeout=600)
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1)), int(r.stdout.strip())


def table(title: str, rows: list[dict], key: str) -> None:
    print(f"### {title}")
    print("| trace | peak live | bound (8-byte header) | " + " | ".join(f"{NAMES[a]} arena (ratio)" for a in ALLOCATORS)
          + " | " + " | ".join(f"{NAMES[a]} instr/call" for a in ALLOCATORS) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in ALLOCATORS * 2) + " |")
    for r in rows:
        t = r[key]
        print(f"| {r['trace']} | {r['peak_live']:,} | {r['bound']:,} ({r['bound'] / r['peak_live']:.3f}) | "
              + " | ".join(f"{t[a]['arena']:,} ({t[a]['arena'] / r['peak_live']:.3f})" for a in ALLOCATORS) + " | "
              + " | ".join(f"{t[a]['instructions_per_call']:.0f}" for a in ALLOCATORS) + " |")


def main() -> int:
    host = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench-host")
    arm = Path(sys.argv[2] if len(sys.argv) > 2 else "build/arm")
    subprocess.run(["cmake", "--build", str(host), "--target", "alloc_bench"], check=True, capture_output=True)
    with_arm = (arm / "build.ninja").exists()
    if with_arm:
        subprocess.run(["cmake", "--build", str(arm), "--target", "alloc_bench_m4"], check=True, capture_output=True)
    exe = host / "bench" / "alloc" / "alloc_bench"
    rows = []
    for trace in sorted(TRACES.glob("*.csv")):
        peak, bound = peak_live(trace)
        row = {"trace": trace.name, "peak_live": peak, "bound": bound, "host": {}}
        base, calls = instructions(exe, "none", trace)
        for a in ALLOCATORS:
            arena = int(subprocess.run([str(exe), "arena", a, str(trace)], capture_output=True, text=True,
                                       check=True, timeout=600).stdout)
            total, _ = instructions(exe, a, trace)
            row["host"][a] = {"arena": arena, "ratio": arena / peak, "instructions_per_call": (total - base) / calls}
        if with_arm:
            row["cortex-m4"] = qemu_rows(arm, trace)
            for v in row["cortex-m4"].values():
                v["ratio"] = v["arena"] / peak
        rows.append(row)
    table("x86-64 (tlsgen::Heap: 16-byte header, 16-byte alignment; callgrind)", rows, "host")
    if with_arm:
        print()
        table("Cortex-M4 in QEMU (tlsgen::Heap: 8-byte header, 8-byte alignment; TIMER0 instruction counts)", rows,
              "cortex-m4")
    out = host / "bench" / "alloc.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n(arena = smallest region that completes the trace; the traces are x86-64 sessions, replayed "
          f"with the same sizes on both targets; JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
