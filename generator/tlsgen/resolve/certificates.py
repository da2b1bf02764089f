"""Certificates and signature algorithms: the key types of the peer's chain, what the chain and the
server's handshake signature may be signed with (tls.signature_algorithms), X.509 parsing, the
verify mode, and whether the declared chain and CA sizes can hold a certificate at all."""

from __future__ import annotations

from tlsgen.catalog import CURVE_HASH, GROUPS, SIG_ALGS, Kex, SigAlg, min_cert_der_bytes
from tlsgen.resolve.client import client_key, issuer_of
from tlsgen.resolve.core import EC, PK, S, Context

SA = ("tls", "signature_algorithms")

#: What MBEDTLS_X509_REMOVE_INFO saves, measured (arm-none-eabi-gcc 12.2 -Os, Cortex-M4, the same firmware with and
#: without it): the resume images of m4-tls13 (legacy ECP) 88,720 -> 87,152 and m4-tls13-p256 (p256-m) 76,280 -> 74,840
#: bytes of text.
X509_INFO_SAVED = "1,440-1,568 bytes of flash measured on Cortex-M4"



def tls12_hello_offers_no_rsa(c: Context) -> bool:
    """A ClientHello that proposes TLS 1.2 alone (TLS 1.2 profiles; a resumed TLS 1.2 session's) offers RSA as
    PKCS#1 v1.5 only (mbedTLS 3.6 leaves RSA-PSS out: ssl_misc.h, mbedtls_ssl_tls12_sig_alg_is_supported), so with
    static RSA suites and no rsa_pkcs1_* scheme listed it offers no RSA scheme, and OpenSSL 3.0 ends the full
    handshake with "tls_choose_sigalg: no suitable signature algorithm" (measured: sweep seed 9401; m10120-0003)."""
    return bool(c.suite_paths(lambda s: s.kex == Kex.RSA)) and not any(a.scheme == "pkcs1" for a in c.sig_algs)

