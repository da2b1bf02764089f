"""Resolution rules: what each profile choice turns into, mirroring mbedTLS 3.6's prerequisites."""

import pytest

from tlsgen.cli import build
from tlsgen.errors import ProfileError
from tlsgen.resolve import NEVER_DEFINED

BASE = {
    "psk": ('["1.2"]', "[TLS-PSK-WITH-AES-128-CCM-8]", ""),
    "ecdsa": ('["1.2"]', "[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]", "  groups: [secp256r1]\n"),
    # a second curve keeps the legacy ECP (the p256-m driver does secp256r1 only: tlsgen.resolve.ecc)
    "ecdsa-legacy": ('["1.2"]', "[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]", "  groups: [secp256r1, secp384r1]\n"),
    "rsa": ('["1.2"]', "[TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256]", "  groups: [secp256r1]\n"),
    "tls13": ('["1.3"]', "[TLS1-3-AES-128-GCM-SHA256]", "  groups: [x25519, secp256r1]\n"),
    "cbc": ('["1.2"]', "[TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256]", "  groups: [secp256r1]\n"),
    "chacha": ('["1.2"]', "[TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256]", "  groups: [secp256r1]\n"),
    "sha384": ('["1.2"]', "[TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384]", "  groups: [secp384r1]\n"),
}


def profile_text(kind="psk", cpu="cortex-m4", tls_extra="", platform_extra="", entropy="[nv_seed]", top_extra=""):
    versions, suites, groups = BASE[kind]
    return (f"profile: 1\nname: t\ntarget: {{cpu: {cpu}}}\ntls:\n  versions: {versions}\n"
            f"  cipher_suites: {suites}\n{groups}{tls_extra}platform:\n  entropy: {entropy}\n{platform_extra}"
            f"{top_extra}")


@pytest.fixture
def resolved(write_profile):
    def run(**kw):
        return build(write_profile(profile_text(**kw))).resolution

    return run


def names(r):
    return {m.name for m in r.macros}


def test_client_does_not_link_the_server(resolved):
    r = resolved()
    assert "MBEDTLS_SSL_CLI_C" in names(r) and "MBEDTLS_SSL_SRV_C" not in names(r)


def test_server_role_is_refused_until_the_runtime_supports_it(write_profile):
    # Before: accepted, generating a server config that SslConfig::init never set up (a client, always).
    from tlsgen.errors import ProfileError

    with pytest.raises(ProfileError, match=r"tls\.role: server is not supported yet.*allowed: client"):
        build(write_profile(profile_text(tls_extra="  role: server\n")))


def test_datagram_heap_counts_dtls(write_profile):
    # A DTLS profile's heap: the TLS session's lines, plus the fixed DTLS part and what buffered messages can add.
    stream = build(write_profile(profile_text())).heap.model
    dgram = build(write_profile(profile_text(tls_extra="  transport: datagram\n"))).heap.model
    lines = {x.name: x.bytes for x in dgram.lines}
    assert lines["DTLS handshake"] > 0 and "DTLS reassembly" in lines
    assert dgram.subtotal == sum(x.bytes for x in dgram.lines)
    # The rest is the TLS session's (the send buffer follows the MTU: 1024 against out_content_len's 4096).
    same = lambda m: {x.name: x.bytes for x in m.lines if not x.name.startswith(("DTLS", "record buffer out"))}  # noqa
    assert same(dgram) == same(stream)
    assert not any(x.name.startswith("DTLS") for x in stream.lines)


def test_tls13_needs_psa_keep_peer_cert_and_hkdf(resolved):
    n = names(resolved(kind="tls13"))
    assert {"MBEDTLS_SSL_PROTO_TLS1_3", "MBEDTLS_PSA_CRYPTO_C", "MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", "MBEDTLS_HKDF_C",
            "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED", "MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS"} <= n
    assert "MBEDTLS_SSL_PROTO_TLS1_2" not in n


def test_tls12_does_not_keep_the_peer_certificate(resolved):
    assert "MBEDTLS_SSL_KEEP_PEER_CERTIFICATE" not in names(resolved(kind="ecdsa"))


def test_ecdhe_ecdsa_pulls_in_ecdh_ecdsa_curve_and_x509(resolved):
    n = names(resolved(kind="ecdsa-legacy"))
    assert {"MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED", "MBEDTLS_ECDH_C", "MBEDTLS_ECDSA_C", "MBEDTLS_ECP_C",
            "MBEDTLS_ECP_DP_SECP256R1_ENABLED", "MBEDTLS_X509_CRT_PARSE_C", "MBEDTLS_BIGNUM_C", "MBEDTLS_GCM_C",
            "MBEDTLS_SHA256_C", "MBEDTLS_SSL_SERVER_NAME_INDICATION"} <= n
    assert "MBEDTLS_RSA_C" not in n


