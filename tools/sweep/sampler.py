#!/usr/bin/env python3
"""Seeded sampler of tlsgen device profiles: draws raw profiles across every field of the schema, asks
tlsgen whether it accepts each one (the pipeline `tlsgen check` runs), and counts the refusals by reason.

    sampler.py --seed S --count N --target host|cortex-m [--out DIR]     N accepted profiles as YAML files
    sampler.py --seed S --cover --pool M --target host --out DIR         a small set covering every value

The same seed gives the same profiles (random.Random(seed); nothing else is random). Draws are mostly
coherent (suites of the enabled versions, groups where a suite needs them, the opt-ins a choice needs)
with a share of deliberately off choices, so the refusals are counted too: `refused` maps each
reason (the message with its numbers and names masked) to how often it came up.
"""
from __future__ import annotations

import argparse
import collections
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tlsgen.catalog import CURVE_HASH, GROUPS, SIG_ALGS, SUITES, Kex
from tlsgen.errors import ProfileError
from tlsgen.pipeline import Built, build

CORTEX_M = ["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"]
ALPN_POOL = ["h2", "http/1.1", "mqtt", "coap", "x-tlsgen-sweep"]
SIZES = [512, 1024, 2048, 4096, 8192, 16384]


def _maybe(rng: random.Random, p: float) -> bool:
    return rng.random() < p


#: The share of profiles with certificate suites that get a client certificate (mutual TLS) by default.
CLIENT_SHARE = 0.3
RESUMPTION_SHARE = 0.5  # profiles drawn with tls.resumption
#: The smallest ticket_max_bytes drawn without a client certificate: what the sweep's servers send (GnuTLS 3.7's TLS
#: 1.2 ticket is 358 bytes after a ClientHello that also offers TLS 1.3, sweep h10008-0006; OpenSSL 3.0 about 200).
SERVER_TICKET_BYTES = 400
DATAGRAM_SHARE = 0.3  # TLS 1.2 profiles drawn over datagrams (DTLS)
CLIENT_KEYS = ["ecdsa_secp256r1", "ecdsa_secp384r1", "rsa2048", "rsa3072"]


