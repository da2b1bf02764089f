#!/usr/bin/env python3
"""Profile sweep runner: builds sampled profiles and runs each against real servers.

    runner.py sweep --seed S --count N [--target host|cortex-m] [--cpus C,...] [--build DIR] [--work DIR] [--jobs J]
        draw N accepted profiles (sampler.py), build them in one tree, run them, print the report
    runner.py run --profile P.yaml --client PATH [--target host|cortex-m] [--machine M] --work DIR
        run one already-built profile (what tests/sweep's ctest cases call)
    runner.py build --profiles DIR --build DIR [--target ...]     build only
    runner.py board --profile P.yaml     the board a Cortex-M profile needs when not its core's default

For each profile: the generated heap and the model's figure; per session (peers.py): the server,
the negotiated suite and protocol, the heap peak (tlsgen::Heap high water: the arena the session
needed), the bytes and blocks in use after teardown. A profile passes when it compiled, every session
completed handshake + GET + close_notify with the suite it asked for, every session's peak fits the
heap it ran in (the generated one), the teardown left 0 bytes in use, and the model's figure is at most
10 % above the largest peak of its sessions (the worst case the profile allows: sessions that exercise
smaller groups or keys need less by design). Servers run in a private network namespace (unshare -rn)
when the machine allows it: gnutls-serv cannot bind to 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "generator"))
_spec = importlib.util.spec_from_file_location("run_integration", ROOT / "tests" / "integration" / "run_integration.py")
ri = importlib.util.module_from_spec(_spec)
sys.modules["run_integration"] = ri
_spec.loader.exec_module(ri)  # type: ignore[union-attr]

import yaml  # noqa: E402

import peers  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "integration"))
from lossy_udp_proxy import Proxy  # noqa: E402
from run_dtls import DatagramServer  # noqa: E402  (s_server's DTLS requests answered; no TCP port to probe)
import pki  # noqa: E402
import sampler  # noqa: E402
from tlsgen.errors import ProfileError  # noqa: E402
from tlsgen.pipeline import Built, build  # noqa: E402
from tlsgen.ram import tlsgen_static  # noqa: E402
from tlsgen.resolve.resumption import uses_tickets  # noqa: E402
from tlsgen.stack import stack_need  # noqa: E402

RATIO_MAX = 1.10
CALIBRATION_HEAP = 1 << 20
CALIBRATION_HEAP_M = 160 * 1024  # what the QEMU board's 256 KB of RAM has room for beside the firmware
CLIENT_TIMEOUT = 120.0
QEMU_TIMEOUT = 900.0
PSK_BYTE = 0x5A


# ---- building -------------------------------------------------------------------------------------

MICROBIT_RAM = 16 * 1024
MICROBIT_STATIC = 2048  # the firmware's own static RAM on the microbit (helper figures: 1248-1640 bytes)
DEFAULT_STACK = {"microbit": 4096}


def board_override(profile: Path) -> str | None:
    """The board a Cortex-M profile runs on when it is not its core's default: a cortex-m0plus profile whose
    heap and stack do not fit the microbit's 16 KB runs as the same ARMv6-M image on the mps2-an385."""
    b = build(str(profile))
    p = b.resolution.loaded.profile
    if p.target.cpu != "cortex-m0plus":
        return None
    stack = p.target.stack_bytes or DEFAULT_STACK["microbit"]
    if p.target.stack_bytes is None and stack_need(b.resolution).bytes > stack:
        return "mps2-an385-armv6m"  # the microbit's default stack is below what the session needs
    return None if b.heap.bytes + stack + MICROBIT_STATIC <= MICROBIT_RAM else "mps2-an385-armv6m"


def boards_table() -> tuple[dict[str, str], dict[str, str]]:
    """boards/boards.cmake's tables: {cpu: board}, {board: QEMU machine}."""
    text = (ROOT / "boards" / "boards.cmake").read_text()
    cpu = dict(re.findall(r"^set\(TLSGEN_BOARD_(cortex-m\w+) (\S+) CACHE", text, re.M))
    machine = {}
    for board, info in re.findall(r'^set\(TLSGEN_BOARD_INFO_(\S+) "([^"]+)" CACHE', text, re.M):
        parts = info.split(";")
        machine[board] = parts[2] if len(parts) > 2 else board
    return cpu, machine


def qemu_machine(profile: Path) -> str:
    cpu_board, board_machine = boards_table()
    board = board_override(profile) or cpu_board[build(str(profile)).resolution.loaded.profile.target.cpu]
    return board_machine[board]


def write_tree(profiles: list[Path], build_dir: Path, target: str) -> Path:
    src = build_dir / "src"
    src.mkdir(parents=True, exist_ok=True)
    lines = ["cmake_minimum_required(VERSION 3.25)", "project(tlsgen_sweep C CXX ASM)",
             "set(CMAKE_CXX_STANDARD 20)", "set(CMAKE_CXX_STANDARD_REQUIRED ON)",
             f'add_subdirectory("{ROOT}" tlsgen)',
             f'include("{ROOT}/tools/sweep/sweep.cmake")']
    if target == "host":
        lines.append(f'include("{ROOT}/boards/host/board.cmake")')
    else:
        lines.append(f'include("{ROOT}/boards/boards.cmake")')
    fn = "tlsgen_sweep_host_client" if target == "host" else "tlsgen_sweep_firmware"
    for p in profiles:
        board = board_override(p) if target != "host" else None
        lines.append(f'{fn}({ident(p)} "{p.resolve()}" "${{CMAKE_BINARY_DIR}}/generated/{p.stem}"'
                     + (f' {board})' if board else ")"))
    (src / "CMakeLists.txt").write_text("\n".join(lines) + "\n")
    return src


