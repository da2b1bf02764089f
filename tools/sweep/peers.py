"""What to run a sampled profile against: the sessions that exercise it, and the servers for each.

A session is one handshake + GET + close against `openssl s_server` or `gnutls-serv`, restricted to one
of the profile's suites, one of its groups, a certificate chain the profile allows (key type and size,
the CAs' signature scheme, its DER size and certificate count) and one handshake signature scheme.
The sessions of a profile cover each of its suites with the worst case the profile allows for the heap
(largest group, largest keys, the full chain and CA sizes), then each remaining group and signature
scheme at least once. A server that cannot serve a session is not asked to, and the reason is kept:
OpenSSL 3.0 does not implement RFC 8449 record_size_limit, which a TLS 1.3 receive buffer below 16384
bytes relies on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tlsgen.catalog import CURVE_HASH, Kex, SigAlg, Suite
from tlsgen.pipeline import Built

import pki

PSK_IDENTITY = "tlsgen-client"
SERVERS = ("openssl", "gnutls")
OPENSSL_GROUP = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "x25519": "X25519",
                 "x448": "X448"}
GNUTLS_GROUP = {"secp256r1": "GROUP-SECP256R1", "secp384r1": "GROUP-SECP384R1", "secp521r1": "GROUP-SECP521R1",
                "x25519": "GROUP-X25519", "x448": "GROUP-X448"}
GNUTLS_KX = {Kex.PSK: "PSK", Kex.ECDHE_PSK: "ECDHE-PSK", Kex.ECDHE_ECDSA: "ECDHE-ECDSA", Kex.ECDHE_RSA: "ECDHE-RSA",
             Kex.RSA: "RSA"}
GNUTLS_SIGN = {
    "ecdsa_secp256r1_sha256": "+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SECP256R1-SHA256",
    "ecdsa_secp384r1_sha384": "+SIGN-ECDSA-SHA384:+SIGN-ECDSA-SECP384R1-SHA384",
    "ecdsa_secp521r1_sha512": "+SIGN-ECDSA-SHA512:+SIGN-ECDSA-SECP521R1-SHA512",
    "rsa_pkcs1_sha256": "+SIGN-RSA-SHA256", "rsa_pkcs1_sha384": "+SIGN-RSA-SHA384",
    "rsa_pkcs1_sha512": "+SIGN-RSA-SHA512",
    "rsa_pss_rsae_sha256": "+SIGN-RSA-PSS-RSAE-SHA256", "rsa_pss_rsae_sha384": "+SIGN-RSA-PSS-RSAE-SHA384",
    "rsa_pss_rsae_sha512": "+SIGN-RSA-PSS-RSAE-SHA512",
}
OPENSSL_SIGN_TLS12 = {"ecdsa_secp256r1_sha256": "ECDSA+SHA256", "ecdsa_secp384r1_sha384": "ECDSA+SHA384",
                      "ecdsa_secp521r1_sha512": "ECDSA+SHA512", "rsa_pkcs1_sha256": "RSA+SHA256",
                      "rsa_pkcs1_sha384": "RSA+SHA384", "rsa_pkcs1_sha512": "RSA+SHA512"}


@dataclass(frozen=True)
class Session:
    server: str
    suite: Suite
    group: str | None
    chain: pki.ChainSpec | None
    extra_cas: int  # unrelated CA certificates loaded beside the root (ca_chain_certs - 1)
    sig: str | None  # the handshake signature scheme the server may use (None: no handshake signature)
    worst: bool  # the heap's worst case for this suite
    client: pki.ChainSpec | None = None  # the device's chain, which the server requires (tls.client_certificate)

    @property
    def label(self) -> str:
        parts = [self.server, self.suite.name]
        if self.group:
            parts.append(self.group)
        if self.chain:
            parts.append(f"{self.chain.leaf.label}/{self.chain.scheme}/{self.chain.certs}c")
        if self.sig:
            parts.append(f"hs:{self.sig}")
        if self.client:
            parts.append(f"mtls:{self.client.leaf.label}/{self.client.certs}c")
        return " ".join(parts)


def _handshake_sigs(b: Built, suite: Suite, key: str) -> list[SigAlg]:
    """Schemes a server with a `key` leaf may sign this suite's handshake with (none: static RSA)."""
    if suite.kex == Kex.RSA:
        return []
    groups = {g.name for g in b.resolution.groups}
    out = []
    for a in b.resolution.signature_algorithms:
        if a.key != key or not a.handshake_in(suite.version):
            continue
        if suite.version == "1.3" and a.curve and a.curve not in groups:
            continue
        out.append(a)
    return out


