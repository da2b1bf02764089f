#!/usr/bin/env python3
"""Configure-time helper for tlsgen_add_library(): prints the profile's `optimize` value (size|speed).

Only this one key is read, YAML-aware (quoting does not matter). A profile that does not parse prints
`size`: the generator, which runs at build time, reports the real error with its location.
"""
import sys

import yaml

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        data = yaml.safe_load(f)
except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
    data = None
value = data.get("optimize") if isinstance(data, dict) else None
print(value if value in ("size", "speed") else "size", end="")
