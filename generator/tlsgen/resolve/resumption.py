"""Session resumption (tls.resumption): which saved sessions a reconnect may offer, and what that compiles in.

mbedTLS 3.6's client
- resumes a TLS 1.2 session by its session ID with nothing extra compiled in (the server keeps the session);
- asks for and keeps a TLS 1.2 ticket (RFC 5077) with MBEDTLS_SSL_SESSION_TICKETS, and does not check its
  lifetime hint itself (SslTcpStack::offer_session does, from the time the saved session records);
- keeps a TLS 1.3 NewSessionTicket only with MBEDTLS_SSL_SESSION_TICKETS and a PSK key-exchange mode compiled in
  and the signal turned on at run time (mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets: the default
  drops every ticket), and checks its lifetime against mbedtls_ms_time() (library/ssl_client.c,
  ssl_prepare_client_hello) when MBEDTLS_HAVE_TIME is defined;
- places a NewSessionTicket whole in its receive buffer (a handshake message is reassembled there).
"""

from __future__ import annotations

from tlsgen.resolve import certificates
from tlsgen.resolve.client import chain_ticket_bytes, ticket_overhead
from tlsgen.resolve.core import S, Context
from tlsgen.resolve.records import receive_len

R = ("tls", "resumption")
# A NewSessionTicket message beyond its ticket: TLS 1.3 4 (handshake header) + 4 lifetime + 4 age_add + 1 + nonce
# (8 to 32 bytes from OpenSSL and GnuTLS) + 2 + 2 extensions length + an early_data extension (8); TLS 1.2: 10.
NST_OVERHEAD = 64
# A ClientHello beside the ticket it offers: mbedTLS 3.6's is up to about 330 bytes with a P-521 key share, SNI and
# ALPN; a TLS 1.3 identity adds 10 bytes and a SHA-384 binder 51.
CLIENT_HELLO_BYTES = 400
# A DTLS ClientHello adds to that its 12-byte handshake header (8 more than TLS's) and the server's cookie, echoed
# after a HelloVerifyRequest (a 1-byte length and up to 255 bytes, RFC 6347 4.2.1).
DTLS_CLIENT_HELLO_EXTRA = 8 + 1 + 255


def dtls_client_hello_bytes(ticket_max_bytes: int) -> int:
    """The largest DTLS ClientHello offering a TLS 1.2 ticket of ticket_max_bytes (its 12-byte header included):
    what mbedTLS writes whole into the send buffer before it fragments it to the MTU."""
    return ticket_max_bytes + CLIENT_HELLO_BYTES + DTLS_CLIENT_HELLO_EXTRA


