#!/usr/bin/env python3
"""DTLS driver (issue 15): real DTLS servers on 127.0.0.1 against tlsgen's DTLS client (dtls_client.cpp).

    run_dtls.py list --profile host-dtls-psk              the case names of a profile
    run_dtls.py --work DIR run --profile P --case C --client PATH [--openssl PATH] [--gnutls-serv PATH]
    run_dtls.py --work DIR loss --profile P --client PATH --rate 0.2 --count 100 [--seed S] [--min-complete 0.99]

Cases (`run`): the handshake and three request/response exchanges against `openssl s_server -dtls1_2` (this
driver answers each request line with the line reversed, through s_server's stdin) and `gnutls-serv --udp
--echo`; against gnutls-serv with a 300-byte MTU (the server fragments its flight: reassembly); through the seeded
lossy proxy at 10 %, 20 % and 30 % loss (with duplicates, reordering and delays: `loss` below, a few handshakes
per case); through the proxy injecting garbage datagrams and replaying earlier server datagrams (every exchange
must get exactly its own answer: replays and garbage are dropped, none delivered); against a peer that never
answers (connect() fails with MBEDTLS_ERR_SSL_TIMEOUT after the profile's retransmissions); for host-dtls-resume,
session resumption against each server (resume_openssl, resume_gnutls: run_resume). Every case checks the
client's teardown: heap back to zero bytes and blocks, no socket open, the peak within the generated heap.

`loss` runs `count` handshakes, each through a new proxy (seed S + i) with the given loss rate, and prints the
loss table row: completed / count, the median handshake in datagrams (sent + received) and in milliseconds. It
fails when fewer than --min-complete of them completed (handshake and one exchange) within the profile's
retransmission budget. The seed is a parameter: a fresh one checks the same claim on other fates.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_integration as ri  # noqa: E402
from lossy_udp_proxy import Proxy  # noqa: E402

PSK_HEX = "000102030405060708090a0b0c0d0e0f"
PSK_IDENTITY = "tlsgen-client"
SERVER_NAME = "tlsgen.test"
MBEDTLS_ERR_SSL_TIMEOUT = -0x6800
CLIENT_TIMEOUT = 120.0

PROFILES = {
    "host-dtls-psk": {"psk": True, "openssl_cipher": "PSK-AES128-CCM8", "gnutls_priority":
                      "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8"},
    "host-dtls-ecdhe-ecdsa": {"psk": False, "openssl_cipher": "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256",
                              "gnutls_priority": "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA"},
    "host-dtls-resume": {"psk": False, "openssl_cipher": "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256",
                         "gnutls_priority": "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA"},
}

# case -> (server, proxy settings or None, server MTU or None, exchanges)
CASES = {
    "openssl": ("openssl", None, None, 3),
    "gnutls": ("gnutls", None, None, 3),
    "gnutls_fragmented": ("gnutls", None, 300, 3),
    "garbage_and_replay": ("gnutls", {"garbage": 0.5, "replay": 0.5, "duplicate": 0.2}, None, 5),
    # every server flight sent last datagram first: the client buffers all but one message of each (the heap's
    # worst case for reassembly, which tools/sweep runs every DTLS session through)
    "gnutls_reversed_flights": ("gnutls", {"reverse_flights_ms": 30.0}, None, 3),
    "silent_peer": ("silent", None, None, 1),
}
# Resumption (profiles with tls.resumption): RESUME_SESSIONS sessions against one server, each after the first
# offering the session the one before saved (dtls_client --resume); every one must be resumed by the server.
RESUME_CASES = {"resume_openssl": "openssl", "resume_gnutls": "gnutls"}
RESUME_SESSIONS = 3
LOSS_SERVER_MTU = 1200
# case -> (loss rate, handshakes, the share that must complete)
LOSS_CASES = {"loss_10": (0.10, 10, 1.0), "loss_20": (0.20, 10, 1.0), "loss_30": (0.30, 10, 0.9),
              "loss_20_x100": (0.20, 100, 0.99)}
# The 100-handshake target runs for the PSK profile (CoAP's usual suite; a handshake of ~11 datagrams); the ECDHE
# profile's 100 at 20 % are in the closing note (99/100, seeds 1500-1599).
LOSS_CASES_FOR = {"host-dtls-psk": sorted(LOSS_CASES),
                  "host-dtls-ecdhe-ecdsa": sorted(c for c in LOSS_CASES if c != "loss_20_x100")}


def cases_of(profile: str) -> list[str]:
    """The cases `list` prints for a profile: the resuming profile runs only the resumption cases (the others are
    host-dtls-ecdhe-ecdsa's, which it extends)."""
    if profile == "host-dtls-resume":
        return sorted(RESUME_CASES)
    return sorted(CASES) + LOSS_CASES_FOR[profile]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: What a DTLS client sends after its handshake (dtls_client.cpp, the reference firmware): request lines, which
#: openssl s_server -dtls1_2 prints, and gnutls-serv --udp --echo returns as they are.
REQUEST_PREFIX = "tlsgen "


class DatagramServer(ri.ProcessServer):
    """A DTLS server process (run_integration.ProcessServer: started, watched and always stopped the same way):
    ready when its output says so, as there is no TCP port to probe; s_server's request lines are answered
    reversed through its stdin. Also tools/sweep's server for datagram profiles."""

    def __init__(self, cmd: list[str], ready: re.Pattern[str], port: int, env: dict[str, str] | None = None):
        super().__init__(cmd, ready, port, stdin_pipe=True, env=env)

    def _listening(self) -> bool:
        return True

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if self.ready.search(line):
                self._ready.set()
            if "s_server" in self.cmd[1:2] and line.startswith(REQUEST_PREFIX):
                try:  # the reply to one request line: the line reversed
                    self.send(line.rstrip("\n")[::-1] + "\n")
                except OSError:
                    pass


class SilentPeer:
    """A UDP port that takes datagrams and never answers."""

    def __init__(self) -> None:
        self.port, self.cmd, self.output = free_udp_port(), [], []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))

    def start(self) -> bool:
        return True

    def stop(self) -> None:
        self.sock.close()


