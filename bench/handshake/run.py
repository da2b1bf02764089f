#!/usr/bin/env python3
"""Handshake cost, heap peak and flash, in QEMU, for the shipped Cortex-M profiles and the stock-config
anchors, side by side: the same session (TCP connect through the ESP8266 emulator + TLS handshake
with openssl s_server), instructions counted with the board's timer under -icount shift=0, waiting
excluded. Then every core of the schema in the same run (each profile on its core's board,
boards/boards.cmake): image sections, heap peak against the generated heap, stack peak, instructions.
Flash from bench/footprint's JSON, the allocator's share from bench/alloc's instructions per call (bench/run.sh runs
both first), and issue 14's targets as ratios of this run at the end.
Last, full versus resumed handshakes (issue 13: TLS 1.2 by session ID and by ticket, TLS 1.3 by psk_ephemeral and
psk_ke): the qemu_esp8266_resume_* firmware runs a full session, then reconnects offering the saved session, in one
QEMU run.

    bench/handshake/run.py [ARM_BUILD] [OUT_DIR]
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = [
    ("m4-psk-ccm8", "examples/qemu-esp8266/qemu_esp8266_m4_psk_ccm8", "stock-config-ccm-psk-tls1_2"),
    ("m4-psk-ccm8-speed", "examples/qemu-esp8266/qemu_esp8266_m4_psk_ccm8_speed", "stock-config-ccm-psk-tls1_2"),
    # DTLS (issue 15): the same suite over datagrams, next to the TLS client
    ("m4-dtls-psk-ccm8", "examples/qemu-esp8266/qemu_esp8266_m4_dtls_psk_ccm8", "m4-psk-ccm8"),
    ("stock-config-ccm-psk-tls1_2", "bench/handshake/stock_client_config_ccm_psk_tls1_2", None),
    ("m4-ecdhe-ecdsa", "examples/qemu-esp8266/qemu_esp8266_m4_ecdhe_ecdsa", "stock-config-suite-b"),
    ("m4-ecdhe-ecdsa-speed", "examples/qemu-esp8266/qemu_esp8266_m4_ecdhe_ecdsa_speed", "stock-config-suite-b"),
    ("stock-config-suite-b", "bench/handshake/stock_client_config_suite_b", None),
    ("m4-tls13", "examples/qemu-esp8266/qemu_esp8266_m4_tls13", "stock-default"),
    ("stock-default", "bench/handshake/stock_client_default", None),
]
# Every core: (profile, QEMU machine); the M4 rows are the runs above, not repeated.
CORES = [
    ("cortex-m0plus", "m0-psk-ccm8", "microbit"),
    ("cortex-m0plus", "m0-ecdhe-ecdsa", "microbit"),
    ("cortex-m3", "m3-ecdhe-ecdsa", "mps2-an385"),
    ("cortex-m4", "m4-psk-ccm8", "mps2-an386"),
    ("cortex-m4", "m4-ecdhe-ecdsa", "mps2-an386"),
    ("cortex-m4", "m4-tls13", "mps2-an386"),
    ("cortex-m7", "m7-tls13", "mps2-an500"),
    ("cortex-m33", "m33-ecdhe-ecdsa", "mps2-an505"),
]


def firmware(name: str) -> str:
    return "examples/qemu-esp8266/qemu_esp8266_" + name.replace("-", "_")


def sections(image: Path) -> dict[str, int]:
    """text/data/bss as arm-none-eabi-size (Berkeley) reports them; bss includes the heap and the stack."""
    out = subprocess.run(["arm-none-eabi-size", str(image)], check=True, capture_output=True, text=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss}


# Resume builds (examples/qemu-esp8266/profiles.cmake: TLSGEN_QEMU_RESUME_PROFILES, and the bench-only
# TLSGEN_QEMU_BENCH_RESUME_PROFILES of bench/handshake/profiles/), with how each resumes (the server options of
# tests/qemu/run_qemu.py make it so: s_server -no_cache for the ticket, -allow_no_dhe_kex for psk_ke).
RESUME = [
    ("m4-psk-ccm8", "TLS 1.2 PSK, session ID"),
    ("m4-ecdhe-ecdsa", "TLS 1.2 ECDHE-ECDSA, session ID"),
    ("m4-ecdhe-ecdsa-ticket", "TLS 1.2 ECDHE-ECDSA, ticket"),
    ("m4-tls13", "TLS 1.3, psk_ephemeral (psk_dhe_ke)"),
    ("m4-tls13-psk-ke", "TLS 1.3, psk_ke (no ECDHE, no forward secrecy)"),
    ("m4-tls13-p256", "TLS 1.3 P-256 alone (p256-m), psk_ephemeral"),
    ("m4-tls13-x25519-speed", "TLS 1.3 X25519, optimize: speed, psk_ephemeral"),
]


def run(arm: Path, out: Path, name: str, fw: str, machine: str, resume: bool = False,
        alloc_timing: bool = False) -> dict:
    subprocess.run(["cmake", "--build", str(arm), "--target", Path(fw).name], check=True, capture_output=True)
    j = out / f"handshake-{name}{'-resume' if resume else ''}{'-alloc-timing' if alloc_timing else ''}.json"
    j.unlink(missing_ok=True)
    subprocess.run([sys.executable, str(ROOT / "tests" / "qemu" / "run_qemu.py"), "--firmware", str(arm / fw),
                    "--machine", machine, "--profile", name, "--work", str(out / "work"), "--json", str(j),
                    *(["--resume"] if resume else []), *(["--alloc-timing"] if alloc_timing else [])],
                   capture_output=True, text=True, timeout=900)
    return json.loads(j.read_text()) if j.exists() else {}


def measured_allocator(timed: dict) -> tuple[float, int] | None:
    """(instructions in tlsgen::Heap's calloc and free during the handshake, their calls) from a run with
    `--alloc-timing` (tests/qemu/run_qemu.py computes the instructions: allocator_instructions())."""
    ins, calls = timed.get("alloc_handshake_instructions"), timed.get("alloc_handshake_calls")
    return (ins, calls) if ins is not None and calls else None


def main() -> int:
    arm = Path(sys.argv[1] if len(sys.argv) > 1 else "build/arm")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "build/bench")
    out.mkdir(parents=True, exist_ok=True)
    # the stock clients are not in the tree's `all` (bench/handshake/CMakeLists.txt): built here, by name
    stock = [Path(fw).name for name, fw, _ in RUNS if name.startswith("stock-")]
    subprocess.run(["cmake", "--build", str(arm), "--target", *stock], check=True, capture_output=True)
    results = {}
    for name, fw, _ in RUNS:
        results[name] = run(arm, out, name, fw, "mps2-an386")
        if not name.startswith("stock-"):  # the allocator timed in place: a second run (the timing costs instructions)
            results[name]["allocator"] = measured_allocator(run(arm, out, name, fw, "mps2-an386", alloc_timing=True))
    flash = footprint(arm)
    per_call_of = allocator_instructions_per_call(arm)
    print("Flash: the minimal client of bench/footprint (text+rodata+data); heap and stack peaks and instructions: the")
    print("same session in QEMU. Allocator share: calloc/free calls of the session x instructions per call on")
    print(f"Cortex-M4 (bench/alloc's replay of the recorded handshakes of the same kind: {per_call_of['psk']:.0f} on the "
          f"PSK sessions, {per_call_of['ecc']:.0f} on the ECDHE and TLS 1.3 ones) / handshake instructions: the estimate."
          if per_call_of else "Cortex-M4 (bench/alloc has not run: no estimate) / handshake instructions.")
    print("Measured (tlsgen's clients): the instructions in calloc and free during the handshake, timed in place by a")
    print("second run of the same firmware (alloc_timing=1), / the handshake instructions of the first run.")
    print()
    print("| client | flash | vs anchor | heap peak | vs anchor | stack peak | handshake instructions | vs anchor | "
          "allocator calls | allocator share, estimate | allocator in the handshake, measured: calls, per call, share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, _, anchor in RUNS:
        r = results[name]
        a = results.get(anchor, {}) if anchor else {}
        ins, calls = r.get("handshake_instructions"), r.get("heap_calls")
        fl, afl = flash.get(name.removeprefix("stock-")), flash.get((anchor or "").removeprefix("stock-"))
        r["flash"] = fl

        def ratio(x, y):
            return f"{x / y:.3f}x" if x and y else ""

        per_call = per_call_of.get(trace_kind(name)) if per_call_of else None
        share = f"{100.0 * calls * per_call / ins:.2f} %" if ins and calls and per_call else "-"
        r["allocator_share_estimate"] = calls * per_call / ins if ins and calls and per_call else None
        measured = r.get("allocator")
        r["allocator_share"] = measured[0] / ins if measured and ins else None
        mtext = (f"{measured[1]}, {measured[0] / measured[1]:.0f}, {100.0 * measured[0] / ins:.2f} %"
                 if measured and ins else "-")
        print(f"| {name} | {f'{fl:,}' if fl else '-'} | {ratio(fl, afl)} | {r.get('heap_peak', '-')} | "
              f"{ratio(r.get('heap_peak'), a.get('heap_peak'))} | {r.get('stack_peak', '-')} | "
              + (f"{ins / 1e6:.2f} M" if ins else "failed") + f" | {ratio(ins, a.get('handshake_instructions'))} | "
              f"{calls or '-'} | {share} | {mtext} |")
    print()
    print("Every core in the same run (text/data/bss: arm-none-eabi-size; bss holds the generated heap, the stack and")
    print("the modem's ring):")
    print()
    print("| core | machine | profile | text | data | bss | heap peak / generated | ratio | stack peak / size | "
          "handshake instructions |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for cpu, name, machine in CORES:
        r = results.get(name) or run(arm, out, name, firmware(name), machine)
        results[name] = r
        sec = sections(arm / firmware(name))
        r["sections"] = sec
        ins = r.get("handshake_instructions")
        peak, gen = r.get("heap_peak"), r.get("heap_generated")
        ratio = f"{gen / peak:.3f}" if peak and gen else "-"
        print(f"| {cpu} | {machine} | {name} | {sec['text']:,} | {sec['data']:,} | {sec['bss']:,} | {peak} / {gen} | "
              f"{ratio} | {r.get('stack_peak')} / {r.get('stack_size')} | "
              + (f"{ins / 1e6:.2f} M |" if ins else "failed |"))
    print()
    print("Full versus resumed handshake, one QEMU run each (the resume firmware: a full session, then a")
    print("reconnect offering the saved session; s_server must say \"Reused,\"):")
    print()
    print("| profile | resumed by | full handshake | resumed handshake | resumed / full | saved session |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, how in RESUME:
        r = run(arm, out, name, "examples/qemu-esp8266/qemu_esp8266_resume_" + name.replace("-", "_"), "mps2-an386",
                resume=True)
        results[f"{name}-resume"] = r
        full, res = r.get("handshake_instructions"), r.get("resumed_handshake_instructions")
        if r.get("ok") and full and res:
            print(f"| {name} | {how} | {full / 1e6:.2f} M | {res / 1e6:.3f} M | {100.0 * res / full:.2f} % | "
                  f"{r.get('resumed_saved_bytes')} bytes |")
        else:
            print(f"| {name} | {how} | failed | | | |")
    targets(results, arm)
    (out / "handshake.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


def footprint(arm: Path) -> dict[str, int]:
    """Flash of each configuration's minimal client (bench/footprint/run.py's JSON, same build tree)."""
    path = arm / "bench" / "footprint.json"
    return {r["name"]: r["flash"] for r in json.loads(path.read_text())} if path.exists() else {}


def trace_kind(name: str) -> str:
    """Which recorded handshakes a client's allocation pattern is like: "psk" (a PSK key exchange: a few dozen calls,
    most of them the record buffers, zeroed) or "ecc" (ECDHE or TLS 1.3: thousands of small bignum blocks)."""
    return "psk" if "psk" in name and "ecdhe" not in name else "ecc"


def allocator_instructions_per_call(arm: Path) -> dict | None:
    """tlsgen::Heap's instructions per calloc/free on Cortex-M4 (bench/alloc, run before this by bench/run.sh:
    build/bench-host/bench/alloc.json), averaged over the recorded handshakes of each kind (trace_kind: the a_psk_*
    traces, and the c_ecdsa_* and e_tls13_* ones). The PSK traces cost more a call (zeroing 16 KB record buffers is
    most of their 72 calls): averaging them into an ECDHE session's thousands of small calls overstated its share."""
    for path in (arm.parent / "bench-host" / "bench" / "alloc.json", arm / "bench" / "alloc.json"):
        if path.exists():
            kinds: dict = {"psk": [], "ecc": []}
            for r in json.loads(path.read_text()):
                if "cortex-m4" in r and "tlsgen" in r["cortex-m4"]:
                    kind = "psk" if r["trace"].startswith("a_psk") else "ecc"
                    kinds[kind].append(r["cortex-m4"]["tlsgen"]["instructions_per_call"])
            return {k: sum(v) / len(v) for k, v in kinds.items() if v} if all(kinds.values()) else None
    return None


