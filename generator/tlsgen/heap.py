"""The heap model: how many bytes an mbedTLS 3.6 session of this profile needs at its peak.

mbedTLS allocates in phases, and a session's peak is the largest of them. The model replays a session
phase by phase, in the order mbedTLS runs them:

    peak = records + setup + session state + max over phases p of (persisted before p + working set of p)

- Record buffers are exact: MBEDTLS_SSL_IN/OUT_BUFFER_LEN for the chosen suites, as tlsgen::Heap rounds
  them, with a block header each.
- Setup: what the application's configuration holds for the whole session (the CA certificates, parsed
  with a DER copy each; the PSK and its identity; PSA's state for TLS 1.3).
- Session state: what mbedtls_ssl_setup() allocates besides the records (the session, transform and
  handshake structures, the server name).
- Phases (ClientHello, ServerHello, Certificate, ServerKeyExchange, ClientKeyExchange, key derivation,
  Finished, tickets, ... and the TLS 1.3 ones): each phase has a working set (its transient peak) and
  leaves some of it behind for the later phases (the parsed peer key or chain, the ECDH context, the
  record ciphers). Both are linear in the factors of the session: the ECDHE group and `optimize` (the
  comb window and fixed-point tables), the peer's leaf key, the key that signed the chain and whether it
  is verified, the number of certificates and (when mbedTLS keeps a DER copy, with TLS 1.3 enabled) their
  DER bytes, the record cipher, SHA-384, tickets.

Every coefficient was derived from measured sessions: `bench/heap/fit.py` replays the allocation traces of
sampled profiles' sessions (tools/sweep, real handshakes against openssl s_server and gnutls-serv, each
allocation tagged with the handshake state mbedTLS was in), splits them by phase and fits each factor
per target word size; its output is generator/tlsgen/heap_tables.py (figures include tlsgen::Heap's
block headers and rounding). docs/heap-sizing.md shows the factors and the measurements behind them.

The profile allows many sessions (each suite, group, key type and size); the model takes the largest,
adds the stated margin, and rounds up to the allocator alignment. The sweep (tools/sweep, tests/sweep)
proves it: every session fits the generated heap, and the heap is at most 10 % above the largest peak.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.catalog import GROUPS, Kex, Suite, min_cert_der_bytes
from tlsgen.model import Dtls
from tlsgen.resolve import Resolution
from tlsgen.resolve.ecc import p256_formulas
from tlsgen.resolve.resumption import uses_tickets

MARGIN_PERCENT = 5
# The margin's floor, per word size and group or RSA key size: what the allocator can lose to holes at a session's
# peak where 5 % of a small heap does not cover it, plus FLOOR_MODEL_PERCENT of the subtotal for the live model's
# own error at that peak. Holes are measured as the real high water minus the replayed live peak (blocks and
# headers, no holes) over the calibration sessions (bench/heap/fit.py's load()).
# - x448 (32-bit): TLS 1.2 ECDHE-PSK over x448 with a heap under 7 KB loses 336 bytes (three 112-byte x448 limb
#   buffers freed below a live block in ClientKeyExchange): m9502-0164 (5,024 high water, 4,688 live),
#   m8101-0143, c9602-5509, c9602-11589, m9301-0336 (cal-m6 to cal-m11, 1,173 sessions).
# - RSA-3072 and RSA-4096 keys (32-bit): the public-key operation (ServerKeyExchange or certificate check, static
#   RSA's ClientKeyExchange) frees two key-sized limb buffers below a live block: up to 784 and 1,024 bytes (cal-m12
#   and cal-m13, 281 sessions). Within 5 % of a large heap, but m9801-0496 (RSA-3072 leaf, records 2,048 / 512)
#   peaked at 15,488 bytes with 728 of holes, beside a live model 72 bytes (0.5 %) short: 5 % (735) was not enough.
# Every other class stays within 5 % of its peak; x86-64 has none above it.
MARGIN_FLOOR = {4: {"x448": 336, "rsa3072": 784, "rsa4096": 1024}, 8: {}}
FLOOR_MODEL_PERCENT = 1


@dataclass(frozen=True)
class HeapLine:
    name: str
    bytes: int
    derivation: str


@dataclass(frozen=True)
class HeapModel:
    lines: tuple[HeapLine, ...]
    subtotal: int
    margin_percent: int
    margin: int
    total: int  # rounded up to the allocator alignment
    worst: "Shape | None" = None  # the session the figure is for
    margin_why: str = ""  # "5% of <subtotal>", or the floor that set it

    def line(self, name: str) -> HeapLine:
        return next(x for x in self.lines if x.name == name)


def header_bytes(word: int) -> int:
    """tlsgen::Heap::kHeaderBytes (runtime/include/tlsgen/heap.hpp)."""
    return 16 if word >= 8 else 8


def block_bytes(request: int, word: int, align: int) -> int:
    """tlsgen::Heap::block_bytes: header + payload rounded up to the alignment (at least 8 bytes)."""
    return header_bytes(word) + -(-max(request, 8) // align) * align


# ---- the sessions a profile allows -----------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    kind: str  # "ecdsa" | "rsa"
    size: str  # curve name, or RSA bits as text

    @property
    def label(self) -> str:
        return self.size if self.kind == "ecdsa" else f"rsa{self.size}"

    @property
    def bytes(self) -> int:
        return GROUPS[self.size].bytes if self.kind == "ecdsa" else int(self.size) // 8


@dataclass(frozen=True)
class Shape:
    """One session the profile allows, at the sizes the profile declares."""

    suite: Suite
    group: str | None  # the (EC)DHE group
    leaf: Key | None  # the server's key
    ca: Key | None  # the key that signs the chain (its CAs')
    certs: int  # certificates the server sends
    chain_bytes: int  # their DER bytes
    ca_certs: int  # CA certificates the device loaded
    ca_bytes: int  # their DER bytes
    verify: bool  # the chain is verified (verify is not none)
    scheme: str | None = None  # what the CAs sign with (a SigAlg name)

    def describe(self) -> str:
        parts = [self.suite.name]
        if self.group:
            parts.append(self.group)
        if self.leaf:
            parts.append(f"server key {self.leaf.label}, chain of {self.certs} ({self.chain_bytes} DER bytes) signed by "
                         f"{self.ca.label}" + ("" if self.verify else " (not verified)"))
        return ", ".join(parts)


def _ecdsa_curves(r: Resolution) -> list[str]:
    groups = {g.name for g in r.groups}
    return [a.curve for a in r.signature_algorithms if a.scheme == "ecdsa" and a.curve in groups]


def leaf_keys(r: Resolution, suite: Suite) -> list[Key]:
    """The server keys a session of `suite` may meet (the largest RSA key the profile allows)."""
    t = r.loaded.profile.tls
    if suite.kex in (Kex.PSK, Kex.ECDHE_PSK):
        return []
    kinds = ["ecdsa"] if suite.kex == Kex.ECDHE_ECDSA else ["rsa"] if suite.kex in (Kex.ECDHE_RSA, Kex.RSA) \
        else list(r.certificate_keys)
    keys: list[Key] = []
    for kind in kinds:
        if kind == "rsa":
            keys.append(Key("rsa", str(t.rsa_max_bits)))
        else:
            keys += [Key("ecdsa", c) for c in dict.fromkeys(_ecdsa_curves(r))]
    return keys


def ca_keys(r: Resolution) -> list[tuple[Key, str]]:
    """What the chain's CAs may sign with: each listed scheme, with its key (RSA at its largest)."""
    t = r.loaded.profile.tls
    groups = {g.name for g in r.groups}
    out: list[tuple[Key, str]] = []
    for a in r.signature_algorithms:
        k = Key("rsa", str(t.rsa_max_bits)) if a.key == "rsa" else Key("ecdsa", a.curve) if a.curve in groups else None
        if k is not None:
            out.append((k, a.name))
    return out


