"""Code-review workflow: semantic diff, JSON Schema and the generated profile reference."""

import json
import re
import subprocess

import pytest

from conftest import PROFILES, ROOT
from tlsgen.cli import main
from tlsgen.reference import json_schema, markdown_reference


def test_diff_reports_heap_macro_and_suite_changes(write_profile, capsys):
    old = (ROOT / "profiles" / "m4-psk-ccm8.yaml").read_text()
    new = old.replace("in_content_len: 1024", "in_content_len: 4096")
    assert main(["diff", write_profile(old, "old.yaml"), write_profile(new, "new.yaml")]) == 0
    out = capsys.readouterr().out
    assert "~ MBEDTLS_SSL_IN_CONTENT_LEN: 1024 -> 4096  (largest record payload received [tls.in_content_len])" in out
    # The receive buffer grows by exactly the 3072 bytes added to in_content_len (same overhead, same header).
    m = re.search(r"record buffer in: (\d+) -> (\d+) \(\+(\d+)\)", out)
    assert m, out
    assert int(m[2]) - int(m[1]) == int(m[3]) == 3072


def test_diff_names_added_insecure_opt_ins(write_profile, capsys):
    old = (ROOT / "profiles" / "m4-ecdhe-ecdsa.yaml").read_text()
    new = old.replace("verify: required", "verify: none").replace("  ca_chain_bytes: 424  # its CA: 410 DER bytes\n", "") + \
        "insecure:\n  - {allow: verify_none, reason: staging server with a self-signed cert}\n"
    assert main(["diff", "--format", "markdown", write_profile(old, "o.yaml"), write_profile(new, "n.yaml")]) == 0
    out = capsys.readouterr().out
    assert "### Insecure opt-ins" in out and "**added** `verify_none`: staging server" in out


def test_diff_of_identical_profiles_says_so(capsys):
    p = str(ROOT / "profiles" / "m4-tls13.yaml")
    assert main(["diff", p, p]) == 0
    assert "no semantic change" in capsys.readouterr().out


