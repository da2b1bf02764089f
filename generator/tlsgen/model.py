"""The device profile, format 1, as pydantic v2 models.

Validation here is per field (types, ranges, enumerations, unknown keys). Rules that span fields
(a suite needs its protocol version, ECDHE needs a group, an insecure choice needs its opt-in) are
resolve.py's job, which reports them against the same file locations.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from tlsgen.catalog import CPUS, GROUPS, SIG_ALGS, SUITES
from tlsgen.words import Described, Noun, did_you_mean

Version = Literal["1.2", "1.3"]
# `versions: [1.2, 1.3]` is natural YAML but reads as floats; the model accepts exactly those numbers
# (Tls._yaml_float_versions), and so does the JSON Schema editors validate against.
VersionItem = Annotated[Version, WithJsonSchema({"anyOf": [{"enum": ["1.2", "1.3"], "type": "string"},
                                                           {"enum": [1.2, 1.3], "type": "number"}]})]
EntropyKind = Literal["os", "hardware", "nv_seed", "test_static"]
InsecureOption = Literal["verify_none", "verify_optional", "test_static_entropy", "no_forward_secrecy"]
CpuName = Literal["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "host"]
assert set(CpuName.__args__) == set(CPUS)  # type: ignore[attr-defined]

# Record payload sizes mbedTLS accepts for IN/OUT_CONTENT_LEN (RFC 8449 allows down to 64; mbedTLS
# handshakes need at least 512 in practice for certificates to fit in fragments they can reassemble).
MIN_CONTENT_LEN = 512
MAX_CONTENT_LEN = 16384

# Upper bounds on byte counts: far above any device, low enough that every figure stays an ordinary
# integer in the generated C++ (and in Python's int <-> str conversion).
MAX_MEMORY_BYTES = 1 << 40  # target.ram_bytes / flash_bytes: 1 TiB
MAX_HEAP_BYTES = 1 << 30  # platform.heap: 1 GiB
# DTLS datagram sizes (tls.dtls.mtu): mbedTLS lowers its MTU to 508 itself after retransmissions; a datagram
# above 16384 + the record overhead cannot carry a record mbedTLS makes.
DTLS_MIN_MTU = 508
DTLS_MAX_MTU = 16384

# description is written into C and C++ comments: one line of printable text that cannot end one.
ONE_LINE = r"^(?:[^\x00-\x1f\x7f*]|\*+[^\x00-\x1f\x7f*/])*\**$"
NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
# An insecure opt-in's reason: 10 characters or more from its first to its last non-blank one.
REASON = r"^\s*\S[\s\S]{8,}\S\s*$"

#: Every pattern of the model, in words: messages and the reference never show the regular expression.
PATTERN_WORDS = {
    NAME: "1 to 63 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit",
    ONE_LINE: "one line of printable text without '*/', as it is written into C and C++ comments",
    REASON: "at least 10 characters besides leading and trailing blanks: why this choice is acceptable here",
}


def one_line_problem(text: str) -> str | None:
    """What keeps `text` from matching ONE_LINE, with its 1-based character position."""
    names = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}
    for i, ch in enumerate(text):
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"contains {names.get(ch, 'a control character')} (U+{ord(ch):04X}) at character {i + 1}"
    if "*/" in text:
        return f"contains '*/' at character {text.index('*/') + 1}"
    return None


#: Explanations of a value that does not match a pattern (patterns without one are described in words only).
PATTERN_PROBLEMS = {ONE_LINE: one_line_problem}


def _whole_number(value: object) -> object:
    # Literal[1] alone takes `true` and `1.0` (they compare equal to 1): a numeric choice takes an integer.
    if isinstance(value, (bool, float)):
        raise PydanticCustomError("literal_error", "not a whole number")
    return value


def IntChoice(*values: int):  # noqa: N802 -- used like a type: IntChoice(512, 1024)
    """One of `values`, written as an integer (not `true`, not `1024.0`)."""
    return Annotated[Literal[values], BeforeValidator(_whole_number)]


def _one_of(kind: str, known: dict) -> AfterValidator:
    def check(value: str) -> str:
        if value not in known:
            close = did_you_mean(value, known)
            if close:
                raise ValueError(f"unknown {kind} '{value}'; did you mean '{close}'?")
            raise ValueError(f"unknown {kind} '{value}' (allowed: {', '.join(known)})")
        return value

    return AfterValidator(check)


def _alpn_name(name: str) -> str:
    # RFC 7301: a protocol name is 1 to 255 bytes. mbedTLS takes the names as C strings, so a NUL would
    # silently end one early.
    size = len(name.encode("utf-8"))
    if size > 255:
        raise ValueError(f"{size} bytes in UTF-8; an ALPN protocol name is 1 to 255 bytes (RFC 7301)")
    if "\0" in name:
        raise ValueError(f"contains a NUL character (at character {name.index(chr(0)) + 1}); mbedTLS takes ALPN "
                         "names as C strings, so a NUL would cut the name short")
    return name


AlpnName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_alpn_name),
                     Noun("ALPN protocol names"), Described("1 to 255 bytes in UTF-8, no NUL")]
SuiteName = Annotated[str, _one_of("cipher suite", SUITES), Noun("cipher suite names")]
GroupName = Annotated[str, _one_of("group", GROUPS), Noun("group names")]
SigAlgName = Annotated[str, _one_of("signature algorithm", SIG_ALGS), Noun("signature algorithm names")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Target(Strict):
    """The device tlsgen generates for."""

    cpu: CpuName = Field(description="CPU core; the word size, alignment and bare-metal rules follow from it.")
    ram_bytes: Annotated[int, Field(gt=0, le=MAX_MEMORY_BYTES)] | None = Field(
        default=None, description="RAM of the part. Checked here: the generated heap, the stack (stack_bytes or "
        "the sessions' need) and the measured static data of mbedTLS and the tlsgen runtime (320 bytes, 2048 with "
        "PSA crypto) must fit, with room for tlsgen's smallest reference application beside them (its buffers, "
        "1101 bytes, and the CA file it reads into RAM); the rest is the application's (kRamLeftBytes). "
        "tlsgen_check_ram() checks the linked image, the application's static data included.")
    flash_bytes: Annotated[int, Field(gt=0, le=MAX_MEMORY_BYTES)] | None = Field(
        default=None, description="Flash of the part. Checked here: mbedTLS and the tlsgen runtime (estimated "
        "from measured images, the largest measured for such a profile; `tlsgen check` prints the estimate) and "
        "tlsgen's smallest reference application must fit. tlsgen_check_ram() checks the linked image.")
    stack_bytes: Annotated[int, Field(gt=0, le=MAX_MEMORY_BYTES)] | None = Field(
        default=None, description="Main stack the firmware reserves (bare metal). It must hold what the "
        "profile's sessions need (checked: 3840 bytes for TLS 1.2 with PSK only, 4864 with certificates (5632 with "
        "debug messages), 6144 "
        "for TLS 1.3; kStackNeedBytes in tlsgen_profile.hpp). With ram_bytes, the "
        "heap, this stack and tlsgen's static data must fit the part's RAM (checked here; tlsgen_check_ram() checks heap, stack and "
        "static RAM of the linked image). tlsgen_add_library() hands it to the link as __stack_size, which the "
        "linker scripts of tlsgen's boards reserve; without it, the sessions' need when ram_bytes is given, else "
        "the board's default.")


ClientKey = Literal["ecdsa_secp256r1", "ecdsa_secp384r1", "rsa2048", "rsa3072"]


class ClientCertificate(Strict):
    """The device's own certificate, for servers that authenticate the client (mutual TLS)."""

    key: ClientKey = Field(
        description="The device key's type and size: ecdsa_secp256r1, ecdsa_secp384r1 (the curve must be one of "
        "tls.groups), rsa2048 or rsa3072 (TLS 1.3 signs with RSA-PSS: an rsa_pss_rsae_* scheme must be in "
        "tls.signature_algorithms). The device signs CertificateVerify with it; the heap holds it and the "
        "signature's working set.")
    chain_bytes: Annotated[int, Field(ge=256, le=16384)] = Field(
        description="DER bytes of the chain the device sends: its certificate and any intermediates (not the "
        "root). The heap holds it parsed; the Certificate message must fit one output record (out_content_len). "
        "Over DTLS it is written whole into the send buffer and then fragmented to the MTU (a send buffer sized "
        "from tls.dtls.mtu grows to hold it), and kept for retransmission until the server's last flight.")
    chain_certs: Annotated[int, Field(ge=1, le=4)] = Field(
        default=1, description="Certificates in that chain (the device's own and its intermediates).")
    issuer: SigAlgName | None = Field(
        default=None, description="What the chain's issuers sign with, as a signature scheme name (the key type "
        "of its CA and intermediates, and the hash): mbedTLS parses the device's chain, and knows only the "
        "signature algorithms the profile compiles in. Default: the device key's own scheme "
        "(ecdsa_secp256r1_sha256 for a P-256 key, ecdsa_secp384r1_sha384 for P-384, rsa_pkcs1_sha256 for RSA). "
        "AWS IoT Core's device certificates, for example, are rsa_pkcs1_sha256 whatever the device's key. RSA "
        "intermediates in the chain: at most 2048 bits (rsa_max_bits when the peer's chain may carry RSA keys).")


