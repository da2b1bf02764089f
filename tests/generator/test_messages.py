"""Messages a person acts on (issue 12, generator items): where a problem is, what was wrong and what
is allowed, in words; every independent problem in one run; never a failure of tlsgen's own."""

import subprocess
import sys

import pytest

from conftest import PROFILES, ROOT
from tlsgen.cli import EXIT_INVALID, EXIT_STALE, main
from tlsgen.render import OUTPUTS
from test_validation import ECDSA, PSK, sub


def check(path, capsys):
    rc = main(["check", path])
    captured = capsys.readouterr()
    return rc, captured.err


# ---- 1. a second YAML document is reported where it starts ----------------------------------------


@pytest.mark.parametrize("second,line", [("---\n" + PSK, 10), ("---\nname: x\n", 10), ("--- {a: 1}\n", 10),
                                         ("...\n---\nname: x\n", 11)])
def test_second_document_is_reported_at_its_document_start(second, line, write_profile, capsys):
    path = write_profile(PSK + "\n" + second)
    rc, err = check(path, capsys)
    assert rc == EXIT_INVALID
    assert f"{path}:{line}:1: error: " in err, err
    assert "exactly one YAML document" in err and "second document starts here" in err, err


def test_explicit_start_of_the_only_document_is_fine(write_profile, capsys):
    assert check(write_profile("---\n" + PSK), capsys)[0] == 0


# ---- 2. an insecure opt-in needs a reason, not blanks ----------------------------------------------

VERIFY_NONE = sub(ECDSA, "platform:", "  verify: none\nplatform:") + "insecure:\n  - allow: verify_none\n"


@pytest.mark.parametrize("reason", ['"            "', '"\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t"', '"   short    "',
                                    '"\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0\\u00a0x"'])
