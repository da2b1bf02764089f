#!/usr/bin/env python3
"""Handshake cost, heap peak and flash, in QEMU, for the shipped Cortex-M profiles and the stock-config
anchors, side by side: the same session (TCP connect through the ESP8266 emulator + TLS handshake
with openssl s_server), instructions counted with TIMER0 under -icount shift=0, waiting excluded.

    bench/handshake/run.py [ARM_BUILD] [OUT_DIR]
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = [
    ("m4-psk-ccm8", "examples/qemu-esp8266/qemu_esp8266_m4_psk_ccm8", "stock-config-ccm-psk-tls1_2"),
    ("stock-config-ccm-psk-tls1_2", "bench/handshake/stock_client_config_ccm_psk_tls1_2", None),
    ("m4-ecdhe-ecdsa", "examples/qemu-esp8266/qemu_esp8266_m4_ecdhe_ecdsa", "stock-config-suite-b"),
    ("m4-ecdhe-ecdsa-speed", "examples/qemu-esp8266/qemu_esp8266_m4_ecdhe_ecdsa_speed", "stock-config-suite-b"),
    ("stock-config-suite-b", "bench/handshake/stock_client_config_suite_b", None),
    ("m4-tls13", "examples/qemu-esp8266/qemu_esp8266_m4_tls13", "stock-default"),
    ("stock-default", "bench/handshake/stock_client_default", None),
]


def main() -> int:
    arm = Path(sys.argv[1] if len(sys.argv) > 1 else "build/arm")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "build/bench")
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, fw, _ in RUNS:
        subprocess.run(["cmake", "--build", str(arm), "--target", Path(fw).name], check=True, capture_output=True)
        j = out / f"handshake-{name}.json"
        subprocess.run([sys.executable, str(ROOT / "tests" / "qemu" / "run_qemu.py"), "--firmware", str(arm / fw),
                        "--profile", name, "--work", str(out / "work"), "--json", str(j)],
                       capture_output=True, text=True, timeout=900)
        results[name] = json.loads(j.read_text()) if j.exists() else {}
    print("| client | handshake instructions | vs stock anchor | heap peak |")
    print("| --- | ---: | --- | ---: |")
    for name, _, anchor in RUNS:
        r = results[name]
        ins = r.get("handshake_instructions")
        a = results.get(anchor, {}).get("handshake_instructions") if anchor else None
        ratio = f"{ins / a:.2f}x of {anchor}" if ins and a else ""
        print(f"| {name} | {ins / 1e6:.2f} M | {ratio} | {r.get('heap_peak', '-')} |" if ins else f"| {name} | failed | | |")
    (out / "handshake.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
