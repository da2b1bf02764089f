#!/usr/bin/env python3
"""What a DTLS client's flash costs over the same suite's TLS client, and how much of it any build change can take.

Usage: bench/footprint/dtls_delta.py [BUILD_DIR] [--tls NAME] [--dtls NAME] [--jobs N] [--keep DIR]
(default build/arm, m4-psk-ccm8 and m4-dtls-psk-ccm8: issue 15's pair; BUILD_DIR configured as for run.py).

Both minimal clients (bench/footprint/client.cpp) are rebuilt outside the build tree from the build's own compile
and link commands (`ninja -t commands`), once per variant, and measured as run.py measures them:
- as built: the commands unchanged (checked against the build tree's own images, so the replay is faithful);
- -flto: every object and the link with link-time optimisation (archives through arm-none-eabi-gcc-ar);
- datagram-only bound: the DTLS client on a copy of mbedTLS's ssl_*.c in which every test of
  `conf->transport` is the constant a DTLS-only client would have, so the compiler drops every TLS (stream)
  path. That bounds what a DTLS-only build of mbedTLS 3.6's own code could save (a patch compiling its stream
  paths out); going further means rewriting mbedTLS's DTLS code itself. The TLS column stays the as-built client.

Prints a table (flash of each client, the DTLS client's extra bytes, the ratio against `--target`); the build tree
is not touched.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import clients, measure  # noqa: E402  (bench/footprint/run.py: the same clients and flash figure)

#: `conf->transport` tests in mbedTLS 3.6's ssl_*.c and what they are in a DTLS-only client.
TRANSPORT_TESTS = [
    (re.compile(r"(?:\w+->)*conf->transport\s*==\s*MBEDTLS_SSL_TRANSPORT_DATAGRAM"), "1"),
    (re.compile(r"(?:\w+->)*conf->transport\s*!=\s*MBEDTLS_SSL_TRANSPORT_DATAGRAM"), "0"),
    (re.compile(r"(?:\w+->)*conf->transport\s*==\s*MBEDTLS_SSL_TRANSPORT_STREAM"), "0"),
    (re.compile(r"(?:\w+->)*conf->transport\s*!=\s*MBEDTLS_SSL_TRANSPORT_STREAM"), "1"),
]


def commands(build: Path, target: str) -> list[str]:
    out = subprocess.run(["ninja", "-C", str(build), "-t", "commands", f"bench/footprint/{target}"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    # The generate step (`tlsgen generate`, run in the build tree) is done: the replay reads its output.
    return [c for c in out if " -m tlsgen generate " not in c]


def mbedtls_dir(cmds: list[str]) -> str:
    for c in cmds:
        m = re.search(r"-I(\S+/mbedtls-3\.6\.\d+)/library\b", c)
        if m:
            return m.group(1)
    raise SystemExit("no mbedTLS 3.6 source directory in the compile commands")


def datagram_only_copy(src: str, dest: Path) -> int:
    """Copy mbedTLS's library/, include/ and 3rdparty/ to dest with the transport tests folded; return how many."""
    for part in ("library", "include", "3rdparty"):
        shutil.copytree(Path(src) / part, dest / part)
    folded = 0
    for f in sorted((dest / "library").glob("ssl_*.c")):
        text = f.read_text()
        for pattern, value in TRANSPORT_TESTS:
            text, n = pattern.subn(value, text)
            folded += n
        f.write_text(text)
    return folded