def apply(c: Context) -> None:
    b, tls = c.b, c.tls
    if not c.uses_certs:
        if c.lists_certs:
            return  # only suites of a version the profile does not enable use them: reported there
        for name, why in ((("tls", "certificate_keys"), "no cipher suite uses certificates (PSK only)"),
                          (("tls", "verify"), "no cipher suite uses certificates (PSK only): there is nothing to "
                                              "verify"),
                          (SA, "no cipher suite uses certificates (PSK only)"),
                          (("tls", "rsa_max_bits"), "no cipher suite uses certificates (PSK only)"),
                          (("tls", "peer_chain_max_bytes"), "no cipher suite uses certificates (PSK only)"),
                          (("tls", "peer_chain_max_certs"), "no cipher suite uses certificates (PSK only)"),
                          (("tls", "ca_chain_bytes"), "no cipher suite uses certificates (PSK only)"),
                          (("tls", "ca_chain_certs"), "no cipher suite uses certificates (PSK only)")):
            b.unused(name, why)
        if b.explicit(("tls", "pem")) and tls.pem:
            b.error(("tls", "pem"), "no cipher suite uses certificates (PSK only), so no certificate is parsed: "
                    "remove it")
        if b.explicit(("tls", "server_name_indication")) and tls.server_name_indication:
            b.error(("tls", "server_name_indication"), "SNI needs certificate support (MBEDTLS_X509_CRT_PARSE_C) "
                    "but no cipher suite uses certificates")
        return

    _certificate_keys(c)
    ck_src = c.cert_keys_src
    for name in ("MBEDTLS_X509_CRT_PARSE_C", "MBEDTLS_X509_USE_C", "MBEDTLS_PK_C", "MBEDTLS_PK_PARSE_C",
                 "MBEDTLS_OID_C", "MBEDTLS_ASN1_PARSE_C", "MBEDTLS_BIGNUM_C"):
        b.define(name, PK, "parse and check the peer's certificate chain", ck_src)
    if c.p.platform.debug.level == 0:
        # mbedtls_config.h: "Disable mbedtls_x509_*_info() and related APIs": nothing in tlsgen's runtime or glue reads a
        # certificate as text, and the OID tables then carry no names and descriptions (library/oid.c line 32).
        why = ("certificates are never printed: mbedtls_x509_*_info() and the OID tables' names and descriptions "
               f"left out ({X509_INFO_SAVED}); a debug build (platform.debug.level > 0) keeps them for "
               "mbedtls_debug_print_crt()")
        b.define("MBEDTLS_X509_REMOVE_INFO", PK, why, ck_src)
        b.define("MBEDTLS_X509_REMOVE_INFO", PK, why, ("platform", "debug", "level"))
    if tls.pem:
        b.define("MBEDTLS_PEM_PARSE_C", PK, "PEM-encoded CA certificates", ("tls", "pem"))
        b.define("MBEDTLS_BASE64_C", PK, "PEM is base64", ("tls", "pem"))
    if "ecdsa" in c.cert_keys:
        b.define("MBEDTLS_ECDSA_C", PK, "ECDSA signatures in the peer's chain", ck_src)
        b.define("MBEDTLS_ASN1_WRITE_C", PK, "ECDSA signature encoding", ck_src)
        b.define("MBEDTLS_ECP_C", EC, "ECDSA keys", ck_src)
        if not any(not g.montgomery for g in c.groups):
            b.error(("tls", "groups"), "ECDSA certificates need their curve enabled: add a Weierstrass group "
                    "such as secp256r1 to tls.groups (x25519/x448 only do key exchange)")
    if "rsa" in c.cert_keys:
        b.define("MBEDTLS_RSA_C", PK, "RSA keys in the peer's chain", ck_src)
    else:
        b.unused(("tls", "rsa_max_bits"), "no RSA key is in the peer's chain (tls.certificate_keys)")
    if c.has_kex(Kex.RSA):
        b.define("MBEDTLS_PKCS1_V15", PK, "static RSA key exchange encrypts the premaster secret with PKCS#1 v1.5",
                 c.suite_paths(lambda s: s.kex == Kex.RSA)[0])
    if tls.server_name_indication:
        b.define("MBEDTLS_SSL_SERVER_NAME_INDICATION", S, "send SNI", ("tls", "server_name_indication"))

    _signature_algorithms(c)
    _verify(c)
    _sizes(c)

    cc = tls.client_certificate
    own_kind, own_size = client_key(cc.key) if cc else ("", 0)
    own_rsa = own_size // 8 if own_kind == "rsa" else 0
    own_src = ("tls", "client_certificate", "key")
    if cc and cc.chain_certs > 1 and issuer_of(cc).key == "rsa":
        # The device's intermediates are parsed with their public keys: RSA of 2048 bits (or up to rsa_max_bits
        # when the peer's chain may carry RSA keys too), which mbedTLS checks against MBEDTLS_MPI_MAX_SIZE.
        inter = tls.rsa_max_bits // 8 if "rsa" in c.cert_keys else 256
        if inter > own_rsa:
            own_rsa, own_src = inter, ("tls", "client_certificate", "issuer" if cc.issuer else "key")
    peer_rsa = tls.rsa_max_bits // 8 if "rsa" in c.cert_keys else 0
    mpi_bytes = max([g.bytes for g in c.groups] + [peer_rsa, own_rsa, 0])
    b.define("MBEDTLS_MPI_MAX_SIZE", PK, "largest integer: the biggest curve or RSA modulus",
             own_src if own_rsa and own_rsa >= mpi_bytes else
             ("tls", "rsa_max_bits") if peer_rsa and peer_rsa >= mpi_bytes else ("tls", "groups"), str(mpi_bytes))


def _certificate_keys(c: Context) -> None:
    b, tls = c.b, c.tls
    need = {"ecdsa": c.suite_paths(lambda s: s.kex == Kex.ECDHE_ECDSA),
            "rsa": c.suite_paths(lambda s: s.kex in (Kex.ECDHE_RSA, Kex.RSA))}
    if tls.certificate_keys is None:
        keys = [k for k in ("ecdsa", "rsa") if need[k]]
        if (c.tls13 or any(s.version == "1.3" for s in c.suites)) and not keys:
            keys = ["ecdsa"]  # TLS 1.3 authenticates with certificates; ECDSA unless the profile says otherwise
        c.cert_keys = keys
        return
    seen = set()
    for i, k in enumerate(tls.certificate_keys):
        if k in seen:
            b.error(("tls", "certificate_keys", i), f"'{k}' is listed twice")
        seen.add(k)
    c.cert_keys = [k for k in ("ecdsa", "rsa") if k in seen]
    for k, paths in need.items():
        if paths and k not in seen:
            name = c.suites[paths[0][2]].name
            b.error(("tls", "certificate_keys"), f"{name} needs a server certificate with an {k.upper()} key, but "
                    f"certificate_keys does not list {k} (allowed: add it, or remove the suite)")