def server_supports(server: str, b: Built, suite: Suite) -> str | None:
    """None when `server` can run sessions of this suite for this profile, else why not. A receive buffer
    below a full record relies on the server keeping to the record size the client asked for: with TLS 1.3
    (record_size_limit, RFC 8449) OpenSSL 3.0 does not implement it; with TLS 1.2 (max_fragment_length,
    RFC 6066) GnuTLS 3.7 acknowledges it but sends application records above the negotiated length (seen:
    889-byte GCM records after a 512-byte max_fragment_length)."""
    r = b.resolution
    if r.in_content_len >= 16384:
        return None
    if server == "openssl" and "1.3" in r.versions:
        return ("OpenSSL 3.0 does not implement RFC 8449 record_size_limit, which this profile's "
                f"{r.in_content_len}-byte receive buffer relies on")
    if server == "gnutls" and "1.3" not in r.versions:
        return ("GnuTLS 3.7 does not keep to a negotiated max_fragment_length for application data, which this "
                f"profile's {r.in_content_len}-byte receive buffer relies on")
    return None


def client_chain(b: Built, suite: Suite | None = None) -> pki.ChainSpec | None:
    """The device's chain (tls.client_certificate), padded to the declared size under a client CA of the issuer's
    key type (client_certificate.issuer; RSA at 2048 bits); None when the profile has none or, for a session of
    `suite`, when the suite authenticates nobody by certificate (PSK: the server asks for no client certificate)."""
    from tlsgen.resolve.client import client_key, issuer_of

    cc = b.resolution.loaded.profile.tls.client_certificate
    if cc is None or (suite is not None and not (suite.version == "1.3" or suite.kex.uses_certificates)):
        return None

    kind, size = client_key(cc.key)
    leaf = pki.Key("ecdsa", cc.key[len("ecdsa_"):]) if kind == "ecdsa" else pki.Key("rsa", str(size))
    issuer = issuer_of(cc)  # the client CA's and intermediates' key (RSA at 2048 bits) and scheme
    ca = pki.Key("ecdsa", issuer.curve) if issuer.key == "ecdsa" else pki.Key("rsa", "2048")
    return pki.ChainSpec(leaf, ca, issuer.name, cc.chain_certs, cc.chain_bytes, 0, client=True)


def client_sigalgs(s: Session) -> tuple[list[str], list[str]]:
    """What the server accepts from the device (OpenSSL -client_sigalgs, GnuTLS SIGN-* priorities): the schemes
    mbedTLS's client signs CertificateVerify with for its key (TLS 1.2: the key's scheme with the suite's hash,
    SHA-256 or SHA-384; TLS 1.3: the curve's ECDSA scheme, or RSA-PSS), and the scheme the device's chain is signed
    with."""
    assert s.client is not None
    leaf = s.client.leaf
    if s.suite.version == "1.3":
        names = [f"ecdsa_{leaf.size}_{CURVE_HASH[leaf.size]}"] if leaf.kind == "ecdsa" else \
            ["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"]
        names.append(s.client.scheme)
        return list(dict.fromkeys(names)), [GNUTLS_SIGN[n] for n in dict.fromkeys(names)]
    pairs = ["ECDSA+SHA256", "ECDSA+SHA384"] if leaf.kind == "ecdsa" else ["RSA+SHA256", "RSA+SHA384"]
    gnutls = ["+SIGN-ECDSA-SHA256", "+SIGN-ECDSA-SHA384"] if leaf.kind == "ecdsa" else ["+SIGN-RSA-SHA256", "+SIGN-RSA-SHA384"]
    chain = OPENSSL_SIGN_TLS12.get(s.client.scheme, s.client.scheme)
    return list(dict.fromkeys(pairs + [chain])), list(dict.fromkeys(gnutls + GNUTLS_SIGN[s.client.scheme].split(":")))


