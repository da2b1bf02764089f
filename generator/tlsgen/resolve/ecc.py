"""The elliptic-curve implementation: mbedTLS's legacy ECP module, or its bundled p256-m driver through PSA.

Where every curve a bare-metal profile uses is secp256r1 (its ECDHE groups, the peer's ECDSA keys), mbedTLS 3.6
can do all of it with p256-m (3rdparty/p256-m: one curve, 32-bit limbs, everything on the stack) behind the PSA
API instead of the generic ECP and bignum modules. Measured on Cortex-M4 (QEMU mps2-an386, -icount; flash: the
minimal client of bench/footprint), m4-ecdhe-ecdsa (TLS 1.2 ECDHE-ECDSA P-256, `optimize: size`):

    legacy ECP, comb window 2 (2026-12-02)    56,072 bytes flash   6,368 heap peak   103.1 M handshake instructions
    p256-m through PSA (2026-12-03)           55,972               4,272              60.5 M
    its object at P256M_SIZE_FLAGS (12-06)    +192 (the firmware)  4,272              55.6 M

so p256-m is picked wherever it can be: smaller and faster, with less heap. The rules below say where it
cannot, and the generated configuration carries the PSA configuration (`PSA_WANT_*`, mbedTLS's
MBEDTLS_PSA_CRYPTO_CONFIG) mirroring what mbedTLS derives from the legacy macros
(include/mbedtls/config_adjust_psa_from_legacy.h), so the rest of the library is built as before.

Not (yet) on p256-m, each kept on the legacy ECP: a host build (flash does not matter there, and x86-64's
64-bit limbs make the legacy module fast); any other curve (p256-m has only P-256, and cannot sit beside the
built-in X25519 in 3.6: check_config.h); RSA anywhere (PSA would then carry the RSA keys too, another heap
profile); ECDHE-PSK suites (their premaster union member is sized by the legacy ECP's curve size, below);
a device certificate (tls.client_certificate: runtime/src/ssl/external_key.cpp's signer is a legacy pk type);
psa_exclusive_buffers: false (PSA's record copies on p256-m are not modelled within the heap margin yet); TLS 1.2 and
1.3 together with resumption (sweep 9961: a kept chain parsed twice when a TLS 1.2 session is offered; TLS 1.3
resumption failing beside the premaster workaround).
"""

from __future__ import annotations

from tlsgen.catalog import Kex
from tlsgen.resolve.core import EC, PS, S, Z, Context

#: What the legacy ECC macros become on p256-m. ECP_C, ECDH_C and ECDSA_C are replaced by PSA's wants for the
#: curve and algorithms; the bignum module goes too when nothing else (RSA) needs it.
LEGACY_ECC = ("MBEDTLS_ECP_C", "MBEDTLS_ECDH_C", "MBEDTLS_ECDSA_C", "MBEDTLS_ECP_DP_SECP256R1_ENABLED",
              "MBEDTLS_ECP_NIST_OPTIM", "MBEDTLS_BIGNUM_C", "MBEDTLS_MPI_MAX_SIZE")