def test_diff_against_a_git_revision(tmp_path, capsys):
    profile, text = _git_repo_with_profile(tmp_path)
    profile.write_text(text.replace("[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]",
                                    "[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256, TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8]"))
    assert main(["diff", "--git", "HEAD", "--", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "+ suite TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8" in out and "+ MBEDTLS_CCM_C" in out


def test_diff_with_an_invalid_side_exits_2(write_profile, capsys):
    good = str(ROOT / "profiles" / "m4-tls13.yaml")
    assert main(["diff", good, write_profile("profile: 1\n")]) == 2
    assert "required field is missing" in capsys.readouterr().err


def test_committed_schema_is_current_and_offers_catalogues():
    committed = (ROOT / "schema" / "tlsgen-profile.schema.json").read_text()
    assert committed == json_schema(), "run: tlsgen schema -o schema/tlsgen-profile.schema.json"
    schema = json.loads(committed)
    tls = schema["$defs"]["Tls"]["properties"]
    assert "TLS-PSK-WITH-AES-128-CCM-8" in tls["cipher_suites"]["items"]["enum"]
    assert tls["verify"]["default"] == "required" and tls["verify"]["description"]
    assert schema["additionalProperties"] is False


def test_committed_reference_is_current():
    committed = (ROOT / "docs" / "profile-reference.md").read_text()
    assert committed == markdown_reference(), "run: tlsgen reference -o docs/profile-reference.md"


def test_reference_says_which_modules_each_suite_brings_in():
    """issue 12, consumer docs 4: the suite -> hash / cipher / signature modules table, from the resolver."""
    from tlsgen.catalog import SUITES

    rows = {line.split("|")[1].strip(" `"): line for line in markdown_reference().splitlines()
            if line.startswith("| `TLS") and line.count("|") == 6}
    assert set(rows) == set(SUITES)
    assert "`SHA384_C`" in rows["TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"]
    assert "`SHA384_C`" not in rows["TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"]
    assert "`ECDSA_C`" in rows["TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"]
    assert "`RSA_C`" in rows["TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"]
    assert "`CHACHAPOLY_C`" in rows["TLS-PSK-WITH-CHACHA20-POLY1305-SHA256"]
    assert "`ECDSA_C`" not in rows["TLS-PSK-WITH-AES-128-CCM-8"] and "`CCM_C`" in rows["TLS-PSK-WITH-AES-128-CCM-8"]


def test_shipped_profiles_reference_the_schema():
    for p in PROFILES:
        assert p.read_text().startswith("# yaml-language-server: $schema=../schema/tlsgen-profile.schema.json"), p


def test_shipped_profiles_use_only_schema_keys():
    import yaml

    schema = json.loads(json_schema())
    # A structural check without a JSON Schema library: every key used is a schema property.
    for p in PROFILES:
        data = yaml.safe_load(p.read_text())
        assert set(data) <= set(schema["properties"]), p
        assert set(data["tls"]) <= set(schema["$defs"]["Tls"]["properties"]), p


# ---- the committed schema agrees with the model ------------------------------------------------------


def _schema_validator():
    import jsonschema

    schema = json.loads((ROOT / "schema" / "tlsgen-profile.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _good_test_profiles() -> dict:
    from test_policy import OPT_IN
    from test_resolution import BASE, profile_text
    from test_validation import ECDSA, PSK, sub

    good = {"psk": PSK, "ecdsa": ECDSA, "psk-float-versions": sub(PSK, '["1.2"]', "[1.2]"),
            "tls13-float-versions": profile_text(kind="tls13").replace('["1.3"]', "[1.3]"),
            "both-float-versions": profile_text(kind="ecdsa").replace('["1.2"]', "[1.2, 1.3]").replace(
                "cipher_suites: [", "cipher_suites: [TLS1-3-AES-128-GCM-SHA256, "),
            "host-os": profile_text(cpu="host", entropy="[os]"),
            "hardware-nv-seed": profile_text(entropy="[hardware, nv_seed]")}
    good.update({f"opt-in-{k}": v for k, v in OPT_IN.items()})
    good.update({f"kind-{k}": profile_text(kind=k) for k in BASE})
    # profile files other test suites ship (e.g. tests/integration/profiles/)
    import yaml

    for path in sorted(ROOT.glob("tests/**/*.y*ml")):
        text = path.read_text()
        data = yaml.safe_load(text)
        if isinstance(data, dict) and data.get("profile") == 1:
            good[f"file-{path.relative_to(ROOT)}"] = text
    return good


GOOD = _good_test_profiles()


def test_every_shipped_profile_validates_against_the_committed_schema():
    import yaml

    v = _schema_validator()
    for p in PROFILES:
        errors = [e.message for e in v.iter_errors(yaml.safe_load(p.read_text()))]
        assert not errors, f"{p.name}: {errors}"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_test_profiles_pass_the_model_and_the_schema(name, write_profile, capsys):
    import yaml

    assert main(["check", write_profile(GOOD[name])]) == 0, capsys.readouterr().err
    errors = [e.message for e in _schema_validator().iter_errors(yaml.safe_load(GOOD[name]))]
    assert not errors, errors


BAD = {
    "unknown-key": ("optimise: size\n", "Additional properties"),
    "version-1.1-string": ('versions: ["1.1"]', "is not valid"),
    "version-1.1-float": ("versions: [1.1]", "is not valid"),
    "version-int": ("versions: [1]", "is not valid"),
    "no-platform": ("platform:\n  entropy: [nv_seed]\n", "'platform' is a required property"),
    "negative-heap": ("platform:\n  heap: -5\n", "is not valid"),
    "short-reason": ("insecure:\n  - {allow: verify_none, reason: x}\n", "is too short"),
    "unknown-cpu": ("cortex-m4", "is not one of"),
    "description-two-lines": ('description: "a\\nb"\n', "does not match"),
    "description-ends-comment": ('description: "a */ b"\n', "does not match"),
    "empty-entropy": ("entropy: []", "should be non-empty"),
    "unknown-suite": ("TLS-PSK-WITH-AES-128-CCM-8]", "is not one of"),
    "huge-heap": ("platform:\n  heap: 2147483648\n", "is not valid"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_profiles_fail_the_schema_and_the_model(name, write_profile, capsys):
    import yaml
    from test_validation import PSK, sub

    change, expected = BAD[name]
    replacements = {
        "unknown-key": lambda t: t + change,
        "version-1.1-string": lambda t: sub(t, 'versions: ["1.2"]', change),
        "version-1.1-float": lambda t: sub(t, 'versions: ["1.2"]', change),
        "version-int": lambda t: sub(t, 'versions: ["1.2"]', change),
        "no-platform": lambda t: sub(t, change, ""),
        "negative-heap": lambda t: sub(t, "platform:\n", change),
        "short-reason": lambda t: t + change,
        "unknown-cpu": lambda t: sub(t, change, "cortex-m9"),
        "description-two-lines": lambda t: t + change,
        "description-ends-comment": lambda t: t + change,
        "empty-entropy": lambda t: sub(t, "entropy: [nv_seed]", change),
        "unknown-suite": lambda t: sub(t, change, "TLS-PSK-WITH-AES-128-CCM8]"),
        "huge-heap": lambda t: sub(t, "platform:\n", change),
    }
    text = replacements[name](PSK)
    messages = [e.message for e in _schema_validator().iter_errors(yaml.safe_load(text))]
    for e in _schema_validator().iter_errors(yaml.safe_load(text)):
        messages += [c.message for c in e.context or []]
    assert messages, f"the schema accepts {name}"
    assert any(expected in m for m in messages), messages
    assert main(["check", write_profile(text)]) == 2, "the model must reject it as well"


# ---- diff: insecure reasons, and no temporary files left behind ---------------------------------------


def test_diff_reports_a_changed_insecure_reason(write_profile, capsys):
    old = (ROOT / "profiles" / "seed-esp8266.yaml").read_text()
    new = old.replace("kept to reproduce it, not for release.", "the lab server has no certificate at all.")
    assert new != old
    o, n = write_profile(old, "o.yaml"), write_profile(new, "n.yaml")
    assert main(["diff", o, n]) == 0
    out = capsys.readouterr().out
    assert "no semantic change" not in out
    assert "Insecure opt-ins:" in out
    assert "  ~ verify_none: reason changed: The seed example never verified the server (Verify::None); kept " \
           "to reproduce it, not for release. -> The seed example never verified the server (Verify::None); " \
           "the lab server has no certificate at all." in out, out
    assert main(["diff", "--format", "markdown", o, n]) == 0
    out = capsys.readouterr().out
    assert "### Insecure opt-ins" in out and "**reason changed** `verify_none`" in out, out


def _tlsgen_temp_entries(tmp_root):
    return sorted(p.name for p in tmp_root.iterdir() if p.name.startswith("tlsgen-diff-"))


def _git_repo_with_profile(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    profile = repo / "device.yaml"
    text = (ROOT / "profiles" / "m4-ecdhe-ecdsa.yaml").read_text()
    profile.write_text(text)
    git("add", "device.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "v1")
    return profile, text


def test_diff_git_leaves_no_temporary_files(tmp_path, monkeypatch, capsys):
    import tempfile

    tmp_root = tmp_path / "tmp"
    tmp_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_root))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_root))
    profile, text = _git_repo_with_profile(tmp_path)
    profile.write_text(text.replace("in_content_len: 4096", "in_content_len: 2048"))
    assert main(["diff", "--git", "HEAD", "--", str(profile)]) == 0
    capsys.readouterr()
    assert list(tmp_root.iterdir()) == []
    # ... also when one side is invalid, or the revision does not exist
    profile.write_text("profile: 1\n")
    assert main(["diff", "--git", "HEAD", "--", str(profile)]) == 2
    assert main(["diff", "--git", "no-such-rev", "--", str(profile)]) == 2
    capsys.readouterr()
    assert list(tmp_root.iterdir()) == []


def test_diff_git_names_the_old_side_by_revision(tmp_path, capsys):
    profile, text = _git_repo_with_profile(tmp_path)
    profile.write_text("profile: 1\n")
    subprocess.run(["git", "add", "device.yaml"], cwd=profile.parent, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "v2"],
                   cwd=profile.parent, check=True)
    profile.write_text(text)
    assert main(["diff", "--git", "HEAD", "--", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "HEAD:device.yaml:1:1: error: name: required field is missing" in err, err


def test_check_reports_the_ram_figure_heap_plus_stack(capsys):
    """issue 14 (RAM, not just heap): the summary gives heap + stack, saying whether the stack is the profile's
    target.stack_bytes or the sessions' measured need (tlsgen.stack), against the part's RAM."""
    from tlsgen.pipeline import build
    from tlsgen.stack import stack_need

    m0 = ROOT / "profiles" / "m0-ecdhe-ecdsa.yaml"
    assert main(["check", str(m0)]) == 0
    b = build(str(m0))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("ram:"))
    stack = b.resolution.loaded.profile.target.stack_bytes
    total = b.heap.bytes + stack + 320  # + the measured static data of mbedTLS and the runtime, no PSA
    assert f"{total} bytes = heap {b.heap.bytes} + stack {stack} " \
           f"(target.stack_bytes; the sessions need {stack_need(b.resolution).bytes}) + mbedTLS and runtime " \
           f"static data 320; the part has 16384, {16384 - total} left for the application's static data" in line
    m4 = ROOT / "profiles" / "m4-tls13.yaml"
    assert main(["check", str(m4)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("ram:"))
    assert "+ stack 6144 (the sessions' need, a measured bound: TLS 1.3" in line
    assert "+ mbedTLS and runtime static data 2048;" in line  # PSA crypto's key slots
    host = ROOT / "profiles" / "host-tls13.yaml"
    assert main(["check", str(host)]) == 0
    assert "ram:" not in capsys.readouterr().out
