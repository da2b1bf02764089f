"""Insecure opt-ins: each one must be needed by the profile, and is listed with what it gives up."""

from __future__ import annotations

from tlsgen.catalog import Kex
from tlsgen.resolve.core import Context, InsecureChoice

INSECURE_WHAT = {
    "verify_none": "the server's certificate is not verified: anyone on the path can impersonate it",
    "verify_optional": "a failed certificate verification does not stop the handshake",
    "test_static_entropy": "entropy is a fixed pattern: keys and nonces are predictable",
    "no_forward_secrecy": "static RSA key exchange: a leaked server key decrypts recorded sessions",
}


def apply(c: Context) -> list[InsecureChoice]:
    p = c.p
    used = {}
    if c.uses_certs and p.tls.verify in ("none", "optional"):
        used[f"verify_{p.tls.verify}"] = INSECURE_WHAT[f"verify_{p.tls.verify}"]
    if "test_static" in p.platform.entropy:
        used["test_static_entropy"] = INSECURE_WHAT["test_static_entropy"]
    if any(s.kex == Kex.RSA for s in c.suites):
        used["no_forward_secrecy"] = INSECURE_WHAT["no_forward_secrecy"]
    if "psk_ke" in p.tls.resumption.tls13:
        what = "TLS 1.3 resumption by psk_ke (no (EC)DHE): the ticket's key decrypts the resumed session"
        used["no_forward_secrecy"] = used["no_forward_secrecy"] + "; " + what if "no_forward_secrecy" in used else what
    seen: dict = {}
    out = []
    for i, o in enumerate(p.insecure):
        if o.allow in seen:
            c.b.error(("insecure", i), f"'{o.allow}' is listed twice (first at index {seen[o.allow]})")
            continue
        seen[o.allow] = i
        if o.allow not in used:
            c.b.error(("insecure", i, "allow"), f"opt-in '{o.allow}' is not needed by this profile: remove it")
        else:
            out.append(InsecureChoice(o.allow, o.reason, used[o.allow]))
    return out
