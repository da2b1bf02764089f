"""Hostile or odd YAML: always `file:line:col: error: ...` and exit 2, quickly; never a traceback.

Each case was a traceback, a hang or a wrong message once (the audit's findings and the fuzzer's).
The time bounds only catch hangs: they are far above what any of these takes.
"""

import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from tlsgen import cli
from tlsgen.cli import EXIT_INTERNAL, EXIT_INVALID, EXIT_STALE, main
from tlsgen.loader import MAX_DEPTH, MAX_NODES, MAX_PROFILE_BYTES
from test_validation import PSK, sub

LOCATED = re.compile(r"^\S+:\d+:\d+: error: ", re.M)


def run_check(path, capsys, bound_s=10.0):
    start = time.monotonic()
    rc = main(["check", path])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert elapsed < bound_s, f"took {elapsed:.1f} s (a hang?)"
    assert "Traceback" not in err, err
    return rc, err


@pytest.mark.parametrize("key", ["int", "str", "bool", "list", "float", "dict", "none", "null_", "constrained-int",
                                 "function-after", "literal['auto']"])
def test_top_level_key_named_like_a_type_is_an_unknown_key(key, write_profile, capsys):
    quoted = f'"{key}"' if "[" in key else key
    rc, err = run_check(write_profile(PSK + f"{quoted}: 1\n"), capsys)
    assert rc == EXIT_INVALID
    assert f":9:1: error: {key}: unknown key '{key}'" in err, err


@pytest.mark.parametrize("key", ["str", "int", "bool", "list"])
def test_nested_key_named_like_a_type_names_itself_not_its_parent(key, write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "tls:\n", f"tls:\n  {key}: 5\n")), capsys)
    assert rc == EXIT_INVALID
    assert f":5:3: error: tls.{key}: unknown key '{key}'" in err, err
    assert "unknown key 'tls'" not in err
    assert err.count(": error: ") == 1, err


def test_union_branch_names_are_still_dropped_from_paths(write_profile, capsys):
    # heap: 'auto' | int > 0 -- pydantic names both branches; the path is platform.heap, once.
    rc, err = run_check(write_profile(sub(PSK, "platform:\n", "platform:\n  heap: {int: 5}\n")), capsys)
    assert rc == EXIT_INVALID
    assert ":8:9: error: platform.heap: " in err and "constrained-int" not in err and "literal[" not in err, err


@pytest.mark.parametrize("key", ["1", "true", "2.5", "null", "[a]", "{a: 1}", "2020-01-01"])
def test_keys_that_are_not_names(key, write_profile, capsys):
    rc, err = run_check(write_profile(PSK + f"? {key}\n: 1\n"), capsys)
    assert rc == EXIT_INVALID
    assert ":9:3: error: keys must be plain names" in err, err


def test_a_key_too_long_to_be_a_number(write_profile, capsys):
    rc, err = run_check(write_profile(PSK + "? " + "9" * 5000 + "\n: 1\n"), capsys)
    assert rc == EXIT_INVALID
    assert ":9:3: error: YAML: cannot read '9999" in err and "5000 characters is too long" in err, err


def test_quoted_number_key_is_an_unknown_key(write_profile, capsys):
    rc, err = run_check(write_profile(PSK + '"1": 1\n'), capsys)
    assert rc == EXIT_INVALID and ":9:1: error: 1: unknown key '1'" in err, err


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{", "}"), ("{a: ", "}")])
def test_deep_flow_nesting_is_rejected_at_the_limit(opening, closing, write_profile, capsys):
    rc, err = run_check(write_profile("a: " + opening * 5000 + closing * 5000 + "\n"), capsys)
    assert rc == EXIT_INVALID
    assert f"nested deeper than {MAX_DEPTH} levels" in err, err
    assert LOCATED.search(err), err


def test_deep_unclosed_brackets_are_rejected(write_profile, capsys):
    rc, err = run_check(write_profile("[" * 5000), capsys)
    assert rc == EXIT_INVALID and LOCATED.search(err), err


def test_deep_block_nesting_is_rejected(write_profile, capsys):
    text = "".join("  " * i + "a:\n" for i in range(100)) + "  " * 100 + "b\n"
    rc, err = run_check(write_profile(text), capsys)
    assert rc == EXIT_INVALID and f"nested deeper than {MAX_DEPTH} levels" in err, err


def test_depth_limit_leaves_room_for_real_profiles(write_profile, capsys):
    # The deepest a valid profile goes is 3 (insecure -> item -> field); the limit is well above it.
    assert MAX_DEPTH >= 8
    text = PSK.replace("platform:\n", "platform:\n  debug: {level: 0}\n") + \
        "insecure: []\n"
    assert run_check(write_profile(text), capsys)[0] == 0


def test_recursive_alias_is_rejected(write_profile, capsys):
    rc, err = run_check(write_profile("a: &x [*x]\n"), capsys)
    assert rc == EXIT_INVALID
    assert ":1:4: error: YAML anchors" in err and "no need for them" in err, err