def test_ecdhe_rsa_needs_rsa_and_pkcs1(resolved):
    n = names(resolved(kind="rsa"))
    assert {"MBEDTLS_RSA_C", "MBEDTLS_PKCS1_V15", "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED"} <= n
    assert "MBEDTLS_ECDSA_C" not in n


def test_psk_only_has_no_public_key_crypto(resolved):
    n = names(resolved())
    assert {"MBEDTLS_KEY_EXCHANGE_PSK_ENABLED", "MBEDTLS_CCM_C", "MBEDTLS_AES_C", "MBEDTLS_PSK_MAX_LEN"} <= n
    assert not n & {"MBEDTLS_ECP_C", "MBEDTLS_BIGNUM_C", "MBEDTLS_X509_CRT_PARSE_C", "MBEDTLS_PK_C", "MBEDTLS_RSA_C"}


def test_cbc_brings_encrypt_then_mac_and_padding_overhead(resolved):
    r = resolved(kind="cbc")
    assert {"MBEDTLS_CIPHER_MODE_CBC", "MBEDTLS_SSL_ENCRYPT_THEN_MAC"} <= names(r)
    assert r.record_overhead == 13 + 16 + 32 + 256
    assert resolved(kind="ecdsa").record_overhead == 13 + 16 + 16


def test_chachapoly_suite_needs_chacha_poly_and_aes_only_for_the_drbg(resolved):
    m = {x.name: x for x in resolved(kind="chacha").macros}
    assert {"MBEDTLS_CHACHA20_C", "MBEDTLS_POLY1305_C", "MBEDTLS_CHACHAPOLY_C"} <= set(m)
    assert "CTR_DRBG" in m["MBEDTLS_AES_C"].reason_text and "record cipher" not in m["MBEDTLS_AES_C"].reason_text


def test_sha384_suite_needs_sha512_module_and_makes_the_nv_seed_64_bytes(resolved):
    r = resolved(kind="sha384")
    assert {"MBEDTLS_SHA384_C", "MBEDTLS_SHA512_C", "MBEDTLS_ECP_DP_SECP384R1_ENABLED"} <= names(r)
    assert r.nv_seed_bytes == 64 and resolved(kind="ecdsa").nv_seed_bytes == 32
    assert r.macro("MBEDTLS_MPI_MAX_SIZE").value == "48"


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m4", "cortex-m33", "host"])
def test_never_net_timing_or_fs_io(resolved, cpu):
    n = names(resolved(cpu=cpu, entropy="[nv_seed]"))
    assert not n & set(NEVER_DEFINED)


# Issue 16: each core's reason for MBEDTLS_HAVE_ASM names the bignum path it selects, and the config says what
# the core means for alignment and extensions.
@pytest.mark.parametrize("cpu,asm,note", [
    ("cortex-m0plus", "no 32x32->64 multiply", "no unaligned access"),
    ("cortex-m3", "UMULL but not the DSP extension's UMAAL", "unaligned LDR/STR allowed"),
    ("cortex-m4", "UMAAL", "unaligned LDR/STR allowed"),
    ("cortex-m7", "UMAAL", "caches are the application's"),
    ("cortex-m33", "-mcpu=cortex-m33+nodsp", "TrustZone is not needed"),
])
def test_each_core_gives_its_reasons(resolved, cpu, asm, note):
    r = resolved(cpu=cpu)
    assert asm in r.macro("MBEDTLS_HAVE_ASM").reason_text
    assert any(note in n for n in r.cpu.notes)
    assert any("8-byte aligned" in n for n in r.cpu.notes)


def test_bare_metal_has_no_platform_entropy(resolved):
    assert "MBEDTLS_NO_PLATFORM_ENTROPY" in names(resolved(cpu="cortex-m4"))
    assert "MBEDTLS_NO_PLATFORM_ENTROPY" not in names(resolved(cpu="host", entropy="[os]"))
    assert "MBEDTLS_NO_PLATFORM_ENTROPY" in names(resolved(cpu="host", entropy="[hardware]"))


def test_entropy_sources_map_to_their_hooks(resolved):
    n = names(resolved(entropy="[hardware, nv_seed]"))
    assert {"MBEDTLS_ENTROPY_HARDWARE_ALT", "MBEDTLS_ENTROPY_NV_SEED", "MBEDTLS_PLATFORM_NV_SEED_ALT"} <= n
    assert resolved(entropy="[hardware, nv_seed]").macro("MBEDTLS_ENTROPY_MAX_SOURCES").value == "2"