#: PSA_WANT_* from legacy macros, as include/mbedtls/config_adjust_psa_from_legacy.h derives them (mbedTLS 3.6.6),
#: for the macros tlsgen can emit. Under MBEDTLS_PSA_CRYPTO_CONFIG mbedTLS derives nothing: the configuration
#: must say it (tests/configs/psa_wants.py compares this with mbedTLS's own derivation). Two of mbedTLS's are left
#: out, as no TLS client uses them: ECB without padding (AES_C with CIPHER_C; TLS records are AEAD or CBC: 64 bytes
#: of flash) and, without PSK suites, TLS12_PSK_TO_MS (the PSK key exchange is then compiled in for its premaster
#: buffer only: 384 bytes); with TLS 1.3 alone, TLS 1.2's PRF too.
PSA_FROM_LEGACY: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), ("PSA_WANT_ALG_HMAC", "PSA_WANT_KEY_TYPE_HMAC")),
    (("MBEDTLS_CCM_C",), ("PSA_WANT_ALG_CCM",)),
    (("MBEDTLS_CCM_C", "MBEDTLS_CIPHER_C"), ("PSA_WANT_ALG_CCM_STAR_NO_TAG",)),
    (("MBEDTLS_GCM_C",), ("PSA_WANT_ALG_GCM",)),
    (("MBEDTLS_HKDF_C",), ("PSA_WANT_ALG_HKDF", "PSA_WANT_ALG_HKDF_EXTRACT", "PSA_WANT_ALG_HKDF_EXPAND")),
    (("MBEDTLS_MD_C",), ("PSA_WANT_ALG_TLS12_PRF", "PSA_WANT_ALG_TLS12_PSK_TO_MS")),
    (("MBEDTLS_SHA256_C",), ("PSA_WANT_ALG_SHA_256",)),
    (("MBEDTLS_SHA384_C",), ("PSA_WANT_ALG_SHA_384",)),
    (("MBEDTLS_SHA512_C",), ("PSA_WANT_ALG_SHA_512",)),
    (("MBEDTLS_AES_C",), ("PSA_WANT_KEY_TYPE_AES",)),
    (("MBEDTLS_CHACHA20_C",), ("PSA_WANT_KEY_TYPE_CHACHA20",)),
    (("MBEDTLS_CHACHA20_C", "MBEDTLS_CIPHER_C"), ("PSA_WANT_ALG_STREAM_CIPHER",)),
    (("MBEDTLS_CHACHAPOLY_C",), ("PSA_WANT_ALG_CHACHA20_POLY1305",)),
    (("MBEDTLS_CIPHER_MODE_CBC",), ("PSA_WANT_ALG_CBC_NO_PADDING",)),
)

#: What p256-m provides (include/mbedtls/config_adjust_legacy_from_psa.h line 32: the driver's ACCEL macros).
P256M_KEYS = ("PSA_WANT_ECC_SECP_R1_256", "PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY", "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC",
              "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT", "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT",
              "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE")

#: What leaving MBEDTLS_CIPHER_C out of a p256-m build saves (arm-none-eabi-gcc 12.2 -Os, bench/footprint's minimal
#: client; bench/handshake: the same handshake, fewer allocations, the same heap peak).
CIPHER_C_SAVED = ("m4-ecdhe-ecdsa's minimal client 53,532 -> 52,652 bytes of flash, 102 -> 88 allocator calls per "
                  "handshake")

#: The define that puts a generated configuration on the p256-m driver.
P256M_DRIVER = "MBEDTLS_PSA_P256M_DRIVER_ENABLED"


#: The compiler options p256-m's object (3rdparty/p256-m/p256-m/p256-m.c) gets under `optimize: size` on the cores
#: measured to gain (P256M_SIZE_CORES; the rule: resolve.tradeoffs.P256M_SIZE), after the toolchain's -Os: GCC's -O2
#: scheduling and register use in the Montgomery multiplication, but p256-m's small helpers stay calls
#: (-fno-inline-small-functions: -O2 would copy u288_muladd, the 8-limb add, subtract and select into each caller) and
#: its 9-word zeroing stays a loop (-fno-tree-loop-distribute-patterns: -Os made it a memset call on every
#: multiplication). Measured in QEMU, the same firmware with p256-m.c at -Os and with these (handshake instructions;
#: text+data of the image; the stack peak unchanged): m4-tls13-p256 (TLS 1.3, resume firmware's full handshake) 60.73 M -> 55.64 M, 75,816 -> 75,944 bytes;
#: m4-ecdhe-ecdsa 60.66 M -> 55.58 M, 65,288 -> 65,480; m33-ecdhe-ecdsa 60.66 M -> 54.81 M, 65,120 -> 65,264;
#: m3-ecdhe-ecdsa 191.4 M -> 182.1 M, 64,992 -> 65,112; m4-ecdhe-ecdsa as a cortex-m0plus profile (sweep firmware, run
#: on mps2-an385, whose RAM a p256-m build needs) 240.9 M -> 231.3 M, 69,448 -> 69,616. Plain -O2: 55.19 M for 1,600
#: bytes (m4-tls13-p256). Only on the cores measured to gain (P256M_SIZE_CORES): the Cortex-M7 keeps -Os, where the
#: same A/B (m4-ecdhe-ecdsa as a cortex-m7 profile, on mps2-an500) measured 60.66 M -> 67.30 M (GCC's M7 tuning trades
#: instructions for dual issue).
P256M_SIZE_FLAGS = ("-O2", "-fno-inline-small-functions", "-fno-tree-loop-distribute-patterns")
P256M_SIZE_CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m33")
P256M_SIZE_NOTE = ("; p256-m.c compiled with " + " ".join(P256M_SIZE_FLAGS) + " by tlsgen_add_library (measured on "
                   "Cortex-M4: 8 % fewer handshake instructions for about 190 bytes more flash than -Os)")


