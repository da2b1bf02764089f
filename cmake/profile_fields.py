#!/usr/bin/env python3
"""Configure-time helper for tlsgen_add_library(): prints the profile fields the build itself needs, as a
CMake list: `<optimize>;<target.cpu>;<stack bytes>;<p256-m options>` (size|speed; a core name or host; bytes or 0;
the compiler options for p256-m's object, comma-separated, empty for none: tlsgen.resolve.ecc.P256M_SIZE_FLAGS where
the generator puts the profile on the p256-m driver under optimize: size).

The stack is target.stack_bytes; without it, on a part whose target.ram_bytes is given, the stack the
profile's sessions need (tlsgen.ram.reserved_stack: the figure the generator's RAM check used), so the image
reserves exactly it rather than a board's larger default. 0 leaves the board's default.

Only these keys are read, YAML-aware (quoting does not matter). A profile that does not parse prints the
defaults (`size;host;0`): the generator, which runs at build time, reports the real error with its location.
"""
import sys
from pathlib import Path

import yaml

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        data = yaml.safe_load(f)
except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
    data = None
data = data if isinstance(data, dict) else {}
optimize = data.get("optimize")
target = data.get("target") if isinstance(data.get("target"), dict) else {}
cpu, stack = target.get("cpu"), target.get("stack_bytes")
stack = stack if isinstance(stack, int) and not isinstance(stack, bool) and stack > 0 else 0
ram = target.get("ram_bytes")
p256m_flags: tuple = ()
if isinstance(cpu, str) and cpu != "host":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generator"))
    try:
        from tlsgen.pipeline import build
        from tlsgen.ram import reserved_stack

        resolution = build(sys.argv[1]).resolution
        p256m_flags = resolution.p256m_flags
        if not stack and isinstance(ram, int) and not isinstance(ram, bool):
            stack = reserved_stack(resolution)
    except Exception:  # noqa: BLE001 - an invalid profile: the generator reports it at build time
        p256m_flags = ()  # and the stack stays as read
print(";".join([optimize if optimize in ("size", "speed") else "size",
                cpu if isinstance(cpu, str) and cpu.replace("-", "").isalnum() else "host",
                str(stack), ",".join(p256m_flags)]), end="")
