"""The heap model: how many bytes an mbedTLS 3.6 session of this profile needs at its peak.

Each component is a line of the breakdown `tlsgen explain` prints. Record buffers are exact
(mbedTLS's MBEDTLS_SSL_IN/OUT_BUFFER_LEN for the chosen suites); the other components are per-word-size
constants calibrated from measured sessions (the proof tests in tests/ measure every shipped profile
and fail when the model is below the measured peak or more than 10% above it). The allocator's own
cost per block (tlsgen::Heap's header and alignment) is added for the number of blocks live at the peak.
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


# tlsgen::Heap block cost: a header of two machine words (size, alignment/flags) and payloads rounded
# up to the target's max alignment. Must match runtime/include/tlsgen/heap.hpp (Heap::block_bytes).
def block_bytes(request: int, word: int, align: int) -> int:
    header = 2 * word if 2 * word >= align else align
    header = -(-header // align) * align
    return header + -(-request // align) * align


# Calibration constants per word size (bytes), from measured mbedTLS 3.6.6 client sessions
# (the brief's x86-64 figures and ../shared/data/alloc-traces for 8-byte words; the QEMU Cortex-M4
# runs for 4-byte words). Each names what it stands for.
_CAL = {
    8: dict(session=3600, psk=600, ecdhe_base=1900, ecdhe_per_byte=150, cert_parse=650, psa=4200,
            blocks_psk=22, blocks_ecdhe=70, blocks_tls13=80),
    4: dict(session=2700, psk=400, ecdhe_base=1200, ecdhe_per_byte=110, cert_parse=420, psa=3000,
            blocks_psk=22, blocks_ecdhe=70, blocks_tls13=80),
}

MARGIN_PERCENT = 4


def size_heap(r: Resolution) -> HeapModel:
    word, align = r.cpu.word_bytes, r.cpu.alignment
    cal = _CAL[word]
    tls = r.loaded.profile.tls
    lines: list[HeapLine] = []

    ovh = r.record_overhead
    lines.append(HeapLine("record buffer in", r.in_content_len + ovh,
                          f"MBEDTLS_SSL_IN_CONTENT_LEN {r.in_content_len} + {ovh} (header 13, IV 16, tag/MAC, "
                          "CBC padding of the chosen suites)"))
    lines.append(HeapLine("record buffer out", r.out_content_len + ovh,
                          f"MBEDTLS_SSL_OUT_CONTENT_LEN {r.out_content_len} + {ovh}"))
    lines.append(HeapLine("session, transform, handshake", cal["session"],
                          f"mbedtls_ssl_session/transform/handshake params, handshake hash ({word * 8}-bit)"))
    blocks = cal["blocks_psk"]
    if r.uses_psk:
        lines.append(HeapLine("PSK key exchange", cal["psk"], "PSK identity/key copies and premaster"))
    if r.groups:
        largest = max(g.bytes for g in r.groups)
        w = int(r.macro("MBEDTLS_ECP_WINDOW_SIZE").value) if r.macro("MBEDTLS_ECP_WINDOW_SIZE") else 2
        table = (1 << (w - 1)) * 3 * largest if not all(g.montgomery for g in r.groups) else 0
        ecp = cal["ecdhe_base"] + cal["ecdhe_per_byte"] * largest + table
        lines.append(HeapLine("ECDHE / ECP working memory", ecp,
                              f"{cal['ecdhe_base']} + {cal['ecdhe_per_byte']} x {largest}-byte field "
                              f"+ comb table 2^(w-1) x 3 x {largest} (w={w})"))
        blocks = cal["blocks_ecdhe"]
    if r.uses_certificates:
        n_peer = max(1, -(-tls.peer_chain_max_bytes // 700))
        peer = tls.peer_chain_max_bytes + n_peer * cal["cert_parse"]
        lines.append(HeapLine("peer certificate chain", peer,
                              f"tls.peer_chain_max_bytes {tls.peer_chain_max_bytes} DER + {n_peer} x "
                              f"{cal['cert_parse']} parsed mbedtls_x509_crt"))
        if tls.ca_chain_bytes and tls.verify != "none":
            n_ca = -(-tls.ca_chain_bytes // 700)
            ca = tls.ca_chain_bytes + n_ca * cal["cert_parse"]
            lines.append(HeapLine("CA chain", ca, f"tls.ca_chain_bytes {tls.ca_chain_bytes} DER + {n_ca} x "
                                  f"{cal['cert_parse']} parsed"))
    if "rsa" in r.certificate_keys:
        n = tls.rsa_max_bits // 8
        lines.append(HeapLine("RSA signature verification", 8 * n + cal["ecdhe_base"] // 2,
                              f"8 x {n}-byte integers for a {tls.rsa_max_bits}-bit public-key operation "
                              f"+ {cal['ecdhe_base'] // 2}"))
    if r.uses_psa:
        lines.append(HeapLine("PSA key slots and operations", cal["psa"],
                              "psa_crypto_init state, TLS 1.3 key schedule keys, AEAD operations"))
        blocks = cal["blocks_tls13"]
    per_block = block_bytes(1, word, align) - align  # header cost
    lines.append(HeapLine("allocator headers and alignment", blocks * (per_block + align // 2),
                          f"~{blocks} live blocks x ({per_block}-byte header + {align // 2} average padding)"))
    subtotal = sum(x.bytes for x in lines)
    margin = -(-subtotal * MARGIN_PERCENT // 100)
    total = -(-(subtotal + margin) // align) * align
    return HeapModel(tuple(lines), subtotal, MARGIN_PERCENT, margin, total, blocks)
