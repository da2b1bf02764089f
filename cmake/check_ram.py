#!/usr/bin/env python3
"""Post-build check: the image's .data + .bss + .stack (the generated heap included: heap + stack + static data)
must fit target.ram_bytes, its .stack must hold the stack the profile's sessions need (kStackNeedBytes: a
board's default stack may be smaller, e.g. the microbit's 4 KB), and its flash image (.text, .rodata,
.ARM.exidx and the initial .data) must fit target.flash_bytes. A refusal exits 2 with the figures, like the
generator's: the generator checks heap + stack + the static data of mbedTLS and the runtime (tlsgen.ram), this
check adds the application's own."""
import os
import re
import subprocess
import sys

size_tool, image, profile_hpp = sys.argv[1:4]


def refuse(message: str) -> None:
    """Exit 2 with the figures, and remove the image: a refused firmware must not be left to flash."""
    print(message, file=sys.stderr)
    try:
        os.remove(image)
    except OSError:
        pass
    sys.exit(2)

with open(profile_hpp) as f:
    header = f.read()
ram = int(re.search(r"kRamBytes = (\d+);", header).group(1))
flash_match = re.search(r"kFlashBytes = (\d+);", header)
flash = int(flash_match.group(1)) if flash_match else 0
heap = int(re.search(r"kHeapBytes = (\d+);", header).group(1))
out = subprocess.run([size_tool, "-A", image], check=True, capture_output=True, text=True).stdout
sections = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)", out, re.M)}
static = sections.get(".data", 0) + sections.get(".bss", 0) + sections.get(".stack", 0) + sections.get(".heap", 0)
stack = sections.get(".stack", 0)
parts = f"heap {heap} + stack {stack} + other static data {static - heap - stack}"
if ram and static > ram:
    refuse(f"tlsgen: {image}: RAM {static} bytes ({parts}) exceeds target.ram_bytes {ram} by {static - ram}")
need_match = re.search(r"kStackNeedBytes = (\d+);", header)
need = int(need_match.group(1)) if need_match else 0
if ".stack" in sections and stack < need:
    refuse(f"tlsgen: {image}: the image reserves {stack} bytes of stack (the board's default: target.stack_bytes is "
           f"not set), below the {need} bytes the profile's sessions need (kStackNeedBytes); set target.stack_bytes")
print(f"tlsgen: {image}: RAM {static} of {ram or 'unlimited'} bytes ({parts})")
flash_sections = (".isr_vector", ".vectors", ".text", ".rodata", ".ARM.exidx", ".ARM.extab", ".init_array",
                  ".fini_array", ".preinit_array", ".nv_seed", ".data")
image_flash = sum(v for k, v in sections.items() if k in flash_sections)
if flash and image_flash > flash:
    refuse(f"tlsgen: {image}: flash image {image_flash} bytes exceeds target.flash_bytes {flash}")
if flash:
    print(f"tlsgen: {image}: flash {image_flash} of {flash} bytes")