def built_on_p256m(config_text: str) -> bool:
    """Whether a generated mbedtls_config.h is on the p256-m driver: measurement tools keep an image or a session
    with the implementation it was built on, whatever today's rules pick for its profile."""
    return f"#define {P256M_DRIVER}" in config_text


#: The smallest MBEDTLS_PSK_MAX_LEN whose PSK premaster (4 + 2 * len bytes) holds a P-256 ECDHE secret (a profile's
#: own PSK suites bring a larger one: tls.psk_max_bytes is at least 16).
PREMASTER_PSK_LEN = 14


def why_legacy(c: Context) -> str | None:
    """Why this profile keeps the legacy ECP module (None: p256-m serves every curve it uses)."""
    b, tls = c.b, c.tls
    if not b.defined("MBEDTLS_ECP_C"):
        return "no elliptic curve"
    if not c.cpu.bare_metal:
        return "a host build (the legacy module's 64-bit limbs)"
    other = [g.name for g in c.groups if g.name != "secp256r1"]
    if other:
        return f"{', '.join(other)} (p256-m has secp256r1 only)"
    if b.defined("MBEDTLS_RSA_C"):
        return "RSA keys (PSA would carry them too)"
    if c.has_kex(Kex.ECDHE_PSK):
        return "ECDHE-PSK suites (mbedTLS 3.6 sizes their premaster by the legacy curve size)"
    if tls.client_certificate is not None:
        return "a device certificate (tlsgen's external signer is a legacy pk type)"
    res = tls.resumption
    if c.tls12 and c.tls13 and res.tls13 and c.has_kex(Kex.ECDHE_ECDSA):
        # Sweep 9961, m9961-0072: the resumed TLS 1.3 session failed -0x7100 (as with TLS 1.2 PSK suites beside TLS
        # 1.3 resumption, which resolve.resumption refuses): the premaster workaround below compiles TLS 1.2 PSK in.
        return ("TLS 1.3 resumption beside TLS 1.2 ECDHE (p256-m's premaster workaround compiles TLS 1.2 PSK in, and "
                "mbedTLS 3.6 then fails the resumed TLS 1.3 handshake, -0x7100)")
    if c.tls12 and c.tls13 and res.tls12:
        # Sweep 9961, m9961-2831 and -2851: with TLS 1.3 enabled mbedTLS keeps the peer's chain, and offering a saved
        # TLS 1.2 session parses it twice (the loaded session and mbedtls_ssl_set_session()'s copy): beyond the
        # full handshake's peak on p256-m, whose handshake needs little heap (the legacy ECP's working sets cover it).
        return ("TLS 1.2 resumption beside TLS 1.3 (a saved session's kept peer chain is parsed twice when offered, "
                "more heap than a p256-m handshake needs: tlsgen's heap model does not cover it)")
    if not tls.psa_exclusive_buffers:
        # PSA's copies of the records (no MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS) follow the sizes of the records the
        # server sends; the calibration sessions with them (cal-p4) did not fit the phase model within its margin.
        return ("psa_exclusive_buffers: false (tlsgen's heap model of the p256-m driver is measured with exclusive "
                "buffers)")
    return None


