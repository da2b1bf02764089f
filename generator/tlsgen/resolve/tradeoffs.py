"""Size/speed trade-offs: optimize: size | speed."""

from __future__ import annotations

from tlsgen.resolve.core import T, Context


#: Why a speed profile on the p256-m driver keeps the compact tables and loops: measured on Cortex-M4 (QEMU, TLS 1.2
#: ECDHE-ECDSA P-256), the curve work is the handshake; its speed comes from p256-m at -O2 -fpeel-loops
#: (cmake/Tlsgen.cmake).
SPEED_P256M = (": kept under optimize: speed on the p256-m driver, where the handshake's time is the curve's "
               "(p256-m is compiled with -O2 -fpeel-loops)")


def apply(c: Context) -> None:
    b, optimize = c.b, c.p.optimize
    compact = optimize == "size" or c.p256m
    why_compact = SPEED_P256M if optimize == "speed" else ""
    if b.defined("MBEDTLS_AES_C"):
        b.define("MBEDTLS_AES_ROM_TABLES", T, "AES tables in flash, not RAM", ("optimize",))
        if compact:
            b.define("MBEDTLS_AES_FEWER_TABLES", T, "one AES table instead of four (-6 KB flash)" + why_compact,
                     ("optimize",))
    if compact:
        if b.defined("MBEDTLS_SHA256_C"):
            b.define("MBEDTLS_SHA256_SMALLER", T, "compact SHA-256 loop" + why_compact, ("optimize",))
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
