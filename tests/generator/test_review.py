"""Code-review workflow: semantic diff, JSON Schema and the generated profile reference."""

import json
import subprocess

from conftest import PROFILES, ROOT
from tlsgen.cli import main
from tlsgen.reference import json_schema, markdown_reference


def test_diff_reports_heap_macro_and_suite_changes(write_profile, capsys):
    old = (ROOT / "profiles" / "m4-psk-ccm8.yaml").read_text()
    new = old.replace("in_content_len: 1024", "in_content_len: 4096")
    assert main(["diff", write_profile(old, "old.yaml"), write_profile(new, "new.yaml")]) == 0
    out = capsys.readouterr().out
    assert "~ MBEDTLS_SSL_IN_CONTENT_LEN: 1024 -> 4096  (largest record payload received [tls.in_content_len])" in out
    assert "record buffer in: 1072 -> 4144 (+3072)" in out


def test_diff_names_added_insecure_opt_ins(write_profile, capsys):
    old = (ROOT / "profiles" / "m4-ecdhe-ecdsa.yaml").read_text()
    new = old.replace("verify: required", "verify: none") + \
        "insecure:\n  - {allow: verify_none, reason: staging server with a self-signed cert}\n"
    assert main(["diff", "--format", "markdown", write_profile(old, "o.yaml"), write_profile(new, "n.yaml")]) == 0
    out = capsys.readouterr().out
    assert "### Insecure opt-ins" in out and "**added** `verify_none`: staging server" in out


def test_diff_of_identical_profiles_says_so(capsys):
    p = str(ROOT / "profiles" / "m4-tls13.yaml")
    assert main(["diff", p, p]) == 0
    assert "no semantic change" in capsys.readouterr().out


def test_diff_against_a_git_revision(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    profile = repo / "device.yaml"
    text = (ROOT / "profiles" / "m4-ecdhe-ecdsa.yaml").read_text()
    profile.write_text(text)
    git("add", "device.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "v1")
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