ALT = {"MBEDTLS_PLATFORM_MS_TIME_ALT", "MBEDTLS_PLATFORM_TIME_ALT"}


@pytest.mark.parametrize("cpu,time,present,absent", [
    ("cortex-m4", "none", set(), {"MBEDTLS_HAVE_TIME", "MBEDTLS_HAVE_TIME_DATE"} | ALT),
    ("cortex-m4", "ms_clock", {"MBEDTLS_HAVE_TIME", "MBEDTLS_PLATFORM_MS_TIME_ALT"},
     {"MBEDTLS_HAVE_TIME_DATE", "MBEDTLS_PLATFORM_TIME_ALT"}),
    # Before: calendar on bare metal lacked both hooks, and mbedTLS's platform_util.c stopped with
    # #error "No mbedtls_ms_time available".
    ("cortex-m4", "calendar", {"MBEDTLS_HAVE_TIME", "MBEDTLS_HAVE_TIME_DATE"} | ALT, set()),
    ("host", "ms_clock", {"MBEDTLS_HAVE_TIME"}, {"MBEDTLS_HAVE_TIME_DATE"} | ALT),
    ("host", "calendar", {"MBEDTLS_HAVE_TIME", "MBEDTLS_HAVE_TIME_DATE"}, ALT),
])
def test_time_source(resolved, cpu, time, present, absent):
    entropy = "[os]" if cpu == "host" else "[nv_seed]"
    n = names(resolved(kind="ecdsa", cpu=cpu, entropy=entropy, platform_extra=f"  time: {time}\n"))
    assert present <= n and not n & absent


def test_no_clock_with_verification_warns_about_validity_dates(resolved):
    assert any("validity dates" in w for w in resolved(kind="ecdsa").warnings)
    assert not resolved(kind="ecdsa", platform_extra="  time: calendar\n").warnings


def test_optimize_changes_ecp_knobs(resolved):
    size = resolved(kind="ecdsa-legacy")
    speed = resolved(kind="ecdsa-legacy", top_extra="optimize: speed\n")
    assert size.macro("MBEDTLS_ECP_WINDOW_SIZE").value == "2" and speed.macro("MBEDTLS_ECP_WINDOW_SIZE").value == "6"
    assert size.macro("MBEDTLS_ECP_FIXED_POINT_OPTIM").value == "0"
    assert speed.macro("MBEDTLS_ECP_FIXED_POINT_OPTIM").value == "1"
    assert "MBEDTLS_ECP_NIST_OPTIM" in names(speed) and "MBEDTLS_ECP_NIST_OPTIM" in names(size)
    # one AES table under speed too on a Thumb-2 core (the rotation folds into the EOR), four on Thumb-1 and the host
    assert "MBEDTLS_AES_FEWER_TABLES" in names(size) and "MBEDTLS_AES_FEWER_TABLES" in names(speed)
    for cpu, entropy in (("cortex-m0plus", "[nv_seed]"), ("host", "[os]")):
        fast = resolved(kind="ecdsa-legacy", cpu=cpu, entropy=entropy, top_extra="optimize: speed\n")
        small = resolved(kind="ecdsa-legacy", cpu=cpu, entropy=entropy)
        assert "MBEDTLS_AES_FEWER_TABLES" not in names(fast) and "MBEDTLS_AES_FEWER_TABLES" in names(small), cpu


def test_optimize_speed_unrolls_sha256(resolved):
    """The compact SHA-256 loop costs a PSK handshake a third more instructions: speed leaves it out."""
    assert "MBEDTLS_SHA256_SMALLER" in names(resolved(kind="psk"))
    assert "MBEDTLS_SHA256_SMALLER" not in names(resolved(kind="psk", top_extra="optimize: speed\n"))


@pytest.mark.parametrize("kind,no_decrypt", [("psk", True), ("ecdsa", True), ("tls13", True), ("chacha", True),
                                             ("cbc", False)])
def test_block_cipher_decryption_is_left_out_without_cbc(resolved, kind, no_decrypt):
    """CCM, GCM, ChaCha20-Poly1305 and CTR_DRBG only encrypt with AES; CBC decrypts (check_config.h refuses both)."""
    r = resolved(kind=kind)
    assert ("MBEDTLS_BLOCK_CIPHER_NO_DECRYPT" in names(r)) == no_decrypt
    assert ("MBEDTLS_CIPHER_MODE_CBC" in names(r)) == (not no_decrypt)


