#!/usr/bin/env python3
"""`optimize: speed` compiles only mbedTLS's public-key arithmetic (bignum*, ecp*, ecdh, ecdsa, and the p256-m
driver, which also peels its loops: -fpeel-loops) with -O2, and a size profile built from the same mbedTLS sources in
the same directory keeps the toolchain's -Os everywhere; a size profile the generator puts on the p256-m driver
(a Cortex-M4 one) compiles p256-m.c alone with tlsgen.resolve.ecc.P256M_SIZE_FLAGS after the -Os.

Configures a three-profile project with tlsgen_add_library (host compiler, MinSizeRel: -Os) and reads the
compile commands CMake exports: no build is needed to see the flags each object gets.
"""
import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

HOT = ("bignum.c", "bignum_core.c", "bignum_mod.c", "bignum_mod_raw.c", "ecp.c", "ecp_curves.c",
       "ecp_curves_new.c", "ecdh.c", "ecdsa.c", "p256-m.c")
PEELED = ("p256-m.c",)  # -O2 -fpeel-loops (tlsgen.resolve.tradeoffs.SPEED_PEEL: the p256-m driver's fixed 8-limb loops)
# p256-m.c of a size profile on the p256-m driver (the generator's tlsgen.resolve.ecc.P256M_SIZE_FLAGS, spelt out
# here: the test states what the build must do, not what the generator says)
P256M_SIZE = " -fno-inline-small-functions -fno-tree-loop-distribute-patterns"


def last_opt(command: list[str]) -> str:
    return [a for a in command if a.startswith("-O")][-1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmake", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mbedtls-source", required=True)
    args = ap.parse_args()
    root, work = Path(args.source_dir), Path(args.work)
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    size = (root / "profiles" / "host-ecdhe-ecdsa.yaml").read_text()
    assert "optimize: speed" not in size
    (project / "size.yaml").write_text(size.replace("name: host-ecdhe-ecdsa", "name: flags-size"))
    (project / "speed.yaml").write_text(size.replace("name: host-ecdhe-ecdsa", "name: flags-speed")
                                        + "optimize: speed\n")
    m4 = (root / "profiles" / "m4-ecdhe-ecdsa.yaml").read_text()
    assert "optimize: size" in m4 and "groups: [secp256r1]" in m4
    (project / "p256m.yaml").write_text(m4.replace("name: m4-ecdhe-ecdsa", "name: flags-p256m"))
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(flags C CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
        f'add_subdirectory("{root}" tlsgen)\n'
        "tlsgen_add_library(size_tls PROFILE size.yaml)\ntlsgen_add_library(speed_tls PROFILE speed.yaml)\n"
        "tlsgen_add_library(p256m_tls PROFILE p256m.yaml)\n")
    build = work / "build"
    proc = subprocess.run([args.cmake, "-G", "Ninja", "-S", str(project), "-B", str(build),
                           "-DCMAKE_BUILD_TYPE=MinSizeRel", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                           f"-DTLSGEN_MBEDTLS_SOURCE={args.mbedtls_source}"], capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    commands = json.loads((build / "compile_commands.json").read_text())
    seen = {"size": {}, "speed": {}, "p256m": {}}
    for c in commands:
        argv = shlex.split(c["command"])
        out = argv[argv.index("-o") + 1] if "-o" in argv else ""
        lib = next((k for k in seen if f"/{k}_tls_mbedtls.dir" in out), None)
        if lib:
            extra = "".join(f" {a}" for a in argv if a in ("-fpeel-loops", "-fno-inline-small-functions",
                                                          "-fno-tree-loop-distribute-patterns"))
            seen[lib][Path(c["file"]).name] = last_opt(argv) + extra
    problems = []
    for lib, files in seen.items():
        if "ssl_tls.c" not in files or not all(h in files for h in HOT):
            problems.append(f"{lib}: mbedTLS objects missing from the compile commands")
            continue
        for name, opt in sorted(files.items()):
            want = "-O2" if lib == "speed" and name in HOT else "-Os"
            if lib == "speed" and name in PEELED:
                want += " -fpeel-loops"
            if lib == "p256m" and name == "p256-m.c":
                want = "-O2" + P256M_SIZE
            if opt != want:
                problems.append(f"{lib}: {name} is compiled with {opt}, expected {want}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"optimize-flags: speed compiles {len(HOT)} objects with -O2 and {len(seen['speed']) - len(HOT)} with -Os; "
          f"size compiles all {len(seen['size'])} with -Os; on p256-m, size compiles p256-m.c with -O2{P256M_SIZE} "
          f"and {len(seen['p256m']) - 1} objects with -Os")
    return 0


if __name__ == "__main__":
    sys.exit(main())
