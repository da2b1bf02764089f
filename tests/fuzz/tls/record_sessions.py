#!/usr/bin/env python3
"""Seed corpus of the TLS record-path fuzzer (tests/fuzz/fuzz_tls_record.cpp): real sessions.

  record_sessions.py pki                       make the test PKI in tls/pki/ (once; then re-record)
  record_sessions.py record --fuzzer F         run each SESSIONS entry against a real openssl s_server
                                               and write corpus/tls_record/<name> (option byte 0 and
                                               every byte the server sent)
  record_sessions.py replay --fuzzer F         the check ctest runs (fuzz.tls_record.seeds): each seed,
                                               under every transport option that leaves the client's
                                               bytes unchanged, replays in full -- the session's protocol,
                                               suite and ALPN, the whole reply, the server's close_notify

Recording runs the fuzzer binary itself (TLSGEN_FUZZ_TLS_RECORD="<port> <file>"): the same client code,
configuration and deterministic entropy as the fuzzing runs, over PosixTcpStack. Because that client's
randomness is a fixed sequence and there is no clock, it sends the same ClientHello and key shares on
every run, so the recorded server bytes -- key exchange, certificates, Finished, encrypted records --
are valid again on replay. Anything that changes the client's bytes (the profile, the runtime's
configuration, mbedTLS, the entropy hook) makes `replay` fail: then run `record` again and commit.

The PKI: an EC P-256 root CA (ca.der, built into the fuzzer), an intermediate CA (intermediate.pem)
and a server certificate for tlsgen.test (server.pem, server.key); the server sends both certificates.
Test keys only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PKI = HERE / "pki"
CORPUS = HERE.parent / "corpus" / "tls_record"
PSK_HEX = "000102030405060708090a0b0c0d0e0f"  # fuzz_tls_record.cpp's kPsk
PSK_IDENTITY = "tlsgen-client"
REPLY_LINE = "HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n"  # what s_server -WWW puts in front


@dataclasses.dataclass(frozen=True)
class Session:
    name: str
    server_args: tuple[str, ...]
    protocol: str
    suite: str
    alpn: str = "none"
    reply_bytes: int = 120  # size of reply.txt


SESSIONS = [
    Session("tls13-aes128gcm-x25519-alpn", ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519",
                                            "-alpn", "http/1.1"), "TLSv1.3", "TLS1-3-AES-128-GCM-SHA256", "http/1.1"),
    # The client's first key share is X25519; a server that only takes P-256 answers HelloRetryRequest.
    Session("tls13-chacha20-p256-hrr", ("-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-groups", "P-256"),
            "TLSv1.3", "TLS1-3-CHACHA20-POLY1305-SHA256"),
    # The reply in many small records (and the handshake messages split across records).
    Session("tls13-small-records", ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519",
                                    "-max_send_frag", "512"), "TLSv1.3", "TLS1-3-AES-128-GCM-SHA256", reply_bytes=2000),
    Session("tls12-ecdhe-ecdsa-aes128gcm-alpn",
            ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256", "-alpn", "http/1.1"),
            "TLSv1.2", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "http/1.1"),
    Session("tls12-ecdhe-ecdsa-chacha20-x25519",
            ("-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305", "-groups", "X25519"),
            "TLSv1.2", "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"),
    # CBC with HMAC-SHA256; OpenSSL accepts the client's encrypt-then-MAC, so the records are EtM.
    Session("tls12-ecdhe-ecdsa-aes128cbc-etm", ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", "-groups", "P-256",
                                                "-max_send_frag", "512"), "TLSv1.2",
            "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256", reply_bytes=1500),
    Session("tls12-psk-ccm8", ("-tls1_2", "-cipher", "PSK-AES128-CCM8", "-nocert", "-psk", PSK_HEX, "-psk_identity",
                               PSK_IDENTITY), "TLSv1.2", "TLS-PSK-WITH-AES-128-CCM-8"),
]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ---- pki -------------------------------------------------------------------------------------------------


def make_pki(openssl: str) -> None:
    PKI.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        ext = t / "ext.cnf"
        ext.write_text("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
                       "subjectKeyIdentifier=hash\n"
                       "[inter]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
                       "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                       "[leaf]\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:tlsgen.test,IP:127.0.0.1\n"
                       "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        for name in ("ca", "inter", "server"):
            run([openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", str(t / f"{name}.key")])
        run([openssl, "req", "-new", "-x509", "-key", str(t / "ca.key"), "-subj", "/CN=tlsgen fuzz root CA",
             "-days", "36500", "-sha256", "-extensions", "ca", "-config", str(ext), "-out", str(t / "ca.pem")])
        for name, issuer, cn, section in (("inter", "ca", "tlsgen fuzz intermediate CA", "inter"),
                                          ("server", "inter", "tlsgen.test", "leaf")):
            run([openssl, "req", "-new", "-key", str(t / f"{name}.key"), "-subj", f"/CN={cn}",
                 "-out", str(t / f"{name}.csr")])
            run([openssl, "x509", "-req", "-in", str(t / f"{name}.csr"), "-CA", str(t / f"{issuer}.pem"), "-CAkey",
                 str(t / f"{issuer}.key"), "-CAcreateserial", "-days", "36500", "-sha256", "-extfile", str(ext),
                 "-extensions", section, "-out", str(t / f"{name}.pem")])
        run([openssl, "x509", "-in", str(t / "ca.pem"), "-outform", "DER", "-out", str(PKI / "ca.der")])
        shutil.copy(t / "server.pem", PKI / "server.pem")
        shutil.copy(t / "inter.pem", PKI / "intermediate.pem")
        shutil.copy(t / "server.key", PKI / "server.key")
    print(f"PKI in {PKI}: ca.der, server.pem, intermediate.pem, server.key (rebuild the fuzzer, then record)")


# ---- record ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(openssl: str, session: Session, www: Path) -> tuple[subprocess.Popen, int]:
    for _ in range(5):
        port = free_port()
        cmd = [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-WWW", *session.server_args]
        if "-nocert" not in session.server_args:
            cmd += ["-cert", str(PKI / "server.pem"), "-key", str(PKI / "server.key"),
                    "-cert_chain", str(PKI / "intermediate.pem")]
        proc = subprocess.Popen(cmd, cwd=www, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return proc, port
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise SystemExit(f"{session.name}: openssl s_server did not start")


def reply_text(size: int) -> str:
    line = "tlsgen fuzz seed reply 0123456789abcdefghijklmnopqrstuvwxyz\n"
    return (line * (size // len(line) + 1))[:size]


def record(args) -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    for session in SESSIONS:
        if args.only and session.name not in args.only:
            continue
        with tempfile.TemporaryDirectory() as www:
            (Path(www) / "reply.txt").write_text(reply_text(session.reply_bytes))
            proc, port = start_server(args.openssl, session, Path(www))
            try:
                out = CORPUS / session.name
                done = subprocess.run([args.fuzzer], capture_output=True, text=True, timeout=60,
                                      env={**os.environ, "TLSGEN_FUZZ_TLS_RECORD": f"{port} {out}"})
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        print(f"{session.name}: {done.stdout.strip()} ({out.stat().st_size} bytes)")
        if done.returncode != 0:
            raise SystemExit(f"{session.name}: the session did not complete (exit {done.returncode}):\n{done.stderr}")


# ---- replay ----------------------------------------------------------------------------------------------

REPORT = re.compile(r"fuzz_tls_record: connect=(\S+) verify=\S+ protocol=(\S+) suite=(\S+) alpn=(\S+) "
                    r"reply=(\d+) end=(\S+) consumed=(\d+)/(\d+)$")
# Option bytes that leave the client's bytes unchanged: blocking or not, interrupted or not, each read
# size; whole heap, no deadlines. Every one must replay a seed in full.
REPLAY_OPTIONS = [mode | interrupt | (chunk << 2) for mode in (0, 1) for interrupt in (0, 2) for chunk in range(8)]


def replay(args) -> None:
    seeds = {s.name: s for s in SESSIONS}
    files = sorted(CORPUS.iterdir())
    names = sorted(p.name for p in files)
    if names != sorted(seeds):
        raise SystemExit(f"corpus/tls_record holds {names}, SESSIONS lists {sorted(seeds)}: record again")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        variants = []
        for f in files:
            data = f.read_bytes()
            for option in REPLAY_OPTIONS:
                v = Path(tmp) / f"{f.name}.{option:02x}"
                v.write_bytes(bytes([option]) + data[1:])
                variants.append((seeds[f.name], option, v))
        done = subprocess.run([args.fuzzer, *(str(v) for _, _, v in variants)], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "TLSGEN_FUZZ_TLS_REPORT": "1"})
        # libFuzzer says "Running: <file>" before each input; the harness's report line follows it.
        reports: dict = {}
        running = None
        for line in done.stderr.splitlines():
            if line.startswith("Running: "):
                running = line[len("Running: "):]
            elif running is not None and (m := REPORT.match(line)):
                reports[running] = m.groups()
                running = None
        if done.returncode != 0 or len(reports) != len(variants):
            raise SystemExit(f"the fuzzer failed on a seed (exit {done.returncode}, {len(reports)} of {len(variants)} "
                             f"reports):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        for session, option, path in variants:
            connect, protocol, suite, alpn, reply, end, consumed, total = reports[str(path)]
            body = int(reply) - len(REPLY_LINE)
            want = ("kOk/0", session.protocol, session.suite, session.alpn, session.reply_bytes, "kClosed/0")
            got = (connect, protocol, suite, alpn, body, end)
            if got != want or consumed != total:
                failures.append(f"{session.name} option 0x{option:02x}: got {got}, consumed {consumed}/{total}; "
                                f"want {want}, all bytes consumed")
    if failures:
        raise SystemExit("seeds that no longer replay in full (the client's bytes changed? record again):\n  "
                         + "\n  ".join(failures))
    print(f"{len(files)} seeds x {len(REPLAY_OPTIONS)} transport options: every session replayed in full "
          "(handshake, reply, close_notify)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("pki", "record", "replay"))
    ap.add_argument("--fuzzer", help="the fuzz_tls_record binary (record, replay)")
    ap.add_argument("--openssl", default="openssl")
    ap.add_argument("--only", nargs="*", help="record: only these sessions")
    args = ap.parse_args()
    if args.command == "pki":
        make_pki(args.openssl)
    elif not args.fuzzer:
        ap.error("--fuzzer is required")
    elif args.command == "record":
        record(args)
    else:
        replay(args)


if __name__ == "__main__":
    sys.exit(main())
