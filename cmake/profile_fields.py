#!/usr/bin/env python3
"""Configure-time helper for tlsgen_add_library(): prints the profile fields the build itself needs, as a
CMake list: `<optimize>;<target.cpu>;<target.stack_bytes>` (size|speed; a core name or host; bytes or 0).

Only these keys are read, YAML-aware (quoting does not matter). A profile that does not parse prints the
defaults (`size;host;0`): the generator, which runs at build time, reports the real error with its location.
"""
import sys

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
print(";".join([optimize if optimize in ("size", "speed") else "size",
                cpu if isinstance(cpu, str) and cpu.replace("-", "").isalnum() else "host",
                str(stack) if isinstance(stack, int) and not isinstance(stack, bool) and stack > 0 else "0"]), end="")
