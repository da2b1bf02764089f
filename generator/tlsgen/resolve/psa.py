"""PSA crypto: TLS 1.3 in mbedTLS 3.6 runs on it."""

from __future__ import annotations

from tlsgen.resolve.core import PS, Context


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    if not c.tls13:
        if any(s.version == "1.3" for s in c.suites):
            return  # a TLS 1.3 suite without TLS 1.3 enabled is reported by the protocol rules
        b.unused(("tls", "psa_exclusive_buffers"), "only TLS 1.3 uses PSA crypto and tls.versions does not enable "
                 "1.3")
        return
    b.define("MBEDTLS_PSA_CRYPTO_C", PS, "TLS 1.3 in mbedTLS 3.6 runs on PSA crypto (psa_crypto_init())",
             ("tls", "versions"))
    if tls.psa_exclusive_buffers:
        b.define("MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS", PS, "buffers are not shared with another party: "
                 "skips a temporary copy of every PSA input/output", ("tls", "psa_exclusive_buffers"))
