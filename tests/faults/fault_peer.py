#!/usr/bin/env python3
"""Fault-injecting TLS peer for the host runtime: a proxy between tests/integration's client and a
real `openssl s_server` (127.0.0.1) that damages one of the server's TLS records on the way.

    fault_peer.py --client PATH --profile host-ecdhe-ecdsa --fault MODE [--record N] --work DIR

Record faults hit the server's N-th record (--record, 1 = the ServerHello; the proxy forwards the
ones before it unchanged):
  garbage     64 random bytes instead of the record (the first one is no TLS content type)
  truncated   the first half of the record, then a TCP FIN
  stall       nothing more: the proxy keeps the connection open, silent, for STALL_SECONDS
  reset       a TCP RST instead of the record
  oversized   a record header claiming 18,000 bytes (more than any record buffer) and that many bytes
Chain faults (certificate profiles, a server with its own chain, no proxy):
  big_chain            a chain longer than the profile's peer_chain_max_bytes that still fits the
                       input record buffer: the handshake gets past the record layer and runs out of
                       heap while parsing/verifying the chain
  chain_beyond_record  a server certificate larger than the input record buffer: the record layer
                       refuses the Certificate message before anything is parsed

Every case asserts the exact outcome the client reports (step, code, mbedTLS detail; for reset also
the transport's ECONNRESET), no crash, the client's teardown clean (heap back to zero bytes and
blocks, exit 0), and an upper time bound: the client's transport timeout is CLIENT_TIMEOUT_MS, so a
stall must end with kTimeout within that plus STALL_SLACK, well before the proxy's own EOF.
Prints `FAULT <profile> <fault> r<N>: step=... code=... detail=... time=...` and PASS/FAIL.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_integration", ROOT / "tests" / "integration" / "run_integration.py")
ri = importlib.util.module_from_spec(_spec)
sys.modules["run_integration"] = ri
_spec.loader.exec_module(ri)  # type: ignore[union-attr]

CLIENT_TIMEOUT_MS = 3000
STALL_SECONDS = 8         # the proxy's silence: longer than the client's timeout, so a kTimeout is the client's own
STALL_SLACK = 2.0         # process start, handshake up to the stalled record, scheduling
CASE_TIME_LIMIT = 30.0    # every other case: a hang catcher, not a timing test
TLS_CONTENT_TYPES = (20, 21, 22, 23, 24)

# mbedTLS codes (mbedtls/ssl.h, bignum.h, ecp.h, x509.h)
ERR_SSL_TIMEOUT = -0x6800
ERR_SSL_BAD_INPUT_DATA = -0x7100      # "requesting more data than fits" the input buffer
ERR_SSL_INVALID_RECORD = -0x7200
ERR_SSL_CONN_EOF = -0x7280
ECONNRESET = 104 if sys.platform.startswith("linux") else 54


class Expected:
    def __init__(self, code: str, detail: int | tuple[int, ...], step: str = "connect", transport: str | None = None,
                 verify_flags: int = 0):
        # detail: the mbedTLS code, or the codes of which any is right (named where they are used)
        self.details = detail if isinstance(detail, tuple) else (detail,)
        self.code, self.detail, self.step, self.transport = code, self.details[0], step, transport
        self.verify_flags = verify_flags  # bits that must be set in the verify result (0: not checked)

    def matches(self, step: str | None, code: str | None, detail: int | None) -> bool:
        return (step, code) == (self.step, self.code) and detail in self.details

    def __str__(self) -> str:
        return f"{self.step} {self.code} " + " or ".join(f"{d:#x}" for d in self.details)


# What each fault must end with. Independent of the record it hits: the record layer checks a record's
# header (content type, version, length) before it decrypts or parses anything, so the same damage
# gives the same error at the ServerHello and at a later (also encrypted) handshake record.
RECORD_FAULTS: dict[str, Expected] = {
    # content type 0xa5: mbedTLS rejects the header (ssl_parse_record_header)
    "garbage": Expected("kTls", ERR_SSL_INVALID_RECORD),
    # EOF inside a record: mbedtls_ssl_fetch_input() reports MBEDTLS_ERR_SSL_CONN_EOF
    "truncated": Expected("kTls", ERR_SSL_CONN_EOF),
    # the blocking transport's 3 s deadline: PosixTcpStack kTimeout -> MBEDTLS_ERR_SSL_TIMEOUT, retryable
    "stall": Expected("kTimeout", ERR_SSL_TIMEOUT, transport="kTimeout/0"),
    # RST: recv() says ECONNRESET, PosixTcpStack kClosed/ECONNRESET, the BIO's EOF -> CONN_EOF
    "reset": Expected("kTls", ERR_SSL_CONN_EOF, transport=f"kClosed/{ECONNRESET}"),
    # a length beyond MBEDTLS_SSL_IN_BUFFER_LEN: mbedtls_ssl_fetch_input() refuses to read it
    "oversized": Expected("kTls", ERR_SSL_BAD_INPUT_DATA),
}

# big_chain: what mbedTLS 3.6.6 does when the chain fits the record buffer but not the heap (found
# with a breakpoint on the heap's failure path; the same on every run). The Certificate message is
# reassembled in the input buffer, each certificate is parsed onto the heap (the mbedtls_x509_crt,
# a copy of its DER, its names, its public key), then the chain is verified (ECDSA: bignum working
# memory). The runtime counts the heap's failed allocations around the call, so the code is
# kResourceExhausted whatever mbedTLS made of the failure; mbedTLS's own code tells where it was:
BIG_CHAIN = {
    # TLS 1.2 (leaf + 1 intermediate, 788 DER bytes against peer_chain_max_bytes 512): parsing fits,
    # the ECDSA signature check of the chain does not (mbedtls_ecdsa_read_signature -> ecp_mul_comb ->
    # mbedtls_mpi_grow). x509_crt_check_signature() takes any failure for a bad signature, so mbedTLS
    # reports an untrusted chain: MBEDTLS_ERR_X509_CERT_VERIFY_FAILED with BADCERT_NOT_TRUSTED. On the p256-m driver
    # (tlsgen.resolve.ecc) the generated heap is smaller (no ECP working memory to leave room for) and parsing the
    # intermediate's structure runs out first: MBEDTLS_ERR_X509_ALLOC_FAILED, no verify result.
    "TLSv1.2": Expected("kResourceExhausted", (-0x2700, -0x2880), verify_flags=0x08),
    # TLS 1.3 (leaf + 3 intermediates, ~1.6 KB): which allocation fails first depends on the target's sizes
    # and on the room the generated heap leaves: parsing the chain, on x86-64 the EC public key
    # (mbedtls_x509_crt_parse_der -> mbedtls_mpi_grow: MBEDTLS_ERR_MPI_ALLOC_FAILED), on Cortex-M4 the next
    # certificate's structure (MBEDTLS_ERR_X509_ALLOC_FAILED); or, when the chain just fits (m4-tls13's heap
    # since it keeps tickets, 25,400 bytes: 4 failed allocations), its signature check, reported as in
    # TLS 1.2 as an untrusted chain (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED). Passed up as they are.
    "TLSv1.3": Expected("kResourceExhausted", (-0x0010, -0x2880, -0x2700)),
}
# The Certificate message is larger than the input buffer: mbedtls_ssl_fetch_input() refuses to
# reassemble it ("requesting more data than fits"), nothing is parsed, the heap is never the issue.
CHAIN_BEYOND_RECORD = Expected("kTls", ERR_SSL_BAD_INPUT_DATA)


class Proxy:
    def __init__(self, server_port: int, fault: str, record: int, stall_seconds: float = STALL_SECONDS):
        self.server_port, self.fault, self.record = server_port, fault, record
        self.stall_seconds = stall_seconds
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.error = ""
        self.log: list[str] = []   # the server's records as the proxy saw them
        self.damaged: str = ""     # what it did to record `record`
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        try:
            client, _ = self.sock.accept()
        except OSError as e:
            self.error = f"no client: {e}"
            return
        server = socket.create_connection(("127.0.0.1", self.server_port), timeout=10)
        server.settimeout(20)

        stop = threading.Event()
        reader = ri.start_pump(client, server, stop)  # client -> server unchanged
        rng = random.Random(7)
        try:
            n = 0
            while (record := ri.read_record(server)) is not None:
                n += 1
                self.log.append(f"r{n}:type={record[0]},len={len(record) - 5}")
                if n < self.record:
                    client.sendall(record)
                    continue
                self.damaged = f"r{n} (type {record[0]}, {len(record) - 5} bytes)"
                if self.fault == "garbage":
                    junk = bytes(rng.randrange(256) for _ in range(64))
                    assert junk[0] not in TLS_CONTENT_TYPES
                    client.sendall(junk)
                    time.sleep(1)
                elif self.fault == "truncated":
                    client.sendall(record[: len(record) // 2])
                elif self.fault == "stall":
                    time.sleep(self.stall_seconds)
                elif self.fault == "reset":
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif self.fault == "oversized":
                    client.sendall(record[:3] + struct.pack(">H", 18000) + rng.randbytes(18000))
                    time.sleep(1)
                break
            else:
                self.error = f"the server sent only {n} records, none to damage at {self.record}"
        except OSError as e:
            self.error = str(e)
        finally:
            stop.set()
            reader.join(timeout=2)
            client.close()
            server.close()
            self.sock.close()


def openssl(openssl_bin: str, d: Path, *args: str) -> None:
    subprocess.run([openssl_bin, *args], cwd=d, check=True, capture_output=True, timeout=60)


def make_chain(openssl_bin: str, certs: Path, work: Path, intermediates: int,
               pad_bytes: int) -> tuple[Path, Path, Path]:
    """A leaf for tlsgen.test signed through `intermediates` EC P-256 CAs by the test CA, the leaf
    carrying a non-critical padding extension of `pad_bytes` (0: none). Returns leaf, key, chain."""
    d = work / f"chain-i{intermediates}-p{pad_bytes}"
    if (d / "done").exists():
        return d / "leaf.pem", d / "leaf.key", d / "chain.pem"
    d.mkdir(parents=True, exist_ok=True)
    ext = d / "ext.cnf"
    pad = f"1.3.6.1.4.1.55555.1=ASN1:FORMAT:HEX,OCTETSTRING:{'00' * pad_bytes}\n" if pad_bytes else ""
    ext.write_text("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
                   f"[leaf]\nsubjectAltName=DNS:{ri.SERVER_NAME}\n{pad}")
    issuer_cert, issuer_key = certs / "ca.pem", certs / "ca.key"
    chain = []
    for i in range(intermediates):
        openssl(openssl_bin, d, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", f"i{i}.key")
        openssl(openssl_bin, d, "req", "-new", "-key", f"i{i}.key", "-subj", f"/CN=tlsgen intermediate {i}",
                "-out", f"i{i}.csr")
        openssl(openssl_bin, d, "x509", "-req", "-in", f"i{i}.csr", "-CA", str(issuer_cert), "-CAkey", str(issuer_key),
                "-set_serial", str(100 + i), "-days", "365", "-extfile", str(ext), "-extensions", "ca",
                "-out", f"i{i}.pem")
        chain.insert(0, d / f"i{i}.pem")
        issuer_cert, issuer_key = d / f"i{i}.pem", d / f"i{i}.key"
    openssl(openssl_bin, d, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key")
    openssl(openssl_bin, d, "req", "-new", "-key", "leaf.key", "-subj", f"/CN={ri.SERVER_NAME}", "-out", "leaf.csr")
    openssl(openssl_bin, d, "x509", "-req", "-in", "leaf.csr", "-CA", str(issuer_cert), "-CAkey", str(issuer_key),
            "-set_serial", "200", "-days", "365", "-extfile", str(ext), "-extensions", "leaf", "-out", "leaf.pem")
    (d / "chain.pem").write_text("".join(p.read_text() for p in chain))
    for p in [d / "leaf.pem", *chain]:  # the DER each certificate has on the wire
        openssl(openssl_bin, d, "x509", "-in", str(p), "-outform", "DER", "-out", str(p.with_suffix(".der")))
    (d / "done").write_text("ok\n")
    return d / "leaf.pem", d / "leaf.key", d / "chain.pem"


def chain_sizes(leaf: Path) -> list[int]:
    """DER sizes of the certificates the server sends: the leaf, then the intermediates."""
    d = leaf.parent
    ders = [d / "leaf.der"] + sorted(d.glob("i*.der"), key=lambda p: -int(p.stem[1:]))
    return [p.stat().st_size for p in ders]


def certificate_message_bytes(sizes: list[int], tls13: bool) -> int:
    """The Certificate handshake message: header, list length, per certificate a 3-byte length (TLS 1.3:
    and 2 bytes of empty extensions, plus the empty request context)."""
    per_cert = 3 + (2 if tls13 else 0)
    return 4 + (1 if tls13 else 0) + 3 + sum(per_cert + s for s in sizes)


def chain_server(openssl_bin: str, profile, certs: Path, work: Path, fault: str, port: int, in_len: int,
                 chain_max: int) -> tuple["ri.ProcessServer", Expected, str]:
    """An s_server for a chain fault (big_chain, chain_beyond_record) against a client whose input
    record buffer holds `in_len` bytes and whose heap is sized for `chain_max` DER bytes of chain.
    Returns the server (not started), the expected outcome and a note on the chain; ValueError when no
    chain of the required shape exists for these sizes."""
    tls13 = profile.version == "TLSv1.3"
    if fault == "big_chain":
        expected = BIG_CHAIN[profile.version]
        # As many intermediates (up to 3) as keep the Certificate message inside the input buffer.
        leaf = key = chain = None
        for k in (3, 2, 1):
            leaf, key, chain = make_chain(openssl_bin, certs, work, k, 0)
            if certificate_message_bytes(chain_sizes(leaf), tls13) <= in_len:
                break
        sizes = chain_sizes(leaf)
        msg = certificate_message_bytes(sizes, tls13)
        if msg > in_len or sum(sizes) <= chain_max:
            raise ValueError(f"no chain between peer_chain_max_bytes {chain_max} and the record buffer {in_len} "
                             f"(chain {sum(sizes)} DER bytes, Certificate message {msg})")
    else:
        expected = CHAIN_BEYOND_RECORD
        leaf, key, chain = make_chain(openssl_bin, certs, work, 0, in_len + 1024)
        sizes = chain_sizes(leaf)
        msg = certificate_message_bytes(sizes, tls13)
        if msg <= in_len:
            raise ValueError(f"the certificate ({msg} bytes) fits the record buffer {in_len}")
    note = (f"chain {len(sizes)} certificates, {sum(sizes)} DER bytes (peer_chain_max_bytes {chain_max}), "
            f"Certificate message {msg} bytes (input record buffer {in_len})")
    cmd = [openssl_bin, "s_server", "-accept", f"127.0.0.1:{port}", "-www", *profile.openssl_args,
           "-cert", str(leaf), "-key", str(key)]
    if sizes[1:]:
        cmd += ["-cert_chain", str(chain)]
    return ri.ProcessServer(cmd, re.compile(r"^ACCEPT"), port), expected, note


def profile_facts(client: str) -> dict[str, int]:
    r = subprocess.run([client, "--profile-only"], capture_output=True, text=True, timeout=30)
    fields = ri.parse_lines(r.stdout).get("TLSGEN_PROFILE", {})
    return {k: int(v) for k, v in fields.items() if v.isdigit()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True)
    ap.add_argument("--profile", required=True, choices=sorted(ri.PROFILES))
    ap.add_argument("--fault", required=True, choices=(*RECORD_FAULTS, "big_chain", "chain_beyond_record"))
    ap.add_argument("--record", type=int, default=1, help="the server record a record fault damages (1 = first)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--openssl", default="openssl")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    certs = ri.make_certs(args.openssl, work)
    profile = ri.PROFILES[args.profile]
    case = ri.cases_for(args.profile)["get"]
    label = f"{args.profile} {args.fault}" + (f" r{args.record}" if args.fault in RECORD_FAULTS else "")
    port = ri.free_port()
    notes: list[str] = []
    problems: list[str] = []

    if args.fault in RECORD_FAULTS:
        expected = RECORD_FAULTS[args.fault]
        server = ri.openssl_server(args.openssl, profile, case, certs, port)
    else:
        if profile.uses_psk:
            print(f"FAIL {label}: a chain fault needs a certificate profile")
            return 1
        facts = profile_facts(args.client)
        try:
            server, expected, note = chain_server(args.openssl, profile, certs, work, args.fault, port,
                                                  facts.get("in", 0), facts.get("peer_chain_max", 0))
        except ValueError as e:
            print(f"FAIL {label}: {e}")
            return 1
        notes.append(note)
    if not server.start():
        print(f"FAIL {label}: s_server did not start\n" + "".join(server.output))
        return 1
    proxy = Proxy(port, args.fault, args.record) if args.fault in RECORD_FAULTS else None
    target = proxy.port if proxy else port
    client_args = [a.replace("{certs}", str(certs)) for a in case.client_args]
    started = time.monotonic()
    try:
        r = subprocess.run([args.client, "--host", "127.0.0.1", "--port", str(target), "--timeout-ms",
                            str(CLIENT_TIMEOUT_MS), *client_args], capture_output=True, text=True, timeout=60,
                           errors="replace")
    except subprocess.TimeoutExpired:
        print(f"FAIL {label}: the client hung past 60 s")
        return 1
    finally:
        server.stop()
    took = time.monotonic() - started
    if proxy is not None:
        proxy.thread.join(timeout=STALL_SECONDS + 5)
        notes.append(f"server records seen: {' '.join(proxy.log)}; damaged {proxy.damaged or 'none'}")
        if proxy.error:
            problems.append(f"proxy: {proxy.error}")
        if not proxy.damaged:
            problems.append(f"record {args.record} was never reached: nothing was damaged")
    print(r.stdout, end="")
    for note in notes:
        print(note)
    out = ri.parse_lines(r.stdout)
    result, heap = out.get("TLSGEN_RESULT", {}), out.get("TLSGEN_HEAP", {})
    if r.returncode != 0:
        problems.append(f"client exit {r.returncode} (0 = ran to the end with a clean teardown): {r.stderr[-300:]}")
    got = (result.get("step"), result.get("code"), int(result.get("detail", "0")))
    if not expected.matches(*got):
        problems.append(f"ended with {got[0]} {got[1]} {got[2]:#x} ({result.get('error', '')}), expected {expected}")
    verify = int(result.get("verify", "0xffffffff"), 16)
    if expected.verify_flags and got[2] == -0x2700 and (verify == 0xFFFFFFFF or verify & expected.verify_flags != expected.verify_flags):
        problems.append(f"verify flags {verify:#x} lack {expected.verify_flags:#x}")
    if expected.transport is not None and result.get("transport") != expected.transport:
        problems.append(f"transport status {result.get('transport')}, expected {expected.transport}")
    if heap.get("in_use_after") != "0" or heap.get("live_blocks_after") != "0":
        problems.append(f"heap not back to zero: {heap}")
    if args.fault == "big_chain" and heap and int(heap.get("failed", "0")) == 0:
        problems.append(f"no failed heap allocation counted: {heap}")
    limit = CLIENT_TIMEOUT_MS / 1000 + STALL_SLACK if args.fault == "stall" else CASE_TIME_LIMIT
    if took >= limit:
        problems.append(f"took {took:.1f} s, limit {limit:.1f} s")
    print(f"FAULT {label}: step={got[0]} code={got[1]} detail={got[2]:#x} transport={result.get('transport')} "
          f"time={took:.1f}s heap_failed={heap.get('failed')}")
    if problems:
        for p in problems:
            print(f"FAIL {label}: {p}")
        return 1
    print(f"PASS {label}: {got[0]} {got[1]} {got[2]:#x} in {took:.1f} s, heap back to 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
