"""The main stack a bare-metal TLS session needs: what `target.stack_bytes` is checked against.

mbedTLS keeps its large state on the heap, but its handshake still has deep call chains with buffers on
the stack: the TLS 1.3 key schedule (secrets of MBEDTLS_MD_MAX_SIZE) and CertificateVerify's signed content,
X.509 chain verification, the ECP, bignum and PSA working frames. The figures are the painted-stack high
water of tlsgen's reference firmware (examples/qemu-esp8266: SslTcpStack over the ESP8266 AT stack, one HTTP
GET, the reply read to close_notify) over sampled profiles on every core, rounded up with about 15 % to
spare for what a sample has not reached. Sweep seed 9201 (59 profiles, 246 sessions on M0+, M3, M4, M7 and
M33), largest peak per class:

    class                          largest measured peak    need
    TLS 1.2, PSK only              3,272 (Cortex-M3)        3,840
    TLS 1.2 with certificates      4,100 (Cortex-M0+)       4,864
    TLS 1.3                        5,244 (Cortex-M0+)       6,144

On the p256-m driver (tlsgen.resolve.ecc) the curve arithmetic keeps its numbers on the stack instead of the
heap, and TLS 1.2 runs its PRF, records and hashes through PSA: calibrations cal-p1 to cal-p3 (seeds 9951-9953,
201 sessions on M0+, M3, M4, M7 and M33), largest peak per class (the profile's versions):

    TLS 1.2 on p256-m              5,628 (Cortex-M0+; 108 sessions)          6,528
    TLS 1.2 + 1.3 or 1.3 on p256-m 6,380 (Cortex-M0+; 93 sessions)           7,424

The class decides it; the core hardly does (Thumb-1 frames are a few per cent larger). mbedTLS's debug messages
(MBEDTLS_DEBUG_C: platform.debug.level above 0) raised one class: a message is formatted into a 512-byte buffer
(DEBUG_BUF_SIZE) on mbedtls_debug_print_msg()'s frame, and mbedtls_debug_print_crt() has a 1,024-byte one beside
it, both allocated whatever the threshold, and in TLS 1.2 with certificates such a call sits deep enough to set
the peak: sweep m10118-0051 (over DTLS on the Cortex-M0+) 4,612 bytes at level 0, 5,036 at levels 2 and 3, above
the class's 4,864; with debug messages that class needs CERT_TLS12_DEBUG (5,036 + 12 %). With them the other
classes' peaks stayed below their figures (PSK only: 2,876, m5202-4275; TLS 1.3: 5,380, m5202-3281).

On a Thumb-1 core (ARMv6-M) SHA-512 compiled out in full, without MBEDTLS_SHA512_SMALLER (optimize: speed), spills
its unrolled rounds: mbedtls_internal_sha512_process takes a 1,080-byte frame on the Cortex-M0+ against 880 with
MBEDTLS_SHA512_SMALLER (816 and 824 on the M3/M4; arm-none-eabi-gcc 12.2 -Os, -fstack-usage). In TLS 1.3 it runs
at the bottom of the key schedule (the PSK binder of a resumed session's ClientHello: create_psk_binder ->
key_schedule_stage_early -> hkdf_expand_label -> PSA's HMAC -> SHA-384): sweep m10167-0008 (Cortex-M0+, TLS 1.3
with a SHA-384 suite and psk_ephemeral resumption, optimize: speed) peaked at 6,236 bytes, above the class's
6,144. Such a profile needs TLS13_THUMB1_SHA512 (6,236 + 12 %).

The ECP formulas without heap copies (tlsgen.resolve.ecc, runtime/src/ecp/ecp_formulas.cpp, under optimize: size)
keep their six working numbers on the stack: mbedtls_internal_ecp_add_mixed's frame is about 540 bytes on the
Cortex-M0+, at the bottom of ECDSA verification (x509_crt_verify -> pk_verify -> ecp_muladd -> the comb ->
ecp_add_mixed -> the hook -> mbedtls_mpi_mul_mpi). They came after the classes above were measured: sweep m10169-0288
(Cortex-M0+, DTLS 1.2 with a P-256 certificate beside X448, no debug messages) peaked at 4,896 bytes, above the
TLS 1.2 certificate class's 4,864; with debug messages (level 2) the same profile peaked at 5,028, within
CERT_TLS12_DEBUG. Over streams the formulas stay within the class (m0-ecdhe-ecdsa, Cortex-M0+: 4,400), DTLS's
record layer and retransmission frames being what is deeper. On a Thumb-1 core with the formulas, DTLS 1.2 with
certificates needs CERT_DTLS12_THUMB1_FORMULAS (4,896 + 12 %). Every
Cortex-M sweep session checks the figure: a session whose stack peak exceeds it fails. An application's own
frames under the session calls come on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.resolve import Resolution
from tlsgen.resolve.ecc import ecp_formulas

PSK_TLS12 = 3840
CERT_TLS12 = 4864
TLS13 = 6144
P256M_TLS12 = 6528
P256M_TLS13 = 7424
CERT_TLS12_DEBUG = 5632
TLS13_THUMB1_SHA512 = 7040
CERT_DTLS12_THUMB1_FORMULAS = 5504


@dataclass(frozen=True)
class StackNeed:
    bytes: int
    why: str  # the class, for messages and the generated header


def stack_need(r: Resolution) -> StackNeed:
    if r.p256m:
        if "1.3" in r.versions:
            return StackNeed(P256M_TLS13, "TLS 1.3 on the p256-m driver (key schedule frames, P-256 on the stack)")
        return StackNeed(P256M_TLS12, "TLS 1.2 on the p256-m driver (X.509 verification, P-256 on the stack)")
    if "1.3" in r.versions and r.cpu.thumb1 and r.defined("MBEDTLS_SHA512_C") and \
            not r.defined("MBEDTLS_SHA512_SMALLER"):
        return StackNeed(TLS13_THUMB1_SHA512, "TLS 1.3 (key schedule and CertificateVerify frames) with SHA-512's "
                         "unrolled rounds on a Thumb-1 core (their 1,080-byte frame at the bottom of the key schedule)")
    if "1.3" in r.versions:
        return StackNeed(TLS13, "TLS 1.3 (key schedule and CertificateVerify frames)")
    if r.uses_certificates and r.datagram and r.cpu.thumb1 and not r.defined("MBEDTLS_DEBUG_C") and \
            ecp_formulas(r.defined):
        return StackNeed(CERT_DTLS12_THUMB1_FORMULAS, "DTLS 1.2 with certificates (X.509 verification, ECP and RSA "
                         "frames) and the ECP formulas' working numbers on a Thumb-1 core's stack")
    if r.uses_certificates and r.defined("MBEDTLS_DEBUG_C"):
        return StackNeed(CERT_TLS12_DEBUG, "TLS 1.2 with certificates (X.509 verification, ECP and RSA frames) and "
                         "mbedTLS's debug messages (platform.debug.level: their format buffers on the stack)")
    if r.uses_certificates:
        return StackNeed(CERT_TLS12, "TLS 1.2 with certificates (X.509 verification, ECP and RSA frames)")
    return StackNeed(PSK_TLS12, "TLS 1.2 with PSK only")
