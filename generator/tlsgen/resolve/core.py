"""The resolver's shared data: macros with reasons, the builder that collects them and the problems,
the context the rules read and fill in, and the Resolution they produce."""

from __future__ import annotations

from dataclasses import dataclass, field

from tlsgen.catalog import Cpu, Group, Kex, SigAlg, Suite
from tlsgen.errors import Path, Problem, format_path
from tlsgen.loader import LoadedProfile
from tlsgen.model import Profile

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
SYS, PL, EN, SY, H, PK, EC, PS, S, Z, T, D = SECTIONS

# Never defined by tlsgen, listed in the header so a reviewer sees they are off on purpose.
NEVER_DEFINED = {
    "MBEDTLS_NET_C": "the runtime's TcpStack does networking (BSD sockets or an AT modem)",
    "MBEDTLS_TIMING_C": "no OS timers on bare metal; DTLS timers come from the application",
    "MBEDTLS_FS_IO": "no file system: CA certificates and keys come from memory",
    "MBEDTLS_SSL_RENEGOTIATION": "renegotiation is an attack surface a device does not need",
    "MBEDTLS_SELF_TEST": "self tests cost flash; mbedTLS's own test suite covers them",
}

#: Source named for the few macros every tlsgen configuration has (the runtime's hooks, hygiene).
BASELINE = "tlsgen baseline"


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


@dataclass(frozen=True)
class ObjectOptions:
    """Compiler options for some of mbedTLS's objects, after the build's own (-Os under MinSizeRel): decided by the
    resolver (resolve.tradeoffs), applied by tlsgen_add_library() (cmake/profile_fields.py hands them over)."""

    rule: str  # its name in the build (the target property TLSGEN_OPTIONS_<rule>): [a-z0-9_]+
    sources: str  # a regular expression (CMake's and Python's alike) over the paths of mbedTLS's sources
    options: tuple[str, ...]
    gcc_only: bool = False  # GCC's options: clang (the sanitizer builds' compiler) does not get them


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
    p256m: bool  # ECC by the p256-m driver through PSA, no legacy ECP (resolve.ecc)
    ecc_note: str  # which elliptic-curve implementation, and why (resolve.ecc), for the config's reader
    certificate_keys: list[str]
    signature_algorithms: list[SigAlg]
    nv_seed_bytes: int  # MBEDTLS_ENTROPY_BLOCK_SIZE: what the board's NV seed store holds
    entropy: list[str]
    verify: str  # the effective verify mode ("required" for certificate-less profiles)
    datagram: bool = False  # DTLS (tls.transport: datagram)
    dtls_buffering: int = 0  # its MBEDTLS_SSL_DTLS_MAX_BUFFERING (0: stream)
    # the compiler options tlsgen_add_library() adds for some of mbedTLS's objects (resolve.tradeoffs)
    object_options: tuple[ObjectOptions, ...] = ()

    def macro(self, name: str) -> Macro | None:
        return next((m for m in self.macros if m.name == name), None)

    def defined(self, name: str) -> bool:
        return self.macro(name) is not None

    def by_section(self) -> list[tuple[str, list[Macro]]]:
        return [(s, sorted((m for m in self.macros if m.section == s), key=lambda m: m.name))
                for s in SECTIONS if any(m.section == s for m in self.macros)]


def _src(path: Path) -> str:
    return format_path(path) if path else BASELINE


class Builder:
    """Collects macros (each with every reason that asked for it) and problems."""

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

    def defined(self, name: str) -> bool:
        return name in self.macros

    def drop(self, name: str) -> list:
        """Remove a macro an earlier rule asked for (a later rule found another way to provide it); returns
        its reasons, for the macros that replace it."""
        entry = self.macros.pop(name, None)
        return entry["reasons"] if entry else []

    def define_for(self, name: str, section: str, reasons: list, value: str | None = None) -> None:
        """Define `name` for the reasons another macro had (see drop())."""
        for why, src in reasons:
            entry = self.macros.setdefault(name, {"value": value, "section": section, "reasons": []})
            entry["reasons"].append((why, src))

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.loaded.where(path), path, message))

    def explicit(self, path: Path) -> bool:
        """Whether the profile writes `path` (rather than taking the default)."""
        node: object = self.loaded.raw
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return False
        return True

    def unused(self, path: Path, why: str) -> None:
        """A field the profile sets although nothing would use it: an error, never silently ignored."""
        if self.explicit(path):
            self.error(path, f"{why}, so this setting would be ignored: remove it")


@dataclass
class Context:
    """What the rules share: the profile's facts, and what earlier rules decided."""

    b: Builder
    p: Profile
    cpu: Cpu
    suites: list[Suite]
    groups: list[Group]
    versions: list[str]
    kexes: set
    tls12: bool
    tls13: bool
    # Filled in by the rules, in the order resolve() runs them.
    uses_ecdhe: bool = False
    uses_psk: bool = False
    uses_certs: bool = False
    lists_ecdhe: bool = False  # any listed suite, enabled version or not (for "unused setting" checks)
    lists_psk: bool = False
    lists_certs: bool = False
    cert_keys: list[str] = field(default_factory=list)
    sig_algs: list[SigAlg] = field(default_factory=list)
    client_issuer: SigAlg | None = None  # what the device's own chain is signed with (tls.client_certificate)
    verify: str = "required"
    in_len: int = 16384
    out_len: int = 0  # MBEDTLS_SSL_OUT_CONTENT_LEN (resolve.records)
    dtls_buffering: int = 0  # MBEDTLS_SSL_DTLS_MAX_BUFFERING of a datagram profile (resolve.records)
    record_overhead: int = 0
    nv_seed_bytes: int = 32
    p256m: bool = False  # secp256r1 by mbedTLS's bundled p256-m driver through PSA (resolve.ecc)
    object_options: tuple[ObjectOptions, ...] = ()  # compiler options for some objects (resolve.tradeoffs)
    ecc_note: str = ""
    ecc_why: str = ""  # why the legacy ECP (resolve.ecc), for messages

    @property
    def tls(self):
        return self.p.tls

    @property
    def plat(self):
        return self.p.platform

    @property
    def cert_keys_src(self) -> Path:
        """The field that decides which keys the peer's chain may carry: tls.certificate_keys when given, else the
        suites whose key exchange uses certificates, else (TLS 1.3, where no suite names one) tls.versions."""
        if self.tls.certificate_keys is not None:
            return ("tls", "certificate_keys")
        return ("tls", "cipher_suites") if any(k.uses_certificates for k in self.kexes) else ("tls", "versions")

    def opted_in(self, option: str) -> bool:
        return any(o.allow == option for o in self.p.insecure)

    def suite_paths(self, pred) -> list[Path]:
        return [("tls", "cipher_suites", i) for i, s in enumerate(self.suites) if pred(s)]

    def has_kex(self, *kinds: Kex) -> bool:
        return any(k in self.kexes for k in kinds)
