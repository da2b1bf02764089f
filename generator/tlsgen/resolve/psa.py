"""PSA crypto: TLS 1.3 in mbedTLS 3.6 runs on it, and so does everything on the p256-m driver (resolve.ecc)."""

from __future__ import annotations

from tlsgen.resolve.core import PS, Context


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    if c.p256m:
        b.define("MBEDTLS_PSA_CRYPTO_C", PS, "the p256-m driver is reached through PSA crypto (psa_crypto_init())",
                 ("tls", "groups"))
    if not c.tls13 and not c.p256m:
        if any(s.version == "1.3" for s in c.suites):
            return  # a TLS 1.3 suite without TLS 1.3 enabled is reported by the protocol rules
        b.unused(("tls", "psa_exclusive_buffers"), "only TLS 1.3 and the p256-m driver use PSA crypto: tls.versions "
                 f"does not enable 1.3, and the p256-m driver does not apply ({c.ecc_why})")
        return
    if c.tls13:
        b.define("MBEDTLS_PSA_CRYPTO_C", PS, "TLS 1.3 in mbedTLS 3.6 runs on PSA crypto (psa_crypto_init())",
                 ("tls", "versions"))
    if tls.psa_exclusive_buffers:
        b.define("MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS", PS, "buffers are not shared with another party: "
                 "skips a temporary copy of every PSA input/output", ("tls", "psa_exclusive_buffers"))
