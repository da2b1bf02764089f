#!/usr/bin/env python3
"""Integration driver: real TLS servers on 127.0.0.1 against tlsgen's test client (tls_client.cpp).

    run_integration.py --work DIR certs                      make the test PKI (once, ctest fixture)
    run_integration.py list --profile host-tls13             print the case names of a profile
    run_integration.py --work DIR run --profile P --case C --client PATH

`certs` makes, with the openssl command line: an EC P-256 test CA, a second unrelated CA, a server
certificate for tlsgen.test / localhost / 127.0.0.1 signed by the first CA, and an expired one
(`openssl ca -startdate/-enddate`, no clock tricks).

`run` starts the case's server (`openssl s_server -www`, `gnutls-serv --http`, a small Python
server that closes mid-handshake, or a proxy that cuts the server's stream) on a free port of
127.0.0.1, waits until it listens, runs the client, checks its parseable output against the case's
expectation, and always stops the server (bounded waits, the process is killed if it does not exit).
A successful case must end with the server's close_notify (TLSGEN_CLOSE detail=0). Every case also
asserts the client's teardown: heap back to zero bytes and zero blocks in use, no socket left open,
peak heap within the profile's generated heap. The heap figures go to
<work>/results/<profile>.<case>.json and to stdout.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PSK_HEX = "000102030405060708090a0b0c0d0e0f"
WRONG_PSK_HEX = "f0e0d0c0b0a090807060504030201000"
PSK_IDENTITY = "tlsgen-client"
SERVER_NAME = "tlsgen.test"
LARGE_FILE = "large.txt"
LARGE_FILE_BYTES = 48 * 1024

# mbedTLS codes and flags the expectations name (mbedtls/ssl.h, x509.h).
MBEDTLS_ERR_X509_CERT_VERIFY_FAILED = -0x2700
MBEDTLS_ERR_SSL_CONN_EOF = -0x7280
MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE = -0x7780
MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED = -0x7680
MBEDTLS_ERR_SSL_INVALID_MAC = -0x7180
MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE = -0x7700
# Out-of-memory codes of the mbedTLS modules a handshake allocates in (and PSA's).
ALLOC_FAILED_CODES = (-0x7F00, -0x0010, -0x4D80, -0x2880, -0x3F80, -0x6180, -0x5180, -0x006A, -141)
BADCERT_EXPIRED = 0x01
BADCERT_CN_MISMATCH = 0x04
BADCERT_NOT_TRUSTED = 0x08
ECONNREFUSED = 111 if sys.platform.startswith("linux") else 61

SERVER_START_TIMEOUT = 15.0
CLIENT_TIMEOUT = 60.0
# truncated_response: the proxy forwards whole server records until at least this many bytes went
# through (the handshake and part of the 48 KiB body), then closes with a TCP FIN, no close_notify.
TRUNCATE_AFTER_BYTES = 20000
# A certificate that does not parse: a PEM block whose base64 is a DER SEQUENCE header only.
BROKEN_CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Expect:
    code: str = "kOk"
    detail: int | None = 0
    details: tuple[int, ...] = ()    # any of these instead of `detail`
    step: str | None = None          # the TLSGEN_RESULT step (kOk: always "done")
    verify_flags: int = 0            # bits that must be set in the verify result (0: result must be 0 when ok)
    flaky: bool = False              # the transport injected would-blocks into reads and writes
    min_reply_bytes: int = 100
    max_reply_bytes: int | None = None
    status_line: str | None = None   # first line of the HTTP reply
    suite: str | None = None
    version: str | None = None
    close_detail: int | None = None  # TLSGEN_CLOSE detail (kOk with a reply: always 0, close_notify)
    error_text: str | None = None    # a substring of mbedtls_strerror()'s text for the error
    alpn: str | None = None          # TLSGEN_ALPN selected=
    ca_extra: str | None = None      # TLSGEN_CA_EXTRA "code/detail"
    debug_log: bool = False          # the debug callback's records must be there and well-formed
    hello_request: bool = False      # the pending-write scenario: no reply, PING-1 exactly once
    session: str | None = None       # --resume: save_session()'s code after the first session
    offer: str | None = None         # --resume: offer_session()'s code before the second
    resumed: int | None = None       # --resume: SslTcpStack::resumed() after the second handshake, which the
                                     # server's own page must confirm (reused / new)
    client_cert: tuple[int, int] | None = None  # TLSGEN_CLIENT_CERT (loaded, server_saw): whether
                                     # client_certificate() loaded one, and whether the server's page shows it
    external_signatures: int | None = None  # --external-key: calls of the signing function (the check
                                     # client_certificate() makes, then one CertificateVerify per handshake)


@dataclasses.dataclass(frozen=True)
class Case:
    # openssl | openssl_files | openssl_interactive | gnutls | truncating_proxy | rewriting_proxy |
    # drop_after_client_hello | truncated_server_hello | none
    server: str
    server_cert: str = "server"      # server | expired
    server_args: tuple[str, ...] = ()  # more s_server options (e.g. -alpn)
    client_args: tuple[str, ...] = ()
    expect: Expect = Expect()
    server_psk: str = PSK_HEX
    below_peak_percent: int = 0      # > 0: run in this percentage of a calibration session's heap peak
    below_peak_bytes: int = 0        # > 0: run in (calibration peak - this many bytes)
    heap_proof: bool = False         # the generated heap must hold the session and be <= 110% of its peak
    insert_empty: int = 0            # rewriting_proxy: zero-length application data records put in front
                                     # of the server's first application data record
    server_command: str | None = None  # openssl_interactive: sent to s_server's stdin once connected
    saved_by_earlier_run: bool = False  # first a run that saves its session to a file, against a server
                                        # that then stops; the case's run offers it to a fresh server
    variant: str | None = None       # another PROFILES entry for the server's options and the expected suite
                                     # and version (the same client: a profile with both TLS versions)


@dataclasses.dataclass(frozen=True)
class Profile:
    openssl_args: tuple[str, ...]    # protocol/suite options for s_server
    gnutls_priority: str | None
    uses_psk: bool
    suite: str
    version: str


ECDHE_ECDSA_TLS12 = dict(
    openssl_args=("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256"),
    gnutls_priority="NONE:+VERS-TLS1.2:+AES-128-GCM:+AEAD:+ECDHE-ECDSA:+GROUP-SECP256R1:+SIGN-ALL:+COMP-NULL",
    uses_psk=False, suite="TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", version="TLSv1.2")

PROFILES: dict[str, Profile] = {
    "host-tls12-psk": Profile(
        openssl_args=("-tls1_2", "-cipher", "PSK-AES128-CCM8", "-nocert"),
        gnutls_priority="NONE:+VERS-TLS1.2:+AES-128-CCM-8:+AEAD:+PSK:+SIGN-ALL:+COMP-NULL:+CTYPE-X509",
        uses_psk=True, suite="TLS-PSK-WITH-AES-128-CCM-8", version="TLSv1.2"),
    "host-ecdhe-ecdsa": Profile(**ECDHE_ECDSA_TLS12),
    "host-tls13": Profile(
        openssl_args=("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519:P-256"),
        gnutls_priority="NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+GROUP-X25519:+GROUP-SECP256R1:+SIGN-ALL:+COMP-NULL",
        uses_psk=False, suite="TLS1-3-AES-128-GCM-SHA256", version="TLSv1.3"),
    # Test-only (tests/integration/profiles/): host-ecdhe-ecdsa plus MBEDTLS_DEBUG_C (level 3),
    # MBEDTLS_ERROR_C and MBEDTLS_SSL_ALPN, so the debug callback and the ALPN paths are compiled and run.
    "host-debug-alpn": Profile(**ECDHE_ECDSA_TLS12),
    # Test-only: host-tls12-psk plus session_tickets, for resumption by ticket.
    "host-psk-tickets": Profile(
        openssl_args=("-tls1_2", "-cipher", "PSK-AES128-CCM8", "-nocert"),
        gnutls_priority="NONE:+VERS-TLS1.2:+AES-128-CCM-8:+AEAD:+PSK:+SIGN-ALL:+COMP-NULL:+CTYPE-X509",
        uses_psk=True, suite="TLS-PSK-WITH-AES-128-CCM-8", version="TLSv1.2"),
    # Test-only: TLS 1.2 ECDHE-ECDSA and TLS 1.3 with a P-256 client certificate (mutual TLS); the server
    # picks the version (the TLS 1.3 cases use the "host-mtls/1.3" variant's server options).
    "host-mtls": Profile(**ECDHE_ECDSA_TLS12),
    # Test-only: host-tls13 resuming by psk_ke alone.
    "host-tls13-psk-ke": Profile(
        openssl_args=("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519:P-256"),
        gnutls_priority="NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+GROUP-X25519:+GROUP-SECP256R1:+SIGN-ALL:+COMP-NULL",
        uses_psk=False, suite="TLS1-3-AES-128-GCM-SHA256", version="TLSv1.3"),
    "host-mtls/1.3": Profile(
        openssl_args=("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256"),
        gnutls_priority="NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+GROUP-SECP256R1:+SIGN-ALL:+COMP-NULL",
        uses_psk=False, suite="TLS1-3-AES-128-GCM-SHA256", version="TLSv1.3"),
}
ALPN_OFFER = "http/1.1,h2"  # host-debug-alpn's tls.alpn, in the client's order of preference



def cases_for(profile_name: str) -> dict[str, Case]:
    p = PROFILES[profile_name]
    # verify_flags -1: not checked (a PSK session has no certificate: mbedTLS reports 0xFFFFFFFF).
    ok = Expect(status_line="HTTP/1.0 200 ok", suite=p.suite, version=p.version,
                verify_flags=-1 if p.uses_psk else 0)
    eof = Expect(code="kTls", detail=MBEDTLS_ERR_SSL_CONN_EOF, verify_flags=-1, step="connect")
    cases: dict[str, Case] = {}
    if profile_name == "host-mtls":
        return mtls_cases(p, ok)
    if profile_name == "host-debug-alpn":
        return debug_alpn_cases(p, ok)
    if profile_name == "host-psk-tickets":
        return ticket_cases(p, ok)
    if profile_name == "host-tls13-psk-ke":
        return psk_ke_cases(p, ok)
    if p.uses_psk:
        auth = ("--psk", PSK_HEX, "--psk-identity", PSK_IDENTITY)
        cases["get"] = Case("openssl", client_args=auth, expect=ok, heap_proof=True)
        cases["get_nonblocking"] = Case("openssl", client_args=auth + ("--nonblocking",), expect=ok)
        cases["large_request"] = Case("openssl", client_args=auth + ("--request-pad", "3000"), expect=ok)
        cases["flaky_transport"] = Case("openssl", client_args=auth + ("--flaky", "--request-pad", "3000"),
                                        expect=dataclasses.replace(ok, flaky=True))
        cases["wrong_psk"] = Case("openssl", client_args=auth, server_psk=WRONG_PSK_HEX,
                                  expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE,
                                                verify_flags=-1, step="connect"))
        cases["gnutls_get"] = Case("gnutls", client_args=auth,
                                   expect=dataclasses.replace(ok, status_line="HTTP/1.0 200 OK"))
    else:
        auth = ("--ca", "{certs}/ca.pem", "--server-name", SERVER_NAME)
        cases["get"] = Case("openssl", client_args=auth, expect=ok, heap_proof=True)
        cases["get_nonblocking"] = Case("openssl", client_args=auth + ("--nonblocking",), expect=ok)
        cases["large_request"] = Case("openssl", client_args=auth + ("--request-pad", "3000"), expect=ok)
        cases["flaky_transport"] = Case("openssl", client_args=auth + ("--flaky", "--request-pad", "3000"),
                                        expect=dataclasses.replace(ok, flaky=True))
        # No server name configured: the host argument (an IP literal) is checked against the IP SAN.
        cases["ip_san"] = Case("openssl", client_args=("--ca", "{certs}/ca.pem"), expect=ok)
        fail = dict(code="kTls", detail=MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, step="connect")
        cases["wrong_ca"] = Case("openssl", client_args=("--ca", "{certs}/other-ca.pem", "--server-name", SERVER_NAME),
                                 expect=Expect(**fail, verify_flags=BADCERT_NOT_TRUSTED))
        cases["wrong_server_name"] = Case("openssl", client_args=("--ca", "{certs}/ca.pem", "--server-name", "wrong.test"),
                                          expect=Expect(**fail, verify_flags=BADCERT_CN_MISMATCH))
        cases["expired"] = Case("openssl", server_cert="expired", client_args=auth,
                                expect=Expect(**fail, verify_flags=BADCERT_EXPIRED))
        cases["gnutls_get"] = Case("gnutls", client_args=auth,
                                   expect=dataclasses.replace(ok, status_line="HTTP/1.0 200 OK"))
        # The CA as DER, whole (before: the client passed it through a C string, cut at the first NUL byte, so
        # the certificate did not parse and nothing was trusted).
        cases["der_ca"] = Case("openssl", client_args=("--ca", "{certs}/ca.der", "--server-name", SERVER_NAME),
                               expect=ok)
        # The same verification failures against the second TLS implementation.
        cases["gnutls_wrong_ca"] = Case("gnutls", client_args=("--ca", "{certs}/other-ca.pem",
                                                               "--server-name", SERVER_NAME),
                                        expect=Expect(**fail, verify_flags=BADCERT_NOT_TRUSTED))
        cases["gnutls_expired"] = Case("gnutls", server_cert="expired", client_args=auth,
                                       expect=Expect(**fail, verify_flags=BADCERT_EXPIRED))
        # A second ca_chain() call with one good and one broken certificate fails (kInvalidArgument,
        # detail 1: one certificate did not parse) and drops the whole chain, the first call's CA
        # included: the application ignores the error and connects, and nothing is trusted.
        cases["ca_chain_partly_bad"] = Case(
            "openssl", client_args=auth + ("--ca-extra", "{work}/partly-bad-ca.pem"),
            expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED, verify_flags=-1,
                          step="connect", ca_extra="kInvalidArgument/1"))
    base = auth if p.uses_psk else ("--ca", "{certs}/ca.pem", "--server-name", SERVER_NAME)
    # Resumption (issue 13, TLS 1.2 session ID): a second session offers the first's saved session.
    if p.version == "TLSv1.2":
        cases["resume"] = Case("openssl", client_args=base + ("--resume",),
                               expect=dataclasses.replace(ok, session="kOk", offer="kOk", resumed=1))
        cases["gnutls_resume"] = Case("gnutls", client_args=base + ("--resume",),
                                      expect=dataclasses.replace(ok, status_line="HTTP/1.0 200 OK", session="kOk",
                                                                 offer="kOk", resumed=1))
        # A session saved (to a file: a device's non-volatile memory) before the server restarted: the fresh
        # server does not know it, and the offer falls back to a full handshake by itself.
        cases["resume_after_server_restart"] = Case(
            "openssl", client_args=base + ("--offer-session", "{work}/{case}.session"), saved_by_earlier_run=True,
            expect=dataclasses.replace(ok, offer="kOk", resumed=0))
        # A server that gives no session ID (no cache): nothing to save, said so.
        cases["resume_nothing_to_save"] = Case("openssl", server_args=("-no_cache",), client_args=base + ("--resume",),
                                               expect=dataclasses.replace(ok, session="kFailedPrecondition"))
        # A stored session with one byte flipped is refused by offer_session(); the handshake is a full one.
        cases["resume_corrupted_session"] = Case(
            "openssl", client_args=base + ("--corrupt-session",),
            expect=dataclasses.replace(ok, session="kOk", offer="kInvalidArgument", resumed=0))
    else:
        # TLS 1.3 resumption by ticket (tls.resumption.tls13: [psk_ephemeral]): the ticket comes after the
        # handshake; the second session offers it and the server resumes (s_server: "Reused").
        resumed = dataclasses.replace(ok, session="kOk", offer="kOk", resumed=1)
        cases["resume"] = Case("openssl", client_args=base + ("--resume",), expect=resumed)
        cases["gnutls_resume"] = Case("gnutls", client_args=base + ("--resume",),
                                      expect=dataclasses.replace(resumed, status_line="HTTP/1.0 200 OK"))
        # A ticket saved before the server restarted (a new ticket key): rejected, and the same connect() runs a
        # full handshake, the offered ticket held all through it (the heap proof's worst case for tickets).
        cases["resume_after_server_restart"] = Case(
            "openssl", client_args=base + ("--offer-session", "{work}/{case}.session"), saved_by_earlier_run=True,
            expect=dataclasses.replace(ok, offer="kOk", resumed=0), heap_proof=True)
        # A server that sends no ticket: nothing to save, said so.
        cases["resume_nothing_to_save"] = Case("openssl", server_args=("-num_tickets", "0"),
                                               client_args=base + ("--resume",),
                                               expect=dataclasses.replace(ok, session="kFailedPrecondition"))
        cases["resume_corrupted_session"] = Case(
            "openssl", client_args=base + ("--corrupt-session",),
            expect=dataclasses.replace(ok, session="kOk", offer="kInvalidArgument", resumed=0))
        # A ticket past its lifetime (OpenSSL's: 7200 s) is not offered: offer_session() says so, and the
        # connect() is a full handshake.
        cases["resume_expired_ticket"] = Case(
            "openssl", client_args=base + ("--age-session", "7201"),
            expect=dataclasses.replace(ok, session="kOk", offer="kFailedPrecondition", resumed=0))
    # A 48 KiB file (s_server -WWW): many full-size records from the server. The TLS 1.2 profiles'
    # input buffers are smaller than 16 KiB records, so this only passes when max_fragment_length
    # was negotiated and honoured.
    cases["large_response"] = Case("openssl_files", client_args=base + ("--path", f"/{LARGE_FILE}"),
                                   expect=dataclasses.replace(ok, min_reply_bytes=LARGE_FILE_BYTES,
                                                              status_line="HTTP/1.0 200 ok"))
    # The server's stream cut after ~20 KB of a 48 KiB reply with a TCP FIN and no close_notify: read()
    # ends with kTlsTruncatedClose (kClosed, MBEDTLS_ERR_SSL_CONN_EOF), never a clean end.
    cases["truncated_response"] = Case(
        "truncating_proxy", client_args=base + ("--path", f"/{LARGE_FILE}"),
        expect=Expect(code="kClosed", detail=MBEDTLS_ERR_SSL_CONN_EOF, step="read", verify_flags=-1,
                      close_detail=MBEDTLS_ERR_SSL_CONN_EOF, min_reply_bytes=1,
                      max_reply_bytes=LARGE_FILE_BYTES - 1))
    if p.version == "TLSv1.2":
        # A write() left pending (kWouldBlock), the server's HelloRequest handled by a read() that
        # flushes the pending record, then the retried write(): the server must see the bytes once.
        cases["hello_request_pending_write"] = Case(
            "openssl_interactive", client_args=base + ("--hello-request",),
            expect=dataclasses.replace(ok, hello_request=True, status_line=None, min_reply_bytes=0))
    # Zero-length application data records (legal in TLS 1.2 and 1.3) before the reply: skipped, the
    # reply read whole up to close_notify. A flood of them ends with mbedTLS's own verdict: more than
    # three in a row are "a possible DoS attack" (ssl_msg.c), MBEDTLS_ERR_SSL_INVALID_MAC.
    cases["empty_records"] = Case("rewriting_proxy", client_args=base, expect=ok, insert_empty=2)
    cases["empty_record_flood"] = Case(
        "rewriting_proxy", client_args=base, insert_empty=1000,
        expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_INVALID_MAC, step="read", verify_flags=-1))
    # A server whose reply comes one byte every 0.4 s (a proxy holds it back): every 1 s transport read
    # gets its byte, so only the read deadline (2 s, SslTcpStack::set_deadlines) ends the read():
    # kReadDeadlineExpired (kTimeout, detail 2), not after the whole reply (minutes).
    cases["read_deadline_slow_peer"] = Case(
        "dripping_proxy", client_args=base + ("--read-deadline-ms", "2000", "--timeout-ms-override", "1000"),
        expect=Expect(code="kTimeout", detail=2, step="read", verify_flags=-1))
    # The same from the first server byte: the handshake deadline (2 s) ends connect(), sticky.
    cases["handshake_deadline_slow_peer"] = Case(
        "dripping_proxy", client_args=base + ("--handshake-deadline-ms", "2000", "--timeout-ms-override", "1000"),
        server_args=("drip-from-start",),
        expect=Expect(code="kTimeout", detail=1, step="connect", verify_flags=-1))
    if p.version == "TLSv1.3":
        # A KeyUpdate from the server (`k` on s_server's stdin): mbedTLS 3.6 does not implement it and
        # ends the session with MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE (docs/runtime/ssl.md).
        cases["key_update"] = Case("openssl_interactive", client_args=base + ("--announce-connected",),
                                   server_command="k\n",
                                   expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE,
                                                 step="read", verify_flags=-1))
        cases["key_update_requested"] = Case("openssl_interactive", client_args=base + ("--announce-connected",),
                                             server_command="K\n",
                                             expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE,
                                                           step="read", verify_flags=-1))
    cases["closes_after_client_hello"] = Case("drop_after_client_hello", client_args=base, expect=eof)
    cases["truncated_server_hello"] = Case("truncated_server_hello", client_args=base, expect=eof)
    # Out of memory: kResourceExhausted (detail: whatever mbedTLS returned, which late in a handshake
    # can be a verify failure or the peer's alert), no crash, every byte given back.
    # heap_too_small: a quarter of the generated heap (the session cannot even set up; mbedTLS's
    # own out-of-memory codes); heap_below_peak: 95 % of what a good session of this case peaked at.
    oom = Expect(code="kResourceExhausted", detail=None, verify_flags=-1)
    cases["heap_too_small"] = Case("openssl", client_args=base + ("--heap-percent", "25"),
                                   expect=dataclasses.replace(oom, details=ALLOC_FAILED_CODES))
    cases["heap_below_peak"] = Case("openssl", client_args=base, expect=oom, below_peak_percent=95)
    # The sizing proof (issue 5): one byte less than the measured peak fails cleanly, with the
    # allocation failure reported and the heap back to zero.
    cases["heap_one_byte_below_peak"] = Case("openssl", client_args=base, expect=oom, below_peak_bytes=1)
    cases["connection_refused"] = Case("none", client_args=base,
                                       expect=Expect(code="kUnavailable", detail=ECONNREFUSED, verify_flags=-1,
                                                     step="connect"))
    return cases


def ticket_cases(p: Profile, ok: Expect) -> dict[str, Case]:
    """host-psk-tickets: resumption by session ticket (RFC 5077), against servers without a session cache,
    so only the ticket can resume; and the heap proof of a profile that holds a ticket."""
    auth = ("--psk", PSK_HEX, "--psk-identity", PSK_IDENTITY)
    resumed = dataclasses.replace(ok, session="kOk", offer="kOk", resumed=1)
    return {
        "get": Case("openssl", client_args=auth, expect=ok),
        "resume_ticket": Case("openssl", server_args=("-no_cache",), client_args=auth + ("--resume",), expect=resumed),
        "gnutls_resume_ticket": Case("gnutls", server_args=("--nodb",), client_args=auth + ("--resume",),
                                     expect=dataclasses.replace(resumed, status_line="HTTP/1.0 200 OK")),
        # A ticket past its lifetime hint (OpenSSL's: 7200 s): mbedTLS's TLS 1.2 client does not check it, the
        # runtime does: not offered (offer_session() says kFailedPrecondition), and the connect() is a full one.
        "resume_ticket_expired": Case("openssl", server_args=("-no_cache",), client_args=auth + ("--age-session", "7201"),
                                      expect=dataclasses.replace(ok, session="kOk", offer="kFailedPrecondition",
                                                                 resumed=0)),
        # A ticket saved before the server restarted (a new ticket key): the fresh server cannot open it, and
        # the offer falls back to a full handshake by itself, holding the offered ticket all through it: the
        # heap proof of a profile that keeps tickets (its worst case).
        "resume_ticket_after_server_restart": Case(
            "openssl", server_args=("-no_cache",), client_args=auth + ("--offer-session", "{work}/{case}.session"),
            saved_by_earlier_run=True, expect=dataclasses.replace(ok, offer="kOk", resumed=0), heap_proof=True),
    }


def psk_ke_cases(p: Profile, ok: Expect) -> dict[str, Case]:
    """host-tls13-psk-ke: TLS 1.3 resumption by psk_ke alone. The resumed ClientHello has no key share (no ECDHE
    key made); a server that does not take the ticket cannot run a full handshake on that connection, and
    connect() runs one on a new connection by itself."""
    auth = ("--ca", "{certs}/ca.pem", "--server-name", SERVER_NAME)
    allow = ("-allow_no_dhe_kex",)  # OpenSSL resumes by psk_ke only when told to
    return {
        "get": Case("openssl", client_args=auth, expect=ok, heap_proof=True),
        "resume": Case("openssl", server_args=allow, client_args=auth + ("--resume",),
                       expect=dataclasses.replace(ok, session="kOk", offer="kOk", resumed=1)),
        # A server that refuses psk_ke (OpenSSL's default): the offer fails, and the same connect() runs a full
        # handshake on a new connection (the server's second page says "New,").
        "resume_psk_ke_refused": Case("openssl", client_args=auth + ("--resume",),
                                      expect=dataclasses.replace(ok, session="kOk", offer="kOk", resumed=0)),
        # A ticket the server cannot open (saved before it restarted): the same fallback.
        "resume_after_server_restart": Case(
            "openssl", server_args=allow, client_args=auth + ("--offer-session", "{work}/{case}.session"),
            saved_by_earlier_run=True, expect=dataclasses.replace(ok, offer="kOk", resumed=0)),
        # GnuTLS 3.7 sends no ticket to a client that offers psk_ke alone: nothing to save, said so.
        "gnutls_nothing_to_save": Case("gnutls", client_args=auth + ("--resume",),
                                       expect=dataclasses.replace(ok, status_line="HTTP/1.0 200 OK",
                                                                  session="kFailedPrecondition")),
    }


def mtls_cases(p: Profile, ok: Expect) -> dict[str, Case]:
    """host-mtls: the device's certificate (SslConfig::client_certificate) for servers that require one
    (s_server -Verify 1, gnutls-serv --require-client-cert), TLS 1.2 and 1.3; what a wrong key, a missing or
    an untrusted certificate do."""
    ca = ("--ca", "{certs}/ca.pem", "--server-name", SERVER_NAME)
    own = ca + ("--client-cert", "{certs}/client.pem", "--client-key", "{certs}/client.key")
    v13 = PROFILES["host-mtls/1.3"]
    ok13 = dataclasses.replace(ok, suite=v13.suite, version=v13.version)
    sent = dataclasses.replace(ok, client_cert=(1, 1))
    sent13 = dataclasses.replace(ok13, client_cert=(1, 1))
    # -verify_return_error: s_server otherwise logs a failed client verification and carries on.
    require = ("-Verify", "1", "-verify_return_error", "-CAfile", "{certs}/ca.pem")
    gnutls_require = ("--require-client-cert", "--verify-client-cert", "--x509cafile", "{certs}/ca.pem")
    # A server that requires a certificate and gets none (or one it cannot verify) ends the handshake with a
    # fatal alert: mbedTLS reports MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE (-0x7780) from connect().
    alert = Expect(code="kTls", detail=-0x7780, step="connect", verify_flags=-1)
    # In TLS 1.3 the client's handshake is complete before the server has checked its certificate: the alert
    # arrives with the first read. GnuTLS (TLS 1.2) closes without an alert: MBEDTLS_ERR_SSL_CONN_EOF (-0x7280).
    alert13 = dataclasses.replace(alert, step="read")
    closed = dataclasses.replace(alert, detail=None, details=(-0x7780, -0x7280))
    return {
        "mtls": Case("openssl", server_args=require, client_args=own, expect=sent, heap_proof=True),
        "mtls_tls13": Case("openssl", server_args=require, client_args=own, expect=sent13, heap_proof=True,
                           variant="host-mtls/1.3"),
        "gnutls_mtls": Case("gnutls", server_args=gnutls_require, client_args=own,
                            expect=dataclasses.replace(sent, status_line="HTTP/1.0 200 OK")),
        "gnutls_mtls_tls13": Case("gnutls", server_args=gnutls_require, client_args=own, variant="host-mtls/1.3",
                                  expect=dataclasses.replace(sent13, status_line="HTTP/1.0 200 OK")),
        # The chain and key as DER, as a device that stores them in flash does.
        "mtls_der": Case("openssl", server_args=require, expect=sent,
                         client_args=ca + ("--client-cert", "{certs}/client.der", "--client-key", "{certs}/client-key.der")),
        # The key outside the configuration: a signing function (a software stand-in for a secure element).
        "mtls_external_key": Case("openssl", server_args=require, client_args=own + ("--external-key",),
                                  expect=dataclasses.replace(sent, external_signatures=2)),
        "mtls_external_key_tls13": Case("openssl", server_args=require, client_args=own + ("--external-key",),
                                        expect=dataclasses.replace(sent13, external_signatures=2),
                                        variant="host-mtls/1.3"),
        "mtls_external_wrong_key": Case("openssl", server_args=require, expect=Expect(
            code="kInvalidArgument", detail=None, step="config", verify_flags=-1), client_args=ca + (
            "--client-cert", "{certs}/client.pem", "--client-key", "{certs}/other-client.key", "--external-key")),
        # A server that does not ask: the certificate is loaded and not sent.
        "mtls_not_requested": Case("openssl", client_args=own, expect=dataclasses.replace(ok, client_cert=(1, 0))),
        # A key that is not the certificate's: refused by client_certificate(), before any connection.
        "mtls_wrong_key": Case("openssl", server_args=require, expect=Expect(
            code="kInvalidArgument", detail=None, step="config", verify_flags=-1),
            client_args=ca + ("--client-cert", "{certs}/client.pem", "--client-key", "{certs}/other-client.key")),
        "mtls_missing_cert": Case("openssl", server_args=require, client_args=ca, expect=alert),
        "mtls_missing_cert_tls13": Case("openssl", server_args=require, client_args=ca, expect=alert13,
                                        variant="host-mtls/1.3"),
        "gnutls_mtls_missing_cert": Case("gnutls", server_args=gnutls_require, client_args=ca, expect=closed),
        # Signed by a CA the server does not trust.
        "mtls_untrusted_cert": Case("openssl", server_args=require, expect=alert, client_args=ca + (
            "--client-cert", "{certs}/untrusted-client.pem", "--client-key", "{certs}/client.key")),
        "gnutls_mtls_untrusted_cert": Case("gnutls", server_args=gnutls_require, expect=closed, client_args=ca + (
            "--client-cert", "{certs}/untrusted-client.pem", "--client-key", "{certs}/client.key")),
    }


def debug_alpn_cases(p: Profile, ok: Expect) -> dict[str, Case]:
    """host-debug-alpn: ALPN negotiated with s_server -alpn, mbedTLS's debug output through the
    callback, mbedtls_strerror() texts."""
    auth = ("--ca", "{certs}/ca.pem", "--server-name", SERVER_NAME, "--alpn", ALPN_OFFER)
    debug = auth + ("--debug-log", "{work}/debug-{case}.log")
    return {
        # The server's list decides (OpenSSL picks its first protocol the client offers): h2, the
        # client's second choice, so the result is the server's selection, not the first offer.
        "alpn_debug": Case("openssl", server_args=("-alpn", "h2"), client_args=debug,
                           expect=dataclasses.replace(ok, alpn="h2", debug_log=True)),
        "alpn_server_prefers_http11": Case("openssl", server_args=("-alpn", "http/1.1,h2"), client_args=auth,
                                           expect=dataclasses.replace(ok, alpn="http/1.1")),
        # A server without ALPN ignores the extension: the handshake goes on, nothing selected.
        "alpn_server_without_alpn": Case("openssl", client_args=auth, expect=dataclasses.replace(ok, alpn="none")),
        # No protocol in common: s_server refuses with a fatal no_application_protocol alert.
        "alpn_no_overlap": Case("openssl", server_args=("-alpn", "spdy/3"), client_args=auth,
                                expect=Expect(code="kTls", detail=MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, step="connect",
                                              verify_flags=-1, error_text="SSL - A fatal alert message was received")),
        "alpn_gnutls": Case("gnutls", server_args=("--alpn", "h2", "--alpn-fatal"), client_args=auth,
                            expect=dataclasses.replace(ok, alpn="h2", status_line="HTTP/1.0 200 OK")),
        # A failure with the debug callback on: the error text comes from mbedtls_strerror().
        "wrong_ca_debug": Case("openssl", client_args=("--ca", "{certs}/other-ca.pem", "--server-name", SERVER_NAME,
                                                       "--alpn", ALPN_OFFER, "--debug-log", "{work}/debug-{case}.log"),
                               expect=Expect(code="kTls", detail=MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, step="connect",
                                             verify_flags=BADCERT_NOT_TRUSTED, debug_log=True,
                                             error_text="X509 - Certificate verification failed")),
        "hello_request_pending_write": Case(
            "openssl_interactive", client_args=auth + ("--hello-request",),
            expect=dataclasses.replace(ok, hello_request=True, status_line=None, min_reply_bytes=0)),
    }


# ---------------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------------

SERVER_EXT = f"""\
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:{SERVER_NAME}, DNS:localhost, IP:127.0.0.1
"""

CA_CNF = """\
[ ca ]
default_ca = tlsgen_ca
[ tlsgen_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
""" + SERVER_EXT


def run_checked(cmd: list[str], cwd: Path) -> None:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")


CLIENT_EXT = """[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
"""


#: What make_certs() makes; a work directory whose certificates an older version made (without the files a newer one
#: adds, e.g. the device's client.pem) is made again.
CERTS_VERSION = "2: CA, server, expired, device (client, untrusted-client, other-client)"


def make_certs(openssl: str, work: Path) -> Path:
    final = work / "certs"
    if (final / "done").exists():
        if (final / "done").read_text().strip() == CERTS_VERSION:
            return final
        shutil.rmtree(final, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="certs.", dir=work))
    o = openssl

    def key(name: str) -> None:
        run_checked([o, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", f"{name}.key"], tmp)

    def ca(name: str, cn: str) -> None:
        key(name)
        run_checked([o, "req", "-x509", "-new", "-key", f"{name}.key", "-sha256", "-days", "3650",
                     "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", f"{name}.pem"], tmp)

    ca("ca", "tlsgen test CA")
    ca("other-ca", "tlsgen unrelated CA")
    (tmp / "server_ext.cnf").write_text(SERVER_EXT)
    key("server")
    run_checked([o, "req", "-new", "-key", "server.key", "-subj", f"/CN={SERVER_NAME}", "-out", "server.csr"], tmp)
    run_checked([o, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2",
                 "-days", "825", "-sha256", "-extfile", "server_ext.cnf", "-extensions", "v3_server",
                 "-out", "server.pem"], tmp)
    # Expired: valid 2020-01-01 .. 2021-01-01, signed by the same CA (openssl ca sets both dates).
    (tmp / "ca.cnf").write_text(CA_CNF)
    (tmp / "index.txt").write_text("")
    (tmp / "serial").write_text("1000\n")
    shutil.copy(tmp / "server.key", tmp / "expired.key")
    run_checked([o, "ca", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem",
                 "-in", "server.csr", "-out", "expired.pem", "-notext", "-extensions", "v3_server",
                 "-startdate", "20200101000000Z", "-enddate", "20210101000000Z"], tmp)
    # The device's certificate (mutual TLS): CN=tlsgen-device, for client authentication, signed by the test
    # CA; the same key certified by the unrelated CA; an unrelated key; both in DER as well.
    (tmp / "client_ext.cnf").write_text(CLIENT_EXT)
    key("client")
    key("other-client")
    run_checked([o, "req", "-new", "-key", "client.key", "-subj", "/CN=tlsgen-device", "-out", "client.csr"], tmp)
    for name, issuer in (("client", "ca"), ("untrusted-client", "other-ca")):
        run_checked([o, "x509", "-req", "-in", "client.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
                     "-set_serial", "3", "-days", "825", "-sha256", "-extfile", "client_ext.cnf", "-extensions",
                     "v3_client", "-out", f"{name}.pem"], tmp)
    run_checked([o, "x509", "-in", "client.pem", "-outform", "der", "-out", "client.der"], tmp)
    run_checked([o, "pkey", "-in", "client.key", "-outform", "der", "-out", "client-key.der"], tmp)
    for name in ("ca", "server", "client"):
        run_checked([o, "verify", "-CAfile", "ca.pem", f"{name}.pem"], tmp)
    # The CA in DER (a certificate is binary: NUL bytes inside), as a pem: false device stores it.
    run_checked([o, "x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der"], tmp)
    www = tmp / "www"
    www.mkdir()
    line = b"tlsgen large response line, 64 bytes long, repeated to 48 KiB\n"
    (www / LARGE_FILE).write_bytes(line * (LARGE_FILE_BYTES // len(line) + 1))
    (tmp / "done").write_text(CERTS_VERSION + "\n")
    try:
        tmp.rename(final)
    except OSError:  # another process made them first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

TICKET_PAD_SOURCE = Path(__file__).resolve().parents[2] / "tools" / "sweep" / "ticket_pad.c"
_ticket_pad_lock = threading.Lock()


def ticket_pad_env(work: Path, ticket_bytes: int) -> dict[str, str]:
    """The environment in which `openssl s_server` issues tickets of `ticket_bytes` (within 16 bytes below it):
    tools/sweep/ticket_pad.c, built into `work` once (the C compiler alone, no OpenSSL headers), preloaded. For a
    profile's heap proof with the largest ticket its heap is for (tls.resumption.ticket_max_bytes): OpenSSL's own
    are 180-210 bytes."""
    out = work / "ticket_pad.so"
    with _ticket_pad_lock:
        if not out.exists() or out.stat().st_mtime < TICKET_PAD_SOURCE.stat().st_mtime:
            work.mkdir(parents=True, exist_ok=True)
            cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
            tmp = out.with_suffix(f".{os.getpid()}.tmp")
            r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(tmp),
                                str(TICKET_PAD_SOURCE), "-ldl"], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"building {TICKET_PAD_SOURCE.name} failed: {r.stderr[-500:]}")
            tmp.replace(out)
    return dict(os.environ, LD_PRELOAD=str(out), TLSGEN_TICKET_BYTES=str(ticket_bytes))


def padded_ticket_problem(got: int, padded: int | None) -> str | None:
    """What is wrong with the ticket a device got (`got` bytes; 0: none) from a server made to issue tickets of
    `padded` bytes (ticket_pad_env; None: not padded): it must be within one cipher block (16 bytes) below that, or
    the peak was not measured with the ticket the heap is for. A larger one is a session already larger than that
    (a client certificate chain in the ticket), which save_session() refuses; not this check's case."""
    if padded is not None and 0 < got <= padded - 16:
        return (f"the server's ticket was {got} bytes, but it was to be padded to {padded} "
                "(tls.resumption.ticket_max_bytes; tools/sweep/ticket_pad.c)")
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProcessServer:
    """A server process whose stdout says when it listens; always stopped by stop()."""

    def __init__(self, cmd: list[str], ready: re.Pattern[str], port: int, cwd: Path | None = None,
                 stdin_pipe: bool = False, env: dict[str, str] | None = None):
        self.cmd, self.ready, self.port, self.cwd, self.stdin_pipe = cmd, ready, port, cwd, stdin_pipe
        self.env = env  # the process's whole environment (None: this one's)
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if self.ready.search(line):
                self._ready.set()

    def start(self) -> bool:
        # An interactive s_server reads commands from stdin and ends at its EOF: keep a pipe open then.
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env,
                                     stdin=subprocess.PIPE if self.stdin_pipe else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self._ready.wait(0.05) and self._listening():
                return True
            if self.proc.poll() is not None:
                return False  # exited before listening (e.g. the port was taken meanwhile)
        return False

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                del probe
            return True
        except OSError:
            return False

    def send(self, text: str) -> None:
        """Writes a command to the server's stdin (stdin_pipe servers only)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def wait_output(self, pattern: re.Pattern[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pattern.search(line) for line in list(self.output)):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)


class MidHandshakeServer:
    """Accepts one TLS client, reads its whole ClientHello record, then closes the connection:
    right away (drop_after_client_hello) or after half a ServerHello (truncated_server_hello)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(CLIENT_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.client_hello_bytes = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> bool:
        self.thread.start()
        return True

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError(f"client closed after {len(data)} of {n} bytes")
            data += chunk
        return data

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(CLIENT_TIMEOUT)
                header = self._recv_exact(conn, 5)
                if header[0] != 0x16:
                    raise ValueError(f"expected a handshake record, got content type {header[0]}")
                length = int.from_bytes(header[3:5], "big")
                body = self._recv_exact(conn, length)
                if body[0] != 0x01:
                    raise ValueError(f"expected ClientHello, got handshake type {body[0]}")
                self.client_hello_bytes = 5 + length
                if self.mode == "truncated_server_hello":
                    # Record header promising 80 bytes, ServerHello header, 10 bytes of random: then EOF.
                    conn.sendall(bytes([0x16, 0x03, 0x03, 0x00, 0x50, 0x02, 0x00, 0x00, 0x4C, 0x03, 0x03]) + os.urandom(10))
                conn.shutdown(socket.SHUT_WR)
                # Wait for the client to give up (EOF on our side) so that close() sends no RST.
                conn.settimeout(10)
                try:
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass
        except Exception as e:  # reported by the driver
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.thread.join(timeout=15)
        try:
            self.sock.close()
        except OSError:
            pass


def read_record(conn: socket.socket) -> bytes | None:
    """One whole TLS record (5-byte header + body) from `conn`; None at EOF."""
    data = b""
    while len(data) < 5:
        chunk = conn.recv(5 - len(data))
        if not chunk:
            return None
        data += chunk
    need = 5 + int.from_bytes(data[3:5], "big")
    while len(data) < need:
        chunk = conn.recv(need - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def start_pump(src: socket.socket, dst: socket.socket, stop: threading.Event) -> threading.Thread:
    """Forwards src -> dst unchanged on a thread until EOF, an error or `stop` (polled every 0.2 s, so
    closing the sockets afterwards really closes them)."""

    def pump() -> None:
        src.settimeout(0.2)
        while not stop.is_set():
            try:
                data = src.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


class TruncatingProxy:
    """In front of an `openssl s_server -WWW`: forwards the client's bytes unchanged and the server's
    TLS records whole until TRUNCATE_AFTER_BYTES went through, then ends the client's connection with
    a TCP FIN (no close_notify) in the middle of the reply. Started and stopped like a server."""

    def __init__(self, upstream: ProcessServer):
        self.upstream = upstream
        self.output = upstream.output
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(CLIENT_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.forwarded = 0
        self.cut = False
        self.error: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> bool:
        if not self.upstream.start():
            return False
        self.thread.start()
        return True

    def _serve(self) -> None:
        try:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream.port), timeout=CLIENT_TIMEOUT)
            stop = threading.Event()
            reader = start_pump(client, server, stop)
            while (record := read_record(server)) is not None:
                client.sendall(record)
                self.forwarded += len(record)
                if self.forwarded >= TRUNCATE_AFTER_BYTES:
                    self.cut = True
                    break
            client.shutdown(socket.SHUT_WR)  # FIN, no close_notify
            reader.join(timeout=CLIENT_TIMEOUT)  # the client's last bytes go on until it closes
            stop.set()
            client.close()
            server.close()
            if not self.cut:
                self.error = f"the server's stream ended after {self.forwarded} bytes, before the cut"
        except Exception as e:  # reported by the driver
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.thread.join(timeout=15)
        self.upstream.stop()


class DrippingProxy:
    """In front of an `openssl s_server -www`: forwards the client's bytes unchanged, and the server's
    bytes at full speed until the client has sent its request (its first application data record after
    the handshake), then one byte every DRIP_SECONDS; with `from_start`, every byte of the server's
    slowly. Started and stopped like a server."""

    DRIP_SECONDS = 0.4

    def __init__(self, upstream: ProcessServer, tls13: bool, from_start: bool):
        self.upstream = upstream
        self.output = upstream.output
        self.app_records_before_request = 2 if tls13 else 1  # TLS 1.3: the client's Finished is one too
        self.from_start = from_start
        self.client_app_records = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(CLIENT_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.error: str | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> bool:
        if not self.upstream.start():
            return False
        self.thread.start()
        return True

    def _client_to_server(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while (record := read_record(client)) is not None:
                if record[0] == 23:
                    self.client_app_records += 1
                server.sendall(record)
        except OSError:
            pass
        self.done.set()

    def _serve(self) -> None:
        try:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream.port), timeout=CLIENT_TIMEOUT)
            threading.Thread(target=self._client_to_server, args=(client, server), daemon=True).start()
            server.settimeout(0.05)
            pending = b""
            while not self.done.is_set():
                try:
                    data = server.recv(4096)
                    if not data:
                        break
                    pending += data
                except socket.timeout:
                    pass
                # The request is counted before it is forwarded, so the reply is always slow.
                slow = self.from_start or self.client_app_records >= self.app_records_before_request
                if pending and slow:
                    client.sendall(pending[:1])
                    pending = pending[1:]
                    time.sleep(self.DRIP_SECONDS)
                elif pending:
                    client.sendall(pending)
                    pending = b""
            client.close()
            server.close()
        except OSError:
            pass
        except Exception as e:  # reported by the driver
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=15)
        self.upstream.stop()


class RewritingProxy:
    """In front of an `openssl s_server -www -keylogfile K`: forwards the client's bytes unchanged and
    the server's records through record_rewriter.ServerStreamRewriter (zero-length application data
    records inserted, the rest re-encrypted). Started and stopped like a server."""

    def __init__(self, upstream: ProcessServer, keylog: Path, profile: Profile, insert: int):
        from record_rewriter import ServerStreamRewriter  # needs `cryptography`: only for these cases

        self.upstream = upstream
        self.output = upstream.output
        self.rewriter = ServerStreamRewriter(keylog, tls13=profile.version == "TLSv1.3",
                                             ccm8="CCM-8" in profile.suite, insert=insert)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(CLIENT_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.error: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> bool:
        if not self.upstream.start():
            return False
        self.thread.start()
        return True

    def _serve(self) -> None:
        try:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream.port), timeout=CLIENT_TIMEOUT)
            hello = read_record(client)
            if hello is None:
                raise ConnectionError("the client sent no ClientHello")
            self.rewriter.client_hello(hello)
            server.sendall(hello)
            stop = threading.Event()
            reader = start_pump(client, server, stop)
            try:
                while (record := read_record(server)) is not None:
                    client.sendall(self.rewriter.feed(record))
                client.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the client gave up (the flood case): its alert and close end the stream
            reader.join(timeout=CLIENT_TIMEOUT)
            stop.set()
            client.close()
            server.close()
        except Exception as e:  # reported by the driver
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.thread.join(timeout=15)
        self.upstream.stop()


def openssl_server(openssl: str, profile: Profile, case: Case, certs: Path, port: int) -> ProcessServer:
    # -WWW: serve files from certs/www (also behind the truncating proxy); interactive: no HTTP, the
    # received data goes to stdout and commands ("r": renegotiate, i.e. send a HelloRequest) come
    # from stdin.
    files = case.server in ("openssl_files", "truncating_proxy")
    interactive = case.server == "openssl_interactive"
    cmd = [openssl, "s_server", "-accept", f"127.0.0.1:{port}"]
    if not interactive:
        cmd.append("-WWW" if files else "-www")
    cmd += list(profile.openssl_args) + [a.replace("{certs}", str(certs)) for a in case.server_args]
    if profile.uses_psk:
        cmd += ["-psk", case.server_psk, "-psk_identity", PSK_IDENTITY]
    else:
        cmd += ["-cert", str(certs / f"{case.server_cert}.pem"), "-key", str(certs / f"{case.server_cert}.key")]
    return ProcessServer(cmd, re.compile(r"^ACCEPT"), port, cwd=certs / "www" if files else None,
                         stdin_pipe=interactive)


def gnutls_server(gnutls: str, profile: Profile, case: Case, certs: Path, port: int, work: Path) -> ProcessServer:
    assert profile.gnutls_priority is not None
    cmd = [gnutls, "--http", "--port", str(port), "--priority", profile.gnutls_priority,
           *(a.replace("{certs}", str(certs)) for a in case.server_args)]
    if profile.uses_psk:
        pskfile = work / "gnutls-psk.txt"
        pskfile.write_text(f"{PSK_IDENTITY}:{case.server_psk}\n")
        cmd += ["--pskpasswd", str(pskfile)]
    else:
        cmd += ["--x509certfile", str(certs / f"{case.server_cert}.pem"),
                "--x509keyfile", str(certs / f"{case.server_cert}.key")]
    return ProcessServer(cmd, re.compile(r"listening on"), port)


# ---------------------------------------------------------------------------------------------
# Client run and checks
# ---------------------------------------------------------------------------------------------

def parse_lines(out: str) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        m = re.match(r"^(TLSGEN_[A-Z_]+) (.*)$", line)
        if not m:
            continue
        fields: dict[str, str] = {}
        for fm in re.finditer(r'(\w+)=("([^"]*)"|\S+)', m.group(2)):
            fields[fm.group(1)] = fm.group(3) if fm.group(3) is not None else fm.group(2)
        if m.group(1) == "TLSGEN_REPLY":  # status_line runs to the end of the line
            sl = re.search(r"status_line=(.*)$", m.group(2))
            fields["status_line"] = sl.group(1) if sl else ""
        result[m.group(1)] = fields
    return result


def check(case: Case, out: dict[str, dict[str, str]], rc: int) -> list[str]:
    errors: list[str] = []
    if rc != 0:
        errors.append(f"client exit status {rc} (0 expected: 3 means an unclean teardown, negative a signal)")
    heap = out.get("TLSGEN_HEAP")
    if heap is None:
        errors.append("no TLSGEN_HEAP line")
    else:
        if int(heap["in_use_after"]) != 0 or int(heap["live_blocks_after"]) != 0:
            errors.append(f"heap not empty after teardown: {heap['in_use_after']} bytes in "
                          f"{heap['live_blocks_after']} blocks")
        if int(heap["peak"]) > int(heap["region"]) or int(heap["region"]) > int(heap["generated"]):
            errors.append(f"heap peak {heap['peak']} above the region {heap['region']} "
                          f"(generated heap {heap['generated']})")
    sockets = out.get("TLSGEN_SOCKETS")
    if sockets is None or int(sockets["open_after"]) != 0:
        errors.append(f"sockets left open: {sockets}")
    res = out.get("TLSGEN_RESULT")
    if res is None:
        errors.append("no TLSGEN_RESULT line")
        return errors
    e = case.expect
    step = "done" if e.code == "kOk" else e.step
    if step is not None and res.get("step") != step:
        errors.append(f"ended at step {res.get('step')}, expected {step}")
    if e.error_text is not None and e.error_text not in res.get("error", ""):
        errors.append(f"error text {res.get('error', '')!r} lacks {e.error_text!r} (mbedtls_strerror)")
    if e.alpn is not None:
        selected = out.get("TLSGEN_ALPN", {}).get("selected")
        if selected != e.alpn:
            errors.append(f"ALPN selected {selected!r}, expected {e.alpn!r}")
    if e.ca_extra is not None:
        extra = out.get("TLSGEN_CA_EXTRA", {})
        if f"{extra.get('code')}/{extra.get('detail')}" != e.ca_extra:
            errors.append(f"second ca_chain() gave {extra}, expected {e.ca_extra}")
    if e.session is not None:
        saved = out.get("TLSGEN_SESSION", {})
        if saved.get("code") != e.session:
            errors.append(f"save_session() gave {saved}, expected {e.session}")
        elif e.session == "kOk" and int(saved.get("bytes", 0)) == 0:
            errors.append("save_session() succeeded with 0 bytes")
    if e.client_cert is not None:
        cc = out.get("TLSGEN_CLIENT_CERT", {})
        got = (int(cc.get("loaded", -1)), int(cc.get("server_saw", -1)))
        if got != e.client_cert:
            errors.append(f"client certificate (loaded, seen by the server) {got}, expected {e.client_cert}")
    if e.external_signatures is not None:
        calls = int(out.get("TLSGEN_CLIENT_CERT", {}).get("external_signatures", -1))
        if calls != e.external_signatures:
            errors.append(f"the signing function was called {calls} times, expected {e.external_signatures}")
    if e.offer is not None and out.get("TLSGEN_OFFER", {}).get("code") != e.offer:
        errors.append(f"offer_session() gave {out.get('TLSGEN_OFFER')}, expected {e.offer}")
    if e.resumed is not None:
        resumed = out.get("TLSGEN_RESUMED")
        if resumed is None:
            errors.append("no TLSGEN_RESUMED line (the second session did not run)")
        else:
            if int(resumed["resumed"]) != e.resumed:
                errors.append(f"resumed() said {resumed['resumed']}, expected {e.resumed}")
            server = "reused" if e.resumed else "new"
            if resumed["server"] != server:
                errors.append(f"the server's page says {resumed['server']!r}, expected {server!r}")
    close = out.get("TLSGEN_CLOSE")
    close_detail = 0 if e.code == "kOk" and not e.hello_request else e.close_detail
    if close_detail is not None:
        if close is None:
            errors.append("no TLSGEN_CLOSE line (the reply did not end)")
        elif int(close["detail"]) != close_detail:
            errors.append(f"the reply ended with detail {close['detail']}, expected {close_detail} "
                          f"({'close_notify' if close_detail == 0 else 'no close_notify: truncated'})")
    if e.max_reply_bytes is not None:
        reply = out.get("TLSGEN_REPLY")
        got = int(reply["bytes"]) if reply else -1
        if not e.min_reply_bytes <= got <= e.max_reply_bytes:
            errors.append(f"reply of {got} bytes, expected {e.min_reply_bytes}..{e.max_reply_bytes}")
    if res["code"] != e.code:
        errors.append(f"status {res['code']}/{res['detail']}, expected {e.code}/{e.detail} ({res.get('error', '')})")
    elif e.details and int(res["detail"]) not in e.details:
        errors.append(f"detail {int(res['detail']):#x} ({res.get('error', '')}), expected one of "
                      f"{', '.join(hex(d) for d in e.details)}")
    elif not e.details and e.detail is not None and int(res["detail"]) != e.detail:
        errors.append(f"detail {int(res['detail']):#x} ({res.get('error', '')}), expected {e.detail:#x}")
    verify = int(res["verify"], 16)
    if e.verify_flags > 0 and (verify & e.verify_flags) != e.verify_flags:
        errors.append(f"verify flags {verify:#x} lack {e.verify_flags:#x}")
    if e.verify_flags == 0 and verify != 0:
        errors.append(f"verify flags {verify:#x}, expected 0")
    if e.hello_request:
        hr = out.get("TLSGEN_HELLO_REQUEST", {})
        if hr.get("arrived") != "1" or int(hr.get("flushed_in_read", 0)) == 0:
            errors.append(f"the scenario did not happen (HelloRequest not seen, or read() did not flush the "
                          f"pending record): {hr}")
        if hr.get("retry") != "kOk/7" or hr.get("sent_by_retry") != "0":
            errors.append(f"the retried write() must complete with 7 bytes and send nothing: {hr}")
    elif e.code == "kOk":
        if e.suite and res.get("suite") != e.suite:
            errors.append(f"cipher suite {res.get('suite')}, expected {e.suite}")
        if e.version and res.get("version") != e.version:
            errors.append(f"protocol {res.get('version')}, expected {e.version}")
        reply = out.get("TLSGEN_REPLY")
        if reply is None:
            errors.append("no reply")
        elif e.status_line is not None and reply["status_line"] != e.status_line:
            errors.append(f"reply status line {reply['status_line']!r}, expected {e.status_line!r}")
        if reply is not None and int(reply["bytes"]) < e.min_reply_bytes:
            errors.append(f"reply of {reply['bytes']} bytes, expected at least {e.min_reply_bytes}")
        if e.flaky:
            fl = out.get("TLSGEN_FLAKY", {})
            if int(fl.get("injected_reads", 0)) == 0 or int(fl.get("injected_writes", 0)) == 0:
                errors.append(f"the flaky transport injected no would-block: {fl}")
            if int(fl.get("write_would_block", 0)) == 0:
                errors.append("write() never returned kWouldBlock (the pending-record path was not exercised)")
    return errors


def start_server(args: argparse.Namespace, profile: Profile, case: Case, certs: Path, work: Path):
    """Starts the case's server; returns (server or None, port), or raises SystemExit."""
    for _attempt in range(5):
        server: ProcessServer | MidHandshakeServer | TruncatingProxy | None
        if case.server in ("drop_after_client_hello", "truncated_server_hello"):
            server = MidHandshakeServer(case.server)
            port = server.port
        elif case.server == "none":
            return None, free_port()  # nothing listens there: the connection is refused
        elif case.server == "truncating_proxy":
            server = TruncatingProxy(openssl_server(args.openssl, profile, case, certs, free_port()))
            port = server.port
        elif case.server == "dripping_proxy":
            upstream = openssl_server(args.openssl, profile, dataclasses.replace(case, server_args=()), certs,
                                      free_port())
            server = DrippingProxy(upstream, tls13=profile.version == "TLSv1.3",
                                   from_start="drip-from-start" in case.server_args)
            port = server.port
        elif case.server == "rewriting_proxy":
            upstream_port = free_port()
            keylog = work / f"keylog-{upstream_port}-{os.getpid()}.txt"
            keylog.unlink(missing_ok=True)
            upstream = openssl_server(args.openssl, profile,
                                      dataclasses.replace(case, server_args=case.server_args + ("-keylogfile", str(keylog))),
                                      certs, upstream_port)
            server = RewritingProxy(upstream, keylog, profile, case.insert_empty)
            port = server.port
        else:
            port = free_port()
            if case.server == "gnutls":
                if not args.gnutls_serv or not shutil.which(args.gnutls_serv):
                    # A failure, not a skip: the gnutls cases are the second implementation's interop.
                    raise SystemExit(f"FAIL: gnutls-serv not available ({args.gnutls_serv!r}): install gnutls-bin "
                                     "(scripts/deps.sh does)")
                server = gnutls_server(args.gnutls_serv, profile, case, certs, port, work)
            else:
                server = openssl_server(args.openssl, profile, case, certs, port)
        if server.start():
            return server, port
        out = "".join(getattr(server, "output", []))
        server.stop()
        print(f"server did not start on port {port} (retrying):\n{out}", file=sys.stderr)
    raise SystemExit("could not start the server")


def run_example(args: argparse.Namespace) -> int:
    """examples/host-client against openssl s_server: exit 0, the reply on stdout, clean teardown.
    With --truncate, behind the truncating proxy (a 48 KiB reply cut without close_notify): exit 1 and
    a clear error on stderr, the teardown still clean."""
    profile = PROFILES[args.profile]
    work = Path(args.work).resolve()
    certs = make_certs(args.openssl, work)
    case = Case("truncating_proxy" if args.truncate else "openssl")
    server, port = start_server(args, profile, case, certs, work)
    cmd = [args.client, "--host", "127.0.0.1", "--port", str(port), "--ca", str(certs / "ca.pem"),
           "--server-name", SERVER_NAME]
    if args.truncate:
        cmd += ["--path", f"/{LARGE_FILE}"]
    print("example:", " ".join(cmd))
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT, errors="replace")
    finally:
        if server is not None:
            server.stop()
    print(r.stdout[:400], end="\n...\n")
    print(r.stderr, end="")
    errors = []
    if args.truncate:
        if r.returncode != 1:
            errors.append(f"exit status {r.returncode}, expected 1 (a truncated reply is an error)")
        if not re.search(r"^error: reply truncated after \d+ bytes: the server closed the connection without "
                         r"close_notify", r.stderr, re.M):
            errors.append("no 'reply truncated' error on stderr")
        if "reply complete" in r.stderr:
            errors.append("a truncated reply reported as complete")
    else:
        if r.returncode != 0:
            errors.append(f"exit status {r.returncode}")
        if not re.search(r"^reply complete: \d+ bytes, ended by the server's close_notify$", r.stderr, re.M):
            errors.append("no 'reply complete' (close_notify) line on stderr")
    if not r.stdout.startswith("HTTP/1.0 200 ok"):
        errors.append("the reply does not start with HTTP/1.0 200 ok")
    if f"connected: {profile.version}, {profile.suite}" not in r.stderr:
        errors.append("no 'connected' line with the profile's protocol and suite")
    if not re.search(r"heap peak \d+ of \d+ bytes, 0 in use after teardown", r.stderr):
        errors.append("heap not back to 0 after teardown")
    for e in errors:
        print(f"FAIL example {args.profile}: {e}", file=sys.stderr)
    return 1 if errors else 0