def apply(c: Context, allowed: bool = True) -> None:
    b = c.b
    why = why_legacy(c) if allowed else "p256-m not allowed by the caller"
    if why is not None:
        c.ecc_why = why
        if b.defined("MBEDTLS_ECP_C"):
            c.ecc_note = f"elliptic curves: mbedTLS's ECP module (not the p256-m driver: {why})"
            x25519_ladder(c)
            p256_jacobian(c)
        return
    c.p256m = True
    c.ecc_note = "elliptic curves: the p256-m driver through PSA (every curve is secp256r1)"
    reasons: list = []
    for name in LEGACY_ECC:
        reasons += b.drop(name)
    curve = [r for r in reasons if "secp256r1" in r[0] or "group" in r[0]] or reasons
    for name in P256M_KEYS:
        b.define_for(name, PS, curve, "1")
    if c.groups:
        b.define("PSA_WANT_ALG_ECDH", PS, "ECDHE on secp256r1", ("tls", "groups", 0), "1")
    if "ecdsa" in c.cert_keys:
        b.define("PSA_WANT_ALG_ECDSA", PS, "ECDSA signatures on secp256r1 (the peer's chain and handshake)",
                 c.cert_keys_src, "1")
    b.define(P256M_DRIVER, PS, "every curve is secp256r1: mbedTLS's bundled p256-m driver "
             "instead of the ECP and bignum modules (measured on Cortex-M4, TLS 1.2 ECDHE-ECDSA, optimize: size: flash "
             "55,972 bytes against 56,072 on the ECP module, heap peak 4,272 against 6,368, 60.5 M handshake "
             "instructions against 103.1 M)", ("tls", "groups"))
    use_psa = "X.509, pk and TLS 1.2 reach the curve through PSA (p256-m)"
    if not b.defined("MBEDTLS_CIPHER_MODE_CBC") and b.drop("MBEDTLS_CIPHER_C"):
        # ChangeLog of mbedTLS 3.5.0: "MBEDTLS_PSA_CRYPTO can now be enabled without MBEDTLS_CIPHER_C if all
        # unauthenticated (non-AEAD) ciphers are disabled"; check_config.h line 887: TLS needs CIPHER_C or
        # USE_PSA_CRYPTO. The records go through PSA's AEAD, GCM and CCM through mbedTLS's block cipher layer.
        use_psa += ("; and the records through PSA's AEAD: no CBC suite, so the generic cipher layer "
                    "(MBEDTLS_CIPHER_C) is left out (" + CIPHER_C_SAVED + ")")
    b.define("MBEDTLS_USE_PSA_CRYPTO", PS, use_psa, ("tls", "groups"))
    b.define("MBEDTLS_PSA_CRYPTO_CONFIG", PS, "PSA's features are listed here (PSA_WANT_*), not derived from the "
             "legacy macros: that is what keeps the legacy ECP out", ("tls", "groups"))
    b.define("MBEDTLS_PSA_CRYPTO_CONFIG_FILE", PS, "the PSA_WANT_* list is in this file (its include guard makes "
             "the second inclusion empty)", ("tls", "groups"), "<mbedtls_config.h>")
    for needs, wants in PSA_FROM_LEGACY:
        if all(b.defined(m) for m in needs):
            for w in wants:
                if w == "PSA_WANT_ALG_TLS12_PSK_TO_MS" and not c.has_kex(Kex.PSK):
                    continue  # no PSK suite: the PSK key exchange below is compiled in for its buffer only
                if w.startswith("PSA_WANT_ALG_TLS12_") and not c.tls12:
                    continue  # TLS 1.3 alone: no TLS 1.2 PRF
                b.define(w, PS, "as mbedTLS derives it from " + (" and ".join(needs) or "any configuration")
                         + " without MBEDTLS_PSA_CRYPTO_CONFIG (config_adjust_psa_from_legacy.h)", ("tls", "groups"),
                         "1")
    if c.tls12 and c.has_kex(Kex.ECDHE_ECDSA):
        # include/mbedtls/config_adjust_ssl.h line 85 defines it from MBEDTLS_ECDH_C or MBEDTLS_ECDSA_C only; without
        # it library/ssl_client.c line 269 leaves secp256r1 out of the TLS 1.2 supported-groups extension, and the
        # server has no curve to pick (OpenSSL: handshake failure).
        b.define("MBEDTLS_SSL_TLS1_2_SOME_ECC", S, "mbedTLS 3.6.6 gap on PSA-only ECC: config_adjust_ssl.h line 85 "
                 "sets it from ECDH_C/ECDSA_C only, and without it ssl_client.c line 269 offers no curve in the TLS "
                 "1.2 supported-groups extension", ("tls", "groups"))
        if not c.has_kex(Kex.PSK):
            # include/mbedtls/ssl.h line 703: the ECDHE premaster member is MBEDTLS_ECP_MAX_BYTES long, and ecp.h
            # line 322 makes that 1 byte without the legacy ECP; psa_raw_key_agreement() into it then fails
            # (library/ssl_tls12_client.c line 2856). The PSK member (4 + 2 * MBEDTLS_PSK_MAX_LEN) is the
            # cheapest that holds the 32-byte P-256 secret; no PSK suite is offered (MBEDTLS_SSL_CIPHERSUITES).
            why = ("mbedTLS 3.6.6 gap on PSA-only ECC: ssl.h line 703 sizes the ECDHE premaster by "
                   "MBEDTLS_ECP_MAX_BYTES, 1 byte without the legacy ECP (ecp.h line 322); the PSK member "
                   "(4 + 2 x 14 bytes) holds the 32-byte P-256 secret; no PSK suite is offered")
            b.define("MBEDTLS_KEY_EXCHANGE_PSK_ENABLED", S, why, ("tls", "groups"))
            b.define("MBEDTLS_PSK_MAX_LEN", Z, why, ("tls", "groups"), str(PREMASTER_PSK_LEN))


