"""The device's own certificate (tls.client_certificate, mutual TLS): whether the profile can send it, sign
with its key and fit its Certificate message, and what that compiles in.

mbedTLS 3.6's client signs CertificateVerify
- in TLS 1.2 with the suite's PRF hash and the key's own scheme (library/ssl_tls12_client.c,
  ssl_write_certificate_verify): ECDSA, or RSA PKCS#1 v1.5;
- in TLS 1.3 with a scheme both the server's CertificateRequest and the client's own signature_algorithms
  list (tls.signature_algorithms) hold, bound to the key (ssl_tls13_generic.c,
  mbedtls_ssl_tls13_check_sig_alg_cert_key_match): ecdsa_<curve>_<hash> for an ECDSA key, rsa_pss_rsae_* for RSA.
"""

from __future__ import annotations

from tlsgen.catalog import CURVE_HASH, GROUPS, SIG_ALGS, SigAlg, min_cert_der_bytes
from tlsgen.resolve.core import EC, PK, Context
from tlsgen.resolve.records import certificate_message_bytes, receive_len

CC = ("tls", "client_certificate")
# A TLS 1.3 session ticket that carries the client's chain: the chain, a few bytes per certificate, and the ticket's
# own fields (lifetime, nonce, the encrypted session state and its tag): 267 bytes beyond the chain measured with
# GnuTLS 3.7 for two certificates; 320 leaves room for a longer nonce or state.
TICKET_OVERHEAD = 320
# A TLS 1.2 ticket (RFC 5077) that carries the client's chain is larger: GnuTLS 3.7 packs the whole TLS 1.2 session
# (randoms, master secret, the hello extensions' state) and encrypts it with its key name, IV and MAC. Measured beyond
# the chain, for an RSA-3072 leaf under RSA-2048 issuers: 396, 394 and 408 bytes for chains of 1, 2 and 3 certificates
# (openssl s_client -msg -cert_chain against gnutls-serv --require-client-cert), 372 for the 3-certificate chain of an
# mbedTLS client (sweep m10114-0058, whose 3,462-byte ticket the 3,440 bytes of chain + 8 per certificate + 320 did
# not hold: the session ran out of heap). 8 per certificate + 400 holds each of them.
TICKET_OVERHEAD_TLS12 = 400


def ticket_overhead(tls12: bool) -> int:
    """What a ticket that carries the device's chain holds beyond the chain and 8 bytes per certificate."""
    return TICKET_OVERHEAD_TLS12 if tls12 else TICKET_OVERHEAD


def chain_ticket_bytes(chain_bytes: int, chain_certs: int, tls12: bool) -> int:
    """The ticket a server that keeps the session in it sends a device with this chain (GnuTLS 3.7): a TLS 1.2
    ticket (`tls12`) or a TLS 1.3 one. tls.resumption.ticket_max_bytes is checked against it (resolve.resumption),
    the TLS 1.3 NewSessionTicket against the receive buffer (below), and the sampler draws from it."""
    return chain_bytes + 8 * chain_certs + ticket_overhead(tls12)


def client_key(name: str) -> tuple[str, int]:
    """(kind, size) of a client_certificate.key: ("ecdsa", curve field bytes) or ("rsa", modulus bits)."""
    if name.startswith("ecdsa_"):
        return "ecdsa", GROUPS[name[len("ecdsa_"):]].bytes
    return "rsa", int(name[len("rsa"):])


def default_issuer(key: str) -> str:
    """The scheme a device certificate with this key is signed with unless the profile says otherwise: the key's
    own (its curve's ECDSA scheme, or RSA PKCS#1 v1.5 with SHA-256)."""
    kind, _ = client_key(key)
    curve = key[len("ecdsa_"):]
    return f"ecdsa_{curve}_{CURVE_HASH[curve]}" if kind == "ecdsa" else "rsa_pkcs1_sha256"


def issuer_of(cc) -> SigAlg:
    return SIG_ALGS[cc.issuer or default_issuer(cc.key)]


