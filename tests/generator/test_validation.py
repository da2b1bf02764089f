"""Bad profiles: each must fail with a precise location, field path and message, and exit 2."""

import textwrap

import pytest

from tlsgen.cli import EXIT_INVALID, main
from tlsgen.ram import reference_app_ram

# A valid PSK profile; the cases below change it. Line numbers matter: the expected locations refer
# to the text of each case.
PSK = """\
profile: 1
name: t
target: {cpu: cortex-m4}
tls:
  versions: ["1.2"]
  cipher_suites: [TLS-PSK-WITH-AES-128-CCM-8]
platform:
  entropy: [nv_seed]
"""

# The same for certificates (ECDHE-ECDSA).
ECDSA = """\
profile: 1
name: t
target: {cpu: cortex-m4}
tls:
  versions: ["1.2"]
  cipher_suites: [TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]
  groups: [secp256r1]
platform:
  entropy: [nv_seed]
"""


def sub(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# (id, profile text, line, col, message fragment)
CASES = [
    ("yaml-syntax", "profile: 1\nname: [t\n", 3, 1, "YAML syntax"),
    ("yaml-tab", "profile: 1\n\tname: t\n", 2, 1, "YAML syntax"),
    ("not-a-mapping", "- a\n- b\n", 1, 1, "a profile is a mapping"),
    ("empty-file", "", 1, 1, "exactly one YAML document"),
    ("two-documents", PSK + "---\n" + PSK, 9, 1, "exactly one YAML document, found 2: a second document starts here"),
    ("duplicate-key", PSK + "name: again\n", 9, 1, "duplicate key 'name' (first defined at line 2)"),
    ("duplicate-nested-key", sub(PSK, "  entropy: [nv_seed]\n", "  entropy: [nv_seed]\n  entropy: [hardware]\n"),
     9, 3, "duplicate key 'entropy'"),
    ("unknown-top-key", PSK + "optimise: size\n", 9, 1, "unknown key 'optimise'; did you mean 'optimize'?"),
    ("unknown-tls-key", sub(PSK, "  versions:", "  verison: x\n  versions:"), 5, 3,
     "unknown key 'verison'; did you mean 'versions'?"),
    ("unknown-platform-key", PSK + "  entropie: [nv_seed]\n", 9, 3, "did you mean 'entropy'?"),
    ("missing-profile-version", PSK.replace("profile: 1\n", ""), 1, 1, "profile: required field is missing"),
    ("wrong-profile-version", sub(PSK, "profile: 1", "profile: 2"), 1, 10, "got 2; allowed: 1"),
    ("bad-name", sub(PSK, "name: t", "name: My Device"), 2, 7, "got 'My Device'; allowed: 1 to 63 characters"),
    ("missing-target", sub(PSK, "target: {cpu: cortex-m4}\n", ""), 1, 1, "target: required field is missing"),
    ("unknown-cpu", sub(PSK, "cortex-m4", "cortex-m9"), 3, 15, "got 'cortex-m9'; allowed: 'cortex-m0plus'"),
    ("negative-ram", sub(PSK, "{cpu: cortex-m4}", "{cpu: cortex-m4, ram_bytes: -1}"), 3, 37, "greater than 0"),
    ("unknown-suite", sub(PSK, "AES-128-CCM-8]", "AES-128-CCM8]"), 6, 19,
     "unknown cipher suite 'TLS-PSK-WITH-AES-128-CCM8'; did you mean 'TLS-PSK-WITH-AES-128-CCM-8'?"),
    ("empty-suites", sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[]"), 6, 18, "at least 1 item"),
    ("bad-version", sub(PSK, '["1.2"]', '["1.1"]'), 5, 14, "got '1.1'; allowed: '1.2' or '1.3'"),
    ("suite-needs-version", sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, "
                                "TLS1-3-AES-128-GCM-SHA256]"), 6, 47, "is a TLS 1.3 suite but tls.versions"),
    ("version-needs-suite", sub(PSK, '["1.2"]', '["1.2", "1.3"]'), 5, 21,
     "TLS 1.3 is enabled but tls.cipher_suites has no TLS 1.3 suite"),
    ("duplicate-suite", sub(PSK, "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, "
                            "TLS-PSK-WITH-AES-128-CCM-8]"), 6, 47, "listed twice"),
    ("ecdhe-without-group", ECDSA.replace("  groups: [secp256r1]\n", ""), 4, 1, "tls.groups is empty"),
    ("group-without-ecdhe", sub(PSK, "platform:", "  groups: [secp256r1]\nplatform:"), 7, 11,
     "no cipher suite uses (EC)DHE"),
    ("unknown-group", sub(ECDSA, "[secp256r1]", "[secp256k2]"), 7, 12, "unknown group 'secp256k2'"),
    ("ecdsa-needs-weierstrass", sub(ECDSA, "[secp256r1]", "[x25519]"), 7, 11, "ECDSA certificates need their curve"),
    ("verify-none-without-opt-in", sub(ECDSA, "platform:", "  verify: none\nplatform:"), 8, 11,
     "verify: none lets any server impersonate"),
    ("verify-optional-without-opt-in", sub(ECDSA, "platform:", "  verify: optional\nplatform:"), 8, 11,
     "allow: verify_optional"),
    ("bad-verify", sub(ECDSA, "platform:", "  verify: maybe\nplatform:"), 8, 11,
     "got 'maybe'; allowed: 'none', 'optional' or 'required'"),
    ("verify-with-psk", sub(PSK, "platform:", "  verify: required\nplatform:"), 7, 11, "nothing to verify"),
    ("static-entropy-without-opt-in", sub(PSK, "[nv_seed]", "[nv_seed, test_static]"), 8, 22,
     "test_static is a fixed byte pattern"),
    ("static-entropy-alone-without-opt-in", sub(PSK, "[nv_seed]", "[test_static]"), 8, 13,
     "test_static is a fixed byte pattern"),
    ("static-entropy-only", sub(PSK, "[nv_seed]", "[test_static]") +
     "insecure:\n  - {allow: test_static_entropy, reason: lab bench without a TRNG}\n", 8, 12,
     "platform.entropy: no real entropy source: test_static is a fixed pattern for labs and tests; "
     "list a real source beside it (allowed on cortex-m4: hardware, nv_seed), e.g. entropy: [nv_seed, test_static]"),
    ("static-entropy-only-host", sub(sub(PSK, "[nv_seed]", "[test_static]"), "cortex-m4", "host") +
     "insecure:\n  - {allow: test_static_entropy, reason: lab bench without a TRNG}\n", 8, 12,
     "(allowed on host: os, hardware, nv_seed)"),
    ("os-entropy-bare-metal", sub(PSK, "[nv_seed]", "[os]"), 8, 13, "entropy 'os' needs an operating system"),
    ("unknown-entropy", sub(PSK, "[nv_seed]", "[trng]"), 8, 13, "got 'trng'; allowed: 'os', 'hardware'"),
    ("no-entropy", sub(PSK, "[nv_seed]", "[]"), 8, 12, "at least 1 item"),
    ("static-and-hardware", PSK.replace("[nv_seed]", "[hardware, test_static]") +
     "insecure:\n  - {allow: test_static_entropy, reason: lab bench without a TRNG}\n", 8, 23,
     "both provide mbedtls_hardware_poll"),
    ("unused-opt-in", PSK + "insecure:\n  - {allow: verify_none, reason: not needed at all here}\n", 10, 13,
     "opt-in 'verify_none' is not needed"),
    ("short-reason", ECDSA.replace("  groups:", "  verify: none\n  groups:") +
     "insecure:\n  - {allow: verify_none, reason: x}\n", 12, 34, "at least 10 characters"),
    ("in-content-too-small", sub(PSK, "platform:", "  in_content_len: 100\nplatform:"), 7, 19,
     "greater than or equal to 512"),
    ("in-content-too-big", sub(PSK, "platform:", "  out_content_len: 20000\nplatform:"), 7, 20,
     "less than or equal to 16384"),
    ("bad-mfl", sub(PSK, "platform:", "  max_fragment_length: 1000\nplatform:"), 7, 24,
     "allowed: 512, 1024, 2048 or 4096"),
    ("in-below-mfl", sub(PSK, "platform:", "  max_fragment_length: 4096\n  in_content_len: 1024\n"
                         "  out_content_len: 4096\nplatform:"), 8, 19,
     "smaller than the max_fragment_length"),
    ("mfl-above-out", sub(PSK, "platform:", "  max_fragment_length: 4096\n  out_content_len: 2048\nplatform:"), 7, 24,
     "larger than out_content_len 2048"),
    # DTLS without out_content_len: the send buffer is the MTU, and the error says so
    ("mfl-above-dtls-mtu", sub(PSK, "platform:", "  transport: datagram\n  dtls: {mtu: 600}\n"
                               "  max_fragment_length: 1024\nplatform:"), 9, 24,
     "1024 is larger than the send buffer 600 (tls.dtls.mtu sizes it, out_content_len being left out)"),
    ("mfl-tls13-only", sub(ECDSA, '["1.2"]', '["1.3"]').replace("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                       "TLS1-3-AES-128-GCM-SHA256").replace("platform:", "  max_fragment_length: 1024\nplatform:"),
     8, 24, "max_fragment_length is TLS 1.2 only"),
    ("record-size-limit-tls12", sub(PSK, "platform:", "  record_size_limit: true\nplatform:"), 7, 22,
     "record_size_limit is a TLS 1.3 extension"),
    ("bool-as-string", sub(PSK, "platform:", "  server_name_indication: \"yes\"\nplatform:"), 7, 27, "got 'yes'; allowed: true or false"),
    ("session-tickets-replaced", sub(PSK, "platform:", "  session_tickets: true\nplatform:"), 7, 3,
     "'session_tickets' is no longer a profile field: replaced by tls.resumption"),
    ("resumption-tls13-without-tls13", sub(PSK, "platform:", "  resumption: {tls13: [psk_ephemeral]}\nplatform:"), 7,
     23, "TLS 1.3 is not in tls.versions, so no TLS 1.3 session is ever resumed"),
    ("resumption-ticket-without-clock", sub(PSK, "platform:", "  resumption: {tls12: [ticket]}\nplatform:"), 7, 15,
     "platform.time is none (allowed: platform.time ms_clock or calendar, or resumption by session_id only)"),
    ("resumption-twice", sub(PSK, "platform:", "  resumption: {tls12: [session_id, session_id]}\nplatform:"), 7, 36,
     "'session_id' is listed twice"),
    ("resumption-ticket-beyond-buffer", sub(PSK, "platform:", "  max_fragment_length: 1024\n  resumption: {tls12: [ticket], "
     "ticket_max_bytes: 1000}\nplatform:\n  time: ms_clock"), 8, 51,
     "a NewSessionTicket with a 1000-byte ticket is about 1064 bytes"),
    ("resumption-ticket-max-unused", sub(PSK, "platform:", "  resumption: {tls12: [session_id], ticket_max_bytes: 512}\n"
     "platform:"), 7, 55, "no ticket is kept"),
    ("resumption-psk-ke-needs-opt-in", sub(ECDSA, '["1.2"]', '["1.3"]').replace(
        "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS1-3-AES-128-GCM-SHA256").replace(
        "platform:\n", "  resumption: {tls13: [psk_ke]}\nplatform:\n  time: ms_clock\n"), 8, 24,
     "psk_ke resumes a TLS 1.3 session without (EC)DHE"),
    ("resumption-tls13-with-psk-suites", sub(PSK, '["1.2"]', '["1.2", "1.3"]').replace(
        "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, TLS1-3-AES-128-GCM-SHA256]\n  groups: [secp256r1]").replace(
        "platform:\n", "  resumption: {tls13: [psk_ephemeral]}\nplatform:\n  time: ms_clock\n"), 8, 23,
     "offer the pre-shared key the profile's TLS 1.2 PSK suites use as a TLS 1.3 external PSK"),
    ("resumption-tls12-no-tls12-scheme", sub(PSK, '["1.2"]', '["1.2", "1.3"]').replace(
        "[TLS-PSK-WITH-AES-128-CCM-8]", "[TLS-PSK-WITH-AES-128-CCM-8, TLS1-3-AES-128-GCM-SHA256]").replace(
        "platform:\n", "  groups: [secp256r1]\n  resumption: {tls12: [session_id]}\nplatform:\n"), 8, 23,
     "mbedTLS 3.6 cannot write the ClientHello of a resumed TLS 1.2 session here"),
    ("heap-negative", sub(PSK, "platform:\n", "platform:\n  heap: -5\n"), 8, 9, "'auto'"),
    ("heap-below-model", sub(PSK, "platform:\n", "platform:\n  heap: 1000\n"), 8, 9,
     "1000 bytes is below the model's"),
    ("heap-over-ram", sub(PSK, "{cpu: cortex-m4}", "{cpu: cortex-m4, ram_bytes: 4096}"), 3, 37,
     "exceeds the part's RAM"),
    # a 16 KB part whose heap and stack alone do not fit: refused, and by how much (issue 16)
    ("heap-and-stack-over-ram", sub(PSK, "{cpu: cortex-m4}", "{cpu: cortex-m0plus, ram_bytes: 65536, stack_bytes: 60000}"),
     3, 41, "more than the part's RAM (65536 bytes), before the application's own static data"),
    # a stack below what the profile's sessions need (tlsgen.stack): refused, with the class and the figure
    ("stack-below-need", sub(ECDSA, "{cpu: cortex-m4}", "{cpu: cortex-m4, stack_bytes: 2048}"), 3, 39,
     "2048 bytes is below the 4864 bytes of stack this profile's sessions need: TLS 1.2 with certificates"),
    # debug messages put their format buffers on the stack deep in a TLS 1.2 certificate handshake (sweep
    # m10118-0051: 5,036 bytes on the Cortex-M0+, the class's 4,864 without them)
    ("stack-below-need-debug", sub(sub(ECDSA, "{cpu: cortex-m4}", "{cpu: cortex-m4, stack_bytes: 5120}"), "platform:\n",
                                   "platform:\n  debug: {level: 1}\n"), 3, 39,
     "5120 bytes is below the 5632 bytes of stack this profile's sessions need: TLS 1.2 with certificates (X.509 "
     "verification, ECP and RSA frames) and mbedTLS's debug messages"),
    ("stack-below-need-tls13", sub(sub(ECDSA, '["1.2"]', '["1.3"]'), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                                         "TLS1-3-AES-128-GCM-SHA256").replace(
        "{cpu: cortex-m4}", "{cpu: cortex-m4, stack_bytes: 5120}"),
     3, 39, "below the 6144 bytes of stack this profile's sessions need: TLS 1.3"),
    # no stack_bytes: the heap plus the stack the sessions need must still fit the part
    ("heap-and-stack-need-over-ram", sub(PSK, "{cpu: cortex-m4}", "{cpu: cortex-m4, ram_bytes: 25000}"), 3, 37,
     "the stack its sessions need (3840 bytes: TLS 1.2 with PSK only) and the static data"),
    ("stack-on-host", sub(sub(PSK, "{cpu: cortex-m4}", "{cpu: host, stack_bytes: 4096}"), "[nv_seed]", "[os]"), 3, 34,
     "a host target's stack is the operating system's"),
    # static RSA on TLS 1.2 with only RSA-PSS listed: the TLS 1.2 ClientHello offers no RSA scheme, and OpenSSL
    # refuses the handshake (sweep seed 9401, h9401-0286)
    ("static-rsa-tls12-pss-only", """\
profile: 1
name: t
target: {cpu: cortex-m4}
tls:
  versions: ["1.2"]
  cipher_suites: [TLS-RSA-WITH-AES-128-GCM-SHA256]
  certificate_keys: [rsa]
  signature_algorithms: [rsa_pss_rsae_sha256]
platform:
  entropy: [nv_seed]
insecure:
- {allow: no_forward_secrecy, reason: a lab server for the test}
""", 8, 25, "mbedTLS 3.6's TLS 1.2 ClientHello offers RSA as PKCS#1 v1.5 only"),
    ("rsa-kex-without-opt-in", sub(ECDSA.replace("  groups: [secp256r1]\n", ""), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                                   "TLS-RSA-WITH-AES-128-GCM-SHA256"), 6, 19, "no forward secrecy"),
    ("dtls-tls13", sub(ECDSA, '["1.2"]', '["1.3"]').replace("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                                                            "TLS1-3-AES-128-GCM-SHA256")
     .replace("tls:\n", "tls:\n  transport: datagram\n"), 6, 14, "DTLS is 1.2 only"),
    # tls.client_certificate (mutual TLS): what the device can send and sign with.
    ("client-cert-psk-only", sub(PSK, "platform:\n", "  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 600}\n"
     "platform:\n"), 7, 23,
     "no cipher suite uses certificates (PSK only): a server asks for a client certificate only in a certificate "
     "handshake"),
    ("client-key-curve-not-enabled", sub(ECDSA, "  groups: [secp256r1]\n", "  groups: [secp256r1]\n"
     "  client_certificate: {key: ecdsa_secp384r1, chain_bytes: 600}\n"), 8, 29,
     "ecdsa_secp384r1 is a key on secp384r1, which tls.groups does not enable"),
    ("client-key-unknown", sub(ECDSA, "  groups: [secp256r1]\n", "  groups: [secp256r1]\n"
     "  client_certificate: {key: ecdsa_secp521r1, chain_bytes: 600}\n"), 8, 29,
     "got 'ecdsa_secp521r1'; allowed: 'ecdsa_secp256r1', 'ecdsa_secp384r1', 'rsa2048' or 'rsa3072'"),
    ("client-chain-below-one-certificate", sub(ECDSA, "  groups: [secp256r1]\n", "  groups: [secp256r1]\n"
     "  client_certificate: {key: rsa2048, chain_bytes: 300}\n"), 8, 51,
     "300 bytes cannot hold 1 certificate(s) with a rsa2048 leaf"),
    ("client-chain-beyond-one-record", sub(ECDSA, "  groups: [secp256r1]\n", "  groups: [secp256r1]\n"
     "  out_content_len: 1024\n  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 1500, chain_certs: 2}\n"),
     9, 59, "makes a 1518-byte Certificate message, and mbedTLS 3.6 sends it in one record, but tls.out_content_len "
     "is 1024"),
    ("client-chain-beyond-a-tls13-ticket", sub(sub(ECDSA, '["1.2"]', '["1.3"]'), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
     "TLS1-3-AES-128-GCM-SHA256").replace("platform:\n", "  peer_chain_max_bytes: 1000\n  in_content_len: 2048\n"
     "  record_size_limit: true\n  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 1900}\n" "platform:\n"),
     11, 59,
     "a TLS 1.3 server's NewSessionTicket carries the device's chain"),
    ("client-rsa-key-tls13-without-pss", sub(sub(ECDSA, '["1.2"]', '["1.3"]'), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
     "TLS1-3-AES-128-GCM-SHA256").replace("platform:\n", "  client_certificate: {key: rsa2048, chain_bytes: 900}\n"
     "platform:\n"), 8, 29,
     "a TLS 1.3 client signs CertificateVerify with an RSA key using RSA-PSS"),
    ("client-ecdsa-key-tls13-scheme-not-listed", sub(sub(ECDSA, '["1.2"]', '["1.3"]'),
     "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS1-3-AES-128-GCM-SHA256").replace(
     "  groups: [secp256r1]\n", "  groups: [secp256r1, secp384r1]\n  signature_algorithms: [ecdsa_secp256r1_sha256]\n"
     "  client_certificate: {key: ecdsa_secp384r1, chain_bytes: 700}\n"), 9, 29,
     "a TLS 1.3 client signs CertificateVerify with ecdsa_secp384r1_sha384 for a secp384r1 key"),
    ("merge-key", PSK.replace("target: {cpu: cortex-m4}", "target:\n  <<: {cpu: host}"), 4, 3, "merge keys"),
    ("merge-key-with-alias", "base: &b {cpu: host}\n" + PSK.replace("target: {cpu: cortex-m4}", "target:\n  <<: *b"),
     1, 7, "YAML anchors and aliases ('&name', '*name') are not supported in profiles"),
]


@pytest.mark.parametrize("case_id,text,line,col,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_profile_is_rejected_with_location(case_id, text, line, col, fragment, write_profile, tmp_path, capsys):
    path = write_profile(text)
    out = tmp_path / "out"
    rc = main([path, "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == EXIT_INVALID, err
    assert fragment in err, err
    assert f"{path}:{line}:{col}: error:" in err, err
    assert not out.exists(), "nothing may be written for an invalid profile"


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30


def test_every_problem_is_reported_not_just_the_first(write_profile, capsys):
    text = sub(sub(PSK, "cortex-m4", "cortex-m9"), "[nv_seed]", "[trng]")
    assert main(["check", write_profile(text)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert ":3:15: error: target.cpu" in err and ":8:13: error: platform.entropy[0]" in err
    assert "2 errors" in err


def test_existing_output_directory_is_left_untouched(write_profile, tmp_path, capsys):
    good = write_profile(PSK, "good.yaml")
    out = tmp_path / "out"
    assert main([good, "-o", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "user-file.txt").write_text("mine")
    bad = write_profile(sub(PSK, "cortex-m4", "cortex-m9"), "bad.yaml")
    assert main([bad, "-o", str(out)]) == EXIT_INVALID
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == {**before, "user-file.txt": b"mine"}


def test_missing_file_is_a_clean_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml")]) == EXIT_INVALID
    assert "cannot read profile" in capsys.readouterr().err


def test_yaml_float_versions_are_accepted(write_profile, capsys):
    assert main(["check", write_profile(sub(PSK, '["1.2"]', "[1.2]"))]) == 0


def test_did_you_mean_is_not_offered_for_unrelated_words(write_profile, capsys):
    assert main(["check", write_profile(PSK + "zzzz: 1\n")]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "unknown key 'zzzz'" in err and "did you mean" not in err
    assert "allowed: profile, name, description, target, tls, platform, optimize, insecure" in err


def test_strict_rejects_every_insecure_opt_in(capsys):
    from conftest import ROOT

    seed = str(ROOT / "profiles" / "seed-esp8266.yaml")
    assert main(["check", seed]) == 0
    assert "INSECURE verify_none" in capsys.readouterr().out
    assert main(["check", "--strict", seed]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "--strict rejects insecure opt-in 'verify_none'" in err
    assert "--strict rejects insecure opt-in 'test_static_entropy'" in err


def test_ram_check_counts_tlsgen_static_data(write_profile, tmp_path, capsys):
    """A part whose RAM holds the heap and the stack but not the static data of mbedTLS and the runtime is
    refused by the generator (sweep 5202's m5202-0257 passed check and was refused only at link)."""
    from tlsgen.pipeline import build
    from tlsgen.ram import STATIC_NO_PSA, STATIC_PSA

    # A second curve keeps these on the legacy ECP: on P-256 alone tlsgen would fall back to it where the p256-m
    # driver does not fit (test_resolution: the stack case), and the figures here are the legacy ECP's.
    legacy = sub(ECDSA, "groups: [secp256r1]", "groups: [secp256r1, secp384r1]")
    for text, static in ((PSK, STATIC_NO_PSA),
                         (sub(sub(legacy, '["1.2"]', '["1.3"]'), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                              "TLS1-3-AES-128-GCM-SHA256"), STATIC_PSA)):
        probe = build(str(write_profile(text)))
        from tlsgen.stack import stack_need
        heap_and_stack = probe.heap.bytes + stack_need(probe.resolution).bytes
        tight = sub(text, "{cpu: cortex-m4}", f"{{cpu: cortex-m4, ram_bytes: {heap_and_stack + static - 8}}}")
        assert main(["check", str(write_profile(tight))]) == EXIT_INVALID
        err = capsys.readouterr().err
        assert f"the static data of mbedTLS and the tlsgen runtime ({static} bytes, measured)" in err
        assert "8 more than the part's RAM" in err
        app = reference_app_ram(probe.resolution)
        fits = sub(text, "{cpu: cortex-m4}", f"{{cpu: cortex-m4, ram_bytes: {heap_and_stack + static + app}}}")
        assert main(["check", str(write_profile(fits))]) == 0
        assert f"{app} left for the application's static data" in capsys.readouterr().out


def test_ram_check_leaves_room_for_the_reference_application(write_profile, tmp_path, capsys):
    """A part whose RAM holds tlsgen's share but not the smallest reference application beside it is refused by
    the generator, and one that holds only its small form says so in kRamLeftBytes, which the reference firmware
    sizes its buffers by (sweep 9802's m9802-0555: stack_bytes 16384 on a 64 KB part left 8,024 bytes; the
    firmware's 4 KB modem ring, 2 KB reply and PEM CA file took 11,626 and the image was refused at link)."""
    from tlsgen.pipeline import build
    from tlsgen.ram import REFERENCE_APP_FIXED, ram_plan, reference_app_ram

    text = sub(sub(ECDSA, "groups: [secp256r1]", "groups: [secp256r1, secp384r1]"),  # the legacy ECP either way
               "{cpu: cortex-m4}", "{cpu: cortex-m4, stack_bytes: 16384}")
    probe = build(str(write_profile(text)))
    plan = ram_plan(probe.resolution, probe.heap.bytes)
    app = reference_app_ram(probe.resolution)
    assert app > REFERENCE_APP_FIXED  # the provisioned CA file is counted
    short = sub(text, "stack_bytes: 16384}", f"stack_bytes: 16384, ram_bytes: {plan.total + app - 1}}}")
    assert main(["check", str(write_profile(short))]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert f"leave {app - 1} for the application" in err
    assert "tlsgen's smallest reference application" in err and f"needs {app}" in err
    assert "a smaller target.stack_bytes" in err
    room = sub(text, "stack_bytes: 16384}", f"stack_bytes: 16384, ram_bytes: {plan.total + app}}}")
    out = tmp_path / "out"
    assert main(["generate", str(write_profile(room)), "-o", str(out)]) == 0
    header = (out / "tlsgen_profile.hpp").read_text()
    assert f"kRamLeftBytes = {app};" in header


def test_dedent_helper_unused():
    # textwrap is imported for readers who add multi-line cases; keep the import honest.
    assert textwrap.dedent("  a") == "a"