def uses_tickets(tls) -> bool:
    """Whether the profile keeps a server's ticket (a TLS 1.2 ticket, or TLS 1.3 resumption)."""
    return "ticket" in tls.resumption.tls12 or bool(tls.resumption.tls13)


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    res = tls.resumption
    for name in ("tls12", "tls13"):
        seen: dict = {}
        for i, item in enumerate(getattr(res, name)):
            if item in seen:
                b.error(R + (name, i), f"'{item}' is listed twice (first at index {seen[item]})")
            seen.setdefault(item, i)
    if res.tls12 and not c.tls12:
        b.error(R + ("tls12",), "TLS 1.2 is not in tls.versions, so no TLS 1.2 session is ever resumed "
                "(allowed: [] here, or add 1.2 to tls.versions)")
    if res.tls13 and not c.tls13:
        b.error(R + ("tls13",), "TLS 1.3 is not in tls.versions, so no TLS 1.3 session is ever resumed "
                "(allowed: [] here, or add 1.3 to tls.versions)")
    tickets = uses_tickets(tls)
    if not tickets:
        b.unused(R + ("ticket_max_bytes",), "no ticket is kept (tls.resumption has no TLS 1.2 ticket and no TLS 1.3 mode)")
    for i, item in enumerate(res.tls12):
        if item == "ticket" and c.tls12:
            b.define("MBEDTLS_SSL_SESSION_TICKETS", S, "TLS 1.2 session tickets (RFC 5077): ask for one, keep it, "
                     "offer it on reconnect", R + ("tls12", i))
    modes = {"psk_ephemeral": ("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED",
                               "TLS 1.3 resumption with (EC)DHE (psk_dhe_ke: forward secret)"),
             "psk_ke": ("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED",
                        "TLS 1.3 resumption without (EC)DHE (psk_ke): NO forward secrecy for the resumed session")}
    for i, item in enumerate(res.tls13):
        if not c.tls13:
            break
        macro, why = modes[item]
        b.define(macro, S, why, R + ("tls13", i))
        b.define("MBEDTLS_SSL_SESSION_TICKETS", S, "TLS 1.3 NewSessionTicket: keep the server's ticket (the "
                 "runtime turns the signal on)", R + ("tls13", i))
        if item == "psk_ke":
            if not c.opted_in("no_forward_secrecy"):
                b.error(R + ("tls13", i), "psk_ke resumes a TLS 1.3 session without (EC)DHE: whoever later learns "
                        "the ticket's key (the server's ticket key, or the saved session) decrypts the resumed "
                        "session; add an insecure opt-in 'no_forward_secrecy' with a reason, or use psk_ephemeral")
            else:
                b.warnings.append("tls.resumption.tls13 lists psk_ke: a resumed TLS 1.3 session has no forward "
                                  "secrecy (no (EC)DHE); the opt-in no_forward_secrecy allows it")
    # mbedtls_ssl_write_client_hello: a ClientHello that proposes TLS 1.2 alone (a resumed TLS 1.2 session) writes
    # signature_algorithms whenever certificate handshakes are compiled in, with the schemes TLS 1.2 can use
    # (mbedtls_ssl_tls12_sig_alg_is_supported: PKCS#1 v1.5 with RSA, ECDSA with an ECDSA key exchange); none of
    # them listed: "No signature algorithms defined", -0x6C00 (sweep h9922-0059, both servers: TLS 1.2 PSK suites
    # beside TLS 1.3 with ecdsa_secp384r1_sha384 only).
    tls12_schemes = [a.name for a in c.sig_algs if (a.scheme == "pkcs1" and b.defined("MBEDTLS_RSA_C")) or
                     (a.scheme == "ecdsa" and b.defined("MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED"))]
    if res.tls12 and c.tls12 and c.uses_certs and c.sig_algs and not tls12_schemes:
        b.error(R + ("tls12",), "mbedTLS 3.6 cannot write the ClientHello of a resumed TLS 1.2 session here: it "
                "offers only TLS 1.2's signature algorithms, and none of tls.signature_algorithms is one (PKCS#1 "
                "v1.5 with RSA, or ECDSA with a TLS 1.2 ECDHE-ECDSA suite), so its signature_algorithms extension "
                "comes out empty, -0x6C00 (allowed: [] here; or add such a scheme or suite)")
    # The same TLS 1.2-only ClientHello with static RSA suites: a server that does not resume the offer (restarted,
    # its cache or ticket key new) runs a full handshake, and OpenSSL 3.0 ends it ("tls_choose_sigalg: no suitable
    # signature algorithm", a fatal alert, -0x7780) when no RSA scheme is offered, as it does for TLS 1.2 alone
    # (tlsgen.resolve.certificates); RSA-PSS, which a full handshake offers beside TLS 1.3, is left out here (sweep
    # m10120-0003: every later connect() offering the saved session would fail).
    if res.tls12 and c.tls12 and c.tls13 and certificates.tls12_hello_offers_no_rsa(c):
        b.error(R + ("tls12",), "a resumed TLS 1.2 session's ClientHello proposes TLS 1.2 alone, with the RSA schemes "
                "TLS 1.2 can use in mbedTLS 3.6 (PKCS#1 v1.5, not RSA-PSS), and none is listed: a server that does not "
                "resume it (restarted, a new ticket key) falls back to a full handshake with its RSA certificate, "
                "and OpenSSL refuses that (no suitable signature algorithm), so connect() fails whenever the saved "
                "session is stale (allowed: [] here; or add rsa_pkcs1_sha256, rsa_pkcs1_sha384 or rsa_pkcs1_sha512 "
                "to tls.signature_algorithms; or drop the static RSA suites)")
    if res.tls13 and c.tls13 and c.uses_psk:
        b.error(R + ("tls13",), "TLS 1.3 resumption compiles in mbedTLS 3.6's TLS 1.3 PSK handshakes, and these "
                "offer the pre-shared key the profile's TLS 1.2 PSK suites use as a TLS 1.3 external PSK as well, "
                "which tlsgen does not support (allowed: [] here with PSK suites; or resume by tls12 only)")
    if not tickets:
        return
    if c.plat.time == "none":
        b.error(R, "a kept ticket has a lifetime (RFC 5077 lifetime hint; TLS 1.3 ticket_lifetime) that the device "
                "must respect, and platform.time is none (allowed: platform.time ms_clock or calendar, or "
                "resumption by session_id only)")
    in_len = receive_len(tls)
    if res.ticket_max_bytes + NST_OVERHEAD > in_len:
        b.error(R + ("ticket_max_bytes",), f"a NewSessionTicket with a {res.ticket_max_bytes}-byte ticket is about "
                f"{res.ticket_max_bytes + NST_OVERHEAD} bytes, and mbedTLS 3.6 reassembles it in its receive buffer, "
                f"but tls.in_content_len is {in_len} (allowed: ticket_max_bytes up to {in_len - NST_OVERHEAD})")
    if tls.transport != "datagram" and res.ticket_max_bytes + CLIENT_HELLO_BYTES > tls.out_content_len:
        # (DTLS: records.apply, with the DTLS ClientHello's header and cookie and the MTU-sized send buffer)
        b.error(R + ("ticket_max_bytes",), f"the ClientHello that offers a {res.ticket_max_bytes}-byte ticket (with its "
                f"identity and binder) is up to {res.ticket_max_bytes + CLIENT_HELLO_BYTES} bytes, and mbedTLS 3.6 "
                f"writes it into one record, but tls.out_content_len is {tls.out_content_len} (allowed: "
                f"out_content_len at least {res.ticket_max_bytes + CLIENT_HELLO_BYTES}, or ticket_max_bytes up to "
                f"{max(0, tls.out_content_len - CLIENT_HELLO_BYTES)})")
    cc = tls.client_certificate
    if cc is not None:
        # A TLS 1.2 ticket holds the whole session, a TLS 1.3 one less (tlsgen.resolve.client).
        tls12_ticket = "ticket" in res.tls12 and c.tls12
        over = ticket_overhead(tls12_ticket)
        need = chain_ticket_bytes(cc.chain_bytes, cc.chain_certs, tls12_ticket)
        if res.ticket_max_bytes < need:
            b.error(R + ("ticket_max_bytes",), f"servers that keep the session in the ticket (OpenSSL, GnuTLS) put "
                    f"the device's {cc.chain_bytes}-byte chain in it: about {need} bytes "
                    f"(a {'TLS 1.2' if tls12_ticket else 'TLS 1.3'} ticket: the chain, 8 bytes per certificate and "
                    f"{over} for the rest of the session; GnuTLS 3.7) (allowed: ticket_max_bytes at least {need})")


