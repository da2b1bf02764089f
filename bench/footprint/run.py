#!/usr/bin/env python3
"""Footprint of the minimal client per configuration: flash (text+rodata) and static RAM.

Usage: bench/footprint/run.py [BUILD_DIR]   (default build/arm; configured by scripts/bench.sh)
Prints a markdown table with each tlsgen profile next to mbedTLS's stock configs and writes
BUILD_DIR/bench/footprint.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def sections(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], check=True, capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def measure(elf: Path) -> dict[str, int]:
    s = sections(elf)
    flash_sections = [".text", ".rodata", ".ARM.exidx", ".ARM.extab", ".init_array", ".fini_array"]
    flash = sum(s.get(k, 0) for k in flash_sections) + s.get(".data", 0)
    return {"text": s.get(".text", 0), "rodata": s.get(".rodata", 0), "data": s.get(".data", 0),
            "bss": s.get(".bss", 0), "flash": flash, "static_ram": s.get(".data", 0) + s.get(".bss", 0)}


def clients(build: Path) -> list[tuple[str, str, str]] | None:
    """The minimal clients bench/footprint/CMakeLists.txt configured in `build`, as (kind, name, target); None (and
    why, on stderr) when the build tree has none."""
    manifest = build / "bench" / "footprint" / "clients.txt"
    if not manifest.is_file():
        print(f"{manifest} missing: configure {build} with the arm-none-eabi toolchain first", file=sys.stderr)
        return None
    return [tuple(line.split(":")) for line in manifest.read_text().split()]


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build/arm")
    listed = clients(build)
    if listed is None:
        return 2
    rows = []
    for kind, name, target in listed:
        subprocess.run(["cmake", "--build", str(build), "--target", target], check=True, capture_output=True)
        elf = build / "bench" / "footprint" / target
        row = {"kind": kind, "name": name, **measure(elf), "static_heap": 0}
        hpp = build / "generated" / name / "tlsgen_profile.hpp"
        if kind == "tlsgen" and hpp.is_file():
            import re
            row["static_heap"] = int(re.search(r"kHeapBytes = (\d+);", hpp.read_text()).group(1))
        rows.append(row)
    stock = {r["name"]: r for r in rows if r["kind"] == "stock"}
    anchor_for = {"m4-psk-ccm8": "config-ccm-psk-tls1_2", "m4-psk-ccm8-speed": "config-ccm-psk-tls1_2", "m4-ecdhe-ecdsa": "config-suite-b", "m4-ecdhe-ecdsa-speed": "config-suite-b", "m4-tls13": "default",
                  "seed-esp8266": "default"}
    print("| client | flash (text+rodata+data) | vs stock anchor | RAM data+bss | of which static heap |")
    print("| --- | ---: | --- | ---: | ---: |")
    for r in rows:
        anchor = stock.get(anchor_for.get(r["name"], ""))
        ratio = f"{r['flash'] / anchor['flash']:.2f}x of {anchor['name']}" if anchor else ""
        label = r["name"] if r["kind"] == "tlsgen" else f"stock {r['name']}"
        heap = f"{r['static_heap']:,}" if r["kind"] == "tlsgen" else "0 (newlib malloc at run time)"
        print(f"| {label} | {r['flash']:,} | {ratio} | {r['static_ram']:,} | {heap} |")
    out = build / "bench" / "footprint.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n(arm-none-eabi-gcc -Os, Cortex-M4, newlib-nano, gc-sections; JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
