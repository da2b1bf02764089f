#!/usr/bin/env python3
"""Run a tlsgen Cortex-M firmware in QEMU (its core's board: --machine, default mps2-an386) against a real
TLS server, end to end:

    firmware (QEMU) --UART--> ESP8266 AT modem emulator --TCP--> openssl s_server (127.0.0.1)

    run_qemu.py --firmware FW.elf --profile m4-psk-ccm8 --work DIR [--machine M] [--qemu PATH] [--openssl PATH]
                [--heap-bytes N | --below-peak N] [--tight] [--json OUT]
                [--fault SPEC [--expect STEP:CODE[:DETAIL]]] [--tls-fault MODE [--record N]]
                [--io-timeout MS]

Faults: --fault switches the modem emulator's own faults (drop, delay=MS, garbage, early-close=N);
--tls-fault puts tests/faults/fault_peer.py's proxy between the modem and s_server (record faults:
garbage, truncated, stall, reset, oversized at the server's --record'th record) or gives s_server a
chain beyond the profile's peer_chain_max_bytes (big_chain) or its input record buffer
(chain_beyond_record). A TLS fault must end exactly as fault_peer.py expects on the host (same
runtime, same mbedTLS); a modem fault with --expect must end as that says, without it in success.
Every fault case also needs a clean teardown (heap back to zero) and no crash.

Makes the test PKI (shared with tests/integration), provisions the device's credentials as files in
QEMU's working directory (ca.der, psk.bin, psk_identity.txt: the device's flash, read over
semihosting), starts the server and the modem emulator on a UNIX socket, runs QEMU with
`-icount shift=0,sleep=off` (the board's timer then counts guest instructions exactly), checks the firmware's
TLSGEN_* lines and always stops every process it started (bounded waits, kill on timeout).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_spec = importlib.util.spec_from_file_location("run_integration", ROOT / "tests" / "integration" / "run_integration.py")
integration = importlib.util.module_from_spec(_spec)
sys.modules["run_integration"] = integration  # dataclasses look their module up while executing it
_spec.loader.exec_module(integration)  # type: ignore[union-attr]
_fspec = importlib.util.spec_from_file_location("fault_peer", ROOT / "tests" / "faults" / "fault_peer.py")
fault_peer = importlib.util.module_from_spec(_fspec)
sys.modules["fault_peer"] = fault_peer
_fspec.loader.exec_module(fault_peer)  # type: ignore[union-attr]
_dspec = importlib.util.spec_from_file_location("run_dtls", ROOT / "tests" / "integration" / "run_dtls.py")
dtls = importlib.util.module_from_spec(_dspec)
sys.modules["run_dtls"] = dtls
_dspec.loader.exec_module(dtls)  # type: ignore[union-attr]
sys.path.insert(0, str(ROOT / "generator"))  # the in-tree generator: the firmware's record and chain sizes

# s_server options per firmware profile: the same servers the host integration tests use.
SERVER_FOR = {
    "m4-psk-ccm8": "host-tls12-psk",
    "m4-psk-ccm8-speed": "host-tls12-psk",
    "m4-ecdhe-ecdsa": "host-ecdhe-ecdsa",
    "m4-ecdhe-ecdsa-speed": "host-ecdhe-ecdsa",
    "m4-tls13": "host-tls13",
    "m4-mqtt-mtls": "host-mtls",  # s_server -Verify 1: the device's certificate is required
    "seed-esp8266": "host-ecdhe-ecdsa",
    # the other cores (boards/boards.cmake): the same servers
    "m0-psk-ccm8": "host-tls12-psk",
    "m0-ecdhe-ecdsa": "host-ecdhe-ecdsa",
    "m3-ecdhe-ecdsa": "host-ecdhe-ecdsa",
    "m7-tls13": "host-tls13",
    "m33-ecdhe-ecdsa": "host-ecdhe-ecdsa",
    # DTLS (run_dtls.py's servers: openssl s_server -dtls1_2, each request line answered reversed)
    "m4-dtls-psk-ccm8": "host-dtls-psk",
    # bench/handshake: the same session on mbedTLS's stock configs (the anchors)
    "stock-config-ccm-psk-tls1_2": "host-tls12-psk",
    "stock-config-suite-b": "host-ecdhe-ecdsa",
    "stock-default": "host-tls13",
    # bench/handshake/profiles: resumed handshakes (the server options make it resume that way)
    "m4-ecdhe-ecdsa-ticket": "host-ecdhe-ecdsa",
    "m4-tls13-psk-ke": "host-tls13",
    "m4-tls13-p256": "host-tls13",
    "m4-tls13-x25519-speed": "host-tls13",
}
# Extra s_server options per firmware profile: resume by ticket only (no session cache); accept psk_ke.
SERVER_ARGS = {
    "m4-ecdhe-ecdsa-ticket": ("-no_cache",),
    "m4-tls13-psk-ke": ("-allow_no_dhe_kex",),
}
QEMU_TIMEOUT = 420.0
# A stalled server stays silent this long (wall clock): longer than any guest timeout takes under QEMU.
STALL_SECONDS = 300.0


def parse(out: str) -> dict[str, dict[str, str]]:
    lines: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        m = re.match(r"^(TLSGEN_[A-Z]+)\s+(.*)$", line)
        if m:
            lines[m.group(1)] = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
    return lines


def provision(run: Path, certs: Path, openssl: str) -> None:
    subprocess.run([openssl, "x509", "-in", str(certs / "ca.pem"), "-outform", "der", "-out", str(run / "ca.der")],
                   check=True, capture_output=True, timeout=30)
    (run / "psk.bin").write_bytes(bytes.fromhex(integration.PSK_HEX))
    (run / "psk_identity.txt").write_text(integration.PSK_IDENTITY)
    # The device's certificate and key (tls.client_certificate), in both forms: the firmware reads the one its
    # profile parses (client.pem + client-key.pem, or client.der + client-key.der).
    for name in ("client.pem", "client.der", "client-key.der"):
        shutil.copy(certs / name, run / name)
    shutil.copy(certs / "client.key", run / "client-key.pem")


def start_emulator(run: Path, fault: str | None) -> tuple[subprocess.Popen, Path]:
    sock, ready = run / "uart.sock", run / "emu.ready"
    cmd = [sys.executable, str(ROOT / "tools" / "esp8266_emu" / "esp8266_emu.py"), "--socket", str(sock),
           "--ready-file", str(ready)]
    if fault:
        cmd += ["--fault", fault, "--seed", "1"]
    log = open(run / "emulator.log", "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"modem emulator did not start: {(run / 'emulator.log').read_text()}")
        time.sleep(0.05)
    return proc, sock


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)



def allocator_instructions(timing: dict, cycles: dict) -> float | None:
    """Instructions in tlsgen::Heap's calloc and free during the handshake, from the firmware's TLSGEN_ALLOC line
    (`--alloc-timing`: the board timer read around each call, examples/qemu-esp8266/main.cpp): the handshake's ticks
    less the part of the two timer reads in each interval (measured on 256 empty intervals), at the run's own
    instructions per tick (TLSGEN_CYCLES: handshake and waiting instructions over the handshake's ticks)."""
    ticks, calls, empty = (timing.get(k) for k in ("handshake_ticks", "handshake_calls", "empty_ticks_256"))
    total = int(cycles.get("total_ticks", "0"))
    if ticks is None or not calls or empty is None or not total:
        return None
    per_tick = (int(cycles.get("handshake_instructions", "0")) + int(cycles.get("waiting_instructions", "0"))) / total
    return (ticks - calls * empty / 256) * per_tick

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firmware", required=True)
    ap.add_argument("--profile", required=True, choices=sorted(SERVER_FOR))
    ap.add_argument("--work", required=True)
    ap.add_argument("--machine", default="mps2-an386",
                    help="QEMU machine: the board of the firmware's core (boards/boards.cmake)")
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--openssl", default="openssl")
    ap.add_argument("--heap-bytes", type=int, default=0, help="run inside the first N bytes of the heap")
    ap.add_argument("--below-peak", type=int, default=0, metavar="N",
                    help="sizing proof: measure the peak, then run in (peak - N) bytes and expect a clean failure")
    ap.add_argument("--tight", action="store_true", help="the generated heap must be at most 10%% above the peak")
    ap.add_argument("--fault", help="modem emulator fault switch (drop, delay=MS, garbage, early-close=N)")
    ap.add_argument("--expect", metavar="STEP:CODE[:DETAIL] | error",
                    help="with --fault: the outcome the firmware must report (e.g. read:kClosed:-0x7280); "
                         "`error`: any failure (a fault whose effect depends on TCP segmentation)")
    ap.add_argument("--tls-fault", choices=(*fault_peer.RECORD_FAULTS, "big_chain", "chain_beyond_record"),
                    help="a TLS-level fault from tests/faults/fault_peer.py")
    ap.add_argument("--record", type=int, default=1, help="with --tls-fault: the server record to damage")
    ap.add_argument("--io-timeout", type=int, default=0, metavar="MS",
                    help="the modem's blocking I/O timeout in guest milliseconds (0: the stack's default)")
    ap.add_argument("--alloc-timing", action="store_true",
                    help="the firmware times its calloc/free calls (TLSGEN_ALLOC, alloc_ figures in the JSON; bench/handshake)")
    ap.add_argument("--json", help="write the measured figures here")
    ap.add_argument("--resume", action="store_true",
                    help="the firmware is a qemu_esp8266_resume_* build (TLS 1.2): after the session it reconnects "
                         "offering it (SslTcpStack::save_session / offer_session); the server must resume it, and "
                         "the resumed handshake's instructions are reported next to the full one's")
    args = ap.parse_args()

    work = Path(args.work).resolve()
    certs = integration.make_certs(args.openssl, work)
    if args.below_peak:
        # Sizing proof: a session with the full heap measures its peak; one run in (peak - N) bytes
        # must then fail on an allocation, cleanly. Repeated when that session happened to need less.
        for attempt in range(1, 6):
            calib = run_once(args, certs, work, 0, quiet=True)
            if not calib["ok"]:
                print("FAIL: the calibration session failed")
                return 1
            region = calib["heap_peak"] - args.below_peak
            print(f"calibration: a full session peaked at {calib['heap_peak']} bytes; the case runs in {region}")
            res = run_once(args, certs, work, region, quiet=False)
            if res.get("result_code") == "kOk" and res.get("heap_peak", region + 1) <= region:
                print(f"attempt {attempt}: this session needed only {res['heap_peak']} bytes; repeating")
                continue
            problems = []
            if res.get("result_code") != "kResourceExhausted":
                problems.append(f"expected kResourceExhausted, got {res.get('result_code')}")
            if res.get("heap_in_use_after") != 0 or res.get("heap_live_blocks_after") != 0 or res.get("crashed"):
                problems.append(f"teardown not clean: {res}")
            for p in problems:
                print(f"FAIL: {p}")
            if not problems:
                print(f"PASS {args.profile} one byte below the peak ({region} bytes): kResourceExhausted, heap back to 0")
            return 1 if problems else 0
        print("FAIL: no run needed more than its calibration peak")
        return 1
    if args.tls_fault or args.expect:
        return run_fault(args, certs, work)
    res = run_once(args, certs, work, args.heap_bytes, quiet=False)
    problems = list(res.get("problems", []))
    if args.tight and res.get("ok"):
        gen, peak = res["heap_generated"], res["heap_peak"]
        if res["heap_region"] < gen - 8:
            problems.append(f"the proof must run in the generated heap ({gen}), ran in {res['heap_region']}")
        if gen > peak * 1.10:
            problems.append(f"generated heap {gen} is more than 10% above the measured peak {peak} ({gen / peak:.3f}x)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({**res, "ok": res.get("ok") and not problems}, indent=2) + "\n")
    for p in problems:
        print(f"FAIL: {p}")
    if not problems:
        print(f"PASS {args.profile}: " + json.dumps({k: v for k, v in res.items() if k not in ("problems", "setup_problems")}))
    return 1 if problems else 0


def expected_outcome(args) -> tuple[str, str, tuple[int, ...] | None]:
    """(step, code, the mbedTLS details any of which is right, or None: any) a fault case must end with."""
    if args.tls_fault:
        e = fault_peer.RECORD_FAULTS.get(args.tls_fault)
        if e is None:
            e = fault_peer.BIG_CHAIN[integration.PROFILES[SERVER_FOR[args.profile]].version] \
                if args.tls_fault == "big_chain" else fault_peer.CHAIN_BEYOND_RECORD
        return e.step, e.code, e.details
    if args.expect == "error":
        return "*", "*", None
    step, code, *detail = args.expect.split(":")
    return step, code, (int(detail[0], 0),) if detail else None


def run_fault(args, certs: Path, work: Path) -> int:
    step, code, detail = expected_outcome(args)
    label = f"{args.profile} " + (f"{args.tls_fault}" + (f" r{args.record}" if args.tls_fault in
                                                          fault_peer.RECORD_FAULTS else "")
                                  if args.tls_fault else f"modem {args.fault}")
    res = run_once(args, certs, work, args.heap_bytes, quiet=False)
    for note in res.get("notes", []):
        print(note)
    problems = list(res["setup_problems"])
    got = (res.get("result_step"), res.get("result_code"), res.get("result_detail"))
    if step == "*":
        if got[0] in (None, "done") or got[1] in (None, "kOk"):
            problems.append(f"ended with {got}, expected an error")
    elif got[0] != step or got[1] != code or (detail is not None and got[2] not in detail):
        problems.append(f"ended with {got}, expected {(step, code, detail)}")
    if res.get("crashed"):
        problems.append("the firmware crashed or hung")
    if res.get("heap_in_use_after") != 0 or res.get("heap_live_blocks_after") != 0:
        problems.append(f"heap not back to zero after teardown: {res}")
    if args.tls_fault == "big_chain" and not res.get("heap_failed"):
        problems.append("no failed heap allocation counted")
    for p in problems:
        print(f"FAIL {label}: {p}")
    if problems:
        return 1
    print(f"PASS {label}: {got[0]} {got[1]} {got[2]} in {res.get('wall_seconds')} s, heap back to 0")
    return 0


def firmware_sizes(profile: str) -> tuple[int, int]:
    """(input record buffer, peer_chain_max_bytes) of a shipped profile, from the generator."""
    from tlsgen.pipeline import build

    r = build(str(ROOT / "profiles" / f"{profile}.yaml")).resolution
    return r.in_content_len, r.loaded.profile.tls.peer_chain_max_bytes


@functools.cache
def ticket_max_bytes(profile: str) -> int | None:
    """tls.resumption.ticket_max_bytes of a shipped (or bench) profile that keeps tickets, else None: its s_server
    then issues tickets of that size (integration.ticket_pad_env), so that the heap proof holds the largest ticket
    the heap is for, not OpenSSL's own 180-210 bytes. (Once per profile: a below-peak case runs several sessions.)"""
    from tlsgen.pipeline import build
    from tlsgen.resolve.resumption import uses_tickets

    path = next((d / f"{profile}.yaml" for d in (ROOT / "profiles", ROOT / "bench" / "handshake" / "profiles")
                 if (d / f"{profile}.yaml").exists()), None)
    if path is None:
        return None
    tls = build(str(path)).resolution.loaded.profile.tls
    return tls.resumption.ticket_max_bytes if uses_tickets(tls) else None


def failed_setup(problem: str) -> dict:
    """run_once's result when the harness could not run the case at all."""
    return {"ok": False, "problems": [problem], "setup_problems": [problem]}


def run_once(args, certs: Path, work: Path, heap_bytes: int, quiet: bool) -> dict:
    datagram = SERVER_FOR[args.profile] in dtls.PROFILES
    if datagram:
        server_profile = case = None
    else:
        server_profile = integration.PROFILES[SERVER_FOR[args.profile]]
        cases = integration.cases_for(SERVER_FOR[args.profile])
        case = cases["mtls"] if "mtls" in cases else cases["get"]  # mutual TLS: the server requires the certificate
    if args.profile in SERVER_ARGS:
        case = dataclasses.replace(case, server_args=case.server_args + SERVER_ARGS[args.profile])
    run = Path(tempfile.mkdtemp(prefix=f"{args.profile}.", dir=work))
    server = emulator = qemu = proxy = None
    tls_fault = getattr(args, "tls_fault", None)
    notes: list[str] = []
    ticket: int | None = None  # the size s_server's tickets are padded to (ticket_max_bytes)
    try:
        provision(run, certs, args.openssl)
        port = integration.free_port()
        chain_fault = tls_fault in ("big_chain", "chain_beyond_record")
        if chain_fault:
            in_len, chain_max = firmware_sizes(args.profile)
            try:
                server, _, note = fault_peer.chain_server(args.openssl, server_profile, certs, work, tls_fault, port,
                                                          in_len, chain_max)
            except ValueError as e:
                return failed_setup(f"no chain for this fault: {e}")
            notes.append(note)
        elif datagram:
            server = dtls.server("openssl", SERVER_FOR[args.profile], certs, work, args.openssl, "", None)
            port = server.port
        else:
            server = integration.openssl_server(args.openssl, server_profile, case, certs, port)
        ticket = None if chain_fault else ticket_max_bytes(args.profile)
        if ticket is not None:
            server.env = integration.ticket_pad_env(work, ticket)
            notes.append(f"s_server issues {ticket}-byte tickets (tls.resumption.ticket_max_bytes)")
        if not server.start():
            return failed_setup("openssl s_server did not start:\n" + "".join(server.output))
        target = port
        if tls_fault in fault_peer.RECORD_FAULTS:
            proxy = fault_peer.Proxy(port, tls_fault, args.record, stall_seconds=STALL_SECONDS)
            target = proxy.port
        emulator, sock = start_emulator(run, args.fault)
        append = f"port={target} name={integration.SERVER_NAME} heap={heap_bytes} io_timeout={args.io_timeout}"
        if args.alloc_timing:
            append += " alloc_timing=1"
        cmd = [args.qemu, "-M", args.machine, "-display", "none", "-monitor", "none",
               "-chardev", f"socket,id=c0,path={sock}", "-serial", "chardev:c0",
               "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,sleep=off",
               "-kernel", str(Path(args.firmware).resolve()), "-append", append]
        started = time.monotonic()
        qemu = subprocess.Popen(cmd, cwd=run, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        try:
            out, _ = qemu.communicate(timeout=QEMU_TIMEOUT)
        except subprocess.TimeoutExpired:
            qemu.kill()
            out, _ = qemu.communicate(timeout=10)
            print(out)
            return {**failed_setup(f"QEMU did not finish within {QEMU_TIMEOUT:.0f} s"), "crashed": True}
        wall = time.monotonic() - started
        if not quiet:
            print(out, end="")
        lines = parse(out)
        result = lines.get("TLSGEN_RESULT", {})
        heap = lines.get("TLSGEN_HEAP", {})
        setup: list[str] = []  # the harness itself went wrong: fails every kind of case
        if proxy is not None:
            notes.append(f"server records seen: {' '.join(proxy.log)}; damaged {proxy.damaged or 'none'}")
            if not proxy.damaged:
                setup.append(f"proxy: record {args.record} was never reached: nothing was damaged")
            if proxy.error:
                setup.append(f"proxy: {proxy.error}")
        problems = list(setup)  # and what a successful session must show
        if qemu.returncode != 0 or result.get("step") != "done":
            problems.append(f"firmware exit {qemu.returncode}, result {result}")
        http_ok = "HTTP/1.0 200 ok" in out or "HTTP/1.0 200 OK" in out
        if datagram:
            exchanges = lines.get("TLSGEN_DTLS", {})
            http_ok = exchanges.get("answered") == exchanges.get("exchanges") and exchanges.get("answered", "0") != "0"
            if not http_ok:
                problems.append(f"the DTLS requests were not all answered: {exchanges or 'no TLSGEN_DTLS line'}")
            if exchanges.get("cookies", "0") == "0":
                problems.append("no HelloVerifyRequest answered (s_server -dtls1_2 always sends one)")
        elif not http_ok and not args.profile.startswith("stock-"):
            problems.append("no HTTP 200 reply printed")
        if heap.get("in_use_after") != "0" or heap.get("live_blocks_after") != "0":
            problems.append(f"heap not back to zero after teardown: {heap}")
        resumed = lines.get("TLSGEN_RESUMED", {})
        if getattr(args, "resume", False):
            if resumed.get("code") != "kOk" or resumed.get("resumed") != "1":
                problems.append(f"the reconnect did not resume the saved session: {resumed or 'no TLSGEN_RESUMED line'}")
            # s_server -www says so on the page of the resumed session
            if "Reused, " not in out:
                problems.append("the server's page does not say 'Reused,'")
            padding = integration.padded_ticket_problem(int(resumed.get("ticket", "0") or 0), ticket)
            if padding:
                problems.append(padding)
        alloc_instructions = None
        if getattr(args, "alloc_timing", False):
            # The wrappers saw the handshake's calls (some, and no more than the whole session's), and an average call
            # took a plausible number of instructions. Not against the heap's own count: the wrappers start after
            # setup's calls and also see mbedTLS's free(NULL), which the heap does not count (m4-tls13: 22,755
            # wrapper calls, 22,752 counted by the heap).
            timing = {k: int(v) for k, v in lines.get("TLSGEN_ALLOC", {}).items() if v.isdigit()}
            calls, hs_calls = timing.get("calls", 0), timing.get("handshake_calls", 0)
            alloc_instructions = allocator_instructions(timing, lines.get("TLSGEN_CYCLES", {}))
            per_call = alloc_instructions / hs_calls if alloc_instructions is not None and hs_calls else 0
            if not 0 < hs_calls <= calls or not 30 <= per_call <= 5000:
                problems.append(f"allocator timing: {lines.get('TLSGEN_ALLOC') or 'no TLSGEN_ALLOC line'} "
                                f"(heap calls {heap.get('calls')}, {per_call:.0f} instructions a call)")
        stack = lines.get("TLSGEN_STACK", {})
        if stack and stack.get("peak") == stack.get("size"):
            problems.append(f"the stack overflowed (all {stack.get('size')} bytes used): raise target.stack_bytes")
        detail = result.get("detail", "")
        return {"profile": args.profile, "ok": not problems, "problems": problems, "setup_problems": setup,
                "heap_bytes_limit": heap_bytes,
                "notes": notes, "result_detail": int(detail) if detail.lstrip("-").isdigit() else None,
                "wall_seconds": round(wall, 1), "result_code": result.get("code"), "result_step": result.get("step"),
                "crashed": qemu.returncode not in (0, 1), "http_ok": http_ok,
                **{f"heap_{k}": int(v) for k, v in heap.items() if v.isdigit()},
                **{k: int(v) for k, v in lines.get("TLSGEN_CYCLES", {}).items() if v.isdigit()},
                **{f"stack_{k}": int(v) for k, v in lines.get("TLSGEN_STACK", {}).items() if v.isdigit()},
                **{f"alloc_{k}": int(v) for k, v in lines.get("TLSGEN_ALLOC", {}).items() if v.isdigit()},
                **({"alloc_handshake_instructions": alloc_instructions} if alloc_instructions is not None else {}),
                **{f"resumed_{k}": int(v) for k, v in resumed.items() if v.isdigit()},
                "machine": args.machine}
    finally:
        stop(qemu)
        stop(emulator)
        if server is not None:
            server.stop()
        if proxy is not None:
            proxy.sock.close()  # a proxy still waiting for the firmware stops accepting


if __name__ == "__main__":
    sys.exit(main())
