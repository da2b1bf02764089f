#!/usr/bin/env python3
"""`optimize: speed` compiles only mbedTLS's public-key arithmetic (bignum*, ecp*, ecdh, ecdsa, and the p256-m
driver, which also peels its loops: -fpeel-loops) with -O2, and a size profile built from the same mbedTLS sources in
the same directory keeps the toolchain's -Os everywhere.

Configures a two-profile project with tlsgen_add_library (host compiler, MinSizeRel: -Os) and reads the
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
PEELED = ("p256-m.c",)  # -O2 -fpeel-loops (cmake/Tlsgen.cmake: the p256-m driver's fixed 8-limb loops)


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
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(flags C CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
        f'add_subdirectory("{root}" tlsgen)\n'
        "tlsgen_add_library(size_tls PROFILE size.yaml)\ntlsgen_add_library(speed_tls PROFILE speed.yaml)\n")
    build = work / "build"
    proc = subprocess.run([args.cmake, "-G", "Ninja", "-S", str(project), "-B", str(build),
                           "-DCMAKE_BUILD_TYPE=MinSizeRel", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                           f"-DTLSGEN_MBEDTLS_SOURCE={args.mbedtls_source}"], capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    commands = json.loads((build / "compile_commands.json").read_text())
    seen = {"size": {}, "speed": {}}
    for c in commands:
        argv = shlex.split(c["command"])
        out = argv[argv.index("-o") + 1] if "-o" in argv else ""
        lib = "size" if "size_tls_mbedtls.dir" in out else "speed" if "speed_tls_mbedtls.dir" in out else None
        if lib:
            seen[lib][Path(c["file"]).name] = last_opt(argv) + (" -fpeel-loops" if "-fpeel-loops" in argv else "")
    problems = []
    for lib, files in seen.items():
        if "ssl_tls.c" not in files or not all(h in files for h in HOT):
            problems.append(f"{lib}: mbedTLS objects missing from the compile commands")
            continue
        for name, opt in sorted(files.items()):
            want = "-O2" if lib == "speed" and name in HOT else "-Os"
            if lib == "speed" and name in PEELED:
                want += " -fpeel-loops"
            if opt != want:
                problems.append(f"{lib}: {name} is compiled with {opt}, expected {want}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"optimize-flags: speed compiles {len(HOT)} objects with -O2 and {len(seen['speed']) - len(HOT)} with -Os; "
          f"size compiles all {len(seen['size'])} with -Os")
    return 0


if __name__ == "__main__":
    sys.exit(main())
