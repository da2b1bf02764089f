#!/usr/bin/env python3
"""Fit tlsgen.flash's coefficients from the link maps of Cortex-M sweep images.

    bench/footprint/flash_fit.py build/sweep-cortex-m-S [DIR ...] [--write]

Each DIR is a Cortex-M sweep's build tree (tools/sweep/runner.py; its firmware is linked with -Map). For every
profile in DIR/profiles (or DIR/calibration-profiles) whose image and map exist, the map's input sections are
summed per library, over the sections that go to flash (.isr_vector, .text, .rodata, .ARM.exidx, .ARM.extab,
the init/fini arrays and .data's initial values): mbedTLS (libsweep_<id>_mbedtls.a), the generated glue and
SslConfig (libsweep_<id>.a) and the tlsgen runtime core make the library share tlsgen.flash estimates; the
application, its ESP8266 driver, the board layer and newlib are printed beside it. The fit is ridge least
squares on tlsgen.flash.features() over the Thumb-2 images, then one factor for the Thumb-1 (ARMv6-M) ones; it
prints every image's leave-one-out residual (estimated by a fit without that image) and, with --write, writes
generator/tlsgen/flash_tables.py (the coefficients and the leave-one-out residual range the refusal uses).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

from tlsgen.errors import ProfileError  # noqa: E402
from tlsgen.flash import features, thumb1  # noqa: E402
from tlsgen.loader import load_profile  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402
from tlsgen.resolve.ecc import built_on_p256m  # noqa: E402

FLASH_SECTIONS = (".isr_vector", ".vectors", ".text", ".rodata", ".ARM.exidx", ".ARM.extab", ".init_array",
                  ".fini_array", ".preinit_array", ".data")
APPLICATION = ("app", "esp8266", "board", "libc")  # the reference firmware's own share of an image
RIDGE = 0.1  # bytes^2 per coefficient: keeps collinear macros (always defined together) from trading bytes


def owner(path: str, ident: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.startswith(f"libsweep_{ident}_mbedtls.a("):
        return "mbedtls"
    if name.startswith(f"libsweep_{ident}.a("):
        return "glue"
    if name.startswith("libtlsgen_runtime_core"):
        return "runtime"
    if name.startswith("libtlsgen_runtime_esp8266"):
        return "esp8266"
    if name.startswith("libtlsgen_board"):
        return "board"
    if "main.cpp" in name:
        return "app"
    return "libc"


INPUT = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def attribute(map_path: Path, ident: str) -> dict[str, int]:
    """Bytes in flash per owner, from a GNU ld map's input-section lines."""
    out: dict[str, int] = {}
    section = None
    pending = False
    text = map_path.read_text(errors="replace")
    body = text.split("Linker script and memory map", 1)[1]
    for line in body.splitlines():
        if line and not line.startswith(" "):
            section = line.split()[0]  # an output section
            continue
        if section not in FLASH_SECTIONS:
            continue
        if pending:  # the input section's name was on the line before
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            pending = False
            if m:
                who = owner(m.group(3), ident)
                out[who] = out.get(who, 0) + int(m.group(2), 16)
            continue
        if re.match(r"^ \.\S+$", line) or re.match(r"^ COMMON$", line):
            pending = True
            continue
        m = INPUT.match(line)
        if m and m.group(1) and m.group(1).startswith(".") and not m.group(4).startswith("0x"):
            who = owner(m.group(4), ident)
            out[who] = out.get(who, 0) + int(m.group(3), 16)
    return out


def images(dirs: list[Path]) -> list[dict]:
    rows = []
    for d in dirs:
        pdir = d / "calibration-profiles" if (d / "calibration-profiles").is_dir() else d / "profiles"
        for prof in sorted(pdir.glob("*.yaml")):
            ident = prof.stem.replace("-", "_")
            fw = d / f"sweep_fw_{ident}"
            mp = d / f"sweep_fw_{ident}.map"
            if not fw.exists() or not mp.exists():
                continue
            # Resolved as it was built: an image made before the p256-m driver (tlsgen.resolve.ecc) has the legacy
            # ECP even where tlsgen would now pick p256-m.
            built = d / "generated" / prof.stem / "mbedtls_config.h"
            p256m = built.exists() and built_on_p256m(built.read_text())
            try:
                r = resolve(load_profile(str(prof)), p256m=p256m)
            except ProfileError:
                continue
            if r.p256m != p256m:
                continue  # built on p256-m under a rule that now keeps it on the legacy ECP
            parts = attribute(mp, ident)
            rows.append({"name": prof.stem, "dir": d.name, "r": r, "parts": parts, "path": prof,
                         "calibration": pdir.name == "calibration-profiles",  # its firmware traces allocations
                         "library": parts.get("mbedtls", 0) + parts.get("glue", 0) + parts.get("runtime", 0)})
    return rows