class Resumption(Strict):
    """How a reconnect may skip the full handshake (SslTcpStack::save_session / offer_session)."""

    tls12: list[Literal["session_id", "ticket"]] = Field(
        default_factory=list, description="TLS 1.2 resumption: session_id (the server keeps the session in its "
        "cache; nothing extra on the device) and/or ticket (RFC 5077: the server hands the device its session "
        "as an opaque ticket, MBEDTLS_SSL_SESSION_TICKETS; the heap holds it). Empty: TLS 1.2 sessions are not "
        "saved, and the ClientHello asks for no ticket.")
    tls13: list[Literal["psk_ephemeral", "psk_ke"]] = Field(
        default_factory=list, description="TLS 1.3 resumption by ticket (NewSessionTicket), with the PSK "
        "key-exchange modes offered: psk_ephemeral (psk_dhe_ke: a fresh (EC)DHE exchange keeps forward "
        "secrecy) and/or psk_ke (no (EC)DHE: cheapest, but the resumed session has NO forward secrecy: whoever "
        "later learns the ticket's key reads it; needs the insecure opt-in no_forward_secrecy). Empty: TLS 1.3 "
        "sessions are not saved and the server's tickets are dropped.")
    ticket_max_bytes: Annotated[int, Field(ge=32, le=16384)] = Field(
        default=448, description="Largest ticket a server sends (the heap holds one, also through the full "
        "handshake that replaces a rejected one). Measured: OpenSSL 3.0 about 180 (TLS 1.2) and 210 (TLS 1.3) "
        "bytes, GnuTLS 3.7 300-360 (358 in TLS 1.2 after a ClientHello that also offers TLS 1.3; it grows with the "
        "server name and ALPN). Servers that keep the session in the ticket put the client's certificate "
        "chain in it: with tls.client_certificate, at least the chain's bytes + 8 per certificate + 320. A server "
        "that sends a larger ticket is still served, but save_session() refuses that session (kResourceExhausted "
        "with the bytes it needs): it is not resumed.")