def test_blank_reason_is_refused(reason, write_profile, tmp_path, capsys):
    path = write_profile(VERIFY_NONE + f"    reason: {reason}\n")
    rc = main([path, "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert rc == EXIT_INVALID, captured.out
    assert f"{path}:13:13: error: insecure[0].reason: " in captured.err, captured.err
    assert "at least 10 characters besides leading and trailing blanks" in captured.err, captured.err
    assert "(reason: )" not in captured.out + captured.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("reason", ['"  staging server  "', ">-\n      staging server with a\n      self-signed cert"])
def test_a_real_reason_with_blanks_around_it_is_accepted(reason, write_profile, capsys):
    rc = main(["check", write_profile(VERIFY_NONE + f"    reason: {reason}\n")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "(reason: staging server" in out



# ---- 3. ALPN names are limited in bytes (RFC 7301), not characters ------------------------------------


def alpn_profile(name: str) -> str:
    return sub(PSK, "platform:", f"  alpn: [h2, {name}]\nplatform:")


@pytest.mark.parametrize("name,size", [('"' + "\u00e9" * 150 + '"', 300), ('"' + "\u00e9" * 128 + '"', 256),
                                       ('"' + "\u20ac" * 86 + '"', 258), ('"' + "a" * 254 + "\u00e9" + '"', 256)],
                         ids=["150-e-acute", "128-e-acute", "86-euro", "254-a-and-e-acute"])
def test_alpn_name_over_255_bytes_is_refused(name, size, write_profile, capsys):
    rc, err = check(write_profile(alpn_profile(name)), capsys)
    assert rc == EXIT_INVALID
    assert f":7:14: error: tls.alpn[1]: {size} bytes in UTF-8; an ALPN protocol name is 1 to 255 bytes " \
           "(RFC 7301)" in err, err


@pytest.mark.parametrize("name", ['"' + "\u00e9" * 127 + 'a"', '"' + "a" * 255 + '"', "http/1.1"],
                         ids=["127-e-acute-and-a", "255-a", "http-1.1"])
def test_alpn_name_of_255_bytes_or_fewer_is_accepted(name, write_profile, capsys):
    assert check(write_profile(alpn_profile(name)), capsys)[0] == 0


def test_alpn_name_with_a_nul_is_refused(write_profile, capsys):
    # mbedTLS takes ALPN names as C strings: a NUL would silently cut the name short.
    rc, err = check(write_profile(alpn_profile('"h2\\0x"')), capsys)
    assert rc == EXIT_INVALID
    assert ":7:14: error: tls.alpn[1]: contains a NUL character" in err, err




# ---- 4. schema and cross-field problems in the same run -----------------------------------------------


def errors_of(err: str) -> list[str]:
    return [line.split(": error: ", 1)[1] for line in err.splitlines() if ": error: " in line]


def test_schema_error_and_an_independent_cross_field_error_are_reported_together(write_profile, capsys):
    text = sub(sub(PSK, "name: t", "name: My Device"), "[nv_seed]", "[os]")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert ":2:7: error: name: got 'My Device'" in err, err
    assert ":8:13: error: platform.entropy[0]: entropy 'os' needs an operating system" in err, err
    assert "2 errors" in err, err


def test_missing_field_from_a_typo_and_an_independent_cross_field_error(write_profile, capsys):
    text = sub(sub(PSK, "  versions:", "  verison:"), "[nv_seed]", "[os]")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert ":5:3: error: tls.verison: unknown key 'verison'; did you mean 'versions'?" in err, err
    assert "tls.versions: required field is missing" in err, err
    assert ":8:13: error: platform.entropy[0]: entropy 'os' needs an operating system" in err, err
    assert len(errors_of(err)) == 3, err


def test_fixed_heap_below_the_model_is_reported_beside_a_schema_error(write_profile, capsys):
    text = sub(sub(PSK, "name: t", "name: T"), "platform:\n", "platform:\n  heap: 1000\n")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert ":2:7: error: name: " in err and ":8:9: error: platform.heap: 1000 bytes is below the model's" in err, err


@pytest.mark.parametrize("old,new,only", [
    # the suite that would have used the groups is the misspelt one: no "tls.groups ... remove it"
    ("[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA25]\n"
     "  groups: [secp256r1]", "tls.cipher_suites[1]: unknown cipher suite"),
    # a value that is wrong is not also "unused": one message for the field
    ("platform:", "  verify: maybe\nplatform:", "tls.verify: got 'maybe'"),
    # the whole version list is of the wrong type: no suite-versus-version conflicts
    ('["1.2"]', '"1.2"', "tls.versions: got '1.2'"),
    # cpu unknown: whether 'os' entropy is allowed depends on it
    ("{cpu: cortex-m4}", "{cpu: cortex-m9}\n", "target.cpu: got 'cortex-m9'"),
    # a section that is not a mapping: nothing inside it can be judged
    ("tls:\n  versions: [\"1.2\"]\n  cipher_suites: [TLS-PSK-WITH-AES-128-CCM-8]\n", "tls: 5\n", "tls: got 5"),
])
def test_cross_field_errors_that_depend_on_an_invalid_field_are_not_reported(old, new, only, write_profile, capsys):
    text = sub(PSK, old, new)
    if "cortex-m9" in new:
        text = sub(text, "[nv_seed]", "[os]")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert len(errors_of(err)) == 1 and only in err, err


def test_misspelt_optional_key_does_not_make_its_field_look_empty(write_profile, capsys):
    rc, err = check(write_profile(sub(ECDSA, "  groups:", "  grops:")), capsys)
    assert rc == EXIT_INVALID
    assert errors_of(err) == ["tls.grops: unknown key 'grops'; did you mean 'groups'? (allowed: " +
                              errors_of(err)[0].split("(allowed: ", 1)[1]], err


@pytest.mark.parametrize("profile", PROFILES, ids=[p.stem for p in PROFILES])
def test_shipped_profile_with_a_bad_name_reports_that_alone(profile, tmp_path, capsys):
    # Valid profiles: with a bad name the salvage must add no follow-on error of its own.
    path = tmp_path / profile.name
    path.write_text(profile.read_text().replace("\nname: ", "\nname: X", 1))
    rc, err = check(str(path), capsys)
    assert rc == EXIT_INVALID
    assert len(errors_of(err)) == 1 and "name: got 'X" in err, err


# ---- 5. `profile: true` is not format 1: numeric choices take integers only -----------------------------


@pytest.mark.parametrize("old,new,where,said", [
    ("profile: 1", "profile: true", ":1:10: error: profile: ", "got true; allowed: 1"),
    ("profile: 1", "profile: 1.0", ":1:10: error: profile: ", "got 1.0; allowed: 1"),
    ("platform:", "  rsa_max_bits: 2048.0\nplatform:", ":8:17: error: tls.rsa_max_bits: ",
     "got 2048.0; allowed: 2048, 3072 or 4096"),
    ("platform:", "  max_fragment_length: 1024.0\nplatform:", ":7:24: error: tls.max_fragment_length: ",
     "got 1024.0; allowed: 512, 1024, 2048 or 4096"),
])
def test_numeric_choices_refuse_booleans_and_floats(old, new, where, said, write_profile, capsys):
    text = sub(ECDSA if "rsa" in new else PSK, old, new)
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert where + said in err, err



# ---- 8. did you mean, whatever the case (and IANA's spelling) -------------------------------------------


@pytest.mark.parametrize("written,meant", [
    ("tls-psk-with-aes-128-ccm-8", "TLS-PSK-WITH-AES-128-CCM-8"),
    ("Tls-Psk-With-Aes-128-Ccm-8", "TLS-PSK-WITH-AES-128-CCM-8"),
    ("tls-psk-with-aes-128-ccm8", "TLS-PSK-WITH-AES-128-CCM-8"),
    ("TLS_PSK_WITH_AES_128_CCM_8", "TLS-PSK-WITH-AES-128-CCM-8"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"),
    ("TLS_AES_128_GCM_SHA256", "TLS1-3-AES-128-GCM-SHA256"),
    ("tls1-3-chacha20-poly1305-sha256", "TLS1-3-CHACHA20-POLY1305-SHA256"),
])
def test_suite_in_another_case_gets_did_you_mean(written, meant, write_profile, capsys):
    rc, err = check(write_profile(sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", f"[{written}]")), capsys)
    assert rc == EXIT_INVALID
    assert f":6:19: error: tls.cipher_suites[0]: unknown cipher suite '{written}'; did you mean '{meant}'?" in err, err


@pytest.mark.parametrize("field,written,meant", [
    ("groups", "SECP256R1", "secp256r1"), ("groups", "X25519", "x25519"),
    ("signature_algorithms", "ECDSA_SECP256R1_SHA256", "ecdsa_secp256r1_sha256"),
])
def test_group_and_signature_algorithm_in_another_case(field, written, meant, write_profile, capsys):
    text = sub(ECDSA, "  groups: [secp256r1]\n", "  groups: [secp256r1]\n" if field != "groups" else "")
    text = sub(text, "platform:", f"  {field}: [{written}]\nplatform:")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert f"unknown {field[:-1].replace('_', ' ')} '{written}'; did you mean '{meant}'?" in err, err


@pytest.mark.parametrize("old,new,said", [
    ("cortex-m4}", "Cortex-M4}", "target.cpu: got 'Cortex-M4'; allowed: 'cortex-m0plus', 'cortex-m3', 'cortex-m4', "
                                 "'cortex-m7', 'cortex-m33' or 'host'; did you mean 'cortex-m4'?"),
    ("platform:", "  verify: Required\nplatform:", "tls.verify: got 'Required'; allowed: 'none', 'optional' or "
                                                  "'required'; did you mean 'required'?"),
    ("[nv_seed]", "[NV_SEED]", "platform.entropy[0]: got 'NV_SEED'; allowed: 'os', 'hardware', 'nv_seed' or "
                               "'test_static'; did you mean 'nv_seed'?"),
    ("platform:\n", "platform:\n  heap: Auto\n", "platform.heap: got 'Auto'; allowed: 'auto' or a whole number from 1 "
                                               "to 1073741824; did you mean 'auto'?"),
])
def test_choice_in_another_case_gets_did_you_mean(old, new, said, write_profile, capsys):
    rc, err = check(write_profile(sub(ECDSA, old, new)), capsys)
    assert rc == EXIT_INVALID
    assert said in err, err



# ---- 9. never fail on the terminal's encoding -----------------------------------------------------------


def run_ascii(args, cwd):
    """tlsgen with an ASCII-only stdout and stderr: the C locale with Python's UTF-8 mode off."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONPATH": str(ROOT / "generator")}
    proc = subprocess.run([sys.executable, "-m", "tlsgen", *args], capture_output=True, env=env, cwd=cwd,
                          timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


NON_ASCII = sub(sub(ECDSA, "name: t", "name: t\ndescription: Caf\u00e9 sensor \u2014 \u00b5C"),
                "platform:", "  verify: none\nplatform:") + \
    "insecure:\n  - {allow: verify_none, reason: \"staging server \u2014 caf\u00e9 lab\"}\n"


@pytest.mark.parametrize("profile", ["psk", "non-ascii"])
def test_generate_and_check_succeed_on_an_ascii_terminal(profile, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PSK if profile == "psk" else NON_ASCII, encoding="utf-8")
    rc, out, err = run_ascii([str(path), "-o", str(tmp_path / "ascii")], tmp_path)
    assert rc == 0, err.decode("ascii", "replace")
    assert b"internal error" not in err and out.isascii() and b"tlsgen 0.1.0" in out, out
    assert main([str(path), "-o", str(tmp_path / "utf8"), "--quiet"]) == 0
    for name in OUTPUTS:  # the files are UTF-8 whatever the terminal
        assert (tmp_path / "ascii" / name).read_bytes() == (tmp_path / "utf8" / name).read_bytes(), name
    for command in (["check"], ["explain"], ["generate", "--check", "-o", str(tmp_path / "ascii")]):
        rc, out, err = run_ascii([command[0], str(path), *command[1:]], tmp_path)
        assert rc == 0 and b"internal error" not in err, (command, err)
    if profile == "non-ascii":
        rc, out, _ = run_ascii(["check", str(path)], tmp_path)
        assert b"t - cortex-m4" in out and b"(reason: staging server - caf\\xe9 lab)" in out, out


def test_errors_with_non_ascii_text_on_an_ascii_terminal(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-\u00e9]"), encoding="utf-8")
    rc, out, err = run_ascii(["check", str(path)], tmp_path)
    assert rc == EXIT_INVALID and b"unknown cipher suite 'TLS-PSK-\\xe9'" in err, err


@pytest.mark.parametrize("command,committed", [("reference", "docs/profile-reference.md"),
                                               ("schema", "schema/tlsgen-profile.schema.json")])
def test_reference_and_schema_on_stdout_are_utf8_whatever_the_terminal(command, committed, tmp_path):
    rc, out, err = run_ascii([command], tmp_path)
    assert rc == 0, err
    assert out == (ROOT / committed).read_bytes()


def test_diff_on_an_ascii_terminal(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(PSK)
    new.write_text(NON_ASCII, encoding="utf-8")
    for fmt in ("text", "markdown"):
        rc, out, err = run_ascii(["diff", "--format", fmt, str(old), str(new)], tmp_path)
        assert rc == 0 and b"internal error" not in err and out, (fmt, err)



# ---- 10. --check says missing, -o '' is refused, -q is --quiet -----------------------------------------

SHIPPED = str(ROOT / "profiles" / "m4-psk-ccm8.yaml")


def test_check_says_missing_for_a_missing_file_and_stale_for_a_changed_one(tmp_path, capsys):
    out = tmp_path / "gen"
    assert main([SHIPPED, "-o", str(out), "--check"]) == EXIT_STALE
    err = capsys.readouterr().err
    for name in OUTPUTS:
        assert f"tlsgen: {out / name} is missing: run `tlsgen {SHIPPED} -o {out}`" in err, err
    assert "stale" not in err, err
    assert main([SHIPPED, "-o", str(out), "--quiet"]) == 0
    (out / "tlsgen_glue.cpp").unlink()
    (out / "mbedtls_config.h").write_text("/* edited */\n")
    (out / "tlsgen_profile.hpp").unlink()
    (out / "tlsgen_profile.hpp").mkdir()
    assert main([SHIPPED, "-o", str(out), "--check"]) == EXIT_STALE
    err = capsys.readouterr().err
    assert f"{out / 'tlsgen_glue.cpp'} is missing" in err and f"{out / 'mbedtls_config.h'} is stale" in err, err
    assert f"{out / 'tlsgen_profile.hpp'} is not a file" in err, err


@pytest.mark.parametrize("args", [[SHIPPED, "-o", ""], [SHIPPED, "--output="], [SHIPPED, "-o", "  "],
                                  ["generate", SHIPPED, "-o", "", "--check"], ["schema", "-o", ""],
                                  ["reference", "--output", ""]])
def test_an_empty_output_directory_is_refused(args, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "-o/--output: an empty name" in err, err
    assert list(tmp_path.iterdir()) == [], "nothing may be written"


def test_q_is_short_for_quiet(tmp_path, capsys):
    assert main([SHIPPED, "-o", str(tmp_path / "q"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == sorted(OUTPUTS)



# ---- 11. the reference shows every bound the schema (and the tool) enforces ------------------------------

BOUND_WORDS = {"minimum": "≥ {}", "maximum": "≤ {}", "exclusiveMinimum": "> {}", "exclusiveMaximum": "< {}",
               "minLength": "min length {}", "maxLength": "max length {}", "minItems": "min items {}",
               "maxItems": "max items {}"}


def schema_bounds(prop: dict) -> list[str]:
    """Every bound of a property of the committed JSON Schema, its branches and its items, in the words above."""
    out = [BOUND_WORDS[k].format(v) for k, v in prop.items() if k in BOUND_WORDS]
    for branch in prop.get("anyOf", []):
        out += schema_bounds(branch)
    if isinstance(prop.get("items"), dict):
        out += schema_bounds(prop["items"])
    return out


def reference_rows() -> dict:
    rows, section = {}, None
    for line in (ROOT / "docs" / "profile-reference.md").read_text().splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| `") and section:
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[(section, cells[0].strip("`"))] = cells[1]
    return rows


def test_reference_shows_every_bound_of_the_schema():
    import json

    schema = json.loads((ROOT / "schema" / "tlsgen-profile.schema.json").read_text())
    models = {"Profile": schema, **schema["$defs"]}
    rows = reference_rows()
    missing = []
    for model, definition in models.items():
        for field, prop in definition.get("properties", {}).items():
            for bound in schema_bounds(prop):
                if bound not in rows[(model, field)]:
                    missing.append(f"{model}.{field}: {bound} (type column: {rows[(model, field)]})")
    assert not missing, "\n".join(missing)
    # the fields issue 12 named, spelled out
    for model, field, bounds in [("Tls", "out_content_len", "≥ 512, ≤ 16384"),
                                 ("Tls", "psk_max_bytes", "≥ 16, ≤ 64"),
                                 ("Tls", "peer_chain_max_bytes", "≥ 256, ≤ 65536"),
                                 ("Tls", "ca_chain_bytes", "≥ 0, ≤ 65536"), ("Debug", "level", "≥ 0, ≤ 4")]:
        assert rows[(model, field)] == f"`int` ({bounds})", rows[(model, field)]
    assert "min length 10" in rows[("InsecureOptIn", "reason")]



# ---- 6. follow-on messages must not contradict the real error -------------------------------------------

WRONG_VERSION = "TLS1-3-AES-128-GCM-SHA256 is a TLS 1.3 suite but tls.versions does not enable 1.3"


def test_tls13_suite_on_a_tls12_profile_is_one_error_not_remove_groups_and_verify(write_profile, capsys):
    # Issue 12's case: the TLS 1.3 suite needs groups and verify once 1.3 is enabled, so "no cipher
    # suite uses (EC)DHE (PSK-only suites): remove it" would make the profile worse. Fixed in the
    # resolver (resolve/key_exchange.py) before this branch: kept as a regression test.
    text = sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, TLS1-3-AES-128-GCM-SHA256]\n"
               "  groups: [secp256r1]\n  verify: required")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert errors_of(err) == [f"tls.cipher_suites[1]: {WRONG_VERSION}"], err


# Failed before the resolver judged requirements by the suites of enabled versions only.
def test_tls13_suite_on_a_tls12_psk_profile_does_not_ask_for_groups(write_profile, capsys):
    text = sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, TLS1-3-AES-128-GCM-SHA256]")
    rc, err = check(write_profile(text), capsys)
    assert rc == EXIT_INVALID
    assert errors_of(err) == [f"tls.cipher_suites[1]: {WRONG_VERSION}"], err


# ---- 7. allowed values in words: no raw regex, no message garbled by a union ------------------------


@pytest.mark.parametrize("value,said", [
    ("'8192'", "got '8192' (text: write the number without quotes); allowed: 'auto' or a whole number from 1 "
               "to 1073741824"),
    ("0", "got 0; allowed: 'auto' or a whole number from 1 to 1073741824"),
    ("-5", "got -5; allowed: 'auto' or a whole number from 1 to 1073741824"),
    ("autom", "got 'autom'; allowed: 'auto' or a whole number from 1 to 1073741824; did you mean 'auto'?"),
    ("{int: 5}", "got {'int': 5}; allowed: 'auto' or a whole number from 1 to 1073741824"),
])
def test_heap_union_says_once_what_is_allowed(value, said, write_profile, capsys):
    rc, err = check(write_profile(sub(PSK, "platform:\n", f"platform:\n  heap: {value}\n")), capsys)
    assert rc == EXIT_INVALID
    assert f":8:9: error: platform.heap: {said}\n" in err, err
    assert err.count("got ") == 1 and "Input should" not in err, err


@pytest.mark.parametrize("name", ["My Device", "-dash-first", "a" * 64, "dev.1", ""])
def test_bad_name_is_explained_without_a_regex(name, write_profile, capsys):
    rc, err = check(write_profile(sub(PSK, "name: t", f"name: '{name}'")), capsys)
    assert rc == EXIT_INVALID
    assert ":2:7: error: name: got " in err, err
    assert "allowed: 1 to 63 characters: lowercase letters, digits, '-' and '_', starting with a letter or " \
           "digit" in err, err
    assert "^[" not in err and "{0,62}" not in err, err


@pytest.mark.parametrize("text,what", [
    ('"one\\ntwo"', "a line break (U+000A) at character 4"),
    ('"bell \\a"', "a control character (U+0007) at character 6"),
    ('"tab\\there"', "a tab (U+0009) at character 4"),
    ('"ends the comment */ here"', "'*/' at character 18"),
    ('"x */"', "'*/' at character 3"),
])
def test_bad_description_names_the_offending_character(text, what, write_profile, capsys):
    rc, err = check(write_profile(sub(PSK, "name: t", f"name: t\ndescription: {text}")), capsys)
    assert rc == EXIT_INVALID
    assert f":3:14: error: description: contains {what}; allowed: one line of printable text without '*/', " \
           "as it is written into C and C++ comments" in err, err
    assert "\\x00" not in err and "(?:" not in err, err


@pytest.mark.parametrize("field,value,said", [
    ("  server_name_indication", '"yes"', "tls.server_name_indication: got 'yes'; allowed: true or false"),
    ("  in_content_len", "4k", "tls.in_content_len: got '4k'; allowed: a whole number from 512 to 16384"),
    ("  out_content_len", '"1024"', "tls.out_content_len: got '1024' (text: write the number without quotes); "
                                    "allowed: a whole number from 512 to 16384"),
    ("  alpn", "h2", "tls.alpn: got 'h2'; allowed: a list of ALPN protocol names, e.g. [h2]"),
])
def test_type_errors_say_what_is_allowed(field, value, said, write_profile, capsys):
    rc, err = check(write_profile(sub(PSK, "platform:", f"{field}: {value}\nplatform:")), capsys)
    assert rc == EXIT_INVALID
    assert f":7:{len(field) + 3}: error: {said}" in err, err
    assert "Input should" not in err, err