def test_record_sizes(resolved):
    r = resolved()
    assert (r.in_content_len, r.out_content_len) == (16384, 4096)
    r = resolved(tls_extra="  max_fragment_length: 1024\n  out_content_len: 1024\n")
    assert r.in_content_len == 1024 and "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in names(r)
    r = resolved(tls_extra="  in_content_len: 2048\n  out_content_len: 512\n  max_fragment_length: 512\n")
    assert r.macro("MBEDTLS_SSL_IN_CONTENT_LEN").value == "2048"
    assert r.macro("MBEDTLS_SSL_OUT_CONTENT_LEN").value == "512"


def test_suites_are_compiled_in_profile_order(write_profile):
    text = profile_text(kind="ecdsa").replace(
        "[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]",
        "[TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256, TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256]")
    m = build(write_profile(text)).resolution.macro("MBEDTLS_SSL_CIPHERSUITES")
    assert m.value == ("MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "
                       "MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")


def test_every_macro_has_a_reason_and_names_a_field_or_the_baseline(resolved):
    from tlsgen.resolve import BASELINE

    baseline = {"MBEDTLS_SSL_ALL_ALERT_MESSAGES", "MBEDTLS_DEPRECATED_REMOVED", "MBEDTLS_PLATFORM_C",
                "MBEDTLS_PLATFORM_NO_STD_FUNCTIONS"}
    for kind in BASE:
        r = resolved(kind=kind)
        for m in r.macros:
            assert m.reason_text.strip(), m.name
            sources = {src for _, src in m.reasons}
            assert sources and all(sources), m.name
            if sources == {BASELINE}:
                assert m.name in baseline, f"{m.name} has no profile field as its cause"


def test_insecure_opt_ins_are_carried_with_their_reason(write_profile):
    text = profile_text(kind="ecdsa", tls_extra="  verify: none\n", entropy="[nv_seed, test_static]",
                        top_extra="insecure:\n  - {allow: verify_none, reason: lab server has no certificate}\n"
                                  "  - {allow: test_static_entropy, reason: QEMU board without a TRNG}\n")
    r = build(write_profile(text)).resolution
    assert [(c.option, c.reason) for c in r.insecure] == [
        ("verify_none", "lab server has no certificate"), ("test_static_entropy", "QEMU board without a TRNG")]
    assert "MBEDTLS_ENTROPY_HARDWARE_ALT" in names(r)


def test_heap_model_grows_with_record_sizes_and_features(resolved):
    small = build_heap(resolved, tls_extra="  in_content_len: 2048\n  out_content_len: 1024\n"
                                           "  max_fragment_length: 1024\n")
    big = build_heap(resolved)
    delta = (16384 - 2048) + (4096 - 1024)
    assert delta <= big - small <= delta * 1.05 + 16  # the record buffers plus the margin on them
    assert build_heap(resolved, kind="tls13") > build_heap(resolved, kind="ecdsa") > build_heap(resolved, kind="psk")


def build_heap(resolved, **kw):
    from tlsgen.heap import size_heap

    return size_heap(resolved(**kw)).total


def test_record_size_limit_sizes_the_tls13_receive_buffer(resolved):
    r = resolved(kind="tls13", tls_extra="  in_content_len: 2048\n  record_size_limit: true\n  peer_chain_max_bytes: 1024\n")
    assert "MBEDTLS_SSL_RECORD_SIZE_LIMIT" in names(r) and r.in_content_len == 2048


def test_snprintf_hooks_only_where_mbedtls_formats_text(resolved):
    assert "MBEDTLS_PLATFORM_SNPRINTF_ALT" not in names(resolved())  # PSK, no debug, no error strings
    assert "MBEDTLS_PLATFORM_SNPRINTF_ALT" in names(resolved(kind="ecdsa"))  # X.509 names
    assert "MBEDTLS_PLATFORM_VSNPRINTF_ALT" in names(resolved(platform_extra="  debug: {level: 1}\n"))
    assert "MBEDTLS_PLATFORM_SNPRINTF_ALT" in names(resolved(platform_extra="  debug: {error_strings: true}\n"))


def test_debug_builds_get_a_printf_hook_not_libc_printf(resolved):
    # mbedTLS's debug build calls mbedtls_printf (ssl_tls.c's preset self-check); under
    # MBEDTLS_PLATFORM_NO_STD_FUNCTIONS that must be the glue's hook, not an undeclared libc printf.
    assert "MBEDTLS_PLATFORM_PRINTF_ALT" not in names(resolved(kind="ecdsa"))
    r = resolved(kind="ecdsa", platform_extra="  debug: {level: 2}\n")
    assert {"MBEDTLS_DEBUG_C", "MBEDTLS_PLATFORM_PRINTF_ALT"} <= names(r)
    assert r.macro("MBEDTLS_PLATFORM_PRINTF_ALT").reasons[0][1] == "platform.debug.level"