def min_chain_bytes(key: str, certs: int, issuer: str | None = None) -> int:
    """The smallest chain of `certs` certificates with this leaf key, signed as `issuer` says (an RSA issuer at
    2048 bits, the smallest a server accepts)."""
    kind, size = client_key(key)
    a = SIG_ALGS[issuer or default_issuer(key)]
    ikind, isize = a.key, GROUPS[a.curve].bytes if a.curve else 256
    pss = a.scheme == "pss"
    leaf = min_cert_der_bytes(kind, size if kind == "ecdsa" else size // 8, ikind, isize, pss)
    return leaf + (certs - 1) * min_cert_der_bytes(ikind, isize, ikind, isize, pss, role="intermediate")


def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    cc = tls.client_certificate
    if cc is None:
        return
    if not c.uses_certs:
        if not c.lists_certs:
            b.error(CC, "no cipher suite uses certificates (PSK only): a server asks for a client certificate "
                    "only in a certificate handshake, so it would never be sent (allowed: remove it, or add an "
                    "ECDHE-ECDSA, ECDHE-RSA or TLS 1.3 suite)")
        return
    kind, size = client_key(cc.key)
    key_path = CC + ("key",)
    why = f"sign CertificateVerify with the device's {cc.key} key"
    if kind == "ecdsa":
        curve = cc.key[len("ecdsa_"):]
        if curve not in {g.name for g in c.groups}:
            b.error(key_path, f"{cc.key} is a key on {curve}, which tls.groups does not enable: mbedTLS signs with "
                    f"keys on enabled curves only (allowed: add {curve} to tls.groups, or a key on an enabled curve: "
                    f"{', '.join('ecdsa_' + g.name for g in c.groups if g.name in CURVE_HASH) or 'none'})")
        scheme = f"ecdsa_{curve}_{CURVE_HASH[curve]}"
        if c.tls13 and scheme not in {a.name for a in c.sig_algs}:
            b.error(key_path, f"a TLS 1.3 client signs CertificateVerify with {scheme} for a {curve} key, and "
                    "mbedTLS 3.6 signs only with schemes its own signature_algorithms list offers, but "
                    f"tls.signature_algorithms does not list it (allowed: add {scheme})")
        b.define("MBEDTLS_ECDSA_C", PK, why, key_path)
        b.define("MBEDTLS_ASN1_WRITE_C", PK, why + " (ECDSA signature encoding)", key_path)
        b.define("MBEDTLS_ECP_C", EC, why, key_path)
    else:
        b.define("MBEDTLS_RSA_C", PK, why, key_path)
        if c.tls12:
            b.define("MBEDTLS_PKCS1_V15", PK, why + " (TLS 1.2: PKCS#1 v1.5)", key_path)
        if c.tls13:
            if not any(a.scheme == "pss" for a in c.sig_algs):
                b.error(key_path, "a TLS 1.3 client signs CertificateVerify with an RSA key using RSA-PSS, and "
                        "mbedTLS 3.6 signs only with schemes its own signature_algorithms list offers, but "
                        "tls.signature_algorithms lists no rsa_pss_rsae_* scheme (allowed: add rsa_pss_rsae_sha256 "
                        "to tls.signature_algorithms and rsa to tls.certificate_keys, or an ECDSA key)")
            b.define("MBEDTLS_PKCS1_V21", PK, why + " (TLS 1.3: RSA-PSS)", key_path)

    # What the chain is signed with: mbedTLS parses it (x509_crt_parse: the signature algorithm's OID must be one it
    # knows, the intermediates' keys of a type and curve it has).
    issuer = issuer_of(cc)
    c.client_issuer = issuer
    ipath = CC + ("issuer",) if cc.issuer is not None else key_path
    iwhy = f"parse the device's certificate chain: its issuers sign with {issuer.name}"
    if issuer.curve and issuer.curve not in {g.name for g in c.groups}:
        b.error(ipath, f"the device's chain is signed with {issuer.name}"
                f"{'' if cc.issuer is not None else ' (the default for its key)'}, a key on {issuer.curve}, which "
                "tls.groups does not enable: mbedTLS parses the chain's keys on enabled curves only (allowed: add "
                f"{issuer.curve} to tls.groups, or client_certificate.issuer with an enabled curve or RSA)")
    if issuer.key == "ecdsa":
        b.define("MBEDTLS_ECDSA_C", PK, iwhy, ipath)
        b.define("MBEDTLS_ECP_C", EC, iwhy, ipath)
    else:
        b.define("MBEDTLS_RSA_C", PK, iwhy, ipath)
        if issuer.scheme == "pss":
            b.define("MBEDTLS_PKCS1_V21", PK, iwhy, ipath)
            b.define("MBEDTLS_X509_RSASSA_PSS_SUPPORT", PK, iwhy, ipath)
        else:
            b.define("MBEDTLS_PKCS1_V15", PK, iwhy, ipath)  # (mbedTLS's RSA needs a PKCS#1 version besides)

    # The chain: at least one certificate of this key, and a Certificate message that fits one record.
    floor = min_chain_bytes(cc.key, cc.chain_certs, cc.issuer)
    if cc.chain_bytes < floor:
        b.error(CC + ("chain_bytes",), f"{cc.chain_bytes} bytes cannot hold {cc.chain_certs} certificate(s) with "
                f"a {cc.key} leaf signed with {issuer.name} (at least {floor} DER bytes with a name, key usage and "
                "key identifiers) "
                f"(allowed: {floor} to 16384, or fewer chain_certs)")
    # mbedTLS writes the whole Certificate message into one output record (library/ssl_tls.c, "certificate too
    # large"), and a TLS 1.2 peer that granted max_fragment_length holds the client to it too.
    limit = tls.out_content_len
    where = ("tls", "out_content_len")
    if tls.max_fragment_length and tls.max_fragment_length < limit and c.tls12 and not c.tls13:
        limit, where = tls.max_fragment_length, ("tls", "max_fragment_length")
    in_len = receive_len(tls)
    ticket = chain_ticket_bytes(cc.chain_bytes, cc.chain_certs, tls12=False)
    if c.tls13 and in_len < ticket:
        # After a TLS 1.3 handshake the server sends NewSessionTickets, whether the client asked for them or not, and a
        # server that keeps its session state in the ticket puts the client's chain in it (GnuTLS 3.7: two tickets of
        # 2,667 bytes for a 2,400-byte chain, gnutls-serv -d 5). mbedTLS 3.6 reassembles a handshake message in its
        # receive buffer, so the session ends at the first read ("requesting more data than fits", -0x7100).
        b.error(CC + ("chain_bytes",), f"a TLS 1.3 server's NewSessionTicket carries the device's chain (GnuTLS: the "
                f"chain + {TICKET_OVERHEAD - 53}..{TICKET_OVERHEAD} bytes), about {ticket} bytes for a {cc.chain_bytes}-byte "
                f"chain, and mbedTLS 3.6 reassembles it in its receive buffer, but tls.in_content_len is {in_len} "
                f"(allowed: in_content_len at least {ticket}, or a smaller chain)")
    msg = certificate_message_bytes(cc.chain_bytes, cc.chain_certs)
    if msg > limit and tls.transport != "datagram":  # DTLS: records.datagram_records checks the send buffer
        b.error(CC + ("chain_bytes",), f"a {cc.chain_bytes}-byte chain of up to {cc.chain_certs} certificate(s) "
                f"makes a {msg}-byte Certificate message, and mbedTLS 3.6 sends it in one record, but "
                f"{'.'.join(where)} is {limit}"
                + (" (with record_size_limit the server may hold the device to its own advertised limit)"
                   if where == ("tls", "in_content_len") else "")
                + f" (allowed: {'.'.join(where)} at least {msg}, or a smaller chain)")
