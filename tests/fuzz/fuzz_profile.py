#!/usr/bin/env python3
"""libFuzzer (atheris) target: the profile loader never ends in a traceback.

Any input must either produce a valid model (then resolve, size and render must work too) or raise
ProfileError, which the CLI prints as file:line:col errors. Any other exception is a finding.
Two modes, chosen by the first byte: raw bytes as YAML, or a shipped profile with one field replaced
by a fuzzed value (structure-aware: reaches the resolver's cross-field rules).

  tests/fuzz/fuzz_profile.py -max_total_time=60 tests/fuzz/corpus/profile   # as ctest runs it
  tests/fuzz/fuzz_profile.py -max_total_time=3600 tests/fuzz/corpus/profile # longer, on demand
"""

import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

with atheris.instrument_imports():
    import yaml

    from tlsgen.errors import ProfileError
    from tlsgen.heap import size_heap
    from tlsgen.loader import load_profile_bytes
    from tlsgen.render import context, heap_for
    from tlsgen.resolve import resolve

BASES = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "profiles").glob("*.yaml"))]
PATHS = [("tls", "versions"), ("tls", "cipher_suites"), ("tls", "groups"), ("tls", "verify"),
         ("tls", "in_content_len"), ("tls", "max_fragment_length"), ("platform", "entropy"),
         ("platform", "heap"), ("platform", "time"), ("target", "cpu"), ("insecure",), ("tls", "role"),
         ("tls", "transport"), ("optimize",), ("tls", "certificate_keys"), ("target", "ram_bytes")]
WORDS = ["1.2", "1.3", "none", "required", "os", "nv_seed", "hardware", "test_static", "x25519", "secp256r1",
         "TLS-PSK-WITH-AES-128-CCM-8", "TLS1-3-AES-128-GCM-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
         "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", "TLS-RSA-WITH-AES-128-GCM-SHA256", "host", "cortex-m4",
         "auto", "verify_none", "test_static_entropy", "datagram", "server", "calendar", "ms_clock", "speed"]


def fuzzed_value(fdp):
    kind = fdp.ConsumeIntInRange(0, 6)
    if kind == 0:
        return fdp.ConsumeInt(4)
    if kind == 1:
        return WORDS[fdp.ConsumeIntInRange(0, len(WORDS) - 1)]
    if kind == 2:
        return [WORDS[fdp.ConsumeIntInRange(0, len(WORDS) - 1)] for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if kind == 3:
        return {"allow": WORDS[fdp.ConsumeIntInRange(0, len(WORDS) - 1)], "reason": fdp.ConsumeUnicode(20)}
    if kind == 4:
        return [{"allow": WORDS[fdp.ConsumeIntInRange(0, len(WORDS) - 1)], "reason": "a reason long enough"}]
    if kind == 5:
        return fdp.ConsumeBool()
    return fdp.ConsumeUnicode(12)


def check(data: bytes) -> None:
    try:
        loaded = load_profile_bytes("fuzz.yaml", data)
        r = resolve(loaded)
        context(r, heap_for(r, size_heap(r)))
    except ProfileError as e:
        assert e.problems, "a ProfileError must carry at least one problem"
        for p in e.problems:
            assert p.location.line >= 1 and p.location.col >= 1
            str(p)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2 == 0:
        check(data[1:])
        return
    fdp = atheris.FuzzedDataProvider(data[1:])
    import copy

    profile = copy.deepcopy(BASES[fdp.ConsumeIntInRange(0, len(BASES) - 1)])
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        path = PATHS[fdp.ConsumeIntInRange(0, len(PATHS) - 1)]
        node = profile
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            if fdp.ConsumeIntInRange(0, 5) == 0:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = fuzzed_value(fdp)
    check(yaml.safe_dump(profile).encode())


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
