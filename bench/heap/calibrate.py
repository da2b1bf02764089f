#!/usr/bin/env python3
"""Heap-model calibration harness: real sessions with a recording heap, next to the model's figure.

Host: runs tests/integration's client for every host profile against openssl s_server (the `get`
case: setup, CA/PSK, handshake, one HTTP GET, reply, close), with --trace, and reports per profile
the measured peak (tlsgen::Heap high-water: the arena the session needed, headers included), the
payload peak, the blocks live at the peak and their largest members, and the generated heap.
QEMU Cortex-M figures come from tests/qemu/run_qemu.py's JSON (--qemu-json files), which the
Cortex-M ctest cases write.

    bench/heap/calibrate.py --build build/host [--qemu-json build/arm/tests/qemu/*.json] [--json OUT]
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_integration", ROOT / "tests" / "integration" / "run_integration.py")
ri = importlib.util.module_from_spec(_spec)
sys.modules["run_integration"] = ri
_spec.loader.exec_module(ri)  # type: ignore[union-attr]
sys.path.insert(0, str(ROOT / "generator"))
from tlsgen.pipeline import build  # noqa: E402

HOST_PROFILES = ["host-tls12-psk", "host-ecdhe-ecdsa", "host-tls13"]


def peak_composition(trace: Path, header: int, align: int) -> tuple[int, list[int]]:
    """Replays a trace: payload peak (rounded like tlsgen::Heap) and the request sizes live at it."""
    live: dict[str, int] = {}
    cur = best = 0
    at_peak: list[int] = []
    rnd = lambda n: -(-max(n, 8) // align) * align  # noqa: E731
    with open(trace) as f:
        for row in csv.DictReader(f):
            size = int(row["size"])
            if row["op"] == "a":
                live[row["id"]] = size
                cur += rnd(size) + header
            else:
                cur -= rnd(live.pop(row["id"])) + header
            if cur > best:
                best, at_peak = cur, sorted(live.values(), reverse=True)
    return best, at_peak


def run_host(build_dir: Path, work: Path) -> list[dict]:
    certs = ri.make_certs("openssl", work)
    rows = []
    for prof in HOST_PROFILES:
        case = ri.cases_for(prof)["get"]
        port = ri.free_port()
        server = ri.openssl_server("openssl", ri.PROFILES[prof], case, certs, port)
        if not server.start():
            raise SystemExit(f"s_server for {prof} did not start")
        trace = work / f"{prof}.trace.csv"
        client = build_dir / "tests" / "integration" / f"tls_client_{prof.replace('-', '_')}"
        args = [a.replace("{certs}", str(certs)) for a in case.client_args]
        try:
            out = subprocess.run([str(client), "--host", "127.0.0.1", "--port", str(port), "--timeout-ms", "10000",
                                  "--trace", str(trace), *args], capture_output=True, text=True, timeout=60).stdout
        finally:
            server.stop()
        heap = dict(re.findall(r"(\w+)=(\d+)", re.search(r"^TLSGEN_HEAP (.*)$", out, re.M).group(1)))
        model = build(str(ROOT / "profiles" / f"{prof}.yaml"))
        arena, live = peak_composition(trace, 16, 16)
        rows.append({"profile": prof, "target": "host (x86-64)", "measured_peak": int(heap["peak"]),
                     "peak_payload": int(heap["peak_payload"]), "peak_blocks": int(heap["peak_blocks"]),
                     "generated": model.heap.bytes, "model": model.heap.model.total,
                     "largest_live_at_peak": live[:8], "replayed_peak_arena": arena})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/host")
    ap.add_argument("--work", default=None)
    ap.add_argument("--qemu-json", nargs="*", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()
    build_dir = Path(args.build)
    work = Path(args.work) if args.work else build_dir / "bench" / "heap"
    work.mkdir(parents=True, exist_ok=True)
    rows = run_host(build_dir, work)
    for q in args.qemu_json:
        d = json.loads(Path(q).read_text())
        model = build(str(ROOT / "profiles" / f"{d['profile']}.yaml"))
        rows.append({"profile": d["profile"], "target": "Cortex-M4 (QEMU)", "measured_peak": d["heap_peak"],
                     "peak_payload": d["heap_peak_payload"], "peak_blocks": d["heap_peak_blocks"],
                     "generated": model.heap.bytes, "model": model.heap.model.total})
    print("| profile | target | measured peak | live blocks | generated heap | generated / peak |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['profile']} | {r['target']} | {r['measured_peak']:,} | {r['peak_blocks']} | {r['generated']:,} | "
              f"{r['generated'] / r['measured_peak']:.3f} |")
    for r in rows:
        if "largest_live_at_peak" in r:
            print(f"{r['profile']}: largest requests live at the peak: {r['largest_live_at_peak']}")
    out = Path(args.json) if args.json else work / "calibration.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
