#!/usr/bin/env python3
"""Measure the sizes of the structures mbedtls_ssl_setup() puts on the heap, for many configurations, and
fit them to the configuration's macros (the heap model's "session state" line).

    bench/heap/structs.py --mbedtls DIR [--count N] [--seed S] [--write]

For N profiles drawn by the sampler (tools/sweep/sampler.py, host and Cortex-M), the generated
mbedtls_config.h is compiled with a probe that lays sizeof() of each structure out as data
(mbedtls_ssl_transform, mbedtls_ssl_session, mbedtls_ssl_handshake_params, and the SHA-256/SHA-512 contexts
of the handshake's running hashes), with gcc for x86-64 and arm-none-eabi-gcc for Cortex-M4; the sizes
are read from the assembly, nothing runs. Each structure's size is then fitted by least squares to
tlsgen.heap.struct_features (the macros tlsgen emits, and the largest curve and RSA key, which size
PSA's key-export buffers). A structure's size is a sum of its fields' sizes, so the fit is exact but
for padding; the residuals are printed. With --write the coefficients go into
generator/tlsgen/heap_tables.py (key "structs" of each word size).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))
sys.path.insert(0, str(ROOT / "tools" / "sweep"))

import sampler  # noqa: E402
from tlsgen import heap as H  # noqa: E402
from tlsgen.loader import load_profile_bytes  # noqa: E402
from tlsgen.render import render  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402

STRUCTS = ("transform", "session", "handshake", "sha256", "sha512")
PROBE = """#include "mbedtls/build_info.h"
#include "ssl_misc.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
const unsigned long tlsgen_sizes[] = {
  sizeof(mbedtls_ssl_transform), sizeof(mbedtls_ssl_session), sizeof(mbedtls_ssl_handshake_params),
#if defined(MBEDTLS_SHA256_C)
  sizeof(mbedtls_sha256_context),
#else
  0,
#endif
#if defined(MBEDTLS_SHA512_C)
  sizeof(mbedtls_sha512_context),
#else
  0,
#endif
};
"""
COMPILERS = {8: ["gcc"], 4: ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb"]}


def sizes(compiler: list[str], config_dir: Path, mbedtls: Path, probe: Path) -> list[int]:
    out = subprocess.run([*compiler, "-S", "-o", "-", "-DMBEDTLS_CONFIG_FILE=<mbedtls_config.h>", f"-I{config_dir}",
                          f"-I{mbedtls}/include", f"-I{mbedtls}/library", str(probe)],
                         capture_output=True, text=True, check=True).stdout
    block = out.split("tlsgen_sizes:", 1)[1]
    return [int(v) for v in re.findall(r"\.(?:quad|word|long)\s+(\d+)", block)[:len(STRUCTS)]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mbedtls", required=True, help="an unpacked mbedTLS 3.6 source tree")
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--p256m-count", type=int, default=200,
                    help="and this many more Cortex-M profiles on the p256-m driver (tlsgen.resolve.ecc), whose "
                         "MBEDTLS_USE_PSA_CRYPTO layouts the plain draw has few of")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    mbedtls = Path(args.mbedtls)
    work = Path(tempfile.mkdtemp(prefix="tlsgen-structs-"))
    probe = work / "probe.c"
    probe.write_text(PROBE)
    data: dict[int, list] = {8: [], 4: []}
    drawn = (sampler.sample(args.seed, args.count // 2, ["host"], full=False).accepted +
             sampler.sample(args.seed + 1, args.count // 2, sampler.CORTEX_M, full=False).accepted +
             sampler.sample(args.seed + 2, args.p256m_count, sampler.CORTEX_M, prefix="p", full=False,
                            ecc="p256m").accepted)
    for i, (name, text, _) in enumerate(drawn):
        r = resolve(load_profile_bytes(f"{name}.yaml", text.encode()))
        d = work / name
        d.mkdir()
        from tlsgen.render import heap_for
        files = render(r, heap_for(r, _fake_model()))
        (d / "mbedtls_config.h").write_text(files["mbedtls_config.h"])
        f = H.struct_features(r)
        for word, compiler in COMPILERS.items():
            data[word].append((f, sizes(compiler, d, mbedtls, probe)))
    tables: dict = {}
    for word, rows in data.items():
        tables[word] = {}
        print(f"==== word size {word}: {len(rows)} configurations")
        for k, name in enumerate(STRUCTS):
            names = sorted({n for f, _ in rows for n in f})
            X = np.array([[f.get(n, 0.0) for n in names] for f, _ in rows])
            y = np.array([s[k] for _, s in rows], dtype=float)
            coef, *_ = np.linalg.lstsq(X, y, rcond=None)
            res = y - X @ coef
            # Held out: a fit on the other half predicts this half (no fitting to noise).
            half = len(y) // 2
            c2, *_ = np.linalg.lstsq(X[:half], y[:half], rcond=None)
            held = y[half:] - X[half:] @ c2
            tables[word][name] = {n: round(float(c), 2) for n, c in zip(names, coef) if abs(c) >= 0.005}
            print(f"  {name:10s} sizes {int(y.min())}..{int(y.max())}, residual {res.min():.1f}..{res.max():.1f}, "
                  f"held out {held.min():.1f}..{held.max():.1f}")
    if args.write:
        from tlsgen import heap_tables

        path = ROOT / "generator" / "tlsgen" / "heap_tables.py"
        text = path.read_text()
        for word, t in tables.items():
            heap_tables.TABLES.setdefault(word, {})["structs"] = t
        _rewrite(path, heap_tables.TABLES)
    return 0


def _fake_model():
    from tlsgen.heap import HeapModel

    return HeapModel((), 0, 0, 0, 8, None)


def _rewrite(path: Path, tables: dict) -> None:
    text = path.read_text()
    head, _, _ = text.partition("TABLES: dict = {")
    # Each word size's comment (what it was fitted from: bench/heap/fit.py reads it back) stays.
    comments = {int(w): c for c, w in re.findall(r"^(    # .*)\n    (\d+):", text, re.M)}
    lines = [head.rstrip("\n"), "TABLES: dict = {"]
    for word, t in sorted(tables.items()):
        if word in comments:
            lines.append(comments[word])
        lines.append(f"    {word}: {json.dumps(t, sort_keys=True)},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
