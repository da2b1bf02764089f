"""Key exchange: the TLS 1.2 key exchanges of the suites, TLS 1.3's (EC)DHE mode, PSK, and the
(EC)DHE groups."""

from __future__ import annotations

from tlsgen.catalog import GROUPS, Kex
from tlsgen.resolve.core import EC, PK, S, T, Z, Context

KEX_MACRO = {
    Kex.PSK: "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED",
    Kex.ECDHE_PSK: "MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED",
    Kex.ECDHE_ECDSA: "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
    Kex.ECDHE_RSA: "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED",
    Kex.RSA: "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED",
}


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    for i, s in enumerate(c.suites):
        src = ("tls", "cipher_suites", i)
        if s.kex in KEX_MACRO:
            b.define(KEX_MACRO[s.kex], S, f"key exchange of {s.name}", src)
        if s.kex == Kex.RSA and not c.opted_in("no_forward_secrecy"):
            b.error(src, f"{s.name} uses static RSA key exchange (no forward secrecy); add an insecure opt-in "
                    "'no_forward_secrecy' with a reason, or use an ECDHE suite")
    # What the suites of the enabled versions need; a suite of a version the profile does not enable is
    # reported once (protocol rules), not again as a missing group or certificate. Whether a setting is
    # unused is judged over every listed suite, so that no follow-on message asks to remove what the
    # fixed profile will need.
    enabled = {s.kex for s in c.suites if s.version in c.versions}
    c.uses_ecdhe = any(k.uses_ecdhe for k in enabled) or c.tls13
    c.uses_psk = any(k.uses_psk for k in enabled)
    c.uses_certs = any(k.uses_certificates for k in enabled) or c.tls13
    any13 = c.tls13 or any(s.version == "1.3" for s in c.suites)
    c.lists_ecdhe = any(k.uses_ecdhe for k in c.kexes) or any13
    c.lists_psk = any(k.uses_psk for k in c.kexes)
    c.lists_certs = any(k.uses_certificates for k in c.kexes) or any13
    if c.tls13:
        b.define("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED", S,
                 "TLS 1.3 (EC)DHE with certificate authentication", ("tls", "versions"))
    if c.uses_psk:
        b.define("MBEDTLS_PSK_MAX_LEN", Z, "largest pre-shared key", ("tls", "psk_max_bytes"), str(tls.psk_max_bytes))
    elif not c.lists_psk:
        b.unused(("tls", "psk_max_bytes"), "no cipher suite uses a pre-shared key")

    if c.uses_ecdhe and not c.groups:
        b.error(("tls", "groups"), "the cipher suites use (EC)DHE key exchange but tls.groups is empty "
                f"(allowed: {', '.join(GROUPS)})")
    if c.groups and not c.lists_ecdhe:
        b.error(("tls", "groups"), "tls.groups is set but no cipher suite uses (EC)DHE (PSK-only suites): "
                "remove it")
    for i, g in enumerate(c.groups):
        src = ("tls", "groups", i)
        b.define(g.macro, EC, f"group {g.name}", src)
        b.define("MBEDTLS_ECP_C", EC, "elliptic curve arithmetic", src)
        b.define("MBEDTLS_BIGNUM_C", PK, "multi-precision integers for curve arithmetic", src)
        b.define("MBEDTLS_ECDH_C", EC, "(EC)DHE key agreement", src)
    if any(g.nist for g in c.groups):
        # Measured on Cortex-M4 (QEMU): without it a P-256 handshake costs ~8x the instructions, for
        # about 2 KB less flash; a trade-off no profile wants, so it is on for size and speed alike.
        b.define("MBEDTLS_ECP_NIST_OPTIM", T, "fast reduction modulo NIST primes "
                 "(P-256 handshakes ~8x fewer instructions on Cortex-M4 for ~2 KB flash)", ("tls", "groups"))
