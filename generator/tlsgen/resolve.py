"""Resolution: a validated profile -> the set of mbedTLS macros, each with the field that caused it.

The rules mirror mbedTLS 3.6's own prerequisites (include/mbedtls/check_config.h and
library/ssl_ciphersuites.c): what a cipher suite needs, what TLS 1.3 needs, what bare metal cannot
have. Cross-field conflicts are reported here, against the profile's file locations, before any
compiler sees the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlsgen.catalog import CPUS, GROUPS, SUITES, Cpu, Group, Kex, Suite
from tlsgen.errors import Path, Problem, ProfileError
from tlsgen.loader import LoadedProfile

# Output sections, in the order a reader of mbedTLS's configs/*.h expects them.
SECTIONS = (
    "System support",
    "Platform hooks",
    "Entropy and random numbers",
    "Symmetric ciphers and modes",
    "Hashes",
    "Public keys and certificates",
    "Elliptic curves",
    "PSA crypto",
    "TLS protocol",
    "TLS sizes and suites",
    "Size/speed trade-offs",
    "Debugging",
)

# Never defined by tlsgen, listed in the header so a reviewer sees they are off on purpose.
NEVER_DEFINED = {
    "MBEDTLS_NET_C": "the runtime's TcpStack does networking (BSD sockets or an AT modem)",
    "MBEDTLS_TIMING_C": "no OS timers on bare metal; DTLS timers come from the application",
    "MBEDTLS_FS_IO": "no file system: CA certificates and keys come from memory",
    "MBEDTLS_SSL_RENEGOTIATION": "renegotiation is an attack surface a device does not need",
    "MBEDTLS_SELF_TEST": "self tests cost flash; mbedTLS's own test suite covers them",
}


@dataclass(frozen=True)
class Macro:
    name: str
    value: str | None
    section: str
    reasons: tuple  # of (text, source path string)

    @property
    def reason_text(self) -> str:
        seen: dict = {}
        for text, src in self.reasons:
            seen.setdefault(text, []).append(src)
        parts = []
        for text, srcs in seen.items():
            srcs = [s for s in dict.fromkeys(srcs) if s]
            parts.append(f"{text} [{', '.join(srcs)}]" if srcs else text)
        return "; ".join(parts)


@dataclass(frozen=True)
class InsecureChoice:
    option: str
    reason: str
    what: str  # what the choice gives up


@dataclass
class Resolution:
    loaded: LoadedProfile
    cpu: Cpu
    suites: list[Suite]
    groups: list[Group]
    versions: list[str]
    macros: list[Macro]
    insecure: list[InsecureChoice]
    warnings: list[str]
    in_content_len: int
    out_content_len: int
    record_overhead: int  # bytes MBEDTLS_SSL_IN/OUT_BUFFER_LEN add to the content length
    uses_certificates: bool
    uses_psk: bool
    uses_psa: bool
    certificate_keys: list[str]
    nv_seed_bytes: int  # MBEDTLS_ENTROPY_BLOCK_SIZE: what the board's NV seed store holds
    entropy: list[str]

    def macro(self, name: str) -> Macro | None:
        return next((m for m in self.macros if m.name == name), None)

    def defined(self, name: str) -> bool:
        return self.macro(name) is not None

    def by_section(self) -> list[tuple[str, list[Macro]]]:
        return [(s, sorted((m for m in self.macros if m.section == s), key=lambda m: m.name))
                for s in SECTIONS if any(m.section == s for m in self.macros)]


#: Source named for the few macros every tlsgen configuration has (the runtime's hooks, hygiene).
BASELINE = "tlsgen baseline"


def _src(path: Path) -> str:
    from tlsgen.errors import format_path

    return format_path(path) if path else BASELINE


class _Builder:
    def __init__(self, loaded: LoadedProfile):
        self.loaded = loaded
        self.macros: dict[str, dict] = {}
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def define(self, name: str, section: str, why: str, src: Path = (), value: str | None = None) -> None:
        entry = self.macros.get(name)
        if entry is None:
            self.macros[name] = {"value": value, "section": section, "reasons": [(why, _src(src))]}
            return
        if entry["value"] != value:
            raise AssertionError(f"{name} defined as {entry['value']!r} and {value!r}")  # a resolver bug
        entry["reasons"].append((why, _src(src)))

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.loaded.where(path), path, message))

    def explicit(self, path: Path) -> bool:
        node: object = self.loaded.raw
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return False
        return True


def _duplicates(b: _Builder, path: Path, items: list) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        if item in seen:
            b.error(path + (i,), f"'{item}' is listed twice (first at index {seen[item]})")
        else:
            seen[item] = i


def resolve(loaded: LoadedProfile) -> Resolution:
    """Turn a validated profile into macros; raise ProfileError naming every conflict."""
    p = loaded.profile
    b = _Builder(loaded)
    cpu = CPUS[p.target.cpu]
    tls, plat = p.tls, p.platform

    for name in ("versions", "cipher_suites", "groups", "alpn"):
        _duplicates(b, ("tls", name), list(getattr(tls, name)))
    _duplicates(b, ("platform", "entropy"), list(plat.entropy))
    _duplicates(b, ("insecure",), [o.allow for o in p.insecure])

    suites = [SUITES[n] for n in tls.cipher_suites]
    groups = [GROUPS[n] for n in tls.groups]
    versions = sorted(set(tls.versions))
    kexes = {s.kex for s in suites}
    tls13 = "1.3" in versions
    tls12 = "1.2" in versions

    # --- protocol versions and transport ---------------------------------------------------------
    S = "TLS protocol"
    b.define("MBEDTLS_SSL_TLS_C", S, "TLS", ("tls",))
    if tls.role == "client":
        b.define("MBEDTLS_SSL_CLI_C", S, "client role (no MBEDTLS_SSL_SRV_C: a client does not link the server)",
                 ("tls", "role"))
    else:
        b.define("MBEDTLS_SSL_SRV_C", S, "server role", ("tls", "role"))
    for i, v in enumerate(tls.versions):
        b.define(f"MBEDTLS_SSL_PROTO_TLS1_{v[-1]}", S, f"TLS {v} enabled", ("tls", "versions", i))
        if not any(s.version == v for s in suites):
            b.error(("tls", "versions", i), f"TLS {v} is enabled but tls.cipher_suites has no TLS {v} suite")
    for i, s in enumerate(suites):
        if s.version not in versions:
            b.error(("tls", "cipher_suites", i), f"{s.name} is a TLS {s.version} suite but tls.versions does not "
                    f"enable {s.version}")
    if tls.transport == "datagram":
        b.define("MBEDTLS_SSL_PROTO_DTLS", S, "datagram transport (DTLS 1.2)", ("tls", "transport"))
        b.define("MBEDTLS_SSL_DTLS_ANTI_REPLAY", S, "DTLS replay protection", ("tls", "transport"))
        if tls.role == "server":
            b.define("MBEDTLS_SSL_DTLS_HELLO_VERIFY", S, "DTLS server cookie exchange", ("tls", "transport"))
        if tls13:
            b.error(("tls", "transport"), "datagram (DTLS) is only available for TLS 1.2 in mbedTLS 3.6, "
                    "but tls.versions enables 1.3")
    if tls12:
        b.define("MBEDTLS_SSL_EXTENDED_MASTER_SECRET", S, "RFC 7627: binds the master secret to the handshake",
                 ("tls", "versions"))
    if tls13:
        b.define("MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", S, "TLS 1.3 in mbedTLS 3.6 requires it", ("tls", "versions"))
    if tls.session_tickets:
        b.define("MBEDTLS_SSL_SESSION_TICKETS", S, "session resumption by ticket", ("tls", "session_tickets"))
    if tls.alpn:
        b.define("MBEDTLS_SSL_ALPN", S, "ALPN protocols listed", ("tls", "alpn"))
    b.define("MBEDTLS_SSL_ALL_ALERT_MESSAGES", S, "send alerts on errors so the peer's log says why", ())

    # --- key exchanges ----------------------------------------------------------------------------
    PK, EC = "Public keys and certificates", "Elliptic curves"
    kex_macro = {
        Kex.PSK: "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED",
        Kex.ECDHE_PSK: "MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED",
        Kex.ECDHE_ECDSA: "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
        Kex.ECDHE_RSA: "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED",
        Kex.RSA: "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED",
    }
    for i, s in enumerate(suites):
        src = ("tls", "cipher_suites", i)
        if s.kex in kex_macro:
            b.define(kex_macro[s.kex], S, f"key exchange of {s.name}", src)
        if s.kex == Kex.RSA and not _opted_in(p, "no_forward_secrecy"):
            b.error(src, f"{s.name} uses static RSA key exchange (no forward secrecy); add an insecure opt-in "
                    "'no_forward_secrecy' with a reason, or use an ECDHE suite")
    uses_ecdhe = any(k.uses_ecdhe for k in kexes) or tls13
    uses_psk = any(k.uses_psk for k in kexes)
    uses_certs = any(k.uses_certificates for k in kexes) or tls13
    if tls13:
        b.define("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED", S,
                 "TLS 1.3 (EC)DHE with certificate authentication", ("tls", "versions"))
    if uses_psk:
        b.define("MBEDTLS_PSK_MAX_LEN", "TLS sizes and suites", "largest pre-shared key", ("tls", "psk_max_bytes"),
                 str(tls.psk_max_bytes))

    # --- groups / ECDHE ---------------------------------------------------------------------------
    if uses_ecdhe and not groups:
        b.error(("tls", "groups"), "the cipher suites use (EC)DHE key exchange but tls.groups is empty "
                f"(allowed: {', '.join(GROUPS)})")
    if groups and not uses_ecdhe:
        b.error(("tls", "groups"), "tls.groups is set but no cipher suite uses (EC)DHE (PSK-only suites): "
                "remove it")
    for i, g in enumerate(groups):
        src = ("tls", "groups", i)
        b.define(g.macro, EC, f"group {g.name}", src)
        b.define("MBEDTLS_ECP_C", EC, "elliptic curve arithmetic", src)
        b.define("MBEDTLS_BIGNUM_C", PK, "multi-precision integers for curve arithmetic", src)
        b.define("MBEDTLS_ECDH_C", EC, "(EC)DHE key agreement", src)
    if any(g.nist for g in groups) or (uses_certs and tls.certificate_keys != ["rsa"]):
        # Measured on Cortex-M4 (QEMU): without it a P-256 handshake costs ~8x the instructions, for
        # about 2 KB less flash; a trade-off no profile wants, so it is on for size and speed alike.
        b.define("MBEDTLS_ECP_NIST_OPTIM", "Size/speed trade-offs", "fast reduction modulo NIST primes "
                 "(P-256 handshakes ~8x fewer instructions on Cortex-M4 for ~2 KB flash)",
                 ("tls", "groups") if groups else ("tls", "cipher_suites"))

    # --- certificates -----------------------------------------------------------------------------
    cert_keys: list[str] = []
    if uses_certs:
        if tls.certificate_keys is not None:
            cert_keys = list(tls.certificate_keys)
        else:
            if Kex.ECDHE_ECDSA in kexes or tls13:
                cert_keys.append("ecdsa")
            if Kex.ECDHE_RSA in kexes or Kex.RSA in kexes:
                cert_keys.append("rsa")
        if tls.certificate_keys is not None:
            ck_src: Path = ("tls", "certificate_keys")
        elif any(k.uses_certificates for k in kexes):
            ck_src = ("tls", "cipher_suites")
        else:
            ck_src = ("tls", "versions")  # TLS 1.3 authenticates with certificates
        for name in ("MBEDTLS_X509_CRT_PARSE_C", "MBEDTLS_X509_USE_C", "MBEDTLS_PK_C", "MBEDTLS_PK_PARSE_C",
                     "MBEDTLS_OID_C", "MBEDTLS_ASN1_PARSE_C", "MBEDTLS_BIGNUM_C"):
            b.define(name, PK, "parse and check the peer's certificate chain", ck_src)
        if tls.pem:
            b.define("MBEDTLS_PEM_PARSE_C", PK, "PEM-encoded CA certificates", ("tls", "pem"))
            b.define("MBEDTLS_BASE64_C", PK, "PEM is base64", ("tls", "pem"))
        if "ecdsa" in cert_keys:
            b.define("MBEDTLS_ECDSA_C", PK, "ECDSA signatures in the peer's chain", ck_src)
            b.define("MBEDTLS_ASN1_WRITE_C", PK, "ECDSA signature encoding", ck_src)
            b.define("MBEDTLS_ECP_C", EC, "ECDSA keys", ck_src)
            if not any(not g.montgomery for g in groups):
                b.error(("tls", "groups"), "ECDSA certificates need their curve enabled: add a Weierstrass group "
                        "such as secp256r1 to tls.groups (x25519/x448 only do key exchange)")
        if "rsa" in cert_keys:
            for name, why in (("MBEDTLS_RSA_C", "RSA keys in the peer's chain"),
                              ("MBEDTLS_PKCS1_V15", "RSA PKCS#1 v1.5 signatures (TLS 1.2)")):
                b.define(name, PK, why, ck_src)
            if tls13:
                b.define("MBEDTLS_PKCS1_V21", PK, "RSA-PSS signatures (TLS 1.3)", ck_src)
                b.define("MBEDTLS_X509_RSASSA_PSS_SUPPORT", PK, "RSA-PSS in X.509 (TLS 1.3)", ck_src)
        if tls.server_name_indication:
            b.define("MBEDTLS_SSL_SERVER_NAME_INDICATION", S, "send SNI", ("tls", "server_name_indication"))
    else:
        if b.explicit(("tls", "certificate_keys")):
            b.error(("tls", "certificate_keys"), "no cipher suite uses certificates (PSK only): remove it")
        if b.explicit(("tls", "verify")):
            b.error(("tls", "verify"), "no cipher suite uses certificates (PSK only), so there is nothing to "
                    "verify: remove it")
        if b.explicit(("tls", "server_name_indication")) and tls.server_name_indication:
            b.error(("tls", "server_name_indication"), "SNI needs certificate support (MBEDTLS_X509_CRT_PARSE_C) "
                    "but no cipher suite uses certificates")

    verify = tls.verify if uses_certs else "required"
    if uses_certs and verify in ("none", "optional"):
        opt = f"verify_{verify}"
        if not _opted_in(p, opt):
            b.error(("tls", "verify"), f"verify: {verify} lets any server impersonate the peer; add "
                    f"`insecure: [{{allow: {opt}, reason: ...}}]` to accept it, or use verify: required")

    mpi_bytes = max([g.bytes for g in groups] + ([tls.rsa_max_bits // 8] if "rsa" in cert_keys else []) + [0])
    if mpi_bytes:
        b.define("MBEDTLS_MPI_MAX_SIZE", PK, "largest integer: the biggest curve or RSA modulus",
                 ("tls", "groups") if groups else ("tls", "rsa_max_bits"), str(mpi_bytes))

    # --- symmetric crypto and hashes --------------------------------------------------------------
    SY, H = "Symmetric ciphers and modes", "Hashes"
    b.define("MBEDTLS_CIPHER_C", SY, "generic cipher layer used by TLS records", ("tls", "cipher_suites"))
    b.define("MBEDTLS_MD_C", H, "generic hash layer (handshake hash, HMAC, HKDF)", ("tls", "cipher_suites"))
    for i, s in enumerate(suites):
        src = ("tls", "cipher_suites", i)
        if s.cipher == "aes":
            b.define("MBEDTLS_AES_C", SY, "AES record cipher", src)
        else:
            b.define("MBEDTLS_CHACHA20_C", SY, "ChaCha20 record cipher", src)
            b.define("MBEDTLS_POLY1305_C", SY, "Poly1305 record tag", src)
            b.define("MBEDTLS_CHACHAPOLY_C", SY, "ChaCha20-Poly1305 AEAD", src)
        if s.mode == "gcm":
            b.define("MBEDTLS_GCM_C", SY, "GCM records", src)
        elif s.mode in ("ccm", "ccm8"):
            b.define("MBEDTLS_CCM_C", SY, "CCM records" + (" (8-byte tag)" if s.mode == "ccm8" else ""), src)
        elif s.mode == "cbc":
            b.define("MBEDTLS_CIPHER_MODE_CBC", SY, "CBC records", src)
            if s.version == "1.2":
                b.define("MBEDTLS_SSL_ENCRYPT_THEN_MAC", S, "RFC 7366 encrypt-then-MAC for CBC suites", src)
        if s.hash == "sha256":
            b.define("MBEDTLS_SHA256_C", H, "suite PRF/HKDF hash SHA-256", src)
        else:
            b.define("MBEDTLS_SHA512_C", H, "SHA-384 is computed by the SHA-512 module", src)
            b.define("MBEDTLS_SHA384_C", H, "suite PRF/HKDF hash SHA-384", src)
    if tls13:
        b.define("MBEDTLS_HKDF_C", H, "TLS 1.3 key schedule (PSA HKDF)", ("tls", "versions"))

    # --- PSA ----------------------------------------------------------------------------------------
    PS = "PSA crypto"
    if tls13:
        b.define("MBEDTLS_PSA_CRYPTO_C", PS, "TLS 1.3 in mbedTLS 3.6 runs on PSA crypto (psa_crypto_init())",
                 ("tls", "versions"))
        if tls.psa_exclusive_buffers:
            b.define("MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS", PS, "buffers are not shared with another party: "
                     "skips a temporary copy of every PSA input/output", ("tls", "psa_exclusive_buffers"))

    # --- entropy and RNG --------------------------------------------------------------------------
    EN, PL = "Entropy and random numbers", "Platform hooks"
    b.define("MBEDTLS_ENTROPY_C", EN, "entropy pool feeding the DRBG", ("platform", "entropy"))
    b.define("MBEDTLS_CTR_DRBG_C", EN, "the random generator TLS uses", ("platform", "entropy"))
    b.define("MBEDTLS_AES_C", SY, "CTR_DRBG is built on AES", ("platform", "entropy"))
    b.define("MBEDTLS_ENTROPY_MAX_SOURCES", EN, "one slot per platform.entropy source",
             ("platform", "entropy"), str(len(plat.entropy)))
    if cpu.bare_metal or "os" not in plat.entropy:
        b.define("MBEDTLS_NO_PLATFORM_ENTROPY", EN,
                 "bare metal: no /dev/urandom" if cpu.bare_metal else "platform.entropy does not list os",
                 ("target", "cpu") if cpu.bare_metal else ("platform", "entropy"))
    for i, kind in enumerate(plat.entropy):
        src = ("platform", "entropy", i)
        if kind == "os" and cpu.bare_metal:
            b.error(src, f"entropy 'os' needs an operating system, but target.cpu {cpu.name} is bare metal "
                    "(allowed here: hardware, nv_seed, test_static)")
        elif kind == "hardware":
            b.define("MBEDTLS_ENTROPY_HARDWARE_ALT", EN, "the board's TRNG via mbedtls_hardware_poll()", src)
        elif kind == "nv_seed":
            b.define("MBEDTLS_ENTROPY_NV_SEED", EN, "seed file kept in non-volatile memory, rewritten each boot",
                     src)
            b.define("MBEDTLS_PLATFORM_NV_SEED_ALT", PL, "the glue registers the board's NV seed read/write", src)
        elif kind == "test_static":
            if "hardware" in plat.entropy:
                b.error(src, "test_static and hardware both provide mbedtls_hardware_poll(): keep one")
            elif not _opted_in(p, "test_static_entropy"):
                b.error(src, "test_static is a fixed byte pattern, not entropy: every key is predictable; add "
                        "`insecure: [{allow: test_static_entropy, reason: ...}]` (labs and tests only)")
            b.define("MBEDTLS_ENTROPY_HARDWARE_ALT", EN, "INSECURE test_static: the glue's mbedtls_hardware_poll() "
                     "returns a fixed pattern", src)
    if plat.entropy and not REAL_ENTROPY & set(plat.entropy):
        allowed = [k for k in ("os", "hardware", "nv_seed") if not (k == "os" and cpu.bare_metal)]
        b.error(("platform", "entropy"), "no real entropy source: test_static is a fixed pattern for labs and "
                f"tests; list a real source beside it (allowed on {cpu.name}: {', '.join(allowed)}), e.g. entropy: "
                f"[{'nv_seed' if cpu.bare_metal else 'os'}, test_static]")
    has_sha512 = any(s.hash == "sha384" for s in suites)
    nv_seed_bytes = 64 if has_sha512 else 32

    # --- platform ---------------------------------------------------------------------------------
    SYS = "System support"
    b.define("MBEDTLS_HAVE_ASM", SYS, "mbedTLS's bignum assembly for this CPU", ("target", "cpu"))
    b.define("MBEDTLS_DEPRECATED_REMOVED", SYS, "no deprecated APIs", ())
    b.define("MBEDTLS_PLATFORM_C", PL, "platform abstraction (the hooks below)", ())
    b.define("MBEDTLS_PLATFORM_NO_STD_FUNCTIONS", PL, "no libc defaults for the hooks: until the glue's "
             "install() runs, mbedTLS's calloc returns NULL, so libc's malloc and printf are never linked", ())
    b.define("MBEDTLS_PLATFORM_MEMORY", PL, "calloc/free set at run time to tlsgen::Heap", ("platform", "heap"))
    # mbedTLS formats text only in X.509/OID (names, info), debug messages and error strings. Without
    # them no mbedTLS code calls snprintf: the hooks are left out, so the walker is not linked (-1.9 KB
    # on Cortex-M) and any stray mbedtls_snprintf use fails to compile instead of printing nothing.
    text_users = [src for cond, src in ((uses_certs, ("tls", "cipher_suites")),
                                        (plat.debug.level > 0, ("platform", "debug", "level")),
                                        (plat.debug.error_strings, ("platform", "debug", "error_strings"))) if cond]
    for src in text_users:
        b.define("MBEDTLS_PLATFORM_SNPRINTF_ALT", PL, "snprintf set at run time to tlsgen's va_list walker", src)
        b.define("MBEDTLS_PLATFORM_VSNPRINTF_ALT", PL, "vsnprintf set at run time to tlsgen's va_list walker", src)
    if plat.time == "none":
        if uses_certs and verify == "required":
            b.warnings.append("platform.time is none: certificate validity dates (notBefore/notAfter) are not "
                              "checked; use time: calendar where the device has a wall clock")
    else:
        b.define("MBEDTLS_HAVE_TIME", SYS, f"time source: {plat.time}", ("platform", "time"))
        if plat.time == "ms_clock":
            b.define("MBEDTLS_PLATFORM_MS_TIME_ALT", PL, "the board defines mbedtls_ms_time()", ("platform", "time"))
        else:
            b.define("MBEDTLS_HAVE_TIME_DATE", SYS, "calendar time: certificate validity dates are checked",
                     ("platform", "time"))

    # --- records ----------------------------------------------------------------------------------
    Z = "TLS sizes and suites"
    in_len = tls.in_content_len or tls.max_fragment_length or 16384
    if tls.max_fragment_length:
        b.define("MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", S, "ask the peer for smaller records (RFC 6066)",
                 ("tls", "max_fragment_length"))
        if tls.in_content_len and tls.in_content_len < tls.max_fragment_length:
            b.error(("tls", "in_content_len"), f"{tls.in_content_len} is smaller than the max_fragment_length "
                    f"{tls.max_fragment_length} the peer is allowed to send")
        if tls.out_content_len < tls.max_fragment_length:
            # mbedtls_ssl_conf_max_frag_len() refuses a length above either record buffer.
            b.error(("tls", "max_fragment_length"), f"{tls.max_fragment_length} is larger than out_content_len "
                    f"{tls.out_content_len}: the fragment length applies to both directions, so it must fit "
                    "both record buffers (allowed: at most min(in_content_len, out_content_len))")
        if tls13 and not tls12:
            b.error(("tls", "max_fragment_length"), "max_fragment_length is a TLS 1.2 extension in mbedTLS 3.6; "
                    "a TLS 1.3-only profile cannot negotiate it")
    elif tls.record_size_limit:
        if not tls13:
            b.error(("tls", "record_size_limit"), "record_size_limit is a TLS 1.3 extension in mbedTLS 3.6, but "
                    "tls.versions does not enable 1.3 (use max_fragment_length for TLS 1.2)")
        b.define("MBEDTLS_SSL_RECORD_SIZE_LIMIT", S, "advertise the receive buffer as the record size limit "
                 "(RFC 8449)", ("tls", "record_size_limit"))
    elif in_len < 16384:
        b.warnings.append(f"tls.in_content_len is {in_len} without max_fragment_length: a peer that sends "
                          "16 KB records (most servers, for large responses) makes the session fail")
    b.define("MBEDTLS_SSL_IN_CONTENT_LEN", Z, "largest record payload received",
             ("tls", "in_content_len") if tls.in_content_len else
             ("tls", "max_fragment_length") if tls.max_fragment_length else ("tls",), str(in_len))
    b.define("MBEDTLS_SSL_OUT_CONTENT_LEN", Z, "largest record payload sent", ("tls", "out_content_len"),
             str(tls.out_content_len))
    b.define("MBEDTLS_SSL_CIPHERSUITES", Z, "only the profile's suites are compiled in, in its order",
             ("tls", "cipher_suites"), ", ".join(s.macro for s in suites))
    some_mac = any(s.uses_mac for s in suites)
    mac_add = (48 if has_sha512 else 32) if some_mac else 16
    record_overhead = 13 + 16 + mac_add + (256 if some_mac else 0)  # header + IV + MAC/tag + CBC padding

    # --- trade-offs ----------------------------------------------------------------------------------
    T = "Size/speed trade-offs"
    if "MBEDTLS_AES_C" in b.macros:
        b.define("MBEDTLS_AES_ROM_TABLES", T, "AES tables in flash, not RAM", ("optimize",))
        if p.optimize == "size":
            b.define("MBEDTLS_AES_FEWER_TABLES", T, "one AES table instead of four (-6 KB flash)", ("optimize",))
    if p.optimize == "size":
        if "MBEDTLS_SHA256_C" in b.macros:
            b.define("MBEDTLS_SHA256_SMALLER", T, "compact SHA-256 loop", ("optimize",))
        if "MBEDTLS_SHA512_C" in b.macros:
            b.define("MBEDTLS_SHA512_SMALLER", T, "compact SHA-512 loop", ("optimize",))
    if "MBEDTLS_ECP_C" in b.macros:
        w = "2" if p.optimize == "size" else "6"
        b.define("MBEDTLS_ECP_WINDOW_SIZE", T, "comb window: 2 = least heap, 6 = fastest", ("optimize",), w)
        b.define("MBEDTLS_ECP_FIXED_POINT_OPTIM", T, "precomputed base-point tables in flash (speed)",
                 ("optimize",), "0" if p.optimize == "size" else "1")
    if "MBEDTLS_RSA_C" in b.macros:
        b.define("MBEDTLS_MPI_WINDOW_SIZE", T, "modular exponentiation window: 2 = less heap", ("optimize",),
                 "2" if p.optimize == "size" else "6")

    # --- debugging ----------------------------------------------------------------------------------
    D = "Debugging"
    if plat.debug.level > 0:
        b.define("MBEDTLS_DEBUG_C", D, f"debug messages up to level {plat.debug.level}", ("platform", "debug", "level"))
        # ssl_tls.c (debug builds) reports its own preset self-check with mbedtls_printf; with
        # MBEDTLS_PLATFORM_NO_STD_FUNCTIONS that would be an undeclared libc printf.
        b.define("MBEDTLS_PLATFORM_PRINTF_ALT", PL, "debug builds of mbedTLS print self-check failures with "
                 "mbedtls_printf: set at run time to the glue's printf (tlsgen's va_list walker, then the "
                 "board's tlsgen_board_log), so libc's printf is never linked", ("platform", "debug", "level"))
    if plat.debug.error_strings:
        b.define("MBEDTLS_ERROR_C", D, "mbedtls_strerror() texts", ("platform", "debug", "error_strings"))

    # --- insecure opt-ins -----------------------------------------------------------------------------
    used = _used_insecure(p, uses_certs, suites)
    insecure = []
    for i, o in enumerate(p.insecure):
        if o.allow not in used:
            b.error(("insecure", i, "allow"), f"opt-in '{o.allow}' is not needed by this profile: remove it")
        else:
            insecure.append(InsecureChoice(o.allow, o.reason, used[o.allow]))

    # --- sizes against the target ---------------------------------------------------------------------
    if b.problems:
        raise ProfileError(sorted(b.problems, key=lambda q: (q.location.line, q.location.col)))

    macros = [Macro(n, e["value"], e["section"], tuple(e["reasons"])) for n, e in b.macros.items()]
    return Resolution(
        loaded=loaded, cpu=cpu, suites=suites, groups=groups, versions=versions, macros=macros,
        insecure=insecure, warnings=b.warnings, in_content_len=in_len, out_content_len=tls.out_content_len,
        record_overhead=record_overhead, uses_certificates=uses_certs, uses_psk=uses_psk, uses_psa=tls13,
        certificate_keys=cert_keys, nv_seed_bytes=nv_seed_bytes, entropy=list(plat.entropy))


#: Entropy sources that are entropy; test_static is not, and may only be listed beside one of these.
REAL_ENTROPY = frozenset({"os", "hardware", "nv_seed"})

INSECURE_WHAT = {
    "verify_none": "the server's certificate is not verified: anyone on the path can impersonate it",
    "verify_optional": "a failed certificate verification does not stop the handshake",
    "test_static_entropy": "entropy is a fixed pattern: keys and nonces are predictable",
    "no_forward_secrecy": "static RSA key exchange: a leaked server key decrypts recorded sessions",
}


def _opted_in(p, option: str) -> bool:
    return any(o.allow == option for o in p.insecure)


def _used_insecure(p, uses_certs: bool, suites: list[Suite]) -> dict[str, str]:
    used = {}
    if uses_certs and p.tls.verify in ("none", "optional"):
        used[f"verify_{p.tls.verify}"] = INSECURE_WHAT[f"verify_{p.tls.verify}"]
    if "test_static" in p.platform.entropy:
        used["test_static_entropy"] = INSECURE_WHAT["test_static_entropy"]
    if any(s.kex == Kex.RSA for s in suites):
        used["no_forward_secrecy"] = INSECURE_WHAT["no_forward_secrecy"]
    return used