def draw(rng: random.Random, name: str, cpus: list[str], client_share: float = CLIENT_SHARE) -> dict:
    """One raw profile (a dict for YAML), mostly coherent."""
    cpu = rng.choice(cpus)
    bare = cpu != "host"
    versions = rng.choice([["1.2"], ["1.2"], ["1.3"], ["1.2", "1.3"], ["1.3", "1.2"]])
    pool = [s for s in SUITES.values() if s.version in versions or _maybe(rng, 0.01)]
    suites = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2, 2, 3, 4])))
    if not any(s.version == v for s in suites for v in versions[:1]):
        suites.append(rng.choice([s for s in SUITES.values() if s.version == versions[0]]))
    kexes = {s.kex for s in suites}
    tls13 = "1.3" in versions
    ecdhe = tls13 or any(k.uses_ecdhe for k in kexes)
    certs = tls13 or any(k.uses_certificates for k in kexes)
    psk = any(k.uses_psk for k in kexes)
    tls: dict = {"versions": versions, "cipher_suites": [s.name for s in suites]}
    if _maybe(rng, 0.02):
        tls["role"] = "server"
    if _maybe(rng, 0.02):
        tls["transport"] = "datagram"
    groups: list[str] = []
    if ecdhe or _maybe(rng, 0.02):
        groups = rng.sample(list(GROUPS), k=rng.choice([1, 1, 2, 2, 3]))
        tls["groups"] = groups
    insecure: list[dict] = []

    def opt_in(option: str) -> None:
        if _maybe(rng, 0.95):
            insecure.append({"allow": option, "reason": f"sweep {name}: lab server, not for release ({option})"})

    if any(s.kex == Kex.RSA for s in suites):
        opt_in("no_forward_secrecy")
    keys: list[str] = []
    if certs:
        keys = sorted({"ecdsa" for s in suites if s.kex == Kex.ECDHE_ECDSA} |
                      {"rsa" for s in suites if s.kex in (Kex.ECDHE_RSA, Kex.RSA)})
        if tls13 and not keys:
            keys = rng.choice([["ecdsa"], ["ecdsa"], ["rsa"], ["ecdsa", "rsa"]])
        if tls13 and keys == ["ecdsa"] and _maybe(rng, 0.15):
            keys = ["ecdsa", "rsa"]
        if "ecdsa" in keys and not any(g in CURVE_HASH for g in groups):
            groups.append(rng.choice(list(CURVE_HASH)))
            tls["groups"] = groups
        if keys != ["ecdsa"] or _maybe(rng, 0.3):
            tls["certificate_keys"] = keys
        verify = rng.choices(["required", "optional", "none"], [0.84, 0.08, 0.08])[0]
        if verify != "required" or _maybe(rng, 0.3):
            tls["verify"] = verify
        if verify != "required":
            opt_in(f"verify_{verify}")
        if "rsa" in keys:
            tls["rsa_max_bits"] = rng.choice([2048, 2048, 3072, 4096])
        if _maybe(rng, 0.45):
            tls["signature_algorithms"] = _sig_algs(rng, keys, groups, versions, suites)
        if _maybe(rng, 0.5):
            tls["pem"] = rng.choice([True, False])
        biggest = 1100 if tls.get("rsa_max_bits", 2048) >= 3072 else 800
        tls["peer_chain_max_bytes"] = rng.choice([400, 512, 700, 1024, 1500, 2048, 3000, 4096, 6000, 8192,
                                                  rng.randint(300, 9000)]) + (biggest if "rsa" in keys else 0)
        tls["peer_chain_max_certs"] = rng.choice([1, 1, 2, 2, 3, 4])
        if verify != "none":
            tls["ca_chain_bytes"] = rng.choice([300, 400, 512, 700, 1024, 1500, 2500, rng.randint(250, 4000)]) + \
                (biggest if "rsa" in keys else 0)
            if _maybe(rng, 0.15):
                tls["ca_chain_certs"] = rng.choice([1, 2, 3])
        if _maybe(rng, 0.2):
            tls["server_name_indication"] = False
    if psk:
        tls["psk_max_bytes"] = rng.choice([16, 16, 24, 32, 48, 64])
    in_len = rng.choice(SIZES + [None, None, rng.randint(512, 16384)])
    out_len = rng.choice(SIZES + [None, rng.randint(512, 16384)])
    if in_len is not None:
        tls["in_content_len"] = in_len
    if out_len is not None:
        tls["out_content_len"] = out_len
    eff_in, eff_out = in_len or 16384, out_len or 4096
    if eff_in < 16384 or _maybe(rng, 0.1):
        if tls13 and not _maybe(rng, 0.05):
            tls["record_size_limit"] = True
        elif not tls13:
            fits = [m for m in (512, 1024, 2048, 4096) if m <= min(eff_in, eff_out)]
            if fits and not _maybe(rng, 0.05):
                tls["max_fragment_length"] = rng.choice(fits)
                if in_len is None:
                    tls.pop("in_content_len", None)
    if _maybe(rng, 0.25):
        tls["alpn"] = rng.sample(ALPN_POOL, k=rng.choice([1, 2, 3]))
    _maybe(rng, 0.3)  # was session_tickets (now tls.resumption, drawn below from a stream of its own): kept so
    # that the other fields of a seed's profiles stay what they were
    if tls13 and _maybe(rng, 0.25):
        tls["psa_exclusive_buffers"] = rng.choice([True, False])
    elif bare and groups == ["secp256r1"] and not psk:
        # Where tlsgen would pick the p256-m driver (tlsgen.resolve.ecc), which needs exclusive buffers: false keeps
        # the legacy ECP, where TLS 1.2 has no PSA, so tlsgen must refuse it. A stream of its own, so that the
        # other fields of a seed's profiles stay what they were.
        xrng = random.Random(f"{name}/psa_exclusive_buffers")
        if xrng.random() < 0.25:
            tls["psa_exclusive_buffers"] = xrng.choice([True, False])

    real = ["hardware", "nv_seed"] if bare else ["os", "hardware", "nv_seed"]
    entropy = rng.sample(real, k=rng.choice([1, 1, 2]))
    if _maybe(rng, 0.12):
        entropy.append("test_static")
        if "hardware" in entropy and not _maybe(rng, 0.1):
            entropy.remove("hardware")
        opt_in("test_static_entropy")
    platform: dict = {"entropy": entropy, "time": rng.choice(["none", "ms_clock", "calendar"])}
    if _maybe(rng, 0.2):
        platform["debug"] = {"level": rng.choice([1, 2, 3, 4]), "error_strings": rng.choice([True, False])}
    elif _maybe(rng, 0.2):
        platform["debug"] = {"error_strings": True}
    target: dict = {"cpu": cpu}
    if _maybe(rng, 0.15):
        target["ram_bytes"] = rng.choice([16384, 65536, 131072, 262144, 1048576])
    if bare and _maybe(rng, 0.15):
        target["flash_bytes"] = rng.choice([131072, 262144, 524288, 1048576])
    if bare and _maybe(rng, 0.25):
        target["stack_bytes"] = rng.choice([2048, 3072, 4096, 5120, 6144, 7168, 8192, 16384])
    profile = {"profile": 1, "name": name, "description": f"sampled profile {name}", "target": target,
               "tls": tls, "platform": platform, "optimize": rng.choice(["size", "speed"])}
    if _maybe(rng, 0.03):
        insecure.append({"allow": "verify_none", "reason": "sweep: an opt-in this profile may not need"})
    if insecure:
        profile["insecure"] = insecure
    # The client certificate comes from a stream of its own (seeded by the profile's name), so that the other
    # fields of a seed's profiles are what they were before the field existed.
    crng = random.Random(f"{name}/client_certificate")
    if certs and crng.random() < client_share:
        tls["client_certificate"] = _client_certificate(crng, groups, tls, versions)
    _resumption(random.Random(f"{name}/resumption"), tls, versions, platform, profile, name)
    _datagram(random.Random(f"{name}/transport"), tls, bare)
    return profile