#: The hooks that put the X25519 ladder step and its final division on runtime/src/ecp/curve25519_ladder.cpp.
X25519_LADDER = ("MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT", "MBEDTLS_ECP_NORMALIZE_MXZ_ALT")


def x25519_ladder(c: Context) -> None:
    """X25519 on the legacy ECP: the ladder step and the final division on 32-bit limbs (tlsgen's
    runtime/src/ecp/curve25519_ladder.cpp, through mbedTLS's MBEDTLS_ECP_INTERNAL_ALT hooks) instead of the
    generic bignum code, which spends most of a TLS 1.3 X25519 handshake's instructions in them. mbedTLS keeps
    the scalar and point checks, the randomised start point and the constant-time swaps (library/ecp.c,
    ecp_mul_mxz()), and its own step for Curve448: not MBEDTLS_ECP_NO_FALLBACK, which would drop it for any profile
    but leaves ecp_double_add_mxz()'s scratch parameter unused, a warning (-Werror) in mbedTLS 3.6.6's ecp.c line
    2489.

    On a bare-metal core under `optimize: speed` (it costs flash: X25519_FLASH), and on the host, where flash does not
    matter (and the host's sessions and sanitizer builds then run it)."""
    names = [g.name for g in c.groups]
    if "x25519" not in names:
        return
    define_hooks(c, X25519_LADDER, ("tls", "groups", names.index("x25519")), X25519_SPEED,
                 "X25519's ladder step and final division on 32-bit limbs (tlsgen's "
                 "runtime/src/ecp/curve25519_ladder.cpp) instead of the bignum module",
                 X25519_FORMULA, X25519_SIZE, "X25519's ladder step on mbedTLS's bignum module without its copies "
                 "(tlsgen's runtime/src/ecp/ecp_formulas.cpp: no product into its own operand, working numbers on "
                 "the stack)")


