#!/usr/bin/env python3
"""What a consumer's configure step says when its environment lacks something tlsgen needs.

  python-deps          the Python that runs the generator lacks pydantic/Jinja2/PyYAML: configure fails
                       and names a command that works for the way tlsgen is consumed (an installed prefix,
                       a copy of the sources), which the real Python then accepts offline.
  mbedtls-unreachable  no TLSGEN_MBEDTLS_SOURCE, no .deps tarball and a network that never answers (a
                       proxy that accepts and stays silent): configure fails within a bounded time and
                       names TLSGEN_MBEDTLS_SOURCE, instead of hanging in the download.

Both consume tlsgen from outside its tree (cmake --install into a scratch prefix; for python-deps also a
copy of the sources), as tests/install/install_test.cmake does. Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def run(cmd: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `cmd` in its own process group; past `timeout` the whole group is killed (a configure step
    that hangs in a download has children of its own) and the check fails."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        fail(f"did not finish within {timeout:.0f} s: {' '.join(cmd)}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def install_prefix(args, work: Path) -> Path:
    prefix = work / "prefix"
    proc = run([args.cmake, "--install", args.build_dir, "--prefix", str(prefix)], 300)
    if proc.returncode != 0:
        fail(f"cmake --install failed:\n{proc.stdout}\n{proc.stderr}")
    return prefix


def copy_sources(source: Path, dest: Path) -> None:
    """What git tracks, plus new files it does not ignore (no .deps/, no build/)."""
    files = subprocess.run(["git", "-C", str(source), "ls-files", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for f in filter(None, files):
        src = source / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def example(args, work: Path) -> Path:
    dest = work / "cmake-minimal"
    shutil.copytree(Path(args.source_dir) / "examples" / "cmake-minimal", dest)
    return dest


def python_deps(args, work: Path) -> None:
    prefix = install_prefix(args, work)
    venv = work / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bare = venv / "bin" / "python"
    if subprocess.run([str(bare), "-c", "import pydantic"], capture_output=True).returncode == 0:
        fail(f"{bare} has pydantic: the test needs a Python without it")
    sources = work / "tlsgen-src"
    copy_sources(Path(args.source_dir), sources)
    consumer = Path(args.source_dir) / "tests" / "install" / "consumer"
    cases = {
        "find_package (installed prefix)": (
            ["-S", str(example(args, work)), f"-Dtlsgen_DIR={prefix}/lib/cmake/tlsgen"],
            prefix / "share" / "tlsgen" / "cmake" / "python-requirements.txt"),
        "add_subdirectory (a copy of the sources)": (
            ["-S", str(consumer), "-DMODE=add_subdirectory", f"-DTLSGEN_DIR={sources}",
             f"-DEXAMPLE_DIR={Path(args.source_dir) / 'examples' / 'cmake-minimal'}"],
            sources / "cmake" / "python-requirements.txt"),
    }
    for i, (what, (cmake_args, requirements)) in enumerate(cases.items()):
        proc = run([args.cmake, "-G", "Ninja", "-B", str(work / f"build-{i}"), *cmake_args,
                    f"-DPython3_EXECUTABLE={bare}", f"-DTLSGEN_MBEDTLS_SOURCE={args.mbedtls_source}"], 300)
        said = " ".join((proc.stdout + proc.stderr).split())  # CMake wraps long messages
        if proc.returncode == 0:
            fail(f"{what}: configure succeeded with a Python that lacks pydantic")
        command = f'-m pip install -r "{requirements}"'
        if command not in said or "pip install -e" in said:
            fail(f"{what}: the message does not give `{command}`:\n{proc.stderr}")
        for package in ("pydantic", "Jinja2", "PyYAML"):
            if package not in said:
                fail(f"{what}: the message does not name {package}:\n{proc.stderr}")
        if not requirements.is_file():
            fail(f"{what}: {requirements} does not exist")
        # The command is right for a Python that has the packages: pip accepts it without a network.
        check = run([sys.executable, "-m", "pip", "install", "--no-index", "--dry-run", "-r", str(requirements)],
                    120)
        if check.returncode != 0:
            fail(f"{what}: `pip install -r {requirements}` fails with the packages present:\n{check.stderr}")
        print(f"python-deps: {what}: configure failed and said `{command}`")


class SilentProxy:
    """Accepts TCP connections and never answers: a network on which a download hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def mbedtls_unreachable(args, work: Path) -> None:
    prefix = install_prefix(args, work)  # no .deps/ in an installed prefix
    proxy = SilentProxy()
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[var] = f"http://127.0.0.1:{proxy.port}"
    start = time.monotonic()
    proc = run([args.cmake, "-G", "Ninja", "-B", str(work / "build"), "-S", str(example(args, work)),
                f"-Dtlsgen_DIR={prefix}/lib/cmake/tlsgen", "-DTLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT=10"],
               args.bound, env)
    elapsed = time.monotonic() - start
    said = " ".join((proc.stdout + proc.stderr).split())
    if proc.returncode == 0:
        fail("configure succeeded without any mbedTLS source")
    if "could not download mbedTLS 3.6.6" not in said or "within 10 s" not in said \
            or "-DTLSGEN_MBEDTLS_SOURCE=" not in said:
        fail(f"the message does not say that the download failed within 10 s and what to set:\n{proc.stderr}")
    if said.count("CMake Error") != 1:
        fail(f"one error expected, the one that says what to do:\n{proc.stderr}")
    if not proxy.held:
        fail("the download never reached the silent proxy: the test did not test a hang")
    print(f"mbedtls-unreachable: configure failed after {elapsed:.0f} s naming TLSGEN_MBEDTLS_SOURCE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", choices=("python-deps", "mbedtls-unreachable"))
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True, help="a configured build tree of tlsgen (for cmake --install)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--mbedtls-source", help="TLSGEN_MBEDTLS_SOURCE for python-deps")
    ap.add_argument("--bound", type=float, default=120, help="seconds a configure may take before it counts as hung")
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (python_deps if args.check == "python-deps" else mbedtls_unreachable)(args, work)


if __name__ == "__main__":
    main()
