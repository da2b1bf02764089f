"""cmake/profile_fields.py, what tlsgen_add_library() reads from a profile at configure time: the same compiler
options for mbedTLS's objects and the same stack as the generator's pipeline decides, for every shipped profile
(a host profile is only read, without the pipeline: that shortcut must agree too), and the profile's own keys when
it does not resolve."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tlsgen.pipeline import build
from tlsgen.ram import reserved_stack

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "cmake" / "profile_fields.py"
PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))


def fields(profile, *extra: str) -> str:
    return subprocess.run([sys.executable, str(SCRIPT), str(profile), *extra], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_fields_agree_with_the_pipeline(profile):
    got = json.loads(fields(profile))
    r = build(str(profile)).resolution
    want = [{"rule": o.rule, "sources": o.sources, "options": list(o.options), "gcc_only": o.gcc_only}
            for o in r.object_options]
    assert got["objects"] == want
    assert got["cpu"] == r.cpu.name
    t = r.loaded.profile.target
    stack = t.stack_bytes or (reserved_stack(r) if t.ram_bytes is not None and r.cpu.bare_metal else 0)
    assert got["stack"] == stack
    assert fields(profile, "--cpu") == r.cpu.name


def test_a_profile_that_does_not_resolve_gives_its_keys(write_profile):
    # A Cortex-M4 speed profile with an unknown suite: the build's options still follow its `optimize`, and the
    # generator reports the suite at build time.
    bad = write_profile("name: bad\noptimize: speed\ntarget: {cpu: cortex-m4, stack_bytes: 4096}\n"
                        "tls: {cipher_suites: [TLS-NOT-A-SUITE]}\n")
    got = json.loads(fields(bad))
    assert got["cpu"] == "cortex-m4" and got["stack"] == 4096
    assert [(o["rule"], o["options"]) for o in got["objects"]] == [("speed_hot", ["-O2"]),
                                                                  ("speed_peel", ["-fpeel-loops"])]
    unreadable = write_profile("target: [\n", name="unreadable.yaml")
    assert json.loads(fields(unreadable)) == {"cpu": "host", "objects": [], "stack": 0}
    assert fields(unreadable, "--cpu") == "host"
