#!/usr/bin/env python3
"""Collects the bench JSON files into build/bench/results.json and draws build/bench/footprint.svg
(flash per client, tlsgen profiles next to the stock mbedTLS configs). No plotting dependency."""
import json
import sys
from pathlib import Path


def bar_chart(rows: list[dict], title: str) -> str:
    width, bar_h, gap, left = 760, 22, 8, 230
    top = 40
    height = top + len(rows) * (bar_h + gap) + 30
    peak = max(r["flash"] for r in rows) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           'font-size="12">', f'<text x="10" y="20" font-size="15">{title}</text>']
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = (width - left - 90) * r["flash"] / peak
        color = "#2b7bb9" if r["kind"] == "tlsgen" else "#b0b0b0"
        label = r["name"] if r["kind"] == "tlsgen" else f"stock {r['name']}"
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{r["flash"] / 1024:.1f} KB</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    host, arm, out = (Path(a) for a in sys.argv[1:4])
    results = {}
    for name, path in (("footprint", arm / "bench" / "footprint.json"), ("heap", out / "heap.json"),
                       ("format", host / "bench" / "format.json"), ("alloc", host / "bench" / "alloc.json")):
        if path.is_file():
            results[name] = json.loads(path.read_text())
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    if "footprint" in results:
        (out / "footprint.svg").write_text(bar_chart(results["footprint"], "Flash of a minimal TLS client, Cortex-M4"))
    print(f"\nJSON: {out / 'results.json'}; chart: {out / 'footprint.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