class Dtls(Strict):
    """DTLS 1.2 over datagrams (tls.transport: datagram): how the handshake copes with a lossy link."""

    mtu: Annotated[int, Field(ge=DTLS_MIN_MTU, le=DTLS_MAX_MTU)] = Field(
        default=1024, description="Largest datagram the device sends, record headers included "
        "(mbedtls_ssl_set_mtu): handshake messages are fragmented to fit, and an application datagram must fit "
        "one record in it (SslUdpStack::send refuses a larger one). Also bounded by the transport (the ESP8266 "
        "AT modem sends at most 2048 bytes per datagram). mbedTLS drops to 508 by itself after repeated "
        "retransmissions (RFC 6347 4.1.1.1).")
    handshake_timeout_min_ms: Annotated[int, Field(ge=100, le=60000)] = Field(
        default=1000, description="First retransmission timeout of a handshake flight "
        "(mbedtls_ssl_conf_handshake_timeout): a flight unanswered this long is sent again, and the timeout "
        "doubles each time.")
    handshake_timeout_max_ms: Annotated[int, Field(ge=100, le=600000)] = Field(
        default=16000, description="Largest retransmission timeout: once a flight has waited this long unanswered, "
        "the handshake fails (MBEDTLS_ERR_SSL_TIMEOUT). With the defaults an unanswered flight is sent at 0, 1, 3, "
        "7 and 15 s and the handshake fails at 31 s; each flight the server answers starts again from the minimum. "
        "At least handshake_timeout_min_ms, and large enough that the last resending comes at least 1.2 s after the "
        "first sending: a server sends a lost flight again only after its own 1 s timer (RFC 6347), so a shorter "
        "schedule gives up first (the smallest maximum is 801 ms for a 100 ms minimum, 2,001 ms for 1 s).")
    max_buffering_bytes: Annotated[int, Field(ge=256, le=65536)] | None = Field(
        default=None, description="Heap bytes mbedTLS may use to reassemble a fragmented handshake message and to "
        "keep messages and a record that came early (MBEDTLS_SSL_DTLS_MAX_BUFFERING); the heap reserves them. "
        "Default: what reassembling the largest message the server sends needs (its Certificate message with "
        "certificates, else its ServerHello), plus one early record. A message that does not fit is dropped and "
        "waits for the server's retransmission; one the handshake needs next and cannot fit ends it.")