def run_client(args: argparse.Namespace, profile: Profile, case: Case, certs: Path, work: Path,
               client_args: list[str]):
    """Starts the case's server, runs the client once, stops the server: (rc, stdout, stderr, server)."""
    server, port = start_server(args, profile, case, certs, work)
    timeout_ms = "10000"
    if "--timeout-ms-override" in client_args:  # a case that needs a shorter transport timeout
        at = client_args.index("--timeout-ms-override")
        timeout_ms = client_args[at + 1]
        client_args = client_args[:at] + client_args[at + 2:]
    cmd = [args.client, "--host", "127.0.0.1", "--port", str(port), "--timeout-ms", timeout_ms] + client_args
    print("client:", " ".join(cmd))
    try:
        if case.expect.hello_request:
            assert isinstance(server, ProcessServer)
            rc, stdout, stderr = run_hello_request_client(cmd, server)
        elif case.server_command is not None:
            assert isinstance(server, ProcessServer)
            rc, stdout, stderr = run_interactive_client(cmd, server, case.server_command)
        else:
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT, errors="replace")
                rc, stdout, stderr = r.returncode, r.stdout, r.stderr
            except subprocess.TimeoutExpired as e:  # a hung client is a failure, its output is still shown
                partial = e.stdout or b""
                stdout = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
                rc, stderr = -999, f"client did not finish within {CLIENT_TIMEOUT} s\n"
    finally:
        if server is not None:
            server.stop()
    return rc, stdout, stderr, server