def test_certificates_are_never_printed_outside_debug_builds(resolved):
    """MBEDTLS_X509_REMOVE_INFO: no certificate text (mbedtls_x509_*_info(), the OID tables' descriptions) where
    nothing prints it; a debug build keeps it for mbedtls_debug_print_crt(); a PSK profile parses no certificate."""
    r = resolved(kind="ecdsa")
    assert "MBEDTLS_X509_REMOVE_INFO" in names(r)
    assert "platform.debug.level" in r.macro("MBEDTLS_X509_REMOVE_INFO").reason_text
    assert "MBEDTLS_X509_REMOVE_INFO" not in names(resolved(kind="ecdsa", platform_extra="  debug: {level: 1}\n"))
    assert "MBEDTLS_X509_REMOVE_INFO" not in names(resolved())

# ---- tls.client_certificate (mutual TLS) -------------------------------------------------------------

def test_client_rsa_key_beside_an_ecdsa_server_compiles_rsa_signing(resolved):
    """A device with an RSA-3072 key and a server with ECDSA: RSA and PKCS#1 v1.5 (TLS 1.2's CertificateVerify)
    come in for the device's key alone, and the largest integer is its modulus, not the curve's."""
    r = resolved(kind="ecdsa", tls_extra="  client_certificate: {key: rsa3072, chain_bytes: 1200}\n")
    m = {x.name: x for x in r.macros}
    assert "MBEDTLS_RSA_C" in m and "MBEDTLS_PKCS1_V15" in m
    assert "tls.client_certificate.key" in m["MBEDTLS_PKCS1_V15"].reason_text
    assert m["MBEDTLS_MPI_MAX_SIZE"].value == "384"
    assert "tls.client_certificate.key" in m["MBEDTLS_MPI_MAX_SIZE"].reason_text
    assert "MBEDTLS_PKCS1_V21" not in m  # TLS 1.2 only: no RSA-PSS


def test_client_ecdsa_key_beside_an_rsa_server_compiles_ecdsa_signing(resolved):
    r = resolved(kind="rsa", tls_extra="  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 600}\n")
    m = {x.name: x for x in r.macros}
    for name in ("MBEDTLS_ECDSA_C", "MBEDTLS_ASN1_WRITE_C", "MBEDTLS_ECP_C"):
        assert "tls.client_certificate.key" in m[name].reason_text, name


def test_no_client_certificate_compiles_nothing_for_it(resolved):
    plain = names(resolved(kind="rsa"))
    with_cert = names(resolved(kind="rsa", tls_extra="  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 600}\n"))
    assert "MBEDTLS_ECDSA_C" not in plain and "MBEDTLS_ECDSA_C" in with_cert


def test_client_certificate_constants_and_heap_line(write_profile, tmp_path):
    from tlsgen.cli import main

    text = profile_text(kind="ecdsa", tls_extra="  client_certificate: {key: ecdsa_secp256r1, chain_bytes: 1000, "
                                                 "chain_certs: 2}\n")
    out = tmp_path / "out"
    assert main([write_profile(text), "-o", str(out), "--quiet"]) == 0
    header = (out / "tlsgen_profile.hpp").read_text()
    for line in ("kClientCertificate = true;", "kClientKeyRsa = false;", "kClientKeyBits = 256;",
                 "kClientChainBytes = 1000;", "kClientChainCerts = 2;"):
        assert line in header, line
    b = build(write_profile(text))
    line = b.heap.model.line("client certificate")
    assert line.bytes > 1000  # at least the chain's DER copy, besides the parsed structures and the key
    plain_path = write_profile(profile_text(kind="ecdsa"), "plain.yaml")
    assert b.heap.model.total > build(plain_path).heap.model.total
    assert main([plain_path, "-o", str(tmp_path / "plain"), "--quiet"]) == 0
    assert "kClientCertificate = false;" in (tmp_path / "plain" / "tlsgen_profile.hpp").read_text()


# ---- the elliptic-curve implementation (tlsgen.resolve.ecc) -----------------------------------------------

LEGACY_ECC = {"MBEDTLS_ECP_C", "MBEDTLS_ECDH_C", "MBEDTLS_ECDSA_C", "MBEDTLS_BIGNUM_C", "MBEDTLS_ECP_DP_SECP256R1_ENABLED"}