def server(kind: str, profile: str, certs: Path, work: Path, openssl: str, gnutls: str,
           mtu: int | None) -> DatagramServer | SilentPeer:
    """openssl s_server -dtls1_2, gnutls-serv --udp --echo (both send a HelloVerifyRequest), or a silent peer, on a
    free port of 127.0.0.1, for one of PROFILES; `mtu`: the server's."""
    if kind == "silent":
        return SilentPeer()
    port, p = free_udp_port(), PROFILES[profile]
    if kind == "openssl":
        cmd = [openssl, "s_server", "-dtls1_2", "-accept", f"127.0.0.1:{port}", "-cipher", p["openssl_cipher"]]
        cmd += (["-nocert", "-psk", PSK_HEX, "-psk_identity", PSK_IDENTITY] if p["psk"] else
                ["-cert", str(certs / "server.pem"), "-key", str(certs / "server.key")])
        cmd += ["-mtu", str(mtu)] if mtu else []
        return DatagramServer(cmd, re.compile(r"^ACCEPT"), port)
    if not gnutls:
        raise SystemExit("FAIL: gnutls-serv not available: install gnutls-bin (scripts/deps.sh)")
    cmd = [gnutls, "--udp", "--echo", "--port", str(port), "--priority", p["gnutls_priority"]]
    if p["psk"]:
        pskfile = work / "dtls-gnutls-psk.txt"
        pskfile.write_text(f"{PSK_IDENTITY}:{PSK_HEX}\n")
        cmd += ["--pskpasswd", str(pskfile)]
    else:
        cmd += ["--x509certfile", str(certs / "server.pem"), "--x509keyfile", str(certs / "server.key")]
    cmd += [f"--mtu={mtu}"] if mtu else []
    return DatagramServer(cmd, re.compile(r"[Ll]istening"), port)


def parse(out: str) -> dict[str, list[dict[str, str]]]:
    lines: dict[str, list[dict[str, str]]] = {}
    for line in out.splitlines():
        m = re.match(r"(TLSGEN_\w+)\s*(.*)", line)
        if m:
            lines.setdefault(m.group(1), []).append(dict(re.findall(r"(\w+)=(\"[^\"]*\"|\S*)", m.group(2))))
    return lines


