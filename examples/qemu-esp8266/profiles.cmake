# The shipped profiles the QEMU firmware is built for (examples/qemu-esp8266) and run with (tests/qemu,
# bench/handshake): every Cortex-M profile of profiles/, each on its target.cpu's board.
set(TLSGEN_QEMU_PROFILES m4-psk-ccm8 m4-psk-ccm8-speed m4-ecdhe-ecdsa m4-ecdhe-ecdsa-speed m4-tls13 m4-mqtt-mtls seed-esp8266
    m0-psk-ccm8 m0-ecdhe-ecdsa m3-ecdhe-ecdsa m7-tls13 m33-ecdhe-ecdsa m4-dtls-psk-ccm8)
# Profiles that also get a qemu_esp8266_resume_* firmware (a reconnect offering the saved session:
# tests/qemu's qemu.<profile>.resume, scripts/demo.sh).
set(TLSGEN_QEMU_RESUME_PROFILES m4-psk-ccm8 m4-ecdhe-ecdsa m4-mqtt-mtls m4-tls13)
# Bench-only profiles (bench/handshake/profiles/): resume firmware only, for bench/handshake/run.py's full versus
# resumed table (a TLS 1.2 ticket; TLS 1.3 psk_ke) and its TLS 1.3 rows (P-256 alone on the p256-m driver; X25519
# built for speed).
set(TLSGEN_QEMU_BENCH_RESUME_PROFILES m4-ecdhe-ecdsa-ticket m4-tls13-psk-ke m4-tls13-p256 m4-tls13-x25519-speed)
