"""Records: the receive and send buffers, how a small receive buffer is negotiated with the peer
(max_fragment_length in TLS 1.2, record_size_limit in TLS 1.3), the suite list, the record overhead."""

from __future__ import annotations

from tlsgen.model import MIN_CONTENT_LEN, Dtls
from tlsgen.resolve.core import S, Z, Context

FULL_RECORD = 16384


def certificate_message_bytes(chain_bytes: int, certs: int) -> int:
    """The largest Certificate handshake message for a chain: header 4, TLS 1.3 context 1, list length 3,
    and per certificate a 3-byte length and (TLS 1.3) a 2-byte extensions length."""
    return chain_bytes + 8 + 5 * certs


def receive_len(tls) -> int:
    """The receive buffer's payload (MBEDTLS_SSL_IN_CONTENT_LEN): in_content_len, else max_fragment_length, else a
    full record. Rules that run before apply() (client certificate, resumption) read it here too."""
    return tls.in_content_len or tls.max_fragment_length or FULL_RECORD


#: A server's largest handshake message besides its Certificate (ServerHello with its extensions, a PSK
#: ServerKeyExchange with an identity hint, an ECDHE ServerKeyExchange with a P-521 key and signature): what a
#: certificate-less DTLS profile reassembles at most.
DTLS_SMALL_MESSAGE = 384
#: One record of the next epoch kept while the handshake catches up (the server's Finished before its
#: ChangeCipherSpec): header 13, explicit nonce 8, Finished 12 + 12, tag or MAC and CBC padding.
DTLS_EARLY_RECORD = 128
#: An AEAD record's explicit nonce and tag (mbedtls_ssl_get_record_expansion: GCM and CCM carry an 8-byte explicit
#: nonce, ChaCha20-Poly1305 none).
AEAD_NONCE = {"gcm": 8, "ccm": 8, "ccm8": 8, "chachapoly": 0}
AEAD_TAG = {"gcm": 16, "ccm": 16, "ccm8": 8, "chachapoly": 16}


def dtls_early_record(suites) -> int:
    """The record mbedTLS keeps when the server's Finished comes before its ChangeCipherSpec (library/ssl_msg.c,
    ssl_buffer_future_record: the whole record, calloc'ed): the DTLS record header 13, the suite's explicit nonce,
    the Finished (handshake header 12 + verify data 12) and its tag. Exact with AEAD suites only; a CBC record's
    padding is the server's choice, so with a CBC suite DTLS_EARLY_RECORD stands (it is also the room
    MBEDTLS_SSL_DTLS_MAX_BUFFERING keeps for it, whatever the suites)."""
    tls12 = [s for s in suites if s.version == "1.2"]
    if not tls12 or any(s.mode not in AEAD_TAG for s in tls12):
        return DTLS_EARLY_RECORD
    return max(13 + AEAD_NONCE[s.mode] + 24 + AEAD_TAG[s.mode] for s in tls12)


#: Coordinate bytes of each group (the ServerKeyExchange's point and signature sizes).
COORDINATE_BYTES = {"secp256r1": 32, "secp384r1": 48, "secp521r1": 66, "x25519": 32, "x448": 56}
#: A PSK ServerKeyExchange's identity hint, and a CertificateRequest without CA names, allowed for (a server that
#: sends a longer hint or lists CA names may see those messages dropped from the buffers and sent again, never
#: more heap).
DTLS_HINT_BYTES = 64
DTLS_CERTIFICATE_REQUEST_BYTES = 96


