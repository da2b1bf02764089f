#!/usr/bin/env python3
"""Export the largest heap peak of each calibration profile for tests/generator/test_heap_model.py.

    bench/heap/measurements.py --target host|cortex-m DIR [DIR ...] > tests/data/heap-measurements/<target>.json

DIR is a calibration sweep's build directory (tools/sweep/runner.py sweep --calibrate): its profiles/ (as
drawn), cal.json (every session's real tlsgen::Heap high water, measured with a 1 MiB or 160 KiB heap).
A profile is exported when every one of its sessions completed; the record keeps the profile's text, the
number of sessions and the largest peak among them. target.stack_bytes is dropped from the text: it does not
change the heap (calibration ran every profile on the board's default stack), and the stack rule a later
generator applies (tlsgen.stack) must not refuse a heap measurement.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "generator"))
from tlsgen.loader import load_profile  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402
from tlsgen.resolve.ecc import built_on_p256m  # noqa: E402


def profile_text(path: Path) -> str:
    text = path.read_text()
    data = yaml.safe_load(text)
    if "stack_bytes" not in data.get("target", {}):
        return text
    del data["target"]["stack_bytes"]
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def ecc_of(path: Path) -> str:
    return "p256m" if resolve(load_profile(str(path))).p256m else "legacy"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    out = []
    for d in map(Path, args.dirs):
        cal = json.loads((d / "cal.json").read_text())
        for p in cal["profiles"]:
            sessions = p["sessions"]
            if not sessions or not all(s["ok"] for s in sessions):
                continue
            built = d / "generated" / p["name"] / "mbedtls_config.h"
            ecc = ecc_of(d / "calibration-profiles" / f"{p['name']}.yaml")
            if built.exists() and built_on_p256m(built.read_text()) != (ecc == "p256m"):
                continue  # built on one elliptic-curve implementation, and tlsgen now picks the other
            out.append({"name": p["name"], "seed": cal.get("seed"), "sessions": len(sessions),
                        "servers": sorted({s["server"] for s in sessions}),
                        "peak": max(s["peak"] for s in sessions),
                        # the elliptic-curve implementation it ran on (tlsgen.resolve.ecc), as the generator picks
                        # it today (the record is checked against that model)
                        "ecc": ecc,
                        "profile": profile_text(d / "profiles" / f"{p['name']}.yaml")})
    json.dump({"target": args.target, "profiles": out}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