def run_interactive_client(cmd: list[str], server: ProcessServer, command: str) -> tuple[int, str, str]:
    """A client run with --announce-connected: once it prints TLSGEN_CONNECTED (the handshake is done
    and the request written), `command` goes to the interactive s_server's stdin (e.g. "k": KeyUpdate)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    lines: list[str] = []
    timer = threading.Timer(CLIENT_TIMEOUT, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("TLSGEN_CONNECTED"):
                server.send(command)
        stderr = proc.stderr.read()
        rc = proc.wait()
    finally:
        timer.cancel()
    return rc, "".join(lines), stderr


def run_hello_request_client(cmd: list[str], server: ProcessServer) -> tuple[int, str, str]:
    """The client's --hello-request scenario: when it prints TLSGEN_PENDING (a write() is pending),
    the interactive s_server is told to renegotiate ("r": it sends a HelloRequest). Afterwards waits
    (bounded) until the server printed the client's end marker, so that its output is complete."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    lines: list[str] = []
    timer = threading.Timer(CLIENT_TIMEOUT, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("TLSGEN_PENDING"):
                server.send("r\n")
        stderr = proc.stderr.read()
        rc = proc.wait()
    finally:
        timer.cancel()
    server.wait_output(re.compile(r"^PING-2$"), 10.0)
    return rc, "".join(lines), stderr


def partly_bad_ca(certs: Path, work: Path) -> Path:
    """other-ca.pem followed by a certificate that does not parse (ca_chain_partly_bad)."""
    path = work / "partly-bad-ca.pem"
    if not path.exists():
        tmp = work / f"partly-bad-ca.{os.getpid()}.tmp"
        tmp.write_text((certs / "other-ca.pem").read_text() + BROKEN_CERT_PEM)
        tmp.replace(path)
    return path


# Well-formed debug output (host-debug-alpn). mbedTLS's debug module formats each message with
# mbedtls_vsnprintf (the runtime's va_list walker) into a 512-byte buffer, appends "\n" and calls the
# callback; a formatter returning -1 leaves an empty message, one that overflows is cut at 510 chars.
DEBUG_REQUIRED = ("=> handshake", "<= handshake", "=> write", "<= write", "=> read", "<= read",
                  "=> fetch input", "dumping '")
DEBUG_MAX_TEXT = 510  # DEBUG_BUF_SIZE - 2: longer messages were truncated by mbedtls_debug_print_msg
# "%s() returned %d (-0x%04x)": the hex is -ret as an unsigned int (ffffff85 for a positive 123).
RETURNED_RE = re.compile(r"^(\S+)\(\) returned (-?\d+) \(-0x([0-9a-f]{4,8})\)$")
DUMP_RE = re.compile(r"^dumping '([^']*)' \((\d+) bytes\)$")
HEX_LINE_RE = re.compile(r"^([0-9a-f]{4}):  ((?:[0-9a-f]{2} ){0,15}[0-9a-f]{2})(?:   )*  (.{1,16})$")
UNFORMATTED_RE = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[diouxXcsp]")


def check_debug_log(path: Path, expect_success: bool) -> tuple[list[str], dict[str, int]]:
    """Checks the records tls_client's debug callback wrote: "<level>\\t<file>\\t<line>\\t<message>\\0"."""
    errors: list[str] = []
    stats = {"records": 0, "dumps": 0, "dump_lines": 0, "returned": 0}
    if not path.exists():
        return [f"no debug log {path}"], stats
    records = path.read_bytes().split(b"\0")
    if records and records[-1] == b"":
        records.pop()
    texts: list[str] = []
    dump: tuple[str, int, int] | None = None  # (name, bytes still to see, next offset)
    for n, raw in enumerate(records):
        stats["records"] += 1
        where = f"debug record {n}"
        parts = raw.split(b"\t", 3)
        if len(parts) != 4:
            errors.append(f"{where}: not level/file/line/message: {raw[:80]!r}")
            continue
        level, file, line, message = parts
        if not level.isdigit() or not 1 <= int(level) <= 3:
            errors.append(f"{where}: level {level!r} outside 1..3 (threshold 3)")
        if not (file.endswith(b".c") or file.endswith(b".h")) or not line.isdigit() or int(line) <= 0:
            errors.append(f"{where}: source position {file!r}:{line!r}")
        if not message.endswith(b"\n") or message.count(b"\n") != 1:
            errors.append(f"{where}: the message must end with exactly one newline: {message[:80]!r}")
            continue
        body = message[:-1]
        if not body.strip():
            errors.append(f"{where}: empty message (the formatter returned -1?)")
            continue
        if len(body) >= DEBUG_MAX_TEXT:
            errors.append(f"{where}: {len(body)} characters: truncated by the 512-byte debug buffer")
        if any(c < 0x20 or c > 0x7e for c in body if c != 0x09):
            errors.append(f"{where}: non-printable bytes: {body[:80]!r}")
        text = body.decode("ascii", errors="replace")
        texts.append(text)
        # A dump line's text column shows the buffer's own bytes: a '%0x' there is data, not a format.
        in_dump = HEX_LINE_RE.match(text) if dump is not None else None
        formatted = text[:in_dump.start(3)] if in_dump else text
        if UNFORMATTED_RE.search(formatted) or "(null)" in formatted:
            errors.append(f"{where}: unformatted conversion or null string: {text!r}")
        m = RETURNED_RE.match(text)
        if "() returned" in text:
            stats["returned"] += 1
            if m is None or (-int(m.group(2))) & 0xFFFFFFFF != int(m.group(3), 16):
                errors.append(f"{where}: malformed 'returned' line: {text!r}")
        if dump is not None:
            name, left, offset = dump
            hm = HEX_LINE_RE.match(text)
            count = len(hm.group(2).split()) if hm else 0
            if hm is None or int(hm.group(1), 16) != offset or count != min(16, left):
                errors.append(f"{where}: hex line {offset:04x} of '{name}' ({left} bytes left) malformed: {text!r}")
                dump = None
            else:
                stats["dump_lines"] += 1
                dump = (name, left - count, offset + 16) if left > count else None
            continue
        dm = DUMP_RE.match(text)
        if dm:
            stats["dumps"] += 1
            size = min(int(dm.group(2)), 4096)  # mbedtls_debug_print_buf shows at most 4096 bytes
            dump = (dm.group(1), size, 0) if size > 0 else None
    if dump is not None:
        errors.append(f"debug log ends inside the dump of '{dump[0]}'")
    required = DEBUG_REQUIRED if expect_success else DEBUG_REQUIRED[:1]
    for needle in required:
        if not any(t.startswith(needle) for t in texts):
            errors.append(f"no debug message starting with {needle!r}")
    if stats["dumps"] == 0 or stats["returned"] == 0:
        errors.append(f"expected buffer dumps and 'returned' lines at level 3: {stats}")
    return errors, stats


def run_case(args: argparse.Namespace) -> int:
    case = cases_for(args.profile)[args.case]
    profile = PROFILES[case.variant or args.profile]
    work = Path(args.work).resolve()
    certs = make_certs(args.openssl, work)
    if any("partly-bad-ca.pem" in a for a in case.client_args):
        partly_bad_ca(certs, work)
    # {case} names files in the shared work directory: the profile is part of it, since several profiles have a
    # case of the same name and ctest runs them in parallel (two resume_after_server_restart runs shared one
    # session file, and one offered the file the other had just emptied).
    tag = f"{args.profile}.{args.case}"
    client_args = [a.replace("{certs}", str(certs)).replace("{work}", str(work)).replace("{case}", tag)
                   for a in case.client_args]
    base_args = list(client_args)
    if case.saved_by_earlier_run:
        # The run that saves: a full session against its own server, which stops with it.
        session_file = work / f"{tag}.session"
        session_file.unlink(missing_ok=True)
        save_args = [a for a in client_args if a != str(session_file) and a != "--offer-session"]
        rc, stdout, stderr, _ = run_client(args, profile, Case(case.server, server_args=case.server_args), certs,
                                           work, save_args + ["--save-session", str(session_file)])
        first = parse_lines(stdout)
        if rc != 0 or first.get("TLSGEN_RESULT", {}).get("code") != "kOk" or \
                first.get("TLSGEN_SESSION", {}).get("code") != "kOk" or not session_file.exists():
            print(stdout + stderr + f"FAIL {args.profile} {args.case}: the run that saves its session failed",
                  file=sys.stderr)
            return 1
        print(f"saved by an earlier run: {first['TLSGEN_SESSION']['bytes']} bytes in {session_file.name}")
    # A TLS 1.3 server's post-handshake messages can shift a session's peak by a block between
    # runs: a below-peak case whose session happened to need less than its calibration session is
    # repeated (fresh calibration each time); it must then fail on the allocation, cleanly.
    for attempt in range(1, 6):
        client_args = list(base_args)
        region = 0
        if case.below_peak_percent or case.below_peak_bytes:
            # Calibrate: one good session measures its own peak; then the case runs in a region
            # smaller than that peak, so some allocation during the session must fail.
            rc, stdout, stderr, _ = run_client(args, profile, Case("openssl"), certs, work, client_args)
            calibration = parse_lines(stdout)
            if rc != 0 or calibration.get("TLSGEN_RESULT", {}).get("code") != "kOk" or "TLSGEN_HEAP" not in calibration:
                print(stdout + stderr + f"FAIL {args.profile} {args.case}: the calibration session failed",
                      file=sys.stderr)
                return 1
            peak = int(calibration["TLSGEN_HEAP"]["peak"])
            region = peak - case.below_peak_bytes if case.below_peak_bytes else peak * case.below_peak_percent // 100
            print(f"calibration: a full session peaked at {peak} bytes; the case runs in {region} bytes")
            client_args += ["--heap-bytes", str(region)]
        rc, stdout, stderr, server = run_client(args, profile, case, certs, work, client_args)
        ran = parse_lines(stdout)
        needed_less = region and ran.get("TLSGEN_RESULT", {}).get("code") == "kOk" and \
            int(ran.get("TLSGEN_HEAP", {}).get("peak", region + 1)) <= region
        if not needed_less:
            break
        print(f"attempt {attempt}: this session needed only {ran['TLSGEN_HEAP']['peak']} bytes (<= {region}): "
              "repeating with a new calibration")
    print(stdout, end="")
    if stderr:
        print(stderr, end="", file=sys.stderr)
    out = parse_lines(stdout)
    errors = check(case, out, rc)
    if isinstance(server, (MidHandshakeServer, TruncatingProxy, RewritingProxy, DrippingProxy)) and server.error:
        errors.append(f"{type(server).__name__}: {server.error}")
    if case.expect.hello_request and isinstance(server, ProcessServer):
        received = [line.strip() for line in server.output]
        pings = (received.count("PING-1"), received.count("PING-2"))
        print(f"the server received PING-1 {pings[0]} time(s), PING-2 {pings[1]} time(s)")
        if pings != (1, 1):
            errors.append(f"the server received PING-1 {pings[0]} times and PING-2 {pings[1]} times, expected "
                          "once each (a retried write() must not send its record twice)")
    if case.expect.debug_log:
        log = out.get("TLSGEN_DEBUG", {})
        if int(log.get("calls", 0)) == 0:
            errors.append(f"the debug callback was never called: {log}")
        derrors, dstats = check_debug_log(Path(log.get("file", work / "missing")), case.expect.code == "kOk")
        print(f"debug log: {dstats['records']} records, {dstats['dumps']} buffer dumps ({dstats['dump_lines']} hex "
              f"lines), {dstats['returned']} 'returned' lines")
        errors += derrors[:20]
    if isinstance(server, ProcessServer) and errors:
        print("---- server output ----\n" + "".join(server.output[-40:]), file=sys.stderr)

    heap = out.get("TLSGEN_HEAP", {})
    if heap:
        peak, gen = int(heap["peak"]), int(heap["generated"])
        if case.heap_proof and not errors:
            # The session ran in exactly the generated heap (the region is all of it); the model must
            # also be tight: at most 10% above what the session needed.
            if int(heap["region"]) != gen:
                errors.append(f"the proof must run in the generated heap ({gen}), ran in {heap['region']}")
            if gen > peak * 1.10:
                errors.append(f"generated heap {gen} is more than 10% above the measured peak {peak} "
                              f"({gen / peak:.3f}x): recalibrate generator/tlsgen/heap.py")
        print(f"HEAP {args.profile} {args.case}: peak {peak} of generated {gen} bytes ({100.0 * peak / gen:.1f}%) "
              f"[payload peak {heap['peak_payload']}, {heap['peak_blocks']} blocks, {heap['failed']} failed "
              f"allocations], in use after teardown {heap['in_use_after']}")
        results = work / "results"
        results.mkdir(parents=True, exist_ok=True)
        (results / f"{args.profile}.{args.case}.json").write_text(json.dumps({
            "profile": args.profile, "case": args.case, "peak": peak, "generated": gen,
            "region": int(heap["region"]), "in_use_after": int(heap["in_use_after"]),
            "peak_payload": int(heap["peak_payload"]), "peak_blocks": int(heap["peak_blocks"]),
            "failed": int(heap["failed"]),
            "result": out.get("TLSGEN_RESULT", {}), "ok": not errors}, indent=1) + "\n")
    if errors:
        for e in errors:
            print(f"FAIL {args.profile} {args.case}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {args.profile} {args.case}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--openssl", default=shutil.which("openssl") or "openssl")
    ap.add_argument("--gnutls-serv", default=shutil.which("gnutls-serv") or "")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "tlsgen-integration"))
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("certs")
    lp = sub.add_parser("list")
    lp.add_argument("--profile", required=True, choices=sorted(PROFILES))
    rp = sub.add_parser("run")
    rp.add_argument("--profile", required=True, choices=sorted(PROFILES))
    rp.add_argument("--case", required=True)
    rp.add_argument("--client", required=True)
    ep = sub.add_parser("example")
    ep.add_argument("--profile", required=True, choices=sorted(PROFILES))
    ep.add_argument("--client", required=True)
    ep.add_argument("--truncate", action="store_true", help="behind a proxy that cuts the reply (no close_notify)")
    args = ap.parse_args()

    if args.command == "certs":
        d = make_certs(args.openssl, Path(args.work))
        print(f"certificates in {d}")
        return 0
    if args.command == "list":
        print("\n".join(cases_for(args.profile)))
        return 0
    if args.command == "example":
        return run_example(args)
    if args.case not in cases_for(args.profile):
        print(f"unknown case {args.case}", file=sys.stderr)
        return 2
    return run_case(args)


if __name__ == "__main__":
    sys.exit(main())