def define_hooks(c: Context, macros: tuple, src: tuple, speed_why: str, what: str, size_macros: tuple,
                 size_why: str, size_what: str) -> None:
    """The rule both sets of ECP hooks follow: on a bare-metal core under `optimize: speed` (they cost flash:
    `speed_why` says how much, and what it buys), and on the host, where flash does not matter (and the host's
    sessions and sanitizer builds then run them); on a bare-metal core under `optimize: size`, the part of the set
    that runs mbedTLS's own formulas without their copies (`size_macros`, runtime/src/ecp/ecp_formulas.cpp: a few
    hundred bytes, `size_why`). Each macro names both fields it comes from."""
    if c.cpu.bare_metal:
        if c.p.optimize != "speed":
            macros, what = size_macros, size_what
            why, src2 = size_why, ("optimize",)
        else:
            why, src2 = speed_why, ("optimize",)
    else:
        why, src2 = "a host build (no flash to save)", ("target", "cpu")
    for name in macros:
        c.b.define(name, EC, f"{what}: {why}", src)
        c.b.define(name, EC, f"{what}: {why}", src2)


#: The part of them that runs mbedTLS's own ladder step on its bignum module without copies (ecp_formulas.cpp).
X25519_FORMULA = ("MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT")

#: The hooks that put secp256r1's point doubling, mixed addition and normalisation on runtime/src/ecp/p256_jacobian.cpp.
P256_JACOBIAN = ("MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_JAC_ALT", "MBEDTLS_ECP_ADD_MIXED_ALT",
                 "MBEDTLS_ECP_NORMALIZE_JAC_ALT")


#: The part of them that runs mbedTLS's own doubling and mixed addition without copies (ecp_formulas.cpp).
P256_FORMULAS = ("MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_JAC_ALT", "MBEDTLS_ECP_ADD_MIXED_ALT")


def p256_jacobian(c: Context) -> None:
    """secp256r1 on the legacy ECP: the comb's point doubling and mixed addition and the single-point normalisation
    on 32-bit limbs with the prime's fast reduction (tlsgen's runtime/src/ecp/p256_jacobian.cpp, through mbedTLS's
    MBEDTLS_ECP_INTERNAL_ALT hooks) instead of the generic bignum code, which allocates a temporary for most of its
    products. mbedTLS keeps the comb, its precomputation and constant-time lookups, the randomised coordinates, the
    checks of scalars and points, and the normalisation of many points at once (library/ecp.c, ecp_mul_comb()).

    For any profile on the legacy ECP with secp256r1 (a group, or ECDSA P-256 keys in the peer's chain: where
    p256-m cannot serve, see why_legacy), under the same rule as the X25519 step: a bare-metal core under
    `optimize: speed` (P256_FLASH), and the host."""
    if not c.b.defined("MBEDTLS_ECP_DP_SECP256R1_ENABLED"):
        return
    names = [g.name for g in c.groups]
    if "secp256r1" in names:
        src = ("tls", "groups", names.index("secp256r1"))
    else:
        src = c.cert_keys_src
    define_hooks(c, P256_JACOBIAN, src, P256_SPEED, "secp256r1's point doubling, mixed addition and normalisation "
                 "on 32-bit limbs with the prime's fast reduction (tlsgen's runtime/src/ecp/p256_jacobian.cpp) instead "
                 "of the bignum module", P256_FORMULAS, P256_SIZE, "secp256r1's point doubling and mixed addition on "
                 "mbedTLS's bignum module without its copies (tlsgen's runtime/src/ecp/ecp_formulas.cpp: no product "
                 "into its own operand, working numbers on the stack)")


