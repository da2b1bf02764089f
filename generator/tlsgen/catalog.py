"""What tlsgen knows about mbedTLS 3.6: cipher suites, groups, targets.

Facts only (names, IANA numbers, the primitives each suite needs); the decisions that turn them into
macros live in resolve.py. Suite names are mbedTLS's own (mbedtls_ssl_get_ciphersuite_name()).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kex(str, Enum):
    PSK = "psk"
    ECDHE_PSK = "ecdhe_psk"
    ECDHE_ECDSA = "ecdhe_ecdsa"
    ECDHE_RSA = "ecdhe_rsa"
    RSA = "rsa"
    TLS13 = "tls13"  # TLS 1.3 suites name only the AEAD and hash; key exchange is negotiated apart

    @property
    def uses_certificates(self) -> bool:
        return self in (Kex.ECDHE_ECDSA, Kex.ECDHE_RSA, Kex.RSA)

    @property
    def uses_psk(self) -> bool:
        return self in (Kex.PSK, Kex.ECDHE_PSK)

    @property
    def uses_ecdhe(self) -> bool:
        return self in (Kex.ECDHE_PSK, Kex.ECDHE_ECDSA, Kex.ECDHE_RSA)


@dataclass(frozen=True)
class Suite:
    name: str
    iana: int
    version: str  # "1.2" or "1.3"
    kex: Kex
    cipher: str  # "aes" | "chacha20"
    key_bits: int
    mode: str  # "gcm" | "ccm" | "ccm8" | "cbc" | "chachapoly"
    hash: str  # "sha256" | "sha384"

    @property
    def macro(self) -> str:
        return "MBEDTLS_" + self.name.replace("-", "_")

    @property
    def uses_mac(self) -> bool:
        """Suites whose records carry an HMAC (CBC); AEAD suites carry a tag instead."""
        return self.mode == "cbc"


def _s(name: str, iana: int, kex: Kex, mode: str, hash_: str = "sha256", version: str = "1.2") -> Suite:
    cipher = "chacha20" if "CHACHA20" in name else "aes"
    key_bits = 256 if ("AES-256" in name or cipher == "chacha20") else 128
    return Suite(name, iana, version, kex, cipher, key_bits, mode, hash_)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in [
        # TLS 1.3 (RFC 8446)
        _s("TLS1-3-AES-128-GCM-SHA256", 0x1301, Kex.TLS13, "gcm", version="1.3"),
        _s("TLS1-3-AES-256-GCM-SHA384", 0x1302, Kex.TLS13, "gcm", "sha384", version="1.3"),
        _s("TLS1-3-CHACHA20-POLY1305-SHA256", 0x1303, Kex.TLS13, "chachapoly", version="1.3"),
        _s("TLS1-3-AES-128-CCM-SHA256", 0x1304, Kex.TLS13, "ccm", version="1.3"),
        _s("TLS1-3-AES-128-CCM-8-SHA256", 0x1305, Kex.TLS13, "ccm8", version="1.3"),
        # TLS 1.2 PSK
        _s("TLS-PSK-WITH-AES-128-CCM-8", 0xC0A8, Kex.PSK, "ccm8"),
        _s("TLS-PSK-WITH-AES-256-CCM-8", 0xC0A9, Kex.PSK, "ccm8"),
        _s("TLS-PSK-WITH-AES-128-CCM", 0xC0A4, Kex.PSK, "ccm"),
        _s("TLS-PSK-WITH-AES-256-CCM", 0xC0A5, Kex.PSK, "ccm"),
        _s("TLS-PSK-WITH-AES-128-GCM-SHA256", 0x00A8, Kex.PSK, "gcm"),
        _s("TLS-PSK-WITH-AES-256-GCM-SHA384", 0x00A9, Kex.PSK, "gcm", "sha384"),
        _s("TLS-PSK-WITH-AES-128-CBC-SHA256", 0x00AE, Kex.PSK, "cbc"),
        _s("TLS-PSK-WITH-CHACHA20-POLY1305-SHA256", 0xCCAB, Kex.PSK, "chachapoly"),
        # TLS 1.2 ECDHE-PSK
        _s("TLS-ECDHE-PSK-WITH-AES-128-CBC-SHA256", 0xC037, Kex.ECDHE_PSK, "cbc"),
        _s("TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256", 0xCCAC, Kex.ECDHE_PSK, "chachapoly"),
        # TLS 1.2 ECDHE-ECDSA
        _s("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", 0xC02B, Kex.ECDHE_ECDSA, "gcm"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384", 0xC02C, Kex.ECDHE_ECDSA, "gcm", "sha384"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-128-CCM", 0xC0AC, Kex.ECDHE_ECDSA, "ccm"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-256-CCM", 0xC0AD, Kex.ECDHE_ECDSA, "ccm"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8", 0xC0AE, Kex.ECDHE_ECDSA, "ccm8"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-256-CCM-8", 0xC0AF, Kex.ECDHE_ECDSA, "ccm8"),
        _s("TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256", 0xCCA9, Kex.ECDHE_ECDSA, "chachapoly"),
        _s("TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256", 0xC023, Kex.ECDHE_ECDSA, "cbc"),
        # TLS 1.2 ECDHE-RSA
        _s("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", 0xC02F, Kex.ECDHE_RSA, "gcm"),
        _s("TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384", 0xC030, Kex.ECDHE_RSA, "gcm", "sha384"),
        _s("TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256", 0xCCA8, Kex.ECDHE_RSA, "chachapoly"),
        _s("TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256", 0xC027, Kex.ECDHE_RSA, "cbc"),
        # TLS 1.2 static RSA (no forward secrecy)
        _s("TLS-RSA-WITH-AES-128-GCM-SHA256", 0x009C, Kex.RSA, "gcm"),
        _s("TLS-RSA-WITH-AES-256-GCM-SHA384", 0x009D, Kex.RSA, "gcm", "sha384"),
    ]
}


@dataclass(frozen=True)
class Group:
    name: str
    iana: int
    macro: str  # MBEDTLS_ECP_DP_*_ENABLED
    bytes: int  # size of a field element / scalar
    montgomery: bool  # x25519/x448: ECDHE only, no ECDSA certificates
    nist: bool


GROUPS: dict[str, Group] = {
    g.name: g
    for g in [
        Group("secp256r1", 0x0017, "MBEDTLS_ECP_DP_SECP256R1_ENABLED", 32, False, True),
        Group("secp384r1", 0x0018, "MBEDTLS_ECP_DP_SECP384R1_ENABLED", 48, False, True),
        Group("secp521r1", 0x0019, "MBEDTLS_ECP_DP_SECP521R1_ENABLED", 66, False, True),
        Group("x25519", 0x001D, "MBEDTLS_ECP_DP_CURVE25519_ENABLED", 32, True, False),
        Group("x448", 0x001E, "MBEDTLS_ECP_DP_CURVE448_ENABLED", 56, True, False),
    ]
}


@dataclass(frozen=True)
class Cpu:
    name: str
    word_bytes: int  # sizeof(void*)
    alignment: int  # alignof(max_align_t): what calloc must return
    bare_metal: bool
    has_dsp: bool  # UMAAL and friends: mbedTLS's bn_mul.h assembly
    arch: str = ""  # architecture and instruction set, for the generated config's reader
    bignum_asm: str = ""  # why MBEDTLS_HAVE_ASM, on this core: which bn_mul.h path it selects
    notes: tuple[str, ...] = ()  # what else the core means for mbedTLS (alignment, extensions), in the config

    @property
    def thumb1(self) -> bool:
        """ARMv6-M (Thumb-1 only): no rotated operands, no 32x32->64 multiply, larger code."""
        return self.name == "cortex-m0plus"


#: Unaligned access on ARMv7-M and later: allowed for single loads and stores (LDR/STR/LDRH/STRH) to Normal
#: memory, so the compiler defines __ARM_FEATURE_UNALIGNED and mbedTLS's alignment.h turns on
#: MBEDTLS_EFFICIENT_UNALIGNED_ACCESS by itself; LDM/STM/LDRD/STRD still fault unaligned, and the compiler
#: keeps those aligned.
_UNALIGNED_V7 = ("unaligned LDR/STR allowed (to Normal memory): the compiler defines __ARM_FEATURE_UNALIGNED and "
                 "mbedTLS's alignment.h sets MBEDTLS_EFFICIENT_UNALIGNED_ACCESS itself; LDM/STM/LDRD/STRD stay "
                 "aligned (the compiler sees to it)")
_HEAP_ALIGN = ("heap blocks 8-byte aligned: alignof(max_align_t) under the AAPCS, which 64-bit bignum "
               "temporaries and LDRD/STRD need")
_NO_A_CRYPTO = ("no ARMv8-A crypto instructions: MBEDTLS_AESCE_C and MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_* are "
                "for A-profile cores and stay off")
_UMAAL = ("DSP extension: bn_mul.h's UMAAL path, one multiply-accumulate-accumulate per 32-bit limb; and "
          "constant_time_impl.h's Arm assembly")

CPUS: dict[str, Cpu] = {
    c.name: c
    for c in [
        Cpu("cortex-m0plus", 4, 8, True, False, "ARMv6-M: Thumb-1, the instruction set of the M0",
            "ARMv6-M has no 32x32->64 multiply (no UMULL, only the 32-bit MULS): without assembly every limb "
            "product is a call to libgcc's __aeabi_lmul; bn_mul.h's Thumb-1 MULADDC builds it from four 16x16 "
            "MULS (GCC only: that path does not build with clang or armclang)",
            ("no unaligned access: a misaligned LDR/STR faults, so the compiler never emits one and mbedTLS's "
             "alignment.h, without __ARM_FEATURE_UNALIGNED, reads and writes multi-byte fields through memcpy",
             _HEAP_ALIGN,
             "no hardware divide and no DSP, FPU or crypto extension: mbedTLS uses none of them here")),
        Cpu("cortex-m3", 4, 8, True, False, "ARMv7-M, Thumb-2",
            "ARMv7-M has UMULL but not the DSP extension's UMAAL: bn_mul.h's Thumb-2 path (UMULL, then ADDS/ADC "
            "for the carries); and constant_time_impl.h's Arm assembly",
            (_UNALIGNED_V7, _HEAP_ALIGN, "no DSP extension and no FPU")),
        Cpu("cortex-m4", 4, 8, True, True, "ARMv7E-M, Thumb-2 with the DSP extension", _UMAAL,
            (_UNALIGNED_V7, _HEAP_ALIGN, "the FPU (FPv4-SP) is not used by mbedTLS")),
        Cpu("cortex-m7", 4, 8, True, True, "ARMv7E-M, Thumb-2 with the DSP extension (dual-issue)", _UMAAL,
            (_UNALIGNED_V7 + "; an unaligned access to a Device region faults, and mbedTLS touches RAM only",
             _HEAP_ALIGN,
             "the FPU (FPv5) and the caches are the application's: mbedTLS uses neither (buffers a DMA engine "
             "shares with the TCP stack need the application's cache maintenance)",
             _NO_A_CRYPTO)),
        Cpu("cortex-m33", 4, 8, True, True, "ARMv8-M Mainline, Thumb-2 (DSP extension and FPU optional)",
            _UMAAL + " (GCC's -mcpu=cortex-m33 assumes the DSP extension; for a part without it, compile with "
            "-mcpu=cortex-m33+nodsp and bn_mul.h takes the UMULL path)",
            (_UNALIGNED_V7, _HEAP_ALIGN,
             "TrustZone is not needed: mbedTLS runs in whichever security state the firmware runs",
             _NO_A_CRYPTO)),
        Cpu("host", 8, 16, False, True, "the build machine (x86-64: 64-bit limbs)",
            "mbedTLS's bignum assembly for the host CPU (x86-64: MULQ)", ()),
    ]
}

#: Key types a peer certificate (or a CA in its chain) may carry.
CERT_KEY_TYPES = ("ecdsa", "rsa")

#: Hash -> the mbedTLS modules that compute it (SHA-384 is the SHA-512 module cut short).
HASH_MACROS = {
    "sha256": ("MBEDTLS_SHA256_C",),
    "sha384": ("MBEDTLS_SHA512_C", "MBEDTLS_SHA384_C"),
    "sha512": ("MBEDTLS_SHA512_C",),
}


@dataclass(frozen=True)
class SigAlg:
    """A TLS SignatureScheme (RFC 8446 4.2.3): what the peer's chain and its handshake signature
    (TLS 1.2 ServerKeyExchange, TLS 1.3 CertificateVerify) may be signed with.

    TLS 1.3 binds an ECDSA scheme to its curve; in TLS 1.2 the same code means ECDSA with that hash
    on any enabled curve. RSA-PSS handshake signatures exist only in TLS 1.3 for mbedTLS 3.6's client
    (its TLS 1.2 client verifies PKCS#1 v1.5 ServerKeyExchange signatures only); PKCS#1 v1.5 is never
    a TLS 1.3 handshake signature, only a certificate signature.
    """

    name: str
    iana: int
    key: str  # "ecdsa" | "rsa": the signer's key type
    scheme: str  # "ecdsa" | "pkcs1" | "pss"
    hash: str  # "sha256" | "sha384" | "sha512"
    curve: str | None = None  # ECDSA: the group TLS 1.3 binds it to

    def handshake_in(self, version: str) -> bool:
        """Whether a server may sign its handshake with this in `version` (for mbedTLS 3.6's client)."""
        if self.scheme == "ecdsa":
            return True
        return self.scheme == ("pss" if version == "1.3" else "pkcs1")


SIG_ALGS: dict[str, SigAlg] = {
    a.name: a
    for a in [
        SigAlg("ecdsa_secp256r1_sha256", 0x0403, "ecdsa", "ecdsa", "sha256", "secp256r1"),
        SigAlg("ecdsa_secp384r1_sha384", 0x0503, "ecdsa", "ecdsa", "sha384", "secp384r1"),
        SigAlg("ecdsa_secp521r1_sha512", 0x0603, "ecdsa", "ecdsa", "sha512", "secp521r1"),
        SigAlg("rsa_pss_rsae_sha256", 0x0804, "rsa", "pss", "sha256"),
        SigAlg("rsa_pss_rsae_sha384", 0x0805, "rsa", "pss", "sha384"),
        SigAlg("rsa_pss_rsae_sha512", 0x0806, "rsa", "pss", "sha512"),
        SigAlg("rsa_pkcs1_sha256", 0x0401, "rsa", "pkcs1", "sha256"),
        SigAlg("rsa_pkcs1_sha384", 0x0501, "rsa", "pkcs1", "sha384"),
        SigAlg("rsa_pkcs1_sha512", 0x0601, "rsa", "pkcs1", "sha512"),
    ]
}

#: The hash an ECDSA curve is paired with in TLS 1.3 (and in the default signature_algorithms).
CURVE_HASH = {"secp256r1": "sha256", "secp384r1": "sha384", "secp521r1": "sha512"}


#: Certificate structure besides the key and the signature: version, serial, algorithm identifiers,
#: validity, a short issuer and subject name, and the extensions a usable certificate carries (a leaf's
#: subjectAltName, key usage, basic constraints, key identifiers; a CA's basic constraints, key usage, key
#: identifiers). Measured with openssl: a P-256 leaf signed with P-256 is 450 DER bytes, an intermediate
#: 415, a self-signed root 372; RSA-2048 846 / 811 / 768; RSA-4096 signed with RSA-PSS 1,462 / 1,427 / 1,384.
CERT_STRUCTURE_BYTES = {"leaf": 291, "intermediate": 256, "root": 213}


def min_cert_der_bytes(key: str, size: int, signer_key: str, signer_size: int, pss: bool = False,
                       role: str = "leaf") -> int:
    """The DER size of the smallest usable certificate of this kind: its public key, its issuer's signature
    and the structure of CERT_STRUCTURE_BYTES; an RSASSA-PSS signature's parameters add 110 bytes.
    `size`: field bytes of an ECDSA curve, modulus bytes of an RSA key."""
    spki = 27 + 2 * size if key == "ecdsa" else 38 + size  # algorithm identifier, point | modulus + exponent
    sig = 4 + 2 * signer_size if signer_key == "ecdsa" else 5 + signer_size
    return CERT_STRUCTURE_BYTES[role] + spki + sig + (110 if pss and signer_key == "rsa" else 0)
