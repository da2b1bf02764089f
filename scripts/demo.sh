#!/usr/bin/env bash
# The main job, from a fresh clone: generate shipped Cortex-M profiles, build the QEMU mps2-an386
# firmware through tlsgen_add_library(), and run it against openssl s_server on 127.0.0.1 through
# the ESP8266 AT modem emulator (UART0 -> UNIX socket -> modem -> TCP). Prints, per profile: the
# generator's summary, the handshake result and the HTTP reply, heap peak vs generated heap, flash
# and RAM of the image (arm-none-eabi-size), and the handshake cost in guest instructions
# (QEMU -icount shift=0; time spent waiting for modem input excluded). TLS 1.2 profiles then reconnect
# offering the saved session (the qemu_esp8266_resume_* firmware): the resumed handshake's cost.
# A DTLS profile (m4-dtls-psk-ccm8) runs over the modem's UDP link against openssl s_server -dtls1_2: handshake
# (with the server's HelloVerifyRequest cookie) and three request/response datagrams, answered reversed.
#   scripts/demo.sh [profile ...]     (default: m4-psk-ccm8 m4-ecdhe-ecdsa m4-tls13 m4-mqtt-mtls m4-dtls-psk-ccm8:
#   m4-mqtt-mtls authenticates the device with its certificate, s_server -Verify 1)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(m4-psk-ccm8 m4-ecdhe-ecdsa m4-tls13 m4-mqtt-mtls m4-dtls-psk-ccm8)

tarball="$(scripts/deps.sh)"
build=build/arm
demo=build/demo
mkdir -p "$demo"
cmake -S . -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-arm-none-eabi.cmake" \
  "-DTLSGEN_MBEDTLS_SOURCE=$tarball" >/dev/null

summary=()
status=0
for p in "${profiles[@]}"; do
  id="${p//-/_}"
  printf '\n==== %s\n' "$p"
  python3 -m tlsgen "profiles/$p.yaml" -o "$demo/generated/$p"
  cmake --build "$build" --target "qemu_esp8266_$id" -- -j"$(nproc)" >/dev/null
  fw="$build/examples/qemu-esp8266/qemu_esp8266_$id"
  if ! python3 tests/qemu/run_qemu.py --firmware "$fw" --profile "$p" --work "$demo/work" --json "$demo/$p.json"; then
    status=1
  fi
  rm -f "$demo/$p.resume.json"
  if ninja -C "$build" -t targets all 2>/dev/null | grep "^qemu_esp8266_resume_$id:" >/dev/null; then  # TLS 1.2
    printf -- '---- %s: reconnect offering the saved session\n' "$p"
    cmake --build "$build" --target "qemu_esp8266_resume_$id" -- -j"$(nproc)" >/dev/null
    if ! python3 tests/qemu/run_qemu.py --firmware "$build/examples/qemu-esp8266/qemu_esp8266_resume_$id" --profile "$p" \
         --work "$demo/work" --resume --json "$demo/$p.resume.json"; then
      status=1
    fi
  fi
  read -r text data bss _ < <(arm-none-eabi-size "$fw" | tail -1)
  summary+=("$(python3 - "$demo/$p.json" "$p" "$text" "$data" "$bss" "$demo/$p.resume.json" <<'PY'
import json, sys
path, p, text, data, bss, resume_path = sys.argv[1:]
def load(f):
    try:
        return json.load(open(f))
    except (OSError, ValueError):
        return {}
d, r = load(path), load(resume_path)
peak, gen = d.get("heap_peak"), d.get("heap_generated")
ratio = f"{gen / peak:.3f}" if peak and gen else "-"
ins = d.get("handshake_instructions")
res = r.get("resumed_handshake_instructions")
resumed = "-" if not r else (f"{res / 1e6:.2f} M ({100.0 * res / ins:.1f} %)" if r.get("ok") and res and ins else "FAILED")
print(f"| {p} | {'ok' if d.get('ok') else 'FAILED'} | {peak or '-'} | {gen or '-'} | {ratio} | {int(text):,} | "
      f"{int(data):,} | {int(bss):,} | {f'{ins / 1e6:.2f} M' if ins else '-'} | {resumed} |")
PY
)")
done
printf '\n| profile | handshake + GET (DTLS: 3 requests) | heap peak | generated heap | generated/peak | text | data | bss | handshake instructions | resumed handshake |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
printf '%s\n' "${summary[@]}"
exit $status
