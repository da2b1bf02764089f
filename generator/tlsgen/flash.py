"""What a bare-metal profile puts in flash: mbedTLS and the tlsgen runtime, estimated from the profile.

The generator cannot know the application's code, so, as with RAM (tlsgen.ram), it states its own share and
what is left of `target.flash_bytes`. It refuses a part whose flash cannot hold the largest library measured
for a profile of this kind plus the smallest application measured beside it (tlsgen's reference firmware:
SslTcpStack over the ESP8266 AT driver, startup, newlib), the least code beside TLS tlsgen has measured.
The linked image is checked exactly by tlsgen_check_ram() (cmake/check_ram.py, exit 2).

The estimate is linear in what the configuration compiles in (features(): one coefficient per mbedTLS macro the
generated config defines, and again per macro for its debug messages, its error strings and the -O2 objects of
`optimize: speed`), times a measured factor on ARMv6-M (Thumb-1 code is larger). The coefficients were fitted
(bench/footprint/flash_fit.py) from the link maps of sampled profiles' firmware images: the bytes each image's
mbedTLS library, generated glue and tlsgen runtime core put in flash (.text, .rodata, .ARM.exidx, initialised
.data), the reference application, its ESP8266 driver, the board layer and newlib left out.
generator/tlsgen/flash_tables.py holds them with the fit's residuals; the residuals are leave-one-out (each image
estimated by a fit without it), and the refusal uses the estimate plus the largest under-estimate among them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.resolve import Resolution
from tlsgen.resolve.tradeoffs import P256M_SIZE, SPEED_HOT


def features(r: Resolution) -> dict[str, float]:
    """The factors of the estimate: each defined mbedTLS macro (valueless ones: the options that compile code
    in); with MBEDTLS_DEBUG_C, each TLS and X.509 option again (their debug messages); with MBEDTLS_ERROR_C, each
    module again (its error strings); with optimize: speed, the bignum, ECP, curve and p256-m objects again (-O2;
    p256-m also -fpeel-loops)."""
    f = {"one": 1.0}
    names = [m.name for m in r.macros if m.value is None]
    speed = SPEED_HOT in r.object_options
    for n in names:
        f[n] = 1.0
        if "MBEDTLS_DEBUG_C" in names and n.startswith(DEBUG_SCALES):
            f[f"{n}*debug"] = 1.0
        if "MBEDTLS_ERROR_C" in names and n.endswith("_C"):
            f[f"{n}*error"] = 1.0
        if speed and (n in ("MBEDTLS_BIGNUM_C", "MBEDTLS_ECP_C", "MBEDTLS_RSA_C", "MBEDTLS_PSA_P256M_DRIVER_ENABLED")
                      or n.startswith("MBEDTLS_ECP_DP_")):
            f[f"{n}*speed"] = 1.0
    if P256M_SIZE in r.object_options:
        f[P256M_SIZE_FLAGS] = 1.0
    return f


#: The feature of p256-m's object compiled with tlsgen.resolve.ecc.P256M_SIZE_FLAGS under optimize: size.
P256M_SIZE_FLAGS = "MBEDTLS_PSA_P256M_DRIVER_ENABLED*size_flags"


#: Coefficients measured by A/B instead of fitted, for macros newer than the fit's images (a macro the fit has never
#: seen defined would count 0 bytes): MBEDTLS_BLOCK_CIPHER_NO_DECRYPT, the minimal client of m4-psk-ccm8
#: (bench/footprint, Cortex-M4, AES_FEWER_TABLES defined) 24,872 -> 22,432 bytes. Without AES_FEWER_TABLES it
#: also drops the three other reverse tables (3 KB more), which the estimate leaves out: it errs high, the safe side.
#: DTLS (issue 15): the minimal clients of m4-dtls-psk-ccm8 and m4-psk-ccm8 differ by 4,532 bytes, of which
#: anti-replay is 270 (mbedtls_ssl_dtls_replay_check/_update) and the client's own timer callbacks 52; the rest is
#: the record layer's reassembly, buffering and retransmission and the HelloVerifyRequest (MBEDTLS_SSL_PROTO_DTLS).
#: tlsgen's ECP hooks (tlsgen.resolve.ecc). Under `optimize: size` the formulas without copies
#: (runtime/src/ecp/ecp_formulas.cpp): the m4-tls13 firmware (qemu_esp8266_m4_tls13) with and without both sets,
#: 87,440 and 85,808 bytes of text (+1,632), split by the object's sections: MBEDTLS_ECP_INTERNAL_ALT the interpreter,
#: its registers, the inputs' range check and mbedTLS's calls of the hooks (896), the ladder step's table and entry
#: (212), the doubling's and mixed addition's (524). Under `optimize: speed` the limbs: the ladder step (curve25519_ladder.cpp): the firmware
#: qemu_esp8266_resume_m4_tls13_x25519_speed with and without it, 98,784 and 97,056 bytes of text (its object is 1,578
#: bytes at -Os, the rest is what it calls in the bignum module); mbedTLS's own step stays (no MBEDTLS_ECP_NO_FALLBACK);
#: the P-256 hooks (p256_jacobian.cpp): the same firmware with and without them, 99,800 and 97,208 bytes of text (the
#: object is about 2.4 KB at -Os). The limbs' sets add their normalisation macro to the formulas' ones: what is left of
#: each A/B figure is counted there.
#: MBEDTLS_X509_REMOVE_INFO (tlsgen.resolve.certificates): the m4-tls13-p256 resume firmware 76,280 -> 74,840 bytes
#: (m4-tls13's 88,720 -> 87,152; the smaller figure is the one counted).
#: p256-m's object under optimize: size with tlsgen.resolve.ecc.P256M_SIZE_FLAGS instead of -Os: the firmware images
#: of m4-ecdhe-ecdsa +192 bytes of text+data (the largest measured: m4-tls13-p256 +128, m33 +144, m3 +120, and on
#: the Cortex-M0+ +168, which FLASH["thumb1"] scales beyond).
MEASURED: dict[str, float] = {"MBEDTLS_BLOCK_CIPHER_NO_DECRYPT": -2440.0, "MBEDTLS_SSL_PROTO_DTLS": 4210.0,
                              "MBEDTLS_SSL_DTLS_ANTI_REPLAY": 270.0, "MBEDTLS_ECP_INTERNAL_ALT": 896.0,
                              "MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT": 212.0, "MBEDTLS_ECP_NORMALIZE_MXZ_ALT": 1728.0 - 896 - 212,
                              "MBEDTLS_ECP_DOUBLE_JAC_ALT": 524.0, "MBEDTLS_ECP_NORMALIZE_JAC_ALT": 2592.0 - 896 - 524,
                              "MBEDTLS_X509_REMOVE_INFO": -1440.0, P256M_SIZE_FLAGS: 192.0}


#: The options whose code carries mbedTLS's debug messages (MBEDTLS_SSL_DEBUG_MSG and friends).
DEBUG_SCALES = ("MBEDTLS_SSL_", "MBEDTLS_KEY_EXCHANGE_", "MBEDTLS_X509_")


def thumb1(r: Resolution) -> bool:
    """ARMv6-M: Thumb-1 code, larger by a factor the fit measures (FLASH["thumb1"])."""
    return r.cpu.thumb1


@dataclass(frozen=True)
class FlashPlan:
    estimate: int  # mbedTLS + the generated glue + the tlsgen runtime core, bytes
    low: int  # the estimate less the fit's largest over-estimate: what such a library measured at least
    high: int  # the estimate plus the fit's largest under-estimate
    app_min: int  # the smallest reference application measured beside it (its code, driver, startup, newlib)
    flash_bytes: int | None

    @property
    def left(self) -> int | None:
        """What the part has left for the application's code (its own, the transport's, the C library's)."""
        return None if self.flash_bytes is None else self.flash_bytes - self.estimate


def flash_plan(r: Resolution) -> FlashPlan | None:
    """The flash plan of a bare-metal profile (None on the host, or before a fit exists)."""
    from tlsgen.flash_tables import FLASH

    if not r.cpu.bare_metal or not FLASH.get("coef"):
        return None
    f = features(r)
    coef = {**MEASURED, **FLASH["coef"]}  # a refit that has images with the macro supersedes the A/B figure
    est = sum(v * f.get(k, 0.0) for k, v in coef.items()) * (FLASH["thumb1"] if thumb1(r) else 1.0)
    lo, hi = FLASH["residual"]  # measured minus estimate, leave-one-out, over the fit's images
    return FlashPlan(int(round(est)), int(round(est + lo)), int(round(est + hi)), FLASH["app_min"],
                     r.loaded.profile.target.flash_bytes)
