"""What a bare-metal part's RAM must hold for a profile's sessions: the one rule the generator's RAM check, its
summary line and the build's stack reservation (cmake/profile_fields.py) share.

    heap            the generated static heap (tlsgen.heap)
    stack           target.stack_bytes, or, when it is not given, the stack the sessions need (tlsgen.stack)
    tlsgen static   the .data and .bss of mbedTLS, the tlsgen runtime and newlib's reentrancy block

The last figure is measured, not modelled: the static data of every library symbol in the 100 Cortex-M
firmware images of sweep 9302 (M0+, M3, M4, M7, M33; `arm-none-eabi-nm -S` over .data and .bss, the
application's own buffers and the heap region left out), plus the 72 bytes tlsgen::Heap has grown by since
(its free-list bins, issue 14: sizeof(Heap) 92 -> 160 on every Cortex-M core; 164 with the live-block count
stats() derives `frees` from):

    profile uses                      measured (bytes)   + Heap's growth   + newlib impure_data   reserved
    no PSA crypto                     104 - 133          72                100                    320
    PSA crypto (TLS 1.3, psa_buffers) 1,768 - 1,812      72                100                    2,048  (PSA's key slots)

An application's own static data comes on top. The generator cannot know it; it prints what is left, writes it
into tlsgen_profile.hpp (kRamLeftBytes) and refuses a profile that leaves less than tlsgen's smallest reference
application needs (`reference_app_ram()`, the RAM twin of tlsgen.flash's app_min): the reference firmware
(examples/qemu-esp8266: SslTcpStack over the ESP8266 AT driver) in the small-buffer form it takes when the RAM
left is short, measured in the Cortex-M images of sweep 9802 (`arm-none-eabi-nm -S`, main()'s buffers and the
board layer's):

    command line 256, PSK identity 64, modem receive ring 512, reply 128 + text 129, board clock 12   1,101
    the provisioned CA file, read into RAM (PEM: 3/2 of the DER bytes + 80 per certificate + 1)       per profile
    or, when larger, the device's certificate chain and key files (tls.client_certificate), after it   per profile

tlsgen_check_ram() still refuses a linked image that does not fit target.ram_bytes (cmake/check_ram.py, exit 2):
a larger application than the reference one can still not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.resolve import Resolution
from tlsgen.resolve.client import client_key
from tlsgen.stack import StackNeed, stack_need

STATIC_NO_PSA = 320
STATIC_PSA = 2048
REFERENCE_APP_FIXED = 1101  # the reference firmware's own buffers in their small form, without the CA file
REFERENCE_APP_MIN_FILE = 64  # its credentials buffer holds psk.bin when no CA file is larger


@dataclass(frozen=True)
class RamPlan:
    heap: int
    stack: int  # what the image reserves: target.stack_bytes, or the sessions' need
    stack_given: bool  # target.stack_bytes is set
    need: StackNeed
    tlsgen_static: int
    ram_bytes: int | None  # the part's RAM, when the profile states it

    @property
    def total(self) -> int:
        return self.heap + self.stack + self.tlsgen_static

    @property
    def left(self) -> int | None:
        """What the part has left for the application's own static data (negative: tlsgen's share exceeds it)."""
        return None if self.ram_bytes is None else self.ram_bytes - self.total


def ca_file_bytes(r: Resolution) -> int:
    """The provisioned CA file as the reference firmware reads it into RAM (examples/qemu-esp8266/main.cpp,
    kFileBytes): the DER chain, or its PEM form when tls.pem (base64 is 4/3 of the bytes, plus a header and
    footer per certificate and a newline every 64 characters; 3/2 covers them, + 80 per certificate + the NUL)."""
    p = r.loaded.profile
    if not r.uses_certificates or r.verify == "none":
        return 0
    return file_bytes(r, p.tls.ca_chain_bytes, p.tls.ca_chain_certs)


def file_bytes(r: Resolution, der: int, blocks: int) -> int:
    """A provisioned file of `der` DER bytes in `blocks` PEM blocks, as the reference firmware reads it: DER, or
    its PEM form when tls.pem (3/2 of the bytes, + 80 per block for header, footer and line breaks, + the NUL)."""
    return max(der, der * 3 // 2 + 80 * blocks + 1) if r.loaded.profile.tls.pem else der


def client_files_bytes(r: Resolution) -> int:
    """The device's certificate chain and key files (tls.client_certificate) as the reference firmware reads them
    into the same buffer as the CA file, after it (examples/qemu-esp8266/main.cpp, kClientFilesBytes): DER, or
    PEM as for the CA file; a key file is at most 4.5 bytes per RSA modulus byte + 80 (PKCS#8), or 4 per EC field
    byte + 64."""
    p = r.loaded.profile
    cc = p.tls.client_certificate
    if cc is None:
        return 0
    kind, size = client_key(cc.key)
    key_der = size // 8 * 9 // 2 + 80 if kind == "rsa" else size * 4 + 64
    return file_bytes(r, cc.chain_bytes, cc.chain_certs) + file_bytes(r, key_der, 1)


def reference_app_ram(r: Resolution) -> int:
    """The static data of tlsgen's smallest reference application for this profile (module docstring)."""
    return REFERENCE_APP_FIXED - REFERENCE_APP_MIN_FILE + max(REFERENCE_APP_MIN_FILE, ca_file_bytes(r),
                                                              client_files_bytes(r))


def tlsgen_static(r: Resolution) -> int:
    return STATIC_PSA if r.uses_psa else STATIC_NO_PSA


def ram_plan(r: Resolution, heap_bytes: int) -> RamPlan:
    """The RAM plan of a bare-metal profile (the host's memory is the operating system's: no plan)."""
    p = r.loaded.profile
    need = stack_need(r)
    given = p.target.stack_bytes is not None
    return RamPlan(heap=heap_bytes, stack=p.target.stack_bytes if given else need.bytes, stack_given=given,
                   need=need, tlsgen_static=tlsgen_static(r), ram_bytes=p.target.ram_bytes)


def reserved_stack(r: Resolution) -> int:
    """The stack the linked image reserves: target.stack_bytes; without it, on a part whose ram_bytes is given,
    the sessions' need (the figure the RAM check used); 0 leaves the board's default (tlsgen_check_ram()
    still fails an image whose default is below the need)."""
    p = r.loaded.profile
    if not r.cpu.bare_metal:
        return 0
    if p.target.stack_bytes is not None:
        return p.target.stack_bytes
    return stack_need(r).bytes if p.target.ram_bytes is not None else 0
