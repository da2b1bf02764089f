#!/usr/bin/env python3
"""Export the largest heap peak of each calibration profile for tests/generator/test_heap_model.py.

    bench/heap/measurements.py --target host|cortex-m [--keep EARLIER.json] DIR [DIR ...] > tests/data/heap-measurements/<target>.json

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
from tlsgen.errors import ProfileError  # noqa: E402
from tlsgen.loader import load_profile  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402
from tlsgen.resolve.ecc import built_on_p256m, heap_hooks_recorded, heap_relevant_hooks  # noqa: E402


def profile_text(path: Path) -> str:
    text = path.read_text()
    data = yaml.safe_load(text)
    if "stack_bytes" not in data.get("target", {}):
        return text
    del data["target"]["stack_bytes"]
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def ecc_of(path: Path) -> str:
    return "p256m" if resolve(load_profile(str(path))).p256m else "legacy"


def hooks_today(profile_text_: str, ecc: str | None) -> dict:
    """heap_relevant_hooks() of the build tlsgen makes of the profile today, on the implementation the record ran on (records older
    than the p256-m driver have no `ecc`: the legacy ECP), as tests/generator/test_heap_model.py builds it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        path.write_text(profile_text_)
        try:
            return heap_relevant_hooks(resolve(load_profile(str(path)), p256m=ecc == "p256m").defined)
        except ProfileError:  # refused today: tests/generator/test_heap_model.py counts it as such
            return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("--keep", metavar="JSON",
                    help="an earlier export whose records stay, less those built with other ECP hooks than "
                         "tlsgen now turns on for their profile (measured on another build: dropped, counted on "
                         "stderr); the sweeps' records are added")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    out = []
    if args.keep:
        kept = json.loads(Path(args.keep).read_text())["profiles"]
        stale = [r for r in kept if heap_hooks_recorded(r) != hooks_today(r["profile"], r.get("ecc"))]
        out = [r for r in kept if r not in stale]
        print(f"kept {len(out)} of {len(kept)} earlier records ({len(stale)} measured with other ECP hooks than "
              "tlsgen now builds their profiles with)", file=sys.stderr)
    for d in map(Path, args.dirs):
        cal = json.loads((d / "cal.json").read_text())
        for p in cal["profiles"]:
            sessions = p["sessions"]
            if not sessions or not all(s["ok"] for s in sessions):
                continue
            text = (d / "profiles" / f"{p['name']}.yaml").read_text()
            if yaml.safe_load(text)["tls"].get("transport") == "datagram":
                continue  # DTLS: bench/heap/fit.py leaves it out too (the TLS tables plus tlsgen.heap's DTLS lines)
            built = d / "generated" / p["name"] / "mbedtls_config.h"
            config = built.read_text() if built.exists() else None
            ecc = ecc_of(d / "calibration-profiles" / f"{p['name']}.yaml")
            if config is not None and built_on_p256m(config) != (ecc == "p256m"):
                continue  # built on one elliptic-curve implementation, and tlsgen now picks the other
            out.append({"name": p["name"], "seed": cal.get("seed"), "sessions": len(sessions),
                        "servers": sorted({s["server"] for s in sessions}),
                        "peak": max(s["peak"] for s in sessions),
                        # the elliptic-curve implementation it ran on (tlsgen.resolve.ecc), as the generator picks
                        # it today (the record is checked against that model)
                        "ecc": ecc,
                        # built with tlsgen's ECP hooks (a record without the keys was not)
                        **(heap_relevant_hooks(lambda m: f"#define {m}" in config) if config is not None else {}),
                        "profile": profile_text(d / "profiles" / f"{p['name']}.yaml")})
    json.dump({"target": args.target, "profiles": out}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
