"""Size/speed trade-offs: optimize: size | speed."""

from __future__ import annotations

from tlsgen.resolve.core import T, Context, ObjectOptions
from tlsgen.resolve.ecc import P256M_SIZE_CORES, P256M_SIZE_FLAGS, P256M_SIZE_NOTE

#: Under optimize: speed only the objects the public-key arithmetic runs in get -O2 (bignum, ECP, ECDH/ECDSA,
#: p256-m): they are where a handshake spends its instructions; the rest stays at the toolchain's size setting
#: (bench/README.md, "What optimize trades").
SPEED_HOT = ObjectOptions("speed_hot", r"/(library/(bignum[a-z_]*|ecp[a-z_]*|ecdh|ecdsa)|p256-m/p256-m)\.c$",
                          ("-O2",))
#: p256-m also peels its fixed 8-limb loops under optimize: speed: measured on Cortex-M4 (QEMU, TLS 1.2 ECDHE-ECDSA
#: P-256, m4-ecdhe-ecdsa-speed): -Os 60.7 M handshake instructions, -O2 55.0 M, -O2 -fpeel-loops 46.5 M for 4.1 KB
#: more flash than -Os (-O3: 45.5 M for 8.6 KB). A GCC option: clang, the sanitizer builds' compiler, has none.
SPEED_PEEL = ObjectOptions("speed_peel", r"/p256-m/p256-m\.c$", ("-fpeel-loops",), gcc_only=True)
#: p256-m under optimize: size on the cores measured to gain (resolve.ecc.P256M_SIZE_FLAGS: why, and the figures).
P256M_SIZE = ObjectOptions("size_p256m", r"/p256-m/p256-m\.c$", P256M_SIZE_FLAGS)


def object_options(optimize: str, cpu: str, p256m: bool) -> tuple[ObjectOptions, ...]:
    """The compiler options some of mbedTLS's objects get (after the toolchain's -Os): from `optimize`, the core
    (target.cpu) and whether ECC is on the p256-m driver. A speed build names p256-m's object whether or not the
    configuration compiles anything into it."""
    if optimize == "speed":
        return (SPEED_HOT, SPEED_PEEL)
    if p256m and cpu in P256M_SIZE_CORES:
        return (P256M_SIZE,)
    return ()


#: Why a speed profile on the p256-m driver keeps the compact tables and loops: measured on Cortex-M4 (QEMU, TLS 1.2
#: ECDHE-ECDSA P-256), the curve work is the handshake; its speed comes from p256-m at -O2 -fpeel-loops
#: (SPEED_HOT, SPEED_PEEL).
SPEED_P256M = (": kept under optimize: speed on the p256-m driver, where the handshake's time is the curve's "
               "(p256-m is compiled with -O2 -fpeel-loops)")


#: Why a speed profile on a Thumb-2 core keeps the one AES table: mbedTLS rotates its entries for the other three
#: (aes.c, AES_FT1..3 = ROTL8(FT0)), and on ARMv7-M/ARMv8-M the rotation folds into the EOR that uses it
#: (`eor.w r1, r1, r2, ror #8`): mbedtls_internal_aes_encrypt is no longer with one table than with four
#: (arm-none-eabi-gcc 12.2 -Os, Cortex-M4), so the other three tables (3 KB of encryption tables, 3 KB more
#: with decryption) would buy nothing. Thumb-1 (ARMv6-M) has no rotated operand, and the host has no flash to save.
SPEED_THUMB2_AES = (": kept under optimize: speed on a Thumb-2 core, where the rotation that stands in for the "
                    "other three tables folds into the EOR (no instruction more per round)")


def apply(c: Context) -> None:
    b, optimize = c.b, c.p.optimize
    c.object_options = object_options(optimize, c.cpu.name, c.p256m)
    if P256M_SIZE in c.object_options:
        c.ecc_note += P256M_SIZE_NOTE
    compact = optimize == "size" or c.p256m
    why_compact = SPEED_P256M if optimize == "speed" else ""
    if b.defined("MBEDTLS_AES_C"):
        b.define("MBEDTLS_AES_ROM_TABLES", T, "AES tables in flash, not RAM", ("optimize",))
        thumb2 = c.cpu.bare_metal and not c.cpu.thumb1
        if compact or thumb2:
            why = why_compact or (SPEED_THUMB2_AES if optimize == "speed" else "")
            # four encryption tables, and four decryption tables unless BLOCK_CIPHER_NO_DECRYPT left them out
            saved = "-3 KB flash" if b.defined("MBEDTLS_BLOCK_CIPHER_NO_DECRYPT") else "-6 KB flash"
            b.define("MBEDTLS_AES_FEWER_TABLES", T, f"one AES table instead of four ({saved})" + why, ("optimize",))
    if compact:
        if b.defined("MBEDTLS_SHA256_C"):
            b.define("MBEDTLS_SHA256_SMALLER", T, "compact SHA-256 loop (-1.4 KB flash; +33 % instructions in a "
                     "PSK handshake, which is mostly SHA-256: m4-psk-ccm8 0.46 M -> 0.61 M)" + why_compact,
                     ("optimize",))
        if b.defined("MBEDTLS_SHA512_C"):
            b.define("MBEDTLS_SHA512_SMALLER", T, "compact SHA-512 loop" + why_compact, ("optimize",))
    if b.defined("MBEDTLS_ECP_C"):
        w = "2" if optimize == "size" else "6"
        b.define("MBEDTLS_ECP_WINDOW_SIZE", T, "comb window: 2 = least heap, 6 = fastest", ("optimize",), w)
        b.define("MBEDTLS_ECP_FIXED_POINT_OPTIM", T, "precomputed base-point tables in flash (speed)",
                 ("optimize",), "0" if optimize == "size" else "1")
    if b.defined("MBEDTLS_RSA_C"):
        b.define("MBEDTLS_MPI_WINDOW_SIZE", T, "modular exponentiation window: 2 = less heap", ("optimize",),
                 "2" if optimize == "size" else "6")