def test_p256_only_on_cortex_m_is_built_on_the_p256m_driver_with_the_gaps_worked_around(resolved):
    r = resolved(kind="ecdsa")
    n = names(r)
    assert r.p256m and r.uses_psa
    assert {"MBEDTLS_PSA_P256M_DRIVER_ENABLED", "MBEDTLS_USE_PSA_CRYPTO", "MBEDTLS_PSA_CRYPTO_CONFIG",
            "MBEDTLS_PSA_CRYPTO_C", "PSA_WANT_ECC_SECP_R1_256", "PSA_WANT_ALG_ECDH", "PSA_WANT_ALG_ECDSA",
            "PSA_WANT_ALG_GCM", "PSA_WANT_ALG_SHA_256", "PSA_WANT_ALG_TLS12_PRF"} <= n
    assert not LEGACY_ECC & n and "MBEDTLS_ECP_WINDOW_SIZE" not in n
    # The configuration is its own PSA configuration file (its include guard makes the second inclusion empty).
    assert r.macro("MBEDTLS_PSA_CRYPTO_CONFIG_FILE").value == "<mbedtls_config.h>"
    # mbedTLS 3.6.6 gaps, each naming the source line it works around.
    assert "config_adjust_ssl.h line 85" in r.macro("MBEDTLS_SSL_TLS1_2_SOME_ECC").reason_text
    premaster = r.macro("MBEDTLS_KEY_EXCHANGE_PSK_ENABLED").reason_text
    assert "ssl.h line 703" in premaster and "ecp.h line 322" in premaster
    assert r.macro("MBEDTLS_PSK_MAX_LEN").value == "14"  # 4 + 2 x 14 = 32 bytes: a P-256 shared secret
    assert "TLS-PSK" not in r.macro("MBEDTLS_SSL_CIPHERSUITES").value  # no PSK suite is offered for it
    assert "p256-m driver" in r.ecc_note


def object_flags(r, source: str, compiler: str = "gcc") -> tuple:
    """The options the build adds to one of mbedTLS's objects for this resolution, as tlsgen_add_library applies
    them: every rule whose pattern the source's path matches, in order; GCC-only ones for GCC alone."""
    import re

    return tuple(o for rule in r.object_options if re.search(rule.sources, source)
                 and (compiler == "gcc" or not rule.gcc_only) for o in rule.options)


P256M_C = "/_deps/mbedtls-3.6.6/3rdparty/p256-m/p256-m/p256-m.c"
SIZE_P256M = ("-O2", "-fno-inline-small-functions", "-fno-tree-loop-distribute-patterns")


@pytest.mark.parametrize("cpu,optimize,flags", [
    ("cortex-m4", "size", SIZE_P256M),
    ("cortex-m3", "size", SIZE_P256M),
    ("cortex-m33", "size", SIZE_P256M),
    ("cortex-m0plus", "size", SIZE_P256M),
    ("cortex-m7", "size", ()),  # measured slower with them (GCC's M7 tuning)
    ("cortex-m4", "speed", ("-O2", "-fpeel-loops")),  # the speed rules' -O2 and p256-m's peeled loops instead
])
def test_p256m_object_options_under_size_on_the_cores_measured_to_gain(resolved, cpu, optimize, flags):
    r = resolved(kind="ecdsa", cpu=cpu, top_extra=f"optimize: {optimize}\n")
    assert r.p256m and object_flags(r, P256M_C) == flags
    assert ("p256-m.c compiled with -O2" in r.ecc_note) == (optimize == "size" and bool(flags)), r.ecc_note
    legacy = resolved(kind="ecdsa-legacy", cpu=cpu, top_extra=f"optimize: {optimize}\n")
    assert object_flags(legacy, P256M_C) == (() if optimize == "size" else ("-O2", "-fpeel-loops"))


@pytest.mark.parametrize("source,speed", [
    ("library/bignum.c", True), ("library/bignum_core.c", True), ("library/bignum_mod_raw.c", True),
    ("library/ecp.c", True), ("library/ecp_curves.c", True), ("library/ecp_curves_new.c", True),
    ("library/ecdh.c", True), ("library/ecdsa.c", True),
    ("library/ssl_tls.c", False), ("library/ecjpake.c", False), ("library/aes.c", False), ("library/sha256.c", False),
    ("library/psa_crypto_ecp.c", False), ("library/pk_ecc.c", False),
])
def test_speed_compiles_the_public_key_arithmetic_alone_at_o2(resolved, source, speed):
    path = f"/_deps/mbedtls-3.6.6/{source}"
    fast = resolved(kind="ecdsa-legacy", cpu="cortex-m4", top_extra="optimize: speed\n")
    assert object_flags(fast, path) == (("-O2",) if speed else ())
    assert object_flags(fast, P256M_C, compiler="clang") == ("-O2",)  # -fpeel-loops is GCC's
    small = resolved(kind="ecdsa-legacy", cpu="cortex-m4", top_extra="optimize: size\n")
    assert object_flags(small, path) == ()


