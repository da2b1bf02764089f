#!/usr/bin/env python3
"""Fault-injecting TLS peer for the host runtime: a proxy between tests/integration's client and a
real `openssl s_server` (127.0.0.1) that damages the server's TLS records on the way.

    fault_peer.py --client PATH --profile host-ecdhe-ecdsa --fault MODE --work DIR

Modes: garbage (random bytes instead of the server's second record), truncated (half of the second
record, then close), stall (forward the first record, then nothing), reset (TCP RST after the first
record), oversized (a record header claiming 18,000 bytes), big_chain (a server whose chain is far
larger than the profile's peer_chain_max_bytes: heap exhaustion). Each must end with an error (not
kOk), no crash, the client's teardown clean (heap back to zero bytes, exit 0), within a timeout.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
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

STALL_SECONDS = 8


def read_record(sock: socket.socket) -> bytes | None:
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            return None
        head += chunk
    length = struct.unpack(">H", head[3:5])[0]
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head + body


class Proxy:
    def __init__(self, server_port: int, fault: str):
        self.server_port, self.fault = server_port, fault
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.error = ""
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

        def upstream():  # client -> server unchanged; polls so that close() below really closes
            while not stop.is_set():
                try:
                    data = client.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    server.sendall(data)
                except OSError:
                    return

        client.settimeout(0.2)
        reader = threading.Thread(target=upstream, daemon=True)
        reader.start()
        rng = random.Random(7)
        try:
            n = 0
            while (record := read_record(server)) is not None:
                n += 1
                if n == 2 and self.fault == "garbage":
                    client.sendall(bytes(rng.randrange(256) for _ in range(64)))
                    time.sleep(1)
                    break
                if n == 2 and self.fault == "truncated":
                    client.sendall(record[: len(record) // 2])
                    break
                if n == 2 and self.fault == "stall":
                    time.sleep(STALL_SECONDS)
                    break
                if n == 2 and self.fault == "reset":
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                if n == 2 and self.fault == "oversized":
                    client.sendall(record[:3] + struct.pack(">H", 18000) + os.urandom(18000))
                    time.sleep(1)
                    break
                client.sendall(record)
        except OSError as e:
            self.error = str(e)
        finally:
            stop.set()
            reader.join(timeout=2)
            client.close()
            server.close()
            self.sock.close()


def make_big_chain(openssl: str, certs: Path, work: Path) -> tuple[Path, Path, Path]:
    """A leaf signed through 3 intermediates (about 1.8 KB of chain) by the test CA."""
    d = work / "big-chain"
    if (d / "done").exists():
        return d / "leaf.pem", d / "leaf.key", d / "chain.pem"
    d.mkdir(parents=True, exist_ok=True)
    run = lambda *a: subprocess.run([openssl, *a], cwd=d, check=True, capture_output=True, timeout=60)  # noqa: E731
    ext = d / "ext.cnf"
    ext.write_text("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
                   f"[leaf]\nsubjectAltName=DNS:{ri.SERVER_NAME}\n")
    issuer_cert, issuer_key = certs / "ca.pem", certs / "ca.key"
    chain = []
    for i in range(3):
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"i{i}.key")
        run("req", "-new", "-key", f"i{i}.key", "-subj", f"/CN=tlsgen intermediate {i}", "-out", f"i{i}.csr")
        run("x509", "-req", "-in", f"i{i}.csr", "-CA", str(issuer_cert), "-CAkey", str(issuer_key), "-set_serial",
            str(100 + i), "-days", "365", "-extfile", str(ext), "-extensions", "ca", "-out", f"i{i}.pem")
        chain.insert(0, d / f"i{i}.pem")
        issuer_cert, issuer_key = d / f"i{i}.pem", d / f"i{i}.key"
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key")
    run("req", "-new", "-key", "leaf.key", "-subj", f"/CN={ri.SERVER_NAME}", "-out", "leaf.csr")
    run("x509", "-req", "-in", "leaf.csr", "-CA", str(issuer_cert), "-CAkey", str(issuer_key), "-set_serial", "200",
        "-days", "365", "-extfile", str(ext), "-extensions", "leaf", "-out", "leaf.pem")
    (d / "chain.pem").write_text("".join(p.read_text() for p in chain))
    (d / "done").write_text("ok\n")
    return d / "leaf.pem", d / "leaf.key", d / "chain.pem"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True)
    ap.add_argument("--profile", required=True, choices=sorted(ri.PROFILES))
    ap.add_argument("--fault", required=True,
                    choices=("garbage", "truncated", "stall", "reset", "oversized", "big_chain"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--openssl", default="openssl")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    certs = ri.make_certs(args.openssl, work)
    profile = ri.PROFILES[args.profile]
    case = ri.cases_for(args.profile)["get"]
    port = ri.free_port()
    if args.fault == "big_chain":
        leaf, key, chain = make_big_chain(args.openssl, certs, work)
        cmd = [args.openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-www", *profile.openssl_args,
               "-cert", str(leaf), "-key", str(key), "-cert_chain", str(chain)]
        server = ri.ProcessServer(cmd, __import__("re").compile(r"^ACCEPT"), port)
    else:
        server = ri.openssl_server(args.openssl, profile, case, certs, port)
    if not server.start():
        print("FAIL: s_server did not start\n" + "".join(server.output))
        return 1
    proxy = Proxy(port, args.fault) if args.fault != "big_chain" else None
    target = proxy.port if proxy else port
    client_args = [a.replace("{certs}", str(certs)) for a in case.client_args]
    started = time.monotonic()
    try:
        r = subprocess.run([args.client, "--host", "127.0.0.1", "--port", str(target), "--timeout-ms", "3000",
                            *client_args], capture_output=True, text=True, timeout=60, errors="replace")
    except subprocess.TimeoutExpired:
        print("FAIL: the client hung past 60 s")
        return 1
    finally:
        server.stop()
    took = time.monotonic() - started
    print(r.stdout, end="")
    out = ri.parse_lines(r.stdout)
    result, heap = out.get("TLSGEN_RESULT", {}), out.get("TLSGEN_HEAP", {})
    problems = []
    if r.returncode != 0:
        problems.append(f"client exit {r.returncode} (0 = ran to the end with a clean teardown): {r.stderr[-300:]}")
    if result.get("code") in (None, "kOk"):
        problems.append(f"expected an error, got {result}")
    if heap.get("in_use_after") != "0" or heap.get("live_blocks_after") != "0":
        problems.append(f"heap not back to zero: {heap}")
    if problems:
        for p in problems:
            print(f"FAIL {args.profile} {args.fault}: {p}")
        return 1
    print(f"PASS {args.profile} {args.fault}: {result.get('step')} {result.get('code')} {result.get('detail')} "
          f"in {took:.1f} s, heap back to 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
