#!/usr/bin/env python3
"""Writes a C file holding 64 random bytes (os.urandom) for the image's .nv_seed section: the seed a
factory would program into each device. Made at build time, never committed."""
import os
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.parent.mkdir(parents=True, exist_ok=True)
seed = os.urandom(64)
body = ", ".join(f"0x{b:02x}" for b in seed)
out.write_text("/* Provisioned at build time by provision_nv_seed.py: 64 random bytes. */\n"
               "__attribute__((section(\".nv_seed\"), used))\n"
               f"const unsigned char tlsgen_provisioned_nv_seed[64] = {{{body}}};\n")