def run_client(client: str, profile: str, port: int, certs: Path, exchanges: int, expect: str,
               extra: list[str] | None = None) -> tuple[int, dict[str, list[dict[str, str]]], str]:
    cmd = [client, "--host", "127.0.0.1", "--port", str(port), "--exchanges", str(exchanges), "--expect-reply",
           expect, "--wait-ms", "4000"]
    if PROFILES[profile]["psk"]:
        cmd += ["--psk", PSK_HEX, "--psk-identity", PSK_IDENTITY]
    else:
        cmd += ["--ca", str(certs / "ca.pem"), "--server-name", SERVER_NAME]
    cmd += extra or []
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    return proc.returncode, parse(proc.stdout), proc.stdout + proc.stderr


def teardown_problems(rc: int, out: dict[str, list[dict[str, str]]]) -> list[str]:
    problems = []
    heap = (out.get("TLSGEN_HEAP") or [{}])[-1]
    if rc != 0:
        problems.append(f"client exit status {rc} (3: heap blocks or sockets left behind)")
    if heap.get("in_use_after") != "0" or heap.get("live_blocks_after") != "0":
        problems.append(f"heap not back to zero: {heap}")
    if (out.get("TLSGEN_SOCKETS") or [{}])[-1].get("open_after") != "0":
        problems.append("a socket was left open")
    if heap and int(heap.get("peak", "0")) > int(heap.get("generated", "0")):
        problems.append(f"peak {heap.get('peak')} above the generated heap {heap.get('generated')}")
    return problems


def run_case(args: argparse.Namespace) -> int:
    certs = args.work / "certs"
    if args.case in LOSS_CASES:
        args.rate, count, args.min_complete = LOSS_CASES[args.case]
        args.count = args.count or count
        return run_loss(args)
    if args.case in RESUME_CASES:
        return run_resume(args)
    kind, proxy_cfg, mtu, exchanges = CASES[args.case]
    srv = server(kind, args.profile, certs, args.work, args.openssl, args.gnutls_serv, mtu)
    proxy = None
    try:
        if not srv.start():
            print(f"FAIL: {kind} server did not start: {' '.join(srv.cmd)}\n{''.join(srv.output)}")
            return 1
        port = srv.port
        if proxy_cfg:
            proxy = Proxy(("127.0.0.1", srv.port), seed=args.seed, **proxy_cfg).start()
            port = proxy.port
        expect = "reverse" if kind == "openssl" else "echo" if kind == "gnutls" else "any"
        rc, out, text = run_client(args.client, args.profile, port, certs, exchanges, expect)
    finally:
        if proxy:
            proxy.stop()
        srv.stop()
    print(text)
    result = (out.get("TLSGEN_RESULT") or [{}])[-1]
    problems = teardown_problems(rc, out)
    if kind == "silent":
        if result.get("step") != "connect" or result.get("code") != "kTls" or \
                int(result.get("detail", "0")) != MBEDTLS_ERR_SSL_TIMEOUT:
            problems.append(f"expected connect to fail with kTls {MBEDTLS_ERR_SSL_TIMEOUT}, got {result}")
        # One ClientHello, and one more each time the timeout doubles from the minimum up to the maximum (once the
        # maximum has passed, mbedTLS gives up: ssl_double_retransmit_timeout).
        tmin, tmax = PROFILE_TIMEOUTS[args.profile]
        flights, t = 1, tmin
        while t < tmax:
            flights, t = flights + 1, min(t * 2, tmax)
        if int(result.get("sent", "0")) != flights:
            problems.append(f"expected {flights} ClientHellos (1 + one per doubling of the timeout {tmin}..{tmax} ms), "
                            f"the client sent {result.get('sent')}")
    else:
        if result.get("step") != "done" or result.get("code") != "kOk" or result.get("exchanges") != str(exchanges):
            problems.append(f"expected the handshake and {exchanges} exchanges, got {result}")
        if result.get("version") != "DTLSv1.2":
            problems.append(f"expected DTLSv1.2, got {result.get('version')}")
        if int(result.get("cookies", "0")) < 1:
            # Both servers send a HelloVerifyRequest (s_server for DTLS, gnutls-serv --udp): the handshake must
            # have answered one.
            problems.append("no HelloVerifyRequest was answered (cookies=0)")
        if proxy_cfg and result.get("strays") != "0":
            problems.append(f"{result.get('strays')} datagrams delivered that answered no request (replays not "
                            "dropped)")
        if proxy is not None:
            print(f"proxy: garbage {proxy.stats.garbage}, replayed {proxy.stats.replayed}, duplicated "
                  f"{proxy.stats.duplicated}, reversed flights {proxy.stats.reversed_flights}")
            if proxy_cfg.get("garbage") and (proxy.stats.garbage == 0 or proxy.stats.replayed == 0):
                problems.append("the proxy injected no garbage or no replay: the case tested nothing")
            if proxy_cfg.get("reverse_flights_ms") and proxy.stats.reversed_flights == 0:
                problems.append("no server flight of more than one datagram was reversed: the case tested nothing")
        return finish(args, out, problems)
    return finish(args, None, problems)