# What SslTcpStack::save_session() writes (runtime/src/ssl/ssl_tcp_stack.cpp): "TGS2", 8 + 4 bytes of ticket time and
# lifetime, mbedTLS's serialised session, a CRC-32.
SAVED_FRAMING = 4 + 8 + 4 + 4


def saved_session_max_bytes(r) -> int:
    """The most bytes save_session() can write for this profile (0: it saves nothing), from mbedTLS 3.6's
    ssl_session_save (library/ssl_tls.c): a 5-byte header, version, endpoint and suite (4), then
    - TLS 1.2: [start time 8] + session ID 1 + 32 + master secret 48 + verify result 4 + the server's certificate
      (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: 3 + its DER, which save_session() (TCP and UDP stacks) leaves out: 3; else a
      digest, 2 + up to 64) + [MBEDTLS_SSL_SESSION_TICKETS: 3 + the ticket (none for a session resumed by ID) + lifetime 4] +
      [max_fragment_length 1] + [encrypt-then-MAC 1];
    - TLS 1.3: ticket_age_add 4 + flags 1 + resumption key 1 + 48 + [max_early_data 4] + [record_size_limit 2] +
      [reception time 8] + [server name 2 + up to 255 + NUL] + lifetime 4 + ticket 2 + ticket."""
    tls = r.loaded.profile.tls
    res = tls.resumption
    d = r.defined
    head = SAVED_FRAMING + 5 + 4
    time = 8 if d("MBEDTLS_HAVE_TIME") else 0
    sizes = [0]
    if res.tls12 and "1.2" in r.versions:
        cert = 0
        if d("MBEDTLS_X509_CRT_PARSE_C"):
            # (save_session() leaves a kept certificate out: its 3-byte length says 0)
            cert = 3 if d("MBEDTLS_SSL_KEEP_PEER_CERTIFICATE") else 2 + 64
        # (the ticket's length and lifetime are written whenever mbedTLS has session tickets, for TLS 1.3's sake
        # too, even for a session resumed by ID: sweep h10119-0183, 7 bytes over)
        ticket = 3 + (res.ticket_max_bytes if "ticket" in res.tls12 else 0) + 4 if d("MBEDTLS_SSL_SESSION_TICKETS") else 0
        sizes.append(head + time + 1 + 32 + 48 + 4 + cert + ticket + d("MBEDTLS_SSL_MAX_FRAGMENT_LENGTH")
                     + d("MBEDTLS_SSL_ENCRYPT_THEN_MAC"))
    if res.tls13 and "1.3" in r.versions:
        name = 2 + 256 if d("MBEDTLS_SSL_SERVER_NAME_INDICATION") else 0
        sizes.append(head + 4 + 1 + 1 + 48 + 4 * d("MBEDTLS_SSL_EARLY_DATA") + 2 * d("MBEDTLS_SSL_RECORD_SIZE_LIMIT")
                     + time + name + 4 + 2 + res.ticket_max_bytes)
    return max(sizes)
