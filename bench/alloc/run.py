#!/usr/bin/env python3
"""Allocator bench: arena needed / peak live bytes, and instructions per call, per trace and allocator.

    bench/alloc/run.py [BUILD]      (default build/bench-host; a Release build gives fair timings)

Arena: alloc_bench's binary search for the smallest region that completes each trace. Instructions:
valgrind --tool=callgrind over one replay per allocator, minus a replay with no allocator ("none"),
divided by the calls. Prints a markdown table; writes BUILD/bench/alloc.json.
"""
import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "tests" / "data" / "alloc-traces"
ALLOCATORS = ("tlsgen", "mba", "firstfit")
NAMES = {"tlsgen": "tlsgen::Heap", "mba": "memory_buffer_alloc", "firstfit": "seed first-fit"}


def peak_live(trace: Path) -> int:
    live, cur, peak = {}, 0, 0
    with open(trace) as f:
        for row in csv.DictReader(f):
            if row["op"] == "a":
                live[row["id"]] = int(row["size"])
                cur += live[row["id"]]
            else:
                cur -= live.pop(row["id"])
            peak = max(peak, cur)
    return peak


def instructions(exe: Path, kind: str, trace: Path) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(exe), "replay", kind,
                            str(trace), "1"], capture_output=True, text=True, check=True, timeout=600)
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1)), int(r.stdout.strip())


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench-host")
    subprocess.run(["cmake", "--build", str(build), "--target", "alloc_bench"], check=True, capture_output=True)
    exe = build / "bench" / "alloc" / "alloc_bench"
    rows = []
    for trace in sorted(TRACES.glob("*.csv")):
        peak = peak_live(trace)
        row = {"trace": trace.name, "peak_live": peak}
        base, calls = instructions(exe, "none", trace)
        for a in ALLOCATORS:
            arena = int(subprocess.run([str(exe), "arena", a, str(trace)], capture_output=True, text=True,
                                       check=True, timeout=600).stdout)
            total, _ = instructions(exe, a, trace)
            row[a] = {"arena": arena, "ratio": arena / peak, "instructions_per_call": (total - base) / calls}
        rows.append(row)
    print("| trace | peak live | " + " | ".join(f"{NAMES[a]} arena (ratio)" for a in ALLOCATORS) + " | "
          + " | ".join(f"{NAMES[a]} instr/call" for a in ALLOCATORS) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in ALLOCATORS * 2) + " |")
    for r in rows:
        print(f"| {r['trace']} | {r['peak_live']:,} | "
              + " | ".join(f"{r[a]['arena']:,} ({r[a]['ratio']:.3f})" for a in ALLOCATORS) + " | "
              + " | ".join(f"{r[a]['instructions_per_call']:.0f}" for a in ALLOCATORS) + " |")
    out = build / "bench" / "alloc.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n(x86-64; arena = smallest region that completes the trace; JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
