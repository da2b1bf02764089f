"""Security policy: real entropy, insecure opt-ins visible on every run, --strict for release builds."""

import re
import typing

import pytest

from conftest import PROFILES, ROOT
from tlsgen.cli import EXIT_INVALID, EXIT_OK, EXIT_STALE, main
from tlsgen.model import InsecureOption
from tlsgen.pipeline import build
from tlsgen.render import render
from test_validation import ECDSA, PSK, sub

SEED = ROOT / "profiles" / "seed-esp8266.yaml"
REAL_SOURCES = {"os", "hardware", "nv_seed"}

# One minimal valid profile per insecure opt-in (and nothing else insecure in it).
OPT_IN = {
    "verify_none": sub(ECDSA, "platform:", "  verify: none\nplatform:")
    + "insecure:\n  - {allow: verify_none, reason: staging server with a self-signed cert}\n",
    "verify_optional": sub(ECDSA, "platform:", "  verify: optional\nplatform:")
    + "insecure:\n  - {allow: verify_optional, reason: staging server with a self-signed cert}\n",
    "test_static_entropy": sub(PSK, "[nv_seed]", "[nv_seed, test_static]")
    + "insecure:\n  - {allow: test_static_entropy, reason: QEMU lab board without a TRNG}\n",
    "no_forward_secrecy": sub(ECDSA.replace("  groups: [secp256r1]\n", ""), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                              "TLS-RSA-WITH-AES-128-GCM-SHA256")
    + "insecure:\n  - {allow: no_forward_secrecy, reason: legacy server offers static RSA only}\n",
}


def test_every_insecure_option_has_a_case():
    assert set(OPT_IN) == set(typing.get_args(InsecureOption))


# ---- entropy ----------------------------------------------------------------------------------


def test_every_shipped_profile_has_a_real_entropy_source():
    for p in PROFILES:
        entropy = build(str(p)).resolution.entropy
        assert REAL_SOURCES & set(entropy), f"{p.name}: {entropy}"


def test_seed_profile_keeps_test_static_only_beside_an_nv_seed():
    r = build(str(SEED)).resolution
    assert r.entropy == ["nv_seed", "test_static"]
    assert "test_static_entropy" in [c.option for c in r.insecure]


@pytest.mark.parametrize("cpu,entropy", [("cortex-m4", "[nv_seed, test_static]"),
                                         ("cortex-m0plus", "[test_static, nv_seed]"), ("host", "[os, test_static]")])
def test_test_static_beside_a_real_source_is_accepted_with_the_opt_in(cpu, entropy, write_profile, capsys):
    text = sub(sub(PSK, "[nv_seed]", entropy), "cortex-m4", cpu)
    assert main(["check", write_profile(text)]) == EXIT_INVALID  # still needs the opt-in
    assert "test_static is a fixed byte pattern" in capsys.readouterr().err
    text += "insecure:\n  - {allow: test_static_entropy, reason: QEMU lab board without a TRNG}\n"
    assert main(["check", write_profile(text)]) == EXIT_OK
    assert "INSECURE test_static_entropy" in capsys.readouterr().out


def test_nv_seed_and_test_static_glue_has_both_hooks(write_profile):
    res = build(write_profile(OPT_IN["test_static_entropy"]))
    files = render(res.resolution, res.heap)
    cfg, glue = files["mbedtls_config.h"], files["tlsgen_glue.cpp"]
    for macro in ("MBEDTLS_ENTROPY_NV_SEED", "MBEDTLS_PLATFORM_NV_SEED_ALT", "MBEDTLS_ENTROPY_HARDWARE_ALT",
                  "MBEDTLS_NO_PLATFORM_ENTROPY"):
        assert re.search(rf"^#define {macro}$", cfg, re.M), macro
    assert re.search(r"^#define MBEDTLS_ENTROPY_MAX_SOURCES 2$", cfg, re.M)
    # The board's NV seed store is registered, and the static source is the glue's hardware poll.
    assert "  mbedtls_platform_set_nv_seed(tlsgen_board_nv_seed_read, tlsgen_board_nv_seed_write);\n" in glue
    poll = re.search(r'extern "C" int mbedtls_hardware_poll\(void\* /\*data\*/, unsigned char\* output, '
                     r"std::size_t len, std::size_t\* olen\) \{\n(.*?)\n\}", glue, re.S)
    assert poll, glue
    assert "*olen = len;" in poll.group(1) and "return 0;" in poll.group(1)
    assert glue.count("mbedtls_hardware_poll") == 1


def test_nv_seed_alone_has_no_hardware_poll(write_profile):
    res = build(write_profile(PSK))
    files = render(res.resolution, res.heap)
    assert "mbedtls_hardware_poll" not in files["tlsgen_glue.cpp"]
    assert "MBEDTLS_ENTROPY_HARDWARE_ALT" not in files["mbedtls_config.h"]


# ---- insecure opt-ins are printed on every run -------------------------------------------------


def insecure_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "INSECURE" in line]