def test_tls13_p256_only_is_on_p256m_without_tls12_workarounds(resolved):
    r = resolved(kind="tls13", tls_extra="")
    assert not r.p256m  # x25519 beside it
    r = build_text(resolved, '["1.3"]', "[TLS1-3-AES-128-GCM-SHA256]", "  groups: [secp256r1]\n")
    assert r.p256m
    assert "MBEDTLS_SSL_TLS1_2_SOME_ECC" not in names(r) and "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED" not in names(r)


def build_text(resolved, versions, suites, groups):
    BASE["_tmp"] = (versions, suites, groups)
    try:
        return resolved(kind="_tmp")
    finally:
        del BASE["_tmp"]


@pytest.mark.parametrize("kind,kw,why", [
    ("ecdsa", {"cpu": "host", "entropy": "[os]"}, "a host build"),
    ("ecdsa-legacy", {}, "secp384r1 (p256-m has secp256r1 only)"),
    ("tls13", {}, "x25519"),
    ("rsa", {}, "RSA keys"),
])
def test_the_legacy_ecp_where_p256m_cannot_serve(resolved, kind, kw, why):
    r = resolved(kind=kind, **kw)
    assert not r.p256m and LEGACY_ECC - {"MBEDTLS_ECDSA_C"} <= names(r)
    assert why in r.ecc_note, r.ecc_note


def test_ecdhe_psk_keeps_the_legacy_ecp_and_psk_suites_do_not(resolved):
    r = build_text(resolved, '["1.2"]', "[TLS-ECDHE-PSK-WITH-AES-128-CBC-SHA256]", "  groups: [secp256r1]\n")
    assert not r.p256m and "ECDHE-PSK" in r.ecc_note
    # A profile's own PSK suites (psk_max_bytes at least 16) size the premaster beyond the 32 bytes P-256 needs.
    r = build_text(resolved, '["1.2"]', "[TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256, TLS-PSK-WITH-AES-128-CCM-8]",
                   "  groups: [secp256r1]\n  psk_max_bytes: 16\n")
    assert r.p256m and r.macro("MBEDTLS_PSK_MAX_LEN").value == "16"


def test_a_stack_the_p256m_driver_does_not_fit_keeps_the_legacy_ecp_and_says_why(resolved):
    r = resolved(kind="ecdsa", cpu="cortex-m4 , stack_bytes: 4864")
    assert not r.p256m and "MBEDTLS_ECP_C" in names(r)
    assert "not the p256-m driver" in r.ecc_note and "stack_bytes" in r.ecc_note


def test_psa_exclusive_buffers_on_p256m(resolved):
    """On by default, and the p256-m driver is measured with it only: off keeps the legacy ECP, where TLS 1.2 has no
    PSA (so the setting is refused as unused) and TLS 1.3 keeps PSA's copies."""
    assert "MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS" in names(resolved(kind="ecdsa"))
    with pytest.raises(ProfileError, match="psa_exclusive_buffers: false"):
        resolved(kind="ecdsa", tls_extra="  psa_exclusive_buffers: false\n")
    r = build_text(resolved, '["1.3"]', "[TLS1-3-AES-128-GCM-SHA256]",
                   "  groups: [secp256r1]\n  psa_exclusive_buffers: false\n")
    assert not r.p256m and "MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS" not in names(r) and "MBEDTLS_PSA_CRYPTO_C" in names(r)


def tls13_with_groups(resolved, groups: str, cpu: str, optimize: str):
    """A TLS 1.3 profile with these groups on this core, optimised so."""
    BASE["_g"] = ('["1.3"]', "[TLS1-3-AES-128-GCM-SHA256]", f"  groups: {groups}\n")
    try:
        return resolved(kind="_g", cpu=cpu, entropy="[os]" if cpu == "host" else "[nv_seed]",
                        top_extra=f"optimize: {optimize}\n")
    finally:
        del BASE["_g"]


X25519_HOOKS = {"MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT", "MBEDTLS_ECP_NORMALIZE_MXZ_ALT"}
X25519_FORMULA = {"MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT"}