def run_resume(args: argparse.Namespace) -> int:
    """RESUME_SESSIONS sessions against one server: the first a full handshake, each later one offering the session
    the one before saved. Each must complete its exchange and be resumed (the server echoed the offered session ID:
    SslUdpStack::resumed()), receiving fewer datagrams in its handshake than the full one did (no certificate, no
    key exchange); save_session() fits the generated kSavedSessionMaxBytes every time."""
    certs = args.work / "certs"
    kind = RESUME_CASES[args.case]
    srv = server(kind, args.profile, certs, args.work, args.openssl, args.gnutls_serv, None)
    try:
        if not srv.start():
            print(f"FAIL: {kind} server did not start: {' '.join(srv.cmd)}\n{''.join(srv.output)}")
            return 1
        rc, out, text = run_client(args.client, args.profile, srv.port, certs, 1,
                                   "reverse" if kind == "openssl" else "echo",
                                   ["--sessions", str(RESUME_SESSIONS), "--resume"])
    finally:
        srv.stop()
    print(text)
    problems = teardown_problems(rc, out)
    results = out.get("TLSGEN_RESULT") or []
    if len(results) != RESUME_SESSIONS or any(r.get("step") != "done" or r.get("code") != "kOk" for r in results):
        problems.append(f"expected {RESUME_SESSIONS} sessions each with its handshake and exchange, got {results}")
    saved = out.get("TLSGEN_SESSION") or []
    if len(saved) != RESUME_SESSIONS or any(x.get("code") != "kOk" for x in saved):
        problems.append(f"save_session() did not save every session: {saved}")
    offers = out.get("TLSGEN_OFFER") or []
    if len(offers) != RESUME_SESSIONS - 1 or any(x.get("code") != "kOk" for x in offers):
        problems.append(f"offer_session() did not take every saved session: {offers}")
    resumed = out.get("TLSGEN_RESUMED") or []
    if len(resumed) != RESUME_SESSIONS - 1 or any(x.get("resumed") != "1" for x in resumed):
        problems.append(f"not every later session was resumed: {resumed}")
    if len(results) == RESUME_SESSIONS:
        full = int(results[0].get("received", "0"))
        for r in results[1:]:
            if int(r.get("received", "0")) >= full:
                problems.append(f"session {r.get('session')} received {r.get('received')} datagrams, the full "
                                f"handshake {full}: not an abbreviated handshake")
    return finish(args, out, problems)


def finish(args: argparse.Namespace, out: dict[str, list[dict[str, str]]] | None, problems: list[str]) -> int:
    """A case's end: with the client's output (`out`; None for the silent peer), the heap must have refused nothing
    and its figures are kept (save_result); every problem printed; the exit status."""
    if out is not None:
        heap = (out.get("TLSGEN_HEAP") or [{}])[-1]
        if heap.get("failed") != "0":
            problems.append(f"the heap refused allocations: {heap}")
        save_result(args.work, args.profile, args.case, heap)
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


def save_result(work: Path, profile: str, case: str, heap: dict[str, str]) -> None:
    d = work / "dtls-results"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{profile}.{case}.json").write_text(json.dumps(heap, indent=1, sort_keys=True) + "\n")