#: What the P-256 hooks cost and buy, measured on Cortex-M4 (QEMU mps2-an386, -icount; the same firmware as
#: X25519_SPEED, whose two P-256 signature verifications are most of what the X25519 step left).
P256_FLASH = "+2,592 bytes of text (97,208 -> 99,800)"
P256_SPEED = ("optimize: speed, " + P256_FLASH + "; m4-tls13-x25519-speed, the same firmware with and without them: "
              "43.77 M -> 31.81 M handshake instructions, 6,454 -> 1,978 allocator calls, heap peak 25,888 -> 24,784 "
              "bytes, the same stack peak")


#: What the formulas without copies cost and buy under `optimize: size`, both sets together (measured on Cortex-M4,
#: QEMU mps2-an386, -icount; the m4-tls13 firmware, whose handshake makes an X25519 key share and verifies two P-256
#: signatures, with and without them).
FORMULAS_SIZE = ("optimize: size, +1,632 bytes of text with the P-256 set; m4-tls13 with and without both: 22,750 -> "
                 "2,000 allocator calls in the session, 94.2 M -> 90.4-90.9 M handshake instructions, the same heap and "
                 "stack peaks (24,112 and 4,724 bytes); where the curve arithmetic sets the stack peak, the working "
                 "numbers raise it (m0-ecdhe-ecdsa 3,936 -> 4,400 bytes, within the 4,864 its class needs)")
X25519_SIZE = FORMULAS_SIZE
P256_SIZE = FORMULAS_SIZE


#: What the ladder step costs and buys, measured on Cortex-M4 (QEMU mps2-an386, -icount; bench/handshake: full TLS
#: 1.3 handshakes of the resume firmware against openssl s_server, X25519 key share, two P-256 signatures verified;
#: flash: that firmware's text).
X25519_FLASH = "+1,728 bytes of text (97,056 -> 98,784)"
X25519_SPEED = ("optimize: speed, " + X25519_FLASH + "; m4-tls13-x25519-speed, the same firmware with and without it: "
                "59.63 M -> 43.62 M handshake instructions, 31,050 -> 6,454 allocator calls, the same heap and stack "
                "peaks")


def has_formulas(defined, formulas: tuple, limbs_only: str) -> bool:
    """Whether a build runs one of the formula sets without copies (X25519_FORMULA, P256_FORMULAS): all of its macros,
    and not `limbs_only`, the macro the limb set of the same curve adds. `defined(name)` answers for the macros."""
    return all(defined(m) for m in formulas) and not defined(limbs_only)


def p256_formulas(defined) -> bool:
    return has_formulas(defined, P256_FORMULAS, "MBEDTLS_ECP_NORMALIZE_JAC_ALT")


def ecp_formulas(defined) -> bool:
    """Whether a build runs any formula set without copies (ecp_formulas.cpp: P-256's or Curve25519's), whose
    working numbers sit on the stack instead of the heap."""
    return p256_formulas(defined) or has_formulas(defined, X25519_FORMULA, "MBEDTLS_ECP_NORMALIZE_MXZ_ALT")


def heap_relevant_hooks(defined) -> dict:
    """Which of tlsgen's ECP hooks a build has, as far as the heap is concerned (a heap measurement records it:
    bench/heap/measurements.py, tests/generator/test_heap_model.py): the P-256 hooks on limbs ("p256_hooks",
    p256_jacobian.cpp) and the formulas without copies ("ecp_formulas", ecp_formulas.cpp), each of which changes the
    heap peak of a handshake on its curves. `defined(name)` answers for the build's macros; absent keys: without."""
    return {**({"p256_hooks": True} if defined("MBEDTLS_ECP_NORMALIZE_JAC_ALT") else {}),
            **({"ecp_formulas": True} if ecp_formulas(defined) else {})}


def heap_hooks_recorded(record: dict) -> dict:
    """heap_relevant_hooks() as a heap measurement's record has it."""
    return {k: True for k in ("p256_hooks", "ecp_formulas") if record.get(k, False)}
