#!/usr/bin/env python3
"""The PSA configuration tlsgen writes for the p256-m driver says what mbedTLS would have derived itself.

On p256-m (tlsgen.resolve.ecc) the generated config sets MBEDTLS_PSA_CRYPTO_CONFIG and lists PSA_WANT_* itself,
mirroring include/mbedtls/config_adjust_psa_from_legacy.h for everything but the curve. For every shipped profile
on p256-m, and a few more, this preprocesses mbedTLS's build_info.h (`cc -dM -E`) with the generated config and
with the same profile resolved on the legacy ECP, and compares the PSA_WANT_* macros mbedTLS ends up with:
they must be the same but for the curve's (p256-m: ECDH and ECDSA on secp256r1 only, no deterministic ECDSA, no
key derivation, no EC J-PAKE) and what no TLS client of the profile uses (UNUSED_BY_TLS; TLS12_PSK_TO_MS without PSK
suites; TLS 1.2's PRF with TLS 1.3 alone).

    tests/configs/psa_wants.py <mbedTLS source dir> <C compiler>
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

from tlsgen.heap import HeapModel  # noqa: E402
from tlsgen.loader import load_profile_bytes  # noqa: E402
from tlsgen.render import heap_for, render  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402

#: What only the legacy ECP gives (p256-m does one curve, ECDH, ECDSA, key generation and import/export).
LEGACY_ONLY = {"PSA_WANT_ALG_DETERMINISTIC_ECDSA", "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_DERIVE",
               "PSA_WANT_ALG_TLS12_ECJPAKE_TO_PMS", "PSA_WANT_ALG_ECDSA_ANY"}

#: What tlsgen leaves out of mbedTLS's derivation on purpose (tlsgen.resolve.ecc.PSA_FROM_LEGACY): no TLS client uses
#: ECB without padding; TLS12_PSK_TO_MS only where a PSK suite is listed.
UNUSED_BY_TLS = {"PSA_WANT_ALG_ECB_NO_PADDING"}

EXTRA = {
    "tls13-only": """profile: 1
name: extra-tls13-only
target: {cpu: cortex-m4}
tls:
  versions: ["1.3"]
  cipher_suites: [TLS1-3-AES-128-GCM-SHA256]
  groups: [secp256r1]
platform: {entropy: [nv_seed], time: none}
""",
    "tls13-psk-sha384": """profile: 1
name: extra-tls13
target: {cpu: cortex-m33}
tls:
  versions: ["1.2", "1.3"]
  cipher_suites: [TLS1-3-AES-256-GCM-SHA384, TLS1-3-CHACHA20-POLY1305-SHA256, TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8,
                  TLS-PSK-WITH-AES-128-CBC-SHA256]
  groups: [secp256r1]
  psk_max_bytes: 32
platform: {entropy: [hardware], time: none}
""",
}


def wants(cc: str, mbedtls: Path, config: str, work: Path) -> set[str]:
    (work / "mbedtls_config.h").write_text(config)
    (work / "probe.c").write_text('#include "mbedtls/build_info.h"\n')
    out = subprocess.run([cc, "-dM", "-E", f"-I{work}", f"-I{mbedtls}/include",
                          "-DMBEDTLS_CONFIG_FILE=<mbedtls_config.h>", str(work / "probe.c")],
                         capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^#define (PSA_WANT_\w+)", out, re.M))


def config_of(text: str, name: str, p256m: bool) -> tuple[str, bool]:
    r = resolve(load_profile_bytes(name, text.encode()), p256m=p256m)
    # The heap figure is irrelevant here (a placeholder model): only the macros are compared.
    return render(r, heap_for(r, HeapModel((), 0, 0, 0, 8, None)))["mbedtls_config.h"], r.p256m


def main() -> int:
    mbedtls, cc = Path(sys.argv[1]), sys.argv[2]
    cases = {p.stem: p.read_text() for p in sorted((ROOT / "profiles").glob("*.yaml"))} | EXTRA
    checked, bad = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in cases.items():
            new, on = config_of(text, f"{name}.yaml", True)
            if not on:
                continue
            old, _ = config_of(text, f"{name}.yaml", False)
            # A TLS 1.2-only legacy configuration has no PSA: what mbedTLS would derive once PSA is compiled in.
            head, _, tail = old.rpartition("#endif")
            old = head + "#ifndef MBEDTLS_PSA_CRYPTO_C\n#define MBEDTLS_PSA_CRYPTO_C\n#endif\n#endif" + tail
            (Path(tmp) / "a").mkdir(exist_ok=True)
            (Path(tmp) / "b").mkdir(exist_ok=True)
            got = wants(cc, mbedtls, new, Path(tmp) / "a") - LEGACY_ONLY
            ref = wants(cc, mbedtls, old, Path(tmp) / "b") - LEGACY_ONLY - UNUSED_BY_TLS
            if "_PSK_WITH_" not in new.split("#define MBEDTLS_SSL_CIPHERSUITES")[-1].split("#define")[0]:
                ref.discard("PSA_WANT_ALG_TLS12_PSK_TO_MS")  # no PSK suite (tlsgen.resolve.ecc)
            if "#define MBEDTLS_SSL_PROTO_TLS1_2" not in new:
                ref -= {"PSA_WANT_ALG_TLS12_PRF", "PSA_WANT_ALG_TLS12_PSK_TO_MS"}  # TLS 1.3 alone
            checked += 1
            if got != ref:
                bad += 1
                print(f"FAIL {name}: only in tlsgen's: {sorted(got - ref)}; only in mbedTLS's derivation: "
                      f"{sorted(ref - got)}")
            else:
                print(f"ok {name}: {len(got)} PSA_WANT_* as mbedTLS derives them")
    if checked < 2:
        print(f"FAIL: only {checked} profiles on p256-m (expected the shipped P-256 profiles)")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
