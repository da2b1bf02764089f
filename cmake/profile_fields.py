#!/usr/bin/env python3
"""Configure-time helper for tlsgen_add_library(): prints, as one JSON object, what the build itself needs from a
profile:

    {"cpu": <target.cpu or "host">, "stack": <bytes, 0 for the board's default>,
     "objects": [{"rule": ..., "sources": <regex>, "options": [...], "gcc_only": true|false}, ...]}

`objects` are the compiler options some of mbedTLS's objects get after the toolchain's own: the resolver decides
them (tlsgen.resolve.tradeoffs.object_options, from `optimize`, the core and the ECC implementation).

The stack is target.stack_bytes; without it, on a part whose target.ram_bytes is given, the stack the
profile's sessions need (tlsgen.ram.reserved_stack: the figure the generator's RAM check used), so the image
reserves exactly it rather than a board's larger default.

A bare-metal profile goes through the generator's pipeline (the ECC implementation, the RAM fallback of
tlsgen.pipeline and the stack are its decisions); a host one needs none of that (no p256-m, no stack
reservation) and is only read. A profile that does not parse or resolve gives what its keys say, read YAML-aware
(quoting does not matter; `optimize` for the options), with defaults for the rest (`size`, `host`, 0): the
generator, which runs at build time, reports the real error with its location.

`--cpu`: print target.cpu alone (plain text), without the pipeline (tlsgen_profile_cpu(), which picks a board).
"""
import json
import sys
from pathlib import Path

import yaml

args = [a for a in sys.argv[1:] if a != "--cpu"]
try:
    with open(args[0], encoding="utf-8") as f:
        data = yaml.safe_load(f)
except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
    data = None
data = data if isinstance(data, dict) else {}
optimize = data.get("optimize") if data.get("optimize") in ("size", "speed") else "size"
target = data.get("target") if isinstance(data.get("target"), dict) else {}
cpu = target.get("cpu") if isinstance(target.get("cpu"), str) and target["cpu"].replace("-", "").isalnum() else "host"
if "--cpu" in sys.argv[1:]:
    print(cpu, end="")
    sys.exit(0)
stack = target.get("stack_bytes")
stack = stack if isinstance(stack, int) and not isinstance(stack, bool) and stack > 0 else 0
ram = target.get("ram_bytes")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generator"))
from tlsgen.resolve.tradeoffs import object_options  # noqa: E402

objects = object_options(optimize, cpu, p256m=False)
if cpu != "host":
    try:
        from tlsgen.pipeline import build
        from tlsgen.ram import reserved_stack

        resolution = build(args[0]).resolution
        objects = resolution.object_options
        if not stack and isinstance(ram, int) and not isinstance(ram, bool):
            stack = reserved_stack(resolution)
    except Exception:  # noqa: BLE001 - an invalid profile: the generator reports it at build time
        pass  # the options and the stack stay as read
print(json.dumps({"cpu": cpu, "stack": stack,
                  "objects": [{"rule": o.rule, "sources": o.sources, "options": list(o.options),
                               "gcc_only": o.gcc_only} for o in objects]}, sort_keys=True), end="")