def chain_certs(r: Resolution, leaf: Key, ca: Key) -> int:
    """As many certificates as the profile allows and its byte budget can hold (the worst case for the heap:
    each certificate is parsed into its own structure)."""
    t = r.loaded.profile.tls
    pss = not any(a.scheme == "pkcs1" for a in r.signature_algorithms)
    leaf_min = min_cert_der_bytes(leaf.kind, leaf.bytes, ca.kind, ca.bytes, pss)
    int_min = min_cert_der_bytes(ca.kind, ca.bytes, ca.kind, ca.bytes, pss, role="intermediate")
    certs = 1
    while certs < t.peer_chain_max_certs and leaf_min + certs * int_min <= t.peer_chain_max_bytes:
        certs += 1
    return certs


def fits(r: Resolution, leaf: Key, ca: Key, scheme: str) -> bool:
    """Whether a leaf with this key signed by this CA, and the CA itself, fit the declared sizes."""
    t = r.loaded.profile.tls
    pss = "_pss_" in scheme
    if min_cert_der_bytes(leaf.kind, leaf.bytes, ca.kind, ca.bytes, pss) > t.peer_chain_max_bytes:
        return False
    verify = r.verify != "none"
    return not verify or min_cert_der_bytes(ca.kind, ca.bytes, ca.kind, ca.bytes, pss, role="root") <= \
        t.ca_chain_bytes // max(t.ca_chain_certs, 1)


def shapes(r: Resolution) -> list[Shape]:
    t = r.loaded.profile.tls
    verify = r.uses_certificates and r.verify != "none"
    ca_certs = t.ca_chain_certs if verify else 0
    ca_bytes = t.ca_chain_bytes if verify else 0
    cas = ca_keys(r) if r.uses_certificates else []
    out: list[Shape] = []
    for suite in r.suites:
        ecdhe = suite.version == "1.3" or suite.kex.uses_ecdhe
        groups = [g.name for g in r.groups] if ecdhe else [None]
        leaves = leaf_keys(r, suite)
        for g in groups:
            if not leaves:
                # A PSK session still runs with the CA certificates the device loaded.
                for ca, scheme in cas or [(None, None)]:
                    out.append(Shape(suite, g, None, ca, 0, 0, ca_certs, ca_bytes, verify, scheme))
                continue
            for leaf in leaves:
                for ca, scheme in cas:
                    if not fits(r, leaf, ca, scheme):
                        continue  # no such chain stays within the sizes the profile declares
                    out.append(Shape(suite, g, leaf, ca, chain_certs(r, leaf, ca), t.peer_chain_max_bytes, ca_certs,
                                     ca_bytes, verify, scheme))
    return out


# ---- features -------------------------------------------------------------------------------------------

KEY_LABELS = ("secp256r1", "secp384r1", "secp521r1", "rsa2048", "rsa3072", "rsa4096")
CIPHERS = ("gcm128", "gcm256", "ccm128", "ccm256", "ccm8128", "ccm8256", "chachapoly256", "cbc128")


def _d(b: bool) -> float:
    return 1.0 if b else 0.0