def _default_sig_algs(c: Context) -> list[SigAlg]:
    out: list[SigAlg] = []
    if "ecdsa" in c.cert_keys:
        out += [SIG_ALGS[f"ecdsa_{g.name}_{CURVE_HASH[g.name]}"] for g in c.groups if g.name in CURVE_HASH]
    if "rsa" in c.cert_keys:
        if c.tls13:
            out.append(SIG_ALGS["rsa_pss_rsae_sha256"])
        out.append(SIG_ALGS["rsa_pkcs1_sha256"])
    return out


def _signature_algorithms(c: Context) -> None:
    b, tls = c.b, c.tls
    explicit = tls.signature_algorithms is not None
    algs = [SIG_ALGS[n] for n in tls.signature_algorithms] if explicit else _default_sig_algs(c)
    c.sig_algs = algs
    where = lambda a: (SA + (algs.index(a),)) if explicit else SA  # noqa: E731
    group_names = {g.name for g in c.groups}
    cause = "" if explicit else " (the default for tls.certificate_keys and tls.groups)"

    if explicit:
        seen: dict = {}
        for i, a in enumerate(algs):
            if a.name in seen:
                b.error(SA + (i,), f"'{a.name}' is listed twice (first at index {seen[a.name]})")
            seen.setdefault(a.name, i)
        for i, a in enumerate(algs):
            if a.key not in c.cert_keys:
                b.error(SA + (i,), f"{a.name} is a signature by an {a.key.upper()} key, but tls.certificate_keys is "
                        f"[{', '.join(c.cert_keys)}] (allowed: {', '.join(x for x in SIG_ALGS if SIG_ALGS[x].key in c.cert_keys)})")
            elif a.curve and a.curve not in group_names:
                b.error(SA + (i,), f"{a.name} is a signature by a {a.curve} key, which tls.groups does not enable: TLS "
                        "1.3 binds the scheme to that curve, OpenSSL and GnuTLS pair them in TLS 1.2 as well, and "
                        "mbedTLS verifies keys on enabled curves only (allowed: add the group, or use the ECDSA "
                        f"scheme of an enabled curve: {', '.join('ecdsa_' + g + '_' + h for g, h in CURVE_HASH.items() if g in group_names) or 'none'})")
    for k in c.cert_keys:
        if not any(a.key == k for a in algs):
            b.error(SA if explicit else ("tls", "certificate_keys"),
                    f"the peer's chain may carry {k.upper()} keys (tls.certificate_keys) but no signature algorithm "
                    f"for them is listed{cause} (allowed: "
                    f"{', '.join(x for x in SIG_ALGS if SIG_ALGS[x].key == k)})")

    # What each enabled version needs the server's handshake signature to be able to use.
    pss = [a for a in algs if a.scheme == "pss"]
    if c.tls13 or c.has_kex(Kex.ECDHE_ECDSA):
        if "ecdsa" in c.cert_keys and not any(a.scheme == "ecdsa" and a.curve in group_names for a in algs):
            b.error(SA if explicit else ("tls", "groups"),
                    "servers with ECDSA keys sign with the ECDSA scheme of their key's curve, but "
                    f"no listed ECDSA scheme{cause} is for an enabled group (allowed: "
                    f"{', '.join('ecdsa_' + g + '_' + h for g, h in CURVE_HASH.items() if g in group_names) or 'none: add secp256r1, secp384r1 or secp521r1 to tls.groups'})")
    if c.tls13:
        if "rsa" in c.cert_keys and not pss:
            b.error(SA, "TLS 1.3 servers with RSA keys sign CertificateVerify with RSA-PSS, but no rsa_pss_rsae_* "
                    "scheme is listed (allowed: rsa_pss_rsae_sha256, rsa_pss_rsae_sha384, rsa_pss_rsae_sha512)")
    ecdhe_rsa = c.suite_paths(lambda s: s.kex == Kex.ECDHE_RSA and s.version == "1.2")
    if c.tls12 and ecdhe_rsa:
        if not any(a.scheme == "pkcs1" for a in algs):
            b.error(SA, "TLS 1.2 ECDHE-RSA servers sign ServerKeyExchange with PKCS#1 v1.5 (the only RSA scheme "
                    "mbedTLS 3.6's TLS 1.2 client verifies), but no rsa_pkcs1_* scheme is listed (allowed: "
                    "rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha512)")
        if pss and c.tls13:
            b.error(ecdhe_rsa[0] if not explicit else where(pss[0]),
                    "TLS 1.2 ECDHE-RSA and TLS 1.3 with RSA certificates cannot share one profile on mbedTLS 3.6: TLS "
                    "1.3 needs rsa_pss_rsae_* offered in the ClientHello, and a TLS 1.2 server then signs its "
                    "ServerKeyExchange with RSA-PSS, which mbedTLS 3.6's TLS 1.2 client rejects (-0x6600). Allowed: "
                    "ECDHE-RSA suites with versions [1.2] only; or TLS 1.3 with ECDSA certificates "
                    "(certificate_keys: [ecdsa]) beside TLS 1.2 ECDHE-ECDSA suites")
    if c.tls12 and not c.tls13 and not ecdhe_rsa and tls12_hello_offers_no_rsa(c):
        # With TLS 1.3 also enabled the ClientHello offers RSA-PSS, which a static-RSA server accepts (it signs
        # nothing); a resumed TLS 1.2 session's ClientHello does not (tlsgen.resolve.resumption).
        b.error(SA, "TLS 1.2 servers with RSA certificates (static RSA suites too) need an RSA scheme in the "
                "ClientHello, and mbedTLS 3.6's TLS 1.2 ClientHello offers RSA as PKCS#1 v1.5 only (not RSA-PSS): "
                "OpenSSL then refuses the handshake (no suitable signature algorithm), but no rsa_pkcs1_* scheme is "
                "listed (allowed: rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha512)")
    if c.tls12 and c.has_kex(Kex.ECDHE_ECDSA) and "ecdsa" in c.cert_keys and not any(a.scheme == "ecdsa" for a in algs):
        b.error(SA, "TLS 1.2 ECDHE-ECDSA servers sign ServerKeyExchange with ECDSA, but no ecdsa_* scheme is "
                "listed")

    for a in algs:
        why = f"{a.name} (chain, handshake)" + ("" if explicit else ", the default")
        if a.scheme == "ecdsa":
            b.define("MBEDTLS_ECDSA_C", PK, why, where(a))
        elif a.scheme == "pkcs1":
            b.define("MBEDTLS_PKCS1_V15", PK, "RSA PKCS#1 v1.5 signatures: " + why, where(a))
        else:
            b.define("MBEDTLS_PKCS1_V21", PK, "RSA-PSS signatures: " + why, where(a))
            b.define("MBEDTLS_X509_RSASSA_PSS_SUPPORT", PK, "certificates signed with RSASSA-PSS: " + why, where(a))