def test_alias_bomb_is_rejected_quickly(write_profile, capsys):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    rc, err = run_check(write_profile("\n".join(lines) + "\n"), capsys, bound_s=5.0)
    assert rc == EXIT_INVALID
    assert ":1:5: error: YAML anchors" in err, err


def test_alias_without_an_anchor_in_this_profile_is_rejected(write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "[nv_seed]", "*seed")), capsys)
    assert rc == EXIT_INVALID and LOCATED.search(err), err


def test_anchor_on_a_single_value_is_rejected_too(write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "name: t", "name: &n t")), capsys)
    assert rc == EXIT_INVALID
    assert ":2:7: error: YAML anchors" in err, err


def test_too_many_nodes_is_rejected(write_profile, capsys):
    items = ",".join(["1"] * (MAX_NODES + 10))
    text = PSK + f"x: [{items}]\n"
    assert len(text) < MAX_PROFILE_BYTES
    rc, err = run_check(write_profile(text), capsys)
    assert rc == EXIT_INVALID and f"more than {MAX_NODES} values" in err, err


def test_oversized_file_is_rejected_before_parsing(write_profile, capsys):
    text = PSK + "# " + "x" * MAX_PROFILE_BYTES + "\n"
    rc, err = run_check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert ":1:1: error: " in err and f"larger than the {MAX_PROFILE_BYTES}-byte limit" in err, err


def test_an_endless_file_is_read_only_up_to_the_limit(capsys):
    rc, err = run_check("/dev/zero", capsys)
    assert rc == EXIT_INVALID and "/dev/zero:1:1: error: " in err, err


@pytest.mark.parametrize("value", ["9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000, "0o" + "7" * 6000,
                                   "1e999999", "1_" * 3000 + "1"])
def test_huge_numbers_are_clean_errors(value, write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "platform:\n", f"platform:\n  heap: {value}\n")), capsys)
    assert rc == EXIT_INVALID
    assert ":8:9: error: " in err, err


def test_heap_larger_than_any_device_is_an_error(write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "platform:\n", "platform:\n  heap: 99999999999999999999\n")),
                        capsys)
    assert rc == EXIT_INVALID and ":8:9: error: platform.heap" in err, err
    big = "0x" + "f" * 5000  # an int of more decimal digits than Python prints by default
    for field in ("ram_bytes", "flash_bytes"):
        text = sub(PSK, "{cpu: cortex-m4}", f"{{cpu: cortex-m4, {field}: {big}}}")
        rc, err = run_check(write_profile(text), capsys)
        assert rc == EXIT_INVALID and f"target.{field}: got an integer of 20000 bits" in err, err
    rc, err = run_check(write_profile(sub(PSK, "platform:\n", f"  rsa_max_bits: {big}\nplatform:\n")), capsys)
    assert rc == EXIT_INVALID and "tls.rsa_max_bits: got an integer of 20000 bits" in err, err


@pytest.mark.parametrize("value", ["2020-99-99", "!!int abc", "!!float x", "!!binary \"%%%\"", "!!timestamp x",
                                   "!custom 5", "!!python/object:os.system x", "!!bool maybe"])
def test_scalars_that_cannot_be_constructed_are_clean_errors(value, write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "name: t", f"description: {value}\nname: t")), capsys)
    assert rc == EXIT_INVALID
    assert ":2:14: error: " in err, err


@pytest.mark.parametrize("data,line,col", [
    (b"profile: 1\nname: \xff\xfe\n", 2, 7),
    (b"\xff\xfeprofile: 1\n", 1, 1),
    ("profile: 1\nname: t\x07\n".encode(), 2, 8),
    ("profile: 1\nname: \ufffe\n".encode(), 2, 7),
])
def test_bytes_that_are_not_yaml_text(data, line, col, tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_bytes(data)
    rc, err = run_check(str(path), capsys)
    assert rc == EXIT_INVALID
    assert f"{path}:{line}:{col}: error: " in err, err


def test_a_utf8_bom_is_accepted_and_columns_ignore_it(tmp_path, capsys):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + PSK.encode())
    assert main(["check", str(path)]) == 0
    path.write_bytes(b"\xef\xbb\xbf" + sub(PSK, "profile: 1", "profile: 2").encode())
    rc, err = run_check(str(path), capsys)
    assert rc == EXIT_INVALID and f"{path}:1:10: error: profile" in err, err


@pytest.mark.parametrize("text", [PSK.replace("  versions", "\tversions"), "profile:\t1\n\t\n", "a: [\t1,\t2]\n"])
def test_tabs(text, write_profile, capsys):
    rc, err = run_check(write_profile(text), capsys)
    assert rc == EXIT_INVALID and LOCATED.search(err), err


@pytest.mark.parametrize("description", ['"one\\ntwo"', '"ends the comment */ here"', '"nul \\0 byte"',
                                         '"bell \\a"'])