def _ridge(rows: list[dict]) -> dict[str, float]:
    feats = [features(x["r"]) for x in rows]
    names = sorted({k for f in feats for k in f})
    X = np.array([[f.get(k, 0.0) for k in names] for f in feats])
    y = np.array([x["library"] for x in rows], dtype=float)
    A = np.vstack([X, np.sqrt(RIDGE) * np.eye(len(names))])
    b = np.concatenate([y, np.zeros(len(names))])
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return {k: round(float(v), 1) for k, v in zip(names, coef) if abs(v) >= 0.05}


def fit(rows: list[dict]) -> dict:
    """Thumb-2 images fit the coefficients; Thumb-1 (ARMv6-M) images then fit one factor over them."""
    t2 = [x for x in rows if not thumb1(x["r"])]
    t1 = [x for x in rows if thumb1(x["r"])]
    coef = _ridge(t2)
    ratio = float(np.median([x["library"] / estimate(coef, 1.0, x["r"]) for x in t1])) if t1 else 1.0
    return {"coef": coef, "thumb1": round(ratio, 4)}


def estimate(coef: dict[str, float], ratio: float, r) -> float:
    f = features(r)
    return sum(v * f.get(k, 0.0) for k, v in coef.items()) * (ratio if thumb1(r) else 1.0)


def leave_one_out(rows: list[dict]) -> np.ndarray:
    """Each image's measured minus its estimate by a fit made without it."""
    out = []
    for i, x in enumerate(rows):
        t = fit(rows[:i] + rows[i + 1:])
        out.append(x["library"] - estimate(t["coef"], t["thumb1"], x["r"]))
    return np.array(out)


def write(table: dict, res: np.ndarray, sources: list[str], n: int) -> None:
    path = ROOT / "generator" / "tlsgen" / "flash_tables.py"
    lo, hi = int(np.floor(res.min())), int(np.ceil(res.max()))
    path.write_text(
        '"""tlsgen.flash\'s coefficients. Written by bench/footprint/flash_fit.py from the link maps of measured\n'
        'Cortex-M images (do not edit: re-run the fit); tlsgen.flash explains them."""\n\n'
        f"# fitted from {', '.join(sources)}: {n} images; leave-one-out residual (measured - estimate) {lo}..{hi} "
        "bytes\n# fmt: off\n"
        f"FLASH: dict = {json.dumps({**table, 'residual': [lo, hi]}, sort_keys=True)}\n")
    print(f"wrote {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--measurements", help="write each image's profile and measured shares here (JSON), for "
                    "tests/generator/test_flash.py")
    args = ap.parse_args()
    rows = images([Path(d) for d in args.dirs])
    if len(rows) < 20:
        print(f"only {len(rows)} images with a link map: too few to fit", file=sys.stderr)
        return 2
    table = fit(rows)
    res = leave_one_out(rows)
    inres = np.array([x["library"] - estimate(table["coef"], table["thumb1"], x["r"]) for x in rows])
    print(f"{len(rows)} images ({sum(thumb1(x['r']) for x in rows)} Thumb-1), {len(table['coef'])} coefficients, "
          f"Thumb-1 factor {table['thumb1']}; library = mbedTLS + glue + runtime core")
    print(f"{'image':14s} {'library':>8s} {'loo':>6s} {'mbedtls':>8s} {'glue':>6s} {'runtime':>7s} "
          f"{'app':>6s} {'esp8266':>7s} {'board':>6s} {'libc':>6s}")
    for x, e in sorted(zip(rows, res), key=lambda t: t[1]):
        p = x["parts"]
        print(f"{x['name']:14s} {x['library']:8d} {e:6.0f} {p.get('mbedtls', 0):8d} {p.get('glue', 0):6d} "
              f"{p.get('runtime', 0):7d} {p.get('app', 0):6d} {p.get('esp8266', 0):7d} {p.get('board', 0):6d} "
              f"{p.get('libc', 0):6d}")
    rest = [sum(v for k, v in x["parts"].items() if k in APPLICATION) for x in rows if not x["calibration"]]
    if not rest:
        print("no image of the reference firmware as shipped (only calibration builds, which trace)", file=sys.stderr)
        return 2
    table["app_min"] = min(rest)
    print(f"the reference application's own share (app + esp8266 + board + libc): {min(rest)}..{max(rest)} bytes")
    for name, r in (("in-sample", inres), ("leave-one-out", res)):
        print(f"residual {name} (measured - estimate): min {r.min():.0f} max {r.max():.0f} "
              f"rms {np.sqrt(np.mean(r ** 2)):.0f} bytes")
    if args.write:
        write(table, res, [Path(d).name for d in args.dirs], len(rows))
    if args.measurements:
        recs = [{"name": x["name"], "library": x["library"], "parts": x["parts"],
                 "ecc": "p256m" if x["r"].p256m else "legacy", "profile": x["path"].read_text()} for x in rows]
        Path(args.measurements).write_text(json.dumps({"images": recs}, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
