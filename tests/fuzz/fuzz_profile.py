#!/usr/bin/env python3
"""libFuzzer (atheris) target: the generator never ends in a traceback, a hang or a memory blow-up.

Any input must either go all the way through -- validate, resolve, size the heap, the pipeline's own
checks (with and without --strict), and render the three files -- or raise ProfileError, which the
CLI prints as file:line:col errors and exits 2. Any other exception is a finding (the harness turns it
into a `Finding` naming the exception, so a RecursionError or a KeyError is not mistaken for a clean
rejection); so is an input that runs longer than -timeout or grows past -rss_limit_mb.

Two modes, chosen by the first byte: even -- the rest is raw bytes given to the loader as a profile
file (YAML syntax, encodings, nesting, aliases, odd keys); odd -- a shipped profile with a few fields
replaced or added by fuzzed values (structure-aware: reaches the resolver's cross-field rules and
rendering); bit 1 of that byte adds --strict. Seeds in corpus/profile/ start with the mode byte and
cover the shapes that once broke the loader: deep nesting, recursive aliases and alias bombs, keys
named int/str/bool/list/null, huge numbers, non-UTF-8 bytes, BOMs, tabs, control characters, tags.

  tests/fuzz/fuzz_profile.py -max_total_time=60 tests/fuzz/corpus/profile   # as ctest runs it
  tests/fuzz/fuzz_profile.py -max_total_time=3600 /tmp/corpus tests/fuzz/corpus/profile  # longer
  tests/fuzz/fuzz_profile.py tests/fuzz/corpus/profile/*                    # replay the seeds once
"""

import copy
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

with atheris.instrument_imports():
    import yaml

    from tlsgen.errors import ProfileError
    from tlsgen.pipeline import build
    from tlsgen.render import OUTPUTS, render

# libFuzzer options for on-demand runs (ctest passes its own): a profile takes milliseconds.
DEFAULT_FLAGS = ["-timeout=10", "-rss_limit_mb=2048"]

BASES = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "profiles").glob("*.yaml"))]
PATHS = [("tls", "versions"), ("tls", "cipher_suites"), ("tls", "groups"), ("tls", "verify"),
         ("tls", "in_content_len"), ("tls", "max_fragment_length"), ("platform", "entropy"),
         ("platform", "heap"), ("platform", "time"), ("target", "cpu"), ("insecure",), ("tls", "role"),
         ("tls", "transport"), ("optimize",), ("tls", "certificate_keys"), ("target", "ram_bytes"),
         ("description",), ("tls", "alpn"), ("platform", "debug"), ("tls", "record_size_limit")]
# Keys a user may write that collide with names pydantic gives union branches and types.
ODD_KEYS = ["int", "str", "bool", "list", "float", "dict", "none", "null", "constrained-int",
            "literal['auto']", "function-after", "<key>", "", " ", "profile", "tls", "1"]
WORDS = ["1.2", "1.3", "none", "required", "optional", "os", "nv_seed", "hardware", "test_static", "x25519",
         "secp256r1", "TLS-PSK-WITH-AES-128-CCM-8", "TLS1-3-AES-128-GCM-SHA256",
         "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256",
         "TLS-RSA-WITH-AES-128-GCM-SHA256", "host", "cortex-m4", "auto", "verify_none", "verify_optional",
         "test_static_entropy", "no_forward_secrecy", "datagram", "server", "calendar", "ms_clock", "speed",
         "a */ b", "line\nbreak", "\x00", "\ufeff"]
NUMBERS = [0, -1, 1, 512, 1024, 16384, 65536, 2**31, 2**63, 10**30, 10**4000, 1.2, 1.3, 1.25,
           float("inf"), float("nan")]


class Finding(Exception):
    """Anything but a ProfileError out of the generator: a bug to fix, not a profile to reject."""


def fuzzed_value(fdp, depth: int = 0):
    kind = fdp.ConsumeIntInRange(0, 9)
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
    if kind == 6:
        return NUMBERS[fdp.ConsumeIntInRange(0, len(NUMBERS) - 1)]
    if kind == 7 and depth < 3:
        return {ODD_KEYS[fdp.ConsumeIntInRange(0, len(ODD_KEYS) - 1)]: fuzzed_value(fdp, depth + 1)}
    if kind == 8 and depth < 3:
        return [fuzzed_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return fdp.ConsumeUnicode(12)


def check(data: bytes, strict: bool = False) -> None:
    try:
        res = build("fuzz.yaml", strict=strict, data=data)
        files = render(res.resolution, res.heap)
    except ProfileError as e:
        assert e.problems, "a ProfileError must carry at least one problem"
        for p in e.problems:
            assert p.location.line >= 1 and p.location.col >= 1
            text = str(p)
            assert text.startswith(f"fuzz.yaml:{p.location.line}:{p.location.col}: error: "), text
        return
    except Exception as e:  # noqa: BLE001 -- the point of the harness
        raise Finding(f"{type(e).__name__} instead of ProfileError: {e!r:.300}") from e
    assert set(files) == set(OUTPUTS)
    for name, text in files.items():
        assert text.endswith("\n") and "\r" not in text and "\x00" not in text, name


def structured(fdp) -> bytes:
    profile = copy.deepcopy(BASES[fdp.ConsumeIntInRange(0, len(BASES) - 1)])
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        if fdp.ConsumeIntInRange(0, 7) == 0:  # an extra key, often one named like a type
            path = PATHS[fdp.ConsumeIntInRange(0, len(PATHS) - 1)][:-1] + \
                (ODD_KEYS[fdp.ConsumeIntInRange(0, len(ODD_KEYS) - 1)],)
        else:
            path = PATHS[fdp.ConsumeIntInRange(0, len(PATHS) - 1)]
        node = profile
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            if fdp.ConsumeIntInRange(0, 5) == 0:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = fuzzed_value(fdp)
    return yaml.safe_dump(profile, allow_unicode=fdp.ConsumeBool()).encode()


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    strict = bool(data[0] & 2)
    if data[0] % 2 == 0:
        check(data[1:], strict)
        return
    check(structured(atheris.FuzzedDataProvider(data[1:])), strict)


def main() -> None:
    argv = list(sys.argv)
    for flag in DEFAULT_FLAGS:
        if not any(a.startswith(flag.split("=")[0] + "=") for a in argv[1:]):
            argv.insert(1, flag)
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