class Tls(Strict):
    """What the TLS session needs to do."""

    role: Literal["client", "server"] = Field(
        default="client", description="client (a client does not link MBEDTLS_SSL_SRV_C). server is refused: "
        "the runtime sets up clients only, not supported yet.")
    transport: Literal["stream", "datagram"] = Field(
        default="stream", description="stream: TLS over a TcpStack (SslTcpStack). datagram: DTLS 1.2 over a "
        "UdpStack (SslUdpStack), with retransmission timers from the board's millisecond clock; versions [1.2] "
        "only (mbedTLS 3.6 has no DTLS 1.3), settings in tls.dtls.")
    dtls: Dtls | None = Field(
        default=None, description="DTLS settings (only with transport: datagram; default: each field's default).")
    versions: list[VersionItem] = Field(min_length=1, description="Protocol versions to enable.")
    cipher_suites: list[SuiteName] = Field(min_length=1, description="mbedTLS cipher suite names, in preference order.")
    groups: list[GroupName] = Field(default_factory=list,
                              description="(EC)DHE groups in preference order: " + ", ".join(GROUPS) + ".")
    verify: Literal["none", "optional", "required"] = Field(
        default="required", description="Peer certificate verification (none/optional need an insecure opt-in).")
    certificate_keys: list[Literal["ecdsa", "rsa"]] | None = Field(
        default=None, description="Key types in the peer's chain (default: what the suites imply; TLS 1.3: "
        "ecdsa). An ECDSA key's curve must be one of tls.groups.")
    rsa_max_bits: IntChoice(2048, 3072, 4096) = Field(default=2048, description="Largest RSA key in the peer's chain.")
    signature_algorithms: list[SigAlgName] | None = Field(
        default=None, description="What the peer's certificate chain and its handshake signature (TLS 1.2 "
        "ServerKeyExchange, TLS 1.3 CertificateVerify) may be signed with, in preference order (TLS "
        "SignatureScheme names: " + ", ".join(SIG_ALGS) + "). Sent in the signature_algorithms extension; "
        "the chain is verified against it and its hashes are compiled in. Default: for ECDSA, each "
        "secp* group with its hash (ecdsa_secp256r1_sha256 for secp256r1, ...); for RSA, rsa_pkcs1_sha256, "
        "plus rsa_pss_rsae_sha256 with TLS 1.3.")
    pem: bool = Field(default=True, description="Parse PEM (base64) CA certificates, and the client certificate "
                      "and key when there is one; false: DER only (less flash).")
    in_content_len: Annotated[int, Field(ge=MIN_CONTENT_LEN, le=MAX_CONTENT_LEN)] | None = Field(
        default=None, description="Largest record payload received (MBEDTLS_SSL_IN_CONTENT_LEN). Default: "
        "max_fragment_length if set, else 16384.")
    out_content_len: Annotated[int, Field(ge=MIN_CONTENT_LEN, le=MAX_CONTENT_LEN)] = Field(
        default=4096, description="Largest record payload sent (MBEDTLS_SSL_OUT_CONTENT_LEN). A datagram profile that "
        "leaves it out gets tls.dtls.mtu (at most 4096), or the largest handshake message the client writes when that "
        "is larger (mbedTLS writes a message whole, then fragments it to the MTU).")
    max_fragment_length: IntChoice(512, 1024, 2048, 4096) | None = Field(
        default=None, description="TLS 1.2 only: ask the peer for smaller records (RFC 6066). Needed by a TLS 1.2 "
        "profile with in_content_len below 16384. Alone it does not lower the heap: in_content_len does.")
    record_size_limit: bool = Field(
        default=False, description="TLS 1.3: advertise in_content_len as the RFC 8449 record_size_limit, so a "
        "peer that honours it sends records that fit a small receive buffer (MBEDTLS_SSL_RECORD_SIZE_LIMIT). "
        "Needed by any profile with TLS 1.3 and in_content_len below 16384; the peer must implement RFC 8449.")
    peer_chain_max_bytes: Annotated[int, Field(ge=256, le=65536)] = Field(
        default=4096, description="Largest peer certificate chain (DER bytes) the heap must hold.")
    peer_chain_max_certs: Annotated[int, Field(ge=1, le=8)] = Field(
        default=2, description="Most certificates in the peer's chain (the leaf and its intermediates): mbedTLS "
        "holds a parsed copy of each besides its DER.")
    ca_chain_bytes: Annotated[int, Field(ge=0, le=65536)] = Field(
        default=1024, description="DER bytes of the CA certificates the application loads (parsed onto the heap).")
    ca_chain_certs: Annotated[int, Field(ge=1, le=8)] = Field(
        default=1, description="How many CA certificates those bytes hold.")
    client_certificate: ClientCertificate | None = Field(
        default=None, description="The device's certificate and key type, for servers that ask for a client "
        "certificate (mutual TLS, e.g. cloud IoT endpoints); SslConfig::client_certificate() loads them. "
        "Without it the device sends no certificate and a server that requires one ends the handshake.")
    psk_max_bytes: Annotated[int, Field(ge=16, le=64)] = Field(default=32, description="Largest pre-shared key.")
    server_name_indication: bool = Field(
        default=True, description="Send the server name (SNI extension). The certificate's name is checked "
        "against it either way.")
    alpn: list[AlpnName] = Field(
        default_factory=list, description="ALPN protocol names, offered in this order by every session of "
        "the profile (empty: no ALPN); each 1 to 255 bytes in UTF-8 (RFC 7301), no NUL.")
    resumption: Resumption = Field(
        default_factory=Resumption, description="Session resumption: which TLS 1.2 and TLS 1.3 mechanisms a "
        "saved session may use on reconnect (default: none; SslTcpStack::save_session() refuses).")
    psa_exclusive_buffers: bool = Field(
        default=True, description="Where PSA crypto runs (TLS 1.3; TLS 1.2 too on the p256-m driver, which tlsgen "
        "picks on a bare-metal core when every curve is secp256r1): MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS (no PSA copy "
        "of each input and output; lowers the heap peak). Turn off only if another party shares the buffers.")

    @field_validator("versions", mode="before")
    @classmethod
    def _yaml_float_versions(cls, v: object) -> object:
        # `versions: [1.2, 1.3]` is natural YAML but parses as floats; accept exactly those numbers.
        if isinstance(v, list):
            return [str(x) if isinstance(x, float) and str(x) in ("1.2", "1.3") else x for x in v]
        return v