def _datagram(rng: random.Random, tls: dict, bare: bool) -> None:
    """DTLS (issue 15): a share of the TLS 1.2 profiles go over datagrams, with tls.dtls drawn over its range. A
    stream of its own, so that the other fields of a seed's profiles stay what they were. Most such draws leave
    out the send buffer's size (sized from the MTU then); some keep it, so that a given out_content_len is exercised
    too. A client certificate and tls.resumption (TLS 1.2 by session ID or ticket) are kept as drawn."""
    if tls["versions"] != ["1.2"] or rng.random() >= DATAGRAM_SHARE or tls.get("transport") == "datagram":
        rng.random()
        return
    tls["transport"] = "datagram"
    if rng.random() < 0.85:
        tls.pop("out_content_len", None)
    dtls: dict = {}
    if rng.random() < 0.7:
        # The ESP8266 AT modem sends at most 2048 bytes per datagram: bare-metal profiles stay below.
        dtls["mtu"] = rng.choice([508, 576, 1024, 1200, 1400, rng.randint(508, 2048 if bare else 4096)])
    if rng.random() < 0.5:
        lo = rng.choice([100, 200, 500, 1000])
        dtls["handshake_timeout_min_ms"] = lo
        dtls["handshake_timeout_max_ms"] = lo * rng.choice([8, 16, 32, 64]) if rng.random() < 0.95 else lo // 2
    if rng.random() < 0.15:
        dtls["max_buffering_bytes"] = rng.randint(256, 4096)
    if dtls:
        tls["dtls"] = dtls


def _resumption(rng: random.Random, tls: dict, versions: list[str], platform: dict, profile: dict, name: str) -> None:
    """tls.resumption: mostly what the profile's versions can use, with a ticket size its receive buffer and its
    client certificate allow, and the clock tickets need."""
    from tlsgen.resolve.client import chain_ticket_bytes
    from tlsgen.resolve.resumption import CLIENT_HELLO_BYTES, NST_OVERHEAD

    if rng.random() >= RESUMPTION_SHARE:
        return
    res: dict = {}
    if "1.2" in versions or _maybe(rng, 0.03):
        pick = rng.choice([["session_id"], ["ticket"], ["session_id", "ticket"], ["ticket", "session_id"]])
        res["tls12"] = pick
    psk12 = any(SUITES[n].kex.uses_psk for n in tls["cipher_suites"] if n in SUITES)
    if ("1.3" in versions and not psk12) or _maybe(rng, 0.03):
        res["tls13"] = rng.choice([["psk_ephemeral"], ["psk_ephemeral"], ["psk_ke"], ["psk_ephemeral", "psk_ke"]])
        if "psk_ke" in res["tls13"] and not _maybe(rng, 0.05):
            insecure = profile.setdefault("insecure", [])
            if not any(o["allow"] == "no_forward_secrecy" for o in insecure):
                insecure.append({"allow": "no_forward_secrecy",
                                 "reason": f"sweep {name}: lab server, not for release (psk_ke)"})
    if not res:
        return
    tickets = "ticket" in res.get("tls12", []) or bool(res.get("tls13"))
    if tickets:
        # What the ticket must hold (with a client certificate, the chain) and what the records allow (the
        # NewSessionTicket in the receive buffer, the ClientHello that offers it in the send buffer); mostly
        # within those, sometimes not (tlsgen must then refuse it).
        in_len = tls.get("in_content_len") or tls.get("max_fragment_length") or 16384
        room = min(in_len - NST_OVERHEAD, tls.get("out_content_len", 4096) - CLIENT_HELLO_BYTES)
        cc = tls.get("client_certificate")
        # Without a client certificate: what the sweep's servers send (GnuTLS 3.7: 358 bytes in TLS 1.2 after a
        # ClientHello that also offers TLS 1.3; a smaller ticket_max_bytes is refused at save_session()).
        # With one, the chain and the rest of the session (a TLS 1.2 ticket holds more of it: tlsgen.resolve.client).
        tls12 = "ticket" in res.get("tls12", []) and "1.2" in versions
        least = chain_ticket_bytes(cc["chain_bytes"], cc.get("chain_certs", 1), tls12) if cc else SERVER_TICKET_BYTES
        if least > room and not _maybe(rng, 0.05):
            res.pop("tls13", None)  # no room for a ticket: resume TLS 1.2 by session ID, if at all
            if "tls12" in res:
                res["tls12"] = ["session_id"]
        elif cc or _maybe(rng, 0.5):
            res["ticket_max_bytes"] = max(least, min(rng.choice([400, 448, 512, 1024, least + 64]), room)) \
                if not _maybe(rng, 0.03) else rng.choice([32, 16384])
        tickets = "ticket" in res.get("tls12", []) or bool(res.get("tls13"))
        if tickets and platform.get("time", "none") == "none" and not _maybe(rng, 0.03):
            platform["time"] = rng.choice(["ms_clock", "calendar"])
    if res:
        tls["resumption"] = res


