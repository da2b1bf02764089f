"""Protocol and versions: role, transport, TLS versions against the suites, the extensions every
session of the profile uses (extended master secret, ALPN; tickets: resumption.py)."""

from __future__ import annotations

from tlsgen.model import Dtls
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
        datagram(c)
    elif tls.dtls is not None:
        b.error(("tls", "dtls"), "DTLS settings apply to transport: datagram only, and tls.transport is stream "
                "(remove tls.dtls, or set transport: datagram)")

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


def datagram(c: Context) -> None:
    """DTLS 1.2 (tls.transport: datagram): what mbedTLS needs, and what a datagram profile cannot have."""
    b, tls = c.b, c.tls
    d = tls.dtls or Dtls()
    b.define("MBEDTLS_SSL_PROTO_DTLS", S, "DTLS 1.2 over datagrams (SslUdpStack); the client answers the server's "
             "HelloVerifyRequest cookie by itself (MBEDTLS_SSL_DTLS_HELLO_VERIFY is the server's side)",
             ("tls", "transport"))
    b.define("MBEDTLS_SSL_DTLS_ANTI_REPLAY", S, "drop records seen before (RFC 6347 4.1.2.6: a 64-record window)",
             ("tls", "transport"))
    if c.tls13:
        i = tls.versions.index("1.3")
        b.error(("tls", "versions", i), "DTLS is 1.2 only in mbedTLS 3.6 (no DTLS 1.3): a datagram profile "
                "enables versions [1.2] alone")
    if d.handshake_timeout_max_ms < d.handshake_timeout_min_ms:
        b.error(("tls", "dtls", "handshake_timeout_max_ms"), f"{d.handshake_timeout_max_ms} ms is below "
                f"handshake_timeout_min_ms {d.handshake_timeout_min_ms}: the retransmission timeout starts at the "
                "minimum and doubles up to the maximum (allowed: at least the minimum)")
