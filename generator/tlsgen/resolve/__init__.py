"""Resolution: a validated profile -> the set of mbedTLS macros, each with the field that caused it.

The rules mirror mbedTLS 3.6's own prerequisites (include/mbedtls/check_config.h and
library/ssl_ciphersuites.c) and what its client does at run time: what a cipher suite needs, what
TLS 1.3 needs, what bare metal cannot have, which combinations mbedTLS 3.6 cannot run. Cross-field
conflicts are reported here, against the profile's file locations, before any compiler sees the
configuration. A setting the resolved configuration would not use is an error too: nothing a
profile says is silently ignored.

One module per concern, run in this order (later rules read what earlier ones decided):
  protocol      role, transport, versions, extensions
  key_exchange  suites' key exchanges, PSK, (EC)DHE groups
  certificates  certificate keys, signature algorithms, X.509, verify, chain sizes
  client        the device's own certificate (mutual TLS): its key, signature and Certificate message
  resumption    saved sessions: TLS 1.2 session ID / ticket, TLS 1.3 PSK modes, ticket size and lifetime
  symmetric     record ciphers and modes, hashes (suites and signature algorithms)
  ecc           the elliptic-curve implementation: legacy ECP, or p256-m through PSA where every curve is P-256
  psa           PSA crypto (TLS 1.3, and TLS 1.2 on p256-m)
  platform      entropy; hooks, time, debug
  records       record buffers, max_fragment_length / record_size_limit, suite list, overhead
  tradeoffs     optimize: size | speed
  insecure      opt-ins
"""

from __future__ import annotations

from tlsgen.catalog import CPUS, GROUPS, SUITES
from tlsgen.errors import ProfileError
from tlsgen.loader import LoadedProfile
from tlsgen.resolve import (certificates, client, ecc, insecure, key_exchange, platform, protocol, psa, records,
                            resumption, symmetric, tradeoffs)
from tlsgen.resolve.core import (BASELINE, NEVER_DEFINED, SECTIONS, Builder, Context, InsecureChoice, Macro,
                                 Resolution)
from tlsgen.resolve.insecure import INSECURE_WHAT
from tlsgen.resolve.platform import REAL_ENTROPY

__all__ = ["BASELINE", "INSECURE_WHAT", "NEVER_DEFINED", "REAL_ENTROPY", "SECTIONS", "InsecureChoice", "Macro",
           "Resolution", "resolve"]


def _duplicates(b: Builder, path, items: list) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        if item in seen:
            b.error(path + (i,), f"'{item}' is listed twice (first at index {seen[item]})")
        else:
            seen[item] = i


def resolve(loaded: LoadedProfile, p256m: bool = True) -> Resolution:
    """Turn a validated profile into macros; raise ProfileError naming every conflict. `p256m=False` keeps the
    legacy ECP where tlsgen would pick p256-m (tests compare the two configurations)."""
    p = loaded.profile
    b = Builder(loaded)
    tls = p.tls
    for name in ("versions", "cipher_suites", "groups", "alpn"):
        _duplicates(b, ("tls", name), list(getattr(tls, name)))
    _duplicates(b, ("platform", "entropy"), list(p.platform.entropy))

    suites = [SUITES[n] for n in tls.cipher_suites]
    versions = sorted(set(tls.versions))
    c = Context(b=b, p=p, cpu=CPUS[p.target.cpu], suites=suites, groups=[GROUPS[n] for n in dict.fromkeys(tls.groups)],
                versions=versions, kexes={s.kex for s in suites}, tls12="1.2" in versions, tls13="1.3" in versions)

    protocol.apply(c)
    key_exchange.apply(c)
    certificates.apply(c)
    client.apply(c)
    resumption.apply(c)
    symmetric.apply(c)
    ecc.apply(c, allowed=p256m)
    psa.apply(c)
    platform.entropy(c)
    platform.platform(c)
    records.apply(c)
    tradeoffs.apply(c)
    chosen = insecure.apply(c)

    if b.problems:
        raise ProfileError(sorted(b.problems, key=lambda q: (q.location.line, q.location.col)))
    macros = [Macro(n, e["value"], e["section"], tuple(e["reasons"])) for n, e in b.macros.items()]
    return Resolution(
        loaded=loaded, cpu=c.cpu, suites=suites, groups=c.groups, versions=versions, macros=macros,
        insecure=chosen, warnings=b.warnings, in_content_len=c.in_len, out_content_len=c.out_len,
        record_overhead=c.record_overhead, uses_certificates=c.uses_certs, uses_psk=c.uses_psk,
        uses_psa=c.tls13 or c.p256m, p256m=c.p256m, ecc_note=c.ecc_note, certificate_keys=c.cert_keys,
        signature_algorithms=c.sig_algs,
        nv_seed_bytes=c.nv_seed_bytes, entropy=list(p.platform.entropy), verify=c.verify,
        datagram=tls.transport == "datagram", dtls_buffering=c.dtls_buffering,
        object_options=c.object_options)
