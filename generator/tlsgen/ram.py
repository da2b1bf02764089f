"""What a bare-metal part's RAM must hold for a profile's sessions: the one rule the generator's RAM check, its
summary line and the build's stack reservation (cmake/profile_fields.py) share.

    heap            the generated static heap (tlsgen.heap)
    stack           target.stack_bytes, or, when it is not given, the stack the sessions need (tlsgen.stack)
    tlsgen static   the .data and .bss of mbedTLS, the tlsgen runtime and newlib's reentrancy block

The last figure is measured, not modelled: the static data of every library symbol in the 100 Cortex-M
firmware images of sweep 9302 (M0+, M3, M4, M7, M33; `arm-none-eabi-nm -S` over .data and .bss, the
application's own buffers and the heap region left out), plus the 68 bytes tlsgen::Heap has grown by since
(its free-list bins, issue 14: sizeof(Heap) 92 -> 160 on every Cortex-M core):

    profile uses                      measured (bytes)   + Heap's bins   + newlib impure_data   reserved
    no PSA crypto                     104 - 133          68              100                    320
    PSA crypto (TLS 1.3, psa_buffers) 1,768 - 1,812      68              100                    2,048  (PSA's key slots)

An application's own static data comes on top: the generator cannot know it, so it prints what is left, and
tlsgen_check_ram() refuses a linked image that does not fit target.ram_bytes (cmake/check_ram.py, exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsgen.resolve import Resolution
from tlsgen.stack import StackNeed, stack_need

STATIC_NO_PSA = 320
STATIC_PSA = 2048


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