def _client_certificate(rng: random.Random, groups: list[str], tls: dict, versions: list[str]) -> dict:
    """A client certificate: mostly a key the profile can sign with and a chain its output record holds."""
    from tlsgen.resolve.client import min_chain_bytes

    on_curves = [f"ecdsa_{g}" for g in groups if f"ecdsa_{g}" in CLIENT_KEYS]
    rsa_ok = "1.3" not in versions or any(a.startswith("rsa_pss") for a in tls.get("signature_algorithms") or [])
    pool = on_curves * 3 + (["rsa2048", "rsa3072"] if rsa_ok else [])
    key = rng.choice(pool) if pool and not _maybe(rng, 0.08) else rng.choice(CLIENT_KEYS)
    certs = rng.choice([1, 1, 1, 2, 3])
    issuer = None
    if _maybe(rng, 0.3):  # a CA of another kind than the key's own (AWS IoT: RSA-signed device certificates)
        issuer = rng.choice([f"ecdsa_{g}_{CURVE_HASH[g]}" for g in groups if g in CURVE_HASH] +
                            ["rsa_pkcs1_sha256", "rsa_pkcs1_sha256", "rsa_pss_rsae_sha256"])
    floor = min_chain_bytes(key, certs, issuer)
    size = floor + rng.choice([0, 40, 200, 500, rng.randint(0, 1500)])
    room = tls.get("out_content_len", 4096) - 8 - 5 * certs
    if tls.get("max_fragment_length"):
        room = min(room, tls["max_fragment_length"] - 8 - 5 * certs)
    if size > room and not _maybe(rng, 0.1):
        size = max(floor, room)
    sig_algs = tls.get("signature_algorithms")
    if "1.3" in versions and sig_algs is not None and key.startswith("ecdsa_") and not _maybe(rng, 0.1):
        scheme = f"{key}_{CURVE_HASH[key[len('ecdsa_'):]]}"  # TLS 1.3 signs with its curve's scheme
        if scheme not in sig_algs:
            sig_algs.append(scheme)
    out = {"key": key, "chain_bytes": size}
    if certs != 1 or _maybe(rng, 0.3):
        out["chain_certs"] = certs
    if issuer:
        out["issuer"] = issuer
    return out