def ident(p: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", p.stem)


def artefact(build_dir: Path, p: Path, target: str) -> Path:
    return build_dir / (("sweep_client_" if target == "host" else "sweep_fw_") + ident(p))


def build_all(profiles: list[Path], build_dir: Path, target: str, jobs: int, mbedtls: str,
              trace: bool = False) -> dict[str, str]:
    """Configure and build every profile in one tree (Ninja, -k 0): {profile stem: '' | build error}."""
    src = write_tree(profiles, build_dir, target)
    cmd = ["cmake", "-S", str(src), "-B", str(build_dir), "-G", "Ninja", f"-DTLSGEN_MBEDTLS_SOURCE={mbedtls}",
           "-DCMAKE_BUILD_TYPE=" + ("Debug" if target == "host" else "MinSizeRel")]
    if target != "host":
        cmd.append(f"-DCMAKE_TOOLCHAIN_FILE={ROOT}/cmake/toolchain-arm-none-eabi.cmake")
        cmd.append(f"-DTLSGEN_SWEEP_TRACE={'ON' if trace else 'OFF'}")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sweep: configure failed:\n{r.stdout}\n{r.stderr}")
    # An artefact left by an earlier build of the same tree would hide a failed rebuild (a changed profile whose
    # configuration no longer compiles): every profile's is built anew or reported missing.
    for p in profiles:
        artefact(build_dir, p, target).unlink(missing_ok=True)
    r = subprocess.run(["cmake", "--build", str(build_dir), "-j", str(jobs), "--", "-k", "0"],
                       capture_output=True, text=True)
    log = r.stdout + r.stderr
    errors = {}
    for p in profiles:
        if not artefact(build_dir, p, target).exists():
            mine = [ln for ln in log.splitlines() if p.stem in ln or ident(p) in ln]
            errors[p.stem] = "\n".join(mine[-20:]) or "not built"
        else:
            errors[p.stem] = ""
    return errors


# ---- running ---------------------------------------------------------------------------------------

#: A DTLS session runs through a proxy that sends each server flight last datagram first (lossy_udp_proxy's
#: reverse_flights_ms): the client then buffers every message of a flight but one, the case the heap model's DTLS
#: reassembly line is for; the peak the model is held to includes it.
DTLS_REVERSE_GAP_MS = 30.0


def padded_ticket_bytes(s: peers.Session, b: Built, pad: bool) -> int | None:
    """The ticket size the session's server is made to issue: the profile's tls.resumption.ticket_max_bytes, from
    OpenSSL (ticket_pad.c), so that the peak the model is held to includes the largest ticket the profile lets a
    server send (OpenSSL's own are 180-210 bytes, and the model's "session ticket", "DTLS offered ticket" and "DTLS
    resumed ticket" lines are for tickets up to ticket_max_bytes: sweep h10135-0047, ticket_max_bytes 1024, was 1.112x
    a peak measured with OpenSSL's own; with padded tickets, sweep m10142-0310 found the resumed DTLS handshake's). GnuTLS's tickets stay as they are (300-360 bytes). None: no padding (GnuTLS, a profile
    that keeps no ticket, or a calibration run, whose phase tables are of the servers' own tickets)."""
    return ticket_max(b) if pad and s.server == "openssl" else None


def start_server(s: peers.Session, b: Built, chain, work: Path, openssl: str, gnutls: str, own, pad: bool = True):
    """The session's server on a free port: (server, port), or (None, the last one tried) if none started. With
    `pad`, an OpenSSL server issues tickets of the profile's ticket_max_bytes (padded_ticket_bytes)."""
    server, port = None, 0
    ticket = padded_ticket_bytes(s, b, pad)
    env = None if ticket is None else ri.ticket_pad_env(work, ticket)
    for attempt in range(3):
        port = ri.free_port()
        cmd, ready = peers.server_command(s, b, chain, port, work, psk_hex(b), openssl, gnutls, own)
        server = (DatagramServer if b.resolution.datagram else ri.ProcessServer)(cmd, ready, port, env=env)
        if server.start():
            return server, port
        server.stop()
    return server, port

def server_up(server) -> bool:
    """A server from start_server() that is running and said it was ready."""
    return bool(server is not None and server.proc and server.proc.poll() is None and server._ready.is_set())


def start_stale_server(s: peers.Session, b: Built, chain, work: Path, openssl: str, gnutls: str, own,
                       pad: bool = True):
    """The second server of a stale_offer run, started like the first (its own ticket key), and over datagrams a proxy
    of its own in front of it: (server, proxy or None, the port the client offers the ticket to). The caller checks
    server_up(server)."""
    server, port = start_server(s, b, chain, work, openssl, gnutls, own, pad)
    proxy = None
    if b.resolution.datagram and server_up(server):
        proxy = Proxy(("127.0.0.1", port), reverse_flights_ms=DTLS_REVERSE_GAP_MS).start()
        port = proxy.port
    return server, proxy, port


@dataclass
class SessionResult:
    label: str
    server: str
    suite: str
    ok: bool
    problems: list[str]
    peak: int | None = None
    peak_blocks: int | None = None
    in_use_after: int | None = None
    region: int | None = None
    negotiated: str | None = None
    version: str | None = None
    worst: bool = False
    instructions: int | None = None
    seconds: float = 0.0
    trace: str | None = None
    spec: dict | None = None
    stack_peak: int | None = None  # Cortex-M: the firmware's painted-stack high water
    stack_size: int | None = None
    stack_need: int | None = None  # what tlsgen.stack states for the profile
    machine: str | None = None


LINK_REFUSAL = re.compile(r"tlsgen: \S+: ((?:flash image|RAM) \d+ bytes.* exceeds target\.(?:flash|ram)_bytes \d+.*)")


@dataclass
class ProfileResult:
    name: str
    compiled: bool
    build_error: str = ""
    heap: int = 0
    model: int = 0
    fixed: bool = False
    sessions: list[SessionResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tlsgen_static: int | None = None  # Cortex-M: the image's static data of mbedTLS, the runtime and newlib
    tlsgen_static_reserved: int | None = None  # what the generator's RAM check counts for it (tlsgen.ram)

    @property
    def peak(self) -> int:
        return max((s.peak or 0) for s in self.sessions) if self.sessions else 0

    @property
    def ratio(self) -> float | None:
        return self.model / self.peak if self.peak else None

    @property
    def ok(self) -> bool:
        return self.compiled and not self.problems and all(s.ok for s in self.sessions) and bool(self.sessions)

    @property
    def refused_at_link(self) -> str | None:
        """tlsgen_check_ram()'s refusal (cmake/check_ram.py, exit 2) of the linked image, with its figures: the
        reference application's own code or data took the part past target.flash_bytes or ram_bytes, which the
        generator cannot know (it refuses what mbedTLS and the runtime alone cannot fit: tlsgen.flash, tlsgen.ram)."""
        if self.compiled:
            return None
        m = LINK_REFUSAL.search(self.build_error)
        return m.group(1) if m else None


def psk_hex(b: Built) -> str:
    return bytes([PSK_BYTE] * b.resolution.loaded.profile.tls.psk_max_bytes).hex()


def ca_file(s: peers.Session, b: Built, chain: pki.Chain, work: Path, openssl: str, pki_dir: Path) -> Path:
    """The CA certificates the device loads, as the profile's pem setting says: the chain's root and the
    unrelated extra roots (ca_chain_certs), PEM or DER (DER: the certificates concatenated)."""
    t = b.resolution.loaded.profile.tls
    extras = pki.extra_roots(openssl, pki_dir, chain.spec.ca, chain.spec.scheme, s.extra_cas, chain.spec.ca_bytes) \
        if s.extra_cas else []
    pems = [chain.root_pem, *extras]
    path = work / "ca" / f"{chain.spec.tag}-{s.extra_cas}.{'pem' if t.pem else 'der'}"
    with pki.LOCK:  # sessions run in threads and may share this file
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        if t.pem:
            data = "".join(p.read_text() for p in pems).encode()
        else:
            data = b""
            for p in pems:
                der = p.with_suffix(".der")
                if not der.exists():
                    subprocess.run([openssl, "x509", "-in", str(p), "-outform", "der", "-out", str(der)], check=True)
                data += der.read_bytes()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)
    return path


def device_chain(b: Built, openssl: str, pki_dir: Path) -> pki.Chain | None:
    """The device's own chain (tls.client_certificate), made once in the PKI directory; None without one."""
    spec = peers.client_chain(b)
    return pki.make_chain(openssl, pki_dir, spec) if spec else None


def resumes_version(b: Built, version: str) -> bool:
    """Whether the profile resumes sessions of this TLS version (tls.resumption)."""
    res = b.resolution.loaded.profile.tls.resumption
    return bool(res.tls12 if version == "1.2" else res.tls13)


def peer_resumes(s: peers.Session, b: Built) -> bool:
    """Whether the session's server resumes what the profile offers. GnuTLS 3.7 sends no TLS 1.3 ticket to a client
    that offers psk_ke alone (its server resumes with psk_dhe_ke only): there, save_session() must say so
    (kFailedPrecondition: no ticket), and the session is a full one each time."""
    modes = b.resolution.loaded.profile.tls.resumption.tls13
    return not (s.server == "gnutls" and s.suite.version == "1.3" and modes == ["psk_ke"])


def stale_offer(s: peers.Session, b: Built) -> bool:
    """Whether the session's run also offers its saved session to a second server process, which cannot take it
    (its own ticket key, an empty session cache): a full handshake while mbedTLS still holds what it offered, the
    case the heap model's "session ticket" line is for (a server restarted or its ticket key rotated). A TLS 1.2
    session offered by ID holds no ticket, nor the server's certificate (save_session() leaves it out), and its
    ClientHello proposes TLS 1.2 alone (sweeps h10119-0183, m10120-0003). For the worst-case sessions of a profile
    that resumes this version, where the server resumes at all (over datagrams through a proxy of its own, like
    the first server's)."""
    res = b.resolution.loaded.profile.tls.resumption
    resumes = bool(res.tls12) if s.suite.version == "1.2" else bool(res.tls13)
    return s.worst and resumes and peer_resumes(s, b)


def check_stale_offer(out: SessionResult, stale: dict, result: dict | None = None) -> None:
    """The third session of a stale_offer run: handshake and request done (over streams TLSGEN_RESULT covers it, the
    last line; dtls_client prints its own, `result`), not resumed."""
    if result is not None and (result.get("step") != "done" or result.get("code") != "kOk"):
        out.problems.append(f"the session offering the saved session to another server ended at "
                            f"{result.get('step')} {result.get('code')} {result.get('detail')}")
    elif not stale:
        out.problems.append("no TLSGEN_STALE_OFFER line: the session offering the saved session to another server "
                            "did not get through its handshake")
    elif stale.get("code", "kOk") != "kOk":
        out.problems.append(f"offer_session() to another server said {stale.get('code')} {stale.get('detail')}")
    elif stale.get("resumed") != "0":
        out.problems.append(f"a server with another ticket key and session cache resumed the offered session "
                            f"({stale})")
    elif out.spec is not None:
        out.spec["stale_offer"] = True
    out.ok = not out.problems


def ticket_max(b: Built) -> int | None:
    """tls.resumption.ticket_max_bytes when the profile keeps tickets, else None."""
    tls = b.resolution.loaded.profile.tls
    return tls.resumption.ticket_max_bytes if uses_tickets(tls) else None


def ticket_above_max(out: SessionResult, line: dict, ticket_max: int | None) -> bool:
    """save_session() refused the session (kResourceExhausted) because the server's ticket (the line's `ticket`) is
    larger than the profile's ticket_max_bytes: recorded as not resumed, no problem (check_resumed says why)."""
    ticket = int(line.get("ticket", "0") or 0)
    if ticket_max is None or ticket <= ticket_max or line.get("code") != "kResourceExhausted":
        return False
    if out.spec is not None:
        out.spec["resumed"] = False
        out.spec["ticket_above_max"] = ticket
    out.ok = not out.problems
    return True


def check_padded_ticket(out: SessionResult, line: dict, padded: int | None) -> None:
    """With a server made to issue tickets of `padded` bytes (padded_ticket_bytes): the ticket the device got (the
    line's `ticket`) is within one cipher block (16 bytes) below that, or else the peak was not measured with the
    ticket the model is for. A ticket above it is a session already larger than that (a client certificate chain
    in the ticket): ticket_above_max's case. The ticket's size goes in the session's spec."""
    ticket = int(line.get("ticket", "0") or 0)
    if out.spec is not None and ticket:
        out.spec["ticket"] = ticket
    problem = ri.padded_ticket_problem(ticket, padded)
    if problem:
        out.problems.append(problem)
        out.ok = False


def check_resumed(out: SessionResult, lines: dict, peer_resumes: bool = True, ticket_max: int | None = None,
                  padded: int | None = None) -> None:
    """A --resume run: the first session saved, the second offered it and the server resumed it. A server whose
    ticket is larger than the profile's tls.resumption.ticket_max_bytes (`ticket_max`) sends more than the profile
    says a server sends: save_session() must then refuse it (kResourceExhausted, the bytes needed), and the session
    is not resumed; that is the contract, not a failure (GnuTLS 3.7's TLS 1.2 ticket is 358 bytes after a
    ClientHello that also offers TLS 1.3, sweep h10008-0006 with ticket_max_bytes 336)."""
    saved, offered = lines.get("TLSGEN_SESSION", {}), lines.get("TLSGEN_OFFER", {})
    resumed = lines.get("TLSGEN_RESUMED", {})
    check_padded_ticket(out, saved, padded)
    if ticket_above_max(out, saved, ticket_max):
        return
    if not peer_resumes:
        if saved.get("code") != "kFailedPrecondition":
            out.problems.append(f"save_session() said {saved.get('code')}, expected kFailedPrecondition (a server "
                                "that sends no ticket for psk_ke)")
        out.ok = not out.problems
        return
    if saved.get("code") != "kOk":
        out.problems.append(f"save_session() said {saved.get('code')} {saved.get('detail')}")
    elif offered.get("code") != "kOk":
        out.problems.append(f"offer_session() said {offered.get('code')} {offered.get('detail')}")
    elif resumed.get("resumed") != "1" or resumed.get("server") == "new":
        out.problems.append(f"the second session was not resumed (resumed()={resumed.get('resumed')}, "
                            f"server page: {resumed.get('server')})")
    out.ok = not out.problems
    if out.spec is not None:
        out.spec["resumed"] = resumed.get("resumed") == "1"


def check_firmware_resumed(out: SessionResult, resumed: dict, peer_resumes: bool = True,
                           ticket_max: int | None = None, padded: int | None = None) -> None:
    """The resume firmware's TLSGEN_RESUMED line: the reconnect was resumed, or, with a server that gives nothing
    to resume, save_session() said so (kFailedPrecondition); with a ticket above the profile's ticket_max_bytes,
    save_session() refused it (kResourceExhausted; check_resumed says why that is the contract)."""
    check_padded_ticket(out, resumed, padded)
    if ticket_above_max(out, resumed, ticket_max):
        return
    want = ("kOk", "1") if peer_resumes else ("kFailedPrecondition", "0")
    if (resumed.get("code"), resumed.get("resumed")) != want:
        out.problems.append(f"resumption: {resumed or 'no TLSGEN_RESUMED line'} (expected code={want[0]} "
                            f"resumed={want[1]})")
    out.ok = not out.problems
    if out.spec is not None:
        out.spec["resumed"] = resumed.get("resumed") == "1"


def check_session(s: peers.Session, lines: dict, rc: int) -> SessionResult:
    res = lines.get("TLSGEN_RESULT", {})
    heap = lines.get("TLSGEN_HEAP", {})
    num = lambda d, k: int(d[k]) if d.get(k, "").lstrip("-").isdigit() else None  # noqa: E731
    out = SessionResult(s.label, s.server, s.suite.name, False, [], num(heap, "peak"), num(heap, "peak_blocks"),
                        num(heap, "in_use_after"), num(heap, "region"), res.get("suite"), res.get("version"), s.worst)
    out.spec = {"group": s.group, "sig": s.sig, "extra_cas": s.extra_cas, "version": s.suite.version,
                "payload_peak": num(heap, "peak_payload"),
                "chain": None if s.chain is None else {
                    "leaf": s.chain.leaf.label, "ca": s.chain.ca.label, "scheme": s.chain.scheme,
                    "certs": s.chain.certs, "chain_bytes": s.chain.chain_bytes, "ca_bytes": s.chain.ca_bytes},
                "client": None if s.client is None else {"key": s.client.leaf.label, "certs": s.client.certs,
                                                         "chain_bytes": s.client.chain_bytes}}
    p = out.problems
    if res.get("step") != "done" or res.get("code") != "kOk":
        p.append(f"ended at {res.get('step')} {res.get('code')} {res.get('detail')} ({res.get('error', '')})")
    if res.get("step") == "done" and res.get("suite") != s.suite.name:
        p.append(f"negotiated {res.get('suite')}, expected {s.suite.name}")
    want = ("DTLSv" if res.get("version", "").startswith("DTLS") else "TLSv") + s.suite.version
    if res.get("step") == "done" and res.get("version") != want:
        p.append(f"protocol {res.get('version')}, expected {want}")
    if res.get("step") == "done" and s.client is not None and lines.get("TLSGEN_CLIENT_CERT", {}).get("loaded") == "0":
        p.append("the device loaded no client certificate, but the server required one")
    close = lines.get("TLSGEN_CLOSE", {}).get("detail")
    if res.get("step") == "done" and close not in (None, "0"):
        p.append(f"the reply did not end with close_notify (detail {close})")
    if out.in_use_after != 0 or num(heap, "live_blocks_after") != 0:
        p.append(f"heap not back to 0 after teardown: {heap}")
    if rc not in (0,):
        p.append(f"the client exited {rc}")
    if out.peak is not None and out.region is not None and out.peak > out.region:
        p.append(f"peak {out.peak} above the region {out.region}")
    out.ok = not p
    return out


def run_host_session(s: peers.Session, b: Built, client: Path, work: Path, openssl: str, gnutls: str,
                     pki_dir: Path, trace: bool = False) -> SessionResult:
    started = time.monotonic()
    chain = pki.make_chain(openssl, pki_dir, s.chain) if s.chain else None
    p = b.resolution.loaded.profile
    args = ["--host", "127.0.0.1", "--timeout-ms", "30000"]
    if chain is not None:
        args += ["--server-name", pki.SERVER_NAME]
        if b.resolution.verify != "none":
            args += ["--ca", str(ca_file(s, b, chain, work, openssl, pki_dir))]
    if s.suite.kex.uses_psk:
        args += ["--psk", psk_hex(b), "--psk-identity", peers.PSK_IDENTITY]
    # The device loads its certificate in every session of a profile that has one; the server asks for it in
    # certificate handshakes (s.client).
    own = device_chain(b, openssl, pki_dir)
    if own is not None:
        own_chain, own_key = pki.device_files(openssl, own, p.tls.pem)
        args += ["--client-cert", str(own_chain), "--client-key", str(own_key)]
    if p.platform.debug.level > 0:
        args += ["--debug-log", str(work / f"debug-{os.getpid()}-{time.monotonic_ns()}.log")]
    resumes = resumes_version(b, s.suite.version)
    if resumes:
        args += ["--resume"]  # a second session offers the first's saved session: the server must resume it
    trace_file = None
    if trace:
        trace_file = work / "traces" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", s.label) + ".csv")
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--trace", str(trace_file)]
    if b.resolution.datagram:
        # dtls_client (sweep.cmake): the handshake and one request/response; with tls.resumption a second session
        # that offers the first's saved session (--resume); the heap trace (--trace); no debug log.
        keep = {"--host": 1, "--server-name": 1, "--ca": 1, "--psk": 1, "--psk-identity": 1, "--client-cert": 1,
                "--client-key": 1, "--resume": 0, "--trace": 1}
        kept, i = [], 0
        while i < len(args):
            n = keep.get(args[i])
            kept += args[i:i + 1 + n] if n is not None else []
            i += 1 + (n if n is not None else (1 if i + 1 < len(args) and not args[i + 1].startswith("--") else 0))
        args = kept + ["--exchanges", "1", "--expect-reply", "reverse" if s.server == "openssl" else "echo",
                       "--wait-ms", "5000"] + (["--sessions", "2"] if resumes else [])
    server, port = start_server(s, b, chain, work, openssl, gnutls, own if s.client else None, pad=not trace)
    if not server_up(server):
        return SessionResult(s.label, s.server, s.suite.name, False, ["server did not start: " +
                                                                       "".join(server.output)[-400:]], worst=s.worst)
    other = other_proxy = None
    if resumes and stale_offer(s, b):
        other, other_proxy, other_port = start_stale_server(s, b, chain, work, openssl, gnutls,
                                                            own if s.client else None, pad=not trace)
        if not server_up(other):
            other.stop()
            server.stop()
            return SessionResult(s.label, s.server, s.suite.name, False, ["second server did not start: " +
                                                                           "".join(other.output)[-400:]], worst=s.worst)
        args += ["--stale-offer-port", str(other_port)]
    proxy = Proxy(("127.0.0.1", port), reverse_flights_ms=DTLS_REVERSE_GAP_MS, follow_clients=resumes).start() \
        if b.resolution.datagram else None
    try:
        env = dict(os.environ, TLSGEN_NV_SEED_FILE=str(work / "nv_seed.bin"))
        r = subprocess.run([str(client), "--port", str(proxy.port if proxy else port), *args], capture_output=True,
                           text=True, timeout=CLIENT_TIMEOUT, env=env)
        out, rc = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()
        if other_proxy is not None:
            other_proxy.stop()
        if other is not None:
            other.stop()
    lines = ri.parse_lines(out)
    result = check_session(s, lines, rc)
    if resumes:
        check_resumed(result, lines, peer_resumes(s, b), ticket_max(b), padded_ticket_bytes(s, b, not trace))
        if other is not None and result.spec is not None and result.spec.get("resumed"):
            check_stale_offer(result, lines.get("TLSGEN_STALE_OFFER", {}),
                              lines.get("TLSGEN_STALE_RESULT", {}) if b.resolution.datagram else None)
    result.trace = str(trace_file) if trace_file else None
    if chain is not None and result.spec and result.spec["chain"]:
        result.spec["chain"].update(der=chain.chain_der_bytes, root_der=chain.root_der_bytes, certs_der=list(chain.cert_der_bytes))
    if not result.ok:
        result.problems.append("server: " + "".join(server.output)[-300:].replace("\n", " | "))
        if other is not None:
            result.problems.append("second server: " + "".join(other.output)[-300:].replace("\n", " | "))
    result.seconds = round(time.monotonic() - started, 2)
    return result


def run_qemu_session(s: peers.Session, b: Built, firmware: Path, work: Path, openssl: str, gnutls: str,
                     qemu: str, machine: str, pki_dir: Path, trace: bool = False) -> SessionResult:
    started = time.monotonic()
    chain = pki.make_chain(openssl, pki_dir, s.chain) if s.chain else None
    run = Path(tempfile.mkdtemp(prefix="qemu.", dir=work))
    if chain is not None and b.resolution.verify != "none":
        f = ca_file(s, b, chain, work, openssl, pki_dir)
        shutil.copy(f, run / ("ca.pem" if f.suffix == ".pem" else "ca.der"))
    (run / "psk.bin").write_bytes(bytes([PSK_BYTE] * b.resolution.loaded.profile.tls.psk_max_bytes))
    (run / "psk_identity.txt").write_text(peers.PSK_IDENTITY)
    own = device_chain(b, openssl, pki_dir)
    if own is not None:  # the device's provisioned certificate and key (client.pem + client-key.pem, or DER)
        pem = b.resolution.loaded.profile.tls.pem
        own_chain, own_key = pki.device_files(openssl, own, pem)
        shutil.copy(own_chain, run / ("client.pem" if pem else "client.der"))
        shutil.copy(own_key, run / ("client-key.pem" if pem else "client-key.der"))
    server = emulator = proc = proxy = other = other_proxy = None
    try:
        server, port = start_server(s, b, chain, work, openssl, gnutls, own if s.client else None, pad=not trace)
        if not server_up(server):
            return SessionResult(s.label, s.server, s.suite.name, False, ["server did not start"], worst=s.worst)
        sock, ready_file = run / "uart.sock", run / "emu.ready"
        log = open(run / "emulator.log", "w")
        emulator = subprocess.Popen([sys.executable, str(ROOT / "tools" / "esp8266_emu" / "esp8266_emu.py"),
                                     "--socket", str(sock), "--ready-file", str(ready_file)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not ready_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # A profile with tls.resumption for this version: its resume firmware (sweep.cmake), which saves the session
        # after the first one and reconnects offering it (not in calibration runs: their traces are of one session).
        resume = resumes_version(b, s.suite.version) and not trace
        if resume:
            firmware = firmware.resolve().with_name(firmware.name.replace("sweep_fw_", "sweep_fw_resume_", 1))
            if not firmware.exists():
                return SessionResult(s.label, s.server, s.suite.name, False, [f"no resume firmware {firmware}"],
                                     worst=s.worst)
        if b.resolution.datagram:
            # (the resume firmware's second session comes from a new UDP link of the modem: the proxy follows it)
            proxy = Proxy(("127.0.0.1", port), reverse_flights_ms=DTLS_REVERSE_GAP_MS, follow_clients=resume).start()
            port = proxy.port
        append = f"port={port} name={pki.SERVER_NAME} heap=0 io_timeout=0"
        if resume and stale_offer(s, b):
            other, other_proxy, other_port = start_stale_server(s, b, chain, work, openssl, gnutls,
                                                                own if s.client else None, pad=not trace)
            if not server_up(other):
                return SessionResult(s.label, s.server, s.suite.name, False, ["second server did not start"],
                                     worst=s.worst)
            append += f" stale_port={other_port}"
        proc = subprocess.Popen([qemu, "-M", machine, "-display", "none", "-monitor", "none",
                                 "-chardev", f"socket,id=c0,path={sock}", "-serial", "chardev:c0",
                                 "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,sleep=off",
                                 "-kernel", str(firmware), "-append", append,
                                 *(["-d", "int,guest_errors", "-D", os.environ["TLSGEN_QEMU_LOG"]]
                                   if os.environ.get("TLSGEN_QEMU_LOG") else [])], cwd=run, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        try:
            out, _ = proc.communicate(timeout=QEMU_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=10)
            out += "\n(QEMU timed out)"
        lines = ri.parse_lines(out)
        result = check_session(s, lines, proc.returncode if proc.returncode in (0, 1) else proc.returncode)
        if chain is not None and result.spec and result.spec["chain"]:
            result.spec["chain"].update(der=chain.chain_der_bytes, root_der=chain.root_der_bytes,
                                        certs_der=list(chain.cert_der_bytes))
        if b.resolution.datagram:
            dt = lines.get("TLSGEN_DTLS", {})
            if lines.get("TLSGEN_RESULT", {}).get("step") == "done" and \
                    (dt.get("answered") in (None, "0") or dt.get("answered") != dt.get("exchanges")):
                result.problems.append(f"the DTLS requests were not all answered: {dt or 'no TLSGEN_DTLS line'}")
                result.ok = False
        elif lines.get("TLSGEN_RESULT", {}).get("step") == "done" and "HTTP/1.0 200" not in out:
            result.problems.append("no HTTP 200 reply printed")
            result.ok = False
        if resume:
            check_firmware_resumed(result, lines.get("TLSGEN_RESUMED", {}), peer_resumes(s, b), ticket_max(b),
                                   padded_ticket_bytes(s, b, not trace))
            if other is not None and result.spec is not None and result.spec.get("resumed"):
                check_stale_offer(result, lines.get("TLSGEN_STALE_OFFER", {}))
        if trace and (run / "trace.raw").exists():
            result.trace = str(convert_trace(run / "trace.raw", work / "traces" /
                                             (re.sub(r"[^A-Za-z0-9_.-]+", "_", s.label) + ".csv")))
        st = lines.get("TLSGEN_STACK", {})
        if st.get("peak", "").isdigit() and st.get("size", "").isdigit():
            result.stack_peak, result.stack_size = int(st["peak"]), int(st["size"])
            if result.stack_peak >= result.stack_size:
                result.problems.append(f"the stack overflowed (all {result.stack_size} bytes used)")
                result.ok = False
            # The stack tlsgen states for the profile (kStackNeedBytes) must hold what the session used; a
            # calibration build's tracing hook runs extra frames at the deepest points, so it only reports.
            result.stack_need = stack_need(b.resolution).bytes
            if not trace and result.stack_peak > result.stack_need:
                result.problems.append(f"stack peak {result.stack_peak} bytes is above the {result.stack_need} "
                                       "bytes tlsgen states for this profile (tlsgen.stack)")
                result.ok = False
        result.machine = machine
        cyc = lines.get("TLSGEN_CYCLES", {})
        if cyc.get("handshake_instructions", "").isdigit():
            result.instructions = int(cyc["handshake_instructions"])
        if not result.ok:
            result.problems.append("firmware: " + out[-600:].replace("\n", " | "))
            result.problems.append("server: " + "".join(server.output)[-400:].replace("\n", " | "))
            if other is not None:
                result.problems.append("second server: " + "".join(other.output)[-400:].replace("\n", " | "))
        result.seconds = round(time.monotonic() - started, 2)
        return result
    finally:
        for pr in (proc, emulator):
            if pr is not None and pr.poll() is None:
                pr.kill()
                pr.wait(timeout=5)
        for px in (proxy, other_proxy):
            if px is not None:
                px.stop()
        for srv in (server, other):
            if srv is not None:
                srv.stop()
        shutil.rmtree(run, ignore_errors=True)


def convert_trace(raw: Path, out: Path) -> Path:
    """The firmware's raw trace (op,pointer,size,state) as the shared trace format (op,size,id,state)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    live: dict[str, tuple[str, int]] = {}
    next_id = 0
    lines = ["op,size,id,state"]
    for line in raw.read_text().splitlines():
        op, ptr, size, state = line.split(",")
        if op == "a":
            next_id += 1
            live[ptr] = (str(next_id), int(size))
            lines.append(f"a,{size},{next_id},{state}")
        elif ptr in live:
            i, n = live.pop(ptr)
            lines.append(f"f,{n},{i},{state}")
    out.write_text("\n".join(lines) + "\n")
    return out


# The reference firmware's own static data, left out of library_static_bytes(): main()'s buffers (function
# statics, those of the lambdas inside main() too: _ZZZ4main...), its allocator timing for the bench
# (g_alloc_timing), the board layer's (semihosting command line, clock state) and the heap region itself.
APP_SYMBOLS = re.compile(r"^_ZZ+4main|g_alloc_timing|g_cmdline|g_heap_region|board")


def library_static_bytes(firmware: Path) -> int:
    """The .data and .bss of everything in a linked firmware but the reference application's own buffers: what
    tlsgen.ram reserves for mbedTLS, the tlsgen runtime and newlib."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "-t", "d", str(firmware)], check=True, capture_output=True,
                         text=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "bBdD" and not APP_SYMBOLS.search(parts[3]):
            total += int(parts[1])
    return total


def run_profile(path: Path, artefact_path: Path, target: str, work: Path, openssl: str, gnutls: str, qemu: str,
                jobs: int = 1, build_error: str = "", pki_dir: Path | None = None, model_from: Path | None = None,
                trace: bool = False, machine: str | None = None) -> ProfileResult:
    pki_dir = pki_dir or (work / "pki")
    b = build(str(path))
    heap = b.heap
    if model_from:
        try:
            heap = build(str(model_from)).heap
        except ProfileError:
            pass  # the profile as drawn is refused by today's rules: its model is still the calibration build's
    res = ProfileResult(path.stem, not build_error and artefact_path.exists(), build_error, heap.bytes,
                        heap.model.total, heap.mode == "fixed")
    if not res.compiled:
        res.problems.append("did not build: " + (build_error or "no artefact")[-500:])
        return res
    if target != "host" and not model_from:
        res.tlsgen_static = library_static_bytes(artefact_path)
        res.tlsgen_static_reserved = tlsgen_static(b.resolution)
        if res.tlsgen_static > res.tlsgen_static_reserved:
            res.problems.append(f"the image's static data of mbedTLS, the runtime and newlib is {res.tlsgen_static} "
                                f"bytes, above the {res.tlsgen_static_reserved} the generator's RAM check counts "
                                "(tlsgen.ram)")
    sessions, res.skipped = peers.sessions_for(b)
    if not sessions:
        res.problems.append("no session to run: " + "; ".join(res.skipped))
        return res
    work.mkdir(parents=True, exist_ok=True)
    runner = (lambda s: run_host_session(s, b, artefact_path, work, openssl, gnutls, pki_dir, trace)) if target == "host" \
        else (lambda s: run_qemu_session(s, b, artefact_path, work, openssl, gnutls, qemu,
                                         machine or qemu_machine(path), pki_dir, trace))
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        res.sessions = list(ex.map(runner, sessions))
    for server in peers.SERVERS:
        if not any(s.server == server for s in res.sessions) and not any(k.startswith(server) for k in res.skipped):
            res.problems.append(f"no session against {server}")
    if res.peak:
        if res.model > res.peak * RATIO_MAX:
            res.problems.append(f"the model's {res.model} bytes is {res.ratio:.3f}x the largest peak {res.peak} "
                                f"(allowed: at most {RATIO_MAX:.2f}x)")
        if res.model < res.peak:
            res.problems.append(f"the model's {res.model} bytes is below the peak {res.peak}")
    return res


# ---- reporting --------------------------------------------------------------------------------------

def report(results: list[ProfileResult], refused=None, drawn: int = 0, seed: int | None = None,
           target: str = "host") -> str:
    out = []
    n = len(results)
    compiled = sum(r.compiled for r in results)
    ok = sum(r.ok for r in results)
    sessions = [s for r in results for s in r.sessions]
    ratios = sorted(r.ratio for r in results if r.ratio)
    out.append(f"sweep {target}" + (f", seed {seed}" if seed is not None else "") +
               (f": drew {drawn}, accepted {n}, refused {drawn - n}" if drawn else f": {n} profiles"))
    out.append(f"  compiled                      {compiled}/{n}")
    out.append(f"  all sessions ok               {ok}/{n} profiles, "
               f"{sum(s.ok for s in sessions)}/{len(sessions)} sessions "
               f"(openssl {sum(s.ok for s in sessions if s.server == 'openssl')}/"
               f"{sum(s.server == 'openssl' for s in sessions)}, gnutls "
               f"{sum(s.ok for s in sessions if s.server == 'gnutls')}/{sum(s.server == 'gnutls' for s in sessions)})")
    out.append(f"  bytes in use after teardown   {sum((s.in_use_after or 0) != 0 for s in sessions)} sessions not 0")
    resumed = [s for s in sessions if s.spec and s.spec.get("resumed")]
    if resumed:
        out.append(f"  resumed                       {len(resumed)} sessions; {sum(bool(s.spec.get('stale_offer')) for s in resumed)}"
                   " of them also offered their saved session to another server (a full handshake holding it)")
    if ratios:
        out.append(f"  model / worst-case peak       min {ratios[0]:.3f}  median {statistics.median(ratios):.3f}  "
                   f"max {ratios[-1]:.3f}  ({sum(1.0 <= x <= RATIO_MAX for x in ratios)}/{len(ratios)} within "
                   f"[1.00, {RATIO_MAX:.2f}])")
        hist = {}
        for x in ratios:
            k = f"{int(x * 50) / 50:.2f}"
            hist[k] = hist.get(k, 0) + 1
        out.append("  histogram                     " + "  ".join(f"{k}:{v}" for k, v in sorted(hist.items())))
    static = [r for r in results if r.tlsgen_static is not None]
    if static:
        out.append(f"  mbedTLS + runtime static data max {max(r.tlsgen_static for r in static)} bytes; above what "
                   f"tlsgen.ram reserves: {sum(r.tlsgen_static > r.tlsgen_static_reserved for r in static)}"
                   f"/{len(static)} images")
    machines: dict[str, list[SessionResult]] = {}
    for s in sessions:
        if s.machine:
            machines.setdefault(s.machine, []).append(s)
    for m, ss in sorted(machines.items()):
        st = [s for s in ss if s.stack_peak]
        out.append(f"  on {m:27s} {sum(s.ok for s in ss)}/{len(ss)} sessions ok"
                   + (f", stack peak {max(s.stack_peak for s in st)} bytes (of "
                      f"{min(s.stack_size for s in st)}-{max(s.stack_size for s in st)}), peak / stated need "
                      f"max {max(s.stack_peak / s.stack_need for s in st):.3f}" if st else ""))
    skipped = sum(len(r.skipped) for r in results)
    if skipped:
        out.append(f"  server/suite pairs not run    {skipped} (the server lacks what the profile relies on; "
                   "reasons in the JSON)")
    if refused:
        out.append("  refused by tlsgen check:")
        for reason, k in refused.most_common():
            out.append(f"    {k:5d}  {reason}")
    at_link = [r for r in results if r.refused_at_link]
    if at_link:
        out.append(f"  refused at link by tlsgen_check_ram (exit 2, the application's share) {len(at_link)}:")
        for r in at_link:
            out.append(f"    {r.name}: {r.refused_at_link}")
    bad = [r for r in results if not r.ok and not r.refused_at_link]
    if bad:
        out.append(f"  FAILURES ({len(bad)}):")
        for r in bad:
            out.append(f"    {r.name}: " + "; ".join(r.problems))
            for s in r.sessions:
                if not s.ok:
                    out.append(f"      {s.label}: " + "; ".join(s.problems)[:700])
    return "\n".join(out)


def to_json(results: list[ProfileResult]) -> list[dict]:
    return [{"name": r.name, "ok": r.ok, "compiled": r.compiled, "heap": r.heap, "model": r.model, "fixed": r.fixed,
             "peak": r.peak, "ratio": r.ratio, "problems": r.problems, "skipped": r.skipped,
             "refused_at_link": r.refused_at_link,
             "sessions": [s.__dict__ for s in r.sessions]} for r in results]


# ---- entry points -----------------------------------------------------------------------------------

def in_netns(argv: list[str]) -> int | None:
    """Re-runs this command in a private network namespace with only loopback, if possible."""
    if os.environ.get("TLSGEN_SWEEP_NETNS") or not shutil.which("unshare"):
        return None
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    inner = f"ip link set lo up && exec {sys.executable} " + " ".join(map(repr_arg, [__file__, *argv]))
    return subprocess.run(["unshare", "-rn", "sh", "-c", inner],
                          env=dict(os.environ, TLSGEN_SWEEP_NETNS="1")).returncode


def repr_arg(a: str) -> str:
    return "'" + a.replace("'", "'\\''") + "'"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["sweep", "run", "build", "board"])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--target", choices=["host", "cortex-m", "cortex-m4"], default="host",
                    help="host, or cortex-m: firmware in QEMU on each profile's core's board (cortex-m4: the same, "
                         "sampling only cortex-m4)")
    ap.add_argument("--cpus", help="sweep: comma-separated cores to draw from (default: the target's)")
    ap.add_argument("--machine", help="run: the QEMU machine (default: the board of the profile's core)")
    ap.add_argument("--profile", action="append", default=[], help="run: a built profile (repeatable)")
    ap.add_argument("--profiles", help="build/sweep: a directory of profiles instead of sampling")
    ap.add_argument("--client", help="run: the built client/firmware of --profile")
    ap.add_argument("--build", default=str(ROOT / "build" / "sweep"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--json")
    ap.add_argument("--openssl", default=shutil.which("openssl") or "openssl")
    ap.add_argument("--gnutls-serv", default=shutil.which("gnutls-serv") or "gnutls-serv")
    ap.add_argument("--qemu", default=shutil.which("qemu-system-arm") or "qemu-system-arm")
    ap.add_argument("--mbedtls", default=os.environ.get("TLSGEN_MBEDTLS_SOURCE", str(ROOT / ".deps" / "mbedtls_3.6.6.orig.tar.bz2")))
    ap.add_argument("--no-netns", action="store_true", help="run the servers in this network namespace")
    ap.add_argument("--client-share", type=float, default=sampler.CLIENT_SHARE,
                    help="sweep: the share of sampled profiles with certificate suites that get a client certificate")
    ap.add_argument("--ecc", choices=["any", "p256m", "legacy"], default="any",
                    help="sweep: keep only sampled profiles on this elliptic-curve implementation (tlsgen.resolve.ecc)")
    ap.add_argument("--transport", choices=["any", "datagram", "stream"], default="any",
                    help="sweep: keep only sampled profiles over datagrams (DTLS) or streams (TLS)")
    ap.add_argument("--calibrate", action="store_true",
                    help="measure only: build each profile with a 1 MiB heap (platform.heap) so no session runs out, "
                         "keep each session's allocation trace, and report peaks against the original model")
    args = ap.parse_args(argv)
    if args.command == "board":  # for tests/sweep/CMakeLists.txt: the board of a Cortex-M profile, if not the default
        print(";".join(board_override(Path(p)) or "" for p in args.profile))
        return 0
    if args.calibrate:
        os.environ["TLSGEN_HEAP_BOOTSTRAP"] = "1"  # a target's first calibration has no model of its own yet
    if args.command != "build" and not args.no_netns:
        rc = in_netns(argv)
        if rc is not None:
            return rc
    build_dir = Path(args.build).resolve()
    work = Path(args.work or (build_dir / "work")).resolve()
    work.mkdir(parents=True, exist_ok=True)

    if args.command == "run":
        results = []
        for prof in args.profile:
            art = Path(args.client) if args.client else artefact(build_dir, Path(prof), args.target)
            results.append(run_profile(Path(prof), art, args.target, work / Path(prof).stem, args.openssl,
                                       args.gnutls_serv, args.qemu, jobs=max(1, args.jobs), pki_dir=work / "pki",
                                       machine=args.machine))
        print(report(results, target=args.target))
        for r in results:
            print(f"{'PASS' if r.ok else 'FAIL'} {r.name}: heap {r.heap} model {r.model} worst peak {r.peak} "
                  f"ratio {r.ratio or 0:.3f}, {len(r.sessions)} sessions")
        if args.json:
            Path(args.json).write_text(json.dumps(to_json(results), indent=1) + "\n")
        return 0 if all(r.ok for r in results) else 1

    refused, drawn, seed = None, 0, args.seed
    if args.profiles:
        profiles = sorted(Path(args.profiles).glob("*.yaml"))
    else:
        if args.seed is None:
            ap.error("sweep needs --seed (or --profiles)")
        cpus = args.cpus.split(",") if args.cpus else ["host"] if args.target == "host" else \
            sampler.CORTEX_M if args.target == "cortex-m" else [args.target]
        s = sampler.sample(args.seed, args.count, cpus, prefix="h" if args.target == "host" else "m",
                           client_share=args.client_share, ecc=args.ecc, transport=args.transport)
        refused, drawn = s.refused, s.drawn
        pdir = build_dir / "profiles"
        shutil.rmtree(pdir, ignore_errors=True)
        pdir.mkdir(parents=True)
        profiles = []
        for name, text, _ in s.accepted:
            (pdir / f"{name}.yaml").write_text(text)
            profiles.append(pdir / f"{name}.yaml")
    if args.calibrate:
        cdir = build_dir / "calibration-profiles"
        cdir.mkdir(parents=True, exist_ok=True)
        originals = {p.stem: p for p in profiles}
        profiles = []
        for stem, p in originals.items():
            data = yaml.safe_load(p.read_text())
            data["platform"]["heap"] = CALIBRATION_HEAP if args.target == "host" else CALIBRATION_HEAP_M
            data["target"].pop("ram_bytes", None)  # the calibration heap is no device's RAM
            data["target"].pop("flash_bytes", None)  # nor is the tracing firmware its flash
            data["target"].pop("stack_bytes", None)  # the board's default stack: a measurement must not overflow
            (cdir / f"{stem}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
            profiles.append(cdir / f"{stem}.yaml")
    t0 = time.monotonic()
    errors = build_all(profiles, build_dir, args.target, args.jobs, args.mbedtls, trace=args.calibrate)
    print(f"built {sum(not e for e in errors.values())}/{len(profiles)} in {time.monotonic() - t0:.0f} s", flush=True)
    if args.command == "build":
        return 0 if not any(errors.values()) else 1
    results = []
    for i, p in enumerate(profiles, 1):
        r = run_profile(p, artefact(build_dir, p, args.target), args.target, work / p.stem, args.openssl,
                        args.gnutls_serv, args.qemu, jobs=args.jobs, build_error=errors[p.stem],
                        pki_dir=work / "pki", model_from=originals[p.stem] if args.calibrate else None,
                        trace=args.calibrate)
        results.append(r)
        print(f"[{i}/{len(profiles)}] {'PASS' if r.ok else 'FAIL'} {r.name}: model {r.model} peak {r.peak} "
              f"ratio {r.ratio or 0:.3f} sessions {sum(s.ok for s in r.sessions)}/{len(r.sessions)}"
              + ("" if r.ok else "  " + "; ".join(r.problems + [s.label + ': ' + '; '.join(s.problems)[:200]
                                                                for s in r.sessions if not s.ok])[:600]), flush=True)
    print(report(results, refused, drawn, seed, args.target))
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": seed, "target": args.target, "drawn": drawn,
                                               "refused": dict(refused or {}), "profiles": to_json(results)},
                                              indent=1) + "\n")
    return 0 if all(r.ok or r.refused_at_link for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