class Debug(Strict):
    level: Annotated[int, Field(ge=0, le=4)] = Field(
        default=0, description="mbedTLS debug level (0: MBEDTLS_DEBUG_C off).")
    error_strings: bool = Field(default=False, description="mbedtls_strerror() texts (MBEDTLS_ERROR_C).")


class Platform(Strict):
    heap: Literal["auto"] | Annotated[int, Field(gt=0, le=MAX_HEAP_BYTES)] = Field(
        default="auto", description="Static heap bytes: auto (the model's figure) or a fixed size checked "
        "against the model.")
    entropy: list[EntropyKind] = Field(
        min_length=1, description="Entropy sources: os (host only), hardware (mbedtls_hardware_poll), "
        "nv_seed (seed file in flash); at least one of these. test_static (insecure, labs and tests only) "
        "may only be added beside a real source, with the test_static_entropy opt-in.")
    time: Literal["none", "ms_clock", "calendar"] = Field(
        default="none", description="none; ms_clock: mbedtls_ms_time() from the board; calendar: time() "
        "(certificate validity dates are checked only with calendar).")
    debug: Debug = Field(default_factory=Debug)


class InsecureOptIn(Strict):
    allow: InsecureOption = Field(description="The insecure choice being allowed.")
    reason: Annotated[str, Field(min_length=10, pattern=REASON)] = Field(
        description="Why it is acceptable here (reviewed): at least 10 characters besides leading and trailing "
        "blanks.")


class Profile(Strict):
    """A tlsgen device profile, format 1."""

    profile: IntChoice(1) = Field(description="Profile format version.")
    name: Annotated[str, Field(pattern=NAME)] = Field(
        description="Identifier: lowercase letters, digits, '-' and '_'.")
    description: Annotated[str, Field(max_length=200, pattern=ONE_LINE)] = Field(
        default="", description="One line for the generated header: printable text, no line breaks, no '*/'.")
    target: Target
    tls: Tls
    platform: Platform
    optimize: Literal["size", "speed"] = Field(
        default="size", description="Trade flash for speed or not. size keeps mbedTLS's compact code, except where "
        "a few bytes were measured to buy many instructions (p256-m's object: 120-190 bytes for 4-10 % of a "
        "handshake); the generated config names each such choice.")
    insecure: list[InsecureOptIn] = Field(default_factory=list,
                                          description="Explicit, reasoned opt-ins to insecure choices.")