# "limbs": the ladder step and division on 32-bit limbs (curve25519_ladder.cpp); "formula": mbedTLS's own step
# without its copies (ecp_formulas.cpp); None: mbedTLS's ECP untouched.
@pytest.mark.parametrize("groups,cpu,optimize,hooks", [
    ("[x25519, secp256r1]", "cortex-m4", "speed", "limbs"),
    ("[x25519, secp256r1]", "cortex-m4", "size", "formula"),  # +1.7 KB of flash for the limbs: speed only
    ("[x25519, secp384r1]", "cortex-m0plus", "size", "formula"),
    ("[secp256r1, x25519]", "host", "size", "limbs"),  # no flash to save; the host's sessions and sanitizers run it
    ("[x448, x25519, secp256r1]", "cortex-m0plus", "speed", "limbs"),
    ("[secp256r1, secp384r1]", "cortex-m4", "speed", None),  # no X25519: mbedTLS's ECP untouched
    ("[secp384r1]", "cortex-m4", "size", None),
    ("[x448, secp384r1]", "host", "speed", None),
])
def test_x25519_runs_on_tlsgens_ladder_step_and_never_drops_mbedtls_fallback(resolved, groups, cpu, optimize, hooks):
    r = tls13_with_groups(resolved, groups, cpu, optimize)
    own = X25519_HOOKS - {"MBEDTLS_ECP_INTERNAL_ALT"}  # (the P-256 hooks define MBEDTLS_ECP_INTERNAL_ALT too)
    want = {"limbs": own, "formula": X25519_FORMULA - {"MBEDTLS_ECP_INTERNAL_ALT"}, None: set()}[hooks]
    assert own & names(r) == want
    assert hooks is None or "MBEDTLS_ECP_INTERNAL_ALT" in names(r)
    # MBEDTLS_ECP_NO_FALLBACK would leave ecp_double_add_mxz()'s scratch parameter unused (-Werror in ecp.c)
    assert "MBEDTLS_ECP_NO_FALLBACK" not in names(r)
    if hooks:
        why = r.macro("MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT").reason_text
        source = "curve25519_ladder.cpp" if hooks == "limbs" else "ecp_formulas.cpp"
        assert source in why and "tls.groups[" in why, why
        assert ("optimize" if cpu != "host" else "target.cpu") in why, why


P256_HOOKS = {"MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_JAC_ALT", "MBEDTLS_ECP_ADD_MIXED_ALT",
              "MBEDTLS_ECP_NORMALIZE_JAC_ALT"}
P256_FORMULAS = {"MBEDTLS_ECP_INTERNAL_ALT", "MBEDTLS_ECP_DOUBLE_JAC_ALT", "MBEDTLS_ECP_ADD_MIXED_ALT"}


@pytest.mark.parametrize("groups,cpu,optimize,hooks", [
    ("[x25519, secp256r1]", "cortex-m4", "speed", "limbs"),  # legacy ECP (X25519 beside P-256)
    ("[x25519, secp256r1]", "cortex-m4", "size", "formula"),  # +2.6 KB of flash for the limbs: speed only
    ("[secp256r1, x25519]", "host", "size", "limbs"),  # no flash to save; the host's sessions and sanitizers run it
    ("[secp384r1, secp256r1]", "cortex-m33", "speed", "limbs"),
    ("[secp384r1, secp256r1]", "cortex-m0plus", "size", "formula"),
    ("[secp256r1]", "cortex-m4", "speed", None),  # every curve P-256: the p256-m driver, no legacy ECP
    ("[secp256r1]", "cortex-m4", "size", None),
    ("[x448, secp384r1]", "host", "speed", None),  # no P-256 at all
])
def test_p256_runs_on_tlsgens_jacobian_hooks_on_the_legacy_ecp(resolved, groups, cpu, optimize, hooks):
    r = tls13_with_groups(resolved, groups, cpu, optimize)
    own = P256_HOOKS - {"MBEDTLS_ECP_INTERNAL_ALT"}
    want = {"limbs": own, "formula": P256_FORMULAS - {"MBEDTLS_ECP_INTERNAL_ALT"}, None: set()}[hooks]
    assert own & names(r) == want
    assert hooks is None or "MBEDTLS_ECP_INTERNAL_ALT" in names(r)
    assert r.defined("MBEDTLS_ECP_DP_SECP256R1_ENABLED") or not hooks
    if hooks:
        why = r.macro("MBEDTLS_ECP_DOUBLE_JAC_ALT").reason_text
        assert ("p256_jacobian.cpp" if hooks == "limbs" else "ecp_formulas.cpp") in why, why
        assert ("optimize" if cpu != "host" else "target.cpu") in why, why