def _sig_algs(rng: random.Random, keys: list[str], groups: list[str], versions: list[str], suites) -> list[str]:
    out: list[str] = []
    tls13, tls12 = "1.3" in versions, "1.2" in versions
    if "ecdsa" in keys:
        curves = [g for g in groups if g in CURVE_HASH]
        picks = [f"ecdsa_{g}_{CURVE_HASH[g]}" for g in curves]
        extra = [a for a in SIG_ALGS if a.startswith("ecdsa") and a not in picks and (tls12 or _maybe(rng, 0.1))]
        out += rng.sample(picks, k=rng.randint(1, len(picks))) + rng.sample(extra, k=min(len(extra), rng.choice([0, 0, 1])))
    if "rsa" in keys:
        ecdhe_rsa12 = tls12 and any(s.kex == Kex.ECDHE_RSA for s in suites)
        if tls13 and not ecdhe_rsa12 or _maybe(rng, 0.03):
            out.append(rng.choice(["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"]))
        if ecdhe_rsa12 or _maybe(rng, 0.7):
            out.append(rng.choice(["rsa_pkcs1_sha256", "rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512"]))
        if not tls13 and _maybe(rng, 0.15):
            out.append(rng.choice(["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384"]))  # PSS-signed chains
    out = list(dict.fromkeys(out))
    rng.shuffle(out)
    return out


def reason_of(message: str) -> str:
    """A refusal's message with its instance details masked, so equal causes count together."""
    text = re.sub(r"^.*?: error: ", "", message.splitlines()[0])
    text = re.sub(r"\[\d+\]", "[i]", text)
    text = re.sub(r"\b\d+\b", "N", text)
    text = re.sub(r"'[^']*'", "'X'", text)
    return text[:160]


@dataclass
class Sample:
    seed: int
    accepted: list[tuple[str, str, Built]] = field(default_factory=list)  # (name, yaml text, build)
    refused: collections.Counter = field(default_factory=collections.Counter)
    drawn: int = 0


def to_yaml(profile: dict) -> str:
    return "# yaml-language-server: $schema=../../../schema/tlsgen-profile.schema.json\n" + \
        yaml.safe_dump(profile, sort_keys=False, default_flow_style=None, width=120)


def check(text: str, where: str, full: bool = True) -> Built | ProfileError:
    """What `tlsgen check` says; full=False: the rules only, without the heap model (the heap model's own
    calibration draws profiles before there is a model)."""
    try:
        if full:
            return build(where, data=text.encode())
        from tlsgen.loader import load_profile_bytes
        from tlsgen.resolve import resolve

        return Built(resolve(load_profile_bytes(where, text.encode())), None)  # type: ignore[arg-type]
    except ProfileError as e:
        return e


def sample(seed: int, count: int, cpus: list[str], prefix: str = "s", max_draws: int | None = None,
           full: bool = True, client_share: float = CLIENT_SHARE, ecc: str = "any", transport: str = "any") -> Sample:
    """`count` accepted profiles; `ecc` keeps only those on the p256-m driver ("p256m") or on the legacy ECP
    ("legacy") (tlsgen.resolve.ecc): a calibration or a sweep of one implementation; `transport` those over
    datagrams ("datagram", DTLS) or streams ("stream"). Refused draws are counted as usual; accepted ones of the
    other kind are skipped, uncounted."""
    rng = random.Random(seed)
    out = Sample(seed)
    limit = max_draws or count * (50 if ecc == "any" and transport == "any" else 1000)
    while len(out.accepted) < count and out.drawn < limit:
        out.drawn += 1
        name = f"{prefix}{seed}-{out.drawn:04d}"
        text = to_yaml(draw(rng, name, cpus, client_share))
        res = check(text, f"{name}.yaml", full)
        if isinstance(res, ProfileError):
            for reason in sorted({reason_of(str(p)) for p in res.problems}):
                out.refused[reason] += 1
        elif (ecc == "any" or res.resolution.p256m == (ecc == "p256m")) and \
                (transport == "any" or res.resolution.datagram == (transport == "datagram")):
            out.accepted.append((name, text, res))
    return out


# ---- coverage: every value of every field at least once -------------------------------------------

def _bucket(n: int, edges=(512, 1024, 2048, 4096, 8192, 16384)) -> str:
    for e in edges:
        if n <= e:
            return f"<={e}"
    return f">{edges[-1]}"


