"""Entropy and platform: the entropy sources, the runtime's hooks (calloc/free, snprintf), time, debug."""

from __future__ import annotations

from tlsgen.resolve.core import D, EN, PL, SY, SYS, Context

#: Entropy sources that are entropy; test_static is not, and may only be listed beside one of these.
REAL_ENTROPY = frozenset({"os", "hardware", "nv_seed"})


def entropy(c: Context) -> None:
    b, plat, cpu = c.b, c.plat, c.cpu
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
            elif not c.opted_in("test_static_entropy"):
                b.error(src, "test_static is a fixed byte pattern, not entropy: every key is predictable; add "
                        "`insecure: [{allow: test_static_entropy, reason: ...}]` (labs and tests only)")
            b.define("MBEDTLS_ENTROPY_HARDWARE_ALT", EN, "INSECURE test_static: the glue's mbedtls_hardware_poll() "
                     "returns a fixed pattern", src)
    if plat.entropy and not REAL_ENTROPY & set(plat.entropy):
        allowed = [k for k in ("os", "hardware", "nv_seed") if not (k == "os" and cpu.bare_metal)]
        b.error(("platform", "entropy"), "no real entropy source: test_static is a fixed pattern for labs and "
                f"tests; list a real source beside it (allowed on {cpu.name}: {', '.join(allowed)}), e.g. entropy: "
                f"[{'nv_seed' if cpu.bare_metal else 'os'}, test_static]")


def platform(c: Context) -> None:
    b, plat, cpu = c.b, c.plat, c.cpu
    if not cpu.bare_metal:
        b.unused(("target", "stack_bytes"), "a host target's stack is the operating system's (tlsgen sizes the "
                 "main stack of bare-metal targets only)")
        b.unused(("target", "flash_bytes"), "a host target's program has no flash budget tlsgen can check (the "
                 "image size is checked for bare-metal targets, by tlsgen_check_ram())")
    b.define("MBEDTLS_HAVE_ASM", SYS, cpu.bignum_asm, ("target", "cpu"))
    b.define("MBEDTLS_DEPRECATED_REMOVED", SYS, "no deprecated APIs", ())
    b.define("MBEDTLS_PLATFORM_C", PL, "platform abstraction (the hooks below)", ())
    b.define("MBEDTLS_PLATFORM_NO_STD_FUNCTIONS", PL, "no libc defaults for the hooks: until the glue's "
             "install() runs, mbedTLS's calloc returns NULL, so libc's malloc and printf are never linked", ())
    b.define("MBEDTLS_PLATFORM_MEMORY", PL, "calloc/free set at run time to tlsgen::Heap", ("platform", "heap"))
    # mbedTLS formats text only in X.509/OID (names, info), debug messages and error strings. Without
    # them no mbedTLS code calls snprintf: the hooks are left out, so the walker is not linked (-1.9 KB
    # on Cortex-M) and any stray mbedtls_snprintf use fails to compile instead of printing nothing.
    text_users = [src for cond, src in ((c.uses_certs, ("tls", "cipher_suites")),
                                        (plat.debug.level > 0, ("platform", "debug", "level")),
                                        (plat.debug.error_strings, ("platform", "debug", "error_strings"))) if cond]
    for src in text_users:
        b.define("MBEDTLS_PLATFORM_SNPRINTF_ALT", PL, "snprintf set at run time to tlsgen's va_list walker", src)
        b.define("MBEDTLS_PLATFORM_VSNPRINTF_ALT", PL, "vsnprintf set at run time to tlsgen's va_list walker", src)

    t = ("platform", "time")
    if plat.time == "none":
        if c.uses_certs and c.verify == "required":
            b.warnings.append("platform.time is none: certificate validity dates (notBefore/notAfter) are not "
                              "checked; use time: calendar where the device has a wall clock")
    else:
        b.define("MBEDTLS_HAVE_TIME", SYS, f"time source: {plat.time}", t)
        if cpu.bare_metal:
            # mbedTLS's own mbedtls_ms_time() exists only for Unix and Windows (library/platform_util.c ends
            # in #error "No mbedtls_ms_time available" elsewhere): on bare metal the board provides it.
            b.define("MBEDTLS_PLATFORM_MS_TIME_ALT", PL, "bare metal: the board defines mbedtls_ms_time() "
                     "(mbedTLS has one for Unix and Windows only)", t)
        if plat.time == "calendar":
            b.define("MBEDTLS_HAVE_TIME_DATE", SYS, "calendar time: certificate validity dates are checked", t)
            if cpu.bare_metal:
                b.define("MBEDTLS_PLATFORM_TIME_ALT", PL, "bare metal has no time(): the glue registers the "
                         "board's tlsgen_board_time() with mbedtls_platform_set_time()", t)
                b.define("MBEDTLS_PLATFORM_GMTIME_R_ALT", PL, "bare metal: mbedTLS would call newlib's gmtime(), "
                         "which allocates its buffer with malloc() and aborts without a C heap; the glue converts "
                         "with tlsgen::utc_from_unix() instead", t)

    if plat.debug.level > 0:
        b.define("MBEDTLS_DEBUG_C", D, f"debug messages up to level {plat.debug.level}", ("platform", "debug", "level"))
        # ssl_tls.c (debug builds) reports its own preset self-check with mbedtls_printf; with
        # MBEDTLS_PLATFORM_NO_STD_FUNCTIONS that would be an undeclared libc printf.
        b.define("MBEDTLS_PLATFORM_PRINTF_ALT", PL, "debug builds of mbedTLS print self-check failures with "
                 "mbedtls_printf: set at run time to the glue's printf (tlsgen's va_list walker, then the "
                 "board's tlsgen_board_log), so libc's printf is never linked", ("platform", "debug", "level"))
    if plat.debug.error_strings:
        b.define("MBEDTLS_ERROR_C", D, "mbedtls_strerror() texts", ("platform", "debug", "error_strings"))