def targets(results: dict, arm: Path) -> None:
    """Issue 14's targets, as ratios of this run's figures."""
    def g(name, key):
        return results.get(name, {}).get(key)

    def text_data(fw):
        sec = sections(arm / fw)
        return sec["text"] + sec["data"]

    rows = []
    b = "stock-config-suite-b"
    rows.append(("ECDHE-ECDSA P-256, optimize: size (m4-ecdhe-ecdsa)",
                 [("flash", g("m4-ecdhe-ecdsa", "flash"), g(b, "flash"), 0.86),
                  ("handshake", g("m4-ecdhe-ecdsa", "handshake_instructions"), g(b, "handshake_instructions"), 0.60),
                  ("heap peak", g("m4-ecdhe-ecdsa", "heap_peak"), g(b, "heap_peak"), 0.70)], "config-suite-b"))
    rows.append(("ECDHE-ECDSA P-256, optimize: speed (m4-ecdhe-ecdsa-speed)",
                 [("handshake", g("m4-ecdhe-ecdsa-speed", "handshake_instructions"), g(b, "handshake_instructions"),
                   0.50), ("flash", g("m4-ecdhe-ecdsa-speed", "flash"), g(b, "flash"), 0.95)], "config-suite-b"))
    try:
        t13, p256 = text_data("examples/qemu-esp8266/qemu_esp8266_resume_m4_tls13"), \
            text_data("examples/qemu-esp8266/qemu_esp8266_resume_m4_tls13_p256")
    except (subprocess.CalledProcessError, FileNotFoundError, IndexError):
        t13 = p256 = None
    rows.append(("TLS 1.3, P-256 alone (m4-tls13-p256) against today's m4-tls13 (full handshakes of their resume "
                 "firmware; flash: those images' text+data)",
                 [("handshake", g("m4-tls13-p256-resume", "handshake_instructions"),
                   g("m4-tls13-resume", "handshake_instructions"), 0.65), ("flash", p256, t13, 0.85)], "m4-tls13"))
    rows.append(("TLS 1.3 with X25519, optimize: speed (m4-tls13-x25519-speed, full handshake of its resume firmware)",
                 [("handshake", g("m4-tls13-x25519-speed-resume", "handshake_instructions"),
                   g("stock-default", "handshake_instructions"), 0.80)], "the default config"))
    p = "stock-config-ccm-psk-tls1_2"
    for name, how in (("m4-psk-ccm8", "optimize: size"), ("m4-psk-ccm8-speed", "optimize: speed")):
        rows.append((f"PSK-CCM-8, {how} ({name})",
                     [("handshake", g(name, "handshake_instructions"), g(p, "handshake_instructions"), 1.10),
                      ("flash", g(name, "flash"), g(p, "flash"), 0.85)], "config-ccm-psk-tls1_2"))
    rows.append(("DTLS PSK-CCM-8 (m4-dtls-psk-ccm8, issue 15)",
                 [("flash", g("m4-dtls-psk-ccm8", "flash"), g("m4-psk-ccm8", "flash"), 1.15)],
                 "the TLS client m4-psk-ccm8"))
    shares = {n: r.get("allocator_share") for n, r in results.items()
              if not n.startswith("stock-") and r.get("allocator_share") is not None}
    print()
    print("Issue 14's and 15's targets (this run; ratio = ours / anchor):")
    print()
    print("| configuration | measure | ours | anchor | ratio | target | met |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for what, measures, anchor in rows:
        for m, ours, theirs, target in measures:
            if ours and theirs:
                print(f"| {what} | {m} vs {anchor} | {ours:,} | {theirs:,} | {ours / theirs:.3f} | <= {target:.2f} | "
                      f"{'yes' if ours / theirs <= target else 'NO'} |")
            else:
                print(f"| {what} | {m} vs {anchor} | {ours or '-'} | {theirs or '-'} | - | <= {target:.2f} | not measured |")
    if shares:
        worst = max(shares, key=shares.get)
        print(f"| allocator share, largest of tlsgen's rows ({worst}) | calloc/free instructions in the handshake, "
              f"measured, / handshake | | | "
              f"{100 * shares[worst]:.2f} % | <= 1.50 % | {'yes' if shares[worst] <= 0.015 else 'NO'} |")


if __name__ == "__main__":
    sys.exit(main())
