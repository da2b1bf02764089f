"""Protocol and versions: role, transport, TLS versions against the suites, the extensions every
session of the profile uses (extended master secret, ALPN; tickets: resumption.py)."""

from __future__ import annotations

from tlsgen.model import Dtls
from tlsgen.resolve.core import Context, S


#: A server sends its flight again after this long without an answer: RFC 6347 4.2.4.1's initial timer, which
#: OpenSSL and GnuTLS use (gnutls-serv only when a datagram of the client arrives after it).
DTLS_PEER_TIMER_MS = 1000
#: The client's last resending of a flight must come this long after its first sending: the server's timer, and
#: 200 ms for the round trip and the server's work.
DTLS_LAST_RESEND_MS = DTLS_PEER_TIMER_MS + 200


def dtls_resends(min_ms: int, max_ms: int) -> tuple[list[int], int]:
    """When mbedTLS 3.6 sends an unanswered flight again (ms after its first sending), and when it gives up
    (library/ssl_msg.c: each timeout that expires doubles the next, capped at max_ms, and resends; the one that
    expires at max_ms ends the handshake, MBEDTLS_ERR_SSL_TIMEOUT)."""
    t, timeout, resends = 0, min_ms, []
    while timeout < max_ms:
        t += timeout
        resends.append(t)
        timeout = min(2 * timeout, max_ms)
    return resends, t + timeout


def smallest_dtls_max(min_ms: int) -> int:
    """The smallest handshake_timeout_max_ms whose last resending comes DTLS_LAST_RESEND_MS after the first
    sending (a larger maximum never resends less: binary search). Twice the larger of the two, and 1, always
    does: the timeouts below it double up to one of more than half of it, and the resendings add up to that."""
    lo, hi = min_ms, 2 * max(min_ms, DTLS_LAST_RESEND_MS) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        resends, _ = dtls_resends(min_ms, mid)
        if resends and resends[-1] >= DTLS_LAST_RESEND_MS:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _and(values: list[int]) -> str:
    text = [str(v) for v in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


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
    else:
        resends, gives_up = dtls_resends(d.handshake_timeout_min_ms, d.handshake_timeout_max_ms)
        last = resends[-1] if resends else 0
        if last < DTLS_LAST_RESEND_MS:
            when = (f"sends an unanswered flight again at {_and(resends)} ms" if resends else
                    "never sends an unanswered flight again")
            b.error(("tls", "dtls", "handshake_timeout_max_ms"), f"with handshake_timeout_min_ms "
                    f"{d.handshake_timeout_min_ms} and handshake_timeout_max_ms {d.handshake_timeout_max_ms} mbedTLS "
                    f"{when} and gives up at {gives_up} ms. A server sends its own flight again only once "
                    f"{DTLS_PEER_TIMER_MS} ms have passed without an answer (RFC 6347 4.2.4.1's initial timer, "
                    "OpenSSL's and GnuTLS's; gnutls-serv only when a datagram of the client comes after that), so "
                    "a server datagram that was lost, or that mbedTLS could not keep (it buffers at most 3 messages "
                    "ahead: a flight with a CertificateRequest that comes out of order loses its ServerHelloDone), "
                    "would never come again: the client's last resending must come at least "
                    f"{DTLS_LAST_RESEND_MS} ms after the flight's first ({DTLS_PEER_TIMER_MS} ms, and "
                    f"{DTLS_LAST_RESEND_MS - DTLS_PEER_TIMER_MS} for the round trip and the server's work; sweep "
                    "h10102-0096 timed out against gnutls-serv with 100 and 800 ms) (allowed: with "
                    f"handshake_timeout_min_ms {d.handshake_timeout_min_ms}, handshake_timeout_max_ms at least "
                    f"{smallest_dtls_max(d.handshake_timeout_min_ms)})")