def features(b: Built) -> set[str]:
    """The values a profile exercises, as field=value strings (effective values: defaults count)."""
    r, p = b.resolution, b.resolution.loaded.profile
    t, pl = p.tls, p.platform
    f = {f"cpu={p.target.cpu}", f"optimize={p.optimize}", f"time={pl.time}", f"debug.level={pl.debug.level}",
         f"debug.error_strings={pl.debug.error_strings}", f"versions={'+'.join(r.versions)}",
         f"in_content_len{_bucket(r.in_content_len)}", f"out_content_len{_bucket(r.out_content_len)}",
         f"max_fragment_length={t.max_fragment_length}", f"record_size_limit={t.record_size_limit}",
         f"alpn={'yes' if t.alpn else 'no'}",
         f"resumption.tls12={'+'.join(t.resumption.tls12) or 'none'}",
         f"resumption.tls13={'+'.join(t.resumption.tls13) or 'none'}",
         f"heap={'auto' if pl.heap == 'auto' else 'fixed'}", f"ram_bytes={'set' if p.target.ram_bytes else 'unset'}"}
    f |= {f"suite={s.name}" for s in r.suites} | {f"group={g.name}" for g in r.groups}
    f |= {f"entropy={e}" for e in pl.entropy} | {f"insecure={c.option}" for c in r.insecure}
    if r.uses_psa:
        f.add(f"psa_exclusive_buffers={t.psa_exclusive_buffers}")
    if r.uses_psk:
        f.add(f"psk_max_bytes{_bucket(t.psk_max_bytes, (16, 32, 63, 64))}")
    if r.uses_certificates:
        f |= {f"certificate_key={k}" for k in r.certificate_keys} | {f"sig_alg={a.name}" for a in r.signature_algorithms}
        f |= {f"verify={r.verify}", f"pem={t.pem}", f"sni={t.server_name_indication}",
              f"signature_algorithms={'explicit' if t.signature_algorithms is not None else 'default'}",
              f"peer_chain_max_bytes{_bucket(t.peer_chain_max_bytes, (512, 1024, 2048, 4096, 65536))}",
              f"peer_chain_max_certs={min(t.peer_chain_max_certs, 3)}"}
        if "rsa" in r.certificate_keys:
            f.add(f"rsa_max_bits={t.rsa_max_bits}")
        if r.verify != "none":
            f.add(f"ca_chain_bytes{_bucket(t.ca_chain_bytes, (512, 1024, 2048, 65536))}")
        cc = t.client_certificate
        f.add(f"client_certificate={cc.key if cc else 'none'}")
        if cc:
            f |= {f"client_chain_certs={cc.chain_certs}", f"client_chain_bytes{_bucket(cc.chain_bytes, (1024, 16384))}"}
    if p.target.flash_bytes:
        f.add("flash_bytes=set")
    if p.target.stack_bytes:
        f.add("stack_bytes=set")
    return f


def cover(pool: list[tuple[str, str, Built]], want: int) -> list[tuple[str, str, Built]]:
    """Greedy set cover of every feature in the pool, then filled up to `want` with the most diverse rest."""
    feats = [features(b) for _, _, b in pool]
    universe = set().union(*feats)
    chosen: list[int] = []
    left = set(universe)
    while left:
        i = max(range(len(pool)), key=lambda j: (len(feats[j] & left), -j))
        if not feats[i] & left:
            break
        chosen.append(i)
        left -= feats[i]
    counts = collections.Counter(x for i in chosen for x in feats[i])
    while len(chosen) < want and len(chosen) < len(pool):
        i = min((j for j in range(len(pool)) if j not in chosen), key=lambda j: (sum(counts[x] for x in feats[j]) /
                                                                             max(len(feats[j]), 1), j))
        chosen.append(i)
        counts.update(feats[i])
    return [pool[i] for i in chosen]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=200, help="accepted profiles to draw (with --cover: at least)")
    ap.add_argument("--target", choices=["host", "cortex-m"], default="host")
    ap.add_argument("--cpus", help="comma-separated CPUs to draw from (default: all of the target's)")
    ap.add_argument("--cover", action="store_true", help="pick a subset of a --pool covering every value")
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--out", help="write the accepted (or covering) profiles here, one YAML file each")
    args = ap.parse_args(argv)
    cpus = args.cpus.split(",") if args.cpus else (["host"] if args.target == "host" else CORTEX_M)
    prefix = "h" if args.target == "host" else "m"
    s = sample(args.seed, args.pool if args.cover else args.count, cpus, prefix=prefix)
    chosen = cover(s.accepted, args.count) if args.cover else s.accepted
    print(f"seed {args.seed}: drew {s.drawn}, accepted {len(s.accepted)}, refused {s.drawn - len(s.accepted)}"
          + (f"; covering set {len(chosen)}" if args.cover else ""))
    for reason, n in s.refused.most_common():
        print(f"  refused {n:5d}  {reason}")
    if args.cover:
        universe = set().union(*(features(b) for _, _, b in s.accepted))
        got = set().union(*(features(b) for _, _, b in chosen))
        print(f"  covers {len(got)} of {len(universe)} field values")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, text, _ in chosen:
            (out / f"{name}.yaml").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