def _from_shape(b: Built, sh, server: str, worst: bool) -> Session:
    """A session for one of the model's shapes (tlsgen.heap.Shape): the chain, CA and group it describes."""
    chain, extra = None, 0
    if sh.ca is not None:
        leaf = pki.Key(sh.leaf.kind, sh.leaf.size) if sh.leaf else pki.Key(sh.ca.kind, sh.ca.size)
        ca = pki.Key(sh.ca.kind, sh.ca.size)
        verify = b.resolution.verify != "none"
        ca_bytes = (sh.ca_bytes // max(sh.ca_certs, 1)) if verify else 0
        chain = pki.ChainSpec(leaf, ca, sh.scheme, max(sh.certs, 1), sh.chain_bytes, ca_bytes)
        extra = max(sh.ca_certs - 1, 0) if verify else 0
    sig = None
    if sh.leaf is not None:
        sigs = [a for a in _handshake_sigs(b, sh.suite, sh.leaf.kind)
                if sh.leaf.kind != "ecdsa" or a.curve == sh.leaf.size]
        sig = sigs[0].name if sigs else None
    return Session(server, sh.suite, sh.group, chain, extra, sig, worst, client_chain(b, sh.suite))


def sessions_for(b: Built) -> tuple[list[Session], list[str]]:
    """The sessions to run, and the reasons some server/suite pairs are left out. First, for each suite, the
    session the heap model says needs the most (tlsgen.heap.predict over tlsgen.heap.shapes: the largest
    group, keys, chain and CA the profile allows), against each server; then each remaining group and
    signature scheme at least once."""
    from tlsgen import heap as H

    r = b.resolution
    sessions: list[Session] = []
    skipped: list[str] = []
    preds = [H.predict(r, sh) for sh in H.shapes(r)]
    covered_groups: set = set()
    covered_schemes: set = set()
    for suite in r.suites:
        mine = [p for p in preds if p.shape.suite == suite]
        if not mine:
            continue
        top = max(mine, key=lambda p: p.total).shape
        for server in SERVERS:
            why = server_supports(server, b, suite)
            if why:
                skipped.append(f"{server} {suite.name}: {why}")
                continue
            s = _from_shape(b, top, server, True)
            sessions.append(s)
            covered_groups.add(s.group)
            covered_schemes.update({s.sig, s.chain.scheme if s.chain else None})
    for p in sorted(preds, key=lambda p: -p.total):
        sh = p.shape
        if sh.group in covered_groups and (sh.scheme in covered_schemes or sh.leaf is None):
            continue
        server = next((x for x in SERVERS if not server_supports(x, b, sh.suite)), None)
        if server is None:
            continue
        s = _from_shape(b, sh, server, False)
        sessions.append(s)
        covered_groups.add(s.group)
        covered_schemes.update({s.sig, s.chain.scheme if s.chain else None})
    return sessions, skipped


# ---- server command lines -----------------------------------------------------------------------

def openssl_name(suite: Suite) -> str:
    if suite.version == "1.3":
        return "TLS_" + suite.name[len("TLS1-3-"):].replace("-", "_").replace("CCM_8", "CCM_8")
    return OPENSSL_12[suite.name]


OPENSSL_12 = {
    "TLS-PSK-WITH-AES-128-CCM-8": "PSK-AES128-CCM8", "TLS-PSK-WITH-AES-256-CCM-8": "PSK-AES256-CCM8",
    "TLS-PSK-WITH-AES-128-CCM": "PSK-AES128-CCM", "TLS-PSK-WITH-AES-256-CCM": "PSK-AES256-CCM",
    "TLS-PSK-WITH-AES-128-GCM-SHA256": "PSK-AES128-GCM-SHA256", "TLS-PSK-WITH-AES-256-GCM-SHA384": "PSK-AES256-GCM-SHA384",
    "TLS-PSK-WITH-AES-128-CBC-SHA256": "PSK-AES128-CBC-SHA256", "TLS-PSK-WITH-CHACHA20-POLY1305-SHA256": "PSK-CHACHA20-POLY1305",
    "TLS-ECDHE-PSK-WITH-AES-128-CBC-SHA256": "ECDHE-PSK-AES128-CBC-SHA256",
    "TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256": "ECDHE-PSK-CHACHA20-POLY1305",
    "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS-ECDHE-ECDSA-WITH-AES-128-CCM": "ECDHE-ECDSA-AES128-CCM", "TLS-ECDHE-ECDSA-WITH-AES-256-CCM": "ECDHE-ECDSA-AES256-CCM",
    "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8": "ECDHE-ECDSA-AES128-CCM8",
    "TLS-ECDHE-ECDSA-WITH-AES-256-CCM-8": "ECDHE-ECDSA-AES256-CCM8",
    "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS-RSA-WITH-AES-128-GCM-SHA256": "AES128-GCM-SHA256", "TLS-RSA-WITH-AES-256-GCM-SHA384": "AES256-GCM-SHA384",
}

GNUTLS_CIPHER = {("aes", 128, "gcm"): "AES-128-GCM", ("aes", 256, "gcm"): "AES-256-GCM",
                 ("aes", 128, "ccm"): "AES-128-CCM", ("aes", 256, "ccm"): "AES-256-CCM",
                 ("aes", 128, "ccm8"): "AES-128-CCM-8", ("aes", 256, "ccm8"): "AES-256-CCM-8",
                 ("aes", 128, "cbc"): "AES-128-CBC", ("chacha20", 256, "chachapoly"): "CHACHA20-POLY1305"}


def gnutls_priority(s: Session, datagram: bool = False) -> str:
    suite = s.suite
    parts = ["NONE", f"+VERS-DTLS{suite.version}" if datagram else f"+VERS-TLS{suite.version}", "+" + GNUTLS_CIPHER[(suite.cipher, suite.key_bits, suite.mode)],
             "+SHA256" if suite.mode == "cbc" else "+AEAD"]
    if suite.version == "1.2":
        parts.append("+" + GNUTLS_KX[suite.kex])
    if s.group:
        parts.append("+" + GNUTLS_GROUP[s.group])
    parts.append(GNUTLS_SIGN[s.sig] if s.sig else "+SIGN-ALL")
    if s.client and s.sig:
        parts += [g for g in client_sigalgs(s)[1] if g not in parts]
    parts += ["+COMP-NULL", "+CTYPE-X509"]
    return ":".join(parts)


def server_command(s: Session, b: Built, chain: pki.Chain | None, port: int, work: Path, psk_hex: str,
                   openssl: str, gnutls: str, client: pki.Chain | None = None) -> tuple[list[str], re.Pattern[str]]:
    """The server's command line; with `client` (the device's chain, made from s.client), it requires a client
    certificate issued by that chain's root."""
    p = b.resolution.loaded.profile
    alpn = list(p.tls.alpn)
    datagram = b.resolution.datagram
    if s.server == "openssl":
        # DTLS: s_server -dtls1_2 prints each request line, and the runner answers it reversed through its stdin
        # (DatagramServer); its MTU at 1200 bytes, a path MTU servers use.
        cmd = [openssl, "s_server", "-accept", str(port),
               *(["-dtls1_2", "-mtu", "1200"] if datagram else ["-www", f"-tls{s.suite.version.replace('.', '_')}"])]
        if s.suite.version == "1.3":
            cmd += ["-ciphersuites", openssl_name(s.suite)]
        else:
            cmd += ["-cipher", OPENSSL_12[s.suite.name] + ":@SECLEVEL=0"]
        if s.group:
            # OpenSSL also checks the device's EC key against its groups (tls12_check_peer_sigalg: "wrong
            # curve"): with a client certificate they list its curve too, after the session's group, which the
            # server then prefers (-serverpref).
            groups = [OPENSSL_GROUP[s.group]]
            if s.client and s.client.leaf.kind == "ecdsa" and OPENSSL_GROUP[s.client.leaf.size] not in groups:
                groups.append(OPENSSL_GROUP[s.client.leaf.size])
                cmd.append("-serverpref")
            cmd += ["-groups", ":".join(groups)]
        if s.sig:
            cmd += ["-sigalgs", s.sig if s.suite.version == "1.3" else OPENSSL_SIGN_TLS12[s.sig]]
        if s.suite.kex.uses_psk:
            cmd += ["-psk", psk_hex, "-psk_identity", PSK_IDENTITY]
        if chain is None:
            cmd += ["-nocert"]
        else:
            cmd += ["-cert", str(chain.chain_pem), "-key", str(chain.leaf_key)]
            if chain.intermediates_pem:
                cmd += ["-cert_chain", str(chain.intermediates_pem)]
        if alpn:
            cmd += ["-alpn", ",".join(alpn)]
        if s.suite.version == "1.3" and "psk_ke" in p.tls.resumption.tls13:
            cmd += ["-allow_no_dhe_kex"]  # OpenSSL resumes by psk_ke (no (EC)DHE) only when told to
        if client is not None:
            cmd += ["-Verify", "1", "-verify_return_error", "-CAfile", str(client.root_pem), "-client_sigalgs", ":".join(client_sigalgs(s)[0])]
        return cmd, re.compile(r"^ACCEPT")
    cmd = [gnutls, *(["--udp", "--echo"] if datagram else ["--http"]), "--port", str(port), "--priority",
           gnutls_priority(s, datagram)]
    if s.suite.kex.uses_psk:
        pskfile = work / f"gnutls-psk-{port}.txt"
        pskfile.write_text(f"{PSK_IDENTITY}:{psk_hex}\n")
        cmd += ["--pskpasswd", str(pskfile)]
    if chain is not None:
        cmd += ["--x509certfile", str(chain.chain_pem), "--x509keyfile", str(chain.leaf_key)]
    for a in alpn:
        cmd += ["--alpn", a]
    if client is not None:
        cmd += ["--require-client-cert", "--verify-client-cert", "--x509cafile", str(client.root_pem)]
    return cmd, re.compile(r"listening on")
