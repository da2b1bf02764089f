"""Symmetric crypto and hashes: the record ciphers and modes of the suites, and every hash the
profile needs: each suite's PRF/HKDF hash and each signature algorithm's hash (tls.signature_algorithms),
so a CA signed with SHA-256 parses even when every suite uses SHA-384."""

from __future__ import annotations

from tlsgen.catalog import HASH_MACROS
from tlsgen.resolve.core import SY, H, S, Context

HASH_TEXT = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}


def _hash(c: Context, name: str, why: str, src) -> None:
    for macro in HASH_MACROS[name]:
        text = f"{HASH_TEXT[name]} for {why}"
        if macro == "MBEDTLS_SHA512_C" and name == "sha384":
            text = f"SHA-384 (computed by the SHA-512 module) for {why}"
        c.b.define(macro, H, text, src)


def apply(c: Context) -> None:
    b = c.b
    b.define("MBEDTLS_CIPHER_C", SY, "generic cipher layer used by TLS records", ("tls", "cipher_suites"))
    b.define("MBEDTLS_MD_C", H, "generic hash layer (handshake hash, HMAC, HKDF)", ("tls", "cipher_suites"))
    for i, s in enumerate(c.suites):
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
        _hash(c, s.hash, "the suite's PRF/HKDF", src)
    if all(s.mode != "cbc" for s in c.suites):
        # CCM, GCM and ChaCha20-Poly1305 only ever run the block cipher forwards (as does CTR_DRBG), so AES
        # decryption, its key schedule and its reverse tables are dead code: -2,440 bytes in m4-psk-ccm8's
        # minimal client (bench/footprint, Cortex-M4), the instructions unchanged. mbedTLS refuses it beside CBC,
        # XTS, DES and NIST_KW (check_config.h), none of which tlsgen compiles in without a CBC suite.
        b.define("MBEDTLS_BLOCK_CIPHER_NO_DECRYPT", SY, "every record cipher is an AEAD mode, which only encrypts "
                 "with the block cipher: AES decryption and its tables left out", ("tls", "cipher_suites"))
    for i, a in enumerate(c.sig_algs):
        src = ("tls", "signature_algorithms", i) if c.tls.signature_algorithms is not None else \
            ("tls", "signature_algorithms")
        _hash(c, a.hash, f"{a.name} signatures (chain, handshake)", src)
    if c.client_issuer is not None:
        # mbedTLS parses the device's own chain too (SslConfig::client_certificate), and refuses a certificate
        # whose issuer's signature names a hash it does not have (MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG).
        cc = c.tls.client_certificate
        _hash(c, c.client_issuer.hash, f"parse the device's certificate chain: its issuers sign with "
              f"{c.client_issuer.name}", ("tls", "client_certificate", "issuer" if cc.issuer else "key"))
    if c.tls13:
        b.define("MBEDTLS_HKDF_C", H, "TLS 1.3 key schedule (PSA HKDF)", ("tls", "versions"))