def dtls_later_messages(groups, certs: bool, psk: bool, rsa_bits: int = 0, request: bool = True) -> list[int]:
    """The messages that can follow the server's Certificate in its flight, each with its 12-byte DTLS header:
    ServerKeyExchange (the largest group's point and its signature: ECDSA, or RSA of up to `rsa_bits` when an
    ECDHE-RSA suite is enabled; a PSK identity hint), CertificateRequest (unless `request` is false),
    ServerHelloDone."""
    cs = max((COORDINATE_BYTES.get(g.name, 66) for g in groups), default=0)
    signature = max(2 * cs + 9 if certs else 0, rsa_bits // 8)
    ske = 12 + (4 + 2 * cs + 1 if cs else 0) + (4 + signature if signature else 0) + (2 + DTLS_HINT_BYTES if psk else 0)
    return [ske, 12 + DTLS_CERTIFICATE_REQUEST_BYTES, 12] if request else [ske, 12]


def dtls_ticket_reassembly(tls) -> int:
    """The reassembly buffer of the server's NewSessionTicket (tls.resumption keeps TLS 1.2 tickets): its 4-byte
    lifetime hint, 2-byte length and a ticket of up to ticket_max_bytes, which a server fragments to its MTU
    (OpenSSL's ticket of a session with a client certificate carries that certificate); 0 without tickets."""
    if "ticket" not in tls.resumption.tls12:
        return 0
    return dtls_reassembly_bytes(4 + 2 + tls.resumption.ticket_max_bytes)


def ske_rsa_bits(suites, rsa_max_bits: int) -> int:
    """The largest RSA signature a ServerKeyExchange can carry: rsa_max_bits with an ECDHE-RSA suite, else 0."""
    return rsa_max_bits if any(s.kex.name == "ECDHE_RSA" for s in suites) else 0


#: The device's CertificateVerify signature, at most (DER ECDSA: two integers with a leading zero each; RSA: the
#: modulus).
OWN_SIGNATURE_BYTES = {"ecdsa_secp256r1": 72, "ecdsa_secp384r1": 104, "rsa2048": 256, "rsa3072": 384}


def dtls_client_certificate_messages(cc) -> tuple[int, int]:
    """The device's Certificate and CertificateVerify messages in DTLS (tls.client_certificate), each with its
    12-byte DTLS header: what mbedTLS writes whole into the send buffer before it fragments it to the MTU, and
    what it copies into the flight it keeps for retransmission."""
    cert = certificate_message_bytes(cc.chain_bytes, cc.chain_certs) - 4 + 12
    return cert, 12 + 4 + OWN_SIGNATURE_BYTES[cc.key]


def dtls_reassembly_bytes(msg_len: int) -> int:
    """mbedTLS's buffer for a handshake message that arrives in fragments (ssl_msg.c,
    ssl_get_reassembly_buffer_size): its 12-byte DTLS header, the message and a bitmap of one bit per byte."""
    return 12 + msg_len + -(-msg_len // 8)


def mtu_sized(tls) -> bool:
    """A datagram profile that leaves out_content_len out: its send buffer is sized from tls.dtls.mtu."""
    return tls.transport == "datagram" and "out_content_len" not in tls.model_fields_set


def sends_records_out(tls) -> int:
    """MBEDTLS_SSL_OUT_CONTENT_LEN: out_content_len as given; a datagram profile that leaves it out gets the
    MTU (tls.dtls.mtu: no record it sends is larger), at most the stream default; apply() raises it to the largest
    handshake message the client writes (mbedTLS writes it whole, then fragments it to the MTU)."""
    if mtu_sized(tls):
        mtu = (tls.dtls or Dtls()).mtu
        return max(MIN_CONTENT_LEN, min(tls.out_content_len, mtu))
    return tls.out_content_len


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    mfl, rsl = tls.max_fragment_length, tls.record_size_limit
    in_len = receive_len(tls)
    c.in_len = in_len
    c.out_len = out_len = sends_records_out(tls)
    datagram = tls.transport == "datagram"
    by_mtu = mtu_sized(tls)
    out_src = ("tls", "dtls", "mtu") if by_mtu else ("tls", "out_content_len")

    if mfl:
        if c.tls13:
            # mbedTLS 3.6 writes the extension in the ClientHello, but its TLS 1.3 client does not record
            # that it sent it: a TLS 1.3 server's answer in EncryptedExtensions is then refused
            # (MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION -0x7500, alert unsupported_extension).
            b.error(("tls", "max_fragment_length"), "max_fragment_length is TLS 1.2 only: with TLS 1.3 enabled, "
                    "mbedTLS 3.6's client refuses the server's answer in EncryptedExtensions (-0x7500), so every "
                    "TLS 1.3 session fails (allowed: record_size_limit: true for TLS 1.3, or versions [1.2])")
        else:
            b.define("MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", S, "ask the peer for smaller records (RFC 6066)",
                     ("tls", "max_fragment_length"))
        if tls.in_content_len and tls.in_content_len < mfl:
            b.error(("tls", "in_content_len"), f"{tls.in_content_len} is smaller than the max_fragment_length "
                    f"{mfl} the peer is allowed to send")
        if out_len < mfl:
            # mbedtls_ssl_conf_max_frag_len() refuses a length above either record buffer.
            what = (f"the send buffer {out_len} (tls.dtls.mtu sizes it, out_content_len being left out)" if by_mtu
                    else f"out_content_len {out_len}")
            b.error(("tls", "max_fragment_length"), f"{mfl} is larger than {what}: "
                    "the fragment length applies to both directions, so it must fit both record buffers "
                    "(allowed: at most min(in_content_len, out_content_len)" +
                    (", or a larger tls.dtls.mtu or out_content_len)" if by_mtu else ")"))
    if rsl:
        if not c.tls13:
            b.error(("tls", "record_size_limit"), "record_size_limit is a TLS 1.3 extension in mbedTLS 3.6, but "
                    "tls.versions does not enable 1.3 (use max_fragment_length for TLS 1.2)")
        else:
            b.define("MBEDTLS_SSL_RECORD_SIZE_LIMIT", S, "advertise the receive buffer as the record size limit "
                     "(RFC 8449)", ("tls", "record_size_limit"))
    if in_len < FULL_RECORD and not (mfl and c.tls13):  # (that one is reported above)
        # A peer only sends records that fit a smaller buffer when asked to: without it, any record
        # above in_content_len (a certificate flight, a large response) ends the session.
        if c.tls13 and not rsl:
            b.error(("tls", "in_content_len"), f"{in_len} is below a full record ({FULL_RECORD}), and nothing asks "
                    "a TLS 1.3 server for smaller records: add record_size_limit: true (the server must implement "
                    f"RFC 8449), or use in_content_len {FULL_RECORD}")
        elif not c.tls13 and not mfl:
            b.error(("tls", "in_content_len"), f"{in_len} is below a full record ({FULL_RECORD}), and nothing asks "
                    "a TLS 1.2 server for smaller records: set max_fragment_length (512, 1024, 2048 or 4096, at most "
                    f"in_content_len), or use in_content_len {FULL_RECORD}")
        elif c.tls13 and c.tls12:
            b.warnings.append(f"tls.in_content_len is {in_len}: a TLS 1.2 session relies on the server honouring "
                              "record_size_limit (RFC 8449) too, since max_fragment_length cannot be combined "
                              "with TLS 1.3 on mbedTLS 3.6")

    if c.uses_certs:
        # mbedTLS 3.6 reassembles a handshake message that spans records inside its receive buffer
        # (library/ssl_msg.c, "no room to move handshake fragment" / "requesting more data than fits"):
        # the server's whole Certificate message must fit in_content_len, whatever the record size.
        t = c.tls
        cert_msg = certificate_message_bytes(t.peer_chain_max_bytes, t.peer_chain_max_certs)
        if in_len < cert_msg:
            b.error(("tls", "in_content_len") if tls.in_content_len else
                    ("tls", "max_fragment_length") if mfl else ("tls", "peer_chain_max_bytes"),
                    f"the receive buffer ({in_len} bytes) cannot hold the server's Certificate message: mbedTLS 3.6 "
                    f"reassembles a handshake message in its receive buffer, and a {t.peer_chain_max_bytes}-byte "
                    f"chain of up to {t.peer_chain_max_certs} certificates makes a {cert_msg}-byte message (allowed: "
                    f"in_content_len at least {cert_msg}, or a smaller peer_chain_max_bytes)")
    rsa_kex = [i for i, s in enumerate(c.suites) if s.kex.name == "RSA"]
    if rsa_kex and "rsa" in c.cert_keys:
        # Static RSA: the ClientKeyExchange carries the premaster secret encrypted to the server's key; mbedTLS
        # writes the whole message into the send buffer (DTLS too, before it fragments it to the MTU), with its
        # 4-byte header (DTLS: 12).
        cke = tls.rsa_max_bits // 8 + 2 + (12 if datagram else 4)
        if by_mtu:
            c.out_len = out_len = max(out_len, cke)  # the MTU-sized default grows to hold it
        elif out_len < cke:
            b.error(("tls", "out_content_len"), f"{out_len} bytes cannot hold the ClientKeyExchange of "
                    f"{c.suites[rsa_kex[0]].name} with an RSA-{tls.rsa_max_bits} server key ({cke} bytes) (allowed: "
                    f"out_content_len at least {cke}, or a smaller rsa_max_bits)")
    cc = tls.client_certificate
    if datagram and cc is not None:
        # The device's Certificate and CertificateVerify are written whole into the send buffer too, then fragmented
        # to the MTU: an MTU-sized send buffer grows to hold them; a given out_content_len must.
        cert, verify = dtls_client_certificate_messages(cc)
        if by_mtu:
            c.out_len = out_len = max(out_len, cert, verify)
        elif out_len < max(cert, verify):
            b.error(("tls", "out_content_len"), f"{out_len} bytes cannot hold the device's Certificate message: a "
                    f"{cc.chain_bytes}-byte chain of up to {cc.chain_certs} certificate(s) makes {cert} bytes with "
                    "its 12-byte DTLS header, which mbedTLS writes whole into the send buffer before it fragments "
                    f"it to the MTU (allowed: out_content_len at least {max(cert, verify)}, or leave it out: the "
                    "send buffer is then sized from tls.dtls.mtu and the largest message the device sends)")
    from tlsgen.resolve.resumption import dtls_client_hello_bytes, uses_tickets  # (resumption imports this module)

    if datagram and uses_tickets(tls):
        # The ClientHello that offers a saved ticket is written whole into the send buffer too (then fragmented to
        # the MTU), the server's cookie echoed in it.
        hello = dtls_client_hello_bytes(tls.resumption.ticket_max_bytes)
        if by_mtu:
            c.out_len = out_len = max(out_len, hello)
        elif out_len < hello:
            b.error(("tls", "out_content_len"), f"{out_len} bytes cannot hold the DTLS ClientHello that offers a "
                    f"{tls.resumption.ticket_max_bytes}-byte ticket (tls.resumption.ticket_max_bytes): up to {hello} "
                    "bytes with its 12-byte header and the server's cookie, which mbedTLS writes whole into the send "
                    f"buffer (allowed: out_content_len at least {hello}, or a smaller ticket_max_bytes, or leave "
                    "out_content_len out: the send buffer is then sized from tls.dtls.mtu and the largest message "
                    "the device sends)")
    b.define("MBEDTLS_SSL_IN_CONTENT_LEN", Z, "largest record payload received",
             ("tls", "in_content_len") if tls.in_content_len else
             ("tls", "max_fragment_length") if mfl else ("tls",), str(in_len))
    b.define("MBEDTLS_SSL_OUT_CONTENT_LEN", Z, "largest record payload sent", out_src, str(out_len))
    b.define("MBEDTLS_SSL_CIPHERSUITES", Z, "only the profile's suites are compiled in, in its order",
             ("tls", "cipher_suites"), ", ".join(s.macro for s in c.suites))

    # mbedTLS's record buffers (library/ssl_misc.h): header 13 + IV 16 + MAC or tag + CBC padding, where
    # the MAC allowance is 48 bytes whenever SHA-384 is compiled in at all (for any reason).
    cbc = any(s.uses_mac for s in c.suites)
    mac_add = (48 if b.defined("MBEDTLS_SHA384_C") else 32) if cbc else 16
    c.record_overhead = 13 + 16 + mac_add + (256 if cbc else 0)
    if datagram:
        datagram_records(c)
    # MBEDTLS_ENTROPY_BLOCK_SIZE: the entropy accumulator is SHA-512 whenever that module is compiled in.
    c.nv_seed_bytes = 64 if b.defined("MBEDTLS_SHA512_C") else 32


def dtls_largest_server_message(tls, certs: bool) -> tuple[int, str]:
    """The largest message of the server's first flight (its Certificate, or DTLS_SMALL_MESSAGE without
    certificates), in bytes without the DTLS header, and what it is."""
    largest, what = DTLS_SMALL_MESSAGE, "the server's largest handshake message without certificates"
    if certs:
        cert = certificate_message_bytes(tls.peer_chain_max_bytes, tls.peer_chain_max_certs)
        if cert > largest:
            largest, what = cert, (f"the server's Certificate message ({tls.peer_chain_max_bytes}-byte chain of up "
                                   f"to {tls.peer_chain_max_certs} certificates)")
    return largest, what


def dtls_server_flight(tls, groups, certs: bool, psk: bool, suites, request: bool = True) -> tuple[int, str, int]:
    """The server's first flight as the client may have to buffer it: the reassembly buffer of its largest message
    (mbedTLS must be able to reassemble it when the server fragments it to its own MTU; a message that does not
    fit the bound when the handshake needs it next ends the handshake, MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL), what
    that message is, and the messages that can follow it."""
    largest, what = dtls_largest_server_message(tls, certs)
    later = sum(dtls_later_messages(groups, certs, psk, ske_rsa_bits(suites, tls.rsa_max_bits), request))
    return dtls_reassembly_bytes(largest), what, later


def datagram_records(c: Context) -> None:
    """DTLS: records against the datagram size, and the reassembly bound (MBEDTLS_SSL_DTLS_MAX_BUFFERING)."""
    b, tls = c.b, c.tls
    d = tls.dtls or Dtls()
    need, what, later = dtls_server_flight(tls, c.groups, c.uses_certs, c.uses_psk, c.suites)
    ticket = dtls_ticket_reassembly(tls)
    if d.max_buffering_bytes is None:
        # Room to keep the rest of the flight while a fragmented message is completed (the messages after it come
        # in the same datagrams: without room they are dropped and wait for a whole retransmission, which at 30 %
        # loss cost host-dtls-ecdhe-ecdsa 2 of 10 handshakes; an RSA-signed ServerKeyExchange dropped so timed out
        # sweep h9994-0337's handshakes), and one early record.
        first = need + later
        c.dtls_buffering = max(first, ticket) + DTLS_EARLY_RECORD
        if ticket > first:
            # The server's last flight (NewSessionTicket, ChangeCipherSpec, Finished) needs more: a fragmented
            # NewSessionTicket the bound cannot reassemble ends the handshake (-0x6A00; sweep h10004-0211: OpenSSL's
            # ticket of a session with an RSA-3072 client certificate against a 1,368-byte bound).
            why = (f"reassembly of the server's NewSessionTicket (a ticket of up to "
                   f"{tls.resumption.ticket_max_bytes} bytes): {ticket} bytes (message, 12-byte header, one bit per "
                   f"byte), more than its first flight's {first}, and one early record ({DTLS_EARLY_RECORD}); the "
                   "heap model counts what of it can meet the handshake's peak")
            src = ("tls", "resumption", "ticket_max_bytes")
        else:
            why = (f"reassembly of {what}: {need} bytes (message, 12-byte header, one bit per byte), the messages "
                   f"after it ({later}) and one early record ({DTLS_EARLY_RECORD}); the heap model counts what of "
                   "it can meet the handshake's peak")
            src = ("tls", "dtls")
        b.define("MBEDTLS_SSL_DTLS_MAX_BUFFERING", Z, why, src, str(c.dtls_buffering))
    else:
        c.dtls_buffering = d.max_buffering_bytes
        if ticket > need:
            need, what = ticket, (f"the server's NewSessionTicket (a ticket of up to {tls.resumption.ticket_max_bytes}"
                                  " bytes, tls.resumption.ticket_max_bytes)")
        if d.max_buffering_bytes < need:
            b.error(("tls", "dtls", "max_buffering_bytes"), f"{d.max_buffering_bytes} bytes cannot reassemble "
                    f"{what} from fragments: that takes {need} bytes (the message, its 12-byte header and a bitmap "
                    f"of one bit per byte), and a server that fragments it to its MTU would end every handshake "
                    f"(allowed: at least {need})")
        b.define("MBEDTLS_SSL_DTLS_MAX_BUFFERING", Z, "handshake reassembly and early messages; the heap reserves "
                 "it", ("tls", "dtls", "max_buffering_bytes"), str(c.dtls_buffering))