# The profiles' tls.dtls handshake timeouts (ms), as their YAML files set them.
PROFILE_TIMEOUTS = {"host-dtls-psk": (100, 12800), "host-dtls-ecdhe-ecdsa": (100, 12800), "host-dtls-resume": (100, 12800)}


def run_loss(args: argparse.Namespace) -> int:
    certs = args.work / "certs"
    rows = []
    problems: list[str] = []
    for i in range(args.count):
        # The server: openssl s_server, a new one per handshake (a close_notify the proxy drops would keep a server on
        # the last client). Not gnutls-serv: GnuTLS 3.7 does not answer a retransmission of the client's last flight
        # once its own handshake is over (RFC 6347 4.2.4 says it must), so a lost server ChangeCipherSpec ends the
        # handshake there whatever the client does (seed 1533 at 20 %: its log shows "Discarded message[5] due to
        # invalid decryption" for each of the client's retransmissions).
        # Its MTU at 1200 bytes (a path MTU servers use): left to itself on loopback, s_server falls back to a small
        # one and sends its certificate in three datagrams; at 30 % loss a six-datagram flight lost one fragment in
        # every one of eight tries for 2 of 10 handshakes (seeds 1502, 1508), which complete with 1200.
        seed = args.seed + i
        srv = server("openssl", args.profile, certs, args.work, args.openssl, args.gnutls_serv, LOSS_SERVER_MTU)
        proxy = None
        try:
            if not srv.start():
                print(f"FAIL: openssl s_server did not start\n{''.join(srv.output)}")
                return 1
            proxy = Proxy(("127.0.0.1", srv.port), seed=seed, loss=args.rate, duplicate=0.05, reorder=0.10,
                          delay_ms=(0.0, 10.0)).start()
            rc, out, text = run_client(args.client, args.profile, proxy.port, certs, 1, "reverse")
        finally:
            if proxy is not None:
                proxy.stop()
            srv.stop()
        result = (out.get("TLSGEN_RESULT") or [{}])[-1]
        ok = result.get("step") == "done" and result.get("code") == "kOk"
        rows.append((ok, int(result.get("sent", 0)) + int(result.get("received", 0)),
                     int(result.get("handshake_ms", 0)), result))
        problems += [f"seed {seed}: {p}" for p in teardown_problems(rc, out)]
        if not ok:
            print(f"seed {seed}: did not complete: {result}")
    done = [r for r in rows if r[0]]
    rate = len(done) / len(rows) if rows else 0.0
    dgrams = statistics.median(r[1] for r in done) if done else 0
    ms = statistics.median(r[2] for r in done) if done else 0
    print(f"TLSGEN_LOSS profile={args.profile} loss={args.rate:.2f} seeds={args.seed}..{args.seed + args.count - 1} "
          f"completed={len(done)}/{len(rows)} rate={rate:.3f} median_datagrams={dgrams} median_handshake_ms={ms}")
    if rate < args.min_complete:
        problems.append(f"{len(done)}/{len(rows)} completed, below {args.min_complete:.2f}")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("."))
    ap.add_argument("--openssl", default=shutil.which("openssl") or "openssl")
    ap.add_argument("--gnutls-serv", default=shutil.which("gnutls-serv") or "")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list")
    ls.add_argument("--profile", required=True, choices=sorted(PROFILES))
    run = sub.add_parser("run")
    loss = sub.add_parser("loss")
    for p in (run, loss):
        p.add_argument("--profile", required=True, choices=sorted(PROFILES))
        p.add_argument("--client", required=True)
        p.add_argument("--seed", type=int, default=1500)
        p.add_argument("--count", type=int, default=0)
    run.add_argument("--case", required=True, choices=sorted(CASES) + sorted(LOSS_CASES) + sorted(RESUME_CASES))
    loss.add_argument("--rate", type=float, required=True)
    loss.add_argument("--min-complete", type=float, default=0.99)
    args = ap.parse_args()
    if args.cmd == "list":
        print("\n".join(cases_of(args.profile)))
        return 0
    if args.cmd == "loss":
        args.count = args.count or 100
        return run_loss(args)
    return run_case(args)


if __name__ == "__main__":
    sys.exit(main())