def test_description_must_be_one_safe_line(description, write_profile, capsys):
    rc, err = run_check(write_profile(sub(PSK, "name: t", f"name: t\ndescription: {description}")), capsys)
    assert rc == EXIT_INVALID and ":3:14: error: description: " in err, err


def test_profile_file_name_cannot_break_out_of_a_generated_comment(tmp_path, capsys):
    path = tmp_path / "dev\n#error injected *\x01.yaml"
    path.write_text(PSK)
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out), "--quiet"]) == 0
    for f in out.iterdir():
        text = f.read_text()
        assert "\n#error injected" not in text and "\x01" not in text, f.name
        assert "from dev?#error injected *?.yaml" in text, f.name


def test_check_mode_with_a_binary_or_unreadable_output_is_stale_or_io_not_internal(tmp_path, capsys):
    import os

    profile = str(ROOT / "profiles" / "m4-psk-ccm8.yaml")
    out = tmp_path / "out"
    assert main([profile, "-o", str(out), "--quiet"]) == 0
    (out / "tlsgen_glue.cpp").write_bytes(b"\xff\xfe binary junk\n")
    assert main([profile, "-o", str(out), "--check"]) == EXIT_STALE
    (out / "tlsgen_glue.cpp").unlink()
    (out / "tlsgen_glue.cpp").mkdir()
    assert main([profile, "-o", str(out), "--check"]) == EXIT_STALE
    if os.geteuid() != 0:  # root reads anything
        (out / "tlsgen_glue.cpp").rmdir()
        (out / "tlsgen_glue.cpp").write_text("x")
        (out / "tlsgen_glue.cpp").chmod(0)
        assert main([profile, "-o", str(out), "--check"]) == cli.EXIT_IO
    assert "internal error" not in capsys.readouterr().err


def test_unexpected_exception_is_an_internal_error_not_stale(monkeypatch, capsys):
    def boom(*_a, **_k):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "build", boom)
    rc = main(["generate", str(ROOT / "profiles" / "m4-psk-ccm8.yaml"), "--check", "-o", "/nonexistent"])
    err = capsys.readouterr().err
    assert rc == EXIT_INTERNAL and rc not in (0, EXIT_STALE, EXIT_INVALID), err
    assert "tlsgen: internal error: KeyError: 'surprise'" in err
    assert "please report" in err and "Traceback" not in err


def test_internal_error_from_the_console_entry_point(tmp_path):
    # A failure injected into rendering: exit 4 from the entry point too, and nothing written.
    script = ("import sys, tlsgen.render as r\n"
              "r.render = lambda *a, **k: (_ for _ in ()).throw(RuntimeError('injected'))\n"
              "import tlsgen.cli as c\nc.render = r.render\n"
              "sys.exit(c.main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(ROOT / "profiles" / "m4-psk-ccm8.yaml"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == EXIT_INTERNAL, proc.stderr
    assert "tlsgen: internal error: RuntimeError: injected" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "[" * 5000, "int: 1\n"])
def test_module_entry_has_no_traceback_for_hostile_yaml(text, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "tlsgen", "check", str(bad)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == EXIT_INVALID, proc.stderr
    assert LOCATED.search(proc.stderr) and "Traceback" not in proc.stderr, proc.stderr


# ---- the fuzz harness (tests/fuzz/fuzz_profile.py) -------------------------------------------------------


@pytest.fixture(scope="module")
def harness():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_profile", ROOT / "tests" / "fuzz" / "fuzz_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # tlsgen is already imported here, so atheris instruments nothing
    return module


def test_fuzz_seed_corpus_replays_without_a_finding(harness):
    seeds = sorted((ROOT / "tests" / "fuzz" / "corpus" / "profile").iterdir())
    assert len(seeds) >= 80
    start = time.monotonic()
    for seed in seeds:
        harness.TestOneInput(seed.read_bytes())
    assert time.monotonic() - start < 60


def test_fuzz_harness_renders_and_treats_other_exceptions_as_findings(harness, monkeypatch):
    seed = (ROOT / "profiles" / "m4-psk-ccm8.yaml").read_bytes()
    rendered = []
    real_render = harness.render
    monkeypatch.setattr(harness, "render", lambda *a: rendered.append(1) or real_render(*a))
    harness.check(seed)
    assert rendered == [1], "a valid profile must be rendered"

    def broken(*_a, **_k):
        raise RecursionError("deep")

    monkeypatch.setattr(harness, "render", broken)
    with pytest.raises(harness.Finding, match="RecursionError instead of ProfileError"):
        harness.check(seed)
    monkeypatch.setattr(harness, "build", broken)
    with pytest.raises(harness.Finding):
        harness.check(b"profile: 1\n")
    # a ProfileError is the expected outcome for a bad profile, not a finding
    monkeypatch.undo()
    harness.check(b"profile: 1\n")
    harness.check(b"a: &x [*x]\n")