def config_features(r: Resolution) -> dict[str, float]:
    """What the session structures and the setup depend on: the configuration and the CA certificates."""
    t = r.loaded.profile.tls
    v12, v13 = "1.2" in r.versions, "1.3" in r.versions
    f = {"one": 1.0, "v12_only": _d(v12 and not v13), "v13_only": _d(v13 and not v12), "both": _d(v12 and v13)}
    for m in ("MBEDTLS_SHA384_C", "MBEDTLS_SHA512_C", "MBEDTLS_ECDH_C", "MBEDTLS_X509_CRT_PARSE_C",
              "MBEDTLS_SSL_SESSION_TICKETS", "MBEDTLS_CIPHER_MODE_CBC", "MBEDTLS_SSL_SERVER_NAME_INDICATION",
              "MBEDTLS_SSL_ALPN", "MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED",
              "MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED", "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED",
              "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED", "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
              "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", "MBEDTLS_SSL_RECORD_SIZE_LIMIT", "MBEDTLS_HAVE_TIME",
              "MBEDTLS_RSA_C", "MBEDTLS_ECDSA_C", "MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS", "MBEDTLS_GCM_C",
              "MBEDTLS_CCM_C", "MBEDTLS_CHACHAPOLY_C", "MBEDTLS_DEBUG_C", "MBEDTLS_PKCS1_V21"):
        f[m[8:].lower()] = _d(r.defined(m))
    f["max_curve_bytes"] = float(max([g.bytes for g in r.groups] + [0]))
    f["rsa_bytes"] = float(t.rsa_max_bits // 8 if "rsa" in r.certificate_keys else 0)
    f["psk_bytes"] = float(t.psk_max_bytes if r.uses_psk else 0)
    f["groups"] = float(len(r.groups))
    f["sig_algs"] = float(len(r.signature_algorithms))
    return f


def struct_features(r: Resolution) -> dict[str, float]:
    """What the sizes of the structures mbedtls_ssl_setup() allocates depend on: which macros are defined
    (each an indicator), and the largest curve and RSA key (PSA's key-export buffers)."""
    f = {"one": 1.0}
    for m in r.macros:
        if m.value is None:
            f[m.name] = 1.0
    t = r.loaded.profile.tls
    ecp = max([g.bytes for g in r.groups] + [0])
    psk = t.psk_max_bytes if r.uses_psk else 0
    kx = {s.kex for s in r.suites}
    f["max_curve_bytes"] = float(ecp)
    f["rsa_bytes"] = float(t.rsa_max_bits // 8 if "rsa" in r.certificate_keys else 0)
    f["psk_max_bytes"] = float(psk)
    # mbedtls_ssl_premaster_secret: the largest premaster of the enabled key exchanges (include/mbedtls/ssl.h).
    f["premaster"] = float(max([48 if Kex.RSA in kx else 0, ecp if kx & {Kex.ECDHE_ECDSA, Kex.ECDHE_RSA} else 0,
                                4 + 2 * psk if Kex.PSK in kx else 0, 4 + ecp + psk if Kex.ECDHE_PSK in kx else 0, 1]))
    # PSA's largest public-key export (the TLS 1.3 peer key share buffer): RSA keys of up to 4096 bits count
    # whenever RSA is compiled in.
    f["psa_export"] = float(max(2 * ecp + 1, 526 if r.defined("MBEDTLS_RSA_C") else 0))
    v12, v13 = _d("1.2" in r.versions), _d("1.3" in r.versions)
    for n in ("max_curve_bytes", "premaster", "psa_export", "psk_max_bytes", "rsa_bytes"):
        f[f"{n}*v12"] = f[n] * v12
        f[f"{n}*v13"] = f[n] * v13
    # Fields guarded by two conditions (#if A && B): every pair of the macros structure layouts depend on.
    for i, a in enumerate(STRUCT_MACROS):
        for b in STRUCT_MACROS[i + 1:]:
            if f.get(a) and f.get(b):
                f[f"{a}*{b}"] = 1.0
    return f


#: The macros tlsgen emits that the layouts of the session, transform and handshake structures depend on.
STRUCT_MACROS = tuple(f"MBEDTLS_{m}" for m in (
    "SSL_PROTO_TLS1_2", "SSL_PROTO_TLS1_3", "ECDH_C", "ECDSA_C", "RSA_C", "SHA256_C", "SHA384_C", "SHA512_C",
    "PSA_CRYPTO_C", "X509_CRT_PARSE_C", "SSL_KEEP_PEER_CERTIFICATE", "SSL_SESSION_TICKETS",
    "SSL_SERVER_NAME_INDICATION", "SSL_ALPN", "SSL_MAX_FRAGMENT_LENGTH", "SSL_RECORD_SIZE_LIMIT",
    "SSL_EXTENDED_MASTER_SECRET", "SSL_ENCRYPT_THEN_MAC", "CIPHER_MODE_CBC", "GCM_C", "CCM_C", "CHACHAPOLY_C",
    "KEY_EXCHANGE_PSK_ENABLED", "KEY_EXCHANGE_ECDHE_PSK_ENABLED", "KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
    "KEY_EXCHANGE_ECDHE_RSA_ENABLED", "KEY_EXCHANGE_RSA_ENABLED", "DEBUG_C", "HAVE_TIME", "PKCS1_V21",
    "PKCS1_V15", "SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED", "PSA_ASSUME_EXCLUSIVE_BUFFERS", "USE_PSA_CRYPTO",
    "PSA_P256M_DRIVER_ENABLED"))


def state_bytes(r: Resolution) -> int:
    """mbedtls_ssl_setup()'s allocations besides the records: the transform (TLS 1.2), session and handshake
    structures, the running handshake hashes' contexts, the server name (assumed at most 47 characters)."""
    word, align = r.cpu.word_bytes, r.cpu.alignment
    st = tables_for(word)["structs"]
    f = struct_features(r)
    total = 0
    for name in ("transform", "session", "handshake"):
        if name == "transform" and "1.2" not in r.versions:
            continue  # mbedtls_ssl_setup() makes the negotiation transform for TLS 1.2 only
        total += block_bytes(int(round(dot(st[name], f))), word, align)
    # The running handshake hashes: md contexts whose state mbedtls_md_setup() allocates; with
    # MBEDTLS_USE_PSA_CRYPTO (p256-m) they are PSA hash operations inside the handshake structure instead
    # (mbedTLS 3.6.6 library/ssl_misc.h, fin_sha256_psa / fin_sha384_psa).
    psa_hashes = r.defined("MBEDTLS_USE_PSA_CRYPTO")
    if r.defined("MBEDTLS_SHA256_C") and not psa_hashes:
        total += block_bytes(int(round(dot(st["sha256"], f))), word, align)
    if r.defined("MBEDTLS_SHA384_C") and not psa_hashes:
        total += block_bytes(int(round(dot(st["sha512"], f))), word, align)
    if r.uses_certificates:
        total += block_bytes(48, word, align)  # mbedtls_ssl_set_hostname() (X.509 only)
    return total


def setup_features(r: Resolution, s: Shape) -> dict[str, float]:
    """What the configuration holds for the whole session: CA certificates (their DER copies and parsed
    structures), the PSK, PSA's state."""
    t = r.loaded.profile.tls
    pss = s.scheme is not None and "_pss_" in s.scheme
    f = {"one": 1.0, "psa": _d(r.uses_psa), "psk": _d(r.uses_psk),
         "psk_bytes": float(t.psk_max_bytes if r.uses_psk else 0), "ca_der": float(s.ca_bytes if s.verify else 0),
         # PEM: the base64 is decoded into a buffer of its own while each certificate is parsed.
         "ca_pem": float(s.ca_bytes if s.verify and t.pem else 0),
         # an RSASSA-PSS signature's parameters are parsed into a structure of their own
         "ca_pss": float(s.ca_certs if s.verify and pss else 0),
         # the first CA certificate's structure lives in SslConfig, each further one on the heap
         "ca_structs": float(max(0, s.ca_certs - 1) if s.verify else 0)}
    for k in KEY_LABELS:
        f[f"ca_{k}"] = float(s.ca_certs if s.verify and s.ca is not None and s.ca.label == k and not r.p256m else 0)
    # On p256-m a CA's public key is kept in PSA's form (MBEDTLS_PK_USE_PSA_EC_DATA), not as ECP numbers, and
    # TLS 1.2 brings up PSA crypto too (bench/heap/fit.py --merge-p256m fits these two on top of the rest).
    f["ca_p256m"] = float(s.ca_certs if s.verify and s.ca is not None and r.p256m else 0)
    f["p256m"] = _d(r.p256m)
    return f


#: The client's handshake states (mbedtls_ssl_states) in the order it runs them, per protocol version;
#: CH2/SH2: ClientHello and ServerHello again after a TLS 1.3 HelloRetryRequest.
PHASE_ORDER = {
    "1.2": ["CH", "SH", "CERT", "SKE", "CR", "SHD", "CC", "CKE", "CV", "CCS", "CFIN", "NST", "SCCS", "SFIN",
            "FLUSH", "WRAP", "OVER"],
    "1.3": ["CH", "SH", "HRR", "CCS_CH", "CH2", "SH2", "EE", "CR", "CERT", "CV", "SFIN", "CCS_SF", "CC", "CCV",
            "CFIN", "FLUSH", "WRAP", "OVER", "NST13", "NST13F", "OVER2"],
}


def session_features(r: Resolution, s: Shape) -> dict[str, float]:
    """What a phase's working set and what it leaves behind depend on."""
    optimize = r.loaded.profile.optimize
    keep = r.defined("MBEDTLS_SSL_KEEP_PEER_CERTIFICATE")
    f = {"one": 1.0, "keep": _d(keep), "verify": _d(s.verify)}
    # With TLS 1.3 enabled the ClientHello carries a key share for the first group, whatever the server
    # then picks; a TLS 1.3 server that picks another group asks for it again (HelloRetryRequest).
    first = r.groups[0].name if r.groups else None
    for g in GROUPS:
        for o in ("size", "speed"):
            f[f"share_{g}_{o}"] = _d("1.3" in r.versions and first == g and optimize == o)
    f["retry"] = _d(s.suite.version == "1.3" and s.group is not None and s.group != first)
    # Without MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS, PSA copies each input and output buffer it is handed;
    # mbedTLS hands it spans of the record buffers (the key share written into the output record, TLS 1.3
    # records encrypted and decrypted in place).
    copies = r.uses_psa and not r.defined("MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS")
    f["copy_in"] = float(r.in_content_len if copies else 0)
    f["copy_out"] = float(r.out_content_len if copies else 0)
    for k in (Kex.PSK, Kex.ECDHE_PSK, Kex.ECDHE_ECDSA, Kex.ECDHE_RSA, Kex.RSA, Kex.TLS13):
        f[f"kex_{k.value}"] = _d(s.suite.kex == k)
    for g in GROUPS:
        for o in ("size", "speed"):
            f[f"group_{g}_{o}"] = _d(s.group == g and optimize == o)
    # tlsgen's P-256 formulas without copies (runtime/src/ecp/ecp_formulas.cpp: `optimize: size` on a bare-metal core)
    # keep the comb's numbers smaller than mbedTLS's own formulas do: the signature checks have terms of their own
    # there (the ECDHE groups' are the `_size` ones above, which no other build on 32 bits has).
    formulas = p256_formulas(r.defined)
    for k in KEY_LABELS:
        leaf = s.leaf is not None and s.leaf.label == k
        ca = s.ca is not None and s.ca.label == k and s.leaf is not None
        f[f"leaf_{k}"] = _d(leaf)
        f[f"leaf_{k}_speed"] = _d(leaf and optimize == "speed")
        f[f"ca_{k}_verify"] = _d(ca and s.verify)
        f[f"ca_{k}_verify_speed"] = _d(ca and s.verify and optimize == "speed")
        if k == "secp256r1":
            f[f"leaf_{k}_formulas"] = _d(leaf and formulas)
            f[f"ca_{k}_verify_formulas"] = _d(ca and s.verify and formulas)
        f[f"int_{k}"] = float(s.certs - 1 if ca else 0)
        f[f"int_{k}_verify"] = float(s.certs - 1 if ca and s.verify else 0)
        f[f"leaf_{k}_verify"] = _d(leaf and s.verify)
    pss = s.scheme is not None and "_pss_" in s.scheme and s.leaf is not None
    f["chain_pss"] = float(s.certs if pss else 0)
    f["pss_verify_bytes"] = float(s.ca.bytes if pss and s.verify and s.ca is not None else 0)
    f["keep_der"] = float(s.chain_bytes if keep and s.leaf else 0)
    f["keep_certs"] = float(s.certs if keep and s.leaf else 0)
    for c in CIPHERS:
        f[f"cipher_{c}"] = _d(f"{s.suite.mode}{s.suite.key_bits}" == c)
    f["sha384"] = _d(r.defined("MBEDTLS_SHA384_C"))
    f["tickets"] = _d(r.defined("MBEDTLS_SSL_SESSION_TICKETS"))
    f["exclusive"] = _d(r.defined("MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS"))
    f["both_versions"] = _d(len(r.versions) == 2)
    return f


def phase_kind(r: Resolution, s: Shape) -> str:
    """Which phases a session runs depends on its key exchange and, in TLS 1.3, on a HelloRetryRequest."""
    retry = s.suite.version == "1.3" and s.group is not None and bool(r.groups) and s.group != r.groups[0].name
    # On the p256-m driver (tlsgen.resolve.ecc) every phase that touches the curve allocates differently (PSA key
    # slots instead of the ECP module's numbers), and TLS 1.2 records go through PSA too: tables of their own.
    return s.suite.kex.value + ("+retry" if retry else "") + (P256M_KIND if r.p256m else "")


#: The suffix of a session kind on the p256-m driver; bench/heap/fit.py pools such kinds only with each other.
P256M_KIND = "+p256m"


#: Phases that do the same work for several kinds of session: those kinds share one table entry (bench/heap/fit.py
#: fits it on all their sessions, predict() reads it). TLS 1.2's Certificate phase parses and verifies the server's
#: chain the same way for static RSA and ECDHE-RSA (mbedtls_ssl_parse_certificate(), mbedTLS 3.6.6 library/ssl_tls.c
#: line 8013: only the key-usage bit mbedtls_ssl_check_cert_usage() checks, line 9772, differs). Fitted apart,
#: the static-RSA entry had too few sessions with a secp521r1 CA and charged them 3.1 KB more than ECDHE-RSA's
#: (sweep 9503: m9503-0323 1.132x, m9503-0603 1.162x).
SHARED_KIND = {("1.2", "CERT"): {Kex.RSA.value: Kex.ECDHE_RSA.value}}


def table_kind(version: str, phase: str, kind: str) -> str:
    """The table entry a kind of session (phase_kind) reads in a phase."""
    return SHARED_KIND.get((version, phase), {}).get(kind, kind)


def dot(coef: dict[str, float], features: dict[str, float]) -> float:
    return sum(v * features.get(k, 0.0) for k, v in coef.items())


# ---- the device's own certificate (tls.client_certificate, mutual TLS) -----------------------------------
#
# Measured apart from the rest (bench/heap/fit_client.py over calibration sweeps of profiles with a client
# certificate), on top of the tables above, which profiles without one keep unchanged:
#   setup       the chain parsed (a DER copy and a parsed structure per certificate, its public key) and the
#               private key (its numbers), persisting for the configuration's lifetime; setup_peak: the
#               working set of loading them (PEM decoding, the key pair check)
#   sign        the phase that signs CertificateVerify (TLS 1.2: CV, after the key derivation mbedTLS runs in the
#               same state and whose share the tables above model; TLS 1.3: CCV): "working", the signature's
#               working set on top of what the phase's own work leaves (its "persist" in the tables above);
#               "persist", what the signature leaves for the later phases (an RSA key's blinding values)
CLIENT_KEYS = ("secp256r1", "secp384r1", "rsa2048", "rsa3072")
SIGN_PHASE = {"1.2": "CV", "1.3": "CCV"}


def own_key_label(r: Resolution) -> str | None:
    cc = r.loaded.profile.tls.client_certificate
    return None if cc is None else cc.key.removeprefix("ecdsa_")


def client_setup_features(r: Resolution) -> dict[str, float]:
    """What the device's certificate and key hold on the heap: the chain's DER bytes and certificates, the
    PEM text decoded while it is parsed, the key's type and size (and optimize, which may cache a comb table
    in the key's group)."""
    cc = r.loaded.profile.tls.client_certificate
    label = own_key_label(r)
    speed = r.loaded.profile.optimize == "speed"
    from tlsgen.resolve.client import issuer_of

    ints = float(cc.chain_certs - 1)
    f = {"one": 1.0, "der": float(cc.chain_bytes), "certs": float(cc.chain_certs),
         "pem": float(cc.chain_bytes if r.loaded.profile.tls.pem else 0),
         # the intermediates' public keys: the issuer's key type
         "int_rsa": ints if issuer_of(cc).key == "rsa" else 0.0, "int_ecdsa": ints if issuer_of(cc).key == "ecdsa" else 0.0}
    for k in CLIENT_KEYS:
        f[f"key_{k}"] = _d(label == k)
        f[f"key_{k}_speed"] = _d(label == k and speed)
    return f


def signs(r: Resolution, s: Shape) -> bool:
    """Whether a session of this shape signs CertificateVerify: the profile has a client certificate and the
    suite authenticates by certificate (a server asks for none in a PSK handshake)."""
    return r.loaded.profile.tls.client_certificate is not None and \
        (s.suite.version == "1.3" or s.suite.kex.uses_certificates)


def client_sign_features(r: Resolution, s: Shape) -> dict[str, float]:
    label = own_key_label(r)
    speed = r.loaded.profile.optimize == "speed"
    f = {"one": 1.0, "sha384": _d(s.suite.hash == "sha384")}
    for k in CLIENT_KEYS:
        f[f"sign_{k}"] = _d(label == k)
        f[f"sign_{k}_speed"] = _d(label == k and speed)
    return f


# ---- the kept chain under static RSA ------------------------------------------------------------------------
#
# With TLS 1.3 enabled mbedTLS keeps the peer's chain (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: its DER copy and parsed
# structures) after a TLS 1.2 handshake's Certificate phase too. Static RSA's Certificate phase shares ECDHE-RSA's
# table entry (SHARED_KIND), and ECDHE-RSA never runs beside TLS 1.3 with RSA certificates (the resolver refuses
# it), so that entry has no kept-chain terms: bench/heap/fit_client.py --kept-chain measures them apart (sessions of
# profiles with static RSA beside TLS 1.3) and predict() adds them to the Certificate phase's persisted bytes.

def kept_chain_features(r: Resolution, s: Shape) -> dict[str, float]:
    rsa = s.leaf.bytes if s.leaf is not None and s.leaf.kind == "rsa" else 0
    return {"one": 1.0, "der": float(s.chain_bytes), "certs": float(s.certs), "rsa_key_bytes": float(s.certs * rsa)}


def kept_chain_applies(r: Resolution, s: Shape, tab: dict) -> bool:
    """A TLS 1.2 session whose Certificate phase's table entry has no kept-chain terms keeps its chain."""
    if s.suite.version != "1.2" or s.leaf is None or not r.defined("MBEDTLS_SSL_KEEP_PEER_CERTIFICATE"):
        return False
    coef = tab["phase"]["1.2"].get("CERT", {}).get(table_kind("1.2", "CERT", phase_kind(r, s)))
    return coef is not None and "keep_der" not in coef["persist"]


def _supplement(r: Resolution, name: str, empty: dict, what: str) -> dict:
    """A table bench/heap/fit_client.py fits on top of the others; while a target is calibrated for the first time
    (TLSGEN_HEAP_BOOTSTRAP=1, a 1 MiB calibration heap) an empty one, else its absence is an error."""
    import os

    tab = tables_for(r.cpu.word_bytes).get(name)
    if tab is not None:
        return tab
    if os.environ.get("TLSGEN_HEAP_BOOTSTRAP") == "1":
        return empty
    raise ValueError(f"the heap model has no measured figures for {what} on {r.cpu.name} ({r.cpu.word_bytes * 8}-bit): "
                     "bench/heap/fit_client.py has not been run for it")


def kept_chain_table(r: Resolution) -> dict:
    return _supplement(r, "kept_chain", {"persist": {}},
                       "a TLS 1.2 chain kept beside TLS 1.3 under static RSA (--kept-chain)")


def client_table(r: Resolution) -> dict:
    return _supplement(r, "client", {"setup": {}, "setup_peak": {},
                                     "sign": {v: {"working": {}, "persist": {}} for v in ("1.2", "1.3")}},
                       "a client certificate")


# ---- the model ------------------------------------------------------------------------------------------

def records(r: Resolution) -> tuple[int, int]:
    word, align = r.cpu.word_bytes, r.cpu.alignment
    ovh = r.record_overhead
    return (block_bytes(r.in_content_len + ovh, word, align), block_bytes(r.out_content_len + ovh, word, align))


@dataclass(frozen=True)
class Prediction:
    shape: Shape
    setup: int
    state: int
    phase: str  # where the peak is
    persisted: int  # what earlier phases left behind at that point
    working: int  # the phase's own working set
    total: int  # without records
    setup_peak: int  # while the configuration is made (CA certificates parsed), before any record buffer
    own: int = 0  # of `setup`: the device's certificate chain and key (tls.client_certificate)
    phase_totals: tuple[tuple[str, int], ...] = ()  # each phase's peak above setup and state (persisted + working)


def tables_for(word: int) -> dict:
    """The fitted tables of a word size. TLSGEN_HEAP_BOOTSTRAP=1 (only while a target is being calibrated
    for the first time, by tools/sweep/runner.py --calibrate) lends it the 64-bit phase tables."""
    import os

    from tlsgen.heap_tables import TABLES

    tab = TABLES.get(word, {})
    if "phase" not in tab and os.environ.get("TLSGEN_HEAP_BOOTSTRAP") == "1":
        tab = {**TABLES[8], "structs": tab.get("structs", TABLES[8]["structs"])}
    return tab


def predict(r: Resolution, s: Shape) -> Prediction:
    tab = tables_for(r.cpu.word_bytes)
    setup = max(0.0, dot(tab["setup"], setup_features(r, s)))
    setup_peak = max(setup, dot(tab["setup_peak"], setup_features(r, s)))
    own = 0.0
    sign = sign_persist = 0.0
    if r.loaded.profile.tls.client_certificate is not None:
        # Loaded after the CA certificates: its working set comes on top of what they hold.
        ct = client_table(r)
        cf = client_setup_features(r)
        own = max(0.0, dot(ct["setup"], cf))
        setup_peak = max(setup_peak, setup + max(own, dot(ct["setup_peak"], cf)))
        setup += own
        if signs(r, s):
            sf_sign = client_sign_features(r, s)
            sign = max(0.0, dot(ct["sign"][s.suite.version]["working"], sf_sign))
            sign_persist = max(0.0, dot(ct["sign"][s.suite.version]["persist"], sf_sign))
    state = state_bytes(r)
    sf = session_features(r, s)
    version = s.suite.version
    cur = 0.0
    best = (0.0, "session state", 0.0, 0.0)
    kind = phase_kind(r, s)
    totals: list[tuple[str, int]] = []
    kept = kept_chain_applies(r, s, tab)
    order = list(tab["phases"][version])
    if sign and SIGN_PHASE[version] not in order:
        # A phase no session without a client certificate allocates in: in its place in mbedTLS's order.
        at = PHASE_ORDER[version].index(SIGN_PHASE[version])
        order.insert(next((i for i, ph in enumerate(order) if PHASE_ORDER[version].index(ph) > at), len(order)),
                     SIGN_PHASE[version])
    if kind.endswith(P256M_KIND) and not any(table_kind(version, ph, kind) in tab["phase"][version].get(ph, {})
                                             for ph in order):
        raise ValueError(f"the heap model has no measured figures for TLS {version} {kind} sessions on {r.cpu.name} "
                         f"({r.cpu.word_bytes * 8}-bit): bench/heap/fit.py --merge-p256m has not seen one")
    for phase in order:
        coef = tab["phase"][version].get(phase, {}).get(table_kind(version, phase, kind))
        work = max(0.0, dot(coef["working"], sf)) if coef is not None else 0.0
        persist = dot(coef["persist"], sf) if coef is not None else 0.0
        signing = sign and phase == SIGN_PHASE[version]
        if signing:
            work = max(work, max(0.0, persist) + sign)  # the signature, on top of what the phase's own work leaves
            persist += sign_persist
        elif coef is None:
            if r.datagram and phase in DTLS_ALL_LATER:
                # No allocation of its own, but DTLS buffers the rest of the server's flight here (dtls_lines): the
                # phase's total is what earlier phases left (sweep h10004-0029, ECDHE-RSA with a 9,186-byte chain:
                # its Certificate's 10,356-byte reassembly buffer during the ServerHello was the session's peak).
                totals.append((phase, int(cur)))
            continue  # this kind of session does not allocate in this phase
        totals.append((phase, int(cur + work)))
        if cur + work > best[0]:
            best = (cur + work, phase, cur, work)
        cur = max(0.0, cur + persist)
        if phase == "CERT" and kept:
            cur += max(0.0, dot(kept_chain_table(r)["persist"], kept_chain_features(r, s)))
    align = r.cpu.alignment
    up = lambda x: int(-(-x // align) * align)  # noqa: E731
    return Prediction(s, up(setup), up(state), best[1], up(best[2]), up(best[3]),
                      up(setup) + up(state) + up(best[2]) + up(best[3]), up(setup_peak), up(own), tuple(totals))


PHASE_NAMES = {
    "CH": "ClientHello (TLS 1.3: the key share)", "SH": "ServerHello (TLS 1.3: ECDHE, key schedule)",
    "EE": "EncryptedExtensions", "CERT": "the server's Certificate (chain parsed and verified)",
    "SKE": "ServerKeyExchange (ECDHE parameters, signature check)", "SHD": "ServerHelloDone",
    "CC": "the device's Certificate", "CKE": "ClientKeyExchange (ECDHE or RSA encryption)",
    "CV": "CertificateVerify / key derivation (with a client certificate: the device's signature)",
    "CCS": "ChangeCipherSpec", "CFIN": "client Finished", "NST": "NewSessionTicket",
    "CCV": "client CertificateVerify (the device's signature)",
    "SCCS": "server ChangeCipherSpec", "SFIN": "server Finished", "FLUSH": "flush", "WRAP": "handshake wrap-up",
    "OVER": "application data (TLS 1.3 tickets)", "HRR": "HelloRetryRequest", "NST13": "TLS 1.3 NewSessionTicket",
}


#: The largest ticket the calibration sessions held (GnuTLS 3.7, TLS 1.2: 326 bytes; OpenSSL 3.0: 192): the phase
#: tables include it.
CALIBRATED_TICKET_BYTES = 336


#: DTLS 1.2 beyond the TLS session the phase tables measure, in a session without loss, per word size: the client's
#: flight kept for retransmission (a copy of each message and its list entry), the server's cookie (up to the second
#: ClientHello), the larger handshake structure (reassembly slots, retransmission state). Measured against OpenSSL
#: 3.0 as the session's peak above the TLS model's subtotal: on the host (tests/integration/profiles/host-dtls-*)
#: PSK 304 and ECDHE-ECDSA 322 bytes; on the Cortex-M4 in QEMU (m4-dtls-psk-ccm8) 152 (pointers and size_t are half
#: as wide), with room for an ECDHE ClientHello's longer flight copy.
DTLS_FIXED = {8: 336, 4: 192}
#: mbedTLS frees a reassembled message's buffer when it hands the message over (mbedtls_ssl_read_record ->
#: mbedtls_ssl_update_handshake_status shifts the slots before the message is parsed), so while the client processes
#: one message of the server's first flight, only the messages after it can wait in the buffers: after the
#: ServerHello, all of the flight (up to MBEDTLS_SSL_DTLS_MAX_BUFFERING); after the Certificate, the small messages
#: that follow it (ServerKeyExchange, CertificateRequest, ServerHelloDone). The server's ChangeCipherSpec and Finished
#: may keep one early record.
DTLS_ALL_LATER = {"SH"}
DTLS_SMALL_LATER = {"CERT", "SKE", "CR"}
DTLS_EARLY_RECORD_PHASES = {"SCCS", "SFIN"}
#: mbedTLS's buffering slots (MBEDTLS_SSL_MAX_BUFFERED_HS, ssl_misc.h) and the early record: a heap block each.
DTLS_BUFFER_BLOCKS = 4 + 1
#: The client's phases from its Certificate to the server's Finished (TLS 1.2 PHASE_ORDER): its flight (Certificate,
#: ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished) is kept for retransmission from the message's
#: write until the server's flight is complete (ssl_msg.c, ssl_flight_append; mbedtls_ssl_recv_flight_completed).
DTLS_CLIENT_FLIGHT_PHASES = ("CC", "CKE", "CV", "CCS", "CFIN", "NST", "SCCS", "SFIN")
#: The phases of the server's first flight: the client's ClientHello is kept for retransmission until that flight is
#: complete (ssl_parse_server_hello_done -> mbedtls_ssl_recv_flight_completed).
DTLS_CLIENT_HELLO_PHASES = ("SH", "CERT", "SKE", "CR", "SHD")
#: The phases a resumed (abbreviated) DTLS 1.2 handshake goes through with its ClientHello still kept: the server's
#: flight is ServerHello, [NewSessionTicket], ChangeCipherSpec, Finished, so the ClientHello is the client's flight
#: until the server's Finished, through the key derivation and both Finished messages (the full handshake's phases
#: from the key derivation on stand for them; they also hold what only a full handshake has, the peer's certificate
#: and the client's second flight).
DTLS_RESUMED_PHASES = ("CV", "CCS", "CFIN", "SCCS", "SFIN")


def dtls_own_flight(r: Resolution) -> dict[str, int]:
    """Per phase, the heap blocks of the device's Certificate and CertificateVerify copies in the flight kept for
    retransmission (each message and its list entry, mbedtls_ssl_flight_item: two pointers, a size_t and the type)
    with a client certificate; what a flight without them holds is in DTLS_FIXED."""
    from tlsgen.resolve.records import dtls_client_certificate_messages

    cc = r.loaded.profile.tls.client_certificate
    if cc is None:
        return {}
    word, align = r.cpu.word_bytes, r.cpu.alignment
    cert, verify = dtls_client_certificate_messages(cc)
    item = block_bytes(4 * word, word, align)
    kept, out = 0, {}
    for phase in DTLS_CLIENT_FLIGHT_PHASES:
        kept += block_bytes(cert, word, align) + item if phase == "CC" else \
            block_bytes(verify, word, align) + item if phase == "CV" else 0
        out[phase] = kept
    return out


def dtls_offered_ticket(r: Resolution) -> int:
    """What an offered TLS 1.2 ticket adds through the server's first flight over datagrams, where a server that
    does not take the offer verifies its chain: the ticket in the ClientHello the client keeps for retransmission
    (its session_ticket extension is otherwise empty), and the offered session's own copy up to the
    CALIBRATED_TICKET_BYTES the "session ticket" line leaves to the phase tables, which hold a TLS 1.2 ticket only
    from the NewSessionTicket on. Sweep h10125-0225 (DTLS, RSA-4096 chain, GnuTLS's 326-byte ticket): the full
    handshake after a rejected offer peaked 704 live bytes above the first one's, these two copies."""
    res = r.loaded.profile.tls.resumption
    if "ticket" not in res.tls12 or "1.2" not in r.versions:
        return 0
    word, align = r.cpu.word_bytes, r.cpu.alignment
    return -(-res.ticket_max_bytes // align) * align + block_bytes(min(res.ticket_max_bytes, CALIBRATED_TICKET_BYTES),
                                                                   word, align)


def dtls_loaded_ticket_hole(r: Resolution, reassembly: int, message: int) -> int:
    """The hole an offered TLS 1.2 ticket leaves over datagrams: the runtime loads the saved session
    (mbedtls_ssl_session_load) before mbedtls_ssl_setup() allocates the record buffers, and frees it once
    mbedtls_ssl_set_session() has copied it, so its ticket's block stays free under the record buffers. The
    server's largest message (`message` bytes; its Certificate), when it is larger than a datagram of the profile's
    MTU, comes in fragments and is reassembled in a buffer of `reassembly` bytes; a buffer larger than the hole
    cannot use it, and the hole adds to the heap's high water through the server's first flight. Sweep m10165-4906
    (DTLS, a 6,000-byte peer chain, OpenSSL's ticket padded to 1,024 bytes, Cortex-M3): the full handshake after a
    rejected offer needed 31,768 bytes against a 31,640-byte model, a 1,040-byte hole under the record buffers while
    the Certificate's 6,767-byte reassembly buffer was allocated. 0 where the buffer fits the hole, or where the
    message fits a datagram (sweep m10172-0028: a 715-byte Certificate under a 1,200-byte MTU came whole, the hole went
    to the handshake's smaller blocks, and counting it put the model 1.107x the peak)."""
    res = r.loaded.profile.tls.resumption
    if "ticket" not in res.tls12 or "1.2" not in r.versions:
        return 0
    hole = block_bytes(res.ticket_max_bytes, r.cpu.word_bytes, r.cpu.alignment)
    mtu = (r.loaded.profile.tls.dtls or Dtls()).mtu
    return hole if reassembly > hole and message > mtu else 0


def dtls_resumed_ticket(r: Resolution) -> int:
    """What an offered TLS 1.2 ticket adds to a resumed DTLS handshake, where the server takes it: the ticket inside
    the ClientHello the client keeps for retransmission until the server's Finished (the offered session's copy is
    where the phase tables hold the NewSessionTicket's ticket, and the "session ticket" line covers it beyond their
    calibration). Sweep m10142-0310 (DTLS PSK, 512-byte records, a 400-byte ticket from OpenSSL, Cortex-M33): the
    resumed handshake peaked at 5,392 bytes against a 5,296-byte model, with the 523-byte ClientHello live through the
    key derivation and the server's Finished."""
    res = r.loaded.profile.tls.resumption
    if "ticket" not in res.tls12 or "1.2" not in r.versions:
        return 0
    return -(-res.ticket_max_bytes // r.cpu.alignment) * r.cpu.alignment


def dtls_request_counted(r: Resolution) -> bool:
    """Whether the heap counts a buffered CertificateRequest: with a client certificate. A device without one meets
    a CertificateRequest only from a server whose client authentication is optional; its 124 bytes (message and
    block) are then within the margin. MBEDTLS_SSL_DTLS_MAX_BUFFERING keeps room for it either way."""
    return r.loaded.profile.tls.client_certificate is not None


def dtls_small_later(r: Resolution) -> int:
    """Heap blocks of the messages that can follow the server's Certificate (resolve.records.dtls_later_messages),
    each buffered whole."""
    from tlsgen.resolve.records import dtls_later_messages, ske_rsa_bits

    word, align = r.cpu.word_bytes, r.cpu.alignment
    rsa_bits = ske_rsa_bits(r.suites, r.loaded.profile.tls.rsa_max_bits)
    return sum(block_bytes(m, word, align) for m in dtls_later_messages(r.groups, r.uses_certificates, r.uses_psk,
                                                                        rsa_bits, dtls_request_counted(r)))


def dtls_lines(r: Resolution, worst: Prediction) -> list[HeapLine]:
    """What DTLS adds to the session: the fixed part, and what buffered messages can put above the session's peak in
    the phase they meet (DTLS_ALL_LATER, DTLS_SMALL_LATER, DTLS_EARLY_RECORD_PHASES)."""
    from tlsgen.resolve.records import (dtls_early_record, dtls_largest_server_message, dtls_server_flight,
                                        dtls_ticket_reassembly)

    word, align = r.cpu.word_bytes, r.cpu.alignment
    # While the ServerHello is processed, what can wait is the rest of the server's first flight (within the bound;
    # the bound's early record is for the last flight, DTLS_EARLY_RECORD_PHASES).
    need, _, later = dtls_server_flight(r.loaded.profile.tls, r.groups, r.uses_certificates, r.uses_psk, r.suites,
                                        dtls_request_counted(r))
    buffered = min(r.dtls_buffering, need + later) + DTLS_BUFFER_BLOCKS * header_bytes(word)
    small = min(buffered, dtls_small_later(r))
    # The server's Finished before its ChangeCipherSpec, as large as the profile's suites make it (sweep m10134-0008:
    # a 128-byte allowance on a CCM-8 profile, whose Finished record is 53 bytes, put a 3.6 KB model 1.103x its peak).
    early = block_bytes(dtls_early_record(r.suites), word, align)
    peak = worst.persisted + worst.working
    flight = dtls_own_flight(r)
    over, where = 0, ""
    own_over, own_where = 0, ""
    offered = dtls_offered_ticket(r)
    largest, _ = dtls_largest_server_message(r.loaded.profile.tls, r.uses_certificates)
    hole = dtls_loaded_ticket_hole(r, min(need, r.dtls_buffering), largest) if offered else 0
    offer_over, offer_where = 0, ""
    resumed = dtls_resumed_ticket(r)
    resumed_over, resumed_where = 0, ""
    for phase, total in worst.phase_totals:
        extra = (buffered if phase in DTLS_ALL_LATER else small if phase in DTLS_SMALL_LATER
                 else early if phase in DTLS_EARLY_RECORD_PHASES else 0)
        if total + extra - peak > over:
            over, where = total + extra - peak, phase
        own = flight.get(phase, 0)
        if own and total + extra + own - peak > own_over:
            own_over, own_where = total + extra + own - peak, phase
        if offered and phase in DTLS_CLIENT_HELLO_PHASES and total + extra + offered + hole - peak > offer_over:
            offer_over, offer_where = total + extra + offered + hole - peak, phase
        if resumed and phase in DTLS_RESUMED_PHASES and total + extra + resumed - peak > resumed_over:
            resumed_over, resumed_where = total + extra + resumed - peak, phase
    ticket = dtls_ticket_reassembly(r.loaded.profile.tls)
    if ticket:
        # A NewSessionTicket the server fragments is reassembled in a buffer of its own (and its Finished, the next
        # epoch, may wait as the early record) over what the handshake holds when its last flight comes (the phase
        # tables have no NewSessionTicket phase of their own: the server's ChangeCipherSpec's total stands for it).
        totals = dict(worst.phase_totals)
        base = totals.get("SCCS", totals.get("CFIN", 0))
        extra = block_bytes(min(ticket, r.dtls_buffering), word, align) + early
        if base + extra - peak > over:
            over, where = base + extra - peak, "NST"
        # (a server that renews the ticket of a resumed session sends it while that session's ClientHello is kept)
        if resumed and base + extra + resumed - peak > resumed_over:
            resumed_over, resumed_where = base + extra + resumed - peak, "NST"
    lines = [HeapLine("DTLS handshake", DTLS_FIXED[word], "the client's flight kept for retransmission, the server's "
                      "cookie, the reassembly and retransmission state (measured beside the TLS session)")]
    why = (f"messages buffered during {PHASE_NAMES.get(where, where)} (within MBEDTLS_SSL_DTLS_MAX_BUFFERING "
           f"{r.dtls_buffering}) reach {over} bytes above the handshake peak" if over else
           f"MBEDTLS_SSL_DTLS_MAX_BUFFERING {r.dtls_buffering} bytes: no phase that can hold them comes within that "
           "of the handshake peak")
    lines.append(HeapLine("DTLS reassembly", int(-(-over // align) * align), why))
    own_over_at = own_over
    if flight:
        own_over = max(0, own_over - over)
        cc = r.loaded.profile.tls.client_certificate
        lines.append(HeapLine("DTLS client flight", int(-(-own_over // align) * align),
                              f"the device's Certificate ({cc.chain_bytes}-byte chain) and CertificateVerify kept for "
                              f"retransmission ({max(flight.values())} bytes) reach {own_over} bytes above the "
                              f"handshake peak during {PHASE_NAMES.get(own_where, own_where)}" if own_over else
                              "the device's Certificate and CertificateVerify kept for retransmission: no phase that "
                              "holds them comes within their size of the handshake peak"))
    offer_over_at = offer_over
    if offered:
        # (the lines add up: beyond the larger of what the reassembly and the device's flight lines already cover,
        # which meet the peak in other phases)
        offer_over = max(0, offer_over - max(over, own_over_at))
        lines.append(HeapLine("DTLS offered ticket", int(-(-offer_over // align) * align),
                              f"an offered ticket of up to {r.loaded.profile.tls.resumption.ticket_max_bytes} bytes, in "
                              "the offered session and in the ClientHello kept for retransmission, through the full "
                              f"handshake of a server that does not take it ({offered} bytes"
                              + (f", and {hole} of the loaded session's ticket left free under the record buffers, "
                                 "too small for the reassembly of the server's largest message" if hole else "")
                              + f"): {offer_over} bytes above the handshake peak during "
                              f"{PHASE_NAMES.get(offer_where, offer_where)}" if offer_over else
                              "an offered ticket also in the ClientHello kept for retransmission: no phase of the "
                              "server's first flight comes within its size of the handshake peak"))
    if resumed:
        # (beyond what the lines above already cover together, in whichever phase they meet the peak: the larger of
        # their own overshoots, as each adds only what it has beyond those before it)
        resumed_over = max(0, resumed_over - max(over, own_over_at, offer_over_at))
        lines.append(HeapLine("DTLS resumed ticket", int(-(-resumed_over // align) * align),
                              f"a resumed handshake keeps its ClientHello, with a ticket of up to "
                              f"{r.loaded.profile.tls.resumption.ticket_max_bytes} bytes, for retransmission until the "
                              f"server's Finished: {resumed_over} bytes above the handshake peak during "
                              f"{PHASE_NAMES.get(resumed_where, resumed_where)}" if resumed_over else
                              "a resumed handshake's ClientHello, with its ticket, kept until the server's Finished: no "
                              "phase from the key derivation on comes within the ticket's size of the handshake peak"))
    return lines


#: The TLS 1.2 phases before the server's NewSessionTicket: the phase tables hold no ticket in them.
TLS12_BEFORE_TICKET = frozenset(PHASE_ORDER["1.2"][:PHASE_ORDER["1.2"].index("NST")])


def size_heap(r: Resolution, stale_offer: bool = True) -> HeapModel:
    """The heap model of a profile. `stale_offer=False`: without what only a session that offers a saved TLS 1.2
    ticket to a server that rejects it holds (the "offered ticket" line), to compare with measurements of single
    sessions (bench/heap's calibration records, which offer nothing)."""
    align = r.cpu.alignment
    rin, rout = records(r)
    preds = [predict(r, s) for s in shapes(r)]
    worst = max(preds, key=lambda p: p.total)
    s = worst.shape
    lines = [
        HeapLine("record buffer in", rin, f"MBEDTLS_SSL_IN_CONTENT_LEN {r.in_content_len} + {r.record_overhead} "
                 "(header 13, IV 16, tag/MAC, CBC padding of the chosen suites), rounded, one block header"),
        HeapLine("record buffer out", rout, f"MBEDTLS_SSL_OUT_CONTENT_LEN {r.out_content_len} + {r.record_overhead}"),
    ]
    t = r.loaded.profile.tls
    setup_what = []
    if s.verify and s.ca_certs:
        setup_what.append(f"{s.ca_certs} CA certificate(s), {s.ca_bytes} DER bytes, parsed")
    if r.uses_psk:
        setup_what.append(f"a {t.psk_max_bytes}-byte PSK and its identity")
    if r.uses_psa:
        setup_what.append("PSA crypto's state")
    lines.append(HeapLine("configuration", worst.setup - worst.own, "; ".join(setup_what) or "nothing beyond the session"))
    cc = t.client_certificate
    if cc is not None:
        lines.append(HeapLine("client certificate", worst.own, f"the device's chain of {cc.chain_certs} ({cc.chain_bytes} "
                              f"DER bytes) parsed, and its {cc.key} private key (tls.client_certificate; "
                              "SslConfig::client_certificate)"))
    lines.append(HeapLine("TLS session state", worst.state, "session, transform and handshake structures, server "
                          "name (mbedtls_ssl_setup)"))
    if uses_tickets(t) and t.resumption.ticket_max_bytes > CALIBRATED_TICKET_BYTES:
        # The phase tables hold the tickets their calibration servers sent (up to CALIBRATED_TICKET_BYTES): mbedTLS
        # keeps one ticket at a time (it frees the one it holds before it keeps the next), from the
        # NewSessionTicket on, or all through the handshake for an offered one, which a rejected offer keeps
        # through the full handshake that follows (measured on host-tls13 with OpenSSL's 192-byte ticket: a
        # peak of 25,584 bytes against 25,648 without an offer). A larger ticket adds what it has beyond that.
        word = r.cpu.word_bytes
        extra = block_bytes(t.resumption.ticket_max_bytes, word, align) - block_bytes(CALIBRATED_TICKET_BYTES, word, align)
        lines.append(HeapLine("session ticket", extra, f"a ticket of up to {t.resumption.ticket_max_bytes} bytes "
                              f"(tls.resumption.ticket_max_bytes), beyond the {CALIBRATED_TICKET_BYTES} the handshake "
                              "tables were measured with"))
    if stale_offer and not r.datagram and "ticket" in t.resumption.tls12 and "1.2" in r.versions and \
            s.suite.version == "1.2" and worst.phase in TLS12_BEFORE_TICKET:
        # A rejected offer keeps the offered ticket through the whole full handshake that follows, so it is live at
        # a peak before the NewSessionTicket, where the phase tables hold none (from the NewSessionTicket on they
        # hold up to CALIBRATED_TICKET_BYTES of it, and "session ticket" the rest). Sweep m10172-0060 (Cortex-M0+,
        # ECDHE-PSK over X448, a 448-byte ticket, an 8,880-byte model): the session offering its ticket to a server
        # that did not take it needed 9,032 bytes; its live blocks at the peak (ClientKeyExchange) were 384 bytes
        # above the full handshake's without an offer. (Over datagrams "DTLS offered ticket" counts it.)
        word = r.cpu.word_bytes
        lines.append(HeapLine("offered ticket", block_bytes(min(t.resumption.ticket_max_bytes, CALIBRATED_TICKET_BYTES),
                                                            word, align),
                              f"a saved TLS 1.2 ticket offered to a server that does not take it, held through the full "
                              f"handshake's peak at {PHASE_NAMES.get(worst.phase, worst.phase)}, before the "
                              "NewSessionTicket (the handshake tables hold tickets from there on)"))
    lines.append(HeapLine("handshake peak", worst.persisted + worst.working,
                          f"at {PHASE_NAMES.get(worst.phase, worst.phase)}: {worst.working} working + "
                          f"{worst.persisted} left by earlier phases; the largest session the profile allows: "
                          f"{s.describe()}"))
    if r.datagram:
        lines += dtls_lines(r, worst)
    subtotal = sum(x.bytes for x in lines)
    margin = -(-subtotal * MARGIN_PERCENT // 100)
    floors = MARGIN_FLOOR.get(r.cpu.word_bytes, {})
    # What the profile allows that has a floor: its groups, and its largest RSA key (leaf or CA) when RSA is in.
    keys = [g.name for g in r.groups] + ([f"rsa{t.rsa_max_bits}"] if r.defined("MBEDTLS_RSA_C") else [])
    own = own_key_label(r)
    if own is not None and own.startswith("rsa"):
        keys.append(own)  # the device's own RSA key: its signature frees limb buffers too
    holes = max([floors.get(k, 0) for k in keys] + [0])
    floor = holes + -(-subtotal * FLOOR_MODEL_PERCENT // 100) if holes else 0
    why = f"{MARGIN_PERCENT}% of {subtotal}"
    if floor > margin:
        what = max(k for k in keys if floors.get(k, 0) == holes)
        margin, why = floor, (f"the floor for {what}: {holes} bytes of allocator holes at the peak + "
                              f"{FLOOR_MODEL_PERCENT}% of {subtotal}; {MARGIN_PERCENT}% of {subtotal} is less")
    total = -(-(subtotal + margin) // align) * align
    return HeapModel(tuple(lines), subtotal, MARGIN_PERCENT, margin, total, s, why)
