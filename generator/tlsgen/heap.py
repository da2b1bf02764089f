"""The heap model: how many bytes an mbedTLS 3.6 session of this profile needs at its peak.

Each component is a line of the breakdown `tlsgen explain` prints and tlsgen_profile.hpp documents.

- Record buffers are exact: mbedTLS's MBEDTLS_SSL_IN/OUT_BUFFER_LEN for the chosen suites.
- Certificates are the profile's own figures: the DER bytes of the peer chain and of the CA chain
  (mbedTLS keeps a copy of each while the handshake runs).
- The rest is calibrated per target word size from measured sessions (bench/heap/calibrate.py:
  real handshakes against openssl s_server with a recording heap), split into what the sessions
  share and what each kind of key exchange adds on top. The calibration sessions are named below.
- tlsgen::Heap's own cost: a header per block (16 bytes on 64-bit hosts, 8 on Cortex-M) for the
  blocks live at the peak, payloads rounded to the target's alignment.
- A stated margin on top.

The proof tests (tests/integration, tests/qemu) run every shipped profile with exactly the
generated heap, check that it is at most 10% above the session's measured peak, and that one byte
less than the peak fails cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.resolve import Resolution


@dataclass(frozen=True)
class HeapLine:
    name: str
    bytes: int
    derivation: str


@dataclass(frozen=True)
class HeapModel:
    lines: tuple[HeapLine, ...]
    subtotal: int
    margin_percent: int
    margin: int
    total: int  # rounded up to the allocator alignment
    live_blocks: int

    def line(self, name: str) -> HeapLine:
        return next(x for x in self.lines if x.name == name)


def header_bytes(word: int) -> int:
    """tlsgen::Heap::kHeaderBytes (runtime/include/tlsgen/heap.hpp)."""
    return 16 if word >= 8 else 8


def block_bytes(request: int, word: int, align: int) -> int:
    """tlsgen::Heap::block_bytes: header + payload rounded up to the alignment (at least 8 bytes)."""
    return header_bytes(word) + -(-max(request, 8) // align) * align


@dataclass(frozen=True)
class Calibration:
    session: int  # session, transforms, handshake parameters and hash, SSL context pieces, DRBG use
    ecdhe: int  # (EC)DHE + ECDSA working memory on P-256 with ECP window 2 (TLS 1.2 certificate suites)
    tls13: int  # TLS 1.3 on top of that: PSA key slots and operations, key schedule, transcript
    blocks_psk: int  # blocks live at the peak
    blocks_ecdhe: int
    blocks_tls13: int
    source: str


# Measured with bench/heap/calibrate.py (mbedTLS 3.6.6, tlsgen's generated configs, openssl s_server,
# one GET). Payload bytes excluding record buffers and certificate DER copies, rounded as tlsgen::Heap
# rounds them.
CALIBRATION = {
    # x86-64: host-tls12-psk 4,752 peak (17 blocks); host-ecdhe-ecdsa 7,888 (47); host-tls13 25,264 (52).
    8: Calibration(session=2342, ecdhe=1790, tls13=1936, blocks_psk=17, blocks_ecdhe=47, blocks_tls13=52,
                   source="x86-64 sessions of host-tls12-psk, host-ecdhe-ecdsa, host-tls13"),
    # Cortex-M4 (QEMU mps2-an386, arm-none-eabi-gcc -Os): m4-psk-ccm8 4,264 peak (17 blocks);
    # m4-ecdhe-ecdsa 6,368 (47); m4-tls13 23,800 (52).
    4: Calibration(session=1984, ecdhe=880, tls13=2128, blocks_psk=17, blocks_ecdhe=47, blocks_tls13=52,
                   source="Cortex-M4 sessions of m4-psk-ccm8, m4-ecdhe-ecdsa, m4-tls13 in QEMU"),
}

MARGIN_PERCENT = 3


def size_heap(r: Resolution) -> HeapModel:
    word, align = r.cpu.word_bytes, r.cpu.alignment
    cal = CALIBRATION[word]
    tls = r.loaded.profile.tls
    lines: list[HeapLine] = []

    def rounded(n: int) -> int:
        return -(-max(n, 8) // align) * align

    ovh = r.record_overhead
    lines.append(HeapLine("record buffer in", rounded(r.in_content_len + ovh),
                          f"MBEDTLS_SSL_IN_CONTENT_LEN {r.in_content_len} + {ovh} (header 13, IV 16, tag/MAC, "
                          "CBC padding of the chosen suites)"))
    lines.append(HeapLine("record buffer out", rounded(r.out_content_len + ovh),
                          f"MBEDTLS_SSL_OUT_CONTENT_LEN {r.out_content_len} + {ovh}"))
    lines.append(HeapLine("TLS session state", cal.session,
                          f"session, transforms, handshake parameters and hash ({cal.source})"))
    blocks = cal.blocks_psk
    if r.groups or r.uses_certificates:
        largest = max([g.bytes for g in r.groups] or [32])
        window = int(r.macro("MBEDTLS_ECP_WINDOW_SIZE").value) if r.macro("MBEDTLS_ECP_WINDOW_SIZE") else 2
        scaled = cal.ecdhe * largest // 32
        # A wider comb window keeps 2^(w-1) precomputed points; beyond window 2's two, each costs its
        # affine X and Y (measured on Cortex-M4, P-256, window 6: +1,776 bytes and +23 blocks for 30 points).
        points = (1 << (window - 1)) - 2 if window > 2 else 0
        table = points * 2 * largest
        lines.append(HeapLine("key exchange working memory", scaled + table,
                              f"(EC)DHE and signature checks: {cal.ecdhe} on a 32-byte field, x {largest}/32"
                              + (f" + comb table ({points} more points x 2 x {largest}, window {window})" if table
                                 else "") + f" ({cal.source})"))
        blocks = cal.blocks_ecdhe + points * 3 // 4
    if "rsa" in r.certificate_keys:
        n = tls.rsa_max_bits // 8
        lines.append(HeapLine("RSA signature verification", 6 * n,
                              f"6 x {n}-byte integers for a {tls.rsa_max_bits}-bit public-key operation (estimate)"))
    if r.uses_psa:
        lines.append(HeapLine("TLS 1.3 / PSA", cal.tls13,
                              f"PSA key slots and operations, key schedule, transcript ({cal.source})"))
        blocks = cal.blocks_tls13
    if r.uses_certificates:
        lines.append(HeapLine("peer certificate chain", rounded(tls.peer_chain_max_bytes),
                              f"tls.peer_chain_max_bytes {tls.peer_chain_max_bytes} (DER copy held during the "
                              "handshake)"))
        if tls.ca_chain_bytes and tls.verify != "none":
            lines.append(HeapLine("CA chain", rounded(tls.ca_chain_bytes),
                                  f"tls.ca_chain_bytes {tls.ca_chain_bytes} (DER copy of the trusted CAs)"))
    hdr = header_bytes(word)
    lines.append(HeapLine("allocator headers", blocks * hdr,
                          f"{blocks} blocks live at the peak x {hdr}-byte tlsgen::Heap header"))
    subtotal = sum(x.bytes for x in lines)
    margin = -(-subtotal * MARGIN_PERCENT // 100)
    total = -(-(subtotal + margin) // align) * align
    return HeapModel(tuple(lines), subtotal, MARGIN_PERCENT, margin, total, blocks)