def _verify(c: Context) -> None:
    b, tls = c.b, c.tls
    c.verify = tls.verify
    if tls.verify in ("none", "optional"):
        opt = f"verify_{tls.verify}"
        if not c.opted_in(opt):
            b.error(("tls", "verify"), f"verify: {tls.verify} lets any server impersonate the peer; add "
                    f"`insecure: [{{allow: {opt}, reason: ...}}]` to accept it, or use verify: required")
    if tls.verify == "none":
        if tls.ca_chain_bytes:
            b.unused(("tls", "ca_chain_bytes"), "verify: none loads no CA certificate")
        b.unused(("tls", "ca_chain_certs"), "verify: none loads no CA certificate")


def _smallest_key(c: Context, key: str) -> int:
    if key == "ecdsa":
        return min([g.bytes for g in c.groups if not g.montgomery] or [32])
    return 256  # RSA-2048, the smallest RSA key mbedTLS's default certificate profile accepts


def _sizes(c: Context) -> None:
    """A chain or CA the profile allows must be able to fit the sizes it declares."""
    b, tls = c.b, c.tls
    if not c.cert_keys:
        return
    pss_only = not any(a.scheme == "pkcs1" for a in c.sig_algs)  # RSA chains signed with RSA-PSS

    def floor_of(k: str, role: str) -> int:
        return min_cert_der_bytes(k, _smallest_key(c, k), k, _smallest_key(c, k), pss=pss_only, role=role)

    smallest = min(c.cert_keys, key=lambda k: floor_of(k, "leaf"))
    size = _smallest_key(c, smallest)
    floor, ca_floor = floor_of(smallest, "leaf"), floor_of(smallest, "root")
    label = f"P-{size * 8 if size != 66 else 521}" if smallest == "ecdsa" else "RSA-2048"
    if tls.peer_chain_max_bytes < floor:
        b.error(("tls", "peer_chain_max_bytes"), f"{tls.peer_chain_max_bytes} bytes cannot hold even one server "
                f"certificate with the smallest key the profile allows ({label}: at least {floor} DER bytes with "
                f"a name, key usage and key identifiers) (allowed: {floor} to 65536)")
    # The largest key of each type the profile allows must fit too: a certificate signed by the smallest
    # signer the profile allows, within peer_chain_max_bytes (and as a CA, within its share of ca_chain_bytes).
    signers = [(a.key, GROUPS[a.curve].bytes if a.curve else tls.rsa_max_bits // 8) for a in c.sig_algs
               if a.key in c.cert_keys and (a.curve is None or a.curve in {g.name for g in c.groups})]
    small_signer = min(signers, key=lambda ks: min_cert_der_bytes("ecdsa", 32, ks[0], ks[1])) if signers else None
    for k in c.cert_keys if small_signer and tls.peer_chain_max_bytes >= floor else []:
        largest = tls.rsa_max_bits // 8 if k == "rsa" else \
            max([GROUPS[a.curve].bytes for a in c.sig_algs if a.curve in {g.name for g in c.groups}] or [0])
        if not largest:
            continue
        need = min_cert_der_bytes(k, largest, small_signer[0], small_signer[1], pss=pss_only)
        name = f"RSA-{tls.rsa_max_bits}" if k == "rsa" else f"P-{largest * 8 if largest != 66 else 521}"
        if tls.peer_chain_max_bytes < need:
            b.error(("tls", "rsa_max_bits") if k == "rsa" else ("tls", "peer_chain_max_bytes"),
                    f"a server certificate with a {name} key (which the profile allows) is at least {need} DER "
                    f"bytes, more than peer_chain_max_bytes {tls.peer_chain_max_bytes} (allowed: a smaller "
                    f"{'rsa_max_bits' if k == 'rsa' else 'curve'}, or peer_chain_max_bytes of at least {need})")
    if c.verify != "none" and tls.ca_chain_bytes >= ca_floor * tls.ca_chain_certs:
        # Every key the chain may be signed with (each listed scheme's; RSA at rsa_max_bits) must fit as a CA.
        groups = {g.name for g in c.groups}
        for i, a in enumerate(c.sig_algs):
            if a.key not in c.cert_keys or (a.curve and a.curve not in groups):
                continue
            size = GROUPS[a.curve].bytes if a.curve else tls.rsa_max_bits // 8
            need = min_cert_der_bytes(a.key, size, a.key, size, pss=a.scheme == "pss", role="root")
            if need * tls.ca_chain_certs > tls.ca_chain_bytes:
                b.error(SA + (i,) if tls.signature_algorithms is not None else ("tls", "ca_chain_bytes"),
                        f"{a.name} is signed by a CA with a {'RSA-' + str(tls.rsa_max_bits) if a.key == 'rsa' else a.curve} "
                        f"key, whose certificate is at least {need} DER bytes, but ca_chain_bytes {tls.ca_chain_bytes} "
                        f"for {tls.ca_chain_certs} certificate(s) leaves {tls.ca_chain_bytes // tls.ca_chain_certs} "
                        f"each (allowed: ca_chain_bytes of at least {need * tls.ca_chain_certs}, fewer ca_chain_certs, "
                        f"or {'a smaller rsa_max_bits' if a.key == 'rsa' else 'another scheme'})")
                break
    if c.verify != "none" and tls.ca_chain_bytes < ca_floor * tls.ca_chain_certs:
        b.error(("tls", "ca_chain_bytes"), f"{tls.ca_chain_bytes} bytes cannot hold {tls.ca_chain_certs} CA "
                f"certificate(s) with the smallest key the profile allows ({label}: at least {ca_floor} DER bytes "
                f"each), and verify: {c.verify} needs them (allowed: {ca_floor * tls.ca_chain_certs} to 65536, or "
                "fewer ca_chain_certs)")