def replay(cmds: list[str], work: Path, target: str, jobs: int, *, extra: str = "", ar: str | None = None,
           source: tuple[str, str] | None = None) -> Path:
    """Run the commands in `work` (the build's relative paths land there) with `extra` compiler/link options after
    the build's own, `ar` instead of arm-none-eabi-ar, and source[0] read as source[1]; return the image."""
    compiles, rest = [], []
    for c in cmds:
        if source:
            c = c.replace(source[0], source[1])
        if ar:
            c = c.replace("arm-none-eabi-ar ", f"{ar} ")
        if extra and (" -c " in c or " -o bench/footprint/" in c):
            c = re.sub(r" -o (\S+)", lambda m: f" {extra} -o {m.group(1)}", c, count=1)
        for path in re.findall(r"(?: -o | qc )(\S+)", c):
            (work / path).parent.mkdir(parents=True, exist_ok=True)
        (compiles if " -c " in c and not c.startswith(":") else rest).append(c)

    def run(c: str) -> None:
        r = subprocess.run(c, shell=True, cwd=work, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"command failed in {work}:\n{c[:400]}\n{r.stderr[-3000:]}")

    with cf.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(run, compiles))
    for c in rest:
        run(c)
    return work / "bench" / "footprint" / target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default="build/arm", type=Path)
    ap.add_argument("--tls", default="m4-psk-ccm8")
    ap.add_argument("--dtls", default="m4-dtls-psk-ccm8")
    ap.add_argument("--target", type=float, default=1.15, help="the ratio the DTLS client must stay within")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", type=Path, help="build the variants here (kept) instead of a temporary directory")
    args = ap.parse_args()
    build = args.build.resolve()
    listed = clients(build)
    if listed is None:
        return 2
    targets = {name: target for _, name, target in listed}
    for name in (args.tls, args.dtls):
        if name not in targets:
            print(f"{name}: no such client in {build}/bench/footprint/clients.txt", file=sys.stderr)
            return 2
    tls_t, dtls_t = targets[args.tls], targets[args.dtls]
    subprocess.run(["cmake", "--build", str(build), "--target", tls_t, dtls_t], check=True, capture_output=True)
    cmds = {t: commands(build, t) for t in (tls_t, dtls_t)}
    built = {t: measure(build / "bench" / "footprint" / t)["flash"] for t in (tls_t, dtls_t)}

    root = Path(tempfile.mkdtemp(prefix="dtls-delta-")) if args.keep is None else args.keep.resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        rows = []
        flash = {t: measure(replay(cmds[t], root / f"base-{t}", t, args.jobs))["flash"] for t in (tls_t, dtls_t)}
        for t in (tls_t, dtls_t):
            if flash[t] != built[t]:
                print(f"the replay of {t} measured {flash[t]} bytes, the build tree's image {built[t]}: the replay "
                      "is not the build; no figure printed", file=sys.stderr)
                return 1
        rows.append(("as built", flash[tls_t], flash[dtls_t]))
        lto = {t: measure(replay(cmds[t], root / f"lto-{t}", t, args.jobs, extra="-flto",
                                 ar="arm-none-eabi-gcc-ar"))["flash"] for t in (tls_t, dtls_t)}
        rows.append(("-flto (objects and link)", lto[tls_t], lto[dtls_t]))
        src = mbedtls_dir(cmds[dtls_t])
        folded = datagram_only_copy(src, root / "mbedtls-datagram-only")
        if folded == 0:
            print(f"no `conf->transport` test found in {src}/library/ssl_*.c: this mbedTLS is not the one the bound "
                  "was written for", file=sys.stderr)
            return 1
        bound = measure(replay(cmds[dtls_t], root / f"dgonly-{dtls_t}", dtls_t, args.jobs,
                               source=(src, str(root / "mbedtls-datagram-only"))))["flash"]
        rows.append((f"datagram-only bound ({folded} transport tests folded; TLS as built)", flash[tls_t], bound))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    print(f"| variant | {args.tls} | {args.dtls} | DTLS extra | ratio | within {args.target:.2f}x |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, tls, dtls in rows:
        print(f"| {label} | {tls:,} | {dtls:,} | {dtls - tls:,} | {dtls / tls:.3f}x | "
              f"{'yes' if dtls <= args.target * tls else 'no'} |")
    allowed = int(args.target * rows[0][1]) - rows[0][1]
    print(f"\n(flash = text+rodata+data of bench/footprint's minimal client, as run.py; {args.target:.2f}x of the "
          f"as-built TLS client allows {allowed:,} extra bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
