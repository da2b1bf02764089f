"""Protocol and versions: role, transport, TLS versions against the suites, the extensions every
session of the profile uses (extended master secret, ALPN; tickets: resumption.py)."""

from __future__ import annotations

from tlsgen.resolve.core import Context, S


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    b.define("MBEDTLS_SSL_TLS_C", S, "TLS", ("tls",))
    if tls.role == "client":
        b.define("MBEDTLS_SSL_CLI_C", S, "client role (no MBEDTLS_SSL_SRV_C: a client does not link the server)",
                 ("tls", "role"))
    else:
        b.error(("tls", "role"), "server is not supported yet: tlsgen's runtime (SslConfig) sets up TLS clients "
                "only (allowed: client)")
    if tls.transport == "datagram":
        b.error(("tls", "transport"), "datagram (DTLS) is not supported yet: tlsgen's runtime has no datagram "
                "transport or retransmission timer (allowed: stream)")

    for i, v in enumerate(tls.versions):
        b.define(f"MBEDTLS_SSL_PROTO_TLS1_{v[-1]}", S, f"TLS {v} enabled", ("tls", "versions", i))
        if not any(s.version == v for s in c.suites):
            b.error(("tls", "versions", i), f"TLS {v} is enabled but tls.cipher_suites has no TLS {v} suite")
    for i, s in enumerate(c.suites):
        if s.version not in c.versions:
            b.error(("tls", "cipher_suites", i), f"{s.name} is a TLS {s.version} suite but tls.versions does not "
                    f"enable {s.version}")
    if c.tls12:
        b.define("MBEDTLS_SSL_EXTENDED_MASTER_SECRET", S, "RFC 7627: binds the master secret to the handshake",
                 ("tls", "versions"))
    if c.tls13:
        b.define("MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", S, "TLS 1.3 in mbedTLS 3.6 requires it", ("tls", "versions"))
    if tls.alpn:
        b.define("MBEDTLS_SSL_ALPN", S, "ALPN: SslConfig offers tls.alpn in every session", ("tls", "alpn"))
    b.define("MBEDTLS_SSL_ALL_ALERT_MESSAGES", S, "send alerts on errors so the peer's log says why", ())