def test_quiet_still_prints_each_insecure_opt_in_on_stderr(tmp_path, capsys):
    assert main([str(SEED), "-o", str(tmp_path / "out"), "--quiet"]) == EXIT_OK
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = insecure_lines(cap.err)
    assert len(lines) == 2 and len(cap.err.splitlines()) == 2, cap.err
    assert lines[0].startswith(f"tlsgen: {SEED}: INSECURE verify_none: ")
    assert lines[1].startswith(f"tlsgen: {SEED}: INSECURE test_static_entropy: ")
    assert all("(reason: " in line for line in lines)


def test_check_mode_prints_insecure_opt_ins_whether_stale_or_not(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(SEED), "-o", str(out), "--check"]) == EXIT_STALE
    assert len(insecure_lines(capsys.readouterr().err)) == 2
    assert main([str(SEED), "-o", str(out), "--quiet"]) == EXIT_OK
    capsys.readouterr()
    for extra in ([], ["--quiet"]):
        assert main([str(SEED), "-o", str(out), "--check", *extra]) == EXIT_OK
        cap = capsys.readouterr()
        assert len(insecure_lines(cap.err)) == 2 and cap.out == "", cap


def test_summary_and_check_print_the_insecure_opt_ins(tmp_path, capsys):
    assert main([str(SEED), "-o", str(tmp_path)]) == EXIT_OK
    assert len(insecure_lines(capsys.readouterr().out)) == 2
    assert main(["check", str(SEED)]) == EXIT_OK
    assert len(insecure_lines(capsys.readouterr().out)) == 2
    assert main(["explain", str(SEED)]) == EXIT_OK
    assert len(insecure_lines(capsys.readouterr().out)) >= 2


def test_a_multi_line_reason_is_printed_on_one_line(write_profile, tmp_path, capsys):
    text = OPT_IN["verify_none"].replace("reason: staging server with a self-signed cert",
                                         'reason: "staging server\\n  self-signed"')
    assert main([write_profile(text), "-o", str(tmp_path / "o"), "--quiet"]) == EXIT_OK
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "(reason: staging server self-signed)" in err, err


def test_secure_profile_quiet_prints_nothing(tmp_path, capsys):
    assert main([str(ROOT / "profiles" / "m4-ecdhe-ecdsa.yaml"), "-o", str(tmp_path), "--quiet"]) == EXIT_OK
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""


def test_profile_header_lists_insecure_opt_ins_at_the_top(tmp_path):
    assert main([str(SEED), "-o", str(tmp_path), "--quiet"]) == EXIT_OK
    hpp = (tmp_path / "tlsgen_profile.hpp").read_text()
    top = hpp.split("#pragma once")[0]
    assert "INSECURE" in top
    assert re.search(r"^// - verify_none: the server's certificate is not verified", top, re.M), top
    assert "Reason given: The seed example never verified the server" in " ".join(
        line.lstrip("/ ") for line in top.splitlines()), top
    assert re.search(r"^// - test_static_entropy: ", top, re.M), top
    secure = tmp_path / "secure"
    assert main([str(ROOT / "profiles" / "m4-tls13.yaml"), "-o", str(secure), "--quiet"]) == EXIT_OK
    assert "INSECURE" not in (secure / "tlsgen_profile.hpp").read_text()


# ---- --strict ------------------------------------------------------------------------------------


@pytest.mark.parametrize("option", sorted(OPT_IN))
def test_strict_rejects_each_insecure_opt_in(option, write_profile, tmp_path, capsys):
    path = write_profile(OPT_IN[option])
    opt_in_line = OPT_IN[option].splitlines().index(next(x for x in OPT_IN[option].splitlines()
                                                          if x.startswith("  - {allow:"))) + 1
    assert main(["check", path]) == EXIT_OK
    capsys.readouterr()
    for argv in (["check", "--strict", path], ["generate", "--strict", path, "-o", str(tmp_path / "out")],
                 [path, "--strict", "--check", "-o", str(tmp_path / "out")]):
        assert main(argv) == EXIT_INVALID, argv
        err = capsys.readouterr().err
        assert f"{path}:{opt_in_line}:5: error: insecure[0]: --strict rejects insecure opt-in '{option}'" in err, err
    assert not (tmp_path / "out").exists()


def test_strict_rejects_the_seed_profile_and_accepts_the_secure_ones(capsys):
    assert main(["check", "--strict", str(SEED)]) == EXIT_INVALID
    capsys.readouterr()
    secure = [str(p) for p in PROFILES if p != SEED]
    assert main(["check", "--strict", *secure]) == EXIT_OK


# ---- check takes several profiles (the pre-commit hook passes every changed file) -----------------


def test_check_takes_several_profiles_and_exits_with_the_worst(write_profile, capsys):
    good = [str(ROOT / "profiles" / "m4-psk-ccm8.yaml"), str(ROOT / "profiles" / "m4-tls13.yaml")]
    assert main(["check", *good]) == EXIT_OK
    out = capsys.readouterr().out
    assert "m4-psk-ccm8" in out and "m4-tls13" in out
    bad = write_profile("profile: 1\n", "bad.yaml")
    assert main(["check", good[0], bad, good[1]]) == EXIT_INVALID
    cap = capsys.readouterr()
    assert "m4-psk-ccm8" in cap.out and "m4-tls13" in cap.out, "every profile is checked, not only up to the bad one"
    assert f"{bad}:1:1: error: name: required field is missing" in cap.err
